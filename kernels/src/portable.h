/*
 * What lets the kernel headers compile as C for the CPU targets and as
 * CUDA C++ for the GPU (kernels/cuda/, docs/gpu.md): the same bodies, with
 * their per-element formulas written once.
 *
 *   OK_FN       a small helper: `static inline` in C; under CUDA callable
 *               from host and device code
 *   OK_INLINE   a kernel body's helper, always inlined: on the device
 *               under CUDA
 *   OK_BODY     a kernel body's entry (a span or block function, whose
 *               address the CPU's kernel tables take): static; on the
 *               device under CUDA
 *   OK_DEVICE_DATA  a constant the bodies read: static; in device memory
 *               under CUDA
 *   OK_STATIC_ASSERT(cond, msg)   C11's _Static_assert, C++'s static_assert
 *
 * Under NVRTC (__CUDACC_RTC__) there are no system headers: the few
 * standard types and constants the bodies use come from kernels/cuda/nvrtc/
 * instead.
 */
#ifndef OPTKERN_PORTABLE_H
#define OPTKERN_PORTABLE_H

#if defined(__CUDACC__)
#define OK_FN static __host__ __device__ inline
#define OK_INLINE static __device__ __forceinline__
#define OK_BODY static __device__
#define OK_DEVICE_DATA static __device__
#else
#define OK_FN static inline
#define OK_INLINE static inline __attribute__((always_inline))
#define OK_BODY static
#define OK_DEVICE_DATA static
#endif

#ifdef __cplusplus
#define OK_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define OK_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#endif /* OPTKERN_PORTABLE_H */
