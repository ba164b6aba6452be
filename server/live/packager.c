/* CMAF packager: libavformat's mp4 muxer in custom-fragment mode writing into memory, plus the
 * rules that cut a run's packets into LL-HLS parts and segments (see packager.h). */
#include "live/packager.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

#define TAG "packager"

#define VIDEO_TIMESCALE 90000
#define AVIO_BUF_SIZE 65536
/* How long one track's packets wait for the other track before they are written anyway (a
 * publisher that declared a track and stopped sending it must not stall the stream). */
#define MAX_HOLD_MS 2000
/* Held packets per track: past half of it they are written anyway (timestamps that hardly
 * advance would defeat MAX_HOLD_MS); the whole is a hard limit. */
#define MAX_HOLD_PACKETS 4096

/* Muxer settings, checked against FFmpeg 5.1's movenc.c:
 *   frag_custom       fragments are cut only by av_write_frame(ctx, NULL): each one is a part
 *   empty_moov        avformat_write_header writes ftyp+moov without samples: the init segment
 *   default_base_moof tfhd offsets relative to their moof, so a part stands alone (CMAF); the
 *                     ftyp then carries the iso5 brand
 *   frag_discont      a track's first tfdt is its first sample's own decode time instead of
 *                     zero; we set it again before every fragment so that the muxer never moves
 *                     a fragment's first sample to where the previous fragment's durations ended
 *   skip_sidx         no sidx per fragment (5.1 writes them only with `dash`; explicit anyway)
 *   skip_trailer      no mfra at av_write_trailer: nothing follows the last part
 *   use_editlist=0 and avoid_negative_ts=disabled: timestamps are written as given, no edit
 *                     list, no shift to zero (the first fragment would otherwise lose its place
 *                     on the publisher's clock, and the first sample of each track its length).
 * Not `cmaf`: in 5.1 it implies negative_cts_offsets, which shifts B-frame video's decode times
 * by the reorder delay and leaves negative composition offsets that libavformat's own mov demuxer
 * (the recorder's MP4 export) reads back as video late against audio by that delay. With
 * B-frames the composition offsets here are positive (trun version 0), as most packagers write. */
#define MOVFLAGS "+frag_custom+empty_moov+default_base_moof+frag_discont+skip_sidx+skip_trailer"

typedef struct {
    bool present;
    int mux_index;     /* index of the stream in the muxer */
    AVRational tb;     /* the muxer's time base for it (known after the header) */
    AVPacket **q;      /* ring of held packets, already in tb */
    int qhead, qlen, qcap;
    int64_t last_dts;  /* of the last packet accepted, tb; AV_NOPTS_VALUE before */
    int64_t last_dur;  /* of the last sample written, tb; 0 before */
    bool seen_key;     /* video: a keyframe came (packets before it are dropped) */
    int64_t waiting_ms; /* video: ms timestamp of its first packet (waiting for a keyframe) */
    int64_t frame_ticks; /* audio: samples per frame, in tb */
    int64_t next_dts;    /* audio: decode time the next frame gets by sample count */
    bool warned_order;
} track_t;

struct lc_packager {
    lc_packager_config_t cfg;
    lc_packager_cbs_t cbs;
    AVFormatContext *fmt;
    AVIOContext *pb;
    lc_bytes_t out;        /* what the muxer wrote since the last part */
    bool discard_output;   /* while writing the trailer */
    bool header_written;
    bool failed;
    bool flushed;

    track_t tracks[2]; /* [0] video, [1] audio: by the publisher's stream_index */
    int primary;       /* 0 (video) or 1 (audio-only) */
    int64_t part_target; /* in the primary's tb */
    int64_t seg_target;

