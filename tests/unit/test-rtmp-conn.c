/* The RTMP connection state machine driven through its sink: OBS-like and ffmpeg-like sessions
 * (their header compression reproduced), any input split, track-set decisions, timestamps (jitter,
 * new timelines), the budget before the publish, acknowledgements, pings, refusals and protocol
 * violations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log_capture.h"
#include "test-rtmp-client.h"

/* ---- writers that compress headers the way the real clients do ----------------------------- */

typedef struct {
    bool used;
    uint32_t ts, len, ts_field;
    uint8_t type;
} prev_t;

/* librtmp (OBS): every media message on chunk stream 4; a full header for timestamp 0, otherwise
 * type 1 with the (unsigned, possibly "negative") delta to the previous message on the channel,
 * type 2 when size and type repeat; extended timestamps are not repeated on type-3 chunks. */
static void obs_media(lc_bytes_t *b, prev_t *ch, uint8_t type, uint32_t ts, const lc_bytes_t *body)
{
    unsigned fmt = 0;
    uint32_t t = ts;
    if (ch->used && ts != 0) {
        fmt = (ch->len == body->len && ch->type == type) ? 2 : 1;
        t = ts - ch->ts;
    }
    tc_chunk(b, 4096, fmt, 4, t, type, 1, body->data, (uint32_t)body->len, false);
    *ch = (prev_t){.used = true, .ts = ts, .len = (uint32_t)body->len, .type = type};
}

/* ffmpeg (ff_rtmp_packet_write): deltas only forward, type 3 when the raw timestamp field
 * repeats, extended timestamps repeated on type-3 chunks. */
static void ffmpeg_msg(lc_bytes_t *b, prev_t *ch, uint32_t csid, uint8_t type, uint32_t ts,
                       const lc_bytes_t *body)
{
    unsigned fmt = 0;
    uint32_t t = ts;
    if (ch->used && ts >= ch->ts) {
        t = ts - ch->ts;
        fmt = 1;
        if (ch->type == type && ch->len == body->len)
            fmt = (t >= 0xFFFFFF ? 0xFFFFFF : t) == ch->ts_field ? 3 : 2;
    }
    tc_chunk(b, 4096, fmt, csid, t, type, 1, body->data, (uint32_t)body->len, true);
    *ch = (prev_t){.used = true,
                   .ts = ts,
                   .len = (uint32_t)body->len,
                   .type = type,
                   .ts_field = t >= 0xFFFFFF ? 0xFFFFFF : t};
}

/* ---- a session ------------------------------------------------------------------------------ */

typedef struct {
    lc_rtmp_conn_t *c;
    tc_sink_t *s;
    tc_server_out_t out;
} session_t;

static void session_open(session_t *x)
{
    x->s = tc_sink_new();
    x->c = tc_conn_new(x->s);
    tc_out_init(&x->out);
}

static void session_close(session_t *x)
{
    lc_rtmp_conn_free(&x->c);
    assert_null(x->c);
    tc_out_free(&x->out);
    tc_sink_free(x->s);
}

static int feed(session_t *x, const lc_bytes_t *b, size_t step)
{
    int rc = tc_feed(x->c, b, step);
    tc_out_drain(&x->out, x->c);
    return rc;
}

/* Handshake, Set Chunk Size 4096, connect, releaseStream/FCPublish/createStream/publish. */
static void obs_prologue(lc_bytes_t *b, const char *key)
{
    tc_handshake(b);
    tc_set_chunk_size(b, 128, 4096);
    tc_connect(b, 4096, "live");
    tc_publish_sequence(b, 4096, key);
}

/* A video frame of `size` bytes (one fake NAL unit) and an AAC frame. */
static void video_body(lc_bytes_t *p, bool key, int32_t cts, size_t size)
{
    lc_bytes_reset(p);
    tc_avc_frame_body(p, key, cts, size - 9);
}

static void audio_body(lc_bytes_t *p, size_t size)
{
    lc_bytes_reset(p);
    lc_bytes_t raw;
    lc_bytes_init(&raw);
    for (size_t i = 0; i < size; i++)
        tc_u8(&raw, (uint8_t)(0x21 + i));
    tc_aac_body(p, 1, raw.data, raw.len);
    lc_bytes_free(&raw);
}

static void check_monotonic(const tc_sink_t *s, int stream_index)
{
    int64_t last = INT64_MIN;
    for (int i = 0; i < s->npackets; i++) {
        const tc_packet_t *p = &s->packets[i];
        if (p->stream_index != stream_index)
            continue;
        assert_true(p->dts > last);
        assert_true(p->pts >= p->dts);
        last = p->dts;
    }
}

/* ---- OBS ------------------------------------------------------------------------------------ */

#define OBS_VIDEO_FRAMES 90 /* 3 s at 30 fps */

