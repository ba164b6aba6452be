/* Shared by the RTMP unit tests (not a test itself): a scripted RTMP client that writes chunks
 * with any header type (the way ffmpeg or librtmp/OBS would), real codec configuration bytes, and
 * a sink that records what a connection did. Include after <cmocka.h>. */
#ifndef LC_TEST_RTMP_CLIENT_H
#define LC_TEST_RTMP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>

#include "core/buf.h"
#include "core/error.h"
#include "ingest/amf0.h"
#include "ingest/chunk.h"
#include "ingest/rtmp_conn.h"

#define TC_FN static __attribute__((unused))

/* x264, 320x240 High profile, as ffmpeg puts it in the FLV AVC sequence header. */
__attribute__((unused)) static const uint8_t tc_avcc_320x240[] = {
    0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41,
    0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1,
    0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8,
    0x00};
/* ffmpeg's AAC-LC, 44.1 kHz mono, with the implicit-SBR sync extension it appends. */
__attribute__((unused)) static const uint8_t tc_asc_44k_mono[] = {0x12, 0x08, 0x56, 0xe5, 0x00};
/* AAC-LC 48 kHz stereo, as OBS sends it. */
__attribute__((unused)) static const uint8_t tc_asc_48k_stereo[] = {0x11, 0x90};

/* ---- writing chunks ------------------------------------------------------------------------ */

TC_FN void tc_put(lc_bytes_t *b, const void *p, size_t n)
{
    assert_int_equal(lc_bytes_append(b, p, n), 0);
}
TC_FN void tc_u8(lc_bytes_t *b, uint8_t v) { tc_put(b, &v, 1); }
TC_FN void tc_be(lc_bytes_t *b, uint32_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        tc_u8(b, (uint8_t)(v >> (8 * i)));
}

TC_FN void tc_basic(lc_bytes_t *b, unsigned fmt, uint32_t csid)
{
    if (csid < 64) {
        tc_u8(b, (uint8_t)(fmt << 6 | csid));
    } else if (csid < 320) {
        tc_u8(b, (uint8_t)(fmt << 6));
        tc_u8(b, (uint8_t)(csid - 64));
    } else {
        tc_u8(b, (uint8_t)(fmt << 6 | 1));
        tc_u8(b, (uint8_t)((csid - 64) & 0xff));
        tc_u8(b, (uint8_t)((csid - 64) >> 8));
    }
}

/* One message whose first chunk has header type `fmt`. `t` is the absolute timestamp (fmt 0) or
 * the delta (fmt 1, 2; for fmt 3 it only matters as the extended value). Continuation chunks are
 * type 3; `repeat_ext` writes the extended timestamp after every type-3 header (ffmpeg) or not
 * (librtmp). */
TC_FN void tc_chunk(lc_bytes_t *b, uint32_t chunk_size, unsigned fmt, uint32_t csid, uint32_t t,
                    uint8_t type, uint32_t sid, const void *payload, uint32_t len, bool repeat_ext)
{
    bool ext = t >= 0xFFFFFF;
    tc_basic(b, fmt, csid);
    if (fmt < 3)
        tc_be(b, ext ? 0xFFFFFF : t, 3);
    if (fmt < 2) {
        tc_be(b, len, 3);
        tc_u8(b, type);
    }
    if (fmt == 0)
        for (int i = 0; i < 4; i++)
            tc_u8(b, (uint8_t)(sid >> (8 * i)));
    if (ext && (fmt < 3 || repeat_ext))
        tc_be(b, t, 4);
    const uint8_t *p = payload;
    uint32_t off = 0;
    for (;;) {
        uint32_t take = len - off < chunk_size ? len - off : chunk_size;
        tc_put(b, p + off, take);
        off += take;
        if (off >= len)
            break;
        tc_basic(b, 3, csid);
        if (ext && repeat_ext)
            tc_be(b, t, 4);
    }
}

/* A whole message with a type-0 header (what both clients use for commands). */
TC_FN void tc_msg(lc_bytes_t *b, uint32_t chunk_size, uint32_t csid, uint8_t type, uint32_t sid,
                  uint32_t ts, const lc_bytes_t *payload)
{
    tc_chunk(b, chunk_size, 0, csid, ts, type, sid, payload->data, (uint32_t)payload->len, true);
}