    lc_buf_t *init;
    lc_media_info_t info;
    int64_t declared_bps;
    bool init_sent;
    int64_t first_ms; /* ms timestamp of the run's first packet, AV_NOPTS_VALUE before */
    /* PROGRAM-DATE-TIME of media timestamp ts (ms) = pdt_base_ms + (ts - pdt_base_ts). */
    int64_t pdt_base_ms, pdt_base_ts;
    int64_t min_delay_ms; /* smallest arrival - timestamp before the first part, NOPTS: none */
    bool pdt_fixed;       /* the first part went out: the anchor no longer moves */

    /* Segment and part being built, in the primary's tb. */
    bool seg_open;
    bool seg_announced; /* segment_begin was emitted (it goes out with the first part) */
    bool had_segment;   /* the run has opened a segment before */
    int64_t next_msn;
    lc_segment_meta_t seg;
    int64_t seg_start;
    int64_t seg_ticks;  /* sum of its finished parts */
    bool part_open;
    bool part_independent;
    int64_t part_start;
    int64_t prim_end;   /* end (dts + duration) of the last primary sample written */
    int part_samples;   /* primary samples in the part being built */
    int64_t last_key;   /* video: dts of the last keyframe written */
    int64_t max_key_gap; /* video: LC_LIVE_MAX_SEGMENT_S in its tb */
};

/* ---- parameters and codecs strings --------------------------------------------------------- */

/* Profile, constraint flags and level of an H.264 stream from its avcC record or, when the
 * extradata is Annex B (some encoders), from its first SPS NAL unit. */
static int h264_profile_level(const AVCodecParameters *par, uint8_t pcl[3])
{
    const uint8_t *d = par->extradata;
    int n = par->extradata_size;
    if (!d || n < 4)
        return LC_EMEDIA;
    if (d[0] == 1) {
        memcpy(pcl, d + 1, 3);
        return 0;
    }
    for (int i = 0; i + 3 < n; i++) {
        if (d[i] != 0 || d[i + 1] != 0 || d[i + 2] != 1)
            continue;
        int nal = i + 3;
        if ((d[nal] & 0x1f) == 7 && nal + 3 < n) {
            memcpy(pcl, d + nal + 1, 3);
            return 0;
        }
    }
    return LC_EMEDIA;
}

/* The MPEG-4 Audio Object Type from the first bits of an AudioSpecificConfig (ISO 14496-3
 * 1.6.2.1): five bits, or 32 + the next six when those five are 31. */
static int aac_object_type(const AVCodecParameters *par)
{
    const uint8_t *d = par->extradata;
    if (!d || par->extradata_size < 2)
        return LC_EMEDIA;
    int aot = d[0] >> 3;
    if (aot == 31)
        aot = 32 + (((d[0] & 0x07) << 3) | (d[1] >> 5));
    return aot;
}

int lc_packager_check_params(const AVCodecParameters *video, const AVCodecParameters *audio)
{
    if (!video && !audio)
        return -EINVAL;
    if (video) {
        uint8_t pcl[3];
        if (video->codec_type != AVMEDIA_TYPE_VIDEO)
            return -EINVAL;
        if (video->codec_id != AV_CODEC_ID_H264 || h264_profile_level(video, pcl) < 0) {
            LC_WARN(TAG, "video refused: H.264 with an AVC decoder configuration required");
            return LC_EMEDIA;
        }
    }
    if (audio) {
        if (audio->codec_type != AVMEDIA_TYPE_AUDIO)
            return -EINVAL;
        if (audio->codec_id != AV_CODEC_ID_AAC || aac_object_type(audio) <= 0 ||
            audio->sample_rate <= 0 || audio->ch_layout.nb_channels <= 0) {
            LC_WARN(TAG, "audio refused: AAC with an AudioSpecificConfig, sample rate and "
                         "channels required");
            return LC_EMEDIA;
        }
    }
    return 0;
}

