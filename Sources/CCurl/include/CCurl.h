#ifndef CCURL_H
#define CCURL_H
// Thin shim over the system libcurl (libcurl4-openssl-dev 7.88). `curl_easy_setopt`,
// `curl_easy_getinfo` and `curl_multi_setopt` are variadic and cannot be called from Swift, so
// each argument type gets a typed wrapper here. Nothing else lives in C.
// libcurl itself is loaded with dlopen on the first call (see shim.c), so processes that never
// make an HTTP request do not pay for loading its ~33 shared libraries.
#include <curl/curl.h>
#include <stddef.h>

/// Why libcurl.so.4 could not be loaded (with a `fix:`), or NULL when it is loaded. Loads it.
const char *ccurl_load_error(void);

/// Runs `curl_global_init(CURL_GLOBAL_DEFAULT)` exactly once (thread-safe) and sets SIGPIPE to
/// ignored when it has the default disposition; returns curl_global_init's result.
CURLcode ccurl_global_init_once(void);
/// Whether this libcurl has the CURL_VERSION_THREADSAFE and CURL_VERSION_HTTP2 feature bits.
int ccurl_has_threadsafe(void);
int ccurl_has_http2(void);

CURLcode ccurl_easy_setopt_long(CURL *h, CURLoption opt, long value);
CURLcode ccurl_easy_setopt_off_t(CURL *h, CURLoption opt, curl_off_t value);
CURLcode ccurl_easy_setopt_ptr(CURL *h, CURLoption opt, void *value);
CURLcode ccurl_easy_setopt_str(CURL *h, CURLoption opt, const char *value);
/// Sets a `struct curl_blob` option with CURL_BLOB_COPY: libcurl copies the bytes.
CURLcode ccurl_easy_setopt_blob(CURL *h, CURLoption opt, const void *data, size_t len);

/// Signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
typedef size_t (*ccurl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
CURLcode ccurl_easy_setopt_write_cb(CURL *h, ccurl_data_cb cb);
CURLcode ccurl_easy_setopt_header_cb(CURL *h, ccurl_data_cb cb);

CURLcode ccurl_easy_getinfo_long(CURL *h, CURLINFO info, long *out);
CURLcode ccurl_easy_getinfo_double(CURL *h, CURLINFO info, double *out);
CURLcode ccurl_easy_getinfo_str(CURL *h, CURLINFO info, const char **out);
CURLcode ccurl_easy_getinfo_ptr(CURL *h, CURLINFO info, void **out);

CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption opt, long value);
/// `curl_share_setopt` with a long argument (CURLSHOPT_SHARE / CURLSHOPT_UNSHARE).
CURLSHcode ccurl_share_setopt_long(CURLSH *s, CURLSHoption opt, long value);

/// `msg->msg == CURLMSG_DONE` helpers (the union is awkward from Swift).
int ccurl_msg_is_done(const CURLMsg *msg);
CURLcode ccurl_msg_result(const CURLMsg *msg);
CURL *ccurl_msg_easy(const CURLMsg *msg);

#endif
