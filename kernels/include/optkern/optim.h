/*
 * optkern optimizers: in-place multi-tensor updates with torch.optim's rules.
 *
 * Every update takes a LIST of tensors (count arrays of numel[i] elements,
 * given as arrays of pointers, one per stream) and one or more hyperparameter
 * sets; hp_index[i] picks the set of tensor i (hp_index may be NULL when
 * n_hp == 1). The whole list is one threaded pass, so a thousand small
 * tensors cost one call. Formulas: docs/optimizers.md, which follows
 * torch.optim 2.13; the per-element arithmetic runs in the array's dtype.
 *
 * Preconditions of every update, checked before anything is written
 * (count == 0 is a valid call that does nothing):
 *   OK_ERR_NULL_POINTER    the optimizer, hyperparameters, numel (or
 *                          shapes, or a shape's dims), dtypes or stream
 *                          list is NULL; a pointer a tensor needs is NULL
 *                          (its parameter and gradient where numel[i] > 0,
 *                          the states its set needs, every scalar state);
 *   OK_ERR_ALIGNMENT       the hyperparameters or an array not aligned to
 *                          its element type;
 *   OK_ERR_INDEX           n_hp == 0, or hp_index[i] >= n_hp;
 *   OK_ERR_HYPERPARAMETER  a set out of its ranges (torch's, listed per
 *                          field below; NaN is out of every range);
 *   OK_ERR_UNSUPPORTED     a dtype (or mix of dtypes) with no kernel;
 *   OK_ERR_SIZE            the parameters' byte counts, or a shape's, do
 *                          not fit in a ptrdiff_t;
 *   OK_ERR_ALIASING        within one tensor, a written stream overlaps
 *                          another;
 *   OK_ERR_NO_MEMORY       the bookkeeping of many sets or shaped tensors
 *                          could not be allocated.
 * Not checked (it costs a sort): overlaps BETWEEN different tensors;
 * ok_check_overlap below does that for callers who cannot vouch for it.
 *
 * Each OK_<NAME>_DEFAULTS is the defaults of the Python class of that name
 * (optkern.Adam, ...), set for a first step: step = 1 and first_step = 1
 * (tests/test_c_api.py compares them).
 */
#ifndef OPTKERN_OPTIM_H
#define OPTKERN_OPTIM_H

#include "optkern/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* torch.optim.SGD(lr, momentum, dampening, weight_decay, nesterov, maximize). */
typedef struct ok_sgd_hparams {
    double lr;           /* >= 0 */
    double momentum;     /* >= 0; 0 means no momentum buffer */
    double dampening;    /* any number but NaN; not applied on the first step */
    double weight_decay; /* >= 0, coupled: g += weight_decay * param */
    int nesterov;        /* requires momentum > 0 and dampening == 0 */
    int maximize;
    int first_step;      /* the buffer is empty: it becomes a copy of g */
} ok_sgd_hparams;

#define OK_SGD_DEFAULTS {1e-3, 0.0, 0.0, 0.0, 0, 0, 1}

/* torch.optim.Adam; AdamW is decoupled_weight_decay = 1. */
typedef struct ok_adam_hparams {
    double lr;           /* >= 0 */
    double beta1;        /* in [0, 1) */
    double beta2;        /* in [0, 1) */
    double eps;          /* >= 0 */
    double weight_decay; /* >= 0 */
    int64_t step;        /* >= 1: the number of this step (torch's state "step" after its increment) */
    int amsgrad;         /* needs max_exp_avg_sq */
    int maximize;
    int decoupled_weight_decay; /* param *= 1 - lr * weight_decay (AdamW) instead of g += weight_decay * param */
} ok_adam_hparams;

#define OK_ADAM_DEFAULTS {1e-3, 0.9, 0.999, 1e-8, 0.0, 1, 0, 0, 0}

/* torch.optim.RAdam: Adam's moments, the step rectified once the variance
 * estimate is long enough (docs/optimizers.md#radam). */
typedef struct ok_radam_hparams {
    double lr;           /* >= 0 */
    double beta1;        /* in [0, 1) */
    double beta2;        /* in [0, 1) */
    double eps;          /* >= 0 */
    double weight_decay; /* >= 0 */
    int64_t step;        /* >= 1: the number of this step (torch's state "step" after its increment) */
    int maximize;
    int decoupled_weight_decay; /* param *= 1 - lr * weight_decay instead of g += weight_decay * param */
} ok_radam_hparams;

#define OK_RADAM_DEFAULTS {1e-3, 0.9, 0.999, 1e-8, 0.0, 1, 0, 0}

/* torch.optim.Rprop: a step size per element that grows while the
 * gradient keeps its sign and shrinks when it flips (docs/optimizers.md#rprop). */
