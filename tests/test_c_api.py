"""The C library built on its own with CMake, as a C program embedding it
would build it, and its test programs run: tests/c/test_c_api.c (what the
API promises) and tests/c/fuzz_c_api.c (a timed random fuzz: random sizes,
NULLs, aliasing, random values and bad arguments give an error code, never
a crash or a write they should not make). Once more under AddressSanitizer
and UndefinedBehaviorSanitizer, and the threaded kernels and the runtime's
shared settings under ThreadSanitizer (tests/c/race_runtime.c)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import require

ROOT = Path(__file__).resolve().parents[1]
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
    assert "0 failures" in run(programs / "fuzz_c_api", "3")


def test_c_library_under_sanitizers(tmp_path):
    programs = build(tmp_path, c_flags=SANITIZERS, linker_flags=SANITIZERS)
    # leak checking is off: the OpenMP runtime keeps its thread pool to the end
    env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
    run(programs / "test_c_api", **env)
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