int lc_packager_codecs(const AVCodecParameters *video, const AVCodecParameters *audio,
                       char *out, size_t size)
{
    char v[32] = "", a[32] = "";
    if (video) {
        uint8_t pcl[3];
        int rc = h264_profile_level(video, pcl);
        if (rc < 0)
            return rc;
        lc_fmt(v, sizeof v, "avc1.%02x%02x%02x", pcl[0], pcl[1], pcl[2]);
    }
    if (audio) {
        int aot = aac_object_type(audio);
        if (aot < 0)
            return aot;
        lc_fmt(a, sizeof a, "mp4a.40.%d", aot);
    }
    return lc_fmt(out, size, "%s%s%s", v, *v && *a ? "," : "", a);
}

/* ---- output into memory -------------------------------------------------------------------- */

static int write_cb(void *opaque, uint8_t *buf, int size)
{
    lc_packager_t *p = opaque;
    if (p->discard_output)
        return size;
    if (size < 0 || lc_bytes_append(&p->out, buf, (size_t)size) < 0)
        return AVERROR(ENOMEM);
    return size;
}

/* Everything the muxer has written since the last call, as a new buffer. */
static lc_buf_t *take_output(lc_packager_t *p)
{
    avio_flush(p->pb);
    if (p->pb->error < 0 || p->out.len == 0)
        return NULL;
    lc_buf_t *b = lc_bytes_to_buf(&p->out);
    lc_bytes_reset(&p->out);
    return b;
}

static int fail(lc_packager_t *p, int averror, const char *what)
{
    p->failed = true;
    LC_ERROR(TAG, "init %d: %s: %s", p->cfg.init_id, what, av_err2str(averror));
    return lc_error_from_av(averror);
}

/* The run's video stopped having keyframes (see packager.h): the one line that says so, and how
 * to fix it, since the presenter's reconnects will fail the same way until the encoder changes. */
static int fail_no_keyframe(lc_packager_t *p)
{
    p->failed = true;
    LC_ERROR(TAG, "init %d: no keyframe for %d s: set the encoder's keyframe interval to 1–2 s",
             p->cfg.init_id, LC_LIVE_MAX_SEGMENT_S);
    return LC_ELIMIT;
}

/* ---- construction -------------------------------------------------------------------------- */

static int add_stream(lc_packager_t *p, int which, const AVCodecParameters *par)
{
    track_t *t = &p->tracks[which];
    AVStream *st = avformat_new_stream(p->fmt, NULL);
    if (!st)
        return -ENOMEM;
    int ret = avcodec_parameters_copy(st->codecpar, par);
    if (ret < 0)
        return lc_error_from_av(ret);
    st->codecpar->codec_tag = 0; /* let the mp4 muxer choose (avc1, mp4a) */
    if (which == 1 && st->codecpar->frame_size <= 0)
        st->codecpar->frame_size = 1024; /* AAC; RTMP does not say (the muxer warns) */
    st->time_base = which == 0 ? (AVRational){1, VIDEO_TIMESCALE} : (AVRational){1, par->sample_rate};
    t->present = true;
    t->mux_index = st->index;
    t->last_dts = AV_NOPTS_VALUE;
    t->next_dts = AV_NOPTS_VALUE;
    t->waiting_ms = AV_NOPTS_VALUE;
    if (par->bit_rate > 0)
        p->declared_bps += par->bit_rate;
    return 0;
}

static void fill_info(lc_packager_t *p, const AVCodecParameters *video,
                      const AVCodecParameters *audio)
{
    lc_media_info_t *in = &p->info;
    in->has_video = video != NULL;
    in->has_audio = audio != NULL;
    lc_packager_codecs(video, audio, in->codecs, sizeof in->codecs);
    if (video) {
        in->width = video->width;
        in->height = video->height;
    }
    if (audio) {
        in->audio_sample_rate = audio->sample_rate;
        in->audio_channels = audio->ch_layout.nb_channels;
    }
}

