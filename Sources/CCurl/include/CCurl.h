#ifndef CCURL_H
#define CCURL_H
// Thin shim over the system libcurl (libcurl4-openssl-dev). Typed wrappers for the variadic
// calls are added by the KubeClient transport work.
#include <curl/curl.h>
#endif
