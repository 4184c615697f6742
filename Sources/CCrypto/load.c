#define CCRYPTO_LOADER
#include "lazy.h"
#include "CCrypto.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// libcrypto and libcrypt are loaded on first use (dlopen), as libcurl (Sources/CCurl/shim.c) and
// libgit2 (Sources/CGit2/load.c) are. PATTERN_LIBCRYPTO and PATTERN_LIBCRYPT name other copies
// (a path or soname). The sonames are those of the headers the pointers were typed from.
#define CCRYPTO_STR2(x) #x
#define CCRYPTO_STR(x) CCRYPTO_STR2(x)
#define CCRYPTO_SONAME "libcrypto.so." CCRYPTO_STR(OPENSSL_VERSION_MAJOR)
#define CCRYPT_SONAME "libcrypt.so.1"

struct ccrypto_functions ccrypto_fn;

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT, crypt_once = PTHREAD_ONCE_INIT;
static int crypto_ok = 0, crypt_ok = 0;
static char crypto_message[512] = CCRYPTO_SONAME " was not loaded";
static char crypt_message[512] = CCRYPT_SONAME " was not loaded";

static void *open_library(const char *env, const char *soname, char *message, size_t size, const char *fix) {
    const char *path = getenv(env);
    if (path == NULL || path[0] == '\0') path = soname;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(message, size, "cannot load %s (%s); fix: %s, or set %s to the path of %s", path,
                 why ? why : "dlopen failed", fix, env, soname);
    }
    return lib;
}

#define CCRYPTO_RESOLVE(name) \
    ccrypto_fn.name = (__typeof__(name) *)dlsym(lib, #name); \
    if (ccrypto_fn.name == NULL) { \
        snprintf(message, sizeof crypto_message, "%s has no %s; fix: install %s", path, #name, fix); \
        return; \
    }

static void load_crypto(void) {
    const char *fix = "install OpenSSL 3's libcrypto (apt-get install libssl3, dnf install openssl-libs)";
    char *message = crypto_message;
    void *lib = open_library("PATTERN_LIBCRYPTO", CCRYPTO_SONAME, crypto_message, sizeof crypto_message, fix);
    if (lib == NULL) return;
    const char *path = getenv("PATTERN_LIBCRYPTO");
    if (path == NULL || path[0] == '\0') path = CCRYPTO_SONAME;
    CCRYPTO_LIBCRYPTO_FUNCTIONS(CCRYPTO_RESOLVE)
    crypto_ok = 1;
}

static void load_crypt(void) {
    const char *fix = "install libxcrypt (apt-get install libcrypt1, dnf install libxcrypt)";
    char *message = crypt_message;
    void *lib = open_library("PATTERN_LIBCRYPT", CCRYPT_SONAME, crypt_message, sizeof crypt_message, fix);
    if (lib == NULL) return;
    const char *path = getenv("PATTERN_LIBCRYPT");
    if (path == NULL || path[0] == '\0') path = CCRYPT_SONAME;
    CCRYPTO_LIBCRYPT_FUNCTIONS(CCRYPTO_RESOLVE)
    crypt_ok = 1;
}

int ccrypto_loaded(void) {
    pthread_once(&crypto_once, load_crypto);
    return crypto_ok;
}

int ccrypto_crypt_loaded(void) {
    pthread_once(&crypt_once, load_crypt);
    return crypt_ok;
}

const char *ccrypto_load_error(void) { return ccrypto_loaded() ? NULL : crypto_message; }

const char *ccrypto_crypt_load_error(void) { return ccrypto_crypt_loaded() ? NULL : crypt_message; }
