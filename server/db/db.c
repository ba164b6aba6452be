/* Connection set-up and the statements for webinars and sessions. */
#include "db/db.h"
#include "db/db_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

enum {
    ST_WEBINAR_INSERT,
    ST_WEBINAR_SET_KEY,
    ST_WEBINAR_GET,
    ST_WEBINAR_BY_SLUG,
    ST_WEBINAR_BY_KEY,
    ST_WEBINAR_LIST,
    ST_WEBINAR_SET_STATE,
    ST_SESSION_INSERT,
    ST_SESSION_END,
    ST_SESSION_GET,
    ST_SESSION_LIST,
    ST_SESSION_LIST_LIVE,
    ST_WEBINAR_END_IF_IDLE,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_COUNT
};

#define WEBINAR_COLS "id, slug, title, state, created_at, stream_key_hash"
#define SESSION_COLS "id, webinar_id, state, started_at, ended_at, duration_ms, recovered"

static const char *const sql_text[ST_COUNT] = {
    [ST_WEBINAR_INSERT] = "INSERT INTO webinars (slug, title, stream_key_hash, created_at) "
                          "VALUES (?1, ?2, ?3, ?4)",
    [ST_WEBINAR_SET_KEY] = "UPDATE webinars SET stream_key_hash = ?2 WHERE id = ?1",
    [ST_WEBINAR_GET] = "SELECT " WEBINAR_COLS " FROM webinars WHERE id = ?1",
    [ST_WEBINAR_BY_SLUG] = "SELECT " WEBINAR_COLS " FROM webinars WHERE slug = ?1",
    [ST_WEBINAR_BY_KEY] = "SELECT " WEBINAR_COLS " FROM webinars WHERE stream_key_hash = ?1",
    [ST_WEBINAR_LIST] = "SELECT " WEBINAR_COLS " FROM webinars ORDER BY id DESC",
    [ST_WEBINAR_SET_STATE] = "UPDATE webinars SET state = ?2 WHERE id = ?1",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (webinar_id, started_at) VALUES (?1, ?2)",
    [ST_SESSION_END] = "UPDATE sessions SET state = 'ended', ended_at = ?2, duration_ms = ?3, "
                       "recovered = ?4 WHERE id = ?1 AND state = 'live'",
    [ST_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1",
    [ST_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions WHERE webinar_id = ?1 ORDER BY id",
    [ST_SESSION_LIST_LIVE] = "SELECT " SESSION_COLS " FROM sessions WHERE state = 'live' "
                             "ORDER BY id",
    [ST_WEBINAR_END_IF_IDLE] =
        "UPDATE webinars SET state = 'ended' WHERE id = (SELECT webinar_id FROM sessions "
        "WHERE id = ?1) AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.webinar_id = "
        "webinars.id AND s.state = 'live')",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct lc_db {
    struct lc_db_conn c;
    sqlite3_stmt *st[ST_COUNT];
    struct lc_db_accounts *accounts;
};

struct lc_db_conn *lc_db_conn(lc_db_t *db) { return &db->c; }
struct lc_db_accounts *lc_db_accounts(lc_db_t *db) { return db->accounts; }

static const char *const state_names[] = {"scheduled", "live", "ended"};

const char *lc_webinar_state_name(lc_webinar_state_t s)
{
    return (unsigned)s < 3 ? state_names[s] : "unknown";
}

static lc_webinar_state_t parse_state(const unsigned char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp((const char *)s, state_names[i]) == 0)
            return (lc_webinar_state_t)i;
    return LC_WEBINAR_SCHEDULED;
}

static int exec_simple(sqlite3 *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &msg) != SQLITE_OK) {
        LC_ERROR("db", "%s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return LC_EDB;
    }
    return 0;
}

int lc_db_open(const char *path, lc_db_t **out)
{
    int rc = 0;
    lc_db_t *db = calloc(1, sizeof *db);
    if (!db)
        return -ENOMEM;
    pthread_mutex_init(&db->c.lock, NULL);
    if (sqlite3_open_v2(path, &db->c.conn,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        LC_ERROR("db", "cannot open %s: %s", path,
                 db->c.conn ? sqlite3_errmsg(db->c.conn) : "out of memory");
        rc = LC_EDB;
        goto fail;
    }
    sqlite3_extended_result_codes(db->c.conn, 1);
    /* Other processes (the CLI) share the file: wait for their short transactions. */
    sqlite3_busy_timeout(db->c.conn, 5000);
    /* WAL: readers never block the writer; synchronous=NORMAL in WAL is durable against a
     * process crash and loses at most the last commits on power loss, the usual trade-off. */
    if ((rc = exec_simple(db->c.conn, "PRAGMA journal_mode = WAL")) < 0 ||
        (rc = exec_simple(db->c.conn, "PRAGMA synchronous = NORMAL")) < 0 ||
        (rc = exec_simple(db->c.conn, "PRAGMA foreign_keys = ON")) < 0)
        goto fail;
    if ((rc = lc_db_migrate(db->c.conn, lc_embedded_migrations)) < 0)
        goto fail;
    if ((rc = lc_db_prepare_all(&db->c, sql_text, ST_COUNT, db->st)) < 0)
        goto fail;
    db->c.begin = db->st[ST_BEGIN];
    db->c.commit = db->st[ST_COMMIT];
    db->c.rollback = db->st[ST_ROLLBACK];
    if ((rc = lc_db_accounts_open(db, &db->accounts)) < 0)
        goto fail;
    *out = db;
    return 0;
fail:
    lc_db_close(&db);
    return rc;
}

void lc_db_close(lc_db_t **pdb)
{
    if (!pdb || !*pdb)
        return;
    lc_db_t *db = *pdb;
    lc_db_accounts_close(&db->accounts);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    if (db->c.conn && sqlite3_close(db->c.conn) != SQLITE_OK)
        LC_ERROR("db", "close: %s", sqlite3_errmsg(db->c.conn));
    pthread_mutex_destroy(&db->c.lock);
    free(db);
    *pdb = NULL;
}

int lc_db_prepare_all(struct lc_db_conn *c, const char *const *sql, int n, sqlite3_stmt **out)
{
    for (int i = 0; i < n; i++) {
        if (sqlite3_prepare_v3(c->conn, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &out[i], NULL) !=
            SQLITE_OK) {
            LC_ERROR("db", "prepare failed: %s: %s", sqlite3_errmsg(c->conn), sql[i]);
            return LC_EDB;
        }
    }
    return 0;
}

int lc_db_step_done(struct lc_db_conn *c, sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    int rc = 0;
    if (r == SQLITE_DONE)
        rc = 0;
    else if ((r & 0xff) == SQLITE_CONSTRAINT)
        rc = r == SQLITE_CONSTRAINT_UNIQUE ? LC_ECONFLICT : -EINVAL;
    else {
        LC_ERROR("db", "%s: %s", sqlite3_sql(st), sqlite3_errmsg(c->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int step_done(lc_db_t *db, sqlite3_stmt *st) { return lc_db_step_done(&db->c, st); }

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static void read_webinar(sqlite3_stmt *st, lc_webinar_t *w)
{
    w->id = sqlite3_column_int64(st, 0);
    copy_text(w->slug, sizeof w->slug, sqlite3_column_text(st, 1));
    copy_text(w->title, sizeof w->title, sqlite3_column_text(st, 2));
    w->state = parse_state(sqlite3_column_text(st, 3));
    w->created_at_ms = sqlite3_column_int64(st, 4);
}

static void read_session(sqlite3_stmt *st, lc_session_t *s)
{
    s->id = sqlite3_column_int64(st, 0);
    s->webinar_id = sqlite3_column_int64(st, 1);
    const unsigned char *state = sqlite3_column_text(st, 2);
    s->live = state && strcmp((const char *)state, "live") == 0;
    s->started_at_ms = sqlite3_column_int64(st, 3);
    s->ended_at_ms = sqlite3_column_int64(st, 4);
    s->duration_ms = sqlite3_column_int64(st, 5);
    s->recovered = sqlite3_column_int(st, 6) != 0;
}

/* Steps a statement expected to return at most one webinar row. */
static int one_webinar(lc_db_t *db, sqlite3_stmt *st, lc_webinar_t *out, const uint8_t *key_hash)
{
    int rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        rc = 0;
        if (key_hash) {
            const void *stored = sqlite3_column_blob(st, 5);
            if (sqlite3_column_bytes(st, 5) != 32 || !lc_ct_equal(stored, key_hash, 32))
                rc = LC_ENOTFOUND;
        }
        if (rc == 0)
            read_webinar(st, out);
    } else if (r == SQLITE_DONE) {
        rc = LC_ENOTFOUND;
    } else {
        LC_ERROR("db", "%s: %s", sqlite3_sql(st), sqlite3_errmsg(db->c.conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int lc_db_webinar_insert(lc_db_t *db, const char *slug, const char *title,
                         const uint8_t key_hash[32], int64_t now_ms, int64_t *id)
{
    size_t tlen = strlen(title), slen = strlen(slug);
    if (tlen == 0 || tlen >= LC_DB_TITLE_MAX || slen == 0 || slen >= LC_DB_SLUG_MAX)
        return -EINVAL;
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_INSERT];
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, key_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    int rc = step_done(db, st);
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(db->c.conn);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_webinar_set_key_hash(lc_db_t *db, int64_t id, const uint8_t key_hash[32])
{
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_SET_KEY];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, key_hash, 32, SQLITE_STATIC);
    int rc = step_done(db, st);
    if (rc == 0 && sqlite3_changes(db->c.conn) == 0)
        rc = LC_ENOTFOUND;
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_webinar_get(lc_db_t *db, int64_t id, lc_webinar_t *out)
{
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_GET];
    sqlite3_bind_int64(st, 1, id);
    int rc = one_webinar(db, st, out, NULL);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_webinar_by_slug(lc_db_t *db, const char *slug, lc_webinar_t *out)
{
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_BY_SLUG];
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    int rc = one_webinar(db, st, out, NULL);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_webinar_by_key_hash(lc_db_t *db, const uint8_t key_hash[32], lc_webinar_t *out)
{
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_BY_KEY];
    sqlite3_bind_blob(st, 1, key_hash, 32, SQLITE_STATIC);
    int rc = one_webinar(db, st, out, key_hash);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

/* Runs a listing statement, calling one of the callbacks per row with the lock held (callers
 * only copy what they need). */
static int list_rows(lc_db_t *db, sqlite3_stmt *st, int (*wcb)(void *, const lc_webinar_t *),
                     int (*scb)(void *, const lc_session_t *), void *opaque)
{
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int stop;
        if (scb) {
            lc_session_t s;
            read_session(st, &s);
            stop = scb(opaque, &s);
        } else {
            lc_webinar_t w;
            read_webinar(st, &w);
            stop = wcb(opaque, &w);
        }
        if (stop)
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        LC_ERROR("db", "%s: %s", sqlite3_sql(st), sqlite3_errmsg(db->c.conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int lc_db_webinar_list(lc_db_t *db, int (*cb)(void *opaque, const lc_webinar_t *w), void *opaque)
{
    pthread_mutex_lock(&db->c.lock);
    int rc = list_rows(db, db->st[ST_WEBINAR_LIST], cb, NULL, opaque);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_end_transaction(struct lc_db_conn *c, int rc)
{
    if (rc == 0)
        return lc_db_step_done(c, c->commit);
    lc_db_step_done(c, c->rollback);
    return rc;
}

static int in_transaction(lc_db_t *db, int rc) { return lc_db_end_transaction(&db->c, rc); }

int lc_db_session_begin(lc_db_t *db, int64_t webinar_id, int64_t started_at_ms, int64_t *id)
{
    pthread_mutex_lock(&db->c.lock);
    int rc = step_done(db, db->st[ST_BEGIN]);
    if (rc == 0) {
        sqlite3_stmt *st = db->st[ST_SESSION_INSERT];
        sqlite3_bind_int64(st, 1, webinar_id);
        sqlite3_bind_int64(st, 2, started_at_ms);
        rc = step_done(db, st);
        if (rc == -EINVAL)
            rc = LC_ENOTFOUND; /* the foreign key: no such webinar */
        if (rc == 0) {
            *id = sqlite3_last_insert_rowid(db->c.conn);
            st = db->st[ST_WEBINAR_SET_STATE];
            sqlite3_bind_int64(st, 1, webinar_id);
            sqlite3_bind_text(st, 2, "live", -1, SQLITE_STATIC);
            rc = step_done(db, st);
        }
        rc = in_transaction(db, rc);
    }
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_session_end(lc_db_t *db, int64_t session_id, int64_t ended_at_ms, int64_t duration_ms,
                      bool recovered)
{
    pthread_mutex_lock(&db->c.lock);
    int rc = step_done(db, db->st[ST_BEGIN]);
    if (rc == 0) {
        sqlite3_stmt *st = db->st[ST_SESSION_END];
        sqlite3_bind_int64(st, 1, session_id);
        sqlite3_bind_int64(st, 2, ended_at_ms);
        sqlite3_bind_int64(st, 3, duration_ms);
        sqlite3_bind_int(st, 4, recovered ? 1 : 0);
        rc = step_done(db, st);
        if (rc == 0 && sqlite3_changes(db->c.conn) == 0)
            rc = LC_ENOTFOUND;
        if (rc == 0) {
            st = db->st[ST_WEBINAR_END_IF_IDLE];
            sqlite3_bind_int64(st, 1, session_id);
            rc = step_done(db, st);
        }
        rc = in_transaction(db, rc);
    }
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_session_get(lc_db_t *db, int64_t id, lc_session_t *out)
{
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_SESSION_GET];
    sqlite3_bind_int64(st, 1, id);
    int rc, r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        read_session(st, out);
        rc = 0;
    } else if (r == SQLITE_DONE) {
        rc = LC_ENOTFOUND;
    } else {
        LC_ERROR("db", "session get: %s", sqlite3_errmsg(db->c.conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_session_list(lc_db_t *db, int64_t webinar_id,
                       int (*cb)(void *opaque, const lc_session_t *s), void *opaque)
{
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_SESSION_LIST];
    sqlite3_bind_int64(st, 1, webinar_id);
    int rc = list_rows(db, st, NULL, cb, opaque);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_session_list_live(lc_db_t *db, int (*cb)(void *opaque, const lc_session_t *s),
                            void *opaque)
{
    pthread_mutex_lock(&db->c.lock);
    int rc = list_rows(db, db->st[ST_SESSION_LIST_LIVE], NULL, cb, opaque);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}
