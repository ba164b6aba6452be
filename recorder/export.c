/* MP4 export: remuxes a finished recording (its runs of init + CMAF segments) into one faststart
 * MP4, and the background thread that does so for every finished session.
 *
 * Each publishing run is read as one fragmented MP4 through a custom AVIOContext that
 * concatenates init-<id>.mp4 and the run's segment files (only the bytes the journal vouches
 * for). Runs are laid end to end: a run's timestamps are shifted so that its reference stream
 * (the first video stream, else the first stream) starts where the previous run's reference
 * stream ended; the other streams keep their offset to it, and their few packets that would
 * overlap the previous run's (audio that ran on past the video) are dropped.
 *
 * Known limit: one MP4 track has one sample description, so a later run whose codec parameters
 * differ from the first run's (another resolution, codec, sample rate or decoder configuration)
 * cannot follow it; the export stops before that run, logs it, and the MP4 holds the runs before
 * it. The HLS replay (index.m3u8) has every run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/mathematics.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "recorder/recorder.h"
#include "recorder/recorder_internal.h"

#define TAG "export"
#define AVIO_BUF_SIZE (64 * 1024)
/* Packets read ahead at the start of a run to find where its reference stream begins (with
 * B-frames the earliest presentation time is not the first packet's). */
#define PRIME_REF_PACKETS 16
#define PRIME_MAX_PACKETS 512
#define WHY_MAX 192

/* Keeps the first reason an export fails, for its one log line. (A log text cut short is
 * acceptable here.) */
__attribute__((format(printf, 2, 3))) static void note(char *why, const char *fmt, ...)
{
    if (!why || why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, WHY_MAX, fmt, ap);
    va_end(ap);
}

/* ---- reading a run as one stream of bytes ---------------------------------------------------- */

typedef struct {
    char path[PATH_MAX];
    int64_t len; /* bytes to read: the journaled size, not the file's */
} run_file_t;

typedef struct {
    run_file_t *files;
    size_t n_files;
    size_t next; /* file to open next */
    int fd;
    int64_t remaining; /* of the open file */
    atomic_bool *stop;
    char *why;
} concat_t;

static int concat_read(void *opaque, uint8_t *buf, int size)
{
    concat_t *c = opaque;
    for (;;) {
        /* On stop, end the input quietly: libav logs an "exit" as an error, while the caller
         * checks the flag itself and reports the export as abandoned. */
        if (c->stop && atomic_load(c->stop))
            return AVERROR_EOF;
        if (c->fd < 0) {
            if (c->next >= c->n_files)
                return AVERROR_EOF;
            const run_file_t *f = &c->files[c->next++];
            c->fd = open(f->path, O_RDONLY | O_CLOEXEC);
            if (c->fd < 0) {
                int err = errno;
                note(c->why, "open %s: %s", f->path, strerror(err));
                return AVERROR(err);
            }
            c->remaining = f->len;
        }
        if (c->remaining == 0) {
            close(c->fd);
            c->fd = -1;
            continue;
        }
        size_t want = c->remaining < size ? (size_t)c->remaining : (size_t)size;
        ssize_t r = read(c->fd, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            note(c->why, "read %s: %s", c->files[c->next - 1].path, strerror(err));
            return AVERROR(err);
        }
        if (r == 0) {
            note(c->why, "%s is shorter than its journal says", c->files[c->next - 1].path);
            return AVERROR_INVALIDDATA;
        }
        c->remaining -= r;
        return (int)r;
    }
}

typedef struct {
    concat_t concat;
    AVIOContext *avio;
    AVFormatContext *ic;
} run_input_t;

static void run_input_close(run_input_t *in)
{
    avformat_close_input(&in->ic);
    if (in->avio) {
        /* The context may have replaced its buffer: free the one it holds. */
        av_freep(&in->avio->buffer);
        avio_context_free(&in->avio);
    }
    if (in->concat.fd >= 0)
        close(in->concat.fd);
    free(in->concat.files);
    memset(in, 0, sizeof *in);
    in->concat.fd = -1;
}

