"""Save a whole devnet to a JSON file and load it back (anvil's ``--dump-state``/``--load-state``).

What a file holds, per chain: its :class:`ChainConfig`; every key/value pair of py-evm's
database (it lives in memory and only grows, so every state root ever sealed —
historical ``block=`` queries included — comes back); every sealed block as its RLP
header, its encoded transactions (with the sender of impersonated ones, whose
signatures do not recover) and its receipts; the pending block's operations, the next
timestamp and the impersonated accounts. Devnet-wide: the seed and the clock (start
and now). The layer above adds its own JSON under ``extra`` (deployed addresses, the
relayer's store).

Reorgs (``chains/_reorg.py``) after a restart: the canonical chain is all a reorg needs —
the finality heads are derived from the blocks, their timestamps, the config and the
clock, all kept, so ``safe``/``finalized`` answer as before the save and a reorg below the
finalized head is refused as before; the chain's reorg count is kept (``reorgs``), so a
reorg after the restart marks its blocks with a new number and never rebuilds a block
hash an earlier reorg produced. The journal of orphaned blocks is not kept: it exists only
to revert a snapshot taken before a reorg to the old history, and snapshots are not kept
(below); ``removed: true`` logs go to filters and subscriptions, which are not kept
either — a client that reconnects after the restart finds a reorg it missed by comparing
block hashes (as the relayer does with its stored scanned hash), and the orphaned
blocks' receipts are gone from ``eth_getTransactionReceipt``, as on the live chain.

Not kept, on purpose: ``evm_snapshot`` ids (anvil drops them too), installed filters
and subscriptions (they belong to connections), keys added with
:meth:`Chain.add_account`, and the ABIs a chain learned from deployments (events of a
restored chain decode once a handle is made with :meth:`Chain.at`). Events scheduled on
the clock are not data; their owners schedule them again (an interval chain's pending
block does so when it is replayed).

The file is versioned (``format``/``version``); anything else is a :class:`StateError`
naming the problem, so a damaged file is refused rather than started over empty. Writes
are crash-safe (:func:`write_state`: temporary file, ``fsync``, atomic rename, directory
``fsync``): a file on disk is always one complete save.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import rlp
from eth.vm.forks.prague.blocks import PragueBlockHeader

from chains._config import ChainConfig
from chains._errors import ConfigError
from chains._evm import TX_BUILDER, impersonated_tx
from chains._types import BlockRecord, ChainState, Log, Receipt

if TYPE_CHECKING:
    from chains._chain import Chain
    from chains._devnet import Devnet

__all__ = [
    "STATE_FORMAT",
    "STATE_VERSION",
    "StateError",
    "dump_devnet",
    "load_devnet",
    "load_state",
    "read_state",
    "save_state",
    "write_state",
]

STATE_FORMAT: Final = "composability-testbed/devnet-state"
STATE_VERSION: Final = 1


class StateError(ConfigError):
    """A state file that cannot be read: missing, not JSON, another format or version."""


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:])


# ----------------------------------------------------------------------------------------
# chains
# ----------------------------------------------------------------------------------------
def _dump_tx(tx: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"raw": _hex(tx.encode())}
    if tx.__dict__.get("_impersonated"):
        out["impersonated"] = _hex(bytes(tx.sender))
    return out


def _load_tx(data: Mapping[str, Any]) -> Any:
    tx = TX_BUILDER.decode(_bytes(data["raw"]))
    if "impersonated" in data:
        tx = impersonated_tx(tx, _bytes(data["impersonated"]))
    return tx


def _dump_log(log: Log) -> list[Any]:
    return [
        log.address,
        [_hex(t) for t in log.topics],
        _hex(log.data),
        log.log_index,
        log.transaction_index,
        _hex(log.transaction_hash),
        log.block_number,
    ]


def _dump_receipt(r: Receipt) -> dict[str, Any]:
    return {
        "tx_hash": _hex(r.tx_hash),
        "transaction_index": r.transaction_index,
        "block_number": r.block_number,
        "sender": r.sender,
        "to": r.to,
        "status": r.status,
        "gas_used": r.gas_used,
        "cumulative_gas_used": r.cumulative_gas_used,
        "effective_gas_price": r.effective_gas_price,
        "contract_address": r.contract_address,
        "logs": [_dump_log(lg) for lg in r.logs],
        "output": _hex(r.output),
        "tx_type": r.tx_type,
        "error": r.error,
    }


def _load_receipt(d: Mapping[str, Any], block_hash: bytes, registry: Any) -> Receipt:
    logs = tuple(
        Log(
            address=a,
            topics=tuple(_bytes(t) for t in topics),
            data=_bytes(data),
            log_index=li,
            transaction_index=ti,
            transaction_hash=_bytes(th),
            block_number=bn,
            block_hash=block_hash,
        )
        for a, topics, data, li, ti, th, bn in d["logs"]
    )
    return Receipt(
        tx_hash=_bytes(d["tx_hash"]),
        transaction_index=d["transaction_index"],
        block_number=d["block_number"],
        sender=d["sender"],
        to=d["to"],
        status=d["status"],
        gas_used=d["gas_used"],
        cumulative_gas_used=d["cumulative_gas_used"],
        effective_gas_price=d["effective_gas_price"],
        contract_address=d["contract_address"],
        logs=logs,
        output=_bytes(d["output"]),
        block_hash=block_hash,
        tx_type=d["tx_type"],
        error=d["error"],
        abi_registry=registry,
    )


def _dump_op(op: tuple[Any, ...]) -> list[Any]:
    if op[0] == "tx":
        return ["tx", _dump_tx(op[1])]
    kind, address, value, *rest = op
    return [kind, _hex(bytes(address)), _hex(value) if kind == "code" else str(value)] + [
        str(v) for v in rest
    ]


def _load_op(data: list[Any]) -> tuple[Any, ...]:
    if data[0] == "tx":
        return ("tx", _load_tx(data[1]))
    kind, address, value, *rest = data
    parsed = _bytes(value) if kind == "code" else int(value)
    return (kind, _bytes(address), parsed, *(int(v) for v in rest))


def dump_chain(chain: Chain) -> dict[str, Any]:
    """One chain as JSON-ready data (see the module docstring for what is kept)."""
    state = chain.export_state()
    return {
        "config": asdict(chain.config),
        "db": {_hex(k): _hex(v) for k, v in sorted(state.db.items())},
        "blocks": [
            {
                "header": _hex(rlp.encode(b.header)),
                "transactions": [_dump_tx(tx) for tx in b.transactions],
                "receipts": [_dump_receipt(r) for r in b.receipts],
                "size": b.size,
            }
            for b in state.blocks
        ],
        "pending": {
            "ops": [_dump_op(op) for op in state.pending_ops],
            "timestamp": state.pending_timestamp,
        },
        "next_timestamp": state.next_timestamp,
        "impersonated": sorted(_hex(a) for a in state.impersonated),
        "queued": [_dump_tx(tx) for tx in state.queued],
        "reorgs": state.reorg_count,
    }


def restore_chain(chain: Chain, data: Mapping[str, Any]) -> None:
    """Replace ``chain``'s state with :func:`dump_chain` output (same config expected)."""
    blocks: list[BlockRecord] = []
    for b in data["blocks"]:
        header = rlp.decode(_bytes(b["header"]), sedes=PragueBlockHeader)
        block_hash = header.hash
        blocks.append(
            BlockRecord(
                number=header.block_number,
                hash=block_hash,
                header=header,
                transactions=tuple(_load_tx(t) for t in b["transactions"]),
                receipts=tuple(
                    _load_receipt(r, block_hash, chain.abi_registry) for r in b["receipts"]
                ),
                size=b["size"],
            )
        )
    for i, record in enumerate(blocks):
        if record.number != i:
            raise StateError(f"chain {chain.name}: block {i} is numbered {record.number}")
    chain.restore_state(
        ChainState(
            db={_bytes(k): _bytes(v) for k, v in data["db"].items()},
            blocks=tuple(blocks),
            pending_ops=tuple(_load_op(op) for op in data["pending"]["ops"]),
            pending_timestamp=data["pending"]["timestamp"],
            next_timestamp=data["next_timestamp"],
            impersonated=frozenset(_bytes(a) for a in data["impersonated"]),
            queued=tuple(_load_tx(t) for t in data.get("queued", ())),
            reorg_count=int(data.get("reorgs", 0)),
        )
    )


