/* One RTMP connection: handshake, chunk stream, commands, metadata, media → sink. */
#include "ingest/rtmp_conn.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "ingest/amf0.h"
#include "ingest/chunk.h"
#include "ingest/flv.h"
#include "ingest/handshake.h"

#define TAG "rtmp"

enum { CSID_CONTROL = 2, CSID_COMMAND = 3, CSID_STATUS = 5 };
enum { UC_STREAM_BEGIN = 0, UC_PING_REQUEST = 6, UC_PING_RESPONSE = 7 };
#define MAX_STREAM_IDS 16 /* createStream calls per connection */

/* Unwraps one track's 32-bit RTMP timestamps into strictly increasing 64-bit milliseconds. */
typedef struct {
    bool init;
    uint32_t last_raw;
    int64_t unwrapped; /* the peer's timeline, unwrapped */
    int64_t offset;    /* added after large steps (a new timeline) */
    int64_t last_dts;
    int64_t usual_step; /* the last ordinary step (0 < step <= LC_RTMP_TS_REBASE_MS), or 0 */
    bool warned;
} ts_track_t;

/* What one kind of media (video, audio) has brought so far in this publish. */
typedef struct {
    const char *name;
    int stream_index;
    bool expected;           /* onMetaData announced it */
    AVCodecParameters *par;  /* from its sequence header */
    bool declared;           /* part of the started track set */
    ts_track_t ts;
    int64_t held_first, held_last; /* dts range of held packets */
    bool has_held;
    bool warned_drop;
} track_t;

struct lc_rtmp_conn {
    uint64_t id;
    lc_rtmp_sink_t sink;
    lc_rtmp_state_t state;
    lc_handshake_t hs;
    lc_chunk_reader_t *rd;
    lc_bytes_t out;
    size_t out_sent; /* bytes of `out` already sent */
    uint32_t out_chunk_size;
    size_t out_max; /* unsent bytes allowed: small until the publish (see the header) */
    uint64_t rx_bytes, acked_at;
    uint32_t ack_window;
    char app[LC_RTMP_APP_MAX + 1];
    uint32_t streams_created;
    uint32_t publish_stream_id;
    bool attached, started, has_published, meta_seen;
    bool warned_jump; /* a new timeline was logged (once per connection) */
    track_t video, audio;
    AVPacket **held;
    size_t held_count;
    size_t held_bytes;
};

const char *lc_rtmp_state_name(lc_rtmp_state_t s)
{
    switch (s) {
    case LC_RTMP_HANDSHAKE: return "HANDSHAKE";
    case LC_RTMP_WAIT_CONNECT: return "WAIT_CONNECT";
    case LC_RTMP_CONNECTED: return "CONNECTED";
    case LC_RTMP_PUBLISHING: return "PUBLISHING";
    case LC_RTMP_CLOSING: return "CLOSING";
    case LC_RTMP_FAILED: return "FAILED";
    }
    return "?";
}

/* ---- failure and output ---------------------------------------------------------------------- */

/* The one log line of a connection that broke the protocol (or whose media was refused). */
static int fail(lc_rtmp_conn_t *c, int code, const lc_why_t *why)
{
    if (c->state != LC_RTMP_FAILED) {
        LC_WARN(TAG, "conn %" PRIu64 ": %s", c->id, why->text);
        c->state = LC_RTMP_FAILED;
    }
    return code;
}

static int send_msg(lc_rtmp_conn_t *c, uint32_t csid, uint8_t type, uint32_t stream_id,
                    const void *payload, size_t len)
{
    return lc_chunk_write(&c->out, c->out_chunk_size, csid, type, stream_id, 0, payload, len);
}

static int send_u32(lc_rtmp_conn_t *c, uint8_t type, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return send_msg(c, CSID_CONTROL, type, 0, p, sizeof p);
}

static int send_user_control(lc_rtmp_conn_t *c, uint16_t event, uint32_t v)
{
    uint8_t p[6] = {(uint8_t)(event >> 8), (uint8_t)event, (uint8_t)(v >> 24),
                    (uint8_t)(v >> 16),    (uint8_t)(v >> 8), (uint8_t)v};
    return send_msg(c, CSID_CONTROL, LC_RTMP_MSG_USER_CONTROL, 0, p, sizeof p);
}

/* Sends an AMF0 command built in `b` (freed here). */
static int send_amf(lc_rtmp_conn_t *c, uint32_t csid, uint32_t stream_id, lc_bytes_t *b)
{
    int rc = b->failed ? -ENOMEM : send_msg(c, csid, LC_RTMP_MSG_COMMAND_AMF0, stream_id, b->data,
                                            b->len);
    lc_bytes_free(b);
    return rc;
}

