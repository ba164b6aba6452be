/* Registrations' personal data as a whole: export cursor, data-subject requests, retention,
 * audit log listing, secrets (leads.h). */
#include "db/leads.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "db/db_internal.h"

/* Personal data is deleted as a set of registrations; the same set is first counted into
 * webinar_stats. Both statements run in one transaction on one connection, so a set with ORDER
 * BY and LIMIT selects the same rows in both. */
#define FOLD_STATS(set)                                                                        \
    "INSERT INTO webinar_stats (webinar_id, registrations, attended_live, seconds_live, "       \
    "seconds_replay) SELECT r.webinar_id, count(DISTINCT r.id), "                               \
    "count(DISTINCT CASE WHEN a.mode = 'live' THEN r.id END), "                                 \
    "coalesce(sum(CASE WHEN a.mode = 'live' THEN a.seconds END), 0), "                          \
    "coalesce(sum(CASE WHEN a.mode = 'replay' THEN a.seconds END), 0) "                         \
    "FROM registrations r LEFT JOIN attendance a ON a.registration_id = r.id "                  \
    "WHERE r.id IN (" set ") GROUP BY r.webinar_id "                                            \
    "ON CONFLICT (webinar_id) DO UPDATE SET "                                                   \
    "registrations = registrations + excluded.registrations, "                                  \
    "attended_live = attended_live + excluded.attended_live, "                                  \
    "seconds_live = seconds_live + excluded.seconds_live, "                                     \
    "seconds_replay = seconds_replay + excluded.seconds_replay"
#define DELETE_REGS(set) "DELETE FROM registrations WHERE id IN (" set ")"

/* `email` compares with the column's collation (NOCASE) and uses registrations_by_email. */
#define SET_OF_EMAIL "SELECT id FROM registrations WHERE email = ?1"
#define SET_EXPIRED                                                                            \
    "SELECT id FROM registrations WHERE webinar_id = ?1 AND last_activity <= ?2 "               \
    "ORDER BY id LIMIT ?3"
#define AUDIT_COLS "id, at, user_id, user_email, action, webinar_id, subject, records"

enum {
    ST_SUBJECT_REGS,
    ST_SUBJECT_ATTENDANCE,
    ST_SUBJECT_COUNT,
    ST_SUBJECT_FOLD,
    ST_SUBJECT_DELETE,
    ST_RET_WEBINARS,
    ST_RET_COUNT,
    ST_RET_FOLD,
    ST_RET_DELETE,
    ST_REC_EXPIRED,
    ST_AUDIT_BEFORE,
    ST_AUDIT_AFTER,
    ST_SECRET,
    ST_BEGIN_READ,
    ST_COUNT
};

