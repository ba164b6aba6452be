/* Rendering of HLS playlists (RFC 8216 and draft-pantos-hls-rfc8216bis, with the Low-Latency
 * extensions): the one renderer behind the live window's sliding playlist (server/live/window.c)
 * and the recording's EVENT/VOD playlist (recorder/playlist.c), plus the multivariant playlist.
 *
 * Pure functions over plain structs: no locking, no libav, no clock, no allocation but the output
 * buffer's; the caller owns every input and the output. Any thread.
 *
 * URL names, relative to the media playlist (docs/urls.md):
 *   init-<init_id>.mp4, seg-<msn>.m4s, part-<msn>.<index>.m4s
 */
#ifndef LC_HLS_PLAYLIST_H
#define LC_HLS_PLAYLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/media.h"

/* One segment as a playlist lists it. meta.duration is its EXTINF in seconds; for the segment in
 * progress (lc_hls_media_t.partial) meta.duration and meta.part_count are ignored: its parts say
 * how far it got. meta.discontinuity is written as EXT-X-DISCONTINUITY before the segment, as
 * given: producers set it with lc_hls_discontinuity, so that every playlist breaks at the same
 * places and a sliding window can count the breaks that left it. */
typedef struct {
    lc_segment_meta_t meta;
    const lc_part_meta_t *parts; /* in order; low latency only; may be NULL when part_count is 0 */
    int part_count;
} lc_hls_segment_t;

typedef enum {
    LC_HLS_LIVE = 0, /* a sliding window: no EXT-X-PLAYLIST-TYPE; EXT-X-ENDLIST once `ended` */
    LC_HLS_EVENT,    /* EXT-X-PLAYLIST-TYPE:EVENT: segments are only ever appended */
    LC_HLS_VOD,      /* EXT-X-PLAYLIST-TYPE:VOD, always with EXT-X-ENDLIST */
} lc_hls_type_t;

typedef struct {
    lc_hls_type_t type;
    const lc_hls_segment_t *segments; /* finished segments to list, oldest first */
    int segment_count;
    /* LIVE with low latency only: the segment in progress (its parts, then the preload hint of the
     * next part); NULL when none. */
    const lc_hls_segment_t *partial;
    /* LIVE only: EXT-X-DISCONTINUITY tags that left the playlist before segments[0] (the tag is
     * written only when non-zero). */
    int64_t discontinuity_sequence;
    /* EXT-X-TARGETDURATION in whole seconds. 0: computed from the listed segments (the largest
     * lc_hls_target_duration of them, at least 1), which suits a playlist that only grows
     * (EVENT, VOD). A live window passes its own value, which must never decrease while the
     * window slides (RFC 8216 6.2.1); it must cover every listed segment. */
    int target_duration;
    /* Digits after the decimal point in EXTINF: 0 means 3 (milliseconds, as the live window
     * writes); the recording writes 6 (its durations are whole microseconds, so the VOD timeline
     * adds up exactly). 1..9. */
    int extinf_decimals;
    double part_target_s; /* EXT-X-PART-INF:PART-TARGET (low latency only) */
    bool low_latency;     /* EXT-X-PART, PRELOAD-HINT, SERVER-CONTROL, PART-INF; version 9 */
    bool ended;           /* LIVE: EXT-X-ENDLIST, and no preload hint */
} lc_hls_media_t;

/* EXT-X-TARGETDURATION a segment of `duration_s` needs when its EXTINF is written with
 * `decimals` digits (0 means 3): the value as written, rounded to the nearest integer, as RFC
 * 8216 4.3.3.1 compares them — "2.002" (60 frames at 29.97 fps) needs 2, "2.500" needs 3. A
 * ceiling would push common 29.97 fps streams to a target of 3 and players 3 s further behind.
 * At least 1. */
int lc_hls_target_duration(double duration_s, int decimals);

/* Whether `seg` starts a new discontinuity after `prev`, the segment listed before it in the
 * same session (NULL for the first: nothing comes before it to break from). True when `seg`
 * is flagged (a new publishing run), when its init segment differs from prev's (a run whose
 * first segment is gone), or when its msn does not follow prev's (segments in between are
 * missing, so its media time jumps: players must not wait for the hole to fill). */
bool lc_hls_discontinuity(const lc_segment_meta_t *prev, const lc_segment_meta_t *seg);

/* Appends the media playlist to `out`. With `delta` (an _HLS_skip=YES request) and low latency,
 * the leading segments older than CAN-SKIP-UNTIL (6 target durations) from the end are replaced
 * by EXT-X-SKIP; when none are, the full playlist is rendered. Returns 0, -ENOMEM, or -EINVAL:
 * a LIVE playlist with nothing to play (no segment, and no part of a segment in progress with
 * low latency), a partial or low latency outside LIVE, extinf_decimals out of range, or a
 * target_duration that a listed segment exceeds. Nothing is appended on -EINVAL. */
int lc_hls_render_media(const lc_hls_media_t *pl, bool delta, lc_bytes_t *out);

/* Appends a multivariant playlist with one variant, `media_uri` (a relative URI such as
 * "<session>/index.m3u8", see docs/urls.md), described by `info` (BANDWIDTH, CODECS, RESOLUTION
 * and FRAME-RATE when known). Returns 0, -EINVAL (no bandwidth or codecs, or a character that
 * cannot be quoted; nothing appended) or -ENOMEM. */
int lc_hls_render_multivariant(const lc_media_info_t *info, const char *media_uri,
                               lc_bytes_t *out);

#endif