static void put_status(lc_bytes_t *b, const char *level, const char *code, const char *desc)
{
    lc_amf0_put_object_start(b);
    lc_amf0_put_key(b, "level");
    lc_amf0_put_string(b, level);
    lc_amf0_put_key(b, "code");
    lc_amf0_put_string(b, code);
    lc_amf0_put_key(b, "description");
    lc_amf0_put_string(b, desc);
    lc_amf0_put_object_end(b);
}

/* ["_result", txn, null, <value>]: the shape ffmpeg reads createStream's stream id from. */
static int send_simple_result(lc_rtmp_conn_t *c, double txn, bool with_number, double number)
{
    lc_bytes_t b;
    lc_bytes_init(&b);
    lc_amf0_put_string(&b, "_result");
    lc_amf0_put_number(&b, txn);
    lc_amf0_put_null(&b);
    if (with_number)
        lc_amf0_put_number(&b, number);
    else
        lc_amf0_put_undefined(&b);
    return send_amf(c, CSID_COMMAND, 0, &b);
}

static int send_on_status(lc_rtmp_conn_t *c, const char *level, const char *code,
                          const char *desc)
{
    lc_bytes_t b;
    lc_bytes_init(&b);
    lc_amf0_put_string(&b, "onStatus");
    lc_amf0_put_number(&b, 0);
    lc_amf0_put_null(&b);
    put_status(&b, level, code, desc);
    return send_amf(c, CSID_STATUS, c->publish_stream_id, &b);
}

/* Refuses the published media: tells the client why (OBS and ffmpeg show it), then fails. */
static int refuse_media(lc_rtmp_conn_t *c, int code, const lc_why_t *why)
{
    send_on_status(c, "error", "NetStream.Publish.Rejected", why->text);
    return fail(c, code, why);
}

const uint8_t *lc_rtmp_conn_output(const lc_rtmp_conn_t *c, size_t *len)
{
    *len = c->out.len - c->out_sent;
    return *len ? c->out.data + c->out_sent : NULL;
}

void lc_rtmp_conn_output_sent(lc_rtmp_conn_t *c, size_t n)
{
    c->out_sent += n;
    if (c->out_sent >= c->out.len) {
        c->out_sent = 0;
        lc_bytes_reset(&c->out);
    } else if (c->out_sent >= 4096 && c->out_sent >= c->out.len / 2) {
        /* A peer that reads steadily but never quite catches up would otherwise grow the buffer
         * without bound while the unsent part stays under the limit. */
        memmove(c->out.data, c->out.data + c->out_sent, c->out.len - c->out_sent);
        c->out.len -= c->out_sent;
        c->out_sent = 0;
    }
}

lc_rtmp_state_t lc_rtmp_conn_state(const lc_rtmp_conn_t *c) { return c->state; }
bool lc_rtmp_conn_has_published(const lc_rtmp_conn_t *c) { return c->has_published; }

/* ---- lifecycle ------------------------------------------------------------------------------ */

lc_rtmp_conn_t *lc_rtmp_conn_new(const lc_rtmp_sink_t *sink, uint64_t id)
{
    lc_rtmp_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rd = lc_chunk_reader_new();
    if (!c->rd) {
        free(c);
        return NULL;
    }
    lc_chunk_reader_set_limits(c->rd, LC_RTMP_PREAUTH_MAX_MESSAGE, LC_RTMP_PREAUTH_MAX_BUFFERED);
    c->out_max = LC_RTMP_PREAUTH_OUTPUT_MAX;
    uint64_t seed = id;
    if (lc_random_bytes(&seed, sizeof seed) < 0)
        seed = id * 0x9E3779B97F4A7C15ull;
    lc_handshake_init(&c->hs, seed);
    c->id = id;
    c->sink = *sink;
    c->state = LC_RTMP_HANDSHAKE;
    c->out_chunk_size = LC_CHUNK_DEFAULT_SIZE;
    c->ack_window = LC_RTMP_WINDOW_ACK_SIZE;
    c->video = (track_t){.name = "video", .stream_index = LC_RTMP_STREAM_VIDEO};
    c->audio = (track_t){.name = "audio", .stream_index = LC_RTMP_STREAM_AUDIO};
    lc_bytes_init(&c->out);
    return c;
}

static void reset_track(track_t *t)
{
    avcodec_parameters_free(&t->par);
    const char *name = t->name;
    int index = t->stream_index;
    *t = (track_t){.name = name, .stream_index = index};
}

static void drop_held(lc_rtmp_conn_t *c)
{
    for (size_t i = 0; i < c->held_count; i++)
        av_packet_free(&c->held[i]);
    c->held_count = 0;
    c->held_bytes = 0;
}

/* Forgets everything about the current publish's media. */
static void reset_media(lc_rtmp_conn_t *c)
{
    drop_held(c);
    reset_track(&c->video);
    reset_track(&c->audio);
    c->started = false;
    c->meta_seen = false;
}

