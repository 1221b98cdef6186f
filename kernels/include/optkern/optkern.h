/*
 * optkern: optimizer updates and loss gradients as plain C kernels.
 *
 * The umbrella header of the C library: include this one. Every function
 * returns an ok_status and never aborts, exits or prints; a call that returns
 * an error has written nothing.
 *
 *   optkern/common.h  status codes, instruction sets, threads
 *   optkern/optim.h   optimizer updates (SGD, Adam, AdamW, ...; and every
 *                     optimizer described by data: ok_optimizer_*)
 *   optkern/losses.h  losses with their gradients (cross-entropy, MSE, ...)
 *   optkern/vector.h  a list of arrays as one vector: dot products, norms,
 *                     y <- alpha x + beta y (L-BFGS's vector work)
 */
#ifndef OPTKERN_OPTKERN_H
#define OPTKERN_OPTKERN_H

#include "optkern/common.h"
#include "optkern/optim.h"
#include "optkern/losses.h"
#include "optkern/vector.h"

#endif /* OPTKERN_OPTKERN_H */
