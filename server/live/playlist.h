/* Rendering of HLS playlists (draft-pantos-hls-rfc8216bis, with the Low-Latency extensions) from
 * a plain snapshot of a window. Pure functions: no locking, no libav, no clock; the caller owns
 * every input and the output buffer. URL names are those of window.h. */
#ifndef LC_LIVE_PLAYLIST_H
#define LC_LIVE_PLAYLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/media.h"

/* One segment as the playlist sees it. For the segment in progress meta.duration and
 * meta.part_count are ignored (its parts say how far it got). */
typedef struct {
    lc_segment_meta_t meta;
    const lc_part_meta_t *parts; /* in order; may be NULL when part_count is 0 */
    int part_count;
} lc_playlist_segment_t;

typedef struct {
    const lc_playlist_segment_t *segments; /* finished segments to list, oldest first */
    int segment_count;
    const lc_playlist_segment_t *partial;  /* the segment in progress, or NULL */
    /* EXT-X-DISCONTINUITY tags that left the playlist before segments[0] (the tag is written
     * only when non-zero). */
    int64_t discontinuity_sequence;
    int target_duration;   /* EXT-X-TARGETDURATION, whole seconds */
    double part_target_s;  /* EXT-X-PART-INF:PART-TARGET (low latency only) */
    bool low_latency;      /* EXT-X-PART, PRELOAD-HINT, SERVER-CONTROL, PART-INF; version 9 */
    bool ended;            /* EXT-X-ENDLIST, and no preload hint */
} lc_playlist_media_t;

/* EXT-X-TARGETDURATION for segments up to `longest_s` long with a configured target: the
 * ceiling of the longest EXTINF as written (stricter than RFC 8216bis 4.4.3.1, which rounds),
 * never below the configured target rounded up. */
int lc_playlist_target_duration(double longest_s, double configured_s);

/* Appends the media playlist to `out`. With `delta` (an _HLS_skip=YES request) and low latency,
 * the leading segments older than CAN-SKIP-UNTIL (6 target durations) from the end are replaced
 * by EXT-X-SKIP; when none are, the full playlist is rendered. Returns 0, -EINVAL (nothing to
 * list: no segment and no partial) or -ENOMEM. */
int lc_playlist_render_media(const lc_playlist_media_t *pl, bool delta, lc_bytes_t *out);

/* Appends a multivariant playlist with one variant, `media_uri` (a relative URI such as
 * "<session>/index.m3u8", see docs/urls.md), described by `info`
 * (BANDWIDTH, CODECS, RESOLUTION and FRAME-RATE when known). Returns 0, -EINVAL (no bandwidth
 * or codecs, or a character that cannot be quoted) or -ENOMEM. */
int lc_playlist_render_master(const lc_media_info_t *info, const char *media_uri,
                              lc_bytes_t *out);

#endif
