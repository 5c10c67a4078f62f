"""``eth_getLogs`` and the polled filters (``eth_newFilter`` and friends)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from chains._types import BlockRecord
from chains.rpc._dispatch import (
    MethodTable,
    rpc_method,
)
from chains.rpc._logquery import LogQuery, in_range, parse_log_query
from chains.rpc._wire import (
    SERVER_ERROR,
    RpcError,
    format_log,
    invalid,
    parse_bool,
    parse_quantity,
)

#: Unpolled blocks a filter may accumulate before it is dropped.
FILTER_BACKLOG: Final = 10_000


@dataclass
class _Filter:
    """An installed filter: its kind, the log query if any, and blocks not yet polled."""

    kind: str  # "logs", "blocks" or "transactions"
    query: LogQuery | None = None
    backlog: list[BlockRecord] = field(default_factory=list)
    is_overflowed: bool = False


class FilterMethods(MethodTable):
    """Logs and polled filters; a filter holds at most ``FILTER_BACKLOG`` unpolled blocks."""

    _filters: dict[int, _Filter]
    _filter_ids: Iterator[int]
    _is_listening: bool

    def _resolve_range(self, query: LogQuery) -> tuple[int, int]:
        head = self.chain.block_number
        if query.block_hash is not None:
            record = self._find_block(query.block_hash)
            if record is None:
                raise RpcError(SERVER_ERROR, f"unknown block 0x{query.block_hash.hex()}")
            return record.number, record.number

        def number(block: int | str) -> int:
            if isinstance(block, int):
                return block
            return 0 if block == "earliest" else head

        start, end = number(query.from_block), number(query.to_block)
        if isinstance(query.from_block, int) and isinstance(query.to_block, int) and start > end:
            raise invalid("filter", f"has fromBlock {start:#x} after toBlock {end:#x}")
        return start, min(end, head)  # start > end here means "nothing yet": no logs

    def _logs(self, query: LogQuery, start: int, end: int) -> list[dict[str, Any]]:
        if start > end:
            return []
        logs = self.chain.get_logs(
            from_block=start,
            to_block=end,
            address=list(query.addresses) if query.addresses is not None else None,
            topics=list(query.topics) if query.topics else None,
        )
        return [format_log(lg, None) for lg in logs]

    @rpc_method("eth_getLogs")
    def get_logs(self, filter_: Any) -> list[dict[str, Any]]:
        """Logs of sealed blocks matching the filter (a toBlock past the head is clamped)."""
        query = parse_log_query(filter_, "filter")
        start, end = self._resolve_range(query)
        return self._logs(query, start, end)

    def _install(self, entry: _Filter) -> str:
        if not self._is_listening:
            self.chain.on_block(self._on_block)
            self._is_listening = True
        filter_id = next(self._filter_ids)
        self._filters[filter_id] = entry
        return hex(filter_id)

    def _on_block(self, record: BlockRecord) -> None:
        for entry in self._filters.values():
            if len(entry.backlog) >= FILTER_BACKLOG:
                entry.is_overflowed = True
                entry.backlog.clear()
            if not entry.is_overflowed:
                entry.backlog.append(record)

    def _filter(self, filter_id: Any) -> tuple[int, _Filter]:
        key = parse_quantity(filter_id, "filter_id")
        entry = self._filters.get(key)
        if entry is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        if entry.is_overflowed:
            del self._filters[key]
            raise RpcError(
                SERVER_ERROR,
                f"filter not found: it was dropped after {FILTER_BACKLOG} unpolled blocks",
            )
        return key, entry

    @rpc_method("eth_newFilter")
    def new_filter(self, filter_: Any) -> str:
        """A log filter; eth_getFilterChanges returns matching logs of blocks sealed since."""
        return self._install(_Filter("logs", parse_log_query(filter_, "filter")))

    @rpc_method("eth_newBlockFilter")
    def new_block_filter(self) -> str:
        """eth_getFilterChanges returns the hashes of blocks sealed since the last poll."""
        return self._install(_Filter("blocks"))

    @rpc_method("eth_newPendingTransactionFilter")
    def new_pending_transaction_filter(self, full: Any = None) -> str:
        """Hashes of transactions as they are mined (this node has no mempool to watch)."""
        if full is not None and parse_bool(full, "full_transactions"):
            raise invalid("full_transactions", "is not supported")
        return self._install(_Filter("transactions"))

    @rpc_method("eth_getFilterChanges")
    def get_filter_changes(self, filter_id: Any) -> list[Any]:
        _, entry = self._filter(filter_id)
        chain = self.chain
        head = chain.block_number
        records = [
            r
            for r in entry.backlog
            if r.number <= head and chain.get_block(r.number).hash == r.hash
        ]
        entry.backlog = []
        if entry.kind == "blocks":
            return ["0x" + r.hash.hex() for r in records]
        if entry.kind == "transactions":
            return ["0x" + h.hex() for r in records for h in r.tx_hashes]
        query = entry.query
        assert query is not None
        out: list[Any] = []
        for record in records:
            if in_range(record.number, query):
                out.extend(self._block_logs(record, query))
        return out

    def _block_logs(self, record: BlockRecord, query: LogQuery) -> list[dict[str, Any]]:
        if query.block_hash is not None and query.block_hash != record.hash:
            return []
        if not any(r.logs for r in record.receipts):
            return []
        return self._logs(query, record.number, record.number)

    @rpc_method("eth_getFilterLogs")
    def get_filter_logs(self, filter_id: Any) -> list[dict[str, Any]]:
        """Every log matching a log filter's criteria (not only the new ones)."""
        _, entry = self._filter(filter_id)
        if entry.query is None:
            raise RpcError(SERVER_ERROR, "filter not found: not a log filter")
        start, end = self._resolve_range(entry.query)
        return self._logs(entry.query, start, end)

    @rpc_method("eth_uninstallFilter")
    def uninstall_filter(self, filter_id: Any) -> bool:
        key = parse_quantity(filter_id, "filter_id")
        return self._filters.pop(key, None) is not None
