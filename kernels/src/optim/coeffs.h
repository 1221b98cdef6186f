/*
 * Per-step coefficients of the optimizer kernels: everything that depends
 * only on hyperparameters and the step count, computed once per call in
 * double by optim.c (the host side) so that the kernels do per-element work
 * only. Kernels round them to the array's dtype.
 */
#ifndef OPTKERN_OPTIM_COEFFS_H
#define OPTKERN_OPTIM_COEFFS_H

enum { OK_WD_NONE = 0, OK_WD_COUPLED = 1, OK_WD_DECOUPLED = 2 };

typedef struct ok_sgd_coeffs {
    double lr, momentum, one_minus_dampening, weight_decay;
    int maximize, has_weight_decay, has_momentum, nesterov, first_step;
} ok_sgd_coeffs;

typedef struct ok_adam_coeffs {
    double lerp_weight;           /* 1 - beta1 */
    double beta2, one_minus_beta2;
    double eps;
    double weight_decay;          /* coupled: g += weight_decay * param */
    double decay;                 /* decoupled: param *= 1 - lr * weight_decay */
    double step_size;             /* lr / (1 - beta1^t) */
    double inv_bias_correction2_sqrt; /* 1 / sqrt(1 - beta2^t) */
    int maximize, amsgrad, wd_mode;
} ok_adam_coeffs;

/* Room for any one set: optim.c keeps a few on the stack. */
typedef union ok_any_coeffs {
    ok_sgd_coeffs sgd;
    ok_adam_coeffs adam;
} ok_any_coeffs;

/* Stream order of each optimizer's task (param first; written streams
 * before read-only ones). */
enum { OK_SGD_PARAM = 0, OK_SGD_BUF = 1, OK_SGD_GRAD = 2 };
enum { OK_ADAM_PARAM = 0, OK_ADAM_EXP_AVG = 1, OK_ADAM_EXP_AVG_SQ = 2, OK_ADAM_MAX_EXP_AVG_SQ = 3, OK_ADAM_GRAD = 4 };

#endif /* OPTKERN_OPTIM_COEFFS_H */
