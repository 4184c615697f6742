#include "lazy.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// libgit2 is loaded on first use (dlopen), not linked: with its dependency tree (mbedTLS,
// libssh2, Kerberos, http-parser, PCRE2, … 13 shared libraries) it costs every process a few
// milliseconds of loading and symbol relocation at start, and most commands (render of a local
// tree, validate, version, diff and apply of a local pattern) never touch a git repository.
// Callers are unchanged: forwarders.c defines each function they use under libgit2's own name
// (hidden, so nothing is exported that could interpose on libgit2's internal calls). As for
// libcurl (Sources/CCurl/shim.c), PATTERN_LIBGIT2 names another libgit2 (a path or soname).
// The soname of the libgit2 the headers describe (libgit2-dev 1.5: libgit2.so.1.5): its ABI is
// the one the forwarders were compiled against.
#define CGIT2_SONAME "libgit2.so." LIBGIT2_SOVERSION

struct cgit2_functions cgit2_fn;
static pthread_once_t cgit2_load_once = PTHREAD_ONCE_INIT;
static int cgit2_is_loaded = 0;
static char cgit2_message[512] = CGIT2_SONAME " was not loaded";

static void cgit2_do_load(void) {
    const char *path = getenv("PATTERN_LIBGIT2");
    if (path == NULL || path[0] == '\0') path = CGIT2_SONAME;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(cgit2_message, sizeof cgit2_message,
                 "cannot load %s (%s); fix: install libgit2 %d.%d (apt-get install libgit2-%d.%d, dnf install libgit2) "
                 "or set PATTERN_LIBGIT2 to the path of " CGIT2_SONAME,
                 path, why ? why : "dlopen failed", LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR,
                 LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR);
        return;
    }
#define CGIT2_RESOLVE(name) \
    cgit2_fn.name = (__typeof__(name) *)dlsym(lib, #name); \
    if (cgit2_fn.name == NULL) { \
        snprintf(cgit2_message, sizeof cgit2_message, \
                 "%s has no %s; fix: install libgit2 %d.%d", path, #name, LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR); \
        return; \
    }
    CGIT2_FUNCTIONS(CGIT2_RESOLVE)
    cgit2_is_loaded = 1;
}

int cgit2_loaded(void) {
    pthread_once(&cgit2_load_once, cgit2_do_load);
    return cgit2_is_loaded;
}

const char *cgit2_load_message(void) { return cgit2_message; }

const char *cgit2_load_error(void) { return cgit2_loaded() ? NULL : cgit2_message; }
