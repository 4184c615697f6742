#ifndef CCRYPTO_LAZY_H
#define CCRYPTO_LAZY_H
// Private to CCrypto: libcrypto (OpenSSL 3) and libcrypt (libxcrypt) are loaded with dlopen on
// first use (load.c), not linked. Mapping and relocating libcrypto costs every process about
// 2 ms at start (4.7 MB, 21,000 relocations), and renders, diffs and applies never call it:
// content hashes use swift-crypto, compiled into the binary. Only commit signature checks and
// Sprig's key, certificate, AES, random and bcrypt functions come here.
//
// Each OpenSSL function this target calls has a pointer in `ccrypto_fn`, filled by the loader,
// and a macro of the same name (below) that calls through it. Include this after the OpenSSL
// and crypt headers: macros in those headers (sk_*_push, OPENSSL_free, …) expand to these names
// at the call site, so they go through the pointers too. A name missing here is a link error
// (the library is not linked), never a silent direct call.
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <crypt.h>

#define CCRYPTO_HIDDEN __attribute__((visibility("hidden")))

/// The libcrypto functions CCrypto calls (regenerate the list with `nm -u` on the objects).
#define CCRYPTO_LIBCRYPTO_FUNCTIONS(X) \
    X(ASN1_IA5STRING_free) \
    X(ASN1_IA5STRING_new) \
    X(ASN1_OCTET_STRING_dup) \
    X(ASN1_OCTET_STRING_free) \
    X(ASN1_OCTET_STRING_new) \
    X(ASN1_OCTET_STRING_set) \
    X(ASN1_STRING_set) \
    X(AUTHORITY_KEYID_free) \
    X(AUTHORITY_KEYID_new) \
    X(BIO_ctrl) \
    X(BIO_free) \
    X(BIO_new) \
    X(BIO_new_mem_buf) \
    X(BIO_s_mem) \
    X(BN_bin2bn) \
    X(BN_free) \
    X(BN_new) \
    X(BN_rand) \
    X(BN_to_ASN1_INTEGER) \
    X(CRYPTO_free) \
    X(ECDSA_SIG_free) \
    X(ECDSA_SIG_new) \
    X(ECDSA_SIG_set0) \
    X(ERR_clear_error) \
    X(ERR_error_string_n) \
    X(ERR_get_error) \
    X(EVP_CIPHER_CTX_free) \
    X(EVP_CIPHER_CTX_new) \
    X(EVP_CIPHER_CTX_set_padding) \
    X(EVP_CipherFinal_ex) \
    X(EVP_CipherInit_ex) \
    X(EVP_CipherUpdate) \
    X(EVP_Digest) \
    X(EVP_DigestVerify) \
    X(EVP_DigestVerifyInit) \
    X(EVP_MD_CTX_free) \
    X(EVP_MD_CTX_new) \
    X(EVP_MD_fetch) \
    X(EVP_PKEY_CTX_free) \
    X(EVP_PKEY_CTX_new_from_name) \
    X(EVP_PKEY_CTX_new_from_pkey) \
    X(EVP_PKEY_CTX_set_dsa_paramgen_bits) \
    X(EVP_PKEY_CTX_set_dsa_paramgen_q_bits) \
    X(EVP_PKEY_Q_keygen) \
    X(EVP_PKEY_free) \
    X(EVP_PKEY_fromdata) \
    X(EVP_PKEY_fromdata_init) \
    X(EVP_PKEY_get_bits) \
    X(EVP_PKEY_get_size) \
    X(EVP_PKEY_is_a) \
    X(EVP_PKEY_keygen) \
    X(EVP_PKEY_keygen_init) \
    X(EVP_PKEY_new_raw_public_key) \
    X(EVP_PKEY_paramgen) \
    X(EVP_PKEY_paramgen_init) \
    X(EVP_aes_256_cbc) \
    X(EVP_sha1) \
    X(EVP_sha256) \
    X(EVP_sha384) \
    X(EVP_sha512) \
    X(GENERAL_NAMES_free) \
    X(GENERAL_NAMES_new) \
    X(GENERAL_NAME_free) \
    X(GENERAL_NAME_new) \
    X(GENERAL_NAME_set0_value) \
    X(OPENSSL_sk_push) \
    X(OSSL_PARAM_BLD_free) \
    X(OSSL_PARAM_BLD_new) \
    X(OSSL_PARAM_BLD_push_BN) \
    X(OSSL_PARAM_BLD_push_octet_string) \
    X(OSSL_PARAM_BLD_push_utf8_string) \
    X(OSSL_PARAM_BLD_to_param) \
    X(OSSL_PARAM_free) \
    X(PEM_read_bio_PrivateKey) \
    X(PEM_read_bio_X509) \
    X(PEM_write_bio_PrivateKey) \
    X(PEM_write_bio_PrivateKey_traditional) \
    X(PEM_write_bio_X509) \
    X(RAND_bytes) \
    X(X509V3_EXT_conf_nid) \
    X(X509V3_set_ctx) \
    X(X509_EXTENSION_free) \
    X(X509_NAME_add_entry_by_NID) \
    X(X509_NAME_cmp) \
    X(X509_NAME_free) \
    X(X509_NAME_new) \
    X(X509_add1_ext_i2d) \
    X(X509_add_ext) \
    X(X509_free) \
    X(X509_get0_subject_key_id) \
    X(X509_get_serialNumber) \
    X(X509_get_subject_name) \
    X(X509_getm_notAfter) \
    X(X509_getm_notBefore) \
    X(X509_gmtime_adj) \
    X(X509_new) \
    X(X509_set_issuer_name) \
    X(X509_set_pubkey) \
    X(X509_set_subject_name) \
    X(X509_set_version) \
    X(X509_sign) \
    X(X509_time_adj_ex) \
    X(i2d_ECDSA_SIG)

