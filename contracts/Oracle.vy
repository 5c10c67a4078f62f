# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Keeper-Fed Price Oracle With an Optional Delay
@custom:contract-name Oracle
@notice One USD price per asset (18 decimals, per whole token), set by
        keepers the owner appoints. With `delay == 0` a new price takes effect
        at once. With `delay > 0` it works like Maker's OSM: a keeper's price is
        queued and takes effect `delay` seconds later, and the next one can only
        be queued once the previous has taken effect. Consumers ask with their
        own staleness bound: `price(asset, max_age)` rejects a price that took
        effect more than `max_age` seconds ago.
@dev Invariants:
     - only keepers change prices, and a price is never zero;
     - the effective price's time never decreases;
     - in delayed mode a price never takes effect before `delay` seconds after
       it was reported.
"""

from snekmate.auth import ownable

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)


struct Feed:
    price: uint256       # price in effect since `updated_at` (until `next_at`)
    updated_at: uint256  # when `price` took effect
    next_price: uint256  # queued price, 0 if none
    next_at: uint256     # when `next_price` takes effect


# Seconds a reported price waits before it takes effect (0: immediate).
delay: public(uint256)
# Addresses allowed to report prices.
is_keeper: public(HashMap[address, bool])
# Price state per asset.
feeds: HashMap[address, Feed]


event KeeperChanged:
    keeper: indexed(address)
    status: bool

event DelayChanged:
    delay: uint256

event PriceReported:
    asset: indexed(address)
    price: uint256
    effective_at: uint256


@deploy
def __init__(delay_: uint256):
    """
    @param delay_ Seconds between a report and its effect (0: immediate).
    """
    ownable.__init__()
    self.delay = delay_
    self.is_keeper[msg.sender] = True
    log KeeperChanged(keeper=msg.sender, status=True)


@external
def set_keeper(keeper: address, status: bool):
    """
    @notice Appoint or remove a keeper (owner only).
    """
    ownable._check_owner()
    assert keeper != empty(address), "oracle: zero address"
    self.is_keeper[keeper] = status
    log KeeperChanged(keeper=keeper, status=status)


@external
def set_delay(delay_: uint256):
    """
    @notice Change the delay for reports made from now on (owner only).
    """
    ownable._check_owner()
    self.delay = delay_
    log DelayChanged(delay=delay_)


@external
def set_price(asset: address, price_: uint256):
    """
    @notice Report a price (keepers only): in effect now, or after `delay`.
    """
    assert self.is_keeper[msg.sender], "oracle: not a keeper"
    assert price_ > 0, "oracle: zero price"
    feed: Feed = self._promoted(self.feeds[asset])
    effective_at: uint256 = block.timestamp
    if self.delay == 0:
        feed = Feed(price=price_, updated_at=block.timestamp, next_price=0, next_at=0)
    else:
        assert feed.next_price == 0, "oracle: hop not passed"
        effective_at = block.timestamp + self.delay
        feed.next_price = price_
        feed.next_at = effective_at
    self.feeds[asset] = feed
    log PriceReported(asset=asset, price=price_, effective_at=effective_at)


@external
@view
def price(asset: address, max_age: uint256) -> uint256:
    """
    @notice The price in effect, if it took effect at most `max_age` seconds ago.
    """
    feed: Feed = self._promoted(self.feeds[asset])
    assert feed.price > 0, "oracle: no price"
    assert block.timestamp - feed.updated_at <= max_age, "oracle: stale price"
    return feed.price


@external
@view
def latest(asset: address) -> (uint256, uint256):
    """
    @notice (price in effect, when it took effect), unchecked; (0, 0) if none.
    """
    feed: Feed = self._promoted(self.feeds[asset])
    return feed.price, feed.updated_at


@external
@view
def pending(asset: address) -> (uint256, uint256):
    """
    @notice (queued price, when it takes effect); (0, 0) if none is queued.
    """
    feed: Feed = self._promoted(self.feeds[asset])
    return feed.next_price, feed.next_at


@internal
@view
def _promoted(feed: Feed) -> Feed:
    """
    @dev The feed with a queued price that is due moved into effect.
    """
    if feed.next_price != 0 and block.timestamp >= feed.next_at:
        return Feed(price=feed.next_price, updated_at=feed.next_at, next_price=0, next_at=0)
    return feed
