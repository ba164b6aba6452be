/* The CMAF packager of one publishing run: libavformat's mp4 muxer in fragment mode, writing into
 * memory, cuts the run's packets into parts (one CMAF fragment, moof+mdat, each) and segments (a
 * whole number of parts beginning with a keyframe), and reports them through callbacks.
 *
 * One packager per run, used by one thread (the stream's worker): it owns a libav context.
 *
 * Cutting rules. The primary track is video when the run has video, else audio.
 *   - A part ends before a primary sample that would make it longer than the part target, and
 *     before every video keyframe (a part that begins with a keyframe is independent; every
 *     audio-only part is). So every part is at most the part target (unless one sample alone is
 *     longer) and at least about 85% of it, except a part that ends at a keyframe or at the end.
 *   - A segment ends before the first video keyframe whose middle lies at or after the segment
 *     target (so a keyframe every 2.000 s or 2.002 s makes 2 s segments); audio-only, at the first
 *     part boundary at or after the target.
 *   - Video whose keyframes stop (an encoder with an infinite GOP, or intra refresh) cannot be
 *     cut into segments: once a sample (of either track: audio piles up while video stalls) would
 *     end LC_LIVE_MAX_SEGMENT_S of media after the last keyframe, or video has come that long
 *     without any keyframe yet, the run fails (LC_ELIMIT, one ERROR line saying how to configure
 *     the encoder) instead of growing one segment without bound. So no segment lasts longer than
 *     that.
 * Timestamps: video keeps the publisher's (ms, on a 90 kHz track clock); audio is re-timed by
 * sample count (1024 per AAC frame) from its first packet, and re-anchored to the publisher's
 * clock when the two drift apart by more than half a frame (a gap), so that sample durations are
 * exact and the decoded audio has no gaps or overlaps at fragment joins.
 */
#ifndef LC_LIVE_PACKAGER_H
#define LC_LIVE_PACKAGER_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "core/buf.h"
#include "core/media.h"

typedef struct lc_packager lc_packager_t;

/* Seconds of video without a keyframe after which a run fails (see the cutting rules above). */
#define LC_LIVE_MAX_SEGMENT_S 30

typedef struct {
    double part_target_s;    /* > 0 */
    double segment_target_s; /* >= part_target_s */
    int init_id;             /* written into every part and segment of this run */
    int64_t first_msn;       /* media sequence number of the run's first segment */
    bool discontinuity;      /* mark the run's first segment (a run after a reconnect) */
    /* Wall clock (CLOCK_REALTIME ms) at which the run's first packet arrived: segment pdt_ms is
     * this plus the segment's media time since that packet, unless arrival times given to
     * lc_packager_write_at show the publisher's clock to be earlier (see there). */
    int64_t pdt_anchor_ms;
    /* No segment's pdt_ms is earlier than this (the previous run's media end; 0: none). */
    int64_t pdt_floor_ms;
} lc_packager_config_t;

/* Events, in this order: init once, then per segment segment_begin, part..., segment_end. The
 * init event comes with the run's first part (its frame rate and bit rate are measured on it).
 * Buffers are borrowed for the call (take a reference to keep one). A callback that returns a
 * negative code makes the lc_packager_write/flush that caused it return that code. */
typedef struct {
    int (*init_cb)(void *opaque, lc_buf_t *init, const lc_media_info_t *info);
    int (*segment_begin_cb)(void *opaque, const lc_segment_meta_t *seg);
    int (*part_cb)(void *opaque, const lc_part_meta_t *part, lc_buf_t *bytes);
    /* seg has duration (sum of its parts) and part_count. */
    int (*segment_end_cb)(void *opaque, const lc_segment_meta_t *seg);
    void *opaque;
} lc_packager_cbs_t;

/* Checks that the tracks are ones the packager takes: H.264 with an avcC (or Annex B SPS/PPS)
 * in extradata, AAC with an AudioSpecificConfig, sample rate and channels; at least one of the
 * two. Returns 0, -EINVAL (both NULL, or a parameter of the wrong type) or LC_EMEDIA (logged).
 * Pure, any thread, no libav state. */
int lc_packager_check_params(const AVCodecParameters *video, const AVCodecParameters *audio);

/* RFC 6381 codecs string of the tracks ("avc1.64001f,mp4a.40.2"). Returns 0 or -ENAMETOOLONG
 * / LC_EMEDIA. Pure, any thread. */
int lc_packager_codecs(const AVCodecParameters *video, const AVCodecParameters *audio,
                       char *out, size_t size);

/* Creates the muxer for one run and writes its init segment (ftyp+moov) into memory; copies
 * cfg, the parameters (either may be NULL, see lc_packager_check_params) and cbs. Returns 0 and
 * *out, or a negative code (logged). */
int lc_packager_new(const lc_packager_config_t *cfg, const AVCodecParameters *video,
                    const AVCodecParameters *audio, const lc_packager_cbs_t *cbs,
                    lc_packager_t **out);

/* Adds one packet: stream_index 0 = video, 1 = audio; pts/dts in milliseconds; AV_PKT_FLAG_KEY
 * on video keyframes. Borrows pkt (takes its own reference to the data). Packets of one track
 * must come in decode order; the two tracks may be interleaved loosely (the packager holds a few
 * packets back to order them and to learn each sample's duration). Video before the first
 * keyframe is dropped. Returns 0 or a negative code; an error from the muxer (LC_EMEDIA, logged)
 * or LC_ELIMIT (no keyframe for LC_LIVE_MAX_SEGMENT_S, logged) leaves the packager unusable:
 * later calls return LC_EMEDIA. */
int lc_packager_write(lc_packager_t *p, const AVPacket *pkt);

/* The same, with the wall clock (CLOCK_REALTIME ms) at which the packet arrived. Until the run's
 * first part goes out, the packager keeps the smallest arrival - timestamp seen, and anchors
 * PROGRAM-DATE-TIME there rather than at the first packet's arrival: a publisher that starts its
 * clock before it can send (ffmpeg -re opening its outputs, an encoder's start-up) delivers the
 * first packets late, in a burst, and then keeps time; anchoring at the first packet would make
 * every PDT later than the picture it stamps by that delay. Only ever moves PDT earlier, by at
 * most the media before the first cut. arrival_ms <= 0 is the same as lc_packager_write. */
int lc_packager_write_at(lc_packager_t *p, const AVPacket *pkt, int64_t arrival_ms);

/* Ends the run: writes every held packet, emits the last part and segment_end. Later writes are
 * refused (-EINVAL). Returns 0 or a negative code. A run without a single primary sample emits
 * nothing at all, not even init. */
int lc_packager_flush(lc_packager_t *p);

/* Frees the packager (held packets not flushed are dropped). NULL-safe; sets *pp to NULL. */
void lc_packager_free(lc_packager_t **pp);

#endif
