/* Retention: when the personal data of a registration expires, the purge that deletes what has
 * expired (registrations, ended organiser logins, recordings past their webinar's recording
 * retention), and the server's thread that runs it at start and then at an interval. The same
 * purge runs from `lectern purge` (cron). Logs and results carry counts only, never a name or
 * an address. */
#ifndef LC_RETENTION_RETENTION_H
#define LC_RETENTION_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "db/leads.h"

#define LC_DAY_MS 86400000LL
/* "Never" as an expiry: the webinar has no end yet. */
#define LC_RETENTION_NEVER INT64_MAX
/* "None" as a cutoff: no registration of the webinar has expired. */
#define LC_RETENTION_NONE INT64_MIN

/* The rule. A registration expires `retention_days` after the later of the webinar's end and
 * its own last activity. The webinar's end is the later of its newest session's end and its
 * scheduled end (starts_at + duration): a webinar that ran early as a test and is scheduled
 * again has not ended. It has no end while a session is live, nor when it never ran and has no
 * date. For an on-demand webinar only the last activity counts. Returns the moment (ms) the
 * registration expires, or LC_RETENTION_NEVER. Pure. */
int64_t lc_retention_expires_at(const lc_retention_webinar_t *w, int64_t last_activity_ms);
/* The same rule per webinar: registrations whose last activity is at or before the returned
 * moment have expired at `now_ms` (exactly those for which lc_retention_expires_at <= now_ms);
 * LC_RETENTION_NONE when none has. Pure. */
int64_t lc_retention_cutoff(const lc_retention_webinar_t *w, int64_t now_ms);

typedef struct lc_retention_config {
    int64_t session_idle_ms;    /* organiser logins unused this long have ended */
    const char *recordings_dir; /* DATA/recordings */
    /* Deletes a recording's files. NULL: at once, in the purging thread (`lectern purge`); the
     * server passes its exporter's removal queue, so no export reads a directory being
     * deleted. */
    void (*remove_recording)(void *opaque, int64_t session_id);
    void *opaque;
} lc_retention_config_t;

typedef struct {
    int64_t registrations; /* deleted, or that would be with dry_run */
    int64_t webinars;      /* the webinars they belonged to */
    int64_t login_sessions;
    int64_t recordings;
} lc_purge_counts_t;

/* Deletes what has expired at `now_ms`, registrations in batches (their counts first added to
 * webinar_stats), and writes one audit log entry (retention_purge, no user) per webinar whose
 * registrations were deleted. With `dry_run` nothing changes; *out says what would go. Returns
 * 0 or the first failure (what was deleted until then stays deleted). Any thread. */
int lc_retention_purge(lc_db_t *db, const lc_retention_config_t *cfg, int64_t now_ms,
                       bool dry_run, lc_purge_counts_t *out);

/* The server's retention thread: a purge at once, then every `interval_ms`. */
typedef struct lc_retention lc_retention_t;

/* Starts the thread; `db` and cfg's strings must outlive it. NULL on failure (*err). */
lc_retention_t *lc_retention_start(lc_db_t *db, const lc_retention_config_t *cfg,
                                   int64_t interval_ms, int *err);
/* Stops the thread: a purge under way ends after its current batch. NULL-safe; sets *pr to
 * NULL. */
void lc_retention_stop(lc_retention_t **pr);

#endif