/// The libcrypt functions CCrypto calls (bcrypt).
#define CCRYPTO_LIBCRYPT_FUNCTIONS(X) \
    X(crypt_gensalt_rn) \
    X(crypt_r)

#define CCRYPTO_POINTER(name) __typeof__(name) *name;
struct ccrypto_functions {
    CCRYPTO_LIBCRYPTO_FUNCTIONS(CCRYPTO_POINTER)
    CCRYPTO_LIBCRYPT_FUNCTIONS(CCRYPTO_POINTER)
};
CCRYPTO_HIDDEN extern struct ccrypto_functions ccrypto_fn;

/// Loads libcrypto once (thread-safe); 1 when every function resolved, 0 otherwise (then
/// ccrypto_load_error(), in CCrypto.h, says why, with a fix).
CCRYPTO_HIDDEN int ccrypto_loaded(void);
/// Loads libcrypt once (thread-safe); 1 when every function resolved.
CCRYPTO_HIDDEN int ccrypto_crypt_loaded(void);

// Calls go through the pointers (load.c, which fills them, sees the real declarations).
#ifndef CCRYPTO_LOADER
#define ASN1_IA5STRING_free (ccrypto_fn.ASN1_IA5STRING_free)
#define ASN1_IA5STRING_new (ccrypto_fn.ASN1_IA5STRING_new)
#define ASN1_OCTET_STRING_dup (ccrypto_fn.ASN1_OCTET_STRING_dup)
#define ASN1_OCTET_STRING_free (ccrypto_fn.ASN1_OCTET_STRING_free)
#define ASN1_OCTET_STRING_new (ccrypto_fn.ASN1_OCTET_STRING_new)
#define ASN1_OCTET_STRING_set (ccrypto_fn.ASN1_OCTET_STRING_set)
#define ASN1_STRING_set (ccrypto_fn.ASN1_STRING_set)
#define AUTHORITY_KEYID_free (ccrypto_fn.AUTHORITY_KEYID_free)
#define AUTHORITY_KEYID_new (ccrypto_fn.AUTHORITY_KEYID_new)
#define BIO_ctrl (ccrypto_fn.BIO_ctrl)
#define BIO_free (ccrypto_fn.BIO_free)
#define BIO_new (ccrypto_fn.BIO_new)
#define BIO_new_mem_buf (ccrypto_fn.BIO_new_mem_buf)
#define BIO_s_mem (ccrypto_fn.BIO_s_mem)
#define BN_bin2bn (ccrypto_fn.BN_bin2bn)
#define BN_free (ccrypto_fn.BN_free)
#define BN_new (ccrypto_fn.BN_new)
#define BN_rand (ccrypto_fn.BN_rand)
#define BN_to_ASN1_INTEGER (ccrypto_fn.BN_to_ASN1_INTEGER)
#define CRYPTO_free (ccrypto_fn.CRYPTO_free)
#define ECDSA_SIG_free (ccrypto_fn.ECDSA_SIG_free)
#define ECDSA_SIG_new (ccrypto_fn.ECDSA_SIG_new)
#define ECDSA_SIG_set0 (ccrypto_fn.ECDSA_SIG_set0)
#define ERR_clear_error (ccrypto_fn.ERR_clear_error)
#define ERR_error_string_n (ccrypto_fn.ERR_error_string_n)
#define ERR_get_error (ccrypto_fn.ERR_get_error)
#define EVP_CIPHER_CTX_free (ccrypto_fn.EVP_CIPHER_CTX_free)
#define EVP_CIPHER_CTX_new (ccrypto_fn.EVP_CIPHER_CTX_new)
#define EVP_CIPHER_CTX_set_padding (ccrypto_fn.EVP_CIPHER_CTX_set_padding)
#define EVP_CipherFinal_ex (ccrypto_fn.EVP_CipherFinal_ex)
#define EVP_CipherInit_ex (ccrypto_fn.EVP_CipherInit_ex)
#define EVP_CipherUpdate (ccrypto_fn.EVP_CipherUpdate)
#define EVP_Digest (ccrypto_fn.EVP_Digest)
#define EVP_DigestVerify (ccrypto_fn.EVP_DigestVerify)
#define EVP_DigestVerifyInit (ccrypto_fn.EVP_DigestVerifyInit)
#define EVP_MD_CTX_free (ccrypto_fn.EVP_MD_CTX_free)
#define EVP_MD_CTX_new (ccrypto_fn.EVP_MD_CTX_new)
#define EVP_MD_fetch (ccrypto_fn.EVP_MD_fetch)
#define EVP_PKEY_CTX_free (ccrypto_fn.EVP_PKEY_CTX_free)
#define EVP_PKEY_CTX_new_from_name (ccrypto_fn.EVP_PKEY_CTX_new_from_name)
#define EVP_PKEY_CTX_new_from_pkey (ccrypto_fn.EVP_PKEY_CTX_new_from_pkey)
#define EVP_PKEY_CTX_set_dsa_paramgen_bits (ccrypto_fn.EVP_PKEY_CTX_set_dsa_paramgen_bits)
#define EVP_PKEY_CTX_set_dsa_paramgen_q_bits (ccrypto_fn.EVP_PKEY_CTX_set_dsa_paramgen_q_bits)
#define EVP_PKEY_Q_keygen (ccrypto_fn.EVP_PKEY_Q_keygen)
#define EVP_PKEY_free (ccrypto_fn.EVP_PKEY_free)
#define EVP_PKEY_fromdata (ccrypto_fn.EVP_PKEY_fromdata)
#define EVP_PKEY_fromdata_init (ccrypto_fn.EVP_PKEY_fromdata_init)
#define EVP_PKEY_get_bits (ccrypto_fn.EVP_PKEY_get_bits)
#define EVP_PKEY_get_size (ccrypto_fn.EVP_PKEY_get_size)
#define EVP_PKEY_is_a (ccrypto_fn.EVP_PKEY_is_a)
#define EVP_PKEY_keygen (ccrypto_fn.EVP_PKEY_keygen)
#define EVP_PKEY_keygen_init (ccrypto_fn.EVP_PKEY_keygen_init)
#define EVP_PKEY_new_raw_public_key (ccrypto_fn.EVP_PKEY_new_raw_public_key)
#define EVP_PKEY_paramgen (ccrypto_fn.EVP_PKEY_paramgen)
#define EVP_PKEY_paramgen_init (ccrypto_fn.EVP_PKEY_paramgen_init)
#define EVP_aes_256_cbc (ccrypto_fn.EVP_aes_256_cbc)
#define EVP_sha1 (ccrypto_fn.EVP_sha1)
#define EVP_sha256 (ccrypto_fn.EVP_sha256)
#define EVP_sha384 (ccrypto_fn.EVP_sha384)
#define EVP_sha512 (ccrypto_fn.EVP_sha512)
#define GENERAL_NAMES_free (ccrypto_fn.GENERAL_NAMES_free)
#define GENERAL_NAMES_new (ccrypto_fn.GENERAL_NAMES_new)
#define GENERAL_NAME_free (ccrypto_fn.GENERAL_NAME_free)
#define GENERAL_NAME_new (ccrypto_fn.GENERAL_NAME_new)
#define GENERAL_NAME_set0_value (ccrypto_fn.GENERAL_NAME_set0_value)
#define OPENSSL_sk_push (ccrypto_fn.OPENSSL_sk_push)
#define OSSL_PARAM_BLD_free (ccrypto_fn.OSSL_PARAM_BLD_free)
#define OSSL_PARAM_BLD_new (ccrypto_fn.OSSL_PARAM_BLD_new)
#define OSSL_PARAM_BLD_push_BN (ccrypto_fn.OSSL_PARAM_BLD_push_BN)
#define OSSL_PARAM_BLD_push_octet_string (ccrypto_fn.OSSL_PARAM_BLD_push_octet_string)
#define OSSL_PARAM_BLD_push_utf8_string (ccrypto_fn.OSSL_PARAM_BLD_push_utf8_string)
#define OSSL_PARAM_BLD_to_param (ccrypto_fn.OSSL_PARAM_BLD_to_param)
#define OSSL_PARAM_free (ccrypto_fn.OSSL_PARAM_free)
#define PEM_read_bio_PrivateKey (ccrypto_fn.PEM_read_bio_PrivateKey)
#define PEM_read_bio_X509 (ccrypto_fn.PEM_read_bio_X509)
#define PEM_write_bio_PrivateKey (ccrypto_fn.PEM_write_bio_PrivateKey)
#define PEM_write_bio_PrivateKey_traditional (ccrypto_fn.PEM_write_bio_PrivateKey_traditional)
#define PEM_write_bio_X509 (ccrypto_fn.PEM_write_bio_X509)
#define RAND_bytes (ccrypto_fn.RAND_bytes)
#define X509V3_EXT_conf_nid (ccrypto_fn.X509V3_EXT_conf_nid)
#define X509V3_set_ctx (ccrypto_fn.X509V3_set_ctx)
#define X509_EXTENSION_free (ccrypto_fn.X509_EXTENSION_free)
#define X509_NAME_add_entry_by_NID (ccrypto_fn.X509_NAME_add_entry_by_NID)
#define X509_NAME_cmp (ccrypto_fn.X509_NAME_cmp)
#define X509_NAME_free (ccrypto_fn.X509_NAME_free)
#define X509_NAME_new (ccrypto_fn.X509_NAME_new)
#define X509_add1_ext_i2d (ccrypto_fn.X509_add1_ext_i2d)
#define X509_add_ext (ccrypto_fn.X509_add_ext)
#define X509_free (ccrypto_fn.X509_free)
#define X509_get0_subject_key_id (ccrypto_fn.X509_get0_subject_key_id)
#define X509_get_serialNumber (ccrypto_fn.X509_get_serialNumber)
#define X509_get_subject_name (ccrypto_fn.X509_get_subject_name)
#define X509_getm_notAfter (ccrypto_fn.X509_getm_notAfter)
#define X509_getm_notBefore (ccrypto_fn.X509_getm_notBefore)
#define X509_gmtime_adj (ccrypto_fn.X509_gmtime_adj)
#define X509_new (ccrypto_fn.X509_new)
#define X509_set_issuer_name (ccrypto_fn.X509_set_issuer_name)
#define X509_set_pubkey (ccrypto_fn.X509_set_pubkey)
#define X509_set_subject_name (ccrypto_fn.X509_set_subject_name)
#define X509_set_version (ccrypto_fn.X509_set_version)
#define X509_sign (ccrypto_fn.X509_sign)
#define X509_time_adj_ex (ccrypto_fn.X509_time_adj_ex)
#define i2d_ECDSA_SIG (ccrypto_fn.i2d_ECDSA_SIG)
#define crypt_gensalt_rn (ccrypto_fn.crypt_gensalt_rn)
#define crypt_r (ccrypto_fn.crypt_r)

#endif

#endif
