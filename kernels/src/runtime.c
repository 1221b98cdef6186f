/*
 * The runtime: which instruction set runs (the CPU is inspected once, on
 * first use), how many threads, the dtypes, the version and the status
 * strings.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_table.h"
#include "variants.h"
#include "optkern/common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(OK_HAVE_X86_TARGETS)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

/*
 * A target is usable when the CPU has its instructions AND the OS saves the
 * registers it uses across context switches (XCR0, read with XGETBV, which
 * itself needs OSXSAVE): YMM state for AVX2; opmask and all ZMM state too
 * for AVX-512.
 */
static unsigned detect_x86(void) {
    unsigned mask = 1u << OK_ISA_SCALAR;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return mask;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return mask;
    unsigned long long xcr0 = read_xcr0();
    int ymm_state = (xcr0 & 0x6) == 0x6;
    int zmm_state = (xcr0 & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return mask;
    int avx2 = (b >> 5) & 1;
    int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1); /* F DQ BW VL */
    if (ymm_state && avx2 && fma) mask |= 1u << OK_ISA_AVX2;
    if (zmm_state && avx512 && (mask & (1u << OK_ISA_AVX2))) mask |= 1u << OK_ISA_AVX512;
    return mask;
}
#endif

static const ok_kernel_table *table_of(ok_isa isa) {
    switch (isa) {
#ifdef OK_HAVE_X86_TARGETS
    case OK_ISA_AVX512: return &ok_kernels_avx512;
    case OK_ISA_AVX2: return &ok_kernels_avx2;
#endif
    default: return &ok_kernels_scalar;
    }
}

static unsigned available_mask;  /* 0 until detected */
static ok_isa selected_isa;
static const ok_kernel_table *selected_table;

static ok_isa best_of(unsigned mask) {
    for (int isa = OK_ISA_COUNT - 1; isa > 0; isa--)
        if (mask & (1u << isa)) return (ok_isa)isa;
    return OK_ISA_SCALAR;
}

/* First use: detect, then apply the OPTKERN_ISA cap if it is set and valid.
 * Racing first calls all compute the same values, so no lock is needed. */
static void init_once(void) {
    if (__atomic_load_n(&selected_table, __ATOMIC_ACQUIRE)) return;
#if defined(OK_HAVE_X86_TARGETS)
    unsigned mask = detect_x86();
#else
    unsigned mask = 1u << OK_ISA_SCALAR;
#endif
    ok_isa isa = best_of(mask);
    const char *env = getenv("OPTKERN_ISA");
    ok_isa cap;
    if (env && *env && ok_isa_from_name(env, &cap) == OK_SUCCESS && cap < isa) isa = cap;
    available_mask = mask;
    selected_isa = isa;
    __atomic_store_n(&selected_table, table_of(isa), __ATOMIC_RELEASE);
}

unsigned ok_isa_available(void) {
    init_once();
    return available_mask;
}

ok_isa ok_isa_best(void) {
    init_once();
    return best_of(available_mask);
}

ok_isa ok_get_isa(void) {
    init_once();
    return selected_isa;
}

ok_status ok_set_isa(ok_isa isa) {
    init_once();
    if ((unsigned)isa >= OK_ISA_COUNT || !(available_mask & (1u << isa))) return OK_ERR_UNSUPPORTED;
    selected_isa = isa;
    __atomic_store_n(&selected_table, table_of(isa), __ATOMIC_RELEASE);
    return OK_SUCCESS;
}

const ok_kernel_table *ok_active_kernels(void) {
    init_once();
    return __atomic_load_n(&selected_table, __ATOMIC_ACQUIRE);
}

static const char *const isa_names[OK_ISA_COUNT] = {"scalar", "avx2", "avx512"};

const char *ok_isa_name(ok_isa isa) {
    return (unsigned)isa < OK_ISA_COUNT ? isa_names[isa] : NULL;
}

ok_status ok_isa_from_name(const char *name, ok_isa *isa) {
    if (!name || !isa) return OK_ERR_NULL_POINTER;
    for (int k = 0; k < OK_ISA_COUNT; k++) {
        const char *a = name, *b = isa_names[k];
        while (*a && *b && tolower((unsigned char)*a) == *b) a++, b++;
        if (!*a && !*b) {
            *isa = (ok_isa)k;
            return OK_SUCCESS;
        }
    }
    return OK_ERR_UNSUPPORTED;
}

static int num_threads; /* 0: the default */

void ok_set_num_threads(int n) {
    __atomic_store_n(&num_threads, n > 0 ? n : 0, __ATOMIC_RELAXED);
}

int ok_get_num_threads(void) {
    int n = __atomic_load_n(&num_threads, __ATOMIC_RELAXED);
    if (n > 0) return n;
#ifdef _OPENMP
    return omp_get_max_threads(); /* OMP_NUM_THREADS, else the processor count */
#else
    return 1;
#endif
}

int ok_has_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

size_t ok_dtype_size(ok_dtype dtype) { return ok_dtype_bytes(dtype); }

const char *ok_version(void) { return OPTKERN_VERSION; }

const char *ok_status_string(ok_status status) {
    switch (status) {
    case OK_SUCCESS: return "success";
    case OK_ERR_NULL_POINTER: return "a required pointer is NULL";
    case OK_ERR_HYPERPARAMETER: return "a hyperparameter is out of its valid range";
    case OK_ERR_INDEX: return "an index is out of range";
    case OK_ERR_ALIASING: return "an array that is written overlaps another array";
    case OK_ERR_UNSUPPORTED: return "not supported on this CPU or by this build";
    case OK_ERR_NO_MEMORY: return "out of memory";
    }
    return "unknown status";
}
