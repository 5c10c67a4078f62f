"""The one table of web3.py conformance tests that do not pass on this devnet, and why.

:data:`DESELECTED` lists the tests not run, each with its reason.

Keys: ``test_name`` (every transport), ``test_name[param-id]`` (one parametrisation) or
``transport:test_name`` (one transport: ``in_process``, ``http``, ``async_http``,
``websocket``). Each is marked ``xfail(strict=True)`` by the suite's conftest: when a
gap closes, the test passes, the run fails, and the line must go.

"served by devnet-pool": the method or behaviour arrives with the transaction pool, dev
methods and eth methods of issue 15's other half; those lines go when it merges.
"""

from __future__ import annotations

#: Tests that need a sent transaction to stay pending: the conftest turns automine off
#: for them (web3.py's eth-tester wiring does the same with ``disable_auto_mine``).
MANUAL_MINING = frozenset(
    {
        "test_eth_get_transaction_receipt_unmined",
        "test_eth_wait_for_transaction_receipt_unmined",
        "test_eth_replace_transaction_legacy",
        "test_eth_replace_transaction",
        "test_eth_replace_transaction_underpriced",
        "test_eth_replace_transaction_incorrect_nonce",
        "test_eth_replace_transaction_gas_price_too_low",
        "test_eth_replace_transaction_gas_price_defaulting_minimum",
        "test_eth_replace_transaction_gas_price_defaulting_strategy_higher",
        "test_eth_replace_transaction_gas_price_defaulting_strategy_lower",
        "test_eth_modify_transaction_legacy",
        "test_eth_modify_transaction",
        "test_async_eth_get_transaction_receipt_unmined",
        "test_async_eth_wait_for_transaction_receipt_unmined",
        "test_async_eth_replace_transaction_legacy",
        "test_async_eth_replace_transaction",
        "test_async_eth_replace_transaction_underpriced",
        "test_async_eth_replace_transaction_incorrect_nonce",
        "test_async_eth_replace_transaction_gas_price_too_low",
        "test_async_eth_replace_transaction_gas_price_defaulting_minimum",
        "test_async_eth_replace_transaction_gas_price_defaulting_strategy_higher",
        "test_async_eth_replace_transaction_gas_price_defaulting_strategy_lower",
    }
)

_POOL = "served by devnet-pool: "
_PENDING = _POOL + "evm_setAutomine and the transaction pool (the transaction must stay pending)"
_ENS = (
    "ENS name normalisation raises inside web3 8.0.0 with the installed pyunormalize 18 "
    "(AttributeError before any request is sent): the client's environment, not the node"
)