typedef struct ok_rprop_hparams {
    double lr;            /* >= 0: where every step size starts */
    double etaminus;      /* in (0, 1): the factor of a step size whose gradient flipped sign */
    double etaplus;       /* > 1: the factor of one whose gradient kept it */
    double step_size_min; /* the step sizes are clamped to [step_size_min, step_size_max] */
    double step_size_max; /* (as torch's clamp: step_size_max wins if they cross); neither NaN */
    int maximize;
    int first_step;       /* prev and step_size are empty: prev counts as 0, step_size as lr */
} ok_rprop_hparams;

#define OK_RPROP_DEFAULTS {1e-2, 0.5, 1.2, 1e-6, 50.0, 0, 1}

/* torch.optim.NAdam: Adam with Nesterov momentum, whose momentum factor
 * mu_t warms up with momentum_decay (docs/optimizers.md#nadam). Its state
 * mu_product, the product of the mu_t so far, is a scalar state: one float
 * per tensor (ok_optimizer_state_is_scalar). */
typedef struct ok_nadam_hparams {
    double lr;             /* >= 0 */
    double beta1;          /* in [0, 1) */
    double beta2;          /* in [0, 1) */
    double eps;            /* >= 0 */
    double weight_decay;   /* >= 0 */
    double momentum_decay; /* >= 0: mu_t = beta1 (1 - 0.96^(t momentum_decay) / 2) */
    int64_t step;          /* >= 1: the number of this step; at 1, mu_product starts at 1 unread */
    int maximize;
    int decoupled_weight_decay; /* param *= 1 - lr * weight_decay instead of g += weight_decay * param */
} ok_nadam_hparams;

#define OK_NADAM_DEFAULTS {2e-3, 0.9, 0.999, 1e-8, 0.0, 4e-3, 1, 0, 0}

/* torch.optim.ASGD: SGD with a decaying step eta and a running average ax
 * of the parameters (docs/optimizers.md#asgd). Its states eta and mu are
 * scalar states: one float per tensor (ok_optimizer_state_is_scalar). */
typedef struct ok_asgd_hparams {
    double lr;           /* >= 0 */
    double lambd;        /* the decay term: p *= 1 - lambd * eta; not NaN */
    double alpha;        /* eta = lr / (1 + lambd lr t)^alpha; not NaN */
    double t0;           /* averaging starts after step t0 (mu = 1 / max(1, t - t0)); not NaN */
    double weight_decay; /* >= 0, coupled: g += weight_decay * param */
    int64_t step;        /* >= 1: the number of this step; at 1, eta and mu start at lr and 1 unread */
    int maximize;
} ok_asgd_hparams;

#define OK_ASGD_DEFAULTS {1e-2, 1e-4, 0.75, 1e6, 0.0, 1, 0}

/* torch.optim.Adagrad; its initial_accumulator_value is where the caller
 * starts the `sum` state, which the update then only accumulates. */
typedef struct ok_adagrad_hparams {
    double lr;           /* >= 0 */
    double lr_decay;     /* >= 0: the step runs with lr / (1 + (step - 1) * lr_decay) */
    double weight_decay; /* >= 0, coupled: g += weight_decay * param */
    double eps;          /* >= 0 */
    int64_t step;        /* >= 1: the number of this step (torch's state "step" after its increment) */
    int maximize;
} ok_adagrad_hparams;

#define OK_ADAGRAD_DEFAULTS {1e-2, 0.0, 0.0, 1e-10, 1, 0}

/* torch.optim.RMSprop. Its state "step" is a count the update does not read. */
typedef struct ok_rmsprop_hparams {
    double lr;           /* >= 0 */
    double alpha;        /* >= 0: square_avg <- alpha * square_avg + (1 - alpha) * g^2 */
    double eps;          /* >= 0 */
    double weight_decay; /* >= 0, coupled: g += weight_decay * param */
    double momentum;     /* >= 0; 0 means no momentum buffer */
    int centered;        /* divides by the root of the variance estimate; needs grad_avg */
    int maximize;
} ok_rmsprop_hparams;

#define OK_RMSPROP_DEFAULTS {1e-2, 0.99, 1e-8, 0.0, 0.0, 0, 0}

/* torch.optim.Adadelta. Its state "step" is a count the update does not read. */
typedef struct ok_adadelta_hparams {
    double lr;           /* >= 0 */
    double rho;          /* in [0, 1] */
    double eps;          /* >= 0, inside both roots */
    double weight_decay; /* >= 0, coupled: g += weight_decay * param */
    int maximize;
} ok_adadelta_hparams;

#define OK_ADADELTA_DEFAULTS {1.0, 0.9, 1e-6, 0.0, 0}

/* torch.optim.Adamax. */
typedef struct ok_adamax_hparams {
    double lr;           /* >= 0 */
    double beta1;        /* in [0, 1) */
    double beta2;        /* in [0, 1) */
    double eps;          /* >= 0, inside the maximum */
    double weight_decay; /* >= 0, coupled: g += weight_decay * param */
    int64_t step;        /* >= 1: the number of this step (torch's state "step" after its increment) */
    int maximize;
} ok_adamax_hparams;

