"""The structure-aware fuzzer in CI: kept regressions and a seeded batch of fresh corpus mutants, each decoded
through every API in worker processes under a time and address-space limit (see run.py)."""

from __future__ import annotations

import os
import pathlib

from conftest import CORPUS, require_corpus
from fuzz.run import base_files, run

HERE = pathlib.Path(__file__).resolve().parent
REGRESSIONS = sorted((HERE / "regressions").glob("*.tif"))
MUTANTS = int(os.environ.get("TIFFSTREAM_FUZZ_MUTANTS", "2000"))


def test_corpus_mutants_are_images_or_tiff_errors() -> None:
    require_corpus()
    report = run(base_files(CORPUS, 300_000), MUTANTS, seed=1, jobs=2, timeout=60, extra=REGRESSIONS)
    print(report.summary())
    assert report.mutants == MUTANTS + len(REGRESSIONS)
    assert report.outcomes["pages:ok"] > MUTANTS // 10  # mutants that still decode are compared across processes
    assert not report.failures, report.summary()
