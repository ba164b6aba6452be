/* Live streams: one per webinar that is on air. The ingest side (RTMP connections, the demo
 * source) attaches a publisher and writes packets; each stream has one worker thread that
 * packages them into CMAF parts and segments (server/live/packager.h), publishes them into the
 * stream's in-memory HLS window (server/live/window.h) and hands them to the recorder.
 *
 * Lifecycle of a stream (= one session of a webinar):
 *   publish → running ─┬─ presenter stops (FCUnpublish/deleteStream) ──────────────→ ended
 *                      ├─ lc_live_end (a moderator ends it) ────────────────────────→ ended
 *                      └─ connection drops → grace (default 60 s) ─┬─ same webinar publishes
 *                                                                  │  again: running, a new
 *                                                                  │  run (new init segment,
 *                                                                  │  EXT-X-DISCONTINUITY), same
 *                                                                  │  session and recording
 *                                                                  ├─ lc_live_end → ended
 *                                                                  └─ deadline passes → ended
 * When a stream ends, its recording is finalized (replay playable at once), the session hook
 * runs, and the live playlist gets EXT-X-ENDLIST. The ended window stays readable until the
 * webinar goes live again or `ended_linger_ms` passes.
 */
#ifndef LC_LIVE_LIVE_H
#define LC_LIVE_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "core/media.h"
#include "live/window.h"

typedef struct lc_live lc_live_t;
typedef struct lc_publisher lc_publisher_t;

typedef struct {
    double part_target_s;    /* default 0.5 */
    double segment_target_s; /* default 2.0; segments end on the first keyframe at or after it */
    int window_segments;     /* segments listed in the live playlist; default 6 */
    int64_t grace_ms;        /* reconnect grace period; default 60000 */
    int64_t ended_linger_ms; /* how long an ended window stays readable; default 300000 */
    const char *recordings_dir; /* DATA/recordings; NULL disables recording (unit tests) */
    bool low_latency;           /* LL-HLS playlists (see window.h); default false for now */
    /* The CLOCK_MONOTONIC ms that stream health (lc_live_health) is measured with; NULL (the
     * default) = lc_now_mono_ms. Tests inject their own. Called from the ingest and reader
     * threads; must be thread-safe. */
    int64_t (*health_clock_ms)(void);
} lc_live_config_t;

/* Fills `cfg` with the defaults above (recordings_dir NULL). */
void lc_live_config_default(lc_live_config_t *cfg);

/* The application's side of a session (implemented in server/app.c with the database). Both are
 * called from the stream's worker thread, never from an HTTP or ingest thread. */
typedef struct {
    /* A webinar goes live with no session in grace: create the session. Returns 0 and sets
     * *session_id, or a negative code (the publish is then refused). */
    int (*session_begin)(void *opaque, int64_t webinar_id, int64_t started_real_ms,
                         int64_t *session_id);
    /* The session is over. `recording_ok`: its recording is final (the replay playlist has
     * EXT-X-ENDLIST, durable), or recording is off (recordings_dir NULL). False when the session
     * was to be recorded and its recording is not final: lc_recording_open or
     * lc_recording_finish failed (logged; disk full, I/O error). What reached the disk is then
     * left as a crash leaves it, for lc_recording_recover to complete (which answers
     * LC_ENOTFOUND when nothing did). */
    void (*session_end)(void *opaque, int64_t webinar_id, int64_t session_id,
                        int64_t ended_real_ms, double duration_s, bool recording_ok);
    void *opaque;
} lc_live_hooks_t;

/* Creates the registry. Copies `cfg` (and the recordings_dir string) and `hooks`. Returns NULL
 * on failure (logged). Call from the main thread. */
lc_live_t *lc_live_new(const lc_live_config_t *cfg, const lc_live_hooks_t *hooks);

/* Ends every stream (publishers are detached, streams in grace end at once), waits for their
 * workers so that every recording is final, then frees the registry. The ingest must be stopped
 * first. NULL-safe; sets *plive to NULL. Main thread. */
void lc_live_free(lc_live_t **plive);

/* ---- ingest side ------------------------------------------------------------------------- */

/* Attaches a publisher for `webinar_id`, whose media readers find under `name` (copied; the
 * webinar's live key, so a secret: it is never logged). Joins the stream in grace if there is
 * one, otherwise starts a new session. Returns 0 and *out, LC_ECONFLICT when the webinar already
 * has a publisher attached, -EINVAL for an empty name or one over 255 bytes, or another negative
 * code. Any thread; the publisher is then used by that one thread. */
int lc_live_publish(lc_live_t *live, int64_t webinar_id, const char *name, lc_publisher_t **out);