TC_FN void tc_handshake(lc_bytes_t *b)
{
    tc_u8(b, 3);
    for (int i = 0; i < 1536; i++)
        tc_u8(b, (uint8_t)(i < 8 ? 0 : i * 7));
    for (int i = 0; i < 1536; i++)
        tc_u8(b, (uint8_t)(i * 13));
}

TC_FN void tc_set_chunk_size(lc_bytes_t *b, uint32_t cur, uint32_t size)
{
    lc_bytes_t p;
    lc_bytes_init(&p);
    tc_be(&p, size, 4);
    tc_msg(b, cur, 2, LC_RTMP_MSG_SET_CHUNK_SIZE, 0, 0, &p);
    lc_bytes_free(&p);
}

/* ["name", txn, null, (string arg)?] on chunk stream 3 (stream id `sid`). */
TC_FN void tc_command(lc_bytes_t *b, uint32_t chunk_size, uint32_t sid, const char *name,
                      double txn, const char *arg)
{
    lc_bytes_t p;
    lc_bytes_init(&p);
    lc_amf0_put_string(&p, name);
    lc_amf0_put_number(&p, txn);
    lc_amf0_put_null(&p);
    if (arg)
        lc_amf0_put_string(&p, arg);
    tc_msg(b, chunk_size, sid ? 8 : 3, LC_RTMP_MSG_COMMAND_AMF0, sid, 0, &p);
    lc_bytes_free(&p);
}

TC_FN void tc_connect(lc_bytes_t *b, uint32_t chunk_size, const char *app)
{
    lc_bytes_t p;
    lc_bytes_init(&p);
    lc_amf0_put_string(&p, "connect");
    lc_amf0_put_number(&p, 1);
    lc_amf0_put_object_start(&p);
    lc_amf0_put_key(&p, "app");
    lc_amf0_put_string(&p, app);
    lc_amf0_put_key(&p, "type");
    lc_amf0_put_string(&p, "nonprivate");
    lc_amf0_put_key(&p, "flashVer");
    lc_amf0_put_string(&p, "FMLE/3.0 (compatible; FMSc/1.0)");
    lc_amf0_put_key(&p, "tcUrl");
    lc_amf0_put_string(&p, "rtmp://127.0.0.1:1935/live");
    lc_amf0_put_object_end(&p);
    tc_msg(b, chunk_size, 3, LC_RTMP_MSG_COMMAND_AMF0, 0, 0, &p);
    lc_bytes_free(&p);
}

/* releaseStream, FCPublish, createStream, back to back as OBS and ffmpeg send them, then
 * publish on stream 1. */
TC_FN void tc_publish_sequence(lc_bytes_t *b, uint32_t chunk_size, const char *key)
{
    tc_command(b, chunk_size, 0, "releaseStream", 2, key);
    tc_command(b, chunk_size, 0, "FCPublish", 3, key);
    tc_command(b, chunk_size, 0, "createStream", 4, NULL);
    lc_bytes_t p;
    lc_bytes_init(&p);
    lc_amf0_put_string(&p, "publish");
    lc_amf0_put_number(&p, 5);
    lc_amf0_put_null(&p);
    lc_amf0_put_string(&p, key);
    lc_amf0_put_string(&p, "live");
    tc_msg(b, chunk_size, 8, LC_RTMP_MSG_COMMAND_AMF0, 1, 0, &p);
    lc_bytes_free(&p);
}

/* @setDataFrame onMetaData {videocodecid: 7?, audiocodecid: 10?} */
TC_FN void tc_metadata(lc_bytes_t *b, uint32_t chunk_size, bool video, bool audio)
{
    lc_bytes_t p;
    lc_bytes_init(&p);
    lc_amf0_put_string(&p, "@setDataFrame");
    lc_amf0_put_string(&p, "onMetaData");
    lc_amf0_put_ecma_start(&p, 3);
    lc_amf0_put_key(&p, "duration");
    lc_amf0_put_number(&p, 0);
    if (video) {
        lc_amf0_put_key(&p, "videocodecid");
        lc_amf0_put_number(&p, 7);
    }
    if (audio) {
        lc_amf0_put_key(&p, "audiocodecid");
        lc_amf0_put_number(&p, 10);
    }
    lc_amf0_put_object_end(&p);
    tc_msg(b, chunk_size, 4, LC_RTMP_MSG_DATA_AMF0, 1, 0, &p);
    lc_bytes_free(&p);
}

