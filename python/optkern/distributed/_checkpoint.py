"""Checkpoints of a ZeroOptimizer in one logical, single-process layout,
written by every rank at once and loadable at any world size
(docs/distributed.md#checkpoints).

A checkpoint is a directory: manifest.json (the optimizer, the parameters'
shapes and dtype, the param groups, the steps taken, and each parameter's
state: where its arrays lie, its scalars' values) and .npy files:
params.npy (every parameter, flattened, in order) and one file per state
name and dtype (each parameter's state array, flattened, in order). That is
a single-process optimizer's state_dict with the arrays laid end to end:
nothing in it depends on the world size, the buckets or the ranks.

save() writes into <root>/<name>.tmp, fsyncs every file, renames it to
<root>/<name> and then points <root>/latest at it with an atomic rename:
a save killed at any moment leaves the previous checkpoint as latest.
"""

import json
import os
import shutil
import time

import numpy as np

__all__ = ["save", "load", "read_checkpoint"]

FORMAT = "optkern-distributed-checkpoint-1"


def _encode(value):
    """A hyperparameter as JSON (tuples kept as tuples)."""
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a hyperparameter of type {type(value).__name__} ({value!r}) cannot be saved in a checkpoint; "
                    "a schedule given as lr is code: set the group's lr to a number before saving")


