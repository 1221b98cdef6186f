/*
 * The 8-bit optimizers (docs/precision.md#8-bit-states): an elementwise
 * optimizer whose states are kept as 8-bit codes with one float32 scale per
 * block (quant8.h), run by ok_optimizer_step_8bit (optkern/optim.h) with
 * that optimizer's descriptor, hyperparameters and per-element update. The
 * kernel body is optim/eightbit-inl.h.
 *
 * X(name, states): the optimizers that have an 8-bit form and how many
 * states it keeps (the first `states` of the descriptor's, which must be
 * exactly those a set requires: Adam without amsgrad, SGD with momentum,
 * RMSprop neither centered nor with momentum).
 */
#ifndef OPTKERN_OPTIM_EIGHTBIT_H
#define OPTKERN_OPTIM_EIGHTBIT_H

#define OK_Q8_OPTIMIZERS(X) X(adam, 2) X(sgd, 1) X(lion, 1) X(rmsprop, 1) X(adagrad, 1)

#define OK_Q8_ENUM(name, states) OK_Q8_##name,
enum { OK_Q8_OPTIMIZERS(OK_Q8_ENUM) OK_Q8_COUNT };
#undef OK_Q8_ENUM

/* The streams of an 8-bit call: the parameter, the gradient, the codes of
 * state1 and state2, the scales of state1 and state2. */
enum { OK_Q8_STATE1 = 2, OK_Q8_STATE2, OK_Q8_ABSMAX1, OK_Q8_ABSMAX2, OK_Q8_STREAMS };

#endif /* OPTKERN_OPTIM_EIGHTBIT_H */
