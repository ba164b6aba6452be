/* Connection set-up and the statements for webinars and sessions. */
#include "db/db.h"
#include "db/db_internal.h"
#include "db/registrations.h"

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
    ST_WEBINAR_UPDATE,
    ST_WEBINAR_TEXTS,
    ST_WEBINAR_DELETE,
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

#define WEBINAR_COLS                                                                       \
    "id, slug, title, state, created_at, stream_key_hash, starts_at, duration_s, on_demand, "   \
    "access, waiting_room, approval, room_password_hash IS NOT NULL, hide_attendee_names, "     \
    "replay_enabled, replay_requires_registration, retention_days, recording_retention_days, " \
    "updated_at, created_by, consent_version, admit_all, live_key, replay_key, questions_public, " \
    "chat_enabled"
/* The editable columns take parameters ?2 to ?16 and ?20 to ?23 in both the insert and the
 * update (bind_row). */
#define WEBINAR_ROW_SET                                                                        \
    "title = ?2, description = ?3, starts_at = ?4, duration_s = ?5, presenters = ?6, "        \
    "on_demand = ?7, access = ?8, waiting_room = ?9, approval = ?10, room_password_hash = ?11, " \
    "hide_attendee_names = ?12, replay_enabled = ?13, replay_requires_registration = ?14, "   \
    "retention_days = ?15, recording_retention_days = ?16, form_fields = ?20, "                 \
    "privacy_notice = ?21, consent_text = ?22, consent_version = ?23, questions_public = ?26, " \
    "chat_enabled = ?27"
#define SESSION_COLS "id, webinar_id, state, started_at, ended_at, duration_ms, recovered"

static const char *const sql_text[ST_COUNT] = {
    [ST_WEBINAR_INSERT] =
        "INSERT INTO webinars (slug, title, description, starts_at, duration_s, presenters, "
        "on_demand, access, waiting_room, approval, room_password_hash, hide_attendee_names, "
        "replay_enabled, replay_requires_registration, retention_days, "
        "recording_retention_days, stream_key_hash, created_at, updated_at, created_by, "
        "form_fields, privacy_notice, consent_text, consent_version, live_key, replay_key, "
        "questions_public, chat_enabled) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
        "?18, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)",
    [ST_WEBINAR_UPDATE] = "UPDATE webinars SET " WEBINAR_ROW_SET ", updated_at = ?18 "
                          "WHERE id = ?1 AND updated_at = ?17",
    [ST_WEBINAR_TEXTS] = "SELECT description, presenters, room_password_hash, form_fields, "
                         "privacy_notice, consent_text FROM webinars WHERE id = ?1",
    [ST_WEBINAR_DELETE] = "DELETE FROM webinars WHERE id = ?1 AND state != 'live'",
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
    sqlite3_stmt **accounts, **regs, **leads, **ix; /* the entity files' statements */
};

struct lc_db_conn *lc_db_conn(lc_db_t *db) { return &db->c; }
sqlite3_stmt **lc_db_accounts(lc_db_t *db) { return db->accounts; }
sqlite3_stmt **lc_db_regs(lc_db_t *db) { return db->regs; }
sqlite3_stmt **lc_db_leads(lc_db_t *db) { return db->leads; }
sqlite3_stmt **lc_db_ix(lc_db_t *db) { return db->ix; }

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
    if ((rc = lc_db_accounts_open(db, &db->accounts)) < 0 ||
        (rc = lc_db_regs_open(db, &db->regs)) < 0 ||
        (rc = lc_db_leads_open(db, &db->leads)) < 0 ||
        (rc = lc_db_ix_open(db, &db->ix)) < 0)
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
    lc_db_regs_close(&db->regs);
    lc_db_leads_close(&db->leads);
    lc_db_ix_close(&db->ix);
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

int lc_db_stmts_open(struct lc_db_conn *c, const char *const *sql, int n, sqlite3_stmt ***out)
{
    sqlite3_stmt **st = calloc((size_t)n, sizeof *st);
    if (!st)
        return -ENOMEM;
    int rc = lc_db_prepare_all(c, sql, n, st);
    if (rc < 0)
        lc_db_stmts_close(&st, n);
    else
        *out = st;
    return rc;
}

