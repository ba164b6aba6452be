/* Live stream lifecycle tests: publishers drive streams with packets (synthetic H.264 and AAC
 * access units: the mp4 muxer does not decode them, and exact timestamps keep the checks exact);
 * the session hooks, the window's playlists and (with a recordings directory) the recorder's
 * files are checked. Timing (grace, linger) is configured short; waits poll with a deadline. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/util.h"
#include "live/live.h"
#include "live/packager.h"
#include "recorder/recorder.h"

#include "log_capture.h"

/* ---- the application's side: session hooks ------------------------------------------------- */

typedef struct {
    int64_t webinar, session, ended_ms;
    double duration;
    bool recording_ok;
} ended_t;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t next_session;
    int begins;
    int64_t refuse_webinar; /* session_begin refuses this one with LC_EDB */
    ended_t ends[16];
    int nends;
} app_t;

static int session_begin(void *opaque, int64_t webinar_id, int64_t started_real_ms,
                         int64_t *session_id)
{
    app_t *app = opaque;
    if (webinar_id == app->refuse_webinar)
        return LC_EDB;
    pthread_mutex_lock(&app->mu);
    app->begins++;
    *session_id = ++app->next_session;
    pthread_mutex_unlock(&app->mu);
    return 0;
}

static void session_end(void *opaque, int64_t webinar_id, int64_t session_id,
                        int64_t ended_real_ms, double duration_s, bool recording_ok)
{
    app_t *app = opaque;
    pthread_mutex_lock(&app->mu);
    if (app->nends < 16)
        app->ends[app->nends++] =
            (ended_t){webinar_id, session_id, ended_real_ms, duration_s, recording_ok};
    pthread_cond_broadcast(&app->cond);
    pthread_mutex_unlock(&app->mu);
}

/* Waits until `n` sessions have ended; false after `ms`. */
static bool wait_ends(app_t *app, int n, int ms)
{
    int64_t deadline = lc_now_real_ms() + ms;
    pthread_mutex_lock(&app->mu);
    while (app->nends < n && lc_now_real_ms() < deadline) {
        struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000};
        pthread_cond_timedwait(&app->cond, &app->mu, &ts);
    }
    bool ok = app->nends >= n;
    pthread_mutex_unlock(&app->mu);
    return ok;
}

/* The health clock of fixtures started with FAKE_CLOCK (tests set it; see media_t). */
static _Atomic int64_t fake_now_ms;

static int64_t fake_clock(void)
{
    return fake_now_ms;
}

typedef struct {
    app_t app;
    lc_live_t *live;
    char dir[256]; /* recordings, when used */
} fixture_t;

enum { RECORD = 1, LOW_LATENCY = 2, FAKE_CLOCK = 4 };

static fixture_t *start(int64_t grace_ms, int64_t linger_ms, int flags)
{
    fixture_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->app.mu, NULL);
    pthread_cond_init(&f->app.cond, NULL);
    f->app.next_session = 100;
    f->app.refuse_webinar = -1;
    lc_live_config_t cfg;
    lc_live_config_default(&cfg);
    cfg.grace_ms = grace_ms;
    cfg.ended_linger_ms = linger_ms;
    cfg.window_segments = 20; /* every segment of a test stays listed */
    cfg.low_latency = flags & LOW_LATENCY;
    if (flags & FAKE_CLOCK)
        cfg.health_clock_ms = fake_clock;
    if (flags & RECORD) {
        snprintf(f->dir, sizeof f->dir, "%s/lc-live-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        assert_non_null(mkdtemp(f->dir));
        cfg.recordings_dir = f->dir;
    }
    lc_live_hooks_t hooks = {session_begin, session_end, &f->app};
    f->live = lc_live_new(&cfg, &hooks);
    assert_non_null(f->live);
    return f;
}

static void finish(fixture_t *f)
{
    lc_live_free(&f->live);
    assert_null(f->live);
    if (f->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
    }
    pthread_cond_destroy(&f->app.cond);
    pthread_mutex_destroy(&f->app.mu);
    free(f);
}

/* ---- the ingest's side: synthetic media ---------------------------------------------------- */

static AVCodecParameters *video_par(void)
{
    /* avcC: High profile, level 3.1, one SPS and one PPS (contents are not parsed). */
    static const uint8_t avcc[] = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64,
                                   0x00, 0x1f, 0x01, 0x00, 0x04, 0x68, 0xee, 0x3c, 0x80};
    AVCodecParameters *par = avcodec_parameters_alloc();
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = AV_CODEC_ID_H264;
    par->width = 640;
    par->height = 360;
    par->extradata = av_mallocz(sizeof avcc + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(par->extradata, avcc, sizeof avcc);
    par->extradata_size = sizeof avcc;
    return par;
}

static AVCodecParameters *audio_par(void)
{
    AVCodecParameters *par = avcodec_parameters_alloc();
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_AAC;
    par->sample_rate = 48000;
    av_channel_layout_default(&par->ch_layout, 2);
    par->extradata = av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE);
    par->extradata[0] = 0x11; /* AAC LC, 48 kHz, stereo */
    par->extradata[1] = 0x90;
    par->extradata_size = 2;
    return par;
}

static int start_publisher(lc_publisher_t *pub, bool video, bool audio)
{
    AVCodecParameters *v = video ? video_par() : NULL, *a = audio ? audio_par() : NULL;
    int rc = lc_publisher_start(pub, v, a);
    avcodec_parameters_free(&v);
    avcodec_parameters_free(&a);
    return rc;
}

/* The synthetic media the feeds make: video at `fps` (one AVCC NAL unit a frame, an IDR slice on
 * keyframes) and 48 kHz AAC frames (1024 samples each). */
typedef struct {
    int fps;
    int gop;                    /* a keyframe every `gop` frames; 0: frame 0 only (an encoder
                                   with an infinite GOP) */
    int video_size, audio_size; /* bytes a packet */
    int64_t clock_base;         /* not 0: the injected health clock (fake_now_ms) reads
                                   clock_base + the packet's media time as it is written */
} media_t;

static const media_t DEFAULT_MEDIA = {.fps = 30, .gop = 30, .video_size = 600, .audio_size = 200};

