"""Derive the float32 exp polynomial of kernels/src/target/vmath-inl.h.

exp(r) ~ 1 + r + r^2 (c2 + c3 r + c4 r^2 + c5 r^3) on |r| <= ln2/2 (plus
the reduction's rounding), the coefficients chosen to minimise the maximum
RELATIVE error (a minimax fit, solved as a linear program on a dense grid),
then rounded to float32. Keeping 1 + r exact makes exp(0) = 1 exactly and
keeps full relative accuracy near 0.

    python tools/fit_exp_poly.py      # prints the coefficients as C hex floats

Needs numpy and scipy (a development tool; the build does not run it).
"""

import numpy as np
from scipy.optimize import linprog

HALF_LN2 = np.log(2) / 2 * (1 + 1e-6)
DEGREE = 5


def fit(points=4001):
    r = np.concatenate([np.linspace(-HALF_LN2, -1e-4, points // 2), np.linspace(1e-4, HALF_LN2, points // 2)])
    # relative error (1 + r + r^2 q(r) - e^r) / e^r, linear in q's coefficients
    powers = np.stack([r ** (2 + k) for k in range(DEGREE - 1)], axis=1) / np.exp(r)[:, None]
    target = (np.exp(r) - 1 - r) / np.exp(r)
    n = powers.shape[1]
    # minimise t subject to -t <= powers @ c - target <= t
    cost = np.zeros(n + 1)
    cost[-1] = 1
    a_ub = np.block([[powers, -np.ones((len(r), 1))], [-powers, -np.ones((len(r), 1))]])
    b_ub = np.concatenate([target, -target])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * (n + 1), method="highs")
    return res.x[:n], res.x[-1]


def main():
    coeffs, err = fit()
    c32 = coeffs.astype(np.float32)
    r = np.linspace(-HALF_LN2, HALF_LN2, 200001)
    p = 1 + r + r * r * np.polyval(c32[::-1].astype(np.float64), r)
    print(f"minimax relative error {err:.3e}; with float32 coefficients {np.max(np.abs(p / np.exp(r) - 1)):.3e}"
          f" (2^-24 = {2.0 ** -24:.3e})")
    for k, c in enumerate(c32, start=2):
        print(f"c{k} = {float(c).hex()}f  /* {float(c):.9g}, 1/{k}! = {1 / np.prod(range(1, k + 1)):.9g} */")


if __name__ == "__main__":
    main()