static const char *const sql_text[ST_COUNT] = {
    /* The person's registrations: columns 0-20 as lc_db_reg_read, then 21-23. */
    [ST_SUBJECT_REGS] = "SELECT " LC_REG_COLS ", w.slug, w.title, (SELECT count(*) FROM "
                        "join_links l WHERE l.registration_id = r.id) FROM " LC_REG_FROM
                        " JOIN webinars w ON w.id = r.webinar_id WHERE r.email = ?1 "
                        "ORDER BY r.id",
    [ST_SUBJECT_ATTENDANCE] = "SELECT a.registration_id, a.mode, a.joined_at, a.last_seen_at, "
                              "a.seconds FROM attendance a JOIN registrations r ON r.id = "
                              "a.registration_id WHERE r.email = ?1 ORDER BY a.registration_id, "
                              "a.joined_at, a.id",
    [ST_SUBJECT_COUNT] = "SELECT count(*), count(DISTINCT webinar_id), (SELECT count(*) FROM "
                         "join_links l JOIN registrations r ON r.id = l.registration_id WHERE "
                         "r.email = ?1), (SELECT count(*) FROM attendance a JOIN registrations r "
                         "ON r.id = a.registration_id WHERE r.email = ?1) FROM registrations "
                         "WHERE email = ?1",
    [ST_SUBJECT_FOLD] = FOLD_STATS(SET_OF_EMAIL),
    [ST_SUBJECT_DELETE] = DELETE_REGS(SET_OF_EMAIL),
    [ST_RET_WEBINARS] = "SELECT w.id, w.on_demand, EXISTS (SELECT 1 FROM sessions s WHERE "
                        "s.webinar_id = w.id AND s.state = 'live'), (SELECT max(ended_at) FROM "
                        "sessions s WHERE s.webinar_id = w.id), w.starts_at, w.duration_s, "
                        "w.retention_days FROM webinars w WHERE EXISTS (SELECT 1 FROM "
                        "registrations r WHERE r.webinar_id = w.id) ORDER BY w.id",
    [ST_RET_COUNT] = "SELECT count(*) FROM registrations WHERE webinar_id = ?1 AND "
                     "last_activity <= ?2",
    [ST_RET_FOLD] = FOLD_STATS(SET_EXPIRED),
    [ST_RET_DELETE] = DELETE_REGS(SET_EXPIRED),
    [ST_REC_EXPIRED] = "SELECT s.id FROM sessions s JOIN webinars w ON w.id = s.webinar_id "
                       "WHERE w.recording_retention_days IS NOT NULL AND s.state = 'ended' AND "
                       "s.ended_at <= ?1 - w.recording_retention_days * 86400000 ORDER BY s.id",
    [ST_AUDIT_BEFORE] = "SELECT " AUDIT_COLS " FROM audit_log WHERE id < ?1 ORDER BY id DESC "
                        "LIMIT ?2",
    [ST_AUDIT_AFTER] = "SELECT " AUDIT_COLS " FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_SECRET] = "SELECT value FROM server_secrets WHERE name = ?1",
    /* A read transaction that takes no write lock (c->begin is BEGIN IMMEDIATE). */
    [ST_BEGIN_READ] = "BEGIN",
};

int lc_db_leads_open(lc_db_t *db, sqlite3_stmt ***out)
{
    return lc_db_stmts_open(lc_db_conn(db), sql_text, ST_COUNT, out);
}

void lc_db_leads_close(sqlite3_stmt ***pst) { lc_db_stmts_close(pst, ST_COUNT); }

static sqlite3_stmt *stmt(lc_db_t *db, int i) { return lc_db_leads(db)[i]; }

/* Steps `st` to its end, calling row(st, opaque) per row until it returns non-zero; then resets
 * it. The lock is held by the caller. */
