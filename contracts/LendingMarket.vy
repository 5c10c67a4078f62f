# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Isolated Lending Market
@custom:contract-name LendingMarket
@notice One collateral token, one borrowable (loan) token, Morpho-Blue style
        accounting: suppliers and borrowers hold shares of running totals, with
        virtual shares against inflation attacks and rounding that always
        favours the protocol. Interest follows a kinked utilisation model and
        accrues per second, compounded to third order. Borrowing is capped by
        the LTV; a position whose health factor
        HF = collateral value · liquidation threshold / debt value
        drops below 1 can be liquidated: 50% of the debt per call (100% once
        HF ≤ 0.95), the liquidator receiving collateral worth the repayment
        plus a bonus. Flash loans of idle liquidity pay a fee to suppliers.
        No admin: every parameter is fixed at deployment.
@dev Invariants:
     - Σ supply_shares == total_supply_shares, Σ borrow_shares == total_borrow_shares;
     - total_borrow_assets <= total_supply_assets;
     - no call by a position's owner (borrow, withdraw_collateral) leaves it
       above the LTV, so no user action takes a healthy position below HF 1;
     - interest raises total_borrow_assets and total_supply_assets equally;
     - loan-token balance >= total_supply_assets − total_borrow_assets,
       collateral balance >= Σ collateral.
