"""optkern.save / optkern.load: the values they keep exactly, the format,
atomic writes (a save killed with SIGKILL leaves a checkpoint that loads),
restoring into objects and arrays with checks, and a run resumed in a new
process continuing bit for bit."""

import json
import math
import os
import pickle
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import optkern
from optkern import checkpoint


class ToyScheduler:
    """A stand-in for any object with state_dict/load_state_dict (an lr
    scheduler): save/load know nothing of its class but its name."""

    def __init__(self, base_lr=0.1):
        self.base_lr, self.last_epoch, self.history = base_lr, 0, []

    def step(self):
        self.last_epoch += 1
        self.history.append(self.base_lr * 0.5 ** self.last_epoch)

    def state_dict(self):
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch, "history": list(self.history)}

    def load_state_dict(self, state):
        if set(state) != {"base_lr", "last_epoch", "history"}:
            raise KeyError(f"unexpected keys {sorted(state)}")
        self.base_lr, self.last_epoch, self.history = state["base_lr"], state["last_epoch"], list(state["history"])


def assert_same(a, b):
    """Equal values of exactly the same types, arrays with the same dtype,
    shape and bytes, NaN equal to NaN."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(j for j in b if j == k))
            assert_same(a[k], b[k])
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))


VALUES = {
    "none": None, "yes": True, "no": False, "int": -7, "big": 2 ** 130 + 1, "float": 0.1,
    "tiny": 5e-324, "negzero": -0.0, "inf": math.inf, "neginf": -math.inf, "nan": math.nan,
    "text": "ünïcode ✓", "list": [1, [2.5, None], "x"], "tuple": (1, (2,), ()),
    "dict": {"a": 1, "b": {"c": [1, 2]}},
    "keys": {0: "int", 1.5: "float", None: "none", True: "bool", (1, "a"): "tuple", "s": "str"},
    "dollar": {"$array": "arrays/0.npy", "$float": "nan"},  # keys that look like the format's tags
    "empty": {"list": [], "tuple": (), "dict": {}},
    "f32": np.float32(1.25), "i64": np.int64(-3), "b_": np.bool_(True), "c128": np.complex128(1 - 2j),
    "arrays": [np.arange(6, dtype=np.float32).reshape(2, 3), np.zeros((0, 4)), np.array(3.5),
               np.array([1, 2], dtype=">i4"), np.array([True, False]), np.array(["ab", "c"]),
               np.array(["2024-01-01"], dtype="datetime64[D]"), np.arange(4, dtype=np.float16),
               np.zeros(2, dtype=[("x", "<f8"), ("n", "<i2", (2,))])],
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "strided": np.arange(20.0)[::3],
}


def test_values_come_back_exactly(tmp_path):
    path = tmp_path / "values.ckpt"
    optkern.save(path, **VALUES)
    loaded = optkern.load(path)
    assert list(loaded) == list(VALUES)
    for name, value in VALUES.items():
        assert_same(value, loaded[name])
    assert loaded["fortran"].flags.f_contiguous


def test_the_file_is_an_npz_with_a_standard_json_header(tmp_path):
    path = tmp_path / "run.ckpt"
    w = np.arange(5, dtype=np.float32)
    optkern.save(path, w=w, nan=math.nan, shape=(2, 3))
    with zipfile.ZipFile(path) as zf:
        text = zf.read("header.json")
        members = zf.namelist()

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    head = json.loads(text, parse_constant=no_constants)
    assert head == checkpoint.header(path)
    assert head["format"] == "optkern-checkpoint" and head["version"] == checkpoint.VERSION == 1
    assert head["entries"] == {"w": {"value": {"$array": "arrays/0.npy"}},
                               "nan": {"value": {"$float": "nan"}},
                               "shape": {"value": {"$tuple": [2, 3]}}}
    assert head["arrays"] == {"arrays/0.npy": {"dtype": "<f4", "shape": [5], "at": "w"}}
    assert members == ["header.json", "arrays/0.npy"]
    with np.load(path, allow_pickle=False) as npz:  # NumPy reads it as an .npz
        np.testing.assert_array_equal(npz["arrays/0"], w)


def test_the_same_objects_give_the_same_bytes(tmp_path):
    w = np.linspace(0, 1, 7)
    opt = optkern.Adam([w], lr=0.01)
    opt.step([np.ones_like(w)])
    optkern.save(tmp_path / "a", w=w, opt=opt)
    time.sleep(2.1)  # zip timestamps have a resolution of two seconds: the clock has moved on
    optkern.save(tmp_path / "b", w=w, opt=opt)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


@pytest.mark.parametrize("value, where", [
    ({"s": {1, 2}}, r"x\['s'\]: a builtins.set"),
    ([b"raw"], r"x\[0\]: a builtins.bytes"),
    ((1, np.array([object()])), r"x\[1\]: an array of dtype object"),
    ({"f": print}, r"x\['f'\]: a builtins.builtin_function_or_method"),
    (ToyScheduler, r"x: a builtins.type"),
    ({"n": 1.0j}, r"x\['n'\]: a builtins.complex"),
])
def test_values_it_cannot_store_are_refused_before_writing(tmp_path, value, where):
    path = tmp_path / "run.ckpt"
    optkern.save(path, x=1)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot save " + where):
        optkern.save(path, ok=np.zeros(3), x=value)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["run.ckpt"]


def test_an_entry_may_be_named_path(tmp_path):
    optkern.save(tmp_path / "c", path="/data/train", into=1)
    assert optkern.load(tmp_path / "c") == {"path": "/data/train", "into": 1}


def test_a_state_dict_it_cannot_store_names_the_place(tmp_path):
    class Odd(ToyScheduler):
        def state_dict(self):
            return {"fn": lambda: 0}

    with pytest.raises(TypeError, match=r"cannot save sched.state_dict\(\)\['fn'\]: a builtins.function"):
        optkern.save(tmp_path / "x", sched=Odd())
    with pytest.raises(TypeError, match="at least one entry"):
        optkern.save(tmp_path / "x")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------ stateful objects

OPTIMIZERS = {
    "SGD": lambda p: optkern.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "Adam": lambda p: optkern.Adam(p, lr=1e-2, amsgrad=True),
    "AdamW": lambda p: optkern.AdamW([{"params": p[:1]}, {"params": p[1:], "lr": 3e-3, "betas": (0.8, 0.95)}]),
}


def trained(name, dtype=np.float32, steps=3):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)]
    opt = OPTIMIZERS[name](params)
    for _ in range(steps):
        opt.step([rng.standard_normal(p.shape).astype(dtype) for p in params])
    return params, opt


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_optimizer_is_saved_as_its_class_and_state_dict(tmp_path, name):
    params, opt = trained(name)
    sched = ToyScheduler()
    sched.step()
    optkern.save(tmp_path / "c", opt=opt, sched=sched, params=params)
    head = checkpoint.header(tmp_path / "c")
    assert head["entries"]["opt"]["class"] == name and head["entries"]["sched"]["class"] == "ToyScheduler"
    loaded = optkern.load(tmp_path / "c")
    assert_same(opt.state_dict(), loaded["opt"])  # int keys, tuples, ints and floats as they were
    assert loaded["sched"] == sched.state_dict()

    fresh = [np.zeros_like(p) for p in params]
    opt2, sched2 = OPTIMIZERS[name](fresh), ToyScheduler(base_lr=9.0)
    result = optkern.load(tmp_path / "c", into={"opt": opt2, "sched": sched2, "params": fresh})
    assert_same(opt.state_dict(), opt2.state_dict())
    assert sched2.state_dict() == sched.state_dict()
    for p, q in zip(params, fresh):
        assert p.tobytes() == q.tobytes()
    assert_same(result["opt"], loaded["opt"])
    # The state was copied in: the result's arrays are not the optimizer's.
    state = opt2.state_dict()["state"][0]
    assert not any(np.shares_memory(state[k], result["opt"]["state"][0][k]) for k in state if k != "step")


def test_restoring_into_arrays_in_containers(tmp_path):
    w, b, m = np.arange(6.0).reshape(2, 3), np.ones(3, np.float32), np.arange(4)
    optkern.save(tmp_path / "c", params={"w": w, "b": b}, pair=(m, m * 2))
    w2, b2, m2, n2 = np.zeros_like(w), np.zeros_like(b), np.zeros_like(m), np.zeros_like(m)
    optkern.load(tmp_path / "c", into={"params": {"b": b2, "w": w2}, "pair": [m2, n2]})
    assert w2.tobytes() == w.tobytes() and b2.tobytes() == b.tobytes()
    np.testing.assert_array_equal(n2, m * 2)


def test_batches_are_restored_through_a_checkpoint(tmp_path):
    X = np.arange(40.0)
    loader = optkern.data.batches(X, batch_size=6, seed=2)
    list(loader)
    optkern.save(tmp_path / "c", loader=loader)
    expected = [b for b, in loader]
    resumed = optkern.data.batches(X, batch_size=6, seed=0)
    optkern.load(tmp_path / "c", into={"loader": resumed})
    got = [b for b, in resumed]
    assert len(got) == len(expected) == 7
    for a, b in zip(expected, got):
        assert a.tobytes() == b.tobytes()


def refuses(path, into, error, match):
    with pytest.raises(error, match=match):
        optkern.load(path, into=into)


def test_what_does_not_fit_is_named_and_nothing_changes(tmp_path):
    params, opt = trained("Adam")
    path = tmp_path / "c"
    optkern.save(path, opt=opt, params=params, epoch=4, sched=ToyScheduler())

    w, b = np.full((4, 3), 7, np.float32), np.full(3, 7, np.float32)
    refuses(path, {"opt": optkern.Adam([w, b]), "optimizer": 1, "lr": 2}, ValueError,
            r"no entries 'optimizer', 'lr' \(it has 'opt', 'params', 'epoch', 'sched'\)")
    refuses(path, {"opt": optkern.SGD([w, b])}, ValueError, "entry 'opt' holds the state of an Adam, not of a SGD")
    refuses(path, {"opt": optkern.AdamW([w, b])}, ValueError, "state of an Adam, not of an AdamW")
    refuses(path, {"epoch": optkern.Adam([w, b])}, ValueError,
            "entry 'epoch' is a plain value, not the state of an Adam")
    refuses(path, {"opt": w}, ValueError, r"entry 'opt' holds the state of an Adam; restore it into one .* not into "
            r"an array of shape \(4, 3\)")
    refuses(path, {"params": [w]}, ValueError,
            r"entry 'params': params is a list of 2 in the checkpoint, but a list of 1 was given to restore it into")
    refuses(path, {"params": [w, np.zeros(4, np.float32)]}, ValueError,
            r"entry 'params': params\[1\] is an array of shape \(3,\) and dtype float32 in the checkpoint, but an "
            r"array of shape \(4,\) and dtype float32 was given to restore it into")
    refuses(path, {"params": [w, np.zeros(3)]}, ValueError,
            r"params\[1\] .* but an array of shape \(3,\) and dtype float64")
    refuses(path, {"params": {"w": w}}, ValueError,
            r"entry 'params': params is a list of 2 in the checkpoint, but a dict with keys \[\"'w'\"\] was given")
    refuses(path, {"epoch": w}, ValueError, "entry 'epoch': epoch is an int in the checkpoint, but an array")
    refuses(path, {"epoch": 3}, TypeError, "cannot restore entry 'epoch' into an int")
    readonly = np.zeros(3, np.float32)
    readonly.flags.writeable = False
    refuses(path, {"params": [w, readonly]}, ValueError, r"the array to restore params\[1\] into is read-only")
    refuses(path, ["opt"], TypeError, "into must be a dict")

    # A fresh optimizer over float64 parameters: its state would be cast, so
    # it is refused; and over parameters of other shapes.
    w64, b64 = w.astype(np.float64), b.astype(np.float64)
    refuses(path, {"opt": optkern.Adam([w64, b64])}, ValueError,
            r"entry 'opt': state_dict\(\)\['state'\]\[0\]\['exp_avg'\] has shape \(4, 3\) and dtype float32 in the "
            r"checkpoint, but its parameter in the Adam has shape \(4, 3\) and dtype float64")
    refuses(path, {"opt": optkern.Adam([np.zeros((3, 4), np.float32), b])}, ValueError,
            r"\['state'\]\[0\]\['exp_avg'\] has shape \(4, 3\) .* has shape \(3, 4\)")
    # An optimizer that has state compares it with the checkpoint's.
    stepped = optkern.Adam([w64, b64])
    stepped.step([np.ones_like(w64), np.ones_like(b64)])
    refuses(path, {"opt": stepped}, ValueError,
            r"entry 'opt': state_dict\(\)\['state'\]\[0\]\['exp_avg'\] has shape \(4, 3\) and dtype float32 in the "
            r"checkpoint, but shape \(4, 3\) and dtype float64 in the Adam")
    # What the optimizer's own load_state_dict refuses, with the entry's name.
    refuses(path, {"opt": optkern.Adam([w, b, np.zeros(2, np.float32)])}, ValueError,
            "entry 'opt' does not fit the Adam: loaded state dict contains a parameter group that doesn't match")
    assert (w == 7).all() and (b == 7).all()  # no refusal wrote anything


def test_a_failing_load_state_dict_puts_back_the_objects_restored_before_it(tmp_path):
    params, opt = trained("SGD")
    path = tmp_path / "c"
    optkern.save(path, opt=opt, sched=ToyScheduler(), params=params)

    class ToyScheduler2(ToyScheduler):
        pass

    other_params, other = trained("SGD", steps=5)
    before = {k: v.copy() for k, v in other.state_dict()["state"][0].items()}
    target = [np.zeros_like(p) for p in params]
    broken = ToyScheduler()
    broken.load_state_dict = lambda state: (_ for _ in ()).throw(RuntimeError("boom"))
    with pytest.raises(ValueError, match="entry 'sched' does not fit the ToyScheduler: boom"):
        optkern.load(path, into={"params": target, "opt": other, "sched": broken})
    after = other.state_dict()["state"][0]
    assert all(after[k].tobytes() == v.tobytes() for k, v in before.items())
    assert not any(t.any() for t in target)
    with pytest.raises(ValueError, match=r"holds the state of a ToyScheduler, not of a test_.*<locals>\.ToyScheduler2$"):
        optkern.load(path, into={"sched": ToyScheduler2()})


# -------------------------------------------------------------- bad files

def rewrite(path, edit_header=None, edit_members=None):
    """Rewrite a checkpoint's zip with its header or members changed."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    head = json.loads(members["header.json"])
    if edit_header:
        edit_header(head)
    members["header.json"] = json.dumps(head).encode()
    if edit_members:
        edit_members(members)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


