/* The statements for organiser accounts, their login sessions and the setup tokens. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "db/db_internal.h"

enum {
    ST_USER_INSERT,
    ST_USER_BY_EMAIL,
    ST_USER_GET,
    ST_USER_SET_PASSWORD,
    ST_USER_DELETE,
    ST_USER_COUNT,
    ST_USER_LIST,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_TOUCH,
    ST_SESSION_DELETE,
    ST_SESSION_PURGE,
    ST_SESSION_EXPIRED,
    ST_SETUP_CLEAR,
    ST_SETUP_INSERT,
    ST_SETUP_CHECK,
    ST_SETUP_USE,
    ST_COUNT
};

#define USER_COLS "id, email, created_at, password_hash"

static const char *const sql_text[ST_COUNT] = {
    [ST_USER_INSERT] = "INSERT INTO users (email, password_hash, created_at) VALUES (?1, ?2, ?3)",
    [ST_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE email = ?1",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
    [ST_USER_COUNT] = "SELECT count(*) FROM users",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY id",
    [ST_SESSION_INSERT] = "INSERT INTO auth_sessions (token_hash, user_id, csrf_token, created_at, "
                          "last_seen_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    [ST_SESSION_GET] = "SELECT s.id, s.user_id, u.email, s.csrf_token, s.created_at, "
                       "s.last_seen_at, s.expires_at, s.token_hash FROM auth_sessions s "
                       "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
    [ST_SESSION_TOUCH] = "UPDATE auth_sessions SET last_seen_at = ?2 WHERE id = ?1",
    [ST_SESSION_DELETE] = "DELETE FROM auth_sessions WHERE token_hash = ?1",
    [ST_SESSION_PURGE] = "DELETE FROM auth_sessions WHERE expires_at <= ?1 OR last_seen_at < ?2",
    [ST_SESSION_EXPIRED] = "SELECT count(*) FROM auth_sessions WHERE expires_at <= ?1 OR "
                           "last_seen_at < ?2",
    [ST_SETUP_CLEAR] = "DELETE FROM setup_tokens",
    [ST_SETUP_INSERT] = "INSERT INTO setup_tokens (token_hash, created_at, expires_at) "
                        "VALUES (?1, ?2, ?3)",
    [ST_SETUP_CHECK] = "SELECT 1 FROM setup_tokens WHERE token_hash = ?1 AND used_at IS NULL "
                       "AND expires_at > ?2",
    [ST_SETUP_USE] = "UPDATE setup_tokens SET used_at = ?2 WHERE token_hash = ?1 AND "
                     "used_at IS NULL AND expires_at > ?2",
};

int lc_db_accounts_open(lc_db_t *db, sqlite3_stmt ***out)
{
    return lc_db_stmts_open(lc_db_conn(db), sql_text, ST_COUNT, out);
}

void lc_db_accounts_close(sqlite3_stmt ***pst) { lc_db_stmts_close(pst, ST_COUNT); }

/* Locks the connection and returns statement `i` (unlock with unlock()). */
static sqlite3_stmt *lock(lc_db_t *db, int i)
{
    pthread_mutex_lock(&lc_db_conn(db)->lock);
    return lc_db_accounts(db)[i];
}

static void unlock(lc_db_t *db) { pthread_mutex_unlock(&lc_db_conn(db)->lock); }

static int done(lc_db_t *db, sqlite3_stmt *st) { return lc_db_step_done(lc_db_conn(db), st); }

/* Runs a statement that changes at most one row; LC_ENOTFOUND when it changed none. */
static int change_one(lc_db_t *db, sqlite3_stmt *st)
{
    int rc = done(db, st);
    if (rc == 0 && sqlite3_changes(lc_db_conn(db)->conn) == 0)
        rc = LC_ENOTFOUND;
    return rc;
}

/* Runs statement `i`, which returns no rows, with its parameters bound in order: the 32-byte
 * `blob` when given, then `nints` of a and b. With `one`: LC_ENOTFOUND when no row changed. */
