"""``testbed up``: the live devnet — N chains over JSON-RPC with the relayer in real time.

What runs, all in one process and one event loop (:class:`chains.DevnetServer`):

- a :class:`~chains.Devnet` on a real-time clock (genesis at the wall-clock time of the
  first start unless a config file fixes ``start_time``), each chain on its own port;
- a Messenger and a TokenBridge on every chain (:func:`bridge.deploy_bridge`, with two
  chains or more) and the :class:`bridge.Relayer`, its store in SQLite under the state
  directory. The server's clock ticker fires the relayer's scheduled scans and relays
  under the server's lock — the same loop as ``Relayer.run`` (which calls
  ``clock.run_due()`` on a poll), but serialised with the requests, so the chains never
  see a relay and a request at once;
- with ``--deploy-suite`` the DeFi suite on every chain (:func:`scenarios.deploy_suite`).

The bridge admin methods are served on every chain's port (see
:func:`bridge.admin_methods`).
On SIGINT/SIGTERM the server drains, the relayer stops (its SQLite store is durable at
every step), and with ``--state FILE`` the whole devnet — every chain, the clock, the
deployed addresses and a copy of the relayer's store — is written to FILE, from which the
next ``testbed up --state FILE`` resumes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bridge import admin_methods
from chains import ConfigError, Devnet, load_state, save_state
from chains.rpc import DEFAULT_HOST, DevnetServer
from scenarios.world import deploy_suite

if TYPE_CHECKING:
    from bridge import BridgeDeployment, Relayer

__all__ = ["MANIFEST_VERSION", "LiveDevnet", "UpOptions"]

logger = logging.getLogger(__name__)

MANIFEST_VERSION: Final = 1
DEFAULT_LATENCY: Final = "interop"
_STORE_NAME: Final = "relayer.sqlite"


@dataclass(frozen=True)
class UpOptions:
    """The options of ``testbed up`` (see ``testbed up --help``)."""

    chains: int = 3
    config: Path | None = None
    host: str = DEFAULT_HOST
    port: int = 8545
    block_time: float | None = None
    latency: str = DEFAULT_LATENCY
    deploy_suite: bool = False
    state: Path | None = None
    seed: int = 0
    state_dir: Path = Path(".testbed")
    manifest: Path | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.chains <= 64:
            raise ConfigError(f"--chains must be between 1 and 64, got {self.chains}")
        if self.block_time is not None and not self.block_time >= 1:
            raise ConfigError(f"--block-time must be at least 1 second, got {self.block_time}")

    @property
    def manifest_path(self) -> Path:
        return self.manifest if self.manifest is not None else self.state_dir / "manifest.json"


# ----------------------------------------------------------------------------------------
# bridge admin methods
# ----------------------------------------------------------------------------------------
# ----------------------------------------------------------------------------------------
# the live devnet
# ----------------------------------------------------------------------------------------
class LiveDevnet:
    """Everything ``testbed up`` runs; :meth:`build` makes or resumes it, :meth:`serve` runs it."""

    def __init__(
        self,
        options: UpOptions,
        devnet: Devnet,
        *,
        deployment: BridgeDeployment | None,
        relayer: Relayer | None,
        suites: dict[int, dict[str, str]],
        is_resumed: bool,
    ) -> None:
        self.options = options
        self.devnet = devnet
        self.deployment = deployment
        self.relayer = relayer
        self.suites = suites
        self.is_resumed = is_resumed
        self.server = DevnetServer(
            devnet,
            host=options.host,
            port=options.port,
            methods=admin_methods(relayer) if relayer is not None else None,
            empty_blocks=True,
        )

    @property
    def store_path(self) -> Path:
        return self.options.state_dir / _STORE_NAME

    # -- building --------------------------------------------------------------------
    @classmethod
    def build(
        cls, options: UpOptions, *, progress: Callable[[str], None] = logger.info
    ) -> LiveDevnet:
        """A fresh devnet from the options, or the one in ``--state FILE`` if it exists."""
        options.state_dir.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {}
        if options.state is not None and options.state.exists():
            devnet, extra = load_state(options.state, real_time=True)
            progress(f"resumed {options.state} (chains, clock, deployments, relayer store)")
            is_resumed = True
        else:
            devnet = _fresh_devnet(options)
            is_resumed = False
        deployment = None
        relayer = None
        if len(devnet.chains) >= 2:
            deployment = _bridge(devnet, extra.get("bridge"), progress)
            relayer = _relayer(devnet, deployment, options, extra.get("relayer"), progress)
        suites = {int(k): v for k, v in extra.get("suites", {}).items()}
        if options.deploy_suite and not suites:
            for chain in devnet.chains:
                progress(f"deploying the DeFi suite on {chain.name}")
                suite = deploy_suite(chain)
                suites[chain.chain_id] = {k: c.address for k, c in suite.contracts.items()}
        return cls(
            options,
            devnet,
            deployment=deployment,
            relayer=relayer,
            suites=suites,
            is_resumed=is_resumed,
        )

    # -- describing ------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """Chains, accounts, deployed addresses and the relayer's store (JSON-ready)."""
        endpoints = {e.chain.chain_id: e for e in self.server.endpoints}
        chains = []
        for chain in self.devnet.chains:
            endpoint = endpoints.get(chain.chain_id)
            chains.append(
                {
                    "name": chain.name,
                    "chain_id": chain.chain_id,
                    "rpc_url": endpoint.url if endpoint else None,
                    "ws_url": endpoint.ws_url if endpoint else None,
                    "mining": chain.config.mining,
                    "block_time": chain.config.block_time,
                }
            )
        first = self.devnet.chains[0]
        out: dict[str, Any] = {
            "version": MANIFEST_VERSION,
            "seed": self.devnet.seed,
            "chains": chains,
            "accounts": [
                {"address": a.address, "private_key": "0x" + bytes(a.key).hex()}
                for a in first.accounts
            ],
            "bridge": None,
            "suites": {str(k): v for k, v in self.suites.items()},
            "relayer": None,
            "state_file": str(self.options.state) if self.options.state else None,
        }
        if self.deployment is not None and self.relayer is not None:
            out["bridge"] = {
                "messengers": {str(k): c.address for k, c in self.deployment.messengers.items()},
                "token_bridges": {str(k): c.address for k, c in self.deployment.bridges.items()},
                "attesters": self.deployment.attesters,
                "threshold": self.deployment.threshold,
            }
            out["relayer"] = {
                "account": self.relayer.account,
                "latency": self.options.latency,
                "store": str(self.store_path),
                "admin_methods": sorted(admin_methods(self.relayer)),
            }
        return out

    def write_manifest(self) -> Path:
        path = self.options.manifest_path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.manifest(), indent=2) + "\n")
        os.replace(tmp, path)
        return path

    # -- running ---------------------------------------------------------------------
    async def serve(self, *, on_ready: Callable[[], None] = lambda: None) -> None:
        """Serve until SIGINT/SIGTERM (or :meth:`DevnetServer.stop`), then persist.

        Run it in the thread that built this object: the relayer's SQLite connection
        belongs to that thread.
        """
        self.server.bind()
        self.write_manifest()
        loop = asyncio.get_running_loop()
        # Signals reach the main thread only; elsewhere (tests) the owner calls stop().
        signals = (
            (signal.SIGINT, signal.SIGTERM)
            if threading.current_thread() is threading.main_thread()
            else ()
        )
        for sig in signals:
            loop.add_signal_handler(sig, self.server.stop)
        if self.relayer is not None:
            self.relayer.start()
        on_ready()
        try:
            await self.server.serve()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            self.shutdown()

    def shutdown(self) -> None:
        """Stop the relayer and, with ``--state``, save the whole devnet."""
        with self.server.lock:
            if self.relayer is not None:
                self.relayer.stop()
            if self.options.state is not None:
                save_state(self.devnet, self.options.state, extra=self._extra())
            if self.relayer is not None:
                self.relayer.store.close()

    def _extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"suites": {str(k): v for k, v in self.suites.items()}}
        if self.deployment is not None:
            extra["bridge"] = {
                "messengers": {str(k): c.address for k, c in self.deployment.messengers.items()},
                "bridges": {str(k): c.address for k, c in self.deployment.bridges.items()},
                "attester_keys": ["0x" + k.hex() for k in self.deployment.attester_keys],
                "threshold": self.deployment.threshold,
                "owners": {str(k): v for k, v in self.deployment.owners.items()},
            }
        if self.relayer is not None:
            copy = self.relayer.store.snapshot()
            try:
                # SQL text, not the raw pages: a WAL file's header does not load in memory.
                sql = "\n".join(copy.iterdump())
            finally:
                copy.close()
            extra["relayer"] = {"sql": sql, "paused": self.relayer.is_paused}
        return extra


