#ifndef CTESTTLS_H
#define CTESTTLS_H
// OpenSSL server-side TLS for the test API server (test support only).
#include <openssl/ssl.h>
#include <openssl/err.h>
#endif
