/*
 * optkern losses: the loss value AND its gradient with respect to the input
 * (prediction or logits), in one fused, threaded pass per call. Every
 * formula, reduction and edge case is specified in docs/losses.md.
 *
 * Names, arguments, reductions and numbers follow torch.nn.functional 2.13;
 * the gradient is what torch.autograd gives for loss.backward(), and for
 * OK_REDUCTION_NONE the gradient of the sum of the per-element (or per-row)
 * losses. Sums are accumulated in double and are bitwise the same for any
 * thread count (docs/losses.md#reductions-and-accumulation).
 *
 * Each loss has one entry point taking the arrays' dtype (every array of a
 * call but class targets and losses has that dtype; the void pointers point
 * at arrays of it), and two typed ones, _f32 and _f64, that are that entry
 * point with OK_FLOAT32 or OK_FLOAT64. OK_BFLOAT16 and OK_FLOAT16 arrays
 * are computed in float32, their gradient rounded once to their dtype
 * (docs/precision.md#losses-in-16-bits). Every elementwise loss also runs by its torch
 * name through ok_elementwise_loss (what the others of its kind wrap).
 *
 * Outputs, for every loss:
 *   loss  OK_REDUCTION_NONE: one value per element (elementwise losses) or
 *         per sample (row losses); otherwise one value, the reduced loss.
 *         double for OK_FLOAT64 arrays, float for the others.
 *   grad  shaped like the input. It may be the input array itself (the
 *         input is then overwritten by its gradient) but must not otherwise
 *         overlap any array the call reads.
 *
 * Preconditions checked, in this order (nothing is written when one fails):
 *   OK_ERR_HYPERPARAMETER  a reduction or hyperparameter out of its range
 *                          (torch's: delta > 0, beta >= 0, label smoothing
 *                          in [0, 1]; optkern's: z_loss >= 0, softcap >= 0,
 *                          both finite; an ok_bcast's block and period >= 1;
 *                          an unknown ok_index_type);
 *   OK_ERR_UNSUPPORTED     dtype is not a float dtype optkern has kernels for;
 *   OK_ERR_SIZE            a count whose byte count does not fit in a
 *                          ptrdiff_t (n, n * c * inner, a weight's c or
 *                          an ok_bcast's period);
 *   OK_ERR_NULL_POINTER    a required pointer is NULL (pointers to zero
 *                          elements may be NULL, and with OK_REDUCTION_NONE
 *                          and no element or sample, loss too);
 *   OK_ERR_ALIGNMENT       an array not aligned to its element type (class
 *                          targets: to their index type);
 *   OK_ERR_ALIASING        grad partially overlaps the input, or overlaps
 *                          another array; loss overlaps any array;
 *   OK_ERR_INDEX           a class target outside [0, C) that is not
 *                          ignore_index (found before anything is written).
 */
#ifndef OPTKERN_LOSSES_H
#define OPTKERN_LOSSES_H

#include "optkern/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ok_reduction {
    OK_REDUCTION_NONE = 0,     /* no reduction: per-element (per-sample) losses */
    OK_REDUCTION_MEAN = 1,     /* the mean (see each loss for its denominator) */
    OK_REDUCTION_SUM = 2,      /* the sum */
    OK_REDUCTION_BATCHMEAN = 3 /* kl_div only: the sum divided by the batch size */
} ok_reduction;

/* ------------------------------------------------------------ elementwise */
/* n elements; input, target (and weight, when given) of n elements each. */

/*
 * mse_loss (docs/losses.md#regression-losses): w (x - y)^2, gradient
 * 2 w (x - y). weight (torch 2.13's, may be NULL: ones) multiplies each
 * element's loss, and MEAN divides by the sum of the weights instead of n.
 * Reductions NONE, MEAN, SUM.
 */
ok_status ok_mse_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                      ok_reduction reduction, void *loss, void *grad);
ok_status ok_mse_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                          ok_reduction reduction, float *loss, float *grad);
ok_status ok_mse_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                          ok_reduction reduction, double *loss, double *grad);

/* l1_loss (docs/losses.md#regression-losses): w |x - y|, gradient
 * w sign(x - y) (0 at x = y and where x - y is NaN); weight as for
 * mse_loss. */
ok_status ok_l1_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                     ok_reduction reduction, void *loss, void *grad);
ok_status ok_l1_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                         ok_reduction reduction, float *loss, float *grad);
ok_status ok_l1_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                         ok_reduction reduction, double *loss, double *grad);