class Payload:
    """Unpickling it makes a folder: proof that code ran."""

    def __init__(self, where):
        self.where = where

    def __reduce__(self):
        return os.mkdir, (self.where,)


def test_bad_files_are_refused_with_their_reason(tmp_path):
    path = tmp_path / "c"

    def fresh():
        optkern.save(path, w=np.arange(4.0), n=1)

    def refused(match):
        with pytest.raises(ValueError, match=match):
            optkern.load(path)

    path.write_text("hello")
    refused("is not an optkern checkpoint: it is not a zip file")
    np.savez(path, w=np.zeros(2))
    os.replace(str(path) + ".npz", path)
    refused("not an optkern checkpoint: it has no header.json")

    fresh()
    rewrite(path, lambda h: h.update(version=2))
    refused(r"has checkpoint format version 2, newer than this optkern reads \(1\)")
    fresh()
    rewrite(path, lambda h: h.update(version="1"))
    refused("\"version\" is '1', not a format version")
    fresh()
    rewrite(path, lambda h: h.update(format="something-else"))
    refused('header\'s "format" is not "optkern-checkpoint"')
    fresh()
    rewrite(path, lambda h: h["arrays"]["arrays/0.npy"].update(shape=[5]))
    refused(r"its array arrays/0.npy has dtype float64 and shape \(4,\), but its header says")
    fresh()
    rewrite(path, edit_members=lambda m: m.pop("arrays/0.npy"))
    refused(r"its arrays \[\] are not those its header names \['arrays/0.npy'\]")
    fresh()
    rewrite(path, edit_members=lambda m: m.update({"extra.npy": m["arrays/0.npy"]}))
    refused("are not those its header names")
    fresh()
    rewrite(path, lambda h: h["entries"].update(n={"valu": 1}))
    refused("its header's entry 'n' is malformed")
    fresh()
    rewrite(path, lambda h: h["entries"].update(n={"value": {"$array": "arrays/9.npy"}}))
    refused("its header's entry 'n' is malformed .*arrays/9.npy")
    fresh()
    rewrite(path, lambda h: h["entries"].update(n={"value": {"$tuple": 5}}))
    refused("its header's entry 'n' is malformed")

    fresh()
    data = bytearray(path.read_bytes())
    start = data.index(np.arange(4.0).tobytes())
    data[start + 3] ^= 0xFF  # one flipped bit of an array: the zip's CRC catches it
    path.write_bytes(bytes(data))
    refused("is damaged .*CRC")
    fresh()
    path.write_bytes(path.read_bytes()[:-40])
    refused("is not a zip file or is damaged")

    # An array member holding a pickle is refused without running it.
    where = tmp_path / "pwned"
    fresh()

    def plant(members):
        import io
        buffer = io.BytesIO()
        np.save(buffer, np.array([Payload(str(where))], dtype=object), allow_pickle=True)
        members["arrays/0.npy"] = buffer.getvalue()

    rewrite(path, lambda h: h["arrays"]["arrays/0.npy"].update(dtype="|O", shape=[1]), plant)
    refused("its array arrays/0.npy cannot be read .*allow_pickle")
    assert not where.exists()
    pickle.loads(pickle.dumps(Payload(str(where))))  # the payload works when unpickled
    assert where.exists()