/* Writes the video frames and audio frames of `m` whose times fall in [from_ms, to_ms),
 * interleaved by time, with timestamps offset by `offset_ms`. Returns the first write that did
 * not succeed (0 when all did). */
static int feed_media(lc_publisher_t *pub, const media_t *m, bool video, bool audio,
                      int64_t offset_ms, int64_t from_ms, int64_t to_ms)
{
#define VIDEO_MS(i) (((int64_t)(i) * 1000 + m->fps / 2) / m->fps)
#define AUDIO_MS(i) (((int64_t)(i) * 1024 * 1000 + 24000) / 48000)
    int64_t iv = from_ms * m->fps / 1000, ia = from_ms * 48000 / 1024 / 1000;
    while (iv > 0 && VIDEO_MS(iv) >= from_ms)
        iv--;
    while (VIDEO_MS(iv) < from_ms)
        iv++;
    while (ia > 0 && AUDIO_MS(ia) >= from_ms)
        ia--;
    while (AUDIO_MS(ia) < from_ms)
        ia++;
    AVPacket *pkt = av_packet_alloc();
    int rc = 0;
    while (rc == 0) {
        bool v_left = video && VIDEO_MS(iv) < to_ms, a_left = audio && AUDIO_MS(ia) < to_ms;
        if (!v_left && !a_left)
            break;
        bool v = v_left && (!a_left || VIDEO_MS(iv) <= AUDIO_MS(ia));
        bool key = v && (m->gop ? iv % m->gop == 0 : iv == 0);
        assert_int_equal(av_new_packet(pkt, v ? m->video_size : m->audio_size), 0);
        memset(pkt->data, v ? 0x41 : 0x21, (size_t)pkt->size);
        if (v) {
            /* One NAL unit, 4-byte length prefix (AVCC). */
            pkt->data[0] = 0;
            pkt->data[1] = (uint8_t)((pkt->size - 4) >> 16);
            pkt->data[2] = (uint8_t)((pkt->size - 4) >> 8);
            pkt->data[3] = (uint8_t)(pkt->size - 4);
            pkt->data[4] = key ? 0x65 : 0x41;
            pkt->flags = key ? AV_PKT_FLAG_KEY : 0;
        }
        pkt->stream_index = v ? 0 : 1;
        pkt->dts = pkt->pts = offset_ms + (v ? VIDEO_MS(iv) : AUDIO_MS(ia));
        if (m->clock_base)
            fake_now_ms = m->clock_base + pkt->pts;
        rc = lc_publisher_write(pub, pkt);
        av_packet_unref(pkt);
        if (v)
            iv++;
        else
            ia++;
    }
    av_packet_free(&pkt);
    return rc;
#undef VIDEO_MS
#undef AUDIO_MS
}

/* Writes the default media (30 fps, a keyframe every second) in [from_ms, to_ms); every write
 * must succeed. */
static void feed_span(lc_publisher_t *pub, bool video, bool audio, int64_t offset_ms,
                      int64_t from_ms, int64_t to_ms)
{
    assert_int_equal(feed_media(pub, &DEFAULT_MEDIA, video, audio, offset_ms, from_ms, to_ms), 0);
}

/* `seconds` of media at once (faster than real time). */
static void feed(lc_publisher_t *pub, bool video, bool audio, int64_t offset_ms, int seconds)
{
    feed_span(pub, video, audio, offset_ms, 0, seconds * 1000);
}

/* `ms` of media at the pace of the wall clock, in 100 ms steps. */
static void feed_paced(lc_publisher_t *pub, bool video, bool audio, int64_t ms)
{
    for (int64_t t = 0; t < ms; t += 100) {
        feed_span(pub, video, audio, 0, t, t + 100);
        usleep(100000);
    }
}

/* Video frames as feed_span makes them (30 fps, 600 bytes), but only frame 0 is a keyframe (an
 * encoder with an infinite GOP): frames whose times fall in [from_ms, to_ms). Returns the first
 * write that did not succeed (0 when all did). */
static int feed_without_keyframes(lc_publisher_t *pub, int64_t from_ms, int64_t to_ms)
{
    media_t m = DEFAULT_MEDIA;
    m.gop = 0;
    return feed_media(pub, &m, true, false, 0, from_ms, to_ms);
}

/* Publishes `webinar` (a new session, or a rejoin of its grace), declares video and audio and
 * writes `seconds` of the default media. Returns the publisher. */
static lc_publisher_t *go_live(fixture_t *f, int64_t webinar, const char *name, int seconds)
{
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, webinar, name, &pub), 0);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, seconds);
    return pub;
}

/* A stream with `seconds` of media whose publisher was lost: in grace. */
static void go_grace(fixture_t *f, int64_t webinar, const char *name, int seconds)
{
    lc_publisher_t *pub = go_live(f, webinar, name, seconds);
    lc_publisher_finish(&pub, false);
    assert_int_equal(lc_live_state(f->live, webinar, NULL), LC_LIVE_GRACE);
}

/* Path of a file in the recording of `session`. */
static void rec_path(const fixture_t *f, int64_t session, const char *name, char out[512])
{
    int n = snprintf(out, 512, "%s/%" PRId64 "/%s", f->dir, session, name);
    assert_true(n > 0 && n < 512);
}

/* Stalls the worker of a recorded session on purpose, without touching its code: the segment
 * file the recorder creates next is made a FIFO, so that its open(2) waits for a reader. Waits
 * for the recording to exist first. Release with release_worker. */
static void stall_worker_at(const fixture_t *f, int64_t session, int64_t msn)
{
    char path[512], name[64];
    rec_path(f, session, "journal", path);
    struct stat st;
    for (int64_t deadline = lc_now_real_ms() + 5000; stat(path, &st) != 0; usleep(1000))
        assert_true(lc_now_real_ms() < deadline);
    snprintf(name, sizeof name, "seg-%" PRId64 ".m4s", msn);
    rec_path(f, session, name, path);
    assert_int_equal(mkfifo(path, 0640), 0);
}

/* Lets the stalled worker go on: opens the FIFO's reading end (kept open until the returned fd is
 * closed, so the worker's open(2) is sure to see a reader; its writes into it fail with ESPIPE,
 * which the recorder survives). */
