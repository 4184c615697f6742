#ifndef CCRYPTO_H
#define CCRYPTO_H
// Thin shim over OpenSSL's libcrypto (Debian: libssl-dev, OpenSSL 3): digests and the three
// signature checks commit verification needs. Swift parses the key and signature formats
// (sshsig, OpenPGP) and hands raw numbers here; nothing is kept between calls.
#include <stddef.h>
#include <stdint.h>

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
#endif
