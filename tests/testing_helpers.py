"""Assertion and bytecode helpers shared by every test folder (imported as a plain module, not

pytest's default ``prepend`` import mode puts ``tests/`` on ``sys.path`` when it loads
``tests/conftest.py``, so any test imports these with ``from testing_helpers import reverts``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chains import TransactionReverted


@contextmanager
def reverts(*reasons: str | None) -> Iterator[pytest.ExceptionInfo[TransactionReverted]]:
    """Expect the block to raise :class:`TransactionReverted` with exactly one of ``reasons``.

    ``None`` stands for a revert without a reason string, as a reentrancy lock gives.
    Yields pytest's ``ExceptionInfo``, for checks on the receipt or the revert data.
    """
    if not reasons:
        raise TypeError("reverts() needs at least one expected reason (None: a revert without one)")
    with pytest.raises(TransactionReverted) as info:
        yield info
    assert info.value.reason in reasons, (
        f"reverted with {info.value.reason!r}, not {' or '.join(map(repr, reasons))}"
    )


def push(value: int) -> bytes:
    """The shortest PUSH of ``value`` (PUSH0 for zero)."""
    if value == 0:
        return b"\x5f"
    size = (value.bit_length() + 7) // 8
    return bytes([0x5F + size]) + value.to_bytes(size)


def devnet_step(
    devnet: Any, chain: Any, probe: Any, sender: Any, snapshots: list[int], action: str, n: int
) -> bool:
    """One of the world-changing steps the read-path property tests share (``test_calls``,
    ``test_retime``, ``test_calls_message``) on ``probe`` (the ``PROBE`` contract);
    ``False`` if ``action`` is none of them: ``set_storage``, ``advance``, ``mine``,
    ``snapshot``, ``revert`` (of the last snapshot, if any) and ``deposit``."""
    if action == "set_storage":
        chain.set_storage_at(probe.address, 1, n)
    elif action == "advance":
        devnet.advance(n)
    elif action == "mine":
        chain.mine()
    elif action == "snapshot":
        snapshots.append(devnet.snapshot())
    elif action == "revert":
        if snapshots:
            devnet.revert(snapshots.pop())
    elif action == "deposit":
        probe.deposit(value=n + 1, sender=sender)
    else:
        return False
    return True
