/* Registrations' personal data as a whole: the streamed export (a cursor on its own read-only
 * connection), data-subject access and erasure, the retention purge's statements, the audit
 * log's listing and the server's stored secrets. Deleting personal data always first adds the
 * registrations' counts to webinar_stats (migrations/0004), so statistics outlive it. */
#ifndef LC_DB_LEADS_H
#define LC_DB_LEADS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "db/registrations.h"

/* ---- the export cursor ---------------------------------------------------------------------
 * Reads every registration of a webinar, in id order, without holding them in memory and
 * without touching the server's connection (and its mutex): one SQLite read transaction on a
 * connection of its own, so the export is one consistent snapshot (WAL: writers go on; rows
 * written meanwhile are not in it) however slowly the client reads. The snapshot keeps the WAL
 * from being checkpointed past it while it lasts. */
typedef struct lc_reg_cursor lc_reg_cursor_t;

/* Opens the database at `path` read-only and starts the snapshot. *count: the rows the cursor
 * will return. NULL on failure (*err: LC_EDB, logged, or -ENOMEM). The cursor may move between
 * threads but is used by one at a time. */
lc_reg_cursor_t *lc_reg_cursor_open(const char *path, int64_t webinar_id, int64_t *count,
                                    int *err);
/* 1 and *row (its strings are valid until the next call or the close), 0 after the last row,
 * LC_EDB (logged). */
int lc_reg_cursor_next(lc_reg_cursor_t *c, lc_reg_row_t *row);
/* Ends the snapshot and closes the connection. NULL-safe; sets *pc to NULL. */
void lc_reg_cursor_close(lc_reg_cursor_t **pc);

/* ---- data-subject requests (GDPR Art. 15 and 17) ------------------------------------------- */

/* One registration of the person, with what it belongs to. Strings borrowed (see db.h on
 * listing callbacks). */
typedef struct {
    lc_reg_row_t reg;
    const char *webinar_slug, *webinar_title;
    int64_t join_links; /* how many; their token hashes are never read */
} lc_subject_reg_t;

/* One stretch of watching (table attendance). */
typedef struct {
    int64_t registration_id;
    bool replay;
    int64_t joined_at_ms, last_seen_ms, seconds;
} lc_attendance_t;

/* Everything stored about `email` (matched whatever the letter case): each registration, then
 * each attendance stretch of them, oldest first. One snapshot; callbacks as in db.h's note. */
int lc_db_subject_list(lc_db_t *db, const char *email,
                       int (*reg_cb)(void *opaque, const lc_subject_reg_t *r),
                       int (*att_cb)(void *opaque, const lc_attendance_t *a), void *opaque);

typedef struct {
    int64_t registrations, webinars, join_links, attendance;
} lc_erased_t;

/* Deletes every registration of `email` (whatever the letter case) with their join links and
 * attendance (cascade), after adding their counts to webinar_stats; one transaction. *out: what
 * was deleted (all 0 when there was nothing). */
int lc_db_subject_erase(lc_db_t *db, const char *email, lc_erased_t *out);

/* ---- retention ----------------------------------------------------------------------------- */

/* What decides when a webinar's registrations expire (server/retention/retention.h has the
 * rule). */
typedef struct {
    int64_t webinar_id;
    bool on_demand;
    bool live;             /* a session is live now */
    int64_t last_ended_ms; /* the end of its newest ended session; 0 when it never ran */
    int64_t starts_at_ms;  /* LC_DB_NO_TIME: no date */
    int32_t duration_s;
    int32_t retention_days;
} lc_retention_webinar_t;

/* The webinars that have registrations (callback as in db.h's note). */
int lc_db_retention_webinars(lc_db_t *db,
                             int (*cb)(void *opaque, const lc_retention_webinar_t *w),
                             void *opaque);
/* How many registrations of the webinar had their last activity at or before `cutoff_ms`. */
int lc_db_retention_count(lc_db_t *db, int64_t webinar_id, int64_t cutoff_ms, int64_t *n);
/* Deletes up to `batch` of those (oldest ids first) in one transaction, their counts added to
 * webinar_stats first. *deleted: how many (0: none are left). */
int lc_db_retention_delete(lc_db_t *db, int64_t webinar_id, int64_t cutoff_ms, int batch,
                           int64_t *deleted);
/* The ended sessions whose webinar keeps recordings `recording_retention_days` and whose end is
 * that long before `now_ms`. Rows stay (see docs/architecture.md); only their files go. */
int lc_db_expired_recordings(lc_db_t *db, int64_t now_ms,
                             int (*cb)(void *opaque, int64_t session_id), void *opaque);

/* ---- the audit log ------------------------------------------------------------------------- */

typedef struct {
    int64_t id;
    lc_audit_entry_t e; /* user_id 0: the server itself */
} lc_audit_row_t;

/* Lists the audit log: with `after_id` >= 0 the entries after it, oldest first; otherwise
 * (negative) the newest first, below `before_id` when it is > 0. At most `limit`. Callback as in
 * db.h. */
int lc_db_audit_list(lc_db_t *db, int64_t before_id, int64_t after_id, int limit,
                     int (*cb)(void *opaque, const lc_audit_row_t *r), void *opaque);

/* ---- secrets ------------------------------------------------------------------------------- */

/* A secret of table server_secrets into out[size]: 0 and *len, LC_ENOTFOUND, -ENOSPC or LC_EDB. */
int lc_db_secret_get(lc_db_t *db, const char *name, uint8_t *out, size_t size, size_t *len);

#endif