void lc_rtmp_conn_end(lc_rtmp_conn_t *c, bool stopped)
{
    if (!c || !c->attached)
        return;
    c->attached = false;
    if (c->sink.finish)
        c->sink.finish(c->sink.opaque, stopped);
    reset_media(c);
    if (c->state == LC_RTMP_PUBLISHING)
        c->state = LC_RTMP_CONNECTED;
}

void lc_rtmp_conn_free(lc_rtmp_conn_t **pc)
{
    if (!pc || !*pc)
        return;
    lc_rtmp_conn_t *c = *pc;
    lc_rtmp_conn_end(c, false);
    reset_media(c);
    free(c->held);
    lc_chunk_reader_free(&c->rd);
    lc_bytes_free(&c->out);
    free(c);
    *pc = NULL;
}

/* ---- commands ------------------------------------------------------------------------------- */

static bool str_is(const lc_amf_t *v, const char *s)
{
    size_t len;
    const char *p = lc_amf_str(v, &len);
    return p && len == strlen(s) && memcmp(p, s, len) == 0;
}

/* Copies a peer-supplied name that must be printable ASCII without spaces. */
static bool copy_name(const lc_amf_t *v, char *dst, size_t max, size_t *out_len)
{
    size_t len;
    const char *p = lc_amf_str(v, &len);
    if (!p || len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7F)
            return false;
    memcpy(dst, p, len);
    dst[len] = 0;
    *out_len = len;
    return true;
}

static int cmd_connect(lc_rtmp_conn_t *c, double txn, const lc_amf_t *args, lc_why_t *why)
{
    const lc_amf_t *obj = lc_amf_item(args, 2);
    if (lc_amf_type(obj) != LC_AMF_OBJECT && lc_amf_type(obj) != LC_AMF_ECMA_ARRAY)
        return fail(c, lc_why(why, LC_EPROTO_RTMP, "connect: no command object"), why);
    size_t len;
    if (!copy_name(lc_amf_get(obj, "app"), c->app, LC_RTMP_APP_MAX, &len))
        return fail(c, lc_why(why, LC_EPROTO_RTMP, "connect: missing or invalid app name"), why);
    while (len > 1 && c->app[len - 1] == '/') /* "rtmp://host/live/" gives "live/" */
        c->app[--len] = 0;

    int rc = send_u32(c, LC_RTMP_MSG_WINDOW_ACK_SIZE, LC_RTMP_WINDOW_ACK_SIZE);
    if (rc == 0) {
        uint8_t bw[5] = {(uint8_t)(LC_RTMP_WINDOW_ACK_SIZE >> 24),
                         (uint8_t)(LC_RTMP_WINDOW_ACK_SIZE >> 16),
                         (uint8_t)(LC_RTMP_WINDOW_ACK_SIZE >> 8), (uint8_t)LC_RTMP_WINDOW_ACK_SIZE,
                         2 /* dynamic */};
        rc = send_msg(c, CSID_CONTROL, LC_RTMP_MSG_SET_PEER_BW, 0, bw, sizeof bw);
    }
    if (rc == 0)
        rc = send_u32(c, LC_RTMP_MSG_SET_CHUNK_SIZE, LC_RTMP_OUT_CHUNK_SIZE);
    c->out_chunk_size = LC_RTMP_OUT_CHUNK_SIZE;
    if (rc == 0) {
        lc_bytes_t b;
        lc_bytes_init(&b);
        lc_amf0_put_string(&b, "_result");
        lc_amf0_put_number(&b, txn);
        lc_amf0_put_object_start(&b);
        lc_amf0_put_key(&b, "fmsVer");
        lc_amf0_put_string(&b, "FMS/3,0,1,123");
        lc_amf0_put_key(&b, "capabilities");
        lc_amf0_put_number(&b, 31);
        lc_amf0_put_object_end(&b);
        lc_amf0_put_object_start(&b);
        lc_amf0_put_key(&b, "level");
        lc_amf0_put_string(&b, "status");
        lc_amf0_put_key(&b, "code");
        lc_amf0_put_string(&b, "NetConnection.Connect.Success");
        lc_amf0_put_key(&b, "description");
        lc_amf0_put_string(&b, "Connection succeeded.");
        lc_amf0_put_key(&b, "objectEncoding");
        lc_amf0_put_number(&b, 0);
        lc_amf0_put_object_end(&b);
        rc = send_amf(c, CSID_COMMAND, 0, &b);
    }
    if (rc == 0) {
        lc_bytes_t b;
        lc_bytes_init(&b);
        lc_amf0_put_string(&b, "onBWDone");
        lc_amf0_put_number(&b, 0);
        lc_amf0_put_null(&b);
        rc = send_amf(c, CSID_COMMAND, 0, &b);
    }
    if (rc < 0)
        return fail(c, lc_why(why, rc, "connect: out of memory"), why);
    c->state = LC_RTMP_CONNECTED;
    return 0;
}

