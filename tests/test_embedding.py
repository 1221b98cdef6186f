"""The C library as the installed package ships it (README: Embedding):
its files, the headers as strict C99 and C++, and the programs in
examples/ built against the INSTALLED package, never the source tree, each
way a user would (CMake's find_package, pkg-config, scikit-build-core's
entry point), run, and their printed results compared with the Python API's
bit for bit."""

import importlib.metadata
import importlib.resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optkern
from helpers import STRICT_C, STRICT_CXX, require, require_module, run_optkern

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CC = shutil.which("cc") or shutil.which("gcc")
CXX = shutil.which("c++") or shutil.which("g++")


def optkern_command(*args):
    """The output of `python -m optkern ARGS`, split into words."""
    done = subprocess.run([sys.executable, "-m", "optkern", *args], capture_output=True, text=True, check=True)
    return done.stdout.split()


def run(*command, **kwargs):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def cmake_build(source, build_dir, *defines, language="C"):
    """Configure and build the CMake project `source` with warnings as errors."""
    require(shutil.which("cmake"), "cmake")
    flags = "-Wall -Wextra -Werror"
    run("cmake", "-S", source, "-B", build_dir, f"-DCMAKE_{language}_FLAGS={flags}", *defines)
    run("cmake", "--build", build_dir)
    return build_dir


def printed(output):
    """An example's output, lines "name 0x1.8p+0 ...", as {name: float64 array}."""
    values = {}
    for line in output.splitlines():
        name, *numbers = line.split()
        values[name] = np.array([float.fromhex(x) for x in numbers])
    return values


def assert_bitwise(output, expected):
    got = printed(output)
    assert sorted(got) == sorted(expected)
    for name, want in expected.items():
        want = np.asarray(want, dtype=np.float64).ravel()
        assert np.array_equal(got[name].view(np.uint64), want.view(np.uint64)), (name, got[name], want)


def c_example_expected():
    """examples/c_cmake/main.c's results, from the Python API."""
    weight = np.array([0.5, -1.25, 2.0, 0.0, -0.75, 1.5], np.float32)
    bias = np.array([0.1, -0.2], np.float32)
    grads = [np.array([0.3, -0.1, 0.02, 1.0, -2.5, 0.0], np.float32), np.array([-0.4, 0.7], np.float32)]
    opt = optkern.Adam([weight, bias], lr=0.01)
    for _ in range(3):
        opt.step(grads)
    logits = np.array([[1.0, 2.0, 0.5, -1.0], [0.0, -0.5, 3.0, 0.25], [2.5, 2.5, -2.0, 1.0]], np.float32)
    loss, grad = optkern.losses.cross_entropy(logits, np.array([1, 2, 0]), label_smoothing=0.1)
    return {"weight": weight, "bias": bias, "loss": loss, "grad": grad}


def cpp_example_expected():
    """examples/cpp/main.cpp's results, from the Python API."""
    param = np.array([0.5, -1.25, 2.0, 0.0, -0.75])
    opt = optkern.AdamW([param], lr=0.01, weight_decay=0.01)
    for _ in range(3):
        opt.step([np.array([0.3, -0.1, 0.02, 1.0, -2.5])])
    loss, grad = optkern.losses.mse_loss(param, np.array([0.0, -1.0, 1.5, 0.5, -1.0]))
    return {"param": param, "loss": loss, "grad": grad}


def test_what_the_package_ships():
    include, cmake_dir = Path(optkern.get_include()), Path(optkern.get_cmake_dir())
    library_dir = Path(optkern.get_library_dir())
    package = Path(optkern.__file__).parent
    assert ROOT not in include.parents, "optkern is imported from the source tree, not an installed package"
    assert sorted(p.name for p in (include / "optkern").iterdir()) == sorted(
        [p.name for p in (ROOT / "kernels/include/optkern").glob("*.h")] + ["version.h"])  # internal/ is not public
    assert (library_dir / "liboptkern.a").is_file()
    assert (cmake_dir / "optkernConfig.cmake").is_file() and (cmake_dir / "optkernConfigVersion.cmake").is_file()
    assert optkern_command("--cmakedir") == [str(cmake_dir)]
    assert optkern_command("--cflags") == [f"-I{include}"]
    libs = optkern_command("--libs")
    assert libs[:2] == [f"-L{library_dir}", "-loptkern"] and "-lm" in libs
    assert any("openmp" in flag for flag in libs) == optkern.config()["openmp"]
    assert optkern_command("--cflags", "--libs") == optkern_command("--cflags") + libs
    # relocatable: every installed file finds the others relative to itself
    for path in [*include.rglob("*.h"), *cmake_dir.iterdir(), *(library_dir / "pkgconfig").iterdir()]:
        text = path.read_text()
        assert str(ROOT) not in text and str(package.parent) not in text, f"{path} holds an absolute path"


def test_embedding_flags_take_no_command():
    assert optkern_command("--pkgconfigdir") == [str(Path(optkern.get_library_dir()) / "pkgconfig")]
    done = run_optkern("--cflags", "info")
    assert done.returncode == 2 and "--cflags takes no command" in done.stderr


