"""optkern.data: train_val_test_split and batches (sizes, alignment, views,
seeds, memory per epoch, errors)."""

import tracemalloc

import numpy as np
import pytest

from optkern import data
from optkern.data import batches, train_val_test_split


def dataset(n, features=3):
    """X whose row i holds i (so rows can be traced), y = 10 i, aligned."""
    X = np.repeat(np.arange(n, dtype=np.float64)[:, None], features, axis=1)
    return X, np.arange(n) * 10


def assert_aligned(X, y):
    np.testing.assert_array_equal(X[:, 0] * 10, y)
    np.testing.assert_array_equal(X, np.repeat(X[:, :1], X.shape[1], axis=1))


# --------------------------------------------------------------------- split

@pytest.mark.parametrize("n, fractions, sizes", [
    (10, (0.8, 0.1, 0.1), (8, 1, 1)),
    (7, (0.5, 0.25, 0.25), (4, 1, 2)),       # boundaries round(3.5) = 4, round(5.25) = 5
    (3, (0.8, 0.1, 0.1), (2, 1, 0)),         # round(2.4) = 2, round(2.7) = 3
    (5, (1.0, 0.0, 0.0), (5, 0, 0)),
    (5, (0.0, 0.0, 1.0), (0, 0, 5)),
    (0, (0.8, 0.1, 0.1), (0, 0, 0)),
    (1000, (0.7, 0.2, 0.1), (700, 200, 100)),  # the fractions add up to 0.9999999999999999
])
def test_split_sizes(n, fractions, sizes):
    X, y = dataset(n)
    for shuffle in (True, False):
        parts = train_val_test_split(X, y, fractions=fractions, seed=0, shuffle=shuffle)
        assert tuple(len(Xp) for Xp, _ in parts) == sizes
        assert all(Xp.shape[1:] == (3,) and len(yp) == len(Xp) for Xp, yp in parts)


def test_split_sizes_are_within_one_sample_of_their_share():
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(0, 500))
        f = rng.dirichlet([1, 1, 1])
        (a,), (b,), (c,) = train_val_test_split(np.arange(n), fractions=tuple(f), shuffle=False)
        assert len(a) + len(b) + len(c) == n
        for part, share in zip((a, b, c), f):
            assert abs(len(part) - n * share) <= 1


def test_split_shuffled_is_one_permutation_for_every_array():
    X, y = dataset(101)
    parts = train_val_test_split(X, y, seed=3)
    assert [len(p[0]) for p in parts] == [81, 10, 10]
    for Xp, yp in parts:
        assert_aligned(Xp, yp)
        assert not np.shares_memory(Xp, X)
    rows = np.concatenate([Xp[:, 0] for Xp, _ in parts])
    np.testing.assert_array_equal(rows, np.random.default_rng(3).permutation(101))


def test_split_without_shuffle_gives_consecutive_views():
    X, y = dataset(20)
    (Xa, ya), (Xb, yb), (Xc, yc) = train_val_test_split(X, y, fractions=(0.5, 0.25, 0.25), shuffle=False)
    for part, whole, start, stop in ((Xa, X, 0, 10), (Xb, X, 10, 15), (Xc, X, 15, 20), (ya, y, 0, 10)):
        assert part.base is whole
        np.testing.assert_array_equal(part, whole[start:stop])
    Xa[0, 0] = -1
    assert X[0, 0] == -1


def test_split_seeds():
    X, y = dataset(50)
    first = train_val_test_split(X, y, seed=7)
    again = train_val_test_split(X, y, seed=7)
    other = train_val_test_split(X, y, seed=8)
    np.testing.assert_array_equal(first[0][0], again[0][0])
    assert not np.array_equal(first[0][0], other[0][0])
    # A Generator is used as it is, and advanced: two calls differ, and they
    # are the generator's next two permutations.
    g, twin = np.random.default_rng(7), np.random.default_rng(7)
    one, two = train_val_test_split(X, seed=g), train_val_test_split(X, seed=g)
    for split in (one, two):
        rows = np.concatenate([part[0][:, 0] for part in split])
        np.testing.assert_array_equal(rows, twin.permutation(50))
    np.testing.assert_array_equal(one[0][0], first[0][0])  # int seed 7 = a fresh default_rng(7)
    seq = train_val_test_split(X, seed=np.random.SeedSequence(7))
    np.testing.assert_array_equal(seq[0][0], first[0][0])


