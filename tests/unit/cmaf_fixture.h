/* Test helper: real CMAF media for unit tests. Runs the `ffmpeg` CLI to make a fragmented MP4,
 * splits it into the init segment (ftyp+moov) and its fragments (moof+mdat) by walking the
 * top-level boxes, and measures each fragment (duration, frames, keyframe) with libavformat, so
 * tests can feed a packager's output to whatever takes it (recorder, window). Also: temporary
 * directories and a probe that demuxes a file or playlist and counts what it finds.
 * Header-only; include it from one test file. */
#ifndef TESTS_UNIT_CMAF_FIXTURE_H
#define TESTS_UNIT_CMAF_FIXTURE_H

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>

#define FX_FN static __attribute__((unused))

typedef struct {
    size_t off, len;    /* within cmaf_fixture_t.data: moof (+ anything) + mdat */
    int64_t dur_us;     /* duration of the reference stream (video, else audio) in it */
    bool independent;   /* its first video frame is a keyframe (always with audio only) */
    int video_frames, audio_frames;
} cmaf_frag_t;

typedef struct {
    uint8_t *data; /* the whole fragmented MP4 */
    size_t len;
    size_t init_len; /* ftyp+moov: data[0, init_len) */
    cmaf_frag_t *frags;
    int n_frags;
    bool has_video;
    int video_frames, audio_frames;
    int64_t dur_us; /* sum of the fragments' */
    /* Presentation times as the demuxer reports them, µs. */
    int64_t video_start_us, video_end_us; /* min pts, max pts + duration */
    int64_t audio_end_us;
    int64_t *audio_pts_us; /* [audio_frames], in demuxing order */
} cmaf_fixture_t;

typedef enum {
    CMAF_AV,        /* 320x240 25 fps H.264 (GOP 1 s) + 48 kHz AAC */
    CMAF_AV_LARGE,  /* the same at 640x360: other codec parameters */
    CMAF_AUDIO,     /* 48 kHz AAC only */
    CMAF_AV_LONG_AUDIO, /* CMAF_AV whose audio goes on 0.1 s past the video's end */
} cmaf_kind_t;

/* Runs argv[0] from PATH with stdin and stdout on /dev/null. Returns its exit status or -1. */
FX_FN int fx_run(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* mkdtemp under /tmp; the path is written into `out` (PATH_MAX). Returns 0 or -1. */
FX_FN int fx_tmpdir(char *out, const char *tag)
{
    snprintf(out, PATH_MAX, "/tmp/lectern-%s-XXXXXX", tag);
    return mkdtemp(out) ? 0 : -1;
}

static int fx_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* rm -rf */
FX_FN void fx_rm_rf(const char *path)
{
    nftw(path, fx_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

FX_FN int fx_read(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)n + 1);
    size_t got = *data ? fread(*data, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!*data || got != (size_t)n) {
        free(*data);
        *data = NULL;
        return -1;
    }
    (*data)[n] = 0;
    *len = (size_t)n;
    return 0;
}

FX_FN int fx_write(const char *path, const void *data, size_t len, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, len, f);
    return fclose(f) == 0 && put == len ? 0 : -1;
}

FX_FN int64_t fx_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static uint32_t fx_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the top-level boxes of data[0, len): calls cb(type, off, size) for each. Returns the
 * number of boxes, or -1 when a box does not fit. */
FX_FN int fx_walk_boxes(const uint8_t *data, size_t len,
                        void (*cb)(void *opaque, const char type[4], size_t off, size_t size),
                        void *opaque)
{
    size_t off = 0;
    int n = 0;
    while (off < len) {
        if (len - off < 8)
            return -1;
        uint64_t size = fx_be32(data + off);
        size_t header = 8;
        if (size == 1) {
            if (len - off < 16)
                return -1;
            size = (uint64_t)fx_be32(data + off + 8) << 32 | fx_be32(data + off + 12);
            header = 16;
        } else if (size == 0) {
            size = len - off;
        }
        if (size < header || size > len - off)
            return -1;
        if (cb)
            cb(opaque, (const char *)data + off + 4, off, (size_t)size);
        off += (size_t)size;
        n++;
    }
    return n;
}

