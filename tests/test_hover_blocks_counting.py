"""The hover blocks counted without sorting give what the sorting version gave."""

import numpy as np

from gridplan.report import webmap


def test_block_index_is_unique_with_inverse():
    rng = np.random.default_rng(3)
    key = rng.integers(0, 5_000, 20_000) * 7  # gaps between the keys
    blocks, inverse = webmap._block_index(key)
    want_blocks, want_inverse = np.unique(key, return_inverse=True)
    np.testing.assert_array_equal(blocks, want_blocks)
    np.testing.assert_array_equal(inverse, want_inverse)
    assert webmap._block_index(np.empty(0, dtype=np.int64))[0].size == 0


def test_main_facility_table_and_sort_agree(monkeypatch):
    rng = np.random.default_rng(5)
    n_blocks = 300
    block_of = rng.integers(0, n_blocks - 20, 50_000)  # the last 20 blocks: no cell at all
    nearest = rng.integers(-1, 40, 50_000)  # -1: no facility reached
    nearest[block_of == 7] = -1  # one block whose cells reach none
    weight = rng.integers(1, 4, 50_000).astype(float)  # small integers: ties happen
    dense = webmap._main_facility(block_of, n_blocks, nearest, weight)
    monkeypatch.setattr(webmap, "DENSE_PAIRS", 0)
    by_sort = webmap._main_facility(block_of, n_blocks, nearest, weight)
    np.testing.assert_array_equal(dense, by_sort)
    assert dense[7] == -1 and (dense[-20:] == -1).all() and (dense[:7] >= 0).all()