def _decode(value):
    if isinstance(value, dict):
        return tuple(_decode(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _describe(entry, shape, element_granular):
    """What the manifest records of one parameter's state entry: per key,
    an array's shape and dtype, or a scalar's value."""
    out = {}
    for key, value in entry.items():
        if isinstance(value, np.ndarray) and value.ndim > 0:
            out[key] = {"shape": list(shape if element_granular else value.shape), "dtype": str(value.dtype)}
        elif isinstance(value, np.ndarray):
            out[key] = {"value": value.item(), "dtype": str(value.dtype)}
        else:
            out[key] = {"value": value.item() if isinstance(value, np.generic) else value}
    return out


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(zopt, root):
    """Every rank's pieces into one checkpoint under root (a collective)."""
    from optkern.distributed import _comm

    comm, layout = zopt.comm, zopt.layout
    groups = _comm.checked(comm, lambda: [{k: _encode(v) for k, v in g.items()} for g in zopt.full_param_groups()])
    inner = zopt.inner.state_dict()["state"] if zopt.inner is not None else {}
    # each parameter's state, described by the rank holding its first element
    described = {}
    for j, piece in enumerate(zopt._piece_order):
        i, first = piece[0], piece[1]
        if first == 0 and j in inner:
            described[i] = _describe(inner[j], zopt._shapes[i], layout.element_granular)
    everything = comm.gather(described, root=0)
    plan = None
    if comm.rank == 0:
        state = {}
        for part in everything:
            state.update(part)
        files, sizes = {}, {}
        for i in sorted(state):
            for key, d in state[i].items():
                if "shape" in d:
                    name = f"state.{key}.{d['dtype']}.npy"
                    d["file"], d["offset"] = name, sizes.get(name, 0)
                    sizes[name] = d["offset"] + int(np.prod(d["shape"]))
                    files[name] = d["dtype"]
        name = f"step-{zopt.steps:08d}-{time.time_ns():x}"
        os.makedirs(root, exist_ok=True)
        for stale in os.listdir(root):  # the remains of saves that did not finish
            if stale.endswith(".tmp"):
                shutil.rmtree(os.path.join(root, stale), ignore_errors=True)
        tmp = os.path.join(root, name + ".tmp")
        os.makedirs(tmp)
        np.lib.format.open_memmap(os.path.join(tmp, "params.npy"), "w+", zopt.dtype, (layout.numel,)).flush()
        for file, dtype in files.items():
            np.lib.format.open_memmap(os.path.join(tmp, file), "w+", np.dtype(dtype), (sizes[file],)).flush()
        plan = {"name": name, "tmp": tmp, "state": {str(i): v for i, v in state.items()}, "files": sorted(files)}
    plan = comm.bcast(plan, root=0)
    tmp = plan["tmp"]
    # every rank writes its own pieces: the parameters and their states
    maps = {file: np.load(os.path.join(tmp, file), mmap_mode="r+") for file in ["params.npy"] + plan["files"]}
    for j, (i, first, at, n, _) in enumerate(zopt._piece_order):
        maps["params.npy"][at:at + n] = zopt._flat[at:at + n]
        for key, value in inner.get(j, {}).items():
            d = plan["state"][str(i)][key]
            if "file" in d:
                start = d["offset"] + (first if layout.element_granular else 0)
                maps[d["file"]][start:start + value.size] = value.reshape(-1)
    for m in maps.values():
        m.flush()
    del maps
    for file in ["params.npy"] + plan["files"]:
        _fsync(os.path.join(tmp, file))
    comm.Barrier()
    if comm.rank == 0:
        manifest = {
            "format": FORMAT,
            "optimizer": f"{zopt.optimizer_class.__module__}.{zopt.optimizer_class.__qualname__}",
            "dtype": str(zopt.dtype),
            "shapes": [list(s) for s in zopt._shapes],
            "group_sizes": [len(g["params"]) for g in zopt.param_groups],
            "param_groups": groups,
            "steps": zopt.steps,
            "state": plan["state"],
            "saved_by_ranks": comm.size,
        }
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest, f)
            f.flush()
            os.fsync(f.fileno())
        _fsync(tmp)
        final = os.path.join(root, plan["name"])
        os.rename(tmp, final)
        link = os.path.join(root, "latest")
        previous = os.path.realpath(link) if os.path.islink(link) else None
        os.symlink(plan["name"], link + ".new")
        os.replace(link + ".new", link)
        _fsync(root)
        for old in os.listdir(root):  # keep the new checkpoint and the one before it
            path = os.path.join(root, old)
            if old.startswith("step-") and os.path.isdir(path) and path not in (final, previous):
                shutil.rmtree(path, ignore_errors=True)
    comm.Barrier()


def _resolve(path):
    """The checkpoint directory at path: path/latest's target, or path."""
    link = os.path.join(path, "latest")
    directory = os.path.realpath(link) if os.path.exists(link) else path
    if not os.path.exists(os.path.join(directory, "manifest.json")):
        raise FileNotFoundError(f"no optkern checkpoint at {path} (no latest, no manifest.json)")
    return directory


def _manifest(path):
    directory = _resolve(path)
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{directory} is not an optkern distributed checkpoint (format {manifest.get('format')!r})")
    return directory, manifest


def _entry(directory, described, maps, first=0, count=None):
    """A parameter's state entry from the checkpoint: arrays (elements
    [first, first + count) of a flattened one, or all of it in its shape),
    scalars."""
    entry = {}
    for key, d in described.items():
        if "file" in d:
            m = maps.setdefault(d["file"], np.load(os.path.join(directory, d["file"]), mmap_mode="r"))
            if count is None:
                entry[key] = np.array(m[d["offset"]:d["offset"] + int(np.prod(d["shape"]))]).reshape(d["shape"])
            else:
                entry[key] = np.array(m[d["offset"] + first:d["offset"] + first + count])
        elif "dtype" in d:
            entry[key] = np.array(d["value"], dtype=d["dtype"])
        else:
            entry[key] = d["value"]
    return entry


def load(zopt, path):
    """A checkpoint (any world size) into zopt's parameters and its pieces'
    states (a collective only in that every rank reads)."""
    from optkern.distributed import _comm

    def read():
        directory, manifest = _manifest(path)
        expected = f"{zopt.optimizer_class.__module__}.{zopt.optimizer_class.__qualname__}"
        if manifest["optimizer"] != expected:
            raise ValueError(f"the checkpoint is of {manifest['optimizer']}, this optimizer {expected}")
        if [tuple(s) for s in manifest["shapes"]] != list(zopt._shapes) or manifest["dtype"] != str(zopt.dtype):
            raise ValueError("the checkpoint's parameters (shapes, dtype) are not this optimizer's")
        if manifest["group_sizes"] != [len(g["params"]) for g in zopt.param_groups]:
            raise ValueError(f"the checkpoint has param groups of {manifest['group_sizes']} parameters, this "
                             f"optimizer {[len(g['params']) for g in zopt.param_groups]}")
        return directory, manifest

    directory, manifest = _comm.checked(zopt.comm, read)
    layout = zopt.layout
    params = np.load(os.path.join(directory, "params.npy"), mmap_mode="r")
    zopt._flat[:layout.numel] = params
    for g, saved in zip(zopt.param_groups, manifest["param_groups"]):
        g.update({k: _decode(v) for k, v in saved.items()})
    zopt.steps = manifest["steps"]
    if zopt.inner is None:
        return
    maps, state = {}, {}
    for j, (i, first, _, n, _) in enumerate(zopt._piece_order):
        described = manifest["state"].get(str(i))
        if described:
            state[j] = _entry(directory, described, maps, first, n) if layout.element_granular else \
                _entry(directory, described, maps)
    groups = zopt.inner.state_dict()["param_groups"]
    for inner_group, k in zip(groups, zopt._inner_group_of):
        inner_group.update({key: v for key, v in zopt.param_groups[k].items() if key != "params"})
    zopt.inner.load_state_dict({"state": state, "param_groups": groups})


def read_checkpoint(path):
    """(params, state_dict) of a checkpoint: the parameters (arrays of
    their shapes) and the state_dict of a single-process optimizer over
    them (optkern's and torch's layout), for
    `opt = optkern.AdamW(params); opt.load_state_dict(state_dict)`."""
    directory, manifest = _manifest(path)
    flat = np.load(os.path.join(directory, "params.npy"))
    params, at = [], 0
    for shape in manifest["shapes"]:
        n = int(np.prod(shape))
        params.append(flat[at:at + n].reshape(shape).copy())
        at += n
    maps, state = {}, {}
    for i, described in manifest["state"].items():
        entry = _entry(directory, described, maps)
        for key, d in described.items():  # element-granular pieces saved flat: the parameter's shape
            if "file" in d:
                entry[key] = entry[key].reshape(d["shape"])
        state[int(i)] = entry
    groups, start = [], 0
    for size, saved in zip(manifest["group_sizes"], manifest["param_groups"]):
        groups.append({**{k: _decode(v) for k, v in saved.items()}, "params": list(range(start, start + size))})
        start += size
    return params, {"state": state, "param_groups": groups}