/* Opens segments [first, end) of the scan (all of one init) as one fragmented MP4. */
static int run_input_open(run_input_t *in, const char *dir, const lc_rec_scan_t *scan,
                          size_t first, size_t end, atomic_bool *stop, char *why)
{
    memset(in, 0, sizeof *in);
    in->concat.fd = -1;
    in->concat.stop = stop;
    in->concat.why = why;
    int rc = 0;
    uint8_t *buffer = NULL;
    const lc_rec_init_t *init = NULL;
    for (size_t i = 0; i < scan->n_inits; i++)
        if (scan->inits[i].id == scan->segs[first].meta.init_id)
            init = &scan->inits[i];
    if (!init)
        return LC_EMEDIA; /* the scan keeps no segment without its init */

    in->concat.files = calloc(end - first + 1, sizeof *in->concat.files);
    if (!in->concat.files)
        return -ENOMEM;
    char name[64];
    run_file_t *f = &in->concat.files[in->concat.n_files++];
    if ((rc = lc_rec_init_name(init->id, name, sizeof name)) < 0 ||
        (rc = lc_fmt(f->path, sizeof f->path, "%s/%s", dir, name)) < 0)
        goto fail;
    f->len = init->size;
    for (size_t i = first; i < end; i++) {
        if (scan->segs[i].meta.part_count == 0)
            continue; /* dropped or empty: no file */
        f = &in->concat.files[in->concat.n_files++];
        if ((rc = lc_rec_seg_name(scan->segs[i].meta.msn, name, sizeof name)) < 0 ||
            (rc = lc_fmt(f->path, sizeof f->path, "%s/%s", dir, name)) < 0)
            goto fail;
        f->len = scan->segs[i].meta.bytes;
    }

    buffer = av_malloc(AVIO_BUF_SIZE);
    if (!buffer) {
        rc = -ENOMEM;
        goto fail;
    }
    in->avio = avio_alloc_context(buffer, AVIO_BUF_SIZE, 0, &in->concat, concat_read, NULL, NULL);
    if (!in->avio) {
        av_free(buffer);
        rc = -ENOMEM;
        goto fail;
    }
    in->avio->seekable = 0; /* fragments are read in order, as from a pipe */
    in->ic = avformat_alloc_context();
    if (!in->ic) {
        rc = -ENOMEM;
        goto fail;
    }
    in->ic->pb = in->avio;
    in->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    int ret = avformat_open_input(&in->ic, NULL, av_find_input_format("mp4"), NULL);
    if (ret < 0) {
        note(why, "open the run of init %d: %s", init->id, av_err2str(ret));
        rc = ret == AVERROR_EXIT ? -ECANCELED : lc_error_from_av(ret);
        goto fail; /* avformat_open_input freed ic */
    }
    /* Reads ahead (the packets are kept for av_read_frame): without it the demuxer leaves AAC
     * packet durations at 0, and a run's end would be one frame short. */
    if ((ret = avformat_find_stream_info(in->ic, NULL)) < 0) {
        note(why, "read the run of init %d: %s", init->id, av_err2str(ret));
        rc = ret == AVERROR_EXIT ? -ECANCELED : lc_error_from_av(ret);
        goto fail;
    }
    return 0;
fail:
    run_input_close(in);
    return rc;
}

/* ---- the remux --------------------------------------------------------------------------------- */

typedef struct {
    AVFormatContext *oc;
    int n_out;
    int ref_out;              /* output stream whose timeline runs are aligned on */
    int64_t *last_dts;        /* per output stream, output time base; AV_NOPTS_VALUE at first */
    int64_t *end;             /* per output stream: max(dts + duration) written, output tb */
    int64_t *boundary;        /* per output stream: `end` when the current run began */
    int64_t ref_end_us;       /* end of the reference stream's presentation so far */
    int64_t packets, dropped; /* totals, for the log */
    atomic_bool *stop;
    lc_export_packet_cb cb;
    void *opaque;
    char why[WHY_MAX]; /* the first failure's details */
} remux_t;