/* huber_loss (docs/losses.md#regression-losses): (x-y)^2/2 where
 * |x - y| < delta, else delta (|x - y| - delta/2); delta > 0, else
 * OK_ERR_HYPERPARAMETER. weight (may be NULL) multiplies each element's
 * loss; MEAN still divides by n (torch 2.13's rule for huber_loss). */
ok_status ok_huber_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                        double delta, ok_reduction reduction, void *loss, void *grad);
ok_status ok_huber_loss_f32(size_t n, const float *input, const float *target, const float *weight,
                            double delta, ok_reduction reduction, float *loss, float *grad);
ok_status ok_huber_loss_f64(size_t n, const double *input, const double *target, const double *weight,
                            double delta, ok_reduction reduction, double *loss, double *grad);

/* smooth_l1_loss (docs/losses.md#regression-losses): huber_loss(delta =
 * beta) / beta; beta >= 0, else OK_ERR_HYPERPARAMETER, and beta = 0 is
 * l1_loss. */
ok_status ok_smooth_l1_loss(ok_dtype dtype, size_t n, const void *input, const void *target, double beta,
                            ok_reduction reduction, void *loss, void *grad);
ok_status ok_smooth_l1_loss_f32(size_t n, const float *input, const float *target, double beta,
                                ok_reduction reduction, float *loss, float *grad);
ok_status ok_smooth_l1_loss_f64(size_t n, const double *input, const double *target, double beta,
                                ok_reduction reduction, double *loss, double *grad);

/* kl_div (docs/losses.md#kl_div): y (log y - x), 0 where y = 0 (torch:
 * xlogy(y, y) - y x); with log_target, e^y (y - x). Gradient -y (-e^y).
 * MEAN divides by n, BATCHMEAN (this loss's only) by `batch` (the input's
 * first dimension; torch uses 1 for a 0-d input). */
ok_status ok_kl_div(ok_dtype dtype, size_t n, size_t batch, const void *input, const void *target, int log_target,
                    ok_reduction reduction, void *loss, void *grad);
ok_status ok_kl_div_f32(size_t n, size_t batch, const float *input, const float *target, int log_target,
                        ok_reduction reduction, float *loss, float *grad);
ok_status ok_kl_div_f64(size_t n, size_t batch, const double *input, const double *target, int log_target,
                        ok_reduction reduction, double *loss, double *grad);

/*
 * An array broadcast against the input of an elementwise loss: element i of
 * the input pairs with data[(i / block) % period] (data in the loss's dtype;
 * NULL: absent). A per-class weight of shape (C,) against an (N, C) input is
 * {w, 1, C}; a per-sample weight of shape (N, 1) is {w, C, N}; a full-shape
 * one {w, 1, n}. block and period must be >= 1.
 */
typedef struct ok_bcast {
    const void *data;
    size_t block;
    size_t period;
} ok_bcast;

/* binary_cross_entropy_with_logits
 * (docs/losses.md#binary_cross_entropy_with_logits):
 * -w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed as
 * w [(1 - y) x + (1 + (p - 1) y) softplus(-x)]; gradient
 * w [sigmoid(x) (1 + (p - 1) y) - p y]. weight w and pos_weight p may be
 * NULL (or have NULL data: all ones). MEAN divides by n. */
ok_status ok_binary_cross_entropy_with_logits(ok_dtype dtype, size_t n, const void *input, const void *target,
                                              const ok_bcast *weight, const ok_bcast *pos_weight,
                                              ok_reduction reduction, void *loss, void *grad);
ok_status ok_binary_cross_entropy_with_logits_f32(size_t n, const float *input, const float *target,
                                                  const ok_bcast *weight, const ok_bcast *pos_weight,
                                                  ok_reduction reduction, float *loss, float *grad);
ok_status ok_binary_cross_entropy_with_logits_f64(size_t n, const double *input, const double *target,
                                                  const ok_bcast *weight, const ok_bcast *pos_weight,
                                                  ok_reduction reduction, double *loss, double *grad);

