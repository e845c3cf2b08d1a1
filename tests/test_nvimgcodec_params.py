"""nvImageCodec 0.9's enumerations and DecodeParams: member names, integer values, argument order, mutability."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, require_corpus

import tiffstream as nvimgcodec

# nvImageCodec 0.9.0's values, read from its module (``nvidia.nvimgcodec``)
VALUES = {
    "BackendKind": {"CPU_ONLY": 1, "GPU_ONLY": 2, "HYBRID_CPU_GPU": 3, "HW_GPU_ONLY": 4},
    "ColorSpec": {
        "UNKNOWN": 0,
        "UNCHANGED": 0,
        "SRGB": 1,
        "GRAY": 2,
        "SYCC": 3,
        "CMYK": 4,
        "YCCK": 5,
        "PALETTE": 6,
        "ICC_PROFILE": 7,
        "UNSUPPORTED": -1,
    },
    "ChromaSubsampling": {"CSS_444": 0, "CSS_422": 2, "CSS_420": 3, "CSS_440": 4, "CSS_411": 5, "CSS_410": 6},
    "ImageBufferKind": {"STRIDED_DEVICE": 1, "STRIDED_HOST": 2},
    "LoadHintPolicy": {"IGNORE": 1, "FIXED": 2, "ADAPTIVE_MINIMIZE_IDLE_TIME": 3},
    "SampleFormat": {"UNKNOWN": 0, "P_UNCHANGED": 1, "I_UNCHANGED": 2, "I_Y": 4, "I_RGB": 8, "I_RGBA": 14},
    "MetadataKind": {"TIFF_TAG": 1, "ICC_PROFILE": 2, "EXIF": 3, "GEO": 4, "MED_APERIO": 5, "TIFF_TAG_LIST": 10},
    "MetadataType": {"BYTE": 1, "ASCII": 2, "SHORT": 3, "LONG": 4, "RATIONAL": 5, "DOUBLE": 12, "LONG8": 16},
    "QualityType": {"DEFAULT": 0, "LOSSLESS": 1, "QUALITY": 2, "PSNR": 4, "SIZE_RATIO": 5},
}


@pytest.mark.parametrize("enum_name", sorted(VALUES))
def test_enum_names_and_values(enum_name: str) -> None:
    enum = getattr(nvimgcodec, enum_name)
    for member, value in VALUES[enum_name].items():
        assert getattr(enum, member) == value, (enum_name, member)
        assert int(getattr(enum, member)) == value


def test_decode_params_order_defaults_and_mutability() -> None:
    params = nvimgcodec.DecodeParams()
    assert params.apply_exif_orientation is True and params.color_spec == nvimgcodec.ColorSpec.SRGB
    assert params.allow_any_depth is False and params.sample_format == nvimgcodec.SampleFormat.I_AUTO_COMPONENTS
    positional = nvimgcodec.DecodeParams(False, nvimgcodec.ColorSpec.GRAY, True, nvimgcodec.SampleFormat.I_Y)
    assert (positional.apply_exif_orientation, positional.color_spec, positional.allow_any_depth) == (
        False,
        nvimgcodec.ColorSpec.GRAY,
        True,
    )
    params.color_spec = nvimgcodec.ColorSpec.UNCHANGED
    params.allow_any_depth = True
    assert params == nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
    with pytest.raises(TypeError):
        params.color_spec = 3  # a plain int is not a ColorSpec
    with pytest.raises(nvimgcodec.BackendUnavailableError):
        params.color_spec = nvimgcodec.ColorSpec.CMYK
    with pytest.raises(ValueError, match="contradicts"):
        nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.GRAY, sample_format=nvimgcodec.SampleFormat.I_RGB)
    with pytest.raises(nvimgcodec.BackendUnavailableError):
        nvimgcodec.DecodeParams(sample_format=nvimgcodec.SampleFormat.P_RGB)
    backend = nvimgcodec.Backend(nvimgcodec.BackendKind.CPU_ONLY, 0.5, nvimgcodec.LoadHintPolicy.IGNORE)
    assert (backend.load_hint, backend.load_hint_policy) == (0.5, nvimgcodec.LoadHintPolicy.IGNORE)


def test_sample_format_picks_the_components(tmp_path) -> None:
    rgb = np.random.default_rng(2).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    stream = nvimgcodec.CodeStream(str(path))
    gray = np.asarray(decoder.decode(stream, nvimgcodec.DecodeParams(sample_format=nvimgcodec.SampleFormat.I_Y)))
    expected = np.asarray(decoder.decode(stream, nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.GRAY)))
    assert gray.shape == (20, 30, 1)
    np.testing.assert_array_equal(gray, expected)
    same = nvimgcodec.DecodeParams(
        color_spec=nvimgcodec.ColorSpec.UNCHANGED, sample_format=nvimgcodec.SampleFormat.I_RGB
    )
    np.testing.assert_array_equal(np.asarray(decoder.decode(stream, same)), rgb)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_tiff_orientation_applied_when_asked(tmp_path, orientation: int) -> None:
    stored = np.arange(6 * 10, dtype=np.uint8).reshape(6, 10)
    path = tmp_path / "oriented.tif"
    tifffile.imwrite(path, stored, photometric="minisblack", extratags=[(274, 3, 1, orientation, True)])
    shown = {
        1: stored,
        2: stored[:, ::-1],
        3: stored[::-1, ::-1],
        4: stored[::-1],
        5: stored.T,
        6: np.rot90(stored, -1),
        7: np.rot90(stored, -1)[::-1],
        8: np.rot90(stored),
    }[orientation]
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    stream = nvimgcodec.CodeStream(str(path))
    unchanged = nvimgcodec.ColorSpec.UNCHANGED
    got = np.asarray(decoder.decode(stream, nvimgcodec.DecodeParams(color_spec=unchanged)))[:, :, 0]
    np.testing.assert_array_equal(got, shown)
    as_stored = nvimgcodec.DecodeParams(apply_exif_orientation=False, color_spec=unchanged)
    np.testing.assert_array_equal(np.asarray(decoder.decode(stream, as_stored))[:, :, 0], stored)


def test_pillow_orientation_files_all_show_the_same_picture() -> None:
    """Pillow's g4_orientation_N.tif hold one picture stored eight ways (redrawn each time: 0.3% of pixels
    differ, so Pillow compares them by similarity too); shown, they match, stored, they do not."""
    require_corpus()
    folder = CORPUS / "files" / "pillow"
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    as_stored = nvimgcodec.DecodeParams(apply_exif_orientation=False)
    first = np.asarray(decoder.decode(nvimgcodec.CodeStream(str(folder / "Tests__images__g4_orientation_1.tif"))))
    for number in range(2, 9):
        stream = nvimgcodec.CodeStream(str(folder / f"Tests__images__g4_orientation_{number}.tif"))
        shown = np.asarray(decoder.decode(stream))
        assert shown.shape == first.shape and (shown == first).mean() > 0.99, number
        stored = np.asarray(decoder.decode(stream, as_stored))
        assert stored.shape != first.shape or (stored == first).mean() < 0.95, number
