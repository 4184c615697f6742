#ifndef CGIT2_H
#define CGIT2_H
// Thin shim over the system libgit2 (libgit2-dev). Typed wrappers for variadic calls such as
// git_libgit2_opts are added by the Source work.
#include <git2.h>
#endif
