/* The in-memory HLS window of a live stream (see window.h).
 *
 * Locking: one mutex guards the structure. Only the writer (the stream's worker) changes it, so
 * the writer reads it without the lock; it takes the lock to change it, and readers take it to
 * copy out a reference. Playlists are rendered by the writer after each change, outside the lock,
 * and swapped in under it: a reader's critical section is a lookup and a reference count.
 *
 * Memory: at most window_segments + keep_extra_segments finished segments are kept, each twice
 * (its parts, and their concatenation built once when it ends), plus the segment in progress and
 * the init segments they use.
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
#include "core/log.h"
#include "live/playlist.h"

#define TAG "window"

typedef struct {
    lc_segment_meta_t meta;
    lc_part_meta_t *part_meta; /* contiguous, as the playlist renderer takes them */
    lc_buf_t **part_buf;
    int part_count, part_cap;
    lc_buf_t *bytes; /* once finished: the concatenation of the parts */
    bool finished;
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
    wseg_t **segs; /* oldest first; only the last may be in progress */
    int nsegs, segcap;
    winit_t *inits;
    int ninits, initcap;
    lc_buf_t *media_pl, *delta_pl, *master_pl;
    bool ended;

    /* The writer's own. */
    int latest_init; /* id of the last init added */
    int64_t disc_evicted; /* discontinuities among the segments no longer kept */
    double longest_s;     /* longest segment seen (target duration never decreases) */
    lc_playlist_segment_t *snap;
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

static lc_buf_t *render_media(lc_window_t *w, const lc_playlist_media_t *pl, bool delta)
{
    lc_bytes_reset(&w->render);
    if (lc_playlist_render_media(pl, delta, &w->render) < 0)
        return NULL;
    return lc_bytes_to_buf(&w->render);
}

/* Renders the media playlist (and its delta form) from the current state and swaps them in. */
static int publish_media(lc_window_t *w)
{
    wseg_t *cur = current(w);
    int finished = w->nsegs - (cur ? 1 : 0);
    if (finished == 0 && !cur) {
        /* Nothing to list (never begun, or the only segment was dropped without parts). */
        pthread_mutex_lock(&w->mu);
        lc_buf_t *old_media = w->media_pl, *old_delta = w->delta_pl;
        w->media_pl = w->delta_pl = NULL;
        pthread_mutex_unlock(&w->mu);
        lc_buf_unref(old_media);
        lc_buf_unref(old_delta);
        return 0;
    }
    if (w->snapcap < finished) {
        lc_playlist_segment_t *snap = realloc(w->snap, (size_t)finished * sizeof *snap);
        if (!snap) {
            LC_ERROR(TAG, "session %" PRId64 ": playlist not updated: out of memory",
                     w->cfg.session_id);
            return -ENOMEM;
        }
        w->snap = snap;
        w->snapcap = finished;
    }
    double longest = w->longest_s;
    if (cur && parts_duration(cur) > longest)
        longest = parts_duration(cur);
    int td = lc_playlist_target_duration(longest, w->cfg.segment_target_s);

    /* The last window_segments finished segments, and older kept ones while the playlist would
     * otherwise be shorter than 3 target durations (RFC 8216bis 6.2.2). */
    int listed = 0;
    double listed_s = cur ? parts_duration(cur) : 0;
    while (listed < finished && (listed < w->cfg.window_segments || listed_s < 3.0 * td)) {
        listed_s += w->segs[finished - 1 - listed]->meta.duration;
        listed++;
    }
    int first = finished - listed;
    int64_t disc = w->disc_evicted;
    for (int i = 0; i < first; i++)
        disc += w->segs[i]->meta.discontinuity;
    for (int i = 0; i < listed; i++) {
        const wseg_t *s = w->segs[first + i];
        w->snap[i] = (lc_playlist_segment_t){s->meta, s->part_meta, s->part_count};
    }
    lc_playlist_segment_t partial = {0};
    if (cur)
        partial = (lc_playlist_segment_t){cur->meta, cur->part_meta, cur->part_count};
    lc_playlist_media_t pl = {
        .segments = w->snap,
        .segment_count = listed,
        .partial = cur ? &partial : NULL,
        .discontinuity_sequence = disc,
        .target_duration = td,
        .part_target_s = w->cfg.part_target_s,
        .low_latency = w->cfg.low_latency,
        .ended = w->ended,
    };
    lc_buf_t *media = render_media(w, &pl, false);
    lc_buf_t *delta = w->cfg.low_latency && media ? render_media(w, &pl, true) : lc_buf_ref(media);
    if (!media || !delta) {
        LC_ERROR(TAG, "session %" PRId64 ": playlist not updated: out of memory",
                 w->cfg.session_id);
        lc_buf_unref(media);
        lc_buf_unref(delta);
        return -ENOMEM;
    }
    pthread_mutex_lock(&w->mu);
    lc_buf_t *old_media = w->media_pl, *old_delta = w->delta_pl;
    w->media_pl = media;
    w->delta_pl = delta;
    pthread_mutex_unlock(&w->mu);
    lc_buf_unref(old_media);
    lc_buf_unref(old_delta);
    return 0;
}