static int release_worker(const fixture_t *f, int64_t session, int64_t msn)
{
    char path[512], name[64];
    snprintf(name, sizeof name, "seg-%" PRId64 ".m4s", msn);
    rec_path(f, session, name, path);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* The media playlist of `slug` as text (empty when there is none). */
static char *playlist(fixture_t *f, const char *slug)
{
    lc_window_t *w = lc_live_window(f->live, slug);
    lc_buf_t *b = w ? lc_window_media_playlist(w) : NULL;
    char *text = strdup(b ? (const char *)lc_buf_cdata(b) : "");
    lc_buf_unref(b);
    lc_window_unref(w);
    return text;
}

/* Polls until the playlist of `slug` contains `needle`. */
static bool wait_playlist(fixture_t *f, const char *slug, const char *needle, int ms)
{
    for (int64_t deadline = lc_now_real_ms() + ms; lc_now_real_ms() < deadline; usleep(2000)) {
        char *text = playlist(f, slug);
        bool found = strstr(text, needle) != NULL;
        free(text);
        if (found)
            return true;
    }
    return false;
}

/* The EXT-X-PROGRAM-DATE-TIME values of a playlist, in ms. */
static int pdts(const char *text, int64_t *out, int max)
{
    int n = 0;
    const char *tag = "#EXT-X-PROGRAM-DATE-TIME:";
    for (const char *p = text; n < max && (p = strstr(p, tag)); p += strlen(tag)) {
        struct tm tm = {0};
        int ms = 0;
        assert_int_equal(sscanf(p + strlen(tag), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                                &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                         7);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        out[n++] = (int64_t)timegm(&tm) * 1000 + ms;
    }
    return n;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_start_stop(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    lc_publisher_t *pub = NULL;
    int64_t session = 0;
    assert_int_equal(lc_live_state(f->live, 1, &session), LC_LIVE_OFFLINE);
    assert_null(lc_live_window(f->live, "alpha"));
    assert_int_equal(lc_live_publish(f->live, 1, "alpha", &pub), 0);
    /* Readers find the stream by its exact name only (the server's names are secret keys). */
    lc_window_t *found = lc_live_window(f->live, "alpha");
    assert_non_null(found);
    lc_window_unref(found);
    static const char *const others[] = {"alph", "alphaa", "Alpha", "", "alpha\n"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_null(lc_live_window(f->live, others[i]));
    assert_int_equal(lc_live_state(f->live, 1, &session), LC_LIVE_RUNNING);
    assert_int_equal(session, 101);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 5);
    /* Segments appear while the stream runs. */
    assert_true(wait_playlist(f, "alpha", "seg-1.m4s", 5000));
    lc_publisher_finish(&pub, true);
    assert_null(pub);
    assert_int_equal(lc_live_state(f->live, 1, &session), LC_LIVE_OFFLINE);
    assert_true(wait_ends(&f->app, 1, 5000));
    assert_int_equal(f->app.ends[0].webinar, 1);
    assert_int_equal(f->app.ends[0].session, 101);
    assert_true(f->app.ends[0].duration > 4.9 && f->app.ends[0].duration < 5.1);
    assert_true(f->app.ends[0].recording_ok); /* recording is off: nothing to recover */

    /* The ended window stays readable: 2 s + 2 s + 1 s and ENDLIST. */
    char *text = playlist(f, "alpha");
    assert_non_null(strstr(text, "#EXT-X-MEDIA-SEQUENCE:0\n"));
    assert_non_null(strstr(text, "#EXTINF:2.000,\nseg-0.m4s\n"));
    assert_non_null(strstr(text, "#EXTINF:2.000,\nseg-1.m4s\n"));
    assert_non_null(strstr(text, "#EXTINF:1.00")); /* the last frame lasts as long as the one before */
    assert_non_null(strstr(text, "seg-2.m4s\n#EXT-X-ENDLIST\n"));
    assert_int_equal(count(text, "#EXT-X-MAP:URI=\"init-1.mp4\""), 1);
    assert_null(strstr(text, "DISCONTINUITY"));
    free(text);
    lc_window_t *w = lc_live_window(f->live, "alpha");
    assert_true(lc_window_ended(w));
    lc_buf_t *master = lc_window_master_playlist(w);
    assert_non_null(strstr((const char *)lc_buf_cdata(master),
                           "CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=30.000\n"
                           "101/index.m3u8\n"));
    assert_int_equal(lc_window_session_id(w), 101);
    lc_buf_unref(master);
    lc_buf_t *seg = lc_window_segment(w, 0), *init = lc_window_init(w, 1);
    assert_non_null(seg);
    assert_memory_equal(lc_buf_cdata(init) + 4, "ftyp", 4);
    assert_memory_equal(lc_buf_cdata(seg) + 4, "moof", 4);
    lc_buf_unref(seg);
    lc_buf_unref(init);
    lc_window_unref(w);
    assert_int_equal(f->app.begins, 1);
    finish(f);
}

/* With low latency on, the live playlist lists the parts of the segment in progress and hints
 * the next one. */
static void test_low_latency(void **state)
{
    fixture_t *f = start(60000, 60000, LOW_LATENCY);
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 6, "six", &pub), 0);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 3);
    assert_true(wait_playlist(f, "six", "part-1.1.m4s\"", 5000));
    char *text = playlist(f, "six");
    assert_non_null(strstr(text, "#EXT-X-VERSION:9\n"));
    /* The default part target, a third of a second: at 30 fps with RTMP's millisecond
     * timestamps a part is 9 or 10 frames (0.300 or 0.333 s). */
    assert_non_null(strstr(text, "#EXT-X-PART-INF:PART-TARGET=0.333\n"));
    const char *first = strstr(text, "#EXT-X-PART:DURATION=");
    assert_non_null(first);
    double d = 0;
    char uri[64] = "";
    assert_int_equal(sscanf(first, "#EXT-X-PART:DURATION=%lf,URI=\"%63[^\"]\",INDEPENDENT=YES\n",
                            &d, uri), 2);
    assert_string_equal(uri, "part-0.0.m4s");
    assert_true(d >= 0.299 && d <= 0.3335);
    assert_non_null(strstr(text, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-"));
    free(text);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    text = playlist(f, "six");
    assert_null(strstr(text, "PRELOAD-HINT"));
    assert_non_null(strstr(text, "#EXT-X-ENDLIST\n"));
    free(text);
    finish(f);
}

/* The connection drops and comes back within the grace: same session, a new run (new init,
 * EXT-X-DISCONTINUITY), media sequence numbers continue. */
static void test_grace_reconnect(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    lc_publisher_t *pub = NULL;
    int64_t session = 0;
    assert_int_equal(lc_live_publish(f->live, 7, "seven", &pub), 0);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 3);
    lc_publisher_finish(&pub, false);
    assert_int_equal(lc_live_state(f->live, 7, &session), LC_LIVE_GRACE);
    assert_int_equal(session, 101);
    assert_true(wait_playlist(f, "seven", "seg-1.m4s", 5000)); /* the run's last segment */
    usleep(50000);

    assert_int_equal(lc_live_publish(f->live, 7, "seven", &pub), 0);
    assert_int_equal(lc_live_state(f->live, 7, &session), LC_LIVE_RUNNING);
    assert_int_equal(session, 101);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 3); /* the encoder's clock restarts, like OBS after a reconnect */
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    assert_int_equal(f->app.begins, 1);
    assert_int_equal(f->app.ends[0].session, 101);
    assert_true(f->app.ends[0].duration > 5.9 && f->app.ends[0].duration < 6.1);

    char *text = playlist(f, "seven");
    assert_int_equal(count(text, "#EXT-X-DISCONTINUITY\n"), 1);
    assert_non_null(strstr(text, ",\nseg-1.m4s\n#EXT-X-DISCONTINUITY\n"
                                 "#EXT-X-MAP:URI=\"init-2.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:"));
    assert_non_null(strstr(text, "seg-3.m4s\n#EXT-X-ENDLIST\n"));
    /* The second run starts on the wall clock no earlier than the first one ended. */
    int64_t pdt[8];
    int n = pdts(text, pdt, 8);
    assert_int_equal(n, 4);
    assert_true(pdt[1] - pdt[0] == 2000);
    assert_true(pdt[2] >= pdt[1] + 1000);
    assert_true(pdt[3] - pdt[2] == 2000);
    free(text);
    lc_window_t *w = lc_live_window(f->live, "seven");
    lc_buf_t *i1 = lc_window_init(w, 1), *i2 = lc_window_init(w, 2);
    assert_non_null(i1);
    assert_non_null(i2);
    lc_buf_unref(i1);
    lc_buf_unref(i2);
    lc_window_unref(w);
    finish(f);
}

