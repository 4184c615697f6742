// Sprig's crypto functions over OpenSSL 3 (libcrypto) and libxcrypt (bcrypt). See CCrypto.h.
#include "CCrypto.h"
#include "lazy.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// The reason libcrypto could not be loaded, in `err`.
static void unloaded(char *err) {
    if (err) snprintf(err, CCRYPTO_ERR_SIZE, "%s", ccrypto_load_error());
}

static void set_err(char *err, const char *what) {
    if (!err) return;
    unsigned long e = ERR_get_error();
    if (e) {
        char buf[200];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err, CCRYPTO_ERR_SIZE, "%s: %s", what, buf);
    } else {
        snprintf(err, CCRYPTO_ERR_SIZE, "%s", what);
    }
    ERR_clear_error();
}

int ccrypto_random(uint8_t *buf, size_t n) {
    if (!ccrypto_loaded()) return 0;
    if (n == 0) return 1;
    return RAND_bytes(buf, (int)n) == 1;
}

int ccrypto_aes256cbc(int encrypt, const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out) {
    if (!ccrypto_loaded()) return 0;
    if (len % 16 != 0) return 0;
    if (len == 0) return 1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = 0, n = 0, m = 0;
    if (ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv, encrypt) == 1 && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
        EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 && EVP_CipherFinal_ex(ctx, out + n, &m) == 1 && (size_t)(n + m) == len) ok = 1;
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

int ccrypto_bcrypt(const char *password, int cost, const uint8_t salt[16], char *out, size_t out_len) {
    if (!ccrypto_crypt_loaded()) return 0;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2a$", (unsigned long)cost, (const char *)salt, 16, setting, sizeof setting)) return 0;
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data) return 0;
    char *h = crypt_r(password, setting, data);
    int ok = h && h[0] == '$' && strlen(h) < out_len;
    if (ok) strcpy(out, h);
    explicit_bzero(data, sizeof *data);
    free(data);
    return ok;
}

int ccrypto_bcrypt_verify(const char *password, const char *hash) {
    if (!ccrypto_crypt_loaded()) return 0;
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data) return 0;
    char *h = crypt_r(password, hash, data);
    int ok = h && h[0] == '$' && strcmp(h, hash) == 0;
    free(data);
    return ok;
}

void *ccrypto_key_generate(int kind, int bits, char *err) {
    if (!ccrypto_loaded()) { unloaded(err); return NULL; }
    EVP_PKEY *key = NULL;
    switch (kind) {
    case CCRYPTO_KEY_RSA: key = EVP_RSA_gen((unsigned int)bits); break;
    case CCRYPTO_KEY_EC: key = EVP_EC_gen("P-256"); break;
    case CCRYPTO_KEY_ED25519: key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
    case CCRYPTO_KEY_DSA: {
        EVP_PKEY *params = NULL;
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
        if (pctx && EVP_PKEY_paramgen_init(pctx) == 1 && EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, 2048) == 1 &&
            EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pctx, 256) == 1 && EVP_PKEY_paramgen(pctx, &params) == 1) {
            EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
            if (kctx && EVP_PKEY_keygen_init(kctx) == 1) EVP_PKEY_keygen(kctx, &key);
            EVP_PKEY_CTX_free(kctx);
        }
        EVP_PKEY_free(params);
        EVP_PKEY_CTX_free(pctx);
        break;
    }
    default: break;
    }
    if (!key) set_err(err, "key generation failed");
    return key;
}

void *ccrypto_key_from_pem(const char *pem, size_t len, char *err) {
    if (!ccrypto_loaded()) { unloaded(err); return NULL; }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
    BIO_free(bio);
    if (!key) set_err(err, "no private key in PEM");
    return key;
}

int ccrypto_key_kind(const void *key) {
    const EVP_PKEY *k = key;
    if (EVP_PKEY_is_a(k, "RSA")) return CCRYPTO_KEY_RSA;
    if (EVP_PKEY_is_a(k, "DSA")) return CCRYPTO_KEY_DSA;
    if (EVP_PKEY_is_a(k, "EC")) return CCRYPTO_KEY_EC;
    if (EVP_PKEY_is_a(k, "ED25519")) return CCRYPTO_KEY_ED25519;
    return 0;
}

static char *bio_string(BIO *bio) {
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out) { memcpy(out, data, (size_t)n); out[n] = 0; }
    return out;
}

char *ccrypto_key_pem(const void *key) {
    EVP_PKEY *k = (EVP_PKEY *)key;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return NULL;
    int kind = ccrypto_key_kind(k);
    int ok = (kind == CCRYPTO_KEY_RSA || kind == CCRYPTO_KEY_EC || kind == CCRYPTO_KEY_DSA)
        ? PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL, NULL)
        : PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
    char *out = ok == 1 ? bio_string(bio) : NULL;
    BIO_free(bio);
    ERR_clear_error();
    return out;
}

void ccrypto_key_free(void *key) { if (key) EVP_PKEY_free(key); }
void ccrypto_free(char *s) { free(s); }

