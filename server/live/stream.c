/* A live stream's worker and its publishers (see stream.h and live.h).
 *
 * The ingest thread never waits for the worker: lc_publisher_* take the stream's mutex only to
 * append to the queue (allocation happens before), and refuse with LC_ELIMIT when the queue would
 * hold more than LC_LIVE_QUEUE_MAX_BYTES. What counts is the memory the queue keeps alive, not
 * just the payload: a stream of tiny frames costs far more in items and packets than in bytes.
 * The worker takes the mutex only to pop an item or change state; packaging, the window, the
 * recorder and the hooks run outside it.
 *
 * Runs: every publisher (the first and each reconnect within the grace) is one run with its own
 * packager and init segment; media sequence numbers continue across runs, the run's first segment
 * carries a discontinuity, and its media time is anchored to the wall clock at its first packet
 * (EXT-X-PROGRAM-DATE-TIME). The recording is one per session, across runs. Publishers are
 * numbered (`run`), so that when the worker finds, late, that a run's media cannot be packaged,
 * it refuses that run's publisher only, never a reconnect that attached meanwhile.
 *
 * Health (lc_live_health): the attached publisher's meter (live/meter.h) is updated by
 * lc_publisher_start and lc_publisher_write inside the critical section they already take, after
 * reading the clock outside it; readers copy it under the same mutex.
 *
 * Ending from elsewhere (lc_stream_end) only moves the state to ENDING, the transition a presenter
 * stop makes: the worker ends the session as for any end. The cut-off publisher still holds the
 * stream (`attached`) until lc_publisher_finish, and the registry frees no stream that is held.
 */
#include "live/stream.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "live/meter.h"
#include "live/packager.h"
#include "recorder/recorder.h"

#define TAG "live"
#define KEEP_EXTRA_SEGMENTS 4
/* What a queued packet costs beyond its item, packet and data buffer structs: the AVBuffer behind
 * the reference (private to libavutil, about 40 bytes) and the allocator's header of each of the
 * four allocations (16 bytes each on glibc). An estimate erring high. */
#define QUEUE_PACKET_EXTRA_BYTES 128

typedef enum { ST_STARTING, ST_RUNNING, ST_GRACE, ST_ENDING, ST_ENDED } state_t;

typedef enum { ITEM_START, ITEM_PACKET, ITEM_FINISH } item_kind_t;

typedef struct item {
    struct item *next;
    item_kind_t kind;
    size_t cost;                /* bytes counted in queued_bytes while queued */
    AVPacket *pkt;              /* PACKET */
    int64_t arrival_ms;         /* PACKET: wall clock when the ingest handed it over */
    AVCodecParameters *par[2];  /* START: video, audio (either NULL) */
    unsigned run;               /* START: the publisher's run */
    bool stopped;               /* FINISH */
} item_t;

struct lc_publisher {
    lc_stream_t *s;
    unsigned run; /* numbered from 1 in the order publishers attach */
    bool started;
    bool has[2];
    item_t *finish; /* allocated up front: detaching cannot fail */
};

struct lc_stream {
    const lc_live_config_t *cfg;
    const lc_live_hooks_t *hooks;
    int64_t webinar_id;
    char *name; /* the webinar's media name (its live key: a secret, never logged) */
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t mu;
    pthread_cond_t wake;  /* the worker waits on it: queue, state, stop */
    pthread_cond_t begun; /* lc_stream_start waits on it for the session_begin answer */
    /* Guarded by mu. */
    state_t state;
    bool attached;        /* a publisher holds the stream (not freed until it finishes) */
    unsigned runs;        /* publishers attached so far (the last one's run number) */
    unsigned refused_run; /* a run whose packaging failed: its publisher's writes are refused;
                             0 = none */
    bool stop;
    bool exited;
    bool begin_done;
    int begin_rc;
    int64_t session_id;
    int64_t grace_deadline; /* CLOCK_MONOTONIC ms */
    item_t *head, *tail;
    size_t queued_bytes;
    lc_window_t *window; /* NULL once the linger is over */
    lc_meter_t meter;    /* the attached publisher's health; zero until it starts */

