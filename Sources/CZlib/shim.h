#ifndef IGMEDIA_CZLIB_SHIM_H
#define IGMEDIA_CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 / inflateInit2 are macros (they pass ZLIB_VERSION and sizeof(z_stream) to the
   underscore functions): Swift cannot call a function-like macro, so each gets an inline wrapper. */
static inline int igm_deflate_init2(z_streamp strm, int level, int method, int window_bits, int mem_level,
                                    int strategy) {
    return deflateInit2(strm, level, method, window_bits, mem_level, strategy);
}
static inline int igm_inflate_init2(z_streamp strm, int window_bits) { return inflateInit2(strm, window_bits); }
#endif
