# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title CDP Vault (Maker-Like, One Collateral)
@custom:contract-name CdpVault
@notice Each address owns one position: `ink` collateral and `art`
        normalised debt. Locking collateral opens it; drawing mints DAI; the
        debt is art·rate, where the rate accumulator compounds the stability
        fee every second. A position is safe while
        debt·liquidation_ratio ≤ collateral·price. Unsafe positions are
        liquidated whole: the liquidator burns the debt in DAI and receives
        collateral worth debt·(1 + penalty); what the collateral cannot cover
        is recorded as bad debt. Debt ceiling, dust and a flash mint (whose fee
        is burnt) complete the set. The owner sets ceiling, dust and flash cap.
@dev Invariants:
     - total_art == Σ art, so total debt == Σ art·rate (the accumulator is shared);
     - total_collateral == Σ ink <= collateral balance;
     - every draw, free and give leaves the position safe and its debt 0 or ≥ dust;
     - a draw never lifts total debt above the debt ceiling;
     - `rate` never decreases; DAI supply only changes through draw, repay,
       liquidate and flash mint (which burns what it mints plus the fee).
"""

from ethereum.ercs import IERC20Detailed
from snekmate.auth import ownable
from snekmate.utils import math
from .interfaces import IFlashBorrower
from .interfaces import IMintableToken
from .interfaces import IOracle
from .lib import constants
from .lib import rate_math
from .lib import token_lib

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)

# Fixed-point one for fractions (18 decimals).
WAD: constant(uint256) = constants.WAD
# Fixed-point one for the rate accumulator (27 decimals).
RAY: constant(uint256) = constants.RAY
# Value an ERC-3156 borrower returns from its callback.
CALLBACK_SUCCESS: constant(bytes32) = constants.CALLBACK_SUCCESS

# Collateral token (WETH in the suite).
collateral_token: public(immutable(address))
# The stablecoin this vault mints; the vault must be its minter.
dai: public(immutable(address))
# Collateral price source.
oracle: public(immutable(IOracle))
# Minimum collateral value / debt (WAD, > 1).
liquidation_ratio: public(immutable(uint256))
# Annual stability fee (WAD), continuously compounded.
stability_fee: public(immutable(uint256))
# Per-second rate factor (RAY): 1 + stability_fee / year.
duty: public(immutable(uint256))
# Extra collateral value a liquidator receives, as a fraction of the debt (WAD).
liquidation_penalty: public(immutable(uint256))
# Flash-mint fee as a fraction of the amount (WAD).
flash_fee_rate: public(immutable(uint256))
# Oldest oracle price, in seconds, the vault accepts.
max_price_age: public(immutable(uint256))
# 10^decimals of the collateral token.
COLLATERAL_UNIT: immutable(uint256)

# Cap on total debt (DAI, 18 decimals).
debt_ceiling: public(uint256)
# Smallest non-zero debt a position may carry (DAI).
dust: public(uint256)
# Largest flash mint (DAI).
max_flash: public(uint256)
# Rate accumulator (RAY): debt = art·rate.
rate: public(uint256)
# Time the accumulator was last updated.
rho: public(uint256)
# Σ art over all positions.
total_art: public(uint256)
# Σ ink over all positions.
total_collateral: public(uint256)
# Debt written off by liquidations that ran out of collateral (DAI).
bad_debt: public(uint256)
# Flash-mint fees burnt so far (DAI).
flash_fees: public(uint256)
# Collateral of each position.
ink: public(HashMap[address, uint256])
# Normalised debt of each position.
art: public(HashMap[address, uint256])


event Lock:
    caller: indexed(address)
    owner: indexed(address)
    amount: uint256

event Free:
    owner: indexed(address)
    receiver: indexed(address)
    amount: uint256

event Draw:
    owner: indexed(address)
    receiver: indexed(address)
    amount: uint256
    art: uint256

# Maker's name for a repayment; `Repay` would share a topic with the market's event.
event Wipe:
    caller: indexed(address)
    owner: indexed(address)
    amount: uint256
    art: uint256

event Liquidate:
    liquidator: indexed(address)
    owner: indexed(address)
    debt_paid: uint256
    seized: uint256
    bad_debt: uint256

event Give:
    source: indexed(address)
    destination: indexed(address)
    ink: uint256
    art: uint256

event FlashMint:
    caller: indexed(address)
    receiver: indexed(address)
    amount: uint256
    fee: uint256

event Drip:
    rate: uint256

event SetParameter:
    name: String[16]
    value: uint256


@deploy
def __init__(
    collateral_token_: address,
    dai_: address,
    oracle_: address,
    liquidation_ratio_: uint256,
    stability_fee_: uint256,
    liquidation_penalty_: uint256,
    debt_ceiling_: uint256,
    dust_: uint256,
    max_flash_: uint256,
    flash_fee_rate_: uint256,
    max_price_age_: uint256,
):
    """
    @notice Fractions and annual rates are WAD, DAI amounts 18 decimals.
    @param collateral_token_ Collateral token.
    @param dai_ The stablecoin; the vault must be made its minter.
    @param oracle_ Collateral price source.
    @param liquidation_ratio_ Minimum collateral value / debt (WAD), > 1.
    @param stability_fee_ Annual stability fee (WAD), continuously compounded.
    @param liquidation_penalty_ Liquidator's extra collateral value per debt (WAD), < 1.
    @param debt_ceiling_ Cap on total debt (DAI).
    @param dust_ Smallest non-zero position debt (DAI).
    @param max_flash_ Largest flash mint (DAI).
    @param flash_fee_rate_ Flash-mint fee as a fraction of the amount (WAD), < 1.
    @param max_price_age_ Oldest oracle price accepted, in seconds.
    """
    assert liquidation_ratio_ > WAD, "cdp: invalid liquidation ratio"
    assert liquidation_penalty_ < WAD, "cdp: invalid penalty"
    assert flash_fee_rate_ < WAD, "cdp: invalid flash fee"
    ownable.__init__()
    collateral_token = collateral_token_
    dai = dai_
    oracle = IOracle(oracle_)
    liquidation_ratio = liquidation_ratio_
    stability_fee = stability_fee_
    duty = rate_math._per_second_factor(stability_fee_)
    liquidation_penalty = liquidation_penalty_
    flash_fee_rate = flash_fee_rate_
    max_price_age = max_price_age_
    COLLATERAL_UNIT = 10 ** convert(staticcall IERC20Detailed(collateral_token_).decimals(), uint256)
    self.debt_ceiling = debt_ceiling_
    self.dust = dust_
    self.max_flash = max_flash_
    self.rate = RAY
    self.rho = block.timestamp


# ------------------------------------------------------------- positions ---


@external
def lock(amount: uint256, owner: address):
    """
    @notice Add collateral to `owner`'s position (opening it if new).
    @param amount Collateral units pulled from the caller (> 0).
    @param owner Whose position receives the collateral.
    """
    assert amount > 0, "cdp: zero amount"
    assert owner != empty(address), "cdp: zero address"
    self.ink[owner] += amount
    self.total_collateral += amount
    log Lock(caller=msg.sender, owner=owner, amount=amount)
    token_lib._transfer_from(collateral_token, msg.sender, self, amount, "cdp: transfer failed")


@external
def free(amount: uint256, receiver: address):
    """
    @notice Withdraw collateral from the caller's position, which must stay safe.
    @param amount Collateral units to withdraw (> 0, ≤ the caller's collateral).
    @param receiver Who receives the collateral.
    """
    assert amount > 0, "cdp: zero amount"
    assert amount <= self.ink[msg.sender], "cdp: insufficient collateral"
    self._drip()
    self.ink[msg.sender] -= amount
    self.total_collateral -= amount
    assert self._is_safe(msg.sender, self._price()), "cdp: unsafe position"
    log Free(owner=msg.sender, receiver=receiver, amount=amount)
    token_lib._transfer(collateral_token, receiver, amount, "cdp: transfer failed")


@external
def draw(amount: uint256, receiver: address) -> uint256:
    """
    @notice Mint `amount` DAI against the caller's position.
            art += ceil(amount / rate); the position must stay safe, its debt
            ≥ dust, total debt ≤ ceiling.
    @param amount DAI to mint (> 0).
    @param receiver Who receives the DAI.
    @return Normalised debt added.
    """
    assert amount > 0, "cdp: zero amount"
    self._drip()
    rate: uint256 = self.rate
    dart: uint256 = math._mul_div(amount, RAY, rate, True)
    self.art[msg.sender] += dart
    self.total_art += dart
    assert math._mul_div(self.total_art, rate, RAY, True) <= self.debt_ceiling, "cdp: debt ceiling"
    assert math._mul_div(self.art[msg.sender], rate, RAY, True) >= self.dust, "cdp: dust"
    assert self._is_safe(msg.sender, self._price()), "cdp: unsafe position"
    log Draw(owner=msg.sender, receiver=receiver, amount=amount, art=dart)
    extcall IMintableToken(dai).mint(receiver, amount)
    return dart


@external
def repay(amount: uint256, owner: address) -> uint256:
    """
    @notice Burn the caller's DAI against `owner`'s debt (max_value(uint256):
            all of it). art −= floor(amount / rate); the caller must have
            approved the vault. What remains must be 0 or ≥ dust.
    @param amount DAI to burn, or max_value(uint256) for the whole debt.
    @param owner Whose debt is repaid; the caller pays.
    @return DAI burnt (for a full repayment: the debt, rounded up).
    """
    self._drip()
    rate: uint256 = self.rate
    amount_: uint256 = amount
    dart: uint256 = 0
    if amount == max_value(uint256):
        dart = self.art[owner]
        amount_ = math._mul_div(dart, rate, RAY, True)
    else:
        dart = math._mul_div(amount, RAY, rate, False)
    assert amount_ > 0, "cdp: zero amount"
    assert dart <= self.art[owner], "cdp: repay exceeds debt"
    self.art[owner] -= dart
    self.total_art -= dart
    remaining: uint256 = math._mul_div(self.art[owner], rate, RAY, True)
    assert remaining == 0 or remaining >= self.dust, "cdp: dust"
    log Wipe(caller=msg.sender, owner=owner, amount=amount_, art=dart)
    extcall IMintableToken(dai).burn_from(msg.sender, amount_)
    return amount_


@external
def give(destination: address):
    """
    @notice Move the caller's whole position into `destination`'s, which must
            be safe afterwards (Maker's `give`, merging).
    @param destination Who receives the position (not the caller, not zero).
    """
    assert destination != empty(address), "cdp: zero address"
    assert destination != msg.sender, "cdp: self give"
    self._drip()
    moved_ink: uint256 = self.ink[msg.sender]
    moved_art: uint256 = self.art[msg.sender]
    assert moved_ink > 0 or moved_art > 0, "cdp: no position"
    self.ink[msg.sender] = 0
    self.art[msg.sender] = 0
    self.ink[destination] += moved_ink
    self.art[destination] += moved_art
    assert self._is_safe(destination, self._price()), "cdp: unsafe position"
    log Give(source=msg.sender, destination=destination, ink=moved_ink, art=moved_art)


@external
def liquidate(owner: address) -> (uint256, uint256):
    """
    @notice Close an unsafe position. The caller burns the debt in DAI (with
            an allowance to the vault) and receives
            seized = debt·(1 + penalty) / price collateral. If the collateral
            falls short, all of it is seized for
            paid = ceil(collateral·price / (1 + penalty)) and the rest of the
            debt becomes bad debt.
    @param owner The unsafe position.
    @return DAI paid (burnt from the caller).
    @return Collateral seized and sent to the caller.
    """
    self._drip()
    price: uint256 = self._price()
    assert self.art[owner] > 0 and not self._is_safe(owner, price), "cdp: position safe"
    position_art: uint256 = self.art[owner]
    debt: uint256 = math._mul_div(position_art, self.rate, RAY, True)
    owed: uint256 = math._mul_div(debt, WAD + liquidation_penalty, WAD, True)
    seized: uint256 = math._mul_div(owed, COLLATERAL_UNIT, price, False)
    paid: uint256 = debt
    if seized > self.ink[owner]:
        seized = self.ink[owner]
        value: uint256 = math._mul_div(seized, price, COLLATERAL_UNIT, False)
        paid = min(math._mul_div(value, WAD, WAD + liquidation_penalty, True), debt)
    shortfall: uint256 = debt - paid
    self.ink[owner] -= seized
    self.total_collateral -= seized
    self.art[owner] = 0
    self.total_art -= position_art
    self.bad_debt += shortfall
    log Liquidate(liquidator=msg.sender, owner=owner, debt_paid=paid, seized=seized, bad_debt=shortfall)
    token_lib._transfer(collateral_token, msg.sender, seized, "cdp: transfer failed")
    if paid > 0:
        extcall IMintableToken(dai).burn_from(msg.sender, paid)
    return paid, seized


@external
def drip():
    """
    @notice Bring the rate accumulator up to date (anyone may call).
    """
    self._drip()


# ------------------------------------------------------------ flash mint ---


@external
@reentrant
def flash_mint(receiver: address, amount: uint256, data: Bytes[1024]):
    """
    @notice Mint `amount` DAI to `receiver` for one call; it must leave an
            allowance of amount + fee, fee = ceil(amount·flash_fee_rate), which
            the vault burns.
    @dev `@reentrant` on purpose: the receiver may lock, draw and repay inside
         the callback; each of those takes the lock itself. The vault's
         accounting never reads the DAI supply, and the only write after the
         callback is an increment.
    @param receiver Borrower called back with `on_flash_loan`; leaves an
           allowance of amount + fee, which the vault burns.
    @param amount DAI minted for the call (> 0, ≤ `max_flash`).
    @param data Passed through to the receiver's callback.
    """
    assert amount > 0, "cdp: zero amount"
    assert amount <= self.max_flash, "cdp: flash cap exceeded"
    fee: uint256 = math._mul_div(amount, flash_fee_rate, WAD, True)
    extcall IMintableToken(dai).mint(receiver, amount)
    result: bytes32 = extcall IFlashBorrower(receiver).on_flash_loan(msg.sender, dai, amount, fee, data)
    assert result == CALLBACK_SUCCESS, "cdp: flash callback failed"
    extcall IMintableToken(dai).burn_from(receiver, amount + fee)
    self.flash_fees += fee
    log FlashMint(caller=msg.sender, receiver=receiver, amount=amount, fee=fee)


# ------------------------------------------------------------ parameters ---


@external
def set_debt_ceiling(new_value: uint256):
    """
    @notice Cap on total debt (owner only).
    @param new_value New cap on total debt (DAI).
    """
    ownable._check_owner()
    self.debt_ceiling = new_value
    log SetParameter(name="debt_ceiling", value=new_value)


@external
def set_dust(new_value: uint256):
    """
    @notice Smallest non-zero position debt (owner only).
    @param new_value New smallest non-zero position debt (DAI).
    """
    ownable._check_owner()
    self.dust = new_value
    log SetParameter(name="dust", value=new_value)


@external
def set_max_flash(new_value: uint256):
    """
    @notice Largest flash mint (owner only).
    @param new_value New largest flash mint (DAI).
    """
    ownable._check_owner()
    self.max_flash = new_value
    log SetParameter(name="max_flash", value=new_value)


# ----------------------------------------------------------------- views ---


@external
@view
def current_rate() -> uint256:
    """
    @notice The rate accumulator as of this block (RAY).
    @return Debt per unit of normalised debt (RAY).
    """
    return self._current_rate()


@external
@view
def debt_of(owner: address) -> uint256:
    """
    @notice ceil(art·rate), as of this block (DAI).
    @param owner The position.
    @return Debt in DAI, rounded up.
    """
    return math._mul_div(self.art[owner], self._current_rate(), RAY, True)


@external
@view
def total_debt() -> uint256:
    """
    @notice ceil(total_art·rate), as of this block (DAI).
    @return Total debt in DAI, rounded up.
    """
    return math._mul_div(self.total_art, self._current_rate(), RAY, True)


@external
@view
def collateral_ratio(owner: address) -> uint256:
    """
    @notice collateral value / debt (WAD), as of this block; max_value(uint256) without debt.
    @param owner The position.
    @return Collateral ratio (WAD).
    """
    debt: uint256 = math._mul_div(self.art[owner], self._current_rate(), RAY, True)
    if debt == 0:
        return max_value(uint256)
    value: uint256 = math._mul_div(self.ink[owner], self._price(), COLLATERAL_UNIT, False)
    return math._mul_div(value, WAD, debt, False)


@external
@view
def is_safe(owner: address) -> bool:
    """
    @notice Whether `owner`'s position is safe, as of this block.
    @param owner The position.
    @return True without debt or if collateral value ≥ debt · liquidation ratio.
    """
    return self._is_safe_at(self.ink[owner], self.art[owner], self._current_rate(), self._price())


@external
@view
def flash_fee(amount: uint256) -> uint256:
    """
    @notice ceil(amount·flash_fee_rate)
    @param amount DAI a flash mint would mint.
    @return Fee owed on top of `amount`.
    """
    return math._mul_div(amount, flash_fee_rate, WAD, True)


# -------------------------------------------------------------- internal ---


@internal
def _drip():
    """
    @dev rate ← rate·duty^(now − rho), rounded half up at each product.
    """
    if block.timestamp == self.rho:
        return
    self.rate = self._current_rate()
    self.rho = block.timestamp
    log Drip(rate=self.rate)


@internal
@view
def _current_rate() -> uint256:
    elapsed: uint256 = block.timestamp - self.rho
    if elapsed == 0:
        return self.rate
    return math._mul_div(self.rate, rate_math._rpow(duty, elapsed), RAY, False)


@internal
@view
def _price() -> uint256:
    return staticcall oracle.price(collateral_token, max_price_age)


@internal
@view
def _is_safe(owner: address, price: uint256) -> bool:
    """
    @dev Safety of `owner` at the stored rate (call after `_drip`).
    """
    return self._is_safe_at(self.ink[owner], self.art[owner], self.rate, price)


@internal
@view
def _is_safe_at(ink: uint256, art: uint256, rate: uint256, price: uint256) -> bool:
    """
    @dev ceil(ceil(art·rate)·liquidation_ratio) ≤ floor(ink·price): debt rounded
         up, collateral value down.
    """
    if art == 0:
        return True
    debt: uint256 = math._mul_div(art, rate, RAY, True)
    value: uint256 = math._mul_div(ink, price, COLLATERAL_UNIT, False)
    return math._mul_div(debt, liquidation_ratio, WAD, True) <= value