int lc_packager_new(const lc_packager_config_t *cfg, const AVCodecParameters *video,
                    const AVCodecParameters *audio, const lc_packager_cbs_t *cbs,
                    lc_packager_t **out)
{
    *out = NULL;
    int rc = lc_packager_check_params(video, audio);
    if (rc < 0)
        return rc;
    if (!(cfg->part_target_s > 0) || cfg->segment_target_s < cfg->part_target_s)
        return -EINVAL;

    AVDictionary *opts = NULL;
    uint8_t *iobuf = NULL;
    lc_packager_t *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    p->cbs = *cbs;
    p->first_ms = AV_NOPTS_VALUE;
    p->min_delay_ms = AV_NOPTS_VALUE;
    p->next_msn = cfg->first_msn;
    p->primary = video ? 0 : 1;
    lc_bytes_init(&p->out);

    int ret = avformat_alloc_output_context2(&p->fmt, NULL, "mp4", NULL);
    if (ret < 0) {
        rc = fail(p, ret, "mp4 muxer");
        goto fail;
    }
    if (!(iobuf = av_malloc(AVIO_BUF_SIZE))) {
        rc = -ENOMEM;
        goto fail;
    }
    p->pb = avio_alloc_context(iobuf, AVIO_BUF_SIZE, 1, p, NULL, write_cb, NULL);
    if (!p->pb) {
        rc = -ENOMEM;
        goto fail;
    }
    iobuf = NULL; /* the context owns it now (and may replace it) */
    p->fmt->pb = p->pb;
    p->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;

    if ((video && (rc = add_stream(p, 0, video)) < 0) ||
        (audio && (rc = add_stream(p, 1, audio)) < 0))
        goto fail;

    av_dict_set(&opts, "movflags", MOVFLAGS, 0);
    av_dict_set(&opts, "use_editlist", "0", 0);
    p->fmt->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    if (video)
        av_dict_set_int(&opts, "video_track_timescale", VIDEO_TIMESCALE, 0);
    ret = avformat_write_header(p->fmt, &opts);
    if (ret < 0) {
        rc = fail(p, ret, "write header");
        goto fail;
    }
    p->header_written = true;
    const AVDictionaryEntry *left = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);
    if (left)
        LC_WARN(TAG, "mp4 muxer ignored option %s", left->key);

    for (int i = 0; i < 2; i++) {
        track_t *t = &p->tracks[i];
        if (!t->present)
            continue;
        t->tb = p->fmt->streams[t->mux_index]->time_base;
        if (i == 1) {
            int frame = p->fmt->streams[t->mux_index]->codecpar->frame_size;
            t->frame_ticks = av_rescale_q(frame, (AVRational){1, audio->sample_rate}, t->tb);
        }
    }
    AVRational ptb = p->tracks[p->primary].tb;
    p->part_target = llrint(cfg->part_target_s / av_q2d(ptb));
    p->seg_target = llrint(cfg->segment_target_s / av_q2d(ptb));
    p->max_key_gap = llrint(LC_LIVE_MAX_SEGMENT_S / av_q2d(ptb));

    if (!(p->init = take_output(p))) {
        rc = LC_EMEDIA;
        LC_ERROR(TAG, "init %d: the muxer wrote no init segment", cfg->init_id);
        goto fail;
    }
    fill_info(p, video, audio);
    av_dict_free(&opts);
    *out = p;
    return 0;

fail:
    av_dict_free(&opts);
    av_free(iobuf);
    lc_packager_free(&p);
    return rc;
}

/* ---- held packets -------------------------------------------------------------------------- */

static int q_push(track_t *t, AVPacket *pkt)
{
    if (t->qlen == t->qcap) {
        if (t->qcap >= MAX_HOLD_PACKETS)
            return LC_ELIMIT;
        int cap = t->qcap ? 2 * t->qcap : 16;
        AVPacket **q = malloc((size_t)cap * sizeof *q);
        if (!q)
            return -ENOMEM;
        for (int i = 0; i < t->qlen; i++)
            q[i] = t->q[(t->qhead + i) % t->qcap];
        free(t->q);
        t->q = q;
        t->qhead = 0;
        t->qcap = cap;
    }
    t->q[(t->qhead + t->qlen) % t->qcap] = pkt;
    t->qlen++;
    return 0;
}