/* Declares the tracks of this run. Exactly one call, before the first packet. Either parameter
 * may be NULL (audio-only or video-only) but not both. Borrows the parameters (copied).
 * Supported: H.264 video (extradata = AVCDecoderConfigurationRecord) and AAC audio (extradata =
 * AudioSpecificConfig). Returns 0, -EINVAL or LC_EMEDIA. */
int lc_publisher_start(lc_publisher_t *pub, const AVCodecParameters *video,
                       const AVCodecParameters *audio);

/* Queues one packet for the worker. stream_index 0 = video, 1 = audio (as declared); pts/dts
 * in milliseconds (time base 1/1000), as RTMP carries them; AV_PKT_FLAG_KEY on keyframes; video
 * payload in AVCC (length-prefixed NAL units), audio raw AAC frames. Takes a new reference to
 * the packet's data (the caller keeps its own). Never blocks on the worker: if the packets queued
 * for it would keep more than `LC_LIVE_QUEUE_MAX_BYTES` of memory alive (their data buffers and
 * the per-packet structures, a few hundred bytes each), returns LC_ELIMIT and the caller should
 * drop the connection. Also returns LC_EMEDIA once this publisher's media could not be packaged
 * (logged; for instance no video keyframe for LC_LIVE_MAX_SEGMENT_S, see live/packager.h; drop
 * the connection: a reconnect starts a new run, which is not refused for this one's failure),
 * LC_ENOTFOUND when the session was ended from elsewhere (lc_live_end, lc_live_free: drop the
 * connection; lc_publisher_start answers the same), -EINVAL for a packet
 * that breaks the rules above. */
#define LC_LIVE_QUEUE_MAX_BYTES (64 * 1024 * 1024)
int lc_publisher_write(lc_publisher_t *pub, const AVPacket *pkt);

/* Detaches and frees the publisher. `stopped` = the presenter ended the broadcast on purpose
 * (the session ends now); otherwise the connection was lost and the stream waits in grace. When
 * the session was already ended from elsewhere (lc_live_end), it only frees the publisher: the
 * stream outlives a publisher that holds it. NULL-safe; sets *ppub to NULL. */
void lc_publisher_finish(lc_publisher_t **ppub, bool stopped);

/* ---- HTTP side: readers and the console -------------------------------------------------- */

typedef enum {
    LC_LIVE_OFFLINE = 0, /* no stream, or it ended */
    LC_LIVE_RUNNING = 1, /* a publisher is attached and media flows */
    LC_LIVE_GRACE = 2,   /* the publisher dropped; waiting for it to come back */
} lc_live_state_t;

/* State of the webinar's stream and, when not offline, its session id. Any thread. */
lc_live_state_t lc_live_state(lc_live_t *live, int64_t webinar_id, int64_t *session_id);

/* Stream health for the presenter console. Rates describe the current publisher over the last
 * 2 to 4 s (0 during its first 2 s); in grace (no publisher) only `state` and `session_id` are
 * filled, so rates read 0 and audio_present false. */
typedef struct {
    lc_live_state_t state;      /* as lc_live_state */
    int64_t session_id;
    bool has_video, has_audio;  /* tracks declared by the current publisher (lc_publisher_start) */
    char video_codec[16];       /* "h264" */
    int width, height;          /* from the codec parameters; 0 unknown */
    double video_kbps, fps;     /* over the last few seconds of packets written (0 when none) */
    double keyframe_interval_s; /* media time between the last two keyframes; 0 unknown */
    char audio_codec[16];       /* "aac" */
    int sample_rate, channels;
    double audio_kbps;
    bool audio_present;         /* an audio packet was written within the last 3 s (wall clock) */
} lc_live_health_t;

/* Fills *out for the webinar's stream: 0, or LC_ENOTFOUND when offline (out->state OFFLINE, rest
 * zero). Any thread; cheap (a lock and a copy): the figures are kept up to date by
 * lc_publisher_start and lc_publisher_write on the ingest thread. */
int lc_live_health(lc_live_t *live, int64_t webinar_id, lc_live_health_t *out);

/* Ends the webinar's stream now, as if the presenter had stopped: an attached publisher is cut
 * off (its next lc_publisher_write returns LC_ENOTFOUND, so the ingest closes the connection;
 * its lc_publisher_finish then only frees it), a stream in grace ends at once; packets already
 * queued are still packaged, then the session hook and recording finalisation run as for any
 * end, and the ended window lingers. A later publish of the webinar starts a new session. 0, or
 * LC_ENOTFOUND when nothing runs (offline, or a session still starting). Any thread; does not
 * wait for the worker. */
int lc_live_end(lc_live_t *live, int64_t webinar_id);

/* The HLS window of the stream published under `name` (live or recently ended), as a new
 * reference the caller must lc_window_unref; NULL when there is none. Names are compared in
 * constant time (they are guessed at by HTTP clients). Any thread. */
lc_window_t *lc_live_window(lc_live_t *live, const char *name);

#endif
