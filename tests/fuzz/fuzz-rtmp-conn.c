/* libFuzzer: arbitrary bytes into an RTMP connection after a valid handshake (and, depending on
 * the first input byte, after connect + createStream + publish, so that media paths are reached
 * quickly). The sink checks the conn's promises to the live module and aborts on a broken one;
 * until a publish is accepted, the conn must also keep to its small output budget. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "ingest/amf0.h"
#include "ingest/chunk.h"
#include "ingest/rtmp_conn.h"

typedef struct {
    bool attached, started, has[2];
    int64_t last_dts[2];
    int publish_rc;
} check_t;

static int on_publish(void *o, const char *app, const char *key)
{
    check_t *k = o;
    if (k->attached || !app || !key || !key[0])
        abort();
    if (k->publish_rc == 0)
        k->attached = true;
    return k->publish_rc;
}

static int on_start(void *o, const AVCodecParameters *v, const AVCodecParameters *a)
{
    check_t *k = o;
    if (!k->attached || k->started || (!v && !a))
        abort();
    if ((v && (v->codec_id != AV_CODEC_ID_H264 || v->width <= 0 || v->height <= 0)) ||
        (a && (a->codec_id != AV_CODEC_ID_AAC || a->sample_rate <= 0)))
        abort();
    k->started = true;
    k->has[0] = v != NULL;
    k->has[1] = a != NULL;
    k->last_dts[0] = k->last_dts[1] = INT64_MIN;
    return 0;
}

static int on_write(void *o, const AVPacket *p)
{
    check_t *k = o;
    if (!k->started || p->stream_index < 0 || p->stream_index > 1 || !k->has[p->stream_index] ||
        p->size <= 0 || !p->buf || p->pts < p->dts || p->dts <= k->last_dts[p->stream_index])
        abort();
    k->last_dts[p->stream_index] = p->dts;
    return 0;
}

static void on_finish(void *o, bool stopped)
{
    check_t *k = o;
    if (!k->attached)
        abort();
    k->attached = k->started = false;
}

static void put_command(lc_bytes_t *out, uint32_t csid, uint32_t sid, lc_bytes_t *amf)
{
    lc_chunk_write(out, 128, csid, LC_RTMP_MSG_COMMAND_AMF0, sid, 0, amf->data, amf->len);
    lc_bytes_reset(amf);
}

/* C0 C1 C2, and connect / createStream / publish("k") at chunk size 128. */
static void build_prefixes(lc_bytes_t *hs, lc_bytes_t *pub)
{
    uint8_t c0 = 3;
    lc_bytes_append(hs, &c0, 1);
    uint8_t zero[1536] = {0};
    lc_bytes_append(hs, zero, sizeof zero);
    lc_bytes_append(hs, zero, sizeof zero);

    lc_bytes_t a;
    lc_bytes_init(&a);
    lc_amf0_put_string(&a, "connect");
    lc_amf0_put_number(&a, 1);
    lc_amf0_put_object_start(&a);
    lc_amf0_put_key(&a, "app");
    lc_amf0_put_string(&a, "live");
    lc_amf0_put_object_end(&a);
    put_command(pub, 3, 0, &a);
    lc_amf0_put_string(&a, "createStream");
    lc_amf0_put_number(&a, 2);
    lc_amf0_put_null(&a);
    put_command(pub, 3, 0, &a);
    lc_amf0_put_string(&a, "publish");
    lc_amf0_put_number(&a, 3);
    lc_amf0_put_null(&a);
    lc_amf0_put_string(&a, "k");
    put_command(pub, 8, 1, &a);
    lc_bytes_free(&a);
}

static void drain(lc_rtmp_conn_t *c, int rc)
{
    size_t n;
    if (lc_rtmp_conn_output(c, &n)) {
        if (rc == 0 && !lc_rtmp_conn_has_published(c) && n > LC_RTMP_PREAUTH_OUTPUT_MAX)
            abort();
        lc_rtmp_conn_output_sent(c, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lc_bytes_t hs, pub;
    static bool ready;
    if (!ready) {
        lc_log_set_level(LC_LOG_ERROR); /* the conn's WARN lines would drown the output */
        lc_bytes_init(&hs);
        lc_bytes_init(&pub);
        build_prefixes(&hs, &pub);
        ready = true;
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;

    check_t k = {.publish_rc = (mode & 0x40) ? LC_EDENIED : 0};
    lc_rtmp_sink_t sink = {.publish = on_publish,
                           .start = on_start,
                           .write = on_write,
                           .finish = on_finish,
                           .opaque = &k};
    lc_rtmp_conn_t *c = lc_rtmp_conn_new(&sink, 1);
    if (!c)
        return 0;
    int rc = lc_rtmp_conn_feed(c, hs.data, hs.len);
    if (rc == 0 && (mode & 1))
        rc = lc_rtmp_conn_feed(c, pub.data, pub.len);
    drain(c, rc);
    size_t step = (mode & 2) ? (size_t)((mode >> 2) & 0x0F) + 1 : size;
    for (size_t off = 0; rc == 0 && off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        rc = lc_rtmp_conn_feed(c, data + off, n);
        drain(c, rc);
    }
    if (mode & 0x80)
        lc_rtmp_conn_end(c, true);
    lc_rtmp_conn_free(&c);
    if (k.attached) /* free must have finished an attached publisher */
        abort();
    return 0;
}
