"""8-bit optimizer states: optkern's Adam8bit (and its bfloat16-parameter
form) against optkern's float32 Adam, bitsandbytes' CPU Adam8bit and
torchao's AdamW8bit where importable, paired in one run.

    python bench/eightbit.py [--numel 16777216] [--rounds 15] [--threads 2] [--record]

Each round calls every variant once, in turn (timing.interleaved). Bytes per
element are what the step must move: Adam8bit reads and writes p (4 + 4),
reads g (4), reads and writes two 1-byte codes (4) and a 4-byte scale per
256 elements per state (negligible): 16; with bfloat16 parameters and
gradients 10; float32 Adam 28. GB/s is those
bytes over the median time.
Targets (issue 13, 16M elements, 2 threads): Adam8bit with float32
parameters at least 1.6x faster than float32 Adam, and at least 5x faster
than bitsandbytes' CPU Adam8bit.
"""

import importlib

import benchutil
import numpy as np

import optkern
from optkern.benchmark import peers, timing

F32 = np.dtype(np.float32)


def _module(name):
    try:
        return importlib.import_module(name)
    except Exception:  # not installed, or unusable here: its rows are left out
        return None


def main():
    parser = benchutil.paired_parser(__doc__)
    parser.add_argument("--numel", type=int, default=16 * 2**20)
    args = parser.parse_args()
    peers.set_threads(args.threads)
    rng = np.random.default_rng(0)
    n = args.numel
    fns, moved = {}, {}

    def add(name, opt, grads, nbytes):
        fns[name] = (lambda o, g: lambda: o.step(g))(opt, grads)
        moved[name] = nbytes * n

    g = rng.standard_normal(n, dtype=np.float32)
    add("optkern Adam, float32", optkern.Adam([rng.standard_normal(n, dtype=np.float32)], lr=1e-4), [g], 28)
    add("optkern Adam8bit, float32 params", optkern.Adam8bit([rng.standard_normal(n, dtype=np.float32)], lr=1e-4),
        [g], 16)
    ml_dtypes = _module("ml_dtypes")
    if ml_dtypes is not None:
        bf16 = np.dtype(ml_dtypes.bfloat16)
        add("optkern Adam8bit, bfloat16 params and grads",
            optkern.Adam8bit([rng.standard_normal(n, dtype=np.float32).astype(bf16)], lr=1e-4), [g.astype(bf16)], 10)
    torch = _module("torch")
    bnb = _module("bitsandbytes") if torch is not None else None
    if bnb is not None:
        p = torch.nn.Parameter(torch.randn(n))
        p.grad = torch.randn(n)
        fns["bitsandbytes Adam8bit (CPU)"] = bnb.optim.Adam8bit([p], lr=1e-4).step
        moved["bitsandbytes Adam8bit (CPU)"] = 16 * n
    torchao = _module("torchao.optim") if torch is not None else None
    if torchao is not None:
        p = torch.nn.Parameter(torch.randn(n))
        p.grad = torch.randn(n)
        fns["torchao AdamW8bit (CPU)"] = torchao.AdamW8bit([p], lr=1e-4).step
        moved["torchao AdamW8bit (CPU)"] = 16 * n
    times = timing.interleaved(fns, rounds=args.rounds, warmup=2)
    base = times["optkern Adam, float32"]
    table = benchutil.bytes_table("Adam", times, moved, lambda name: n, lambda name: base,
                                  "speed-up over float32 Adam (paired)")
    ours = times["optkern Adam8bit, float32 params"]
    ratio = timing.paired_ratio(base, ours)
    targets = [f"- Adam8bit, float32 params: {ratio:.2f}x float32 Adam (target at least 1.6x: "
               f"{timing.verdict(ratio >= 1.6)})."]
    if "bitsandbytes Adam8bit (CPU)" in times:
        r = timing.paired_ratio(times["bitsandbytes Adam8bit (CPU)"], ours)
        targets.append(f"- Adam8bit: {r:.2f}x bitsandbytes' CPU Adam8bit (target at least 5x: {timing.verdict(r >= 5)}).")
    else:
        targets.append("- bitsandbytes is not importable here: its target was not measured.")
    command = "python bench/eightbit.py" + (f" --rounds {args.rounds}" if args.rounds != 15 else "")
    explanation = (f"Adam on {n} elements, {args.threads} threads, {args.rounds} rounds, every variant once per "
                   "round; speed-ups are paired per round, then the median.")
    benchutil.finish_report("Adam with 8-bit states", command, explanation, table, "\n".join(targets), args.record)


if __name__ == "__main__":
    main()
