#include "CCurl.h"
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

// libcurl is loaded on first use (dlopen), not linked: its dependency tree (OpenSSL, GnuTLS,
// LDAP, Kerberos, nghttp2, … ~33 shared libraries) costs every process several milliseconds
// of symbol relocation at start, and most commands (render, version, validate) never make an
// HTTP request. The libcurl functions Swift calls are defined here under their own names as
// hidden forwarders, so callers are unchanged and nothing is exported that could interpose on
// libcurl's own calls. When libcurl.so.4 cannot be loaded every call fails with libcurl's own
// error codes (CURLE_FAILED_INIT, NULL handles) and `ccurl_load_error` says why.
#define CCURL_HIDDEN __attribute__((visibility("hidden")))

#define CCURL_FUNCTIONS(X) \
    X(curl_global_init) X(curl_version_info) X(curl_easy_init) X(curl_easy_cleanup) \
    X(curl_easy_perform) X(curl_easy_strerror) X(curl_easy_setopt) X(curl_easy_getinfo) \
    X(curl_multi_init) X(curl_multi_add_handle) X(curl_multi_remove_handle) \
    X(curl_multi_perform) X(curl_multi_poll) X(curl_multi_wakeup) X(curl_multi_info_read) \
    X(curl_multi_setopt) X(curl_slist_append) X(curl_slist_free_all) \
    X(curl_share_init) X(curl_share_cleanup) X(curl_share_setopt)

#define CCURL_POINTER(name) __typeof__(name) *name;
static struct { CCURL_FUNCTIONS(CCURL_POINTER) } ccurl_fn;
static pthread_once_t ccurl_load_once = PTHREAD_ONCE_INIT;
static int ccurl_is_loaded = 0;
static char ccurl_load_message[512] = "libcurl.so.4 was not loaded";

static void ccurl_do_load(void) {
    // PATTERN_LIBCURL names another libcurl (a path or a soname) for systems that keep it
    // elsewhere; it also lets tests prove that an unloadable libcurl is a typed error.
    const char *path = getenv("PATTERN_LIBCURL");
    if (path == NULL || path[0] == '\0') path = "libcurl.so.4";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(ccurl_load_message, sizeof ccurl_load_message,
                 "cannot load %s (%s); fix: install libcurl4 (apt-get install libcurl4, dnf install libcurl) "
                 "or set PATTERN_LIBCURL to the path of libcurl.so.4", path, why ? why : "dlopen failed");
        return;
    }
#define CCURL_RESOLVE(name) \
    ccurl_fn.name = (__typeof__(name) *)dlsym(lib, #name); \
    if (ccurl_fn.name == NULL) { \
        snprintf(ccurl_load_message, sizeof ccurl_load_message, \
                 "libcurl.so.4 has no %s; fix: install libcurl4 7.88 or newer", #name); \
        return; \
    }
    CCURL_FUNCTIONS(CCURL_RESOLVE)
    ccurl_is_loaded = 1;
}

static int ccurl_loaded(void) {
    pthread_once(&ccurl_load_once, ccurl_do_load);
    return ccurl_is_loaded;
}

const char *ccurl_load_error(void) { return ccurl_loaded() ? NULL : ccurl_load_message; }

CCURL_HIDDEN CURLcode curl_global_init(long flags) {
    return ccurl_loaded() ? ccurl_fn.curl_global_init(flags) : CURLE_FAILED_INIT;
}
CCURL_HIDDEN curl_version_info_data *curl_version_info(CURLversion v) {
    return ccurl_loaded() ? ccurl_fn.curl_version_info(v) : NULL;
}
CCURL_HIDDEN CURL *curl_easy_init(void) { return ccurl_loaded() ? ccurl_fn.curl_easy_init() : NULL; }
CCURL_HIDDEN void curl_easy_cleanup(CURL *h) { if (ccurl_loaded()) ccurl_fn.curl_easy_cleanup(h); }
CCURL_HIDDEN CURLcode curl_easy_perform(CURL *h) {
    return ccurl_loaded() ? ccurl_fn.curl_easy_perform(h) : CURLE_FAILED_INIT;
}
CCURL_HIDDEN const char *curl_easy_strerror(CURLcode code) {
    return ccurl_loaded() ? ccurl_fn.curl_easy_strerror(code) : ccurl_load_message;
}
CCURL_HIDDEN CURLM *curl_multi_init(void) { return ccurl_loaded() ? ccurl_fn.curl_multi_init() : NULL; }
CCURL_HIDDEN CURLMcode curl_multi_add_handle(CURLM *m, CURL *h) {
    return ccurl_loaded() ? ccurl_fn.curl_multi_add_handle(m, h) : CURLM_INTERNAL_ERROR;
}
CCURL_HIDDEN CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h) {
    return ccurl_loaded() ? ccurl_fn.curl_multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}
CCURL_HIDDEN CURLMcode curl_multi_perform(CURLM *m, int *running) {
    return ccurl_loaded() ? ccurl_fn.curl_multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}
