"""`optkern demo`: optkern doing its job, on data shipped with it.

1. Linear regression, the first example of every course on training:
   1000 samples x 10 features, y = X w + 10, MSE loss, full-batch gradient
   descent at lr 0.01 for 1000 epochs; the loss every 100 epochs and the
   weights and bias it finds against the true ones.
2. The same problem on a train/validation/test split with mini-batches:
   SGD, SGD with momentum, Adam, AdaGrad and RMSprop at a fixed learning
   rate, and SGD with momentum under an exponentially decaying and an
   adaptive (reduce-on-plateau) one.
3. Handwritten digits (optkern.datasets.load_digits): a softmax classifier
   and a small MLP trained with several optimizers under a warm-up +
   cosine schedule; test accuracy per optimizer.

With --data FILE, the demo trains on that data set instead (parts 2 and 3's
comparison, for its task). Everything is seeded (--seed).
"""

import platform
import time

import numpy as np

import optkern
from optkern.cli import UsageError
from optkern.data import train_val_test_split
from optkern.datasets import linear_regression, load_digits
from optkern.demo import report, userdata
from optkern.demo.training import MLP, Linear, Task, train

__all__ = ["add_arguments", "run"]

DESCRIPTION = __doc__.split("\n\n", 1)[1].split("\nWith --data")[0].strip() + (
    "\n\nEverything is seeded (--seed); --quick runs it all in a few seconds.")
EPILOG = """examples:
  optkern demo                        the whole demo (about a minute on 2 cores)
  optkern demo --quick                in a few seconds, with fewer epochs
  optkern demo --only digits          part 3 alone
  optkern demo --plot curves.png --json results.json
  optkern demo --data my.csv          your data: last column is the target
  optkern demo --data my.npz          arrays 'X' and 'y'
"""

PARTS = ("regression", "minibatch", "digits")


def add_arguments(parser):
    parser.add_argument("--quick", action="store_true", help="fewer epochs: the whole demo in a few seconds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data, the splits and the models (0)")
    parser.add_argument("--batch-size", type=_positive, default=None, metavar="N",
                        help="mini-batch size (32 for the regression, 64 for the classifiers)")
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="run only this part (repeatable): " + ", ".join(PARTS))
    parser.add_argument("--data", metavar="FILE", help="train on your own .csv or .npz data set instead")
    parser.add_argument("--task", choices=("auto", "regression", "classification"), default="auto",
                        help="with --data: what to learn (auto: from the target's values)")
    parser.add_argument("--plot", metavar="FILE.png", help="save the loss curves as a picture (needs matplotlib)")
    parser.add_argument("--json", metavar="FILE", help="save every number as JSON")


def _positive(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args):
    if args.plot:
        report.require_matplotlib("--plot")  # before any work
        if not args.plot.lower().endswith(".png"):
            raise UsageError(f"--plot {args.plot}: the picture is a PNG file; give a name ending in .png")
    if args.data and args.only:
        raise UsageError("--only chooses parts of the built-in demo; --data trains on your data instead")
    results = {"optkern": optkern.__version__, "isa": optkern.get_isa(), "threads": optkern.get_num_threads(),
               "python": platform.python_version(), "numpy": np.__version__, "seed": args.seed,
               "quick": args.quick}
    panels = []
    start = time.perf_counter()
    print(f"optkern {optkern.__version__} demo: {optkern.get_isa()} kernels, {optkern.get_num_threads()} threads; "
          f"seed {args.seed}{', quick' if args.quick else ''}")
    if args.data:
        results["data"], panel = _user_data(args)
        panels.append(panel)
    else:
        parts = args.only or PARTS
        if "regression" in parts:
            results["regression"], panel = _gradient_descent(args)
            panels.append(panel)
        if "minibatch" in parts:
            results["minibatch"], panel = _minibatch(args)
            panels.append(panel)
        if "digits" in parts:
            results["digits"], panel = _digits(args)
            panels.append(panel)
    results["seconds"] = time.perf_counter() - start
    print(f"\ndone in {results['seconds']:.1f} s")
    if args.json:
        report.write_json(args.json, results)
        print(f"every number: {args.json}")
    if args.plot:
        report.plot(args.plot, panels)
        print(f"loss curves: {args.plot}")
    return 0


