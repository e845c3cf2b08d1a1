"""Writing decoded arrays to .npy, .png or .tif for the CLI."""

from __future__ import annotations

import pathlib

import imagecodecs
import numpy as np

from .. import imwrite

__all__ = ["save_array"]


def save_array(array: np.ndarray, path: str | pathlib.Path) -> None:
    """Save ``array`` by the file suffix: ``.npy``, ``.png`` (uint8/uint16, 1, 3 or 4 channels) or ``.tif``."""
    target = pathlib.Path(path)
    suffix = target.suffix.lower()
    if suffix == ".npy":
        np.save(target, array)
    elif suffix == ".png":
        image = array
        if image.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"PNG holds uint8 or uint16 samples, not {image.dtype}: use .npy or .tif")
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim == 3 and image.shape[2] not in (3, 4):
            raise ValueError(f"PNG holds 1, 3 or 4 channels, not {image.shape[2]}: use .npy or .tif")
        target.write_bytes(imagecodecs.png_encode(np.ascontiguousarray(image)))
    elif suffix in (".tif", ".tiff"):
        imwrite(target, array, axes="YXS"[: array.ndim] if array.ndim <= 3 else None)
    else:
        raise ValueError(f"unknown output type {suffix!r}: use .npy, .png or .tif")
