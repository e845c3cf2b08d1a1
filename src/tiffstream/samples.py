"""Sample files written with our own writer: look-alikes of the seed notebook's two images.

``cat_with_thumbnail.tiff``: 720x720 RGB uint8, uncompressed, one 180x180 thumbnail SubIFD (a synthetic
picture of a cat in a landscape). ``retina_large.ome.tiff``: 192 Z-slices of 2048x1567 uint8, deflate
strips, SubIFD levels 1024x783 and 512x391, OME-XML (synthetic retina-like vessels that change with Z).
"""

from __future__ import annotations

import os
import pathlib

import numpy as np

from .write import TiffWriter, imwrite

__all__ = ["CAT", "RETINA", "SAMPLE_NAMES", "cat_picture", "retina_slice", "write_samples"]

CAT = "cat_with_thumbnail.tiff"
RETINA = "retina_large.ome.tiff"
SAMPLE_NAMES = (CAT, RETINA)


def cat_picture(size: int = 720) -> np.ndarray:
    """A ``(size, size, 3)`` uint8 picture: sky, sun, hills, grass and a sitting cat."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    rng = np.random.default_rng(7)
    sky = np.stack([0.45 + 0.3 * y, 0.65 + 0.2 * y, 0.95 - 0.1 * y], -1)
    image = sky.copy()
    sun = (x - 0.8) ** 2 + (y - 0.18) ** 2 < 0.006
    image[sun] = (1.0, 0.9, 0.55)
    hills = y > 0.55 + 0.06 * np.sin(x * 9) + 0.03 * np.sin(x * 23 + 1)
    image[hills] = np.stack([0.25 + 0.1 * y, 0.55 - 0.1 * y, 0.2 + 0 * y], -1)[hills]
    grass = y > 0.78 + 0.01 * np.sin(x * 90)
    texture = rng.normal(0, 0.04, (size, size)).astype(np.float32)
    image[grass] = np.stack([0.2 + texture, 0.5 + 2 * texture, 0.15 + texture], -1)[grass]
    body = ((x - 0.42) / 0.16) ** 2 + ((y - 0.72) / 0.14) ** 2 < 1
    head = ((x - 0.42) / 0.09) ** 2 + ((y - 0.5) / 0.085) ** 2 < 1
    ear_left = (y > 0.36) & (y < 0.45) & (np.abs(x - 0.36) < (y - 0.36) * 0.6)
    ear_right = (y > 0.36) & (y < 0.45) & (np.abs(x - 0.48) < (y - 0.36) * 0.6)
    tail = (np.abs(x - 0.6 - 0.05 * np.sin(y * 20)) < 0.015) & (y > 0.6) & (y < 0.84)
    cat = body | head | ear_left | ear_right | tail
    stripes = 0.08 * np.sin(y * 120 + x * 30)
    fur = np.stack([0.85 + stripes, 0.5 + stripes, 0.2 + stripes / 2], -1)
    image[cat] = fur[cat]
    for eye_x in (0.39, 0.45):
        eye = ((x - eye_x) / 0.012) ** 2 + ((y - 0.49) / 0.018) ** 2 < 1
        image[eye] = (0.1, 0.6, 0.2)
    nose = ((x - 0.42) / 0.01) ** 2 + ((y - 0.53) / 0.007) ** 2 < 1
    image[nose] = (0.9, 0.45, 0.5)
    return np.clip(image * 255 + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)


def _vessels(height: int, width: int) -> np.ndarray:
    """Branching vessel-like lines radiating from the optic disc, as a float image in [0, 1]."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = height * 0.5, width * 0.62
    angle = np.arctan2(y - cy, x - cx)
    radius = np.hypot(y - cy, x - cx) / max(height, width)
    vessels = np.zeros((height, width), np.float32)
    rng = np.random.default_rng(3)
    for base in rng.uniform(-np.pi, np.pi, 11):
        wiggle = base + 0.25 * np.sin(radius * rng.uniform(8, 16)) + 0.4 * radius * rng.uniform(-1, 1)
        distance = np.abs(np.angle(np.exp(1j * (angle - wiggle)))) * radius * max(height, width)
        vessels = np.maximum(vessels, np.exp(-((distance / (3 + 6 * (1 - radius))) ** 2)))
    return vessels


def retina_slice(z: int, base: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Slice ``z`` of the retina stack: vessels sharpest near the middle slices, a bright disc, vignetting."""
    vessels, background = base
    focus = np.exp(-(((z - 60) / 45.0) ** 2))
    image = background * (0.6 + 0.4 * focus) - vessels * (0.25 + 0.55 * focus)
    return np.clip(image * 255, 0, 255).astype(np.uint8)


def _retina_base(height: int = 1567, width: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    radius = np.hypot((y - height / 2) / height, (x - width / 2) / width)
    disc = np.exp(-(((y - height * 0.5) ** 2 + (x - width * 0.62) ** 2) / (2 * (height * 0.05) ** 2)))
    background = np.clip(0.75 - 0.9 * radius**2, 0.05, 1) + 0.35 * disc
    return _vessels(height, width), background.astype(np.float32)


def write_samples(directory: str | os.PathLike[str], *, force: bool = False) -> dict[str, pathlib.Path]:
    """Write both sample files into ``directory`` (kept if already there); returns their paths."""
    folder = pathlib.Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    cat, retina = folder / CAT, folder / RETINA
    if force or not cat.exists():
        imwrite(cat, cat_picture(), photometric="rgb", thumbnail=180)
    if force or not retina.exists():
        base = _retina_base()
        with TiffWriter(
            retina, ome=True, page_axes="Z", physical_size=(2.0, 1.2, 1.2), channel_names=["OCT"]
        ) as writer:
            for z in range(192):
                writer.write(retina_slice(z, base), compression="deflate", subifds=2, rowsperstrip=64, level=1)
    return {"cat": cat, "retina": retina}
