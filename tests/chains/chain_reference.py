"""A fully stock reference VM for differential tests: py-evm's opcode loop and AccountDB.

``ChainConfig(interpreter="py-evm")`` already runs py-evm's own loop; its state database
is still the devnet's (:mod:`chains._statedb`). Tests that must compare against py-evm
as shipped put :class:`ReferenceVM` in its place (``monkeypatch.setitem(_VM_CLASSES,
"py-evm", ReferenceVM)``): the same block building, py-evm's loop and py-evm's
``AccountDB`` (pruning tries, caches flushed at every seal), and py-evm's sealing steps
on block objects (rlp's ``copy``, Prague's ``block_postprocessing``, ``compute_requests_hash``
and ``finalize_block``) in place of the devnet's ``seal_header``.
"""

from __future__ import annotations

from typing import Any

from eth.db.account import AccountDB
from eth.vm.forks.prague import PragueVM

from chains._evm import StockState as _StockState
from chains._evm import StockVM as _StockVM


class ReferenceState(_StockState):
    account_db_class = AccountDB


class ReferenceVM(_StockVM):
    _state_class = ReferenceState

    compute_requests_hash = staticmethod(PragueVM.compute_requests_hash)
    finalize_block = PragueVM.finalize_block

    def seal_header(self, header: Any, transactions: Any, receipts: Any, **fields: Any) -> Any:
        # the steps the devnet's BlockBuilder._seal took before seal_header
        self.block_receipts = receipts
        block = self.get_block().copy(header=header.copy(**fields), transactions=transactions)
        return self.finalize_block(self.block_postprocessing(block)).block.header
