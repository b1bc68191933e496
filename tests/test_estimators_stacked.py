"""Groups viewed as one array without a copy, and the same estimates either way."""

import numpy as np

from hpx_uncert import conditional_entropy, conditional_kl_divergence
from hpx_uncert._checks import check_groups
from hpx_uncert.estimators._search import stacked


def test_groups_of_a_3d_array_are_viewed_not_copied(rng):
    x = rng.normal(size=(6, 9, 4))
    view = stacked(check_groups(x))
    assert np.shares_memory(view, x)
    np.testing.assert_array_equal(view, x.reshape(-1, 4))


def test_groups_that_are_not_back_to_back_are_copied_in_order(rng):
    x = rng.normal(size=(6, 9, 4))
    for groups in (list(x[::-1]), [x[0], x[2]], list(x[:, ::2, :])):
        got = stacked(check_groups(groups))
        np.testing.assert_array_equal(got, np.concatenate(groups))
        assert not np.shares_memory(got, x)


def test_estimates_from_one_array_equal_those_from_separate_groups(rng):
    p = rng.normal(size=(5, 40, 12))
    q = rng.normal(size=(5, 40, 12)) + 0.3
    copies_p = [g.copy() for g in p]
    copies_q = [g.copy() for g in q]
    assert conditional_entropy(p).value == conditional_entropy(copies_p).value
    assert conditional_kl_divergence(p, q).value == \
        conditional_kl_divergence(copies_p, copies_q).value