/* The whole OBS-like session as bytes; `vts`/`ats` receive the timestamps sent. */
static void build_obs_session(lc_bytes_t *b, uint32_t *vts, int *nv, uint32_t *ats, int *na)
{
    obs_prologue(b, "obs-key");
    tc_metadata(b, 4096, true, true);
    prev_t ch = {0};
    lc_bytes_t body;
    lc_bytes_init(&body);
    tc_avc_body(&body, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
    obs_media(b, &ch, LC_RTMP_MSG_VIDEO, 0, &body);
    lc_bytes_reset(&body);
    tc_aac_body(&body, 0, tc_asc_48k_stereo, sizeof tc_asc_48k_stereo);
    obs_media(b, &ch, LC_RTMP_MSG_AUDIO, 0, &body);
    *nv = *na = 0;
    int a = 0;
    for (int v = 0; v < OBS_VIDEO_FRAMES; v++) {
        uint32_t t = (uint32_t)(v * 1000 / 30);
        /* audio up to 10 ms past the video frame goes first: the video delta is then negative */
        while ((uint32_t)(a * 1024 * 1000 / 48000) <= t + 10) {
            uint32_t at = (uint32_t)(a * 1024 * 1000 / 48000);
            audio_body(&body, 200 + (size_t)(a % 7) * 3);
            obs_media(b, &ch, LC_RTMP_MSG_AUDIO, at, &body);
            ats[(*na)++] = at;
            a++;
        }
        bool key = v % 30 == 0;
        size_t size = key ? 9000 : 600 + (size_t)(v % 5) * 1100; /* some above 4096 */
        video_body(&body, key, v % 3 == 1 ? 66 : 0, size);
        obs_media(b, &ch, LC_RTMP_MSG_VIDEO, t, &body);
        vts[(*nv)++] = t;
    }
    tc_command(b, 4096, 1, "FCUnpublish", 6, "obs-key");
    tc_command(b, 4096, 1, "deleteStream", 7, NULL);
    lc_bytes_free(&body);
}

static void test_obs_session(void **state)
{
    (void)state;
    static uint32_t vts[OBS_VIDEO_FRAMES], ats[400];
    int nv, na;
    lc_bytes_t b;
    lc_bytes_init(&b);
    build_obs_session(&b, vts, &nv, ats, &na);

    session_t x;
    session_open(&x);
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_CONNECTED); /* stopped: back to connected */
    assert_true(lc_rtmp_conn_has_published(x.c));

    /* the answers a publisher waits for, in order */
    const tc_server_out_t *o = &x.out;
    int i = tc_find_type(o, LC_RTMP_MSG_WINDOW_ACK_SIZE, 0);
    assert_int_equal(i, 0);
    assert_int_equal(o->r[i].data[0] << 24 | o->r[i].data[1] << 16 | o->r[i].data[2] << 8 |
                         o->r[i].data[3],
                     LC_RTMP_WINDOW_ACK_SIZE);
    assert_int_equal(tc_find_type(o, LC_RTMP_MSG_SET_PEER_BW, 0), 1);
    assert_int_equal(o->r[1].data[4], 2);
    /* Set Chunk Size is applied by the client-side reader, not listed */
    assert_int_equal(lc_chunk_reader_chunk_size(o->rd), LC_RTMP_OUT_CHUNK_SIZE);
    i = tc_find_command(o, "_result", 0);
    assert_int_equal(i, 2);
    double d;
    assert_true(lc_amf_num(lc_amf_item(o->r[i].amf, 1), &d));
    assert_true(d == 1);
    assert_string_equal(tc_status_code(o, i), "NetConnection.Connect.Success");
    assert_int_equal(tc_find_command(o, "onBWDone", 0), 3);
    /* releaseStream (txn 2), FCPublish → onFCPublish + (txn 3), createStream (txn 4) */
    i = tc_find_command(o, "_result", 1);
    assert_true(lc_amf_num(lc_amf_item(o->r[i].amf, 1), &d));
    assert_true(d == 2);
    assert_true(tc_find_command(o, "onFCPublish", 0) > i);
    i = tc_find_command(o, "_result", 3);
    assert_true(lc_amf_num(lc_amf_item(o->r[i].amf, 1), &d));
    assert_true(d == 4);
    /* ffmpeg reads the stream id as the number at byte 21 of createStream's _result */
    assert_int_equal(o->r[i].data[20], 0x00);
    const uint8_t one[8] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(o->r[i].data + 21, one, 8);
    int begin = tc_find_type(o, LC_RTMP_MSG_USER_CONTROL, 0);
    assert_true(begin > i);
    assert_int_equal(o->r[begin].data[1], 0); /* StreamBegin */
    assert_int_equal(o->r[begin].data[5], 1); /* stream 1 */
    i = tc_find_command(o, "onStatus", 0);
    assert_true(i > begin);
    assert_string_equal(tc_status_code(o, i), "NetStream.Publish.Start");
    assert_int_equal(o->r[i].stream_id, 1);
    assert_int_equal(tc_find_command(o, "onStatus", 1), -1);

    /* the sink */
    tc_sink_t *s = x.s;
    assert_int_equal(s->publish_calls, 1);
    assert_string_equal(s->app, "live");
    assert_string_equal(s->key, "obs-key");
    assert_int_equal(s->start_calls, 1);
    assert_non_null(s->video);
    assert_non_null(s->audio);
    assert_int_equal(s->video->width, 320);
    assert_int_equal(s->audio->sample_rate, 48000);
    assert_int_equal(s->audio->ch_layout.nb_channels, 2);
    assert_int_equal(tc_count(s, 0, false), nv);
    assert_int_equal(tc_count(s, 1, false), na);
    assert_int_equal(tc_count(s, 0, true), 3);
    int vi = 0, ai = 0;
    for (int k = 0; k < s->npackets; k++) {
        const tc_packet_t *p = &s->packets[k];
        if (p->stream_index == 0) {
            assert_int_equal(p->dts, vts[vi]);
            assert_int_equal(p->pts, vts[vi] + (vi % 3 == 1 ? 66 : 0));
            assert_int_equal(p->size, vi % 30 == 0 ? 9000 - 5 : (int)(600 + (vi % 5) * 1100 - 5));
            vi++;
        } else {
            assert_int_equal(p->dts, ats[ai]);
            assert_int_equal(p->size, 200 + (ai % 7) * 3);
            assert_int_equal(p->first_byte, 0x21);
            ai++;
        }
    }
    check_monotonic(s, 0);
    check_monotonic(s, 1);
    assert_int_equal(s->finish_calls, 1);
    assert_true(s->stopped);
    session_close(&x);
    lc_bytes_free(&b);
}

/* The same bytes in any split give the same packets. */
static void test_obs_session_any_split(void **state)
{
    (void)state;
    static uint32_t vts[OBS_VIDEO_FRAMES], ats[400];
    int nv, na;
    lc_bytes_t b;
    lc_bytes_init(&b);
    build_obs_session(&b, vts, &nv, ats, &na);
    session_t ref;
    session_open(&ref);
    assert_int_equal(feed(&ref, &b, 0), 0);
    const size_t steps[] = {1, 3, 11, 1000, 4097};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        session_t x;
        session_open(&x);
        assert_int_equal(feed(&x, &b, steps[k]), 0);
        assert_int_equal(x.s->npackets, ref.s->npackets);
        assert_memory_equal(x.s->packets, ref.s->packets,
                            sizeof(tc_packet_t) * (size_t)x.s->npackets);
        assert_int_equal(x.out.n, ref.out.n);
        assert_int_equal(x.s->finish_calls, 1);
        session_close(&x);
    }
    session_close(&ref);
    lc_bytes_free(&b);
}

/* ---- ffmpeg --------------------------------------------------------------------------------- */

/* ffmpeg: connect at chunk size 128; our Set Chunk Size is echoed; media on chunk streams 4 and
 * 6, timestamps starting just below the 32-bit wrap so that extended timestamps and the wrap both
 * occur. */
