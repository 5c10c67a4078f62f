"""A fully stock reference VM for differential tests: py-evm's opcode loop and AccountDB.

``ChainConfig(interpreter="py-evm")`` already runs py-evm's own loop; its state database
is still the devnet's (:mod:`chains._statedb`). Tests that must compare against py-evm
as shipped put :class:`ReferenceVM` in its place (``monkeypatch.setitem(_VM_CLASSES,
"py-evm", ReferenceVM)``): the same block building, py-evm's loop and py-evm's
``AccountDB`` (pruning tries, caches flushed at every seal).
"""

from __future__ import annotations

from eth.db.account import AccountDB

from chains._evm import StockState as _StockState
from chains._evm import StockVM as _StockVM


class ReferenceState(_StockState):
    account_db_class = AccountDB


class ReferenceVM(_StockVM):
    _state_class = ReferenceState