static int each(lc_db_t *db, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *opaque),
                void *opaque)
{
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if (row(st, opaque))
            break;
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        LC_ERROR("db", "%s: %s", sqlite3_sql(st), sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* A row of integers into out[0..n-1] (for each()): counts. */
typedef struct {
    int64_t *out;
    int n;
} ints_t;

static int read_ints(sqlite3_stmt *st, void *opaque)
{
    ints_t *v = opaque;
    for (int i = 0; i < v->n; i++)
        v->out[i] = sqlite3_column_int64(st, i);
    return 1;
}

/* ---- the export cursor ------------------------------------------------------------------------ */

struct lc_reg_cursor {
    sqlite3 *conn;
    sqlite3_stmt *rows;
    bool done; /* stepping past the end would start the query again */
};

static const char SQL_EXPORT_COUNT[] = "SELECT count(*) FROM registrations WHERE webinar_id = ?1";
static const char SQL_EXPORT_ROWS[] = "SELECT " LC_REG_COLS " FROM " LC_REG_FROM
                                      " WHERE r.webinar_id = ?1 ORDER BY r.id";

lc_reg_cursor_t *lc_reg_cursor_open(const char *path, int64_t webinar_id, int64_t *count,
                                    int *err)
{
    sqlite3_stmt *st = NULL;
    lc_reg_cursor_t *c = calloc(1, sizeof *c);
    if (!c) {
        *err = -ENOMEM;
        return NULL;
    }
    *err = LC_EDB;
    if (sqlite3_open_v2(path, &c->conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(c->conn, 5000);
    /* A deferred transaction: its snapshot is taken by the count and kept for every row. */
    if (sqlite3_exec(c->conn, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->conn, SQL_EXPORT_COUNT, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, webinar_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    *count = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(c->conn, SQL_EXPORT_ROWS, -1, &c->rows, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(c->rows, 1, webinar_id);
    *err = 0;
    return c;
fail:
    LC_ERROR("db", "export: %s", c->conn ? sqlite3_errmsg(c->conn) : "out of memory");
    sqlite3_finalize(st);
    lc_reg_cursor_close(&c);
    return NULL;
}

int lc_reg_cursor_next(lc_reg_cursor_t *c, lc_reg_row_t *row)
{
    if (c->done)
        return 0;
    int r = sqlite3_step(c->rows);
    if (r == SQLITE_ROW) {
        lc_db_reg_read(c->rows, row);
        return 1;
    }
    c->done = true;
    if (r == SQLITE_DONE)
        return 0;
    LC_ERROR("db", "export: %s", sqlite3_errmsg(c->conn));
    return LC_EDB;
}

void lc_reg_cursor_close(lc_reg_cursor_t **pc)
{
    if (!pc || !*pc)
        return;
    lc_reg_cursor_t *c = *pc;
    sqlite3_finalize(c->rows);
    /* Closing ends the read transaction (nothing was written: a rollback is the same). */
    sqlite3_close_v2(c->conn);
    free(c);
    *pc = NULL;
}

/* ---- data-subject requests -------------------------------------------------------------------- */

typedef struct {
    int (*reg_cb)(void *, const lc_subject_reg_t *);
    int (*att_cb)(void *, const lc_attendance_t *);
    void *opaque;
} subject_visit_t;

static int subject_reg_row(sqlite3_stmt *st, void *opaque)
{
    subject_visit_t *v = opaque;
    lc_subject_reg_t r;
    lc_db_reg_read(st, &r.reg);
    r.webinar_slug = (const char *)sqlite3_column_text(st, 21);
    r.webinar_title = (const char *)sqlite3_column_text(st, 22);
    r.join_links = sqlite3_column_int64(st, 23);
    return v->reg_cb(v->opaque, &r);
}

static int subject_att_row(sqlite3_stmt *st, void *opaque)
{
    subject_visit_t *v = opaque;
    const unsigned char *mode = sqlite3_column_text(st, 1);
    lc_attendance_t a = {.registration_id = sqlite3_column_int64(st, 0),
                         .replay = mode && strcmp((const char *)mode, "replay") == 0,
                         .joined_at_ms = sqlite3_column_int64(st, 2),
                         .last_seen_ms = sqlite3_column_int64(st, 3),
                         .seconds = sqlite3_column_int64(st, 4)};
    return v->att_cb(v->opaque, &a);
}

int lc_db_subject_list(lc_db_t *db, const char *email,
                       int (*reg_cb)(void *opaque, const lc_subject_reg_t *r),
                       int (*att_cb)(void *opaque, const lc_attendance_t *a), void *opaque)
{
    struct lc_db_conn *c = lc_db_conn(db);
    subject_visit_t v = {reg_cb, att_cb, opaque};
    sqlite3_stmt *regs = stmt(db, ST_SUBJECT_REGS), *att = stmt(db, ST_SUBJECT_ATTENDANCE);
    pthread_mutex_lock(&c->lock);
    /* One snapshot, so that the stretches belong to the registrations just listed. */
    int rc = lc_db_step_done(c, stmt(db, ST_BEGIN_READ));
    if (rc == 0) {
        sqlite3_bind_text(regs, 1, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(att, 1, email, -1, SQLITE_STATIC);
        rc = each(db, regs, subject_reg_row, &v);
        if (rc == 0)
            rc = each(db, att, subject_att_row, &v);
        /* Nothing was written: COMMIT just ends the read. */
        rc = lc_db_end_transaction(c, rc);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int lc_db_subject_erase(lc_db_t *db, const char *email, lc_erased_t *out)
{
    struct lc_db_conn *c = lc_db_conn(db);
    int64_t n[4] = {0};
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->lock);
    int rc = lc_db_step_done(c, c->begin);
    if (rc == 0) {
        sqlite3_stmt *count = stmt(db, ST_SUBJECT_COUNT), *fold = stmt(db, ST_SUBJECT_FOLD);
        sqlite3_stmt *del = stmt(db, ST_SUBJECT_DELETE);
        sqlite3_bind_text(count, 1, email, -1, SQLITE_STATIC);
        rc = each(db, count, read_ints, &(ints_t){n, 4});
        if (rc == 0 && n[0] > 0) {
            sqlite3_bind_text(fold, 1, email, -1, SQLITE_STATIC);
            rc = lc_db_step_done(c, fold);
        }
        if (rc == 0 && n[0] > 0) {
            sqlite3_bind_text(del, 1, email, -1, SQLITE_STATIC);
            rc = lc_db_step_done(c, del);
        }
        rc = lc_db_end_transaction(c, rc);
    }
    pthread_mutex_unlock(&c->lock);
    if (rc == 0)
        *out = (lc_erased_t){n[0], n[1], n[2], n[3]};
    return rc;
}

/* ---- retention -------------------------------------------------------------------------------- */

typedef struct {
    int (*cb)(void *, const lc_retention_webinar_t *);
    void *opaque;
} ret_visit_t;

static int retention_row(sqlite3_stmt *st, void *opaque)
{
    ret_visit_t *v = opaque;
    lc_retention_webinar_t w = {
        .webinar_id = sqlite3_column_int64(st, 0),
        .on_demand = sqlite3_column_int(st, 1) != 0,
        .live = sqlite3_column_int(st, 2) != 0,
        .last_ended_ms = sqlite3_column_int64(st, 3), /* NULL (never ran) reads as 0 */
        .starts_at_ms = sqlite3_column_type(st, 4) == SQLITE_NULL ? LC_DB_NO_TIME
                                                                  : sqlite3_column_int64(st, 4),
        .duration_s = sqlite3_column_int(st, 5),
        .retention_days = sqlite3_column_int(st, 6),
    };
    return v->cb(v->opaque, &w);
}

int lc_db_retention_webinars(lc_db_t *db,
                             int (*cb)(void *opaque, const lc_retention_webinar_t *w),
                             void *opaque)
{
    ret_visit_t v = {cb, opaque};
    pthread_mutex_lock(&lc_db_conn(db)->lock);
    int rc = each(db, stmt(db, ST_RET_WEBINARS), retention_row, &v);
    pthread_mutex_unlock(&lc_db_conn(db)->lock);
    return rc;
}

int lc_db_retention_count(lc_db_t *db, int64_t webinar_id, int64_t cutoff_ms, int64_t *n)
{
    sqlite3_stmt *st = stmt(db, ST_RET_COUNT);
    pthread_mutex_lock(&lc_db_conn(db)->lock);
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int64(st, 2, cutoff_ms);
    *n = 0;
    int rc = each(db, st, read_ints, &(ints_t){n, 1});
    pthread_mutex_unlock(&lc_db_conn(db)->lock);
    return rc;
}

static void bind_expired(sqlite3_stmt *st, int64_t webinar_id, int64_t cutoff_ms, int batch)
{
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int64(st, 2, cutoff_ms);
    sqlite3_bind_int(st, 3, batch);
}

int lc_db_retention_delete(lc_db_t *db, int64_t webinar_id, int64_t cutoff_ms, int batch,
                           int64_t *deleted)
{
    struct lc_db_conn *c = lc_db_conn(db);
    *deleted = 0;
    pthread_mutex_lock(&c->lock);
    int rc = lc_db_step_done(c, c->begin);
    if (rc == 0) {
        bind_expired(stmt(db, ST_RET_FOLD), webinar_id, cutoff_ms, batch);
        rc = lc_db_step_done(c, stmt(db, ST_RET_FOLD));
        if (rc == 0) {
            bind_expired(stmt(db, ST_RET_DELETE), webinar_id, cutoff_ms, batch);
            rc = lc_db_step_done(c, stmt(db, ST_RET_DELETE));
        }
        if (rc == 0)
            *deleted = sqlite3_changes(c->conn);
        rc = lc_db_end_transaction(c, rc);
    }
    pthread_mutex_unlock(&c->lock);
    if (rc < 0)
        *deleted = 0;
    return rc;
}

typedef struct {
    int (*cb)(void *, int64_t);
    void *opaque;
} id_visit_t;

static int id_row(sqlite3_stmt *st, void *opaque)
{
    id_visit_t *v = opaque;
    return v->cb(v->opaque, sqlite3_column_int64(st, 0));
}

int lc_db_expired_recordings(lc_db_t *db, int64_t now_ms,
                             int (*cb)(void *opaque, int64_t session_id), void *opaque)
{
    id_visit_t v = {cb, opaque};
    sqlite3_stmt *st = stmt(db, ST_REC_EXPIRED);
    pthread_mutex_lock(&lc_db_conn(db)->lock);
    sqlite3_bind_int64(st, 1, now_ms);
    int rc = each(db, st, id_row, &v);
    pthread_mutex_unlock(&lc_db_conn(db)->lock);
    return rc;
}

/* ---- the audit log ---------------------------------------------------------------------------- */

typedef struct {
    int (*cb)(void *, const lc_audit_row_t *);
    void *opaque;
} audit_visit_t;

static int audit_row(sqlite3_stmt *st, void *opaque)
{
    audit_visit_t *v = opaque;
    lc_audit_row_t r = {
        .id = sqlite3_column_int64(st, 0),
        .e = {.at_ms = sqlite3_column_int64(st, 1),
              .user_id = sqlite3_column_int64(st, 2),
              .user_email = (const char *)sqlite3_column_text(st, 3),
              .action = (const char *)sqlite3_column_text(st, 4),
              .webinar_id = sqlite3_column_int64(st, 5),
              .subject = (const char *)sqlite3_column_text(st, 6),
              .records = sqlite3_column_int64(st, 7)},
    };
    if (!r.e.action)
        r.e.action = "";
    return v->cb(v->opaque, &r);
}

int lc_db_audit_list(lc_db_t *db, int64_t before_id, int64_t after_id, int limit,
                     int (*cb)(void *opaque, const lc_audit_row_t *r), void *opaque)
{
    audit_visit_t v = {cb, opaque};
    sqlite3_stmt *st = stmt(db, after_id >= 0 ? ST_AUDIT_AFTER : ST_AUDIT_BEFORE);
    pthread_mutex_lock(&lc_db_conn(db)->lock);
    sqlite3_bind_int64(st, 1, after_id >= 0 ? after_id : before_id > 0 ? before_id : INT64_MAX);
    sqlite3_bind_int(st, 2, limit);
    int rc = each(db, st, audit_row, &v);
    pthread_mutex_unlock(&lc_db_conn(db)->lock);
    return rc;
}

/* ---- secrets ---------------------------------------------------------------------------------- */

int lc_db_secret_get(lc_db_t *db, const char *name, uint8_t *out, size_t size, size_t *len)
{
    sqlite3_stmt *st = stmt(db, ST_SECRET);
    pthread_mutex_lock(&lc_db_conn(db)->lock);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = LC_ENOTFOUND, r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        rc = n > size ? -ENOSPC : 0;
        if (rc == 0) {
            if (n)
                memcpy(out, sqlite3_column_blob(st, 0), n);
            *len = n;
        }
    } else if (r != SQLITE_DONE) {
        LC_ERROR("db", "secret: %s", sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&lc_db_conn(db)->lock);
    return rc;
}