#define OK_ADAMAX_DEFAULTS {2e-3, 0.9, 0.999, 1e-8, 0.0, 1, 0}

/* torch.optim.Adafactor(lr, beta2_decay, eps=(eps1, eps2), d, weight_decay,
 * maximize). Its states follow the parameter's shape (row and column factors
 * of a matrix): run it with ok_optimizer_step_shaped below. */
typedef struct ok_adafactor_hparams {
    double lr;           /* >= 0 */
    double beta2_decay;  /* <= 0 */
    double eps1;         /* >= 0; ignored when eps1_machine is set */
    double eps2;         /* >= 0 */
    double d;            /* >= 1: the clipping threshold of RMS(update) */
    double weight_decay; /* >= 0, decoupled: param *= 1 - lr * weight_decay */
    int64_t step;        /* >= 1: the number of this step (torch's state "step" after its increment) */
    int maximize;
    int eps1_machine;    /* eps1 is the machine epsilon of each tensor's dtype (torch's eps1=None) */
} ok_adafactor_hparams;

#define OK_ADAFACTOR_DEFAULTS {1e-2, -0.8, 0.0, 1e-3, 1.0, 0.0, 1, 0, 1}

/*
 * torch.optim.Muon's elementwise work (docs/optimizers.md#muon), in two
 * stages around the Newton-Schulz orthogonalisation, which is matrix
 * products and the caller's (optkern's Python layer runs it with NumPy):
 *   stage 0:  b <- lerp(b, g, 1 - momentum);  u <- nesterov ? lerp(g, b, momentum) : b
 *   (caller)  u <- NS(u), in place
 *   stage 1:  p <- p * (1 - lr * weight_decay);  p <- p - lr * lr_ratio * u
 * b is the state "momentum_buffer", u the work array "update" (stage 0
 * writes it without reading it; stage 1 only reads it and needs no b).
 * Run it through ok_optimizer_step(ok_optimizer_find("muon"), ...).
 */
typedef struct ok_muon_hparams {
    double lr;           /* >= 0 */
    double weight_decay; /* >= 0, decoupled */
    double momentum;     /* >= 0 */
    double lr_ratio;     /* >= 0: torch's learning-rate adjustment for the matrix's shape */
    int nesterov;
    int stage;           /* 0 or 1 */
} ok_muon_hparams;

#define OK_MUON_DEFAULTS {1e-3, 0.1, 0.95, 1.0, 1, 0}

/*
 * Beyond torch.optim: Lion, Adan, AdEMAMix and ADOPT, each as its named
 * reference implementation computes it (docs/optimizers.md#beyond-torchoptim).
 * No typed entry points: run them through ok_optimizer_step with
 * ok_optimizer_find("lion"), "adan", "ademamix", "adopt".
 */

/* Lion (lion-pytorch's update_fn): p <- p (1 - lr wd) - lr sign(lerp(m, g, 1 - beta1));
 * m <- beta2 m + (1 - beta2) g. Its class's decoupled_weight_decay divides
 * weight_decay by the constructor's lr before it gets here. */
typedef struct ok_lion_hparams {
    double lr;           /* >= 0 */
    double beta1;        /* in [0, 1] */
    double beta2;        /* in [0, 1] */
    double weight_decay; /* >= 0: p *= 1 - lr * weight_decay */
} ok_lion_hparams;

#define OK_LION_DEFAULTS {1e-4, 0.9, 0.99, 0.0}

/* Adan (the official implementation's): three moments, of the gradient, of
 * its change since the last step and of the squared Nesterov estimate;
 * state neg_pre_grad holds -g of the last step. Its max_grad_norm is a
 * gradient scaling (ok_optimizer_step_scaled) the caller computes. */
typedef struct ok_adan_hparams {
    double lr;           /* >= 0 */
    double beta1;        /* in [0, 1) */
    double beta2;        /* in [0, 1) */
    double beta3;        /* in [0, 1) */
    double eps;          /* >= 0 */
    double weight_decay; /* >= 0 */
    int64_t step;        /* >= 1: the number of this step of the tensor's param group */
    int no_prox;         /* p *= 1 - lr wd before the update; 0: p /= 1 + lr wd after it */
    int first_step;      /* the states are empty: the moments count as 0, the gradient's change as 0 */
} ok_adan_hparams;

#define OK_ADAN_DEFAULTS {1e-3, 0.98, 0.92, 0.99, 1e-8, 0.0, 1, 0, 1}

/* AdEMAMix (pytorch-optimizer's): Adam's moments plus a slow average of
 * the gradient, exp_avg_slow, mixed into the step with weight alpha; alpha
 * and beta3 warm up over t_alpha_beta3 steps. */