static void fx_split_cb(void *opaque, const char type[4], size_t off, size_t size)
{
    cmaf_fixture_t *fx = opaque;
    (void)size;
    if (memcmp(type, "moof", 4) != 0)
        return;
    if (fx->n_frags == 0)
        fx->init_len = off;
    else
        fx->frags[fx->n_frags - 1].len = off - fx->frags[fx->n_frags - 1].off;
    cmaf_frag_t *f = &fx->frags[fx->n_frags++];
    memset(f, 0, sizeof *f);
    f->off = off;
}

FX_FN void cmaf_fixture_free(cmaf_fixture_t *fx)
{
    free(fx->data);
    free(fx->frags);
    free(fx->audio_pts_us);
    memset(fx, 0, sizeof *fx);
}

/* Makes `seconds` of media of `kind` in `dir` (file dir/<kind>.mp4) and splits it. Returns 0 or
 * -1 (and says why on stderr). */
FX_FN int cmaf_fixture_make(cmaf_fixture_t *fx, const char *dir, cmaf_kind_t kind, int seconds)
{
    memset(fx, 0, sizeof *fx);
    char path[PATH_MAX], dur[16], audio_dur[16], video[128];
    snprintf(path, sizeof path, "%s/fixture-%d.mp4", dir, (int)kind);
    snprintf(dur, sizeof dur, "%d", seconds);
    snprintf(video, sizeof video, "testsrc2=size=%s:rate=25",
             kind == CMAF_AV_LARGE ? "640x360" : "320x240");
    /* The audio stops a little before the video, so that the last fragment has video and no
     * fragment is audio alone (except for CMAF_AV_LONG_AUDIO: its last fragment is audio only
     * and has duration 0, its audio overlaps whatever follows the video). */
    if (kind == CMAF_AV_LONG_AUDIO)
        snprintf(audio_dur, sizeof audio_dur, "%d.1", seconds);
    else
        snprintf(audio_dur, sizeof audio_dur, "%d.9", seconds - 1);
    char *av[] = {"ffmpeg", "-nostdin", "-v", "error", "-y",
                  "-f", "lavfi", "-t", dur, "-i", video,
                  "-f", "lavfi", "-t", audio_dur, "-i", "sine=frequency=440:sample_rate=48000",
                  "-map", "0:v", "-map", "1:a",
                  "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-keyint_min", "25",
                  "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                  "-c:a", "aac", "-b:a", "64k",
                  "-movflags", "frag_keyframe+empty_moov+default_base_moof",
                  "-frag_duration", "500000", path, NULL};
    char *audio[] = {"ffmpeg", "-nostdin", "-v", "error", "-y",
                     "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                     "-c:a", "aac", "-b:a", "64k", "-t", dur,
                     "-movflags", "frag_keyframe+empty_moov+default_base_moof",
                     "-frag_duration", "500000", path, NULL};
    if (fx_run(kind == CMAF_AUDIO ? audio : av) != 0) {
        fprintf(stderr, "fixture: ffmpeg failed\n");
        return -1;
    }
    if (fx_read(path, &fx->data, &fx->len) < 0)
        return -1;
    int boxes = fx_walk_boxes(fx->data, fx->len, NULL, NULL);
    fx->frags = calloc(boxes > 0 ? (size_t)boxes : 1, sizeof *fx->frags);
    if (boxes <= 0 || !fx->frags || fx_walk_boxes(fx->data, fx->len, fx_split_cb, fx) < 0 ||
        fx->n_frags == 0) {
        fprintf(stderr, "fixture: cannot split %s\n", path);
        cmaf_fixture_free(fx);
        return -1;
    }
    fx->frags[fx->n_frags - 1].len = fx->len - fx->frags[fx->n_frags - 1].off;

    /* Which fragment each sample lies in, from the demuxer's byte positions. */
    AVFormatContext *ic = NULL;
    if (avformat_open_input(&ic, path, NULL, NULL) < 0) {
        cmaf_fixture_free(fx);
        return -1;
    }
    /* Without it the demuxer leaves AAC packet durations at 0. */
    if (avformat_find_stream_info(ic, NULL) < 0) {
        avformat_close_input(&ic);
        cmaf_fixture_free(fx);
        return -1;
    }
    int ref = -1;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
            fx->has_video = true;
            ref = (int)i;
        }
    }
    if (ref < 0)
        ref = 0;
    int64_t *ticks = calloc((size_t)fx->n_frags, sizeof *ticks);
    bool *seen_video = calloc((size_t)fx->n_frags, sizeof *seen_video);
    AVPacket *pkt = av_packet_alloc();
    size_t cap_audio = 0;
    fx->video_start_us = INT64_MAX;
    int rc = ticks && seen_video && pkt ? 0 : -1;
    while (rc == 0 && av_read_frame(ic, pkt) >= 0) {
        int f = -1;
        for (int i = 0; i < fx->n_frags; i++)
            if (pkt->pos >= (int64_t)fx->frags[i].off &&
                pkt->pos < (int64_t)(fx->frags[i].off + fx->frags[i].len))
                f = i;
        if (f < 0) {
            fprintf(stderr, "fixture: sample outside every fragment\n");
            rc = -1;
        } else {
            const AVStream *st = ic->streams[pkt->stream_index];
            enum AVMediaType type = st->codecpar->codec_type;
            const AVRational us = {1, 1000000};
            int64_t start = av_rescale_q(pkt->pts, st->time_base, us);
            int64_t end = av_rescale_q(pkt->pts + pkt->duration, st->time_base, us);
            if (type == AVMEDIA_TYPE_VIDEO) {
                if (!seen_video[f])
                    fx->frags[f].independent = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
                seen_video[f] = true;
                fx->frags[f].video_frames++;
                fx->video_frames++;
                fx->video_start_us = start < fx->video_start_us ? start : fx->video_start_us;
                fx->video_end_us = end > fx->video_end_us ? end : fx->video_end_us;
            } else if (type == AVMEDIA_TYPE_AUDIO) {
                if ((size_t)fx->audio_frames == cap_audio) {
                    cap_audio = cap_audio ? 2 * cap_audio : 256;
                    int64_t *grown = realloc(fx->audio_pts_us, cap_audio * sizeof *grown);
                    if (!grown) {
                        rc = -1;
                        av_packet_unref(pkt);
                        break;
                    }
                    fx->audio_pts_us = grown;
                }
                fx->frags[f].audio_frames++;
                fx->audio_pts_us[fx->audio_frames++] = start;
                fx->audio_end_us = end > fx->audio_end_us ? end : fx->audio_end_us;
            }
            if (pkt->stream_index == ref)
                ticks[f] += pkt->duration;
        }
        av_packet_unref(pkt);
    }
    for (int i = 0; rc == 0 && i < fx->n_frags; i++) {
        fx->frags[i].dur_us =
            av_rescale_q(ticks[i], ic->streams[ref]->time_base, (AVRational){1, 1000000});
        if (!fx->has_video)
            fx->frags[i].independent = true;
        fx->dur_us += fx->frags[i].dur_us;
    }
    av_packet_free(&pkt);
    free(ticks);
    free(seen_video);
    avformat_close_input(&ic);
    if (rc < 0)
        cmaf_fixture_free(fx);
    return rc;
}

