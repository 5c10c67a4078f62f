# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Test-Net ERC-20 With Explicit Mint Roles
@custom:contract-name Token
@notice snekmate's ERC-20 (+ EIP-2612 permit) with configurable decimals.
        Roles: the deployer is `owner` and a minter; the owner adds or removes
        minters with `set_minter`; only minters `mint`. Anyone burns their own
        tokens (`burn`) or, with an allowance, someone else's (`burn_from`).
        USDC and WETH are owner-mintable test tokens. DAI is an instance whose
        owner makes the CDP vault a minter and then renounces ownership, so the
        vault is its only minter. Bridge-wrapped tokens reuse this contract with
        the bridge as minter.
@dev Invariants:
     - totalSupply == Σ balanceOf;
     - only addresses with `is_minter` increase totalSupply;
     - an owner cannot drop its own minter role except by giving up ownership.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    # ERC-20
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    # mint and burn roles
    erc20.is_minter,
    erc20.set_minter,
    erc20.mint,
    erc20.burn,
    erc20.burn_from,
    # ownership (snekmate's erc20 versions move the minter role with it)
    erc20.owner,
    erc20.transfer_ownership,
    erc20.renounce_ownership,
    # EIP-2612 and EIP-5267
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
)


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @param name_ Token name, also the EIP-712 domain name.
    @param symbol_ Token symbol.
    @param decimals_ Decimal places (6 for USDC, 18 for WETH and DAI).
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")