    /* The worker's own. */
    lc_window_t *w;           /* the worker's reference to the window */
    lc_recording_t *rec;
    bool rec_failed;          /* the recording could not be opened (recording was on) */
    lc_packager_t *pk;        /* of the run in progress, created at its first packet */
    AVCodecParameters *par[2];/* of the run in progress */
    unsigned run;             /* the publisher's run whose items are being handled */
    bool run_failed;          /* the run's packager failed: its packets are dropped */
    int init_id;              /* of the last run that got a packager */
    int64_t next_msn;
    bool had_segment;         /* a segment exists before this run: discontinuity */
    bool seg_open;            /* a segment was begun and not ended */
    lc_segment_meta_t seg;    /* the segment in progress */
    double seg_parts_s;
    int seg_parts;
    double total_s;           /* media published in the session */
    int64_t media_end_ms;     /* wall clock at the end of the last segment, 0 before */
};

/* ---- small helpers ------------------------------------------------------------------------- */

static void free_item(item_t *it)
{
    if (!it)
        return;
    av_packet_free(&it->pkt);
    avcodec_parameters_free(&it->par[0]);
    avcodec_parameters_free(&it->par[1]);
    free(it);
}

/* The memory a queued item keeps alive: the item, and for a packet its AVPacket, the reference
 * to its data and the whole buffer that reference holds (a payload of 1 byte still pins its
 * padding, and a few hundred bytes of structures). */
static size_t item_cost(const item_t *it)
{
    size_t cost = sizeof *it;
    if (it->pkt) {
        cost += sizeof *it->pkt + QUEUE_PACKET_EXTRA_BYTES;
        if (it->pkt->buf)
            cost += sizeof *it->pkt->buf + it->pkt->buf->size;
        else
            cost += (size_t)it->pkt->size + AV_INPUT_BUFFER_PADDING_SIZE;
    }
    return cost;
}

/* Appends under mu and wakes the worker. */
static void push_locked(lc_stream_t *s, item_t *it)
{
    it->next = NULL;
    if (s->tail)
        s->tail->next = it;
    else
        s->head = it;
    s->tail = it;
    s->queued_bytes += it->cost;
    pthread_cond_signal(&s->wake);
}

static item_t *pop_locked(lc_stream_t *s)
{
    item_t *it = s->head;
    if (!it)
        return NULL;
    s->head = it->next;
    if (!s->head)
        s->tail = NULL;
    s->queued_bytes -= it->cost;
    return it;
}

static lc_publisher_t *new_publisher(lc_stream_t *s)
{
    lc_publisher_t *pub = calloc(1, sizeof *pub);
    if (pub && !(pub->finish = calloc(1, sizeof *pub->finish))) {
        free(pub);
        return NULL;
    }
    if (pub) {
        pub->s = s;
        pub->finish->kind = ITEM_FINISH;
    }
    return pub;
}

static void free_publisher(lc_publisher_t *pub)
{
    if (pub) {
        free_item(pub->finish);
        free(pub);
    }
}

/* ---- construction -------------------------------------------------------------------------- */

lc_stream_t *lc_stream_new(const lc_live_config_t *cfg, const lc_live_hooks_t *hooks,
                           int64_t webinar_id, const char *name)
{
    lc_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    bool mu = pthread_mutex_init(&s->mu, NULL) == 0;
    bool wake = lc_cond_init_monotonic(&s->wake) == 0;
    bool begun = pthread_cond_init(&s->begun, NULL) == 0;
    s->cfg = cfg;
    s->hooks = hooks;
    s->webinar_id = webinar_id;
    s->name = strdup(name);
    s->state = ST_STARTING;
    s->attached = true;
    if (mu && wake && begun && s->name)
        return s;
    if (mu)
        pthread_mutex_destroy(&s->mu);
    if (wake)
        pthread_cond_destroy(&s->wake);
    if (begun)
        pthread_cond_destroy(&s->begun);
    free(s->name);
    free(s);
    return NULL;
}

/* ---- the worker: runs and their events ----------------------------------------------------- */

