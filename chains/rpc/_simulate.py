"""``eth_simulateV1``: calls in simulated blocks, with state and block overrides.

The common shape of geth's method: ``{"blockStateCalls": [{"blockOverrides",
"stateOverrides", "calls"}], "validation", "traceTransfers", "returnFullTransactions"}``
and a block tag (default ``latest``). Each simulated block answers ``number``,
``timestamp``, ``gasLimit``, ``gasUsed``, ``baseFeePerGas``, ``miner``, ``hash`` (null:
the blocks are never sealed) and ``calls``: per call ``status``, ``returnData``,
``gasUsed``, ``logs`` and, when it failed, ``error`` (code 3 with the revert data for a
REVERT, -32015 for any other EVM error, as geth). ``traceTransfers`` (ETH transfer
logs) and ``returnFullTransactions`` are accepted and not applied: transactions are
not listed (``transactions`` is empty).
"""

from __future__ import annotations

from typing import Any, Final

from chains._calls import SimBlock, SimCall
from chains._errors import TransactionReverted
from chains.rpc._dispatch import MethodTable, rpc_method
from chains.rpc._wire import (
    check_object,
    invalid,
    parse_address,
    parse_block_id,
    parse_bool,
    parse_hash,
    parse_quantity,
    parse_state_override,
    parse_tx,
)

_PAYLOAD: Final = frozenset(
    {"blockStateCalls", "validation", "traceTransfers", "returnFullTransactions"}
)
_BLOCK: Final = frozenset({"blockOverrides", "stateOverrides", "calls"})
_BLOCK_OVERRIDES: Final = {
    "number": "block_number",
    "time": "timestamp",
    "gasLimit": "gas_limit",
    "feeRecipient": "coinbase",
    "prevRandao": "mix_hash",
    "baseFeePerGas": "base_fee_per_gas",
}
#: At most this many simulated blocks and calls per request (geth caps blocks at 256).
MAX_SIM_BLOCKS: Final = 256
MAX_SIM_CALLS: Final = 1000
#: geth's code for an EVM error other than REVERT inside eth_simulateV1
_VM_ERROR: Final = -32015


class SimulateMethods(MethodTable):
    """eth_simulateV1."""

    @rpc_method("eth_simulateV1")
    def simulate_v1(self, payload: Any, block: Any = None) -> list[dict[str, Any]]:
        obj = check_object(payload, "payload", _PAYLOAD)
        validation = parse_bool(obj.get("validation", False), "payload.validation")
        for flag in ("traceTransfers", "returnFullTransactions"):
            parse_bool(obj.get(flag, False), f"payload.{flag}")
        raw_blocks = obj.get("blockStateCalls")
        if not isinstance(raw_blocks, list | tuple) or not raw_blocks:
            raise invalid("payload.blockStateCalls", "must be a non-empty list")
        if len(raw_blocks) > MAX_SIM_BLOCKS:
            raise invalid("payload.blockStateCalls", f"has more than {MAX_SIM_BLOCKS} blocks")
        blocks = [
            self._sim_block(b, f"payload.blockStateCalls[{i}]") for i, b in enumerate(raw_blocks)
        ]
        if sum(len(b.calls) for b in blocks) > MAX_SIM_CALLS:
            raise invalid("payload", f"has more than {MAX_SIM_CALLS} calls")
        where: Any = "latest" if block is None else parse_block_id(block, "block")
        if isinstance(where, bytes):
            where = self.chain.get_block(where).number
        results = self.chain.simulate_blocks(blocks, block=where, validation=validation)
        return [self._format_sim_block(r) for r in results]

    def _sim_block(self, raw: Any, name: str) -> SimBlock:
        obj = check_object(raw, name, _BLOCK)
        header: dict[str, Any] = {}
        overrides = obj.get("blockOverrides")
        if overrides is not None:
            fields = check_object(overrides, f"{name}.blockOverrides", frozenset(_BLOCK_OVERRIDES))
            for key, value in fields.items():
                where = f"{name}.blockOverrides.{key}"
                if key == "feeRecipient":
                    header["coinbase"] = parse_address(value, where)
                elif key == "prevRandao":
                    header["mix_hash"] = parse_hash(value, where)
                else:
                    header[_BLOCK_OVERRIDES[key]] = parse_quantity(value, where, limit=2**63 - 1)
        calls_raw = obj.get("calls") or []
        if not isinstance(calls_raw, list | tuple):
            raise invalid(f"{name}.calls", "must be a list")
        calls = []
        for i, raw_call in enumerate(calls_raw):
            tx = parse_tx(raw_call, f"{name}.calls[{i}]", self.chain.chain_id)
            calls.append(
                SimCall(
                    to=tx.to,
                    sender=tx.sender,
                    data=tx.data,
                    value=tx.value,
                    gas=tx.gas,
                    nonce=tx.nonce,
                    max_fee_per_gas=tx.max_fee if tx.max_fee is not None else tx.gas_price,
                )
            )
        return SimBlock(
            calls=tuple(calls),
            state_override=parse_state_override(
                obj.get("stateOverrides"), f"{name}.stateOverrides"
            ),
            header=header,
        )

    @staticmethod
    def _format_sim_block(result: Any) -> dict[str, Any]:
        h = result.header
        calls = []
        log_index = 0
        for index, call in enumerate(result.results):
            logs = []
            for address, topics, data in call.logs:
                logs.append(
                    {
                        "address": "0x" + bytes(address).hex(),
                        "topics": ["0x" + t.to_bytes(32, "big").hex() for t in topics],
                        "data": "0x" + bytes(data).hex(),
                        "blockNumber": hex(h.block_number),
                        "blockTimestamp": hex(h.timestamp),
                        "logIndex": hex(log_index),
                        "transactionIndex": hex(index),
                        "removed": False,
                    }
                )
                log_index += 1
            out: dict[str, Any] = {
                "status": "0x0" if call.is_error else "0x1",
                "returnData": "0x" + call.output.hex(),
                "gasUsed": hex(call.gas_used),
                "logs": logs,
            }
            if call.is_error:
                if call.error is None:
                    revert = TransactionReverted.from_revert_data(call.output)
                    message = "execution reverted"
                    if revert.reason is not None:
                        message += f": {revert.reason}"
                    out["error"] = {"code": 3, "message": message, "data": out["returnData"]}
                else:
                    out["error"] = {"code": _VM_ERROR, "message": call.error}
            calls.append(out)
        return {
            "number": hex(h.block_number),
            "hash": None,
            "parentHash": "0x" + h.parent_hash.hex(),
            "timestamp": hex(h.timestamp),
            "gasLimit": hex(h.gas_limit),
            "gasUsed": hex(h.gas_used),
            "baseFeePerGas": hex(h.base_fee_per_gas),
            "miner": "0x" + h.coinbase.hex(),
            "mixHash": "0x" + h.mix_hash.hex(),
            "transactions": [],
            "calls": calls,
        }
