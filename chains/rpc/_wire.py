"""JSON-RPC wire format: the error type, parameter parsers and geth-shaped results.

Parsers take what a JSON decoder produces (hex strings, numbers, lists, objects) and,
for the in-process web3 provider, the Python values web3.py passes unencoded (``bytes``,
``HexBytes``, ``int``, ``AttributeDict``), so one table serves both transports without a
JSON round trip. Every parser raises :class:`RpcError` ``-32602`` naming the parameter.

Formatters produce what geth returns: quantities as minimal ``0x`` hex, data as ``0x``
hex, addresses in lowercase, ``null`` for absent values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from eth.vm.forks.cancun.constants import MIN_BLOB_BASE_FEE
from eth.vm.forks.prague.constants import BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE

from chains._errors import ChainError
from chains._evm import logs_bloom as bloom_of_logs
from chains._types import BlockRecord, Log, Receipt

__all__ = [
    "EXECUTION_REVERTED",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "SERVER_ERROR",
    "RpcError",
    "TxRequest",
]

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
#: geth's code for every server-side rejection (nonce too low, insufficient funds, ...).
SERVER_ERROR: Final = -32000
#: geth's code for a REVERT in eth_call / eth_estimateGas; ``data`` holds the revert data.
EXECUTION_REVERTED: Final = 3
#: Longest error message sent: longer ones (a client's megabyte method name echoed in
#: "does not exist") are cut, with their length.
MAX_MESSAGE: Final = 1024

UINT256_MAX: Final = 2**256 - 1
BLOCK_TAGS: Final = frozenset({"latest", "earliest", "pending", "safe", "finalized"})
ZERO_BLOOM: Final = "0x" + "00" * 256


class RpcError(ChainError):
    """A JSON-RPC error: ``code``, ``message`` and optional ``data`` (already JSON-ready)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        if len(message) > MAX_MESSAGE:  # never echo a megabyte of client input back
            message = message[: MAX_MESSAGE - 30] + f"... ({len(message)} characters)"
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"RpcError({self.code}, {self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` member of a JSON-RPC response."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid(name: str, why: str) -> RpcError:
    """An invalid-params error naming the parameter (``transaction.gas``, ``block``, ...)."""
    return RpcError(INVALID_PARAMS, f"invalid params: {name} {why}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------------------
# parsers
# ----------------------------------------------------------------------------------------
def _hex_int(digits: str) -> int | None:
    """``int(digits, 16)`` for 1-64 plain hex digits (no sign, space or ``_``), else None."""
    if 0 < len(digits) <= 64 and digits.isascii() and digits.isalnum():
        try:
            return int(digits, 16)
        except ValueError:  # letters past f
            return None
    return None


def parse_quantity(value: Any, name: str, *, limit: int = UINT256_MAX) -> int:
    """A non-negative integer: ``0x`` hex (leading zeros tolerated) or a JSON integer."""
    if type(value) is str:
        number = _hex_int(value[2:]) if value[:2] in ("0x", "0X") else None
        if number is not None:
            if number <= limit:
                return number
            raise invalid(name, f"must be at most {limit:#x}, got {value}")
        raise invalid(name, f"must be a 0x-prefixed hex quantity, got {_shown(value)}")
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= limit:
            return value
        raise invalid(name, f"must be between 0 and {limit:#x}, got {value}")
    raise invalid(name, f"must be a 0x-prefixed hex quantity, got {_shown(value)}")


def parse_data(value: Any, name: str) -> bytes:
    """Byte data: an even-length ``0x`` hex string, or bytes in-process."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if type(value) is str and value[:2] in ("0x", "0X"):
        try:
            data = bytes.fromhex(value[2:])
        except ValueError:
            pass
        else:
            if len(data) * 2 == len(value) - 2:  # fromhex skips whitespace; JSON must not
                return data
    raise invalid(name, f"must be 0x-prefixed hex data of even length, got {_shown(value)}")


def parse_fixed(value: Any, name: str, size: int, what: str) -> bytes:
    """Exactly ``size`` bytes (an address, a hash)."""
    if isinstance(value, bytes | bytearray) and len(value) == size:
        return bytes(value)
    if type(value) is str and len(value) == 2 + 2 * size and value[:2] in ("0x", "0X"):
        try:
            data = bytes.fromhex(value[2:])
        except ValueError:
            pass
        else:
            if len(data) == size:
                return data
    raise invalid(name, f"must be a 0x-prefixed {what} ({size} bytes), got {_shown(value)}")


def parse_address(value: Any, name: str) -> bytes:
    """A 20-byte address in any letter case (like geth, the checksum is not enforced)."""
    return parse_fixed(value, name, 20, "address")


def parse_hash(value: Any, name: str) -> bytes:
    """A 32-byte hash."""
    return parse_fixed(value, name, 32, "hash")


def parse_word(value: Any, name: str) -> int:
    """A storage slot or value: a quantity or up to 32 bytes of data, as an integer."""
    if type(value) is str and value[:2] in ("0x", "0X"):
        number = _hex_int(value[2:])
        if number is not None:
            return number
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= UINT256_MAX:
        return value
    if isinstance(value, bytes | bytearray) and len(value) <= 32:
        return int.from_bytes(value, "big")
    raise invalid(name, f"must be a 0x-prefixed hex word of at most 32 bytes, got {_shown(value)}")


def parse_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise invalid(name, f"must be true or false, got {_shown(value)}")


def parse_block_id(value: Any, name: str, *, allow_hash: bool = True) -> int | str | bytes:
    """A block: a tag, a number, or (EIP-1898) ``{"blockNumber"}`` / ``{"blockHash"}``.

    Returns the tag string, the block number, or the 32-byte hash. ``requireCanonical`` is
    accepted and always satisfied: this chain keeps only canonical blocks.
    """
    if type(value) is str and value in BLOCK_TAGS:
        return value
    if allow_hash and type(value) is str and len(value) == 66:
        return parse_hash(value, name)  # a bare block hash, as geth accepts
    if allow_hash and isinstance(value, bytes | bytearray) and len(value) == 32:
        return bytes(value)  # the same, unserialised (the in-process provider's HexBytes)
    if isinstance(value, Mapping) and allow_hash:
        unknown = set(value) - {"blockNumber", "blockHash", "requireCanonical"}
        if unknown:
            raise invalid(name, f"has unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        if ("blockNumber" in value) == ("blockHash" in value):
            raise invalid(name, "must have exactly one of blockNumber or blockHash")
        if "requireCanonical" in value:
            parse_bool(value["requireCanonical"], f"{name}.requireCanonical")
        if "blockHash" in value:
            return parse_hash(value["blockHash"], f"{name}.blockHash")
        return parse_block_id(value["blockNumber"], f"{name}.blockNumber", allow_hash=False)
    if type(value) is str or (isinstance(value, int) and not isinstance(value, bool)):
        try:
            return parse_quantity(value, name, limit=2**63 - 1)
        except RpcError:
            pass
    tags = ", ".join(sorted(BLOCK_TAGS))
    raise invalid(name, f"must be a block number or one of {tags}, got {_shown(value)}")


def check_object(value: Any, name: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    """An object whose keys are all in ``allowed``; unknown keys are errors naming them."""
    if not isinstance(value, Mapping):
        raise invalid(name, f"must be an object, got {_shown(value)}")
    if not allowed.issuperset(value):
        unknown = ", ".join(sorted(str(k) for k in value if k not in allowed))
        raise invalid(name, f"has unknown field(s): {unknown}")
    return value


@dataclass(frozen=True, slots=True)
class TxRequest:
    """A transaction object of eth_sendTransaction / eth_call / eth_estimateGas, parsed."""

    sender: bytes | None
    to: bytes | None
    data: bytes
    value: int
    gas: int | None
    gas_price: int | None
    max_fee: int | None
    max_priority_fee: int | None
    nonce: int | None
    tx_type: int | None
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...] = ()
    authorization_list: tuple[Any, ...] = ()


TX_FIELDS: Final = frozenset(
    {
        "from",
        "to",
        "gas",
        "gasPrice",
        "maxFeePerGas",
        "maxPriorityFeePerGas",
        "value",
        "data",
        "input",
        "nonce",
        "type",
        "chainId",
        "accessList",
        "authorizationList",
    }
)
_AUTH_FIELDS: Final = frozenset({"chainId", "address", "nonce", "yParity", "v", "r", "s"})


def parse_access_list(value: Any, name: str) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
    """``[{"address", "storageKeys": [...]}, ...]`` as py-evm takes it."""
    if not isinstance(value, list | tuple):
        raise invalid(name, f"must be a list, got {_shown(value)}")
    out = []
    for i, item in enumerate(value):
        obj = check_object(item, f"{name}[{i}]", frozenset({"address", "storageKeys"}))
        keys = obj.get("storageKeys") or []
        if not isinstance(keys, list | tuple):
            raise invalid(f"{name}[{i}].storageKeys", f"must be a list, got {_shown(keys)}")
        out.append(
            (
                parse_address(obj.get("address"), f"{name}[{i}].address"),
                tuple(parse_word(k, f"{name}[{i}].storageKeys") for k in keys),
            )
        )
    return tuple(out)


def parse_authorization_list(value: Any, name: str) -> tuple[Any, ...]:
    """Signed EIP-7702 authorizations: ``{chainId, address, nonce, yParity, r, s}``."""
    from eth.vm.forks.prague.transactions import Authorization

    if not isinstance(value, list | tuple) or not value:
        raise invalid(name, f"must be a non-empty list, got {_shown(value)}")
    out = []
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        obj = check_object(item, where, _AUTH_FIELDS)
        parity = obj.get("yParity", obj.get("v"))
        if parity is None or obj.get("r") is None or obj.get("s") is None:
            raise invalid(where, "must be signed: yParity, r and s are required")
        out.append(
            Authorization(
                parse_quantity(obj.get("chainId", "0x0"), f"{where}.chainId"),
                parse_address(obj.get("address"), f"{where}.address"),
                parse_quantity(obj.get("nonce"), f"{where}.nonce", limit=2**64 - 1),
                parse_quantity(parity, f"{where}.yParity", limit=1),
                parse_quantity(obj.get("r"), f"{where}.r"),
                parse_quantity(obj.get("s"), f"{where}.s"),
            )
        )
    return tuple(out)


def parse_tx(value: Any, name: str, chain_id: int) -> TxRequest:
    """Parse a transaction object; unknown fields and contradictions are ``-32602``.

    ``data`` and ``input`` are synonyms (both given: they must agree). ``gasPrice``
    excludes the EIP-1559 fee fields. ``chainId``, when given, must be this chain's.
    ``type`` may be ``0x0``, ``0x1``, ``0x2`` or ``0x4``; ``authorizationList`` holds
    signed EIP-7702 authorizations.
    """
    obj = check_object(value, name, TX_FIELDS)
    get = obj.get
    raw = get("from")
    sender = None if raw is None else parse_address(raw, f"{name}.from")
    raw = get("to")
    to = None if raw is None else parse_address(raw, f"{name}.to")
    data = b""
    raw_input, raw_data = get("input"), get("data")
    if raw_input is not None:
        data = parse_data(raw_input, f"{name}.input")
        if raw_data is not None and parse_data(raw_data, f"{name}.data") != data:
            raise invalid(name, "has both data and input and they differ; use input")
    elif raw_data is not None:
        data = parse_data(raw_data, f"{name}.data")
    raw = get("value")
    value_ = 0 if raw is None else parse_quantity(raw, f"{name}.value")
    raw = get("gas")
    gas = None if raw is None else parse_quantity(raw, f"{name}.gas", limit=2**63 - 1)
    raw = get("gasPrice")
    gas_price = None if raw is None else parse_quantity(raw, f"{name}.gasPrice")
    raw = get("maxFeePerGas")
    max_fee = None if raw is None else parse_quantity(raw, f"{name}.maxFeePerGas")
    raw = get("maxPriorityFeePerGas")
    tip = None if raw is None else parse_quantity(raw, f"{name}.maxPriorityFeePerGas")
    raw = get("nonce")
    nonce = None if raw is None else parse_quantity(raw, f"{name}.nonce", limit=2**64 - 2)
    raw = get("type")
    tx_type = None if raw is None else parse_quantity(raw, f"{name}.type", limit=0x7F)
    if gas_price is not None and (max_fee is not None or tip is not None):
        raise invalid(
            name, "has both gasPrice and (maxFeePerGas or maxPriorityFeePerGas); choose one"
        )
    if tx_type is not None:
        if tx_type > 2 and tx_type != 4:
            raise invalid(
                f"{name}.type",
                f"{tx_type:#x} cannot be sent unsigned; sign it and use eth_sendRawTransaction",
            )
        if tx_type < 2 and (max_fee is not None or tip is not None):
            raise invalid(f"{name}.type", f"{tx_type:#x} does not take EIP-1559 fee fields")
    raw = get("chainId")
    if raw is not None:
        given = parse_quantity(raw, f"{name}.chainId")
        if given != chain_id:
            raise invalid(
                f"{name}.chainId", f"{given:#x} does not match this chain's {chain_id:#x}"
            )
    raw = get("accessList")
    access = () if raw is None else parse_access_list(raw, f"{name}.accessList")
    raw = get("authorizationList")
    auths = () if raw is None else parse_authorization_list(raw, f"{name}.authorizationList")
    return TxRequest(
        sender, to, data, value_, gas, gas_price, max_fee, tip, nonce, tx_type, access, auths
    )


_OVERRIDE_FIELDS: Final = frozenset(
    {"balance", "nonce", "code", "state", "stateDiff", "movePrecompileToAddress"}
)


def _override_slots(raw: Any, name: str) -> dict[int, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise invalid(name, f"must be an object, got {_shown(raw)}")
    return {parse_word(k, f"{name} key"): parse_word(v, f"{name}[{k}]") for k, v in raw.items()}


def parse_state_override(value: Any, name: str) -> dict[bytes, Any] | None:
    """geth's state override set: ``{address: {balance, nonce, code, state | stateDiff}}``."""
    from chains._calls import AccountOverride

    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise invalid(name, f"must be an object, got {_shown(value)}")
    out: dict[bytes, Any] = {}
    for raw_address, raw in value.items():
        where = f"{name}[{raw_address}]"
        address = parse_address(raw_address, f"{name} key")
        obj = check_object(raw, where, _OVERRIDE_FIELDS)
        if obj.get("movePrecompileToAddress") is not None:
            raise invalid(f"{where}.movePrecompileToAddress", "is not supported")
        if obj.get("state") is not None and obj.get("stateDiff") is not None:
            raise invalid(where, "has both state and stateDiff; give one")

        out[address] = AccountOverride(
            balance=None
            if obj.get("balance") is None
            else parse_quantity(obj["balance"], f"{where}.balance"),
            nonce=None
            if obj.get("nonce") is None
            else parse_quantity(obj["nonce"], f"{where}.nonce", limit=2**64 - 1),
            code=None if obj.get("code") is None else parse_data(obj["code"], f"{where}.code"),
            storage=_override_slots(obj.get("state"), f"{where}.state"),
            storage_diff=_override_slots(obj.get("stateDiff"), f"{where}.stateDiff"),
        )
    return out


# ----------------------------------------------------------------------------------------
# formatters
# ----------------------------------------------------------------------------------------
def hex_data(data: bytes) -> str:
    return "0x" + data.hex()


def hex_address(address: bytes | str | None) -> str | None:
    """Lowercase ``0x`` address, as geth encodes ``common.Address``; ``None`` stays null."""
    if address is None or address == b"":
        return None
    if isinstance(address, str):
        return address.lower()
    return "0x" + address.hex()


def hex_word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def blob_base_fee(excess_blob_gas: int) -> int:
    """EIP-4844 blob base fee with Prague's update fraction (``fake_exponential``)."""
    denominator = BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE
    i, output, accum = 1, 0, MIN_BLOB_BASE_FEE * denominator
    while accum > 0:
        output += accum
        accum = (accum * excess_blob_gas) // (denominator * i)
        i += 1
    return output // denominator


def format_log(
    log: Log, block_hash: bytes | None, block_timestamp: int | None = None
) -> dict[str, Any]:
    """A log as geth returns it, with ``blockTimestamp`` (geth 1.14+) once sealed."""
    bh = log.block_hash if log.block_hash is not None else block_hash
    out = {
        "address": log.address.lower(),
        "topics": ["0x" + t.hex() for t in log.topics],
        "data": "0x" + log.data.hex(),
        "blockNumber": hex(log.block_number),
        "transactionHash": "0x" + log.transaction_hash.hex(),
        "transactionIndex": hex(log.transaction_index),
        "blockHash": None if bh is None else "0x" + bh.hex(),
        "logIndex": hex(log.log_index),
        "removed": False,
    }
    if block_timestamp is not None:
        out["blockTimestamp"] = hex(block_timestamp)
    return out


class _Bloomables(NamedTuple):
    """What the sealing code's bloom reads of a log (py-evm's ``Log.bloomables``)."""

    bloomables: tuple[bytes, ...]


def logs_bloom(logs: Sequence[Log]) -> str:
    """A receipt's ``logsBloom``: eth-bloom's ``BloomFilter`` over each log's address and
    topics, computed by the sealing code's bloom (the C Keccak; same bits)."""
    if not logs:
        return ZERO_BLOOM
    items: Any = [_Bloomables((bytes.fromhex(log.address[2:]), *log.topics)) for log in logs]
    bloom = bloom_of_logs(items)
    return "0x" + bloom.to_bytes(256, "big").hex()


def format_receipt(receipt: Receipt, block_timestamp: int | None = None) -> dict[str, Any]:
    """A mined receipt as geth's ``eth_getTransactionReceipt`` returns it."""
    block_hash = receipt.block_hash
    return {
        "blockHash": None if block_hash is None else "0x" + block_hash.hex(),
        "blockNumber": hex(receipt.block_number),
        "contractAddress": hex_address(receipt.contract_address),
        "cumulativeGasUsed": hex(receipt.cumulative_gas_used),
        "effectiveGasPrice": hex(receipt.effective_gas_price),
        "from": receipt.sender.lower(),
        "gasUsed": hex(receipt.gas_used),
        "logs": [format_log(lg, block_hash, block_timestamp) for lg in receipt.logs],
        "logsBloom": logs_bloom(receipt.logs),
        "status": "0x1" if receipt.status else "0x0",
        "to": hex_address(receipt.to),
        "transactionHash": "0x" + receipt.tx_hash.hex(),
        "transactionIndex": hex(receipt.transaction_index),
        "type": hex(receipt.tx_type),
    }


def _access_list(tx: Any) -> list[dict[str, Any]]:
    return [
        {
            "address": "0x" + bytes(address).hex(),
            "storageKeys": [hex_word(int(key)) for key in keys],
        }
        for address, keys in tx.access_list
    ]


def format_transaction(
    tx: Any,
    *,
    block: BlockRecord | None,
    index: int | None,
    effective_gas_price: int | None,
) -> dict[str, Any]:
    """A transaction as geth's ``RPCTransaction``; ``block`` is ``None`` while pending."""
    type_id = getattr(tx, "type_id", None) or 0
    to = tx.to
    out: dict[str, Any] = {
        "blockHash": None if block is None else "0x" + block.hash.hex(),
        "blockNumber": None if block is None else hex(block.number),
        "from": "0x" + bytes(tx.sender).hex(),
        "gas": hex(tx.gas),
        "gasPrice": None,
        "hash": "0x" + tx.hash.hex(),
        "input": "0x" + bytes(tx.data).hex(),
        "nonce": hex(tx.nonce),
        "to": "0x" + bytes(to).hex() if to else None,
        "transactionIndex": None if index is None or block is None else hex(index),
        "value": hex(tx.value),
        "type": hex(type_id),
    }
    if type_id == 0:
        out["gasPrice"] = hex(tx.gas_price)
        out["v"] = hex(tx.v)
        chain_id = tx.chain_id
        if chain_id is not None:
            out["chainId"] = hex(chain_id)
    else:
        out["chainId"] = hex(tx.chain_id)
        out["accessList"] = _access_list(tx)
        if type_id == 1:
            out["gasPrice"] = hex(tx.gas_price)
        else:
            max_fee = tx.max_fee_per_gas
            out["gasPrice"] = hex(max_fee if effective_gas_price is None else effective_gas_price)
            out["maxFeePerGas"] = hex(max_fee)
            out["maxPriorityFeePerGas"] = hex(tx.max_priority_fee_per_gas)
        if type_id == 3:
            out["maxFeePerBlobGas"] = hex(tx.max_fee_per_blob_gas)
            out["blobVersionedHashes"] = [hex_data(bytes(h)) for h in tx.blob_versioned_hashes]
        if type_id == 4:
            out["authorizationList"] = [
                {
                    "chainId": hex(a.chain_id),
                    "address": "0x" + bytes(a.address).hex(),
                    "nonce": hex(a.nonce),
                    "yParity": hex(a.y_parity),
                    "r": hex(a.r),
                    "s": hex(a.s),
                }
                for a in tx.authorization_list
            ]
        y_parity = tx.y_parity
        out["v"] = hex(y_parity)
        out["yParity"] = hex(y_parity)
    out["r"] = hex(tx.r)
    out["s"] = hex(tx.s)
    return out


def format_block(record: BlockRecord, full: bool) -> dict[str, Any]:
    """A sealed block as geth's ``eth_getBlockBy*`` returns it (plus ``totalDifficulty``)."""
    h = record.header
    if full:
        transactions: list[Any] = [
            format_transaction(tx, block=record, index=i, effective_gas_price=r.effective_gas_price)
            for i, (tx, r) in enumerate(zip(record.transactions, record.receipts, strict=True))
        ]
    else:
        transactions = ["0x" + r.tx_hash.hex() for r in record.receipts]
    return {
        "baseFeePerGas": hex(h.base_fee_per_gas),
        "blobGasUsed": hex(h.blob_gas_used),
        "difficulty": hex(h.difficulty),
        "excessBlobGas": hex(h.excess_blob_gas),
        "extraData": "0x" + h.extra_data.hex(),
        "gasLimit": hex(h.gas_limit),
        "gasUsed": hex(h.gas_used),
        "hash": "0x" + record.hash.hex(),
        "logsBloom": "0x" + h.bloom.to_bytes(256, "big").hex(),
        "miner": "0x" + h.coinbase.hex(),
        "mixHash": "0x" + h.mix_hash.hex(),
        "nonce": "0x" + h.nonce.hex(),
        "number": hex(h.block_number),
        "parentBeaconBlockRoot": "0x" + h.parent_beacon_block_root.hex(),
        "parentHash": "0x" + h.parent_hash.hex(),
        "receiptsRoot": "0x" + h.receipt_root.hex(),
        "requestsHash": "0x" + h.requests_hash.hex(),
        "sha3Uncles": "0x" + h.uncles_hash.hex(),
        "size": hex(record.size),
        "stateRoot": "0x" + h.state_root.hex(),
        "timestamp": hex(h.timestamp),
        "totalDifficulty": "0x0",
        "transactions": transactions,
        "transactionsRoot": "0x" + h.transaction_root.hex(),
        "uncles": [],
        "withdrawals": [],
        "withdrawalsRoot": "0x" + h.withdrawals_root.hex(),
    }