static int cmd_fcpublish(lc_rtmp_conn_t *c, double txn, lc_why_t *why)
{
    lc_bytes_t b;
    lc_bytes_init(&b);
    lc_amf0_put_string(&b, "onFCPublish");
    lc_amf0_put_number(&b, 0);
    lc_amf0_put_null(&b);
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, "code");
    lc_amf0_put_string(&b, "NetStream.Publish.Start");
    lc_amf0_put_key(&b, "description");
    lc_amf0_put_string(&b, "FCPublish");
    lc_amf0_put_object_end(&b);
    int rc = send_amf(c, CSID_COMMAND, 0, &b);
    if (rc == 0 && txn != 0)
        rc = send_simple_result(c, txn, false, 0);
    return rc < 0 ? fail(c, lc_why(why, rc, "FCPublish: out of memory"), why) : 0;
}

static int cmd_create_stream(lc_rtmp_conn_t *c, double txn, lc_why_t *why)
{
    if (c->streams_created >= MAX_STREAM_IDS)
        return fail(c, lc_why(why, LC_EPROTO_RTMP, "createStream: more than %d streams",
                              MAX_STREAM_IDS), why);
    c->streams_created++;
    int rc = send_simple_result(c, txn, true, c->streams_created);
    return rc < 0 ? fail(c, lc_why(why, rc, "createStream: out of memory"), why) : 0;
}

/* A refusal the client is told about (onStatus error), then the connection closes. */
static int refuse_publish(lc_rtmp_conn_t *c, const char *code, const char *desc, const char *log)
{
    LC_WARN(TAG, "conn %" PRIu64 ": publish refused: %s", c->id, log);
    if (send_on_status(c, "error", code, desc) < 0) {
        c->state = LC_RTMP_FAILED;
        return -ENOMEM;
    }
    c->state = LC_RTMP_CLOSING;
    return 0;
}

static int cmd_publish(lc_rtmp_conn_t *c, const lc_rtmp_msg_t *msg, const lc_amf_t *args,
                       lc_why_t *why)
{
    if (c->state == LC_RTMP_PUBLISHING)
        return fail(c, lc_why(why, LC_EPROTO_RTMP, "publish: already publishing"), why);
    c->publish_stream_id = msg->stream_id;
    size_t len;
    const char *raw = lc_amf_str(lc_amf_item(args, 3), &len);
    if (!raw)
        return fail(c, lc_why(why, LC_EPROTO_RTMP, "publish: no stream name"), why);
    /* "KEY?param=..." (some tools append parameters): the key is what precedes the '?'. */
    const char *q = memchr(raw, '?', len);
    if (q)
        len = (size_t)(q - raw);
    char key[LC_RTMP_KEY_MAX + 1];
    bool ok = len > 0 && len <= LC_RTMP_KEY_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)raw[i] > 0x20 && (unsigned char)raw[i] < 0x7F;
    if (!ok)
        return refuse_publish(c, "NetStream.Publish.BadName", "invalid stream key",
                              "invalid stream key");
    memcpy(key, raw, len);
    key[len] = 0;

    int rc = c->sink.publish ? c->sink.publish(c->sink.opaque, c->app, key) : LC_EDENIED;
    explicit_bzero(key, sizeof key); /* a secret: do not leave it on the stack */
    if (rc == LC_EDENIED)
        return refuse_publish(c, "NetStream.Publish.BadName", "unknown stream key",
                              "unknown stream key");
    if (rc == LC_ECONFLICT)
        return refuse_publish(c, "NetStream.Publish.BadName", "already live",
                              "this webinar is already live");
    if (rc < 0) {
        LC_WARN(TAG, "conn %" PRIu64 ": publish refused: %s", c->id, lc_strerror(rc));
        if (send_on_status(c, "error", "NetStream.Publish.Rejected", "internal error") < 0) {
            c->state = LC_RTMP_FAILED;
            return -ENOMEM;
        }
        c->state = LC_RTMP_CLOSING;
        return 0;
    }
    c->attached = true;
    c->has_published = true;
    c->state = LC_RTMP_PUBLISHING;
    /* The peer holds a valid stream key: media needs the full limits from now on. */
    lc_chunk_reader_set_limits(c->rd, LC_CHUNK_MAX_MESSAGE, LC_CHUNK_MAX_BUFFERED);
    c->out_max = LC_RTMP_OUTPUT_MAX;
    reset_media(c);
    LC_DEBUG(TAG, "conn %" PRIu64 ": publish accepted (app \"%s\")", c->id, c->app);
    rc = send_user_control(c, UC_STREAM_BEGIN, c->publish_stream_id);
    if (rc == 0)
        rc = send_on_status(c, "status", "NetStream.Publish.Start", "Publishing.");
    return rc < 0 ? fail(c, lc_why(why, rc, "publish: out of memory"), why) : 0;
}

