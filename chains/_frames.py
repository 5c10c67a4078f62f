"""CALL, CALLCODE, DELEGATECALL and STATICCALL frames for the fast loop, as py-evm makes them.

py-evm opens a call frame through several layers: ``BaseCall.__call__`` (Prague's
``Call*EIP7702`` classes) pops its arguments through the ``Stack`` object's typed pops,
computes the gas through ``compute_msg_gas`` / ``compute_eip150_msg_gas``, charges it
through ``consume_gas`` with a reason string, builds the child ``Message`` through
``prepare_child_message`` (which validates every field again), and runs it through
``apply_child_computation`` -> ``generate_child_computation`` -> ``apply_message`` ->
``apply_computation`` -> ``add_child_computation``. :func:`frame_table` gives the fast loop
a copy of its opcode table in which those four opcodes are the functions below: the same
steps, in the same order, with the same state reads and writes (snapshot, value transfer,
touch, commit or revert; EIP-2929 warm/cold account loads; EIP-7702 delegation; EIP-150's
63/64; the stipend; the depth limit and the balance check), the same gas and the same error
types, without the layers. The child frame itself still runs through the computation
class's own ``apply_computation`` (precompiles, tracing hooks, the loop).

What the mirror relies on is checked at import (:func:`_check_mirrored`): py-evm's opcode
classes and the methods on the path are the ones mirrored here, with the gas constants
used here. A computation class that overrides a method on the path (``apply_message``,
``apply_child_computation`` ...) keeps py-evm's opcodes (:func:`frame_table`).
``tests/chains/test_frames.py`` runs random call trees on both paths and compares gas,
output, logs, state roots and error types.
"""

from __future__ import annotations

from typing import Any

from eth import constants
from eth.abc import MessageAPI
from eth.exceptions import InsufficientStack, OutOfGas, WriteProtection
from eth.vm.computation import BaseComputation
from eth.vm.forks.berlin import logic as berlin_logic
from eth.vm.forks.berlin.constants import COLD_ACCOUNT_ACCESS_COST, WARM_STORAGE_READ_COST
from eth.vm.forks.frontier.computation import FrontierComputation
from eth.vm.forks.prague import logic as prague_logic
from eth.vm.forks.prague.constants import DELEGATION_DESIGNATION_PREFIX
from eth.vm.logic import call as call_logic
from eth.vm.message import Message

__all__ = ["frame_table"]

_ADDRESS = (1 << 160) - 1
_COLD = COLD_ACCOUNT_ACCESS_COST
_WARM = WARM_STORAGE_READ_COST
_STIPEND = constants.GAS_CALLSTIPEND
_CALLVALUE = constants.GAS_CALLVALUE
_NEWACCOUNT = constants.GAS_NEWACCOUNT
_DEPTH_LIMIT = constants.STACK_DEPTH_LIMIT
_PRESENT = b""  # py-evm's IS_PRESENT_VALUE for an address marked warm

_CALL, _CALLCODE, _DELEGATECALL, _STATICCALL = 0xF1, 0xF2, 0xF4, 0xFA
_MNEMONICS = {
    _CALL: "CALL",
    _CALLCODE: "CALLCODE",
    _DELEGATECALL: "DELEGATECALL",
    _STATICCALL: "STATICCALL",
}


def _load_account(state: Any, meter: Any, address: bytes, op: int) -> None:
    """EIP-2929's account load (``BaseCallEIP2929.consume_account_load_gas``): warm it,
    charge 2600 if it was cold, else 100. Precompiles count as warm (``is_address_warm``)."""
    accessed = state._account_db._journal_accessed_state
    if address in accessed or address in state.computation_class.get_precompiles():
        fee = _WARM
    else:
        accessed[address] = _PRESENT
        fee = _COLD
    remaining = meter.gas_remaining
    if fee > remaining:
        raise OutOfGas(
            f"Out of gas: Needed {fee} - Remaining {remaining} - Reason: "
            f"{_MNEMONICS[op]} charges implicit account load for reading code"
        )
    meter.gas_remaining = remaining - fee


