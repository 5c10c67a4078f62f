"""Contract handles: ABI-encoded calls and transactions, decoded return values and events.

``handle.fn(*args)`` calls a view/pure function (``eth_call`` on the pending state) and
transacts a state-changing one, returning the decoded result either way;
``handle.fn.call`` / ``handle.fn.transact`` / ``handle.fn.estimate_gas`` are explicit.
Overloads (Vyper default arguments produce them) are chosen by argument count.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError, ParseError
from eth_abi.grammar import ABIType, TupleType
from eth_abi.grammar import parse as parse_abi_type
from eth_utils import keccak, to_checksum_address

from chains._types import Event, Log, Receipt

__all__ = ["AbiRegistry", "Contract", "ContractFunction", "ContractHost", "abi_type"]


def abi_type(param: dict[str, Any]) -> str:
    """The canonical type string of an ABI parameter (tuples expanded)."""
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", []))
        return f"({inner}){kind[5:]}"
    return kind


def _normalize(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return value
    if isinstance(value, list | tuple):
        return type(value)(_normalize(v) for v in value)
    return value


@functools.lru_cache(maxsize=4096)
def _checksum_text(address: str) -> str:
    """``to_checksum_address`` of an address eth_abi decoded (always a ``0x`` hex string),
    memoised: a few contracts' and accounts' addresses recur in every log and result."""
    return str(to_checksum_address(address))


def _prettify(types: Sequence[str], values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for kind, value in zip(types, values, strict=True):
        if kind == "address":
            out.append(_checksum_text(value))
        elif kind == "address[]":
            out.append([_checksum_text(v) for v in value])
        else:
            out.append(value)
    return out


# -- static words: the ABI's head-only types, encoded and decoded without eth_abi ------------
#
# eth_abi builds an encoder or decoder object per call and validates through several
# layers; a read's arguments and results are mostly a few uint256s and addresses. For the
# types below a value's word is computed here when eth_abi would surely accept the value and
# give that word (or the value): anything else (another type, a value out of range, an
# unusual spelling, padding that is not clean, extra or missing bytes) goes to eth_abi, with
# its checks and its errors. ``tests/chains/test_contract.py`` compares both on random
# values and words.


@functools.lru_cache(maxsize=4096)
def _address_word(value: str | bytes) -> bytes:
    """eth_abi's word of an address argument, memoised (only accepted values are kept)."""
    return encode(["address"], [value])


@functools.lru_cache(maxsize=4096)
def _checksum_word(word: bytes) -> str:
    return str(to_checksum_address(word[12:]))


_ZERO_PAD = bytes(12)
_FALSE, _TRUE = bytes(32), bytes(31) + b"\x01"


def _int_bits(kind: str, prefix: str) -> int | None:
    digits = kind[len(prefix) :] or "256"
    if not digits.isdigit() or digits[0] == "0":
        return None
    bits = int(digits)
    return bits if bits % 8 == 0 and 8 <= bits <= 256 else None


@functools.lru_cache(maxsize=1024)
def _static_codec(types: tuple[str, ...]) -> tuple[tuple[str, int], ...] | None:
    """(kind, bound) per type when every type is a static word type handled here."""
    out = []
    for kind in types:
        if kind in ("address", "bool", "bytes32"):
            out.append((kind, 0))
        elif kind.startswith("uint") and (bits := _int_bits(kind, "uint")) is not None:
            out.append(("uint", 1 << bits))
        elif kind.startswith("int") and (bits := _int_bits(kind, "int")) is not None:
            out.append(("int", 1 << (bits - 1)))
        else:
            return None
    return tuple(out)


