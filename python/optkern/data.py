"""Splitting a data set and feeding it in mini-batches, over NumPy arrays.

Every function takes one or more arrays whose first axis is the sample axis
(the same length in all of them: inputs, targets, weights, ...) and keeps
them aligned: row i of one array goes where row i of every other goes.

Design:

1. No copy of the whole data set per epoch. Without shuffling a batch is a
   slice, a view of the arrays; with shuffling an epoch draws one
   permutation of the sample indices (8 bytes a sample) and each batch
   gathers only its own rows with fancy indexing. np.memmap arrays work the
   same way, so a data set larger than memory is read batch by batch.
2. Randomness comes from a numpy.random.Generator. `seed` is anything
   numpy.random.default_rng takes: None (fresh entropy), an int or a
   SeedSequence (the same results every time), or a Generator, which is
   used as it is and advanced, as scikit-learn uses a RandomState passed as
   random_state.
3. Everything is checked when the function is called, before a batch is
   made: batches() raises at the call, not at the first next().
4. Results are tuples aligned with the arrays given, also for one array, as
   torch's DataLoader yields a one-element sequence for a one-tensor data set.
"""

import math
import numbers
import operator

import numpy as np

__all__ = ["train_val_test_split", "batches", "Batches"]


def _check_arrays(arrays, where):
    """The arrays, checked: at least one, each a numpy.ndarray with a first
    axis, all of the same length along it. Returns that length."""
    if not arrays:
        raise TypeError(f"{where}() needs at least one array")
    for k, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{where}() takes NumPy arrays; argument {k} is a {type(a).__name__} "
                            f"(convert it with numpy.asarray)")
        if a.ndim == 0:
            raise ValueError(f"{where}(): argument {k} is a 0-d array; the arrays need a first (sample) axis")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"{where}(): the arrays must have the same length along their first axis "
                         f"(one row per sample), got lengths {lengths}")
    return lengths[0]


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _generator(seed):
    """numpy.random.default_rng(seed), with a clear message for what it refuses."""
    if isinstance(seed, (bool, np.bool_)) or isinstance(seed, np.random.RandomState):
        raise TypeError(f"seed must be None, an int, a numpy.random.SeedSequence or a numpy.random.Generator, "
                        f"got {seed!r}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as e:
        raise type(e)(f"seed must be None, a non-negative int, a numpy.random.SeedSequence or a "
                      f"numpy.random.Generator, got {seed!r} ({e})") from None


def _split_sizes(n, fractions):
    """The three sizes for n samples: the boundaries are round(n * f0) and
    round(n * (f0 + f1)) (halves round up), so that the sizes add up to n and
    each is within one sample of its exact share."""
    if isinstance(fractions, (str, bytes)) or not hasattr(fractions, "__len__"):
        raise TypeError(f"fractions must be a sequence of three numbers (train, val, test), got {fractions!r}")
    if len(fractions) != 3:
        raise ValueError(f"fractions must hold three numbers (train, val, test), got {len(fractions)}: "
                         f"{tuple(fractions)!r}")
    values = []
    for name, f in zip(("train", "val", "test"), fractions):
        if isinstance(f, (bool, np.bool_)) or not isinstance(f, numbers.Real):
            raise TypeError(f"the {name} fraction must be a real number, got {f!r}")
        f = float(f)
        if not 0.0 <= f <= 1.0:  # NaN fails too
            raise ValueError(f"the {name} fraction must be between 0 and 1, got {f!r}")
        values.append(f)
    total = math.fsum(values)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"fractions must add up to 1 (within 1e-6), got {tuple(fractions)!r} (sum {total!r})")
    first = min(n, math.floor(n * values[0] + 0.5))
    second = min(n, max(first, math.floor(n * (values[0] + values[1]) + 0.5)))
    return first, second - first, n - second


