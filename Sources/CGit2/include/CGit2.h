#ifndef CGIT2_H
#define CGIT2_H
// Thin shim over the system libgit2 (libgit2-dev 1.5). Swift cannot call C variadic
// functions, so every `git_libgit2_opts` option we use gets a typed wrapper here. The
// credential and remote-creation callbacks are plain C so no Swift closure or retained
// object crosses into libgit2 (libgit2 calls the credential callback again after a
// rejected attempt; a C struct owned by the caller for the whole call is the simplest
// payload that survives that).
#include <git2.h>
#include <stddef.h>

// libgit2 itself is loaded with dlopen on the first call of any libgit2 function (load.c), so
// processes that never touch a git repository do not load its ~13 shared libraries. When it
// cannot be loaded, every call returns its failure value and `cgit2_last_error` says why.

/// Why libgit2 could not be loaded (with a `fix:`), or NULL when it is loaded. Loads it.
const char *cgit2_load_error(void);

/// Typed `git_libgit2_opts` wrappers. Return libgit2's error code (0 on success).
int cgit2_opt_set_ssl_cert_locations(const char *file, const char *dir);
int cgit2_opt_set_user_agent(const char *agent);
int cgit2_opt_set_search_path(int level, const char *path);
int cgit2_opt_set_owner_validation(int enabled);
int cgit2_opt_enable_fsync_gitdir(int enabled);

/// Copies the thread-local `git_error_last()` message into `buf` (always NUL-terminated)
/// and returns its error class, or -1 when libgit2 recorded no error. Must run on the same
/// thread, in the same synchronous stretch, as the failing call.
int cgit2_last_error(char *buf, size_t size);

/// Credentials for one network operation. Strings are copied by `cgit2_credentials_new`
/// and freed by `cgit2_credentials_free`; NULL means "not configured".
typedef struct cgit2_credentials {
    char *username;       // for HTTP basic auth; for SSH when the URL has no user
    char *password;       // HTTP password or token
    char *ssh_private_key;
    char *ssh_public_key;
    char *ssh_passphrase;
    int attempts;         // how many times libgit2 asked (callback is called repeatedly)
    int max_attempts;     // give up after this many (default 2)
    int rejected;         // set when we gave up because the server rejected credentials
    int offered;          // set once credentials were handed to libgit2
} cgit2_credentials;

cgit2_credentials *cgit2_credentials_new(const char *username, const char *password,
                                         const char *ssh_private_key, const char *ssh_public_key,
                                         const char *ssh_passphrase);
void cgit2_credentials_free(cgit2_credentials *creds);

/// The credential callback (payload: `cgit2_credentials *`, may be NULL).
int cgit2_credentials_cb(git_credential **out, const char *url, const char *username_from_url,
                         unsigned int allowed_types, void *payload);

/// Sets the credential callback and payload in fetch options.
void cgit2_fetch_options_set_credentials(git_fetch_options *opts, cgit2_credentials *creds);

/// Clone-options `remote_cb` that names the remote `upstream` instead of `origin`.
int cgit2_create_upstream_remote(git_remote **out, git_repository *repo, const char *name,
                                 const char *url, void *payload);
void cgit2_clone_options_use_upstream_remote(git_clone_options *opts);

/// Network deadlines for every libgit2 transport that opens a TCP socket (git://, http://,
/// https:// through the TLS backend, ssh://): libgit2 1.5 has no timeouts of its own, so
/// `cgit2_install_deadline_stream` registers a GIT_STREAM_STANDARD stream (same memory layout
/// as libgit2's socket stream, which the SSH transport relies on) that
/// - gives up connecting after `connect_ms` per address;
/// - fails a read or write that sees no progress for `low_speed_ms`, and a transfer that moves
///   fewer than `low_speed_bytes` bytes in any `low_speed_ms` window (curl's low-speed limit).
/// Values are process-wide; 0 disables a deadline. Errors are GIT_ERROR_NET with the host.
void cgit2_set_deadlines(int connect_ms, int low_speed_ms, int low_speed_bytes);
/// Registers the stream; call after every first `git_libgit2_init` (shutdown clears it).
int cgit2_install_deadline_stream(void);

#endif