typedef struct ok_ademamix_hparams {
    double lr;            /* >= 0 */
    double beta1;         /* in [0, 1) */
    double beta2;         /* in [0, 1) */
    double beta3;         /* in [0, 1] */
    double alpha;         /* >= 0 */
    double t_alpha_beta3; /* > 0: the warm-up's length in steps; 0: none (None) */
    double eps;           /* >= 0 */
    double weight_decay;  /* >= 0 */
    int64_t step;         /* >= 1: the number of this step of the tensor's param group */
    int weight_decouple;  /* p *= 1 - lr wd (1 - wd with fixed_decay); 0: g += wd p */
    int fixed_decay;
    int maximize;
} ok_ademamix_hparams;

#define OK_ADEMAMIX_DEFAULTS {1e-3, 0.9, 0.999, 0.9999, 5.0, 0.0, 1e-8, 0.0, 1, 0, 0, 0}

/* ADOPT (the official implementation's): the gradient normalised by the
 * root of the second moment of the steps before, clipped, then averaged;
 * the first step only starts the second moment. */
typedef struct ok_adopt_hparams {
    double lr;           /* >= 0 */
    double beta1;        /* in [0, 1) */
    double beta2;        /* in [0, 1) */
    double eps;          /* >= 0: the root is clamped to at least eps */
    double weight_decay; /* >= 0 */
    double clip;         /* >= 0: the normalised gradient is clamped to [-clip, clip] (clip_lambda(step - 1)) */
    int64_t step;        /* >= 1: the number of this step (torch's state "step" after its increment) */
    int clipped;         /* 0: no clamp (clip_lambda None) */
    int decouple;        /* p <- p - lr wd p; 0: g += wd p */
    int maximize;
} ok_adopt_hparams;

#define OK_ADOPT_DEFAULTS {1e-3, 0.9, 0.9999, 1e-6, 0.0, 0.0, 1, 1, 0, 0}

/*
 * Schedule-free SGD and AdamW, as facebookresearch's schedulefree package
 * computes them (docs/optimizers.md#schedule-free-sgd-and-adamw). The
 * parameter holds y = (1 - beta) z + beta x, where gradients are taken; z is
 * the state "z" and the average x is implied (beta: momentum, or beta1).
 * `mode` says what a call does:
 *   OK_SCHEDULEFREE_STEP  a step from the gradients, with ckp1 the weight of
 *                         this step's z in the average (the caller keeps the
 *                         running sums that give it, docs)
 *   OK_SCHEDULEFREE_TO_Y  train(): p <- lerp(p, z, 1 - beta), from x to y
 *   OK_SCHEDULEFREE_TO_X  eval():  p <- lerp(p, z, 1 - 1/beta), from y to x
 * A switch needs no state: z is passed in the gradient's stream, the one
 * stream a call only reads, and the other fields are checked but unused.
 * Run them through ok_optimizer_step(ok_optimizer_find("sgd_schedulefree"),
 * ...) and "adamw_schedulefree".
 */
enum { OK_SCHEDULEFREE_STEP = 0, OK_SCHEDULEFREE_TO_Y = 1, OK_SCHEDULEFREE_TO_X = 2 };

/* schedulefree.SGDScheduleFree. */
typedef struct ok_sgd_schedulefree_hparams {
    double lr;           /* >= 0: this step's (its warmup applied) */
    double momentum;     /* in (0, 1): beta */
    double weight_decay; /* >= 0, taken at y: g += weight_decay * y */
    double ckp1;         /* in [0, 1]: the weight of this step's z in the average */
    int first_step;      /* z is empty: it starts as a copy of the parameter */
    int64_t mode;        /* OK_SCHEDULEFREE_STEP, _TO_Y or _TO_X */
} ok_sgd_schedulefree_hparams;

#define OK_SGD_SCHEDULEFREE_DEFAULTS {1.0, 0.9, 0.0, 1.0, 1, OK_SCHEDULEFREE_STEP}

/* schedulefree.AdamWScheduleFree: its gradient normalised by the root of
 * exp_avg_sq, as Adam's. */
typedef struct ok_adamw_schedulefree_hparams {
    double lr;           /* >= 0: this step's (its warmup applied) */
    double beta1;        /* in (0, 1): beta */
    double beta2;        /* in [0, 1) */
    double eps;          /* >= 0 */
    double weight_decay; /* >= 0, taken at y: u += weight_decay * y */
    double ckp1;         /* in [0, 1]: the weight of this step's z in the average */
    int64_t step;        /* >= 1: the param group's step count after this step (exp_avg_sq's bias correction) */
    int first_step;      /* z and exp_avg_sq are empty: they start as a copy of the parameter and zeros */
    int64_t mode;        /* OK_SCHEDULEFREE_STEP, _TO_Y or _TO_X */
} ok_adamw_schedulefree_hparams;