static bool is_av(const AVCodecParameters *p)
{
    return p->codec_type == AVMEDIA_TYPE_VIDEO || p->codec_type == AVMEDIA_TYPE_AUDIO;
}

/* Whether packets of `b` can go into a track described by `a`. */
static bool same_params(const AVCodecParameters *a, const AVCodecParameters *b)
{
    if (a->codec_type != b->codec_type || a->codec_id != b->codec_id)
        return false;
    if (a->codec_type == AVMEDIA_TYPE_VIDEO && (a->width != b->width || a->height != b->height))
        return false;
    if (a->codec_type == AVMEDIA_TYPE_AUDIO &&
        (a->sample_rate != b->sample_rate || a->ch_layout.nb_channels != b->ch_layout.nb_channels))
        return false;
    return a->extradata_size == b->extradata_size &&
           (a->extradata_size == 0 || memcmp(a->extradata, b->extradata, a->extradata_size) == 0);
}

/* Maps the run's audio/video streams onto the output's, in order. Returns the number mapped, or
 * -1 when the run does not fit the output created from the first run. */
static int map_streams(const remux_t *m, const AVFormatContext *ic, int *map)
{
    int n = 0;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        const AVCodecParameters *p = ic->streams[i]->codecpar;
        map[i] = -1;
        if (!is_av(p))
            continue;
        if (n >= m->n_out || !same_params(m->oc->streams[n]->codecpar, p))
            return -1;
        map[i] = n++;
    }
    return n == m->n_out ? n : -1;
}

static int create_outputs(remux_t *m, const AVFormatContext *ic)
{
    m->ref_out = -1;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        const AVStream *ist = ic->streams[i];
        if (!is_av(ist->codecpar))
            continue;
        AVStream *ost = avformat_new_stream(m->oc, NULL);
        if (!ost)
            return -ENOMEM;
        int ret = avcodec_parameters_copy(ost->codecpar, ist->codecpar);
        if (ret < 0)
            return lc_error_from_av(ret);
        ost->codecpar->codec_tag = 0;
        ost->time_base = ist->time_base;
        if (m->ref_out < 0 || (ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
                               m->oc->streams[m->ref_out]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO))
            m->ref_out = ost->index;
    }
    m->n_out = (int)m->oc->nb_streams;
    if (m->n_out == 0)
        return LC_EMEDIA;
    m->last_dts = malloc(sizeof *m->last_dts * (size_t)m->n_out);
    m->end = malloc(sizeof *m->end * (size_t)m->n_out);
    m->boundary = malloc(sizeof *m->boundary * (size_t)m->n_out);
    if (!m->last_dts || !m->end || !m->boundary)
        return -ENOMEM;
    for (int i = 0; i < m->n_out; i++)
        m->last_dts[i] = m->end[i] = AV_NOPTS_VALUE;
    return 0;
}