static void cmd_stop(lc_rtmp_conn_t *c, const char *name)
{
    if (!c->attached)
        return;
    LC_INFO(TAG, "conn %" PRIu64 ": publishing stopped (%s)", c->id, name);
    lc_rtmp_conn_end(c, true);
}

static int on_data(lc_rtmp_conn_t *c, const lc_rtmp_msg_t *msg, lc_why_t *why);

static int on_command(lc_rtmp_conn_t *c, const lc_rtmp_msg_t *msg, lc_why_t *why)
{
    const uint8_t *p = msg->data;
    size_t len = msg->len;
    if (msg->type == LC_RTMP_MSG_COMMAND_AMF3) {
        /* An AMF3 command message is a format byte (0: AMF0 follows) and AMF0 values. */
        if (len < 1 || p[0] != 0)
            return fail(c, lc_why(why, LC_EPROTO_RTMP, "AMF3-encoded command is not supported"),
                        why);
        p++;
        len--;
    }
    lc_amf_t *args = NULL;
    int rc = lc_amf0_decode_all(p, len, &args, why);
    if (rc < 0)
        return fail(c, rc, why);
    const lc_amf_t *name = lc_amf_item(args, 0);
    if (str_is(name, "@setDataFrame") || str_is(name, "onMetaData")) {
        /* metadata sent as a command (some encoders do): read it as the data message it is */
        lc_amf_free(&args);
        return on_data(c, msg, why);
    }
    double txn = 0;
    if (!lc_amf_str(name, NULL) || !lc_amf_num(lc_amf_item(args, 1), &txn) || !isfinite(txn)) {
        rc = fail(c, lc_why(why, LC_EPROTO_RTMP, "command without a name or transaction id"),
                  why);
        goto out;
    }
    if (c->state == LC_RTMP_WAIT_CONNECT) {
        if (str_is(name, "connect"))
            rc = cmd_connect(c, txn, args, why);
        else
            rc = fail(c, lc_why(why, LC_EPROTO_RTMP, "command before connect"), why);
        goto out;
    }
    if (str_is(name, "connect")) {
        rc = fail(c, lc_why(why, LC_EPROTO_RTMP, "second connect"), why);
    } else if (str_is(name, "releaseStream")) {
        if (txn != 0 && send_simple_result(c, txn, false, 0) < 0)
            rc = fail(c, lc_why(why, -ENOMEM, "releaseStream: out of memory"), why);
    } else if (str_is(name, "FCPublish")) {
        rc = cmd_fcpublish(c, txn, why);
    } else if (str_is(name, "createStream")) {
        rc = cmd_create_stream(c, txn, why);
    } else if (str_is(name, "publish")) {
        rc = cmd_publish(c, msg, args, why);
    } else if (str_is(name, "FCUnpublish") || str_is(name, "deleteStream") ||
               str_is(name, "closeStream")) {
        cmd_stop(c, lc_amf_str(name, NULL));
    } else if (str_is(name, "play") || str_is(name, "play2")) {
        rc = fail(c, lc_why(why, LC_EPROTO_RTMP, "play: this server only takes publishers"), why);
    }
    /* Anything else (_checkbw, getStreamLength, _result of onBWDone...) needs no answer. */
out:
    lc_amf_free(&args);
    return rc;
}

/* ---- metadata ------------------------------------------------------------------------------- */

static bool codec_announced(const lc_amf_t *v)
{
    double d;
    size_t len;
    if (lc_amf_num(v, &d))
        return d != 0; /* numeric FLV ids, or a FourCC as a number (Enhanced RTMP) */
    return lc_amf_str(v, &len) && len > 0;
}

/* `@setDataFrame`/`onMetaData`: which tracks to expect. Anything else in a data message (text
 * data, cue points) is none of our business. */
static int on_data(lc_rtmp_conn_t *c, const lc_rtmp_msg_t *msg, lc_why_t *why)
{
    if (c->state != LC_RTMP_PUBLISHING || c->started)
        return 0;
    const uint8_t *p = msg->data;
    size_t len = msg->len;
    if (msg->type == LC_RTMP_MSG_DATA_AMF3 || msg->type == LC_RTMP_MSG_COMMAND_AMF3) {
        if (len < 1 || p[0] != 0)
            return 0;
        p++;
        len--;
    }
    lc_amf_t *vals = NULL;
    int rc = lc_amf0_decode_all(p, len, &vals, why);
    if (rc < 0)
        return fail(c, rc, why);
    size_t i = str_is(lc_amf_item(vals, 0), "@setDataFrame") ? 1 : 0;
    if (str_is(lc_amf_item(vals, i), "onMetaData")) {
        const lc_amf_t *meta = lc_amf_item(vals, i + 1);
        bool v = codec_announced(lc_amf_get(meta, "videocodecid"));
        bool a = codec_announced(lc_amf_get(meta, "audiocodecid"));
        if (v || a) {
            c->meta_seen = true;
            c->video.expected = v;
            c->audio.expected = a;
        }
    }
    lc_amf_free(&vals);
    return 0;
}