#define OK_ADAMW_SCHEDULEFREE_DEFAULTS {2.5e-3, 0.9, 0.999, 1e-8, 0.0, 1.0, 1, 1, OK_SCHEDULEFREE_STEP}

/*
 * NVIDIA apex's FusedLAMB (docs/optimizers.md#lamb): Adam's moments of
 * gradients clipped to a global norm, and an update scaled per tensor by the
 * trust ratio |p| / |update|. G, the L2 norm of every gradient of the call
 * (all sets), and the per-tensor norms are sums the step takes itself,
 * bitwise the same for any thread count. Run it, and LARS below, through
 * ok_optimizer_step(ok_optimizer_find("lamb"), ...).
 */
typedef struct ok_lamb_hparams {
    double lr;            /* >= 0 */
    double beta1;         /* in [0, 1) */
    double beta2;         /* in [0, 1) */
    double eps;           /* >= 0 */
    double weight_decay;  /* >= 0 */
    double max_grad_norm; /* > 0: g <- g / (G / max_grad_norm) where G > max_grad_norm; INFINITY: never */
    int64_t step;         /* >= 1: the number of this step */
    int bias_correction;  /* divide m and v by 1 - beta^step */
    int adam_w_mode;      /* weight decay added to the update (1) or to the gradient (0) */
    int grad_averaging;   /* m <- beta1 m + (1 - beta1) g (1), or beta1 m + g (0) */
    int use_nvlamb;       /* the trust ratio also where weight_decay == 0 */
} ok_lamb_hparams;

#define OK_LAMB_DEFAULTS {1e-3, 0.9, 0.999, 1e-6, 0.01, 1.0, 1, 1, 1, 1, 0}

/*
 * LARS (You et al. 2017; pytorch_optimizer.LARS's arguments,
 * docs/optimizers.md#lars): torch's SGD step of the gradient scaled per
 * tensor by the trust ratio trust_coefficient |p| / (|g| + weight_decay |p|),
 * weight decay included. The norms are sums the step takes itself.
 */
typedef struct ok_lars_hparams {
    double lr;                /* >= 0 */
    double momentum;          /* in [0, 1); 0 means no momentum buffer */
    double dampening;         /* in [0, 1) */
    double weight_decay;      /* >= 0: g <- g + weight_decay * param, before the trust ratio */
    double trust_coefficient; /* >= 0 */
    int nesterov;
    int maximize;
    int exclude;              /* plain SGD: no trust ratio, no weight decay (biases, norms) */
} ok_lars_hparams;

#define OK_LARS_DEFAULTS {1e-3, 0.9, 0.0, 0.0, 1e-3, 0, 0, 0}

/*
 * Any mix of float32 and float64 tensors in one call: dtype[i] is the dtype
 * of tensor i (all of its arrays share it), the pointers point at arrays of
 * that type. momentum_buffer may be NULL when every set has momentum == 0;
 * max_exp_avg_sq when no set has amsgrad.
 */
ok_status ok_sgd(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                 const size_t *numel, const ok_dtype *dtype, void *const *param, const void *const *grad,
                 void *const *momentum_buffer);
ok_status ok_adam(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,
                  const size_t *numel, const ok_dtype *dtype, void *const *param, const void *const *grad,
                  void *const *exp_avg, void *const *exp_avg_sq, void *const *max_exp_avg_sq);

/* The same for a list of one dtype. */
ok_status ok_sgd_f32(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                     size_t count, const size_t *numel, float *const *param,
                     const float *const *grad, float *const *momentum_buffer);
ok_status ok_sgd_f64(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                     size_t count, const size_t *numel, double *const *param,
                     const double *const *grad, double *const *momentum_buffer);

ok_status ok_adam_f32(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                      size_t count, const size_t *numel, float *const *param,
                      const float *const *grad, float *const *exp_avg,
                      float *const *exp_avg_sq, float *const *max_exp_avg_sq);
ok_status ok_adam_f64(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index,
                      size_t count, const size_t *numel, double *const *param,
                      const double *const *grad, double *const *exp_avg,
                      double *const *exp_avg_sq, double *const *max_exp_avg_sq);

/* The other optimizers (RAdam, Rprop, NAdam, ASGD, Adagrad, RMSprop,
 * Adadelta, Adamax) have no typed entry points: pass their
 * ok_<name>_hparams to ok_optimizer_step (below) with the optimizer
 * ok_optimizer_find("radam"), ... */

/* Hyperparameter checks alone, as the updates do them (torch's messages are
 * the Python layer's business; these say only valid or not):
 * OK_SUCCESS, OK_ERR_HYPERPARAMETER, or OK_ERR_NULL_POINTER for NULL. */
ok_status ok_sgd_check(const ok_sgd_hparams *hp);
ok_status ok_adam_check(const ok_adam_hparams *hp);

