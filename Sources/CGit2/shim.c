#include "CGit2.h"
#include <stdlib.h>
#include <string.h>

int cgit2_opt_set_ssl_cert_locations(const char *file, const char *dir) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, dir);
}
int cgit2_opt_set_user_agent(const char *agent) {
    return git_libgit2_opts(GIT_OPT_SET_USER_AGENT, agent);
}
int cgit2_opt_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}
int cgit2_opt_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}
int cgit2_opt_enable_fsync_gitdir(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

int cgit2_last_error(char *buf, size_t size) {
    const git_error *e = git_error_last();
    if (size > 0) buf[0] = 0;
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