# ---------------------------------------------------------- atomic writes

def test_a_save_syncs_the_file_renames_it_then_syncs_the_folder(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        mode = os.fstat(fd).st_mode
        events.append(("fsync", "folder" if stat.S_ISDIR(mode) else os.fstat(fd).st_size))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.dirname(src), os.path.basename(src), dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    optkern.save(path, w=np.zeros(1000))
    (_, size), (_, folder, tmp, dst), last = events
    assert size == path.stat().st_size  # the whole file was synced before the rename
    assert folder == str(tmp_path) and tmp.startswith(".run.ckpt.") and tmp.endswith(".tmp")
    assert dst == str(path) and last == ("fsync", "folder")


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    optkern.save(path, w=np.arange(10.0), step=1)
    real = np.lib.format.write_array
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="disk full"):
        optkern.save(path, w=np.zeros(10), m=np.ones(10), step=2)
    assert optkern.load(path)["step"] == 1 and os.listdir(tmp_path) == ["run.ckpt"]


SAVER = """
import sys
import numpy as np
import optkern

path = sys.argv[1]
w = np.empty(1 << 21)  # 16 MB: most of a save's time is spent writing and syncing
print("ready", flush=True)
for i in range(1, 1 << 30):
    w.fill(i)
    optkern.save(path, w=w, i=i, note=f"save {i}")
    print(i, flush=True)
"""


