#include "lazy.h"
#include <stdlib.h>
#include <string.h>

// git_libgit2_opts is variadic, so it has no forwarder (forwarders.c): it is called through the
// loaded pointer, and fails like any libgit2 call when libgit2 cannot be loaded.
#define CGIT2_OPTS(...) (cgit2_loaded() ? cgit2_fn.git_libgit2_opts(__VA_ARGS__) : -1)

int cgit2_opt_set_ssl_cert_locations(const char *file, const char *dir) {
    return CGIT2_OPTS(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, dir);
}
int cgit2_opt_set_user_agent(const char *agent) {
    return CGIT2_OPTS(GIT_OPT_SET_USER_AGENT, agent);
}
int cgit2_opt_set_search_path(int level, const char *path) {
    return CGIT2_OPTS(GIT_OPT_SET_SEARCH_PATH, level, path);
}
int cgit2_opt_set_owner_validation(int enabled) {
    return CGIT2_OPTS(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}
int cgit2_opt_enable_fsync_gitdir(int enabled) {
    return CGIT2_OPTS(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

int cgit2_last_error(char *buf, size_t size) {
    if (size > 0) buf[0] = 0;
    if (!cgit2_loaded()) {
        // Every call failed because libgit2 is missing: say so (with the fix), as class INVALID.
        if (size > 0) {
            strncpy(buf, cgit2_load_message(), size - 1);
            buf[size - 1] = 0;
        }
        return GIT_ERROR_INVALID;
    }
    const git_error *e = git_error_last();
    if (!e) return -1;
    if (e->message && size > 0) {
        strncpy(buf, e->message, size - 1);
        buf[size - 1] = 0;
    }
    return e->klass;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

cgit2_credentials *cgit2_credentials_new(const char *username, const char *password,
                                         const char *ssh_private_key, const char *ssh_public_key,
                                         const char *ssh_passphrase) {
    cgit2_credentials *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->username = dup_or_null(username);
    c->password = dup_or_null(password);
    c->ssh_private_key = dup_or_null(ssh_private_key);
    c->ssh_public_key = dup_or_null(ssh_public_key);
    c->ssh_passphrase = dup_or_null(ssh_passphrase);
    c->max_attempts = 2;
    return c;
}

static void wipe_free(char *s) {
    if (!s) return;
    volatile char *p = s;
    while (*p) *p++ = 0;
    free(s);
}

void cgit2_credentials_free(cgit2_credentials *c) {
    if (!c) return;
    wipe_free(c->username);
    wipe_free(c->password);
    wipe_free(c->ssh_private_key);
    wipe_free(c->ssh_public_key);
    wipe_free(c->ssh_passphrase);
    free(c);
}

int cgit2_credentials_cb(git_credential **out, const char *url, const char *username_from_url,
                         unsigned int allowed_types, void *payload) {
    (void)url;
    cgit2_credentials *c = payload;
    if (!c) return GIT_PASSTHROUGH;
    const char *user = (username_from_url && *username_from_url) ? username_from_url : c->username;
    int has_secret = ((allowed_types & GIT_CREDENTIAL_SSH_KEY) && c->ssh_private_key) ||
                     ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && c->password);
    if (has_secret) {
        /* libgit2 asks again after the server rejects what we offered: stop after max_attempts */
        c->attempts++;
        if (c->attempts > c->max_attempts) {
            c->rejected = 1;
            git_error_set_str(GIT_ERROR_NET, "the server rejected the configured credentials");
            return GIT_EAUTH;
        }
    }
    if ((allowed_types & GIT_CREDENTIAL_SSH_KEY) && c->ssh_private_key) {
        c->offered = 1;
        return git_credential_ssh_key_new(out, user ? user : "git", c->ssh_public_key,
                                          c->ssh_private_key, c->ssh_passphrase);
    }
    if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && c->password) {
        c->offered = 1;
        return git_credential_userpass_plaintext_new(out, c->username ? c->username : (user ? user : "git"),
                                                     c->password);
    }
    if ((allowed_types & GIT_CREDENTIAL_USERNAME) && user) {
        return git_credential_username_new(out, user);
    }
    return GIT_PASSTHROUGH;
}

void cgit2_fetch_options_set_credentials(git_fetch_options *opts, cgit2_credentials *creds) {
    opts->callbacks.credentials = cgit2_credentials_cb;
    opts->callbacks.payload = creds;
}

int cgit2_create_upstream_remote(git_remote **out, git_repository *repo, const char *name,
                                 const char *url, void *payload) {
    (void)name; (void)payload;
    return git_remote_create(out, repo, "upstream", url);
}

void cgit2_clone_options_use_upstream_remote(git_clone_options *opts) {
    opts->remote_cb = cgit2_create_upstream_remote;
}

/* ---- Deadline stream (see CGit2.h) ---- */
#include <git2/sys/stream.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile int cgit2_connect_ms = 15000;
static volatile int cgit2_low_speed_ms = 30000;
static volatile int cgit2_low_speed_bytes = 1;

void cgit2_set_deadlines(int connect_ms, int low_speed_ms, int low_speed_bytes) {
    cgit2_connect_ms = connect_ms < 0 ? 0 : connect_ms;
    cgit2_low_speed_ms = low_speed_ms < 0 ? 0 : low_speed_ms;
    cgit2_low_speed_bytes = low_speed_bytes < 0 ? 0 : low_speed_bytes;
}

/* The first four members mirror libgit2's `git_socket_stream` exactly: the SSH transport
 * reads the socket descriptor through that layout. */
typedef struct {
    git_stream parent;
    char *host;
    char *port;
    int s;
    int connect_ms, low_speed_ms, low_speed_bytes;
    long long window_start;
    long long window_bytes;
} cgit2_deadline_stream;

static long long cgit2_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cgit2_net_error(cgit2_deadline_stream *st, const char *what, int seconds_ms) {
    char msg[512];
    if (seconds_ms > 0)
        snprintf(msg, sizeof msg, "%s %s:%s: no progress for %d.%ds (deadline)", what, st->host, st->port,
                 seconds_ms / 1000, (seconds_ms % 1000) / 100);
    else
        snprintf(msg, sizeof msg, "%s %s:%s: %s", what, st->host, st->port, strerror(errno));
    git_error_set_str(GIT_ERROR_NET, msg);
}

static int cgit2_wait(int fd, short events, int ms) {
    struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
    for (;;) {
        int r = poll(&p, 1, ms > 0 ? ms : -1);
        if (r < 0 && errno == EINTR) continue;
        return r;
    }
}

static int cgit2_stream_connect(git_stream *stream) {
    cgit2_deadline_stream *st = (cgit2_deadline_stream *)stream;
    struct addrinfo hints, *info = NULL, *p;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    int rc = getaddrinfo(st->host, st->port, &hints, &info);
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "failed to resolve address for %s: %s", st->host, gai_strerror(rc));
        git_error_set_str(GIT_ERROR_NET, msg);
        return -1;
    }
    int s = -1, timed_out = 0, saved = 0;
    for (p = info; p; p = p->ai_next) {
        s = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (s < 0) { saved = errno; continue; }
        int flags = fcntl(s, F_GETFL, 0);
        fcntl(s, F_SETFL, flags | O_NONBLOCK);
        int c = connect(s, p->ai_addr, p->ai_addrlen);
        if (c != 0 && errno == EINPROGRESS) {
            int w = cgit2_wait(s, POLLOUT, st->connect_ms);
            if (w == 0) { timed_out = 1; c = -1; }
            else if (w < 0) { saved = errno; c = -1; }
            else {
                int err = 0; socklen_t len = sizeof err;
                getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) { saved = err; c = -1; } else c = 0;
            }
        } else if (c != 0) {
            saved = errno;
        }
        if (c == 0) { fcntl(s, F_SETFL, flags); break; }  /* blocking again: libssh2 uses it directly */
        close(s);
        s = -1;
    }
    freeaddrinfo(info);
    if (s < 0) {
        if (timed_out) {
            cgit2_net_error(st, "failed to connect to", st->connect_ms);
        } else {
            errno = saved;
            cgit2_net_error(st, "failed to connect to", 0);
        }
        return -1;
    }
    st->s = s;
    st->window_start = cgit2_now_ms();
    st->window_bytes = 0;
    return 0;
}

