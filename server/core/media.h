/* Descriptions of HLS media units shared by the packager (server/live) and the recorder. Both
 * sides agree on these; neither depends on the other's internals. */
#ifndef LC_CORE_MEDIA_H
#define LC_CORE_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

/* One part: a CMAF fragment (moof+mdat) of about the part target. A segment is the byte-wise
 * concatenation of its parts. */
typedef struct {
    int64_t msn;      /* media sequence number of the segment the part belongs to */
    int index;        /* 0-based position inside that segment */
    double duration;  /* seconds */
    bool independent; /* begins with a keyframe (every audio-only part does) */
    int init_id;      /* the init segment (one per publishing run) this part decodes with */
} lc_part_meta_t;

/* One finished segment. */
typedef struct {
    int64_t msn;
    double duration;    /* seconds, sum of its parts */
    int64_t pdt_ms;     /* wall-clock time (CLOCK_REALTIME ms) of its first sample */
    bool discontinuity; /* first segment of a new publishing run (after a reconnect) */
    int init_id;
    int part_count;
} lc_segment_meta_t;

/* What a publishing run carries, for CODECS/RESOLUTION/BANDWIDTH in the multivariant playlist. */
typedef struct {
    bool has_video;
    bool has_audio;
    char codecs[64]; /* RFC 6381, e.g. "avc1.64001f,mp4a.40.2" */
    int width, height;
    double frame_rate;      /* 0 when unknown */
    int64_t bandwidth_bps;  /* peak estimate; 0 when unknown */
    int audio_sample_rate;  /* Hz, 0 without audio */
    int audio_channels;
} lc_media_info_t;

#endif
