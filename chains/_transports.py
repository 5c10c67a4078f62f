"""The hook through which the transports above the core attach to a :class:`~chains.Chain`.

The core never imports :mod:`chains.rpc`; instead ``chains.rpc`` registers, when it is
imported, a factory for each transport a chain offers (``"rpc"``: the JSON-RPC method
table, ``"w3"``: an in-process ``web3.Web3``). :attr:`Chain.rpc` and :attr:`Chain.w3`
build theirs on first use through :func:`build_transport`. ``import chains`` imports
``chains.rpc``, so users always find both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from chains._errors import ChainError

__all__ = ["TRANSPORT_KINDS", "TransportFactory", "build_transport", "register_transport"]

#: The transports a chain offers.
TRANSPORT_KINDS: Final = ("rpc", "w3")

#: Builds one chain's transport from the chain (typed loosely: the core sits below this hook).
TransportFactory = Callable[[Any], Any]

_FACTORIES: dict[str, TransportFactory] = {}


def register_transport(kind: str, factory: TransportFactory) -> None:
    """Make ``factory(chain)`` the builder of every chain's ``kind`` transport."""
    if kind not in TRANSPORT_KINDS:
        raise ValueError(f"unknown transport kind {kind!r}; expected one of {TRANSPORT_KINDS}")
    _FACTORIES[kind] = factory


def build_transport(kind: str, chain: Any) -> Any:
    """Build ``chain``'s ``kind`` transport with the registered factory."""
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise ChainError(f"no {kind!r} transport is registered: import chains.rpc first")
    return factory(chain)