/*
 * Every elementwise loss through one entry point, by its torch name:
 * "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "kl_div",
 * "binary_cross_entropy_with_logits" (each also an entry point above), and
 * "binary_cross_entropy", "poisson_nll_loss", "gaussian_nll_loss",
 * "hinge_embedding_loss", "soft_margin_loss", "margin_ranking_loss" (this
 * one only), with its arguments beyond the arrays and the reduction as
 * options (NULL: OK_ELEMENTWISE_DEFAULTS, none given). ok_mse_loss, ... are
 * this function with those options; the results are the same bitwise. There
 * are no _f32/_f64 variants. Formulas: docs/losses.md.
 *
 * gaussian_nll_loss (var) and margin_ranking_loss (input2) have a second
 * input of n elements, with its gradient: options->input2 and grad2, which
 * may be the same array (as grad may be input) and may not otherwise
 * overlap any array. gaussian_nll_loss's var is of the input's shape (its
 * broadcast forms are expanded by the caller).
 *
 * Errors, checked before the common ones above (nothing is written):
 *   OK_ERR_NULL_POINTER    name is NULL; input2 or grad2 NULL for a loss
 *                          that takes them (n > 0);
 *   OK_ERR_UNSUPPORTED     name is none of the names above;
 *   OK_ERR_HYPERPARAMETER  an option the loss does not take is given: a
 *                          weight or pos_weight with data, a param, flag,
 *                          batch, eps or full other than 0, an input2 or
 *                          grad2; a weight of mse_loss or l1_loss other than
 *                          {w, 1, n} (its 'mean' divides by the sum of the n
 *                          weights); a margin or eps that is not finite.
 *                          Options a loss takes are checked as its entry
 *                          point checks them (so huber_loss without param,
 *                          delta = 0, is refused);
 *   OK_ERR_DOMAIN          binary_cross_entropy: an input or target value
 *                          outside [0, 1] (or NaN); gaussian_nll_loss: a
 *                          negative var (NaN is allowed, as in torch).
 */
typedef struct ok_elementwise_options {
    const ok_bcast *weight;     /* mse_loss, l1_loss (full-shape only:
                                   {w, 1, n}), huber_loss (any broadcast),
                                   binary_cross_entropy(_with_logits); NULL,
                                   or NULL data: ones */
    const ok_bcast *pos_weight; /* binary_cross_entropy_with_logits; NULL, or
                                   NULL data: ones */
    double param;               /* huber_loss's delta, smooth_l1_loss's beta,
                                   hinge_embedding_loss's and
                                   margin_ranking_loss's margin */
    int flag;                   /* kl_div's log_target, poisson_nll_loss's
                                   log_input (nonzero: true) */
    size_t batch;               /* kl_div's BATCHMEAN divisor */
    double eps;                 /* poisson_nll_loss's and gaussian_nll_loss's eps */
    int full;                   /* poisson_nll_loss's and gaussian_nll_loss's
                                   full (nonzero: true) */
    const void *input2;         /* gaussian_nll_loss's var, margin_ranking_loss's
                                   input2: n elements of the dtype */
    void *grad2;                /* input2's gradient: n elements */
} ok_elementwise_options;

#define OK_ELEMENTWISE_DEFAULTS {NULL, NULL, 0.0, 0, 0, 0.0, 0, NULL, NULL}

ok_status ok_elementwise_loss(const char *name, ok_dtype dtype, size_t n, const void *input, const void *target,
                              const ok_elementwise_options *options, ok_reduction reduction, void *loss,
                              void *grad);

/* --------------------------------------------------------------- row-wise */
/*
 * Logits (or log-probabilities) of shape n x c x inner, the class axis in the
 * middle: (N, C) is inner = 1, torch's (N, C, d1, ...) is inner = d1 * ...
 * There are n * inner samples; class targets hold one index per sample
 * (shape n x inner), probability targets the logits' shape. Reductions
 * NONE, MEAN, SUM.
 */

typedef enum ok_index_type {
    OK_INDEX_INT64 = 0,
    OK_INDEX_INT32 = 1
} ok_index_type;

typedef struct ok_cross_entropy_options {
    const void *weight;     /* c class weights in the logits' dtype, or NULL */
    int64_t ignore_index;   /* class targets: samples with this target count for nothing */
    double label_smoothing; /* epsilon in [0, 1] */
    double z_loss;          /* >= 0: adds z_loss w_y lse^2 per sample (PaLM; w_y: see below) */
    double softcap;         /* 0: none; > 0: logits become softcap * tanh(x / softcap) (Gemma 2) */
    ok_reduction reduction; /* NONE, MEAN or SUM */
} ok_cross_entropy_options;

