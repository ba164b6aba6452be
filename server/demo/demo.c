/* The demo presenter: libx264 + AAC encoders and libavformat's own RTMP client, in one thread. */
#include "demo/demo.h"

#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include "api/webinar_input.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

#define W 640
#define H 360
#define FPS 25
#define SAMPLE_RATE 48000

struct lc_demo {
    pthread_t thread;
    atomic_bool stop;
    char url[512];
};

/* ---- picture ------------------------------------------------------------------------------- */

/* 3x5 digit glyphs, one bit per pixel, rows top to bottom. */
static const uint8_t digits[12][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
    {0, 2, 0, 2, 0}, /* ':' */
    {0, 0, 0, 0, 2}, /* '.' */
};

static void draw_text(AVFrame *f, const char *text, int x0, int y0, int scale)
{
    for (const char *c = text; *c; c++, x0 += 4 * scale) {
        int g = *c >= '0' && *c <= '9' ? *c - '0' : *c == ':' ? 10 : *c == '.' ? 11 : -1;
        if (g < 0)
            continue;
        for (int row = 0; row < 5; row++)
            for (int col = 0; col < 3; col++) {
                if (!(digits[g][row] & (4 >> col)))
                    continue;
                for (int dy = 0; dy < scale; dy++) {
                    int y = y0 + row * scale + dy;
                    if (y < 0 || y >= H)
                        continue;
                    uint8_t *line = f->data[0] + y * f->linesize[0];
                    for (int dx = 0; dx < scale; dx++) {
                        int x = x0 + col * scale + dx;
                        if (x >= 0 && x < W)
                            line[x] = 235;
                    }
                }
            }
    }
}

static void fill_picture(AVFrame *f, int64_t n)
{
    static const uint8_t bars[8][3] = {{180, 128, 128}, {168, 44, 136}, {145, 147, 44},
                                       {133, 63, 52},   {63, 193, 204}, {51, 109, 212},
                                       {28, 212, 120},  {16, 128, 128}};
    int shift = (int)(n * 4 % W);
    for (int y = 0; y < H; y++) {
        uint8_t *line = f->data[0] + y * f->linesize[0];
        for (int x = 0; x < W; x++)
            line[x] = y < H * 2 / 3 ? bars[((x + shift) % W) * 8 / W][0] : 16;
    }
    for (int y = 0; y < H / 2; y++) {
        uint8_t *u = f->data[1] + y * f->linesize[1], *v = f->data[2] + y * f->linesize[2];
        for (int x = 0; x < W / 2; x++) {
            int b = ((2 * x + shift) % W) * 8 / W;
            bool top = y < H / 3;
            u[x] = top ? bars[b][1] : 128;
            v[x] = top ? bars[b][2] : 128;
        }
    }
    /* The wall clock at the moment the frame is made: compare it with the clock of the machine
     * the page is watched on to see the glass-to-glass latency. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char text[32];
    snprintf(text, sizeof text, "%02d:%02d:%02d.%01ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 100000000);
    draw_text(f, text, 40, H * 2 / 3 + 25, 8);
}

/* ---- encoders and the push ----------------------------------------------------------------- */

typedef struct {
    AVFormatContext *oc;
    AVCodecContext *venc, *aenc;
    AVStream *vst, *ast;
    AVFrame *vframe, *aframe;
    AVPacket *pkt;
    int64_t vcount, acount;
} push_t;

static int drain(push_t *p, AVCodecContext *enc, AVStream *st);

static void push_close(push_t *p, bool ok)
{
    if (p->oc && ok) {
        /* Flush what the encoders still hold, then end the publish cleanly (FCUnpublish +
         * deleteStream), so the session ends at once instead of waiting out the grace period. */
        if (avcodec_send_frame(p->venc, NULL) >= 0)
            drain(p, p->venc, p->vst);
        if (avcodec_send_frame(p->aenc, NULL) >= 0)
            drain(p, p->aenc, p->ast);
        av_write_trailer(p->oc);
    }
    if (p->oc && p->oc->pb)
        avio_closep(&p->oc->pb);
    avformat_free_context(p->oc);
    avcodec_free_context(&p->venc);
    avcodec_free_context(&p->aenc);
    av_frame_free(&p->vframe);
    av_frame_free(&p->aframe);
    av_packet_free(&p->pkt);
    memset(p, 0, sizeof *p);
}

static int open_encoders(push_t *p)
{
    const AVCodec *vc = avcodec_find_encoder_by_name("libx264");
    const AVCodec *ac = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!vc || !ac) {
        LC_ERROR("demo", "libx264 or the AAC encoder is missing from libavcodec");
        return LC_EMEDIA;
    }
    p->venc = avcodec_alloc_context3(vc);
    p->aenc = avcodec_alloc_context3(ac);
    p->vframe = av_frame_alloc();
    p->aframe = av_frame_alloc();
    p->pkt = av_packet_alloc();
    if (!p->venc || !p->aenc || !p->vframe || !p->aframe || !p->pkt)
        return -ENOMEM;
    p->venc->width = W;
    p->venc->height = H;
    p->venc->pix_fmt = AV_PIX_FMT_YUV420P;
    p->venc->time_base = (AVRational){1, FPS};
    p->venc->framerate = (AVRational){FPS, 1};
    p->venc->gop_size = FPS; /* a keyframe every second: segments can end on any second */
    p->venc->bit_rate = 600000;
    p->venc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(p->venc->priv_data, "preset", "ultrafast", 0);
    av_opt_set(p->venc->priv_data, "tune", "zerolatency", 0);
    int rc = avcodec_open2(p->venc, vc, NULL);
    if (rc < 0)
        return lc_error_from_av(rc);

    p->aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    p->aenc->sample_rate = SAMPLE_RATE;
    av_channel_layout_default(&p->aenc->ch_layout, 2);
    p->aenc->bit_rate = 96000;
    p->aenc->time_base = (AVRational){1, SAMPLE_RATE};
    p->aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = avcodec_open2(p->aenc, ac, NULL)) < 0)
        return lc_error_from_av(rc);

    p->vframe->format = AV_PIX_FMT_YUV420P;
    p->vframe->width = W;
    p->vframe->height = H;
    p->aframe->format = AV_SAMPLE_FMT_FLTP;
    p->aframe->sample_rate = SAMPLE_RATE;
    p->aframe->nb_samples = p->aenc->frame_size;
    av_channel_layout_copy(&p->aframe->ch_layout, &p->aenc->ch_layout);
    if ((rc = av_frame_get_buffer(p->vframe, 0)) < 0 ||
        (rc = av_frame_get_buffer(p->aframe, 0)) < 0)
        return lc_error_from_av(rc);
    return 0;
}

