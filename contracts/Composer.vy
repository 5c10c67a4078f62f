# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Atomic Swap → Borrow → Refinance Composer
@custom:contract-name Composer
@notice Runs the whole scenario in one transaction for the caller, who has
        approved `notional` USDC:
        1. swap USDC → WETH on the AMM (min-out guard);
        2. supply the WETH as collateral and borrow USDC at `target_ltv`
           of its oracle value;
        3. refinance the debt into the CDP vault inside a DAI flash mint:
           swap the DAI → exactly the USDC debt (max-in guard), repay the
           market, withdraw the WETH, lock it in the vault, draw the DAI to
           close the flash mint (amount + fee);
        4. hand the CDP position to the caller (`give`), check its collateral
           ratio (health guard), and send the borrowed USDC to the caller.
        The market position lives on the composer only inside the transaction.
        Any failing step reverts everything.
@dev Invariants:
     - holds no tokens and no market or vault position between transactions
       (whatever is left is swept to the caller);
     - `on_flash_loan` only acts inside a `run`, called by the vault, for a
       flash mint the composer itself started;
     - the caller's final CDP collateral ratio is ≥ `min_collateral_ratio`.
"""

from ethereum.ercs import IERC20
from snekmate.utils import math
from .interfaces import ICdpVault
from .interfaces import ILendingMarket
from .interfaces import IRouter
from .lib import constants
from .lib import token_lib

# Fixed-point one (18 decimals).
WAD: constant(uint256) = constants.WAD
# Value the vault expects back from the flash-mint callback.
CALLBACK_SUCCESS: constant(bytes32) = constants.CALLBACK_SUCCESS

# Numeraire and borrowable token.
usdc: public(immutable(address))
# Collateral token.
weth: public(immutable(address))
# CDP stablecoin.
dai: public(immutable(address))
# AMM router for both swaps.
router: public(immutable(IRouter))
# Lending market (WETH collateral, USDC loans).
market: public(immutable(ILendingMarket))
# CDP vault (WETH collateral, DAI debt).
vault: public(immutable(ICdpVault))


struct RunParams:
    notional: uint256              # USDC pulled from the caller
    min_collateral_out: uint256    # least WETH the first swap may return
    target_ltv: uint256            # borrowed value / collateral value (WAD)
    max_dai_in: uint256            # most DAI the refinance swap may spend
    min_collateral_ratio: uint256  # least final CDP collateral value / debt (WAD)
    deadline: uint256              # last timestamp the run may execute at


# Set while this composer's own flash mint is in flight.
flash_pending: transient(bool)


event Run:
    user: indexed(address)
    notional: uint256
    collateral: uint256
    borrowed: uint256
    dai_debt: uint256


@deploy
def __init__(usdc_: address, weth_: address, dai_: address, router_: address, market_: address, vault_: address):
    """
    @notice Checks the venues trade the given tokens and grants them allowances.
    @param usdc_ Numeraire and borrowable token.
    @param weth_ Collateral token.
    @param dai_ CDP stablecoin.
    @param router_ AMM router for both swaps.
    @param market_ Lending market lending `usdc_` against `weth_`.
    @param vault_ CDP vault minting `dai_` against `weth_`.
    """
    assert staticcall ILendingMarket(market_).loan_token() == usdc_, "composer: market mismatch"
    assert staticcall ILendingMarket(market_).collateral_token() == weth_, "composer: market mismatch"
    assert staticcall ICdpVault(vault_).collateral_token() == weth_, "composer: vault mismatch"
    assert staticcall ICdpVault(vault_).dai() == dai_, "composer: vault mismatch"
    usdc = usdc_
    weth = weth_
    dai = dai_
    router = IRouter(router_)
    market = ILendingMarket(market_)
    vault = ICdpVault(vault_)
    self._approve(usdc_, router_)
    self._approve(usdc_, market_)
    self._approve(weth_, market_)
    self._approve(weth_, vault_)
    self._approve(dai_, router_)
    self._approve(dai_, vault_)


@external
def run(params: RunParams) -> (uint256, uint256, uint256):
    """
    @notice Swap, borrow and refinance in one transaction (see the contract notice).
            borrowed = floor(collateral value in USDC · target_ltv);
            DAI drawn = DAI swapped for the USDC debt + the flash-mint fee.
    @param params Notional, slippage and health guards, target LTV and deadline
           (see `RunParams`).
    @return WETH collateral now in the caller's CDP position.
    @return USDC borrowed and sent to the caller.
    @return DAI debt of the caller's new CDP position.
    """
    assert block.timestamp <= params.deadline, "composer: expired"
    assert params.notional > 0, "composer: zero notional"
    token_lib._transfer_from(usdc, msg.sender, self, params.notional, "composer: transfer failed")

    # 1. swap
    amounts: DynArray[uint256, 4] = extcall router.swap_exact_tokens_for_tokens(
        params.notional, params.min_collateral_out, [usdc, weth], self, params.deadline
    )
    collateral: uint256 = amounts[1]

    # 2. borrow
    extcall market.supply_collateral(collateral, self)
    borrowed: uint256 = math._mul_div(staticcall market.collateral_to_loan(collateral), params.target_ltv, WAD, False)
    assert borrowed > 0, "composer: zero borrow"
    extcall market.borrow(borrowed, self)

    # 3. refinance inside a DAI flash mint
    debt: uint256 = staticcall market.debt_of(self)
    dai_in: uint256 = (staticcall router.get_amounts_in(debt, [dai, usdc]))[0]
    assert dai_in <= params.max_dai_in, "composer: excessive dai in"
    self.flash_pending = True
    extcall vault.flash_mint(self, dai_in, abi_encode(debt, params.deadline))
    dai_debt: uint256 = dai_in + staticcall vault.flash_fee(dai_in)

    # 4. hand over, check, sweep
    extcall vault.give(msg.sender)
    assert staticcall vault.collateral_ratio(msg.sender) >= params.min_collateral_ratio, "composer: unhealthy position"
    self._sweep(usdc, msg.sender)
    self._sweep(weth, msg.sender)
    self._sweep(dai, msg.sender)
    log Run(user=msg.sender, notional=params.notional, collateral=collateral, borrowed=borrowed, dai_debt=dai_debt)
    return collateral, borrowed, dai_debt


@external
@reentrant
def on_flash_loan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    """
    @notice Flash-mint callback: DAI → USDC debt, repay, move the collateral
            from the market to the vault, draw amount + fee DAI to close the mint.
    @dev `@reentrant` because the vault calls it while `run` holds the lock;
         `flash_pending` (set only by `run`) and the sender checks stand in for it.
    @param initiator Who started the flash mint; must be this composer.
    @param token The flash-minted token (DAI).
    @param amount DAI minted to this composer.
    @param fee Flash-mint fee owed on top of `amount`.
    @param data ABI-encoded (USDC debt to refinance, deadline) from `run`.
    @return `CALLBACK_SUCCESS`, as ERC-3156 requires.
    """
    assert msg.sender == vault.address, "composer: untrusted lender"
    assert initiator == self, "composer: untrusted initiator"
    assert self.flash_pending, "composer: unexpected callback"
    self.flash_pending = False
    debt: uint256 = 0
    deadline: uint256 = 0
    debt, deadline = abi_decode(data, (uint256, uint256))

    extcall router.swap_tokens_for_exact_tokens(debt, amount, [dai, usdc], self, deadline)
    extcall market.repay(max_value(uint256), self)
    collateral: uint256 = staticcall market.collateral(self)
    extcall market.withdraw_collateral(collateral, self)
    extcall vault.lock(collateral, self)
    extcall vault.draw(amount + fee, self)
    return CALLBACK_SUCCESS


@internal
def _approve(token: address, spender: address):
    is_ok: bool = extcall IERC20(token).approve(spender, max_value(uint256), default_return_value=True)
    assert is_ok, "composer: approve failed"


@internal
def _sweep(token: address, to: address):
    """
    @dev Send the composer's whole balance of `token` to `to`.
    """
    balance: uint256 = staticcall IERC20(token).balanceOf(self)
    if balance > 0:
        token_lib._transfer(token, to, balance, "composer: transfer failed")
