"""Message signing with the dev keys: ``eth_sign``, ``personal_sign``, ``eth_signTypedData_v4``.

All three sign with the chain's key for the account (dev accounts and keys added with
``Chain.add_account``); an impersonated account has no key, so it is ``-32000``, as in
anvil. Signatures are ``r . s . v`` with ``v`` 27 or 28, hex.
"""

from __future__ import annotations

import json
from typing import Any

from eth_account.messages import _hash_eip191_message, encode_defunct, encode_typed_data

from chains.rpc._dispatch import MethodTable, rpc_method
from chains.rpc._wire import invalid, parse_address, parse_data


class SignMethods(MethodTable):
    """EIP-191 personal messages and EIP-712 typed data."""

    def _sign(self, address: bytes, signable: Any) -> str:
        return "0x" + self.chain.sign_hash(address, _hash_eip191_message(signable)).hex()

    @rpc_method("eth_sign")
    def eth_sign(self, address: Any, message: Any) -> str:
        """Sign ``keccak("\\x19Ethereum Signed Message:\\n" + len + message)`` (geth's eth_sign)."""
        account = parse_address(address, "address")
        return self._sign(account, encode_defunct(parse_data(message, "message")))

    @rpc_method("personal_sign")
    def personal_sign(self, message: Any, address: Any) -> str:
        """eth_sign with the parameters the other way round (message first)."""
        account = parse_address(address, "address")
        return self._sign(account, encode_defunct(parse_data(message, "message")))

    @rpc_method("eth_signTypedData_v4", "eth_signTypedData")
    def sign_typed_data(self, address: Any, typed_data: Any) -> str:
        """EIP-712: the typed data as an object or its JSON text (what wallets send)."""
        account = parse_address(address, "address")
        data = typed_data
        if isinstance(typed_data, str):
            try:
                data = json.loads(typed_data)
            except ValueError as exc:
                raise invalid("typed_data", f"is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise invalid("typed_data", "must be an EIP-712 object")
        try:
            signable = encode_typed_data(full_message=data)
        except (KeyError, TypeError, ValueError) as exc:
            raise invalid("typed_data", f"is not valid EIP-712 data: {exc}") from exc
        return self._sign(account, signable)