/* ---- media ---------------------------------------------------------------------------------- */

/* 32-bit RTMP time → strictly increasing 64-bit dts for one track.
 *
 * Jitter (a step back of up to LC_RTMP_TS_REBASE_MS) is clamped to +1 ms. A larger step back, or
 * a step forward of more than LC_RTMP_TS_JUMP_MS, is a new timeline (an encoder restarted its
 * clock, a broken source): the track continues from its last dts plus its usual step, so that the
 * packet before it does not last minutes downstream (one huge segment) and both tracks, which
 * jump together, stay in step. The price: a track that really pauses that long while the other
 * flows would be shifted by its pause. Encoders send both tracks continuously (silence and
 * repeated frames are still packets), and a publisher that sends nothing at all for that long is
 * closed by the listener anyway (publish_idle_timeout_ms). */
static int64_t map_ts(lc_rtmp_conn_t *c, track_t *t, uint32_t raw)
{
    ts_track_t *s = &t->ts;
    if (!s->init) {
        s->init = true;
        s->last_raw = raw;
        s->unwrapped = raw;
        s->last_dts = raw;
        return raw;
    }
    int32_t step = (int32_t)(raw - s->last_raw); /* the signed step survives the wrap */
    s->unwrapped += step;
    s->last_raw = raw;
    int64_t dts = s->unwrapped + s->offset;
    int64_t ahead = dts - s->last_dts;
    if (ahead > 0 && ahead <= LC_RTMP_TS_JUMP_MS) {
        if (step > 0 && step <= LC_RTMP_TS_REBASE_MS)
            s->usual_step = step;
        s->last_dts = dts;
        return dts;
    }
    if (ahead > LC_RTMP_TS_JUMP_MS || -ahead > LC_RTMP_TS_REBASE_MS) {
        int64_t next = s->last_dts + (s->usual_step > 0 ? s->usual_step : 1);
        lc_log(c->warned_jump ? LC_LOG_DEBUG : LC_LOG_WARN, TAG,
               "conn %" PRIu64 ": %s timestamps jumped %s %" PRId64 " ms: a new timeline, "
               "continued from the last timestamp%s", c->id, t->name,
               ahead > 0 ? "forward" : "back", ahead > 0 ? ahead : -ahead,
               c->warned_jump ? "" : " (further jumps on this connection are not logged)");
        c->warned_jump = true;
        s->offset += next - dts;
        s->last_dts = next;
        return next;
    }
    if (!s->warned) {
        LC_WARN(TAG, "conn %" PRIu64 ": %s timestamps not increasing (%" PRId64 " ms back): "
                "clamped to +1 ms (logged once)", c->id, t->name, -ahead);
        s->warned = true;
    }
    s->last_dts += 1;
    return s->last_dts;
}

static int write_packet(lc_rtmp_conn_t *c, const AVPacket *pkt, lc_why_t *why)
{
    int rc = c->sink.write ? c->sink.write(c->sink.opaque, pkt) : 0;
    if (rc == LC_ELIMIT)
        return fail(c, lc_why(why, rc, "live queue full (the stream worker is behind): dropping "
                              "the connection"), why);
    if (rc < 0)
        return fail(c, lc_why(why, rc, "writing a packet failed: %s", lc_strerror(rc)), why);
    return 0;
}

static void describe_tracks(lc_rtmp_conn_t *c)
{
    char v[64] = "no video", a[64] = "no audio";
    const AVCodecParameters *vp = c->video.declared ? c->video.par : NULL;
    const AVCodecParameters *ap = c->audio.declared ? c->audio.par : NULL;
    if (vp && lc_fmt(v, sizeof v, "H.264 %dx%d", vp->width, vp->height) < 0)
        v[0] = 0;
    if (ap &&
        lc_fmt(a, sizeof a, "AAC %d Hz %d ch", ap->sample_rate, ap->ch_layout.nb_channels) < 0)
        a[0] = 0;
    LC_INFO(TAG, "conn %" PRIu64 ": tracks: %s, %s", c->id, v, a);
}

