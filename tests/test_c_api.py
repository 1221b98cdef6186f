"""The C library built on its own with CMake, as a C program embedding it
would build it, and its test programs run: tests/c/test_c_api.c (what the
API promises) and tests/c/fuzz_c_api.c (a timed random fuzz: random sizes,
NULLs, aliasing, random values and bad arguments give an error code, never
a crash or a write they should not make). tests/c/errors_c_api.c (every entry point's
error returns: a status, nothing written). Once more under AddressSanitizer
and UndefinedBehaviorSanitizer, and the threaded kernels and the runtime's
shared settings under ThreadSanitizer (tests/c/race_runtime.c).

The public headers, as the installed package ships them, as a contract:
each compiles on its own as strict C99 and as C++11, every function they declare is called by a
program of tests/c, and every OK_<NAME>_DEFAULTS holds the defaults of the
Python class of that optimizer."""

import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import optkern
from helpers import STRICT_C, STRICT_CXX, c_uncommented, declared_c_functions, require
from optkern.optim import Optimizer

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = Path(optkern.get_include())  # installed: with the version.h the build writes
HEADERS = sorted((INCLUDE / "optkern").glob("*.h"))
SANITIZERS = "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"


def build(tmp_path, scalar_only="OFF", c_flags="", linker_flags="", compiler=None):
    build_dir = tmp_path / "build"
    build_type = "RelWithDebInfo" if c_flags else "Release"
    configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DOPTKERN_BUILD_C_TESTS=ON",
                 f"-DOPTKERN_SCALAR_ONLY={scalar_only}",
                 f"-DCMAKE_BUILD_TYPE={build_type}", f"-DCMAKE_C_FLAGS=-Wall -Wextra -Werror {c_flags}",
                 f"-DCMAKE_EXE_LINKER_FLAGS={linker_flags}"] + ([f"-DCMAKE_C_COMPILER={compiler}"] if compiler else [])
    subprocess.run(configure, check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build_dir), "--parallel", "2"], check=True, capture_output=True)
    return build_dir / "tests" / "c"


