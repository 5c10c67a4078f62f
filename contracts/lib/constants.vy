# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Shared Constants
@custom:contract-name constants
@notice Fixed-point units and protocol magic values used by more than one
        contract, defined once. Stateless: import it, no `initializes`
        needed; a contract that wants a short name aliases a constant
        (`WAD: constant(uint256) = constants.WAD`).
@dev Invariants:
     - values only; no state, no functions, nothing exported.
"""

# Fixed-point one for fractions, prices and ratios (18 decimals).
WAD: constant(uint256) = 10**18
# Fixed-point one for per-second factors and rate accumulators (27 decimals), as Maker's `ray`.
RAY: constant(uint256) = 10**27
# Value an ERC-3156 borrower returns from `onFlashLoan` (EIP-3156).
CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")
