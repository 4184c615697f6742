#ifndef CZLIB_H
#define CZLIB_H
// Thin shim over the system zlib (Debian: zlib1g-dev). Only what reading gzip-compressed
// chart archives needs; Swift owns the buffers and the limits.
#include <stddef.h>

/// Result codes of `czlib_gunzip`.
enum {
    CZLIB_OK = 0,
    CZLIB_DATA_ERROR = -1,     ///< not gzip, corrupt stream or bad checksum
    CZLIB_TOO_LARGE = -2,      ///< output would exceed `max_out`
    CZLIB_MEMORY = -3,         ///< zlib could not allocate its state
    CZLIB_TRUNCATED = -4       ///< input ended before the stream did
};

/// Decompresses the gzip stream (one or more members) in `in[0..<in_len]`.
/// Calls `sink(ctx, bytes, n)` for each chunk of output; stops with CZLIB_TOO_LARGE as soon as
/// the total would pass `max_out`. Returns one of the codes above.
int czlib_gunzip(const unsigned char *in, size_t in_len, size_t max_out,
                 void (*sink)(void *ctx, const unsigned char *bytes, size_t n), void *ctx);

/// Compresses `in` as one gzip member into a malloc'd buffer (`*out`, `*out_len`); the caller
/// frees it with `czlib_free`. Returns CZLIB_OK or CZLIB_MEMORY. Used to write chart archives
/// in tests and fixtures.
int czlib_gzip(const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len);
void czlib_free(void *p);

/// zlib's version string ("1.2.13").
const char *czlib_version(void);
#endif