static void test_grace_expiry(void **state)
{
    fixture_t *f = start(500, 60000, 0);
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 3, "three", &pub), 0);
    assert_int_equal(start_publisher(pub, true, false), 0);
    feed_paced(pub, true, false, 1000);
    int64_t dropped = lc_now_real_ms();
    lc_publisher_finish(&pub, false);
    assert_int_equal(lc_live_state(f->live, 3, NULL), LC_LIVE_GRACE);
    assert_true(wait_ends(&f->app, 1, 5000));
    assert_true(lc_now_real_ms() - dropped >= 490); /* clocks read in whole ms */
    assert_int_equal(lc_live_state(f->live, 3, NULL), LC_LIVE_OFFLINE);
    /* The session ended when its media did (about when the connection dropped; paced sleeps
     * may run long under load), not at the deadline 500 ms later. */
    assert_true(f->app.ends[0].ended_ms <= dropped + 100);
    assert_true(f->app.ends[0].ended_ms >= dropped - 400);
    char *text = playlist(f, "three");
    assert_non_null(strstr(text, "seg-0.m4s\n#EXT-X-ENDLIST\n"));
    free(text);
    /* A publish after the end starts a new session. */
    assert_int_equal(lc_live_publish(f->live, 3, "three", &pub), 0);
    assert_int_equal(f->app.begins, 2);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 2, 5000));
    assert_int_equal(f->app.ends[1].session, 102);
    finish(f);
}

static void test_conflict(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    lc_publisher_t *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(lc_live_publish(f->live, 1, "one", &a), 0);
    assert_int_equal(lc_live_publish(f->live, 1, "one", &b), LC_ECONFLICT);
    assert_null(b);
    assert_int_equal(lc_live_publish(f->live, 2, "two", &c), 0); /* another webinar is fine */
    assert_int_equal(lc_live_publish(f->live, 1, "", &b), -EINVAL);
    lc_publisher_finish(&a, false);
    assert_int_equal(lc_live_publish(f->live, 1, "one", &a), 0); /* rejoins the grace */
    assert_int_equal(lc_live_publish(f->live, 1, "one", &b), LC_ECONFLICT);
    lc_publisher_finish(&a, true);
    lc_publisher_finish(&c, true);
    lc_publisher_finish(&b, true); /* NULL-safe */
    assert_true(wait_ends(&f->app, 2, 5000));
    assert_int_equal(f->app.begins, 2);
    finish(f);
}

static void test_bad_input(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 1, "one", &pub), 0);
    AVPacket *pkt = av_packet_alloc();
    assert_int_equal(av_new_packet(pkt, 100), 0);
    pkt->dts = pkt->pts = 0;
    assert_int_equal(lc_publisher_write(pub, pkt), -EINVAL); /* before start */
    assert_int_equal(start_publisher(pub, false, false), -EINVAL);
    AVCodecParameters *v = video_par();
    v->codec_id = AV_CODEC_ID_VP8;
    assert_int_equal(lc_publisher_start(pub, v, NULL), LC_EMEDIA);
    avcodec_parameters_free(&v);
    assert_int_equal(start_publisher(pub, false, true), 0);
    assert_int_equal(start_publisher(pub, false, true), -EINVAL); /* exactly one call */
    pkt->stream_index = 0;
    assert_int_equal(lc_publisher_write(pub, pkt), -EINVAL); /* no video declared */
    pkt->stream_index = 1;
    assert_int_equal(lc_publisher_write(pub, pkt), 0);
    av_packet_unref(pkt);
    /* More than the queue may hold: refused, the caller drops the connection. */
    assert_int_equal(av_new_packet(pkt, LC_LIVE_QUEUE_MAX_BYTES + 1), 0);
    pkt->stream_index = 1;
    assert_int_equal(lc_publisher_write(pub, pkt), -EINVAL); /* no timestamp */
    pkt->dts = pkt->pts = 21;
    assert_int_equal(lc_publisher_write(pub, pkt), LC_ELIMIT);
    av_packet_free(&pkt);
    lc_publisher_finish(&pub, true);
    /* After the end, writes are refused rather than queued for nobody. */
    finish(f);
}