def _fresh_devnet(options: UpOptions) -> Devnet:
    chain_defaults: dict[str, Any] = {}
    if options.block_time is not None:
        chain_defaults = {"mining": "interval", "block_time": float(options.block_time)}
    if options.config is not None:
        try:
            data = tomllib.loads(options.config.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read devnet config {str(options.config)!r}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{options.config}: not valid TOML: {exc}") from exc
        data.setdefault("start_time", int(time.time()))
        data.setdefault("seed", options.seed)
        merged = {**data, **chain_defaults, "real_time": True}
        return Devnet.from_mapping(merged, source=str(options.config))
    return Devnet(
        options.chains,
        seed=options.seed,
        real_time=True,
        # Live: genesis at the wall-clock time (anvil does the same), so wallets and
        # scripts that compute deadlines from time.time() agree with block.timestamp.
        start_time=int(time.time()),
        **chain_defaults,
    )


def _bridge(
    devnet: Devnet, saved: Mapping[str, Any] | None, progress: Callable[[str], None]
) -> BridgeDeployment:
    from bridge import BRIDGE_CONTRACTS_DIR, BridgeDeployment, deploy_bridge

    if saved is None:
        progress("deploying the bridge (Messenger + TokenBridge on every chain)")
        return deploy_bridge(devnet)
    chains = {c.chain_id: c for c in devnet.chains}
    try:
        return BridgeDeployment(
            devnet=devnet,
            chains=chains,
            messengers={
                int(k): chains[int(k)].at(a, BRIDGE_CONTRACTS_DIR / "Messenger.vy")
                for k, a in saved["messengers"].items()
            },
            bridges={
                int(k): chains[int(k)].at(a, BRIDGE_CONTRACTS_DIR / "TokenBridge.vy")
                for k, a in saved["bridges"].items()
            },
            attester_keys=tuple(bytes.fromhex(k[2:]) for k in saved["attester_keys"]),
            threshold=int(saved["threshold"]),
            owners={int(k): v for k, v in saved["owners"].items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"the state file's bridge section is damaged: {exc!r}") from exc


def _relayer(
    devnet: Devnet,
    deployment: BridgeDeployment,
    options: UpOptions,
    saved: Mapping[str, Any] | None,
    progress: Callable[[str], None],
) -> Relayer:
    from bridge import MessageStore, Relayer, get_preset

    get_preset(options.latency)  # a clear error listing the presets
    path = options.state_dir / _STORE_NAME
    # The store belongs to the chains it observed: a fresh devnet starts a fresh store,
    # a resumed one gets the copy saved beside its chains.
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = MessageStore(path)
    if saved is not None:
        snapshot = sqlite3.connect(":memory:")
        try:
            snapshot.executescript(saved["sql"])
            store.restore(snapshot)
        except (KeyError, TypeError, sqlite3.Error) as exc:
            raise ConfigError(f"the state file's relayer store is damaged: {exc!r}") from exc
        finally:
            snapshot.close()
        progress(f"relayer store restored: {store.count()} message(s)")
    relayer = Relayer(devnet, deployment, store=store, latency=options.latency)
    if saved is not None and saved.get("paused"):
        relayer.pause()
    return relayer
