// ethers.js v6 against a live testbed chain: deploy raw bytecode, call it, send a transaction.
// Usage: node deploy_and_send.js <rpc url> <private key> <init code hex>
// Prints one JSON line with what it saw; exits non-zero on any failure.
const { ethers } = require("ethers");

async function main() {
  const [url, key, initCode] = process.argv.slice(2);
  const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true });
  const signer = new ethers.Wallet(key, provider);
  // ethers reuses an identical request's answer for 250 ms (its eth_getTransactionCount
  // included); with automine the next transaction follows sooner, so count nonces locally.
  const wallet = new ethers.NonceManager(signer);
  const network = await provider.getNetwork();

  // deploy: a bare contract-creation transaction carrying the init code
  const deployTx = await wallet.sendTransaction({ data: initCode });
  const deployReceipt = await deployTx.wait();
  const code = await provider.getCode(deployReceipt.contractAddress);

  // call the runtime (it returns 42 as a 32-byte word)
  const output = await provider.call({ to: deployReceipt.contractAddress, data: "0x" });

  // a plain value transfer, signed locally (EIP-1559)
  const recipient = ethers.Wallet.createRandom().address;
  const sendTx = await wallet.sendTransaction({ to: recipient, value: 123456789n });
  const sendReceipt = await sendTx.wait();
  const balance = await provider.getBalance(recipient);

  console.log(JSON.stringify({
    chainId: network.chainId.toString(),
    contract: deployReceipt.contractAddress,
    deployStatus: deployReceipt.status,
    code,
    output,
    sendStatus: sendReceipt.status,
    sendBlock: sendReceipt.blockNumber,
    sendType: sendTx.type,
    balance: balance.toString(),
    sender: signer.address,
  }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
