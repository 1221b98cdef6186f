"""What the demo shows: a progress bar on long work, tables, the JSON file
of every number, the loss curves as a picture."""

import json
import math
import shutil
import sys
import time

__all__ = ["Progress", "table", "write_json", "require_matplotlib", "plot"]


class Progress:
    """A progress bar on stderr, drawn only when stderr is a terminal:

        digits  [##########----------]  50%  12/24 runs  3.1 s

    advance() after each unit of work; close() clears the line."""

    def __init__(self, total, label, unit="epochs", stream=None):
        self.total, self.label, self.unit = max(total, 1), label, unit
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._drawn = -1
        self._draw()

    def advance(self, n=1):
        self.done = min(self.done + n, self.total)
        self._draw()

    def _draw(self):
        if not self.live:
            return
        percent = 100 * self.done // self.total
        if percent == self._drawn:
            return
        self._drawn = percent
        width = 24
        filled = width * self.done // self.total
        line = (f"  {self.label}  [{'#' * filled}{'-' * (width - filled)}] {percent:3d}%  "
                f"{self.done}/{self.total} {self.unit}  {time.perf_counter() - self.start:.1f} s")
        columns = shutil.get_terminal_size((80, 20)).columns
        self.stream.write("\r" + line[: columns - 1])
        self.stream.flush()

    def close(self):
        if self.live:
            self.stream.write("\r" + " " * (shutil.get_terminal_size((80, 20)).columns - 1) + "\r")
            self.stream.flush()


def table(header, rows, indent="  "):
    """A plain-text table: columns as wide as their widest cell, numbers
    (cells starting with a digit, a sign or a dot) right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(header[k]), *(len(r[k]) for r in cells)) for k in range(len(header))]

    def numeric(s):
        return s[:1].isdigit() or s[:1] in "+-." and s[1:2].isdigit()

    def line(row):
        return indent + "  ".join(c.rjust(w) if numeric(c) else c.ljust(w) for c, w in zip(row, widths)).rstrip()

    return "\n".join([line(header), indent + "  ".join("-" * w for w in widths)] + [line(r) for r in cells])


def _plain(x):
    """x with NaN/inf as strings (JSON has no such numbers) and NumPy
    values as Python ones."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "tolist"):
        return _plain(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(_plain(data), f, indent=1)
        f.write("\n")


def require_matplotlib(what):
    """matplotlib.pyplot with the Agg backend (no display needed), or the
    UsageError that says how to get it, before any work is done."""
    from optkern.cli import UsageError

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(f"{what} needs matplotlib, which is not installed: "
                         "pip install matplotlib (or pip install 'optkern[plot]')") from None
    return plt


def plot(path, panels):
    """One figure of loss curves, a panel each: panels is a list of (title,
    y label, {curve label: [values per epoch]}, log scale)."""
    plt = require_matplotlib("--plot")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for ax, (title, ylabel, curves, log) in zip(axes[0], panels):
        for label, values in curves.items():
            ax.plot(range(1, len(values) + 1), values, label=label, linewidth=1.4)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=64)
    plt.close(fig)
