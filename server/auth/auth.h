/* Organiser authentication: login (rate-limited, the KDF off the HTTP threads), sessions (a
 * random token in a cookie, only its SHA-256 stored; a CSRF token per session; idle and absolute
 * expiry), the one-time setup link for the first account, and the rules for emails.
 *
 * Life: lc_auth_new (starts the KDF worker) → use from any thread → lc_auth_free (after HTTP
 * stopped: no request may still wait on a login). Logs name accounts by id only; emails,
 * passwords and tokens are never logged. */
#ifndef LC_AUTH_AUTH_H
#define LC_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/password.h"
#include "auth/ratelimit.h"
#include "db/db.h"

typedef struct lc_auth lc_auth_t;

typedef struct {
    int64_t session_idle_ms;     /* a session unused this long ends (12 h) */
    int64_t session_lifetime_ms; /* a session ends this long after login, used or not (7 days) */
    int64_t setup_valid_ms;      /* a setup link works this long (24 h) */
    lc_scrypt_params_t kdf;      /* for new hashes (OWASP) */
    int kdf_queue;               /* password jobs waiting at most (16) */
    lc_ratelimit_config_t limits;
} lc_auth_config_t;

void lc_auth_config_default(lc_auth_config_t *cfg);

/* Borrows `db` (it must outlive the auth). NULL on failure (*err set, logged). Main thread. */
lc_auth_t *lc_auth_new(lc_db_t *db, const lc_auth_config_t *cfg, int *err);
/* Stops the KDF worker; NULL-safe, sets *pa to NULL. */
void lc_auth_free(lc_auth_t **pa);
const lc_auth_config_t *lc_auth_config(const lc_auth_t *a);

#define LC_TOKEN_LEN 43 /* session, CSRF and setup tokens: 32 random bytes in base64url */

/* True when `s` has the form of a token (LC_TOKEN_LEN base64url characters). */
bool lc_token_wellformed(const char *s);

/* True for an address of the form local@domain that lectern accepts: ASCII, at most 254 bytes,
 * a local part of 1 to 64 bytes of letters, digits and !#$%&'*+/=?^_`{|}~.- (no leading,
 * trailing or double dot), a domain of at least two dot-separated labels of letters, digits and
 * inner hyphens. */
bool lc_email_valid(const char *s);

/* ---- sessions ---------------------------------------------------------------------------- */

/* Starts a session for an account: writes the cookie token and the CSRF token (both
 * LC_TOKEN_LEN + 1 bytes) and deletes expired sessions on the way. */
int lc_auth_session_new(lc_auth_t *a, int64_t user_id, int64_t now_ms, char *token_out,
                        char *csrf_out);
/* The live session of a cookie token: 0 and *out, or LC_ENOTFOUND (unknown, malformed, or
 * expired — an expired one is deleted). Records the use (throttled) for the idle limit. */
int lc_auth_session_get(lc_auth_t *a, const char *token, int64_t now_ms, lc_auth_session_t *out);
/* Ends the session of a cookie token (logout). 0 or LC_ENOTFOUND. */
int lc_auth_session_end(lc_auth_t *a, const char *token);
/* Whether `header` (X-CSRF-Token, may be NULL) is the session's CSRF token; constant time. */
bool lc_auth_csrf_ok(const lc_auth_session_t *s, const char *header);

/* ---- login and setup: the part that needs the KDF runs on the worker ---------------------
 * Start an operation with a `done(opaque)` callback (called once from the worker thread, with a
 * lock held: only signal from it), then call lc_auth_op_finish from your own thread. A caller
 * that stops waiting calls lc_auth_op_free, which cancels the callback. */
typedef struct lc_auth_op lc_auth_op_t;

/* A login attempt. Returns the operation, or NULL with: *retry_after_ms > 0 (rate-limited),
 * *err = LC_ELIMIT (the KDF queue is full), or another error. The email need not be valid. */
lc_auth_op_t *lc_auth_login_start(lc_auth_t *a, const char *email, const char *password,
                                  size_t password_len, int64_t now_ms, void (*done)(void *),
                                  void *opaque, int64_t *retry_after_ms, int *err);
/* Creating the first account with a setup token. NULL with *err = LC_ENOTFOUND (the token is
 * unknown, used or expired), LC_ECONFLICT (an account exists), LC_ELIMIT (busy) or another
 * error. `email` and `password` must have been validated. */
lc_auth_op_t *lc_auth_setup_start(lc_auth_t *a, const char *token, const char *email,
                                  const char *password, size_t password_len, int64_t now_ms,
                                  void (*done)(void *), void *opaque, int *err);
/* After `done`: 0 and *user_id (logged in / account created), LC_EDENIED (wrong email or
 * password), LC_ENOTFOUND / LC_ECONFLICT (setup, as above, or the email exists), or an error.
 * -EINPROGRESS when the worker has not finished. */
int lc_auth_op_finish(lc_auth_t *a, lc_auth_op_t *op, int64_t now_ms, int64_t *user_id);
/* After it returns, `done` will not be called (the result stays unknown). Any thread. */
void lc_auth_op_cancel(lc_auth_op_t *op);
/* Cancels (if still running) and frees. NULL-safe; sets *pop to NULL. */
void lc_auth_op_free(lc_auth_op_t **pop);

/* ---- the first account --------------------------------------------------------------------- */

/* When no account exists: issues a new setup token (older ones stop working), valid for
 * cfg.setup_valid_ms, writes it to `token_out` (LC_TOKEN_LEN + 1 bytes) and returns 1. When an
 * account exists: deletes any setup token and returns 0. Negative on error. */
int lc_auth_setup_issue(lc_auth_t *a, int64_t now_ms, char *token_out);

#endif
