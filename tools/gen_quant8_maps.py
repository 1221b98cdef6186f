"""Writes kernels/src/quant8_maps.h: the two dynamic maps of optkern's 8-bit
optimizer states, the thresholds, in heap order, that pick a value's nearest code,
and the bucket tables the kernels find that code with
(docs/precision.md#8-bit-states). Run it from the repository root when the
format changes; tests/test_eightbit.py checks the header against this model.
"""

import numpy as np


def _linspace(start, end, n):
    """n float32 points from start to end, evenly spaced: step = (end -
    start)/(n - 1) in float32, then start + i step for the first half and
    end - (n - 1 - i) step for the rest, each rounded once to float32 (a
    fused multiply-add: the product is exact in float64)."""
    start, end = np.float32(start), np.float32(end)
    step = np.float64((end - start) / np.float32(n - 1))
    i = np.arange(n)
    return np.where(i < n // 2, np.float64(start) + i * step, np.float64(end) - (n - 1 - i) * step).astype(np.float32)


def dynamic_map(signed):
    """The 256 sorted float32 codes of the dynamic map (docs/precision.md#8-bit-states)."""
    values = []
    for i in range(7):
        n = 2 ** i + 1 if signed else 2 ** (i + 1) + 1
        edges = _linspace(0.1, 1.0, n)
        means = (edges[:-1] + edges[1:]) / np.float32(2)
        decade = (np.float32(10.0 ** (i - 6)) * means).tolist()  # a float32 product
        values += decade + ([-v for v in decade] if signed else [])
    values += [0.0, 1.0]
    values += [0.0] * (256 - len(values))
    return np.sort(np.array(values, dtype=np.float32))


def thresholds(codes):
    """thresholds[k]: the least float32 x whose nearest code (ties to the
    lower) has index > k: the float32 just above the exact midpoint of codes
    k and k + 1 when it is a float32, else the float32 above it."""
    mid = (codes[:-1].astype(np.float64) + codes[1:].astype(np.float64)) / 2  # exact
    t = mid.astype(np.float32)  # nearest
    below_or_at = t.astype(np.float64) <= mid
    t[below_or_at] = np.nextafter(t[below_or_at], np.float32(np.inf))
    return t


def heap(codes):
    """The thresholds in heap order (Eytzinger's layout): heap[1] the middle
    one, heap[2k] and heap[2k + 1] the middles of the halves below and above
    heap[k]; heap[0] is not used (0). Then k <- 2k + (x >= heap[k]) eight
    times from k = 1 ends at 256 + the index of x's nearest code."""
    t = thresholds(codes)
    h = np.zeros(256, dtype=np.float32)
    for level in range(8):
        b = 128 >> level
        for j in range(1 << level):
            h[(1 << level) + j] = t[j * 2 * b + b - 1]
    return h


def nearest_code(codes, x):
    """The index of the nearest code of each float32 x (ties to the lower
    index, NaN to 0), by the heap search the kernels make."""
    h = heap(codes)
    k = np.ones(np.shape(x), dtype=np.int64)
    for _ in range(8):
        k = 2 * k + (x >= h[k])
    return (k - 256).astype(np.uint8)


BUCKET_MIN = 0x34000000  # the bits of 2^-23: below it (in magnitude) no map has a threshold
SHIFT = {True: 17, False: 16}  # 23 - m: buckets of m mantissa bits (6 signed, 7 unsigned)


def buckets(signed):
    """The bucket table of a map. A value y in [lo, 1] (lo = -1 signed, 0
    unsigned) has magnitude bits mag = max(|y|'s bits, BUCKET_MIN) -
    BUCKET_MIN; its bucket is mag >> SHIFT, plus `half` (the entries per
    sign) when y is negative; its place in the bucket, low, is mag's SHIFT low
    bits, complemented when y is negative (so low grows with y). A bucket
    holds at most one threshold: its entry is (b << 9) | (c + 1), c the
    bucket's lowest code and b the place of that threshold (2^SHIFT when
    there is none), so y's code is (c + 1) - [low < b]."""
    codes = dynamic_map(signed)
    t = thresholds(codes).astype(np.float64)
    shift = SHIFT[signed]
    mask = (1 << shift) - 1
    one = int(np.float32(1).view(np.uint32))
    half = ((one - BUCKET_MIN) >> shift) + 1
    lo_mag = BUCKET_MIN + (np.arange(half, dtype=np.int64) << shift)
    hi_mag = np.minimum(lo_mag + mask, one)
    lo_x = lo_mag.astype(np.uint32).view(np.float32).astype(np.float64)
    hi_x = hi_mag.astype(np.uint32).view(np.float32).astype(np.float64)
    assert not (np.abs(t) <= lo_x[0]).any()  # every magnitude up to 2^-23 has the code of 0
    count = lambda x: np.searchsorted(t, x, side="right")  # the code of x: thresholds at or below it
    tbits = np.abs(t).astype(np.float32).view(np.uint32).astype(np.int64)
    entries = []
    for sign in ((1, -1) if signed else (1,)):
        first, last = (lo_x, hi_x) if sign > 0 else (-hi_x, -lo_x)
        c, c_last = count(first), count(last)
        assert (c_last - c <= 1).all()
        straddled = c_last > c
        place = tbits[np.minimum(c, t.size - 1)] - lo_mag
        b = np.where(straddled, place if sign > 0 else place ^ mask, mask + 1)
        assert ((b > 0) & (b <= mask + 1)).all()
        entries.append((b << 9) | (c + 1))
    return shift, half, np.concatenate(entries).astype(np.uint32)


def bucket_code(signed, x):
    """The code of each float32 x by the bucket table, as the kernels find
    it (NaN: lo, so code 0)."""
    shift, half, entry = buckets(signed)
    x = np.asarray(x, np.float32)
    lo = np.float32(-1 if signed else 0)
    with np.errstate(invalid="ignore"):
        y = np.where(x > lo, np.where(x < 1, x, np.float32(1)), lo).astype(np.float32)
    u = y.view(np.uint32).astype(np.int64)
    neg = u >> 31
    mag = np.maximum(u & 0x7fffffff, BUCKET_MIN) - BUCKET_MIN
    mask = (1 << shift) - 1
    low = (mag & mask) ^ (neg * mask)
    e = entry[(mag >> shift) + neg * half].astype(np.int64)
    return ((e & 0x1ff) - (low < (e >> 9))).astype(np.uint8)


def _floats(name, values):
    rows = [", ".join(f"{float(v).hex()}f" if v else "0.0f" for v in values[k:k + 4]) for k in range(0, len(values), 4)]
    return f"OK_DEVICE_DATA const float {name}[{len(values)}] = {{\n    " + ",\n    ".join(rows) + ",\n};\n"


def _words(name, values):
    rows = [", ".join(f"{int(v):#x}" for v in values[k:k + 8]) for k in range(0, len(values), 8)]
    return f"OK_DEVICE_DATA const uint32_t {name}[{len(values)}] = {{\n    " + ",\n    ".join(rows) + ",\n};\n"


def header():
    out = ["/* Generated by tools/gen_quant8_maps.py: the dynamic maps of the 8-bit\n"
           "* states, their thresholds in heap order and their bucket tables\n"
           "* (docs/precision.md#8-bit-states). */\n",
           "#ifndef OPTKERN_QUANT8_MAPS_H\n#define OPTKERN_QUANT8_MAPS_H\n\n#include <stdint.h>\n\n#include \"portable.h\"\n\n",
           f"#define OK_Q8_BUCKET_MIN {BUCKET_MIN:#x}u\n"]
    for signed, name in ((True, "signed"), (False, "unsigned")):
        codes = dynamic_map(signed)
        out.append(_floats(f"ok_q8_{name}_codes", codes))
        out.append(_floats(f"ok_q8_{name}_heap", heap(codes)))
        shift, half, entry = buckets(signed)
        out.append(f"#define OK_Q8_{name.upper()}_SHIFT {shift}\n#define OK_Q8_{name.upper()}_HALF {half}\n")
        out.append(_words(f"ok_q8_{name}_buckets", entry))
    out.append("\n#endif /* OPTKERN_QUANT8_MAPS_H */\n")
    return "".join(out)


if __name__ == "__main__":
    with open("kernels/src/quant8_maps.h", "w") as f:
        f.write(header())