void lc_db_stmts_close(sqlite3_stmt ***pst, int n)
{
    if (!pst || !*pst)
        return;
    for (int i = 0; i < n; i++)
        sqlite3_finalize((*pst)[i]);
    free(*pst);
    *pst = NULL;
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
    lc_webinar_settings_t *k = &w->settings;
    k->starts_at_ms = sqlite3_column_type(st, 6) == SQLITE_NULL ? LC_DB_NO_TIME
                                                                : sqlite3_column_int64(st, 6);
    k->duration_s = sqlite3_column_int(st, 7);
    k->on_demand = sqlite3_column_int(st, 8) != 0;
    const unsigned char *access = sqlite3_column_text(st, 9);
    k->public_access = access && strcmp((const char *)access, "public") == 0;
    k->waiting_room = sqlite3_column_int(st, 10) != 0;
    k->approval = sqlite3_column_int(st, 11) != 0;
    w->has_room_password = sqlite3_column_int(st, 12) != 0;
    k->hide_attendee_names = sqlite3_column_int(st, 13) != 0;
    k->replay_enabled = sqlite3_column_int(st, 14) != 0;
    k->replay_requires_registration = sqlite3_column_int(st, 15) != 0;
    k->retention_days = sqlite3_column_int(st, 16);
    k->recording_retention_days = sqlite3_column_int(st, 17); /* NULL reads as 0: keep */
    w->updated_at_ms = sqlite3_column_int64(st, 18);
    w->created_by = sqlite3_column_int64(st, 19);
    copy_text(k->consent_version, sizeof k->consent_version, sqlite3_column_text(st, 20));
    w->admit_all = sqlite3_column_int(st, 21) != 0;
    copy_text(w->live_key, sizeof w->live_key, sqlite3_column_text(st, 22));
    copy_text(w->replay_key, sizeof w->replay_key, sqlite3_column_text(st, 23));
    k->questions_public = sqlite3_column_int(st, 24) != 0;
    k->chat_enabled = sqlite3_column_int(st, 25) != 0;
}

/* Binds the editable columns (parameters ?2 to ?16, see WEBINAR_ROW_SET). */
static void bind_row(sqlite3_stmt *st, const lc_webinar_row_t *r)
{
    const lc_webinar_settings_t *k = &r->settings;
    sqlite3_bind_text(st, 2, r->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->description ? r->description : "", -1, SQLITE_STATIC);
    if (k->starts_at_ms == LC_DB_NO_TIME)
        sqlite3_bind_null(st, 4);
    else
        sqlite3_bind_int64(st, 4, k->starts_at_ms);
    sqlite3_bind_int(st, 5, k->duration_s);
    sqlite3_bind_text(st, 6, r->presenters_json ? r->presenters_json : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, k->on_demand);
    sqlite3_bind_text(st, 8, k->public_access ? "public" : "registration", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, k->waiting_room);
    sqlite3_bind_int(st, 10, k->approval);
    if (r->room_password_hash)
        sqlite3_bind_text(st, 11, r->room_password_hash, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_int(st, 12, k->hide_attendee_names);
    sqlite3_bind_int(st, 13, k->replay_enabled);
    sqlite3_bind_int(st, 14, k->replay_requires_registration);
    sqlite3_bind_int(st, 26, k->questions_public);
    sqlite3_bind_int(st, 27, k->chat_enabled);
    sqlite3_bind_int(st, 15, k->retention_days);
    if (k->recording_retention_days > 0)
        sqlite3_bind_int(st, 16, k->recording_retention_days);
    else
        sqlite3_bind_null(st, 16);
    sqlite3_bind_text(st, 20, r->form_fields_json ? r->form_fields_json : "[]", -1,
                      SQLITE_STATIC);
    if (r->privacy_notice && r->privacy_notice[0])
        sqlite3_bind_text(st, 21, r->privacy_notice, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 21);
    if (r->consent_text && r->consent_text[0])
        sqlite3_bind_text(st, 22, r->consent_text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 22);
    sqlite3_bind_text(st, 23, k->consent_version[0] ? k->consent_version : "1", -1,
                      SQLITE_STATIC);
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

int lc_db_webinar_insert(lc_db_t *db, const char *slug, const lc_webinar_row_t *row,
                         const uint8_t key_hash[32], int64_t created_by, int64_t now_ms,
                         int64_t *id)
{
    size_t tlen = strlen(row->title), slen = strlen(slug);
    if (tlen == 0 || tlen >= LC_DB_TITLE_MAX || slen == 0 || slen >= LC_DB_SLUG_MAX)
        return -EINVAL;
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_INSERT];
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    bind_row(st, row);
    sqlite3_bind_blob(st, 17, key_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 18, now_ms);
    if (created_by > 0)
        sqlite3_bind_int64(st, 19, created_by);
    else
        sqlite3_bind_null(st, 19);
    char live_key[LC_DB_MEDIA_KEY_MAX], replay_key[LC_DB_MEDIA_KEY_MAX];
    int rc = lc_random_hex(live_key, sizeof live_key);
    if (rc == 0)
        rc = lc_random_hex(replay_key, sizeof replay_key);
    if (rc < 0) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        pthread_mutex_unlock(&db->c.lock);
        return rc;
    }
    sqlite3_bind_text(st, 24, live_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 25, replay_key, -1, SQLITE_TRANSIENT);
    rc = step_done(db, st);
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(db->c.conn);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

/* Whether a webinar with this id exists (the lock is held by the caller). */
static int webinar_exists_locked(lc_db_t *db, int64_t id)
{
    lc_webinar_t w;
    sqlite3_stmt *st = db->st[ST_WEBINAR_GET];
    sqlite3_bind_int64(st, 1, id);
    return one_webinar(db, st, &w, NULL);
}

int lc_db_webinar_update(lc_db_t *db, int64_t id, const lc_webinar_row_t *row,
                         int64_t expect_updated_ms, int64_t new_updated_ms)
{
    if (!row->title[0] || strlen(row->title) >= LC_DB_TITLE_MAX)
        return -EINVAL;
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_UPDATE];
    sqlite3_bind_int64(st, 1, id);
    bind_row(st, row);
    sqlite3_bind_int64(st, 17, expect_updated_ms);
    sqlite3_bind_int64(st, 18, new_updated_ms);
    int rc = step_done(db, st);
    if (rc == 0 && sqlite3_changes(db->c.conn) == 0) {
        rc = webinar_exists_locked(db, id);
        if (rc == 0)
            rc = LC_ECONFLICT; /* edited by someone else since it was read */
    }
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

void lc_webinar_texts_clear(lc_webinar_texts_t *t)
{
    if (!t)
        return;
    free(t->description);
    free(t->presenters_json);
    free(t->room_password_hash);
    free(t->form_fields_json);
    free(t->privacy_notice);
    free(t->consent_text);
    memset(t, 0, sizeof *t);
}

static char *dup_column(sqlite3_stmt *st, int col, bool *oom)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    if (!s)
        return NULL;
    char *d = strdup((const char *)s);
    if (!d)
        *oom = true;
    return d;
}