/* The worker falls behind a publisher that writes faster than it can package: the publisher
 * gets LC_ELIMIT once the queue holds LC_LIVE_QUEUE_MAX_BYTES, and is never blocked. 4 MiB
 * packets cost the writer a reference each and the worker several copies each (muxer, part,
 * segment), so the queue fills within a few dozen writes. */
static void test_queue_limit(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 1, "one", &pub), 0);
    assert_int_equal(start_publisher(pub, false, true), 0);
    AVPacket *pkt = av_packet_alloc();
    int rc = 0, written = 0;
    int64_t t0 = lc_now_real_ms();
    for (int i = 0; i < 48 && rc == 0; i++) {
        assert_int_equal(av_new_packet(pkt, 4 << 20), 0);
        pkt->stream_index = 1;
        pkt->dts = pkt->pts = i * 500; /* one packet per part keeps the worker's memory small */
        rc = lc_publisher_write(pub, pkt);
        written += rc == 0;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    assert_int_equal(rc, LC_ELIMIT);
    /* The limit is on the memory queued (the 4 MiB buffers, their padding and a few hundred
     * bytes of structures each), not fewer: 15 fit even when the worker took none yet. */
    assert_true(written >= 15);
    assert_true(lc_now_real_ms() - t0 < 2000);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 10000));
    finish(f);
}

typedef struct {
    fixture_t *f;
    int64_t webinar;
    const char *slug;
    int rc;
} pub_job_t;

static void *publish_main(void *arg)
{
    pub_job_t *job = arg;
    lc_publisher_t *pub = NULL;
    job->rc = lc_live_publish(job->f->live, job->webinar, job->slug, &pub);
    if (job->rc == 0) {
        job->rc = start_publisher(pub, true, true);
        feed(pub, true, true, 0, 4);
        lc_publisher_finish(&pub, true);
    }
    return NULL;
}

static void test_two_webinars(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    pub_job_t jobs[2] = {{f, 11, "eleven", -1}, {f, 12, "twelve", -1}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, publish_main, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].rc, 0);
    }
    assert_true(wait_ends(&f->app, 2, 5000));
    assert_int_not_equal(f->app.ends[0].session, f->app.ends[1].session);
    assert_int_not_equal(f->app.ends[0].webinar, f->app.ends[1].webinar);
    lc_window_t *w11 = lc_live_window(f->live, "eleven"), *w12 = lc_live_window(f->live, "twelve");
    assert_non_null(w11);
    assert_non_null(w12);
    assert_ptr_not_equal(w11, w12);
    lc_window_unref(w11);
    lc_window_unref(w12);
    for (int i = 0; i < 2; i++) {
        char *text = playlist(f, jobs[i].slug);
        assert_non_null(strstr(text, "seg-1.m4s\n#EXT-X-ENDLIST\n"));
        free(text);
    }
    assert_null(lc_live_window(f->live, "thirteen"));
    finish(f);
}

/* Shutting down with a stream in grace ends its session at once (not after 60 s). */
static void test_free_in_grace(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    go_grace(f, 5, "five", 2);
    int64_t t0 = lc_now_real_ms();
    app_t *app = &f->app;
    lc_live_free(&f->live);
    assert_true(lc_now_real_ms() - t0 < 5000);
    assert_int_equal(app->nends, 1);
    assert_true(app->ends[0].duration > 1.9 && app->ends[0].duration < 2.1);
    finish(f);
}

/* An ended window stays readable for the linger, then goes; going live again replaces it. */
static void test_linger(void **state)
{
    fixture_t *f = start(60000, 200, 0);
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 4, "four", &pub), 0);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 1);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    lc_window_t *w = lc_live_window(f->live, "four");
    assert_non_null(w);
    lc_window_unref(w);
    bool gone = false;
    for (int64_t deadline = lc_now_real_ms() + 5000; !gone && lc_now_real_ms() < deadline;
         usleep(5000)) {
        w = lc_live_window(f->live, "four");
        gone = w == NULL;
        lc_window_unref(w);
    }
    assert_true(gone);
    finish(f);

    f = start(60000, 60000, 0);
    assert_int_equal(lc_live_publish(f->live, 4, "four", &pub), 0);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 1);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    lc_window_t *old = lc_live_window(f->live, "four");
    assert_int_equal(lc_live_publish(f->live, 4, "four", &pub), 0);
    lc_window_t *fresh = lc_live_window(f->live, "four");
    assert_ptr_not_equal(old, fresh);
    lc_buf_t *pl = lc_window_media_playlist(fresh);
    assert_null(pl); /* the new session has no segment yet */
    int64_t session = 0;
    assert_int_equal(lc_live_state(f->live, 4, &session), LC_LIVE_RUNNING);
    assert_int_equal(session, 102);
    lc_window_unref(old);
    lc_window_unref(fresh);
    lc_publisher_finish(&pub, true);
    finish(f);
}

static void test_session_refused(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    f->app.refuse_webinar = 9;
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 9, "nine", &pub), LC_EDB);
    assert_null(pub);
    assert_int_equal(lc_live_state(f->live, 9, NULL), LC_LIVE_OFFLINE);
    assert_null(lc_live_window(f->live, "nine"));
    f->app.refuse_webinar = -1;
    assert_int_equal(lc_live_publish(f->live, 9, "nine", &pub), 0);
    lc_publisher_finish(&pub, true);
    finish(f);
}

/* With a recordings directory: the session is recorded across a reconnect and final when the
 * session_end hook runs. */