"""

from ethereum.ercs import IERC20Detailed
from snekmate.utils import math
from .interfaces import IFlashBorrower
from .interfaces import IOracle
from .lib import rate_math
from .lib import constants
from .lib import shares_math
from .lib import token_lib

# Fixed-point one (18 decimals).
WAD: constant(uint256) = constants.WAD
# Share of the debt a liquidator may repay in one call while HF > 0.95.
CLOSE_FACTOR: constant(uint256) = 5 * 10**17
# At or below this HF a liquidator may repay the whole debt.
FULL_CLOSE_HF: constant(uint256) = 95 * 10**16
# Value an ERC-3156 borrower returns from its callback.
CALLBACK_SUCCESS: constant(bytes32) = constants.CALLBACK_SUCCESS

# Borrowable token (USDC in the suite).
loan_token: public(immutable(address))
# Collateral token (WETH in the suite).
collateral_token: public(immutable(address))
# Price source for both tokens.
oracle: public(immutable(IOracle))
# Max debt value / collateral value for borrows and collateral withdrawals (WAD).
ltv: public(immutable(uint256))
# Collateral weight in the health factor (WAD), above `ltv`.
liquidation_threshold: public(immutable(uint256))
# Extra collateral a liquidator receives, as a fraction of the repayment (WAD).
liquidation_bonus: public(immutable(uint256))
# Kinked rate model: annual rates (WAD) and the kink utilisation (WAD).
base_rate: public(immutable(uint256))
slope1: public(immutable(uint256))
slope2: public(immutable(uint256))
kink: public(immutable(uint256))
# Flash-loan fee as a fraction of the amount (WAD).
flash_fee_rate: public(immutable(uint256))
# Oldest oracle price, in seconds, the market accepts.
max_price_age: public(immutable(uint256))
# 10^decimals of each token.
LOAN_UNIT: immutable(uint256)
COLLATERAL_UNIT: immutable(uint256)

# Loan assets owed to suppliers, interest included, as of `last_update`.
total_supply_assets: public(uint256)
# Supply shares outstanding.
total_supply_shares: public(uint256)
# Loan assets owed by borrowers, interest included, as of `last_update`.
total_borrow_assets: public(uint256)
# Borrow shares outstanding.
total_borrow_shares: public(uint256)
# Time of the last interest accrual.
last_update: public(uint256)
# Supply shares of each supplier.
supply_shares: public(HashMap[address, uint256])
# Borrow shares of each borrower.
borrow_shares: public(HashMap[address, uint256])
# Collateral deposited by each borrower.
collateral: public(HashMap[address, uint256])


event Supply:
    caller: indexed(address)
    on_behalf: indexed(address)
    assets: uint256
    shares: uint256

event Withdraw:
    caller: indexed(address)
    receiver: indexed(address)
    assets: uint256
    shares: uint256

event SupplyCollateral:
    caller: indexed(address)
    on_behalf: indexed(address)
    amount: uint256

event WithdrawCollateral:
    caller: indexed(address)
    receiver: indexed(address)
    amount: uint256

event Borrow:
    caller: indexed(address)
    receiver: indexed(address)
    assets: uint256
    shares: uint256

event Repay:
    caller: indexed(address)
    on_behalf: indexed(address)
    assets: uint256
    shares: uint256

event Liquidate:
    liquidator: indexed(address)
    borrower: indexed(address)
    repaid_assets: uint256
    repaid_shares: uint256
    seized: uint256
    bad_debt: uint256

event FlashLoan:
    caller: indexed(address)
    receiver: indexed(address)
    amount: uint256
    fee: uint256

event AccrueInterest:
    rate: uint256
    interest: uint256


@deploy
def __init__(
    loan_token_: address,
    collateral_token_: address,
    oracle_: address,
    ltv_: uint256,
    liquidation_threshold_: uint256,
    liquidation_bonus_: uint256,
    base_rate_: uint256,
    slope1_: uint256,
    slope2_: uint256,
    kink_: uint256,
    flash_fee_rate_: uint256,
    max_price_age_: uint256,
):
    """
    @notice Fractions and annual rates are WAD; `max_price_age_` is in seconds.
    @param loan_token_ Borrowable token.
    @param collateral_token_ Collateral token, not `loan_token_`.
    @param oracle_ Price source for both tokens.
    @param ltv_ Max debt value / collateral value for borrows (WAD), 0 < ltv < threshold.
    @param liquidation_threshold_ Collateral weight in the health factor (WAD), < 1.
    @param liquidation_bonus_ Liquidator's extra collateral per repayment (WAD);
           threshold·(1 + bonus) < 1.
    @param base_rate_ Annual borrow rate at zero utilisation (WAD).
    @param slope1_ Annual rate added from zero to the kink utilisation (WAD).
    @param slope2_ Annual rate added from the kink to full utilisation (WAD).
    @param kink_ Utilisation where the slope changes (WAD), 0 < kink < 1.
    @param flash_fee_rate_ Flash-loan fee as a fraction of the amount (WAD), < 1.
    @param max_price_age_ Oldest oracle price accepted, in seconds.
    """
    assert loan_token_ != collateral_token_, "market: identical tokens"
    assert 0 < ltv_ and ltv_ < liquidation_threshold_ and liquidation_threshold_ < WAD, "market: invalid ltv"
    assert liquidation_threshold_ * (WAD + liquidation_bonus_) < WAD * WAD, "market: invalid liquidation bonus"
    assert 0 < kink_ and kink_ < WAD, "market: invalid kink"
    assert flash_fee_rate_ < WAD, "market: invalid flash fee"
    loan_token = loan_token_
    collateral_token = collateral_token_
    oracle = IOracle(oracle_)
    ltv = ltv_
    liquidation_threshold = liquidation_threshold_
    liquidation_bonus = liquidation_bonus_
    base_rate = base_rate_
    slope1 = slope1_
    slope2 = slope2_
    kink = kink_
    flash_fee_rate = flash_fee_rate_
    max_price_age = max_price_age_
    LOAN_UNIT = 10 ** convert(staticcall IERC20Detailed(loan_token_).decimals(), uint256)
    COLLATERAL_UNIT = 10 ** convert(staticcall IERC20Detailed(collateral_token_).decimals(), uint256)
    self.last_update = block.timestamp


# ------------------------------------------------------------- suppliers ---


@external
def supply(assets: uint256, on_behalf: address) -> uint256:
    """
    @notice Lend `assets` of the loan token; `on_behalf` receives the shares.
    @param assets Loan-token units pulled from the caller (> 0).
    @param on_behalf Who receives the supply shares.
    @return Shares minted, rounded down.
    """
    assert assets > 0, "market: zero amount"
    assert on_behalf != empty(address), "market: zero address"
    self._accrue()
    shares: uint256 = shares_math._to_shares_down(assets, self.total_supply_assets, self.total_supply_shares)
    self.supply_shares[on_behalf] += shares
    self.total_supply_shares += shares
    self.total_supply_assets += assets
    log Supply(caller=msg.sender, on_behalf=on_behalf, assets=assets, shares=shares)
    self._pull(loan_token, msg.sender, assets)
    return shares


@external
def withdraw(assets: uint256, receiver: address) -> uint256:
    """
    @notice Withdraw `assets` of the caller's supply (max_value(uint256): all of it).
    @param assets Loan-token units to withdraw, or max_value(uint256) for all.
    @param receiver Who receives the loan tokens.
    @return Shares burnt, rounded up.
    """
    self._accrue()
    amount: uint256 = assets
    shares: uint256 = 0
    if assets == max_value(uint256):
        shares = self.supply_shares[msg.sender]
        amount = shares_math._to_assets_down(shares, self.total_supply_assets, self.total_supply_shares)
    else:
        shares = shares_math._to_shares_up(assets, self.total_supply_assets, self.total_supply_shares)
    assert amount > 0, "market: zero amount"
    assert shares <= self.supply_shares[msg.sender], "market: insufficient shares"
    self.supply_shares[msg.sender] -= shares
    self.total_supply_shares -= shares
    self.total_supply_assets -= amount
    assert self.total_borrow_assets <= self.total_supply_assets, "market: insufficient liquidity"
    log Withdraw(caller=msg.sender, receiver=receiver, assets=amount, shares=shares)
    self._push(loan_token, receiver, amount)
    return shares


# ------------------------------------------------------------- borrowers ---


@external
def supply_collateral(amount: uint256, on_behalf: address):
    """
    @notice Deposit collateral for `on_behalf` (no interest accrues on it).
    @param amount Collateral units pulled from the caller (> 0).
    @param on_behalf Whose position the collateral backs.
    """
    assert amount > 0, "market: zero amount"
    assert on_behalf != empty(address), "market: zero address"
    self.collateral[on_behalf] += amount
    log SupplyCollateral(caller=msg.sender, on_behalf=on_behalf, amount=amount)
    self._pull(collateral_token, msg.sender, amount)


@external
def withdraw_collateral(amount: uint256, receiver: address):
    """
    @notice Withdraw the caller's collateral, keeping the position within the LTV.
    @param amount Collateral units to withdraw (> 0, ≤ the caller's collateral).
    @param receiver Who receives the collateral.
    """
    assert amount > 0, "market: zero amount"
    assert amount <= self.collateral[msg.sender], "market: insufficient collateral"
    self._accrue()
    self.collateral[msg.sender] -= amount
    assert self._is_within_ltv(msg.sender), "market: ltv exceeded"
    log WithdrawCollateral(caller=msg.sender, receiver=receiver, amount=amount)
    self._push(collateral_token, receiver, amount)


@external
def borrow(assets: uint256, receiver: address) -> uint256:
    """
    @notice Borrow `assets` against the caller's collateral, within the LTV.
    @param assets Loan-token units to borrow (> 0).
    @param receiver Who receives the borrowed tokens.
    @return Borrow shares minted, rounded up.
    """
    assert assets > 0, "market: zero amount"
    self._accrue()
    shares: uint256 = shares_math._to_shares_up(assets, self.total_borrow_assets, self.total_borrow_shares)
    self.borrow_shares[msg.sender] += shares
    self.total_borrow_shares += shares
    self.total_borrow_assets += assets
    assert self._is_within_ltv(msg.sender), "market: ltv exceeded"
    assert self.total_borrow_assets <= self.total_supply_assets, "market: insufficient liquidity"
    log Borrow(caller=msg.sender, receiver=receiver, assets=assets, shares=shares)
    self._push(loan_token, receiver, assets)
    return shares


@external
def repay(assets: uint256, on_behalf: address) -> uint256:
    """
    @notice Repay `assets` of `on_behalf`'s debt (max_value(uint256): all of it).
            shares burnt = floor(assets / share price); paying the whole debt
            (rounded up, as `debt_of` shows it) burns all the borrower's shares.
    @param assets Loan-token units to repay, or max_value(uint256) for the whole debt.
    @param on_behalf Whose debt is repaid; the caller pays.
    @return Assets paid.
    """
    self._accrue()
    shares: uint256 = self.borrow_shares[on_behalf]
    debt: uint256 = shares_math._to_assets_up(shares, self.total_borrow_assets, self.total_borrow_shares)
    amount: uint256 = assets
    if assets == max_value(uint256):
        amount = debt
    assert amount > 0, "market: zero amount"
    assert amount <= debt, "market: repay exceeds debt"
    if amount < debt:
        # below the debt (rounded up) this stays below the borrower's shares
        shares = shares_math._to_shares_down(amount, self.total_borrow_assets, self.total_borrow_shares)
    self.borrow_shares[on_behalf] -= shares
    self.total_borrow_shares -= shares
    # rounding up can ask a little more than the tracked total: floor at zero
    self.total_borrow_assets -= min(amount, self.total_borrow_assets)
    log Repay(caller=msg.sender, on_behalf=on_behalf, assets=amount, shares=shares)
    self._pull(loan_token, msg.sender, amount)
    return amount


@external
def liquidate(borrower: address, repay_assets: uint256) -> (uint256, uint256):
    """
    @notice Repay part of an unhealthy position's debt for its collateral.
            repaid ≤ debt·50% (or the whole debt once HF ≤ 0.95; pass
            max_value(uint256) for the most allowed);
            seized = repaid·p_loan·(1 + bonus) / p_collateral, capped at the
            collateral, in which case repaid = ceil(seized·p_collateral / (1 + bonus) / p_loan).
            Debt left without collateral is bad debt, written off against suppliers.
    @param borrower The unhealthy position (HF < 1).
    @param repay_assets Most loan-token units to repay (> 0); max_value(uint256)
           for the most the close factor allows.
    @return Loan-token assets repaid by the caller.
    @return Collateral seized and sent to the caller.
    """
    assert repay_assets > 0, "market: zero amount"
    self._accrue()
    price_loan: uint256 = staticcall oracle.price(loan_token, max_price_age)
    price_collateral: uint256 = staticcall oracle.price(collateral_token, max_price_age)
    debt: uint256 = self._debt_of(borrower)
    hf: uint256 = self._health_factor(self.collateral[borrower], debt, price_collateral, price_loan)
    assert hf < WAD, "market: position healthy"

    max_repay: uint256 = debt
    if hf > FULL_CLOSE_HF:
        max_repay = math._mul_div(debt, CLOSE_FACTOR, WAD, False)
    repaid: uint256 = min(repay_assets, max_repay)
    value: uint256 = math._mul_div(repaid, price_loan, LOAN_UNIT, False)
    value = math._mul_div(value, WAD + liquidation_bonus, WAD, False)
    seized: uint256 = math._mul_div(value, COLLATERAL_UNIT, price_collateral, False)
    if seized > self.collateral[borrower]:
        seized = self.collateral[borrower]
        value = math._mul_div(seized, price_collateral, COLLATERAL_UNIT, False)
        value = math._mul_div(value, WAD, WAD + liquidation_bonus, False)
        repaid = min(math._mul_div(value, LOAN_UNIT, price_loan, True), debt)
    assert repaid > 0, "market: zero amount"

    repaid_shares: uint256 = self.borrow_shares[borrower]
    if repaid < debt:
        repaid_shares = shares_math._to_shares_down(repaid, self.total_borrow_assets, self.total_borrow_shares)
    self.borrow_shares[borrower] -= repaid_shares
    self.total_borrow_shares -= repaid_shares
    self.total_borrow_assets -= min(repaid, self.total_borrow_assets)
    self.collateral[borrower] -= seized

    bad_debt: uint256 = 0
    if self.collateral[borrower] == 0 and self.borrow_shares[borrower] > 0:
        bad_shares: uint256 = self.borrow_shares[borrower]
        bad_debt = min(
            shares_math._to_assets_up(bad_shares, self.total_borrow_assets, self.total_borrow_shares),
            self.total_borrow_assets,
        )
        self.borrow_shares[borrower] = 0
        self.total_borrow_shares -= bad_shares
        self.total_borrow_assets -= bad_debt
        self.total_supply_assets -= bad_debt

    log Liquidate(
        liquidator=msg.sender,
        borrower=borrower,
        repaid_assets=repaid,
        repaid_shares=repaid_shares,
        seized=seized,
        bad_debt=bad_debt,
    )
    self._push(collateral_token, msg.sender, seized)
    self._pull(loan_token, msg.sender, repaid)
    return repaid, seized


@external
def accrue_interest():
    """
    @notice Bring the totals up to date (anyone may call).
    """
    self._accrue()


# ----------------------------------------------------------- flash loans ---


@external
@reentrant
def flash_loan(receiver: address, amount: uint256, data: Bytes[1024]):
    """
    @notice Lend `amount` of idle loan tokens to `receiver` for one call;
            it must leave an allowance of amount + fee, fee = ceil(amount·flash_fee_rate).
            The fee goes to suppliers.
    @dev `@reentrant` on purpose: the receiver may use the market (repay,
         withdraw collateral, ...) inside the callback; each of those takes the
         lock itself. Accounting reads no balances, and the only write after the
         callback is an increment, so re-entry cannot corrupt it.
    @param receiver Borrower called back with `on_flash_loan`; repays amount + fee from its allowance.
    @param amount Loan-token units lent for the call (> 0).
    @param data Passed through to the receiver's callback.
    """
    assert amount > 0, "market: zero amount"
    assert amount <= self.total_supply_assets - self.total_borrow_assets, "market: insufficient liquidity"
    fee: uint256 = math._mul_div(amount, flash_fee_rate, WAD, True)
    self._push(loan_token, receiver, amount)
    result: bytes32 = extcall IFlashBorrower(receiver).on_flash_loan(msg.sender, loan_token, amount, fee, data)
    assert result == CALLBACK_SUCCESS, "market: flash callback failed"
    self._pull(loan_token, receiver, amount + fee)
    self.total_supply_assets += fee
    log FlashLoan(caller=msg.sender, receiver=receiver, amount=amount, fee=fee)


# ----------------------------------------------------------------- views ---


@external
@view
def flash_fee(amount: uint256) -> uint256:
    """
    @notice ceil(amount·flash_fee_rate)
    @param amount Loan-token units a flash loan would lend.
    @return Fee owed on top of `amount`.
    """
    return math._mul_div(amount, flash_fee_rate, WAD, True)


@external
@view
def expected_totals() -> (uint256, uint256, uint256, uint256):
    """
    @notice (supply assets, supply shares, borrow assets, borrow shares) with
            the interest accrued up to this block.
    @return Total supply assets, interest included.
    @return Total supply shares.
    @return Total borrow assets, interest included.
    @return Total borrow shares.
    """
    supply_assets: uint256 = 0
    borrow_assets: uint256 = 0
    rate: uint256 = 0
    supply_assets, borrow_assets, rate = self._expected_assets()
    return supply_assets, self.total_supply_shares, borrow_assets, self.total_borrow_shares


@external
@view
def utilisation() -> uint256:
    """
    @notice total borrowed / total supplied (WAD), as of the last accrual.
    @return Utilisation (WAD); 0 without supply.
    """
    return self._utilisation(self.total_supply_assets, self.total_borrow_assets)


@external
@view
def borrow_rate() -> uint256:
    """
    @notice Annual borrow rate (WAD) at `utilisation()`: the rate the next accrual applies.
    @return Annual borrow rate (WAD).
    """
    return self._borrow_rate(self.total_supply_assets, self.total_borrow_assets)


@external
@view
def supplied_of(user: address) -> uint256:
    """
    @notice Loan assets `user` could withdraw, rounded down, as of this block.
    @param user The supplier.
    @return Loan-token units.
    """
    supply_assets: uint256 = 0
    borrow_assets: uint256 = 0
    rate: uint256 = 0
    supply_assets, borrow_assets, rate = self._expected_assets()
    return shares_math._to_assets_down(self.supply_shares[user], supply_assets, self.total_supply_shares)


@external
@view
def debt_of(user: address) -> uint256:
    """
    @notice Loan assets `user` owes, rounded up, as of this block.
    @param user The borrower.
    @return Loan-token units.
    """
    supply_assets: uint256 = 0
    borrow_assets: uint256 = 0
    rate: uint256 = 0
    supply_assets, borrow_assets, rate = self._expected_assets()
    return shares_math._to_assets_up(self.borrow_shares[user], borrow_assets, self.total_borrow_shares)


@external
@view
def health_factor(user: address) -> uint256:
    """
    @notice collateral value · liquidation threshold / debt value (WAD), as of
            this block; max_value(uint256) without debt.
    @param user The borrower.
    @return Health factor (WAD).
    """
    supply_assets: uint256 = 0
    borrow_assets: uint256 = 0
    rate: uint256 = 0
    supply_assets, borrow_assets, rate = self._expected_assets()
    debt: uint256 = shares_math._to_assets_up(self.borrow_shares[user], borrow_assets, self.total_borrow_shares)
    return self._health_factor(
        self.collateral[user],
        debt,
        staticcall oracle.price(collateral_token, max_price_age),
        staticcall oracle.price(loan_token, max_price_age),
    )


@external
@view
def collateral_to_loan(amount: uint256) -> uint256:
    """
    @notice Loan-token amount worth `amount` collateral at oracle prices, rounded down.
    @param amount Collateral units.
    @return Loan-token units.
    """
    value: uint256 = math._mul_div(
        amount, staticcall oracle.price(collateral_token, max_price_age), COLLATERAL_UNIT, False
    )
    return math._mul_div(value, LOAN_UNIT, staticcall oracle.price(loan_token, max_price_age), False)


# -------------------------------------------------------------- internal ---


@internal
def _accrue():
    """
    @dev interest = borrowed·(e^{rate·dt/year} − 1), added to both totals.
    """
    elapsed: uint256 = block.timestamp - self.last_update
    if elapsed == 0:
        return
    supply_assets: uint256 = 0
    borrow_assets: uint256 = 0
    rate: uint256 = 0
    supply_assets, borrow_assets, rate = self._expected_assets()
    interest: uint256 = borrow_assets - self.total_borrow_assets
    self.total_supply_assets = supply_assets
    self.total_borrow_assets = borrow_assets
    self.last_update = block.timestamp
    log AccrueInterest(rate=rate, interest=interest)


@internal
@view
def _expected_assets() -> (uint256, uint256, uint256):
    """
    @dev (supply assets, borrow assets, annual rate) accrued to this block.
    """
    supply_assets: uint256 = self.total_supply_assets
    borrow_assets: uint256 = self.total_borrow_assets
    rate: uint256 = self._borrow_rate(supply_assets, borrow_assets)
    elapsed: uint256 = block.timestamp - self.last_update
    if elapsed == 0 or borrow_assets == 0:
        return supply_assets, borrow_assets, rate
    interest: uint256 = math._mul_div(borrow_assets, rate_math._compounded_growth(rate, elapsed), WAD, False)
    return supply_assets + interest, borrow_assets + interest, rate


@internal
@pure
def _utilisation(supply_assets: uint256, borrow_assets: uint256) -> uint256:
    if supply_assets == 0:
        return 0
    return min(borrow_assets * WAD // supply_assets, WAD)


@internal
@view
def _borrow_rate(supply_assets: uint256, borrow_assets: uint256) -> uint256:
    return rate_math._kinked_rate(self._utilisation(supply_assets, borrow_assets), base_rate, slope1, slope2, kink)


@internal
@view
def _debt_of(user: address) -> uint256:
    """
    @dev Debt of `user` from the stored totals, rounded up (call after `_accrue`).
    """
    return shares_math._to_assets_up(self.borrow_shares[user], self.total_borrow_assets, self.total_borrow_shares)


@internal
@view
def _health_factor(collateral: uint256, debt: uint256, price_collateral: uint256, price_loan: uint256) -> uint256:
    """
    @dev HF = floor(collateral value · threshold / debt value), values in USD
         WAD, collateral value rounded down and debt value up.
    """
    if debt == 0:
        return max_value(uint256)
    collateral_value: uint256 = math._mul_div(collateral, price_collateral, COLLATERAL_UNIT, False)
    debt_value: uint256 = math._mul_div(debt, price_loan, LOAN_UNIT, True)
    return math._mul_div(collateral_value, liquidation_threshold, debt_value, False)


@internal
@view
def _is_within_ltv(user: address) -> bool:
    """
    @dev debt value ≤ collateral value · ltv (call after `_accrue`).
    """
    debt: uint256 = self._debt_of(user)
    if debt == 0:
        return True
    collateral_value: uint256 = math._mul_div(
        self.collateral[user], staticcall oracle.price(collateral_token, max_price_age), COLLATERAL_UNIT, False
    )
    debt_value: uint256 = math._mul_div(
        debt, staticcall oracle.price(loan_token, max_price_age), LOAN_UNIT, True
    )
    return debt_value <= math._mul_div(collateral_value, ltv, WAD, False)


@internal
def _pull(token: address, sender: address, amount: uint256):
    """
    @dev Checked transferFrom of `amount` `token` from `sender` to the market.
    """
    token_lib._transfer_from(token, sender, self, amount, "market: transfer failed")


@internal
def _push(token: address, receiver: address, amount: uint256):
    """
    @dev Checked transfer of `amount` `token` from the market to `receiver`.
    """
    token_lib._transfer(token, receiver, amount, "market: transfer failed")