# ---------------------------------------------------------------- part 1


def _gradient_descent(args):
    X, y, w_true, b_true = linear_regression(1000, 10, bias=10.0, seed=args.seed)
    epochs, lr = 1000, 0.01
    print(f"\n1. Linear regression: {X.shape[0]} samples x {X.shape[1]} features, y = X.w + {b_true:g} (seeded)\n"
          f"   full-batch gradient descent on the MSE loss, lr {lr}, {epochs} epochs (optkern.SGD)")
    w, b = np.zeros(10, np.float32), np.zeros(1, np.float32)
    opt = optkern.SGD([w, b], lr=lr)
    curve = []
    for epoch in range(epochs + 1):
        loss, dpred = optkern.losses.mse_loss(X @ w + b, y)
        curve.append(float(loss))
        if epoch % 100 == 0:
            print(f"   epoch {epoch:4d}   loss {float(loss):.6g}")
        if epoch < epochs:
            opt.step([X.T @ dpred, dpred.sum(keepdims=True)])
    print("   weights  true     " + " ".join(f"{v:7.4f}" for v in w_true))
    print("            learned  " + " ".join(f"{v:7.4f}" for v in w))
    print(f"   bias     true     {b_true:7.4f}\n            learned  {b[0]:7.4f}")
    data = {"epochs": epochs, "lr": lr, "loss": curve, "true_weights": w_true, "weights": w,
            "true_bias": float(b_true), "bias": float(b[0])}
    return data, ("1. gradient descent, MSE", "training loss", {"full-batch GD": curve[1:]}, True)


# ---------------------------------------------------------------- part 2

_MINIBATCH_RUNS = [
    ("SGD", "fixed"), ("SGD momentum", "fixed"), ("Adam", "fixed"), ("AdaGrad", "fixed"), ("RMSprop", "fixed"),
    ("SGD momentum", "exponential"), ("SGD momentum", "plateau"),
]


# each optimizer's learning rate for this problem (the bias, 10, is far
# from where the weights start: the adaptive ones need larger steps)
_MINIBATCH_LRS = {"SGD": 0.01, "SGD momentum": 0.01, "Adam": 0.1, "AdaGrad": 1.0, "RMSprop": 0.03}


def _minibatch(args):
    X, y, _, _ = linear_regression(1000, 10, bias=10.0, seed=args.seed)
    splits = train_val_test_split(X, y, seed=args.seed)
    epochs = 10 if args.quick else 50
    batch = args.batch_size or 32
    print(f"\n2. The same problem, split {len(splits[0][0])}/{len(splits[1][0])}/{len(splits[2][0])} "
          f"(train/validation/test), mini-batches of {batch}, {epochs} epochs")
    runs = _compare(lambda rng: Linear(10, 1, rng), Task("regression"), _MINIBATCH_RUNS, splits, epochs, batch,
                    args.seed, "regression", lrs=_MINIBATCH_LRS)
    _print_runs(runs, "regression")
    return [r.as_dict() for r in runs], ("2. mini-batches, MSE", "validation loss",
                                         {f"{r.optimizer}, {r.schedule}": r.val_loss for r in runs}, True)


# ---------------------------------------------------------------- part 3

_DIGITS_OPTIMIZERS = ["SGD momentum", "Adam", "AdamW", "AdaGrad", "RMSprop"]


def _digits(args):
    images, target = load_digits()
    X = (images.reshape(len(images), -1) / 16.0).astype(np.float32)
    y = target.astype(np.int64)
    splits = train_val_test_split(X, y, fractions=(0.7, 0.15, 0.15), seed=args.seed)
    epochs = 6 if args.quick else 30
    batch = args.batch_size or 64
    print(f"\n3. Handwritten digits: {len(X)} 8x8 images, 10 classes (UCI, CC BY 4.0), split "
          f"{len(splits[0][0])}/{len(splits[1][0])}/{len(splits[2][0])}\n"
          f"   softmax classifier and MLP 64-128-10 (ReLU), cross-entropy, mini-batches of {batch}, {epochs} epochs, "
          "lr with warm-up + cosine decay")
    task = Task("classification", 10)
    runs = []
    for model in (Linear, MLP):
        plan = [(name, "cosine") for name in _DIGITS_OPTIMIZERS]
        runs += _compare(lambda rng, m=model: m(64, 10, rng), task, plan, splits, epochs, batch, args.seed,
                         f"digits, {model.name}", lrs={"SGD momentum": 0.05, "AdamW": 0.003, "Adam": 0.003,
                                                       "RMSprop": 0.001, "AdaGrad": 0.05})
    _print_runs(runs, "classification")
    return [r.as_dict() for r in runs], ("3. digits, cross-entropy", "validation loss",
                                         {f"{r.model}, {r.optimizer}": r.val_loss for r in runs}, True)


