// viem's test client (anvil mode) against a live testbed chain: the test actions the devnet
// serves. Usage: node test_actions.mjs <rpc url> <chain id>
// Prints one JSON line with what it saw; exits non-zero on any failure.
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
} from "viem";

const [url, chainIdText] = process.argv.slice(2);
const chain = defineChain({
  id: Number(chainIdText),
  name: "testbed",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [url] } },
});
const transport = http(url);
const test = createTestClient({ chain, mode: "anvil", transport });
const client = createPublicClient({ chain, transport });
const wallet = createWalletClient({ chain, transport });

const whale = "0x000000000000000000000000000000000000beef";
const stranger = "0x000000000000000000000000000000000000cafe";
const out = {};

async function main() {
  // mine: blocks appear at once
  const start = await client.getBlockNumber({ cacheTime: 0 });
  await test.mine({ blocks: 3 });
  out.mined = Number((await client.getBlockNumber({ cacheTime: 0 })) - start);

  // setBalance, setNonce, setCode, setStorageAt
  await test.setBalance({ address: whale, value: parseEther("1000") });
  out.balance = (await client.getBalance({ address: whale })).toString();
  await test.setNonce({ address: whale, nonce: 7 });
  out.nonce = await client.getTransactionCount({ address: whale });
  await test.setCode({ address: stranger, bytecode: "0x602a60005260206000f3" });
  out.code = await client.getCode({ address: stranger });
  await test.setStorageAt({ address: stranger, index: 1, value: `0x${"11".repeat(32)}` });
  out.storage = await client.getStorageAt({ address: stranger, slot: "0x1" });

  // impersonate: send from an address nobody holds the key of
  await test.impersonateAccount({ address: whale });
  const hash = await wallet.sendTransaction({ account: whale, to: stranger, value: 5n });
  const receipt = await client.waitForTransactionReceipt({ hash });
  out.impersonatedStatus = receipt.status;
  out.impersonatedFrom = receipt.from;
  await test.stopImpersonatingAccount({ address: whale });
  try {
    await wallet.sendTransaction({ account: whale, to: stranger, value: 5n });
    out.afterStop = "sent";
  } catch (err) {
    out.afterStop = "refused";
  }

  // snapshot / revert
  const atSnapshot = await client.getBlockNumber({ cacheTime: 0 });
  const id = await test.snapshot();
  await test.setBalance({ address: stranger, value: 999n });
  await test.mine({ blocks: 2 });
  out.blocksSinceSnapshot = Number((await client.getBlockNumber({ cacheTime: 0 })) - atSnapshot);
  await test.revert({ id });
  out.backAtSnapshot = (await client.getBlockNumber({ cacheTime: 0 })) === atSnapshot;
  out.revertedBalance = (await client.getBalance({ address: stranger })).toString();

  // increaseTime, then a transaction: its block is at least that much later
  const latest = await client.getBlock();
  const t0 = latest.timestamp;
  out.blocksBeforeIncrease = Number(latest.number);
  await test.increaseTime({ seconds: 3600 });
  await test.impersonateAccount({ address: whale });
  const h1 = await wallet.sendTransaction({ account: whale, to: stranger, value: 1n });
  const b1 = await client.getBlock({
    blockNumber: (await client.waitForTransactionReceipt({ hash: h1 })).blockNumber,
  });
  out.increasedBy = Number(b1.timestamp - t0);

  // setNextBlockTimestamp: the next block has exactly that time
  const target = b1.timestamp + 86400n;
  await test.setNextBlockTimestamp({ timestamp: target });
  const h2 = await wallet.sendTransaction({ account: whale, to: stranger, value: 1n });
  const b2 = await client.getBlock({
    blockNumber: (await client.waitForTransactionReceipt({ hash: h2 })).blockNumber,
  });
  out.nextTimestampExact = b2.timestamp === target;
  await test.stopImpersonatingAccount({ address: whale });

  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