/* FLV bodies. */
TC_FN void tc_avc_body(lc_bytes_t *p, bool key, unsigned pkt_type, int32_t cts, const void *data,
                       size_t len)
{
    tc_u8(p, key ? 0x17 : 0x27);
    tc_u8(p, (uint8_t)pkt_type);
    tc_be(p, (uint32_t)cts & 0xFFFFFF, 3);
    tc_put(p, data, len);
}

/* A coded frame of one fake NAL unit (AVCC, 4-byte length) of `nal_len` bytes. */
TC_FN void tc_avc_frame_body(lc_bytes_t *p, bool key, int32_t cts, size_t nal_len)
{
    tc_u8(p, key ? 0x17 : 0x27);
    tc_u8(p, 1);
    tc_be(p, (uint32_t)cts & 0xFFFFFF, 3);
    tc_be(p, (uint32_t)nal_len, 4);
    for (size_t i = 0; i < nal_len; i++)
        tc_u8(p, i == 0 ? (key ? 0x65 : 0x41) : (uint8_t)(i * 31 + 7));
}

TC_FN void tc_aac_body(lc_bytes_t *p, unsigned pkt_type, const void *data, size_t len)
{
    tc_u8(p, 0xAF);
    tc_u8(p, (uint8_t)pkt_type);
    tc_put(p, data, len);
}

/* ---- a sink that records ------------------------------------------------------------------- */

#define TC_MAX_PACKETS 4096

typedef struct {
    int stream_index;
    int64_t dts, pts;
    int flags;
    int size;
    uint8_t first_byte;
} tc_packet_t;

typedef struct {
    int publish_calls, start_calls, finish_calls;
    int publish_rc, start_rc, write_rc; /* what the sink answers */
    char app[LC_RTMP_APP_MAX + 1];
    char key[LC_RTMP_KEY_MAX + 1];
    AVCodecParameters *video, *audio; /* copies from start */
    bool stopped;
    int npackets;
    tc_packet_t packets[TC_MAX_PACKETS];
} tc_sink_t;

TC_FN int tc_sink_publish(void *o, const char *app, const char *key)
{
    tc_sink_t *s = o;
    s->publish_calls++;
    snprintf(s->app, sizeof s->app, "%s", app);
    snprintf(s->key, sizeof s->key, "%s", key);
    return s->publish_rc;
}

TC_FN int tc_sink_start(void *o, const AVCodecParameters *v, const AVCodecParameters *a)
{
    tc_sink_t *s = o;
    s->start_calls++;
    assert_true(v || a);
    avcodec_parameters_free(&s->video); /* a second publish on the connection */
    avcodec_parameters_free(&s->audio);
    if (v) {
        s->video = avcodec_parameters_alloc();
        assert_int_equal(avcodec_parameters_copy(s->video, v), 0);
    }
    if (a) {
        s->audio = avcodec_parameters_alloc();
        assert_int_equal(avcodec_parameters_copy(s->audio, a), 0);
    }
    return s->start_rc;
}

TC_FN int tc_sink_write(void *o, const AVPacket *pkt)
{
    tc_sink_t *s = o;
    assert_true(s->start_calls >= 1); /* never a packet before the track set */
    if (s->npackets < TC_MAX_PACKETS) {
        tc_packet_t *t = &s->packets[s->npackets++];
        t->stream_index = pkt->stream_index;
        t->dts = pkt->dts;
        t->pts = pkt->pts;
        t->flags = pkt->flags;
        t->size = pkt->size;
        t->first_byte = pkt->size ? pkt->data[0] : 0;
    }
    return s->write_rc;
}

TC_FN void tc_sink_finish(void *o, bool stopped)
{
    tc_sink_t *s = o;
    s->finish_calls++;
    s->stopped = stopped;
}

TC_FN tc_sink_t *tc_sink_new(void)
{
    tc_sink_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    return s;
}

TC_FN void tc_sink_free(tc_sink_t *s)
{
    avcodec_parameters_free(&s->video);
    avcodec_parameters_free(&s->audio);
    free(s);
}

TC_FN lc_rtmp_conn_t *tc_conn_new(tc_sink_t *s)
{
    lc_rtmp_sink_t sink = {.publish = tc_sink_publish,
                           .start = tc_sink_start,
                           .write = tc_sink_write,
                           .finish = tc_sink_finish,
                           .opaque = s};
    lc_rtmp_conn_t *c = lc_rtmp_conn_new(&sink, 1);
    assert_non_null(c);
    return c;
}