# ---------------------------------------------------------------- --data


def _user_data(args):
    X, y = userdata.load(args.data)
    task_kind = userdata.task_of(y) if args.task == "auto" else args.task
    if task_kind == "classification":
        if not np.all(y == np.round(y)):
            raise UsageError(f"--data {args.data}: --task classification needs whole-number targets (classes)")
        classes, y = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise UsageError(f"--data {args.data}: the target has one class ({classes[0]:g}); nothing to classify")
        task = Task("classification", len(classes))
    else:
        y = y.astype(np.float32)
        task = Task("regression")
    splits = train_val_test_split(X, y, seed=args.seed)
    (X_tr, _), _, _ = splits
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    splits = tuple(((Xs - mean) / std, ys) for Xs, ys in splits)
    if task.kind == "regression":  # standardise the target too: one learning rate suits every data set
        y_mean, y_std = float(splits[0][1].mean()), float(splits[0][1].std()) or 1.0
        splits = tuple((Xs, ((ys - y_mean) / y_std).astype(np.float32)) for Xs, ys in splits)
    epochs = 8 if args.quick else 40
    batch = args.batch_size or 32
    d = X.shape[1]
    print(f"\n{userdata.describe(args.data, X, y, task.kind)}; split "
          f"{len(splits[0][0])}/{len(splits[1][0])}/{len(splits[2][0])}, features standardised"
          + (", target standardised" if task.kind == "regression" else "")
          + f", mini-batches of {batch}, {epochs} epochs")
    plan = [(name, "fixed") for name in ("SGD momentum", "Adam", "AdaGrad", "RMSprop")]
    runs = []
    for model in (Linear, MLP):
        runs += _compare(lambda rng, m=model: m(d, task.n_outputs, rng), task, plan, splits, epochs, batch,
                         args.seed, model.name)
    _print_runs(runs, task.kind)
    data = {"file": args.data, "task": task.kind, "samples": len(y), "features": d, "runs": [r.as_dict() for r in runs]}
    return data, ("your data", "validation loss", {f"{r.model}, {r.optimizer}": r.val_loss for r in runs}, True)


# ---------------------------------------------------------------- shared


def _compare(make_model, task, plan, splits, epochs, batch, seed, label, lrs=None):
    """One Run per (optimizer, schedule) of plan, each on a fresh model from
    the same seed."""
    progress = report.Progress(len(plan) * epochs, label)
    runs = []
    for optimizer, schedule in plan:
        model = make_model(np.random.default_rng(seed))
        runs.append(train(model, task, optimizer, schedule, splits, epochs, batch, seed, progress.advance,
                          lr=(lrs or {}).get(optimizer)))
    progress.close()
    return runs


def _print_runs(runs, kind):
    if kind == "classification":
        header = ["model", "optimizer", "schedule", "final train loss", "val accuracy", "test accuracy",
                  "ms/epoch"]
        rows = [[r.model, r.optimizer, r.schedule, f"{r.train_loss[-1]:.4f}", f"{r.val_accuracy:.1%}",
                 f"{r.test_accuracy:.1%}", f"{1e3 * r.seconds_per_epoch:.1f}"] for r in runs]
    else:
        header = ["model", "optimizer", "schedule", "final train loss", "val loss", "test loss", "ms/epoch"]
        rows = [[r.model, r.optimizer, r.schedule, f"{r.train_loss[-1]:.4g}", f"{r.val_loss[-1]:.4g}",
                 f"{r.test_loss:.4g}", f"{1e3 * r.seconds_per_epoch:.1f}"] for r in runs]
    print(report.table(header, rows))
