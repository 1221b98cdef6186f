"""The C-API capsule and the Cython declarations (docs/embedding.md).

The examples examples/capsule_ext (C, through optkern/optkern_capi.h) and
examples/cython_ext (Cython, through `from optkern.capi cimport`) are built
against the installed optkern with setuptools, then: their results are the
Python API's bit for bit, they see the instruction set and thread count set
from Python (one copy of the kernels and of their settings), and a module
whose optkern does not fit fails to import with a clear ImportError, never a
crash. The capsule's table, the name macros and capi.pxd are checked against
the public headers."""

import ctypes
import importlib
import importlib.util
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import optkern
from helpers import c_uncommented, declared_c_functions, require, rng_for

ROOT = Path(__file__).resolve().parents[1]
HEADERS = ROOT / "kernels" / "include" / "optkern"
CAPI_HEADER = HEADERS / "optkern_capi.h"
CAPI_PXD = Path(optkern.__file__).parent / "capi.pxd"
EXAMPLES = ["capsule_ext", "cython_ext"]


def public_functions():
    """Every function declared in the public headers (not internal/; not the
    capsule header itself, whose one function returns the table)."""
    return declared_c_functions(h for h in sorted(HEADERS.glob("*.h")) if h != CAPI_HEADER)


def capi_header():
    return c_uncommented(CAPI_HEADER.read_text())


def table_entries():
    """The names in OPTKERN_CAPI_FUNCTIONS, in table order."""
    return re.findall(r"^\s*X\([^,]+, (ok_\w+), \(", capi_header(), flags=re.M)


def header_define(name):
    return int(re.search(rf"#define {name} (\d+)", capi_header()).group(1))


def build(source_dir, tmp_path, name):
    """Builds the setuptools project in source_dir, in a copy, in place;
    returns the directory holding the module."""
    require(importlib.util.find_spec("setuptools"), "setuptools")
    require(importlib.util.find_spec("Cython"), "Cython")
    work = tmp_path / name
    shutil.copytree(source_dir, work)
    done = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                          cwd=work, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return work


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each example's build directory, by module name."""
    tmp_path = tmp_path_factory.mktemp("capi")
    return {name: build(ROOT / "examples" / name, tmp_path, name) for name in EXAMPLES}


@pytest.fixture(params=EXAMPLES)
def ext(request, built):
    sys.path.insert(0, str(built[request.param]))
    try:
        yield importlib.import_module(request.param)
    finally:
        sys.path.remove(str(built[request.param]))


def bits(a):
    return a.view(np.uint32)


def test_adam_is_the_python_apis(ext, isa):
    rng = rng_for("capi adam")
    param = rng.standard_normal(1037).astype(np.float32)
    mine = param.copy()
    exp_avg, exp_avg_sq = np.zeros_like(param), np.zeros_like(param)
    opt = optkern.Adam([param], lr=1e-2)
    for step in range(1, 6):
        grad = rng.standard_normal(param.shape).astype(np.float32)
        opt.step([grad])
        ext.adam_step(mine, grad, exp_avg, exp_avg_sq, step, 1e-2)
        np.testing.assert_array_equal(bits(mine), bits(param), err_msg=f"step {step}")
    state = opt.state_dict()["state"][0]
    np.testing.assert_array_equal(bits(exp_avg), bits(state["exp_avg"]))
    np.testing.assert_array_equal(bits(exp_avg_sq), bits(state["exp_avg_sq"]))


def test_cross_entropy_is_the_python_apis(ext, isa):
    rng = rng_for("capi cross_entropy")
    logits = (rng.standard_normal((67, 37)) * 3).astype(np.float32)
    target = rng.integers(0, 37, 67)
    grad = np.full_like(logits, np.nan)
    loss = ext.cross_entropy(logits, target, grad)
    want_loss, want_grad = optkern.losses.cross_entropy(logits, target)
    assert np.float32(loss).view(np.uint32) == np.float32(want_loss).view(np.uint32)
    np.testing.assert_array_equal(bits(grad), bits(want_grad))


def test_errors_come_back_as_exceptions(ext):
    x = np.zeros(8, np.float32)
    before = x.copy()
    with pytest.raises(ValueError, match="hyperparameter is out of its valid range"):
        ext.adam_step(x, np.ones(8, np.float32), np.zeros(8, np.float32), np.zeros(8, np.float32), 1, -1.0)
    with pytest.raises(ValueError, match="one length"):
        ext.adam_step(x, np.ones(7, np.float32), np.zeros(8, np.float32), np.zeros(8, np.float32), 1, 1e-3)
    np.testing.assert_array_equal(x, before)
    with pytest.raises(ValueError, match="out of range"):
        ext.cross_entropy(np.zeros((2, 3), np.float32), np.array([0, 3]), np.zeros((2, 3), np.float32))


