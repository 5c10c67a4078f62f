# pragma version 0.4.3
"""
@title Nest
@notice Test contract for the gas estimator: a call tree of itself, `depth` frames deep,
        each call forwarding all gas (extcall, `gas()`) or a fixed amount (raw_call),
        with a loop of `work` rounds in the leaf, optional stores and a failing leaf.
@dev
    - No `nonreentrancy` pragma: it calls itself.
    - No `msg.gas` read: the GAS opcode only feeds calls.
"""

interface INest:
    def run(
        depth: uint256, work: uint256, fixed: uint256, store: bool, fail: bool
    ) -> uint256: nonpayable

counter: public(uint256)  # bumped by every frame that stores


@external
def run(depth: uint256, work: uint256, fixed: uint256, store: bool, fail: bool) -> uint256:
    acc: uint256 = depth
    if store:
        self.counter = unsafe_add(self.counter, 1)
    if depth == 0:
        for i: uint256 in range(work, bound=4096):
            acc = unsafe_add(acc, unsafe_mul(i, i))
        assert not fail, "nest: leaf fails"
        return acc
    if fixed == 0:
        return unsafe_add(acc, extcall INest(self).run(depth - 1, work, fixed, store, fail))
    ok: bool = False
    out: Bytes[32] = b""
    ok, out = raw_call(
        self,
        abi_encode(
            depth - 1,
            work,
            fixed,
            store,
            fail,
            method_id=method_id("run(uint256,uint256,uint256,bool,bool)"),
        ),
        max_outsize=32,
        gas=fixed,
        revert_on_failure=False,
    )
    if ok:
        acc = unsafe_add(acc, 1)
    return acc
