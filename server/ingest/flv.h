/* FLV audio and video tag payloads (the bodies of RTMP audio/video messages) → what the live
 * module takes: AVCodecParameters for lc_publisher_start and AVPackets for lc_publisher_write.
 *
 * Supported: H.264 (legacy FLV codec id 7) and AAC (sound format 10). Everything else — other
 * codecs, Enhanced RTMP (bit 7 of the first video byte, or audio format 9) — is refused with
 * LC_EMEDIA and a reason that names what was sent, never guessed at. */
#ifndef LC_INGEST_FLV_H
#define LC_INGEST_FLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "ingest/why.h"

#define LC_FLV_MAX_AUDIO_CONFIG 1024 /* bytes of an AudioSpecificConfig */

typedef enum {
    LC_FLV_CONFIG, /* sequence header: AVCDecoderConfigurationRecord / AudioSpecificConfig */
    LC_FLV_FRAME,  /* a coded frame: AVCC NAL units / one raw AAC access unit */
    LC_FLV_END,    /* AVC end of sequence: nothing to pass on */
    LC_FLV_SKIP,   /* video info/command frame: nothing to pass on */
} lc_flv_kind_t;

typedef struct {
    lc_flv_kind_t kind;
    bool keyframe;       /* video key frame; every AAC frame */
    int32_t cts;         /* composition time offset, ms (video; pts = dts + cts) */
    const uint8_t *data; /* the payload after the FLV headers, inside the caller's buffer */
    size_t len;
} lc_flv_tag_t;

/* Parse the FLV headers of a video / audio message body. Return 0 and fill *out, or LC_EMEDIA. */
int lc_flv_parse_video(const uint8_t *p, size_t len, lc_flv_tag_t *out, lc_why_t *why);
int lc_flv_parse_audio(const uint8_t *p, size_t len, lc_flv_tag_t *out, lc_why_t *why);

/* Codec parameters from a sequence header's payload (tag.data of an LC_FLV_CONFIG): H.264 with
 * the record as extradata, width/height/profile/level from its SPS; AAC with the
 * AudioSpecificConfig as extradata, sample rate, channel layout, profile and frame size from it.
 * Return 0 and a new *out (free with avcodec_parameters_free), LC_EMEDIA or -ENOMEM. */
int lc_flv_video_params(const uint8_t *rec, size_t len, AVCodecParameters **out, lc_why_t *why);
int lc_flv_audio_params(const uint8_t *asc, size_t len, AVCodecParameters **out, lc_why_t *why);

/* A packet for one LC_FLV_FRAME, its payload copied into a new reference-counted buffer:
 * stream_index as given, dts = dts_ms, pts = dts_ms + cts (never below dts), time base 1/1000,
 * AV_PKT_FLAG_KEY from the tag. A video frame is checked against `par` (whole length-prefixed NAL
 * units of its NAL length size). Returns 0 and *out (free with av_packet_free), LC_EMEDIA or
 * -ENOMEM. */
int lc_flv_packet(const lc_flv_tag_t *tag, const AVCodecParameters *par, int stream_index,
                  int64_t dts_ms, AVPacket **out, lc_why_t *why);

#endif
