"""Losses in fewer bytes: cross_entropy and mse_loss on bfloat16 and float16
inputs against the same losses on float32, and torch's cross_entropy
(forward and backward) on the CPU in float32 and bfloat16, paired in one run.

    python bench/losses_16bit.py [--rows 4096] [--classes 32000] [--numel 16777216] [--rounds 15] [--threads 2] [--record]

Each round calls every case once, in turn (timing.interleaved). Every
optkern call writes its gradient into a buffer of its own (out=), so no
call allocates. Bytes per element are what a call must move: the logits
(or input and target) read, the gradient written. GB/s is those bytes over
the median time. 16-bit losses compute in float32 and round the gradient
once (docs/precision.md#losses-in-16-bits); cross_entropy recomputes an
exp per logit instead of keeping it in the gradient's place.
Target (issue 13, 4096 x 32000 logits, 2 threads): cross_entropy on
bfloat16 logits at least 1.5x faster than on float32.
"""

import functools

import benchutil
import ml_dtypes
import numpy as np

from optkern import losses
from optkern.benchmark import peers, timing

DTYPES = {"float32": np.dtype(np.float32), "bfloat16": np.dtype(ml_dtypes.bfloat16),
          "float16": np.dtype(np.float16)}


def torch_cross_entropy(torch, logits, labels, dtype):
    x = torch.from_numpy(logits.astype(np.float32)).to(dtype).requires_grad_(True)
    y = torch.from_numpy(labels)

    def run():
        x.grad = None
        torch.nn.functional.cross_entropy(x, y).backward()
    return run


def main():
    parser = benchutil.paired_parser(__doc__)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--classes", type=int, default=32000)
    parser.add_argument("--numel", type=int, default=16 * 2**20)
    args = parser.parse_args()
    torch = _torch()
    peers.set_threads(args.threads)
    rng = np.random.default_rng(0)
    logits = (2 * rng.standard_normal((args.rows, args.classes), dtype=np.float32))
    labels = rng.integers(0, args.classes, args.rows)
    x = rng.standard_normal(args.numel, dtype=np.float32)
    y = rng.standard_normal(args.numel, dtype=np.float32)
    fns, moved = {}, {}
    for name, dtype in DTYPES.items():
        z, g = logits.astype(dtype), np.empty(logits.shape, dtype)
        fns[f"cross_entropy {name}"] = functools.partial(losses.cross_entropy, z, labels, out=g)
        moved[f"cross_entropy {name}"] = 2 * dtype.itemsize * logits.size
        a, b, g = x.astype(dtype), y.astype(dtype), np.empty(x.shape, dtype)
        fns[f"mse_loss {name}"] = functools.partial(losses.mse_loss, a, b, out=g)
        moved[f"mse_loss {name}"] = 3 * dtype.itemsize * x.size
    if torch is not None:
        for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
            fns[f"torch cross_entropy {name}"] = torch_cross_entropy(torch, logits, labels, dtype)
            moved[f"torch cross_entropy {name}"] = 2 * (4 if name == "float32" else 2) * logits.size
    times = timing.interleaved(fns, rounds=args.rounds, warmup=2)

    def base(name):
        return times[("mse_loss" if name.startswith("mse_loss") else "cross_entropy") + " float32"]

    table = benchutil.bytes_table("loss", times, moved, lambda name: x.size if name.startswith("mse") else logits.size,
                                  base, "speed-up over optkern float32 (paired)")
    ratio = timing.paired_ratio(times["cross_entropy float32"], times["cross_entropy bfloat16"])
    targets = (f"- cross_entropy on bfloat16 logits: {ratio:.2f}x float32 "
               f"(target at least 1.5x: {timing.verdict(ratio >= 1.5)}).")
    command = "python bench/losses_16bit.py" + (f" --rounds {args.rounds}" if args.rounds != 15 else "")
    explanation = (f"cross_entropy on {args.rows} x {args.classes} logits, mse_loss on {args.numel} elements, "
                   f"{args.threads} threads, {args.rounds} rounds, every case once per round; speed-ups are "
                   "paired per round, then the median.")
    benchutil.finish_report("Losses in 16 bits", command, explanation, table, targets, args.record)


def _torch():
    """torch, or None where it is not importable (its rows are left out)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


if __name__ == "__main__":
    main()