def _frame(
    computation: Any,
    op: int,
    gas: int,
    value: int,
    to: bytes,
    sender: bytes | None,
    code_address: bytes | None,
    in_start: int,
    in_size: int,
    out_start: int,
    out_size: int,
    should_transfer_value: bool,
    is_static: bool,
) -> None:
    """``BaseCall.__call__`` after ``get_call_params``, with Prague's subclasses' methods."""
    computation.extend_memory(in_start, in_size)
    computation.extend_memory(out_start, out_size)
    memory = computation._memory._bytes
    call_data = bytes(memory[in_start : in_start + in_size])

    state = computation.state
    meter = computation._gas_meter
    # get_code_at_address (EIP-2929 load, then EIP-7702's delegation designation)
    code_source = code_address if code_address else to
    _load_account(state, meter, code_source, op)
    code = state.get_code(code_source)
    delegation = None
    if len(code) == 23 and code[:3] == DELEGATION_DESIGNATION_PREFIX:
        delegation = code[3:]
        _load_account(state, meter, delegation, op)
        code = state.get_code(delegation)

    # compute_msg_gas: EIP-161's extra gas (CALL, STATICCALL), CALLCODE's, none for
    # DELEGATECALL; then EIP-150's 63/64 of what is left (compute_eip150_msg_gas)
    if op in (_CALL, _STATICCALL):
        account_is_dead = not state.account_exists(to) or state.account_is_empty(to)
        extra_gas = (_CALLVALUE if value else 0) + (
            _NEWACCOUNT if (account_is_dead and value) else 0
        )
    elif op == _CALLCODE:
        extra_gas = _CALLVALUE if value else 0
    else:
        extra_gas = 0
    remaining = meter.gas_remaining
    if remaining < extra_gas:
        raise OutOfGas(
            f"Out of gas: Needed {extra_gas} - Remaining {remaining} - Reason: {_MNEMONICS[op]}"
        )
    left = remaining - extra_gas
    gas = min(gas, left - left // 64)
    total_fee = gas + extra_gas
    child_msg_gas = gas + ((_STIPEND if op != _DELEGATECALL else 0) if value else 0)
    if total_fee > remaining:  # never, by the min above; py-evm's meter checks it
        raise OutOfGas(
            f"Out of gas: Needed {total_fee} - Remaining {remaining} - Reason: {_MNEMONICS[op]}"
        )
    meter.gas_remaining = remaining - total_fee

    msg = computation.msg
    stack = computation._stack.values
    sender_balance = state.get_balance(msg.storage_address)
    if (should_transfer_value and sender_balance < value) or msg.depth + 1 > _DEPTH_LIMIT:
        computation.return_data = b""
        meter.gas_remaining += child_msg_gas
        stack.append(0)
        return

    # prepare_child_message: a Message with the fields its constructor would store (each
    # value here passes its validation: addresses of 20 bytes, uint256 gas and value)
    child_msg: Any = Message.__new__(Message)
    child_msg.gas = child_msg_gas
    child_msg.to = to
    child_msg.sender = sender if sender is not None else msg.storage_address
    child_msg.value = value
    child_msg.data = call_data
    child_msg.depth = msg.depth + 1
    child_msg.code = code
    child_msg._storage_address = None
    child_msg._code_address = delegation or code_address
    child_msg.should_transfer_value = should_transfer_value
    child_msg.is_static = is_static
    child_msg._is_delegation = delegation is not None
    child_msg.refund = 0

    # apply_child_computation -> generate_child_computation -> apply_message (Frontier's,
    # unchanged since): snapshot, transfer, touch, run, revert or commit
    snapshot = state.snapshot()
    if should_transfer_value and value:
        # the balance was read above (the sender is this frame's storage address)
        state.delta_balance(child_msg.sender, -1 * value)
        state.delta_balance(to, value)
    state.touch_account(to)
    child = type(computation).apply_computation(
        state, child_msg, computation.transaction_context, computation
    )
    error = child._error
    if error is None:
        state.commit(snapshot)
    else:
        state.revert(snapshot)

    # add_child_computation (a call, not a create), then BaseCall.__call__'s tail
    erases = error is not None and error.erases_return_data
    burns = error is not None and error.burns_gas
    output = b"" if erases else child._output
    computation.return_data = b"" if burns else output
    computation.children.append(child)
    stack.append(0 if error is not None else 1)
    if not erases:
        size = min(out_size, len(output))
        if size:
            memory[out_start : out_start + size] = output[:size]
    if not burns:
        meter.gas_remaining += child._gas_meter.gas_remaining


def _pop_address(stack: list[int]) -> bytes:
    return (stack.pop() & _ADDRESS).to_bytes(20)


def _call(computation: Any) -> None:
    """CALL (``CallEIP7702``: ``CallByzantium``'s parameters and static check)."""
    stack = computation._stack.values
    if len(stack) < 7:
        raise InsufficientStack(f"Wanted 7 stack items, only had {len(stack)}")
    gas = stack.pop()
    to = _pop_address(stack)
    pop = stack.pop
    value, in_start, in_size, out_start, out_size = pop(), pop(), pop(), pop(), pop()
    is_static = computation.msg.is_static
    if is_static and value != 0:
        raise WriteProtection("Cannot modify state while inside of a STATICCALL context")
    _frame(
        computation, _CALL, gas, value, to, None, None,
        in_start, in_size, out_start, out_size, True, is_static,
    )  # fmt: skip


def _callcode(computation: Any) -> None:
    """CALLCODE (``CallCodeEIP7702``): the callee's code on this frame's storage."""
    stack = computation._stack.values
    if len(stack) < 7:
        raise InsufficientStack(f"Wanted 7 stack items, only had {len(stack)}")
    gas = stack.pop()
    code_address = _pop_address(stack)
    pop = stack.pop
    value, in_start, in_size, out_start, out_size = pop(), pop(), pop(), pop(), pop()
    msg = computation.msg
    here = msg.storage_address
    _frame(
        computation, _CALLCODE, gas, value, here, here, code_address,
        in_start, in_size, out_start, out_size, True, msg.is_static,
    )  # fmt: skip


def _delegatecall(computation: Any) -> None:
    """DELEGATECALL (``DelegateCallEIP7702``): this frame's sender, value and storage."""
    stack = computation._stack.values
    if len(stack) < 6:
        raise InsufficientStack(f"Wanted 6 stack items, only had {len(stack)}")
    gas = stack.pop()
    code_address = _pop_address(stack)
    pop = stack.pop
    in_start, in_size, out_start, out_size = pop(), pop(), pop(), pop()
    msg = computation.msg
    _frame(
        computation, _DELEGATECALL, gas, msg.value, msg.storage_address, msg.sender,
        code_address, in_start, in_size, out_start, out_size, False, msg.is_static,
    )  # fmt: skip


def _staticcall(computation: Any) -> None:
    """STATICCALL (``StaticCallEIP7702``): no value, static from here down."""
    stack = computation._stack.values
    if len(stack) < 6:
        raise InsufficientStack(f"Wanted 6 stack items, only had {len(stack)}")
    gas = stack.pop()
    to = _pop_address(stack)
    pop = stack.pop
    in_start, in_size, out_start, out_size = pop(), pop(), pop(), pop()
    _frame(
        computation, _STATICCALL, gas, 0, to, None, None,
        in_start, in_size, out_start, out_size, False, True,
    )  # fmt: skip


_FRAME_OPS = {
    _CALL: (_call, prague_logic.CallEIP7702),
    _CALLCODE: (_callcode, prague_logic.CallCodeEIP7702),
    _DELEGATECALL: (_delegatecall, prague_logic.DelegateCallEIP7702),
    _STATICCALL: (_staticcall, prague_logic.StaticCallEIP7702),
}

#: The methods on py-evm's path from an opcode to the child frame, as mirrored here.
_PATH = (
    "apply_message",
    "apply_child_computation",
    "generate_child_computation",
    "add_child_computation",
    "prepare_child_message",
)
_PATH_ORIGINALS = {
    "apply_message": FrontierComputation.__dict__["apply_message"].__func__,
    **{name: BaseComputation.__dict__[name] for name in _PATH[1:]},
}


def _class_is_mirrored(cls: type) -> bool:
    for name in _PATH:
        attr = getattr(cls, name)
        if getattr(attr, "__func__", attr) is not _PATH_ORIGINALS[name]:
            return False
    return True


#: (class, id of its table) -> (the table, kept alive so that its id stays its own; the
#: table the fast loop runs)
_TABLES: dict[tuple[type, int], tuple[dict[int, Any], dict[int, Any]]] = {}


def frame_table(cls: type, table: dict[int, Any]) -> dict[int, Any]:
    """``table`` with the four call opcodes replaced by the mirrors above, when ``cls``
    takes py-evm's path and ``table`` holds py-evm's Prague call opcodes; else ``table``.

    Memoised per (class, table); the tables are the classes' own, never mutated.
    """
    entry = _TABLES.get((cls, id(table)))
    if entry is not None:
        return entry[1]
    fast = table
    if _class_is_mirrored(cls) and all(
        type(table.get(op)).__mro__[1:2] == (original,) and table[op].gas_cost == 0
        for op, (_, original) in _FRAME_OPS.items()
    ):
        fast = dict(table)
        for op, (fn, _) in _FRAME_OPS.items():
            fast[op] = fn
    _TABLES[(cls, id(table))] = (table, fast)
    return fast


def _check_mirrored() -> None:
    """py-evm's call path must be the one mirrored above."""
    expected = (_COLD, _WARM, _STIPEND, _CALLVALUE, _NEWACCOUNT, _DEPTH_LIMIT, _PRESENT)
    same = (
        expected == (2600, 100, 2300, 9000, 25000, 1024, b"")
        and prague_logic.CallEIP7702.__call__ is call_logic.BaseCall.__call__
        and prague_logic.BaseCallEIP7702.get_code_at_address.__qualname__
        == "BaseCallEIP7702.get_code_at_address"
        and berlin_logic.BaseCallEIP2929.consume_account_load_gas.__qualname__
        == "BaseCallEIP2929.consume_account_load_gas"
        and call_logic.compute_eip150_msg_gas.__module__ == "eth.vm.logic.call"
        and issubclass(Message, MessageAPI)
        and set(Message.__slots__)
        == {
            "to",
            "sender",
            "value",
            "data",
            "depth",
            "gas",
            "code",
            "_code_address",
            "create_address",
            "should_transfer_value",
            "is_static",
            "_storage_address",
            "_is_delegation",
            "refund",
        }  # fmt: skip
    )
    for _, original in _FRAME_OPS.values():
        same = same and all(
            getattr(original, name) is getattr(base, name)
            for name, base in (
                ("__call__", call_logic.BaseCall),
                ("get_code_at_address", prague_logic.BaseCallEIP7702),
                ("consume_account_load_gas", berlin_logic.BaseCallEIP2929),
            )
        )
    owners = {
        _CALL: (
            ("get_call_params", call_logic.CallByzantium),
            ("compute_msg_gas", call_logic.CallEIP150),
            ("compute_msg_extra_gas", call_logic.CallEIP161),
        ),
        _CALLCODE: (
            ("get_call_params", call_logic.CallCode),
            ("compute_msg_gas", call_logic.CallCodeEIP150),
            ("compute_msg_extra_gas", call_logic.CallCode),
        ),
        _DELEGATECALL: (
            ("get_call_params", call_logic.DelegateCall),
            ("compute_msg_gas", call_logic.DelegateCallEIP150),
            ("compute_msg_extra_gas", call_logic.DelegateCall),
        ),
        _STATICCALL: (
            ("get_call_params", call_logic.StaticCall),
            ("compute_msg_gas", call_logic.CallEIP150),
            ("compute_msg_extra_gas", call_logic.CallEIP161),
        ),
    }
    for op, methods in owners.items():
        for name, owner in methods:
            same = same and getattr(_FRAME_OPS[op][1], name) is owner.__dict__[name]
    if not same:
        raise RuntimeError(
            "py-evm's CALL/CALLCODE/DELEGATECALL/STATICCALL are not the ones the fast "
            "loop's call frames mirror: the installed py-evm does not match this interpreter"
        )


_check_mirrored()
