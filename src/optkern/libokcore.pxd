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

cdef extern from "roofline_api.h" nogil:
    ok_status ok_roofline(size_t elem_size, int n_inplace, int n_writeonly, int n_readonly,
                          size_t count, const size_t *numel, void ***streams)

cdef extern from "vmath_api.h" nogil:
    ok_status ok_vmath(int op, size_t elem_size, size_t n, const void *x, void *y)
