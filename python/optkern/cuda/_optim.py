"""An optimizer step on the GPU: the checks, the plan of one multi-tensor
launch per dtype signature, and the launch (docs/gpu.md#multi-tensor).

The C library still does what is not per-element: it checks each
hyperparameter set and derives its coefficients (optkern._core Kind
.coefficients, the same bytes the CPU kernels read), and says which states a
set needs. This module checks the arrays, as the binding does for NumPy
arrays, before anything is launched: a bad call changes nothing.
"""

import functools
import re
import struct

import numpy as np

from optkern import _core
from optkern.cuda import _device

__all__ = ["step", "step_8bit", "supports"]

_DTYPES = {"float32": 0, "float64": 1, "bfloat16": 2, "float16": 3}


class _Numbers(dict):
    """{dtype: its ok_dtype number}, filled as dtypes are met (looking up a
    dtype object is faster than reading its name)."""

    def __missing__(self, dtype):
        number = self[dtype] = _DTYPES.get(dtype.name)
        return number


_NUMBERS = _Numbers()


@functools.lru_cache(maxsize=None)
def _variants():
    """{(param, grad, state) dtype numbers: variant number}, read from the
    shipped variants.h (its OK_VARIANT_SPEC_k lines)."""
    text = (_device.sources() / "src" / "variants.h").read_text()
    rows = re.findall(r"#define OK_VARIANT_SPEC_(\d+)\s+\w+,\s*(\d),\s*(\d),\s*(\d)", text)
    return {(int(p), int(g), int(s)): int(k) for k, p, g, s in rows}


@functools.lru_cache(maxsize=None)
def _plan_layout():
    """{word name: index} of the plan header, read from the shipped
    kernels/cuda/plan.cuh (its enum ok_plan_word)."""
    text = (_device.sources() / "cuda" / "plan.cuh").read_text()
    body = re.search(r"enum ok_plan_word \{(.*?)\};", text, re.S).group(1)
    names = [n.strip() for n in body.split(",") if n.strip()]
    layout = {name: k for k, name in enumerate(names[:-1])}
    streams = int(re.search(r"#define OK_MT_MAX_STREAMS (\d+)",
                            (_device.sources() / "src" / "multi_tensor.h").read_text()).group(1))
    layout["OK_PLAN_HEADER"] = layout["OK_PLAN_STREAM"] + streams
    return layout


# The launches of the optimizers that make passes of their own (optim.cu:
# LAMB and LARS, "per-tensor norms"; Adafactor): first those that every plan
# of the call takes before any plan goes on (LAMB's global gradient norm;
# skipped when no set clips), then each plan's own, in order. Each kernel
# runs over the plan's chunks (a persistent grid), over its tensors with a
# thread each, over its tensors with a block each, or as one block.
_PASSES = {
    "lamb": ((("ok_cuda_norms_grad_sq", "chunks"), ("ok_cuda_lamb_total", "one")),
             (("ok_cuda_lamb_start", "threads"), ("ok_cuda_lamb_moments", "chunks"),
              ("ok_cuda_lamb_scale", "tensors"), ("ok_cuda_apply_lamb", "chunks"))),
    "lars": ((),
             (("ok_cuda_lars_start", "threads"), ("ok_cuda_norms_param_grad_sq", "chunks"),
              ("ok_cuda_lars_scale", "tensors"), ("ok_cuda_apply_lars", "chunks"))),
    "adafactor": ((),
                  (("ok_cuda_af_start", "threads"), ("ok_cuda_af_rows", "chunks"), ("ok_cuda_af_cols", "chunks"),
                   ("ok_cuda_af_means", "chunks"), ("ok_cuda_af_sums", "chunks"), ("ok_cuda_af_step", "tensors"),
                   ("ok_cuda_apply_adafactor", "chunks"))),
}


def supports(kind):
    """Whether optimizer `kind` has GPU kernels: the elementwise ones (one
    pass of their body), LAMB, LARS and Adafactor (passes of their own)."""
    return kind.elementwise or kind.name in _PASSES