def test_headers_are_strict_c99_and_cpp_and_the_versions_agree(tmp_path):
    """#include <optkern/optkern.h> from the installed include dir, with the
    flags of optkern --cflags --libs, as pedantic C99 and C++11; the version
    macros, ok_version() of the library linked and optkern.__version__ agree."""
    require(CC, "a C compiler")
    require(CXX, "a C++ compiler")
    source = ('#include <stdio.h>\n#include <optkern/optkern.h>\n'
              'int main(void) {\n'
              '    printf("%d.%d.%d %s %s\\n", OPTKERN_VERSION_MAJOR, OPTKERN_VERSION_MINOR,\n'
              '           OPTKERN_VERSION_PATCH, OPTKERN_VERSION_STRING, ok_version());\n'
              '    return 0;\n}\n')
    flags = optkern_command("--cflags", "--libs")
    for compiler, suffix, strict in ((CC, ".c", STRICT_C), (CXX, ".cpp", STRICT_CXX)):
        program = tmp_path / f"version{suffix}"
        program.write_text(source)
        run(compiler, *strict, program, *flags, "-o", tmp_path / "version")
        assert run(tmp_path / "version").split() == [optkern.__version__] * 3, compiler


def test_c_example_with_cmake(tmp_path):
    build = cmake_build(EXAMPLES / "c_cmake", tmp_path / "build", f"-Doptkern_DIR={optkern_command('--cmakedir')[0]}")
    assert_bitwise(run(build / "adam_cross_entropy"), c_example_expected())


def test_c_example_with_pkg_config_after_the_package_moved(tmp_path):
    """pkg-config's flags for a copy of the package's C library in another
    folder (as when a venv moves): they point into the copy."""
    require(CC, "a C compiler")
    require(shutil.which("pkg-config"), "pkg-config")
    moved = tmp_path / "moved"
    shutil.copytree(optkern.get_include(), moved / "include")
    shutil.copytree(optkern.get_library_dir(), moved / "lib")
    env = {**os.environ, "PKG_CONFIG_PATH": str(moved / "lib" / "pkgconfig")}
    flags = run("pkg-config", "--cflags", "--libs", "optkern", env=env).split()
    assert f"-L{moved / 'lib'}" in [f"-L{os.path.normpath(f[2:])}" for f in flags if f.startswith("-L")]
    run(CC, *STRICT_C, EXAMPLES / "c_cmake" / "main.c", *flags, "-o", tmp_path / "example")
    assert_bitwise(run(tmp_path / "example"), c_example_expected())


def test_cpp_example_with_cmake(tmp_path):
    build = cmake_build(EXAMPLES / "cpp", tmp_path / "build", f"-Doptkern_DIR={optkern.get_cmake_dir()}",
                        language="CXX")
    assert_bitwise(run(build / "adamw_mse"), cpp_example_expected())


def test_scikit_build_core_finds_optkern_by_its_entry_point(tmp_path):
    """A scikit-build-core project whose CMakeLists.txt says
    find_package(optkern CONFIG REQUIRED), with nothing configured and
    site-packages off its search path, so only the cmake.root entry point
    can lead CMake to optkern: it builds, links and runs."""
    (entry_point,) = importlib.metadata.entry_points(group="cmake.root", name="optkern")
    root = importlib.resources.files(entry_point.load())
    assert (Path(str(root)) / "lib/cmake/optkern/optkernConfig.cmake").is_file()

    require_module("scikit_build_core", "scikit-build-core")
    require(shutil.which("cmake"), "cmake")
    project = tmp_path / "consumer"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["scikit-build-core"]\nbuild-backend = "scikit_build_core.build"\n'
        '[project]\nname = "okconsumer"\nversion = "1.0"\n'
        '[tool.scikit-build]\nsearch.site-packages = false\n')
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.15)\nproject(okconsumer LANGUAGES C)\n"
        "find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)\n"
        "find_package(optkern CONFIG REQUIRED)\n"
        "python_add_library(okconsumer MODULE okconsumer.c WITH_SOABI)\n"
        "target_link_libraries(okconsumer PRIVATE optkern::optkern)\n"
        "install(TARGETS okconsumer DESTINATION .)\n")
    (project / "okconsumer.c").write_text(
        "#include <Python.h>\n#include <optkern/optkern.h>\n"
        "static PyObject *version(PyObject *self, PyObject *args) {\n"
        "    (void)self; (void)args;\n    return PyUnicode_FromString(ok_version());\n}\n"
        'static PyMethodDef methods[] = {{"version", version, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};\n'
        'static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "okconsumer", NULL, -1, methods,\n'
        "                                    NULL, NULL, NULL, NULL};\n"
        "PyMODINIT_FUNC PyInit_okconsumer(void) { return PyModule_Create(&module); }\n")
    site = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", "--target", site,
        project)
    out = run(sys.executable, "-c", "import okconsumer; print(okconsumer.version())", cwd=site)
    assert out.strip() == optkern.__version__


def test_install_without_openmp_scalar_only(tmp_path):
    """A plain CMake install of the library built without OpenMP and with
    only the scalar kernels: its pkg-config file asks for no OpenMP, and the
    C example builds against it and gives the Python API's scalar results."""
    prefix = tmp_path / "prefix"
    build = cmake_build(ROOT, tmp_path / "library", "-DOPTKERN_OPENMP=OFF", "-DOPTKERN_SCALAR_ONLY=ON",
                        f"-DCMAKE_INSTALL_PREFIX={prefix}")
    run("cmake", "--install", build)
    (pc,) = prefix.rglob("optkern.pc")
    libs = next(line for line in pc.read_text().splitlines() if line.startswith("Libs:"))
    assert "openmp" not in libs and "-lm" in libs.split()
    example = cmake_build(EXAMPLES / "c_cmake", tmp_path / "example", f"-DCMAKE_PREFIX_PATH={prefix}")
    output = run(example / "adam_cross_entropy")
    isa = optkern.get_isa()
    optkern.set_isa("scalar")
    try:
        assert_bitwise(output, c_example_expected())
    finally:
        optkern.set_isa(isa)
