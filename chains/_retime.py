"""Re-timing an empty pending block on the state it already has.

A pending block opened only to read is re-timed when the clock moves past its timestamp
(``BlockBuilder._open``). Its state is then the head's state plus what
``block_preprocessing`` wrote for the old header — EIP-4788's two beacon-root slots (at
the old timestamp) and EIP-2935's parent-hash slot — and nothing else: no transaction
and no dev write went in, and every read rolled its own changes back. Forgetting those
writes gives the head's state again, with its read caches warm, where a state rebuilt
from the head's root would have to read every account, slot and code anew.
"""

from __future__ import annotations

from typing import Any

from eth.vm.forks.cancun.constants import BEACON_ROOTS_ADDRESS
from eth.vm.forks.prague.constants import HISTORY_STORAGE_ADDRESS

__all__ = ["forget_preprocessing"]

#: the accounts whose storage ``block_preprocessing`` writes (Prague)
_SYSTEM_ACCOUNTS = frozenset({BEACON_ROOTS_ADDRESS, HISTORY_STORAGE_ADDRESS})


def forget_preprocessing(state: Any) -> bool:
    """Undo ``block_preprocessing``'s writes in ``state``, the live state of an empty
    pending block; return whether it did.

    It does only when the state holds no other change: no open checkpoint, no pending
    account or code write, and no storage change outside the two system contracts (else
    ``False``, and the caller builds a fresh state as before). The system contracts'
    storage changes (journaled, or locked by a read's ``lock_changes``) are dropped; their
    read caches hold only values of the stored trie, which did not change.
    """
    if state is None:
        return False
    db = state._account_db
    if db._marks or _has_changes(db._journaltrie) or _has_changes(db._journaldb):
        return False
    stores = db._account_stores
    for address in db._dirty_accounts:
        store = stores.get(address)
        if store is None or address in _SYSTEM_ACCOUNTS:
            continue
        if _has_changes(store._journal_storage) or _has_changes(store._locked_changes):
            return False
    for address in _SYSTEM_ACCOUNTS:
        store = stores.get(address)
        if store is not None:
            store._journal_storage.reset()
            store._locked_changes.reset()
    return True


def _has_changes(journal_db: Any) -> bool:
    """Whether a py-evm ``JournalDB`` holds any change or checkpoint since it last persisted."""
    journal = journal_db._journal
    return bool(journal._current_values) or not journal.is_flattened or bool(journal._clears_at)