CCURL_HIDDEN CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd extra[], unsigned int n, int timeout_ms, int *numfds) {
    return ccurl_loaded() ? ccurl_fn.curl_multi_poll(m, extra, n, timeout_ms, numfds) : CURLM_INTERNAL_ERROR;
}
CCURL_HIDDEN CURLMcode curl_multi_wakeup(CURLM *m) {
    return ccurl_loaded() ? ccurl_fn.curl_multi_wakeup(m) : CURLM_INTERNAL_ERROR;
}
CCURL_HIDDEN CURLMsg *curl_multi_info_read(CURLM *m, int *left) {
    return ccurl_loaded() ? ccurl_fn.curl_multi_info_read(m, left) : NULL;
}
CCURL_HIDDEN struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s) {
    return ccurl_loaded() ? ccurl_fn.curl_slist_append(list, s) : NULL;
}
CCURL_HIDDEN void curl_slist_free_all(struct curl_slist *list) { if (ccurl_loaded()) ccurl_fn.curl_slist_free_all(list); }
CCURL_HIDDEN CURLSH *curl_share_init(void) { return ccurl_loaded() ? ccurl_fn.curl_share_init() : NULL; }
CCURL_HIDDEN CURLSHcode curl_share_cleanup(CURLSH *s) { return ccurl_loaded() ? ccurl_fn.curl_share_cleanup(s) : CURLSHE_NOT_BUILT_IN; }

// The variadic setters go through the typed wrappers below (Swift cannot call C varargs).
#define CCURL_SETOPT(h, opt, value) (ccurl_loaded() ? ccurl_fn.curl_easy_setopt(h, opt, value) : CURLE_FAILED_INIT)
#define CCURL_GETINFO(h, info, out) (ccurl_loaded() ? ccurl_fn.curl_easy_getinfo(h, info, out) : CURLE_FAILED_INIT)

static pthread_once_t ccurl_once = PTHREAD_ONCE_INIT;
static CURLcode ccurl_init_result = CURLE_OK;
static void ccurl_do_init(void) {
    ccurl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
    // With CURLOPT_NOSIGNAL libcurl does not block SIGPIPE itself; a peer closing a TLS
    // connection mid-write would kill the process. Ignore it unless the host installed a handler.
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction ign;
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        ign.sa_flags = 0;
        sigaction(SIGPIPE, &ign, NULL);
    }
}

CURLcode ccurl_global_init_once(void) {
    pthread_once(&ccurl_once, ccurl_do_init);
    return ccurl_init_result;
}

int ccurl_has_threadsafe(void) {
#ifdef CURL_VERSION_THREADSAFE
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v != NULL && (v->features & CURL_VERSION_THREADSAFE) != 0;
#else
    return 0;
#endif
}

int ccurl_has_http2(void) {
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v != NULL && (v->features & CURL_VERSION_HTTP2) != 0;
}

CURLcode ccurl_easy_setopt_long(CURL *h, CURLoption opt, long value) { return CCURL_SETOPT(h, opt, value); }
CURLcode ccurl_easy_setopt_off_t(CURL *h, CURLoption opt, curl_off_t value) { return CCURL_SETOPT(h, opt, value); }
CURLcode ccurl_easy_setopt_ptr(CURL *h, CURLoption opt, void *value) { return CCURL_SETOPT(h, opt, value); }
CURLcode ccurl_easy_setopt_str(CURL *h, CURLoption opt, const char *value) { return CCURL_SETOPT(h, opt, value); }

CURLcode ccurl_easy_setopt_blob(CURL *h, CURLoption opt, const void *data, size_t len) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = len;
    blob.flags = CURL_BLOB_COPY;
    return CCURL_SETOPT(h, opt, &blob);
}

CURLcode ccurl_easy_setopt_write_cb(CURL *h, ccurl_data_cb cb) { return CCURL_SETOPT(h, CURLOPT_WRITEFUNCTION, cb); }
CURLcode ccurl_easy_setopt_header_cb(CURL *h, ccurl_data_cb cb) { return CCURL_SETOPT(h, CURLOPT_HEADERFUNCTION, cb); }

CURLcode ccurl_easy_getinfo_long(CURL *h, CURLINFO info, long *out) { return CCURL_GETINFO(h, info, out); }
CURLcode ccurl_easy_getinfo_double(CURL *h, CURLINFO info, double *out) { return CCURL_GETINFO(h, info, out); }
CURLcode ccurl_easy_getinfo_str(CURL *h, CURLINFO info, const char **out) { return CCURL_GETINFO(h, info, out); }
CURLcode ccurl_easy_getinfo_ptr(CURL *h, CURLINFO info, void **out) { return CCURL_GETINFO(h, info, out); }

CURLSHcode ccurl_share_setopt_long(CURLSH *s, CURLSHoption opt, long value) {
    return ccurl_loaded() ? ccurl_fn.curl_share_setopt(s, opt, value) : CURLSHE_NOT_BUILT_IN;
}

CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption opt, long value) { return ccurl_loaded() ? ccurl_fn.curl_multi_setopt(m, opt, value) : CURLM_INTERNAL_ERROR; }

int ccurl_msg_is_done(const CURLMsg *msg) { return msg->msg == CURLMSG_DONE; }
CURLcode ccurl_msg_result(const CURLMsg *msg) { return msg->data.result; }
CURL *ccurl_msg_easy(const CURLMsg *msg) { return msg->easy_handle; }
