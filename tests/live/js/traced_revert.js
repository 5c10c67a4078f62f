// ethers.js v6: a transaction that reverts is mined (explicit gas limit, no estimate), then
// traced with debug_traceTransaction (callTracer and the default struct logger).
// Usage: node traced_revert.js <rpc url> <private key> <contract> <calldata hex>
// Prints one JSON line with what it saw; exits non-zero on any unexpected failure.
const { ethers } = require("ethers");

async function main() {
  const [url, key, contract, calldata] = process.argv.slice(2);
  const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true });
  const wallet = new ethers.Wallet(key, provider);
  const tx = await wallet.sendTransaction({ to: contract, data: calldata, gasLimit: 200000n });
  let status = null;
  try {
    await tx.wait();
    status = 1;
  } catch (err) {
    if (err.code !== "CALL_EXCEPTION") throw err;
    status = err.receipt.status;
  }
  const calls = await provider.send("debug_traceTransaction", [tx.hash, { tracer: "callTracer" }]);
  const steps = await provider.send("debug_traceTransaction", [tx.hash, { disableStack: true }]);
  const last = steps.structLogs[steps.structLogs.length - 1];
  console.log(JSON.stringify({
    hash: tx.hash,
    status,
    callType: calls.type,
    callTo: calls.to,
    callError: calls.error,
    revertReason: calls.revertReason,
    gasUsed: calls.gasUsed,
    structFailed: steps.failed,
    structGas: steps.gas,
    lastOp: last.op,
    hasStack: "stack" in last,
  }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
