"""The wire formatters against the libraries they replace."""

from __future__ import annotations

from eth_bloom import BloomFilter
from eth_utils import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from chains._types import Log
from chains.rpc._wire import ZERO_BLOOM, logs_bloom

_logs = st.lists(
    st.builds(
        Log,
        address=st.binary(min_size=20, max_size=20).map(to_checksum_address),
        topics=st.lists(st.binary(min_size=32, max_size=32), max_size=4).map(tuple),
        data=st.binary(max_size=64),
        log_index=st.integers(0, 9),
        transaction_index=st.integers(0, 9),
        transaction_hash=st.binary(min_size=32, max_size=32),
        block_number=st.integers(0, 99),
    ),
    max_size=6,
)


@given(logs=_logs)
def test_logs_bloom_matches_eth_bloom(logs: list[Log]) -> None:
    bloom = BloomFilter()
    for log in logs:
        bloom.add(bytes.fromhex(log.address[2:]))
        for topic in log.topics:
            bloom.add(topic)
    assert logs_bloom(logs) == "0x" + int(bloom).to_bytes(256, "big").hex()


def test_logs_bloom_of_no_logs_is_zero() -> None:
    assert logs_bloom([]) == ZERO_BLOOM == "0x" + "00" * 256