static AVPacket *q_at(const track_t *t, int i) { return t->q[(t->qhead + i) % t->qcap]; }

static AVPacket *q_pop(track_t *t)
{
    AVPacket *pkt = t->q[t->qhead];
    t->qhead = (t->qhead + 1) % t->qcap;
    t->qlen--;
    return pkt;
}

/* ---- parts and segments -------------------------------------------------------------------- */

static double ticks_s(const lc_packager_t *p, int64_t ticks)
{
    return (double)ticks * av_q2d(p->tracks[p->primary].tb);
}

/* Frame rate measured on the first part: its samples over its duration. Timestamps in whole
 * milliseconds blur that by up to a millisecond either way, which over half a second cannot tell
 * 29.97 from 30; so the measurement snaps to a common rate within that error, integer rates
 * first (RTMP encoders mostly send those). */
static double measured_frame_rate(int samples, double duration_s)
{
    static const double common[] = {24, 25, 30, 48, 50, 60, 23.976, 29.97, 59.94};
    if (samples < 2 || duration_s <= 0)
        return 0;
    double fps = samples / duration_s;
    double rel_err = 0.0015 / duration_s + 0.001;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (fabs(fps - common[i]) <= common[i] * rel_err)
            return common[i];
    return round(fps * 1000) / 1000;
}

/* Called once, as the run's first part goes out: moves the PDT anchor to the smallest
 * arrival - timestamp seen so far (see lc_packager_write_at), never later than it was and never
 * before the floor, and re-dates the open segment accordingly. */
static void fix_pdt(lc_packager_t *p)
{
    p->pdt_fixed = true;
    if (p->min_delay_ms == AV_NOPTS_VALUE || !p->seg_open)
        return;
    int64_t seg_ts = p->pdt_base_ts + (p->seg.pdt_ms - p->pdt_base_ms);
    int64_t pdt = seg_ts + p->min_delay_ms;
    if (pdt < p->cfg.pdt_floor_ms)
        pdt = p->cfg.pdt_floor_ms;
    if (pdt >= p->seg.pdt_ms)
        return;
    p->pdt_base_ms = pdt;
    p->pdt_base_ts = seg_ts;
    p->seg.pdt_ms = pdt;
}

static int cut_part(lc_packager_t *p)
{
    int ret = av_write_frame(p->fmt, NULL);
    if (ret < 0)
        return fail(p, ret, "flush fragment");
    lc_buf_t *bytes = take_output(p);
    if (!bytes) {
        p->failed = true;
        LC_ERROR(TAG, "init %d: fragment flush wrote nothing", p->cfg.init_id);
        return LC_EMEDIA;
    }
    /* Every following fragment starts at its samples' own decode times (see MOVFLAGS). */
    av_opt_set(p->fmt->priv_data, "movflags", "+frag_discont", 0);

    int64_t ticks = p->prim_end - p->part_start;
    lc_part_meta_t part = {
        .msn = p->seg.msn,
        .index = p->seg.part_count,
        .duration = ticks_s(p, ticks),
        .independent = p->part_independent,
        .init_id = p->cfg.init_id,
    };
    int rc = 0;
    if (!p->init_sent) {
        p->init_sent = true;
        int64_t measured = part.duration > 0 ? llrint(lc_buf_len(bytes) * 8 / part.duration) : 0;
        p->info.bandwidth_bps = measured > p->declared_bps ? measured : p->declared_bps;
        if (p->info.has_video)
            p->info.frame_rate = measured_frame_rate(p->part_samples, part.duration);
        if (p->cbs.init_cb)
            rc = p->cbs.init_cb(p->cbs.opaque, p->init, &p->info);
    }
    if (rc >= 0 && !p->pdt_fixed)
        fix_pdt(p);
    if (rc >= 0 && !p->seg_announced) {
        p->seg_announced = true;
        if (p->cbs.segment_begin_cb)
            rc = p->cbs.segment_begin_cb(p->cbs.opaque, &p->seg);
    }
    if (rc >= 0 && p->cbs.part_cb)
        rc = p->cbs.part_cb(p->cbs.opaque, &part, bytes);
    lc_buf_unref(bytes);
    p->seg_ticks += ticks;
    p->seg.part_count++;
    p->part_open = false;
    p->part_samples = 0;
    return rc < 0 ? rc : 0;
}