#define OK_CROSS_ENTROPY_DEFAULTS {NULL, -100, 0.0, 0.0, 0.0, OK_REDUCTION_MEAN}

/*
 * Cross-entropy with class-index targets (docs/losses.md#cross_entropy;
 * torch.nn.functional.cross_entropy), target of n * inner int64 or int32
 * indices as target_type says; options NULL: OK_CROSS_ENTROPY_DEFAULTS.
 *   loss_i = w_{y_i} [(1 - eps) (lse_i - x_{i,y_i}) + z lse_i^2]
 *            + (eps / c) sum_k w_k (lse_i - x_{i,k})
 * with lse_i = log sum_k exp(x_{i,k}). MEAN divides by the sum of w_{y_i}
 * over the samples not ignored (NaN when every sample is ignored). Ignored
 * samples get loss 0 and an exactly zero gradient (with inner = 1 their
 * logits are not even read; torch's gradient there is NaN when they hold
 * NaN). The logits are read twice; grad may be the logits themselves.
 * A target neither in [0, c) nor ignore_index: OK_ERR_INDEX.
 */
ok_status ok_cross_entropy(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits, const void *target,
                           ok_index_type target_type, const ok_cross_entropy_options *options, void *loss,
                           void *grad);
ok_status ok_cross_entropy_f32(size_t n, size_t c, size_t inner, const float *logits, const void *target,
                               ok_index_type target_type, const ok_cross_entropy_options *options,
                               float *loss, float *grad);
ok_status ok_cross_entropy_f64(size_t n, size_t c, size_t inner, const double *logits, const void *target,
                               ok_index_type target_type, const ok_cross_entropy_options *options,
                               double *loss, double *grad);

/*
 * Cross-entropy with probability targets t (docs/losses.md#cross_entropy;
 * the logits' shape and dtype):
 *   loss_i = -sum_k w_k t'_{i,k} log_softmax(x_i)_k + z lse_i^2,
 *   t' = (1 - eps) t + eps / c.
 * MEAN divides by the number of samples n * inner; ignore_index is unused.
 * With no element (n = 0 or c = 0), as torch: each sample's loss is -0 (an
 * empty sum, negated; +inf with z-loss, lse being -inf), SUM is -0 and
 * MEAN is NaN.
 */
ok_status ok_cross_entropy_probs(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits,
                                 const void *target, const ok_cross_entropy_options *options, void *loss,
                                 void *grad);
ok_status ok_cross_entropy_probs_f32(size_t n, size_t c, size_t inner, const float *logits, const float *target,
                                     const ok_cross_entropy_options *options, float *loss, float *grad);
ok_status ok_cross_entropy_probs_f64(size_t n, size_t c, size_t inner, const double *logits,
                                     const double *target, const ok_cross_entropy_options *options,
                                     double *loss, double *grad);

/* nll_loss (docs/losses.md#nll_loss): -w_{y_i} x_{i,y_i} on
 * log-probabilities x, with cross_entropy's targets, weight (NULL: ones),
 * ignore_index, MEAN denominator and OK_ERR_INDEX. */
ok_status ok_nll_loss(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *input, const void *target,
                      ok_index_type target_type, const void *weight, int64_t ignore_index, ok_reduction reduction,
                      void *loss, void *grad);
ok_status ok_nll_loss_f32(size_t n, size_t c, size_t inner, const float *input, const void *target,
                          ok_index_type target_type, const float *weight, int64_t ignore_index,
                          ok_reduction reduction, float *loss, float *grad);
ok_status ok_nll_loss_f64(size_t n, size_t c, size_t inner, const double *input, const void *target,
                          ok_index_type target_type, const double *weight, int64_t ignore_index,
                          ok_reduction reduction, double *loss, double *grad);

/* ------------------------------------------------------------ pair losses */
/*
 * Losses of n samples, each a row of d features of every input (torch's
 * (N, D) inputs; a (D,) input is n = 1), with the gradient of each input
 * (grad1, grad2, ...: shaped like it; each may be its own input, none may
 * overlap another array). Reductions NONE (one loss per sample), MEAN
 * (divided by n; NaN for n = 0), SUM.
 */

/*
 * cosine_embedding_loss (docs/losses.md#cosine_embedding_loss), target of n
 * values in the inputs' dtype: with cos the cosine of the two rows, each
 * squared norm plus torch's EPSILON (a float 1e-12), loss 1 - cos where the
 * target is 1, max(0, cos - margin) where it is -1, 0 for any other target.
 */
