"""The in-process web3 provider: wiring, batches, and how failures reach the user."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.exceptions import MethodUnavailable, Web3RPCError
from web3.types import RPCEndpoint

from chains import Chain, Devnet, InProcessProvider


def test_chain_w3_is_bound_in_process(chain: Chain) -> None:
    w3 = chain.w3
    assert isinstance(w3.provider, InProcessProvider)
    assert w3.provider.rpc is chain.rpc
    assert w3 is chain.w3
    assert w3.is_connected()
    assert w3.eth.chain_id == chain.chain_id
    assert w3.eth.default_account == chain.default_sender
    assert w3.eth.block_number == chain.block_number


def test_batch_requests(chain: Chain, trader: LocalAccount) -> None:
    w3 = chain.w3
    with w3.batch_requests() as batch:
        batch.add(w3.eth.get_block(0))
        batch.add(w3.eth.get_balance(trader.address))
        batch.add(w3.eth.chain_id)
        genesis, balance, chain_id = batch.execute()
    assert genesis["hash"] == chain.get_block(0).hash
    assert balance == chain.get_balance(trader.address)
    assert chain_id == chain.chain_id


def test_node_errors_become_web3_exceptions(chain: Chain) -> None:
    w3 = chain.w3
    with pytest.raises(MethodUnavailable, match="the method eth_nope does not exist"):
        w3.manager.request_blocking(RPCEndpoint("eth_nope"), [])
    with pytest.raises(Web3RPCError, match="invalid params: address"):
        w3.manager.request_blocking(RPCEndpoint("eth_getBalance"), ["0x12", "latest"])


def test_bugs_surface_as_python_exceptions(
    chain: Chain, trader: LocalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(chain, "get_balance", broken)
    with pytest.raises(RuntimeError, match="boom"):
        chain.w3.eth.get_balance(trader.address)


def test_each_chain_has_its_own_web3(devnet: Devnet) -> None:
    first, second = devnet.chains[:2]
    assert first.w3 is not second.w3
    assert (first.w3.eth.chain_id, second.w3.eth.chain_id) == (first.chain_id, second.chain_id)
