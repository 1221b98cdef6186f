/* NVRTC has no system headers (kernels/src/portable.h): the functions
 * the kernel bodies use from <stdlib.h> are built into it. */
