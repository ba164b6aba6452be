/* Packager tests: real H.264/AAC from the ffmpeg CLI (as an FLV file, so timestamps are in ms
 * the way RTMP carries them) go through the packager; the output is checked against the rules of
 * packager.h and demuxed again with libavformat (init + parts, from memory). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <libavformat/avformat.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "live/packager.h"

#include "log_capture.h"

extern char **environ;

#define PART_TARGET 0.5
#define SEG_TARGET 2.0
#define FIRST_MSN 7
#define PDT_ANCHOR 1700000000000LL

/* ---- input: an FLV made by the ffmpeg CLI, demuxed into packets ---------------------------- */

typedef struct {
    AVCodecParameters *par[2]; /* [0] video, [1] audio; NULL when absent */
    AVPacket **pkts;           /* stream_index 0/1, timestamps in ms */
    int n, cap;
    int count[2];
    int64_t first_dts;
} input_t;

static char tmpdir[256];

static int run(char *const argv[])
{
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Encodes `seconds` of test pattern and/or tone into an FLV file with the given GOP and B-frame
 * count, then demuxes it. */
static void make_input(input_t *in, bool video, bool audio, int gop, int bframes, int seconds)
{
    char path[512], g[16], bf[16], t[16];
    snprintf(path, sizeof path, "%s/in-%d%d-%d-%d.flv", tmpdir, video, audio, gop, bframes);
    snprintf(g, sizeof g, "%d", gop);
    snprintf(bf, sizeof bf, "%d", bframes);
    snprintf(t, sizeof t, "%d", seconds);
    char *argv[48];
    int a = 0;
    argv[a++] = "ffmpeg", argv[a++] = "-v", argv[a++] = "error", argv[a++] = "-y";
    argv[a++] = "-f", argv[a++] = "lavfi", argv[a++] = "-i";
    argv[a++] = "testsrc2=size=320x240:rate=30";
    argv[a++] = "-f", argv[a++] = "lavfi", argv[a++] = "-i";
    argv[a++] = "sine=frequency=440:sample_rate=48000";
    argv[a++] = "-t", argv[a++] = t;
    if (video) {
        argv[a++] = "-c:v", argv[a++] = "libx264", argv[a++] = "-preset", argv[a++] = "veryfast";
        argv[a++] = "-g", argv[a++] = g, argv[a++] = "-keyint_min", argv[a++] = g;
        argv[a++] = "-sc_threshold", argv[a++] = "0", argv[a++] = "-bf", argv[a++] = bf;
        argv[a++] = "-pix_fmt", argv[a++] = "yuv420p";
    } else {
        argv[a++] = "-vn";
    }
    if (audio) {
        argv[a++] = "-c:a", argv[a++] = "aac", argv[a++] = "-b:a", argv[a++] = "96k";
        argv[a++] = "-ac", argv[a++] = "2";
    } else {
        argv[a++] = "-an";
    }
    argv[a++] = "-f", argv[a++] = "flv", argv[a++] = path, argv[a] = NULL;
    assert_int_equal(run(argv), 0);

    memset(in, 0, sizeof *in);
    in->first_dts = AV_NOPTS_VALUE;
    AVFormatContext *fmt = NULL;
    assert_int_equal(avformat_open_input(&fmt, path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int map[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    for (unsigned i = 0; i < fmt->nb_streams && i < 8; i++) {
        AVStream *st = fmt->streams[i];
        int which = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? 0 : 1;
        assert_int_equal(st->time_base.num, 1);
        assert_int_equal(st->time_base.den, 1000);
        map[i] = which;
        in->par[which] = avcodec_parameters_alloc();
        assert_int_equal(avcodec_parameters_copy(in->par[which], st->codecpar), 0);
    }
    assert_true((in->par[0] != NULL) == video && (in->par[1] != NULL) == audio);
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index >= 8 || map[pkt->stream_index] < 0) {
            av_packet_unref(pkt);
            continue;
        }
        pkt->stream_index = map[pkt->stream_index];
        if (in->n == in->cap) {
            in->cap = in->cap ? 2 * in->cap : 256;
            in->pkts = realloc(in->pkts, (size_t)in->cap * sizeof *in->pkts);
            assert_non_null(in->pkts);
        }
        if (in->first_dts == AV_NOPTS_VALUE)
            in->first_dts = pkt->dts;
        in->count[pkt->stream_index]++;
        in->pkts[in->n++] = av_packet_clone(pkt);
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    unlink(path);
}

static void free_input(input_t *in)
{
    for (int i = 0; i < in->n; i++)
        av_packet_free(&in->pkts[i]);
    free(in->pkts);
    avcodec_parameters_free(&in->par[0]);
    avcodec_parameters_free(&in->par[1]);
}

/* ---- output: the packager's events --------------------------------------------------------- */

typedef struct {
    lc_part_meta_t meta;
    lc_buf_t *bytes;
} part_t;

typedef struct {
    lc_segment_meta_t begin, end;
    part_t parts[64];
    int nparts;
    bool ended;
} seg_t;

typedef struct {
    lc_buf_t *init;
    lc_media_info_t info;
    int inits;
    seg_t segs[64];
    int nsegs;
    int order_errors; /* events out of the order packager.h promises */
} sink_t;

static int on_init(void *opaque, lc_buf_t *init, const lc_media_info_t *info)
{
    sink_t *s = opaque;
    if (s->inits++ || s->nsegs)
        s->order_errors++;
    s->init = lc_buf_ref(init);
    s->info = *info;
    return 0;
}

static int on_begin(void *opaque, const lc_segment_meta_t *seg)
{
    sink_t *s = opaque;
    if (!s->inits || (s->nsegs && !s->segs[s->nsegs - 1].ended) || s->nsegs == 64)
        return s->order_errors++, -1;
    s->segs[s->nsegs++].begin = *seg;
    return 0;
}

static int on_part(void *opaque, const lc_part_meta_t *part, lc_buf_t *bytes)
{
    sink_t *s = opaque;
    seg_t *seg = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
    if (!seg || seg->ended || seg->nparts == 64)
        return s->order_errors++, -1;
    seg->parts[seg->nparts++] = (part_t){*part, lc_buf_ref(bytes)};
    return 0;
}

static int on_end(void *opaque, const lc_segment_meta_t *meta)
{
    sink_t *s = opaque;
    seg_t *seg = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
    if (!seg || seg->ended)
        return s->order_errors++, -1;
    seg->end = *meta;
    seg->ended = true;
    return 0;
}

static void free_sink(sink_t *s)
{
    lc_buf_unref(s->init);
    for (int i = 0; i < s->nsegs; i++)
        for (int k = 0; k < s->segs[i].nparts; k++)
            lc_buf_unref(s->segs[i].parts[k].bytes);
}

static void package(const input_t *in, sink_t *sink)
{
    memset(sink, 0, sizeof *sink);
    lc_packager_config_t cfg = {
        .part_target_s = PART_TARGET,
        .segment_target_s = SEG_TARGET,
        .init_id = 3,
        .first_msn = FIRST_MSN,
        .discontinuity = true,
        .pdt_anchor_ms = PDT_ANCHOR,
    };
    lc_packager_cbs_t cbs = {on_init, on_begin, on_part, on_end, sink};
    lc_packager_t *p = NULL;
    assert_int_equal(lc_packager_new(&cfg, in->par[0], in->par[1], &cbs, &p), 0);
    for (int i = 0; i < in->n; i++)
        assert_int_equal(lc_packager_write(p, in->pkts[i]), 0);
    assert_int_equal(lc_packager_flush(p), 0);
    assert_int_equal(lc_packager_write(p, in->pkts[0]), -EINVAL);
    lc_packager_free(&p);
    assert_null(p);
    assert_int_equal(sink->order_errors, 0);
    assert_int_equal(sink->inits, 1);
    assert_true(sink->nsegs > 0);
}

/* ---- demuxing the output again ------------------------------------------------------------- */

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} memsrc_t;

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    memsrc_t *m = opaque;
    size_t left = m->len - m->pos;
    if (left == 0)
        return AVERROR_EOF;
    size_t n = (size_t)size < left ? (size_t)size : left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence)
{
    memsrc_t *m = opaque;
    if (whence & AVSEEK_SIZE)
        return (int64_t)m->len;
    int64_t base = (whence & 3) == SEEK_CUR ? (int64_t)m->pos : (whence & 3) == SEEK_END ? (int64_t)m->len : 0;
    if (base + off < 0 || base + off > (int64_t)m->len)
        return AVERROR(EINVAL);
    m->pos = (size_t)(base + off);
    return (int64_t)m->pos;
}

typedef struct {
    int count[2];
    int64_t *pts_ms[2]; /* per track, in demux order */
    int64_t end_ms[2];  /* largest pts + duration */
    bool first_video_key;
    bool first_video_seen;
} parsed_t;

/* Demuxes `init` followed by `body` (parts or a segment) from memory. */
static void demux(lc_buf_t *init, const uint8_t *body, size_t body_len, parsed_t *out)
{
    memset(out, 0, sizeof *out);
    size_t len = lc_buf_len(init) + body_len;
    uint8_t *all = malloc(len);
    assert_non_null(all);
    memcpy(all, lc_buf_cdata(init), lc_buf_len(init));
    memcpy(all + lc_buf_len(init), body, body_len);
    memsrc_t src = {all, len, 0};
    uint8_t *iobuf = av_malloc(4096);
    AVIOContext *pb = avio_alloc_context(iobuf, 4096, 0, &src, mem_read, NULL, mem_seek);
    AVFormatContext *fmt = avformat_alloc_context();
    fmt->pb = pb;
    assert_int_equal(avformat_open_input(&fmt, NULL, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int map[2] = {-1, -1};
    for (unsigned i = 0; i < fmt->nb_streams && i < 2; i++)
        map[i] = fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? 0 : 1;
    for (int k = 0; k < 2; k++)
        out->pts_ms[k] = calloc(8192, sizeof(int64_t));
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        int which = pkt->stream_index < 2 ? map[pkt->stream_index] : -1;
        if (which >= 0 && out->count[which] < 8192) {
            AVRational tb = fmt->streams[pkt->stream_index]->time_base;
            int64_t pts = av_rescale_q(pkt->pts, tb, (AVRational){1, 1000});
            int64_t end = av_rescale_q(pkt->pts + pkt->duration, tb, (AVRational){1, 1000});
            out->pts_ms[which][out->count[which]++] = pts;
            if (end > out->end_ms[which])
                out->end_ms[which] = end;
            if (which == 0 && !out->first_video_seen) {
                out->first_video_seen = true;
                out->first_video_key = pkt->flags & AV_PKT_FLAG_KEY;
            }
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    av_freep(&pb->buffer);
    avio_context_free(&pb);
    free(all);
}

static void free_parsed(parsed_t *p)
{
    free(p->pts_ms[0]);
    free(p->pts_ms[1]);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ---- the checks ---------------------------------------------------------------------------- */

/* A part is a sequence of ISO BMFF boxes: exactly one moof followed by one mdat. */
static void check_part_boxes(lc_buf_t *b)
{
    const uint8_t *d = lc_buf_cdata(b);
    size_t len = lc_buf_len(b), off = 0;
    const char *expect[] = {"moof", "mdat"};
    int n = 0;
    while (off + 8 <= len) {
        uint32_t size = (uint32_t)d[off] << 24 | (uint32_t)d[off + 1] << 16 |
                        (uint32_t)d[off + 2] << 8 | d[off + 3];
        assert_true(size >= 8 && size <= len - off);
        assert_true(n < 2);
        assert_memory_equal(d + off + 4, expect[n], 4);
        n++;
        off += size;
    }
    assert_int_equal(off, len);
    assert_int_equal(n, 2);
}

static void check_segments(const input_t *in, const sink_t *s)
{
    bool video = in->par[0] != NULL;
    double frame = video ? 1.0 / 30 : 1024.0 / 48000;
    for (int i = 0; i < s->nsegs; i++) {
        const seg_t *seg = &s->segs[i];
        bool last_seg = i == s->nsegs - 1;
        assert_true(seg->ended);
        assert_int_equal(seg->begin.msn, FIRST_MSN + i);
        assert_int_equal(seg->end.msn, seg->begin.msn);
        assert_int_equal(seg->begin.init_id, 3);
        assert_int_equal(seg->begin.discontinuity, i == 0);
        assert_int_equal(seg->end.part_count, seg->nparts);
        assert_true(seg->nparts > 0);
        assert_true(seg->parts[0].meta.independent);
        double sum = 0;
        for (int k = 0; k < seg->nparts; k++) {
            const part_t *part = &seg->parts[k];
            bool last_part = k == seg->nparts - 1;
            bool before_key = !last_part && seg->parts[k + 1].meta.independent && video;
            assert_int_equal(part->meta.msn, seg->begin.msn);
            assert_int_equal(part->meta.index, k);
            assert_int_equal(part->meta.init_id, 3);
            assert_true(part->meta.duration <= PART_TARGET + 1e-9);
            if (!last_part && !before_key)
                assert_true(part->meta.duration >= 0.85 * PART_TARGET);
            if (!video)
                assert_true(part->meta.independent);
            check_part_boxes(part->bytes);
            sum += part->meta.duration;
        }
        assert_true(fabs(sum - seg->end.duration) < 1e-6);
        if (!last_seg) {
            /* Video: the first keyframe at or after the target. Audio-only: the part boundary
             * nearest the target, at most half a part away. */
            if (video)
                assert_true(seg->end.duration >= SEG_TARGET - frame / 2);
            else
                assert_true(fabs(seg->end.duration - SEG_TARGET) <= PART_TARGET / 2 + 1e-9);
            /* Consecutive PDTs differ by the segment's duration (ms timestamps). */
            int64_t step = s->segs[i + 1].begin.pdt_ms - seg->begin.pdt_ms;
            assert_true(llabs(step - llround(seg->end.duration * 1000)) <= 1);
        }
    }
}

/* Every segment decodes on its own (with the init) and begins with a keyframe. */
static void check_segments_standalone(const sink_t *s)
{
    for (int i = 0; i < s->nsegs; i++) {
        const seg_t *seg = &s->segs[i];
        lc_bytes_t body;
        lc_bytes_init(&body);
        for (int k = 0; k < seg->nparts; k++)
            lc_bytes_append(&body, lc_buf_cdata(seg->parts[k].bytes), lc_buf_len(seg->parts[k].bytes));
        parsed_t p;
        demux(s->init, body.data, body.len, &p);
        assert_true(p.first_video_seen);
        assert_true(p.first_video_key);
        free_parsed(&p);
        lc_bytes_free(&body);
    }
}

/* init + all parts demux to the same samples at the same times. */
static void check_roundtrip(const input_t *in, const sink_t *s)
{
    lc_bytes_t body;
    lc_bytes_init(&body);
    for (int i = 0; i < s->nsegs; i++)
        for (int k = 0; k < s->segs[i].nparts; k++)
            lc_bytes_append(&body, lc_buf_cdata(s->segs[i].parts[k].bytes),
                            lc_buf_len(s->segs[i].parts[k].bytes));
    parsed_t out;
    demux(s->init, body.data, body.len, &out);
    lc_bytes_free(&body);

    int64_t in_end[2] = {0, 0};
    for (int which = 0; which < 2; which++) {
        if (!in->par[which]) {
            assert_int_equal(out.count[which], 0);
            continue;
        }
        /* Audio before the first video keyframe is dropped: count what the packager keeps. */
        int64_t *pts = calloc((size_t)in->n, sizeof *pts);
        int n = 0;
        int64_t start = AV_NOPTS_VALUE;
        for (int i = 0; i < in->n; i++)
            if (in->pkts[i]->stream_index == 0 && start == AV_NOPTS_VALUE)
                start = in->pkts[i]->dts;
        for (int i = 0; i < in->n; i++) {
            const AVPacket *pkt = in->pkts[i];
            if (pkt->stream_index != which)
                continue;
            if (which == 1 && start != AV_NOPTS_VALUE && pkt->dts < start)
                continue;
            pts[n++] = pkt->pts;
            if (pkt->pts + pkt->duration > in_end[which])
                in_end[which] = pkt->pts + pkt->duration;
        }
        assert_int_equal(out.count[which], n);
        qsort(pts, (size_t)n, sizeof *pts, cmp_i64);
        qsort(out.pts_ms[which], (size_t)n, sizeof *pts, cmp_i64);
        /* Video keeps its ms timestamps exactly; audio is re-timed by sample count, within 1 ms
         * of the ms-rounded input. */
        int64_t tolerance = which == 0 ? 0 : 1;
        for (int i = 0; i < n; i++)
            assert_true(llabs(out.pts_ms[which][i] - pts[i]) <= tolerance);
        assert_true(llabs(out.end_ms[which] - in_end[which]) <= 2);
        free(pts);
    }
    /* The parts hold the whole run: their durations add up to the primary track's decode
     * span, its last sample lasting as long as the one before it. */
    int primary = in->par[0] ? 0 : 1;
    int64_t first = AV_NOPTS_VALUE, prev = 0, last = 0;
    for (int i = 0; i < in->n; i++) {
        if (in->pkts[i]->stream_index != primary)
            continue;
        if (first == AV_NOPTS_VALUE)
            first = in->pkts[i]->dts;
        prev = last;
        last = in->pkts[i]->dts;
    }
    double total = 0;
    for (int i = 0; i < s->nsegs; i++)
        total += s->segs[i].end.duration;
    double expect = (double)(2 * last - prev - first) / 1000;
    assert_true(fabs(total - expect) < 0.002);
    free_parsed(&out);
}

static void check_info(const input_t *in, const sink_t *s)
{
    const lc_media_info_t *info = &s->info;
    assert_int_equal(info->has_video, in->par[0] != NULL);
    assert_int_equal(info->has_audio, in->par[1] != NULL);
    char expect[64] = "";
    if (in->par[0]) {
        const uint8_t *avcc = in->par[0]->extradata;
        snprintf(expect, sizeof expect, "avc1.%02x%02x%02x", avcc[1], avcc[2], avcc[3]);
        assert_int_equal(avcc[1], 0x64); /* libx264 default: High profile */
        assert_int_equal(info->width, 320);
        assert_int_equal(info->height, 240);
        assert_true(fabs(info->frame_rate - 30) < 1e-9);
    }
    if (in->par[1]) {
        strcat(expect, in->par[0] ? ",mp4a.40.2" : "mp4a.40.2");
        assert_int_equal(info->audio_sample_rate, 48000);
        assert_int_equal(info->audio_channels, 2);
    }
    assert_string_equal(info->codecs, expect);
    assert_true(info->bandwidth_bps > 0);
    /* First segment's PDT: the anchor plus the keyframe's distance from the first packet. */
    int64_t key_dts = in->first_dts;
    for (int i = 0; in->par[0] && i < in->n; i++)
        if (in->pkts[i]->stream_index == 0) {
            key_dts = in->pkts[i]->dts;
            break;
        }
    assert_int_equal(s->segs[0].begin.pdt_ms, PDT_ANCHOR + key_dts - in->first_dts);
}

static void run_case(bool video, bool audio, int gop, int bframes, int seconds)
{
    input_t in;
    sink_t sink;
    make_input(&in, video, audio, gop, bframes, seconds);
    package(&in, &sink);
    check_info(&in, &sink);
    check_segments(&in, &sink);
    if (video)
        check_segments_standalone(&sink);
    check_roundtrip(&in, &sink);
    free_sink(&sink);
    free_input(&in);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* 1 s GOP: parts cut at every keyframe, segments at the second one. */
static void test_audio_video(void **state) { run_case(true, true, 30, 0, 7); }
/* B-frames (pts != dts) and a 2 s GOP. */
static void test_bframes(void **state)
{
    input_t in;
    make_input(&in, true, false, 60, 2, 1);
    bool reordered = false;
    for (int i = 0; i < in.n; i++)
        reordered |= in.pkts[i]->pts != in.pkts[i]->dts;
    assert_true(reordered); /* the test would prove nothing otherwise */
    free_input(&in);
    run_case(true, true, 60, 2, 7);
}
static void test_video_only(void **state) { run_case(true, false, 60, 0, 5); }
static void test_audio_only(void **state) { run_case(false, true, 0, 0, 5); }

/* Segments are cut at keyframes only: with a 3 s GOP the segments are 3 s long, and the parts
 * still stay under the part target. */
static void test_long_gop(void **state)
{
    input_t in;
    sink_t sink;
    make_input(&in, true, true, 90, 0, 7);
    package(&in, &sink);
    check_segments(&in, &sink);
    for (int i = 0; i + 1 < sink.nsegs; i++)
        assert_true(fabs(sink.segs[i].end.duration - 3.0) < 0.002);
    free_sink(&sink);
    free_input(&in);
}

/* Video that starts mid-GOP: samples before the first keyframe are dropped; the first segment
 * still begins with a keyframe. */
static void test_starts_mid_gop(void **state)
{
    input_t in;
    sink_t sink;
    make_input(&in, true, true, 30, 0, 4);
    int skip = 0;
    for (int i = 0, video = 0; i < in.n; i++)
        if (in.pkts[i]->stream_index == 0 && ++video == 5) {
            skip = i;
            break;
        }
    input_t cut = in;
    cut.pkts = in.pkts + skip;
    cut.n = in.n - skip;
    cut.first_dts = cut.pkts[0]->dts;
    package(&cut, &sink);
    int64_t second_key = AV_NOPTS_VALUE;
    for (int i = 0; i < cut.n && second_key == AV_NOPTS_VALUE; i++)
        if (cut.pkts[i]->stream_index == 0 && (cut.pkts[i]->flags & AV_PKT_FLAG_KEY))
            second_key = cut.pkts[i]->dts;
    assert_int_equal(sink.segs[0].begin.pdt_ms, PDT_ANCHOR + second_key - cut.first_dts);
    check_segments_standalone(&sink);
    free_sink(&sink);
    free_input(&in);
}

/* Audio stops for 3 s while video goes on: the packager must not wait for it longer than it
 * promises (parts keep coming), and the audio after the gap keeps its place on the clock. */
static void test_track_stalls(void **state)
{
    input_t in;
    sink_t sink;
    make_input(&in, true, true, 30, 0, 8);
    input_t gap = in;
    gap.pkts = malloc((size_t)in.n * sizeof *gap.pkts);
    gap.n = 0;
    for (int i = 0; i < in.n; i++) {
        const AVPacket *pkt = in.pkts[i];
        if (pkt->stream_index == 1 && pkt->dts >= 2000 && pkt->dts < 5000)
            continue;
        gap.pkts[gap.n++] = in.pkts[i];
    }

    memset(&sink, 0, sizeof sink);
    lc_packager_config_t cfg = {PART_TARGET, SEG_TARGET, 3, FIRST_MSN, true, PDT_ANCHOR, 0};
    lc_packager_cbs_t cbs = {on_init, on_begin, on_part, on_end, &sink};
    lc_packager_t *p = NULL;
    assert_int_equal(lc_packager_new(&cfg, in.par[0], in.par[1], &cbs, &p), 0);
    int i = 0;
    for (; i < gap.n && gap.pkts[i]->dts < 4900; i++)
        assert_int_equal(lc_packager_write(p, gap.pkts[i]), 0);
    /* 4.9 s written, audio silent since 2 s: at most ~2 s are held back. */
    double out_s = 0;
    for (int k = 0; k < sink.nsegs; k++)
        for (int j = 0; j < sink.segs[k].nparts; j++)
            out_s += sink.segs[k].parts[j].meta.duration;
    assert_true(out_s >= 2.4);
    for (; i < gap.n; i++)
        assert_int_equal(lc_packager_write(p, gap.pkts[i]), 0);
    assert_int_equal(lc_packager_flush(p), 0);
    lc_packager_free(&p);
    assert_int_equal(sink.order_errors, 0);
    check_segments(&gap, &sink);
    check_roundtrip(&gap, &sink);
    free_sink(&sink);
    free(gap.pkts);
    free_input(&in);
}

/* PROGRAM-DATE-TIME from arrival times. The publisher's clock starts at SENDER_T0: the packet
 * with media time d is due at SENDER_T0 + d. It could not send for its first BURST_MS (opening
 * its outputs), so those packets all arrive at SENDER_T0 + BURST_MS, then the rest on time plus
 * 5 ms. Anchoring at the first packet would date everything BURST_MS late; the packager takes the
 * smallest arrival - timestamp before its first part, so the first segment's PDT moves back
 * towards the sender's clock, never before it, never later than the first packet's arrival
 * says, and never before the floor. Later segments keep their media-time spacing. */
static void test_pdt_from_arrivals(void **state)
{
    (void)state;
    enum { BURST_MS = 700 };
    const int64_t SENDER_T0 = PDT_ANCHOR;
    input_t in;
    make_input(&in, true, true, 60, 0, 7);
    int64_t key_dts = AV_NOPTS_VALUE;
    for (int i = 0; i < in.n && key_dts == AV_NOPTS_VALUE; i++)
        if (in.pkts[i]->stream_index == 0)
            key_dts = in.pkts[i]->dts;
    int64_t floors[2] = {0, SENDER_T0 + 5000};
    for (int f = 0; f < 2; f++) {
        sink_t sink;
        memset(&sink, 0, sizeof sink);
        lc_packager_config_t cfg = {
            .part_target_s = PART_TARGET,
            .segment_target_s = SEG_TARGET,
            .init_id = 3,
            .first_msn = FIRST_MSN,
            .pdt_anchor_ms = SENDER_T0 + BURST_MS, /* the first packet's arrival */
            .pdt_floor_ms = floors[f],
        };
        lc_packager_cbs_t cbs = {on_init, on_begin, on_part, on_end, &sink};
        lc_packager_t *p = NULL;
        assert_int_equal(lc_packager_new(&cfg, in.par[0], in.par[1], &cbs, &p), 0);
        for (int i = 0; i < in.n; i++) {
            int64_t due = SENDER_T0 + (in.pkts[i]->dts - in.first_dts);
            int64_t arrival = due < SENDER_T0 + BURST_MS ? SENDER_T0 + BURST_MS : due + 5;
            assert_int_equal(lc_packager_write_at(p, in.pkts[i], arrival), 0);
        }
        assert_int_equal(lc_packager_flush(p), 0);
        lc_packager_free(&p);
        assert_int_equal(sink.order_errors, 0);
        assert_true(sink.nsegs >= 3);
        int64_t sender = SENDER_T0 + (key_dts - in.first_dts); /* the sender's own clock */
        int64_t first = sink.segs[0].begin.pdt_ms;
        if (f == 0) {
            /* Moved back by at least the burst minus what went into the first part (0.5 s plus
             * the few packets held back for ordering), and not past the sender's clock. */
            assert_true(first >= sender);
            assert_true(first <= sender + BURST_MS - 400);
        } else {
            assert_int_equal(first, floors[f]);
        }
        /* The anchor moved once, before anything went out: the spacing is media time. */
        double at = (double)first;
        for (int k = 1; k < sink.nsegs; k++) {
            at += sink.segs[k - 1].end.duration * 1000;
            assert_true(llabs(sink.segs[k].begin.pdt_ms - (int64_t)llround(at)) <= 1);
        }
        free_sink(&sink);
    }

    /* Without arrival times (lc_packager_write), the first packet's arrival is the anchor. */
    sink_t sink;
    memset(&sink, 0, sizeof sink);
    lc_packager_config_t cfg = {PART_TARGET, SEG_TARGET, 3, FIRST_MSN, false, SENDER_T0 + BURST_MS, 0};
    lc_packager_cbs_t cbs = {on_init, on_begin, on_part, on_end, &sink};
    lc_packager_t *p = NULL;
    assert_int_equal(lc_packager_new(&cfg, in.par[0], in.par[1], &cbs, &p), 0);
    for (int i = 0; i < in.n; i++)
        assert_int_equal(lc_packager_write(p, in.pkts[i]), 0);
    assert_int_equal(lc_packager_flush(p), 0);
    lc_packager_free(&p);
    assert_int_equal(sink.segs[0].begin.pdt_ms, SENDER_T0 + BURST_MS + key_dts - in.first_dts);
    free_sink(&sink);
    free_input(&in);
}

/* An encoder that stops sending keyframes (an infinite GOP, or intra refresh): the run cannot be
 * cut into segments, so instead of one segment growing without bound (every part of it held in
 * memory by the live window), it fails once LC_LIVE_MAX_SEGMENT_S of video came after the last
 * keyframe, with one ERROR line that says what to change in the encoder. */
static void test_no_keyframe(void **state)
{
    input_t in;
    make_input(&in, true, true, 100000, 0, LC_LIVE_MAX_SEGMENT_S + 2);
    int keys = 0;
    for (int i = 0; i < in.n; i++)
        keys += in.pkts[i]->stream_index == 0 && (in.pkts[i]->flags & AV_PKT_FLAG_KEY);
    assert_int_equal(keys, 1); /* the test would prove nothing otherwise */

    sink_t *sink = calloc(1, sizeof *sink);
    lc_packager_config_t cfg = {PART_TARGET, SEG_TARGET, 3, FIRST_MSN, false, PDT_ANCHOR, 0};
    lc_packager_cbs_t cbs = {on_init, on_begin, on_part, on_end, sink};
    lc_packager_t *p = NULL;
    assert_int_equal(lc_packager_new(&cfg, in.par[0], in.par[1], &cbs, &p), 0);
    assert_int_equal(log_capture_start(), 0);
    int rc = 0, i = 0;
    while (rc == 0 && i < in.n)
        rc = lc_packager_write(p, in.pkts[i++]);
    char *log = log_capture_stop();
    assert_int_equal(rc, LC_ELIMIT);
    /* It gave up about 30 s after the keyframe (the packager holds a few packets back). */
    int64_t at = in.pkts[i - 1]->dts - in.first_dts;
    assert_true(at >= LC_LIVE_MAX_SEGMENT_S * 1000 && at < LC_LIVE_MAX_SEGMENT_S * 1000 + 200);
    /* Unusable from then on. */
    assert_true(i < in.n);
    assert_int_equal(lc_packager_write(p, in.pkts[i]), LC_EMEDIA);
    assert_int_equal(lc_packager_flush(p), LC_EMEDIA);
    lc_packager_free(&p);
    assert_non_null(log);
    assert_int_equal(log_lines(log, "ERROR", NULL), 1);
    assert_int_equal(log_lines(log, "ERROR", "no keyframe for 30 s: set the encoder's keyframe "
                                             "interval to 1–2 s"), 1);
    free(log);

    /* One segment, never ended, and never longer than the limit. */
    assert_int_equal(sink->order_errors, 0);
    assert_int_equal(sink->nsegs, 1);
    assert_false(sink->segs[0].ended);
    double parts_s = 0;
    for (int k = 0; k < sink->segs[0].nparts; k++)
        parts_s += sink->segs[0].parts[k].meta.duration;
    assert_true(parts_s > LC_LIVE_MAX_SEGMENT_S - 1 && parts_s <= LC_LIVE_MAX_SEGMENT_S);
    free_sink(sink);
    free(sink);

    /* Video that never had a keyframe is dropped while it waits for one, but not for ever. */
    input_t cut = in;
    int skip = 0;
    while (in.pkts[skip]->stream_index != 0 || !(in.pkts[skip]->flags & AV_PKT_FLAG_KEY))
        skip++;
    cut.pkts = in.pkts + skip + 1;
    cut.n = in.n - skip - 1;
    sink = calloc(1, sizeof *sink);
    cbs.opaque = sink;
    assert_int_equal(lc_packager_new(&cfg, in.par[0], in.par[1], &cbs, &p), 0);
    assert_int_equal(log_capture_start(), 0);
    rc = 0;
    for (i = 0; rc == 0 && i < cut.n; i++)
        rc = lc_packager_write(p, cut.pkts[i]);
    log = log_capture_stop();
    assert_int_equal(rc, LC_ELIMIT);
    assert_int_equal(log_lines(log, "ERROR", "no keyframe for 30 s"), 1);
    assert_int_equal(sink->inits, 0); /* nothing came out */
    assert_int_equal(sink->nsegs, 0);
    lc_packager_free(&p);
    free(log);
    free_sink(sink);
    free(sink);

    /* Video that stalls while audio goes on: only video cuts parts, so the audio would pile up
     * in the muxer; the stall counts as keyframes not coming. */
    input_t stall = in;
    stall.pkts = malloc((size_t)in.n * sizeof *stall.pkts);
    stall.n = 0;
    for (i = 0; i < in.n; i++)
        if (in.pkts[i]->stream_index == 1 || in.pkts[i]->dts < 3000)
            stall.pkts[stall.n++] = in.pkts[i];
    sink = calloc(1, sizeof *sink);
    cbs.opaque = sink;
    assert_int_equal(lc_packager_new(&cfg, in.par[0], in.par[1], &cbs, &p), 0);
    assert_int_equal(log_capture_start(), 0);
    rc = 0;
    for (i = 0; rc == 0 && i < stall.n; i++)
        rc = lc_packager_write(p, stall.pkts[i]);
    /* Audio is held up to 2 s for the video: the last 30 s of the 32 go out at the flush. */
    if (rc == 0)
        rc = lc_packager_flush(p);
    log = log_capture_stop();
    assert_int_equal(rc, LC_ELIMIT);
    assert_int_equal(log_lines(log, "ERROR", "no keyframe for 30 s"), 1);
    assert_int_equal(sink->nsegs, 1);
    assert_false(sink->segs[0].ended);
    lc_packager_free(&p);
    free(log);
    free_sink(sink);
    free(sink);
    free(stall.pkts);
    free_input(&in);
}

static void test_params(void **state)
{
    input_t in;
    make_input(&in, true, true, 30, 0, 1);
    char codecs[64];
    assert_int_equal(lc_packager_check_params(NULL, NULL), -EINVAL);
    assert_int_equal(lc_packager_check_params(in.par[1], NULL), -EINVAL); /* audio as video */
    assert_int_equal(lc_packager_check_params(in.par[0], in.par[1]), 0);
    assert_int_equal(lc_packager_codecs(in.par[0], NULL, codecs, sizeof codecs), 0);
    assert_int_equal(strlen(codecs), strlen("avc1.64000d"));
    assert_int_equal(lc_packager_codecs(in.par[0], in.par[1], codecs, 8), -ENAMETOOLONG);

    /* Annex B extradata (some encoders): profile and level come from the SPS. */
    AVCodecParameters *annexb = avcodec_parameters_alloc();
    avcodec_parameters_copy(annexb, in.par[0]);
    static const uint8_t sps[] = {0, 0, 0, 1, 0x67, 0x4d, 0x40, 0x1f, 0xaa, 0, 0, 1, 0x68, 0xee};
    av_free(annexb->extradata);
    annexb->extradata = av_mallocz(sizeof sps + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(annexb->extradata, sps, sizeof sps);
    annexb->extradata_size = sizeof sps;
    assert_int_equal(lc_packager_codecs(annexb, NULL, codecs, sizeof codecs), 0);
    assert_string_equal(codecs, "avc1.4d401f");

    /* No decoder configuration at all: refused. */
    annexb->extradata_size = 0;
    assert_int_equal(lc_packager_check_params(annexb, NULL), LC_EMEDIA);
    avcodec_parameters_free(&annexb);

    AVCodecParameters *he = avcodec_parameters_alloc();
    avcodec_parameters_copy(he, in.par[1]);
    he->extradata[0] = (uint8_t)(5 << 3 | (he->extradata[0] & 7)); /* SBR object type */
    assert_int_equal(lc_packager_codecs(NULL, he, codecs, sizeof codecs), 0);
    assert_string_equal(codecs, "mp4a.40.5");
    he->sample_rate = 0;
    assert_int_equal(lc_packager_check_params(NULL, he), LC_EMEDIA);
    avcodec_parameters_free(&he);

    /* Packets for a track the run does not have are refused. */
    lc_packager_config_t cfg = {PART_TARGET, SEG_TARGET, 1, 0, false, 0, 0};
    lc_packager_cbs_t cbs = {0};
    lc_packager_t *p = NULL;
    assert_int_equal(lc_packager_new(&cfg, NULL, in.par[1], &cbs, &p), 0);
    const AVPacket *vpkt = NULL;
    for (int i = 0; i < in.n && !vpkt; i++)
        if (in.pkts[i]->stream_index == 0)
            vpkt = in.pkts[i];
    assert_int_equal(lc_packager_write(p, vpkt), -EINVAL);
    /* A run without a single sample emits nothing, not even init. */
    assert_int_equal(lc_packager_flush(p), 0);
    lc_packager_free(&p);
    lc_packager_free(&p); /* NULL-safe */
    free_input(&in);
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/lc-packager-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    rmdir(tmpdir);
    return 0;
}

int main(void)
{
    lc_log_hook_libav();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_audio_video),
        cmocka_unit_test(test_bframes),
        cmocka_unit_test(test_video_only),
        cmocka_unit_test(test_audio_only),
        cmocka_unit_test(test_long_gop),
        cmocka_unit_test(test_starts_mid_gop),
        cmocka_unit_test(test_track_stalls),
        cmocka_unit_test(test_pdt_from_arrivals),
        cmocka_unit_test_teardown(test_no_keyframe, log_capture_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
