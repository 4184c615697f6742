#ifndef CTESTTLS_H
#define CTESTTLS_H
// OpenSSL server-side TLS for the test API server (test support only).
// Opaque handles keep OpenSSL's types out of Swift; every function reports errors as text.
#include <stddef.h>

/// Creates a server context from PEM text: certificate (chain), private key, and optionally
/// a CA bundle used to verify client certificates. `require_client_cert` makes a handshake
/// without a client certificate fail; otherwise a presented certificate is verified and used.
/// Returns NULL and fills `err` on failure.
void *ctt_ctx_new(const char *cert_pem, const char *key_pem, const char *client_ca_pem,
                  int require_client_cert, char *err, size_t errlen);
void ctt_ctx_free(void *ctx);

/// Runs the server handshake on a connected socket. Returns an SSL handle or NULL (+ err).
void *ctt_accept(void *ctx, int fd, char *err, size_t errlen);
/// Reads up to len bytes: >0 bytes read, 0 clean close, <0 error.
int ctt_read(void *ssl, void *buf, int len);
/// Writes all len bytes: returns len, or <0 on error.
int ctt_write(void *ssl, const void *buf, int len);
/// Sends close_notify (best effort) and frees the handle (the socket stays open).
void ctt_close(void *ssl);

/// Verified client certificate subject: CN into `cn`, every O joined by '\n' into `orgs`.
/// Returns 1 when a verified client certificate is present, 0 otherwise.
int ctt_peer_subject(void *ssl, char *cn, size_t cnlen, char *orgs, size_t orglen);

/// Test PKI: writes PEM text for a new CA, a server certificate for 127.0.0.1/localhost
/// signed by it, and a client certificate (CN=user, O=group) signed by it. Each output
/// buffer gets NUL-terminated PEM. Returns 1 on success.
int ctt_make_test_pki(const char *client_cn, const char *client_org,
                      char *ca_cert, char *ca_key, char *server_cert, char *server_key,
                      char *client_cert, char *client_key, size_t buflen);
#endif
