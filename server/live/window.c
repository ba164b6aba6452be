/* The in-memory HLS window of a live stream (see window.h).
 *
 * Locking: one mutex guards the structure. Only the writer (the stream's worker) changes it, so
 * the writer reads it without the lock; it takes the lock to change it, and readers take it to
 * copy out a reference. Playlists are rendered by the writer after each change, outside the lock,
 * and swapped in under it: a reader's critical section is a lookup and a reference count.
 *
 * The media playlist follows RFC 8216 6.2.1 and 6.2.2: segments leave it from the front only and
 * are never listed again, so EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE never go back.
 * The oldest listed segment leaves when more than window_segments are listed and the others still
 * last at least three target durations: after a long segment the playlist keeps its older
 * segments longer. EXT-X-TARGETDURATION starts at the configured target and only grows, to cover
 * a segment longer than it (the presenter's keyframe interval is longer than the target; logged
 * once per session). Nothing is published before there is something to play.
 *
 * Memory: the listed segments (window_segments, or more while they last under three target
 * durations), keep_extra_segments more, each twice (its parts, and their concatenation built once
 * when it ends), plus the segment in progress and the init segments they use. A segment lasts at
 * most about LC_LIVE_MAX_SEGMENT_S (server/live/packager.h): the packager fails a run that goes
 * longer without a keyframe.
 */
#include "live/window.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/gzip.h"
#include "core/log.h"
#include "hls/playlist.h"

#define TAG "window"

/* RFC 8216 6.2.2: a segment may leave the playlist only while what stays lasts this many target
 * durations. */
#define MIN_PLAYLIST_TDS 3

typedef struct wseg {
    lc_segment_meta_t meta; /* discontinuity as lc_hls_discontinuity decided at its beginning */
    lc_part_meta_t *part_meta; /* contiguous, as the playlist renderer takes them */
    lc_buf_t **part_buf;
    int part_count, part_cap;
    lc_buf_t *bytes; /* once finished: the concatenation of the parts */
    bool finished;
    struct wseg *gone_next; /* on the list of segments to free once out of the lock */
} wseg_t;

typedef struct {
    int id;
    lc_buf_t *buf;
    lc_media_info_t info;
} winit_t;

struct lc_window {
    atomic_int refs;
    lc_window_config_t cfg;
    pthread_mutex_t mu;

    /* Guarded by mu (changed by the writer only). */
    wseg_t **segs; /* oldest first: `hidden` finished segments that left the playlist (kept for
                      download), the listed ones, and last the one in progress if any */
    int nsegs, segcap;
    winit_t *inits;
    int ninits, initcap;
    lc_buf_t *media_pl, *delta_pl, *master_pl;
    lc_buf_t *media_gz, *delta_gz; /* the same, gzip-compressed */
    lc_window_waiter_t *waiters;   /* blocking reloads and preload-hinted parts */
    /* The live edge of the published media playlist (what readers get now), which is what
     * blocking reloads are answered against: the writer changes the segments before it renders
     * and swaps in the playlist that lists them. */
    int64_t pub_msn;   /* the newest segment listed, -1 before any */
    int pub_parts;     /* its parts listed */
    bool pub_finished; /* it is finished (has its EXTINF) */
    bool pub_ended;    /* EXT-X-ENDLIST is listed */
    bool ended;

    /* The writer's own (`hidden` changes together with segs, under mu). */
    int latest_init;        /* id of the last init added */
    int hidden;             /* segs[0, hidden) are no longer listed */
    int64_t disc_seq;       /* EXT-X-DISCONTINUITY-SEQUENCE: discontinuities that left it */
    int target;             /* EXT-X-TARGETDURATION, never decreasing */
    bool warned_target;     /* the one warning per session about it growing */
    bool have_prev;
    lc_segment_meta_t prev; /* the segment begun last, as given */
    lc_hls_segment_t *snap;
    int snapcap;
    lc_bytes_t render;
};

