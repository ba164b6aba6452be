/* Registrations, join links, admission and attendance (registrations.h). */
#include "db/registrations.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "db/db_internal.h"

static const char *const state_names[] = {"pending", "approved", "rejected"};

const char *lc_reg_state_name(lc_reg_state_t s)
{
    return (unsigned)s < 3 ? state_names[s] : "unknown";
}

int lc_reg_state_parse(const char *s, lc_reg_state_t *out)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (lc_reg_state_t)i;
            return 0;
        }
    return -EINVAL;
}

/* ---- writer jobs ------------------------------------------------------------------------------ */

static const char SQL_REG_INSERT[] =
    "INSERT INTO registrations (webinar_id, email, name, answers, consent_version, consent_at, "
    "utm_source, utm_medium, utm_campaign, referrer, state, decided_at, created_at, "
    "last_activity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?6, ?6) "
    "ON CONFLICT (webinar_id, email) DO NOTHING";
static const char SQL_REG_FIND[] =
    "SELECT id FROM registrations WHERE webinar_id = ?1 AND email = ?2";
static const char SQL_REG_TOUCH[] = "UPDATE registrations SET last_activity = ?2 WHERE id = ?1";
static const char SQL_LINK_INSERT[] =
    "INSERT INTO join_links (token_hash, registration_id, pending, repeat, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
/* Keeps the newest LC_REG_REPEAT_LINKS_MAX repeat links. */
static const char SQL_LINK_TRIM[] =
    "DELETE FROM join_links WHERE registration_id = ?1 AND repeat = 1 AND token_hash NOT IN "
    "(SELECT token_hash FROM join_links WHERE registration_id = ?1 AND repeat = 1 "
    "ORDER BY created_at DESC LIMIT ?2)";

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s && s[0])
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void lc_reg_new_free(void *arg)
{
    lc_reg_new_t *r = arg;
    if (!r)
        return;
    free(r->email);
    free(r->name);
    free(r->answers_json);
    free(r->consent_version);
    free(r->utm_source);
    free(r->utm_medium);
    free(r->utm_campaign);
    free(r->referrer);
    free(r);
}