/* Starts the publisher when the track set is known (see the header), then writes what was held. */
static int maybe_start(lc_rtmp_conn_t *c, lc_why_t *why)
{
    if (c->started)
        return 0;
    track_t *tracks[2] = {&c->video, &c->audio};
    bool any = false, ready = true, waited = false;
    for (int i = 0; i < 2; i++) {
        track_t *t = tracks[i];
        bool wanted = c->meta_seen ? t->expected : true;
        any |= t->par != NULL;
        if (wanted && !t->par)
            ready = false;
        if (t->par && t->has_held && t->held_last - t->held_first >= LC_RTMP_START_WAIT_MS)
            waited = true;
    }
    bool full =
        c->held_count >= LC_RTMP_HOLD_MAX_PACKETS || c->held_bytes >= LC_RTMP_HOLD_MAX_BYTES;
    if (!any || !(ready || waited || full))
        return 0;
    c->video.declared = c->video.par != NULL;
    c->audio.declared = c->audio.par != NULL;
    c->started = true;
    describe_tracks(c);
    int rc = c->sink.start ? c->sink.start(c->sink.opaque, c->video.par, c->audio.par) : 0;
    if (rc < 0) {
        lc_why(why, rc, "the live stream refused the tracks: %s", lc_strerror(rc));
        return refuse_media(c, rc, why);
    }
    for (size_t i = 0; i < c->held_count && rc == 0; i++)
        rc = write_packet(c, c->held[i], why);
    drop_held(c);
    return rc;
}

static int hold_packet(lc_rtmp_conn_t *c, track_t *t, AVPacket *pkt)
{
    if (!c->held) {
        c->held = calloc(LC_RTMP_HOLD_MAX_PACKETS, sizeof *c->held);
        if (!c->held) {
            av_packet_free(&pkt);
            return -ENOMEM;
        }
    }
    if (!t->has_held) {
        t->has_held = true;
        t->held_first = pkt->dts;
    }
    t->held_last = pkt->dts;
    c->held[c->held_count++] = pkt;
    c->held_bytes += (size_t)pkt->size;
    return 0;
}

static int on_sequence_header(lc_rtmp_conn_t *c, track_t *t, const lc_flv_tag_t *tag,
                              lc_why_t *why)
{
    AVCodecParameters *par = NULL;
    int rc = t == &c->video ? lc_flv_video_params(tag->data, tag->len, &par, why)
                            : lc_flv_audio_params(tag->data, tag->len, &par, why);
    if (rc < 0)
        return refuse_media(c, rc, why);
    if (c->started) {
        /* The live stream's tracks are fixed for this run: a repeated header is fine, a new
         * one needs a new run (the encoder reconnects). */
        bool same = t->par && t->par->extradata_size == par->extradata_size &&
                    memcmp(t->par->extradata, par->extradata, (size_t)par->extradata_size) == 0;
        avcodec_parameters_free(&par);
        if (same || !t->declared) {
            if (!t->declared && !t->warned_drop) {
                LC_WARN(TAG, "conn %" PRIu64 ": %s sequence header after the start: %s ignored",
                        c->id, t->name, t->name);
                t->warned_drop = true;
            }
            return 0;
        }
        return refuse_media(c, lc_why(why, LC_EMEDIA, "%s parameters changed mid-stream; "
                                      "reconnect to apply them", t->name), why);
    }
    avcodec_parameters_free(&t->par);
    t->par = par;
    return maybe_start(c, why);
}

static int on_media(lc_rtmp_conn_t *c, const lc_rtmp_msg_t *msg, lc_why_t *why)
{
    if (c->state != LC_RTMP_PUBLISHING || msg->len == 0)
        return 0; /* media outside a publish, or an empty keep-alive: nothing to do */
    bool video = msg->type == LC_RTMP_MSG_VIDEO;
    track_t *t = video ? &c->video : &c->audio;
    lc_flv_tag_t tag;
    int rc = video ? lc_flv_parse_video(msg->data, msg->len, &tag, why)
                   : lc_flv_parse_audio(msg->data, msg->len, &tag, why);
    if (rc < 0)
        return refuse_media(c, rc, why);
    if (tag.kind == LC_FLV_CONFIG)
        return on_sequence_header(c, t, &tag, why);
    if (tag.kind != LC_FLV_FRAME || tag.len == 0)
        return 0;
    if (!t->par || (c->started && !t->declared)) {
        if (!t->warned_drop) {
            LC_WARN(TAG, "conn %" PRIu64 ": %s frames %s: dropped", c->id, t->name,
                    t->par ? "outside the started track set" : "before their sequence header");
            t->warned_drop = true;
        }
        return 0;
    }
    AVPacket *pkt = NULL;
    int64_t dts = map_ts(c, t, msg->timestamp);
    if ((rc = lc_flv_packet(&tag, t->par, t->stream_index, dts, &pkt, why)) < 0)
        return refuse_media(c, rc, why);
    if (c->started) {
        rc = write_packet(c, pkt, why);
        av_packet_free(&pkt);
        return rc;
    }
    if ((rc = hold_packet(c, t, pkt)) < 0)
        return fail(c, lc_why(why, rc, "out of memory"), why);
    return maybe_start(c, why);
}

