"""``tiffstream demo``: write the samples (once), run the seed walkthrough on them, list the figures."""

from __future__ import annotations

import os
import pathlib
import runpy
import sys
import warnings

from ..samples import SAMPLE_NAMES, write_samples

__all__ = ["FIGURES", "run_demo", "walkthrough_path"]

FIGURES = ("figure_1.png", "figure_2.png", "figure_3.png", "figure_4.png")


def walkthrough_path() -> pathlib.Path:
    """The walkthrough script (also at examples/subifds_and_pagination.py in the repository)."""
    return pathlib.Path(__file__).with_name("subifds_and_pagination.py")


def run_demo(directory: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Write the samples into ``directory`` and run the walkthrough there; returns the figure paths."""
    folder = pathlib.Path(directory).resolve()
    existing = [name for name in SAMPLE_NAMES if (folder / name).exists()]
    if existing:
        print(f"Using the sample files already in {folder}: {', '.join(existing)}", flush=True)
    if len(existing) < len(SAMPLE_NAMES):
        print(f"Writing sample files to {folder} ...", flush=True)
    write_samples(folder)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYNVIMGCODEC_EXAMPLES_RESOURCES_DIR"] = str(folder)
    os.environ["TIFFSTREAM_FIGURES_DIR"] = str(folder)
    print(f"Running {walkthrough_path().name} (GPU_ONLY falls back to the CPU here):\n", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the expected CPU-fallback warning
        runpy.run_path(str(walkthrough_path()), run_name="__main__")
    figures = [folder / name for name in FIGURES]
    print("\nFigures:")
    for figure in figures:
        print(f"  {figure}")
    sys.stdout.flush()
    return figures