/* Shifts, checks and writes one packet (takes its contents). Returns 0, or a negative code. */
static int write_packet(remux_t *m, const AVStream *ist, int out, int64_t offset_us,
                        AVPacket *pkt)
{
    AVStream *ost = m->oc->streams[out];
    if (pkt->dts == AV_NOPTS_VALUE)
        pkt->dts = pkt->pts;
    if (pkt->dts == AV_NOPTS_VALUE) {
        m->dropped++;
        av_packet_unref(pkt);
        return 0;
    }
    if (pkt->pts == AV_NOPTS_VALUE)
        pkt->pts = pkt->dts;
    int64_t shift = av_rescale_q(offset_us, AV_TIME_BASE_Q, ist->time_base);
    pkt->pts += shift;
    pkt->dts += shift;
    if (out == m->ref_out) {
        int64_t end_us = av_rescale_q(pkt->pts + pkt->duration, ist->time_base, AV_TIME_BASE_Q);
        if (end_us > m->ref_end_us)
            m->ref_end_us = end_us;
    }
    av_packet_rescale_ts(pkt, ist->time_base, ost->time_base);
    pkt->stream_index = out;
    pkt->pos = -1;

    /* Another stream's packets that start inside the previous run's span would go back in
     * time: drop them (a few audio frames at a reconnect). */
    if (out != m->ref_out && m->boundary[out] != AV_NOPTS_VALUE && pkt->dts < m->boundary[out]) {
        m->dropped++;
        av_packet_unref(pkt);
        return 0;
    }
    /* Rounding of the shift must not make decode times collide. */
    if (m->last_dts[out] != AV_NOPTS_VALUE && pkt->dts <= m->last_dts[out]) {
        int64_t bump = m->last_dts[out] + 1 - pkt->dts;
        pkt->dts += bump;
        pkt->pts += bump;
    }
    m->last_dts[out] = pkt->dts;
    if (m->end[out] == AV_NOPTS_VALUE || pkt->dts + pkt->duration > m->end[out])
        m->end[out] = pkt->dts + pkt->duration;

    int ret = av_interleaved_write_frame(m->oc, pkt);
    if (ret < 0) {
        note(m->why, "write packet: %s", av_err2str(ret));
        return lc_error_from_av(ret);
    }
    m->packets++;
    if (m->cb)
        m->cb(m->opaque);
    return m->stop && atomic_load(m->stop) ? -ECANCELED : 0;
}

/* Copies one run's packets. The first run's timeline is kept as it is; a later run starts where
 * the reference stream stopped. */
static int remux_run(remux_t *m, AVFormatContext *ic, const int *map, bool first_run)
{
    AVPacket *primed[PRIME_MAX_PACKETS];
    int n_primed = 0, ref_seen = 0, rc = 0;
    int64_t run_start_us = INT64_MAX;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return -ENOMEM;

    /* Find where the run's reference stream starts presenting. */
    while (n_primed < PRIME_MAX_PACKETS && ref_seen < PRIME_REF_PACKETS) {
        int ret = av_read_frame(ic, pkt);
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            rc = ret == AVERROR_EXIT ? -ECANCELED : lc_error_from_av(ret);
            goto out;
        }
        int out = map[pkt->stream_index];
        if (out < 0) {
            av_packet_unref(pkt);
            continue;
        }
        if (out == m->ref_out && pkt->pts != AV_NOPTS_VALUE) {
            int64_t us = av_rescale_q(pkt->pts, ic->streams[pkt->stream_index]->time_base,
                                      AV_TIME_BASE_Q);
            if (us < run_start_us)
                run_start_us = us;
            ref_seen++;
        }
        primed[n_primed] = av_packet_alloc();
        if (!primed[n_primed]) {
            rc = -ENOMEM;
            goto out;
        }
        av_packet_move_ref(primed[n_primed++], pkt);
    }
    int64_t offset_us = 0;
    if (!first_run && run_start_us != INT64_MAX)
        offset_us = m->ref_end_us - run_start_us;
    for (int i = 0; i < m->n_out; i++)
        m->boundary[i] = first_run ? AV_NOPTS_VALUE : m->end[i];

    for (int i = 0; i < n_primed && rc == 0; i++) {
        int in = primed[i]->stream_index;
        rc = write_packet(m, ic->streams[in], map[in], offset_us, primed[i]);
    }
    while (rc == 0) {
        int ret = av_read_frame(ic, pkt);
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            rc = ret == AVERROR_EXIT ? -ECANCELED : lc_error_from_av(ret);
            if (rc != -ECANCELED)
                note(m->why, "read: %s", av_err2str(ret));
            break;
        }
        int out = map[pkt->stream_index];
        if (out < 0)
            av_packet_unref(pkt);
        else
            rc = write_packet(m, ic->streams[pkt->stream_index], out, offset_us, pkt);
    }