/*
 * Optimizers described by data. Each optimizer of the library is an
 * ok_optimizer: its name ("sgd", "adam", "adafactor"), the fields of its
 * hyperparameter struct, its state arrays (and their shapes), which of them
 * a hyperparameter set needs, and its per-step coefficients. Bindings and generic callers drive every
 * optimizer through these; ok_sgd, ok_adam, ... above are the same updates
 * with typed arguments.
 */
typedef struct ok_optimizer ok_optimizer;

/* The member types of a hyperparameter struct. */
typedef enum ok_field_type {
    OK_FIELD_DOUBLE = 0, /* double */
    OK_FIELD_INT = 1,    /* int (flags: 0 or 1) */
    OK_FIELD_INT64 = 2   /* int64_t */
} ok_field_type;

/* One member of a hyperparameter struct: its name, type and offset. */
typedef struct ok_field {
    const char *name;
    ok_field_type type;
    size_t offset;
} ok_field;

/* The dtypes of one tensor's arrays: its parameter, its gradient, and its
 * states (all of them). A signature no kernel variant covers is
 * OK_ERR_UNSUPPORTED. The signatures with kernels (docs/precision.md):
 *   every array float32, or every array float64;
 *   float32 parameter and gradient, bfloat16 states;
 *   a bfloat16 parameter, its gradient bfloat16 or float32, its states
 *   bfloat16 or float32;
 *   a float16 parameter, its gradient float16 or float32, its states
 *   float16 or float32.
 * 16-bit arrays are widened to float32 as they are read, the update is
 * computed in float32 and each result is rounded once as it is stored. */
typedef struct ok_dtypes {
    ok_dtype param, grad, state;
} ok_dtypes;

/* The optimizers, by index (0 .. count - 1) or by name; NULL past the end
 * or for an unknown (or NULL) name. The accessors below take any pointer
 * and index: for a NULL optimizer or an index past the end they return
 * NULL, 0 or -1 (ok_optimizer_state_shape), never crash. */
size_t ok_optimizer_count(void);
const ok_optimizer *ok_optimizer_at(size_t i);
const ok_optimizer *ok_optimizer_find(const char *name);

const char *ok_optimizer_name(const ok_optimizer *opt);
/* sizeof its ok_<name>_hparams, and the members of that struct in order
 * (NULL for k >= the count). */
size_t ok_optimizer_hparams_size(const ok_optimizer *opt);
size_t ok_optimizer_field_count(const ok_optimizer *opt);
const ok_field *ok_optimizer_field(const ok_optimizer *opt, size_t k);
/* Its state arrays (torch's names), in stream order: the streams of a call
 * are the parameters, the gradients, then state 0, 1, ..., then work array
 * 0, 1, ... */
size_t ok_optimizer_state_count(const ok_optimizer *opt);
const char *ok_optimizer_state_name(const ok_optimizer *opt, size_t k);
/* 1 when state k is a scalar: one float (float32 whatever the tensor's
 * dtype, torch's 0-d state tensor) per tensor, which a step reads and then
 * overwrites, and which must be there even for an empty tensor (NAdam's
 * mu_product, ASGD's eta and mu); 0 for an array and past the end. */
int ok_optimizer_state_is_scalar(const ok_optimizer *opt, size_t k);

/* Its work arrays: arrays of the parameter's shape and dtype that a step
 * writes (and may read) but that are not the optimizer's state, to be kept
 * between steps. Only an optimizer whose step the caller completes between
 * two calls has any (Muon: "update"). */
size_t ok_optimizer_work_count(const ok_optimizer *opt);
const char *ok_optimizer_work_name(const ok_optimizer *opt, size_t k);

/* 1 when a step is one elementwise pass of its kernel body over every
 * element (most optimizers); 0 when it runs passes of its own, with
 * reductions between them (Adafactor, LAMB, LARS), and for NULL. */
int ok_optimizer_is_elementwise(const ok_optimizer *opt);
/*
 * How a state array's shape follows its parameter's. A parameter of
 * ndim >= 2 is a batch of matrices (..., rows, cols); one of ndim < 2 is a
 * vector. A state an ndim has none of is absent (its pointer is not read).
 */
typedef enum ok_state_shape {
    OK_STATE_PARAM = 0,  /* the parameter's shape */
    OK_STATE_VECTOR = 1, /* the parameter's shape, for ndim < 2 only */
    OK_STATE_ROWS = 2,   /* ndim >= 2 only: the parameter's shape with the last dim 1 (one per row) */
    OK_STATE_COLS = 3    /* ndim >= 2 only: the shape with the second-to-last dim 1 (one per column) */
} ok_state_shape;

/* The ok_state_shape of state k; -1 for k >= the count. */
int ok_optimizer_state_shape(const ok_optimizer *opt, size_t k);

/* Whether one hyperparameter set is valid: OK_SUCCESS or
 * OK_ERR_HYPERPARAMETER (OK_ERR_NULL_POINTER for a NULL argument). */
