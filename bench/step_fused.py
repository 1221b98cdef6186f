"""Clipping and loss scaling fused into the step: Adam on one float32
array, alone, with max_grad_norm, and under a GradScaler, against torch's
clip_grad_norm_ followed by its fused Adam, paired in one run.

    python bench/step_fused.py [--numel 16777216] [--rounds 15] [--threads 2] [--record]

Each round calls every variant once, in turn (timing.interleaved):

  adam             optkern.Adam.step(grads)
  adam+clip        optkern.Adam(max_grad_norm=1.0).step(grads): the norm's
                   read of g, then the update, which scales g as it reads it
  adam+scaler      GradScaler.step(opt, grads) and update(): the inf/NaN
                   check's read of g, then the update, which unscales g
  torch clip+adam  torch.nn.utils.clip_grad_norm_ (foreach) then
                   torch.optim.Adam(fused=True).step()
  torch scaler     torch.amp.GradScaler("cpu").step with fused Adam, update()

The gradients are the same every round; their norm is above max_norm, so
every element is scaled. Bytes per element (float32): Adam reads p, g, m,
v and writes p, m, v (28); the fused variants add one read of g (32);
torch's clip+Adam reads g for the norm, reads and writes it to scale it,
then runs its 28-byte Adam (40).
Targets (issue 9): adam+clip at most 1.2x adam and at least 1.3x faster
than torch clip+adam; adam+scaler at most 1.1x adam.
"""

import benchutil
import numpy as np
import torch

import optkern
from optkern.benchmark import peers, timing


def main():
    parser = benchutil.paired_parser(__doc__)
    parser.add_argument("--numel", type=int, default=16 * 2**20)
    args = parser.parse_args()
    peers.set_threads(args.threads)  # optkern's and torch's
    rng = np.random.default_rng(0)
    g = rng.standard_normal(args.numel, dtype=np.float32)
    max_norm = 1.0  # the norm is about sqrt(numel): always clipped

    def adam(**kwargs):
        return optkern.Adam([rng.standard_normal(args.numel, dtype=np.float32)], lr=1e-4, **kwargs)

    plain, clipped, scaled = adam(), adam(max_grad_norm=max_norm), adam()
    scaler = optkern.amp.GradScaler()
    scaled_g = scaler.scale(g)

    def scaler_step():
        scaler.step(scaled, [scaled_g])
        scaler.update()

    def torch_adam():
        p = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(args.numel, dtype=np.float32)))
        p.grad = torch.from_numpy(g.copy())
        return p, torch.optim.Adam([p], lr=1e-4, fused=True)

    tp, topt = torch_adam()

    def torch_clip_adam():
        torch.nn.utils.clip_grad_norm_([tp], max_norm, foreach=True)
        topt.step()

    sp, sopt = torch_adam()
    tscaler = torch.amp.GradScaler("cpu")
    tscaler.scale(torch.ones(()))
    sp.grad.mul_(tscaler.get_scale())

    def torch_scaler_step():
        tscaler.step(sopt)
        tscaler.update()
        sp.grad.copy_(torch.from_numpy(scaled_g))  # torch's step unscaled the gradient in place

    times = timing.interleaved(
        {
            "adam": lambda: plain.step([g]),
            "adam+clip": lambda: clipped.step([g]),
            "adam+scaler": scaler_step,
            "torch clip+adam": torch_clip_adam,
            "torch scaler": torch_scaler_step,
        },
        rounds=args.rounds,
        warmup=2,
    )
    n = args.numel
    moved = {"adam": 28 * n, "adam+clip": 32 * n, "adam+scaler": 32 * n, "torch clip+adam": 40 * n,
             "torch scaler": 48 * n}
    rows = [[name, f"{timing.median_ms(s):.2f}", f"{timing.gbps(moved[name], s):.1f}",
             f"{timing.paired_ratio(s, times['adam']):.3f}"] for name, s in times.items()]
    table = timing.markdown_table(["variant", "ms", "GB/s (bytes it must move)", "time / adam (paired)"], rows)
    clip_over_adam = timing.paired_ratio(times["adam+clip"], times["adam"])
    clip_vs_torch = timing.paired_ratio(times["torch clip+adam"], times["adam+clip"])
    scaler_over_adam = timing.paired_ratio(times["adam+scaler"], times["adam"])

    targets = "\n".join([
        f"- Adam with max_grad_norm: {clip_over_adam:.3f}x the time of Adam alone (target at most 1.2x: "
        f"{timing.verdict(clip_over_adam <= 1.2)}); {clip_vs_torch:.2f}x faster than torch's clip_grad_norm_ then "
        f"fused Adam (target at least 1.3x: {timing.verdict(clip_vs_torch >= 1.3)}).",
        f"- GradScaler step with Adam: {scaler_over_adam:.3f}x the time of Adam alone (target at most 1.1x: "
        f"{timing.verdict(scaler_over_adam <= 1.1)}).",
    ])
    command = "python bench/step_fused.py" + (f" --rounds {args.rounds}" if args.rounds != 15 else "")
    explanation = (f"Adam on {n} float32 elements, {args.threads} threads, {args.rounds} rounds, every variant "
                   "once per round; ratios are paired per round, then the median.")
    benchutil.finish_report("Fused clipping and loss scaling", command, explanation, table, targets, args.record)


if __name__ == "__main__":
    main()
