#include "CZlib.h"
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

int czlib_gunzip(const unsigned char *in, size_t in_len, size_t max_out,
                 void (*sink)(void *ctx, const unsigned char *bytes, size_t n), void *ctx) {
    if (in_len > 0xFFFFFFFFu) return CZLIB_TOO_LARGE;
    z_stream s;
    memset(&s, 0, sizeof s);
    // 16 + MAX_WBITS: gzip wrapper only (no raw deflate, no zlib header).
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) return CZLIB_MEMORY;
    unsigned char buf[65536];
    size_t total = 0;
    int rc = CZLIB_OK;
    s.next_in = (unsigned char *)in;
    s.avail_in = (uInt)in_len;
    for (;;) {
        s.next_out = buf;
        s.avail_out = sizeof buf;
        int z = inflate(&s, Z_NO_FLUSH);
        if (z == Z_NEED_DICT || z == Z_DATA_ERROR || z == Z_STREAM_ERROR) { rc = CZLIB_DATA_ERROR; break; }
        if (z == Z_MEM_ERROR) { rc = CZLIB_MEMORY; break; }
        size_t n = sizeof buf - s.avail_out;
        if (n > 0) {
            if (total + n > max_out || total + n < total) { rc = CZLIB_TOO_LARGE; break; }
            total += n;
            sink(ctx, buf, n);
        }
        if (z == Z_STREAM_END) {
            // Concatenated gzip members are one stream (as Go's gzip.Reader reads them).
            if (s.avail_in == 0) break;
            if (inflateReset(&s) != Z_OK) { rc = CZLIB_DATA_ERROR; break; }
            continue;
        }
        if (s.avail_in == 0 && n == 0) { rc = CZLIB_TRUNCATED; break; }
        if (z == Z_BUF_ERROR && n == 0) { rc = CZLIB_DATA_ERROR; break; }
    }
    inflateEnd(&s);
    return rc;
}

int czlib_gzip(const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return CZLIB_MEMORY;
    size_t cap = deflateBound(&s, (uLong)in_len) + 32;
    unsigned char *buf = malloc(cap);
    if (!buf) { deflateEnd(&s); return CZLIB_MEMORY; }
    s.next_in = (unsigned char *)in;
    s.avail_in = (uInt)in_len;
    s.next_out = buf;
    s.avail_out = (uInt)cap;
    int z = deflate(&s, Z_FINISH);
    if (z != Z_STREAM_END) { free(buf); deflateEnd(&s); return CZLIB_MEMORY; }
    *out = buf;
    *out_len = cap - s.avail_out;
    deflateEnd(&s);
    return CZLIB_OK;
}

void czlib_free(void *p) { free(p); }

const char *czlib_version(void) { return zlibVersion(); }