static int on_init(void *opaque, lc_buf_t *init, const lc_media_info_t *info)
{
    lc_stream_t *s = opaque;
    LC_INFO(TAG, "webinar %" PRId64 ": run %d: %s %dx%d %.3f fps, ~%" PRId64 " bit/s",
            s->webinar_id, s->init_id, info->codecs, info->width, info->height, info->frame_rate,
            info->bandwidth_bps);
    if (lc_window_add_init(s->w, s->init_id, init, info) < 0)
        LC_ERROR(TAG, "webinar %" PRId64 ": window refused init %d", s->webinar_id, s->init_id);
    if (s->rec)
        lc_recording_add_init(s->rec, s->init_id, init); /* failures are logged by the recorder */
    return 0;
}

static int on_segment_begin(void *opaque, const lc_segment_meta_t *seg)
{
    lc_stream_t *s = opaque;
    s->seg = *seg;
    s->seg_open = true;
    s->seg_parts = 0;
    s->seg_parts_s = 0;
    s->had_segment = true;
    s->next_msn = seg->msn + 1;
    lc_window_begin_segment(s->w, seg);
    if (s->rec)
        lc_recording_begin_segment(s->rec, seg);
    return 0;
}

static int on_part(void *opaque, const lc_part_meta_t *part, lc_buf_t *bytes)
{
    lc_stream_t *s = opaque;
    s->seg_parts++;
    s->seg_parts_s += part->duration;
    lc_window_add_part(s->w, part, bytes);
    if (s->rec)
        lc_recording_add_part(s->rec, part, bytes);
    return 0;
}

static int on_segment_end(void *opaque, const lc_segment_meta_t *seg)
{
    lc_stream_t *s = opaque;
    s->seg_open = false;
    s->total_s += seg->duration;
    s->media_end_ms = s->seg.pdt_ms + (int64_t)(seg->duration * 1000 + 0.5);
    lc_segment_meta_t full = s->seg;
    full.duration = seg->duration;
    full.part_count = seg->part_count;
    lc_window_end_segment(s->w, &full);
    if (s->rec)
        lc_recording_end_segment(s->rec, &full);
    return 0;
}

/* A run that broke off mid-segment (its packager failed) leaves the segment with the parts it
 * has, so the next run can begin the next one. */
static void close_open_segment(lc_stream_t *s)
{
    if (!s->seg_open)
        return;
    lc_segment_meta_t end = s->seg;
    end.duration = s->seg_parts_s;
    end.part_count = s->seg_parts;
    if (s->seg_parts > 0) {
        on_segment_end(s, &end);
    } else {
        s->seg_open = false; /* the window drops it when the next begins or at the end */
        s->next_msn = s->seg.msn + 1;
    }
}

static void end_run(lc_stream_t *s)
{
    if (s->pk) {
        int rc = lc_packager_flush(s->pk);
        if (rc < 0)
            LC_WARN(TAG, "webinar %" PRId64 ": run %d ended with an error: %s", s->webinar_id,
                    s->init_id, lc_strerror(rc));
        lc_packager_free(&s->pk);
    }
    close_open_segment(s);
    avcodec_parameters_free(&s->par[0]);
    avcodec_parameters_free(&s->par[1]);
    s->run_failed = false;
}

/* The run's media cannot be packaged (the packager logged why, as an ERROR: this line is the
 * consequence, so a WARN): its remaining packets are dropped, and its publisher is refused from
 * now on so that the ingest drops the connection. Only that publisher: the presenter may have
 * reconnected while the worker was still catching up with the run, and the reconnect is a fresh
 * run. */
static void fail_run(lc_stream_t *s, int rc)
{
    LC_WARN(TAG, "webinar %" PRId64 ": run %d: packaging stopped (%s); its connection is "
                 "refused, a reconnect starts a new run", s->webinar_id, s->init_id,
            lc_strerror(rc));
    s->run_failed = true;
    pthread_mutex_lock(&s->mu);
    s->refused_run = s->run;
    pthread_mutex_unlock(&s->mu);
    lc_packager_free(&s->pk);
    close_open_segment(s);
}