GAPS: dict[str, str] = {
    # -- eth methods the devnet-pool branch adds ----------------------------------------
    "test_eth_sign": _POOL + "eth_sign",
    "test_async_eth_sign": _POOL + "eth_sign",
    "test_eth_sign_typed_data": _POOL + "eth_signTypedData (web3.py sends it without _v4)",
    "test_invalid_eth_sign_typed_data": _POOL + "eth_signTypedData",
    "test_eth_sign_transaction": _POOL + "eth_signTransaction",
    "test_eth_sign_transaction_hex_fees": _POOL + "eth_signTransaction",
    "test_eth_sign_transaction_legacy": _POOL + "eth_signTransaction",
    "test_async_eth_sign_transaction": _POOL + "eth_signTransaction",
    "test_async_eth_sign_transaction_hex_fees": _POOL + "eth_signTransaction",
    "test_async_eth_sign_transaction_legacy": _POOL + "eth_signTransaction",
    "test_eth_create_access_list": _POOL + "eth_createAccessList",
    "test_eth_simulate_v1": _POOL + "eth_simulateV1",
    "test_eth_get_raw_transaction": _POOL + "eth_getRawTransactionByHash",
    "test_eth_get_raw_transaction_raises_error": _POOL + "eth_getRawTransactionByHash",
    "test_eth_get_raw_transaction_by_block": _POOL + "eth_getRawTransactionByBlock*AndIndex",
    "test_eth_get_raw_transaction_by_block_raises_error": _POOL
    + "eth_getRawTransactionByBlock*AndIndex",
    "test_eth_call_with_override_code": _POOL + "eth_call state overrides",
    "test_eth_call_with_override_param_type_check": _POOL + "eth_call state overrides",
    "test_eth_estimate_gas_with_override_param_type_check": _POOL
    + "eth_estimateGas state overrides",
    "test_eth_getBlockByHash_pending": _POOL + "a pending block (latest+1, null hash)",
    "test_eth_getBlockByNumber_pending": _POOL + "a pending block (latest+1, null hash)",
    "test_eth_getBlockReceipts_hash": _POOL + "a bare block hash as block parameter (EIP-1898)",
    "test_eth_getBlockReceipts_not_found": _POOL
    + "a bare block hash as block parameter (EIP-1898)",
    "test_sign_authorization_send_raw_and_send_set_code_transactions": _POOL
    + "authorizationList in eth_sendTransaction (EIP-7702)",
    "test_async_sign_authorization_send_raw_and_send_set_code_transactions": _POOL
    + "authorizationList in eth_sendTransaction (EIP-7702)",
    # -- the transaction pool: these run with automine off (MANUAL_MINING) ---------------
    "test_eth_get_transaction_receipt_unmined": _PENDING,
    "test_eth_wait_for_transaction_receipt_unmined": _PENDING,
    "test_eth_replace_transaction": _PENDING,
    "test_eth_replace_transaction_legacy": _PENDING,
    "test_eth_replace_transaction_underpriced": _PENDING + ", underpriced replacement",
    "test_eth_replace_transaction_gas_price_defaulting_minimum": _PENDING,
    "test_eth_replace_transaction_gas_price_defaulting_strategy_higher": _PENDING,
    "test_eth_replace_transaction_gas_price_defaulting_strategy_lower": _PENDING,
    "test_eth_modify_transaction": _PENDING,
    "test_eth_modify_transaction_legacy": _PENDING,
    "test_async_eth_get_transaction_receipt_unmined": _PENDING,
    "test_async_eth_replace_transaction": _PENDING,
    "test_async_eth_replace_transaction_legacy": _PENDING,
    "test_async_eth_replace_transaction_underpriced": _PENDING + ", underpriced replacement",
    "test_async_eth_replace_transaction_gas_price_defaulting_minimum": _PENDING,
    "test_async_eth_replace_transaction_gas_price_defaulting_strategy_higher": _PENDING,
    "test_async_eth_replace_transaction_gas_price_defaulting_strategy_lower": _PENDING,
    # -- the client's environment ---------------------------------------------------------
    "test_eth_get_balance_with_ens_name": _ENS,
    "test_eth_get_code_ens_address": _ENS,
    "test_eth_get_storage_at_ens_name": _ENS,
    "test_eth_get_transaction_count_ens_name": _ENS,
    "test_solidity_keccak_ens": _ENS,
    "test_eth_sign_ens_names": _ENS,
    "test_eth_sign_transaction_ens_names": _ENS,
    "test_async_eth_get_storage_at_ens_name": _ENS,
    "test_async_eth_sign_ens_names": _ENS,
    "test_async_eth_sign_transaction_ens_names": _ENS,
}


#: Tests not run at all, with the reason: their outcome does not depend on the node, so
#: neither "pass" nor a strict "xfail" would be true every time.
DESELECTED: dict[str, str] = {
    "async_http:test_eth_call_offchain_lookup_tries_next_url"
    "_for_non_4xx_error_status_and_tests_POST": (
        "racy in the harness: the test's mock of aiohttp's ClientSession.post also captures "
        "AsyncHTTPProvider's own JSON-RPC posts and sends them from a throwaway session, "
        "which the garbage collector may close before the body is read (RuntimeError: "
        "Connection closed) or not; it runs over the other transports"
    ),
}


def transport_of(module_stem: str) -> str:
    """``test_suite_http`` -> ``http``."""
    return module_stem.removeprefix("test_suite_")