/* Counts progress; fails when the last full window moved fewer bytes than the limit. */
static int cgit2_progress(cgit2_deadline_stream *st, ssize_t n, const char *what) {
    if (n > 0) st->window_bytes += n;
    if (st->low_speed_ms <= 0) return 0;
    long long now = cgit2_now_ms();
    if (now - st->window_start >= st->low_speed_ms) {
        long long needed = (long long)st->low_speed_bytes * st->low_speed_ms / 1000;
        if (needed < 1) needed = 1;
        if (st->window_bytes < needed) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s %s:%s: transfer slower than %d bytes/s for %ds (low-speed deadline)", what,
                     st->host, st->port, st->low_speed_bytes, st->low_speed_ms / 1000);
            git_error_set_str(GIT_ERROR_NET, msg);
            return -1;
        }
        st->window_start = now;
        st->window_bytes = 0;
    }
    return 0;
}

static ssize_t cgit2_stream_read(git_stream *stream, void *data, size_t len) {
    cgit2_deadline_stream *st = (cgit2_deadline_stream *)stream;
    int w = cgit2_wait(st->s, POLLIN, st->low_speed_ms);
    if (w == 0) { cgit2_net_error(st, "reading from", st->low_speed_ms); return -1; }
    if (w < 0) { cgit2_net_error(st, "reading from", 0); return -1; }
    ssize_t n;
    do { n = recv(st->s, data, len, 0); } while (n < 0 && errno == EINTR);
    if (n < 0) { cgit2_net_error(st, "error receiving data from", 0); return -1; }
    if (cgit2_progress(st, n, "reading from") < 0) return -1;
    return n;
}

