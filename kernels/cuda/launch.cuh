/*
 * What every optkern CUDA source starts with (docs/gpu.md).
 *
 * A kernel is declared OK_KERNEL(name, (parameters), (argument names))
 * { body }: an extern "C" __global__ function, launched by name from Python
 * (optkern/cuda). Kernels are named ok_cuda_<what>, apart from the C
 * library's functions, whose headers the sources include.
 *
 * The same sources also compile as plain C++ on the CPU with
 * OK_CUDA_EMULATE defined, for the tests (tests/test_gpu.py): a kernel
 * becomes a host function name(grid, block, arguments) that runs its grid
 * one block after another, each block's threads as real threads, so that
 * __syncthreads() and __shared__ memory mean what they mean on a GPU. It is
 * slow and exact: the kernels' index arithmetic, reductions and plan
 * reading run as they would on the device.
 */
#ifndef OPTKERN_CUDA_LAUNCH_CUH
#define OPTKERN_CUDA_LAUNCH_CUH

#ifdef OK_CUDA_EMULATE
#include <barrier>
#include <thread>
#include <vector>

struct ok_emu_dim3 {
    unsigned x, y, z;
};
static thread_local ok_emu_dim3 threadIdx, blockIdx;
static ok_emu_dim3 blockDim, gridDim;
static thread_local std::barrier<> *ok_emu_block_barrier;
#define __syncthreads() ok_emu_block_barrier->arrive_and_wait()
#define __shared__ static
#define __restrict__

template <class... A> static void ok_emu_launch(unsigned grid, unsigned block, void (*body)(A...), A... args) {
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    for (unsigned b = 0; b < grid; b++) {
        std::barrier<> barrier((std::ptrdiff_t)block);
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < block; t++)
            threads.emplace_back([=, &barrier] {
                blockIdx = {b, 0, 0};
                threadIdx = {t, 0, 0};
                ok_emu_block_barrier = &barrier;
                body(args...);
            });
        for (auto &th : threads) th.join();
    }
}

#define OK_KERNEL(name, params, args)                                                                     \
    static void name##_body params;                                                                     \
    extern "C" void name(unsigned grid, unsigned block, OK_KERNEL_PARAMS params) {                      \
        ok_emu_launch(grid, block, name##_body, OK_KERNEL_ARGS args);                                   \
    }                                                                                                     \
    static void name##_body params
#define OK_KERNEL_PARAMS(...) __VA_ARGS__
#define OK_KERNEL_ARGS(...) __VA_ARGS__
#else
#define OK_KERNEL(name, params, args) extern "C" __global__ void name params
#endif

#endif /* OPTKERN_CUDA_LAUNCH_CUH */
