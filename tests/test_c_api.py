"""The C library built on its own with CMake, as a C program embedding it
would build it, and its test program run (tests/c/test_c_api.c)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not on PATH")
@pytest.mark.parametrize("scalar_only", ["OFF", "ON"])
def test_c_library(tmp_path, scalar_only):
    build = tmp_path / "build"
    configure = ["cmake", "-S", str(ROOT), "-B", str(build), "-DOPTKERN_BUILD_C_TESTS=ON",
                 f"-DOPTKERN_SCALAR_ONLY={scalar_only}", "-DCMAKE_BUILD_TYPE=Release",
                 "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror"]
    subprocess.run(configure, check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--parallel", "2"], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k != "OPTKERN_ISA"}
    run = subprocess.run([str(build / "tests" / "c" / "test_c_api")], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    if scalar_only == "ON":
        assert "isa scalar" in run.stdout
