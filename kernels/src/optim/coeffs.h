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
    double lerp_coeff;            /* see lerp_from_grad */
    double beta2, one_minus_beta2;
    double eps;
    double weight_decay;          /* coupled: g += weight_decay * param */
    double decay;                 /* decoupled: param *= 1 - lr * weight_decay */
    double step_size;             /* lr / (1 - beta1^t) */
    double inv_bias_correction2_sqrt; /* 1 / sqrt(1 - beta2^t) */
    int maximize, amsgrad, wd_mode;
    /* m <- lerp(m, g, w), w = 1 - beta1, as torch's lerp: m + w(g - m) when
     * w < 0.5 (lerp_coeff = w), else g - (1 - w)(g - m) (lerp_coeff = w - 1),
     * which is exact at w = 1 (beta1 = 0: m becomes g). */
    int lerp_from_grad;
} ok_adam_coeffs;

/* Room for any one set: optim.c keeps a few on the stack. */
typedef union ok_any_coeffs {
    ok_sgd_coeffs sgd;
    ok_adam_coeffs adam;
} ok_any_coeffs;

/* Stream order of every optimizer's task, as the Python binding gathers
 * them too: the parameter, its gradient (the one stream only read), then
 * the states in the order of the C entry point's arguments. */
enum { OK_OPT_PARAM = 0, OK_OPT_GRAD = 1, OK_OPT_STATE = 2 };
enum { OK_SGD_BUF = OK_OPT_STATE };
enum { OK_ADAM_EXP_AVG = OK_OPT_STATE, OK_ADAM_EXP_AVG_SQ, OK_ADAM_MAX_EXP_AVG_SQ };

#endif /* OPTKERN_OPTIM_COEFFS_H */
