/* Retention rule, purge and the server's retention thread (retention.h). */
#include "retention/retention.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "recorder/recorder.h"

/* Registrations deleted per transaction: small enough that registrations and heartbeats waiting
 * for the database are not held up for long, large enough that a big purge is quick. */
#define PURGE_BATCH 500

/* ---- the rule --------------------------------------------------------------------------------- */

/* The webinar's end, or LC_RETENTION_NEVER when it has none yet (on-demand webinars excepted:
 * the caller does not ask). */
static int64_t webinar_end(const lc_retention_webinar_t *w)
{
    if (w->live)
        return LC_RETENTION_NEVER;
    int64_t end = w->last_ended_ms > 0 ? w->last_ended_ms : LC_RETENTION_NONE;
    if (w->starts_at_ms != LC_DB_NO_TIME) {
        int64_t scheduled = w->starts_at_ms + (int64_t)w->duration_s * 1000;
        if (scheduled > end)
            end = scheduled;
    }
    return end == LC_RETENTION_NONE ? LC_RETENTION_NEVER : end;
}

int64_t lc_retention_expires_at(const lc_retention_webinar_t *w, int64_t last_activity_ms)
{
    int64_t from = last_activity_ms;
    if (!w->on_demand) {
        int64_t end = webinar_end(w);
        if (end == LC_RETENTION_NEVER)
            return LC_RETENTION_NEVER;
        if (end > from)
            from = end;
    }
    return from + (int64_t)w->retention_days * LC_DAY_MS;
}

int64_t lc_retention_cutoff(const lc_retention_webinar_t *w, int64_t now_ms)
{
    /* max(end, activity) + keep <= now  <=>  end <= now - keep  and  activity <= now - keep */
    int64_t limit = now_ms - (int64_t)w->retention_days * LC_DAY_MS;
    if (!w->on_demand && webinar_end(w) > limit)
        return LC_RETENTION_NONE;
    return limit;
}

/* ---- the purge -------------------------------------------------------------------------------- */

typedef struct {
    lc_retention_webinar_t *items;
    size_t n, cap;
    bool failed;
} webinar_list_t;

static int collect_webinar(void *opaque, const lc_retention_webinar_t *w)
{
    webinar_list_t *l = opaque;
    l->failed = lc_vec_push((void **)&l->items, &l->n, &l->cap, w, sizeof *w) < 0;
    return l->failed;
}

typedef struct {
    int64_t *items;
    size_t n, cap;
    bool failed;
} id_list_t;

static int collect_id(void *opaque, int64_t id)
{
    id_list_t *l = opaque;
    l->failed = lc_vec_push((void **)&l->items, &l->n, &l->cap, &id, sizeof id) < 0;
    return l->failed;
}

static bool stopping(const atomic_bool *stop) { return stop && atomic_load(stop); }

/* The expired registrations of one webinar: counted, or deleted in batches. */
static int purge_webinar(lc_db_t *db, const lc_retention_webinar_t *w, int64_t now_ms,
                         bool dry_run, const atomic_bool *stop, int64_t *n)
{
    int64_t cutoff = lc_retention_cutoff(w, now_ms), deleted = 0;
    *n = 0;
    if (cutoff == LC_RETENTION_NONE)
        return 0;
    if (dry_run)
        return lc_db_retention_count(db, w->webinar_id, cutoff, n);
    int rc = 0;
    do {
        rc = lc_db_retention_delete(db, w->webinar_id, cutoff, PURGE_BATCH, &deleted);
        *n += deleted;
    } while (rc == 0 && deleted == PURGE_BATCH && !stopping(stop));
    if (*n > 0) {
        lc_audit_entry_t e = {.at_ms = now_ms, .action = "retention_purge",
                              .webinar_id = w->webinar_id, .records = *n};
        lc_db_audit_add(db, &e); /* a failure is logged; the deletion stands */
    }
    return rc;
}

static int purge_registrations(lc_db_t *db, int64_t now_ms, bool dry_run,
                               const atomic_bool *stop, lc_purge_counts_t *out)
{
    /* Collected first: the listing's callback runs with the connection's lock held. */
    webinar_list_t list = {0};
    int rc = lc_db_retention_webinars(db, collect_webinar, &list);
    if (rc == 0 && list.failed)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < list.n && !stopping(stop); i++) {
        int64_t n = 0;
        rc = purge_webinar(db, &list.items[i], now_ms, dry_run, stop, &n);
        out->registrations += n;
        out->webinars += n > 0;
    }
    free(list.items);
    return rc;
}

