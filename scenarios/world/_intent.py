"""The intent layout: ERC-7683 settlers on every chain of the bridged layout and a solver's
inventory.

:func:`build_intent` runs once inside :meth:`World.build`, after the bridged layout:

- an ``OriginSettler`` and a ``DestinationSettler`` (``contracts/``) on every chain, each
  on that chain's ``Messenger`` of the existing bridge deployment; every origin settler
  registers the destination settler of every other chain and the reverse, so an order
  opened on any chain can be filled on any other and its proofs (settle, refund) travel
  through the attested bridge and its relayer like any message;
- the solver's inventory (:data:`SOLVER_INVENTORY_USD` of each asset on each chain where the
  asset has a form, valued at the suite's t0 prices): USDC and WETH minted on A (their home)
  and bridged to B (and C); in the 3-chain layout DAI drawn from C's vault against WETH
  collateral (every DAI is backed by vault debt) and bridged to A and B. Fixed amounts, so
  the same build gives the same bytes; a run caps what the solver may use with the cost
  model's ``solver_inventory_usd``;
- approvals: the user approves every origin settler for every token form on its chain, the
  solver every destination settler and every bridge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from chains import Chain, Contract, Devnet
from scenarios.world._layout import BridgedLayout
from scenarios.world._suite import CONTRACTS_DIR, Suite, _units
from scenarios.world._venues import Roles

__all__ = ["PROOF_WINDOW", "SOLVER_INVENTORY_USD", "IntentLayout", "build_intent"]

logger = logging.getLogger(__name__)

_MAX_UINT256 = 2**256 - 1
#: Inventory the solver holds of each asset on each chain, USD at the suite's prices.
SOLVER_INVENTORY_USD = 2_000_000
#: Seconds a settle or refund proof may travel (the bridge's hop deadline: 14 days).
PROOF_WINDOW = 14 * 86_400
#: Index of the solver among the devnet's dev accounts (0-4 are the World's roles).
SOLVER_ACCOUNT = 5
_SEED_DEADLINE = 3_600


@dataclass
class IntentLayout:
    """Handles of the intent layout: settlers by chain name, the solver's address, each
    asset's token form by chain (as in :class:`BridgedLayout`)."""

    solver: str
    origin: dict[str, Contract]
    destination: dict[str, Contract]
    tokens: dict[str, dict[str, Contract]] = field(default_factory=dict)

    def token(self, asset: str, chain: str) -> Contract:
        return self.tokens[asset][chain]


def build_intent(devnet: Devnet, suite: Suite, roles: Roles, layout: BridgedLayout) -> IntentLayout:
    """Deploy the settlers, seed the solver (see the module docstring)."""
    deployer = roles.deployer
    solver = devnet.chains[0].accounts[SOLVER_ACCOUNT].address
    deployment, relayer = layout.deployment, layout.relayer
    chains = layout.chains
    origin: dict[str, Contract] = {}
    destination: dict[str, Contract] = {}
    for chain in chains:
        messenger = deployment.messenger(chain).address
        origin[chain.name] = chain.deploy(
            CONTRACTS_DIR / "OriginSettler.vy", messenger, sender=deployer
        )
        destination[chain.name] = chain.deploy(
            CONTRACTS_DIR / "DestinationSettler.vy", messenger, PROOF_WINDOW, sender=deployer
        )
    for chain in chains:
        for other in chains:
            if other is chain:
                continue
            origin[chain.name].set_destination_settler(
                other.chain_id, destination[other.name].address, sender=deployer
            )
            destination[chain.name].set_origin_settler(
                other.chain_id, origin[other.name].address, sender=deployer
            )
    tokens = {"USDC": dict(layout.usdc), "WETH": dict(layout.weth), "DAI": dict(layout.dai)}
    cfg = suite.config
    a = chains[0]

    def bridge_out(chain: Chain, token: Contract, amount: int, dest: Chain) -> None:
        bridge = deployment.bridge(chain)
        token.approve(bridge.address, _MAX_UINT256, sender=solver)
        bridge.bridge_out(
            token.address,
            amount,
            dest.chain_id,
            solver,
            int(devnet.now) + _SEED_DEADLINE,
            sender=solver,
        )

    usdc_each = _units(SOLVER_INVENTORY_USD, 6)
    weth_each = _units(Decimal(SOLVER_INVENTORY_USD) / Decimal(str(cfg.weth_price)), 18)
    others = chains[1:]
    suite.fund(solver, usdc=usdc_each * len(chains), weth=weth_each * len(chains))
    # Inventory goes wherever the token has a form: every chain in the standard layouts; a
    # general layout wraps a token only on the chains whose venues use it.
    for chain in others:
        if chain.name in layout.usdc:
            bridge_out(a, suite.usdc, usdc_each, chain)
        if chain.name in layout.weth:
            bridge_out(a, suite.weth, weth_each, chain)
    cdp = getattr(layout, "cdp", None)
    if cdp is not None and cdp.chain is not a and layout.dai:
        # DAI is at home on the vault's chain: the solver draws its DAI there and sends it
        # to every chain with a DAI form. The draw stays under the vault's debt ceiling (a
        # general layout may have drawn more seed DAI for pools on several chains).
        c = layout.cdp.chain
        holders = [chain for chain in chains if chain.name in layout.dai]
        dai_each = _units(SOLVER_INVENTORY_USD, 18)
        room = cdp.vault.debt_ceiling() - cdp.vault.total_debt()
        if dai_each * len(holders) > room:
            dai_each = room * 9 // 10 // len(holders)
        dai_total = dai_each * len(holders)
        collateral = _units(
            Decimal(dai_total)
            / Decimal(10**18)
            * Decimal(str(cfg.seed_collateral_ratio))
            / Decimal(str(cfg.weth_price)),
            18,
            round_up=True,
        )
        suite.fund(solver, weth=collateral)
        bridge_out(a, suite.weth, collateral, c)
        _deliver(devnet, relayer)
        layout.cdp.weth.approve(layout.cdp.vault.address, _MAX_UINT256, sender=solver)
        layout.cdp.vault.lock(collateral, solver, sender=solver)
        layout.cdp.vault.draw(dai_total, solver, sender=solver)
        for chain in holders:
            if chain is not c:
                bridge_out(c, layout.cdp.dai, dai_each, chain)
    _deliver(devnet, relayer)
    for chain in chains:
        for forms in tokens.values():
            token = forms.get(chain.name)
            if token is None:
                continue
            token.approve(destination[chain.name].address, _MAX_UINT256, sender=solver)
            token.approve(deployment.bridge(chain).address, _MAX_UINT256, sender=solver)
            token.approve(origin[chain.name].address, _MAX_UINT256, sender=roles.user)
    logger.info("intent layout: settlers on %d chains, solver %s", len(chains), solver)
    return IntentLayout(solver=solver, origin=origin, destination=destination, tokens=tokens)


def _deliver(devnet: Devnet, relayer: object) -> None:
    """Let the relayer (same-block latency at build time) deliver everything sent."""
    devnet.advance(1.0)
    if not relayer.is_quiescent:  # type: ignore[attr-defined]  # pragma: no cover
        raise RuntimeError("intent layout: the relayer left build transfers undelivered")