def test_split_one_array_gives_one_element_tuples():
    (a,), (b,), (c,) = train_val_test_split(np.arange(10), seed=0)
    assert sorted(np.concatenate([a, b, c]).tolist()) == list(range(10))


@pytest.mark.parametrize("fractions, error, match", [
    ((0.8, 0.2), ValueError, "three numbers .* got 2"),
    ((0.5, 0.2, 0.2, 0.1), ValueError, "three numbers .* got 4"),
    ((1.1, -0.1, 0.0), ValueError, "between 0 and 1"),
    ((0.8, 0.1, -0.1), ValueError, "test fraction must be between 0 and 1, got -0.1"),
    ((0.8, 0.1, 0.2), ValueError, "add up to 1"),
    ((0.5, 0.1, 0.1), ValueError, r"add up to 1 .*sum 0\.7"),
    ((float("nan"), 0.5, 0.5), ValueError, "train fraction must be between 0 and 1, got nan"),
    ((0.8, "0.1", 0.1), TypeError, "val fraction must be a real number"),
    ((True, 0.0, 0.0), TypeError, "train fraction must be a real number"),
    (0.8, TypeError, "sequence of three numbers"),
    ("abc", TypeError, "sequence of three numbers"),
])
def test_split_refuses_bad_fractions(fractions, error, match):
    with pytest.raises(error, match=match):
        train_val_test_split(np.arange(10), fractions=fractions)


def test_split_accepts_fractions_within_tolerance():
    (a,), _, _ = train_val_test_split(np.arange(10), fractions=(0.8, 0.1, 0.1000001), shuffle=False)
    assert len(a) == 8


@pytest.mark.parametrize("call", [train_val_test_split, lambda *a, **k: batches(*a, batch_size=2, **k)])
def test_misaligned_and_non_arrays_are_refused(call):
    with pytest.raises(ValueError, match=r"same length .* got lengths \[5, 4\]"):
        call(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(TypeError, match="argument 1 is a list"):
        call(np.zeros(3), [1, 2, 3])
    with pytest.raises(TypeError, match="argument 0 is a int"):
        call(3)
    with pytest.raises(TypeError, match="at least one array"):
        call()
    with pytest.raises(ValueError, match="argument 0 is a 0-d array"):
        call(np.zeros(()))


@pytest.mark.parametrize("seed, error", [
    (True, TypeError), (-1, ValueError), (1.5, TypeError), ("0", TypeError),
    (np.random.RandomState(0), TypeError),
])
def test_bad_seeds_are_refused(seed, error):
    with pytest.raises(error, match="seed must be"):
        train_val_test_split(np.arange(10), seed=seed)
    with pytest.raises(error, match="seed must be"):
        batches(np.arange(10), batch_size=2, seed=seed)


def test_bad_flags_are_refused():
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        train_val_test_split(np.arange(4), shuffle=1)
    with pytest.raises(TypeError, match="drop_last must be True or False"):
        batches(np.arange(4), batch_size=2, drop_last=None)


# ------------------------------------------------------------------- batches

def test_batches_in_order_are_views():
    X, y = dataset(10)
    loader = batches(X, y, batch_size=4, shuffle=False)
    assert len(loader) == 3
    got = list(loader)
    assert [len(xb) for xb, _ in got] == [4, 4, 2]
    for k, (xb, yb) in enumerate(got):
        assert xb.base is X and yb.base is y
        np.testing.assert_array_equal(xb, X[4 * k:4 * k + 4])
        np.testing.assert_array_equal(yb, y[4 * k:4 * k + 4])
    assert [len(xb) for xb, _ in batches(X, y, batch_size=4, shuffle=False, drop_last=True)] == [4, 4]
    assert len(batches(X, batch_size=4, shuffle=False, drop_last=True)) == 2


def test_batches_shuffled_cover_the_data_once_per_epoch_with_one_permutation():
    X, y = dataset(23)
    loader = batches(X, y, batch_size=5, seed=np.random.default_rng(11))
    twin = np.random.default_rng(11)
    epochs = []
    for _ in range(3):
        got = list(loader)
        assert [len(xb) for xb, _ in got] == [5, 5, 5, 5, 3]
        for xb, yb in got:
            assert_aligned(xb, yb)
            assert not np.shares_memory(xb, X)
        rows = np.concatenate([xb[:, 0] for xb, _ in got])
        np.testing.assert_array_equal(rows, twin.permutation(23))  # the generator's next permutation
        epochs.append(rows)
    assert not np.array_equal(epochs[0], epochs[1])


def test_batches_shuffled_drop_last():
    X, y = dataset(23)
    got = list(batches(X, y, batch_size=5, seed=0, drop_last=True))
    assert [len(xb) for xb, _ in got] == [5, 5, 5, 5]
    rows = np.concatenate([xb[:, 0] for xb, _ in got])
    np.testing.assert_array_equal(rows, np.random.default_rng(0).permutation(23)[:20])


def test_batches_seeds_are_reproducible():
    X, _ = dataset(40)

    def run(seed):
        loader = batches(X, batch_size=8, seed=seed)
        return [np.concatenate([xb[:, 0] for xb, in loader]) for _ in range(2)]

    a, b, c = run(5), run(5), run(6)
    np.testing.assert_array_equal(np.array(a), np.array(b))
    assert not np.array_equal(a[0], c[0])


def test_batches_sizes_at_the_edges():
    X, y = dataset(5)
    assert [len(xb) for xb, _ in batches(X, y, batch_size=100)] == [5]
    assert list(batches(X, y, batch_size=100, drop_last=True)) == []
    empty = np.zeros((0, 2))
    assert list(batches(empty, batch_size=3)) == [] and len(batches(empty, batch_size=3)) == 0
    assert [len(b) for b, in batches(X, batch_size=np.int64(2), shuffle=False)] == [2, 2, 1]


@pytest.mark.parametrize("size, error", [(0, ValueError), (-3, ValueError), (2.0, TypeError),
                                         ("4", TypeError), (True, TypeError), (None, TypeError)])
def test_batches_refuse_bad_batch_sizes_at_the_call(size, error):
    with pytest.raises(error, match="batch_size must be a positive int"):
        batches(np.arange(10), batch_size=size)  # raised by the call, before any iteration


def test_batches_keep_trailing_axes_and_memmaps(tmp_path):
    images = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="w+", shape=(12, 2, 3))
    images[:] = np.arange(72, dtype=np.float32).reshape(12, 2, 3)
    labels = np.arange(12)
    for xb, yb in batches(images, labels, batch_size=5, shuffle=False):
        assert isinstance(xb, np.memmap) and xb.shape[1:] == (2, 3)
        np.testing.assert_array_equal(xb, images[yb])
    for xb, yb in batches(images, labels, batch_size=5, seed=1):
        np.testing.assert_array_equal(xb, np.asarray(images)[yb])