def run(program, *args, **env):
    env = {**{k: v for k, v in os.environ.items() if k != "OPTKERN_ISA"}, **env}
    done = subprocess.run([str(program), *args], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(autouse=True)
def cmake():
    require(shutil.which("cmake"), "cmake")


@pytest.mark.parametrize("scalar_only", ["OFF", "ON"])
def test_c_library(tmp_path, scalar_only):
    programs = build(tmp_path, scalar_only)
    out = run(programs / "test_c_api")
    if scalar_only == "ON":
        assert "isa scalar" in out
    assert "0 failures" in run(programs / "errors_c_api")
    assert "0 failures" in run(programs / "fuzz_c_api", "3")


def test_c_library_under_sanitizers(tmp_path):
    programs = build(tmp_path, c_flags=SANITIZERS, linker_flags=SANITIZERS)
    # leak checking is off: the OpenMP runtime keeps its thread pool to the end
    env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
    run(programs / "test_c_api", **env)
    run(programs / "errors_c_api", **env)
    out = run(programs / "fuzz_c_api", "10", **env)
    assert "0 failures" in out and " 0 succeeded" not in out


# ThreadSanitizer sees OpenMP's synchronisation only through LLVM's OpenMP
# runtime and its Archer tool (libgomp is not instrumented): clang and
# libomp, which .ci/run installs (Debian: clang-14 libomp-14-dev).
CLANG = shutil.which("clang-14") or shutil.which("clang")


def test_threaded_kernels_under_thread_sanitizer(tmp_path):
    require(CLANG, "clang (Debian: clang-14 libomp-14-dev)")
    # beside libomp, in the lib/ that holds clang's resource directory (lib/clang/<version>)
    resources = subprocess.run([CLANG, "-print-resource-dir"], capture_output=True, text=True, check=True)
    archer = Path(resources.stdout.strip()).parents[1] / "libarcher.so"
    require(archer.is_file(), "LLVM's OpenMP runtime and its Archer tool (Debian: libomp-14-dev)")
    flags = "-fsanitize=thread -fno-omit-frame-pointer"
    programs = build(tmp_path, c_flags=flags, linker_flags=flags, compiler=CLANG)
    env = {"OMP_TOOL_LIBRARIES": str(archer), "ARCHER_OPTIONS": "verbose=1",
           "TSAN_OPTIONS": "halt_on_error=1 ignore_noninstrumented_modules=1"}
    done = subprocess.run([str(programs / "race_runtime")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    out = done.stdout + done.stderr
    assert done.returncode == 0 and "no race" in out, out
    assert "Archer detected OpenMP application with TSan" in out, out
    assert " 0 threaded regions" not in out, out


# ------------------------------------------------------------ the headers

def compiler(name):
    found = shutil.which(name)
    require(found, name)
    return found


@pytest.mark.parametrize("header", HEADERS, ids=lambda h: h.name)
@pytest.mark.parametrize("language", ["c", "c++"])
def test_header_compiles_alone(tmp_path, header, language):
    """Each public header on its own (the umbrella too), as the first and
    only include of a translation unit, in strict C99 and in C++11 (the
    capsule's, optkern_capi.h, with Python's headers, which it includes)."""
    cc, flags = (compiler("gcc"), STRICT_C) if language == "c" else (compiler("g++"), STRICT_CXX)
    source = tmp_path / ("unit.c" if language == "c" else "unit.cpp")
    # version.h holds only macros: a typedef keeps the unit from being empty
    source.write_text(f'#include "optkern/{header.name}"\ntypedef int unit_not_empty;\n')
    done = subprocess.run([cc, *flags, "-fsyntax-only", f"-I{INCLUDE}", f"-I{sysconfig.get_paths()['include']}",
                           str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_declared_function_is_called_by_a_c_test():
    """A function added to the headers without a call in tests/c fails here:
    the C programs are where its contract (and its error returns) is tested."""
    declared = set(declared_c_functions(HEADERS))
    assert {"ok_optimizer_step", "ok_vec_axpby", "ok_cross_entropy", "ok_set_isa"} <= declared
    called = set()
    for program in (ROOT / "tests" / "c").glob("*.c"):
        called |= set(re.findall(r"\b(ok_\w+)\s*\(", c_uncommented(program.read_text())))
    assert sorted(declared - called) == []


def python_defaults(kind):
    """The C fields of the hyperparameter set the Python class of optimizer
    `kind` ("adam", "sgd_schedulefree") builds from its default arguments;
    its class is the one named so (Adam, SGDScheduleFree), not a variant
    with other defaults (AdamW). A field given as a function of the step is
    taken at step 1."""
    [cls] = [c for name, c in Optimizer.registry().items() if name.lower() == kind.replace("_", "")]
    assert cls._kind == kind
    opt = cls([np.zeros((3, 4))])
    return {k: v(1) if callable(v) else v for k, v in opt._hparams(opt.param_groups[0]).items()}


def test_defaults_macros_are_the_python_defaults(tmp_path):
    """Every OK_<NAME>_DEFAULTS, compiled as C and as C++, holds what the
    Python class of the optimizer uses for its defaults; the fields a step
    sets per tensor (step, first_step) hold the first step. The program is
    written from the registry (optkern._core.kinds()): an optimizer without
    its macro fails to compile."""
    kinds = optkern._core.kinds()
    lines = ["#include <stdio.h>", '#include "optkern/optkern.h"', "int main(void) {"]
    for name, kind in kinds.items():
        lines.append(f"    {{ const ok_{name}_hparams d = OK_{name.upper()}_DEFAULTS;")
        lines += [f'      printf("{name} {f} %.17g\\n", (double)d.{f});' for f in kind.fields]
        lines.append("    }")
    lines += ["    return 0;", "}"]
    outputs = []
    for cc, flags, suffix in [("gcc", STRICT_C, "c"), ("g++", STRICT_CXX, "cpp")]:
        source = tmp_path / f"defaults.{suffix}"
        source.write_text("\n".join(lines) + "\n")
        program = tmp_path / f"defaults_{suffix}"
        done = subprocess.run([compiler(cc), *flags, f"-I{INCLUDE}", str(source), "-o", str(program)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs.append(run(program))
    assert outputs[0] == outputs[1]
    in_c = {}
    for line in outputs[0].splitlines():
        name, field, value = line.split()
        in_c.setdefault(name, {})[field] = float(value)
    assert sorted(in_c) == sorted(kinds)
    for name, fields in in_c.items():
        python = python_defaults(name)
        for field, value in fields.items():
            want = float(python[field]) if field in python else 1.0  # a step's own: the first
            assert value == want, f"OK_{name.upper()}_DEFAULTS.{field} is {value}, the Python default {want}"
