"""Fee suggestions and ``eth_feeHistory``."""

from __future__ import annotations

from typing import Any, Final

from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.prague.constants import MAX_BLOB_GAS_PER_BLOCK
from eth.vm.forks.prague.headers import calc_excess_blob_gas_prague

from chains._evm import DEFAULT_PRIORITY_FEE
from chains._types import BlockRecord
from chains.rpc._dispatch import (
    MethodTable,
    rpc_method,
)
from chains.rpc._wire import (
    SERVER_ERROR,
    RpcError,
    blob_base_fee,
    invalid,
    parse_block_id,
    parse_quantity,
)

#: geth's cap on eth_feeHistory's block count.
MAX_FEE_HISTORY: Final = 1024


class FeeMethods(MethodTable):
    """Gas price, priority fee, blob base fee and fee history."""

    # ------------------------------------------------------------------------------------
    # fees
    # ------------------------------------------------------------------------------------
    @rpc_method("eth_gasPrice")
    def gas_price(self) -> str:
        """Next block's base fee plus the default tip (geth's legacy suggestion)."""
        return hex(self._next_base_fee() + DEFAULT_PRIORITY_FEE)

    @rpc_method("eth_maxPriorityFeePerGas")
    def max_priority_fee_per_gas(self) -> str:
        return hex(DEFAULT_PRIORITY_FEE)

    @rpc_method("eth_blobBaseFee")
    def blob_base_fee(self) -> str:
        latest = self.chain.get_block("latest").header
        return hex(blob_base_fee(calc_excess_blob_gas_prague(latest)))

    @rpc_method("eth_feeHistory")
    def fee_history(
        self, block_count: Any, newest_block: Any, reward_percentiles: Any = None
    ) -> dict[str, Any]:
        """Base fees, gas-used ratios and (with percentiles) tips of recent blocks.

        As geth: ``baseFeePerGas`` has one more entry than blocks (the next block's),
        the count is capped at 1024 and at the blocks available, and rewards are the
        effective tips at gas-weighted percentiles of each block's transactions.
        """
        count = parse_quantity(block_count, "block_count")
        newest = self._find_block(parse_block_id(newest_block, "newest_block", allow_hash=False))
        if newest is None:
            raise RpcError(SERVER_ERROR, "header not found: newest_block is after the head")
        percentiles = None
        if reward_percentiles is not None:
            percentiles = _parse_percentiles(reward_percentiles)
        count = min(count, MAX_FEE_HISTORY, newest.number + 1)
        if count == 0:
            return {"oldestBlock": "0x0", "baseFeePerGas": [], "gasUsedRatio": []}
        oldest = newest.number - count + 1
        records = [self.chain.get_block(n) for n in range(oldest, newest.number + 1)]
        base_fees = [r.header.base_fee_per_gas for r in records]
        blob_fees = [blob_base_fee(r.header.excess_blob_gas) for r in records]
        header = newest.header
        base_fees.append(calculate_expected_base_fee_per_gas(header))
        blob_fees.append(blob_base_fee(calc_excess_blob_gas_prague(header)))
        result: dict[str, Any] = {
            "oldestBlock": hex(oldest),
            "baseFeePerGas": [hex(f) for f in base_fees],
            "gasUsedRatio": [r.header.gas_used / r.header.gas_limit for r in records],
            "baseFeePerBlobGas": [hex(f) for f in blob_fees],
            "blobGasUsedRatio": [r.header.blob_gas_used / MAX_BLOB_GAS_PER_BLOCK for r in records],
        }
        if percentiles is not None:
            result["reward"] = [[hex(t) for t in _block_rewards(r, percentiles)] for r in records]
        return result


def _parse_percentiles(value: Any) -> list[float]:
    name = "reward_percentiles"
    if not isinstance(value, list | tuple):
        raise invalid(name, "must be a list of numbers between 0 and 100")
    out: list[float] = []
    for i, p in enumerate(value):
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100:
            raise invalid(f"{name}[{i}]", f"must be a number between 0 and 100, got {p!r}")
        if out and p < out[-1]:
            raise invalid(name, f"must be non-decreasing, but {p} follows {out[-1]}")
        out.append(float(p))
    return out


def _block_rewards(record: BlockRecord, percentiles: list[float]) -> list[int]:
    """geth's algorithm: sort by effective tip, walk cumulative gas to each percentile."""
    if not record.receipts:
        return [0] * len(percentiles)
    base_fee = record.header.base_fee_per_gas
    tips = sorted(
        (_effective_tip(tx, base_fee), receipt.gas_used)
        for tx, receipt in zip(record.transactions, record.receipts, strict=True)
    )
    gas_used = record.header.gas_used
    out = []
    index, cumulative = 0, tips[0][1]
    for p in percentiles:
        threshold = int(gas_used * p / 100)
        while cumulative < threshold and index < len(tips) - 1:
            index += 1
            cumulative += tips[index][1]
        out.append(tips[index][0])
    return out


def _effective_tip(tx: Any, base_fee: int) -> int:
    type_id = getattr(tx, "type_id", None) or 0
    if type_id < 2:
        return max(0, int(tx.gas_price) - base_fee)
    return int(min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee))