static void test_ffmpeg_session_wrap(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_handshake(&b);
    tc_connect(&b, 128, "live");
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_string_equal(tc_status_code(&x.out, tc_find_command(&x.out, "_result", 0)),
                        "NetConnection.Connect.Success");
    lc_bytes_reset(&b);
    tc_set_chunk_size(&b, 128, 4096); /* the echo */
    tc_publish_sequence(&b, 4096, "ffkey");
    lc_bytes_t meta;
    lc_bytes_init(&meta);
    tc_metadata(&meta, 4096, true, true);
    tc_put(&b, meta.data, meta.len);
    lc_bytes_free(&meta);

    const uint32_t base = 0xFFFFFC00u; /* 1024 ms before the wrap */
    prev_t pa = {0}, pv = {0};
    lc_bytes_t body;
    lc_bytes_init(&body);
    tc_aac_body(&body, 0, tc_asc_44k_mono, sizeof tc_asc_44k_mono);
    ffmpeg_msg(&b, &pa, 4, LC_RTMP_MSG_AUDIO, base, &body);
    lc_bytes_reset(&body);
    tc_avc_body(&body, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
    ffmpeg_msg(&b, &pv, 6, LC_RTMP_MSG_VIDEO, base, &body);
    for (int i = 0; i < 75; i++) { /* 3 s at 25 fps, audio every 23 ms */
        uint32_t t = base + (uint32_t)(i * 40);
        video_body(&body, i % 50 == 0, i % 2 ? 80 : 0, i % 50 == 0 ? 6000 : 700);
        ffmpeg_msg(&b, &pv, 6, LC_RTMP_MSG_VIDEO, t, &body);
        for (int k = 0; k < 2; k++) {
            audio_body(&body, 180);
            ffmpeg_msg(&b, &pa, 4, LC_RTMP_MSG_AUDIO, t + (uint32_t)(k * 20), &body);
        }
    }
    tc_command(&b, 4096, 1, "FCUnpublish", 6, "ffkey");
    tc_command(&b, 4096, 1, "deleteStream", 7, NULL);
    assert_int_equal(feed(&x, &b, 5), 0);

    tc_sink_t *s = x.s;
    assert_string_equal(s->key, "ffkey");
    assert_int_equal(s->start_calls, 1);
    assert_int_equal(s->audio->sample_rate, 44100);
    assert_int_equal(s->audio->ch_layout.nb_channels, 1);
    assert_int_equal(tc_count(s, 0, false), 75);
    assert_int_equal(tc_count(s, 1, false), 150);
    assert_int_equal(tc_count(s, 0, true), 2);
    check_monotonic(s, 0);
    check_monotonic(s, 1);
    /* unwrapped: the last video frame is 2960 ms after the first, past 2^32 */
    int64_t first = -1, last = -1;
    for (int i = 0; i < s->npackets; i++)
        if (s->packets[i].stream_index == 0) {
            if (first < 0)
                first = s->packets[i].dts;
            last = s->packets[i].dts;
        }
    assert_int_equal(first, base);
    assert_int_equal(last, (int64_t)base + 74 * 40);
    assert_true(last > (int64_t)UINT32_MAX);
    assert_int_equal(s->finish_calls, 1);
    assert_true(s->stopped);
    lc_bytes_free(&body);
    lc_bytes_free(&b);
    session_close(&x);
}

/* ---- track-set decisions -------------------------------------------------------------------- */

/* Publishes with optional metadata, then sends what `script` says: 'V' video header, 'A' audio
 * header, 'v' a video frame (+40 ms), 'a' an audio frame (+20 ms). */
static void run_script(session_t *x, int meta, const char *script)
{
    lc_bytes_t b, body;
    lc_bytes_init(&b);
    lc_bytes_init(&body);
    obs_prologue(&b, "k");
    if (meta)
        tc_metadata(&b, 4096, meta & 1, meta & 2);
    uint32_t vt = 0, at = 0;
    for (const char *c = script; *c; c++) {
        switch (*c) {
        case 'V':
            lc_bytes_reset(&body);
            tc_avc_body(&body, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
            tc_chunk(&b, 4096, 0, 6, vt, LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len, true);
            break;
        case 'A':
            lc_bytes_reset(&body);
            tc_aac_body(&body, 0, tc_asc_48k_stereo, 2);
            tc_chunk(&b, 4096, 0, 4, at, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
            break;
        case 'v':
            video_body(&body, vt % 2000 == 0, 0, 100);
            tc_chunk(&b, 4096, 0, 6, vt, LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len, true);
            vt += 40;
            break;
        case 'a':
            audio_body(&body, 50);
            tc_chunk(&b, 4096, 0, 4, at, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
            at += 20;
            break;
        }
    }
    assert_int_equal(feed(x, &b, 0), 0);
    lc_bytes_free(&body);
    lc_bytes_free(&b);
}

static char *repeat(const char *unit, int n)
{
    size_t len = strlen(unit);
    char *s = malloc(len * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + len * (size_t)i, unit, len);
    s[len * (size_t)n] = 0;
    return s;
}

static void test_start_with_metadata(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    run_script(&x, 3, "Vvvv"); /* both promised: video is held for the audio header */
    assert_int_equal(x.s->start_calls, 0);
    assert_int_equal(x.s->npackets, 0);
    session_close(&x);

    session_open(&x);
    run_script(&x, 3, "VvvvA"); /* ...which starts it, and the held frames follow */
    assert_int_equal(x.s->start_calls, 1);
    assert_non_null(x.s->video);
    assert_non_null(x.s->audio);
    assert_int_equal(tc_count(x.s, 0, false), 3);
    assert_int_equal(x.s->packets[0].dts, 0);
    assert_int_equal(x.s->packets[2].dts, 80);
    session_close(&x);

    session_open(&x);
    run_script(&x, 3, "AV");
    assert_int_equal(x.s->start_calls, 1);
    assert_int_equal(x.s->npackets, 0);
    session_close(&x);
}

/* Metadata sent as an AMF0 command message (some encoders) counts as metadata. */
static void test_metadata_as_command(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b, meta;
    lc_bytes_init(&b);
    lc_bytes_init(&meta);
    obs_prologue(&b, "k");
    tc_metadata(&meta, 4096, false, true);
    meta.data[7] = LC_RTMP_MSG_COMMAND_AMF0; /* the type byte of its type-0 header */
    tc_put(&b, meta.data, meta.len);
    lc_bytes_t body;
    lc_bytes_init(&body);
    tc_aac_body(&body, 0, tc_asc_48k_stereo, 2);
    tc_chunk(&b, 4096, 0, 4, 0, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(x.s->start_calls, 1); /* audio-only by metadata: no wait for video */
    assert_null(x.s->video);
    lc_bytes_free(&body);
    lc_bytes_free(&meta);
    lc_bytes_free(&b);
    session_close(&x);
}

/* Without metadata: both headers start it; a lone header waits for 1 s of its media. */
static void test_start_without_metadata(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    char *frames = repeat("v", 26); /* 0..1000 ms */
    char script[64];
    snprintf(script, sizeof script, "V%s", frames);
    run_script(&x, 0, script);
    assert_int_equal(x.s->start_calls, 1);
    assert_non_null(x.s->video);
    assert_null(x.s->audio);
    assert_int_equal(tc_count(x.s, 0, false), 26); /* the held packets, all written */
    assert_int_equal(x.s->packets[0].dts, 0);
    assert_int_equal(x.s->packets[25].dts, 1000);
    session_close(&x);
    free(frames);

    /* 960 ms of video is not enough */
    session_open(&x);
    frames = repeat("v", 25);
    snprintf(script, sizeof script, "V%s", frames);
    run_script(&x, 0, script);
    assert_int_equal(x.s->start_calls, 0);
    session_close(&x);
    free(frames);

    /* audio-only, without metadata */
    session_open(&x);
    frames = repeat("a", 51);
    snprintf(script, sizeof script, "A%s", frames);
    run_script(&x, 0, script);
    assert_int_equal(x.s->start_calls, 1);
    assert_null(x.s->video);
    assert_non_null(x.s->audio);
    assert_int_equal(tc_count(x.s, 1, false), 51);
    session_close(&x);
    free(frames);
}

/* Metadata promises audio that never comes: video starts alone after 1 s; late audio is dropped. */
static void test_promised_track_missing(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    char *frames = repeat("v", 30);
    char script[80];
    snprintf(script, sizeof script, "V%sAaa", frames);
    run_script(&x, 3, script);
    assert_int_equal(x.s->start_calls, 1);
    assert_null(x.s->audio);
    assert_int_equal(tc_count(x.s, 0, false), 30);
    assert_int_equal(tc_count(x.s, 1, false), 0);
    session_close(&x);
    free(frames);

    /* audio-only by metadata: starts on the AAC header alone */
    session_open(&x);
    run_script(&x, 2, "Aaaa");
    assert_int_equal(x.s->start_calls, 1);
    assert_null(x.s->video);
    assert_int_equal(tc_count(x.s, 1, false), 3);
    session_close(&x);

    /* frames before their sequence header are dropped, not held */
    session_open(&x);
    run_script(&x, 2, "aaAa");
    assert_int_equal(tc_count(x.s, 1, false), 1);
    session_close(&x);
}

/* Holding is bounded: many packets within less than 1 s start the stream anyway. */
static void test_hold_limit(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b, body;
    lc_bytes_init(&b);
    lc_bytes_init(&body);
    obs_prologue(&b, "k");
    tc_avc_body(&body, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
    tc_chunk(&b, 4096, 0, 6, 0, LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len, true);
    for (int i = 0; i < LC_RTMP_HOLD_MAX_PACKETS + 5; i++) {
        video_body(&body, i == 0, 0, 50);
        tc_chunk(&b, 4096, 0, 6, (uint32_t)i / 2, LC_RTMP_MSG_VIDEO, 1, body.data,
                 (uint32_t)body.len, true);
    }
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(x.s->start_calls, 1);
    assert_int_equal(tc_count(x.s, 0, false), LC_RTMP_HOLD_MAX_PACKETS + 5);
    check_monotonic(x.s, 0); /* equal timestamps made strictly increasing */
    lc_bytes_free(&body);
    lc_bytes_free(&b);
    session_close(&x);
}

static void test_timestamp_regressions(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b, body;
    lc_bytes_init(&b);
    lc_bytes_init(&body);
    obs_prologue(&b, "k");
    tc_metadata(&b, 4096, true, false);
    tc_avc_body(&body, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
    tc_chunk(&b, 4096, 0, 6, 0, LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len, true);
    /* 10 ms back (clamped to +1 ms), then 1070 ms back: a new timeline that continues from the
     * last timestamp plus the last usual step (50 ms) */
    const uint32_t sent[] = {1000, 1040, 1030, 1080, 10, 50, 90};
    const int64_t want[] = {1000, 1040, 1041, 1080, 1130, 1170, 1210};
    for (size_t i = 0; i < 7; i++) {
        video_body(&body, i == 0, 0, 50);
        tc_chunk(&b, 4096, 0, 6, sent[i], LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len,
                 true);
    }
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(tc_count(x.s, 0, false), 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(x.s->packets[i].dts, want[i]);
    lc_bytes_free(&body);
    lc_bytes_free(&b);
    session_close(&x);
}

/* A forward jump of more than LC_RTMP_TS_JUMP_MS is a new timeline, not a gap: like a large step
 * back, the track continues from its last timestamp plus its usual frame step, so that no packet
 * (and no segment downstream) lasts minutes. The first jump on a connection is logged, the
 * others are not. */
static void test_timestamp_jumps(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b, body;
    lc_bytes_init(&b);
    lc_bytes_init(&body);
    obs_prologue(&b, "k");
    tc_metadata(&b, 4096, true, true);
    tc_avc_body(&body, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
    tc_chunk(&b, 4096, 0, 6, 0, LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len, true);
    lc_bytes_reset(&body);
    tc_aac_body(&body, 0, tc_asc_48k_stereo, 2);
    tc_chunk(&b, 4096, 0, 4, 0, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
    /* video: +5 min (clamped), +10 s exactly (a gap: kept), +10.001 s (clamped) */
    const uint32_t vsent[] = {1000, 1040, 1080, 301080, 301120, 301160, 311160, 311200, 321201};
    const int64_t vwant[] = {1000, 1040, 1080, 1120, 1160, 1200, 11200, 11240, 11280};
    /* audio: a jump before any usual step is known continues +1 ms; a jump close to 2^31 ms */
    const uint32_t asent[] = {0, 700000, 700021, 700042, 0x80000000u};
    const int64_t awant[] = {0, 1, 22, 43, 64};
    for (size_t i = 0; i < sizeof vsent / sizeof vsent[0]; i++) {
        video_body(&body, i == 0, 0, 50);
        tc_chunk(&b, 4096, 0, 6, vsent[i], LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len,
                 true);
        if (i < sizeof asent / sizeof asent[0]) {
            audio_body(&body, 20);
            tc_chunk(&b, 4096, 0, 4, asent[i], LC_RTMP_MSG_AUDIO, 1, body.data,
                     (uint32_t)body.len, true);
        }
    }
    assert_int_equal(log_capture_start(), 0);
    int rc = feed(&x, &b, 0);
    char *log = log_capture_stop();
    assert_int_equal(rc, 0);
    assert_int_equal(x.s->start_calls, 1);
    int vi = 0, ai = 0;
    for (int i = 0; i < x.s->npackets; i++) {
        const tc_packet_t *p = &x.s->packets[i];
        if (p->stream_index == 0)
            assert_int_equal(p->dts, vwant[vi++]);
        else
            assert_int_equal(p->dts, awant[ai++]);
    }
    assert_int_equal(vi, sizeof vwant / sizeof vwant[0]);
    assert_int_equal(ai, sizeof awant / sizeof awant[0]);
    check_monotonic(x.s, 0);
    check_monotonic(x.s, 1);
    /* four jumps, one line */
    assert_non_null(log);
    assert_int_equal(log_lines(log, "timestamps jumped", NULL), 1);
    free(log);
    lc_bytes_free(&body);
    lc_bytes_free(&b);
    session_close(&x);
}

/* ---- refusals ------------------------------------------------------------------------------- */

static void publish_with(session_t *x, int sink_rc, const char *key, const char *want_code,
                         const char *want_desc)
{
    session_open(x);
    x->s->publish_rc = sink_rc;
    lc_bytes_t b;
    lc_bytes_init(&b);
    obs_prologue(&b, key);
    assert_int_equal(feed(x, &b, 0), 0);
    assert_int_equal(lc_rtmp_conn_state(x->c), LC_RTMP_CLOSING);
    int i = tc_find_command(&x->out, "onStatus", 0);
    assert_string_equal(tc_status_code(&x->out, i), want_code);
    const char *level = lc_amf_str(lc_amf_get(lc_amf_item(x->out.r[i].amf, 3), "level"), NULL);
    assert_string_equal(level, "error");
    const char *desc =
        lc_amf_str(lc_amf_get(lc_amf_item(x->out.r[i].amf, 3), "description"), NULL);
    assert_string_equal(desc, want_desc);
    /* input after the refusal is ignored */
    lc_bytes_reset(&b);
    tc_command(&b, 4096, 0, "createStream", 9, NULL);
    int before = x->out.n;
    assert_int_equal(feed(x, &b, 0), 0);
    assert_int_equal(x->out.n, before);
    lc_bytes_free(&b);
}

static void test_publish_refusals(void **state)
{
    (void)state;
    session_t x;
    publish_with(&x, LC_EDENIED, "wrong", "NetStream.Publish.BadName", "unknown stream key");
    assert_int_equal(x.s->publish_calls, 1);
    assert_int_equal(x.s->finish_calls, 0);
    session_close(&x);

    publish_with(&x, LC_ECONFLICT, "k", "NetStream.Publish.BadName", "already live");
    session_close(&x);

    publish_with(&x, -EIO, "k", "NetStream.Publish.Rejected", "internal error");
    session_close(&x);

    /* keys that are not keys never reach the sink */
    publish_with(&x, 0, "has space", "NetStream.Publish.BadName", "invalid stream key");
    assert_int_equal(x.s->publish_calls, 0);
    session_close(&x);
    char long_key[LC_RTMP_KEY_MAX + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    publish_with(&x, 0, long_key, "NetStream.Publish.BadName", "invalid stream key");
    assert_int_equal(x.s->publish_calls, 0);
    session_close(&x);
}

static void test_key_query_stripped(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    obs_prologue(&b, "abc123?token=xyz");
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_string_equal(x.s->key, "abc123");
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_PUBLISHING);
    lc_bytes_free(&b);
    session_close(&x);
}

/* How a publish ends: socket lost (free), server stop (end), presenter stop (commands). */
static void test_finish_outcomes(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    run_script(&x, 3, "AVvava");
    assert_int_equal(x.s->finish_calls, 0);
    tc_sink_t *s = x.s;
    lc_rtmp_conn_free(&x.c); /* the socket dropped */
    assert_int_equal(s->finish_calls, 1);
    assert_false(s->stopped);
    tc_out_free(&x.out);
    tc_sink_free(s);

    session_open(&x);
    run_script(&x, 3, "AVva");
    lc_rtmp_conn_end(x.c, true); /* server shutdown */
    assert_int_equal(x.s->finish_calls, 1);
    assert_true(x.s->stopped);
    lc_rtmp_conn_end(x.c, true); /* idempotent */
    assert_int_equal(x.s->finish_calls, 1);
    s = x.s;
    lc_rtmp_conn_free(&x.c);
    assert_int_equal(s->finish_calls, 1); /* nothing left to finish */
    tc_out_free(&x.out);
    tc_sink_free(s);

    /* stop, then publish again on the same connection */
    session_open(&x);
    run_script(&x, 3, "AVva");
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_command(&b, 4096, 1, "deleteStream", 8, NULL);
    tc_command(&b, 4096, 0, "createStream", 9, NULL);
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(x.s->finish_calls, 1);
    assert_true(x.s->stopped);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_CONNECTED);
    lc_bytes_reset(&b);
    lc_bytes_t p;
    lc_bytes_init(&p);
    lc_amf0_put_string(&p, "publish");
    lc_amf0_put_number(&p, 10);
    lc_amf0_put_null(&p);
    lc_amf0_put_string(&p, "k");
    tc_msg(&b, 4096, 8, LC_RTMP_MSG_COMMAND_AMF0, 2, 0, &p);
    lc_bytes_free(&p);
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(x.s->publish_calls, 2);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_PUBLISHING);
    lc_bytes_free(&b);
    session_close(&x);
    /* (session_close freed the conn: the second publish finished as lost) */
}

/* Each violation: an error from feed, state FAILED, and an attached publisher finishes as lost. */
static void expect_violation(const lc_bytes_t *after_publish, bool publish_first, int want_rc,
                             int want_finish)
{
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    if (publish_first) {
        obs_prologue(&b, "k");
    } else {
        tc_handshake(&b);
    }
    tc_put(&b, after_publish->data, after_publish->len);
    assert_int_equal(feed(&x, &b, 0), want_rc);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_FAILED);
    /* stays failed */
    assert_int_equal(lc_rtmp_conn_feed(x.c, b.data, 1), LC_EPROTO_RTMP);
    tc_sink_t *s = x.s;
    lc_rtmp_conn_free(&x.c);
    assert_int_equal(s->finish_calls, want_finish);
    if (want_finish)
        assert_false(s->stopped);
    tc_out_free(&x.out);
    tc_sink_free(s);
    lc_bytes_free(&b);
}

static void test_protocol_violations(void **state)
{
    (void)state;
    lc_bytes_t v;
    lc_bytes_init(&v);

    tc_command(&v, 128, 0, "createStream", 2, NULL); /* before connect */
    expect_violation(&v, false, LC_EPROTO_RTMP, 0);

    lc_bytes_reset(&v);
    for (int i = 0; i < 64; i++)
        tc_u8(&v, (uint8_t)(0x5A ^ i * 37)); /* garbage where chunks belong */
    expect_violation(&v, false, LC_EPROTO_RTMP, 0);

    lc_bytes_reset(&v);
    tc_connect(&v, 4096, "live"); /* a second connect */
    expect_violation(&v, true, LC_EPROTO_RTMP, 1);

    lc_bytes_reset(&v);
    tc_chunk(&v, 4096, 0, 3, 0, LC_RTMP_MSG_COMMAND_AMF3, 0, "\x01\x02", 2, true);
    expect_violation(&v, true, LC_EPROTO_RTMP, 1);

    lc_bytes_reset(&v);
    tc_chunk(&v, 4096, 0, 3, 0, LC_RTMP_MSG_COMMAND_AMF0, 0, "\x02\x00\x09" "conn", 7, true);
    expect_violation(&v, true, LC_EPROTO_RTMP, 1); /* truncated AMF */

    lc_bytes_reset(&v);
    tc_chunk(&v, 4096, 0, 3, 0, LC_RTMP_MSG_COMMAND_AMF0, 0, "\x05\x05", 2, true);
    expect_violation(&v, true, LC_EPROTO_RTMP, 1); /* no command name */

    lc_bytes_reset(&v);
    tc_command(&v, 4096, 1, "play", 8, "k");
    expect_violation(&v, true, LC_EPROTO_RTMP, 1);

    lc_bytes_reset(&v);
    tc_command(&v, 4096, 1, "publish", 8, "k2"); /* publish while publishing */
    expect_violation(&v, true, LC_EPROTO_RTMP, 1);

    lc_bytes_reset(&v);
    tc_chunk(&v, 4096, 0, 6, 0, LC_RTMP_MSG_AGGREGATE, 1, "\x09\x00\x00\x01", 4, true);
    expect_violation(&v, true, LC_EPROTO_RTMP, 1);

    lc_bytes_reset(&v);
    tc_chunk(&v, 4096, 0, 2, 0, LC_RTMP_MSG_USER_CONTROL, 0, "\x00", 1, true);
    expect_violation(&v, true, LC_EPROTO_RTMP, 1);

    lc_bytes_reset(&v);
    tc_set_chunk_size(&v, 4096, 0x7FFFFFFF);
    expect_violation(&v, true, LC_EPROTO_RTMP, 1);

    lc_bytes_free(&v);
}

/* Media refusals tell the client why (onStatus Rejected) before the connection closes. */
static void expect_media_refusal(const void *body, uint32_t len, uint8_t type, const char *needle)
{
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    obs_prologue(&b, "k");
    tc_chunk(&b, 4096, 0, 6, 0, type, 1, body, len, true);
    assert_int_equal(feed(&x, &b, 0), LC_EMEDIA);
    int i = tc_find_command(&x.out, "onStatus", 1);
    assert_string_equal(tc_status_code(&x.out, i), "NetStream.Publish.Rejected");
    const char *desc = lc_amf_str(lc_amf_get(lc_amf_item(x.out.r[i].amf, 3), "description"), NULL);
    assert_non_null(desc);
    if (!strstr(desc, needle)) {
        fprintf(stderr, "\"%s\" lacks \"%s\"\n", desc, needle);
        fail();
    }
    tc_sink_t *s = x.s;
    lc_rtmp_conn_free(&x.c);
    assert_int_equal(s->finish_calls, 1);
    assert_false(s->stopped);
    assert_int_equal(s->start_calls, 0);
    tc_out_free(&x.out);
    tc_sink_free(s);
    lc_bytes_free(&b);
}

static void test_media_refusals(void **state)
{
    (void)state;
    expect_media_refusal("\x90hvc1\x00\x00", 7, LC_RTMP_MSG_VIDEO, "Enhanced RTMP (FourCC 'hvc1')");
    expect_media_refusal("\x12\x00\x00\x00\x00", 5, LC_RTMP_MSG_VIDEO, "Sorenson H.263");
    expect_media_refusal("\x2F\xFF\xFB\x90", 4, LC_RTMP_MSG_AUDIO, "MP3");
    expect_media_refusal("\x17\x00\x00\x00\x00\x01\x64\x00\x0d\xff\xe1\x00\x40\x67", 14,
                         LC_RTMP_MSG_VIDEO, "AVC sequence header");
    expect_media_refusal("\xAF\x00\x16\x88", 4, LC_RTMP_MSG_AUDIO, "sample rate index 13");
}

/* A new, different sequence header after the start needs a new run; a repeated one is fine. */
static void test_sequence_header_change(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    run_script(&x, 3, "AVvaVva"); /* the same video header again */
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_PUBLISHING);
    assert_int_equal(tc_count(x.s, 0, false), 2);
    lc_bytes_t b, body;
    lc_bytes_init(&b);
    lc_bytes_init(&body);
    uint8_t other[sizeof tc_avcc_320x240];
    memcpy(other, tc_avcc_320x240, sizeof other);
    other[3] = 0x1f; /* another level */
    tc_avc_body(&body, true, 0, 0, other, sizeof other);
    tc_chunk(&b, 4096, 0, 6, 500, LC_RTMP_MSG_VIDEO, 1, body.data, (uint32_t)body.len, true);
    assert_int_equal(feed(&x, &b, 0), LC_EMEDIA);
    int i = tc_find_command(&x.out, "onStatus", 1);
    assert_string_equal(tc_status_code(&x.out, i), "NetStream.Publish.Rejected");
    lc_bytes_free(&body);
    lc_bytes_free(&b);
    session_close(&x);
}

static void test_sink_errors(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    x.s->start_rc = LC_EMEDIA;
    lc_bytes_t b;
    lc_bytes_init(&b);
    obs_prologue(&b, "k");
    tc_metadata(&b, 4096, false, true);
    lc_bytes_t body;
    lc_bytes_init(&body);
    tc_aac_body(&body, 0, tc_asc_48k_stereo, 2);
    tc_chunk(&b, 4096, 0, 4, 0, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
    assert_int_equal(feed(&x, &b, 0), LC_EMEDIA);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_FAILED);
    session_close(&x);

    session_open(&x);
    x.s->write_rc = LC_ELIMIT;
    audio_body(&body, 10);
    tc_chunk(&b, 4096, 0, 4, 20, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
    assert_int_equal(feed(&x, &b, 0), LC_ELIMIT);
    assert_int_equal(x.s->npackets, 1);
    session_close(&x);
    lc_bytes_free(&body);
    lc_bytes_free(&b);
}

/* ---- before the publish: a small budget -------------------------------------------------------- */

/* connect with a command object of about `size` bytes: app "live" and long URLs, like ffmpeg's
 * largest (tcUrl and app up to 1 KiB each, swfUrl, pageUrl, -rtmp_conn extras: a 5120-byte
 * packet at most). */
static void big_connect(lc_bytes_t *b, uint32_t chunk_size, size_t size)
{
    lc_bytes_t p;
    lc_bytes_init(&p);
    lc_amf0_put_string(&p, "connect");
    lc_amf0_put_number(&p, 1);
    lc_amf0_put_object_start(&p);
    lc_amf0_put_key(&p, "app");
    lc_amf0_put_string(&p, "live");
    lc_amf0_put_key(&p, "type");
    lc_amf0_put_string(&p, "nonprivate");
    lc_amf0_put_key(&p, "flashVer");
    lc_amf0_put_string(&p, "FMLE/3.0 (compatible; Lavf61.7.100)");
    const char *keys[] = {"tcUrl", "swfUrl", "pageUrl"};
    for (size_t k = 0; p.len + 20 < size; k++) {
        size_t n = size - p.len - 20;
        if (n > 1024)
            n = 1024;
        char *v = malloc(n + 1);
        memset(v, 'u', n);
        v[n] = 0;
        char extra[16];
        snprintf(extra, sizeof extra, "extra%zu", k);
        lc_amf0_put_key(&p, k < 3 ? keys[k] : extra);
        lc_amf0_put_string(&p, v);
        free(v);
    }
    lc_amf0_put_object_end(&p);
    assert_in_range(p.len, size - 20, size + 20);
    tc_msg(b, chunk_size, 3, LC_RTMP_MSG_COMMAND_AMF0, 0, 0, &p);
    lc_bytes_free(&p);
}

/* Feeds `b` without draining the output (a peer that does not read); expects a refusal. */
static void expect_preauth_refusal(const lc_bytes_t *b, bool drain)
{
    session_t x;
    session_open(&x);
    int rc = drain ? feed(&x, b, 0) : tc_feed(x.c, b, 0);
    assert_int_equal(rc, LC_EPROTO_RTMP);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_FAILED);
    assert_int_equal(x.s->publish_calls, 0);
    session_close(&x);
}

/* Until a publish is accepted the peer is a stranger: messages of at most
 * LC_RTMP_PREAUTH_MAX_MESSAGE bytes, LC_RTMP_PREAUTH_MAX_BUFFERED bytes of partial messages and
 * LC_RTMP_PREAUTH_OUTPUT_MAX bytes of unread output. After the publish, the full limits. */
static void test_preauth_budget(void **state)
{
    (void)state;
    lc_bytes_t b, p;
    lc_bytes_init(&b);
    lc_bytes_init(&p);

    /* the largest connect a real client sends fits, in one chunk or at chunk size 128 */
    const uint32_t sizes[] = {4096, 128};
    for (size_t k = 0; k < 2; k++) {
        session_t x;
        session_open(&x);
        lc_bytes_reset(&b);
        tc_handshake(&b);
        if (sizes[k] != 128)
            tc_set_chunk_size(&b, 128, sizes[k]);
        big_connect(&b, sizes[k], 5300);
        assert_true(b.len > 3073 + 5200);
        tc_publish_sequence(&b, sizes[k], "k");
        assert_int_equal(feed(&x, &b, 0), 0);
        assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_PUBLISHING);
        session_close(&x);
    }

    /* a connect of 9000 bytes */
    lc_bytes_reset(&b);
    tc_handshake(&b);
    tc_set_chunk_size(&b, 128, 4096);
    big_connect(&b, 4096, 9000);
    expect_preauth_refusal(&b, true);

    /* after connect, a 9000-byte releaseStream (only the header is needed to refuse it) */
    lc_bytes_reset(&b);
    tc_handshake(&b);
    tc_set_chunk_size(&b, 128, 65536);
    tc_connect(&b, 65536, "live");
    char *name = malloc(9001);
    memset(name, 'n', 9000);
    name[9000] = 0;
    tc_command(&b, 65536, 0, "releaseStream", 2, name);
    expect_preauth_refusal(&b, true);

    /* partial messages (each below the message limit) on many chunk streams: 9 x 8000 bytes of
     * messages of 8100 */
    lc_bytes_reset(&b);
    tc_handshake(&b);
    tc_set_chunk_size(&b, 128, 4000);
    tc_connect(&b, 4000, "live");
    for (uint32_t i = 0; i < 9; i++) {
        tc_basic(&b, 0, 10 + i);
        tc_be(&b, 0, 3);
        tc_be(&b, 8100, 3);
        tc_u8(&b, LC_RTMP_MSG_COMMAND_AMF0);
        tc_be(&b, 0, 4);
        tc_put(&b, name, 4000);
        tc_basic(&b, 3, 10 + i);
        tc_put(&b, name, 4000);
    }
    expect_preauth_refusal(&b, true);

    /* pings answered but never read: 1500 pongs of 18 bytes */
    lc_bytes_reset(&b);
    tc_handshake(&b);
    tc_connect(&b, 128, "live");
    for (int i = 0; i < 1500; i++)
        tc_chunk(&b, 128, 0, 2, 0, LC_RTMP_MSG_USER_CONTROL, 0, "\x00\x06\x00\x00\x00\x01", 6,
                 true);
    expect_preauth_refusal(&b, false);

    /* once publishing: a 1 MiB video message and 400 KiB of partial messages are fine */
    session_t x;
    session_open(&x);
    lc_bytes_reset(&b);
    obs_prologue(&b, "k");
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_PUBLISHING);
    lc_bytes_reset(&b);
    tc_metadata(&b, 4096, true, false);
    tc_avc_body(&p, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
    tc_chunk(&b, 4096, 0, 6, 0, LC_RTMP_MSG_VIDEO, 1, p.data, (uint32_t)p.len, true);
    video_body(&p, true, 0, 1u << 20);
    tc_chunk(&b, 4096, 0, 6, 40, LC_RTMP_MSG_VIDEO, 1, p.data, (uint32_t)p.len, true);
    for (uint32_t i = 0; i < 4; i++) {
        tc_basic(&b, 0, 20 + i);
        tc_be(&b, 0, 3);
        tc_be(&b, 200000, 3);
        tc_u8(&b, LC_RTMP_MSG_VIDEO);
        tc_be(&b, 1, 4);
        tc_put(&b, p.data, 4096);
        for (int k = 0; k < 24; k++) {
            tc_basic(&b, 3, 20 + i);
            tc_put(&b, p.data, 4096);
        }
    }
    assert_int_equal(feed(&x, &b, 0), 0);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_PUBLISHING);
    assert_int_equal(tc_count(x.s, 0, false), 1);
    assert_int_equal(x.s->packets[0].size, (1 << 20) - 5);
    session_close(&x);

    free(name);
    lc_bytes_free(&p);
    lc_bytes_free(&b);
}

/* ---- keep-alive ----------------------------------------------------------------------------- */

static void test_ping(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    obs_prologue(&b, "k");
    tc_chunk(&b, 4096, 0, 2, 0, LC_RTMP_MSG_USER_CONTROL, 0, "\x00\x06\xDE\xAD\xBE\xEF", 6, true);
    tc_chunk(&b, 4096, 0, 2, 0, LC_RTMP_MSG_USER_CONTROL, 0,
             "\x00\x03\x00\x00\x00\x01\x00\x00\x0b\xb8", 10, true); /* SetBufferLength */
    assert_int_equal(feed(&x, &b, 0), 0);
    int i = tc_find_type(&x.out, LC_RTMP_MSG_USER_CONTROL, 1); /* [0] is StreamBegin */
    assert_true(i >= 0);
    assert_int_equal(x.out.r[i].len, 6);
    assert_memory_equal(x.out.r[i].data, "\x00\x07\xDE\xAD\xBE\xEF", 6);
    assert_int_equal(tc_find_type(&x.out, LC_RTMP_MSG_USER_CONTROL, 2), -1);
    lc_bytes_free(&b);
    session_close(&x);
}

static uint32_t ack_seq(const tc_server_out_t *o, int nth)
{
    int i = tc_find_type(o, LC_RTMP_MSG_ACK, nth);
    if (i < 0)
        return 0;
    const uint8_t *d = o->r[i].data;
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

static void test_acknowledgements(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    obs_prologue(&b, "k");
    tc_chunk(&b, 4096, 0, 2, 0, LC_RTMP_MSG_WINDOW_ACK_SIZE, 0, "\x00\x00\x13\x88", 4, true);
    assert_int_equal(feed(&x, &b, 0), 0);
    uint64_t rx = b.len, acked = 0;
    uint32_t want[64];
    int nwant = 0;
    if (rx - acked >= 5000) {
        want[nwant++] = (uint32_t)rx;
        acked = rx;
    }
    lc_bytes_reset(&b);
    tc_metadata(&b, 4096, false, true);
    lc_bytes_t body;
    lc_bytes_init(&body);
    tc_aac_body(&body, 0, tc_asc_48k_stereo, 2);
    tc_chunk(&b, 4096, 0, 4, 0, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
    for (int i = 0; i < 60; i++) {
        audio_body(&body, 300);
        tc_chunk(&b, 4096, 1, 4, 21, LC_RTMP_MSG_AUDIO, 1, body.data, (uint32_t)body.len, true);
    }
    /* in 1000-byte reads: an Ack after each read that completes a window (5000 bytes) */
    assert_int_equal(feed(&x, &b, 1000), 0);
    for (size_t off = 0; off < b.len; off += 1000) {
        rx += b.len - off < 1000 ? b.len - off : 1000;
        if (rx - acked >= 5000) {
            want[nwant++] = (uint32_t)rx;
            acked = rx;
        }
    }
    assert_true(nwant >= 3);
    for (int i = 0; i < nwant; i++)
        assert_int_equal(ack_seq(&x.out, i), want[i]);
    assert_int_equal(tc_find_type(&x.out, LC_RTMP_MSG_ACK, nwant), -1);
    lc_bytes_free(&body);
    lc_bytes_free(&b);
    session_close(&x);

    /* a tiny window is raised to LC_RTMP_MIN_ACK_WINDOW: no Ack per byte */
    session_open(&x);
    lc_bytes_init(&b);
    obs_prologue(&b, "k");
    tc_chunk(&b, 4096, 0, 2, 0, LC_RTMP_MSG_WINDOW_ACK_SIZE, 0, "\x00\x00\x00\x01", 4, true);
    assert_int_equal(feed(&x, &b, 1), 0);
    int acks = 0;
    while (tc_find_type(&x.out, LC_RTMP_MSG_ACK, acks) >= 0)
        acks++;
    assert_true(acks <= (int)(b.len / LC_RTMP_MIN_ACK_WINDOW) + 1);
    lc_bytes_free(&b);
    session_close(&x);
}

/* A peer that sends pings but never reads is dropped once our answers pile up. */
static void test_output_backlog(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    obs_prologue(&b, "k");
    assert_int_equal(feed(&x, &b, 0), 0);
    lc_bytes_reset(&b);
    for (int i = 0; i < 70000; i++)
        tc_chunk(&b, 4096, 0, 2, 0, LC_RTMP_MSG_USER_CONTROL, 0, "\x00\x06\x00\x00\x00\x01", 6,
                 true);
    /* never drained: the peer "does not read" */
    assert_int_equal(tc_feed(x.c, &b, 0), LC_EPROTO_RTMP);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_FAILED);
    lc_bytes_free(&b);
    lc_rtmp_conn_free(&x.c);
    tc_out_free(&x.out);
    tc_sink_free(x.s);
}

static void test_handshake_refused(void **state)
{
    (void)state;
    session_t x;
    session_open(&x);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_put(&b, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_int_equal(feed(&x, &b, 0), LC_EPROTO_RTMP);
    assert_int_equal(lc_rtmp_conn_state(x.c), LC_RTMP_FAILED);
    size_t len;
    assert_null(lc_rtmp_conn_output(x.c, &len));
    assert_int_equal(len, 0);
    assert_string_equal(lc_rtmp_state_name(lc_rtmp_conn_state(x.c)), "FAILED");
    lc_bytes_free(&b);
    session_close(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_obs_session),
        cmocka_unit_test(test_obs_session_any_split),
        cmocka_unit_test(test_ffmpeg_session_wrap),
        cmocka_unit_test(test_start_with_metadata),
        cmocka_unit_test(test_metadata_as_command),
        cmocka_unit_test(test_start_without_metadata),
        cmocka_unit_test(test_promised_track_missing),
        cmocka_unit_test(test_hold_limit),
        cmocka_unit_test(test_timestamp_regressions),
        cmocka_unit_test_teardown(test_timestamp_jumps, log_capture_teardown),
        cmocka_unit_test(test_publish_refusals),
        cmocka_unit_test(test_key_query_stripped),
        cmocka_unit_test(test_finish_outcomes),
        cmocka_unit_test(test_protocol_violations),
        cmocka_unit_test(test_media_refusals),
        cmocka_unit_test(test_sequence_header_change),
        cmocka_unit_test(test_sink_errors),
        cmocka_unit_test(test_preauth_budget),
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_acknowledgements),
        cmocka_unit_test(test_output_backlog),
        cmocka_unit_test(test_handshake_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