int lc_db_reg_write(lc_wtx_t *tx, void *arg)
{
    lc_reg_new_t *r = arg;
    sqlite3 *c = lc_wtx_conn(tx);
    sqlite3_stmt *st = lc_wtx_stmt(tx, SQL_REG_INSERT);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, r->webinar_id);
    sqlite3_bind_text(st, 2, r->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->answers_json ? r->answers_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->consent_version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, r->now_ms);
    bind_opt(st, 7, r->utm_source);
    bind_opt(st, 8, r->utm_medium);
    bind_opt(st, 9, r->utm_campaign);
    bind_opt(st, 10, r->referrer);
    sqlite3_bind_text(st, 11, r->approval ? "pending" : "approved", -1, SQLITE_STATIC);
    if (r->approval)
        sqlite3_bind_null(st, 12);
    else
        sqlite3_bind_int64(st, 12, r->now_ms);
    int rc = lc_wtx_step_done(tx, st);
    if (rc < 0)
        return rc;
    r->repeat = sqlite3_changes(c) == 0;
    if (!r->repeat) {
        r->registration_id = sqlite3_last_insert_rowid(c);
    } else {
        /* Registered already: the registration stays exactly as it is; only a new link is
         * added, pending when registrations need approval (as a first one would be). */
        if (!(st = lc_wtx_stmt(tx, SQL_REG_FIND)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, r->webinar_id);
        sqlite3_bind_text(st, 2, r->email, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            return LC_EDB;
        }
        r->registration_id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (!(st = lc_wtx_stmt(tx, SQL_REG_TOUCH)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, r->registration_id);
        sqlite3_bind_int64(st, 2, r->now_ms);
        if ((rc = lc_wtx_step_done(tx, st)) < 0)
            return rc;
    }
    if (!(st = lc_wtx_stmt(tx, SQL_LINK_INSERT)))
        return LC_EDB;
    sqlite3_bind_blob(st, 1, r->token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->registration_id);
    sqlite3_bind_int(st, 3, r->repeat && r->approval);
    sqlite3_bind_int(st, 4, r->repeat);
    sqlite3_bind_int64(st, 5, r->now_ms);
    if ((rc = lc_wtx_step_done(tx, st)) < 0 || !r->repeat)
        return rc;
    if (!(st = lc_wtx_stmt(tx, SQL_LINK_TRIM)))
        return LC_EDB;
    sqlite3_bind_int64(st, 1, r->registration_id);
    sqlite3_bind_int(st, 2, LC_REG_REPEAT_LINKS_MAX);
    return lc_wtx_step_done(tx, st);
}

static const char SQL_ATT_EXTEND[] =
    "UPDATE attendance SET seconds = seconds + ?4, last_seen_at = ?3 WHERE id = "
    "(SELECT id FROM attendance WHERE registration_id = ?1 AND mode = ?2 AND "
    "last_seen_at >= ?5 ORDER BY last_seen_at DESC LIMIT 1)";
static const char SQL_ATT_LAST[] =
    "SELECT last_seen_at FROM attendance WHERE registration_id = ?1 AND mode = ?2 "
    "ORDER BY last_seen_at DESC LIMIT 1";
/* A new stretch: its last_seen_at is the moment it started, so the next heartbeat credits the
 * time in between. */
static const char SQL_ATT_START[] =
    "INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds) "
    "VALUES (?1, ?2, ?3, ?3, 0)";

int lc_db_heartbeat_write(lc_wtx_t *tx, void *arg)
{
    lc_heartbeat_t *h = arg;
    const char *mode = h->replay ? "replay" : "live";
    sqlite3_stmt *st = lc_wtx_stmt(tx, SQL_ATT_EXTEND);
    if (!st)
        return LC_EDB;
    /* The time credited is the time since the previous heartbeat (capped): read it first. */
    sqlite3_stmt *last = lc_wtx_stmt(tx, SQL_ATT_LAST);
    if (!last)
        return LC_EDB;
    sqlite3_bind_int64(last, 1, h->registration_id);
    sqlite3_bind_text(last, 2, mode, -1, SQLITE_STATIC);
    int64_t prev = sqlite3_step(last) == SQLITE_ROW ? sqlite3_column_int64(last, 0) : 0;
    sqlite3_reset(last);
    int rc;
    if (prev && h->now_ms - prev <= LC_HEARTBEAT_GAP_MS) {
        int64_t credit = h->now_ms - prev;
        if (credit < 0)
            credit = 0;
        if (credit > LC_HEARTBEAT_CREDIT_MS)
            credit = LC_HEARTBEAT_CREDIT_MS;
        sqlite3_bind_int64(st, 1, h->registration_id);
        sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, h->now_ms > prev ? h->now_ms : prev);
        sqlite3_bind_int64(st, 4, (credit + 500) / 1000);
        sqlite3_bind_int64(st, 5, prev);
        rc = lc_wtx_step_done(tx, st);
    } else {
        if (!(st = lc_wtx_stmt(tx, SQL_ATT_START)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, h->registration_id);
        sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, h->now_ms);
        rc = lc_wtx_step_done(tx, st);
    }
    if (rc < 0 || !(st = lc_wtx_stmt(tx, SQL_REG_TOUCH)))
        return rc < 0 ? rc : LC_EDB;
    sqlite3_bind_int64(st, 1, h->registration_id);
    sqlite3_bind_int64(st, 2, h->now_ms);
    return lc_wtx_step_done(tx, st);
}

/* ---- the main connection ---------------------------------------------------------------------- */

enum {
    ST_JOIN_GET,
    ST_PASSWORD_OK,
    ST_APPROVE,
    ST_APPROVE_LINKS,
    ST_REJECT_PENDING,
    ST_REJECT_LINKS,
    ST_ADMIT,
    ST_ADMIT_ALL,
    ST_LIST,
    ST_LIST_STATE,
    ST_GET,
    ST_COUNTS,
    ST_AUDIT_ADD,
    ST_FORM,
    ST_COUNT
};