static void test_recording(void **state)
{
    fixture_t *f = start(60000, 60000, RECORD);
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 8, "eight", &pub), 0);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 3);
    lc_publisher_finish(&pub, false);
    assert_int_equal(lc_live_publish(f->live, 8, "eight", &pub), 0);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 2);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    int64_t session = f->app.ends[0].session;
    assert_true(f->app.ends[0].recording_ok);
    assert_true(lc_recording_has_replay(f->dir, session));
    char path[512];
    struct stat st;
    for (int init = 1; init <= 2; init++) {
        snprintf(path, sizeof path, "%s/%" PRId64 "/init-%d.mp4", f->dir, session, init);
        assert_int_equal(stat(path, &st), 0);
    }
    snprintf(path, sizeof path, "%s/%" PRId64 "/index.m3u8", f->dir, session);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(lc_read_file(path, 1 << 20, &text, &len), 0);
    assert_non_null(strstr(text, "#EXT-X-ENDLIST"));
    assert_int_equal(count(text, "#EXT-X-DISCONTINUITY\n"), 1);
    free(text);
    finish(f);
}

/* An encoder without keyframes (infinite GOP, intra refresh): the run fails cleanly after
 * LC_LIVE_MAX_SEGMENT_S instead of building one segment for ever. The publisher is refused (the
 * ingest drops the connection), the segment so far is listed, and one ERROR line says what to
 * change in the encoder. */
static void test_no_keyframes(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    lc_publisher_t *pub = NULL;
    assert_int_equal(log_capture_start(), 0);
    assert_int_equal(lc_live_publish(f->live, 13, "thirteen", &pub), 0);
    assert_int_equal(start_publisher(pub, true, false), 0);
    int64_t span_ms = (LC_LIVE_MAX_SEGMENT_S + 1) * 1000;
    assert_int_equal(feed_without_keyframes(pub, 0, span_ms), 0);
    /* The worker finds out while it catches up: from then on the publisher is refused. */
    int rc = 0;
    for (int64_t deadline = lc_now_real_ms() + 10000; rc == 0 && lc_now_real_ms() < deadline;
         span_ms += 100) {
        rc = feed_without_keyframes(pub, span_ms, span_ms + 100);
        usleep(2000);
    }
    assert_int_equal(rc, LC_EMEDIA);
    assert_true(wait_playlist(f, "thirteen", "seg-0.m4s\n", 5000));
    char *text = playlist(f, "thirteen");
    const char *extinf = strstr(text, "#EXTINF:");
    assert_non_null(extinf);
    double seconds = strtod(extinf + 8, NULL);
    assert_true(seconds > LC_LIVE_MAX_SEGMENT_S - 1 && seconds <= LC_LIVE_MAX_SEGMENT_S);
    assert_null(strstr(text, "seg-1.m4s"));
    free(text);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    char *log = log_capture_stop();
    assert_non_null(log);
    assert_int_equal(log_lines(log, "ERROR", NULL), 1);
    assert_int_equal(log_lines(log, "ERROR", "no keyframe for 30 s: set the encoder's keyframe "
                                             "interval to 1–2 s"), 1);
    free(log);
    finish(f);
}

/* A run fails while the worker is still catching up with it, and the presenter has reconnected
 * meanwhile: only the failed run's publisher is refused, never the healthy reconnect. The worker
 * is held (stall_worker_at) until the reconnect is attached, so the order is certain. */
static void test_failed_run_spares_reconnect(void **state)
{
    fixture_t *f = start(60000, 60000, RECORD);
    lc_publisher_t *first = NULL, *second = NULL;
    int64_t session = 0;
    assert_int_equal(lc_live_publish(f->live, 14, "fourteen", &first), 0);
    assert_int_equal(lc_live_state(f->live, 14, &session), LC_LIVE_RUNNING);
    stall_worker_at(f, session, 0);
    assert_int_equal(start_publisher(first, true, false), 0);
    /* All queued: the worker waits at segment 0, long before it sees 30 s without a keyframe. */
    assert_int_equal(feed_without_keyframes(first, 0, (LC_LIVE_MAX_SEGMENT_S + 1) * 1000), 0);
    lc_publisher_finish(&first, false);
    assert_int_equal(lc_live_publish(f->live, 14, "fourteen", &second), 0); /* the reconnect */
    assert_int_equal(start_publisher(second, true, false), 0);

    int fifo = release_worker(f, session, 0);
    /* The first run's failure: its publisher is refused, then its segment 0 is closed with what
     * it had. */
    assert_true(wait_playlist(f, "fourteen", "seg-0.m4s\n", 10000));
    /* The reconnect keeps publishing: every write accepted (feed asserts it). */
    feed(second, true, false, 0, 3);
    lc_publisher_finish(&second, true);
    assert_true(wait_ends(&f->app, 1, 10000));
    char *text = playlist(f, "fourteen");
    assert_non_null(strstr(text, "seg-0.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-2.mp4\""));
    assert_non_null(strstr(text, "seg-2.m4s\n#EXT-X-ENDLIST\n"));
    free(text);
    close(fifo);
    finish(f);
}

/* The queue's limit counts what a queued packet costs in memory, not only its payload: with the
 * worker held, 1-byte frames are refused long before 64 Mi of them are queued (each pins an
 * AVPacket, a reference, a padded buffer and the queue's own item). */
static void test_queue_counts_overhead(void **state)
{
    fixture_t *f = start(60000, 60000, RECORD);
    lc_publisher_t *pub = NULL;
    int64_t session = 0;
    assert_int_equal(lc_live_publish(f->live, 15, "fifteen", &pub), 0);
    assert_int_equal(lc_live_state(f->live, 15, &session), LC_LIVE_RUNNING);
    stall_worker_at(f, session, 0);
    assert_int_equal(start_publisher(pub, false, true), 0);
    /* What a queued packet costs at least: its AVPacket and its byte. */
    const int64_t most = LC_LIVE_QUEUE_MAX_BYTES / (int64_t)(sizeof(AVPacket) + 1);
    AVPacket *pkt = av_packet_alloc();
    int rc = 0;
    int64_t accepted = 0;
    while (rc == 0 && accepted <= most) {
        assert_int_equal(av_new_packet(pkt, 1), 0);
        pkt->data[0] = 0x21;
        pkt->stream_index = 1;
        pkt->dts = pkt->pts = accepted; /* 1 ms apart: a short stream to package later */
        rc = lc_publisher_write(pub, pkt);
        accepted += rc == 0;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    assert_int_equal(rc, LC_ELIMIT);
    assert_true(accepted <= most);
    assert_true(accepted > 10000); /* a limit, not a refusal of everything */
    int fifo = release_worker(f, session, 0);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 60000));
    close(fifo);
    finish(f);
}

