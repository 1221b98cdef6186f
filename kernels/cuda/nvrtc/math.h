/* NVRTC has no system headers (kernels/src/portable.h): the functions
 * the kernel bodies use from <math.h> are built into it. */
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000) /* NVRTC has no __builtin_huge_valf */
#define NAN __int_as_float(0x7fffffff)
#endif