/* What demuxing a file (or an HLS playlist) to its end found. */
typedef struct {
    int open_error;  /* avformat_open_input's result when it failed, else 0 */
    int read_error;  /* the first av_read_frame error other than AVERROR_EOF, else 0 */
    int video_frames, audio_frames;
    double video_span, audio_span; /* seconds: max(pts + duration) - min(pts) */
    double format_duration;        /* AVFormatContext.duration, seconds (0 when unknown) */
    int video_width;
    bool video_dts_increasing; /* every video packet's dts above the one before */
    bool audio_dts_increasing;
} fx_probe_t;

FX_FN fx_probe_t fx_probe(const char *path)
{
    fx_probe_t p = {.video_dts_increasing = true, .audio_dts_increasing = true};
    AVFormatContext *ic = NULL;
    int ret = avformat_open_input(&ic, path, NULL, NULL);
    if (ret < 0) {
        p.open_error = ret;
        return p;
    }
    if (ic->duration != AV_NOPTS_VALUE && ic->duration > 0)
        p.format_duration = (double)ic->duration / AV_TIME_BASE;
    double vmin = 1e18, vmax = -1e18, amin = 1e18, amax = -1e18;
    int64_t last_vdts = INT64_MIN, last_adts = INT64_MIN;
    AVPacket *pkt = av_packet_alloc();
    while ((ret = av_read_frame(ic, pkt)) >= 0) {
        const AVStream *st = ic->streams[pkt->stream_index];
        double start = (double)pkt->pts * av_q2d(st->time_base);
        double end = (double)(pkt->pts + pkt->duration) * av_q2d(st->time_base);
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
            p.video_frames++;
            p.video_width = st->codecpar->width;
            vmin = start < vmin ? start : vmin;
            vmax = end > vmax ? end : vmax;
            if (pkt->dts <= last_vdts)
                p.video_dts_increasing = false;
            last_vdts = pkt->dts;
        } else if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
            p.audio_frames++;
            if (pkt->dts <= last_adts)
                p.audio_dts_increasing = false;
            last_adts = pkt->dts;
            amin = start < amin ? start : amin;
            amax = end > amax ? end : amax;
        }
        av_packet_unref(pkt);
    }
    if (ret != AVERROR_EOF)
        p.read_error = ret;
    p.video_span = p.video_frames ? vmax - vmin : 0;
    p.audio_span = p.audio_frames ? amax - amin : 0;
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    return p;
}

