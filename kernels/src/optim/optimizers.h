/*
 * The optimizers: one row each. An optimizer is its descriptor,
 * optim/<name>.h (coefficients, hyperparameter fields, states and which of
 * them a set needs), its kernel body, optim/<name>-inl.h, and three lines
 * here: the descriptor's include, the body's include and its OK_OPTIMIZERS
 * entry, from which the kernel tables and the registry are built.
 *
 * Included once per translation unit for the descriptors and, with
 * OK_VARIANT set (target/bodies-inl.h), once per kernel variant for the
 * bodies.
 */
#ifndef OPTKERN_OPTIM_OPTIMIZERS_H
#define OPTKERN_OPTIM_OPTIMIZERS_H

#define OK_OPTIMIZERS(X) X(sgd) X(adam) \
    X(radam) X(rprop) X(nadam) X(asgd) X(muon) \
    X(adagrad) X(rmsprop) X(adadelta) X(adamax) X(adafactor) \
    X(lion) X(adan) X(ademamix) X(adopt) \
    X(sgd_schedulefree) X(adamw_schedulefree) \
    X(lamb) X(lars)

/* Those with scalar states (optim/descriptor.h), whose advance runs as a
 * kernel of its own on the GPU (kernels/cuda/optim.cu). */
#define OK_SCALAR_OPTIMIZERS(X) X(nadam) X(asgd)

/* OK_OPT_<name>: the optimizer's row of the kernel tables. */
#define OK_OPT_ENUM(name) OK_OPT_##name,
enum { OK_OPTIMIZERS(OK_OPT_ENUM) OK_OPTIMIZER_COUNT };
#undef OK_OPT_ENUM

#include "optim/sgd.h"
#include "optim/adam.h"
#include "optim/radam.h"
#include "optim/rprop.h"
#include "optim/nadam.h"
#include "optim/asgd.h"
#include "optim/muon.h"
#include "optim/adagrad.h"
#include "optim/rmsprop.h"
#include "optim/adadelta.h"
#include "optim/adamax.h"
#include "optim/adafactor.h"
#include "optim/lion.h"
#include "optim/adan.h"
#include "optim/ademamix.h"
#include "optim/adopt.h"
#include "optim/schedulefree.h" /* sgd_schedulefree and adamw_schedulefree */
#include "optim/lamb.h"
#include "optim/lars.h"

#endif /* OPTKERN_OPTIM_OPTIMIZERS_H */

#ifdef OK_VARIANT
#include "optim/pointwise-inl.h" /* torch's compound operations, for the bodies below */
#include "optim/moments-inl.h"   /* what adam, radam, nadam and ademamix share */
#include "optim/sgd-inl.h"
#include "optim/adam-inl.h"
#include "optim/radam-inl.h"
#include "optim/rprop-inl.h"
#include "optim/nadam-inl.h"
#include "optim/asgd-inl.h"
#include "optim/muon-inl.h"
#include "optim/adagrad-inl.h"
#include "optim/rmsprop-inl.h"
#include "optim/adadelta-inl.h"
#include "optim/adamax-inl.h"
#include "optim/adafactor-inl.h"
#include "optim/lion-inl.h"
#include "optim/adan-inl.h"
#include "optim/ademamix-inl.h"
#include "optim/adopt-inl.h"
#include "optim/schedulefree-inl.h"
#include "optim/norms-inl.h" /* the sums of the optimizers with per-tensor norms */
#include "optim/lamb-inl.h"
#include "optim/lars-inl.h"
#endif
