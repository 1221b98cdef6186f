/* NVRTC has no system headers (kernels/src/portable.h): the functions
 * the kernel bodies use from <math.h> are built into it. */
#ifndef INFINITY
#define INFINITY __builtin_huge_valf()
#define NAN __builtin_nanf("")
#endif