/* Packets of one stream in the recording. */
TC_FN int tc_count(const tc_sink_t *s, int stream_index, bool keys_only)
{
    int n = 0;
    for (int i = 0; i < s->npackets; i++)
        if (s->packets[i].stream_index == stream_index &&
            (!keys_only || (s->packets[i].flags & AV_PKT_FLAG_KEY)))
            n++;
    return n;
}

/* ---- reading what the server sent ----------------------------------------------------------- */

#define TC_MAX_REPLIES 64

typedef struct {
    uint8_t type;
    uint32_t csid, stream_id;
    uint32_t len;
    uint8_t data[64];   /* first bytes, for control messages */
    lc_amf_t *amf;      /* decoded commands */
} tc_reply_t;

typedef struct {
    lc_chunk_reader_t *rd;
    bool handshake_done;
    size_t handshake_left;
    int n;
    tc_reply_t r[TC_MAX_REPLIES];
} tc_server_out_t;

TC_FN void tc_out_init(tc_server_out_t *o)
{
    memset(o, 0, sizeof *o);
    o->rd = lc_chunk_reader_new();
    assert_non_null(o->rd);
    o->handshake_left = 1 + 1536 + 1536;
}

TC_FN void tc_out_free(tc_server_out_t *o)
{
    for (int i = 0; i < o->n; i++)
        lc_amf_free(&o->r[i].amf);
    lc_chunk_reader_free(&o->rd);
}

/* Takes everything the conn queued and parses it as a client would. */
TC_FN void tc_out_drain(tc_server_out_t *o, lc_rtmp_conn_t *c)
{
    size_t len;
    const uint8_t *p = lc_rtmp_conn_output(c, &len);
    if (!p)
        return;
    size_t off = 0;
    if (o->handshake_left) {
        size_t n = len < o->handshake_left ? len : o->handshake_left;
        o->handshake_left -= n;
        off = n;
    }
    while (off < len) {
        lc_rtmp_msg_t m;
        size_t used;
        lc_why_t why;
        int rc = lc_chunk_reader_feed(o->rd, p + off, len - off, &used, &m, &why);
        assert_true(rc >= 0);
        off += used;
        if (rc == 0)
            break;
        assert_true(o->n < TC_MAX_REPLIES);
        tc_reply_t *r = &o->r[o->n++];
        r->type = m.type;
        r->csid = m.csid;
        r->stream_id = m.stream_id;
        r->len = m.len;
        memcpy(r->data, m.data, m.len < sizeof r->data ? m.len : sizeof r->data);
        if (m.type == LC_RTMP_MSG_COMMAND_AMF0)
            assert_int_equal(lc_amf0_decode_all(m.data, m.len, &r->amf, &why), 0);
    }
    lc_rtmp_conn_output_sent(c, len);
}

/* The index of the n-th (0-based) command reply called `name`, or -1. */
TC_FN int tc_find_command(const tc_server_out_t *o, const char *name, int nth)
{
    for (int i = 0; i < o->n; i++) {
        const char *s = lc_amf_str(lc_amf_item(o->r[i].amf, 0), NULL);
        if (s && strcmp(s, name) == 0 && nth-- == 0)
            return i;
    }
    return -1;
}

/* The `code` of the status object in reply i (item 3), or "". */
TC_FN const char *tc_status_code(const tc_server_out_t *o, int i)
{
    if (i < 0)
        return "";
    const char *s = lc_amf_str(lc_amf_get(lc_amf_item(o->r[i].amf, 3), "code"), NULL);
    return s ? s : "";
}

TC_FN int tc_find_type(const tc_server_out_t *o, uint8_t type, int nth)
{
    for (int i = 0; i < o->n; i++)
        if (o->r[i].type == type && nth-- == 0)
            return i;
    return -1;
}

/* Feeds `b` to the conn `step` bytes at a time (0: all at once); returns the first error. */
TC_FN int tc_feed(lc_rtmp_conn_t *c, const lc_bytes_t *b, size_t step)
{
    if (step == 0)
        step = b->len ? b->len : 1;
    for (size_t off = 0; off < b->len; off += step) {
        size_t n = b->len - off < step ? b->len - off : step;
        int rc = lc_rtmp_conn_feed(c, b->data + off, n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

#endif
