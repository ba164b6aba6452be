/* Sessions, login and setup on top of the database, the KDF worker and the rate limiter. */
#include "auth/auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/kdf.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

struct lc_auth {
    lc_db_t *db;
    lc_auth_config_t cfg;
    lc_ratelimit_t *limits;
    lc_kdf_t *kdf;
    /* What an unknown email is checked against (see lc_password_dummy). */
    char dummy_hash[LC_PASSWORD_HASH_MAX];
};

struct lc_auth_op {
    bool setup;
    lc_kdf_job_t *job;
    uint8_t key[32];          /* login: the rate-limit key; setup: the token's hash */
    int64_t user_id;          /* login: the account, 0 when the email has none */
    char email[LC_DB_EMAIL_MAX]; /* setup: the new account's email */
};

void lc_auth_config_default(lc_auth_config_t *cfg)
{
    *cfg = (lc_auth_config_t){.session_idle_ms = 12 * 3600 * 1000LL,
                              .session_lifetime_ms = 7 * 24 * 3600 * 1000LL,
                              .setup_valid_ms = 24 * 3600 * 1000LL,
                              .kdf = LC_SCRYPT_DEFAULT,
                              .kdf_queue = 16};
    lc_ratelimit_config_default(&cfg->limits);
}

lc_auth_t *lc_auth_new(lc_db_t *db, const lc_auth_config_t *cfg, int *err)
{
    lc_auth_t *a = calloc(1, sizeof *a);
    if (!a) {
        *err = -ENOMEM;
        return NULL;
    }
    a->db = db;
    a->cfg = *cfg;
    *err = lc_password_dummy(&cfg->kdf, a->dummy_hash);
    if (*err < 0)
        goto fail;
    a->limits = lc_ratelimit_new(&cfg->limits);
    if (!a->limits) {
        *err = -ENOMEM;
        goto fail;
    }
    a->kdf = lc_kdf_start(&cfg->kdf, cfg->kdf_queue, err);
    if (!a->kdf)
        goto fail;
    return a;
fail:
    LC_ERROR("auth", "cannot start: %s", lc_strerror(*err));
    lc_auth_free(&a);
    return NULL;
}

void lc_auth_free(lc_auth_t **pa)
{
    if (!pa || !*pa)
        return;
    lc_kdf_stop(&(*pa)->kdf);
    lc_ratelimit_free(&(*pa)->limits);
    free(*pa);
    *pa = NULL;
}

const lc_auth_config_t *lc_auth_config(const lc_auth_t *a) { return &a->cfg; }

bool lc_token_wellformed(const char *s)
{
    if (!s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return n == LC_TOKEN_LEN;
}

static bool dot_atoms_ok(const char *s, size_t len, bool domain)
{
    static const char local_specials[] = "!#$%&'*+/=?^_`{|}~-";
    size_t label = 0, labels = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || (domain && s[i - 1] == '-'))
                return false; /* leading or double dot, or a label ending in '-' */
            label = 0;
            labels++;
            continue;
        }
        if (c >= 0x80 || !(isalnum(c) || (domain ? c == '-' : strchr(local_specials, c) != NULL)))
            return false;
        if (domain && c == '-' && label == 0)
            return false;
        if (domain && ++label > 63)
            return false;
        if (!domain)
            label++;
    }
    if (label == 0 || (domain && s[len - 1] == '-'))
        return false;
    return !domain || labels >= 2;
}

bool lc_email_valid(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n > 254 || !at || strchr(at + 1, '@'))
        return false;
    size_t local = (size_t)(at - s), domain = n - local - 1;
    return local >= 1 && local <= 64 && domain >= 3 && dot_atoms_ok(s, local, false) &&
           dot_atoms_ok(at + 1, domain, true);
}

/* ---- sessions -------------------------------------------------------------------------------- */

