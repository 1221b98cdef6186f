"""optkern.datasets: the data shipped with optkern."""

import numpy as np

from optkern.datasets import linear_regression, load_digits


def test_digits():
    images, target = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and images.max() == 16
    assert target.shape == (1797,) and target.dtype == np.uint8
    assert np.bincount(target).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert target[:10].tolist() == list(range(10))


def test_linear_regression():
    X, y, w, b = linear_regression(1000, 10, bias=10.0, seed=0)
    assert X.shape == (1000, 10) and y.shape == (1000,) and X.dtype == y.dtype == np.float32
    np.testing.assert_allclose(y, X.astype(np.float64) @ w + b, rtol=1e-5, atol=1e-4)
    again = linear_regression(1000, 10, bias=10.0, seed=0)
    assert all(np.array_equal(a, c) for a, c in zip((X, y, w), again[:3]))
    assert not np.array_equal(X, linear_regression(seed=1)[0])