def test_the_instruction_set_is_optkerns(ext, isa):
    assert ext.isa() == isa == optkern.get_isa()


def test_the_thread_count_is_optkerns(ext, num_threads):
    for n in (1, 2, 3):
        num_threads(n)
        assert ext.num_threads() == optkern.get_num_threads() == (n if optkern.config()["openmp"] else 1)


# A fake capsule in place of optkern._core._C_API (or none), then an import
# of the module: it prints the ImportError, or what the module then sees,
# and never crashes. The fake table has this optkern's functions in its
# first slots (NULL past them).
FAKE_CAPSULE = """
import ctypes, sys
import optkern._core as core

module, abi_version, count, name, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
api = ctypes.pythonapi
api.PyCapsule_GetPointer.restype = ctypes.c_void_p
api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
api.PyCapsule_New.restype = ctypes.py_object
api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]

class Head(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint), ("count", ctypes.c_uint), ("version", ctypes.c_char_p)]

class Table(ctypes.Structure):
    _fields_ = [("head", Head), ("entries", ctypes.c_void_p * count)]

address = api.PyCapsule_GetPointer(core._C_API, b"optkern._core._C_API")
real = (ctypes.c_void_p * Head.from_address(address).count).from_address(address + ctypes.sizeof(Head))
table = Table(Head(abi_version, count, b"9.9.9"))
for i in range(min(count, len(real))):
    table.entries[i] = real[i]
capsule_name = name.encode()
if name == "missing":
    del core._C_API
else:
    core._C_API = api.PyCapsule_New(ctypes.addressof(table), capsule_name, None)
sys.path.insert(0, path)
try:
    imported = __import__(module)
except ImportError as error:
    print("ImportError:", error)
else:
    print("imported; isa", imported.isa())
"""


def import_with_fake_capsule(built, module, abi_version, count, name="optkern._core._C_API"):
    done = subprocess.run([sys.executable, "-c", FAKE_CAPSULE, module, str(abi_version), str(count), name,
                           str(built[module])], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("module", EXAMPLES)
def test_an_optkern_of_another_abi_is_an_import_error(built, module):
    abi, count = header_define("OPTKERN_ABI_VERSION"), len(table_entries())
    out = import_with_fake_capsule(built, module, abi + 1, count + 5)
    assert out.startswith("ImportError: this module was built against optkern's C-API "
                          f"{abi}.{count} (ABI version {abi}), but the installed optkern 9.9.9 has C-API "
                          f"{abi + 1}.{count + 5}, another ABI: rebuild"), out


@pytest.mark.parametrize("module", EXAMPLES)
def test_an_older_optkern_is_an_import_error(built, module):
    abi, count = header_define("OPTKERN_ABI_VERSION"), len(table_entries())
    out = import_with_fake_capsule(built, module, abi, count - 3)
    assert out.startswith(f"ImportError: this module was built against optkern's C-API {abi}.{count}, but "
                          f"the installed optkern 9.9.9 has C-API {abi}.{count - 3}, without 3 of the "
                          "functions this module may call: upgrade optkern"), out


@pytest.mark.parametrize("module", EXAMPLES)
def test_a_newer_optkern_is_fine(built, module):
    """A longer table (a newer optkern's, with functions appended) imports:
    the module reads only the entries it knows."""
    abi, count = header_define("OPTKERN_ABI_VERSION"), len(table_entries())
    out = import_with_fake_capsule(built, module, abi, count + 5)
    assert out.strip() == f"imported; isa {optkern.get_isa()}", out


@pytest.mark.parametrize("module", EXAMPLES)
@pytest.mark.parametrize("name", ["missing", "another.capsule"])
def test_an_optkern_without_the_capsule_is_an_import_error(built, module, name):
    abi, count = header_define("OPTKERN_ABI_VERSION"), len(table_entries())
    out = import_with_fake_capsule(built, module, abi, count, name)
    assert out.startswith("ImportError: optkern._core has no C-API capsule optkern._core._C_API"), out


def capsule_table():
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return get(optkern._core._C_API, b"optkern._core._C_API")


class Head(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint), ("count", ctypes.c_uint), ("version", ctypes.c_char_p)]


def test_the_capsule_holds_every_function():
    address = capsule_table()
    head = Head.from_address(address)
    assert head.abi_version == header_define("OPTKERN_ABI_VERSION")
    assert head.version.decode() == optkern.__version__
    assert head.count == len(table_entries())
    slots = (ctypes.c_void_p * head.count).from_address(address + ctypes.sizeof(Head))
    assert all(slots), [name for name, slot in zip(table_entries(), slots) if not slot]


