"""Checkpoints: optkern.save(path, **objects) and optkern.load(path, into=...).

The format (docs/checkpoints.md) is a zip file of .npy arrays with a JSON
header, which NumPy reads as an .npz. It holds no pickle: loading a
checkpoint parses JSON and reads raw arrays (allow_pickle=False), so a file
from anywhere cannot run code.

Design:

1. Generic over stateful objects: anything with state_dict() and
   load_state_dict() (optimizers, learning-rate schedulers, grad scalers,
   batches()) is saved as its class name and its state dict. Nothing here
   knows one optimizer from another.
2. Values are a tree of JSON values, with tags for what JSON lacks (tuples,
   dicts with keys other than strings, non-finite floats, arrays and NumPy
   scalars): a state dict comes back with its int keys, tuples and NumPy
   scalars as they were, so a resumed run continues bit for bit.
3. Writes are atomic: a temporary file in the checkpoint's folder, flushed
   and fsync'ed, renamed over the checkpoint with os.replace, then the
   folder fsync'ed so that the rename itself is on disk. A crash at any
   point leaves the previous checkpoint or the new one, never a mix.
4. Restoring checks before it changes: every entry asked for must exist and
   fit (class, array shapes and dtypes) before anything is written, and an
   object whose load_state_dict raises has the objects restored before it
   put back as they were.
"""

import copy
import json
import math
import os
import secrets
import zipfile
from collections.abc import Mapping

import numpy as np

__all__ = ["save", "load", "header", "FORMAT", "VERSION"]

#: the "format" field of every checkpoint's header
FORMAT = "optkern-checkpoint"
#: the format version this optkern writes, and the newest it reads
VERSION = 1
_HEADER = "header.json"
# Fixed zip timestamps: the same objects give the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_KINDS = "None, bool, int, float, str, list, tuple, dict, NumPy arrays and scalars, and objects with state_dict()"


def _stateful(obj):
    """An object (not a class) with state_dict() and load_state_dict()."""
    return not isinstance(obj, type) and callable(getattr(obj, "state_dict", None)) and \
        callable(getattr(obj, "load_state_dict", None))


class _Encoder:
    """Turns values into the header's JSON tree; the arrays go to .npy members."""

    def __init__(self):
        self.arrays = []  # (member, array), in the order they are written
        self.index = {}   # member: {"dtype", "shape", "at"}: the header's "arrays"

    def entry(self, name, obj):
        if _stateful(obj):
            cls = type(obj)
            return {"class": cls.__qualname__, "module": cls.__module__,
                    "state_dict": self.value(obj.state_dict(), f"{name}.state_dict()")}
        return {"value": self.value(obj, name)}

    def value(self, x, at):
        kind = type(x)
        if x is None or kind in (bool, int, str):
            return x
        if kind is float:
            return x if math.isfinite(x) else {"$float": repr(x)}
        if kind is list:
            return [self.value(v, f"{at}[{k}]") for k, v in enumerate(x)]
        if kind is tuple:
            return {"$tuple": [self.value(v, f"{at}[{k}]") for k, v in enumerate(x)]}
        if kind is dict:
            if all(type(k) is str and not k.startswith("$") for k in x):
                return {k: self.value(v, f"{at}[{k!r}]") for k, v in x.items()}
            return {"$dict": [[self.value(k, f"a key of {at}"), self.value(v, f"{at}[{k!r}]")]
                              for k, v in x.items()]}
        if isinstance(x, (np.ndarray, np.generic)):
            array = np.asarray(x)
            if array.dtype.hasobject:
                raise TypeError(f"cannot save {at}: an array of dtype {array.dtype} holds Python objects, "
                                f"which only pickle could store")
            member = f"arrays/{len(self.arrays)}.npy"
            self.arrays.append((member, array))
            self.index[member] = {"dtype": _descr(array.dtype), "shape": list(array.shape), "at": at}
            return {"$array" if isinstance(x, np.ndarray) else "$scalar": member}
        raise TypeError(f"cannot save {at}: a {kind.__module__}.{kind.__qualname__} "
                        f"(a checkpoint holds {_KINDS})")


def _descr(dtype):
    """The dtype as the .npy header writes it, in JSON form (lists for tuples)."""
    return json.loads(json.dumps(np.lib.format.dtype_to_descr(dtype)))