ok_status ok_optimizer_check(const ok_optimizer *opt, const void *hparams);
/* Bit k set: a tensor updated with this set needs state k (the others may
 * be NULL); bit state_count + j: work array j. 0 for a NULL or misaligned
 * argument; the set is not checked. */
unsigned ok_optimizer_required_states(const ok_optimizer *opt, const void *hparams);

/* The per-step coefficients a kernel reads for one checked set, derived in
 * double (coefficients_size bytes): what another backend's kernel (a GPU's)
 * takes to compute exactly this library's update. Errors, coeffs untouched:
 * OK_ERR_NULL_POINTER, OK_ERR_ALIGNMENT (hparams or coeffs not aligned to a
 * double), OK_ERR_HYPERPARAMETER. */
size_t ok_optimizer_coefficients_size(const ok_optimizer *opt);
ok_status ok_optimizer_coefficients(const ok_optimizer *opt, const void *hparams, void *coeffs);

/*
 * One update of any optimizer over a tensor list: hparams holds n_hp
 * hyperparameter structs of the optimizer (hparams_size bytes each),
 * dtypes[i] the dtypes of tensor i, and streams[s][i] stream s of tensor i
 * (s = 0 parameters, 1 gradients, 2 + k state k, 2 + state_count + j work
 * array j, stored like the states; such a list may be NULL when no set
 * needs it; a scalar state k points at one float). The preconditions above
 * are checked.
 */
ok_status ok_optimizer_step(const ok_optimizer *opt, const void *hparams, size_t n_hp, const uint32_t *hp_index,
                            size_t count, const size_t *numel, const ok_dtypes *dtypes,
                            void *const *const *streams);

/* A tensor's shape: ndim dims, row-major (the last varies fastest); its
 * element count is their product (1 for ndim = 0). */
typedef struct ok_shape {
    size_t ndim;
    const size_t *dims;
} ok_shape;

/*
 * ok_optimizer_step with each tensor's shape in place of its element count.
 * ok_optimizer_step takes every tensor as a vector of numel[i] elements; an
 * optimizer whose states follow the shape (ok_optimizer_state_shape:
 * Adafactor's row and column factors of a matrix) needs the shape. Stream
 * 2 + k of tensor i then holds state k's elements for shapes[i] (none where
 * the state is absent).
 */
ok_status ok_optimizer_step_shaped(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                   const uint32_t *hp_index, size_t count, const ok_shape *shapes,
                                   const ok_dtypes *dtypes, void *const *const *streams);

/*
 * What a step multiplies each gradient element by before its update: the
 * mixed-precision and clipping parts of a training step, folded into the
 * update so that the gradients are read once and never written
 * (docs/clipping.md#fused-into-the-step). Each element g becomes
 * g * unscale, then that times clip, each product rounded to the
 * gradient's dtype (the factor itself rounded to it first), and a factor of
 * exactly 1 is skipped: the result is bitwise that of multiplying the
 * gradients in place first (a GradScaler's unscale_, then
 * clip_grad_norm_'s scaling) and stepping after.
 *   unscale  1 / the loss scale (torch rounds it to float32); 1: none.
 *            Finite and > 0, else OK_ERR_HYPERPARAMETER.
 *   clip     the clipping factor min(max_norm / (norm + 1e-6), 1) of a
 *            norm the caller computed (ok_vec_dot, optkern/vector.h); 1:
 *            none. Any value (torch scales by a NaN factor too).
 */
typedef struct ok_grad_scaling {
    double unscale;
    double clip;
} ok_grad_scaling;

#define OK_GRAD_SCALING_NONE {1.0, 1.0}

/* ok_optimizer_step_shaped with the gradients scaled as `scaling` says
 * (NULL: not scaled); an unscale that is not finite and > 0 is
 * OK_ERR_HYPERPARAMETER. */
ok_status ok_optimizer_step_scaled(const ok_optimizer *opt, const void *hparams, size_t n_hp,
                                   const uint32_t *hp_index, size_t count, const ok_shape *shapes,
                                   const ok_dtypes *dtypes, void *const *const *streams,
                                   const ok_grad_scaling *scaling);

/*
 * What a step does besides its update: the gradient scaling above, float32
 * master weights and stochastic rounding (docs/precision.md).
 *   master         NULL, or one pointer per tensor (NULL entries: none):
 *                  the float32 copy of a bfloat16 or float16 parameter
 *                  (numel floats). The update reads and writes the copy
 *                  and stores its rounded value into the parameter, which
 *                  it does not read. A copy for a float32 or float64
 *                  parameter is OK_ERR_UNSUPPORTED, a misaligned one
 *                  OK_ERR_ALIGNMENT, one overlapping the tensor's other
 *                  arrays OK_ERR_ALIASING.
 *   rounding_key   NULL: every 16-bit store rounds to nearest even. Else
 *                  one key per tensor (ok_rounding_key): its bfloat16
 *                  stores (parameter and states) round stochastically,
 *                  with random bits that depend only on the key, the
 *                  element's index and the stream, so the result is the
 *                  same for any thread count and instruction set. float16
 *                  stores still round to nearest even.
 * An optimizer with neither (Adafactor's factored update) answers
 * OK_ERR_UNSUPPORTED to a call with either.
 */
