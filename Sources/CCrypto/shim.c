#include "CCrypto.h"
#include "lazy.h"
#include <string.h>

#include <pthread.h>

/* Digests fetched from the default provider once. EVP_sha256() and friends make every
 * EVP_Digest call fetch the implementation again (a locked provider lookup that costs more
 * than hashing a small object); a fetched EVP_MD is used as it is. Never freed: they live as
 * long as the process. */
static EVP_MD *fetched_sha1, *fetched_sha256, *fetched_sha512;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void) {
    fetched_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    fetched_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
    ERR_clear_error();
}

static const EVP_MD *md_for(int alg) {
    pthread_once(&fetch_once, fetch_digests);
    switch (alg) {
    case CCRYPTO_SHA1: return fetched_sha1 ? fetched_sha1 : EVP_sha1();
    case CCRYPTO_SHA256: return fetched_sha256 ? fetched_sha256 : EVP_sha256();
    case CCRYPTO_SHA512: return fetched_sha512 ? fetched_sha512 : EVP_sha512();
    default: return NULL;
    }
}

int ccrypto_digest(int alg, const uint8_t *data, size_t len, uint8_t *out) {
    if (!ccrypto_loaded()) return -1;
    const EVP_MD *md = md_for(alg);
    unsigned int n = 0;
    if (!md || EVP_Digest(data, len, out, &n, md, NULL) != 1) { ERR_clear_error(); return -1; }
    return (int)n;
}

/// Verifies with a ready key; `md` NULL for Ed25519 (one-shot, no pre-hash).
static int verify_with(EVP_PKEY *key, const EVP_MD *md, const uint8_t *sig, size_t sig_len,
                       const uint8_t *msg, size_t len) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = -1;
    if (ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1) {
        ok = EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1 ? 1 : 0;
    }
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

int ccrypto_ed25519_verify(const uint8_t pub[32], const uint8_t sig[64], const uint8_t *msg, size_t len) {
    if (!ccrypto_loaded()) return -1;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    if (!key) { ERR_clear_error(); return -1; }
    int ok = verify_with(key, NULL, sig, 64, msg, len);
    EVP_PKEY_free(key);
    return ok;
}

/// A key from OSSL_PARAMs built by `build` (RSA or EC).
static EVP_PKEY *key_from(const char *type, OSSL_PARAM_BLD *bld) {
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *key = NULL;
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
        if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    ERR_clear_error();
    return key;
}

int ccrypto_rsa_verify(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, int alg,
                       const uint8_t *sig, size_t sig_len, const uint8_t *msg, size_t len) {
    if (!ccrypto_loaded()) return -1;
    const EVP_MD *md = md_for(alg);
    if (!md || n_len == 0 || n_len > 2048 || e_len == 0 || e_len > 16) return -1;
    BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *key = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1) {
        key = key_from("RSA", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn); BN_free(be);
    if (!key) return -1;
    // OpenPGP and rsa-sha2-512 pad the signature to the modulus size; OpenSSL wants exactly that.
    uint8_t padded[2048];
    size_t k = (size_t)EVP_PKEY_get_size(key);
    int ok;
    if (sig_len < k && k <= sizeof padded) {
        memset(padded, 0, k - sig_len);
        memcpy(padded + (k - sig_len), sig, sig_len);
        ok = verify_with(key, md, padded, k, msg, len);
    } else {
        ok = verify_with(key, md, sig, sig_len, msg, len);
    }
    EVP_PKEY_free(key);
    return ok;
}

int ccrypto_ecdsa_p256_verify(const uint8_t *point, size_t point_len, const uint8_t *r, size_t r_len,
                              const uint8_t *s, size_t s_len, const uint8_t *msg, size_t len) {
    if (!ccrypto_loaded()) return -1;
    if (point_len != 65 || r_len == 0 || r_len > 33 || s_len == 0 || s_len > 33) return -1;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *key = NULL;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_len) == 1) {
        key = key_from("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    if (!key) return -1;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)r_len, NULL), *bs = BN_bin2bn(s, (int)s_len, NULL);
    int ok = -1;
    if (es && br && bs && ECDSA_SIG_set0(es, br, bs) == 1) {
        br = bs = NULL;  // owned by es now
        unsigned char *der = NULL;
        int der_len = i2d_ECDSA_SIG(es, &der);
        if (der_len > 0) ok = verify_with(key, EVP_sha256(), der, (size_t)der_len, msg, len);
        OPENSSL_free(der);
    }
    BN_free(br); BN_free(bs);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return ok;
}