out:
    for (int i = 0; i < n_primed; i++)
        av_packet_free(&primed[i]);
    av_packet_free(&pkt);
    return rc;
}

static int sync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_WRONLY) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = (dir ? fsync(fd) : fdatasync(fd)) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int lc_export_mp4_ex(const char *recording_dir, const char *out_path, atomic_bool *stop,
                     lc_export_packet_cb packet_cb, void *opaque)
{
    lc_rec_scan_t scan;
    run_input_t in = {.concat.fd = -1};
    remux_t m = {.stop = stop, .cb = packet_cb, .opaque = opaque, .ref_out = -1};
    int *map = NULL;
    char tmp[PATH_MAX], out_dir[PATH_MAX];
    bool header_written = false;
    int runs = 0, rc;

    if ((rc = lc_fmt(tmp, sizeof tmp, "%s.tmp", out_path)) < 0 ||
        (rc = lc_fmt(out_dir, sizeof out_dir, "%s", out_path)) < 0)
        return rc;
    char *slash = strrchr(out_dir, '/');
    if (slash)
        *slash = 0;
    else
        lc_fmt(out_dir, sizeof out_dir, ".");

    if ((rc = lc_rec_scan(recording_dir, &scan)) < 0) {
        if (rc == LC_ENOTFOUND)
            LC_WARN(TAG, "%s: no recording to export", recording_dir);
        goto out;
    }
    if (!scan.finished) {
        LC_ERROR(TAG, "%s: recording is not finished", recording_dir);
        rc = LC_ECONFLICT;
        goto out;
    }
    if (scan.total_us == 0) {
        LC_WARN(TAG, "%s: recording has no media to export", recording_dir);
        rc = LC_ENOTFOUND;
        goto out;
    }
    int ret = avformat_alloc_output_context2(&m.oc, NULL, "mp4", tmp);
    if (ret < 0) {
        rc = lc_error_from_av(ret);
        goto out;
    }

    for (size_t first = 0; first < scan.n_segs;) {
        if (scan.segs[first].meta.part_count == 0) {
            first++;
            continue;
        }
        /* A run: the following kept segments of the same init. */
        size_t end = first + 1;
        while (end < scan.n_segs && (scan.segs[end].meta.part_count == 0 ||
                                     scan.segs[end].meta.init_id == scan.segs[first].meta.init_id))
            end++;
        int init_id = scan.segs[first].meta.init_id;
        if ((rc = run_input_open(&in, recording_dir, &scan, first, end, stop, m.why)) < 0)
            goto out;
        free(map);
        map = malloc(sizeof *map * (in.ic->nb_streams ? in.ic->nb_streams : 1));
        if (!map) {
            rc = -ENOMEM;
            goto out;
        }
        if (!header_written) {
            if ((rc = create_outputs(&m, in.ic)) < 0)
                goto out;
            map_streams(&m, in.ic, map);
            if ((ret = avio_open(&m.oc->pb, tmp, AVIO_FLAG_WRITE)) < 0) {
                note(m.why, "open %s: %s", tmp, av_err2str(ret));
                rc = lc_error_from_av(ret);
                goto out;
            }
            AVDictionary *opts = NULL;
            av_dict_set(&opts, "movflags", "+faststart", 0);
            ret = avformat_write_header(m.oc, &opts);
            av_dict_free(&opts);
            if (ret < 0) {
                note(m.why, "write header: %s", av_err2str(ret));
                rc = lc_error_from_av(ret);
                goto out;
            }
            header_written = true;
        } else if (map_streams(&m, in.ic, map) < 0) {
            LC_WARN(TAG, "%s: run of init %d has other codec parameters than the first run; "
                    "the MP4 ends before it (the HLS replay has it)", recording_dir, init_id);
            run_input_close(&in);
            break;
        }
        rc = remux_run(&m, in.ic, map, runs == 0);
        run_input_close(&in);
        if (rc < 0)
            goto out;
        runs++;
        first = end;
    }

    /* The input ends early (as EOF) when asked to stop: never finish a cut-short MP4. */
    if (stop && atomic_load(stop)) {
        rc = -ECANCELED;
        goto out;
    }
    if ((ret = av_write_trailer(m.oc)) < 0) {
        note(m.why, "write trailer: %s", av_err2str(ret));
        rc = lc_error_from_av(ret);
        goto out;
    }
    if ((ret = avio_closep(&m.oc->pb)) < 0) {
        rc = lc_error_from_av(ret);
        goto out;
    }
    /* Synced before the rename: download.mp4 existing means it is complete. */
    if ((rc = sync_path(tmp, false)) < 0)
        goto out;
    if (rename(tmp, out_path) < 0) {
        rc = -errno;
        goto out;
    }
    sync_path(out_dir, true);
    LC_INFO(TAG, "%s: exported %d run(s), %" PRId64 " packets (%" PRId64 " overlapping dropped)",
            recording_dir, runs, m.packets, m.dropped);

out:
    run_input_close(&in);
    if (m.oc) {
        if (m.oc->pb)
            avio_closep(&m.oc->pb);
        avformat_free_context(m.oc);
    }
    if (rc < 0) {
        unlink(tmp);
        if (stop && atomic_load(stop))
            rc = -ECANCELED;
        if (rc == -ECANCELED)
            LC_INFO(TAG, "%s: export abandoned", recording_dir);
        else if (rc != LC_ECONFLICT && rc != LC_ENOTFOUND)
            LC_ERROR(TAG, "%s: export failed: %s%s%s", recording_dir, lc_strerror(rc),
                     m.why[0] ? ": " : "", m.why);
    }
    free(map);
    free(m.last_dts);
    free(m.end);
    free(m.boundary);
    lc_rec_scan_free(&scan);
    return rc;
}