static void handle_packet(lc_stream_t *s, item_t *it)
{
    if (s->run_failed || (!s->par[0] && !s->par[1]))
        return;
    int rc;
    if (!s->pk) {
        lc_packager_config_t pcfg = {
            .part_target_s = s->cfg->part_target_s,
            .segment_target_s = s->cfg->segment_target_s,
            .init_id = ++s->init_id,
            .first_msn = s->next_msn,
            .discontinuity = s->had_segment,
            .pdt_anchor_ms = it->arrival_ms,
            /* Never before the previous run's media ended: PDT keeps increasing even when a
             * publisher sent faster than real time. */
            .pdt_floor_ms = s->media_end_ms,
        };
        lc_packager_cbs_t cbs = {on_init, on_segment_begin, on_part, on_segment_end, s};
        if ((rc = lc_packager_new(&pcfg, s->par[0], s->par[1], &cbs, &s->pk)) < 0) {
            fail_run(s, rc);
            return;
        }
    }
    if ((rc = lc_packager_write_at(s->pk, it->pkt, it->arrival_ms)) < 0)
        fail_run(s, rc);
}

static void handle(lc_stream_t *s, item_t *it)
{
    switch (it->kind) {
    case ITEM_START:
        end_run(s); /* a run that never finished (cannot happen with one publisher at a time) */
        s->run = it->run;
        s->par[0] = it->par[0];
        s->par[1] = it->par[1];
        it->par[0] = it->par[1] = NULL;
        break;
    case ITEM_PACKET:
        handle_packet(s, it);
        break;
    case ITEM_FINISH:
        end_run(s);
        break;
    }
}

/* Processes the queue until the session is over: the presenter stopped, the grace deadline
 * passed, or the registry asked to stop. */
static void run_session(lc_stream_t *s)
{
    for (;;) {
        item_t *it = NULL;
        bool forced = false;
        pthread_mutex_lock(&s->mu);
        for (;;) {
            if ((it = pop_locked(s)))
                break;
            if (s->state == ST_ENDING)
                break;
            if (s->state == ST_GRACE) {
                if (s->stop || lc_now_mono_ms() >= s->grace_deadline) {
                    s->state = ST_ENDING;
                    break;
                }
                struct timespec ts = lc_mono_timespec(s->grace_deadline);
                pthread_cond_timedwait(&s->wake, &s->mu, &ts);
                continue;
            }
            if (s->stop && s->state == ST_RUNNING) {
                forced = true;
                s->state = ST_ENDING;
                break;
            }
            pthread_cond_wait(&s->wake, &s->mu);
        }
        pthread_mutex_unlock(&s->mu);
        if (forced)
            LC_WARN(TAG, "webinar %" PRId64 ": stopped with a publisher attached (the ingest "
                         "should stop first)", s->webinar_id);
        if (!it)
            return;
        handle(s, it);
        free_item(it);
    }
}

/* Flush, end the window, finalize the recording, then tell the application (and whether the
 * recording is final: if not, what reached the disk is left for lc_recording_recover). */
static void end_session(lc_stream_t *s, int64_t session_id)
{
    end_run(s);
    lc_window_end(s->w);
    bool recording_ok = !s->rec_failed;
    if (s->rec && lc_recording_finish(&s->rec) < 0) /* logged by the recorder */
        recording_ok = false;
    /* The session ended with its media (a grace that expired began at the drop), never later
     * than now (a publisher may send faster than real time). */
    int64_t now = lc_now_real_ms();
    int64_t ended = s->media_end_ms > 0 && s->media_end_ms < now ? s->media_end_ms : now;
    LC_INFO(TAG, "webinar %" PRId64 ": session %" PRId64 " ended, %.3f s", s->webinar_id,
            session_id, s->total_s);
    if (s->hooks->session_end)
        s->hooks->session_end(s->hooks->opaque, s->webinar_id, session_id, ended, s->total_s,
                              recording_ok);
}