lc_window_t *lc_window_new(const lc_window_config_t *cfg)
{
    if (!(cfg->part_target_s > 0) || cfg->segment_target_s < cfg->part_target_s ||
        cfg->window_segments < 1 || cfg->keep_extra_segments < 0)
        return NULL;
    lc_window_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return NULL;
    }
    atomic_init(&w->refs, 1);
    w->cfg = *cfg;
    w->pub_msn = -1;
    /* The configured target rounded up: 2 s segments give 2, never 1. */
    double configured = ceil(cfg->segment_target_s - 1e-9);
    w->target = configured < 1 ? 1 : configured > 3600 ? 3600 : (int)configured;
    lc_bytes_init(&w->render);
    return w;
}

static void free_seg(wseg_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->part_count; i++)
        lc_buf_unref(s->part_buf[i]);
    free(s->part_meta);
    free(s->part_buf);
    lc_buf_unref(s->bytes);
    free(s);
}

static void free_gone(wseg_t *list)
{
    while (list) {
        wseg_t *next = list->gone_next;
        free_seg(list);
        list = next;
    }
}

lc_window_t *lc_window_ref(lc_window_t *w)
{
    if (w)
        atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
    return w;
}

void lc_window_unref(lc_window_t *w)
{
    if (!w || atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < w->nsegs; i++)
        free_seg(w->segs[i]);
    free(w->segs);
    for (int i = 0; i < w->ninits; i++)
        lc_buf_unref(w->inits[i].buf);
    free(w->inits);
    lc_buf_unref(w->media_pl);
    lc_buf_unref(w->delta_pl);
    lc_buf_unref(w->media_gz);
    lc_buf_unref(w->delta_gz);
    lc_buf_unref(w->master_pl);
    free(w->snap);
    lc_bytes_free(&w->render);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* ---- lookups (callers hold mu, or are the writer) ------------------------------------------ */

static wseg_t *current(const lc_window_t *w)
{
    wseg_t *last = w->nsegs ? w->segs[w->nsegs - 1] : NULL;
    return last && !last->finished ? last : NULL;
}

static wseg_t *find_seg(const lc_window_t *w, int64_t msn)
{
    int lo = 0, hi = w->nsegs - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int64_t m = w->segs[mid]->meta.msn;
        if (m == msn)
            return w->segs[mid];
        if (m < msn)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static winit_t *find_init(const lc_window_t *w, int id)
{
    for (int i = 0; i < w->ninits; i++)
        if (w->inits[i].id == id)
            return &w->inits[i];
    return NULL;
}

/* ---- rendering (writer, without the lock) -------------------------------------------------- */

static double parts_duration(const wseg_t *s)
{
    double d = 0;
    for (int i = 0; i < s->part_count; i++)
        d += s->part_meta[i].duration;
    return d;
}

static lc_buf_t *render_media(lc_window_t *w, const lc_hls_media_t *pl, bool delta, int *rc)
{
    lc_bytes_reset(&w->render);
    if ((*rc = lc_hls_render_media(pl, delta, &w->render)) < 0)
        return NULL;
    lc_buf_t *b = lc_bytes_to_buf(&w->render);
    if (!b)
        *rc = -ENOMEM;
    return b;
}

static bool reached_locked(const lc_window_t *w, int64_t msn, int part);

/* Wakes the waiters whose part or segment is now listed (called with mu held, right after a new
 * playlist was swapped in, so that every woken reader gets a playlist that lists it). */
static void wake_locked(lc_window_t *w)
{
    lc_window_waiter_t *next;
    for (lc_window_waiter_t *wt = w->waiters; wt; wt = next) {
        next = wt->next;
        if (!reached_locked(w, wt->msn, wt->part))
            continue;
        if (wt->prev)
            wt->prev->next = wt->next;
        else
            w->waiters = wt->next;
        if (wt->next)
            wt->next->prev = wt->prev;
        wt->prev = wt->next = NULL;
        wt->linked = false;
        wt->cb(wt);
    }
}

/* Compresses a rendered playlist; a failure only costs the compression. */
static lc_buf_t *gzip_of(const lc_buf_t *b)
{
    return b ? lc_gzip(lc_buf_cdata(b), lc_buf_len(b)) : NULL;
}

typedef struct {
    int64_t msn;
    int parts;
    bool finished;
} edge_t;

static void swap_media(lc_window_t *w, lc_buf_t *media, lc_buf_t *delta, edge_t edge)
{
    lc_buf_t *media_gz = gzip_of(media);
    lc_buf_t *delta_gz = delta == media ? lc_buf_ref(media_gz) : gzip_of(delta);
    pthread_mutex_lock(&w->mu);
    lc_buf_t *old[4] = {w->media_pl, w->delta_pl, w->media_gz, w->delta_gz};
    w->media_pl = media;
    w->delta_pl = delta;
    w->media_gz = media_gz;
    w->delta_gz = delta_gz;
    w->pub_msn = media ? edge.msn : -1;
    w->pub_parts = edge.parts;
    w->pub_finished = edge.finished;
    w->pub_ended = w->ended;
    if (media || w->ended)
        wake_locked(w);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < 4; i++)
        lc_buf_unref(old[i]);
}

/* Renders the media playlist (and its delta form) from the current state and swaps them in; no
 * playlist at all while there is nothing to play (hls.js would report LEVEL_EMPTY_ERROR): before
 * the first segment has ended, or with low latency before its first part. */
static int publish_media(lc_window_t *w)
{
    wseg_t *cur = current(w);
    int finished = w->nsegs - (cur ? 1 : 0);
    int listed = finished - w->hidden;
    const wseg_t *partial = w->cfg.low_latency ? cur : NULL;
    if (listed == 0 && !(partial && partial->part_count > 0)) {
        swap_media(w, NULL, NULL, (edge_t){-1, 0, false});
        return 0;
    }
    /* The newest segment the playlist will list: the one in progress once it has a part. */
    const wseg_t *newest = partial && partial->part_count > 0 ? partial
                                                              : w->segs[w->hidden + listed - 1];
    edge_t edge = {newest->meta.msn, newest->part_count, newest->finished};
    if (w->snapcap < listed) {
        lc_hls_segment_t *snap = realloc(w->snap, (size_t)listed * sizeof *snap);
        if (!snap) {
            LC_ERROR(TAG, "session %" PRId64 ": playlist not updated: out of memory",
                     w->cfg.session_id);
            return -ENOMEM;
        }
        w->snap = snap;
        w->snapcap = listed;
    }
    for (int i = 0; i < listed; i++) {
        const wseg_t *s = w->segs[w->hidden + i];
        w->snap[i] = (lc_hls_segment_t){s->meta, s->part_meta, s->part_count};
    }
    lc_hls_segment_t in_progress = {0};
    if (partial)
        in_progress = (lc_hls_segment_t){partial->meta, partial->part_meta, partial->part_count};
    lc_hls_media_t pl = {
        .type = LC_HLS_LIVE,
        .segments = w->snap,
        .segment_count = listed,
        .partial = partial ? &in_progress : NULL,
        .discontinuity_sequence = w->disc_seq,
        .target_duration = w->target,
        .part_target_s = w->cfg.part_target_s,
        .low_latency = w->cfg.low_latency,
        .ended = w->ended,
    };
    int rc = 0;
    lc_buf_t *media = render_media(w, &pl, false, &rc);
    lc_buf_t *delta = w->cfg.low_latency && media ? render_media(w, &pl, true, &rc)
                                                  : lc_buf_ref(media);
    if (!media || !delta) {
        LC_ERROR(TAG, "session %" PRId64 ": playlist not updated: %s", w->cfg.session_id,
                 lc_strerror(rc));
        lc_buf_unref(media);
        lc_buf_unref(delta);
        return rc < 0 ? rc : -ENOMEM;
    }
    swap_media(w, media, delta, edge);
    return 0;
}

static int publish_master(lc_window_t *w, const lc_media_info_t *info)
{
    char uri[40] = "index.m3u8";
    if (w->cfg.session_id != 0)
        snprintf(uri, sizeof uri, "%" PRId64 "/index.m3u8", w->cfg.session_id);
    lc_bytes_reset(&w->render);
    int rc = lc_hls_render_multivariant(info, uri, &w->render);
    lc_buf_t *master = rc == 0 ? lc_bytes_to_buf(&w->render) : NULL;
    if (!master) {
        LC_ERROR(TAG, "session %" PRId64 ": multivariant playlist not updated: %s",
                 w->cfg.session_id, rc < 0 ? lc_strerror(rc) : "out of memory");
        return rc < 0 ? rc : -ENOMEM;
    }
    pthread_mutex_lock(&w->mu);
    lc_buf_t *old = w->master_pl;
    w->master_pl = master;
    pthread_mutex_unlock(&w->mu);
    lc_buf_unref(old);
    return 0;
}

/* EXT-X-TARGETDURATION grows to cover a segment of `duration` (never comes back down within the
 * session: RFC 8216 6.2.1 does not let it change, and players size their buffers by it). A
 * segment longer than the target means the presenter's keyframes come less often than that. */
static void cover_duration(lc_window_t *w, const lc_segment_meta_t *seg, double duration)
{
    int needed = lc_hls_target_duration(duration, 0);
    if (needed <= w->target)
        return;
    if (!w->warned_target) {
        w->warned_target = true;
        LC_WARN(TAG, "session %" PRId64 ": segment %" PRId64 " lasts %.3f s, longer than the "
                     "%.3f s segment target: EXT-X-TARGETDURATION grows from %d to %d s for the "
                     "rest of the session, and players keep a longer delay; set the encoder's "
                     "keyframe interval to 1–2 s",
                w->cfg.session_id, seg->msn, duration, w->cfg.segment_target_s, w->target,
                needed);
    } else {
        LC_INFO(TAG, "session %" PRId64 ": segment %" PRId64 " lasts %.3f s: "
                     "EXT-X-TARGETDURATION grows from %d to %d s",
                w->cfg.session_id, seg->msn, duration, w->target, needed);
    }
    w->target = needed;
}

/* ---- writer -------------------------------------------------------------------------------- */

int lc_window_add_init(lc_window_t *w, int init_id, lc_buf_t *init, const lc_media_info_t *info)
{
    if (w->ended || !init || find_init(w, init_id))
        return -EINVAL;
    pthread_mutex_lock(&w->mu);
    if (w->ninits == w->initcap) {
        int cap = w->initcap ? 2 * w->initcap : 4;
        winit_t *inits = realloc(w->inits, (size_t)cap * sizeof *inits);
        if (!inits) {
            pthread_mutex_unlock(&w->mu);
            return -ENOMEM;
        }
        w->inits = inits;
        w->initcap = cap;
    }
    w->inits[w->ninits++] = (winit_t){init_id, lc_buf_ref(init), *info};
    pthread_mutex_unlock(&w->mu);
    w->latest_init = init_id;
    publish_master(w, info); /* a failure is logged; the change itself is made */
    return 0;
}

int lc_window_begin_segment(lc_window_t *w, const lc_segment_meta_t *seg)
{
    const wseg_t *last = w->nsegs ? w->segs[w->nsegs - 1] : NULL;
    if (w->ended || current(w) || (last && seg->msn <= last->meta.msn) ||
        !find_init(w, seg->init_id)) {
        LC_ERROR(TAG, "segment %" PRId64 " refused: window ended, a segment in progress, msn "
                      "not increasing, or unknown init %d", seg->msn, seg->init_id);
        return -EINVAL;
    }
    wseg_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->meta = *seg;
    s->meta.discontinuity = lc_hls_discontinuity(w->have_prev ? &w->prev : NULL, seg);
    s->meta.duration = 0;
    s->meta.part_count = 0;
    pthread_mutex_lock(&w->mu);
    if (w->nsegs == w->segcap) {
        int cap = w->segcap ? 2 * w->segcap : 16;
        wseg_t **segs = realloc(w->segs, (size_t)cap * sizeof *segs);
        if (!segs) {
            pthread_mutex_unlock(&w->mu);
            free(s);
            return -ENOMEM;
        }
        w->segs = segs;
        w->segcap = cap;
    }
    w->segs[w->nsegs++] = s;
    pthread_mutex_unlock(&w->mu);
    w->prev = *seg;
    w->have_prev = true;
    /* Without low latency the playlist shows finished segments only: nothing changed for it. */
    if (w->cfg.low_latency)
        publish_media(w);
    return 0;
}

int lc_window_add_part(lc_window_t *w, const lc_part_meta_t *part, lc_buf_t *bytes)
{
    wseg_t *s = current(w);
    if (!s || !bytes || part->msn != s->meta.msn || part->index != s->part_count ||
        part->init_id != s->meta.init_id) {
        LC_ERROR(TAG, "part %" PRId64 ".%d refused: not the next part of the segment in "
                      "progress", part->msn, part->index);
        return -EINVAL;
    }
    pthread_mutex_lock(&w->mu);
    if (s->part_count == s->part_cap) {
        int cap = s->part_cap ? 2 * s->part_cap : 8;
        lc_part_meta_t *meta = realloc(s->part_meta, (size_t)cap * sizeof *meta);
        if (meta)
            s->part_meta = meta;
        lc_buf_t **bufs = meta ? realloc(s->part_buf, (size_t)cap * sizeof *bufs) : NULL;
        if (!bufs) {
            pthread_mutex_unlock(&w->mu);
            return -ENOMEM;
        }
        s->part_buf = bufs;
        s->part_cap = cap;
    }
    s->part_meta[s->part_count] = *part;
    s->part_buf[s->part_count] = lc_buf_ref(bytes);
    s->part_count++;
    pthread_mutex_unlock(&w->mu);
    /* Without low latency the playlist shows finished segments only: nothing to render. With it,
     * the segment in progress is listed, so the target covers it already. */
    if (w->cfg.low_latency) {
        cover_duration(w, &s->meta, parts_duration(s));
        publish_media(w);
    }
    return 0;
}

/* The concatenation of a segment's parts: the one copy made per segment. */
static lc_buf_t *concat_parts(const wseg_t *s)
{
    size_t len = 0;
    for (int i = 0; i < s->part_count; i++)
        len += lc_buf_len(s->part_buf[i]);
    lc_buf_t *b = lc_buf_new(len);
    if (!b)
        return NULL;
    uint8_t *p = lc_buf_data(b);
    for (int i = 0; i < s->part_count; i++) {
        memcpy(p, lc_buf_cdata(s->part_buf[i]), lc_buf_len(s->part_buf[i]));
        p += lc_buf_len(s->part_buf[i]);
    }
    return b;
}

/* Finishes the segment in progress (the writer built `bytes` from its parts and made the target
 * cover it), slides the playlist (see the top of this file) and drops the segments that fall out
 * of the kept range. Called with mu held; returns the dropped segments (linked by gone_next) to be
 * freed outside it. */
static wseg_t *finish_locked(lc_window_t *w, wseg_t *s, lc_buf_t *bytes)
{
    s->bytes = bytes;
    s->finished = true;
    s->meta.part_count = s->part_count;

    double listed_s = 0;
    for (int i = w->hidden; i < w->nsegs; i++)
        listed_s += w->segs[i]->meta.duration;
    /* 1e-6: float noise in sums of exact durations, far below the milliseconds written. */
    while (w->nsegs - w->hidden > w->cfg.window_segments &&
           listed_s - w->segs[w->hidden]->meta.duration >=
               MIN_PLAYLIST_TDS * (double)w->target - 1e-6) {
        const wseg_t *leaving = w->segs[w->hidden++];
        listed_s -= leaving->meta.duration;
        w->disc_seq += leaving->meta.discontinuity;
    }

    int drop = w->hidden - w->cfg.keep_extra_segments;
    if (drop <= 0)
        return NULL;
    wseg_t *gone = NULL, **tail = &gone;
    for (int i = 0; i < drop; i++) {
        *tail = w->segs[i];
        tail = &w->segs[i]->gone_next;
    }
    *tail = NULL;
    memmove(w->segs, w->segs + drop, (size_t)(w->nsegs - drop) * sizeof *w->segs);
    w->nsegs -= drop;
    w->hidden -= drop;
    /* An init segment goes with the last kept segment that used it (the latest one stays). */
    for (int i = 0; i < w->ninits;) {
        bool used = w->inits[i].id == w->latest_init;
        for (int k = 0; k < w->nsegs && !used; k++)
            used = w->segs[k]->meta.init_id == w->inits[i].id;
        if (used) {
            i++;
            continue;
        }
        lc_buf_unref(w->inits[i].buf);
        w->inits[i] = w->inits[--w->ninits];
    }
    return gone;
}

int lc_window_end_segment(lc_window_t *w, const lc_segment_meta_t *seg)
{
    wseg_t *s = current(w);
    if (!s || seg->msn != s->meta.msn || s->part_count == 0) {
        LC_ERROR(TAG, "end of segment %" PRId64 " refused: not in progress, or no parts",
                 seg->msn);
        return -EINVAL;
    }
    lc_buf_t *bytes = concat_parts(s);
    if (!bytes)
        return -ENOMEM;
    double duration = seg->duration > 0 ? seg->duration : parts_duration(s);
    cover_duration(w, &s->meta, duration);
    pthread_mutex_lock(&w->mu);
    s->meta.duration = duration;
    wseg_t *gone = finish_locked(w, s, bytes);
    pthread_mutex_unlock(&w->mu);
    free_gone(gone);
    publish_media(w);
    return 0;
}

void lc_window_end(lc_window_t *w)
{
    if (w->ended)
        return;
    wseg_t *s = current(w);
    lc_buf_t *bytes = s && s->part_count > 0 ? concat_parts(s) : NULL;
    if (bytes)
        cover_duration(w, &s->meta, parts_duration(s));
    wseg_t *gone = NULL;
    pthread_mutex_lock(&w->mu);
    if (s && bytes) {
        s->meta.duration = parts_duration(s);
        gone = finish_locked(w, s, bytes);
    } else if (s) {
        /* Begun without a single part (or out of memory): it never existed for a reader. */
        s->gone_next = NULL;
        gone = s;
        w->nsegs--;
    }
    w->ended = true;
    pthread_mutex_unlock(&w->mu);
    free_gone(gone);
    publish_media(w);
}

/* ---- readers ------------------------------------------------------------------------------- */

/* Each reader copies one reference out under the lock. */
#define READ_LOCKED(w, expr)                                                                       \
    do {                                                                                           \
        pthread_mutex_lock(&(w)->mu);                                                              \
        lc_buf_t *b_ = (expr);                                                                     \
        lc_buf_ref(b_);                                                                            \
        pthread_mutex_unlock(&(w)->mu);                                                            \
        return b_;                                                                                 \
    } while (0)

lc_buf_t *lc_window_media_playlist(lc_window_t *w) { READ_LOCKED(w, w->media_pl); }
lc_buf_t *lc_window_media_playlist_delta(lc_window_t *w) { READ_LOCKED(w, w->delta_pl); }

/* Falls back to the plain form when compression failed (out of memory). */
lc_buf_t *lc_window_playlist(lc_window_t *w, bool delta, bool gzip)
{
    READ_LOCKED(w, gzip && (delta ? w->delta_gz : w->media_gz) ? (delta ? w->delta_gz : w->media_gz)
                                                             : (delta ? w->delta_pl : w->media_pl));
}
/* The multivariant playlist names the media playlist: it is not offered before that exists. */
lc_buf_t *lc_window_master_playlist(lc_window_t *w)
{
    READ_LOCKED(w, w->media_pl ? w->master_pl : NULL);
}

static lc_buf_t *init_buf(const lc_window_t *w, int id)
{
    const winit_t *in = find_init(w, id);
    return in ? in->buf : NULL;
}

static lc_buf_t *segment_buf(const lc_window_t *w, int64_t msn)
{
    const wseg_t *s = find_seg(w, msn);
    return s && s->finished ? s->bytes : NULL;
}

static lc_buf_t *part_buf(const lc_window_t *w, int64_t msn, int index)
{
    const wseg_t *s = find_seg(w, msn);
    return s && index >= 0 && index < s->part_count ? s->part_buf[index] : NULL;
}

lc_buf_t *lc_window_init(lc_window_t *w, int init_id) { READ_LOCKED(w, init_buf(w, init_id)); }
lc_buf_t *lc_window_segment(lc_window_t *w, int64_t msn) { READ_LOCKED(w, segment_buf(w, msn)); }
lc_buf_t *lc_window_part(lc_window_t *w, int64_t msn, int index)
{
    READ_LOCKED(w, part_buf(w, msn, index));
}

int64_t lc_window_session_id(const lc_window_t *w) { return w->cfg.session_id; }

bool lc_window_low_latency(const lc_window_t *w) { return w->cfg.low_latency; }

int lc_window_target_duration(lc_window_t *w)
{
    pthread_mutex_lock(&w->mu);
    int target = w->target;
    pthread_mutex_unlock(&w->mu);
    return target;
}

/* ---- blocking reload ----------------------------------------------------------------------- */

/* Whether the published media playlist lists part `part` of segment `msn` or anything after it
 * (see lc_window_wait). Called with mu held. */
static bool reached_locked(const lc_window_t *w, int64_t msn, int part)
{
    if (w->pub_ended)
        return true;
    if (w->pub_msn < 0)
        return false;
    if (part < 0) {
        /* The whole segment: the newest listed one is finished, or a later one is listed. */
        return w->pub_msn > msn || (w->pub_msn == msn && w->pub_finished);
    }
    if (w->pub_msn > msn + 1)
        return true;
    if (w->pub_msn == msn + 1)
        return true; /* the next segment is listed with a part: all of msn is there, and "the part
                        after its last" is the next segment's part 0 */
    if (w->pub_msn == msn)
        return part < w->pub_parts;
    return false;
}

/* How many parts a segment can hold, generously: beyond it, a part index is a client error. */
static int max_parts(const lc_window_t *w)
{
    return 2 * (int)ceil((double)w->target / w->cfg.part_target_s) + 2;
}

int lc_window_wait(lc_window_t *w, lc_window_waiter_t *waiter)
{
    if (!w->cfg.low_latency)
        return -EINVAL;
    pthread_mutex_lock(&w->mu);
    int rc;
    int64_t newest = w->nsegs ? w->segs[w->nsegs - 1]->meta.msn : 0;
    if (reached_locked(w, waiter->msn, waiter->part)) {
        rc = 0;
    } else if (waiter->msn > newest + 2 || waiter->part >= max_parts(w)) {
        rc = -ERANGE;
    } else {
        waiter->prev = NULL;
        waiter->next = w->waiters;
        if (w->waiters)
            w->waiters->prev = waiter;
        w->waiters = waiter;
        waiter->linked = true;
        rc = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

bool lc_window_cancel(lc_window_t *w, lc_window_waiter_t *waiter)
{
    pthread_mutex_lock(&w->mu);
    bool was = waiter->linked;
    if (was) {
        if (waiter->prev)
            waiter->prev->next = waiter->next;
        else
            w->waiters = waiter->next;
        if (waiter->next)
            waiter->next->prev = waiter->prev;
        waiter->prev = waiter->next = NULL;
        waiter->linked = false;
    }
    pthread_mutex_unlock(&w->mu);
    return was;
}

bool lc_window_is_next_part(lc_window_t *w, int64_t msn, int index)
{
    /* What the published playlist's EXT-X-PRELOAD-HINT names. */
    pthread_mutex_lock(&w->mu);
    bool next = false;
    if (!w->pub_ended && w->pub_msn >= 0) {
        if (!w->pub_finished)
            next = msn == w->pub_msn && index == w->pub_parts;
        else
            next = msn == w->pub_msn + 1 && index == 0;
    }
    pthread_mutex_unlock(&w->mu);
    return next;
}

bool lc_window_ended(lc_window_t *w)
{
    pthread_mutex_lock(&w->mu);
    bool ended = w->ended;
    pthread_mutex_unlock(&w->mu);
    return ended;
}