def _encode_static(codec: tuple[tuple[str, int], ...], args: Sequence[Any]) -> bytes | None:
    """The head words of ``args``, or ``None`` to leave them to eth_abi."""
    if len(args) != len(codec):
        return None
    words = []
    for (kind, bound), value in zip(codec, args, strict=True):
        cls = value.__class__
        if kind == "uint":
            if cls is not int or not 0 <= value < bound:
                return None
            words.append(value.to_bytes(32, "big"))
        elif kind == "address":
            if cls is not str and cls is not bytes:
                return None
            try:
                words.append(_address_word(value))
            except (EncodingError, TypeError, ValueError):
                return None
        elif kind == "int":
            if cls is not int or not -bound <= value < bound:
                return None
            words.append(value.to_bytes(32, "big", signed=True))
        elif kind == "bool":
            if cls is not bool:
                return None
            words.append(_TRUE if value else _FALSE)
        else:  # bytes32
            if cls is not bytes or len(value) != 32:
                return None
            words.append(value)
    return b"".join(words)


def _decode_static(codec: tuple[tuple[str, int], ...], data: bytes) -> list[Any] | None:
    """The values of exactly ``len(codec)`` clean words, or ``None`` to leave it to eth_abi.

    Addresses come out checksummed (as ``_prettify`` spells eth_abi's)."""
    if len(data) != 32 * len(codec):
        return None
    out: list[Any] = []
    for i, (kind, bound) in enumerate(codec):
        word = data[32 * i : 32 * i + 32]
        if kind == "uint":
            value = int.from_bytes(word, "big")
            if value >= bound:
                return None
            out.append(value)
        elif kind == "address":
            if word[:12] != _ZERO_PAD:
                return None
            out.append(_checksum_word(bytes(word)))
        elif kind == "int":
            value = int.from_bytes(word, "big", signed=True)
            if not -bound <= value < bound:
                return None
            out.append(value)
        elif kind == "bool":
            if word != _FALSE and word != _TRUE:
                return None
            out.append(word == _TRUE)
        else:  # bytes32
            out.append(bytes(word))
    return out


# -- dynamic arguments: bytes, T[] and tuples around the static words ----------------------
#
# A call's arguments in the ABI's standard layout, written here when each value is of a
# kind eth_abi surely takes as it is (exactly ``bytes``, a ``list`` or ``tuple`` of the
# right length, a static word :func:`_encode_static` writes); the layout of given values
# is unique, so the bytes are eth_abi's. Anything else (``string``, fixed-size arrays,
# other classes) goes to eth_abi.

#: A type as :func:`_encode_node` reads it: ``(tag, part, is_dynamic)`` with tag "word"
#: (part: a one-type static codec), "bytes", "array" (part: the element's node) or
#: "tuple" (part: the components' nodes).
_Node = tuple[str, Any, bool]


@functools.lru_cache(maxsize=1024)
def _abi_node(kind: str) -> _Node | None:
    """The node of a type string, or ``None`` if a part of it is left to eth_abi."""
    try:
        parsed = parse_abi_type(kind)
    except ParseError:
        return None  # eth_abi gives the error
    return _parsed_node(parsed)


def _parsed_node(parsed: ABIType) -> _Node | None:
    if parsed.arrlist:
        if parsed.arrlist[-1]:  # a fixed-size array: eth_abi's
            return None
        element = _parsed_node(parsed.item_type)
        return None if element is None else ("array", element, True)
    if isinstance(parsed, TupleType):
        nodes = [_parsed_node(component) for component in parsed.components]
        if not nodes or any(node is None for node in nodes):
            return None
        return ("tuple", tuple(nodes), any(node[2] for node in nodes if node is not None))
    kind = parsed.to_type_str()
    if kind == "bytes":
        return ("bytes", None, True)
    codec = _static_codec((kind,))
    return None if codec is None else ("word", codec, False)


@functools.lru_cache(maxsize=1024)
def _abi_nodes(types: tuple[str, ...]) -> tuple[_Node, ...] | None:
    nodes = [_abi_node(kind) for kind in types]
    return None if any(node is None for node in nodes) else tuple(nodes)  # type: ignore[arg-type]


