"""`optkern demo --data FILE`: the user's own data set, from a .csv or an
.npz file, checked with one-line errors (optkern.cli.UsageError).

CSV: numbers separated by commas, one sample per line; the last column is
the target. A first line that is not all numbers is a header (its names
are used in messages). Empty lines are skipped.
NPZ (numpy.savez): the target is the array named "y"; the features are the
array named "X", or else the only other array: 2-D (samples x features),
or 1-D for one feature.

The task follows from the target: classification when every value is a
whole number and there are at most MAX_CLASSES distinct ones, else
regression (--task overrides).
"""

import csv
import os
import zipfile

import numpy as np

from optkern.cli import UsageError

__all__ = ["load", "task_of", "describe", "MAX_CLASSES"]

MAX_CLASSES = 50
_MIN_SAMPLES = 10


def load(path):
    """(X float32 (n, d), y float64 (n,)) from `path`."""
    if not os.path.exists(path):
        raise UsageError(f"--data {path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"--data {path}: is a folder, not a .csv or .npz file")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        X, y = _load_csv(path)
    elif ext == ".npz":
        X, y = _load_npz(path)
    else:
        raise UsageError(f"--data {path}: expected a .csv or .npz file, got {ext or 'no extension'}")
    if len(y) < _MIN_SAMPLES:
        raise UsageError(f"--data {path}: {len(y)} samples; the demo needs at least {_MIN_SAMPLES} "
                         "(to split them into training, validation and test sets)")
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise UsageError(f"--data {path}: sample {row}, feature {col} is {X[row, col]} (every value must be finite)")
    if not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise UsageError(f"--data {path}: the target of sample {row} is {y[row]} (every value must be finite)")
    return X.astype(np.float32), y


def _load_csv(path):
    try:
        with open(path, newline="") as f:
            rows = [(k + 1, row) for k, row in enumerate(csv.reader(f)) if any(c.strip() for c in row)]
    except UnicodeDecodeError:
        raise UsageError(f"--data {path}: not a text file (a .csv file is text, one sample per line)") from None
    except (OSError, csv.Error) as e:
        raise UsageError(f"--data {path}: cannot read it as CSV: {e}") from None
    if not rows:
        raise UsageError(f"--data {path}: the file has no data")
    names = None
    if not all(_is_number(c) for c in rows[0][1]):
        names = [c.strip() for c in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise UsageError(f"--data {path}: the file has a header line and no data")
    width = len(rows[0][1])
    if width < 2:
        raise UsageError(f"--data {path}: line {rows[0][0]} has {width} column; the demo needs at least two "
                         "(features, then the target last)")
    values = np.empty((len(rows), width))
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise UsageError(f"--data {path}: line {line} has {len(row)} columns, line {rows[0][0]} has {width}")
        for c, cell in enumerate(row):
            try:
                values[r, c] = float(cell)
            except ValueError:
                column = f"column {c + 1}" + (f" ({names[c]})" if names and c < len(names) and names[c] else "")
                raise UsageError(f"--data {path}: line {line}, {column}: {cell.strip()!r} is not a number "
                                 "(every column must be numeric)") from None
    return values[:, :-1], values[:, -1]


def _is_number(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _load_npz(path):
    if not zipfile.is_zipfile(path):
        raise UsageError(f"--data {path}: not a readable .npz file (an .npz file is a zip archive of arrays)")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise UsageError(f"--data {path}: not a readable .npz file ({e})") from None
    except ValueError:  # object arrays: they would need pickle, which is never used
        raise UsageError(f"--data {path}: an array holds Python objects, which would need pickle; the demo "
                         "loads arrays of numbers only") from None
    if "y" not in arrays:
        raise UsageError(f"--data {path}: no array named 'y' (the target); it has {sorted(arrays) or 'none'}")
    y = arrays.pop("y")
    if "X" in arrays:
        X = arrays["X"]
        name = "X"
    elif len(arrays) == 1:
        name, X = next(iter(arrays.items()))
    else:
        raise UsageError(f"--data {path}: the features must be the array named 'X' or the only array besides "
                         f"'y'; found {sorted(arrays) or 'none'}")
    for what, a in (("y", y), (name, X)):
        if a.dtype.kind not in "biuf":
            raise UsageError(f"--data {path}: array {what!r} has dtype {a.dtype}; it must hold numbers")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise UsageError(f"--data {path}: 'y' has shape {y.shape}; it must be 1-D (one target per sample)")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise UsageError(f"--data {path}: {name!r} has shape {X.shape}; it must be 2-D (samples x features)")
    if len(X) != len(y):
        raise UsageError(f"--data {path}: {name!r} has {len(X)} samples (rows) but 'y' has {len(y)}")
    if X.shape[1] == 0:
        raise UsageError(f"--data {path}: {name!r} has no features (shape {X.shape})")
    return X.astype(np.float64), y.astype(np.float64)


def task_of(y):
    """"classification" or "regression", from the target values."""
    whole = bool(np.all(y == np.round(y)))
    return "classification" if whole and len(np.unique(y)) <= MAX_CLASSES else "regression"


def describe(path, X, y, task):
    classes = f", {len(np.unique(y))} classes" if task == "classification" else ""
    return f"{os.path.basename(path)}: {len(y)} samples x {X.shape[1]} features, {task}{classes}"

