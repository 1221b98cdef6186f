"""How a Muon step's time splits between the matrix products of its
Newton-Schulz iteration and everything else (the two fused C stages, the
norm, the axpby's between the products, Python).

    python bench/muon_split.py [--size 4096] [--rounds 5]

Times, interleaved in one run: one optkern.Muon step on a size x size
float32 matrix, and the same step's matrix products alone (ns_steps rounds
of X X^T, A A and B X into buffers made once, as the step does them).
"""

import argparse

import numpy as np

import optkern
from optkern.benchmark import timing


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n = args.size
    rng = np.random.default_rng(0)
    param, grad = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    opt = optkern.Muon([param], lr=0.02)
    steps = opt.defaults["ns_steps"]
    u = grad / np.linalg.norm(grad)
    gram, gram_sq, product = np.empty((n, n), np.float32), np.empty((n, n), np.float32), np.empty_like(u)

    def products():
        for _ in range(steps):
            np.matmul(u, u.T, out=gram)
            np.matmul(gram, gram, out=gram_sq)
            np.matmul(gram, u, out=product)

    times = timing.interleaved({"step": lambda: opt.step([grad]), "products": products}, rounds=args.rounds,
                                  warmup=1)
    step, matmul = timing.median_ms(times["step"]), timing.median_ms(times["products"])
    print(timing.machine_line())
    print(f"Muon step, {n}x{n} float32, median of {args.rounds}: {step:.1f} ms; its {3 * steps} matrix products "
          f"alone: {matmul:.1f} ms ({matmul / step:.1%}); the rest: {step - matmul:.1f} ms ({1 - matmul / step:.1%})")


if __name__ == "__main__":
    main()