def _encode_node(node: _Node, value: Any) -> bytes | None:
    """The standard encoding of ``value`` as ``node``, or ``None`` to leave it to eth_abi."""
    tag, part, _ = node
    if tag == "word":
        return _encode_static(part, (value,))
    if tag == "bytes":
        if value.__class__ is not bytes:
            return None
        size = len(value)
        return size.to_bytes(32, "big") + value + bytes(-size % 32)
    if value.__class__ is not list and value.__class__ is not tuple:
        return None
    if tag == "array":
        body = _encode_sequence((part,) * len(value), value)
        return None if body is None else len(value).to_bytes(32, "big") + body
    return _encode_sequence(part, value)


def _encode_sequence(nodes: Sequence[_Node], values: Sequence[Any]) -> bytes | None:
    """Heads then tails: a static value in place, a dynamic one as the offset of its tail."""
    if len(values) != len(nodes):
        return None
    encoded = []
    for node, value in zip(nodes, values, strict=True):
        data = _encode_node(node, value)
        if data is None:
            return None
        encoded.append(data)
    offset = sum(32 if node[2] else len(data) for node, data in zip(nodes, encoded, strict=True))
    heads, tails = [], []
    for node, data in zip(nodes, encoded, strict=True):
        if node[2]:
            heads.append(offset.to_bytes(32, "big"))
            tails.append(data)
            offset += len(data)
        else:
            heads.append(data)
    return b"".join(heads) + b"".join(tails)


