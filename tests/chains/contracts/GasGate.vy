# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title GasGate
@notice Test contract for the gas estimator: succeeds only with more than `threshold`
        gas left, so the gas limit changes the outcome beyond running out.
"""


@external
def gate(threshold: uint256) -> bool:
    assert msg.gas > threshold, "gate: low gas"
    return True