/* The session's window: media URLs carry the session id, so it is made once the id is known. */
static lc_window_t *new_window(const lc_stream_t *s, int64_t session_id)
{
    lc_window_config_t wcfg = {
        .part_target_s = s->cfg->part_target_s,
        .segment_target_s = s->cfg->segment_target_s,
        .window_segments = s->cfg->window_segments,
        .keep_extra_segments = KEEP_EXTRA_SEGMENTS,
        .low_latency = s->cfg->low_latency,
        .session_id = session_id,
    };
    return lc_window_new(&wcfg);
}

static void *worker_main(void *arg)
{
    lc_stream_t *s = arg;
    int64_t session_id = 0;
    int rc = s->hooks->session_begin(s->hooks->opaque, s->webinar_id, lc_now_real_ms(),
                                     &session_id);
    lc_window_t *window = NULL;
    if (rc >= 0 && !(window = new_window(s, session_id))) {
        LC_ERROR(TAG, "webinar %" PRId64 ": session %" PRId64 ": out of memory", s->webinar_id,
                 session_id);
        /* Nothing was recorded: not final when recording is on (recovery finds nothing). */
        if (s->hooks->session_end)
            s->hooks->session_end(s->hooks->opaque, s->webinar_id, session_id, lc_now_real_ms(),
                                  0, s->cfg->recordings_dir == NULL);
        rc = -ENOMEM;
    }
    pthread_mutex_lock(&s->mu);
    s->begin_rc = rc < 0 ? rc : 0;
    s->begin_done = true;
    if (rc >= 0) {
        s->session_id = session_id;
        s->state = ST_RUNNING;
        s->window = window;
        s->w = lc_window_ref(window);
    } else {
        s->state = ST_ENDED;
        s->attached = false;
    }
    pthread_cond_broadcast(&s->begun);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        LC_WARN(TAG, "webinar %" PRId64 ": session refused: %s", s->webinar_id, lc_strerror(rc));
        goto out;
    }
    LC_INFO(TAG, "webinar %" PRId64 ": session %" PRId64 " live", s->webinar_id, session_id);
    if (s->cfg->recordings_dir &&
        lc_recording_open(s->cfg->recordings_dir, session_id, &s->rec) < 0) {
        LC_ERROR(TAG, "webinar %" PRId64 ": session %" PRId64 " goes on without a recording",
                 s->webinar_id, session_id);
        s->rec_failed = true;
    }

    run_session(s);
    end_session(s, session_id);

    /* Linger: the ended window stays readable until the deadline or lc_stream_stop. */
    pthread_mutex_lock(&s->mu);
    s->state = ST_ENDED;
    int64_t deadline = lc_now_mono_ms() + s->cfg->ended_linger_ms;
    while (!s->stop && lc_now_mono_ms() < deadline) {
        struct timespec ts = lc_mono_timespec(deadline);
        pthread_cond_timedwait(&s->wake, &s->mu, &ts);
    }
    lc_window_t *w = s->window;
    s->window = NULL;
    pthread_mutex_unlock(&s->mu);
    lc_window_unref(w);
    lc_window_unref(s->w);
    s->w = NULL;

out:
    pthread_mutex_lock(&s->mu);
    s->exited = true;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the registry's side ------------------------------------------------------------------- */

int lc_stream_start(lc_stream_t *s, lc_publisher_t **out)
{
    *out = NULL;
    lc_publisher_t *pub = new_publisher(s);
    if (!pub)
        return -ENOMEM;
    pthread_mutex_lock(&s->mu);
    pub->run = s->runs = 1;
    pthread_mutex_unlock(&s->mu);
    int err = pthread_create(&s->thread, NULL, worker_main, s);
    if (err != 0) {
        free_publisher(pub);
        LC_ERROR(TAG, "webinar %" PRId64 ": worker thread: %s", s->webinar_id, strerror(err));
        pthread_mutex_lock(&s->mu);
        s->state = ST_ENDED;
        s->attached = false;
        s->exited = true;
        pthread_mutex_unlock(&s->mu);
        return -err;
    }
    s->thread_started = true;
    pthread_mutex_lock(&s->mu);
    while (!s->begin_done)
        pthread_cond_wait(&s->begun, &s->mu);
    int rc = s->begin_rc;
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        free_publisher(pub);
        return rc;
    }
    *out = pub;
    return 0;
}