def _decode_canonical(codec: tuple[tuple[str, int], ...], data: bytes) -> list[Any] | None:
    """The values of ``data`` if it is exactly the standard encoding of static words (as
    :func:`_decode_static` reads them) and ``bytes`` values (``("bytes", 0)`` in ``codec``):
    each offset pointing right after the previous tail, each tail zero-padded, nothing
    after the last one. ``None`` for anything else: it goes to eth_abi, which decodes the
    standard encoding of values back to those values (and may accept other layouts)."""
    end = 32 * len(codec)
    if len(data) < end:
        return None
    static: list[tuple[str, int]] = []
    words: list[bytes] = []
    tails: list[bytes] = []
    for i, (kind, bound) in enumerate(codec):
        word = data[32 * i : 32 * i + 32]
        if kind != "bytes":
            static.append((kind, bound))
            words.append(word)
            continue
        if int.from_bytes(word, "big") != end:
            return None
        size = int.from_bytes(data[end : end + 32], "big")
        padded = end + 32 + -(-size // 32) * 32
        if len(data) < padded or any(data[end + 32 + size : padded]):
            return None
        tails.append(data[end + 32 : end + 32 + size])
        end = padded
    if end != len(data):
        return None
    values = _decode_static(tuple(static), b"".join(words))
    if values is None:
        return None
    heads, rest = iter(values), iter(tails)
    return [next(rest) if kind == "bytes" else next(heads) for kind, _ in codec]


@dataclass(frozen=True)
class _EventPlan:
    """How :func:`_decode_event_fast` reads one event ABI: its inputs in order (name, and
    the index of its topic or ``None`` for a data field), each indexed input's static codec
    (``None``: the topic itself, the hash of a dynamic value) and the data fields' codec."""

    name: str
    inputs: tuple[tuple[str, int | None], ...]
    topics: tuple[tuple[tuple[str, int], ...] | None, ...]
    data: tuple[tuple[str, int], ...]

    @classmethod
    def from_abi(cls, item: dict[str, Any]) -> _EventPlan | None:
        """The plan of an event ABI, or ``None`` if an input is of a type not read here
        (or has no name): such events are decoded by :func:`_decode_event` only."""
        inputs: list[tuple[str, int | None]] = []
        topics: list[tuple[tuple[str, int], ...] | None] = []
        data: list[tuple[str, int]] = []
        for p in item.get("inputs", []):
            kind = abi_type(p)
            if "name" not in p:
                return None
            codec = _static_codec((kind,))
            if p.get("indexed"):
                inputs.append((p["name"], len(topics)))
                if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                    topics.append(None)
                elif codec is not None:
                    topics.append(codec)
                else:
                    return None
            else:
                inputs.append((p["name"], None))
                if kind == "bytes":
                    data.append(("bytes", 0))
                elif codec is not None:
                    data.extend(codec)
                else:
                    return None
        return cls(item["name"], tuple(inputs), tuple(topics), tuple(data))


def _decode_event_fast(plan: _EventPlan, log: Log) -> Event | None:
    """:func:`_decode_event`'s event for a log whose topics are clean words and whose data
    is the standard encoding, or ``None`` to leave the log to :func:`_decode_event`."""
    topics, data = log.topics, log.data
    if len(topics) != len(plan.topics) + 1 or data.__class__ is not bytes:
        return None
    fields = _decode_canonical(plan.data, data)
    if fields is None:
        return None
    topic_values: list[Any] = []
    for codec, topic in zip(plan.topics, topics[1:], strict=True):
        if codec is None:
            topic_values.append(topic)
            continue
        if topic.__class__ is not bytes:
            return None
        value = _decode_static(codec, topic)
        if value is None:
            return None
        topic_values.append(value[0])
    plain = iter(fields)
    args = {
        name: next(plain) if topic is None else topic_values[topic] for name, topic in plan.inputs
    }
    return Event(name=plan.name, args=args, address=log.address, log_index=log.log_index)


@dataclass(frozen=True)
class _Method:
    name: str
    inputs: tuple[str, ...]
    input_names: tuple[str, ...]
    outputs: tuple[str, ...]
    selector: bytes
    mutability: str

    @classmethod
    def from_abi(cls, item: dict[str, Any]) -> _Method:
        inputs = tuple(abi_type(p) for p in item.get("inputs", []))
        signature = f"{item['name']}({','.join(inputs)})"
        return cls(
            name=item["name"],
            inputs=inputs,
            input_names=tuple(p.get("name", "") for p in item.get("inputs", [])),
            outputs=tuple(abi_type(p) for p in item.get("outputs", [])),
            selector=keccak(text=signature)[:4],
            mutability=item.get("stateMutability", "nonpayable"),
        )

    @property
    def is_view(self) -> bool:
        return self.mutability in ("view", "pure")

    def encode_args(self, args: Sequence[Any]) -> bytes:
        codec = _static_codec(self.inputs)
        if codec is not None:
            words = _encode_static(codec, args)
            if words is not None:
                return self.selector + words
        else:
            nodes = _abi_nodes(self.inputs)
            if nodes is not None:
                body = _encode_sequence(nodes, args)
                if body is not None:
                    return self.selector + body
        try:
            return self.selector + encode(list(self.inputs), [_normalize(a) for a in args])
        except (EncodingError, TypeError, ValueError, OverflowError) as exc:
            raise TypeError(
                f"bad arguments for {self.name}({', '.join(self.inputs)}): {args!r}: {exc}"
            ) from exc

    def decode_output(self, data: bytes) -> Any:
        if not self.outputs:
            return None
        codec = _static_codec(self.outputs)
        if codec is not None:
            fast = _decode_static(codec, data)
            if fast is not None:
                return fast[0] if len(fast) == 1 else tuple(fast)
        try:
            values = decode(list(self.outputs), data)
        except (DecodingError, OverflowError) as exc:
            raise ValueError(
                f"{self.name} returned {len(data)} bytes that do not decode as "
                f"({', '.join(self.outputs)}): 0x{data.hex()}"
            ) from exc
        pretty = _prettify(self.outputs, values)
        return pretty[0] if len(pretty) == 1 else tuple(pretty)


class AbiRegistry:
    """Event ABIs seen by a chain, keyed by topic0, so any receipt can be decoded."""

    def __init__(self) -> None:
        #: per topic0, each event ABI with that signature and its fast plan (or ``None``)
        self._events: dict[bytes, list[tuple[dict[str, Any], _EventPlan | None]]] = {}
        self._contracts: dict[str, tuple[str, list[dict[str, Any]]]] = {}

    def register_contract(self, address: str, name: str, abi: Sequence[dict[str, Any]]) -> None:
        """Remember a contract handle's name and ABI by address (for call traces)."""
        self._contracts[to_checksum_address(address)] = (name, list(abi))
        self.register(abi)

    def find_contract(self, address: str) -> tuple[str, list[dict[str, Any]]] | None:
        """The name and ABI a handle at ``address`` was made with, or ``None``."""
        return self._contracts.get(to_checksum_address(address))

    def register(self, abi: Sequence[dict[str, Any]]) -> None:
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            types = ",".join(abi_type(p) for p in item.get("inputs", []))
            topic = keccak(text=f"{item['name']}({types})")
            known = self._events.setdefault(topic, [])
            if all(item != seen for seen, _ in known):
                known.append((item, _EventPlan.from_abi(item)))

    def decode_log(self, log: Log) -> Event | None:
        """Decode ``log`` against the registered ABIs, or ``None`` if none fits.

        A log in the standard encoding is read directly (:func:`_decode_event_fast`);
        anything else, or an event with other types, goes through eth_abi
        (:func:`_decode_event`), which gives the same event for the former
        (``tests/chains/test_contract_events.py`` compares both on random logs)."""
        if not log.topics:
            return None
        for item, plan in self._events.get(log.topics[0], ()):
            event = _decode_event_fast(plan, log) if plan is not None else None
            if event is None:
                event = _decode_event(item, log)
            if event is not None:
                return event
        return None

    def decode_logs(self, logs: Sequence[Log]) -> tuple[Event, ...]:
        return tuple(e for e in (self.decode_log(lg) for lg in logs) if e is not None)


def _decode_event(item: dict[str, Any], log: Log) -> Event | None:
    inputs = item.get("inputs", [])
    indexed = [p for p in inputs if p.get("indexed")]
    plain = [p for p in inputs if not p.get("indexed")]
    if len(indexed) != len(log.topics) - 1:
        return None
    try:
        data_values = decode([abi_type(p) for p in plain], log.data)
        args: dict[str, Any] = {}
        data_iter = iter(_prettify([abi_type(p) for p in plain], data_values))
        topic_iter = iter(log.topics[1:])
        for p in inputs:
            kind = abi_type(p)
            if p.get("indexed"):
                topic = next(topic_iter)
                if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                    args[p["name"]] = topic  # only the hash is in the topic
                else:
                    (value,) = decode([kind], topic)
                    args[p["name"]] = _prettify([kind], [value])[0]
            else:
                args[p["name"]] = next(data_iter)
    except (DecodingError, OverflowError, StopIteration):
        return None
    return Event(name=item["name"], args=args, address=log.address, log_index=log.log_index)


class ContractHost(Protocol):
    """What a contract handle needs from the chain it lives on; :class:`~chains.Chain` is one.

    A protocol rather than an import of ``Chain``: the chain creates handles, so the handle
    module stays below it. ``Contract[Chain]`` (what ``chain.deploy``/``chain.at`` return)
    keeps ``handle.chain`` fully typed for users.
    """

    name: str
    default_sender: str
    abi_registry: AbiRegistry

    def call(self, *, to: str, data: bytes, sender: str, value: int, block: int | str) -> bytes: ...

    def transact(
        self,
        *,
        sender: str | None,
        to: str,
        data: bytes,
        value: int,
        gas: int | None,
        max_fee_per_gas: int | None,
        max_priority_fee_per_gas: int | None,
    ) -> Receipt: ...

    def decorate(self, receipt: Receipt, *, return_value: Any) -> Receipt: ...

    def estimate_gas(self, *, to: str, data: bytes, sender: str, value: int) -> int: ...

    def get_logs(self, *, from_block: int, to_block: int | None, address: str) -> list[Log]: ...


#: The chain type a handle is bound to (``Contract[Chain]`` for the devnet's chains).
HostT = TypeVar("HostT", bound=ContractHost)


class ContractFunction:
    """One ABI function of a deployed contract (all its overloads)."""

    def __init__(self, contract: Contract[Any], methods: list[_Method]) -> None:
        self.contract = contract
        self.name = methods[0].name
        self._methods = {len(m.inputs): m for m in methods}

    def __repr__(self) -> str:
        return f"<function {self.name} of {self.contract!r}>"

    def _pick(self, args: Sequence[Any]) -> _Method:
        try:
            return self._methods[len(args)]
        except KeyError:
            counts = " or ".join(str(n) for n in sorted(self._methods))
            raise TypeError(f"{self.name} takes {counts} arguments, got {len(args)}") from None

    @property
    def is_view(self) -> bool:
        return all(m.is_view for m in self._methods.values())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        method = self._pick(args)
        if method.is_view:
            return self.call(*args, **kwargs)
        return self.transact(*args, **kwargs).return_value

    def call(
        self, *args: Any, sender: str | None = None, value: int = 0, block: int | str = "pending"
    ) -> Any:
        """Execute without committing and return the decoded result."""
        method = self._pick(args)
        chain = self.contract.chain
        out = chain.call(
            to=self.contract.address,
            data=method.encode_args(args),
            sender=sender if sender is not None else chain.default_sender,
            value=value,
            block=block,
        )
        return method.decode_output(out)

    def transact(
        self,
        *args: Any,
        sender: str | None = None,
        value: int = 0,
        gas: int | None = None,
        max_fee_per_gas: int | None = None,
        max_priority_fee_per_gas: int | None = None,
    ) -> Receipt:
        """Send a transaction; return the receipt with ``return_value`` and ``events``."""
        method = self._pick(args)
        chain = self.contract.chain
        receipt = chain.transact(
            sender=sender,
            to=self.contract.address,
            data=method.encode_args(args),
            value=value,
            gas=gas,
            max_fee_per_gas=max_fee_per_gas,
            max_priority_fee_per_gas=max_priority_fee_per_gas,
        )
        receipt = chain.decorate(receipt, return_value=method.decode_output(receipt.output))
        return receipt

    def estimate_gas(self, *args: Any, sender: str | None = None, value: int = 0) -> int:
        """Gas limit this call needs as a transaction."""
        method = self._pick(args)
        chain = self.contract.chain
        return chain.estimate_gas(
            to=self.contract.address,
            data=method.encode_args(args),
            sender=sender if sender is not None else chain.default_sender,
            value=value,
        )

    def encode(self, *args: Any) -> bytes:
        """Calldata for ``args`` (selector included)."""
        return self._pick(args).encode_args(args)


class Contract(Generic[HostT]):
    """A deployed contract on one chain, with an attribute per ABI function.

    The handle's own attributes (``chain``, ``address``, ``abi``, ``contract_name``,
    ``deploy_receipt``, ``functions``, ``get_events``) take precedence; every other
    attribute is an ABI function, so an ERC-20's ``name()`` is ``token.name()``.
    """

    def __init__(
        self, chain: HostT, address: str, abi: Sequence[dict[str, Any]], name: str = "Contract"
    ) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.abi = list(abi)
        self.contract_name = name
        self.deploy_receipt: Receipt | None = None
        grouped: dict[str, list[_Method]] = {}
        for item in self.abi:
            if item.get("type") == "function":
                grouped.setdefault(item["name"], []).append(_Method.from_abi(item))
        self._functions = {name: ContractFunction(self, ms) for name, ms in grouped.items()}
        chain.abi_registry.register_contract(self.address, name, self.abi)

    def __repr__(self) -> str:
        return f"<{self.contract_name} at {self.address} on {self.chain.name}>"

    def __getattr__(self, name: str) -> ContractFunction:
        functions = self.__dict__.get("_functions", {})
        if name in functions:
            return functions[name]
        label = self.__dict__.get("contract_name", "Contract")
        raise AttributeError(f"{label} has no function {name!r}")

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._functions]

    @property
    def functions(self) -> dict[str, ContractFunction]:
        """Every ABI function by name."""
        return dict(self._functions)

    def get_events(
        self, name: str | None = None, *, from_block: int = 0, to_block: int | None = None
    ) -> list[Event]:
        """Decoded events this contract emitted in sealed blocks (optionally one kind)."""
        logs = self.chain.get_logs(from_block=from_block, to_block=to_block, address=self.address)
        events = self.chain.abi_registry.decode_logs(logs)
        return [e for e in events if name is None or e.name == name]

    get_logs = get_events