# ----------------------------------------------------------------------------------------
# devnets
# ----------------------------------------------------------------------------------------
def dump_devnet(devnet: Devnet, *, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The whole devnet (chains, seed, clock) plus the caller's ``extra`` JSON."""
    return {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "seed": devnet.seed,
        "clock": {"start": devnet.clock.start, "now": devnet.clock.now},
        "chains": [dump_chain(c) for c in devnet.chains],
        "extra": dict(extra or {}),
    }


def save_state(devnet: Devnet, path: str | Path, *, extra: Mapping[str, Any] | None = None) -> None:
    """Write :func:`dump_devnet` to ``path`` crash-safely (see :func:`write_state`)."""
    write_state(path, dump_devnet(devnet, extra=extra))


def write_state(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write :func:`dump_devnet` output to ``path`` so that no crash leaves a torn file.

    The JSON goes to a temporary file beside the target, is flushed to the disk
    (``fsync``), renamed over the target (atomic on POSIX) and the directory is synced,
    so after a crash at any moment — a SIGKILL mid-write, a power cut after the rename —
    ``path`` holds either the previous complete save or this one. A temporary file a
    crash left behind is removed by the next save. Callers that serve the devnet make
    ``data`` under the devnet's lock and may write it outside.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    for stale in directory.glob(f".{target.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    payload = json.dumps(data, separators=(",", ":")).encode()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse it
        pass
    finally:
        os.close(fd)


def read_state(path: str | Path) -> dict[str, Any]:
    """Read and check a state file's envelope; :class:`StateError` says what is wrong."""
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except OSError as exc:
        raise StateError(f"cannot read state file {str(file)!r}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateError(f"{file}: not a devnet state file (not JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise StateError(f"{file}: not a devnet state file (no format {STATE_FORMAT!r})")
    if data.get("version") != STATE_VERSION:
        raise StateError(
            f"{file}: state version {data.get('version')!r} is not supported "
            f"(this testbed reads version {STATE_VERSION})"
        )
    return data


def load_devnet(
    data: Mapping[str, Any], *, real_time: bool = False, source: str = "state"
) -> Devnet:
    """A new :class:`Devnet` holding the state of :func:`dump_devnet` output.

    The clock resumes at the saved time (real time then moves on from there).
    """
    from chains._devnet import Devnet

    try:
        configs = [ChainConfig(**c["config"]) for c in data["chains"]]
        clock = data["clock"]
        devnet = Devnet(
            len(configs),
            seed=data["seed"],
            start_time=clock["start"],
            real_time=real_time,
            chains=configs,
        )
        for chain, chain_data in zip(devnet.chains, data["chains"], strict=True):
            restore_chain(chain, chain_data)
    except StateError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, rlp.exceptions.DecodingError) as exc:
        raise StateError(f"{source}: damaged devnet state: {type(exc).__name__}: {exc}") from exc
    gap = float(clock["now"]) - devnet.clock.now
    if gap > 0:
        devnet.clock.jump(gap)
    return devnet


def load_state(path: str | Path, *, real_time: bool = False) -> tuple[Devnet, dict[str, Any]]:
    """Read a state file: the restored devnet and the ``extra`` JSON saved with it."""
    data = read_state(path)
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise StateError(f"{path}: damaged devnet state: extra is not an object")
    return load_devnet(data, real_time=real_time, source=str(path)), extra
