# Declarations of the optkern C library's public API (kernels/include/optkern/*.h)
# for Cython.
from libc.stdint cimport uint32_t, int64_t, uintptr_t

cdef extern from "optkern/optkern.h" nogil:
    ctypedef enum ok_status:
        OK_SUCCESS
        OK_ERR_NULL_POINTER
        OK_ERR_HYPERPARAMETER
        OK_ERR_INDEX
        OK_ERR_ALIASING
        OK_ERR_UNSUPPORTED
        OK_ERR_NO_MEMORY
        OK_ERR_ALIGNMENT
        OK_ERR_SIZE

    ctypedef enum ok_dtype:
        OK_FLOAT32
        OK_FLOAT64
    size_t ok_dtype_size(ok_dtype dtype)

    const char *ok_status_string(ok_status status)
    const char *ok_version()

    ctypedef enum ok_isa:
        OK_ISA_SCALAR
        OK_ISA_AVX2
        OK_ISA_AVX512
    int OK_ISA_COUNT

    unsigned ok_isa_available()
    ok_isa ok_isa_best()
    ok_isa ok_get_isa()
    ok_status ok_set_isa(ok_isa isa)
    const char *ok_isa_name(ok_isa isa)
    ok_status ok_isa_from_name(const char *name, ok_isa *isa)

    void ok_set_num_threads(int n)
    int ok_get_num_threads()
    int ok_max_threads()
    int ok_has_openmp()

    ctypedef struct ok_optimizer:
        pass

    ctypedef enum ok_field_type:
        OK_FIELD_DOUBLE
        OK_FIELD_INT
        OK_FIELD_INT64

    ctypedef struct ok_field:
        const char *name
        ok_field_type type
        size_t offset

    ctypedef struct ok_dtypes:
        ok_dtype param
        ok_dtype grad
        ok_dtype state

    size_t ok_optimizer_count()
    const ok_optimizer *ok_optimizer_at(size_t i)
    const char *ok_optimizer_name(const ok_optimizer *opt)
    size_t ok_optimizer_hparams_size(const ok_optimizer *opt)
    size_t ok_optimizer_field_count(const ok_optimizer *opt)
    const ok_field *ok_optimizer_field(const ok_optimizer *opt, size_t k)
    size_t ok_optimizer_state_count(const ok_optimizer *opt)
    const char *ok_optimizer_state_name(const ok_optimizer *opt, size_t k)
    int ok_optimizer_state_is_scalar(const ok_optimizer *opt, size_t k)
    size_t ok_optimizer_work_count(const ok_optimizer *opt)
    const char *ok_optimizer_work_name(const ok_optimizer *opt, size_t k)

    ctypedef enum ok_state_shape:
        OK_STATE_PARAM
        OK_STATE_VECTOR
        OK_STATE_ROWS
        OK_STATE_COLS
    int ok_optimizer_state_shape(const ok_optimizer *opt, size_t k)
    ok_status ok_optimizer_check(const ok_optimizer *opt, const void *hparams)
    unsigned ok_optimizer_required_states(const ok_optimizer *opt, const void *hparams)
    size_t ok_optimizer_coefficients_size(const ok_optimizer *opt)
    ok_status ok_optimizer_coefficients(const ok_optimizer *opt, const void *hparams, void *coeffs)
    ok_status ok_optimizer_step(const ok_optimizer *opt, const void *hparams, size_t n_hp, const uint32_t *hp_index,
                                size_t count, const size_t *numel, const ok_dtypes *dtypes, void ***streams)

    ctypedef struct ok_shape:
        size_t ndim
        const size_t *dims

    ok_status ok_optimizer_step_shaped(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                       const uint32_t *hp_index, size_t count, const ok_shape *shapes,
                                       const ok_dtypes *dtypes, void ***streams)

    ctypedef struct ok_grad_scaling:
        double unscale
        double clip

    ok_status ok_optimizer_step_scaled(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                       const uint32_t *hp_index, size_t count, const ok_shape *shapes,
                                       const ok_dtypes *dtypes, void ***streams, const ok_grad_scaling *scaling)

    ctypedef struct ok_span:
        uintptr_t begin
        uintptr_t end
        size_t id
        int written

    ok_status ok_check_overlap(ok_span *spans, size_t n, size_t *first, size_t *second)

cdef extern from "optkern/vector.h" nogil:
    ok_status ok_vec_dot(ok_dtype dtype, size_t count, const size_t *numel, const void **x, const void **y,
                         double *result)
    ok_status ok_vec_abs_sum(ok_dtype dtype, size_t count, const size_t *numel, const void **x, double *result)
    ok_status ok_vec_abs_max(ok_dtype dtype, size_t count, const size_t *numel, const void **x, double *result)
    ok_status ok_vec_axpby(ok_dtype dtype, size_t count, const size_t *numel, double alpha, const void **x,
                           double beta, void **y)

cdef extern from "optkern/losses.h" nogil:
    ctypedef enum ok_reduction:
        OK_REDUCTION_NONE
        OK_REDUCTION_MEAN
        OK_REDUCTION_SUM
        OK_REDUCTION_BATCHMEAN

    ctypedef struct ok_bcast:
        const void *data
        size_t block
        size_t period

    ctypedef struct ok_elementwise_options:
        const ok_bcast *weight
        const ok_bcast *pos_weight
        double param
        int flag
        size_t batch

    ok_status ok_elementwise_loss(const char *name, ok_dtype dtype, size_t n, const void *input, const void *target,
                                  const ok_elementwise_options *options, ok_reduction reduction, void *loss,
                                  void *grad)

    ctypedef enum ok_index_type:
        OK_INDEX_INT64
        OK_INDEX_INT32

    ctypedef struct ok_cross_entropy_options:
        const void *weight
        int64_t ignore_index
        double label_smoothing
        double z_loss
        double softcap
        ok_reduction reduction

    ok_status ok_cross_entropy(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits,
                               const void *target, ok_index_type target_type,
                               const ok_cross_entropy_options *options, void *loss, void *grad)
    ok_status ok_cross_entropy_probs(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits,
                                     const void *target, const ok_cross_entropy_options *options, void *loss,
                                     void *grad)
    ok_status ok_nll_loss(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *input, const void *target,
                          ok_index_type target_type, const void *weight, int64_t ignore_index,
                          ok_reduction reduction, void *loss, void *grad)

cdef extern from "optkern/internal/testing.h" nogil:
    ok_status ok_roofline(ok_dtype dtype, int n_inplace, int n_writeonly, int n_readonly,
                          size_t count, const size_t *numel, void ***streams)
    void ok_mt_set_parallel_min(size_t elements)
    int ok_threads_for(size_t elements)
    void ok_threads_observe(double wall, double busiest)
    void ok_threads_set_backoff(int on)
    unsigned long ok_threads_regions()
    ok_status ok_vmath(int op, ok_dtype dtype, size_t n, const void *x, void *y)
    size_t ok_simd_width(ok_dtype dtype)
    ok_status ok_simd_probe(int op, ok_dtype dtype, size_t n, const void *x, void *y, void *z)
