/* NVRTC has no system headers (kernels/src/portable.h): the fixed-width
 * integer types of the CUDA targets (LP64). */
#ifndef OPTKERN_NVRTC_STDINT_H
#define OPTKERN_NVRTC_STDINT_H
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned long long uintptr_t;
#define PTRDIFF_MAX 0x7fffffffffffffffLL
#define SIZE_MAX 0xffffffffffffffffULL
#endif
