#include "CTestTLS.h"
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

static void ctt_err(char *err, size_t errlen, const char *what) {
    if (!err || errlen == 0) return;
    unsigned long e = ERR_get_error();
    char buf[256] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

void *ctt_ctx_new(const char *cert_pem, const char *key_pem, const char *client_ca_pem,
                  int require_client_cert, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { ctt_err(err, errlen, "SSL_CTX_new"); return NULL; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    BIO *b = BIO_new_mem_buf(cert_pem, -1);
    X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
        ctt_err(err, errlen, "server certificate"); if (leaf) X509_free(leaf); BIO_free(b); SSL_CTX_free(ctx); return NULL;
    }
    X509_free(leaf);
    X509 *extra;
    while ((extra = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) SSL_CTX_add_extra_chain_cert(ctx, extra);
    ERR_clear_error();
    BIO_free(b);
    b = BIO_new_mem_buf(key_pem, -1);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!pk || SSL_CTX_use_PrivateKey(ctx, pk) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ctt_err(err, errlen, "server private key"); if (pk) EVP_PKEY_free(pk); SSL_CTX_free(ctx); return NULL;
    }
    EVP_PKEY_free(pk);
    if (client_ca_pem && client_ca_pem[0]) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
        b = BIO_new_mem_buf(client_ca_pem, -1);
        X509 *ca; int n = 0;
        while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            X509_STORE_add_cert(store, ca);
            sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
            X509_free(ca); n++;
        }
        ERR_clear_error();
        BIO_free(b);
        if (n == 0) { snprintf(err, errlen, "client CA: no certificate in PEM"); sk_X509_NAME_pop_free(names, X509_NAME_free); SSL_CTX_free(ctx); return NULL; }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
    }
    return ctx;
}

void ctt_ctx_free(void *ctx) { if (ctx) SSL_CTX_free((SSL_CTX *)ctx); }

void *ctt_accept(void *ctx, int fd, char *err, size_t errlen) {
    SSL *ssl = SSL_new((SSL_CTX *)ctx);
    if (!ssl) { ctt_err(err, errlen, "SSL_new"); return NULL; }
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) { ctt_err(err, errlen, "TLS handshake"); SSL_free(ssl); return NULL; }
    return ssl;
}

int ctt_read(void *ssl, void *buf, int len) {
    int n = SSL_read((SSL *)ssl, buf, len);
    if (n > 0) return n;
    int e = SSL_get_error((SSL *)ssl, n);
    ERR_clear_error();
    return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

int ctt_write(void *ssl, const void *buf, int len) {
    int done = 0;
    while (done < len) {
        int n = SSL_write((SSL *)ssl, (const char *)buf + done, len - done);
        if (n <= 0) { ERR_clear_error(); return -1; }
        done += n;
    }
    return len;
}

void ctt_close(void *ssl) {
    if (!ssl) return;
    SSL_shutdown((SSL *)ssl);
    ERR_clear_error();
    SSL_free((SSL *)ssl);
}

int ctt_peer_subject(void *ssl, char *cn, size_t cnlen, char *orgs, size_t orglen) {
    if (cnlen) cn[0] = 0;
    if (orglen) orgs[0] = 0;
    X509 *peer = SSL_get1_peer_certificate((SSL *)ssl);
    if (!peer) return 0;
    if (SSL_get_verify_result((SSL *)ssl) != X509_V_OK) { X509_free(peer); return 0; }
    X509_NAME *subj = X509_get_subject_name(peer);
    X509_NAME_get_text_by_NID(subj, NID_commonName, cn, (int)cnlen);
    int idx = -1; size_t used = 0;
    while ((idx = X509_NAME_get_index_by_NID(subj, NID_organizationName, idx)) >= 0) {
        X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, idx);
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, d);
        if (n > 0 && used + (size_t)n + 2 < orglen) {
            if (used) orgs[used++] = '\n';
            memcpy(orgs + used, utf8, (size_t)n); used += (size_t)n; orgs[used] = 0;
        }
        OPENSSL_free(utf8);
    }
    X509_free(peer);
    return 1;
}

// MARK: test PKI

static EVP_PKEY *ctt_key(void) {
    return EVP_RSA_gen(2048);
}

static int ctt_pem_cert(X509 *c, char *out, size_t buflen) {
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, c);
    char *p; long n = BIO_get_mem_data(b, &p);
    int ok = n > 0 && (size_t)n < buflen;
    if (ok) { memcpy(out, p, (size_t)n); out[n] = 0; }
    BIO_free(b);
    return ok;
}

static int ctt_pem_key(EVP_PKEY *k, char *out, size_t buflen) {
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *p; long n = BIO_get_mem_data(b, &p);
    int ok = n > 0 && (size_t)n < buflen;
    if (ok) { memcpy(out, p, (size_t)n); out[n] = 0; }
    BIO_free(b);
    return ok;
}

static void ctt_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX v3; X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ex) { X509_add_ext(cert, ex, -1); X509_EXTENSION_free(ex); }
}

static X509 *ctt_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key, int serial, int is_ca, int is_server) {
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 60L * 60 * 24 * 365);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    if (org && org[0]) X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : c;
    if (is_ca) {
        ctt_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE");
        ctt_ext(c, iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    } else {
        ctt_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE");
        ctt_ext(c, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        ctt_ext(c, iss, NID_ext_key_usage, is_server ? "serverAuth" : "clientAuth");
        if (is_server) ctt_ext(c, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    }
    X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256());
    return c;
}

int ctt_make_test_pki(const char *client_cn, const char *client_org,
                      char *ca_cert, char *ca_key, char *server_cert, char *server_key,
                      char *client_cert, char *client_key, size_t buflen) {
    EVP_PKEY *cak = ctt_key(), *sk = ctt_key(), *ck = ctt_key();
    if (!cak || !sk || !ck) return 0;
    X509 *ca = ctt_cert(cak, "pattern-test-ca", NULL, NULL, NULL, 1, 1, 0);
    X509 *srv = ctt_cert(sk, "127.0.0.1", NULL, ca, cak, 2, 0, 1);
    X509 *cli = ctt_cert(ck, client_cn, client_org, ca, cak, 3, 0, 0);
    int ok = ctt_pem_cert(ca, ca_cert, buflen) && ctt_pem_key(cak, ca_key, buflen)
          && ctt_pem_cert(srv, server_cert, buflen) && ctt_pem_key(sk, server_key, buflen)
          && ctt_pem_cert(cli, client_cert, buflen) && ctt_pem_key(ck, client_key, buflen);
    X509_free(ca); X509_free(srv); X509_free(cli);
    EVP_PKEY_free(cak); EVP_PKEY_free(sk); EVP_PKEY_free(ck);
    return ok;
}