def test_the_table_lists_every_public_function_once():
    entries = table_entries()
    assert len(entries) == len(set(entries))
    assert sorted(entries) == sorted(set(public_functions()))
    # and each name is a macro for its entry
    macros = re.findall(r"^#define (ok_\w+) OPTKERN_CAPI_ENTRY_\((\w+)\)$", capi_header(), flags=re.M)
    assert all(name == entry for name, entry in macros)
    assert sorted(name for name, _ in macros) == sorted(entries)


def pxd_structs(text):
    return {name: re.findall(r"(\w+)\s*$", body, flags=re.M)
            for name, body in re.findall(r"^    ctypedef struct (ok_\w+):\n((?:        .*\n)+)", text, flags=re.M)}


def header_structs(text):
    structs = {}
    for name, body in re.findall(r"typedef struct (ok_\w+) \{(.*?)\} \1;", text, flags=re.S):
        structs[name] = [field for member in body.split(";") for field in re.findall(r"(\w+)\s*(?:,|$)", member)]
    return structs


def test_capi_pxd_declares_the_public_api():
    """The package ships capi.pxd (scikit-build-core's wheel has it), and it
    declares every public function, struct field, enumerator and constant."""
    assert CAPI_PXD.is_file()
    pxd = CAPI_PXD.read_text()
    declared = set(re.findall(r"^    [\w ]+?\**(ok_\w+)\(", pxd, flags=re.M))
    assert declared == set(public_functions())
    headers = "".join(c_uncommented(h.read_text()) for h in sorted(HEADERS.glob("*.h")) if h != CAPI_HEADER)
    structs, declared_structs = header_structs(headers), pxd_structs(pxd)
    assert structs and {name: declared_structs.get(name) for name in structs} == structs
    constants = re.findall(r"\b(OK_[A-Z0-9_]+) = ", headers) + re.findall(r"#define (OK_[A-Z0-9_]+) \d+$", headers,
                                                                           flags=re.M)
    missing = [c for c in constants if not re.search(rf"^\s+(int )?{c}$", pxd, flags=re.M)]
    assert constants and not missing


TWO_FILES = {
    "main.c": """
#define OPTKERN_CAPI_UNIQUE_SYMBOL twofile_optkern
#include <Python.h>
#include "optkern/optkern_capi.h"

PyObject *isa(PyObject *self, PyObject *unused);
static PyMethodDef methods[] = {{"isa", isa, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "twofile", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_twofile(void) {
    if (import_optkern() < 0) return NULL;
    return PyModule_Create(&module);
}
""",
    "isa.c": """
#define OPTKERN_CAPI_UNIQUE_SYMBOL twofile_optkern
#define OPTKERN_NO_IMPORT
#include <Python.h>
#include "optkern/optkern_capi.h"

PyObject *isa(PyObject *self, PyObject *unused);
PyObject *isa(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyUnicode_FromString(ok_isa_name(ok_get_isa()));
}
""",
    "setup.py": """
from setuptools import Extension, setup
import optkern
setup(name="twofile", ext_modules=[Extension("twofile", ["main.c", "isa.c"], include_dirs=[optkern.get_include()],
                                             extra_compile_args=["-Wall", "-Wextra", "-Werror"])])
""",
}


def test_a_module_of_several_files_shares_one_table(tmp_path):
    """OPTKERN_CAPI_UNIQUE_SYMBOL and OPTKERN_NO_IMPORT, as NumPy's
    PY_ARRAY_UNIQUE_SYMBOL and NO_IMPORT_ARRAY: one file imports the table,
    another calls through it."""
    source = tmp_path / "source"
    source.mkdir()
    for name, text in TWO_FILES.items():
        (source / name).write_text(text)
    work = build(source, tmp_path, "twofile")
    isas = optkern._core.available_isas()
    done = subprocess.run([sys.executable, "-c", "import optkern, twofile\n"
                           f"for isa in {isas!r}: optkern.set_isa(isa); print(twofile.isa())"],
                          cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.split() == isas, done.stdout + done.stderr


def test_the_capsule_header_compiles_as_cpp(tmp_path):
    cxx = shutil.which("g++") or shutil.which("clang++")
    require(cxx, "a C++ compiler (g++)")
    source = tmp_path / "isa.cpp"
    source.write_text(TWO_FILES["isa.c"])
    done = subprocess.run([cxx, "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-I", sysconfig.get_paths()["include"],
                           "-I", optkern.get_include(), str(source)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
