"""The `optkern` command (also `python -m optkern`): demo, bench, info.

    optkern demo     train models with optkern's optimizers, losses and schedules
    optkern bench    time optkern's kernels against the installed peers
    optkern info     version, instruction sets, threads, optional parts found

and, without a subcommand, the flags and folders a C or C++ program needs to
build against the C library the package ships (optkern._embedding), as
`python -m pybind11 --includes` does:

    optkern --cflags --libs    compiler and linker flags (pkg-config's)
    optkern --cmakedir         the folder of optkernConfig.cmake
    optkern --pkgconfigdir     the folder of optkern.pc

Each subcommand lives in its own module, which adds its arguments and runs
it: optkern.demo (demo), optkern.benchmark.command (bench). A usage error
(a bad option, a file that cannot be used) prints one line and exits with
status 2, as argparse does.
"""

import argparse
import importlib.util
import os
import sys

from optkern import _embedding

__all__ = ["main"]

_EPILOG = """examples:
  optkern demo --quick              the whole demo in a few seconds
  optkern demo --plot loss.png      and the loss curves as a picture
  optkern bench --size 1M --size 16M
  optkern info
  cc main.c $(optkern --cflags --libs)
  cmake -Doptkern_DIR=$(optkern --cmakedir) ...
"""


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


# name, the module that runs it (None: this one), help
_COMMANDS = (
    ("demo", "optkern.demo", "train models with optkern's optimizers, losses and schedules"),
    ("bench", "optkern.benchmark.command", "time optkern's kernels against the installed peers"),
    ("info", None, "version, instruction sets, threads, optional parts found"),
)


