"""The models and the training loop of optkern's demo: NumPy matmuls for
the forward and backward passes, optkern's losses for the loss and its
gradient, optkern's optimizers for the update.

A model is a list of parameter arrays with forward(X) and backward(dout),
which returns one gradient per parameter. A task says how the model's
output meets the target: "regression" (one output, mse_loss) or
"classification" (one output per class, cross_entropy, and accuracy).
"""

import time
from dataclasses import dataclass, field

import numpy as np

import optkern
from optkern import lr_scheduler, schedules
from optkern.data import batches
from optkern.optim.optimizer import scheduled_lr

__all__ = ["Linear", "MLP", "Task", "Run", "train", "OPTIMIZERS"]


class Linear:
    """out = X W + b."""

    name = "linear"

    def __init__(self, n_in, n_out, rng):
        self.W = np.zeros((n_in, n_out), np.float32)
        self.b = np.zeros(n_out, np.float32)
        self.params = [self.W, self.b]

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dout):
        return [self.X.T @ dout, dout.sum(axis=0)]


class MLP:
    """out = relu(X W1 + b1) W2 + b2, He-initialised from rng."""

    name = "MLP"

    def __init__(self, n_in, n_out, rng, hidden=128):
        self.W1 = (rng.standard_normal((n_in, hidden)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        self.b1 = np.zeros(hidden, np.float32)
        self.W2 = (rng.standard_normal((hidden, n_out)) * np.sqrt(1.0 / hidden)).astype(np.float32)
        self.b2 = np.zeros(n_out, np.float32)
        self.params = [self.W1, self.b1, self.W2, self.b2]

    def forward(self, X):
        self.X = X
        self.h = np.maximum(X @ self.W1 + self.b1, 0.0)
        return self.h @ self.W2 + self.b2

    def backward(self, dout):
        dh = dout @ self.W2.T
        dh *= self.h > 0
        return [self.X.T @ dh, dh.sum(axis=0), self.h.T @ dout, dout.sum(axis=0)]


class Task:
    """How outputs meet targets: "regression" (mse_loss on one output) or
    "classification" (cross_entropy over n_classes outputs)."""

    def __init__(self, kind, n_classes=0):
        self.kind = kind
        self.n_outputs = n_classes if kind == "classification" else 1

    def loss(self, out, y):
        """(loss, dout) for a batch."""
        if self.kind == "classification":
            return optkern.losses.cross_entropy(out, y)
        loss, g = optkern.losses.mse_loss(out[:, 0], y)
        return loss, g[:, None]

    def evaluate(self, model, X, y):
        """(loss, accuracy or None) on a whole set."""
        out = model.forward(X)
        loss, _ = self.loss(out, y)
        if self.kind == "classification":
            return float(loss), float((out.argmax(axis=1) == y).mean())
        return float(loss), None


# The optimizers the demo compares: label -> (class, keyword arguments).
# Learning rates are each optimizer's usual ones for small problems.
OPTIMIZERS = {
    "SGD": (optkern.SGD, {"lr": 0.01}),
    "SGD momentum": (optkern.SGD, {"lr": 0.01, "momentum": 0.9}),
    "Adam": (optkern.Adam, {"lr": 0.01}),
    "AdamW": (optkern.AdamW, {"lr": 0.01, "weight_decay": 1e-2}),
    "AdaGrad": (optkern.Adagrad, {"lr": 0.1}),
    "RMSprop": (optkern.RMSprop, {"lr": 0.001}),
}


@dataclass
class Run:
    """One training run: what was trained and how, and every number."""

    model: str
    optimizer: str
    schedule: str
    train_loss: list = field(default_factory=list)   # per epoch: the mean loss of its batches
    val_loss: list = field(default_factory=list)     # per epoch, after it
    lr: list = field(default_factory=list)           # per epoch, the last step's
    test_loss: float = float("nan")
    test_accuracy: float = None
    val_accuracy: float = None
    seconds_per_epoch: float = 0.0

    def as_dict(self):
        return dict(self.__dict__)


def _schedule(kind, opt, base_lr, epochs, steps_per_epoch):
    """(per-epoch scheduler or None, its label). "cosine" replaces the
    optimizer's lr by an optax-style schedule of the step count (warm-up
    over the first epoch, then a cosine to 0)."""
    if kind == "fixed":
        return None, "fixed"
    if kind == "exponential":
        return lr_scheduler.ExponentialLR(opt, gamma=0.95), "exponential (x0.95/epoch)"
    if kind == "plateau":
        return lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2), "reduce on plateau"
    if kind == "cosine":
        total = epochs * steps_per_epoch
        opt.param_groups[0]["lr"] = schedules.warmup_cosine_decay_schedule(
            0.0, base_lr, warmup_steps=steps_per_epoch, decay_steps=total)
        return None, "warm-up + cosine"
    raise ValueError(kind)


def train(model, task, optimizer, schedule, splits, epochs, batch_size, seed, progress=None, lr=None):
    """Train `model` on splits ((X_tr, y_tr), (X_va, y_va), (X_te, y_te))
    with optimizer label `optimizer` (OPTIMIZERS) under `schedule` ("fixed",
    "exponential", "plateau", "cosine"); return a Run. progress: called
    once per epoch."""
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = splits
    cls, kwargs = OPTIMIZERS[optimizer]
    kwargs = dict(kwargs, **({"lr": lr} if lr is not None else {}))
    opt = cls(model.params, **kwargs)
    loader = batches(X_tr, y_tr, batch_size=batch_size, seed=seed)
    sched, label = _schedule(schedule, opt, kwargs["lr"], epochs, len(loader))
    run = Run(model.name, optimizer, label)
    seconds, steps = 0.0, 0
    for _ in range(epochs):
        start = time.perf_counter()
        total, count = 0.0, 0
        for xb, yb in loader:
            out = model.forward(xb)
            loss, dout = task.loss(out, yb)
            opt.step(model.backward(dout))
            steps += 1
            total += float(loss) * len(xb)
            count += len(xb)
        seconds += time.perf_counter() - start
        val_loss, _ = task.evaluate(model, X_va, y_va)
        run.train_loss.append(total / count)
        run.val_loss.append(val_loss)
        run.lr.append(float(scheduled_lr(opt.param_groups[0]["lr"], steps - 1)))
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(val_loss)
        elif sched is not None:
            sched.step()
        if progress:
            progress()
    run.seconds_per_epoch = seconds / max(epochs, 1)
    run.test_loss, run.test_accuracy = task.evaluate(model, X_te, y_te)
    _, run.val_accuracy = task.evaluate(model, X_va, y_va)
    return run