ok_status ok_cosine_embedding_loss(ok_dtype dtype, size_t n, size_t d, const void *input1, const void *input2,
                                   const void *target, double margin, ok_reduction reduction, void *loss,
                                   void *grad1, void *grad2);
ok_status ok_cosine_embedding_loss_f32(size_t n, size_t d, const float *input1, const float *input2,
                                       const float *target, double margin, ok_reduction reduction, float *loss,
                                       float *grad1, float *grad2);
ok_status ok_cosine_embedding_loss_f64(size_t n, size_t d, const double *input1, const double *input2,
                                       const double *target, double margin, ok_reduction reduction, double *loss,
                                       double *grad1, double *grad2);

/*
 * triplet_margin_loss (docs/losses.md#triplet_margin_loss): max(0, margin +
 * d(a, p) - d(a, n)) with d(x, y) = |x - y + eps|_p over a row, and with
 * swap d(a, n) replaced by min(d(a, n), d(p, n)). margin > 0 (torch's) and
 * p > 0 finite (optkern's: torch also takes p <= 0 and inf), else
 * OK_ERR_HYPERPARAMETER.
 */
ok_status ok_triplet_margin_loss(ok_dtype dtype, size_t n, size_t d, const void *anchor, const void *positive,
                                 const void *negative, double margin, double p, double eps, int swap,
                                 ok_reduction reduction, void *loss, void *grad_anchor, void *grad_positive,
                                 void *grad_negative);
ok_status ok_triplet_margin_loss_f32(size_t n, size_t d, const float *anchor, const float *positive,
                                     const float *negative, double margin, double p, double eps, int swap,
                                     ok_reduction reduction, float *loss, float *grad_anchor, float *grad_positive,
                                     float *grad_negative);
ok_status ok_triplet_margin_loss_f64(size_t n, size_t d, const double *anchor, const double *positive,
                                     const double *negative, double margin, double p, double eps, int swap,
                                     ok_reduction reduction, double *loss, double *grad_anchor,
                                     double *grad_positive, double *grad_negative);

/*
 * multi_margin_loss (docs/losses.md#multi_margin_loss;
 * torch.nn.functional.multi_margin_loss): scores of shape n x c, one class
 * target per sample (n int64 or int32 indices, as target_type says),
 *   loss_i = w_{y_i} sum_{k != y_i} max(0, margin - x_{i,y_i} + x_{i,k})^p / c
 * with p 1 or 2 (else OK_ERR_HYPERPARAMETER) and weight c class weights
 * (NULL: ones). MEAN divides by n (NaN for n = 0). A target outside
 * [0, c): OK_ERR_INDEX. grad may be the input itself.
 */
ok_status ok_multi_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                               ok_index_type target_type, int p, double margin, const void *weight,
                               ok_reduction reduction, void *loss, void *grad);
ok_status ok_multi_margin_loss_f32(size_t n, size_t c, const float *input, const void *target,
                                   ok_index_type target_type, int p, double margin, const float *weight,
                                   ok_reduction reduction, float *loss, float *grad);
ok_status ok_multi_margin_loss_f64(size_t n, size_t c, const double *input, const void *target,
                                   ok_index_type target_type, int p, double margin, const double *weight,
                                   ok_reduction reduction, double *loss, double *grad);

/*
 * multilabel_soft_margin_loss (docs/losses.md#multilabel_soft_margin_loss;
 * torch.nn.functional.multilabel_soft_margin_loss): logits and labels
 * (floats, usually 0 or 1) of shape n x c, in the input's dtype,
 *   loss_i = -sum_k w_k [y_{i,k} log sigmoid(x_{i,k})
 *                        + (1 - y_{i,k}) log sigmoid(-x_{i,k})] / c,
 * in its stable form; weight c class weights (NULL: ones). MEAN divides
 * by n (NaN for n = 0); c = 0 makes each loss 0 / 0 = NaN, as torch.
 * grad may be the input itself.
 */
ok_status ok_multilabel_soft_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                                         const void *weight, ok_reduction reduction, void *loss, void *grad);
ok_status ok_multilabel_soft_margin_loss_f32(size_t n, size_t c, const float *input, const float *target,
                                             const float *weight, ok_reduction reduction, float *loss, float *grad);