static int exec(lc_db_t *db, int i, const uint8_t *blob, int nints, int64_t a, int64_t b,
                bool one)
{
    sqlite3_stmt *st = lock(db, i);
    int k = 1;
    if (blob)
        sqlite3_bind_blob(st, k++, blob, 32, SQLITE_STATIC);
    if (nints > 0)
        sqlite3_bind_int64(st, k++, a);
    if (nints > 1)
        sqlite3_bind_int64(st, k++, b);
    int rc = one ? change_one(db, st) : done(db, st);
    unlock(db);
    return rc;
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static void read_user(sqlite3_stmt *st, void *out, void *extra)
{
    lc_user_t *u = out;
    u->id = sqlite3_column_int64(st, 0);
    copy_text(u->email, sizeof u->email, sqlite3_column_text(st, 1));
    u->created_at_ms = sqlite3_column_int64(st, 2);
    if (extra)
        copy_text(extra, LC_DB_HASH_MAX, sqlite3_column_text(st, 3));
}

/* Steps a statement expected to give at most one row, read by `reader` (may be NULL): 0,
 * LC_ENOTFOUND or LC_EDB. Resets the statement. */
static int one_row(lc_db_t *db, sqlite3_stmt *st, void (*reader)(sqlite3_stmt *, void *, void *),
                   void *out, void *extra)
{
    int rc, r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        if (reader)
            reader(st, out, extra);
        rc = 0;
    } else if (r == SQLITE_DONE) {
        rc = LC_ENOTFOUND;
    } else {
        LC_ERROR("db", "%s: %s", sqlite3_sql(st), sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* ---- users ----------------------------------------------------------------------------------- */

static int insert_user(lc_db_t *db, const char *email, const char *password_hash, int64_t now_ms,
                       int64_t *id)
{
    sqlite3_stmt *st = lc_db_accounts(db)[ST_USER_INSERT];
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = done(db, st);
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(lc_db_conn(db)->conn);
    return rc;
}

int lc_db_user_insert(lc_db_t *db, const char *email, const char *password_hash, int64_t now_ms,
                      int64_t *id)
{
    size_t elen = strlen(email), hlen = strlen(password_hash);
    if (elen < 3 || elen >= LC_DB_EMAIL_MAX || hlen < 16 || hlen >= LC_DB_HASH_MAX)
        return -EINVAL;
    lock(db, ST_USER_INSERT);
    int rc = insert_user(db, email, password_hash, now_ms, id);
    unlock(db);
    return rc;
}

int lc_db_user_by_email(lc_db_t *db, const char *email, lc_user_t *out, char *hash_out)
{
    sqlite3_stmt *st = lock(db, ST_USER_BY_EMAIL);
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    int rc = one_row(db, st, read_user, out, hash_out);
    unlock(db);
    return rc;
}

int lc_db_user_get(lc_db_t *db, int64_t id, lc_user_t *out)
{
    sqlite3_stmt *st = lock(db, ST_USER_GET);
    sqlite3_bind_int64(st, 1, id);
    int rc = one_row(db, st, read_user, out, NULL);
    unlock(db);
    return rc;
}

int lc_db_user_set_password(lc_db_t *db, int64_t id, const char *password_hash)
{
    sqlite3_stmt *st = lock(db, ST_USER_SET_PASSWORD);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_STATIC);
    int rc = change_one(db, st);
    unlock(db);
    return rc;
}

int lc_db_user_delete(lc_db_t *db, int64_t id)
{
    return exec(db, ST_USER_DELETE, NULL, 1, id, 0, true);
}

static void read_count(sqlite3_stmt *st, void *out, void *extra)
{
    (void)extra;
    *(int64_t *)out = sqlite3_column_int64(st, 0);
}

static int count_users(lc_db_t *db, int64_t *count)
{
    return one_row(db, lc_db_accounts(db)[ST_USER_COUNT], read_count, count, NULL);
}

int lc_db_user_count(lc_db_t *db, int64_t *count)
{
    lock(db, ST_USER_COUNT);
    int rc = count_users(db, count);
    unlock(db);
    return rc;
}

int lc_db_user_list(lc_db_t *db, int (*cb)(void *opaque, const lc_user_t *u), void *opaque)
{
    sqlite3_stmt *st = lock(db, ST_USER_LIST);
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        lc_user_t u;
        read_user(st, &u, NULL);
        if (cb(opaque, &u))
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        LC_ERROR("db", "user list: %s", sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    unlock(db);
    return rc;
}

/* ---- login sessions -------------------------------------------------------------------------- */

int lc_db_auth_session_insert(lc_db_t *db, const uint8_t token_hash[32], int64_t user_id,
                              const char *csrf_token, int64_t now_ms, int64_t expires_at_ms)
{
    sqlite3_stmt *st = lock(db, ST_SESSION_INSERT);
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_text(st, 3, csrf_token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int64(st, 5, expires_at_ms);
    int rc = done(db, st);
    if (rc == -EINVAL)
        rc = LC_ENOTFOUND; /* the foreign key: the account was deleted meanwhile */
    unlock(db);
    return rc;
}

static void read_session(sqlite3_stmt *st, void *out, void *extra)
{
    lc_auth_session_t *s = out;
    s->id = sqlite3_column_int64(st, 0);
    s->user_id = sqlite3_column_int64(st, 1);
    copy_text(s->email, sizeof s->email, sqlite3_column_text(st, 2));
    copy_text(s->csrf_token, sizeof s->csrf_token, sqlite3_column_text(st, 3));
    s->created_at_ms = sqlite3_column_int64(st, 4);
    s->last_seen_ms = sqlite3_column_int64(st, 5);
    s->expires_at_ms = sqlite3_column_int64(st, 6);
    /* The index found the row by its hash; compare it once more, in constant time, as the
     * stream key lookup does. */
    const uint8_t *want = extra;
    const void *stored = sqlite3_column_blob(st, 7);
    if (sqlite3_column_bytes(st, 7) != 32 || !stored || !lc_ct_equal(stored, want, 32))
        s->id = 0;
}

int lc_db_auth_session_get(lc_db_t *db, const uint8_t token_hash[32], lc_auth_session_t *out)
{
    sqlite3_stmt *st = lock(db, ST_SESSION_GET);
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    int rc = one_row(db, st, read_session, out, (void *)token_hash);
    if (rc == 0 && out->id == 0)
        rc = LC_ENOTFOUND;
    unlock(db);
    return rc;
}

int lc_db_auth_session_touch(lc_db_t *db, int64_t id, int64_t now_ms)
{
    return exec(db, ST_SESSION_TOUCH, NULL, 2, id, now_ms, true);
}

int lc_db_auth_session_delete(lc_db_t *db, const uint8_t token_hash[32])
{
    return exec(db, ST_SESSION_DELETE, token_hash, 0, 0, 0, true);
}

int lc_db_auth_session_purge(lc_db_t *db, int64_t now_ms, int64_t idle_before_ms, bool dry_run,
                             int64_t *n)
{
    sqlite3_stmt *st = lock(db, dry_run ? ST_SESSION_EXPIRED : ST_SESSION_PURGE);
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, idle_before_ms);
    int64_t count = 0;
    int rc = dry_run ? one_row(db, st, read_count, &count, NULL) : done(db, st);
    if (rc == 0 && !dry_run)
        count = sqlite3_changes(lc_db_conn(db)->conn);
    unlock(db);
    if (n)
        *n = rc == 0 ? count : 0;
    return rc;
}

/* ---- setup tokens ---------------------------------------------------------------------------- */

int lc_db_setup_token_replace(lc_db_t *db, const uint8_t token_hash[32], int64_t now_ms,
                              int64_t expires_at_ms)
{
    struct lc_db_conn *c = lc_db_conn(db);
    sqlite3_stmt *st = lock(db, ST_SETUP_INSERT);
    int rc = lc_db_step_done(c, c->begin);
    if (rc == 0) {
        rc = done(db, lc_db_accounts(db)[ST_SETUP_CLEAR]);
        if (rc == 0) {
            sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now_ms);
            sqlite3_bind_int64(st, 3, expires_at_ms);
            rc = done(db, st);
        }
        rc = lc_db_end_transaction(c, rc);
    }
    unlock(db);
    return rc;
}

int lc_db_setup_token_clear(lc_db_t *db)
{
    return exec(db, ST_SETUP_CLEAR, NULL, 0, 0, 0, false);
}

int lc_db_setup_token_check(lc_db_t *db, const uint8_t token_hash[32], int64_t now_ms)
{
    sqlite3_stmt *st = lock(db, ST_SETUP_CHECK);
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = one_row(db, st, NULL, NULL, NULL);
    unlock(db);
    return rc;
}

int lc_db_setup_complete(lc_db_t *db, const uint8_t token_hash[32], const char *email,
                         const char *password_hash, int64_t now_ms, int64_t *user_id)
{
    struct lc_db_conn *c = lc_db_conn(db);
    sqlite3_stmt *st = lock(db, ST_SETUP_USE);
    int rc = lc_db_step_done(c, c->begin);
    if (rc == 0) {
        int64_t n = 0;
        rc = count_users(db, &n);
        if (rc == 0 && n > 0)
            rc = LC_ECONFLICT;
        if (rc == 0) {
            sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now_ms);
            rc = change_one(db, st);
        }
        if (rc == 0)
            rc = insert_user(db, email, password_hash, now_ms, user_id);
        rc = lc_db_end_transaction(c, rc);
    }
    unlock(db);
    return rc;
}