static const char *const sql_text[ST_COUNT] = {
    [ST_JOIN_GET] = "SELECT r.id, r.webinar_id, r.state, l.pending, r.admitted_at IS NOT NULL, "
                    "r.password_ok FROM join_links l JOIN registrations r ON "
                    "r.id = l.registration_id WHERE l.token_hash = ?1",
    [ST_PASSWORD_OK] = "UPDATE registrations SET password_ok = 1, last_activity = ?2 "
                       "WHERE id = ?1",
    [ST_APPROVE] = "UPDATE registrations SET state = 'approved', decided_at = ?3 WHERE id = ?2 "
                   "AND webinar_id = ?1 AND (state != 'approved' OR EXISTS (SELECT 1 FROM "
                   "join_links l WHERE l.registration_id = ?2 AND l.pending = 1))",
    [ST_APPROVE_LINKS] = "UPDATE join_links SET pending = 0 WHERE registration_id = ?2 AND "
                         "pending = 1 AND EXISTS (SELECT 1 FROM registrations WHERE id = ?2 "
                         "AND webinar_id = ?1)",
    [ST_REJECT_PENDING] = "UPDATE registrations SET state = 'rejected', decided_at = ?3 "
                          "WHERE id = ?2 AND webinar_id = ?1 AND state = 'pending'",
    [ST_REJECT_LINKS] = "DELETE FROM join_links WHERE registration_id = ?2 AND pending = 1 AND "
                        "EXISTS (SELECT 1 FROM registrations WHERE id = ?2 AND webinar_id = ?1)",
    [ST_ADMIT] = "UPDATE registrations SET admitted_at = ?3 WHERE id = ?2 AND webinar_id = ?1 "
                 "AND admitted_at IS NULL",
    [ST_ADMIT_ALL] = "UPDATE webinars SET admit_all = ?2 WHERE id = ?1",
    [ST_LIST] = "SELECT " LC_REG_COLS " FROM " LC_REG_FROM " WHERE r.webinar_id = ?1 AND "
                "r.id > ?2 ORDER BY r.id LIMIT ?3",
    [ST_LIST_STATE] = "SELECT " LC_REG_COLS " FROM " LC_REG_FROM " WHERE r.webinar_id = ?1 "
                      "AND r.id > ?2 AND r.state = ?4 ORDER BY r.id LIMIT ?3",
    [ST_GET] = "SELECT " LC_REG_COLS " FROM " LC_REG_FROM " WHERE r.webinar_id = ?1 AND "
               "r.id = ?2",
    [ST_COUNTS] = "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE "
                  "state = 'approved'), count(*) FILTER (WHERE state = 'rejected') FROM "
                  "registrations WHERE webinar_id = ?1",
    [ST_FORM] = "SELECT form_fields FROM webinars WHERE id = ?1",
    [ST_AUDIT_ADD] = "INSERT INTO audit_log (at, user_id, user_email, action, webinar_id, "
                     "subject, records) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
};

int lc_db_regs_open(lc_db_t *db, sqlite3_stmt ***out)
{
    return lc_db_stmts_open(lc_db_conn(db), sql_text, ST_COUNT, out);
}

void lc_db_regs_close(sqlite3_stmt ***pst) { lc_db_stmts_close(pst, ST_COUNT); }

static sqlite3_stmt *lock(lc_db_t *db, int i)
{
    pthread_mutex_lock(&lc_db_conn(db)->lock);
    return lc_db_regs(db)[i];
}

static void unlock(lc_db_t *db) { pthread_mutex_unlock(&lc_db_conn(db)->lock); }

static lc_reg_state_t parse_state(const unsigned char *s)
{
    lc_reg_state_t v = LC_REG_PENDING;
    lc_reg_state_parse((const char *)s, &v);
    return v;
}

