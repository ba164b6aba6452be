/* The registry of live streams, keyed by webinar id (publishing) and media name (reading: the
 * webinar's live key, the secret part of its /live/ URLs). A stream
 * stays listed while it runs, waits in grace, ends, and lingers; it is retired (no longer found)
 * when its webinar goes live again with a new session, and freed once its worker has exited and
 * no publisher holds it (one cut off by lc_live_end may hold it until the ingest notices).
 *
 * Shutdown order (lc_live_free): every stream is told to stop (grace ends now, lingering ends),
 * then every worker is joined, so each recording is final and each session_end hook has run
 * before the registry is gone.
 */
#include "live/live.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "live/stream.h"

#define TAG "live"
#define NAME_MAX_LEN 255

typedef struct entry {
    struct entry *next;
    lc_stream_t *s;
    bool retired; /* replaced by a newer session of the same webinar: no longer found */
} entry_t;

struct lc_live {
    lc_live_config_t cfg; /* recordings_dir points at our own copy */
    char *recordings_dir;
    lc_live_hooks_t hooks;
    pthread_mutex_t mu;
    entry_t *entries; /* newest first; guarded by mu */
};

void lc_live_config_default(lc_live_config_t *cfg)
{
    *cfg = (lc_live_config_t){
        .part_target_s = 1.0 / 3, /* as lc_config_default, which explains it */
        .segment_target_s = 2.0,
        .window_segments = 6,
        .grace_ms = 60000,
        .ended_linger_ms = 300000,
        .recordings_dir = NULL,
        .low_latency = true,
    };
}

lc_live_t *lc_live_new(const lc_live_config_t *cfg, const lc_live_hooks_t *hooks)
{
    if (!hooks || !hooks->session_begin || !(cfg->part_target_s > 0) ||
        cfg->segment_target_s < cfg->part_target_s || cfg->window_segments < 1 ||
        cfg->grace_ms < 0 || cfg->ended_linger_ms < 0) {
        LC_ERROR(TAG, "invalid live configuration (targets, window, times, or no session hook)");
        return NULL;
    }
    lc_live_t *live = calloc(1, sizeof *live);
    if (!live)
        return NULL;
    live->cfg = *cfg;
    live->hooks = *hooks;
    if (cfg->recordings_dir && !(live->recordings_dir = strdup(cfg->recordings_dir))) {
        free(live);
        return NULL;
    }
    live->cfg.recordings_dir = live->recordings_dir;
    if (!live->cfg.health_clock_ms)
        live->cfg.health_clock_ms = lc_now_mono_ms;
    if (pthread_mutex_init(&live->mu, NULL) != 0) {
        free(live->recordings_dir);
        free(live);
        return NULL;
    }
    return live;
}

/* Unlinks the entries whose worker has exited; the caller frees them outside the lock. */
static entry_t *take_exited_locked(lc_live_t *live)
{
    entry_t *gone = NULL;
    for (entry_t **pe = &live->entries; *pe;) {
        entry_t *e = *pe;
        if (lc_stream_exited(e->s)) {
            *pe = e->next;
            e->next = gone;
            gone = e;
        } else {
            pe = &e->next;
        }
    }
    return gone;
}

static void free_entries(entry_t *e)
{
    while (e) {
        entry_t *next = e->next;
        lc_stream_free(&e->s);
        free(e);
        e = next;
    }
}

void lc_live_free(lc_live_t **plive)
{
    lc_live_t *live = plive ? *plive : NULL;
    if (!live)
        return;
    *plive = NULL;
    pthread_mutex_lock(&live->mu);
    entry_t *all = live->entries;
    live->entries = NULL;
    pthread_mutex_unlock(&live->mu);
    for (entry_t *e = all; e; e = e->next)
        lc_stream_stop(e->s);
    free_entries(all); /* joins each worker: sessions end, recordings are final */
    pthread_mutex_destroy(&live->mu);
    free(live->recordings_dir);
    free(live);
}

/* Whether a stream's name is `name`. The name is a secret that HTTP requests guess at: compared
 * in constant time (for names of the same length, which every live key has). */
