# Declarations of the optkern C library (kernels/include/optkern/*.h) for Cython.
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

    ctypedef enum ok_dtype:
        OK_FLOAT32
        OK_FLOAT64

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
    int ok_has_openmp()

    ctypedef struct ok_sgd_hparams:
        double lr
        double momentum
        double dampening
        double weight_decay
        int nesterov
        int maximize
        int first_step

    ctypedef struct ok_adam_hparams:
        double lr
        double beta1
        double beta2
        double eps
        double weight_decay
        int64_t step
        int amsgrad
        int maximize
        int decoupled_weight_decay

    ok_status ok_sgd(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                     size_t count, const size_t *numel, const ok_dtype *dtype, void **param,
                     const void **grad, void **momentum_buffer)
    ok_status ok_adam(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                      size_t count, const size_t *numel, const ok_dtype *dtype, void **param,
                      const void **grad, void **exp_avg, void **exp_avg_sq, void **max_exp_avg_sq)
    ok_status ok_sgd_f32(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                         size_t count, const size_t *numel, float **param,
                         const float **grad, float **momentum_buffer)
    ok_status ok_sgd_f64(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                         size_t count, const size_t *numel, double **param,
                         const double **grad, double **momentum_buffer)
    ok_status ok_adam_f32(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                          size_t count, const size_t *numel, float **param,
                          const float **grad, float **exp_avg,
                          float **exp_avg_sq, float **max_exp_avg_sq)
    ok_status ok_adam_f64(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                          size_t count, const size_t *numel, double **param,
                          const double **grad, double **exp_avg,
                          double **exp_avg_sq, double **max_exp_avg_sq)
    ok_status ok_sgd_check(const ok_sgd_hparams *hp)
    ok_status ok_adam_check(const ok_adam_hparams *hp)

    ctypedef struct ok_span:
        uintptr_t begin
        uintptr_t end
        size_t id
        int written

    ok_status ok_check_overlap(ok_span *spans, size_t n, size_t *first, size_t *second)

cdef extern from "bench_api.h" nogil:
    ok_status ok_roofline(size_t elem_size, int n_inplace, int n_writeonly, int n_readonly,
                          size_t count, const size_t *numel, void ***streams)
    void ok_mt_set_parallel_min(size_t elements)

cdef extern from "vmath_api.h" nogil:
    ok_status ok_vmath(int op, size_t elem_size, size_t n, const void *x, void *y)

cdef extern from "optkern/losses.h" nogil:
    ctypedef enum ok_reduction:
        OK_REDUCTION_NONE
        OK_REDUCTION_MEAN
        OK_REDUCTION_SUM
        OK_REDUCTION_BATCHMEAN

    ok_status ok_mse_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                              ok_reduction reduction, float *loss, float *grad)
    ok_status ok_mse_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                              ok_reduction reduction, double *loss, double *grad)
    ok_status ok_l1_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                             ok_reduction reduction, float *loss, float *grad)
    ok_status ok_l1_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                             ok_reduction reduction, double *loss, double *grad)
    ok_status ok_huber_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                                double delta, ok_reduction reduction, float *loss, float *grad)
    ok_status ok_huber_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                                double delta, ok_reduction reduction, double *loss, double *grad)
    ok_status ok_smooth_l1_loss_f32(size_t n, const float *input, const float *target, double beta,
                                    ok_reduction reduction, float *loss, float *grad)
    ok_status ok_smooth_l1_loss_f64(size_t n, const double *input, const double *target, double beta,
                                    ok_reduction reduction, double *loss, double *grad)
    ok_status ok_kl_div_f32(size_t n, size_t batch, const float *input, const float *target, int log_target,
                            ok_reduction reduction, float *loss, float *grad)
    ok_status ok_kl_div_f64(size_t n, size_t batch, const double *input, const double *target, int log_target,
                            ok_reduction reduction, double *loss, double *grad)

    ctypedef struct ok_bcast:
        const void *data
        size_t block
        size_t period

    ok_status ok_binary_cross_entropy_with_logits_f32(size_t n, const float *input, const float *target,
                                                      const ok_bcast *weight, const ok_bcast *pos_weight,
                                                      ok_reduction reduction, float *loss, float *grad)
    ok_status ok_binary_cross_entropy_with_logits_f64(size_t n, const double *input, const double *target,
                                                      const ok_bcast *weight, const ok_bcast *pos_weight,
                                                      ok_reduction reduction, double *loss, double *grad)

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

    ok_status ok_cross_entropy_f32(size_t n, size_t c, size_t inner, const float *logits, const void *target,
                                   ok_index_type target_type, const ok_cross_entropy_options *options,
                                   float *loss, float *grad)
    ok_status ok_cross_entropy_f64(size_t n, size_t c, size_t inner, const double *logits, const void *target,
                                   ok_index_type target_type, const ok_cross_entropy_options *options,
                                   double *loss, double *grad)
    ok_status ok_cross_entropy_probs_f32(size_t n, size_t c, size_t inner, const float *logits,
                                         const float *target, const ok_cross_entropy_options *options,
                                         float *loss, float *grad)
    ok_status ok_cross_entropy_probs_f64(size_t n, size_t c, size_t inner, const double *logits,
                                         const double *target, const ok_cross_entropy_options *options,
                                         double *loss, double *grad)
    ok_status ok_nll_loss_f32(size_t n, size_t c, size_t inner, const float *input, const void *target,
                              ok_index_type target_type, const float *weight, int64_t ignore_index,
                              ok_reduction reduction, float *loss, float *grad)
    ok_status ok_nll_loss_f64(size_t n, size_t c, size_t inner, const double *input, const void *target,
                              ok_index_type target_type, const double *weight, int64_t ignore_index,
                              ok_reduction reduction, double *loss, double *grad)
