// glibc's malloc gives each thread that allocates an arena of its own, in a heap it makes
// writable one page at a time as it grows: a render or no-op apply of 3,000 objects makes about
// 7,000 `mprotect` calls, each taking the process's memory-map lock while the other core faults
// pages in. With a top pad as large as a heap (64 MiB) a heap is made writable once, when it is
// created; that memory is reserved, not touched, so the resident size stays the same. The pad
// also keeps up to that much freed memory at the top of each heap instead of returning it, which
// costs a command that exits nothing but would hold memory in the long-running controller after
// a large reconcile: `controller` keeps glibc's defaults.
//
// This runs as a constructor because the Swift entry point starts a worker thread (whose arena
// takes the pad it finds) before the first line of main.swift runs.
#include "CMallocTuning.h"
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static int top_pad_set = 0;

int pattern_malloc_pads_heaps(int argc, const char *const *argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a == NULL) break;
        if (strcmp(a, "--color") == 0) { i++; continue; }
        if (a[0] == '-') continue;
        return strcmp(a, "controller") != 0;
    }
    return 1;
}

int pattern_malloc_top_pad_set(void) { return top_pad_set; }

#if defined(__GLIBC__)
// glibc calls the executable's constructors with (argc, argv, envp).
__attribute__((constructor)) static void pattern_malloc_tuning(int argc, char **argv, char **envp) {
    (void)envp;
    if (argv != NULL && pattern_malloc_pads_heaps(argc, (const char *const *)argv)) {
        top_pad_set = mallopt(M_TOP_PAD, PATTERN_MALLOC_TOP_PAD) == 1;
    }
}
#endif