def peak_bytes_of_an_epoch(loader):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for batch in loader:
            del batch
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_epoch_never_copies_the_data_set():
    # 4000 rows of 2 KB (8 MB): an epoch may allocate its permutation (32 KB)
    # and a batch (64 KB), not a shuffled copy of the data.
    X, y = np.ones((4000, 256)), np.arange(4000)
    for shuffle in (True, False):
        peak = peak_bytes_of_an_epoch(batches(X, y, batch_size=32, shuffle=shuffle, seed=0))
        assert peak < 512 * 1024, (shuffle, peak)
    # The measure sees a copy of the whole data set when there is one.

    def shuffled_copy():
        copy = X[np.random.default_rng(0).permutation(4000)]
        yield from (copy[i:i + 32] for i in range(0, 4000, 32))

    assert peak_bytes_of_an_epoch(shuffled_copy()) > X.nbytes


def test_batches_state_dict_resumes_the_epochs_to_come():
    X, _ = dataset(30)
    loader = batches(X, batch_size=7, seed=4)
    list(loader), list(loader)
    state = loader.state_dict()
    expected = [list(loader), list(loader)]
    resumed = batches(X, batch_size=7, seed=99)
    resumed.load_state_dict(state)
    for want in expected:
        got = list(resumed)
        assert len(got) == len(want) == 5
        for (a,), (b,) in zip(want, got):
            np.testing.assert_array_equal(a, b)
    in_order = batches(X, batch_size=7, shuffle=False)
    assert in_order.state_dict() == {"rng": None}
    with pytest.raises(ValueError, match="saved with shuffle=True, but these batches have shuffle=False"):
        in_order.load_state_dict(state)
    with pytest.raises(ValueError, match="does not fit this generator"):
        resumed.load_state_dict({"rng": {"bit_generator": "MT19937"}})
    with pytest.raises(ValueError, match="state dict is"):
        resumed.load_state_dict({"epoch": 3})


def test_module_exports():
    assert set(data.__all__) == {"train_val_test_split", "batches", "Batches"}
    import optkern
    assert optkern.data is data
