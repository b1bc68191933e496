"""Leave-out radii from spare candidates against a fresh search of the remaining points."""

import numpy as np

import naive
from hpx_uncert.estimators._search import SearchOptions, self_candidates


def test_leave_out_radius_equals_a_new_search_without_the_block(rng):
    x = rng.normal(size=(120, 3))
    k, extra = 4, 3
    cand = self_candidates(x, k, SearchOptions(), extra=extra)
    for b in range(3):
        out = np.arange(len(x)) % 7 == b
        got = np.exp(cand.log_radii_without(out))[~out]
        kept = x[~out]
        want = naive.knn_distances(kept, k=k)[:, k - 1]
        # rows that lost more than `extra` of their first k + extra candidates fall back
        # to the last candidate (a documented lower bound); all others must be exact
        lost = out[cand.idx[~out]].sum(axis=1)
        exact = lost <= extra
        assert exact.mean() > 0.9
        np.testing.assert_allclose(got[exact], want[exact], rtol=1e-12)
        assert np.all(got[~exact] <= want[~exact] * (1 + 1e-12))
