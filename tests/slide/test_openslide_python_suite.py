"""openslide-python's own test suite (from its sdist on the package index) run against tiffstream.slide,
with ``openslide`` aliased to it. Its one DICOM test is left out: DICOM slides are not TIFF files."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile

import pytest

VERSION = "1.4.7"
NOT_TIFF = ["tests/test_openslide.py::TestDicomSlide::test_color_profile"]  # a DICOM slide's ICC profile
ALIAS = """import sys
import tiffstream.slide
import tiffstream.slide.deepzoom
sys.modules["openslide"] = tiffstream.slide
sys.modules["openslide.deepzoom"] = tiffstream.slide.deepzoom
"""


def test_openslide_python_tests_pass(tmp_path):
    pytest.importorskip("PIL")
    download = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", f"openslide-python=={VERSION}", "--no-binary", ":all:",
         "--no-deps", "-d", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    archives = list(tmp_path.glob("openslide_python-*.tar.gz"))
    if download.returncode or not archives:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot download openslide-python's sdist: {download.stderr[-300:]}")
        pytest.skip("openslide-python's sdist cannot be downloaded here")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(tmp_path, filter="data")
    root = tmp_path / f"openslide_python-{VERSION}"
    (root / "tests" / "conftest.py").write_text(ALIAS)
    deselect = [arg for test in NOT_TIFF for arg in ("--deselect", test)]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "tests", *deselect],
        cwd=root, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