int lc_export_mp4(const char *recording_dir, const char *out_path)
{
    return lc_export_mp4_ex(recording_dir, out_path, NULL, NULL, NULL);
}

/* ---- the exporter thread ----------------------------------------------------------------------- */

typedef struct {
    int64_t session_id;
    bool remove; /* delete the recording instead of exporting it */
} export_job_t;

struct lc_exporter {
    char *dir;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* the queue or `busy` changed, or stop */
    export_job_t *queue; /* FIFO */
    size_t n_queue, cap_queue;
    bool busy;
    atomic_bool stop;
    lc_export_packet_cb cb;
    void *opaque;
};

/* Under e->lock. A removal replaces the session's queued export. */
static void enqueue_locked(lc_exporter_t *e, int64_t session_id, bool remove)
{
    for (size_t i = 0; i < e->n_queue; i++)
        if (e->queue[i].session_id == session_id && (!remove || e->queue[i].remove))
            return; /* queued already, or an export of what is about to be deleted */
    size_t kept = 0;
    for (size_t i = 0; i < e->n_queue; i++)
        if (e->queue[i].session_id != session_id) /* a removal drops the export */
            e->queue[kept++] = e->queue[i];
    e->n_queue = kept;
    if (e->n_queue == e->cap_queue) {
        size_t cap = e->cap_queue ? 2 * e->cap_queue : 16;
        export_job_t *q = realloc(e->queue, cap * sizeof *q);
        if (!q) {
            LC_ERROR(TAG, "session %" PRId64 ": out of memory queueing its %s", session_id,
                     remove ? "removal" : "export");
            return;
        }
        e->queue = q;
        e->cap_queue = cap;
    }
    e->queue[e->n_queue++] = (export_job_t){session_id, remove};
    pthread_cond_broadcast(&e->cond);
}