static int push_open(push_t *p, const char *url)
{
    int rc = open_encoders(p);
    if (rc < 0)
        return rc;
    if ((rc = avformat_alloc_output_context2(&p->oc, NULL, "flv", url)) < 0)
        return lc_error_from_av(rc);
    p->vst = avformat_new_stream(p->oc, NULL);
    p->ast = avformat_new_stream(p->oc, NULL);
    if (!p->vst || !p->ast)
        return -ENOMEM;
    avcodec_parameters_from_context(p->vst->codecpar, p->venc);
    avcodec_parameters_from_context(p->ast->codecpar, p->aenc);
    p->vst->time_base = p->venc->time_base;
    p->ast->time_base = p->aenc->time_base;
    if ((rc = avio_open2(&p->oc->pb, url, AVIO_FLAG_WRITE, NULL, NULL)) < 0)
        return lc_error_from_av(rc);
    if ((rc = avformat_write_header(p->oc, NULL)) < 0)
        return lc_error_from_av(rc);
    return 0;
}

static int drain(push_t *p, AVCodecContext *enc, AVStream *st)
{
    int rc;
    while ((rc = avcodec_receive_packet(enc, p->pkt)) >= 0) {
        av_packet_rescale_ts(p->pkt, enc->time_base, st->time_base);
        p->pkt->stream_index = st->index;
        if ((rc = av_interleaved_write_frame(p->oc, p->pkt)) < 0)
            return lc_error_from_av(rc);
    }
    return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0 : lc_error_from_av(rc);
}

static int send_video(push_t *p)
{
    int rc = av_frame_make_writable(p->vframe);
    if (rc < 0)
        return lc_error_from_av(rc);
    fill_picture(p->vframe, p->vcount);
    p->vframe->pts = p->vcount++;
    if ((rc = avcodec_send_frame(p->venc, p->vframe)) < 0)
        return lc_error_from_av(rc);
    return drain(p, p->venc, p->vst);
}

