"""Fewer bytes per step: Adam with 16-bit parameters, gradients and states,
master weights and stochastic rounding, against optkern's float32 Adam and
torch's fused Adam on bfloat16 tensors, paired in one run.

    python bench/precision.py [--numel 16777216] [--rounds 15] [--threads 2] [--record]

Each round calls every variant once, in turn (timing.interleaved). Bytes per
element are what the step must move: Adam reads p, g, m, v and writes p, m,
v; a master copy is read and written besides the 16-bit parameter, which is
then only written. GB/s is those bytes over the median time.
Targets (issue 13, 16M elements, 2 threads): float32 parameters with
bfloat16 states at least 1.3x faster than float32 Adam; bfloat16 parameters
and gradients with float32 states at least 1.2x; everything bfloat16 with
stochastic rounding at least 1.8x.
"""

import benchutil
import ml_dtypes
import numpy as np
import torch

import optkern
from optkern.benchmark import peers, timing

BF16 = np.dtype(ml_dtypes.bfloat16)
F32 = np.dtype(np.float32)

# name: (param dtype, grad dtype, optimizer options, bytes per element)
VARIANTS = {
    "float32": (F32, F32, {}, 28),
    "float32 params, bfloat16 states": (F32, F32, {"state_dtype": "bfloat16"}, 20),
    "bfloat16 params and grads, float32 states": (BF16, BF16, {"state_dtype": "float32"}, 22),
    "bfloat16 params, float32 grads and states": (BF16, F32, {"state_dtype": "float32"}, 24),
    "bfloat16, float32 states, master weights": (BF16, BF16, {"state_dtype": "float32", "master_weights": True}, 30),
    "bfloat16 everything, nearest": (BF16, BF16, {}, 14),
    "bfloat16 everything, stochastic rounding": (BF16, BF16, {"stochastic_rounding": True}, 14),
}


def main():
    parser = benchutil.paired_parser(__doc__)
    parser.add_argument("--numel", type=int, default=16 * 2**20)
    args = parser.parse_args()
    peers.set_threads(args.threads)  # optkern's and torch's
    rng = np.random.default_rng(0)
    n = args.numel
    fns, moved = {}, {}
    for name, (p_dtype, g_dtype, options, nbytes) in VARIANTS.items():
        opt = optkern.Adam([rng.standard_normal(n, dtype=np.float32).astype(p_dtype)], lr=1e-4, **options)
        g = rng.standard_normal(n, dtype=np.float32).astype(g_dtype)
        fns[name] = (lambda o, grads: lambda: o.step(grads))(opt, [g])
        moved[name] = nbytes * n
    p = torch.nn.Parameter(torch.randn(n, dtype=torch.bfloat16))
    p.grad = torch.randn(n, dtype=torch.bfloat16)
    topt = torch.optim.Adam([p], lr=1e-4, fused=True)
    fns["torch fused Adam, bfloat16 everything"] = topt.step
    moved["torch fused Adam, bfloat16 everything"] = 14 * n
    times = timing.interleaved(fns, rounds=args.rounds, warmup=2)
    base = times["float32"]
    table = benchutil.bytes_table("Adam", times, moved, lambda name: n, lambda name: base,
                                  "speed-up over float32 (paired)")

    def target(name, goal):
        ratio = timing.paired_ratio(base, times[name])
        return f"- {name}: {ratio:.2f}x float32 Adam (target at least {goal}x: {timing.verdict(ratio >= goal)})."

    torch_ratio = timing.paired_ratio(times["torch fused Adam, bfloat16 everything"],
                                      times["bfloat16 everything, stochastic rounding"])
    targets = "\n".join([
        target("float32 params, bfloat16 states", 1.3),
        target("bfloat16 params and grads, float32 states", 1.2),
        target("bfloat16 everything, stochastic rounding", 1.8),
        f"- (no target) bfloat16 everything with stochastic rounding is {torch_ratio:.2f}x faster than torch's "
        "fused Adam on bfloat16 tensors (which rounds to nearest).",
    ])
    command = "python bench/precision.py" + (f" --rounds {args.rounds}" if args.rounds != 15 else "")
    explanation = (f"Adam on {n} elements, {args.threads} threads, {args.rounds} rounds, every variant once per "
                   "round; speed-ups are paired per round, then the median.")
    benchutil.finish_report("Adam in fewer bytes", command, explanation, table, targets, args.record)


if __name__ == "__main__":
    main()