int lc_auth_session_new(lc_auth_t *a, int64_t user_id, int64_t now_ms, char *token_out,
                        char *csrf_out)
{
    uint8_t hash[32], unused[32];
    int rc = lc_db_auth_session_purge(a->db, now_ms, now_ms - a->cfg.session_idle_ms, false,
                                      NULL);
    if (rc == 0)
        rc = lc_secret_new(32, token_out, LC_TOKEN_LEN + 1, hash);
    if (rc == 0)
        rc = lc_secret_new(32, csrf_out, LC_TOKEN_LEN + 1, unused);
    if (rc == 0)
        rc = lc_db_auth_session_insert(a->db, hash, user_id, csrf_out, now_ms,
                                       now_ms + a->cfg.session_lifetime_ms);
    return rc;
}

int lc_auth_session_get(lc_auth_t *a, const char *token, int64_t now_ms, lc_auth_session_t *out)
{
    if (!lc_token_wellformed(token))
        return LC_ENOTFOUND;
    uint8_t hash[32];
    lc_sha256(token, strlen(token), hash);
    int rc = lc_db_auth_session_get(a->db, hash, out);
    if (rc < 0)
        return rc;
    if (now_ms >= out->expires_at_ms || now_ms - out->last_seen_ms >= a->cfg.session_idle_ms) {
        lc_db_auth_session_delete(a->db, hash);
        LC_INFO("auth", "organiser %lld: session expired", (long long)out->user_id);
        return LC_ENOTFOUND;
    }
    /* Writing on every request would turn each page view into a write: the idle clock only
     * needs to be right to a tenth of its length (and at most a minute). */
    int64_t step = a->cfg.session_idle_ms / 10 < 60000 ? a->cfg.session_idle_ms / 10 : 60000;
    if (now_ms - out->last_seen_ms >= step && lc_db_auth_session_touch(a->db, out->id, now_ms) == 0)
        out->last_seen_ms = now_ms;
    return 0;
}

int lc_auth_session_end(lc_auth_t *a, const char *token)
{
    if (!lc_token_wellformed(token))
        return LC_ENOTFOUND;
    uint8_t hash[32];
    lc_sha256(token, strlen(token), hash);
    return lc_db_auth_session_delete(a->db, hash);
}

bool lc_auth_csrf_ok(const lc_auth_session_t *s, const char *header)
{
    size_t n = strlen(s->csrf_token);
    return header && n == LC_TOKEN_LEN && strlen(header) == n &&
           lc_ct_equal(header, s->csrf_token, n);
}

/* ---- login and setup ------------------------------------------------------------------------- */

/* The rate-limit key of an email: its hash in lower case, so neither the address nor its
 * letter case matter, and no address is kept in memory. */
static void limit_key(const char *email, uint8_t key[32])
{
    char lower[LC_DB_EMAIL_MAX];
    size_t n = 0;
    for (; email[n] && n < sizeof lower - 1; n++)
        lower[n] = (char)tolower((unsigned char)email[n]);
    lower[n] = 0;
    lc_sha256(lower, n, key);
}

lc_auth_op_t *lc_auth_login_start(lc_auth_t *a, const char *email, const char *password,
                                  size_t password_len, int64_t now_ms, void (*done)(void *),
                                  void *opaque, int64_t *retry_after_ms, int *err)
{
    *retry_after_ms = 0;
    *err = 0;
    lc_auth_op_t *op = calloc(1, sizeof *op);
    if (!op) {
        *err = -ENOMEM;
        return NULL;
    }
    limit_key(email, op->key);
    *retry_after_ms = lc_ratelimit_acquire(a->limits, op->key, now_ms);
    if (*retry_after_ms > 0) {
        free(op);
        return NULL;
    }
    /* An unknown (or malformed) email is checked against the dummy hash: the same KDF work,
     * the same answer, in the same time as a wrong password. */
    char hash[LC_DB_HASH_MAX];
    lc_user_t u;
    int rc = lc_email_valid(email) ? lc_db_user_by_email(a->db, email, &u, hash) : LC_ENOTFOUND;
    if (rc == 0)
        op->user_id = u.id;
    else if (rc == LC_ENOTFOUND)
        memcpy(hash, a->dummy_hash, sizeof hash);
    if (rc == 0 || rc == LC_ENOTFOUND)
        op->job = lc_kdf_verify(a->kdf, password, password_len, hash, done, opaque, &rc);
    if (!op->job) {
        lc_ratelimit_refund(a->limits, op->key);
        free(op);
        *err = rc < 0 ? rc : -EIO;
        return NULL;
    }
    return op;
}

