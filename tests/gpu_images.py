"""Helpers of the GPU image-codec tests (JPEG, JPEG 2000): a test picture, a GPU_ONLY decoder, differences."""

from __future__ import annotations

import numpy as np

import tiffstream

UNCHANGED = tiffstream.DecodeParams(
    apply_exif_orientation=False, color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True
)


def picture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """RGB with smooth gradients, hard edges and noise: upsampling and transform differences both show."""
    y, x = np.ogrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    channels = [128 + 90 * np.sin(x / (17.0 + 5 * c)) * np.cos(y / (23.0 + 3 * c)) for c in range(3)]
    data = np.stack(channels, -1) + 40 * ((x // 29 + y // 19) % 2)[..., None] + rng.normal(0, 5, (height, width, 3))
    return np.clip(data, 0, 255).astype(np.uint8)


def gpu_only() -> tiffstream.Decoder:
    return tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])


def max_diff(got: np.ndarray, expected: np.ndarray) -> int:
    return int(np.abs(got.astype(np.int32) - expected.astype(np.int32)).max())
