"""Copy the vendored subset of ethereum/tests ``GeneralStateTests`` into ``fixtures/``.

Usage, from the repository root, with a checkout of ethereum/tests at the commit to vendor::

    python tests/chains/state_tests/refresh_fixtures.py /path/to/ethereum-tests

Copies every file of :data:`FOLDERS` (paths under ``GeneralStateTests/``) byte for byte,
except :data:`LEFT_OUT`, plus the repository's ``LICENSE``; removes vendored files the
selection no longer names. Then record the commit in ``fixtures/README.md``, run the
state tests, and update ``statetest_expected.py`` from what fails.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

#: Folders under ``GeneralStateTests/`` that are vendored whole (except :data:`LEFT_OUT`).
FOLDERS = (
    "VMTests",
    "Cancun/stEIP1153-transientStorage",
    "Cancun/stEIP5656-MCOPY",
    "stSStoreTest",
    "stRefundTest",
    "stMemoryTest",
    "stCallCodes",
    "stReturnDataTest",
    "Shanghai/stEIP3651-warmcoinbase",
    "Shanghai/stEIP3855-push0",
    "Shanghai/stEIP3860-limitmeterinitcode",
    "stArgsZeroOneBalance",
    "stCallDelegateCodesCallCodeHomestead",
    "stCallDelegateCodesHomestead",
    "stChainId",
    "stCodeCopyTest",
    "stCodeSizeLimit",
    "stCreate2",
    "stEIP2930",
    "stExtCodeHash",
    "stLogTests",
    "stSLoadTest",
    "stSelfBalance",
    "stShift",
    "stTransactionTest",
)

#: Files in :data:`FOLDERS` left out, with why: too slow for every CI run (times on the
#: fast loop, one core of the 2-core development machine).
LEFT_OUT = {
    "VMTests/vmPerformance/loopExp.json": "15 cases, up to 9 s each, 39 s in all",
    "VMTests/vmPerformance/loopMul.json": "over 8 s per case",
    "VMTests/vmPerformance/performanceTester.json": "the same long loops (vmPerformance)",
    "stCreate2/Create2Recursive.json": "174 s for its first case, over 8 s for the others",
    "stCreate2/Create2OnDepth1023.json": "5.4 s",
    "stCreate2/Create2OnDepth1024.json": "5.3 s",
    "stSelfBalance/diffPlaces.json": "5.4 s",
}


def refresh(source: Path) -> int:
    """Copy the selection from the ethereum/tests checkout at ``source``; return the count."""
    tests = source / "GeneralStateTests"
    if not tests.is_dir():
        raise SystemExit(f"{source} is not an ethereum/tests checkout (no GeneralStateTests/)")
    wanted: dict[str, Path] = {}
    for folder in FOLDERS:
        files = sorted((tests / folder).rglob("*.json"))
        if not files:
            raise SystemExit(f"GeneralStateTests/{folder} has no fixture files in {source}")
        for file in files:
            relative = file.relative_to(tests).as_posix()
            if relative not in LEFT_OUT:
                wanted[relative] = file
    for existing in sorted(FIXTURES.rglob("*.json")):
        if existing.relative_to(FIXTURES).as_posix() not in wanted:
            existing.unlink()
    for relative, file in wanted.items():
        target = FIXTURES / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
    shutil.copyfile(source / "LICENSE", FIXTURES / "LICENSE")
    for folder in sorted(FIXTURES.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return len(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a checkout of ethereum/tests")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    count = refresh(args.source)
    logging.info("vendored %d fixture files into %s", count, FIXTURES)


if __name__ == "__main__":
    main()