/* lc_recording_finish fails (here: index.m3u8 cannot be replaced, as on a full disk): the hook
 * hears that the recording is not final, and lc_recording_recover completes it from what is on
 * disk. */
static void test_recording_not_final(void **state)
{
    fixture_t *f = start(60000, 60000, RECORD);
    lc_publisher_t *pub = NULL;
    int64_t session = 0;
    assert_int_equal(lc_live_publish(f->live, 16, "sixteen", &pub), 0);
    assert_int_equal(lc_live_state(f->live, 16, &session), LC_LIVE_RUNNING);
    assert_int_equal(start_publisher(pub, true, true), 0);
    feed(pub, true, true, 0, 3);
    /* Segment 0 is in the recording's playlist; segment 1 stays open until the end. */
    char path[512];
    rec_path(f, session, "index.m3u8", path);
    bool listed = false;
    for (int64_t deadline = lc_now_real_ms() + 5000; !listed && lc_now_real_ms() < deadline;
         usleep(2000)) {
        char *text = NULL;
        size_t len = 0;
        listed = lc_read_file(path, 1 << 20, &text, &len) == 0 && strstr(text, "seg-0.m4s");
        free(text);
    }
    assert_true(listed);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0750), 0);

    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    assert_false(f->app.ends[0].recording_ok);
    assert_false(lc_recording_has_replay(f->dir, session));

    assert_int_equal(rmdir(path), 0);
    double duration = 0;
    assert_int_equal(lc_recording_recover(f->dir, session, &duration), 0);
    assert_true(duration > 2.9 && duration < 3.1);
    assert_true(lc_recording_has_replay(f->dir, session));
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(lc_read_file(path, 1 << 20, &text, &len), 0);
    assert_non_null(strstr(text, "seg-1.m4s\n#EXT-X-ENDLIST\n"));
    free(text);
    finish(f);
}

/* Whether `x` is within `tol` (relative) of `want`. */
static bool near(double x, double want, double tol)
{
    return x >= want * (1 - tol) && x <= want * (1 + tol);
}

/* Stream health with the clock injected (the meter's clock follows the media, so the figures are
 * exact whatever the load): 25 fps of 5000-byte frames is 1000 kbit/s, 200-byte AAC frames at
 * 48 kHz 75 kbit/s, a keyframe every 50 frames 2 s apart. Audio that stops is missed after 3 s;
 * a stalled publisher reads 0; in grace nothing but the state and session. */
static void test_health(void **state)
{
    fixture_t *f = start(60000, 60000, FAKE_CLOCK);
    const int64_t base = 1000000;
    fake_now_ms = base;
    const media_t m = {.fps = 25, .gop = 50, .video_size = 5000, .audio_size = 200,
                       .clock_base = base};
    lc_live_health_t h;
    memset(&h, 0x5a, sizeof h); /* offline must overwrite everything */
    assert_int_equal(lc_live_health(f->live, 21, &h), LC_ENOTFOUND);
    assert_int_equal(h.state, LC_LIVE_OFFLINE);
    assert_int_equal(h.session_id, 0);
    assert_false(h.has_video);
    assert_int_equal(h.width, 0);
    assert_true(h.fps == 0 && h.video_kbps == 0);

    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 21, "twentyone", &pub), 0);
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_int_equal(h.state, LC_LIVE_RUNNING);
    assert_int_equal(h.session_id, 101);
    assert_false(h.has_video || h.has_audio); /* nothing declared yet */
    assert_int_equal(start_publisher(pub, true, true), 0);
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_true(h.has_video && h.has_audio);
    assert_string_equal(h.video_codec, "h264");
    assert_int_equal(h.width, 640);
    assert_int_equal(h.height, 360);
    assert_string_equal(h.audio_codec, "aac");
    assert_int_equal(h.sample_rate, 48000);
    assert_int_equal(h.channels, 2);
    assert_false(h.audio_present);
    assert_true(h.keyframe_interval_s == 0);

    assert_int_equal(feed_media(pub, &m, true, true, 0, 0, 1500), 0);
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_true(h.fps == 0 && h.video_kbps == 0); /* under one bucket of data: no figure yet */
    assert_true(h.audio_present);
    assert_int_equal(feed_media(pub, &m, true, true, 0, 1500, 3000), 0);
    fake_now_ms = base + 3000;
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_true(near(h.fps, 25, 0.02));
    assert_true(near(h.video_kbps, 1000, 0.02));
    assert_true(near(h.audio_kbps, 75, 0.02));
    assert_true(near(h.keyframe_interval_s, 2, 0.001));
    assert_true(h.audio_present);

    /* The audio stops, the video goes on. */
    assert_int_equal(feed_media(pub, &m, true, false, 0, 3000, 5000), 0);
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_true(h.audio_present); /* last audio about 2 s ago */
    assert_int_equal(feed_media(pub, &m, true, false, 0, 5000, 7000), 0);
    fake_now_ms = base + 7000;
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_false(h.audio_present);
    assert_true(h.audio_kbps == 0);
    assert_true(near(h.fps, 25, 0.02));
    assert_true(near(h.video_kbps, 1000, 0.02));
    assert_true(near(h.keyframe_interval_s, 2, 0.001));

    /* The publisher stalls: nothing written for 4 s. */
    fake_now_ms = base + 11000;
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_int_equal(h.state, LC_LIVE_RUNNING);
    assert_true(h.fps == 0 && h.video_kbps == 0 && h.audio_kbps == 0);
    assert_true(h.has_video);

    lc_publisher_finish(&pub, false);
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_int_equal(h.state, LC_LIVE_GRACE);
    assert_int_equal(h.session_id, 101);
    assert_false(h.has_video || h.audio_present);
    assert_true(h.fps == 0 && h.keyframe_interval_s == 0);

    /* A reconnect is measured afresh. */
    assert_int_equal(lc_live_publish(f->live, 21, "twentyone", &pub), 0);
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_int_equal(h.state, LC_LIVE_RUNNING);
    assert_false(h.has_video);
    assert_int_equal(start_publisher(pub, false, true), 0);
    assert_int_equal(lc_live_health(f->live, 21, &h), 0);
    assert_true(!h.has_video && h.has_audio && h.keyframe_interval_s == 0);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 1, 5000));
    assert_int_equal(lc_live_health(f->live, 21, &h), LC_ENOTFOUND);
    assert_int_equal(h.state, LC_LIVE_OFFLINE);
    finish(f);
}

