"""``testbed_sendBundle``: a cross-chain bundle (:meth:`chains.Devnet.bundle`) over JSON-RPC.

A chain's method table knows only its chain; the bundle spans the devnet, so the method is
built from the devnet (:func:`bundle_methods`) and served on every chain's port by
:class:`chains.DevnetServer`. Params: ``[legs, options]``, where ``legs`` is a list of
``{"chainId": quantity, "raw": signed transaction}`` (chain by id, the leg's raw signed
transaction, as for ``eth_sendRawTransaction``) and ``options`` an optional
``{"atomicExecution": bool}`` (default ``true``). The answer: ``{"timestamp", "blocks":
{chainId: number}, "transactions": [{"chainId", "hash", "status", "error"}]}``; an atomic
bundle whose leg fails answers error ``3`` (execution reverted) naming the leg, with
``data = {"leg", "chainId", "reason"}``, and every chain unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from chains._bundle import BundleError, BundleReverted
from chains.rpc._wire import (
    EXECUTION_REVERTED,
    RpcError,
    check_object,
    invalid,
    parse_data,
    parse_quantity,
)

if TYPE_CHECKING:
    from chains._devnet import Devnet

__all__ = ["bundle_methods"]

_LEG_FIELDS: Final = frozenset({"chainId", "raw"})
_OPTION_FIELDS: Final = frozenset({"atomicExecution"})


def bundle_methods(devnet: Devnet) -> dict[str, Callable[..., Any]]:
    """``{"testbed_sendBundle": ...}`` for ``devnet`` (see the module docstring)."""

    def send_bundle(legs: Any, options: Any = None) -> dict[str, Any]:
        if not isinstance(legs, list):
            raise invalid("legs", f"must be a list of {{chainId, raw}} objects, got {legs!r}")
        parsed = []
        for i, leg in enumerate(legs):
            obj = check_object(leg, f"legs[{i}]", _LEG_FIELDS)
            if "chainId" not in obj or "raw" not in obj:
                raise invalid(f"legs[{i}]", "needs both chainId and raw")
            chain_id = parse_quantity(obj["chainId"], f"legs[{i}].chainId", limit=2**64 - 1)
            parsed.append((chain_id, parse_data(obj["raw"], f"legs[{i}].raw")))
        is_atomic = True
        if options is not None:
            opts = check_object(options, "options", _OPTION_FIELDS)
            if "atomicExecution" in opts:
                if not isinstance(opts["atomicExecution"], bool):
                    raise invalid("options.atomicExecution", "must be true or false")
                is_atomic = opts["atomicExecution"]
        try:
            result = devnet.bundle(parsed, atomic_execution=is_atomic)
        except BundleError as exc:
            raise invalid("legs", str(exc)) from exc
        except BundleReverted as exc:
            chain_id = parsed[exc.leg][0]
            raise RpcError(
                EXECUTION_REVERTED,
                str(exc),
                {"leg": exc.leg, "chainId": hex(chain_id), "reason": exc.reason},
            ) from exc
        ids = {c.name: c.chain_id for c in devnet.chains}
        return {
            "timestamp": hex(result.timestamp),
            "blocks": {hex(ids[name]): hex(number) for name, number in result.blocks},
            "transactions": [
                {
                    "chainId": hex(chain_id),
                    "hash": None if r is None else "0x" + bytes(r.tx_hash).hex(),
                    "status": None if r is None else hex(r.status),
                    "error": error,
                }
                for (chain_id, _), r, error in zip(
                    parsed, result.receipts, result.errors, strict=True
                )
            ],
        }

    return {"testbed_sendBundle": send_bundle}