ok_status ok_multilabel_soft_margin_loss_f64(size_t n, size_t c, const double *input, const double *target,
                                             const double *weight, ok_reduction reduction, double *loss,
                                             double *grad);

/*
 * multilabel_margin_loss (docs/losses.md#multilabel_margin_loss;
 * torch.nn.functional.multilabel_margin_loss): scores of shape n x c and
 * class targets of the same shape (int64 or int32, as target_type says),
 * each row's targets the entries before its first -1,
 *   loss_i = sum_{targets j} sum_{non-targets k} max(0, 1 - x_{i,j} + x_{i,k}) / c
 * (a duplicated target counted each time). Every target entry must be in
 * [-1, c), also past the first -1: OK_ERR_INDEX otherwise, nothing written.
 * MEAN divides by n (NaN for n = 0). grad may be the input itself (then
 * the input is copied to host scratch: OK_ERR_NO_MEMORY if that fails).
 */
ok_status ok_multilabel_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                                    ok_index_type target_type, ok_reduction reduction, void *loss, void *grad);
ok_status ok_multilabel_margin_loss_f32(size_t n, size_t c, const float *input, const void *target,
                                        ok_index_type target_type, ok_reduction reduction, float *loss,
                                        float *grad);
ok_status ok_multilabel_margin_loss_f64(size_t n, size_t c, const double *input, const void *target,
                                        ok_index_type target_type, ok_reduction reduction, double *loss,
                                        double *grad);

/* ------------------------------------------------------------------- CTC */
/*
 * ctc_loss (docs/losses.md#ctc_loss; torch.nn.functional.ctc_loss): the
 * connectionist temporal classification loss of log-probabilities
 * log_probs of t_max x n x c (time, batch, classes; float32 or float64
 * only, else OK_ERR_UNSUPPORTED) for n target sequences, and its gradient
 * with respect to log_probs, as torch's CPU backward gives it:
 *   loss_b = -log sum over the alignments of targets_b of prod_t p_t,
 *   grad[t][b][c] = r_b (exp(lp) - sum_{s: l'_s = c} exp(alpha_t(s) + beta_t(s) + loss_b))
 * for t < input_lengths[b], 0 after (the exp(lp) term assumes lp is a
 * log-softmax, as torch's formula does). Targets are int64: padded, n rows
 * of `width` (width > 0; n_targets = n width; row b's first
 * target_lengths[b] entries count), or concatenated (width = 0; the
 * lengths sum to n_targets). blank in [0, c). zero_infinity (nonzero):
 * an infinite loss (no alignment of the target fits the input) becomes 0
 * and its gradient 0; without it the loss is +inf and the gradient of its
 * first input_lengths[b] rows NaN (torch's). Reductions NONE (n losses),
 * SUM, and MEAN: the mean over b of loss_b / max(target_lengths[b], 1);
 * r_b is that factor (1 for NONE and SUM). The recursion runs in double,
 * each sequence in one thread; scratch of about
 * 8 (input length + 5) (2 target length + 18) bytes per sequence is
 * allocated per call (OK_ERR_NO_MEMORY when it cannot be).
 * Besides the common errors (OK_ERR_HYPERPARAMETER: blank outside [0, c);
 * OK_ERR_SIZE also when a padded n_targets is not n width), OK_ERR_INDEX
 * for an input length outside [0, t_max], a target length below 0 or past
 * width, concatenated lengths that do not sum to n_targets, or a target
 * outside [0, c) or equal to blank; all found before anything is written.
 * grad may be log_probs itself.
 */
ok_status ok_ctc_loss(ok_dtype dtype, size_t t_max, size_t n, size_t c, const void *log_probs,
                      const int64_t *targets, size_t n_targets, size_t width, const int64_t *input_lengths,
                      const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction,
                      void *loss, void *grad);
ok_status ok_ctc_loss_f32(size_t t_max, size_t n, size_t c, const float *log_probs, const int64_t *targets,
                          size_t n_targets, size_t width, const int64_t *input_lengths,
                          const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction,
                          float *loss, float *grad);
ok_status ok_ctc_loss_f64(size_t t_max, size_t n, size_t c, const double *log_probs, const int64_t *targets,
                          size_t n_targets, size_t width, const int64_t *input_lengths,
                          const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction,
                          double *loss, double *grad);

#ifdef __cplusplus
}
#endif

#endif /* OPTKERN_LOSSES_H */
