#ifndef CCRYPTO_H
#define CCRYPTO_H
// Thin shim over OpenSSL's libcrypto (Debian: libssl-dev, OpenSSL 3): digests and the three
// signature checks commit verification needs. Swift parses the key and signature formats
// (sshsig, OpenPGP) and hands raw numbers here; nothing is kept between calls.
// libcrypto and libcrypt are loaded with dlopen on the first call (load.c), so processes that
// never verify a signature or call Sprig's crypto functions never map them. When a library
// cannot be loaded, every call fails as documented below and ccrypto_load_error() says why.
#include <stddef.h>
#include <stdint.h>

/// NULL when libcrypto is loaded (loading it now if it was not); otherwise why it cannot be,
/// with a fix (PATTERN_LIBCRYPTO names another copy).
const char *ccrypto_load_error(void);
/// The same for libcrypt, which bcrypt needs (PATTERN_LIBCRYPT names another copy).
const char *ccrypto_crypt_load_error(void);

/// Digest algorithms.
enum { CCRYPTO_SHA1 = 1, CCRYPTO_SHA256 = 2, CCRYPTO_SHA512 = 3 };

/// Writes the digest of `data` to `out` (20, 32 or 64 bytes). Returns the digest length, or
/// -1 for an unknown algorithm or an OpenSSL failure.
int ccrypto_digest(int alg, const uint8_t *data, size_t len, uint8_t *out);

/// Ed25519 (RFC 8032) over `msg`: 1 = valid, 0 = invalid, -1 = bad key.
int ccrypto_ed25519_verify(const uint8_t pub[32], const uint8_t sig[64], const uint8_t *msg, size_t len);

/// RSA PKCS#1 v1.5 with digest `alg` over `msg` (the digest is computed here); the key is the
/// big-endian modulus `n` and exponent `e`. 1 = valid, 0 = invalid, -1 = bad key.
int ccrypto_rsa_verify(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, int alg,
                       const uint8_t *sig, size_t sig_len, const uint8_t *msg, size_t len);

/// ECDSA on P-256 with SHA-256 over `msg`; `point` is the uncompressed SEC1 point (65 bytes),
/// `r`/`s` big-endian integers. 1 = valid, 0 = invalid, -1 = bad key.
int ccrypto_ecdsa_p256_verify(const uint8_t *point, size_t point_len, const uint8_t *r, size_t r_len,
                              const uint8_t *s, size_t s_len, const uint8_t *msg, size_t len);

// ---- Sprig's crypto functions (keys.c): randomness, AES-256-CBC, bcrypt (libxcrypt), keys,
// ---- X.509 certificates. Opaque handles are EVP_PKEY* / X509*; strings are malloc'd
// ---- (free with ccrypto_free). Errors: NULL / 0, with a message in `err` (CCRYPTO_ERR_SIZE bytes).

/// Size of the `err` buffers below (room for a library's load error with its fix).
enum { CCRYPTO_ERR_SIZE = 640 };

/// Key kinds, as Sprig's genPrivateKey names them.
enum { CCRYPTO_KEY_RSA = 1, CCRYPTO_KEY_DSA = 2, CCRYPTO_KEY_EC = 3, CCRYPTO_KEY_ED25519 = 4 };

/// `n` bytes from the OpenSSL CSPRNG. 1 = ok.
int ccrypto_random(uint8_t *buf, size_t n);
/// AES-256-CBC over whole 16-byte blocks, no padding (the caller pads as Sprig does).
/// `encrypt` 1 or 0. 1 = ok.
int ccrypto_aes256cbc(int encrypt, const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out);
/// bcrypt `$2a$<cost>$…` of `password` (NUL-terminated, at most 72 bytes) with a 16-byte salt,
/// through libxcrypt. Writes 60 characters + NUL to `out` (at least 64 bytes). 1 = ok.
int ccrypto_bcrypt(const char *password, int cost, const uint8_t salt[16], char *out, size_t out_len);
/// 1 when `hash` (any `$2?$` bcrypt string) is the hash of `password`.
int ccrypto_bcrypt_verify(const char *password, const char *hash);

/// A new private key: RSA (`bits`), DSA (L2048 N256), ECDSA P-256 or Ed25519. NULL on failure.
void *ccrypto_key_generate(int kind, int bits, char *err);
/// A private key from PEM (PKCS#8, PKCS#1, SEC1 or traditional DSA). NULL on failure.
void *ccrypto_key_from_pem(const char *pem, size_t len, char *err);
/// CCRYPTO_KEY_* of a key, 0 for anything else.
int ccrypto_key_kind(const void *key);
/// The key as Sprig writes it: "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY" (SEC1),
/// "DSA PRIVATE KEY" (SEQUENCE {0, p, q, g, y, x}), else "PRIVATE KEY" (PKCS#8).
char *ccrypto_key_pem(const void *key);
void ccrypto_key_free(void *key);

/// An X.509 v3 certificate as Go's x509.CreateCertificate makes it from Sprig's template:
/// random 128-bit serial, subject CN, validity now .. now + `days`, key usage (critical)
/// digitalSignature + keyEncipherment (+ keyCertSign for a CA), extended key usage serverAuth +
/// clientAuth, basic constraints (critical), subject key id for a CA, authority key id when the
/// issuer has a subject key id, SANs (DNS names, then IPs as 4 or 16 bytes; critical when the
/// subject is empty). `issuer_pem` NULL = self-signed with `subject_key`. Returns the PEM.
char *ccrypto_cert_create(const void *subject_key, const void *signer_key, const char *issuer_pem, size_t issuer_len,
                          const char *cn, const char *const *dns, size_t dns_count,
                          const uint8_t *const *ips, const size_t *ip_lens, size_t ip_count,
                          int days, int is_ca, char *err);
/// 1 when `pem` holds a parsable X.509 certificate.
int ccrypto_cert_check(const char *pem, size_t len, char *err);
/// Frees a string returned above.
void ccrypto_free(char *s);
#endif
