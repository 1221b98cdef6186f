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
#if !defined(_WIN32)
#include <pthread.h>
#define OK_FORK_GUARD 1
#endif
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
    /* F16C converts float16 (the avx2 and avx512 targets' half-precision
     * loads and stores); every CPU with AVX2 has it, but it is its own bit. */
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return mask;
    unsigned long long xcr0 = read_xcr0();
    int ymm_state = (xcr0 & 0x6) == 0x6;
    int zmm_state = (xcr0 & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return mask;
    int avx2 = (b >> 5) & 1;
    int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1); /* F DQ BW VL */
    if (ymm_state && avx2 && fma && f16c) mask |= 1u << OK_ISA_AVX2;
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

/*
 * The selection. Every read and write of these goes through __atomic
 * builtins: any thread may call ok_set_isa while another runs a kernel.
 * available_mask is written once (every racing first call computes the same
 * value); selected_isa and selected_table are each consistent on their own,
 * and a kernel uses only the table it loaded.
 */
static unsigned available_mask; /* 0 until detected */
static ok_isa selected_isa;
static const ok_kernel_table *selected_table;

static ok_isa best_of(unsigned mask) {
    for (int isa = OK_ISA_COUNT - 1; isa > 0; isa--)
        if (mask & (1u << isa)) return (ok_isa)isa;
    return OK_ISA_SCALAR;
}

static void select_isa(ok_isa isa) {
    __atomic_store_n(&selected_isa, isa, __ATOMIC_RELAXED);
    __atomic_store_n(&selected_table, table_of(isa), __ATOMIC_RELEASE);
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
    if (env && ok_isa_from_name(env, &cap) == OK_SUCCESS && cap < isa) isa = cap;
    __atomic_store_n(&available_mask, mask, __ATOMIC_RELAXED);
    select_isa(isa);
}

static unsigned mask_now(void) {
    init_once();
    return __atomic_load_n(&available_mask, __ATOMIC_RELAXED);
}

unsigned ok_isa_available(void) { return mask_now(); }

ok_isa ok_isa_best(void) { return best_of(mask_now()); }

ok_isa ok_get_isa(void) {
    init_once();
    return __atomic_load_n(&selected_isa, __ATOMIC_RELAXED);
}

ok_status ok_set_isa(ok_isa isa) {
    if ((unsigned)isa >= OK_ISA_COUNT || !(mask_now() & (1u << isa))) return OK_ERR_UNSUPPORTED;
    select_isa(isa);
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

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* The one parser of instruction-set names, for ok_set_isa's callers and for
 * OPTKERN_ISA alike: ASCII whitespace around the name is ignored, case too. */
ok_status ok_isa_from_name(const char *name, ok_isa *isa) {
    if (!name || !isa) return OK_ERR_NULL_POINTER;
    while (is_space(*name)) name++;
    size_t len = strlen(name);
    while (len && is_space(name[len - 1])) len--;
    for (int k = 0; k < OK_ISA_COUNT; k++) {
        const char *want = isa_names[k];
        size_t i = 0;
        while (i < len && want[i] && tolower((unsigned char)name[i]) == want[i]) i++;
        if (i == len && !want[i]) {
            *isa = (ok_isa)k;
            return OK_SUCCESS;
        }
    }
    return OK_ERR_UNSUPPORTED;
}

/*
 * Fork. libgomp's thread pool does not survive fork(): a child that enters a
 * parallel region waits forever for threads that were not copied. So once
 * threads may be used, a pthread_atfork child handler marks every child, and
 * a marked process runs single-threaded and never calls into OpenMP again.
 */
static int forked_child;

#ifdef OK_FORK_GUARD
static void on_fork_child(void) { __atomic_store_n(&forked_child, 1, __ATOMIC_RELAXED); }
static void register_fork_handler(void) { pthread_atfork(NULL, NULL, on_fork_child); }
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
#endif

static int num_threads; /* 0: the default */

int ok_max_threads(void) { return OK_MAX_THREADS; }

void ok_set_num_threads(int n) {
    __atomic_store_n(&num_threads, n <= 0 ? 0 : n > OK_MAX_THREADS ? OK_MAX_THREADS : n, __ATOMIC_RELAXED);
}

int ok_get_num_threads(void) {
#ifdef OK_FORK_GUARD
    /* Registered before the first parallel region can run: the drivers ask
     * here for the thread count first. */
    pthread_once(&fork_handler_once, register_fork_handler);
#endif
    if (__atomic_load_n(&forked_child, __ATOMIC_RELAXED)) return 1;
    int n = __atomic_load_n(&num_threads, __ATOMIC_RELAXED);
    if (n > 0) return n;
#ifdef _OPENMP
    n = omp_get_max_threads(); /* OMP_NUM_THREADS, else the processor count */
    return n < 1 ? 1 : n > OK_MAX_THREADS ? OK_MAX_THREADS : n;
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

const char *ok_version(void) { return OPTKERN_VERSION_STRING; }

const char *ok_status_string(ok_status status) {
    switch (status) {
    case OK_SUCCESS: return "success";
    case OK_ERR_NULL_POINTER: return "a required pointer is NULL";
    case OK_ERR_HYPERPARAMETER: return "a hyperparameter is out of its valid range";
    case OK_ERR_INDEX: return "an index is out of range";
    case OK_ERR_ALIASING: return "an array that is written overlaps another array";
    case OK_ERR_UNSUPPORTED: return "not supported on this CPU or by this build";
    case OK_ERR_NO_MEMORY: return "out of memory";
    case OK_ERR_ALIGNMENT: return "an array is not aligned to its element type";
    case OK_ERR_SIZE: return "a size is too large for any array";
    case OK_ERR_DOMAIN: return "an array holds a value outside the function's domain";
    }
    return "unknown status";
}