def parser():
    top = argparse.ArgumentParser(
        prog="optkern",
        description="optkern: fast, exact optimizer updates and loss gradients for NumPy arrays.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"optkern {_version()}")
    embedding = top.add_argument_group("building against the C library (README: Embedding)")
    for flag, help_, _ in _EMBEDDING_FLAGS:
        embedding.add_argument(flag, action="store_true", help=help_)
    commands = top.add_subparsers(dest="command", metavar="{" + ",".join(name for name, _, _ in _COMMANDS) + "}")
    for name, module, help_ in _COMMANDS:
        mod = importlib.import_module(module) if module else sys.modules[__name__]
        sub = commands.add_parser(name, help=help_, description=mod.DESCRIPTION, epilog=mod.EPILOG,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(sub)
        sub.set_defaults(run=mod.run)
    return top


def main(argv=None):
    """Run the command line `argv` (default: sys.argv[1:]); the exit status."""
    p = parser()
    args = p.parse_args(argv)
    asked = [flag for flag, _, _ in _EMBEDDING_FLAGS if getattr(args, flag[2:])]
    if asked and args.command:
        p.error(f"{asked[0]} takes no command")
    if asked:
        return _print_embedding(asked)
    if not args.command:
        p.error(f"a command ({', '.join(name for name, _, _ in _COMMANDS)}) or one of "
                f"{', '.join(flag for flag, _, _ in _EMBEDDING_FLAGS)} is required")
    try:
        return args.run(args) or 0
    except UsageError as e:
        print(f"optkern {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _version():
    from optkern import __version__

    return __version__


# -------------------------------------------------------------- embedding

# flag, help, the words it prints
_EMBEDDING_FLAGS = (
    ("--cflags", "print the compiler flags (-I...) for #include <optkern/optkern.h>",
     lambda: _embedding.pkgconfig_field("Cflags")),
    ("--libs", "print the linker flags for the static library (-L... -loptkern and what it needs)",
     lambda: _embedding.pkgconfig_field("Libs")),
    ("--cmakedir", "print the folder of optkernConfig.cmake (optkern_DIR)",
     lambda: [_embedding.get_cmake_dir()]),
    ("--pkgconfigdir", "print the folder of optkern.pc (PKG_CONFIG_PATH)",
     lambda: [_embedding.get_pkgconfig_dir()]),
)


def _print_embedding(asked):
    """Print what the flags `asked` ask for on one line, in the order of
    _EMBEDDING_FLAGS (--cflags --libs is one compile-and-link line)."""
    try:
        words = [word for flag, _, get in _EMBEDDING_FLAGS if flag in asked for word in get()]
    except (OSError, ValueError) as e:
        print(f"optkern: error: {e}", file=sys.stderr)
        return 2
    print(" ".join(words))
    return 0


# ------------------------------------------------------------------- info

DESCRIPTION = "How optkern runs on this machine, and which of its optional parts are installed."
EPILOG = "example:\n  optkern info"

# The optional parts: (import name, pip name, what it brings)
_OPTIONAL = (
    ("torch", "torch", "the PyTorch comparisons (tests, optkern bench)"),
    ("cupy", "cupy-cuda12x", "the GPU kernels (or cupy-cuda13x, for CUDA 13)"),
    ("matplotlib", "matplotlib", "optkern demo --plot, optkern bench --plot"),
    ("ml_dtypes", "ml_dtypes", "bfloat16 arrays"),
    ("mpi4py", "\"optkern[mpi]\" mpich", "optkern.distributed: sharded optimizers over MPI"),
    ("optax", "optax", "optkern bench's optax peer"),
    ("deepspeed", "deepspeed", "optkern bench's DeepSpeed CPU Adam peer"),
    ("bitsandbytes", "bitsandbytes", "the 8-bit optimizers' parity tests and benchmark peer"),
    ("torchao", "torchao", "bench/eightbit.py's torchao AdamW8bit peer"),
)


def add_arguments(parser):
    parser.add_argument("--json", action="store_true", help="print it as JSON")


def info():
    """What `optkern info` reports, as a dict."""
    import platform

    import numpy as np

    import optkern

    cfg = optkern.config()
    parts = {}
    for module, _, _ in _OPTIONAL:
        spec = importlib.util.find_spec(module)
        parts[module] = _installed_version(module) if spec else None
    return {
        "version": cfg["version"],
        "isa": cfg["isa"],
        "isas": cfg["isas"],
        "threads": cfg["num_threads"],
        "max_threads": cfg["max_threads"],
        "openmp": _openmp_runtime() if cfg["openmp"] else None,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gpu": cfg["gpu"],
        "gpu_status": cfg["gpu_status"],
        "optional": parts,
    }


def run(args):
    data = info()
    if args.json:
        import json

        print(json.dumps(data, indent=2))
        return 0
    rows = [
        ("optkern", data["version"]),
        ("instruction set", f"{data['isa']} (available: {', '.join(data['isas'])}; OPTKERN_ISA selects another)"),
        ("threads", f"{data['threads']} (at most {data['max_threads']}; OMP_NUM_THREADS or "
                    "optkern.set_num_threads change it)"),
        ("OpenMP", data["openmp"] or "not built with OpenMP: every kernel runs on one thread"),
        ("CPU", f"{data['cpu']}, {data['cores']} cores"),
        ("Python", data["python"]),
        ("NumPy", data["numpy"]),
        ("GPU", f"{data['gpu']} (CuPy arrays run there)" if data["gpu"] else
                f"none: {data['gpu_status']}; CuPy arrays cannot run"),
    ]
    for module, pip_name, what in _OPTIONAL:
        version = data["optional"][module]
        rows.append((module, f"{version} ({what})" if version else f"not installed: pip install {pip_name} for {what}"))
    width = max(len(k) for k, _ in rows) + 2
    for key, value in rows:
        print(f"{key + ':':<{width}}{value}")
    return 0


def _installed_version(module):
    from importlib import metadata

    for name in (module, module.replace("_", "-")):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "installed"


def _openmp_runtime():
    """The OpenMP runtime library this process loaded (Linux: from its
    memory map), else "yes"."""
    names = ("libgomp", "libomp", "libiomp")
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if line.strip() else ""
                base = os.path.basename(path)
                if base.startswith(names):
                    return f"yes ({base})"
    except OSError:
        pass
    return "yes"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


if __name__ == "__main__":
    sys.exit(main())
