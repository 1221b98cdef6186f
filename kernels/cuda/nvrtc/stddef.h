/* NVRTC has no system headers (kernels/src/portable.h): size_t is built in. */
#ifndef OPTKERN_NVRTC_STDDEF_H
#define OPTKERN_NVRTC_STDDEF_H
#ifndef NULL
#define NULL 0
#endif
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
