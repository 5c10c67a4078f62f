"""The pool's methods: ``txpool_*`` (geth's shapes) and ``anvil_drop*``."""

from __future__ import annotations

from typing import Any

from chains.rpc._dispatch import MethodTable, rpc_method
from chains.rpc._wire import format_transaction, hex_address, parse_hash


class PoolMethods(MethodTable):
    """What waits to be mined: the pending block's transactions and the queue."""

    @rpc_method("txpool_status")
    def txpool_status(self) -> dict[str, str]:
        pending, queued = self.chain.txpool.status()
        return {"pending": hex(pending), "queued": hex(queued)}

    @rpc_method("txpool_content")
    def txpool_content(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{"pending"|"queued": {sender: {"<nonce>": transaction}}}``, as geth."""
        return {
            kind: {
                sender.lower(): {
                    str(nonce): format_transaction(
                        tx, block=None, index=None, effective_gas_price=None
                    )
                    for nonce, tx in sorted(txs.items())
                }
                for sender, txs in sorted(by_sender.items())
            }
            for kind, by_sender in self.chain.txpool.content().items()
        }

    @rpc_method("txpool_inspect")
    def txpool_inspect(self) -> dict[str, dict[str, dict[str, str]]]:
        """geth's one-line summaries: ``"0xto: 1 wei + 21000 gas × 1000000000 wei"``."""
        return {
            kind: {
                sender.lower(): {str(nonce): _summary(tx) for nonce, tx in sorted(txs.items())}
                for sender, txs in sorted(by_sender.items())
            }
            for kind, by_sender in self.chain.txpool.content().items()
        }

    @rpc_method("anvil_dropTransaction", "hardhat_dropTransaction")
    def drop_transaction(self, tx_hash: Any) -> str | None:
        """Remove a waiting transaction; its hash, or null if the pool did not have it."""
        wanted = parse_hash(tx_hash, "tx_hash")
        return "0x" + wanted.hex() if self.chain.drop_transaction(wanted) else None

    @rpc_method("anvil_dropAllTransactions", "hardhat_dropAllTransactions")
    def drop_all_transactions(self) -> None:
        self.chain.drop_all_transactions()


def _summary(tx: Any) -> str:
    to = hex_address(bytes(tx.to)) if tx.to else None
    head = f"{to}:" if to else "contract creation:"
    return f"{head} {tx.value} wei + {tx.gas} gas × {tx.max_fee_per_gas} wei"