static int publish_master(lc_window_t *w, const lc_media_info_t *info)
{
    char uri[40] = "index.m3u8";
    if (w->cfg.session_id != 0)
        snprintf(uri, sizeof uri, "%" PRId64 "/index.m3u8", w->cfg.session_id);
    lc_bytes_reset(&w->render);
    int rc = lc_playlist_render_master(info, uri, &w->render);
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
    /* Without low latency the playlist shows finished segments only: nothing to render. */
    if (w->cfg.low_latency)
        publish_media(w);
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

/* Finishes the segment in progress (the writer built `bytes` from its parts) and drops the
 * oldest segment if it falls out of the kept range (one finish adds one finished segment, so at
 * most one goes). Called with mu held; the dropped segment is returned to be freed outside it. */
static wseg_t *finish_locked(lc_window_t *w, wseg_t *s, lc_buf_t *bytes)
{
    s->bytes = bytes;
    s->finished = true;
    s->meta.part_count = s->part_count;
    if (w->nsegs <= w->cfg.window_segments + w->cfg.keep_extra_segments)
        return NULL;
    wseg_t *gone = w->segs[0];
    w->disc_evicted += gone->meta.discontinuity;
    memmove(w->segs, w->segs + 1, (size_t)(w->nsegs - 1) * sizeof *w->segs);
    w->nsegs--;
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
    pthread_mutex_lock(&w->mu);
    s->meta.duration = duration;
    wseg_t *gone = finish_locked(w, s, bytes);
    pthread_mutex_unlock(&w->mu);
    free_seg(gone);
    if (duration > w->longest_s)
        w->longest_s = duration;
    publish_media(w);
    return 0;
}

void lc_window_end(lc_window_t *w)
{
    if (w->ended)
        return;
    wseg_t *s = current(w);
    lc_buf_t *bytes = s && s->part_count > 0 ? concat_parts(s) : NULL;
    wseg_t *gone = NULL;
    pthread_mutex_lock(&w->mu);
    if (s && bytes) {
        s->meta.duration = parts_duration(s);
        gone = finish_locked(w, s, bytes);
    } else if (s) {
        /* Begun without a single part (or out of memory): it never existed for a reader. */
        gone = s;
        w->nsegs--;
    }
    w->ended = true;
    pthread_mutex_unlock(&w->mu);
    free_seg(gone);
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
lc_buf_t *lc_window_master_playlist(lc_window_t *w) { READ_LOCKED(w, w->master_pl); }

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

bool lc_window_ended(lc_window_t *w)
{
    pthread_mutex_lock(&w->mu);
    bool ended = w->ended;
    pthread_mutex_unlock(&w->mu);
    return ended;
}
