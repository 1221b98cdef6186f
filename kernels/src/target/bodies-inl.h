/*
 * Every kernel body, in the order they build on one another, for the
 * current variant: kernels_target.c includes this once per variant after
 * setting OK_VARIANT. Each body is listed here once.
 */
#include "target/dtype.h"

#include "target/storage-inl.h" /* the optimizer streams' and loss arrays' loads and stores */
#include "optim/optimizers.h"   /* every optimizer's body */
#include "optim/eightbit-inl.h"  /* the 8-bit forms of some of them */

/* the data variants (variants.h): every stream of one dtype */
#if OK_SPEC_PARAM(OK_SPEC) == OK_SPEC_GRAD(OK_SPEC) && OK_SPEC_GRAD(OK_SPEC) == OK_SPEC_STATE(OK_SPEC)
#include "target/vmath-inl.h"   /* exp, log, log1p, tanh: the loss bodies use them */
#include "loss/regression-inl.h"
#include "loss/kl_div-inl.h"
#include "loss/bce_with_logits-inl.h"
#include "loss/probabilistic-inl.h"
#include "loss/hinges-inl.h"
#include "loss/elementwise-inl.h" /* the loop over the formulas above */
#include "loss/rows-inl.h"        /* what the row losses share */
#include "loss/labels-inl.h"      /* their class-target scan */
#include "loss/cross_entropy-inl.h"
#include "loss/nll-inl.h"
#include "loss/margins-inl.h"
#include "loss/pairs-inl.h"         /* cosine_embedding_loss, triplet_margin_loss */
#include "vector/vector-inl.h" /* optkern/vector.h */
#if OK_VARIANT == OK_VARIANT_F64
#include "loss/ctc-inl.h" /* in double, for float32 and float64 arrays alike */
#endif
#endif

#if OK_VARIANT < OK_ARRAY_VARIANT_COUNT /* the rest stores arrays as real_t */
#include "target/roofline-inl.h"
#include "target/probes-inl.h"
#endif