static int purge_recordings(lc_db_t *db, const lc_retention_config_t *cfg, int64_t now_ms,
                            bool dry_run, lc_purge_counts_t *out)
{
    id_list_t ids = {0};
    int rc = lc_db_expired_recordings(db, now_ms, collect_id, &ids);
    if (rc == 0 && ids.failed)
        rc = -ENOMEM;
    /* Session rows stay (no personal data; the webinar's end is read from them): a recording
     * whose directory is gone has been deleted already. */
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        if (!lc_recording_exists(cfg->recordings_dir, ids.items[i]))
            continue;
        out->recordings++;
        if (dry_run)
            continue;
        if (cfg->remove_recording)
            cfg->remove_recording(cfg->opaque, ids.items[i]);
        else
            lc_recording_remove(cfg->recordings_dir, ids.items[i]); /* logs a failure */
    }
    free(ids.items);
    return rc;
}

static int purge(lc_db_t *db, const lc_retention_config_t *cfg, int64_t now_ms, bool dry_run,
                 lc_purge_counts_t *out, const atomic_bool *stop)
{
    *out = (lc_purge_counts_t){0};
    int rc = purge_registrations(db, now_ms, dry_run, stop, out);
    if (rc == 0)
        rc = lc_db_auth_session_purge(db, now_ms, now_ms - cfg->session_idle_ms, dry_run,
                                      &out->login_sessions);
    if (rc == 0)
        rc = purge_recordings(db, cfg, now_ms, dry_run, out);
    if (dry_run)
        return rc;
    if (out->registrations || out->login_sessions || out->recordings)
        LC_INFO("retention", "deleted %lld registrations of %lld webinars, %lld ended logins, "
                             "%lld recordings",
                (long long)out->registrations, (long long)out->webinars,
                (long long)out->login_sessions, (long long)out->recordings);
    if (rc < 0)
        LC_ERROR("retention", "purge failed: %s", lc_strerror(rc));
    return rc;
}

int lc_retention_purge(lc_db_t *db, const lc_retention_config_t *cfg, int64_t now_ms,
                       bool dry_run, lc_purge_counts_t *out)
{
    return purge(db, cfg, now_ms, dry_run, out, NULL);
}

/* ---- the thread ------------------------------------------------------------------------------- */

struct lc_retention {
    lc_db_t *db;
    lc_retention_config_t cfg;
    int64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    atomic_bool stop;
};

static void *retention_main(void *arg)
{
    lc_retention_t *r = arg;
    while (!atomic_load(&r->stop)) {
        lc_purge_counts_t counts;
        purge(r->db, &r->cfg, lc_now_real_ms(), false, &counts, &r->stop);
        struct timespec ts = lc_mono_timespec(lc_now_mono_ms() + r->interval_ms);
        pthread_mutex_lock(&r->mu);
        while (!atomic_load(&r->stop) &&
               pthread_cond_timedwait(&r->cond, &r->mu, &ts) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

lc_retention_t *lc_retention_start(lc_db_t *db, const lc_retention_config_t *cfg,
                                   int64_t interval_ms, int *err)
{
    lc_retention_t *r = calloc(1, sizeof *r);
    if (!r) {
        *err = -ENOMEM;
        return NULL;
    }
    r->db = db;
    r->cfg = *cfg;
    r->interval_ms = interval_ms > 0 ? interval_ms : 3600 * 1000;
    atomic_init(&r->stop, false);
    pthread_mutex_init(&r->mu, NULL);
    lc_cond_init_monotonic(&r->cond);
    if (pthread_create(&r->thread, NULL, retention_main, r) != 0) {
        LC_ERROR("retention", "cannot start the retention thread");
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->mu);
        free(r);
        *err = -EAGAIN;
        return NULL;
    }
    return r;
}

void lc_retention_stop(lc_retention_t **pr)
{
    if (!pr || !*pr)
        return;
    lc_retention_t *r = *pr;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    free(r);
    *pr = NULL;
}