static int end_segment(lc_packager_t *p)
{
    p->seg.duration = ticks_s(p, p->seg_ticks);
    int rc = 0;
    if (p->cbs.segment_end_cb)
        rc = p->cbs.segment_end_cb(p->cbs.opaque, &p->seg);
    p->seg_open = false;
    p->seg_announced = false;
    return rc < 0 ? rc : 0;
}

static void open_segment(lc_packager_t *p, int64_t dts)
{
    int64_t ms = av_rescale_q(dts, p->tracks[p->primary].tb, (AVRational){1, 1000});
    p->seg = (lc_segment_meta_t){
        .msn = p->next_msn++,
        .pdt_ms = p->pdt_base_ms + (ms - p->pdt_base_ts),
        .discontinuity = p->cfg.discontinuity && !p->had_segment,
        .init_id = p->cfg.init_id,
    };
    p->had_segment = true;
    p->seg_open = true;
    p->seg_announced = false;
    p->seg_start = dts;
    p->seg_ticks = 0;
}

/* Writes a primary sample, cutting the part (and the segment) before it when the rules say so. */
static int write_primary(lc_packager_t *p, AVPacket *pkt)
{
    bool video = p->primary == 0;
    bool key = !video || (pkt->flags & AV_PKT_FLAG_KEY);
    int rc;
    /* Without keyframes the segment could only grow (every part of it held in memory). The
     * run's first primary sample is a keyframe, so last_key is set before it is read. */
    if (video && key)
        p->last_key = pkt->dts;
    else if (video && pkt->dts + pkt->duration - p->last_key > p->max_key_gap)
        return fail_no_keyframe(p);
    if (p->part_open) {
        int64_t part_len = pkt->dts - p->part_start;
        bool end_seg = video && key && 2 * (pkt->dts - p->seg_start) + pkt->duration >= 2 * p->seg_target;
        bool too_long = pkt->dts + pkt->duration - p->part_start > p->part_target;
        /* A keyframe starts a new (independent) part, unless the part so far is short: a
         * stream of keyframes only must not become parts of one frame each. */
        bool at_key = video && key && 2 * part_len >= p->part_target;
        if (end_seg || too_long || at_key) {
            if ((rc = cut_part(p)) < 0)
                return rc;
            /* Audio-only: end at the part boundary nearest the target (the next part is about
             * as long as this one), so 0.49 s parts make 1.96 s segments, not 2.45 s ones. */
            if (end_seg || (!video && 2 * p->seg_ticks + part_len >= 2 * p->seg_target)) {
                if ((rc = end_segment(p)) < 0)
                    return rc;
            }
        }
    }
    if (!p->seg_open)
        open_segment(p, pkt->dts);
    if (!p->part_open) {
        p->part_open = true;
        p->part_start = pkt->dts;
        p->part_independent = key;
    }
    p->prim_end = pkt->dts + pkt->duration;
    p->part_samples++;
    int ret = av_write_frame(p->fmt, pkt);
    return ret < 0 ? fail(p, ret, "write frame") : 0;
}

/* Duration of a track's oldest held sample: up to the next one, else (the end, or a stalled
 * track) a guess from the previous sample. */
static int64_t head_duration(const track_t *t, bool is_audio)
{
    if (t->qlen >= 2)
        return q_at(t, 1)->dts - q_at(t, 0)->dts;
    if (is_audio)
        return t->frame_ticks;
    return t->last_dur > 0 ? t->last_dur : av_rescale_q(1, (AVRational){1, 30}, t->tb);
}

