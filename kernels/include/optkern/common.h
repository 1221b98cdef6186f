/*
 * optkern: what every part of the C library shares: status codes, the
 * instruction-set selection and the thread count.
 */
#ifndef OPTKERN_COMMON_H
#define OPTKERN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "optkern/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ok_status {
    OK_SUCCESS = 0,
    OK_ERR_NULL_POINTER = 1,   /* a required pointer was NULL */
    OK_ERR_HYPERPARAMETER = 2, /* a hyperparameter is out of its valid range */
    OK_ERR_INDEX = 3,          /* an index (hyperparameter set, class) is out of range */
    OK_ERR_ALIASING = 4,       /* an array that is written overlaps another stream */
    OK_ERR_UNSUPPORTED = 5,    /* the request is not available on this CPU or build */
    OK_ERR_NO_MEMORY = 6,      /* a small bookkeeping allocation failed */
    OK_ERR_ALIGNMENT = 7,      /* an array is not aligned to its element type */
    OK_ERR_SIZE = 8,           /* a size or shape whose byte count does not fit in a ptrdiff_t */
    OK_ERR_DOMAIN = 9          /* an array holds a value outside the function's domain */
} ok_status;

/* Element types of the arrays a kernel works on. The 16-bit types are
 * storage only: kernels widen them to float32, compute in float32 and round
 * each result once back to its storage type (docs/precision.md). */
typedef enum ok_dtype {
    OK_FLOAT32 = 0,
    OK_FLOAT64 = 1,
    OK_BFLOAT16 = 2, /* bfloat16: float32's sign and exponent, 7 mantissa bits (ml_dtypes.bfloat16) */
    OK_FLOAT16 = 3   /* IEEE 754 binary16 (numpy.float16) */
} ok_dtype;
#define OK_DTYPE_COUNT 4

/* The bytes of one element of `dtype`; 0 for a value that is no dtype. */
size_t ok_dtype_size(ok_dtype dtype);

/* A short English description of a status code ("unknown status" for a
 * value that is none). */
const char *ok_status_string(ok_status status);

/* The library version, "MAJOR.MINOR.PATCH": OPTKERN_VERSION_STRING as the
 * library was built; a program compiled against other headers sees their
 * OPTKERN_VERSION_STRING differ from it. */
const char *ok_version(void);

/*
 * Instruction sets. Every kernel is compiled once per instruction set; the
 * best one the CPU and the operating system support is chosen on first use
 * (CPUID plus XGETBV). The environment variable OPTKERN_ISA (scalar, avx2 or
 * avx512, parsed by ok_isa_from_name) caps that choice; a value it cannot
 * parse, or an instruction set that is not available, leaves the best one.
 * The library never prints: a caller that wants to report such a value
 * parses it with ok_isa_from_name and compares with ok_isa_best().
 *
 * The selection may be read and changed from any thread (it is kept with
 * atomic loads and stores); a kernel already running finishes with the
 * instruction set it started with.
 */
typedef enum ok_isa {
    OK_ISA_SCALAR = 0, /* portable C, the reference; every CPU */
    OK_ISA_AVX2 = 1,   /* x86-64 with AVX2, FMA and F16C */
    OK_ISA_AVX512 = 2  /* x86-64 with AVX-512 F, BW, DQ and VL */
} ok_isa;
#define OK_ISA_COUNT 3

/* Bit (1 << isa) is set for every instruction set this build has kernels
 * for and this CPU and OS can run. */
unsigned ok_isa_available(void);
/* The best available instruction set, ignoring OPTKERN_ISA. */
ok_isa ok_isa_best(void);
/* The instruction set kernels currently run with. */
ok_isa ok_get_isa(void);
/* Select an instruction set; OK_ERR_UNSUPPORTED if it is not available. */
ok_status ok_set_isa(ok_isa isa);
/* "scalar", "avx2", "avx512"; NULL for an unknown value. */
const char *ok_isa_name(ok_isa isa);
/* Parse a name as above: case-insensitive, ASCII whitespace around it
 * ignored (" AVX2\n" is avx2); OK_ERR_UNSUPPORTED for anything else,
 * including an empty or blank name; OK_ERR_NULL_POINTER for a NULL
 * argument. *isa is written only on success. */
ok_status ok_isa_from_name(const char *name, ok_isa *isa);

/*
 * Threads. n <= 0 restores the default: OMP_NUM_THREADS, or the number of
 * processors. Results are bitwise identical for every thread count.
 *
 * At most OK_MAX_THREADS threads: ok_set_num_threads clamps a larger n to
 * it, and so does the default (OpenMP's runtime ends the process when it
 * cannot create the threads asked for, so a count is capped before that).
 *
 * fork(): OpenMP's thread pool does not survive it. In a process forked
 * after optkern was first asked for a thread count (by any kernel call or
 * ok_get_num_threads), kernels run on one thread, without any OpenMP call,
 * and ok_get_num_threads() returns 1, whatever was set. Results are the same
 * bitwise. A process started with exec (multiprocessing's "spawn" or
 * "forkserver") is a fresh process and threads as usual.
 */
#define OK_MAX_THREADS 256
void ok_set_num_threads(int n);
int ok_get_num_threads(void);
/* OK_MAX_THREADS, for bindings. */
int ok_max_threads(void);
/* 1 when the library was built with OpenMP, 0 when it runs single-threaded. */
int ok_has_openmp(void);

#ifdef __cplusplus
}
#endif

#endif /* OPTKERN_COMMON_H */
