#include "CCurl.h"
#include <pthread.h>
#include <signal.h>
#include <stddef.h>

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
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_THREADSAFE) != 0;
#else
    return 0;
#endif
}

int ccurl_has_http2(void) {
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2) != 0;
}

CURLcode ccurl_easy_setopt_long(CURL *h, CURLoption opt, long value) { return curl_easy_setopt(h, opt, value); }
CURLcode ccurl_easy_setopt_off_t(CURL *h, CURLoption opt, curl_off_t value) { return curl_easy_setopt(h, opt, value); }
CURLcode ccurl_easy_setopt_ptr(CURL *h, CURLoption opt, void *value) { return curl_easy_setopt(h, opt, value); }
CURLcode ccurl_easy_setopt_str(CURL *h, CURLoption opt, const char *value) { return curl_easy_setopt(h, opt, value); }

CURLcode ccurl_easy_setopt_blob(CURL *h, CURLoption opt, const void *data, size_t len) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = len;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(h, opt, &blob);
}

CURLcode ccurl_easy_setopt_write_cb(CURL *h, ccurl_data_cb cb) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb); }
CURLcode ccurl_easy_setopt_header_cb(CURL *h, ccurl_data_cb cb) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cb); }

CURLcode ccurl_easy_getinfo_long(CURL *h, CURLINFO info, long *out) { return curl_easy_getinfo(h, info, out); }
CURLcode ccurl_easy_getinfo_double(CURL *h, CURLINFO info, double *out) { return curl_easy_getinfo(h, info, out); }
CURLcode ccurl_easy_getinfo_str(CURL *h, CURLINFO info, const char **out) { return curl_easy_getinfo(h, info, out); }
CURLcode ccurl_easy_getinfo_ptr(CURL *h, CURLINFO info, void **out) { return curl_easy_getinfo(h, info, out); }

CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption opt, long value) { return curl_multi_setopt(m, opt, value); }

int ccurl_msg_is_done(const CURLMsg *msg) { return msg->msg == CURLMSG_DONE; }
CURLcode ccurl_msg_result(const CURLMsg *msg) { return msg->data.result; }
CURL *ccurl_msg_easy(const CURLMsg *msg) { return msg->easy_handle; }