@functools.lru_cache(maxsize=64)
def _chunks(numel, size):
    """The chunk table of tensors of numel elements: (tensor, first element)
    pairs, uint64."""
    counts = [-(-n // size) for n in numel]
    tensor = np.repeat(np.arange(len(numel), dtype=np.uint64), counts)
    first = np.concatenate([np.arange(c, dtype=np.uint64) * np.uint64(size) for c in counts]) if counts else \
        np.zeros(0, np.uint64)
    table = np.empty(2 * len(tensor), dtype=np.uint64)
    table[0::2], table[1::2] = tensor, first
    table.flags.writeable = False
    return table


def _dtype_number(a, what):
    number = _NUMBERS[a.dtype]
    if number is None:
        raise TypeError(f"{what} has dtype {a.dtype}; optkern's GPU kernels take float32, float64, bfloat16 "
                        "and float16")
    return number


def checked_array(device, a, what, shape=None):
    """a, once it is an array of `device`, C-contiguous, of `shape` if given."""
    if not device.owns(a):
        raise TypeError(f"{what} must be a {device.xp.__name__}.ndarray on the GPU, got {type(a).__name__}")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{what} has shape {a.shape}, expected {shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{what} must be C-contiguous")
    device.check_device(a, what)
    return a


def check_no_overlap(device, written, read=()):
    """ValueError when one of `written` ([(name, array)]) overlaps another
    or one of `read`: the sweep of ok_check_overlap (optim.c)."""
    spans = []
    for flag, pairs in ((1, written), (0, read)):
        for name, a in pairs:
            if a.nbytes:
                start = device.pointer(a)
                spans.append((start, start + a.nbytes, flag, name))
    spans.sort(key=lambda s: (s[0], s[2] == 0))
    far_any = far_written = None
    for span in spans:
        other = far_any if span[2] else far_written
        if other is not None and span[0] < other[1]:
            raise ValueError(f"{span[3]} overlaps {other[3]}; they must be separate arrays")
        if far_any is None or span[1] > far_any[1]:
            far_any = span
        if span[2] and (far_written is None or span[1] > far_written[1]):
            far_written = span


class Prepared:
    """What an optimizer's steps share while its parameters, states and
    master copies stay the same arrays: their checks, and each launch's plan
    but for the gradients, coefficients and rounding keys, which each step
    writes into a copy. The Optimizer keeps one per set of state lists
    (its _Plan.prepare); a functional call makes its own."""

    __slots__ = ("key", "arrays", "tensors", "starts", "ends", "names", "plans")

    def __init__(self):
        self.key = None
        self.plans = {}


def _checked_master(device, master, i, p, dp):
    """[(name, array)] of params[i]'s master copy once checked (a float32
    copy of a 16-bit parameter p of dtype number dp), or [] for none."""
    m = None if master is None else master[i]
    if m is None:
        return []
    checked_array(device, m, f"master[{i}]", p.shape)
    if m.dtype != np.float32 or dp < 2:
        raise TypeError(f"master[{i}] must be float32, the copy of a bfloat16 or float16 parameter")
    return [(f"master[{i}]", m)]


def _static(device, kind, params, lists, master):
    """Per tensor (param dtype, state dtype, numel, the states present and
    the states its shape has, each a bit set: Adafactor's matrices have no
    variance, its vectors no factors), once params, states and master
    copies are checked; and the written arrays' spans, sorted, checked not
    to overlap."""
    tensors, written = [], []
    for i, p in enumerate(params):
        p = checked_array(device, p, f"params[{i}]")
        dp = _dtype_number(p, f"params[{i}]")
        dstate, present = None, 0
        for k, (name, lst) in enumerate(zip(kind.states + kind.work, lists)):
            s = None if lst is None else lst[i]
            if s is None:
                continue
            present |= 1 << k
            what = f"the {name} of params[{i}]"
            if name in kind.scalars:  # one float32, torch's 0-d tensor
                checked_array(device, s, what, ())
                if s.dtype != np.float32:
                    raise TypeError(f"{what} must be a float32 scalar, got {s.dtype}")
            else:  # the parameter's shape, or the one the state has (Adafactor's factors)
                checked_array(device, s, what, kind.state_shape(name, p.shape) if kind.shaped else p.shape)
                d = _dtype_number(s, what)
                if dstate is not None and d != dstate:
                    raise TypeError(f"the states of params[{i}] must share one dtype")
                dstate = d
            written.append((what, s))
        written += _checked_master(device, master, i, p, dp)
        written.append((f"params[{i}]", p))
        shaped = sum(1 << k for k, name in enumerate(kind.states)
                     if kind.shaped and kind.state_shape(name, p.shape) is None)
        tensors.append((dp, dp if dstate is None else dstate, p.size, present, ~shaped))
    check_no_overlap(device, written)
    spans = sorted((device.pointer(a), device.pointer(a) + a.nbytes, name) for name, a in written if a.nbytes)
    return (tensors, np.array([s[0] for s in spans], dtype=np.uint64), np.array([s[1] for s in spans], dtype=np.uint64),
            [s[2] for s in spans])


def _coefficient_sets(kind, sets, scaling):
    """Each hyperparameter set's coefficients (bytearrays, the C library's:
    ValueError for an invalid set), with the call's gradient scaling."""
    coeffs = [bytearray(kind.coefficients(s)) for s in sets]
    if scaling is not None:
        if not (scaling[0] > 0 and np.isfinite(scaling[0])):
            raise ValueError(f"the gradient unscale factor must be finite and > 0, got {scaling[0]}")
        for c in coeffs:
            c[:16] = struct.pack("=dd", *scaling)  # the ok_grad_scaling every set begins with
    return coeffs


def step(device, kind, params, grads, states, sets, hp_index=None, scaling=None, master=None, rounding=None,
         prepared=None, work=None):
    """_core.step's update on `device`: states (and work) a tuple with one
    list (or None) per state of kind.states (per work array of kind.work);
    the other arguments are _core.step's; prepared: the caller's Prepared,
    kept between its steps (None: none). Everything is checked before the
    first launch."""
    if not supports(kind):
        raise NotImplementedError(f"{kind.name} has no GPU kernel yet (docs/gpu.md lists the optimizers that do); "
                                  "run it on NumPy arrays")
    n = len(params)
    if len(grads) != n:
        raise ValueError(f"expected {n} grads, one per parameter; got {len(grads)}")
    if master is not None and len(master) != n:
        raise ValueError(f"expected {n} master copies, one per parameter; got {len(master)}")
    coeffs = _coefficient_sets(kind, sets, scaling)
    required = [kind.required_streams(s) for s in sets]  # bit k: (states + work)[k]
    lists = [None if lst is None else list(lst) for lst in tuple(states) + (work or (None,) * len(kind.work))]
    # Kept while the very same arrays come back: the Prepared holds them, so
    # that none is freed and its id() taken by another. Work arrays are new
    # at each step (Muon's): such a step prepares afresh.
    prepared = Prepared() if prepared is None or kind.work else prepared
    key = tuple(map(id, params)) + tuple(id(a) for lst in lists if lst is not None for a in lst) + \
        (() if master is None else tuple(map(id, master)))
    if prepared.key != key:
        prepared.tensors, prepared.starts, prepared.ends, prepared.names = _static(device, kind, params, lists, master)
        prepared.key, prepared.arrays, prepared.plans = key, (list(params), lists, master), {}
    # the gradients: checked each step, against the parameters and the
    # written arrays' spans (a read-only gradient may not overlap them)
    groups = {}  # variant: [tensor numbers]
    pointers, ends = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.uint64)
    variants, tensors = _variants(), prepared.tensors
    for i, g in enumerate(grads):
        if g is None:
            continue
        dp, ds, _, present, has = tensors[i]
        k = 0 if hp_index is None else int(hp_index[i])
        if required[k] & has & ~present:
            names = kind.states + kind.work
            missing = [name for j, name in enumerate(names) if (required[k] & has) >> j & 1 and not present >> j & 1]
            raise ValueError(f"params[{i}] needs its {missing[0]} state")
        checked_array(device, g, f"grads[{i}]", params[i].shape)
        variant = variants.get((dp, _dtype_number(g, f"grads[{i}]"), ds))
        if variant is None:
            raise TypeError(f"params[{i}] ({params[i].dtype}) with grads[{i}] of dtype {g.dtype} and states of that "
                            "dtype signature have no kernel (docs/precision.md lists the combinations)")
        pointers[i] = start = device.pointer(g)
        ends[i] = start + g.nbytes if g.nbytes else 0
        groups.setdefault(variant, []).append(i)
    # a written span starting before a gradient's end and ending after its start
    at = np.searchsorted(prepared.starts, ends) - 1
    hit = np.flatnonzero((ends > pointers) & (at >= 0) & (prepared.ends[np.maximum(at, 0)] > pointers)
                         if len(prepared.starts) else np.zeros(0, dtype=bool))
    if hit.size:
        i = int(hit[0])
        raise ValueError(f"grads[{i}] overlaps {prepared.names[at[i]]}; they must be separate arrays")
    keys = None if rounding is None else _core.rounding_keys(rounding[0], np.asarray(rounding[1], dtype=np.int64))
    L = _plan_layout()
    passes = kind.name if kind.name in _PASSES else None
    # a double the plans of a call share (LAMB's sum of g^2)
    shared = device.upload(np.zeros(1, dtype=np.uint64)) if passes else None
    launches = []  # (variant, uploaded plan, chunks, tensors)
    for variant, members in sorted(groups.items()):
        plan_key = (variant, tuple(members), len(coeffs), hp_index is not None and len(coeffs) > 1, keys is not None)
        base = prepared.plans.get(plan_key)
        if base is None:
            streams = [params, None] + lists
            base = prepared.plans[plan_key] = plan_words(
                device, [prepared.tensors[i][2] for i in members],
                [None if lst is None else [lst[i] for i in members] for lst in streams], coeffs,
                np.zeros(len(members), np.uint32) if plan_key[3] else None,
                None if master is None else [master[i] for i in members],
                np.zeros(len(members), np.uint64) if keys is not None else None, grads=True, passes=passes,
                shapes=[params[i].shape for i in members])
        words = base.copy()
        members = np.array(members)
        at = int(words[L["OK_PLAN_STREAM"] + 1])
        words[at:at + len(members)] = pointers[members]
        at = int(words[L["OK_PLAN_COEFFS"]])
        blob = b"".join(bytes(c) for c in coeffs)
        words[at:].view(np.uint8)[:len(blob)] = np.frombuffer(blob, dtype=np.uint8)
        if plan_key[3]:
            at = int(words[L["OK_PLAN_COEFF_INDEX"]])
            words[at:].view(np.uint32)[:len(members)] = np.asarray(hp_index)[members]
        if keys is not None:
            at = int(words[L["OK_PLAN_ROUND_KEY"]])
            words[at:at + len(members)] = keys[members]
        if passes:
            words[L["OK_PLAN_SHARED"]] = device.pointer(shared)
        launches.append((variant, device.upload(words), int(words[L["OK_PLAN_CHUNKS"]]), len(members)))
    if passes:
        _pass_launches(device, kind, sets, launches)
        return
    for variant, plan, chunks, count in launches:
        if chunks:
            device.launch("optim.cu", variant, f"ok_cuda_step_{kind.name}", device.grid(chunks), device.block, plan)
        if kind.scalars:
            grid = device.grid(-(-count // device.block))
            device.launch("optim.cu", variant, f"ok_cuda_advance_{kind.name}", grid, device.block, plan)


def _pass_launches(device, kind, sets, launches):
    """The launches of a step of an optimizer with passes of its own over
    the call's plans (_PASSES), a plan without elements skipped."""
    launches = [launch for launch in launches if launch[2]]
    shared, own = _PASSES[kind.name]
    if kind.name == "lamb" and all(s["max_grad_norm"] == np.inf for s in sets):
        shared = ()  # no set clips: G is not needed
    grids = {"chunks": lambda chunks, count: device.grid(chunks), "one": lambda chunks, count: 1,
             "threads": lambda chunks, count: device.grid(-(-count // device.block)),
             "tensors": lambda chunks, count: device.grid(count)}
    for kernels in [[k] for k in shared] + ([own] if launches else []):
        for variant, plan, chunks, count in launches:
            for kernel, over in kernels:
                device.launch("optim.cu", variant, kernel, grids[over](chunks, count), device.block, plan)


_Q8_BLOCK = 256  # OK_Q8_BLOCK (quant8.h): the elements of one scale


def step_8bit(device, kind, params, grads, states, sets, hp_index=None, scaling=None, master=None, rounding=None):
    """_core.step_8bit's update on `device` (ok_optimizer_step_8bit's
    arguments: states (state1, absmax1, state2, absmax2), lists aligned
    with params, state2 and absmax2 None for a one-state optimizer; every
    gradient present). Everything is checked before the launch."""
    n = len(params)
    lists = [None if lst is None else list(lst) for lst in states]
    for name, lst in zip(("grads", "state1", "absmax1", "state2", "absmax2"), [grads] + lists):
        if lst is not None and len(lst) != n:
            raise ValueError(f"expected {n} {name}, one per parameter; got {len(lst)}")
    if master is not None and len(master) != n:
        raise ValueError(f"expected {n} master copies, one per parameter; got {len(master)}")
    coeffs = _coefficient_sets(kind, sets, scaling)
    written, read, groups = [], [], {}
    for i, (p, g) in enumerate(zip(params, grads)):
        p = checked_array(device, p, f"params[{i}]")
        dp = _dtype_number(p, f"params[{i}]")
        if dp == _DTYPES["float64"]:
            raise TypeError(f"params[{i}] has dtype float64; 8-bit optimizer states are for float32, bfloat16 and "
                            "float16 parameters")
        g = checked_array(device, g, f"grads[{i}]", p.shape)
        variant = _variants().get((dp, _dtype_number(g, f"grads[{i}]"), _DTYPES["float32"]))
        if variant is None:
            raise TypeError(f"params[{i}] ({p.dtype}) with grads[{i}] of dtype {g.dtype} have no 8-bit kernel")
        for k, (codes, absmax) in enumerate(zip(lists[0::2], lists[1::2]), 1):
            if codes is None:
                continue
            checked_array(device, codes[i], f"state{k}[{i}]", p.shape)
            checked_array(device, absmax[i], f"absmax{k}[{i}]", (-(-p.size // _Q8_BLOCK),))
            if codes[i].dtype != np.uint8 or absmax[i].dtype != np.float32:
                raise TypeError(f"state{k}[{i}] must be uint8 codes and absmax{k}[{i}] float32 scales")
            written += [(f"state{k}[{i}]", codes[i]), (f"absmax{k}[{i}]", absmax[i])]
        written += _checked_master(device, master, i, p, dp)
        written.append((f"params[{i}]", p))
        read.append((f"grads[{i}]", g))
        groups.setdefault(variant, []).append(i)
    check_no_overlap(device, written, read)
    keys = None if rounding is None else _core.rounding_keys(rounding[0], np.asarray(rounding[1], dtype=np.int64))
    # streams (optim/eightbit.h): the parameter, the gradient, the codes of
    # each state, the scales of each; chunks of whole quantisation blocks
    chunk_size = np.lcm(device.chunk_size, _Q8_BLOCK)
    for variant, members in sorted(groups.items()):
        words = plan_words(
            device, [params[i].size for i in members],
            [[seq[i] for i in members] for seq in (params, grads)] +
            [None if lst is None else [lst[i] for i in members] for lst in lists[0::2] + lists[1::2]], coeffs,
            None if hp_index is None or len(coeffs) == 1 else np.asarray(hp_index)[members],
            None if master is None else [master[i] for i in members],
            None if keys is None else keys[members], chunk_size=chunk_size)
        chunks = int(words[_plan_layout()["OK_PLAN_CHUNKS"]])
        if chunks:
            device.launch("optim.cu", variant, f"ok_cuda_q8_{kind.name}", device.grid(chunks), device.block, words)


def plan_words(device, numel, streams, coeffs=(), coeff_index=None, master=None, keys=None, scratch=False,
               grads=False, passes=None, shapes=None, chunk_size=None):
    """The words of a plan (kernels/cuda/plan.cuh) over tensors of `numel`
    elements: streams, one list of arrays (None entries: absent) or None
    per stream; the coefficient sets (bytes each, of one size) and each
    tensor's set (None: set 0); the master copies and rounding keys (or
    None); scratch: room for a reduction's result and parts; grads: room
    for stream 1's pointers (given as None), which the caller writes;
    passes: the name of an optimizer with passes of its own (_PASSES), whose
    records the plan holds: each tensor's ok_norm_tensor (LAMB, LARS) or
    ok_af_tensor (Adafactor, from the tensors' `shapes`), each chunk's
    sums; chunk_size: the elements of a chunk (None: the device's)."""
    L = _plan_layout()
    count = len(numel)
    chunk_size = int(chunk_size or device.chunk_size)
    chunk_table = _chunks(tuple(numel), chunk_size)
    blob = b"".join(bytes(c) for c in coeffs)
    parts = [("OK_PLAN_NUMEL", np.array(numel, dtype=np.uint64)),
             ("OK_PLAN_CHUNK_TABLE", chunk_table),
             ("OK_PLAN_COEFFS", np.frombuffer(blob + bytes(-len(blob) % 8), dtype=np.uint64))]
    if coeff_index is not None:
        index = np.zeros(count + count % 2, dtype=np.uint32)
        index[:count] = coeff_index
        parts.append(("OK_PLAN_COEFF_INDEX", index.view(np.uint64)))
    if master is not None:
        parts.append(("OK_PLAN_MASTER", _pointers(device, master)))
    if keys is not None:
        parts.append(("OK_PLAN_ROUND_KEY", np.asarray(keys, dtype=np.uint64)))
    if scratch:
        parts.append(("OK_PLAN_SCRATCH", np.zeros(1 + 2 * device.parts, dtype=np.uint64)))
    if passes in ("lamb", "lars"):  # ok_norm_tensor: first chunk, chunk count, adapt, clip 1.0, scale 1.0
        tensors = np.zeros((count, 5), dtype=np.uint64)
        counts = [-(-n // chunk_size) for n in numel]
        tensors[:, 0] = np.cumsum([0] + counts[:-1])
        tensors[:, 1] = counts
        tensors[:, 3:] = np.array(1.0).view(np.uint64)
        parts.append(("OK_PLAN_NORMS", tensors.ravel()))
    elif passes == "adafactor":
        tensors, slots = _factors(shapes, numel)
        parts += [("OK_PLAN_FACTORS", tensors.ravel()), ("OK_PLAN_SLOTS", np.zeros(slots, dtype=np.uint64))]
    if passes:
        parts.append(("OK_PLAN_SUMS", np.zeros(len(chunk_table), dtype=np.uint64)))
    for s, lst in enumerate(streams):
        if lst is not None:
            parts.append((L["OK_PLAN_STREAM"] + s, _pointers(device, lst)))
        elif s == 1 and grads:
            parts.append((L["OK_PLAN_STREAM"] + s, np.zeros(count, dtype=np.uint64)))
    header = np.zeros(L["OK_PLAN_HEADER"], dtype=np.uint64)
    header[L["OK_PLAN_TENSORS"]] = count
    header[L["OK_PLAN_CHUNKS"]] = len(chunk_table) // 2
    header[L["OK_PLAN_CHUNK_SIZE"]] = chunk_size
    header[L["OK_PLAN_COEFF_SIZE"]] = len(coeffs[0]) if coeffs else 0
    at = len(header)
    for name, part in parts:
        header[L[name] if isinstance(name, str) else name] = at
        at += len(part)
    return np.concatenate([header] + [p for _, p in parts])


def _factors(shapes, numel):
    """Each tensor's ok_af_tensor (optim/adafactor.h; 7 words: matrix,
    batch, rows, cols, parts, slots, step), a matrix batch as one part, its
    slots an offset in doubles (ok_cuda_af_start makes it an address); and
    the doubles its matrices' slots take."""
    tensors = np.zeros((len(shapes), 7), dtype=np.uint64)
    at = 0
    for k, (shape, n) in enumerate(zip(shapes, numel)):
        matrix = len(shape) >= 2
        batch, rows, cols = (int(np.prod(shape[:-2])), shape[-2], shape[-1]) if matrix else (1, 1, 1)
        tensors[k, :6] = (matrix, batch, rows, cols, 1, at)
        if matrix and n:
            at += batch * (1 + cols)
    return tensors, at


def _pointers(device, arrays):
    return np.array([0 if a is None else device.pointer(a) for a in arrays], dtype=np.uint64)