def train_val_test_split(*arrays, fractions=(0.8, 0.1, 0.1), seed=None, shuffle=True):
    """Split aligned arrays into training, validation and test sets.

    arrays: one or more NumPy arrays of the same length along the first
    axis (samples). fractions: the shares (train, val, test), each in
    [0, 1], adding up to 1 within 1e-6; a share may be 0 (an empty set).
    The sizes are exact to a sample: the boundaries fall at round(n * train)
    and round(n * (train + val)), so the three add up to n.

    shuffle=True: the samples are permuted first (one permutation for all
    arrays, from `seed`) and each set is a copy, gathered in the permuted
    order. shuffle=False: the sets are consecutive slices, views of the
    arrays (`seed` is not used).

    seed: None, an int or a SeedSequence (reproducible), or a
    numpy.random.Generator (used as it is, and advanced).

    Returns (train, val, test), each a tuple with one array per argument:

        (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = train_val_test_split(X, y, seed=0)
    """
    n = _check_arrays(arrays, "train_val_test_split")
    sizes = _split_sizes(n, fractions)
    stops = np.cumsum(sizes).tolist()
    bounds = list(zip([0] + stops[:-1], stops))
    if not _check_flag(shuffle, "shuffle"):
        return tuple(tuple(a[start:stop] for a in arrays) for start, stop in bounds)
    order = _generator(seed).permutation(n)
    return tuple(tuple(a[order[start:stop]] for a in arrays) for start, stop in bounds)


class Batches:
    """Aligned mini-batches of arrays, epoch after epoch: what batches() returns.

    Iterating gives one epoch: a tuple of arrays (one per array given) per
    batch, batch_size rows each, the last one shorter unless drop_last.
    Each new iteration is a new epoch; when shuffling, it draws a new
    permutation from the generator. len() is the number of batches an
    epoch yields.

    state_dict() / load_state_dict() save and restore the generator's
    state, so a run resumed from a checkpoint (optkern.save) draws the same
    epochs as the run it continues (from the next epoch on: a checkpoint
    taken mid-epoch restarts that epoch's successor, not its remainder).
    """

    def __init__(self, arrays, batch_size, shuffle, seed, drop_last):
        self._n = _check_arrays(arrays, "batches")
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be a positive int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.arrays = tuple(arrays)
        self.batch_size = operator.index(batch_size)
        self.shuffle = _check_flag(shuffle, "shuffle")
        self.drop_last = _check_flag(drop_last, "drop_last")
        self._rng = _generator(seed) if self.shuffle else None

    def __len__(self):
        if self.drop_last:
            return self._n // self.batch_size
        return -(-self._n // self.batch_size)

    def __iter__(self):
        starts = range(0, len(self) * self.batch_size, self.batch_size)
        if not self.shuffle:
            return (tuple(a[i:i + self.batch_size] for a in self.arrays) for i in starts)
        # Drawn here, at the start of the epoch, not at the first next().
        order = self._rng.permutation(self._n)
        return (tuple(a[index] for a in self.arrays) for index in (order[i:i + self.batch_size] for i in starts))

    def state_dict(self):
        """{"rng": the generator's bit_generator.state} (None without shuffling)."""
        return {"rng": None if self._rng is None else self._rng.bit_generator.state}

    def load_state_dict(self, state_dict):
        """Restore a state_dict(): the epochs to come are those the saved ones would have been."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"rng"}:
            raise ValueError(f'a Batches state dict is {{"rng": ...}}, got {state_dict!r}')
        state = state_dict["rng"]
        if (state is None) != (self._rng is None):
            raise ValueError(f"the state dict was saved with shuffle={state is not None}, "
                             f"but these batches have shuffle={self.shuffle}")
        if state is not None:
            try:
                self._rng.bit_generator.state = state
            except (TypeError, ValueError, KeyError) as e:
                raise ValueError(f"the state dict's rng does not fit this generator "
                                 f"({type(self._rng.bit_generator).__name__}): {e}") from None


def batches(*arrays, batch_size, shuffle=True, seed=None, drop_last=False):
    """Mini-batches of aligned arrays, as torch's DataLoader gives them.

    arrays: one or more NumPy arrays (np.memmap included) of the same length
    along the first axis. batch_size: a positive int (larger than the data
    set: one batch of everything). Returns a Batches: iterate it for an
    epoch, again for the next one; each batch is a tuple with one array per
    argument.

    shuffle=False: batches in order, views of the arrays (nothing copied).
    shuffle=True: each epoch draws one permutation of the samples and a
    batch gathers its rows (a copy of that batch only). seed: None, an int
    or a SeedSequence (the same epochs every run), or a
    numpy.random.Generator (used as it is, and advanced). drop_last: leave
    out the last batch when it is shorter than batch_size.

        for epoch in range(10):
            for xb, yb in loader:    # loader = batches(X, y, batch_size=64, seed=0)
                ...
    """
    return Batches(arrays, batch_size, shuffle, seed, drop_last)
