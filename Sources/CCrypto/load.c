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

/// One library and the functions taken from it.
struct library {
    const char *env, *soname, *fix;
    const char *const *names;
    void **const *slots;  // where each name's address goes in ccrypto_fn (dlsym hands out void *)
    size_t count;
    char *message;
    size_t message_size;
    int *ok;
};

static void load_library(const struct library *l) {
    const char *path = getenv(l->env);
    if (path == NULL || path[0] == '\0') path = l->soname;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(l->message, l->message_size, "cannot load %s (%s); fix: %s, or set %s to the path of %s", path,
                 why ? why : "dlopen failed", l->fix, l->env, l->soname);
        return;
    }
    for (size_t i = 0; i < l->count; i++) {
        *l->slots[i] = dlsym(lib, l->names[i]);
        if (*l->slots[i] == NULL) {
            snprintf(l->message, l->message_size, "%s has no %s; fix: %s", path, l->names[i], l->fix);
            return;
        }
    }
    *l->ok = 1;
}

#define CCRYPTO_NAME(name) #name,
#define CCRYPTO_SLOT(name) (void **)&ccrypto_fn.name,

static void load_crypto(void) {
    static const char *const names[] = { CCRYPTO_LIBCRYPTO_FUNCTIONS(CCRYPTO_NAME) };
    void **const slots[] = { CCRYPTO_LIBCRYPTO_FUNCTIONS(CCRYPTO_SLOT) };
    load_library(&(struct library){ "PATTERN_LIBCRYPTO", CCRYPTO_SONAME,
                                    "install OpenSSL 3's libcrypto (apt-get install libssl3, dnf install openssl-libs)",
                                    names, slots, sizeof names / sizeof names[0], crypto_message, sizeof crypto_message, &crypto_ok });
}

static void load_crypt(void) {
    static const char *const names[] = { CCRYPTO_LIBCRYPT_FUNCTIONS(CCRYPTO_NAME) };
    void **const slots[] = { CCRYPTO_LIBCRYPT_FUNCTIONS(CCRYPTO_SLOT) };
    load_library(&(struct library){ "PATTERN_LIBCRYPT", CCRYPT_SONAME, "install libxcrypt (apt-get install libcrypt1, dnf install libxcrypt)",
                                    names, slots, sizeof names / sizeof names[0], crypt_message, sizeof crypt_message, &crypt_ok });
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
