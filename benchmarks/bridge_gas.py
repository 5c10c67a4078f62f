"""Gas of the bridge's hot paths: ``python benchmarks/bridge_gas.py``.

Gas is deterministic (same seed, same figures), so one run suffices. Each path runs twice:
the first pays for storage slots written for the first time (a sender's first nonce, the
bridge's first balance), the second is the steady state.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge import Message, deploy_bridge
from chains import Chain, Contract, Devnet, contracts_dir

NOOP = "@external\ndef f(x: uint256):\n    pass\n"


def main() -> None:
    devnet = Devnet(n_chains=2, seed=0)
    deployment = deploy_bridge(devnet)  # 2-of-3
    a, b = devnet.chains
    user = a.accounts[1].address
    usdc = a.deploy(contracts_dir() / "Token.vy", "USD Coin", "USDC", 6)
    wusdc = deployment.add_token(a, usdc)[b.chain_id]
    usdc.mint(user, 10**12)
    usdc.approve(deployment.bridge(a).address, 2**256 - 1, sender=user)
    wusdc.approve(deployment.bridge(b).address, 2**256 - 1, sender=user)
    noop = b.deploy_source(NOOP, name="Noop")
    rows: list[tuple[str, int, int]] = []

    def twice(label: str, run: Callable[[], int]) -> None:
        first, second = run(), run()
        rows.append((label, first, second))

    sent: list[Message] = []

    def send() -> int:
        receipt = deployment.messenger(a).send_message.transact(
            b.chain_id, noop.address, noop.f.encode(1), a.timestamp + 3_600, sender=user
        )
        sent.append(deployment.message_from_receipt(a, receipt))
        return receipt.gas_used

    def relay_k(k: int) -> int:
        message = sent.pop(0)
        sigs = deployment.attest_relay(message, deployment.attester_keys[:k])
        return deployment.relay(message, signatures=sigs).gas_used

    twice("send_message (64-byte payload)", send)
    twice("relay_message 2-of-3, no-op target", lambda: relay_k(2))
    send()
    send()
    twice("relay_message 3-of-3, no-op target", lambda: relay_k(3))

    outs: list[Message] = []

    def bridge_out(token: Contract, source: Chain, dest: Chain) -> int:
        receipt = deployment.bridge(source).bridge_out.transact(
            token.address, 10**6, dest.chain_id, user, source.timestamp + 3_600, sender=user
        )
        outs.append(deployment.message_from_receipt(source, receipt))
        return receipt.gas_used

    def relay_out() -> int:
        return deployment.relay(outs.pop(0)).gas_used

    twice("bridge_out, lock (home token)", lambda: bridge_out(usdc, a, b))
    twice("relay → receive_tokens, mint (2-of-3)", relay_out)
    twice("bridge_out, burn (wrapped token)", lambda: bridge_out(wusdc, b, a))
    twice("relay → receive_tokens, release (2-of-3)", relay_out)

    width = max(len(label) for label, _, _ in rows)
    print(f"{'path':<{width}}  {'first':>8}  {'steady':>8}")
    for label, first, second in rows:
        print(f"{label:<{width}}  {first:>8,}  {second:>8,}")


if __name__ == "__main__":
    main()
