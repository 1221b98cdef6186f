"""Small data sets shipped with optkern, for the demo and for examples.

load_digits()       the handwritten-digits images (UCI, CC BY 4.0; see
                    DIGITS_LICENSE.txt beside this file)
linear_regression() the first example of every course on training:
                    y = X w + b, seeded
"""

import os

import numpy as np

__all__ = ["load_digits", "linear_regression"]

_HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits():
    """The Optical Recognition of Handwritten Digits data set's 1797 test
    images (E. Alpaydin and C. Kaynak, UCI Machine Learning Repository,
    1998, CC BY 4.0): (images, target), images a (1797, 8, 8) uint8 array
    of pixels in 0..16, target a (1797,) uint8 array of digits 0..9.
    The same data as scikit-learn's load_digits."""
    with np.load(os.path.join(_HERE, "digits.npz"), allow_pickle=False) as f:
        return f["images"], f["target"]


def linear_regression(n_samples=1000, n_features=10, bias=10.0, noise=0.0, seed=0, dtype=np.float32):
    """(X, y, w, b): X standard normal (n_samples, n_features), true weights
    w standard normal (n_features,), y = X w + bias (+ noise times a
    standard normal), all from numpy's default_rng(seed), in dtype."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features)
    y = X @ w + bias + noise * rng.standard_normal(n_samples)
    return X.astype(dtype), y.astype(dtype), w.astype(dtype), dtype(bias)