static ssize_t cgit2_stream_write(git_stream *stream, const char *data, size_t len, int flags) {
    cgit2_deadline_stream *st = (cgit2_deadline_stream *)stream;
    (void)flags;
    int w = cgit2_wait(st->s, POLLOUT, st->low_speed_ms);
    if (w == 0) { cgit2_net_error(st, "writing to", st->low_speed_ms); return -1; }
    if (w < 0) { cgit2_net_error(st, "writing to", 0); return -1; }
    ssize_t n;
    do { n = send(st->s, data, len, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    if (n < 0) { cgit2_net_error(st, "error sending data to", 0); return -1; }
    return n;
}

static int cgit2_stream_close(git_stream *stream) {
    cgit2_deadline_stream *st = (cgit2_deadline_stream *)stream;
    int rc = 0;
    if (st->s >= 0) rc = close(st->s);
    st->s = -1;
    return rc;
}

static void cgit2_stream_free(git_stream *stream) {
    cgit2_deadline_stream *st = (cgit2_deadline_stream *)stream;
    if (st->s >= 0) close(st->s);
    free(st->host);
    free(st->port);
    free(st);
}

static int cgit2_stream_new(git_stream **out, const char *host, const char *port) {
    cgit2_deadline_stream *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->host = strdup(host ? host : "");
    st->port = strdup(port ? port : "");
    if (!st->host || !st->port) { free(st->host); free(st->port); free(st); return -1; }
    st->parent.version = GIT_STREAM_VERSION;
    st->parent.connect = cgit2_stream_connect;
    st->parent.read = cgit2_stream_read;
    st->parent.write = cgit2_stream_write;
    st->parent.close = cgit2_stream_close;
    st->parent.free = cgit2_stream_free;
    st->s = -1;
    st->connect_ms = cgit2_connect_ms;
    st->low_speed_ms = cgit2_low_speed_ms;
    st->low_speed_bytes = cgit2_low_speed_bytes;
    *out = (git_stream *)st;
    return 0;
}

int cgit2_install_deadline_stream(void) {
    git_stream_registration reg;
    memset(&reg, 0, sizeof reg);
    reg.version = GIT_STREAM_VERSION;
    reg.init = cgit2_stream_new;
    return git_stream_register(GIT_STREAM_STANDARD, &reg);
}