lc_auth_op_t *lc_auth_setup_start(lc_auth_t *a, const char *token, const char *email,
                                  const char *password, size_t password_len, int64_t now_ms,
                                  void (*done)(void *), void *opaque, int *err)
{
    int64_t users = 0;
    int rc = 0;
    lc_auth_op_t *op = NULL;
    if (!lc_token_wellformed(token)) {
        rc = LC_ENOTFOUND;
        goto fail;
    }
    if (!(op = calloc(1, sizeof *op))) {
        rc = -ENOMEM;
        goto fail;
    }
    op->setup = true;
    if ((rc = lc_fmt(op->email, sizeof op->email, "%s", email)) < 0)
        goto fail;
    lc_sha256(token, strlen(token), op->key);
    /* Checked before the KDF runs (a wrong token costs nothing), and again, atomically, when
     * the account is written. */
    if ((rc = lc_db_setup_token_check(a->db, op->key, now_ms)) < 0 ||
        (rc = lc_db_user_count(a->db, &users)) < 0)
        goto fail;
    if (users > 0) {
        rc = LC_ECONFLICT;
        goto fail;
    }
    if (!(op->job = lc_kdf_hash(a->kdf, password, password_len, done, opaque, &rc)))
        goto fail;
    return op;
fail:
    free(op);
    *err = rc;
    return NULL;
}

int lc_auth_op_finish(lc_auth_t *a, lc_auth_op_t *op, int64_t now_ms, int64_t *user_id)
{
    int rc = lc_kdf_job_result(op->job);
    if (rc == -EINPROGRESS)
        return rc;
    const char *hash = lc_kdf_job_hash(op->job);
    if (op->setup) {
        if (rc == 0)
            rc = lc_db_setup_complete(a->db, op->key, op->email, hash, now_ms, user_id);
        if (rc == 0)
            LC_INFO("auth", "organiser %lld created with the setup link", (long long)*user_id);
        return rc;
    }
    if (rc == 0 && op->user_id == 0)
        rc = LC_EDENIED; /* the dummy hash matched nothing, as it never does */
    if (rc == LC_EDENIED) {
        LC_INFO("auth", "login refused: wrong email or password");
        return rc;
    }
    if (rc < 0) {
        lc_ratelimit_refund(a->limits, op->key);
        return rc;
    }
    lc_ratelimit_success(a->limits, op->key);
    *user_id = op->user_id;
    if (hash) {
        int urc = lc_db_user_set_password(a->db, op->user_id, hash);
        if (urc == 0)
            LC_INFO("auth", "organiser %lld: password hash upgraded to the current parameters",
                    (long long)op->user_id);
    }
    LC_INFO("auth", "organiser %lld logged in", (long long)op->user_id);
    return 0;
}

void lc_auth_op_cancel(lc_auth_op_t *op) { lc_kdf_job_cancel(op->job); }

void lc_auth_op_free(lc_auth_op_t **pop)
{
    if (!pop || !*pop)
        return;
    lc_auth_op_t *op = *pop;
    if (op->job) {
        lc_kdf_job_cancel(op->job);
        lc_kdf_job_release(&op->job);
    }
    OPENSSL_cleanse(op, sizeof *op);
    free(op);
    *pop = NULL;
}

/* ---- the first account ----------------------------------------------------------------------- */

int lc_auth_setup_issue(lc_auth_t *a, int64_t now_ms, char *token_out)
{
    int64_t users = 0;
    int rc = lc_db_user_count(a->db, &users);
    if (rc < 0)
        return rc;
    if (users > 0)
        return lc_db_setup_token_clear(a->db);
    uint8_t hash[32];
    rc = lc_secret_new(32, token_out, LC_TOKEN_LEN + 1, hash);
    if (rc == 0)
        rc = lc_db_setup_token_replace(a->db, hash, now_ms, now_ms + a->cfg.setup_valid_ms);
    return rc < 0 ? rc : 1;
}
