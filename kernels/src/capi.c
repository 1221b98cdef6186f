/*
 * The C-API table (optkern/optkern_capi.h): the address of every public
 * function, in the header's order, which optkern._core exports as a capsule.
 * Each address is stored in a field of the header's pointer type, so an
 * entry whose signature differs from the function's declaration is an
 * error here, not a wrong call in a consumer.
 */
#include "optkern/optkern_capi.h"

#if defined(__GNUC__)
#pragma GCC diagnostic error "-Wincompatible-pointer-types"
#endif

#define OK_CAPI_ADDRESS(ret, name, params) &name,

static const ok_capi table = {
    OPTKERN_ABI_VERSION,
    OPTKERN_CAPI_COUNT,
    OPTKERN_VERSION_STRING,
    OPTKERN_CAPI_FUNCTIONS(OK_CAPI_ADDRESS)
};

const ok_capi *ok_capi_table(void) { return &table; }