static X509 *cert_from_pem(const char *pem, size_t len) {
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

int ccrypto_cert_check(const char *pem, size_t len, char *err) {
    if (!ccrypto_loaded()) { unloaded(err); return 0; }
    X509 *x = cert_from_pem(pem, len);
    if (!x) { set_err(err, "x509: malformed certificate"); return 0; }
    X509_free(x);
    return 1;
}

/// Go's asn1 PrintableString alphabet (plus '*' and '&', which Go accepts there too).
static int printable(const char *s) {
    for (; *s; s++) {
        char c = *s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(" '()+,-./:=?*&", c)) continue;
        return 0;
    }
    return 1;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!e) return 0;
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

char *ccrypto_cert_create(const void *subject_key, const void *signer_key, const char *issuer_pem, size_t issuer_len,
                          const char *cn, const char *const *dns, size_t dns_count,
                          const uint8_t *const *ips, const size_t *ip_lens, size_t ip_count,
                          int days, int is_ca, char *err) {
    if (!ccrypto_loaded()) { unloaded(err); return NULL; }
    EVP_PKEY *sub = (EVP_PKEY *)subject_key, *signer = (EVP_PKEY *)signer_key;
    int skind = ccrypto_key_kind(sub), gkind = ccrypto_key_kind(signer);
    if (skind == CCRYPTO_KEY_DSA || skind == 0) { set_err(err, "x509: unsupported public key type: *dsa.PublicKey"); return NULL; }
    if (gkind == CCRYPTO_KEY_DSA || gkind == 0) { set_err(err, "x509: certificate private key does not implement crypto.Signer"); return NULL; }
    X509 *parent = NULL;
    if (issuer_pem) {
        parent = cert_from_pem(issuer_pem, issuer_len);
        if (!parent) { set_err(err, "error parsing certificate"); return NULL; }
    }
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *serial = BN_new();
    GENERAL_NAMES *sans = NULL;
    char *out = NULL;
    int ok = x && name && serial && X509_set_version(x, 2) == 1 &&
        BN_rand(serial, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) != NULL;
    if (ok && cn && *cn)
        ok = X509_NAME_add_entry_by_NID(name, NID_commonName, printable(cn) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING,
                                        (const unsigned char *)cn, -1, -1, 0) == 1;
    ok = ok && X509_set_subject_name(x, name) == 1 &&
        X509_set_issuer_name(x, parent ? X509_get_subject_name(parent) : name) == 1 &&
        X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
        X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) != NULL &&
        X509_set_pubkey(x, sub) == 1;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, parent ? parent : x, x, NULL, NULL, 0);
    ok = ok && add_ext(x, &ctx, NID_key_usage, is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign" : "critical,digitalSignature,keyEncipherment");
    ok = ok && add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    ok = ok && add_ext(x, &ctx, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    if (ok && is_ca) ok = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (ok && parent && X509_get0_subject_key_id(parent) != NULL &&
        X509_NAME_cmp(X509_get_subject_name(parent), name) != 0) {
        AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
        ok = akid && (akid->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(parent))) != NULL &&
            X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) == 1;
        AUTHORITY_KEYID_free(akid);
    }
    if (ok && dns_count + ip_count > 0) {
        sans = GENERAL_NAMES_new();
        ok = sans != NULL;
        for (size_t i = 0; ok && i < dns_count; i++) {
            GENERAL_NAME *g = GENERAL_NAME_new();
            ASN1_IA5STRING *s = ASN1_IA5STRING_new();
            ok = g && s && ASN1_STRING_set(s, dns[i], -1) == 1;
            if (ok) { GENERAL_NAME_set0_value(g, GEN_DNS, s); s = NULL; ok = sk_GENERAL_NAME_push(sans, g) > 0; g = ok ? NULL : g; }
            ASN1_IA5STRING_free(s);
            GENERAL_NAME_free(g);
        }
        for (size_t i = 0; ok && i < ip_count; i++) {
            GENERAL_NAME *g = GENERAL_NAME_new();
            ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
            ok = g && s && ASN1_OCTET_STRING_set(s, ips[i], (int)ip_lens[i]) == 1;
            if (ok) { GENERAL_NAME_set0_value(g, GEN_IPADD, s); s = NULL; ok = sk_GENERAL_NAME_push(sans, g) > 0; g = ok ? NULL : g; }
            ASN1_OCTET_STRING_free(s);
            GENERAL_NAME_free(g);
        }
        ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, sans, !(cn && *cn), X509V3_ADD_DEFAULT) == 1;
    }
    if (ok) {
        const EVP_MD *md = NULL;
        if (gkind == CCRYPTO_KEY_RSA) md = EVP_sha256();
        else if (gkind == CCRYPTO_KEY_EC) {
            int bits = EVP_PKEY_get_bits(signer);
            md = bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
        }
        ok = X509_sign(x, signer, md) > 0;
    }
    if (ok) {
        BIO *bio = BIO_new(BIO_s_mem());
        if (bio && PEM_write_bio_X509(bio, x) == 1) out = bio_string(bio);
        BIO_free(bio);
    }
    if (!out) set_err(err, "error creating certificate");
    GENERAL_NAMES_free(sans);
    BN_free(serial);
    X509_NAME_free(name);
    X509_free(x);
    X509_free(parent);
    ERR_clear_error();
    return out;
}