int lc_stream_attach(lc_stream_t *s, lc_publisher_t **out)
{
    *out = NULL;
    lc_publisher_t *pub = new_publisher(s);
    if (!pub)
        return -ENOMEM;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (s->state == ST_GRACE && !s->stop) {
        s->state = ST_RUNNING;
        s->attached = true;
        s->meter = (lc_meter_t){0}; /* the new publisher declared nothing yet */
        pub->run = ++s->runs;
        pthread_cond_signal(&s->wake);
    } else if (s->state == ST_STARTING || s->state == ST_RUNNING) {
        rc = LC_ECONFLICT;
    } else {
        rc = LC_ENOTFOUND;
    }
    int64_t session_id = s->session_id;
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        free_publisher(pub);
        return rc;
    }
    LC_INFO(TAG, "webinar %" PRId64 ": session %" PRId64 " resumes", s->webinar_id, session_id);
    *out = pub;
    return 0;
}

static lc_live_state_t public_state_locked(const lc_stream_t *s)
{
    return s->state == ST_RUNNING ? LC_LIVE_RUNNING
           : s->state == ST_GRACE ? LC_LIVE_GRACE
                                  : LC_LIVE_OFFLINE;
}

lc_live_state_t lc_stream_state(lc_stream_t *s, int64_t *session_id)
{
    pthread_mutex_lock(&s->mu);
    lc_live_state_t st = public_state_locked(s);
    if (session_id)
        *session_id = st == LC_LIVE_OFFLINE ? 0 : s->session_id;
    pthread_mutex_unlock(&s->mu);
    return st;
}

void lc_stream_health(lc_stream_t *s, lc_live_health_t *out)
{
    int64_t now = s->cfg->health_clock_ms();
    *out = (lc_live_health_t){0};
    pthread_mutex_lock(&s->mu);
    lc_live_state_t st = public_state_locked(s);
    if (st == LC_LIVE_RUNNING)
        lc_meter_read(&s->meter, now, out);
    out->state = st;
    out->session_id = st == LC_LIVE_OFFLINE ? 0 : s->session_id;
    pthread_mutex_unlock(&s->mu);
}

int lc_stream_end(lc_stream_t *s)
{
    pthread_mutex_lock(&s->mu);
    bool live = s->state == ST_RUNNING || s->state == ST_GRACE;
    bool cut_off = s->state == ST_RUNNING;
    if (live) {
        s->state = ST_ENDING;
        pthread_cond_signal(&s->wake);
    }
    int64_t session_id = s->session_id;
    pthread_mutex_unlock(&s->mu);
    if (!live)
        return LC_ENOTFOUND;
    LC_INFO(TAG, "webinar %" PRId64 ": session %" PRId64 ": ended on request%s", s->webinar_id,
            session_id, cut_off ? ", its publisher is cut off" : " during the grace");
    return 0;
}

lc_window_t *lc_stream_window(lc_stream_t *s)
{
    pthread_mutex_lock(&s->mu);
    lc_window_t *w = lc_window_ref(s->window);
    pthread_mutex_unlock(&s->mu);
    return w;
}

int64_t lc_stream_webinar(const lc_stream_t *s) { return s->webinar_id; }
const char *lc_stream_name(const lc_stream_t *s) { return s->name; }

void lc_stream_stop(lc_stream_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
}

bool lc_stream_exited(lc_stream_t *s)
{
    pthread_mutex_lock(&s->mu);
    bool exited = s->exited && !s->attached;
    pthread_mutex_unlock(&s->mu);
    return exited;
}

void lc_stream_free(lc_stream_t **ps)
{
    lc_stream_t *s = ps ? *ps : NULL;
    if (!s)
        return;
    *ps = NULL;
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    item_t *it;
    while ((it = pop_locked(s)))
        free_item(it);
    lc_window_unref(s->window);
    pthread_cond_destroy(&s->begun);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    free(s->name);
    free(s);
}

/* ---- publishers (the ingest thread) -------------------------------------------------------- */