/* ---- messages and bytes --------------------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int on_message(lc_rtmp_conn_t *c, const lc_rtmp_msg_t *msg, lc_why_t *why)
{
    switch (msg->type) {
    case LC_RTMP_MSG_USER_CONTROL:
        if (msg->len < 2)
            return fail(c, lc_why(why, LC_EPROTO_RTMP, "user control message of %u bytes",
                                  msg->len), why);
        if (((uint32_t)msg->data[0] << 8 | msg->data[1]) == UC_PING_REQUEST) {
            if (msg->len < 6)
                return fail(c, lc_why(why, LC_EPROTO_RTMP, "ping request of %u bytes", msg->len),
                            why);
            if (send_user_control(c, UC_PING_RESPONSE, rd32(msg->data + 2)) < 0)
                return fail(c, lc_why(why, -ENOMEM, "out of memory"), why);
        }
        return 0;
    case LC_RTMP_MSG_WINDOW_ACK_SIZE:
        if (msg->len < 4)
            return fail(c, lc_why(why, LC_EPROTO_RTMP, "Window Acknowledgement Size of %u bytes",
                                  msg->len), why);
        c->ack_window = rd32(msg->data);
        if (c->ack_window < LC_RTMP_MIN_ACK_WINDOW) /* no ack storms on a tiny window */
            c->ack_window = LC_RTMP_MIN_ACK_WINDOW;
        return 0;
    case LC_RTMP_MSG_ACK:
    case LC_RTMP_MSG_SET_PEER_BW:
    case LC_RTMP_MSG_SHARED_OBJECT_AMF0:
    case LC_RTMP_MSG_SHARED_OBJECT_AMF3:
        return 0;
    case LC_RTMP_MSG_COMMAND_AMF0:
    case LC_RTMP_MSG_COMMAND_AMF3:
        return on_command(c, msg, why);
    case LC_RTMP_MSG_DATA_AMF0:
    case LC_RTMP_MSG_DATA_AMF3:
        return on_data(c, msg, why);
    case LC_RTMP_MSG_AUDIO:
    case LC_RTMP_MSG_VIDEO:
        return on_media(c, msg, why);
    case LC_RTMP_MSG_AGGREGATE:
        return fail(c, lc_why(why, LC_EPROTO_RTMP, "aggregate messages are not supported"), why);
    default:
        LC_DEBUG(TAG, "conn %" PRIu64 ": message type %u ignored", c->id, msg->type);
        return 0;
    }
}

/* The output failed to grow, or the peer leaves more than its allowance unread. */
static int check_output(lc_rtmp_conn_t *c, lc_why_t *why)
{
    if (c->out.failed)
        return fail(c, lc_why(why, -ENOMEM, "output: out of memory"), why);
    if (c->out.len - c->out_sent > c->out_max)
        return fail(c, lc_why(why, LC_EPROTO_RTMP, "peer does not read (%zu bytes unsent)",
                              c->out.len - c->out_sent), why);
    return 0;
}

int lc_rtmp_conn_feed(lc_rtmp_conn_t *c, const uint8_t *data, size_t len)
{
    lc_why_t why = {{0}};
    int rc;
    if (c->state == LC_RTMP_FAILED)
        return LC_EPROTO_RTMP;
    if (c->state == LC_RTMP_CLOSING)
        return 0;
    c->rx_bytes += len;
    if (c->state == LC_RTMP_HANDSHAKE) {
        size_t used = 0;
        rc = lc_handshake_feed(&c->hs, data, len, &used, &c->out, &why);
        if (rc < 0)
            return fail(c, rc, &why);
        data += used;
        len -= used;
        if (c->hs.stage != LC_HS_DONE)
            return 0;
        c->state = LC_RTMP_WAIT_CONNECT;
    }
    while (len > 0 && c->state != LC_RTMP_CLOSING) {
        lc_rtmp_msg_t msg;
        size_t used = 0;
        rc = lc_chunk_reader_feed(c->rd, data, len, &used, &msg, &why);
        data += used;
        len -= used;
        if (rc < 0)
            return fail(c, rc, &why);
        if (rc == 0)
            break;
        if ((rc = on_message(c, &msg, &why)) < 0)
            return rc;
        if ((rc = check_output(c, &why)) < 0) /* per message: a read may hold thousands */
            return rc;
    }
    if (c->rx_bytes - c->acked_at >= c->ack_window) {
        c->acked_at = c->rx_bytes;
        if (send_u32(c, LC_RTMP_MSG_ACK, (uint32_t)c->rx_bytes) < 0)
            return fail(c, lc_why(&why, -ENOMEM, "out of memory"), &why);
    }
    return check_output(c, &why);
}
