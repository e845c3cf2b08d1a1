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


def test_grid_lookup_picks_what_testing_every_chunk_picks(tiff_factory) -> None:
    """Plans from files know their table is the chunk grid in order and pick a region's chunks by index; the
    same plan without that knowledge tests every chunk. Both agree on every region, empty and edge ones too."""
    from dataclasses import replace

    recipes = [
        Recipe(shape=(1, 70, 90), tile=(32, 16), compression="zlib"),
        Recipe(shape=(1, 70, 30), rowsperstrip=16),
        Recipe(shape=(33, 47, 3), tile=(16, 16), planar="separate"),
    ]
    rng = np.random.default_rng(3)
    for recipe in recipes:
        with tiffstream.open(tiff_factory(recipe)) as tif:
            plan = tif.pages[0].plan
        assert plan.grid_order
        slow = replace(plan, grid_order=False)
        edges = [0, 1, 15, 16, 17, plan.height - 1, plan.height]
        regions = [(a, b, c, d) for a in edges for c in edges if a <= c for b, d in ((0, plan.width), (5, 5))]
        for _ in range(200):
            y0, y1 = sorted(rng.integers(0, plan.height + 1, 2))
            x0, x1 = sorted(rng.integers(0, plan.width + 1, 2))
            regions.append((int(y0), int(x0), int(y1), int(x1)))
        for region in regions:
            assert np.array_equal(plan.table_in(*region), slow.table_in(*region)), (recipe, region)