def _zip_info(member):
    info = zipfile.ZipInfo(member, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def save(path, /, **objects):
    """Save objects to a checkpoint file, atomically.

    Each keyword is an entry: an object with state_dict() and
    load_state_dict() (an optimizer, a scheduler, a grad scaler, ...) is
    saved as its class name and its state dict; anything else must be a
    value made of None, bool, int, float, str, list, tuple, dict, NumPy
    arrays and NumPy scalars (arrays of Python objects excepted).

        optkern.save("run.ckpt", params=[w, b], opt=opt, epoch=3)

    The file is written whole to a temporary file next to `path`, synced to
    disk and renamed over `path`: a crash or kill at any point leaves the
    previous checkpoint or the new one. (A killed save can leave its
    temporary file, `.<name>.<pid>.<random>.tmp`, behind; delete it at
    will.) The format is docs/checkpoints.md: a zip of .npy files and a JSON
    header, readable as an .npz, with no pickle in it.

    Raises TypeError, before anything is written, for a value it cannot
    store, naming where it is (e.g. "opt.state_dict()['state'][0]['x']").
    """
    if not objects:
        raise TypeError("save() needs at least one entry, as name=object")
    encoder = _Encoder()
    entries = {name: encoder.entry(name, obj) for name, obj in objects.items()}
    head = {"format": FORMAT, "version": VERSION, "entries": entries, "arrays": encoder.index}
    text = json.dumps(head, allow_nan=False, indent=1).encode("utf-8")

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(_zip_info(_HEADER), text)
            for member, array in encoder.arrays:
                with zf.open(_zip_info(member), "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, array, allow_pickle=False)

    _write_atomically(path, write)


def _write_atomically(path, write):
    """write(file) to a temporary file in path's folder, then put it in
    path's place so that a crash leaves either the old file or the new one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    # Same folder: os.replace is then a rename within one file system, atomic.
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points to it
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)  # the rename itself is on disk


def _fsync_folder(folder):
    if os.name == "nt":  # a folder cannot be opened there; NTFS journals the rename
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------ reading

def _not_a_checkpoint(path, why):
    return ValueError(f"{os.fspath(path)} is not an optkern checkpoint: {why}")


def _read_header(zf, path):
    try:
        head = json.loads(zf.read(_HEADER))
    except KeyError:
        raise _not_a_checkpoint(path, f"it has no {_HEADER}") from None
    except ValueError as e:
        raise _not_a_checkpoint(path, f"its {_HEADER} is not valid JSON ({e})") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise _not_a_checkpoint(path, f'its header\'s "format" is not "{FORMAT}"')
    version = head.get("version")
    if type(version) is not int or version < 1:
        raise _not_a_checkpoint(path, f'its header\'s "version" is {version!r}, not a format version')
    if version > VERSION:
        raise ValueError(f"{os.fspath(path)} has checkpoint format version {version}, newer than this "
                         f"optkern reads ({VERSION}): load it with a newer optkern")
    entries, arrays = head.get("entries"), head.get("arrays")
    if not isinstance(entries, dict) or not isinstance(arrays, dict):
        raise _not_a_checkpoint(path, 'its header lacks "entries" or "arrays"')
    for name, entry in entries.items():
        if not isinstance(entry, dict) or \
                ("value" in entry) == ("state_dict" in entry and isinstance(entry.get("class"), str)):
            raise _not_a_checkpoint(path, f"its header's entry {name!r} is malformed")
    members = set(zf.namelist()) - {_HEADER}
    if members != set(arrays):
        raise _not_a_checkpoint(path, f"its arrays {sorted(members)} are not those its header names "
                                      f"{sorted(arrays)}")
    return head


def header(path):
    """The checkpoint's JSON header, as a dict: its format, version, entries
    (each a class and state dict, or a value, in the tagged form of
    docs/checkpoints.md) and arrays (member: dtype, shape and where it
    goes). Reads no array."""
    return _read(path, with_arrays=False)[0]


def _read(path, with_arrays=True):
    """(header, {member: array} or None), checked."""
    try:
        with zipfile.ZipFile(path) as zf:
            head = _read_header(zf, path)
            return head, _read_arrays(zf, path, head["arrays"]) if with_arrays else None
    except zipfile.BadZipFile as e:  # not a zip, cut short, or a CRC that does not match
        raise _not_a_checkpoint(path, f"it is not a zip file or is damaged ({e})") from None


def _read_arrays(zf, path, index):
    arrays = {}
    for member, spec in index.items():
        with zf.open(member) as stream:
            try:
                array = np.lib.format.read_array(stream, allow_pickle=False)
            except ValueError as e:
                raise _not_a_checkpoint(path, f"its array {member} cannot be read ({e})") from None
            if stream.read(1):  # also makes zipfile check the member's CRC
                raise _not_a_checkpoint(path, f"its array {member} has bytes after its data")
        if not isinstance(spec, dict) or _descr(array.dtype) != spec.get("dtype") or \
                list(array.shape) != spec.get("shape"):
            raise _not_a_checkpoint(path, f"its array {member} has dtype {array.dtype} and shape {array.shape}, "
                                          f"but its header says {spec!r}")
        arrays[member] = array
    return arrays


def _payload(entry):
    """What an entry holds: its state dict or its value, still encoded."""
    return entry["state_dict"] if "state_dict" in entry else entry["value"]


def _decode(x, arrays):
    """The header's tagged JSON tree, back to Python values and arrays."""
    if isinstance(x, list):
        return [_decode(v, arrays) for v in x]
    if not isinstance(x, dict):
        return x
    if len(x) == 1:
        (tag, v), = x.items()
        if tag == "$array":
            return arrays[v]
        if tag == "$scalar":
            return arrays[v][()]
        if tag == "$float":
            return float(v)
        if tag == "$tuple":
            return tuple(_decode(e, arrays) for e in v)
        if tag == "$dict":
            return {_decode(k, arrays): _decode(e, arrays) for k, e in v}
    return {k: _decode(v, arrays) for k, v in x.items()}


def load(path, into=None):
    """Read a checkpoint written by optkern.save; with `into`, restore it.

    Returns {name: value} for every entry: a value as it was saved (arrays
    as NumPy arrays, tuples as tuples, dict keys as they were), and for an
    object saved with its state dict, that state dict (pass it to the
    object's load_state_dict; header(path) names its class).

    into: {name: target} restores entries in place, where target is
      - an object with load_state_dict (the entry must hold the state of an
        object of the same class name): target.load_state_dict(state);
      - a NumPy array, or a list, tuple or dict of them, shaped as the
        saved value: the arrays are copied into the targets, which must
        have the saved shapes and dtypes.

        w, b = np.empty((784, 10), np.float32), np.empty(10, np.float32)
        opt = optkern.Adam([w, b])
        optkern.load("run.ckpt", into={"params": [w, b], "opt": opt})

    Everything is checked before anything is restored: an entry that is
    missing, holds another class or kind of value, or whose arrays differ
    in shape or dtype from what they go into (an optimizer's state from its
    parameter's) raises ValueError naming the entry and the array. If an
    object's load_state_dict raises, the objects restored before it are
    put back as they were.

    Raises ValueError for a file that is not a checkpoint, is damaged, or
    has a newer format version than this optkern reads. Never unpickles.
    """
    head, arrays = _read(path)
    entries = head["entries"]
    values = {}
    for name, entry in entries.items():
        try:
            values[name] = _decode(_payload(entry), arrays)
        except (KeyError, TypeError, ValueError, IndexError) as e:  # a tag that says nothing sensible
            raise _not_a_checkpoint(path, f"its header's entry {name!r} is malformed ({e!r})") from None
    if into is not None:
        _restore(entries, arrays, into)
    return values


# ---------------------------------------------------------------- restoring

def _restore(entries, arrays, into):
    if not isinstance(into, Mapping):
        raise TypeError(f"into must be a dict {{entry name: object or array}}, got {type(into).__name__}")
    missing = [name for name in into if name not in entries]
    if missing:
        raise ValueError(f"the checkpoint has no entr{'y' if len(missing) == 1 else 'ies'} "
                         f"{', '.join(map(repr, missing))} (it has {', '.join(map(repr, entries))})")
    copies, objects = [], []
    for name, target in into.items():
        entry = entries[name]
        # Decoded afresh: the containers given to load_state_dict are not
        # those load() returns.
        value = _decode(_payload(entry), arrays)
        if _stateful(target):
            cls = type(target).__qualname__
            if "state_dict" not in entry:
                raise ValueError(f"entry {name!r} is a plain value, not the state of {_a(cls)}")
            if entry["class"] != cls:
                raise ValueError(f"entry {name!r} holds the state of {_a(entry['class'])}, not of {_a(cls)}")
            _check_arrays_fit(name, value, target.state_dict(), cls)
            _check_optimizer_state(name, value, target)
            objects.append((name, target, value))
        else:
            if "state_dict" in entry:
                raise ValueError(f"entry {name!r} holds the state of {_a(entry['class'])}; restore it into one "
                                 f"(an object with load_state_dict), not into {_describe(target)}")
            _plan_copies(name, name, target, value, copies)
    _load_objects(objects)
    for target, source in copies:
        np.copyto(target, source, casting="no")


def _describe(value):
    """What a value is, for messages: "an array of shape (3,) and dtype float32",
    "a list of 2", "a dict with keys ['b', 'w']", "an int"."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    kind = type(value).__name__
    if isinstance(value, (list, tuple)):
        return f"a {kind} of {len(value)}"
    if isinstance(value, Mapping):
        return f"a dict with keys {sorted(map(repr, value))}"
    return _a(kind)


def _a(word):
    return f"{'an' if word[:1].lower() in ('a', 'e', 'i', 'o', 'u') else 'a'} {word}"


def _plan_copies(name, at, target, value, copies):
    """Check that `value` fits the array(s) `target` (an array, or a list,
    tuple or dict of them, as deep as the value); list the copies to make."""
    if isinstance(target, np.ndarray):
        fits = isinstance(value, np.ndarray) and value.shape == target.shape and value.dtype == target.dtype
    elif isinstance(target, (list, tuple)):
        fits = isinstance(value, (list, tuple)) and len(value) == len(target)
    elif isinstance(target, Mapping):
        fits = isinstance(value, dict) and set(value) == set(target)
    else:
        raise TypeError(f"cannot restore entry {name!r} into {_describe(target)}: into takes objects with "
                        f"load_state_dict, NumPy arrays, and lists, tuples and dicts of arrays "
                        f"(plain values are in load()'s result)")
    if not fits:
        raise ValueError(f"entry {name!r}: {at} is {_describe(value)} in the checkpoint, but "
                         f"{_describe(target)} was given to restore it into")
    if isinstance(target, np.ndarray):
        if not target.flags.writeable:
            raise ValueError(f"entry {name!r}: the array to restore {at} into is read-only")
        copies.append((target, value))
    else:
        for k, t in (enumerate(target) if isinstance(target, (list, tuple)) else target.items()):
            _plan_copies(name, f"{at}[{k!r}]", t, value[k], copies)


def _check_arrays_fit(name, saved, current, cls, at="state_dict()"):
    """Where the object's current state dict has an array at the place the
    checkpoint has one, the two must agree in shape and dtype."""
    if isinstance(saved, np.ndarray) and isinstance(current, np.ndarray):
        if saved.shape != current.shape or saved.dtype != current.dtype:
            raise ValueError(f"entry {name!r}: {at} has shape {saved.shape} and dtype {saved.dtype} in the "
                             f"checkpoint, but shape {current.shape} and dtype {current.dtype} in the {cls}")
    elif isinstance(saved, dict) and isinstance(current, Mapping):
        for k in saved:  # in order: the first that differs is the one named
            if k in current:
                _check_arrays_fit(name, saved[k], current[k], cls, f"{at}[{k!r}]")
    elif isinstance(saved, (list, tuple)) and isinstance(current, (list, tuple)):
        for k, (s, c) in enumerate(zip(saved, current)):
            _check_arrays_fit(name, s, c, cls, f"{at}[{k}]")


def _check_optimizer_state(name, saved, opt):
    """An optkern optimizer's state arrays have their parameter's shape and
    dtype. Its load_state_dict casts state to the parameter's dtype; from a
    checkpoint a different dtype is refused instead, as a cast state would
    not continue the saved run bit for bit."""
    from optkern.optim import Optimizer
    if not isinstance(opt, Optimizer) or not isinstance(saved.get("state"), dict) or \
            not isinstance(saved.get("param_groups"), list):
        return  # a malformed state dict: load_state_dict says what is wrong with it
    params = {}
    for saved_group, group in zip(saved["param_groups"], opt.param_groups):
        if isinstance(saved_group, dict) and isinstance(saved_group.get("params"), list):
            params.update(zip(saved_group["params"], group["params"]))
    for index, state in saved["state"].items():
        if index not in params or not isinstance(state, dict):
            continue
        p = params[index]
        for key, array in state.items():
            if key != "step" and isinstance(array, np.ndarray) and (array.shape, array.dtype) != (p.shape, p.dtype):
                raise ValueError(f"entry {name!r}: state_dict()['state'][{index!r}][{key!r}] has shape "
                                 f"{array.shape} and dtype {array.dtype} in the checkpoint, but its parameter "
                                 f"in the {type(opt).__qualname__} has shape {p.shape} and dtype {p.dtype}")


def _load_objects(objects):
    """load_state_dict on each object; if one raises, the ones before it
    get their previous state back."""
    done = []
    for k, (name, target, value) in enumerate(objects):
        before = copy.deepcopy(target.state_dict()) if k < len(objects) - 1 else None
        try:
            target.load_state_dict(value)
        except Exception as e:
            for earlier, state in reversed(done):
                earlier.load_state_dict(state)
            raise ValueError(f"entry {name!r} does not fit the {type(target).__qualname__}: {e}") from e
        done.append((target, before))
