"""optkern's GPU kernels against the GPU's copy bandwidth and torch, in one
run on one GPU (docs/gpu.md).

    python bench/gpu.py [--rounds 20] [--steps 10] [--record]
    python bench/gpu.py --host [--record]

--host needs no GPU: it times what a step costs on the host (the checks,
the plan, the coefficients: everything but the launches, which a device that
launches nothing stands in for), for the 192-tensor Adam and one tensor.

Cases, each timed with CUDA events over --steps calls, the median of
--rounds rounds, every library of a case in turn within a round:
  copy          a device-to-device copy of 256M float32 (reads 4, writes 4
                bytes per element): the bandwidth the others are read against
  Adam 256M     one float32 tensor of 256M elements: torch.optim.Adam with
                fused=True and with foreach=True, optkern.Adam; 28 bytes per
                element (p, g, m, v read, p, m, v written)
  Adam 192      192 tensors shaped like a 12-layer transformer's (85M
                parameters), the same three
  cross_entropy forward and backward of float32 logits 8192 x 32000:
                torch.nn.functional.cross_entropy and backward(),
                optkern.losses.cross_entropy; 12 bytes per element for
                optkern (x read twice, the gradient written over it)
TB/s is the bytes over the median time; "of copy" that over the copy's.
Targets (issue 14): Adam 256M at least 0.92 of the copy bandwidth and
faster than torch fused; Adam 192 at least 1.4x torch fused;
cross_entropy at least 3x torch.
"""

import argparse
import time

import benchutil
import numpy as np

import optkern
from optkern import cuda
from optkern.benchmark import timing


#: its section of bench/RESULTS.md
GPU_SECTION = "GPU: copy bandwidth, Adam and cross_entropy against torch"


