"""The decode plan's chunk table and the Chunk views built from it."""

from __future__ import annotations

import pickle

import numpy as np
from conftest import Recipe

import tiffstream


def test_table_matches_chunks_and_regions(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(1, 70, 90), tile=(32, 32), compression="zlib"))
    with tiffstream.open(path) as tif:
        plan = tif.pages[0].plan
    assert plan.table.shape == (9, 8) and plan.table.dtype == np.int64
    assert [tuple(row) for row in plan.table.tolist()] == [
        (c.index, c.offset, c.nbytes, c.plane, c.y, c.x, c.height, c.width) for c in plan.chunks
    ]
    inside = plan.chunks_in(10, 40, 33, 70)
    assert [(c.y, c.x) for c in inside] == [(0, 32), (0, 64), (32, 32), (32, 64)]
    assert plan.compressed_nbytes == sum(c.nbytes for c in plan.chunks)
    clone = pickle.loads(pickle.dumps(plan))
    assert clone == plan and np.array_equal(clone.table, plan.table)


def test_strip_heights(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(1, 70, 30), rowsperstrip=16))
    with tiffstream.open(path) as tif:
        plan = tif.pages[0].plan
    assert [c.height for c in plan.chunks] == [16, 16, 16, 16, 6]
    assert plan.output_shape() == (70, 30) and plan.output_shape((5, 6, 20, 25)) == (15, 19)
