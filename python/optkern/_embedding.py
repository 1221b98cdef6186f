"""Where the installed package keeps the C library, for programs that embed
it (README: Embedding). The wheel ships, inside the package folder:

    include/optkern/*.h               the public headers (optkern/optkern.h)
    lib/liboptkern.a                  the static, position-independent library
    lib/cmake/optkern/                the CMake package: find_package(optkern CONFIG)
    lib/pkgconfig/optkern.pc          the pkg-config file

CMake writes all of them (kernels/cmake/install.cmake). The compiler and
linker flags come from optkern.pc, so `python -m optkern --libs` says what
pkg-config would: the flags this build of the library needs (OpenMP, libm).
"""

import os
import re

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def get_include():
    """The folder to put on the include path for ``#include <optkern/optkern.h>``."""
    return os.path.join(_PACKAGE, "include")


def get_library_dir():
    """The folder holding the static library liboptkern.a, its CMake
    package (lib/cmake/optkern) and pkg-config file (lib/pkgconfig)."""
    return os.path.join(_PACKAGE, "lib")


def get_cmake_dir():
    """The folder holding optkernConfig.cmake: pass it as ``optkern_DIR``
    (or put it on ``CMAKE_PREFIX_PATH``) for ``find_package(optkern CONFIG)``."""
    return os.path.join(get_library_dir(), "cmake", "optkern")


def get_pkgconfig_dir():
    """The folder holding optkern.pc: put it on ``PKG_CONFIG_PATH``."""
    return os.path.join(get_library_dir(), "pkgconfig")


def pkgconfig_field(name):
    """A field of the installed optkern.pc ("Cflags", "Libs") as a list of
    flags, with its variables expanded as pkg-config expands them."""
    path = os.path.join(get_pkgconfig_dir(), "optkern.pc")
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: this optkern was installed without its C library") from None
    variables = {"pcfiledir": os.path.dirname(path)}

    def expand(text):
        return re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], text)

    for line in lines:
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"\w+", key):
            variables[key] = expand(value.strip())
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip() == name:
            return [_normalize(flag) for flag in expand(value).split()]
    raise ValueError(f"{path} has no {name} field")


def _normalize(flag):
    """-I and -L flags with their folder written plainly (no ../)."""
    for prefix in ("-I", "-L"):
        if flag.startswith(prefix) and len(flag) > len(prefix):
            return prefix + os.path.normpath(flag[len(prefix):])
    return flag