/* One video frame of the default media, no keyframe (its frame 1), with timestamps offset by
 * `offset_ms`. Returns the write's code. */
static int write_one(lc_publisher_t *pub, int64_t offset_ms)
{
    return feed_media(pub, &DEFAULT_MEDIA, true, false, offset_ms, 1, 34);
}

/* A moderator ends a running stream: the publisher is refused from then on, what was queued is
 * packaged, the session ends once (the ingest's later finish, as a lost connection, neither
 * ends it again nor starts a grace), and the next publish is a new session. */
static void test_end_running(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    assert_int_equal(lc_live_end(f->live, 22), LC_ENOTFOUND); /* nothing runs */
    lc_publisher_t *pub = go_live(f, 22, "twentytwo", 3);
    assert_int_equal(lc_live_end(f->live, 22), 0);
    assert_int_equal(write_one(pub, 3000), LC_ENOTFOUND);
    assert_int_equal(lc_live_state(f->live, 22, NULL), LC_LIVE_OFFLINE);
    assert_true(wait_ends(&f->app, 1, 5000));
    assert_int_equal(f->app.ends[0].session, 101);
    assert_true(f->app.ends[0].duration > 2.9 && f->app.ends[0].duration < 3.1);
    assert_true(f->app.ends[0].recording_ok);
    assert_true(wait_playlist(f, "twentytwo", "seg-1.m4s\n#EXT-X-ENDLIST\n", 5000));
    assert_int_equal(lc_live_end(f->live, 22), LC_ENOTFOUND); /* over already */
    assert_int_equal(write_one(pub, 3034), LC_ENOTFOUND);

    lc_publisher_finish(&pub, false);
    assert_null(pub);
    assert_int_equal(lc_live_state(f->live, 22, NULL), LC_LIVE_OFFLINE);
    pub = go_live(f, 22, "twentytwo", 1);
    int64_t session = 0;
    assert_int_equal(lc_live_state(f->live, 22, &session), LC_LIVE_RUNNING);
    assert_int_equal(session, 102);
    lc_publisher_finish(&pub, true);
    assert_true(wait_ends(&f->app, 2, 5000));
    assert_int_equal(f->app.ends[1].session, 102);
    app_t *app = &f->app;
    lc_live_free(&f->live);
    assert_int_equal(app->nends, 2);
    finish(f);
}

/* The cut-off publisher may hold its stream long after the worker is gone (no linger here, and
 * the ingest notices only at its next packet): publishes meanwhile, which collect exited streams,
 * must not free it under the publisher (ASan would see it). */
static void test_end_publisher_outlives_worker(void **state)
{
    fixture_t *f = start(60000, 0, 0);
    lc_publisher_t *cut = go_live(f, 23, "twentythree", 1), *other = NULL;
    assert_int_equal(lc_live_end(f->live, 23), 0);
    assert_true(wait_ends(&f->app, 1, 5000));
    usleep(100000); /* the worker returns right after the hook */
    assert_int_equal(lc_live_publish(f->live, 23, "twentythree", &other), 0); /* new session */
    lc_publisher_finish(&other, true);
    assert_true(wait_ends(&f->app, 2, 5000));
    usleep(100000);
    assert_int_equal(lc_live_publish(f->live, 24, "twentyfour", &other), 0);
    assert_int_equal(write_one(cut, 1000), LC_ENOTFOUND);
    lc_publisher_finish(&cut, false);
    assert_int_equal(lc_live_state(f->live, 23, NULL), LC_LIVE_OFFLINE);
    lc_publisher_finish(&other, true);
    assert_true(wait_ends(&f->app, 3, 5000));
    assert_int_equal(f->app.begins, 3);
    finish(f);
}

/* A moderator ends a stream in grace: it ends at once, not at the deadline a minute later. */
static void test_end_in_grace(void **state)
{
    fixture_t *f = start(60000, 60000, 0);
    go_grace(f, 25, "twentyfive", 2);
    assert_int_equal(lc_live_end(f->live, 25), 0);
    assert_int_equal(lc_live_state(f->live, 25, NULL), LC_LIVE_OFFLINE);
    assert_true(wait_ends(&f->app, 1, 5000));
    assert_true(f->app.ends[0].duration > 1.9 && f->app.ends[0].duration < 2.1);
    assert_int_equal(lc_live_end(f->live, 25), LC_ENOTFOUND);
    assert_true(wait_playlist(f, "twentyfive", "#EXT-X-ENDLIST\n", 5000));
    lc_publisher_t *pub = NULL;
    assert_int_equal(lc_live_publish(f->live, 25, "twentyfive", &pub), 0); /* no rejoin */
    assert_int_equal(f->app.begins, 2);
    lc_publisher_finish(&pub, true);
    finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_stop),
        cmocka_unit_test(test_low_latency),
        cmocka_unit_test(test_grace_reconnect),
        cmocka_unit_test(test_grace_expiry),
        cmocka_unit_test(test_conflict),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_two_webinars),
        cmocka_unit_test(test_free_in_grace),
        cmocka_unit_test(test_linger),
        cmocka_unit_test(test_session_refused),
        cmocka_unit_test(test_recording),
        cmocka_unit_test_teardown(test_no_keyframes, log_capture_teardown),
        cmocka_unit_test(test_failed_run_spares_reconnect),
        cmocka_unit_test(test_queue_counts_overhead),
        cmocka_unit_test(test_recording_not_final),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_end_running),
        cmocka_unit_test(test_end_publisher_outlives_worker),
        cmocka_unit_test(test_end_in_grace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
