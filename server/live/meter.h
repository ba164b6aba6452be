/* Stream health of one publisher (lc_live_health): its declared tracks, and rates measured as
 * its packets are written. Internal to server/live; stream.c keeps one meter per stream.
 *
 * Rates come from two alternating buckets of LC_METER_BUCKET_MS, numbered from the run's start:
 * a figure covers the previous bucket and the current one up to now, so always 2 to 4 s of data.
 * No figure (0) during a run's first bucket.
 */
#ifndef LC_LIVE_METER_H
#define LC_LIVE_METER_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "live/live.h"

#define LC_METER_BUCKET_MS 2000
#define LC_METER_AUDIO_GONE_MS 3000 /* audio_present turns false after this long without audio */

typedef struct {
    int64_t index;     /* buckets since the run began */
    uint64_t bytes[2]; /* payload of video, audio */
    uint32_t frames;   /* video packets */
} lc_meter_bucket_t;

/* Plain data, no allocation: a zeroed meter is a publisher that declared no tracks yet (reads as
 * all zero). Not thread-safe: the stream guards its meter with its mutex. */
typedef struct {
    lc_live_health_t tracks; /* the declared tracks' fields; state, session and rates unused */
    bool started;
    int64_t origin_ms; /* the meter's clock (CLOCK_MONOTONIC ms) when the run began */
    lc_meter_bucket_t prev, cur;
    bool audio_seen;
    int64_t audio_ms;   /* the meter's clock at the last audio packet */
    bool key_seen;
    int64_t key_pts_ms; /* media time of the last keyframe */
    double key_interval_s;
} lc_meter_t;

/* Starts measuring a new run whose tracks are `video` and `audio` (either NULL; both already
 * checked by lc_packager_check_params), borrowed. `now_ms` is the meter's clock. */
void lc_meter_start(lc_meter_t *m, const AVCodecParameters *video, const AVCodecParameters *audio,
                    int64_t now_ms);

/* Counts a packet that was accepted for the run (stream_index 0 video, 1 audio; pts/dts in ms). */
void lc_meter_packet(lc_meter_t *m, const AVPacket *pkt, int64_t now_ms);

/* Fills every field of *out but `state` and `session_id` (left zero) as seen at `now_ms`. */
void lc_meter_read(const lc_meter_t *m, int64_t now_ms, lc_live_health_t *out);

#endif
