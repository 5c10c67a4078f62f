"""Devnet construction, configuration files and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from chains import ConfigError, Devnet


def test_default_devnet_names_and_ids() -> None:
    devnet = Devnet(n_chains=3, seed=7)
    assert [c.name for c in devnet.chains] == ["A", "B", "C"]
    assert [c.chain_id for c in devnet.chains] == [31337, 31338, 31339]
    assert devnet["B"] is devnet.chains[1] is devnet.by_chain_id(31338)


def test_chains_share_one_clock() -> None:
    devnet = Devnet(n_chains=2)
    assert devnet.chains[0].clock is devnet.chains[1].clock is devnet.clock


def test_from_toml(tmp_path: Path) -> None:
    config = tmp_path / "devnet.toml"
    config.write_text(
        """
seed = 11
[[chains]]
chain_id = 10
name = "l1"
[[chains]]
chain_id = 8453
name = "base"
mining = "interval"
block_time = 2
"""
    )
    devnet = Devnet.from_toml(config)
    assert devnet.seed == 11
    assert [(c.name, c.chain_id, c.config.mining) for c in devnet.chains] == [
        ("l1", 10, "auto"),
        ("base", 8453, "interval"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = 1\nchians = 3\n", "unknown key\\(s\\) chians"),
        ("[[chains]]\nchain_id = 5\nblock_tim = 2\n", "chain 0: unknown key\\(s\\) block_tim"),
        ("n_chains = 2\nchain_ids = [5, 5]\n", "chain ids must be distinct"),
        ("n_chains = 0\n", "n_chains must be a positive integer"),
        ("seed = [\n", "not valid TOML"),
        ("[[chains]]\nchain_id = 5\nmining = 'never'\n", "mining must be one of"),
    ],
    ids=["typo-top-level", "typo-in-chain", "duplicate-ids", "zero-chains", "bad-toml", "bad-mode"],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Devnet.from_toml(config)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read devnet config"):
        Devnet.from_toml(tmp_path / "absent.toml")


def test_unknown_keyword_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown devnet option\\(s\\): blocktime"):
        Devnet(n_chains=1, blocktime=2)


class _Counter:
    """A participant whose whole state is one integer."""

    def __init__(self) -> None:
        self.value = 0

    def snapshot(self) -> int:
        return self.value

    def restore(self, state: int) -> None:
        self.value = state


def test_attached_participants_follow_snapshot_and_revert() -> None:
    devnet = Devnet(n_chains=1)
    counter = _Counter()
    before_attach = devnet.snapshot()
    devnet.attach(counter)
    counter.value = 1
    sid = devnet.snapshot()
    counter.value = 2
    devnet.revert(sid)
    assert counter.value == 1
    with devnet.anchor():
        counter.value = 5
    assert counter.value == 1
    devnet.revert(before_attach)  # taken before attach: the participant is left alone
    assert counter.value == 1
    devnet.detach(counter)
    sid = devnet.snapshot()
    counter.value = 9
    devnet.revert(sid)
    assert counter.value == 9


def test_attach_rejects_objects_without_snapshot_methods() -> None:
    with pytest.raises(TypeError, match="snapshot"):
        Devnet(n_chains=1).attach(object())  # type: ignore[arg-type]
