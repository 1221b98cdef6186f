/*
 * optkern's C-API capsule: the whole public C API (optkern/optkern.h) for a
 * Python extension module that links nothing, through a table of function
 * pointers that the extension module optkern._core exports as the PyCapsule
 * optkern._core._C_API. A module built this way shares optkern's single copy
 * of the kernels, its instruction-set choice, its thread count and its
 * OpenMP runtime (NumPy's import_array() pattern). docs/embedding.md
 * explains its use and the ABI policy.
 *
 *     #include <Python.h>
 *     #include "optkern/optkern_capi.h"
 *
 *     PyMODINIT_FUNC PyInit_mymodule(void) {
 *         if (import_optkern() < 0) return NULL;   (ImportError set)
 *         ...
 *     }
 *
 * after which ok_adam(...), ok_cross_entropy(...), ... read as with the
 * linked library: each name is a macro for its entry in the table. Calling
 * one before import_optkern() succeeded dereferences a NULL table.
 *
 * A module of several C files: each defines OPTKERN_CAPI_UNIQUE_SYMBOL to
 * one name (say my_optkern_capi) before including this header, and all but
 * the one whose PyInit calls import_optkern() also define OPTKERN_NO_IMPORT.
 * Without OPTKERN_CAPI_UNIQUE_SYMBOL the table pointer is static: one file.
 *
 * Code linked with the static library (optkern._core itself, a C program)
 * defines OPTKERN_LINKED: the names are then the library's functions, the
 * header needs no Python, and import_optkern() only returns 0.
 */
#ifndef OPTKERN_OPTKERN_CAPI_H
#define OPTKERN_OPTKERN_CAPI_H

#if !defined(OPTKERN_LINKED)
#include <Python.h>
#endif

