/* Stream health of one publisher: declared tracks and sliding-window rates (see meter.h). Runs
 * on the ingest thread for every packet, under the stream's mutex: a few additions, no clock
 * reads (the caller passes the time) and no allocation. */
#include "live/meter.h"

#include "core/util.h"

/* The codec's short name ("h264", "aac"); empty if it did not fit (it always does for the
 * codecs the packager accepts). */
static void codec_name(char out[static 16], enum AVCodecID id)
{
    if (lc_fmt(out, 16, "%s", avcodec_get_name(id)) < 0)
        out[0] = 0;
}

void lc_meter_start(lc_meter_t *m, const AVCodecParameters *video, const AVCodecParameters *audio,
                    int64_t now_ms)
{
    *m = (lc_meter_t){.started = true, .origin_ms = now_ms};
    lc_live_health_t *t = &m->tracks;
    if (video) {
        t->has_video = true;
        codec_name(t->video_codec, video->codec_id);
        t->width = video->width;
        t->height = video->height;
    }
    if (audio) {
        t->has_audio = true;
        codec_name(t->audio_codec, audio->codec_id);
        t->sample_rate = audio->sample_rate;
        t->channels = audio->ch_layout.nb_channels;
    }
}

/* Moves the buckets on to the one `now_ms` falls in. A bucket skipped over (no packet for a
 * whole bucket) leaves an empty previous bucket, so old data never counts. A clock that reads
 * earlier than the current bucket (only an injected one could) changes nothing. */
static void advance(lc_meter_t *m, int64_t now_ms)
{
    if (now_ms < m->origin_ms)
        return;
    int64_t k = (now_ms - m->origin_ms) / LC_METER_BUCKET_MS;
    if (k <= m->cur.index)
        return;
    m->prev = k == m->cur.index + 1 ? m->cur : (lc_meter_bucket_t){.index = k - 1};
    m->cur = (lc_meter_bucket_t){.index = k};
}

void lc_meter_packet(lc_meter_t *m, const AVPacket *pkt, int64_t now_ms)
{
    if (!m->started)
        return;
    advance(m, now_ms);
    bool video = pkt->stream_index == 0;
    m->cur.bytes[video ? 0 : 1] += (uint64_t)pkt->size;
    if (!video) {
        m->audio_seen = true;
        m->audio_ms = now_ms;
        return;
    }
    m->cur.frames++;
    if (!(pkt->flags & AV_PKT_FLAG_KEY))
        return;
    int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    /* Timestamps that went back (an encoder restarted its clock) start the measure again. */
    if (m->key_seen && pts > m->key_pts_ms)
        m->key_interval_s = (double)(pts - m->key_pts_ms) / 1000;
    m->key_seen = true;
    m->key_pts_ms = pts;
}

void lc_meter_read(const lc_meter_t *m, int64_t now_ms, lc_live_health_t *out)
{
    *out = m->tracks;
    if (!m->started)
        return;
    out->keyframe_interval_s = m->key_interval_s;
    out->audio_present = m->audio_seen && now_ms - m->audio_ms < LC_METER_AUDIO_GONE_MS;
    lc_meter_t w = *m; /* a copy: reading does not move the writer's buckets */
    advance(&w, now_ms);
    if (w.cur.index < 1)
        return; /* less than one full bucket of data yet */
    double span_s =
        (double)(now_ms - (w.origin_ms + (w.cur.index - 1) * LC_METER_BUCKET_MS)) / 1000;
    out->video_kbps = (double)(w.prev.bytes[0] + w.cur.bytes[0]) * 8 / 1000 / span_s;
    out->audio_kbps = (double)(w.prev.bytes[1] + w.cur.bytes[1]) * 8 / 1000 / span_s;
    out->fps = (w.prev.frames + w.cur.frames) / span_s;
}