/* Cuts the fragments into segments the way a packager does: a segment begins at an independent
 * fragment once the current one holds at least `target_us`. Fills seg_of_frag[n_frags] with each
 * fragment's 0-based segment; returns the number of segments. */
FX_FN int cmaf_plan(const cmaf_fixture_t *fx, int64_t target_us, int *seg_of_frag)
{
    int seg = -1;
    int64_t in_seg = 0;
    for (int i = 0; i < fx->n_frags; i++) {
        if (seg < 0 || (fx->frags[i].independent && in_seg >= target_us)) {
            seg++;
            in_seg = 0;
        }
        seg_of_frag[i] = seg;
        in_seg += fx->frags[i].dur_us;
    }
    return seg + 1;
}

#ifdef RECORDER_RECORDER_H
/* ---- feeding a recording (include recorder/recorder.h first) -------------------------------- */

typedef struct {
    int init_id;
    int64_t first_msn;
    int64_t pdt_ms;     /* of the run's first segment; later ones follow by duration */
    bool discontinuity; /* on the run's first segment */
    int64_t target_us;  /* segment target */
    int max_parts;      /* stop after this many parts, leaving the last segment open; <0: all */
} cmaf_feed_t;

/* Records the fixture as one publishing run, the way server/live calls the recorder. Returns 0
 * or the first failing call's result; *next_msn is the msn after the run's last segment. */
FX_FN int cmaf_feed_run(lc_recording_t *r, const cmaf_fixture_t *fx, const cmaf_feed_t *o,
                        int64_t *next_msn)
{
    int *seg_of = calloc((size_t)fx->n_frags, sizeof *seg_of);
    if (!seg_of)
        return -ENOMEM;
    cmaf_plan(fx, o->target_us, seg_of);
    lc_buf_t *init = lc_buf_new_copy(fx->data, fx->init_len);
    int rc = lc_recording_add_init(r, o->init_id, init);
    lc_buf_release(&init);
    lc_segment_meta_t seg = {.msn = o->first_msn - 1};
    int64_t elapsed_us = 0;
    bool open = false;
    for (int i = 0; rc == 0 && i < fx->n_frags; i++) {
        if (o->max_parts >= 0 && i >= o->max_parts) {
            open = false; /* left open on purpose */
            break;
        }
        if (i == 0 || seg_of[i] != seg_of[i - 1]) {
            if (open && (rc = lc_recording_end_segment(r, &seg)) != 0)
                break;
            seg = (lc_segment_meta_t){.msn = seg.msn + 1,
                                      .pdt_ms = o->pdt_ms + elapsed_us / 1000,
                                      .discontinuity = i == 0 && o->discontinuity,
                                      .init_id = o->init_id};
            if ((rc = lc_recording_begin_segment(r, &seg)) != 0)
                break;
            open = true;
        }
        const cmaf_frag_t *f = &fx->frags[i];
        lc_part_meta_t part = {.msn = seg.msn,
                               .index = seg.part_count,
                               .duration = (double)f->dur_us / 1e6,
                               .independent = f->independent,
                               .init_id = o->init_id};
        lc_buf_t *bytes = lc_buf_new_copy(fx->data + f->off, f->len);
        rc = lc_recording_add_part(r, &part, bytes);
        lc_buf_release(&bytes);
        seg.part_count++;
        seg.duration += part.duration;
        elapsed_us += f->dur_us;
    }
    if (rc == 0 && open)
        rc = lc_recording_end_segment(r, &seg);
    *next_msn = seg.msn + 1;
    free(seg_of);
    return rc;
}
#endif

#endif