static int write_head(lc_packager_t *p, int which)
{
    track_t *t = &p->tracks[which];
    int64_t dur = head_duration(t, which == 1);
    AVPacket *pkt = q_pop(t);
    pkt->duration = dur > 0 ? dur : 1;
    t->last_dur = pkt->duration;
    int rc = 0;
    if (which == p->primary) {
        rc = write_primary(p, pkt);
    } else if (p->seg_open) {
        /* Only primary samples cut parts: audio goes on piling up in the muxer while the video
         * stalls, so a video stall counts as keyframes not coming. */
        AVRational ptb = p->tracks[p->primary].tb;
        if (av_rescale_q(pkt->dts + pkt->duration, t->tb, ptb) - p->last_key > p->max_key_gap) {
            rc = fail_no_keyframe(p);
        } else {
            int ret = av_write_frame(p->fmt, pkt);
            if (ret < 0)
                rc = fail(p, ret, "write frame");
        }
    }
    /* else: a secondary sample before the run's first primary one; the segment cannot start
     * before its keyframe, so it is dropped. */
    av_packet_free(&pkt);
    return rc;
}

static int64_t span_ms(const track_t *t)
{
    if (t->qlen < 2)
        return 0;
    return av_rescale_q(q_at(t, t->qlen - 1)->dts - q_at(t, 0)->dts, t->tb, (AVRational){1, 1000});
}

/* Writes held samples in decode order across the tracks while that order is certain: the
 * oldest sample goes once its duration is known (the next one of its track is here) and every
 * other track has something held (so nothing older can still arrive). `all` writes everything
 * (end of run); a track holding more than MAX_HOLD_MS forces progress. */
static int drain(lc_packager_t *p, bool all)
{
    for (;;) {
        int pick = -1;
        bool others_ready = true, forced = all;
        for (int i = 0; i < 2; i++) {
            const track_t *t = &p->tracks[i];
            if (!t->present)
                continue;
            if (t->qlen == 0) {
                others_ready = false;
                continue;
            }
            if (span_ms(t) > MAX_HOLD_MS || t->qlen > MAX_HOLD_PACKETS / 2)
                forced = true;
            if (pick < 0 || av_compare_ts(q_at(t, 0)->dts, t->tb, q_at(&p->tracks[pick], 0)->dts,
                                          p->tracks[pick].tb) < 0)
                pick = i;
        }
        if (pick < 0)
            return 0;
        if (!forced && (!others_ready || p->tracks[pick].qlen < 2))
            return 0;
        int rc = write_head(p, pick);
        if (rc < 0)
            return rc;
    }
}

/* Converts a publisher packet (ms) to the track's time base: video keeps its timestamps (kept
 * strictly increasing), audio gets them by sample count (see packager.h). */
static void retime(lc_packager_t *p, int which, AVPacket *pkt)
{
    track_t *t = &p->tracks[which];
    const AVRational ms = {1, 1000};
    int64_t dts = av_rescale_q(pkt->dts, ms, t->tb);
    int64_t pts = pkt->pts == AV_NOPTS_VALUE ? dts : av_rescale_q(pkt->pts, ms, t->tb);
    if (which == 1) {
        if (t->next_dts == AV_NOPTS_VALUE || llabs(dts - t->next_dts) * 2 > t->frame_ticks) {
            if (t->next_dts != AV_NOPTS_VALUE)
                LC_DEBUG(TAG, "init %d: audio re-anchored by %" PRId64 " ticks", p->cfg.init_id,
                         dts - t->next_dts);
            t->next_dts = dts;
        }
        dts = pts = t->next_dts;
        t->next_dts += t->frame_ticks;
    }
    if (t->last_dts != AV_NOPTS_VALUE && dts <= t->last_dts) {
        if (!t->warned_order) {
            LC_WARN(TAG, "init %d: %s timestamps go backwards; nudged", p->cfg.init_id,
                    which ? "audio" : "video");
            t->warned_order = true;
        }
        dts = t->last_dts + 1;
        if (which == 1)
            t->next_dts = dts + t->frame_ticks;
    }
    if (pts < dts)
        pts = dts;
    t->last_dts = dts;
    pkt->dts = dts;
    pkt->pts = pts;
    pkt->stream_index = t->mux_index;
    pkt->time_base = t->tb;
    pkt->duration = 0;
    pkt->pos = -1;
}