def test_a_save_killed_at_random_points_leaves_the_old_or_the_new_checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"
    optkern.save(path, w=np.full(1 << 21, 0.0), i=0, note="save 0")
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    rng = random.Random(1234)
    mid_write, previous = 0, 0
    for _ in range(8):
        before = set(os.listdir(tmp_path))
        child = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        done = [int(line) for line in child.stdout.read().split()]
        child.wait()
        assert child.returncode == -signal.SIGKILL
        loaded = optkern.load(path)
        i = loaded["i"]
        # The last save reported, or the one after it (renamed into place
        # before the kill, not yet reported); with none reported, the
        # previous run's checkpoint or this run's first.
        assert i in ({done[-1], done[-1] + 1} if done else {previous, 1}), (i, done, previous)
        previous = i
        assert loaded["note"] == f"save {i}" and (loaded["w"] == i).all() and len(loaded["w"]) == 1 << 21
        mid_write += len(set(os.listdir(tmp_path)) - before) > 0  # a temporary file left: killed mid-save
    # The kills did land inside saves (each left its temporary file).
    assert mid_write >= 2, mid_write


# -------------------------------------------------- resuming in a new process

TRAINER = """
import sys
import numpy as np
import optkern

mode, name, checkpoint, result = sys.argv[1:5]
rng = np.random.default_rng(0)
X = rng.standard_normal((96, 5)).astype(np.float32)
Y = rng.standard_normal((96, 3)).astype(np.float32)
if mode == "resume":  # other values, which the checkpoint replaces
    w, b = np.full((5, 3), 9, np.float32), np.full(3, 9, np.float32)
else:
    w, b = (rng.standard_normal((5, 3)) * 0.1).astype(np.float32), np.zeros(3, np.float32)
opt = {
    "SGD": lambda: optkern.SGD([w, b], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "Adam": lambda: optkern.Adam([w, b], lr=1e-2, amsgrad=True),
    "AdamW": lambda: optkern.AdamW([{"params": [w]}, {"params": [b], "lr": 3e-3}]),
}[name]()
loader = optkern.data.batches(X, Y, batch_size=16, seed=None if mode == "resume" else 1)
start = 0
if mode == "resume":
    start = optkern.load(checkpoint, into={"params": [w, b], "opt": opt, "loader": loader})["epoch"]
for epoch in range(start, 6):
    for xb, yb in loader:
        loss, g = optkern.losses.mse_loss(xb @ w + b, yb)
        opt.step([xb.T @ g, g.sum(axis=0)])
    if mode == "first" and epoch == 2:
        optkern.save(checkpoint, params=[w, b], opt=opt, loader=loader, epoch=epoch + 1)
optkern.save(result, params=[w, b], opt=opt, loader=loader)
"""


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_resumed_run_continues_bit_for_bit(tmp_path, name):
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    ckpt, whole, resumed = tmp_path / "epoch3.ckpt", tmp_path / "whole.ckpt", tmp_path / "resumed.ckpt"
    for mode, result in (("first", whole), ("resume", resumed)):
        subprocess.run([sys.executable, str(script), mode, name, str(ckpt), str(result)], check=True)
    # Parameters, optimizer state and the data order: every byte the same.
    assert resumed.read_bytes() == whole.read_bytes()
    at_checkpoint, final = optkern.load(ckpt), optkern.load(whole)
    assert at_checkpoint["params"][0].tobytes() != final["params"][0].tobytes()  # training went on