typedef struct ok_step_options {
    ok_grad_scaling scaling;
    void *const *master;
    const uint64_t *rounding_key;
} ok_step_options;

#define OK_STEP_OPTIONS_DEFAULT {OK_GRAD_SCALING_NONE, NULL, NULL}

/* The stochastic rounding key of one tensor at one step: a hash of the
 * caller's seed, the step's number and the tensor's position, so that
 * every step and tensor draws different bits and a run is reproducible
 * from its seed. */
uint64_t ok_rounding_key(uint64_t seed, uint64_t step, uint64_t tensor);

/* ok_optimizer_step_shaped with `options` (NULL: OK_STEP_OPTIONS_DEFAULT). */
ok_status ok_optimizer_step_ex(const ok_optimizer *opt, const void *hparams, size_t n_hp, const uint32_t *hp_index,
                               size_t count, const ok_shape *shapes, const ok_dtypes *dtypes,
                               void *const *const *streams, const ok_step_options *options);

/*
 * 8-bit optimizer states (docs/precision.md#8-bit-states), as bitsandbytes
 * keeps them: a state of n elements is n uint8 codes and ceil(n / 256)
 * float32 scales, one per block of 256 elements; code c of a block with
 * scale a stands for map[c] * a, with the signed dynamic map for a first
 * state (state1) and the unsigned one for a second (state2).
 *
 * ok_optimizer_step_8bit runs the update of `opt` (adam, sgd, lion,
 * rmsprop, adagrad: ok_optimizer_find) with 8-bit states: per block, the
 * states are dequantised to float32, updated by opt's rule exactly as its
 * 32-bit kernel does, and quantised again, in one pass. streams has
 * OK_Q8_STREAM_COUNT lists: the parameters, the gradients, the codes of
 * state1 and of state2 (uint8_t, numel[i] each), the scales of state1 and
 * of state2 (float, ceil(numel[i] / 256) each); state2's lists are read
 * only by an optimizer with two states (Adam: exp_avg is state1,
 * exp_avg_sq state2; the others keep their one state as state1).
 * dtypes[i].param and .grad are those of ok_optimizer_step (float32,
 * bfloat16, float16; no float64), .state must be OK_FLOAT32 (the states'
 * precision between dequantising and quantising); options as
 * ok_optimizer_step_ex's. Each set of hp must need exactly the states the
 * 8-bit form keeps: amsgrad, SGD without momentum, centered RMSprop or
 * RMSprop with momentum is OK_ERR_UNSUPPORTED. The other preconditions and
 * their codes are those of every update (top of this file); the result is
 * bitwise the same for any thread count and instruction set.
 */
#define OK_Q8_BLOCK_SIZE 256
#define OK_Q8_STREAM_COUNT 6
ok_status ok_optimizer_step_8bit(const ok_optimizer *opt, const void *hparams, size_t n_hp, const uint32_t *hp_index,
                                 size_t count, const size_t *numel, const ok_dtypes *dtypes,
                                 void *const *const *streams, const ok_step_options *options);

/* The 256 sorted entries of the signed (unsigned_map = 0) or unsigned
 * dynamic map. */
const float *ok_q8_map(int unsigned_map);

/* Quantise n floats x into codes q (n) and scales absmax (ceil(n / 256)),
 * and back. OK_ERR_NULL_POINTER for a NULL array when n > 0,
 * OK_ERR_ALIGNMENT for misaligned floats, OK_ERR_ALIASING when an output
 * overlaps another array. */
ok_status ok_quantize_8bit(int unsigned_map, size_t n, const float *x, uint8_t *q, float *absmax);
ok_status ok_dequantize_8bit(int unsigned_map, size_t n, const uint8_t *q, const float *absmax, float *x);

/*
 * Overlap check for callers that assemble arrays from untrusted places.
 * spans[k] is the byte range [begin, end) of one array; an overlap between
 * two spans is an error when at least one of them is written. The spans are
 * sorted in place (an empty span, end <= begin, overlaps nothing). On
 * OK_ERR_ALIASING, *first and *second receive the ids of one offending pair
 * (either may be NULL); OK_ERR_NULL_POINTER for spans NULL with n > 0.
 */
typedef struct ok_span {
    uintptr_t begin;
    uintptr_t end;
    size_t id;
    int written;
} ok_span;

ok_status ok_check_overlap(ok_span *spans, size_t n, size_t *first, size_t *second);

#ifdef __cplusplus
}
#endif

#endif /* OPTKERN_OPTIM_H */