static int send_audio(push_t *p)
{
    int rc = av_frame_make_writable(p->aframe);
    if (rc < 0)
        return lc_error_from_av(rc);
    int n = p->aframe->nb_samples;
    for (int i = 0; i < n; i++) {
        int64_t s = p->acount + i;
        /* A 440 Hz tone, and a short 880 Hz beep at the start of every second. */
        bool beep = s % SAMPLE_RATE < SAMPLE_RATE / 10;
        double v = 0.2 * sin(2.0 * M_PI * (beep ? 880.0 : 440.0) * (double)s / SAMPLE_RATE);
        ((float *)p->aframe->data[0])[i] = (float)v;
        ((float *)p->aframe->data[1])[i] = (float)v;
    }
    p->aframe->pts = p->acount;
    p->acount += n;
    if ((rc = avcodec_send_frame(p->aenc, p->aframe)) < 0)
        return lc_error_from_av(rc);
    return drain(p, p->aenc, p->ast);
}

static void sleep_until_us(int64_t t)
{
    int64_t now = lc_now_mono_us();
    if (t > now) {
        struct timespec ts = {(time_t)((t - now) / 1000000), (long)((t - now) % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

static void *demo_main(void *arg)
{
    lc_demo_t *d = arg;
    while (!atomic_load(&d->stop)) {
        push_t p = {0};
        int rc = push_open(&p, d->url);
        if (rc < 0) {
            LC_WARN("demo", "cannot push to the ingest: %s; retrying in 2 s", lc_strerror(rc));
            push_close(&p, false);
            for (int i = 0; i < 20 && !atomic_load(&d->stop); i++)
                sleep_until_us(lc_now_mono_us() + 100000);
            continue;
        }
        LC_INFO("demo", "pushing a %dx%d test picture and tone", W, H);
        int64_t t0 = lc_now_mono_us();
        while (!atomic_load(&d->stop) && rc >= 0) {
            /* Real time: frame n is due at t0 + n/FPS; audio is kept just ahead of video. */
            sleep_until_us(t0 + p.vcount * 1000000 / FPS);
            rc = send_video(&p);
            while (rc >= 0 && p.acount * FPS < (p.vcount + 1) * (int64_t)SAMPLE_RATE)
                rc = send_audio(&p);
        }
        if (rc < 0)
            LC_WARN("demo", "push failed: %s; reconnecting", lc_strerror(rc));
        push_close(&p, rc >= 0);
    }
    return NULL;
}

int lc_demo_start(lc_app_t *app, lc_demo_t **out)
{
    lc_webinar_t w;
    int64_t id = 0;
    char key[LC_STREAM_KEY_SIZE];
    int rc = lc_db_webinar_by_slug(app->db, LC_DEMO_SLUG, &w);
    if (rc == 0) {
        id = w.id;
        rc = lc_app_rotate_key(app->db, id, key);
    } else if (rc == LC_ENOTFOUND) {
        /* The defaults, open to anyone with the link: a demo has no audience to register. */
        lc_webinar_input_t in;
        lc_webinar_input_defaults(&in);
        lc_webinar_row_t row = lc_webinar_input_row(&in, NULL);
        row.title = "lectern demo";
        row.settings.public_access = true;
        rc = lc_app_create_webinar(app->db, &row, LC_DEMO_SLUG, 0, &id, key);
    }
    if (rc < 0) {
        LC_ERROR("demo", "cannot prepare the demo webinar: %s", lc_strerror(rc));
        return rc;
    }
    lc_demo_t *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    /* Connect to the address the ingest really bound; a wildcard becomes loopback. */
    const char *port = strrchr(app->rtmp_bound, ':');
    bool v6 = app->rtmp_bound[0] == '[';
    bool wildcard = strncmp(app->rtmp_bound, "0.0.0.0:", 8) == 0 ||
                    strncmp(app->rtmp_bound, "[::]:", 5) == 0 || app->rtmp_bound[0] == ':';
    if (wildcard)
        rc = lc_fmt(d->url, sizeof d->url, "rtmp://%s%s/live/%s", v6 ? "[::1]" : "127.0.0.1",
                    port, key);
    else
        rc = lc_fmt(d->url, sizeof d->url, "rtmp://%s/live/%s", app->rtmp_bound, key);
    if (rc < 0 || pthread_create(&d->thread, NULL, demo_main, d) != 0) {
        free(d);
        return rc < 0 ? rc : -EAGAIN;
    }
    *out = d;
    return 0;
}

void lc_demo_stop(lc_demo_t **pd)
{
    if (!pd || !*pd)
        return;
    atomic_store(&(*pd)->stop, true);
    pthread_join((*pd)->thread, NULL);
    free(*pd);
    *pd = NULL;
}
