"""clip_grad_norm_ over many small float32 arrays: optkern against torch's
fastest variant (torch.nn.utils.clip_grad_norm_ with foreach=True; for CPU
tensors foreach=None picks it too), paired in one run.

    python bench/clip.py [--arrays 1000] [--size 1024] [--rounds 15] [--threads 2] [--record]

Each round calls both once, in turn (timing.interleaved), on gradients
whose norm is above max_norm (so both scale every element). The same
gradients are clipped over and over: after the first call their norm is
max_norm, and each later call multiplies by a coefficient just under 1,
which costs the same as any other.
Target (issue 9): optkern at least 10x faster at 1000 x 1024, 2 threads.
"""

import benchutil
import numpy as np
import torch

import optkern
from optkern.benchmark import peers, timing


def main():
    parser = benchutil.paired_parser(__doc__)
    parser.add_argument("--arrays", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    peers.set_threads(args.threads)  # optkern's and torch's
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(args.size, dtype=np.float32) for _ in range(args.arrays)]
    params = []
    for g in grads:
        p = torch.zeros(args.size, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    max_norm = 1.0  # the norm is about sqrt(arrays * size): always clipped

    times = timing.interleaved(
        {
            "optkern": lambda: optkern.clip_grad_norm_(grads, max_norm),
            "torch_foreach": lambda: torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True),
        },
        rounds=args.rounds,
        warmup=2,
    )
    nbytes = 3 * 4 * args.arrays * args.size  # the norm's read, then the scaling's read and write
    rows = [[name, f"{timing.median_ms(s):.3f}", f"{timing.gbps(nbytes, s):.1f}"] for name, s in times.items()]
    ratio = timing.paired_ratio(times["torch_foreach"], times["optkern"])
    target = (f"- optkern {ratio:.2f}x faster than torch's clip_grad_norm_(foreach=True), paired median "
              f"(target at least 10x: {timing.verdict(ratio >= 10)}).")
    command = "python bench/clip.py" + (f" --rounds {args.rounds}" if args.rounds != 15 else "")
    explanation = (f"clip_grad_norm_ over {args.arrays} arrays of {args.size} float32, {args.threads} threads, "
                   f"{args.rounds} rounds (a norm above max_norm, so both scale every element), against torch's "
                   "fastest variant.")
    table = timing.markdown_table(["", "ms", "GB/s"], rows)
    benchutil.finish_report("Gradient clipping", command, explanation, table, target, args.record)


if __name__ == "__main__":
    main()