int lc_db_webinar_texts(lc_db_t *db, int64_t id, lc_webinar_texts_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_TEXTS];
    sqlite3_bind_int64(st, 1, id);
    int rc = 0, r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        out->description = dup_column(st, 0, &oom);
        out->presenters_json = dup_column(st, 1, &oom);
        out->room_password_hash = dup_column(st, 2, &oom);
        out->form_fields_json = dup_column(st, 3, &oom);
        out->privacy_notice = dup_column(st, 4, &oom);
        out->consent_text = dup_column(st, 5, &oom);
        if (oom || !out->description || !out->presenters_json || !out->form_fields_json)
            rc = -ENOMEM;
    } else if (r == SQLITE_DONE) {
        rc = LC_ENOTFOUND;
    } else {
        LC_ERROR("db", "webinar texts: %s", sqlite3_errmsg(db->c.conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&db->c.lock);
    if (rc < 0)
        lc_webinar_texts_clear(out);
    return rc;
}

int lc_db_webinar_delete(lc_db_t *db, int64_t id)
{
    pthread_mutex_lock(&db->c.lock);
    sqlite3_stmt *st = db->st[ST_WEBINAR_DELETE];
    sqlite3_bind_int64(st, 1, id);
    int rc = step_done(db, st);
    if (rc == 0 && sqlite3_changes(db->c.conn) == 0) {
        rc = webinar_exists_locked(db, id);
        if (rc == 0)
            rc = LC_ECONFLICT; /* it exists, so it is live */
    }
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

static int session_get_locked(lc_db_t *db, int64_t id, lc_session_t *out)
{
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
    return rc;
}

int lc_db_session_get(lc_db_t *db, int64_t id, lc_session_t *out)
{
    pthread_mutex_lock(&db->c.lock);
    int rc = session_get_locked(db, id, out);
    pthread_mutex_unlock(&db->c.lock);
    return rc;
}

int lc_db_session_get_with_webinar(lc_db_t *db, int64_t id, lc_session_t *s, lc_webinar_t *w)
{
    pthread_mutex_lock(&db->c.lock);
    int rc = session_get_locked(db, id, s);
    if (rc == 0) {
        sqlite3_stmt *st = db->st[ST_WEBINAR_GET];
        sqlite3_bind_int64(st, 1, s->webinar_id);
        rc = one_webinar(db, st, w, NULL);
    }
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
