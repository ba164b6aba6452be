/* The in-memory HLS window of one live stream: init segments, the parts of the segment being
 * built, and the last finished segments, as immutable reference-counted buffers; plus the
 * playlists rendered from them (once per change, cached).
 *
 * Threads: exactly one writer (the stream's worker thread) calls the writer functions; any number
 * of HTTP threads call the reader functions at the same time. A short mutex guards the structure;
 * readers leave with references, never with pointers into it.
 *
 * URL names (relative to the media playlist, see docs/urls.md):
 *   init-<init_id>.mp4, seg-<msn>.m4s, part-<msn>.<index>.m4s
 */
#ifndef LC_LIVE_WINDOW_H
#define LC_LIVE_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/media.h"

typedef struct lc_window lc_window_t;

typedef struct {
    double part_target_s;    /* EXT-X-PART-INF:PART-TARGET */
    double segment_target_s; /* configured target; EXT-X-TARGETDURATION starts at it (rounded
                                up) and grows to the ceiling of a longer segment's EXTINF as
                                written; it never decreases within the window (= session) */
    int window_segments;     /* finished segments listed in the media playlist; more are kept
                                listed while the listed ones last less than 3 target durations
                                (RFC 8216 6.2.2). A segment never comes back once it left: the
                                media and discontinuity sequences never decrease */
    int keep_extra_segments; /* segments (and their parts) kept downloadable after they leave
                                the playlist, for slow clients and caches; default 4 */
    bool low_latency;        /* list EXT-X-PART, PRELOAD-HINT, SERVER-CONTROL (LL-HLS) */
    int64_t session_id;      /* the session this window carries; the multivariant playlist
                                names its media playlist "<session_id>/index.m3u8" (URLs are
                                unique per session, so media can be cached as immutable);
                                0 = plain "index.m3u8" */
} lc_window_config_t;

/* Creates an empty window with one reference. Copies cfg. NULL when out of memory. */
lc_window_t *lc_window_new(const lc_window_config_t *cfg);
lc_window_t *lc_window_ref(lc_window_t *w); /* any thread; NULL-safe */
void lc_window_unref(lc_window_t *w);      /* any thread; NULL-safe; the last one frees */

/* ---- writer (the stream's worker thread) --------------------------------------------------- */

/* A new publishing run begins with this init segment (ftyp+moov). Takes a reference to `init`.
 * `info` describes the run for the multivariant playlist (copied). */
int lc_window_add_init(lc_window_t *w, int init_id, lc_buf_t *init, const lc_media_info_t *info);

/* A new segment begins: msn (strictly increasing), pdt_ms, discontinuity and init_id are set;
 * duration and part_count are ignored here. The playlist writes EXT-X-DISCONTINUITY before it
 * when it is flagged or does not follow the segment begun before (another init, or a gap in msn:
 * lc_hls_discontinuity in server/hls/playlist.h). */
int lc_window_begin_segment(lc_window_t *w, const lc_segment_meta_t *seg);

/* Appends a part to the segment begun last. Takes a reference to `bytes`. */
int lc_window_add_part(lc_window_t *w, const lc_part_meta_t *part, lc_buf_t *bytes);

/* The segment begun last is complete (its bytes are the concatenation of its parts). */
int lc_window_end_segment(lc_window_t *w, const lc_segment_meta_t *seg);

/* The stream is over: the media playlist gets EXT-X-ENDLIST, no more writes follow. A segment
 * still in progress is finished with the parts it has (or dropped when it has none). */
void lc_window_end(lc_window_t *w);

/* ---- readers (any thread) -------------------------------------------------------------------
 * Each returns a new reference (the caller lc_buf_unref's it), or NULL when the object does not
 * exist (not yet, or no longer). */

/* The media playlist as it stands (rendered at most once per change). NULL while there is
 * nothing to play: until the first segment has ended or, with low latency, until its first part
 * is in (a playlist without a segment is an error to players: hls.js LEVEL_EMPTY_ERROR). */
lc_buf_t *lc_window_media_playlist(lc_window_t *w);
/* The Playlist Delta Update for an `_HLS_skip=YES` request: the media playlist with the segments
 * older than CAN-SKIP-UNTIL replaced by EXT-X-SKIP (rendered with it, cached the same way). The
 * full media playlist when low latency is off or nothing is old enough to skip. */
lc_buf_t *lc_window_media_playlist_delta(lc_window_t *w);
/* The multivariant playlist (one variant for now) pointing at "<session_id>/index.m3u8"
 * (relative to /live/<live key>/master.m3u8, docs/urls.md), or "index.m3u8" for session 0. NULL
 * while the media playlist is (so that it never names one that is not there yet). */
lc_buf_t *lc_window_master_playlist(lc_window_t *w);
lc_buf_t *lc_window_init(lc_window_t *w, int init_id);
lc_buf_t *lc_window_segment(lc_window_t *w, int64_t msn); /* finished segments only */
lc_buf_t *lc_window_part(lc_window_t *w, int64_t msn, int index);

/* The media playlist, full or as a delta update (`_HLS_skip=YES`), plain or gzip-compressed
 * (each form rendered or compressed once per change). NULL as for lc_window_media_playlist. */
lc_buf_t *lc_window_playlist(lc_window_t *w, bool delta, bool gzip);

/* ---- blocking reload (LL-HLS, draft-pantos-hls-rfc8216bis 6.2.5.2) -------------------------
 * A reader that must wait for a part or segment registers a waiter; the writer calls its `cb`
 * once the media playlist lists what was asked for (or the stream ended). Nothing blocks: the
 * HTTP layer suspends the connection and resumes it from `cb`. */
typedef struct lc_window_waiter lc_window_waiter_t;
struct lc_window_waiter {
    /* Set by the caller before lc_window_wait. */
    int64_t msn; /* _HLS_msn */
    int part;    /* _HLS_part, or -1 to wait for the whole segment msn */
    /* Called once, on the writer's thread, with the window's lock held: it must only note the
     * wake-up and return (never call into the window). */
    void (*cb)(lc_window_waiter_t *waiter);
    /* The window's. */
    lc_window_waiter_t *prev, *next;
    bool linked;
};

/* Whether the playlist already lists what `waiter` asks for: part `part` of segment `msn` or
 * anything after it (a part index past the end of a finished segment means part 0 of the next
 * one), or, with part -1, the finished segment `msn` or a later one. An ended stream satisfies
 * every wait. Returns 0 when it is there (answer now), 1 when the waiter was queued, -ERANGE
 * when it is too far ahead to wait for (answer 400: msn more than two segments beyond the newest,
 * or a part index beyond what a segment can hold), -EINVAL without low latency. */
int lc_window_wait(lc_window_t *w, lc_window_waiter_t *waiter);
/* Removes a queued waiter; returns true when it was still queued (its cb will not run). Once it
 * returns, the writer is not inside the waiter's cb either. */
bool lc_window_cancel(lc_window_t *w, lc_window_waiter_t *waiter);

/* Whether low latency (parts, blocking reload) is on; EXT-X-TARGETDURATION as it stands. */
bool lc_window_low_latency(const lc_window_t *w);
int lc_window_target_duration(lc_window_t *w);
/* Whether part `index` of segment `msn` is the next part to come (what EXT-X-PRELOAD-HINT names):
 * such a part may be requested before it exists. */
bool lc_window_is_next_part(lc_window_t *w, int64_t msn, int index);

/* The session id from the config (immutable). Any thread. */
int64_t lc_window_session_id(const lc_window_t *w);

/* True once lc_window_end was called. */
bool lc_window_ended(lc_window_t *w);

#endif