#include "optkern/optkern.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI major version: changes only when a signature, a struct layout or
 * an enum value of the public API changes (docs/embedding.md#abi-policy). A
 * module runs only with an optkern of the ABI it was built against. */
#define OPTKERN_ABI_VERSION 1

/* The capsule's name, its module and attribute. */
#define OPTKERN_CAPI_CAPSULE "optkern._core._C_API"
#define OPTKERN_CAPI_MODULE "optkern._core"
#define OPTKERN_CAPI_ATTRIBUTE "_C_API"

/*
 * Every public function, X(return type, name, (parameters)), in table order.
 * The order is the ABI: a new function is appended at the end, none is ever
 * removed or moved. The library's table (kernels/src/capi.c) takes each
 * function's address into its field, so a signature here that differs from
 * the function's declaration does not compile; tests/test_capi.py checks
 * that every function of the public headers is here and has its macro below.
 */
#define OPTKERN_CAPI_FUNCTIONS(X) \
    /* optkern/common.h */ \
    X(size_t, ok_dtype_size, (ok_dtype dtype)) \
    X(const char *, ok_status_string, (ok_status status)) \
    X(const char *, ok_version, (void)) \
    X(unsigned, ok_isa_available, (void)) \
    X(ok_isa, ok_isa_best, (void)) \
    X(ok_isa, ok_get_isa, (void)) \
    X(ok_status, ok_set_isa, (ok_isa isa)) \
    X(const char *, ok_isa_name, (ok_isa isa)) \
    X(ok_status, ok_isa_from_name, (const char *name, ok_isa *isa)) \
    X(void, ok_set_num_threads, (int n)) \
    X(int, ok_get_num_threads, (void)) \
    X(int, ok_max_threads, (void)) \
    X(int, ok_has_openmp, (void)) \
    /* optkern/optim.h */ \
    X(ok_status, ok_sgd, (const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count, \
      const size_t *numel, const ok_dtype *dtype, void *const *param, const void *const *grad, \
      void *const *momentum_buffer)) \
    X(ok_status, ok_adam, (const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, \
      size_t count, const size_t *numel, const ok_dtype *dtype, void *const *param, \
      const void *const *grad, void *const *exp_avg, void *const *exp_avg_sq, \
      void *const *max_exp_avg_sq)) \
    X(ok_status, ok_sgd_f32, (const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, \
      size_t count, const size_t *numel, float *const *param, const float *const *grad, \
      float *const *momentum_buffer)) \
    X(ok_status, ok_sgd_f64, (const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, \
      size_t count, const size_t *numel, double *const *param, const double *const *grad, \
      double *const *momentum_buffer)) \
    X(ok_status, ok_adam_f32, (const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, \
      size_t count, const size_t *numel, float *const *param, const float *const *grad, \
      float *const *exp_avg, float *const *exp_avg_sq, float *const *max_exp_avg_sq)) \
    X(ok_status, ok_adam_f64, (const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, \
      size_t count, const size_t *numel, double *const *param, const double *const *grad, \
      double *const *exp_avg, double *const *exp_avg_sq, double *const *max_exp_avg_sq)) \
    X(ok_status, ok_sgd_check, (const ok_sgd_hparams *hp)) \
    X(ok_status, ok_adam_check, (const ok_adam_hparams *hp)) \
    X(size_t, ok_optimizer_count, (void)) \
    X(const ok_optimizer *, ok_optimizer_at, (size_t i)) \
    X(const ok_optimizer *, ok_optimizer_find, (const char *name)) \
    X(const char *, ok_optimizer_name, (const ok_optimizer *opt)) \
    X(size_t, ok_optimizer_hparams_size, (const ok_optimizer *opt)) \
    X(size_t, ok_optimizer_field_count, (const ok_optimizer *opt)) \
    X(const ok_field *, ok_optimizer_field, (const ok_optimizer *opt, size_t k)) \
    X(size_t, ok_optimizer_state_count, (const ok_optimizer *opt)) \
    X(const char *, ok_optimizer_state_name, (const ok_optimizer *opt, size_t k)) \
    X(int, ok_optimizer_state_is_scalar, (const ok_optimizer *opt, size_t k)) \
    X(size_t, ok_optimizer_work_count, (const ok_optimizer *opt)) \
    X(const char *, ok_optimizer_work_name, (const ok_optimizer *opt, size_t k)) \
    X(int, ok_optimizer_state_shape, (const ok_optimizer *opt, size_t k)) \
    X(ok_status, ok_optimizer_check, (const ok_optimizer *opt, const void *hparams)) \
    X(unsigned, ok_optimizer_required_states, (const ok_optimizer *opt, const void *hparams)) \
    X(size_t, ok_optimizer_coefficients_size, (const ok_optimizer *opt)) \
    X(ok_status, ok_optimizer_coefficients, (const ok_optimizer *opt, const void *hparams, void *coeffs)) \
    X(ok_status, ok_optimizer_step, (const ok_optimizer *opt, const void *hparams, size_t n_hp, \
      const uint32_t *hp_index, size_t count, const size_t *numel, const ok_dtypes *dtypes, \
      void *const *const *streams)) \
    X(ok_status, ok_optimizer_step_shaped, (const ok_optimizer *opt, const void *hparams, size_t n_hp, \
      const uint32_t *hp_index, size_t count, const ok_shape *shapes, const ok_dtypes *dtypes, \
      void *const *const *streams)) \
    X(ok_status, ok_optimizer_step_scaled, (const ok_optimizer *opt, const void *hparams, size_t n_hp, \
      const uint32_t *hp_index, size_t count, const ok_shape *shapes, const ok_dtypes *dtypes, \
      void *const *const *streams, const ok_grad_scaling *scaling)) \
    X(ok_status, ok_check_overlap, (ok_span *spans, size_t n, size_t *first, size_t *second)) \
    /* optkern/losses.h */ \
    X(ok_status, ok_mse_loss, (ok_dtype dtype, size_t n, const void *input, const void *target, \
      const void *weight, ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_mse_loss_f32, (size_t n, const float *input, const float *target, \
      const float *weight, ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_mse_loss_f64, (size_t n, const double *input, const double *target, \
      const double *weight, ok_reduction reduction, double *loss, double *grad)) \
    X(ok_status, ok_l1_loss, (ok_dtype dtype, size_t n, const void *input, const void *target, \
      const void *weight, ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_l1_loss_f32, (size_t n, const float *input, const float *target, const float *weight, \
      ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_l1_loss_f64, (size_t n, const double *input, const double *target, \
      const double *weight, ok_reduction reduction, double *loss, double *grad)) \
    X(ok_status, ok_huber_loss, (ok_dtype dtype, size_t n, const void *input, const void *target, \
      const void *weight, double delta, ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_huber_loss_f32, (size_t n, const float *input, const float *target, \
      const float *weight, double delta, ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_huber_loss_f64, (size_t n, const double *input, const double *target, \
      const double *weight, double delta, ok_reduction reduction, double *loss, double *grad)) \
    X(ok_status, ok_smooth_l1_loss, (ok_dtype dtype, size_t n, const void *input, const void *target, \
      double beta, ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_smooth_l1_loss_f32, (size_t n, const float *input, const float *target, double beta, \
      ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_smooth_l1_loss_f64, (size_t n, const double *input, const double *target, \
      double beta, ok_reduction reduction, double *loss, double *grad)) \
    X(ok_status, ok_kl_div, (ok_dtype dtype, size_t n, size_t batch, const void *input, \
      const void *target, int log_target, ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_kl_div_f32, (size_t n, size_t batch, const float *input, const float *target, \
      int log_target, ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_kl_div_f64, (size_t n, size_t batch, const double *input, const double *target, \
      int log_target, ok_reduction reduction, double *loss, double *grad)) \
    X(ok_status, ok_binary_cross_entropy_with_logits, (ok_dtype dtype, size_t n, const void *input, \
      const void *target, const ok_bcast *weight, const ok_bcast *pos_weight, ok_reduction reduction, \
      void *loss, void *grad)) \
    X(ok_status, ok_binary_cross_entropy_with_logits_f32, (size_t n, const float *input, \
      const float *target, const ok_bcast *weight, const ok_bcast *pos_weight, ok_reduction reduction, \
      float *loss, float *grad)) \
    X(ok_status, ok_binary_cross_entropy_with_logits_f64, (size_t n, const double *input, \
      const double *target, const ok_bcast *weight, const ok_bcast *pos_weight, ok_reduction reduction, \
      double *loss, double *grad)) \
    X(ok_status, ok_elementwise_loss, (const char *name, ok_dtype dtype, size_t n, const void *input, \
      const void *target, const ok_elementwise_options *options, ok_reduction reduction, void *loss, \
      void *grad)) \
    X(ok_status, ok_cross_entropy, (ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits, \
      const void *target, ok_index_type target_type, const ok_cross_entropy_options *options, void *loss, \
      void *grad)) \
    X(ok_status, ok_cross_entropy_f32, (size_t n, size_t c, size_t inner, const float *logits, \
      const void *target, ok_index_type target_type, const ok_cross_entropy_options *options, \
      float *loss, float *grad)) \
    X(ok_status, ok_cross_entropy_f64, (size_t n, size_t c, size_t inner, const double *logits, \
      const void *target, ok_index_type target_type, const ok_cross_entropy_options *options, \
      double *loss, double *grad)) \
    X(ok_status, ok_cross_entropy_probs, (ok_dtype dtype, size_t n, size_t c, size_t inner, \
      const void *logits, const void *target, const ok_cross_entropy_options *options, void *loss, \
      void *grad)) \
    X(ok_status, ok_cross_entropy_probs_f32, (size_t n, size_t c, size_t inner, const float *logits, \
      const float *target, const ok_cross_entropy_options *options, float *loss, float *grad)) \
    X(ok_status, ok_cross_entropy_probs_f64, (size_t n, size_t c, size_t inner, const double *logits, \
      const double *target, const ok_cross_entropy_options *options, double *loss, double *grad)) \
    X(ok_status, ok_nll_loss, (ok_dtype dtype, size_t n, size_t c, size_t inner, const void *input, \
      const void *target, ok_index_type target_type, const void *weight, int64_t ignore_index, \
      ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_nll_loss_f32, (size_t n, size_t c, size_t inner, const float *input, \
      const void *target, ok_index_type target_type, const float *weight, int64_t ignore_index, \
      ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_nll_loss_f64, (size_t n, size_t c, size_t inner, const double *input, \
      const void *target, ok_index_type target_type, const double *weight, int64_t ignore_index, \
      ok_reduction reduction, double *loss, double *grad)) \
    /* optkern/vector.h */ \
    X(ok_status, ok_vec_dot, (ok_dtype dtype, size_t count, const size_t *numel, const void *const *x, \
      const void *const *y, double *result)) \
    X(ok_status, ok_vec_abs_sum, (ok_dtype dtype, size_t count, const size_t *numel, \
      const void *const *x, double *result)) \
    X(ok_status, ok_vec_abs_max, (ok_dtype dtype, size_t count, const size_t *numel, \
      const void *const *x, double *result)) \
    X(ok_status, ok_vec_axpby, (ok_dtype dtype, size_t count, const size_t *numel, double alpha, \
      const void *const *x, double beta, void *const *y)) \
    X(uint64_t, ok_rounding_key, (uint64_t seed, uint64_t step, uint64_t tensor)) \
    X(ok_status, ok_optimizer_step_ex, (const ok_optimizer *opt, const void *hparams, size_t n_hp, \
      const uint32_t *hp_index, size_t count, const ok_shape *shapes, const ok_dtypes *dtypes, \
      void *const *const *streams, const ok_step_options *options)) \
    X(ok_status, ok_optimizer_step_8bit, (const ok_optimizer *opt, const void *hparams, size_t n_hp, \
      const uint32_t *hp_index, size_t count, const size_t *numel, const ok_dtypes *dtypes, \
      void *const *const *streams, const ok_step_options *options)) \
    X(const float *, ok_q8_map, (int unsigned_map)) \
    X(ok_status, ok_quantize_8bit, (int unsigned_map, size_t n, const float *x, uint8_t *q, float *absmax)) \
    X(ok_status, ok_dequantize_8bit, (int unsigned_map, size_t n, const uint8_t *q, const float *absmax, float *x)) \
    X(int, ok_optimizer_is_elementwise, (const ok_optimizer *opt)) \
    X(ok_status, ok_cosine_embedding_loss, (ok_dtype dtype, size_t n, size_t d, const void *input1, \
      const void *input2, const void *target, double margin, ok_reduction reduction, void *loss, void *grad1, \
      void *grad2)) \
    X(ok_status, ok_cosine_embedding_loss_f32, (size_t n, size_t d, const float *input1, const float *input2, \
      const float *target, double margin, ok_reduction reduction, float *loss, float *grad1, float *grad2)) \
    X(ok_status, ok_cosine_embedding_loss_f64, (size_t n, size_t d, const double *input1, \
      const double *input2, const double *target, double margin, ok_reduction reduction, double *loss, \
      double *grad1, double *grad2)) \
    X(ok_status, ok_triplet_margin_loss, (ok_dtype dtype, size_t n, size_t d, const void *anchor, \
      const void *positive, const void *negative, double margin, double p, double eps, int swap, \
      ok_reduction reduction, void *loss, void *grad_anchor, void *grad_positive, void *grad_negative)) \
    X(ok_status, ok_triplet_margin_loss_f32, (size_t n, size_t d, const float *anchor, const float *positive, \
      const float *negative, double margin, double p, double eps, int swap, ok_reduction reduction, \
      float *loss, float *grad_anchor, float *grad_positive, float *grad_negative)) \
    X(ok_status, ok_triplet_margin_loss_f64, (size_t n, size_t d, const double *anchor, \
      const double *positive, const double *negative, double margin, double p, double eps, int swap, \
      ok_reduction reduction, double *loss, double *grad_anchor, double *grad_positive, \
      double *grad_negative)) \
    X(ok_status, ok_multi_margin_loss, (ok_dtype dtype, size_t n, size_t c, const void *input, \
      const void *target, ok_index_type target_type, int p, double margin, const void *weight, \
      ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_multi_margin_loss_f32, (size_t n, size_t c, const float *input, const void *target, \
      ok_index_type target_type, int p, double margin, const float *weight, ok_reduction reduction, \
      float *loss, float *grad)) \
    X(ok_status, ok_multi_margin_loss_f64, (size_t n, size_t c, const double *input, const void *target, \
      ok_index_type target_type, int p, double margin, const double *weight, ok_reduction reduction, \
      double *loss, double *grad)) \
    X(ok_status, ok_multilabel_soft_margin_loss, (ok_dtype dtype, size_t n, size_t c, const void *input, \
      const void *target, const void *weight, ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_multilabel_soft_margin_loss_f32, (size_t n, size_t c, const float *input, \
      const float *target, const float *weight, ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_multilabel_soft_margin_loss_f64, (size_t n, size_t c, const double *input, \
      const double *target, const double *weight, ok_reduction reduction, double *loss, double *grad)) \
    X(ok_status, ok_ctc_loss, (ok_dtype dtype, size_t t_max, size_t n, size_t c, const void *log_probs, \
      const int64_t *targets, size_t n_targets, size_t width, const int64_t *input_lengths, \
      const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction, void *loss, \
      void *grad)) \
    X(ok_status, ok_ctc_loss_f32, (size_t t_max, size_t n, size_t c, const float *log_probs, \
      const int64_t *targets, size_t n_targets, size_t width, const int64_t *input_lengths, \
      const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction, float *loss, \
      float *grad)) \
    X(ok_status, ok_ctc_loss_f64, (size_t t_max, size_t n, size_t c, const double *log_probs, \
      const int64_t *targets, size_t n_targets, size_t width, const int64_t *input_lengths, \
      const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction, double *loss, \
      double *grad)) \
    X(ok_status, ok_multilabel_margin_loss, (ok_dtype dtype, size_t n, size_t c, const void *input, \
      const void *target, ok_index_type target_type, ok_reduction reduction, void *loss, void *grad)) \
    X(ok_status, ok_multilabel_margin_loss_f32, (size_t n, size_t c, const float *input, const void *target, \
      ok_index_type target_type, ok_reduction reduction, float *loss, float *grad)) \
    X(ok_status, ok_multilabel_margin_loss_f64, (size_t n, size_t c, const double *input, const void *target, \
      ok_index_type target_type, ok_reduction reduction, double *loss, double *grad))

/*
 * The table. Its first three members never change, whatever the ABI version
 * (import_optkern reads them to report a mismatch); then one pointer per
 * function of OPTKERN_CAPI_FUNCTIONS. count is the number of those the
 * library has: a newer optkern's table is longer, which an older module
 * never reads.
 */
#define OPTKERN_CAPI_FIELD_(ret, name, params) ret (*name) params;
typedef struct ok_capi {
    unsigned abi_version; /* the library's OPTKERN_ABI_VERSION */
    unsigned count;       /* the number of functions in the table */
    const char *version;  /* the library's ok_version(), "MAJOR.MINOR.PATCH" */
    OPTKERN_CAPI_FUNCTIONS(OPTKERN_CAPI_FIELD_)
} ok_capi;
#undef OPTKERN_CAPI_FIELD_

/* The number of functions this header knows. */
#define OPTKERN_CAPI_ONE_(ret, name, params) +1
enum { OPTKERN_CAPI_COUNT = 0 OPTKERN_CAPI_FUNCTIONS(OPTKERN_CAPI_ONE_) };
#undef OPTKERN_CAPI_ONE_

#if defined(OPTKERN_LINKED)

/* The library's table, which optkern._core puts in its capsule. */
const ok_capi *ok_capi_table(void);

static inline int import_optkern(void) { return 0; }

#else /* through the capsule */

#if defined(OPTKERN_CAPI_UNIQUE_SYMBOL)
#define OPTKERN_CAPI_TABLE_ OPTKERN_CAPI_UNIQUE_SYMBOL
#if defined(OPTKERN_NO_IMPORT)
extern const ok_capi *OPTKERN_CAPI_TABLE_;
#else
const ok_capi *OPTKERN_CAPI_TABLE_ = NULL;
#endif
#else
#if defined(OPTKERN_NO_IMPORT)
#error "OPTKERN_NO_IMPORT needs OPTKERN_CAPI_UNIQUE_SYMBOL: the name of the table pointer that one file imports"
#endif
#define OPTKERN_CAPI_TABLE_ optkern_capi_table_
static const ok_capi *OPTKERN_CAPI_TABLE_ = NULL;
#endif

#if !defined(OPTKERN_NO_IMPORT)
/*
 * Imports optkern._core and keeps its table: 0 on success; -1 with an
 * exception set on failure, an ImportError whenever optkern is there but its
 * C-API does not fit this module's (no capsule, another ABI version, a table
 * shorter than this header's), so that a module's PyInit can return NULL.
 */
static inline int import_optkern(void) {
    PyObject *module = PyImport_ImportModule(OPTKERN_CAPI_MODULE);
    PyObject *capsule;
    const ok_capi *table;
    if (module == NULL) return -1;
    capsule = PyObject_GetAttrString(module, OPTKERN_CAPI_ATTRIBUTE);
    Py_DECREF(module);
    if (capsule == NULL || !PyCapsule_IsValid(capsule, OPTKERN_CAPI_CAPSULE)) {
        Py_XDECREF(capsule);
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError,
                        OPTKERN_CAPI_MODULE " has no C-API capsule " OPTKERN_CAPI_CAPSULE
                        ": install an optkern that has one");
        return -1;
    }
    table = (const ok_capi *)PyCapsule_GetPointer(capsule, OPTKERN_CAPI_CAPSULE);
    Py_DECREF(capsule);
    if (table->abi_version != OPTKERN_ABI_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "this module was built against optkern's C-API %u.%u (ABI version %u), but the installed "
                     "optkern %s has C-API %u.%u, another ABI: rebuild this module against the installed "
                     "optkern, or install an optkern of ABI version %u",
                     (unsigned)OPTKERN_ABI_VERSION, (unsigned)OPTKERN_CAPI_COUNT, (unsigned)OPTKERN_ABI_VERSION,
                     table->version, table->abi_version, table->count, (unsigned)OPTKERN_ABI_VERSION);
        return -1;
    }
    if (table->count < OPTKERN_CAPI_COUNT) {
        PyErr_Format(PyExc_ImportError,
                     "this module was built against optkern's C-API %u.%u, but the installed optkern %s has "
                     "C-API %u.%u, without %u of the functions this module may call: upgrade optkern, or "
                     "rebuild this module against the installed one",
                     (unsigned)OPTKERN_ABI_VERSION, (unsigned)OPTKERN_CAPI_COUNT, table->version,
                     table->abi_version, table->count, (unsigned)OPTKERN_CAPI_COUNT - table->count);
        return -1;
    }
    OPTKERN_CAPI_TABLE_ = table;
    return 0;
}
#endif

/* Each function's name calls its entry in the table (after import_optkern). */
#define OPTKERN_CAPI_ENTRY_(name) (OPTKERN_CAPI_TABLE_->name)
#define ok_dtype_size OPTKERN_CAPI_ENTRY_(ok_dtype_size)
#define ok_status_string OPTKERN_CAPI_ENTRY_(ok_status_string)
#define ok_version OPTKERN_CAPI_ENTRY_(ok_version)
#define ok_isa_available OPTKERN_CAPI_ENTRY_(ok_isa_available)
#define ok_isa_best OPTKERN_CAPI_ENTRY_(ok_isa_best)
#define ok_get_isa OPTKERN_CAPI_ENTRY_(ok_get_isa)
#define ok_set_isa OPTKERN_CAPI_ENTRY_(ok_set_isa)
#define ok_isa_name OPTKERN_CAPI_ENTRY_(ok_isa_name)
#define ok_isa_from_name OPTKERN_CAPI_ENTRY_(ok_isa_from_name)
#define ok_set_num_threads OPTKERN_CAPI_ENTRY_(ok_set_num_threads)
#define ok_get_num_threads OPTKERN_CAPI_ENTRY_(ok_get_num_threads)
#define ok_max_threads OPTKERN_CAPI_ENTRY_(ok_max_threads)
#define ok_has_openmp OPTKERN_CAPI_ENTRY_(ok_has_openmp)
#define ok_sgd OPTKERN_CAPI_ENTRY_(ok_sgd)
#define ok_adam OPTKERN_CAPI_ENTRY_(ok_adam)
#define ok_sgd_f32 OPTKERN_CAPI_ENTRY_(ok_sgd_f32)
#define ok_sgd_f64 OPTKERN_CAPI_ENTRY_(ok_sgd_f64)
#define ok_adam_f32 OPTKERN_CAPI_ENTRY_(ok_adam_f32)
#define ok_adam_f64 OPTKERN_CAPI_ENTRY_(ok_adam_f64)
#define ok_sgd_check OPTKERN_CAPI_ENTRY_(ok_sgd_check)
#define ok_adam_check OPTKERN_CAPI_ENTRY_(ok_adam_check)
#define ok_optimizer_count OPTKERN_CAPI_ENTRY_(ok_optimizer_count)
#define ok_optimizer_at OPTKERN_CAPI_ENTRY_(ok_optimizer_at)
#define ok_optimizer_find OPTKERN_CAPI_ENTRY_(ok_optimizer_find)
#define ok_optimizer_name OPTKERN_CAPI_ENTRY_(ok_optimizer_name)
#define ok_optimizer_hparams_size OPTKERN_CAPI_ENTRY_(ok_optimizer_hparams_size)
#define ok_optimizer_field_count OPTKERN_CAPI_ENTRY_(ok_optimizer_field_count)
#define ok_optimizer_field OPTKERN_CAPI_ENTRY_(ok_optimizer_field)
#define ok_optimizer_state_count OPTKERN_CAPI_ENTRY_(ok_optimizer_state_count)
#define ok_optimizer_state_name OPTKERN_CAPI_ENTRY_(ok_optimizer_state_name)
#define ok_optimizer_state_is_scalar OPTKERN_CAPI_ENTRY_(ok_optimizer_state_is_scalar)
#define ok_optimizer_work_count OPTKERN_CAPI_ENTRY_(ok_optimizer_work_count)
#define ok_optimizer_work_name OPTKERN_CAPI_ENTRY_(ok_optimizer_work_name)
#define ok_optimizer_state_shape OPTKERN_CAPI_ENTRY_(ok_optimizer_state_shape)
#define ok_optimizer_check OPTKERN_CAPI_ENTRY_(ok_optimizer_check)
#define ok_optimizer_required_states OPTKERN_CAPI_ENTRY_(ok_optimizer_required_states)
#define ok_optimizer_coefficients_size OPTKERN_CAPI_ENTRY_(ok_optimizer_coefficients_size)
#define ok_optimizer_coefficients OPTKERN_CAPI_ENTRY_(ok_optimizer_coefficients)
#define ok_optimizer_step OPTKERN_CAPI_ENTRY_(ok_optimizer_step)
#define ok_optimizer_step_shaped OPTKERN_CAPI_ENTRY_(ok_optimizer_step_shaped)
#define ok_optimizer_step_scaled OPTKERN_CAPI_ENTRY_(ok_optimizer_step_scaled)
#define ok_check_overlap OPTKERN_CAPI_ENTRY_(ok_check_overlap)
#define ok_mse_loss OPTKERN_CAPI_ENTRY_(ok_mse_loss)
#define ok_mse_loss_f32 OPTKERN_CAPI_ENTRY_(ok_mse_loss_f32)
#define ok_mse_loss_f64 OPTKERN_CAPI_ENTRY_(ok_mse_loss_f64)
#define ok_l1_loss OPTKERN_CAPI_ENTRY_(ok_l1_loss)
#define ok_l1_loss_f32 OPTKERN_CAPI_ENTRY_(ok_l1_loss_f32)
#define ok_l1_loss_f64 OPTKERN_CAPI_ENTRY_(ok_l1_loss_f64)
#define ok_huber_loss OPTKERN_CAPI_ENTRY_(ok_huber_loss)
#define ok_huber_loss_f32 OPTKERN_CAPI_ENTRY_(ok_huber_loss_f32)
#define ok_huber_loss_f64 OPTKERN_CAPI_ENTRY_(ok_huber_loss_f64)
#define ok_smooth_l1_loss OPTKERN_CAPI_ENTRY_(ok_smooth_l1_loss)
#define ok_smooth_l1_loss_f32 OPTKERN_CAPI_ENTRY_(ok_smooth_l1_loss_f32)
#define ok_smooth_l1_loss_f64 OPTKERN_CAPI_ENTRY_(ok_smooth_l1_loss_f64)
#define ok_kl_div OPTKERN_CAPI_ENTRY_(ok_kl_div)
#define ok_kl_div_f32 OPTKERN_CAPI_ENTRY_(ok_kl_div_f32)
#define ok_kl_div_f64 OPTKERN_CAPI_ENTRY_(ok_kl_div_f64)
#define ok_binary_cross_entropy_with_logits OPTKERN_CAPI_ENTRY_(ok_binary_cross_entropy_with_logits)
#define ok_binary_cross_entropy_with_logits_f32 OPTKERN_CAPI_ENTRY_(ok_binary_cross_entropy_with_logits_f32)
#define ok_binary_cross_entropy_with_logits_f64 OPTKERN_CAPI_ENTRY_(ok_binary_cross_entropy_with_logits_f64)
#define ok_elementwise_loss OPTKERN_CAPI_ENTRY_(ok_elementwise_loss)
#define ok_cross_entropy OPTKERN_CAPI_ENTRY_(ok_cross_entropy)
#define ok_cross_entropy_f32 OPTKERN_CAPI_ENTRY_(ok_cross_entropy_f32)
#define ok_cross_entropy_f64 OPTKERN_CAPI_ENTRY_(ok_cross_entropy_f64)
#define ok_cross_entropy_probs OPTKERN_CAPI_ENTRY_(ok_cross_entropy_probs)
#define ok_cross_entropy_probs_f32 OPTKERN_CAPI_ENTRY_(ok_cross_entropy_probs_f32)
#define ok_cross_entropy_probs_f64 OPTKERN_CAPI_ENTRY_(ok_cross_entropy_probs_f64)
#define ok_nll_loss OPTKERN_CAPI_ENTRY_(ok_nll_loss)
#define ok_nll_loss_f32 OPTKERN_CAPI_ENTRY_(ok_nll_loss_f32)
#define ok_nll_loss_f64 OPTKERN_CAPI_ENTRY_(ok_nll_loss_f64)
#define ok_vec_dot OPTKERN_CAPI_ENTRY_(ok_vec_dot)
#define ok_vec_abs_sum OPTKERN_CAPI_ENTRY_(ok_vec_abs_sum)
#define ok_vec_abs_max OPTKERN_CAPI_ENTRY_(ok_vec_abs_max)
#define ok_vec_axpby OPTKERN_CAPI_ENTRY_(ok_vec_axpby)
#define ok_rounding_key OPTKERN_CAPI_ENTRY_(ok_rounding_key)
#define ok_optimizer_step_ex OPTKERN_CAPI_ENTRY_(ok_optimizer_step_ex)
#define ok_optimizer_step_8bit OPTKERN_CAPI_ENTRY_(ok_optimizer_step_8bit)
#define ok_q8_map OPTKERN_CAPI_ENTRY_(ok_q8_map)
#define ok_quantize_8bit OPTKERN_CAPI_ENTRY_(ok_quantize_8bit)
#define ok_dequantize_8bit OPTKERN_CAPI_ENTRY_(ok_dequantize_8bit)
#define ok_optimizer_is_elementwise OPTKERN_CAPI_ENTRY_(ok_optimizer_is_elementwise)
#define ok_cosine_embedding_loss OPTKERN_CAPI_ENTRY_(ok_cosine_embedding_loss)
#define ok_cosine_embedding_loss_f32 OPTKERN_CAPI_ENTRY_(ok_cosine_embedding_loss_f32)
#define ok_cosine_embedding_loss_f64 OPTKERN_CAPI_ENTRY_(ok_cosine_embedding_loss_f64)
#define ok_triplet_margin_loss OPTKERN_CAPI_ENTRY_(ok_triplet_margin_loss)
#define ok_triplet_margin_loss_f32 OPTKERN_CAPI_ENTRY_(ok_triplet_margin_loss_f32)
#define ok_triplet_margin_loss_f64 OPTKERN_CAPI_ENTRY_(ok_triplet_margin_loss_f64)
#define ok_multi_margin_loss OPTKERN_CAPI_ENTRY_(ok_multi_margin_loss)
#define ok_multi_margin_loss_f32 OPTKERN_CAPI_ENTRY_(ok_multi_margin_loss_f32)
#define ok_multi_margin_loss_f64 OPTKERN_CAPI_ENTRY_(ok_multi_margin_loss_f64)
#define ok_multilabel_soft_margin_loss OPTKERN_CAPI_ENTRY_(ok_multilabel_soft_margin_loss)
#define ok_multilabel_soft_margin_loss_f32 OPTKERN_CAPI_ENTRY_(ok_multilabel_soft_margin_loss_f32)
#define ok_multilabel_soft_margin_loss_f64 OPTKERN_CAPI_ENTRY_(ok_multilabel_soft_margin_loss_f64)
#define ok_ctc_loss OPTKERN_CAPI_ENTRY_(ok_ctc_loss)
#define ok_ctc_loss_f32 OPTKERN_CAPI_ENTRY_(ok_ctc_loss_f32)
#define ok_ctc_loss_f64 OPTKERN_CAPI_ENTRY_(ok_ctc_loss_f64)
#define ok_multilabel_margin_loss OPTKERN_CAPI_ENTRY_(ok_multilabel_margin_loss)
#define ok_multilabel_margin_loss_f32 OPTKERN_CAPI_ENTRY_(ok_multilabel_margin_loss_f32)
#define ok_multilabel_margin_loss_f64 OPTKERN_CAPI_ENTRY_(ok_multilabel_margin_loss_f64)

#endif /* OPTKERN_LINKED */

#ifdef __cplusplus
}
#endif

#endif /* OPTKERN_OPTKERN_CAPI_H */
