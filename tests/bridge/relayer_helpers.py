"""Helpers for the relayer tests (a plain module): starting relayers that are always
stopped afterwards, bridging tokens, and reading the bridge's state in one value."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bridge_helpers import World
from hypothesis import settings

from bridge import MessageStore, Relayer
from chains import Chain

MAX_UINT256 = 2**256 - 1


class Relayers:
    """Starts relayers for one test and stops every one of them at the end (a stopped
    relayer unsubscribes from the chains, so later tests on the session chains are
    untouched)."""

    def __init__(self, world: World, tmp_path: Path) -> None:
        self.world = world
        self.tmp_path = tmp_path
        self.started: list[Relayer] = []

    def store_path(self, name: str = "relayer") -> Path:
        return self.tmp_path / f"{name}.sqlite"

    def start(self, *, store: MessageStore | str | None = None, **kwargs: Any) -> Relayer:
        """A started relayer on the world's deployment (file store ``relayer.sqlite`` by
        default), sending from the ``relayer`` role."""
        if store is None or isinstance(store, str):
            store = MessageStore(self.store_path(store or "relayer"))
        kwargs.setdefault("account", self.world.roles.relayer)
        relayer = Relayer(self.world.devnet, self.world.deployment, store=store, **kwargs)
        self.started.append(relayer)
        return relayer.start()

    def stop_all(self) -> None:
        for relayer in self.started:
            relayer.stop()
            self.world.devnet.detach(relayer)


@contextmanager
def relayers_for(world: World, tmp_path: Path) -> Iterator[Relayers]:
    pool = Relayers(world, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def bridge_usdc(
    world: World,
    dest: Chain,
    amount: int,
    *,
    deadline: int = MAX_UINT256,
    source: Chain | None = None,
) -> str:
    """Bridge ``amount`` USDC from ``source`` (default A, the home chain) to ``dest`` for
    the user; return the message id as ``0x`` hex. From a remote chain the user's wrapped
    USDC is burned (the bridge is approved first)."""
    source = source or world.a
    bridge = world.bridge(source)
    user = world.roles.user
    if source is world.a:
        token = world.usdc
    else:
        token = world.wusdc[source.chain_id]
        token.approve(bridge.address, MAX_UINT256, sender=user)
    message_id = bridge.bridge_out(
        token.address, amount, dest.chain_id, user, deadline, sender=user
    )
    return "0x" + bytes(message_id).hex()


def wrapped_supply(world: World) -> int:
    """Σ wrapped USDC supply on B and C."""
    return sum(token.totalSupply() for token in world.wusdc.values())


def bridge_state(world: World) -> dict[str, Any]:
    """The bridge's observable state: balances, locked, supplies and every message's
    on-chain status (what "ends in the same state" compares)."""
    user = world.roles.user
    ids = [
        "0x" + bytes(e.args["id"]).hex()
        for chain in (world.a, world.b, world.c)
        for e in world.messenger(chain).get_events("MessageSent")
    ]
    status = {}
    for message_id in ids:
        raw = bytes.fromhex(message_id[2:])
        status[message_id] = tuple(
            int(world.messenger(chain).status(raw)) for chain in (world.a, world.b, world.c)
        ) + tuple(
            bool(world.messenger(chain).refunded(raw)) for chain in (world.a, world.b, world.c)
        )
    return {
        "user_usdc": world.usdc.balanceOf(user),
        "user_wrapped": {cid: t.balanceOf(user) for cid, t in world.wusdc.items()},
        "locked": world.bridge(world.a).locked(world.usdc.address),
        "supply": wrapped_supply(world),
        "status": status,
        "handled": {cid: t.handled() for cid, t in world.targets.items()},
    }


def hypothesis_profile() -> str:
    """The loaded hypothesis profile: ``dev``, ``ci`` or ``slow`` (``dev`` for others)."""
    getter = getattr(settings, "get_current_profile_name", None)
    name = getter() if getter is not None else settings._current_profile
    return name if name in ("dev", "ci", "slow") else "dev"