int lc_packager_write(lc_packager_t *p, const AVPacket *in)
{
    return lc_packager_write_at(p, in, 0);
}

int lc_packager_write_at(lc_packager_t *p, const AVPacket *in, int64_t arrival_ms)
{
    if (p->failed || p->flushed)
        return p->failed ? LC_EMEDIA : -EINVAL;
    int which = in->stream_index;
    if (which < 0 || which > 1 || !p->tracks[which].present || in->size <= 0 ||
        (in->dts == AV_NOPTS_VALUE && in->pts == AV_NOPTS_VALUE))
        return -EINVAL;
    track_t *t = &p->tracks[which];
    int64_t in_dts = in->dts != AV_NOPTS_VALUE ? in->dts : in->pts;
    if (p->first_ms == AV_NOPTS_VALUE) {
        p->first_ms = in_dts;
        p->pdt_base_ts = in_dts;
        p->pdt_base_ms = p->cfg.pdt_anchor_ms > p->cfg.pdt_floor_ms ? p->cfg.pdt_anchor_ms
                                                                    : p->cfg.pdt_floor_ms;
    }
    if (!p->pdt_fixed && arrival_ms > 0 &&
        (p->min_delay_ms == AV_NOPTS_VALUE || arrival_ms - in_dts < p->min_delay_ms))
        p->min_delay_ms = arrival_ms - in_dts;
    if (which == 0 && !t->seen_key) {
        if (t->waiting_ms == AV_NOPTS_VALUE)
            t->waiting_ms = in_dts;
        if (!(in->flags & AV_PKT_FLAG_KEY)) {
            /* Undecodable before the first keyframe: dropped, but not for ever. */
            if (in_dts - t->waiting_ms >= LC_LIVE_MAX_SEGMENT_S * 1000LL)
                return fail_no_keyframe(p);
            return 0;
        }
        t->seen_key = true;
    }
    AVPacket *pkt = av_packet_clone(in);
    if (!pkt)
        return -ENOMEM;
    pkt->dts = in_dts;
    retime(p, which, pkt);
    int rc = q_push(t, pkt);
    if (rc < 0) {
        av_packet_free(&pkt);
        return rc;
    }
    return drain(p, false);
}

int lc_packager_flush(lc_packager_t *p)
{
    if (p->failed || p->flushed)
        return p->failed ? LC_EMEDIA : -EINVAL;
    p->flushed = true;
    int rc = drain(p, true);
    if (rc == 0 && p->part_open)
        rc = cut_part(p);
    if (rc == 0 && p->seg_open && p->seg_announced)
        rc = end_segment(p);
    return rc;
}

void lc_packager_free(lc_packager_t **pp)
{
    lc_packager_t *p = pp ? *pp : NULL;
    if (!p)
        return;
    *pp = NULL;
    if (p->header_written) {
        /* Lets the muxer release its state; it writes nothing we keep. */
        p->discard_output = true;
        av_write_trailer(p->fmt);
    }
    for (int i = 0; i < 2; i++) {
        track_t *t = &p->tracks[i];
        while (t->qlen > 0) {
            AVPacket *pkt = q_pop(t);
            av_packet_free(&pkt);
        }
        free(t->q);
    }
    if (p->pb) {
        av_freep(&p->pb->buffer);
        avio_context_free(&p->pb);
    }
    avformat_free_context(p->fmt);
    lc_buf_unref(p->init);
    lc_bytes_free(&p->out);
    free(p);
}
