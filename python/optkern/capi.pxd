# The optkern C API for Cython: every declaration of optkern/optkern.h,
# through optkern/optkern_capi.h.
#
#     from optkern.capi cimport import_optkern, ok_adam_f32, ok_adam_hparams
#     import_optkern()      # at module import, like cnp.import_array()
#
# A consumer module calls the library through the C-API capsule of the
# installed optkern (it links nothing and shares optkern's kernels, ISA and
# threads); optkern._core, which links the library, compiles with
# OPTKERN_LINKED and calls it directly. docs/embedding.md#cython says how to
# build one. tests/test_capi.py checks that every function and struct field
# of the public headers is declared here.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t, uintptr_t

cdef extern from "optkern/optkern_capi.h" nogil:
    # optkern/common.h
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
        OK_ERR_DOMAIN

    ctypedef enum ok_dtype:
        OK_FLOAT32
        OK_FLOAT64
        OK_BFLOAT16
        OK_FLOAT16
    int OK_DTYPE_COUNT
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

    int OK_MAX_THREADS
    void ok_set_num_threads(int n)
    int ok_get_num_threads()
    int ok_max_threads()
    int ok_has_openmp()

    # optkern/optim.h: the hyperparameter structs (their C initialisers
    # OK_<NAME>_DEFAULTS are C only: set every field)
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

    ctypedef struct ok_radam_hparams:
        double lr
        double beta1
        double beta2
        double eps
        double weight_decay
        int64_t step
        int maximize
        int decoupled_weight_decay

    ctypedef struct ok_rprop_hparams:
        double lr
        double etaminus
        double etaplus
        double step_size_min
        double step_size_max
        int maximize
        int first_step

    ctypedef struct ok_nadam_hparams:
        double lr
        double beta1
        double beta2
        double eps
        double weight_decay
        double momentum_decay
        int64_t step
        int maximize
        int decoupled_weight_decay

    ctypedef struct ok_asgd_hparams:
        double lr
        double lambd
        double alpha
        double t0
        double weight_decay
        int64_t step
        int maximize

    ctypedef struct ok_adagrad_hparams:
        double lr
        double lr_decay
        double weight_decay
        double eps
        int64_t step
        int maximize

    ctypedef struct ok_rmsprop_hparams:
        double lr
        double alpha
        double eps
        double weight_decay
        double momentum
        int centered
        int maximize

    ctypedef struct ok_adadelta_hparams:
        double lr
        double rho
        double eps
        double weight_decay
        int maximize

    ctypedef struct ok_adamax_hparams:
        double lr
        double beta1
        double beta2
        double eps
        double weight_decay
        int64_t step
        int maximize

    ctypedef struct ok_adafactor_hparams:
        double lr
        double beta2_decay
        double eps1
        double eps2
        double d
        double weight_decay
        int64_t step
        int maximize
        int eps1_machine

    ctypedef struct ok_muon_hparams:
        double lr
        double weight_decay
        double momentum
        double lr_ratio
        int nesterov
        int stage

    ctypedef struct ok_lion_hparams:
        double lr
        double beta1
        double beta2
        double weight_decay

    ctypedef struct ok_adan_hparams:
        double lr
        double beta1
        double beta2
        double beta3
        double eps
        double weight_decay
        int64_t step
        int no_prox
        int first_step

    ctypedef struct ok_ademamix_hparams:
        double lr
        double beta1
        double beta2
        double beta3
        double alpha
        double t_alpha_beta3
        double eps
        double weight_decay
        int64_t step
        int weight_decouple
        int fixed_decay
        int maximize

    ctypedef struct ok_adopt_hparams:
        double lr
        double beta1
        double beta2
        double eps
        double weight_decay
        double clip
        int64_t step
        int clipped
        int decouple
        int maximize

    ctypedef struct ok_sgd_schedulefree_hparams:
        double lr
        double momentum
        double weight_decay
        double ckp1
        int first_step
        int64_t mode

    ctypedef struct ok_adamw_schedulefree_hparams:
        double lr
        double beta1
        double beta2
        double eps
        double weight_decay
        double ckp1
        int64_t step
        int first_step
        int64_t mode

    ctypedef struct ok_lamb_hparams:
        double lr
        double beta1
        double beta2
        double eps
        double weight_decay
        double max_grad_norm
        int64_t step
        int bias_correction
        int adam_w_mode
        int grad_averaging
        int use_nvlamb

    ctypedef struct ok_lars_hparams:
        double lr
        double momentum
        double dampening
        double weight_decay
        double trust_coefficient
        int nesterov
        int maximize
        int exclude

    enum:
        OK_SCHEDULEFREE_STEP
        OK_SCHEDULEFREE_TO_Y
        OK_SCHEDULEFREE_TO_X

    # A tensor list's pointer arrays are declared without their inner
    # consts (void ** for void *const *): C converts them implicitly.
    ok_status ok_sgd(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                     const size_t *numel, const ok_dtype *dtype, void **param, const void **grad,
                     void **momentum_buffer)
    ok_status ok_adam(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                      const size_t *numel, const ok_dtype *dtype, void **param, const void **grad,
                      void **exp_avg, void **exp_avg_sq, void **max_exp_avg_sq)
    ok_status ok_sgd_f32(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                         const size_t *numel, float **param, const float **grad, float **momentum_buffer)
    ok_status ok_sgd_f64(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                         const size_t *numel, double **param, const double **grad, double **momentum_buffer)
    ok_status ok_adam_f32(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                          const size_t *numel, float **param, const float **grad, float **exp_avg,
                          float **exp_avg_sq, float **max_exp_avg_sq)
    ok_status ok_adam_f64(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                          const size_t *numel, double **param, const double **grad, double **exp_avg,
                          double **exp_avg_sq, double **max_exp_avg_sq)
    ok_status ok_sgd_check(const ok_sgd_hparams *hp)
    ok_status ok_adam_check(const ok_adam_hparams *hp)

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
    const ok_optimizer *ok_optimizer_find(const char *name)
    const char *ok_optimizer_name(const ok_optimizer *opt)
    size_t ok_optimizer_hparams_size(const ok_optimizer *opt)
    size_t ok_optimizer_field_count(const ok_optimizer *opt)
    const ok_field *ok_optimizer_field(const ok_optimizer *opt, size_t k)
    size_t ok_optimizer_state_count(const ok_optimizer *opt)
    const char *ok_optimizer_state_name(const ok_optimizer *opt, size_t k)
    int ok_optimizer_state_is_scalar(const ok_optimizer *opt, size_t k)
    size_t ok_optimizer_work_count(const ok_optimizer *opt)
    const char *ok_optimizer_work_name(const ok_optimizer *opt, size_t k)
    int ok_optimizer_is_elementwise(const ok_optimizer *opt)

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

    ctypedef struct ok_step_options:
        ok_grad_scaling scaling
        void **master
        const uint64_t *rounding_key

    uint64_t ok_rounding_key(uint64_t seed, uint64_t step, uint64_t tensor)
    ok_status ok_optimizer_step_ex(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                   const uint32_t *hp_index, size_t count, const ok_shape *shapes,
                                   const ok_dtypes *dtypes, void ***streams, const ok_step_options *options)

    # 8-bit optimizer states
    int OK_Q8_BLOCK_SIZE
    int OK_Q8_STREAM_COUNT
    ok_status ok_optimizer_step_8bit(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                     const uint32_t *hp_index, size_t count, const size_t *numel,
                                     const ok_dtypes *dtypes, void ***streams, const ok_step_options *options)
    const float *ok_q8_map(int unsigned_map)
    ok_status ok_quantize_8bit(int unsigned_map, size_t n, const float *x, uint8_t *q, float *absmax)
    ok_status ok_dequantize_8bit(int unsigned_map, size_t n, const uint8_t *q, const float *absmax, float *x)

    ctypedef struct ok_span:
        uintptr_t begin
        uintptr_t end
        size_t id
        int written

    ok_status ok_check_overlap(ok_span *spans, size_t n, size_t *first, size_t *second)

    # optkern/losses.h
    ctypedef enum ok_reduction:
        OK_REDUCTION_NONE
        OK_REDUCTION_MEAN
        OK_REDUCTION_SUM
        OK_REDUCTION_BATCHMEAN

    ok_status ok_mse_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                          ok_reduction reduction, void *loss, void *grad)
    ok_status ok_mse_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                              ok_reduction reduction, float *loss, float *grad)
    ok_status ok_mse_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                              ok_reduction reduction, double *loss, double *grad)
    ok_status ok_l1_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                         ok_reduction reduction, void *loss, void *grad)
    ok_status ok_l1_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                             ok_reduction reduction, float *loss, float *grad)
    ok_status ok_l1_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                             ok_reduction reduction, double *loss, double *grad)
    ok_status ok_huber_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                            double delta, ok_reduction reduction, void *loss, void *grad)
    ok_status ok_huber_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                                double delta, ok_reduction reduction, float *loss, float *grad)
    ok_status ok_huber_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                                double delta, ok_reduction reduction, double *loss, double *grad)
    ok_status ok_smooth_l1_loss(ok_dtype dtype, size_t n, const void *input, const void *target, double beta,
                                ok_reduction reduction, void *loss, void *grad)
    ok_status ok_smooth_l1_loss_f32(size_t n, const float *input, const float *target, double beta,
                                    ok_reduction reduction, float *loss, float *grad)
    ok_status ok_smooth_l1_loss_f64(size_t n, const double *input, const double *target, double beta,
                                    ok_reduction reduction, double *loss, double *grad)
    ok_status ok_kl_div(ok_dtype dtype, size_t n, size_t batch, const void *input, const void *target,
                        int log_target, ok_reduction reduction, void *loss, void *grad)
    ok_status ok_kl_div_f32(size_t n, size_t batch, const float *input, const float *target, int log_target,
                            ok_reduction reduction, float *loss, float *grad)
    ok_status ok_kl_div_f64(size_t n, size_t batch, const double *input, const double *target, int log_target,
                            ok_reduction reduction, double *loss, double *grad)

    ctypedef struct ok_bcast:
        const void *data
        size_t block
        size_t period

    ok_status ok_binary_cross_entropy_with_logits(ok_dtype dtype, size_t n, const void *input, const void *target,
                                                  const ok_bcast *weight, const ok_bcast *pos_weight,
                                                  ok_reduction reduction, void *loss, void *grad)
    ok_status ok_binary_cross_entropy_with_logits_f32(size_t n, const float *input, const float *target,
                                                      const ok_bcast *weight, const ok_bcast *pos_weight,
                                                      ok_reduction reduction, float *loss, float *grad)
    ok_status ok_binary_cross_entropy_with_logits_f64(size_t n, const double *input, const double *target,
                                                      const ok_bcast *weight, const ok_bcast *pos_weight,
                                                      ok_reduction reduction, double *loss, double *grad)

    ctypedef struct ok_elementwise_options:
        const ok_bcast *weight
        const ok_bcast *pos_weight
        double param
        int flag
        size_t batch
        double eps
        int full
        const void *input2
        void *grad2

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
    ok_status ok_cross_entropy_f32(size_t n, size_t c, size_t inner, const float *logits, const void *target,
                                   ok_index_type target_type, const ok_cross_entropy_options *options,
                                   float *loss, float *grad)
    ok_status ok_cross_entropy_f64(size_t n, size_t c, size_t inner, const double *logits, const void *target,
                                   ok_index_type target_type, const ok_cross_entropy_options *options,
                                   double *loss, double *grad)
    ok_status ok_cross_entropy_probs(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits,
                                     const void *target, const ok_cross_entropy_options *options, void *loss,
                                     void *grad)
    ok_status ok_cross_entropy_probs_f32(size_t n, size_t c, size_t inner, const float *logits,
                                         const float *target, const ok_cross_entropy_options *options,
                                         float *loss, float *grad)
    ok_status ok_cross_entropy_probs_f64(size_t n, size_t c, size_t inner, const double *logits,
                                         const double *target, const ok_cross_entropy_options *options,
                                         double *loss, double *grad)
    ok_status ok_nll_loss(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *input, const void *target,
                          ok_index_type target_type, const void *weight, int64_t ignore_index,
                          ok_reduction reduction, void *loss, void *grad)
    ok_status ok_nll_loss_f32(size_t n, size_t c, size_t inner, const float *input, const void *target,
                              ok_index_type target_type, const float *weight, int64_t ignore_index,
                              ok_reduction reduction, float *loss, float *grad)
    ok_status ok_nll_loss_f64(size_t n, size_t c, size_t inner, const double *input, const void *target,
                              ok_index_type target_type, const double *weight, int64_t ignore_index,
                              ok_reduction reduction, double *loss, double *grad)
    ok_status ok_cosine_embedding_loss(ok_dtype dtype, size_t n, size_t d, const void *input1, const void *input2,
                                       const void *target, double margin, ok_reduction reduction, void *loss,
                                       void *grad1, void *grad2)
    ok_status ok_cosine_embedding_loss_f32(size_t n, size_t d, const float *input1, const float *input2,
                                           const float *target, double margin, ok_reduction reduction, float *loss,
                                           float *grad1, float *grad2)
    ok_status ok_cosine_embedding_loss_f64(size_t n, size_t d, const double *input1, const double *input2,
                                           const double *target, double margin, ok_reduction reduction,
                                           double *loss, double *grad1, double *grad2)
    ok_status ok_triplet_margin_loss(ok_dtype dtype, size_t n, size_t d, const void *anchor, const void *positive,
                                     const void *negative, double margin, double p, double eps, int swap,
                                     ok_reduction reduction, void *loss, void *grad_anchor, void *grad_positive,
                                     void *grad_negative)
    ok_status ok_triplet_margin_loss_f32(size_t n, size_t d, const float *anchor, const float *positive,
                                         const float *negative, double margin, double p, double eps, int swap,
                                         ok_reduction reduction, float *loss, float *grad_anchor,
                                         float *grad_positive, float *grad_negative)
    ok_status ok_triplet_margin_loss_f64(size_t n, size_t d, const double *anchor, const double *positive,
                                         const double *negative, double margin, double p, double eps, int swap,
                                         ok_reduction reduction, double *loss, double *grad_anchor,
                                         double *grad_positive, double *grad_negative)
    ok_status ok_multi_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                                   ok_index_type target_type, int p, double margin, const void *weight,
                                   ok_reduction reduction, void *loss, void *grad)
    ok_status ok_multi_margin_loss_f32(size_t n, size_t c, const float *input, const void *target,
                                       ok_index_type target_type, int p, double margin, const float *weight,
                                       ok_reduction reduction, float *loss, float *grad)
    ok_status ok_multi_margin_loss_f64(size_t n, size_t c, const double *input, const void *target,
                                       ok_index_type target_type, int p, double margin, const double *weight,
                                       ok_reduction reduction, double *loss, double *grad)
    ok_status ok_multilabel_soft_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input,
                                             const void *target, const void *weight, ok_reduction reduction,
                                             void *loss, void *grad)
    ok_status ok_multilabel_soft_margin_loss_f32(size_t n, size_t c, const float *input, const float *target,
                                                 const float *weight, ok_reduction reduction, float *loss,
                                                 float *grad)
    ok_status ok_multilabel_soft_margin_loss_f64(size_t n, size_t c, const double *input, const double *target,
                                                 const double *weight, ok_reduction reduction, double *loss,
                                                 double *grad)
    ok_status ok_ctc_loss(ok_dtype dtype, size_t t_max, size_t n, size_t c, const void *log_probs,
                          const int64_t *targets, size_t n_targets, size_t width, const int64_t *input_lengths,
                          const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction,
                          void *loss, void *grad)
    ok_status ok_ctc_loss_f32(size_t t_max, size_t n, size_t c, const float *log_probs, const int64_t *targets,
                              size_t n_targets, size_t width, const int64_t *input_lengths,
                              const int64_t *target_lengths, int64_t blank, int zero_infinity,
                              ok_reduction reduction, float *loss, float *grad)
    ok_status ok_ctc_loss_f64(size_t t_max, size_t n, size_t c, const double *log_probs, const int64_t *targets,
                              size_t n_targets, size_t width, const int64_t *input_lengths,
                              const int64_t *target_lengths, int64_t blank, int zero_infinity,
                              ok_reduction reduction, double *loss, double *grad)
    ok_status ok_multilabel_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                                        ok_index_type target_type, ok_reduction reduction, void *loss, void *grad)
    ok_status ok_multilabel_margin_loss_f32(size_t n, size_t c, const float *input, const void *target,
                                            ok_index_type target_type, ok_reduction reduction, float *loss,
                                            float *grad)
    ok_status ok_multilabel_margin_loss_f64(size_t n, size_t c, const double *input, const void *target,
                                            ok_index_type target_type, ok_reduction reduction, double *loss,
                                            double *grad)

    # optkern/vector.h
    ok_status ok_vec_dot(ok_dtype dtype, size_t count, const size_t *numel, const void **x, const void **y,
                         double *result)
    ok_status ok_vec_abs_sum(ok_dtype dtype, size_t count, const size_t *numel, const void **x, double *result)
    ok_status ok_vec_abs_max(ok_dtype dtype, size_t count, const size_t *numel, const void **x, double *result)
    ok_status ok_vec_axpby(ok_dtype dtype, size_t count, const size_t *numel, double alpha, const void **x,
                           double beta, void **y)

    # optkern/optkern_capi.h
    int OPTKERN_ABI_VERSION
    int OPTKERN_CAPI_COUNT

cdef extern from "optkern/optkern_capi.h":
    # 0, or -1 with an ImportError raised; a no-op in a module linked with
    # the library (OPTKERN_LINKED)
    int import_optkern() except -1