int lc_publisher_start(lc_publisher_t *pub, const AVCodecParameters *video,
                       const AVCodecParameters *audio)
{
    if (!pub || pub->started)
        return -EINVAL;
    int rc = lc_packager_check_params(video, audio);
    if (rc < 0)
        return rc;
    item_t *it = calloc(1, sizeof *it);
    if (!it)
        return -ENOMEM;
    it->kind = ITEM_START;
    it->run = pub->run;
    const AVCodecParameters *in[2] = {video, audio};
    for (int i = 0; i < 2; i++) {
        if (!in[i])
            continue;
        if (!(it->par[i] = avcodec_parameters_alloc()) ||
            avcodec_parameters_copy(it->par[i], in[i]) < 0) {
            free_item(it);
            return -ENOMEM;
        }
    }
    lc_stream_t *s = pub->s;
    int64_t now = s->cfg->health_clock_ms();
    pthread_mutex_lock(&s->mu);
    bool running = s->state == ST_RUNNING;
    if (running) {
        push_locked(s, it);
        lc_meter_start(&s->meter, video, audio, now);
    }
    pthread_mutex_unlock(&s->mu);
    if (!running) {
        free_item(it);
        return LC_ENOTFOUND;
    }
    pub->started = true;
    pub->has[0] = video != NULL;
    pub->has[1] = audio != NULL;
    return 0;
}

int lc_publisher_write(lc_publisher_t *pub, const AVPacket *pkt)
{
    if (!pub || !pub->started || pkt->stream_index < 0 || pkt->stream_index > 1 ||
        !pub->has[pkt->stream_index] || pkt->size <= 0 ||
        (pkt->dts == AV_NOPTS_VALUE && pkt->pts == AV_NOPTS_VALUE))
        return -EINVAL;
    if ((size_t)pkt->size > LC_LIVE_QUEUE_MAX_BYTES)
        return LC_ELIMIT;
    item_t *it = calloc(1, sizeof *it);
    if (!it)
        return -ENOMEM;
    it->kind = ITEM_PACKET;
    it->arrival_ms = lc_now_real_ms();
    if (!(it->pkt = av_packet_alloc()) || av_packet_ref(it->pkt, pkt) < 0) {
        free_item(it);
        return -ENOMEM;
    }
    it->cost = item_cost(it);
    lc_stream_t *s = pub->s;
    int64_t now = s->cfg->health_clock_ms();
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (s->state != ST_RUNNING)
        rc = LC_ENOTFOUND;
    else if (s->refused_run == pub->run)
        rc = LC_EMEDIA;
    else if (s->queued_bytes + it->cost > LC_LIVE_QUEUE_MAX_BYTES)
        rc = LC_ELIMIT;
    if (rc == 0) {
        push_locked(s, it);
        lc_meter_packet(&s->meter, pkt, now);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        if (rc == LC_ELIMIT)
            LC_WARN(TAG, "webinar %" PRId64 ": worker too far behind, packet refused",
                    s->webinar_id);
        free_item(it);
    }
    return rc;
}

void lc_publisher_finish(lc_publisher_t **ppub, bool stopped)
{
    lc_publisher_t *pub = ppub ? *ppub : NULL;
    if (!pub)
        return;
    *ppub = NULL;
    lc_stream_t *s = pub->s;
    item_t *fin = pub->finish;
    pub->finish = NULL;
    fin->stopped = stopped;
    const char *what = "detached (the session had already ended)";
    pthread_mutex_lock(&s->mu);
    s->attached = false;
    if (s->state == ST_RUNNING) {
        if (stopped || s->stop) {
            s->state = ST_ENDING;
            what = "stopped";
        } else {
            s->state = ST_GRACE;
            s->grace_deadline = lc_now_mono_ms() + s->cfg->grace_ms;
            what = "lost, waiting for a reconnect";
        }
    }
    /* After lc_stream_end the worker may be past its queue (or gone): the item then waits for
     * lc_stream_free, which frees what is left queued. */
    push_locked(s, fin);
    int64_t session_id = s->session_id;
    pthread_mutex_unlock(&s->mu);
    LC_INFO(TAG, "webinar %" PRId64 ": session %" PRId64 ": publisher %s", s->webinar_id,
            session_id, what);
    free_publisher(pub);
}