def transformer_shapes(layers=12, d=768):
    """192 tensors for 12 layers: per layer two LayerNorms, q, k, v and the
    output projection (weight and bias each), and the MLP's two layers."""
    shapes = []
    for _ in range(layers):
        shapes += [(d,), (d,)] + [(d, d), (d,)] * 4 + [(d,), (d,), (4 * d, d), (4 * d,), (d, 4 * d), (d,)]
    return shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--numel", type=int, default=256 * 2**20)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--host", action="store_true", help="time the host's part of a step only (no GPU needed)")
    args = parser.parse_args()
    if args.host:
        return host(args)
    available, gpu = cuda.available()
    if not available:
        raise SystemExit(f"bench/gpu.py needs a GPU: {gpu}")
    import cupy
    import torch

    def timed(fn):
        """Milliseconds per call of fn, over --steps calls (CUDA events)."""
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        torch.cuda.synchronize()
        start.record()
        for _ in range(args.steps):
            fn()
        stop.record()
        stop.synchronize()
        torch.cuda.synchronize()
        return cupy.cuda.get_elapsed_time(start, stop) / args.steps

    cases = {}   # name: {library: fn}
    moved = {}   # name: bytes per call
    n = args.numel

    src, dst = cupy.ones(n, cupy.float32), cupy.empty(n, cupy.float32)
    cases["copy"] = {"cupy": lambda: cupy.copyto(dst, src)}
    moved["copy"] = 8 * n

    def adam_case(name, shapes):
        rng = np.random.default_rng(0)
        host = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
        grads = [rng.standard_normal(s, dtype=np.float32) * 1e-2 for s in shapes]
        fns = {}
        for mode in ("fused", "foreach"):
            tp = [torch.tensor(p, device="cuda", requires_grad=True) for p in host]
            for t, g in zip(tp, grads):
                t.grad = torch.tensor(g, device="cuda")
            opt = torch.optim.Adam(tp, lr=1e-4, **{mode: True})
            fns[f"torch {mode}"] = opt.step
        params = [cupy.asarray(p) for p in host]
        cg = [cupy.asarray(g) for g in grads]
        opt = optkern.Adam(params, lr=1e-4)
        fns["optkern"] = (lambda o, g: lambda: o.step(g))(opt, cg)
        cases[name] = fns
        moved[name] = 28 * sum(int(np.prod(s)) for s in shapes)

    adam_case("Adam 256M", [(n,)])
    adam_case("Adam 192", transformer_shapes())

    rows, cols = 8192, 32000
    logits = np.random.default_rng(1).standard_normal((rows, cols), dtype=np.float32)
    labels = np.random.default_rng(2).integers(0, cols, rows)
    tx = torch.tensor(logits, device="cuda", requires_grad=True)
    ty = torch.tensor(labels, device="cuda")

    def torch_ce():
        tx.grad = None
        torch.nn.functional.cross_entropy(tx, ty).backward()

    cx, cy, cg = cupy.asarray(logits), cupy.asarray(labels), cupy.empty((rows, cols), cupy.float32)
    cases["cross_entropy 8192x32000"] = {
        "torch": torch_ce, "optkern": lambda: optkern.losses.cross_entropy(cx, cy, out=cg)}
    moved["cross_entropy 8192x32000"] = 12 * rows * cols

    for fns in cases.values():  # compile and warm up
        for fn in fns.values():
            fn()
    times = {(case, lib): [] for case, fns in cases.items() for lib in fns}
    for _ in range(args.rounds):
        for case, fns in cases.items():
            for lib, fn in fns.items():
                times[case, lib].append(timed(fn) / 1e3)

    copy_tbps = moved["copy"] / np.median(times["copy", "cupy"]) / 1e12
    table_rows = []
    for (case, lib), s in times.items():
        tbps = moved[case] / np.median(s) / 1e12
        base = times.get((case, "torch fused"), times.get((case, "torch")))
        vs = f"{timing.paired_ratio(base, s):.2f}" if base is not None and lib != "cupy" else ""
        table_rows.append([case, lib, f"{np.median(s) * 1e3:.3f}", f"{tbps:.2f}", f"{tbps / copy_tbps:.2f}", vs])
    table = timing.markdown_table(["case", "library", "ms", "TB/s", "of copy", "x torch (fused)"], table_rows)

    def ratio(case, a, b):
        return timing.paired_ratio(times[case, a], times[case, b])

    adam_copy = moved["Adam 256M"] / np.median(times["Adam 256M", "optkern"]) / 1e12 / copy_tbps
    targets = "\n".join([
        f"- Adam 256M: {adam_copy:.2f} of the copy bandwidth (target 0.92), "
        f"{ratio('Adam 256M', 'torch fused', 'optkern'):.2f}x torch fused (target > 1)",
        f"- Adam 192 tensors: {ratio('Adam 192', 'torch fused', 'optkern'):.2f}x torch fused (target 1.4)",
        f"- cross_entropy 8192x32000: {ratio('cross_entropy 8192x32000', 'torch', 'optkern'):.2f}x torch "
        "(target 3)",
    ])
    benchutil.finish_report(
        GPU_SECTION, "python bench/gpu.py" + (" --record" if args.record else ""),
        f"{gpu}, CuPy {cupy.__version__}, torch {torch.__version__}; median of {args.rounds} rounds of "
        f"{args.steps} calls; x torch: paired speed-up over torch fused Adam (or torch's cross_entropy).",
        table, targets, args.record)


def host(args):
    """The host's time per step of optkern's GPU Adam, its launches left
    out: the Python side's share of a step, on any machine."""
    from optkern import _backend
    from optkern.cuda._device import CupyDevice, EmulatedDevice

    class NoLaunch(EmulatedDevice):
        """NumPy arrays stand in for the GPU's; nothing is launched."""
        chunk_size, block, parts = CupyDevice.chunk_size, CupyDevice.block, CupyDevice.parts

        def launch(self, *args):
            pass

    device = NoLaunch()
    rows = []
    for name, shapes in (("Adam, 192 tensors (85M)", transformer_shapes()), ("Adam, 1 tensor", [(1024,)])):
        params = [np.zeros(s, np.float32) for s in shapes]
        grads = [np.zeros(s, np.float32) for s in shapes]
        with _backend.emulating(device):
            opt = optkern.Adam(params, lr=1e-3)
            opt.step(grads)  # the first step makes the states and the plans
            samples = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                for _ in range(args.steps):
                    opt.step(grads)
                samples.append((time.perf_counter() - start) / args.steps)
        rows.append([name, f"{np.median(samples) * 1e3:.3f}"])
    table = timing.markdown_table(["optkern GPU step", "host ms per step"], rows)
    benchutil.finish_report(
        "GPU: the host's part of a step", "python bench/gpu.py --host" + (" --record" if args.record else ""),
        f"the median over {args.rounds} rounds of {args.steps} steps of optkern.Adam on the GPU path with its "
        "launches left out: the checks of the gradients, the plan copied and patched, the coefficients from "
        "the C library. A GPU step takes at least this long unless the GPU is the slower side.",
        table, "", args.record)


if __name__ == "__main__":
    main()
