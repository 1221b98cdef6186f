# Runtime configuration: instruction sets, threads, version.

def version():
    """The version of the C library this module was built with."""
    return ok_version().decode()


def isa_names():
    """Every instruction set optkern knows, in increasing order."""
    return [ok_isa_name(<ok_isa>k).decode() for k in range(OK_ISA_COUNT)]


def available_isas():
    """The instruction sets this build has kernels for and this CPU runs."""
    cdef unsigned mask = ok_isa_available()
    return [ok_isa_name(<ok_isa>k).decode() for k in range(OK_ISA_COUNT) if mask & (1u << k)]


def best_isa():
    """The best available instruction set, ignoring OPTKERN_ISA."""
    return ok_isa_name(ok_isa_best()).decode()


def get_isa():
    """The instruction set the kernels run with now."""
    return ok_isa_name(ok_get_isa()).decode()


def parse_isa(name):
    """The instruction set `name` means, by the C library's own parser (the
    one OPTKERN_ISA goes through: case-insensitive, whitespace around it
    ignored), or None when it names none."""
    cdef ok_isa isa
    cdef bytes raw = str(name).encode("utf-8", "surrogateescape")
    if b"\0" in raw or ok_isa_from_name(raw, &isa) != OK_SUCCESS:
        return None
    return ok_isa_name(isa).decode()


def set_isa(name):
    """Run the kernels with instruction set `name` (one of available_isas())."""
    cdef ok_isa isa
    cdef bytes raw = str(name).encode()
    if ok_isa_from_name(raw, &isa) != OK_SUCCESS:
        raise ValueError(f"unknown instruction set {name!r}; expected one of {isa_names()}")
    if ok_set_isa(isa) != OK_SUCCESS:
        raise ValueError(f"instruction set {name!r} is not available here; available: {available_isas()}")


def set_num_threads(int n):
    """n <= 0: the default; the C library clamps n to max_threads()."""
    ok_set_num_threads(n)


def max_threads():
    """The most threads a kernel may use (OK_MAX_THREADS)."""
    return ok_max_threads()


def get_num_threads():
    return ok_get_num_threads()


def has_openmp():
    return bool(ok_has_openmp())