static bool name_is(const lc_stream_t *s, const char *name, size_t len)
{
    const char *mine = lc_stream_name(s);
    return strlen(mine) == len && lc_ct_equal(mine, name, len);
}

/* The newest stream of a webinar (or with a name) that is not retired. Called with mu held. */
static entry_t *find_locked(lc_live_t *live, int64_t webinar_id, const char *name)
{
    size_t len = name ? strlen(name) : 0;
    for (entry_t *e = live->entries; e; e = e->next) {
        if (e->retired)
            continue;
        if (name ? name_is(e->s, name, len) : lc_stream_webinar(e->s) == webinar_id)
            return e;
    }
    return NULL;
}

int lc_live_publish(lc_live_t *live, int64_t webinar_id, const char *name, lc_publisher_t **out)
{
    *out = NULL;
    if (!name || !name[0] || strlen(name) > NAME_MAX_LEN)
        return -EINVAL;
    entry_t *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return -ENOMEM;
    pthread_mutex_lock(&live->mu);
    entry_t *gone = take_exited_locked(live);
    entry_t *e = find_locked(live, webinar_id, NULL);
    int rc = e ? lc_stream_attach(e->s, out) : LC_ENOTFOUND;
    if (rc == LC_ENOTFOUND) {
        /* No session to rejoin: the previous one (ending or lingering) makes way. */
        if (e) {
            e->retired = true;
            lc_stream_stop(e->s);
        }
        fresh->s = lc_stream_new(&live->cfg, &live->hooks, webinar_id, name);
        if (fresh->s) {
            fresh->next = live->entries;
            live->entries = fresh;
            rc = 1; /* start it below, outside the lock */
        } else {
            rc = -ENOMEM;
        }
    }
    pthread_mutex_unlock(&live->mu);
    free_entries(gone);
    if (rc != 1) {
        free(fresh);
        return rc;
    }

    /* The new stream is listed (a concurrent publish sees a conflict) while its worker asks the
     * application for a session. */
    rc = lc_stream_start(fresh->s, out);
    if (rc < 0) {
        pthread_mutex_lock(&live->mu);
        for (entry_t **pe = &live->entries; *pe; pe = &(*pe)->next)
            if (*pe == fresh) {
                *pe = fresh->next;
                break;
            }
        pthread_mutex_unlock(&live->mu);
        fresh->next = NULL;
        free_entries(fresh);
    }
    return rc;
}

lc_live_state_t lc_live_state(lc_live_t *live, int64_t webinar_id, int64_t *session_id)
{
    if (session_id)
        *session_id = 0;
    pthread_mutex_lock(&live->mu);
    entry_t *e = find_locked(live, webinar_id, NULL);
    lc_live_state_t st = e ? lc_stream_state(e->s, session_id) : LC_LIVE_OFFLINE;
    pthread_mutex_unlock(&live->mu);
    return st;
}

int lc_live_health(lc_live_t *live, int64_t webinar_id, lc_live_health_t *out)
{
    *out = (lc_live_health_t){.state = LC_LIVE_OFFLINE};
    pthread_mutex_lock(&live->mu);
    entry_t *e = find_locked(live, webinar_id, NULL);
    if (e)
        lc_stream_health(e->s, out);
    pthread_mutex_unlock(&live->mu);
    return out->state == LC_LIVE_OFFLINE ? LC_ENOTFOUND : 0;
}

int lc_live_end(lc_live_t *live, int64_t webinar_id)
{
    pthread_mutex_lock(&live->mu);
    entry_t *e = find_locked(live, webinar_id, NULL);
    int rc = e ? lc_stream_end(e->s) : LC_ENOTFOUND;
    pthread_mutex_unlock(&live->mu);
    return rc;
}

lc_window_t *lc_live_window(lc_live_t *live, const char *name)
{
    if (!name)
        return NULL;
    pthread_mutex_lock(&live->mu);
    entry_t *e = find_locked(live, 0, name);
    lc_window_t *w = e ? lc_stream_window(e->s) : NULL;
    pthread_mutex_unlock(&live->mu);
    return w;
}