int lc_db_join_get(lc_db_t *db, const uint8_t token_hash[32], lc_join_t *out)
{
    sqlite3_stmt *st = lock(db, ST_JOIN_GET);
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    int rc = LC_ENOTFOUND, r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->registration_id = sqlite3_column_int64(st, 0);
        out->webinar_id = sqlite3_column_int64(st, 1);
        out->state = parse_state(sqlite3_column_text(st, 2));
        out->link_pending = sqlite3_column_int(st, 3) != 0;
        out->admitted = sqlite3_column_int(st, 4) != 0;
        out->password_ok = sqlite3_column_int(st, 5) != 0;
        rc = 0;
    } else if (r != SQLITE_DONE) {
        LC_ERROR("db", "join link: %s", sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    unlock(db);
    return rc;
}

int lc_db_reg_password_ok(lc_db_t *db, int64_t registration_id, int64_t now_ms)
{
    sqlite3_stmt *st = lock(db, ST_PASSWORD_OK);
    sqlite3_bind_int64(st, 1, registration_id);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = lc_db_step_done(lc_db_conn(db), st);
    unlock(db);
    return rc;
}

/* Runs statement `i` with (webinar, id, now) for each id, counting the rows it changed. The
 * lock is held by the caller. */
static int each_id(lc_db_t *db, int i, int64_t webinar_id, const int64_t *ids, size_t n,
                   int64_t now_ms, int *changed)
{
    sqlite3_stmt *st = lc_db_regs(db)[i];
    for (size_t k = 0; k < n; k++) {
        sqlite3_bind_int64(st, 1, webinar_id);
        sqlite3_bind_int64(st, 2, ids[k]);
        if (sqlite3_bind_parameter_count(st) >= 3)
            sqlite3_bind_int64(st, 3, now_ms);
        int rc = lc_db_step_done(lc_db_conn(db), st);
        if (rc < 0)
            return rc;
        if (changed)
            *changed += sqlite3_changes(lc_db_conn(db)->conn) > 0;
    }
    return 0;
}

int lc_db_reg_decide(lc_db_t *db, int64_t webinar_id, const int64_t *ids, size_t n, bool approve,
                     int64_t now_ms, int *changed)
{
    struct lc_db_conn *c = lc_db_conn(db);
    *changed = 0;
    pthread_mutex_lock(&c->lock);
    int rc = lc_db_step_done(c, c->begin);
    if (rc < 0) {
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    if (approve) {
        /* The registration first (its condition looks at the pending links), then the links. */
        rc = each_id(db, ST_APPROVE, webinar_id, ids, n, now_ms, changed);
        if (rc == 0)
            rc = each_id(db, ST_APPROVE_LINKS, webinar_id, ids, n, now_ms, NULL);
    } else {
        int links = 0;
        rc = each_id(db, ST_REJECT_PENDING, webinar_id, ids, n, now_ms, changed);
        if (rc == 0)
            rc = each_id(db, ST_REJECT_LINKS, webinar_id, ids, n, now_ms, &links);
        if (links > *changed)
            *changed = links; /* a registration counts once, whichever part was rejected */
    }
    rc = lc_db_end_transaction(c, rc);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int lc_db_reg_admit(lc_db_t *db, int64_t webinar_id, const int64_t *ids, size_t n,
                    int64_t now_ms, int *changed)
{
    struct lc_db_conn *c = lc_db_conn(db);
    *changed = 0;
    pthread_mutex_lock(&c->lock);
    int rc = lc_db_step_done(c, c->begin);
    if (rc == 0)
        rc = lc_db_end_transaction(c, each_id(db, ST_ADMIT, webinar_id, ids, n, now_ms, changed));
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int lc_db_webinar_set_admit_all(lc_db_t *db, int64_t webinar_id, bool on)
{
    sqlite3_stmt *st = lock(db, ST_ADMIT_ALL);
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int(st, 2, on);
    int rc = lc_db_step_done(lc_db_conn(db), st);
    if (rc == 0 && sqlite3_changes(lc_db_conn(db)->conn) == 0)
        rc = LC_ENOTFOUND;
    unlock(db);
    return rc;
}

static const char *opt_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

void lc_db_reg_read(sqlite3_stmt *st, lc_reg_row_t *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->webinar_id = sqlite3_column_int64(st, 1);
    r->email = opt_text(st, 2);
    r->name = opt_text(st, 3);
    r->answers_json = opt_text(st, 4);
    r->consent_version = opt_text(st, 5);
    r->utm_source = opt_text(st, 6);
    r->utm_medium = opt_text(st, 7);
    r->utm_campaign = opt_text(st, 8);
    r->referrer = opt_text(st, 9);
    r->state = parse_state(sqlite3_column_text(st, 10));
    r->pending_links = sqlite3_column_int(st, 11);
    r->consent_at_ms = sqlite3_column_int64(st, 12);
    r->created_at_ms = sqlite3_column_int64(st, 13);
    r->decided_at_ms = sqlite3_column_int64(st, 14);
    r->admitted_at_ms = sqlite3_column_int64(st, 15);
    r->seconds_live = sqlite3_column_int64(st, 16);
    r->seconds_replay = sqlite3_column_int64(st, 17);
    r->attended_live = sqlite3_column_int(st, 18) != 0;
    r->first_joined_ms = sqlite3_column_int64(st, 19);
    r->last_seen_ms = sqlite3_column_int64(st, 20);
    if (!r->email)
        r->email = "";
    if (!r->name)
        r->name = "";
    if (!r->answers_json)
        r->answers_json = "{}";
    if (!r->consent_version)
        r->consent_version = "";
}

/* Steps a listing statement, calling cb per row until it returns non-zero. */
static int each_row(lc_db_t *db, sqlite3_stmt *st, int (*cb)(void *, const lc_reg_row_t *),
                    void *opaque, int *rows)
{
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        lc_reg_row_t row;
        lc_db_reg_read(st, &row);
        ++*rows;
        if (cb(opaque, &row))
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        LC_ERROR("db", "registrations: %s", sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int lc_db_reg_list(lc_db_t *db, int64_t webinar_id, const lc_reg_state_t *state,
                   int64_t after_id, int limit, int (*cb)(void *opaque, const lc_reg_row_t *r),
                   void *opaque)
{
    sqlite3_stmt *st = lock(db, state ? ST_LIST_STATE : ST_LIST);
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit);
    if (state)
        sqlite3_bind_text(st, 4, lc_reg_state_name(*state), -1, SQLITE_STATIC);
    int rows = 0;
    int rc = each_row(db, st, cb, opaque, &rows);
    unlock(db);
    return rc;
}

int lc_db_reg_get(lc_db_t *db, int64_t webinar_id, int64_t id,
                  int (*cb)(void *opaque, const lc_reg_row_t *r), void *opaque)
{
    sqlite3_stmt *st = lock(db, ST_GET);
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int64(st, 2, id);
    int rows = 0;
    int rc = each_row(db, st, cb, opaque, &rows);
    unlock(db);
    return rc == 0 && rows == 0 ? LC_ENOTFOUND : rc;
}

int lc_db_reg_counts(lc_db_t *db, int64_t webinar_id, int64_t *pending, int64_t *approved,
                     int64_t *rejected)
{
    sqlite3_stmt *st = lock(db, ST_COUNTS);
    sqlite3_bind_int64(st, 1, webinar_id);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *pending = sqlite3_column_int64(st, 0);
        *approved = sqlite3_column_int64(st, 1);
        *rejected = sqlite3_column_int64(st, 2);
    } else {
        LC_ERROR("db", "registration counts: %s", sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    unlock(db);
    return rc;
}

int lc_db_audit_add(lc_db_t *db, const lc_audit_entry_t *e)
{
    sqlite3_stmt *st = lock(db, ST_AUDIT_ADD);
    sqlite3_bind_int64(st, 1, e->at_ms);
    if (e->user_id > 0)
        sqlite3_bind_int64(st, 2, e->user_id);
    bind_opt(st, 3, e->user_email);
    sqlite3_bind_text(st, 4, e->action, -1, SQLITE_STATIC);
    if (e->webinar_id > 0)
        sqlite3_bind_int64(st, 5, e->webinar_id);
    bind_opt(st, 6, e->subject);
    sqlite3_bind_int64(st, 7, e->records);
    int rc = lc_db_step_done(lc_db_conn(db), st);
    unlock(db);
    if (rc < 0)
        LC_ERROR("db", "cannot write the audit log (%s): %s", e->action, lc_strerror(rc));
    return rc;
}

int lc_db_webinar_form(lc_db_t *db, int64_t webinar_id, char **out)
{
    sqlite3_stmt *st = lock(db, ST_FORM);
    sqlite3_bind_int64(st, 1, webinar_id);
    int rc = LC_ENOTFOUND, r = sqlite3_step(st);
    *out = NULL;
    if (r == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        rc = (*out = strdup(t ? (const char *)t : "[]")) ? 0 : -ENOMEM;
    } else if (r != SQLITE_DONE) {
        LC_ERROR("db", "webinar form: %s", sqlite3_errmsg(lc_db_conn(db)->conn));
        rc = LC_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    unlock(db);
    return rc;
}