static void *exporter_main(void *arg)
{
    lc_exporter_t *e = arg;
    /* An export cut short by a shutdown makes the demuxer complain (a truncated file, no moov):
     * expected, and not worth an error line. */
    lc_log_libav_quiet_when(&e->stop);
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (!atomic_load(&e->stop) && e->n_queue == 0)
            pthread_cond_wait(&e->cond, &e->lock);
        if (atomic_load(&e->stop))
            break;
        export_job_t job = e->queue[0];
        int64_t id = job.session_id;
        memmove(e->queue, e->queue + 1, (e->n_queue - 1) * sizeof *e->queue);
        e->n_queue--;
        e->busy = true;
        lc_export_packet_cb cb = e->cb;
        void *opaque = e->opaque;
        pthread_mutex_unlock(&e->lock);

        char dir[PATH_MAX], out[PATH_MAX];
        if (job.remove)
            lc_recording_remove(e->dir, id); /* logs */
        else if (lc_rec_session_dir(e->dir, id, dir, sizeof dir) == 0 &&
            lc_fmt(out, sizeof out, "%s/" LC_REC_DOWNLOAD, dir) == 0 &&
            !lc_recording_has_download(e->dir, id))
            lc_export_mp4_ex(dir, out, &e->stop, cb, opaque); /* logs its failures */

        pthread_mutex_lock(&e->lock);
        e->busy = false;
        pthread_cond_broadcast(&e->cond);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* Queues every finished recording without a download (an export cut short resumes). */
static void queue_unexported(lc_exporter_t *e)
{
    DIR *d = opendir(e->dir);
    if (!d)
        return; /* no recordings yet */
    const struct dirent *de;
    pthread_mutex_lock(&e->lock);
    while ((de = readdir(d))) {
        int64_t id;
        if (lc_parse_int64(de->d_name, 0, INT64_MAX, &id) == 0 &&
            lc_recording_has_replay(e->dir, id) && !lc_recording_has_download(e->dir, id))
            enqueue_locked(e, id, false);
    }
    pthread_mutex_unlock(&e->lock);
    closedir(d);
}

lc_exporter_t *lc_exporter_start(const char *recordings_dir)
{
    lc_exporter_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->dir = strdup(recordings_dir);
    if (!e->dir) {
        free(e);
        return NULL;
    }
    atomic_init(&e->stop, false);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    queue_unexported(e);
    int err = pthread_create(&e->thread, NULL, exporter_main, e);
    if (err) {
        LC_ERROR(TAG, "start thread: %s", strerror(err));
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        free(e->queue);
        free(e->dir);
        free(e);
        return NULL;
    }
    return e;
}

void lc_exporter_queue(lc_exporter_t *e, int64_t session_id)
{
    pthread_mutex_lock(&e->lock);
    enqueue_locked(e, session_id, false);
    pthread_mutex_unlock(&e->lock);
}

void lc_exporter_queue_removal(lc_exporter_t *e, int64_t session_id)
{
    pthread_mutex_lock(&e->lock);
    enqueue_locked(e, session_id, true);
    pthread_mutex_unlock(&e->lock);
}

void lc_exporter_drain(lc_exporter_t *e)
{
    pthread_mutex_lock(&e->lock);
    while ((e->n_queue > 0 || e->busy) && !atomic_load(&e->stop))
        pthread_cond_wait(&e->cond, &e->lock);
    pthread_mutex_unlock(&e->lock);
}

void lc_exporter_stop(lc_exporter_t **pe)
{
    if (!pe || !*pe)
        return;
    lc_exporter_t *e = *pe;
    *pe = NULL;
    pthread_mutex_lock(&e->lock);
    atomic_store(&e->stop, true);
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    free(e->queue);
    free(e->dir);
    free(e);
}

void lc_exporter_set_packet_cb(lc_exporter_t *e, lc_export_packet_cb cb, void *opaque)
{
    pthread_mutex_lock(&e->lock);
    e->cb = cb;
    e->opaque = opaque;
    pthread_mutex_unlock(&e->lock);
}

bool lc_exporter_stopping(lc_exporter_t *e)
{
    return atomic_load(&e->stop);
}
