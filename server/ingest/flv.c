/* FLV audio/video tag payloads → codec parameters and packets (H.264 and AAC only). */
#include "ingest/flv.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>

#include "core/error.h"
#include "ingest/avc.h"
#include "ingest/bits.h"

enum { FLV_CODEC_H264 = 7, FLV_SOUND_AAC = 10, FLV_SOUND_EX_HEADER = 9 };

static const char *video_codec_name(unsigned id)
{
    switch (id) {
    case 1: return "JPEG";
    case 2: return "Sorenson H.263";
    case 3: return "Screen Video";
    case 4: return "On2 VP6";
    case 5: return "On2 VP6 with alpha";
    case 6: return "Screen Video 2";
    case 12: return "HEVC (non-standard FLV id)";
    case 13: return "AV1 (non-standard FLV id)";
    default: return "unknown";
    }
}

static const char *audio_codec_name(unsigned id)
{
    switch (id) {
    case 0: return "PCM";
    case 1: return "ADPCM";
    case 2: return "MP3";
    case 3: return "PCM little-endian";
    case 4: case 5: case 6: return "Nellymoser";
    case 7: return "G.711 A-law";
    case 8: return "G.711 mu-law";
    case 11: return "Speex";
    case 13: return "Opus (non-standard FLV id)";
    case 14: return "MP3 8 kHz";
    case 15: return "device-specific";
    default: return "unknown";
    }
}

int lc_flv_parse_video(const uint8_t *p, size_t len, lc_flv_tag_t *out, lc_why_t *why)
{
    memset(out, 0, sizeof *out);
    if (len < 1)
        return lc_why(why, LC_EMEDIA, "video: empty message");
    if (p[0] & 0x80) {
        /* Enhanced RTMP: the low nibble is a packet type and a FourCC follows. */
        char cc[5] = "????";
        for (size_t i = 0; i < 4 && i + 1 < len; i++)
            cc[i] = p[i + 1] >= 0x20 && p[i + 1] < 0x7F ? (char)p[i + 1] : '?';
        return lc_why(why, LC_EMEDIA,
                      "video: Enhanced RTMP (FourCC '%s') is not supported; send H.264 without "
                      "Enhanced RTMP",
                      cc);
    }
    unsigned frame_type = p[0] >> 4, codec = p[0] & 0x0F;
    if (codec != FLV_CODEC_H264)
        return lc_why(why, LC_EMEDIA, "video: codec %s (FLV id %u) is not supported; send H.264",
                      video_codec_name(codec), codec);
    if (frame_type < 1 || frame_type > 5)
        return lc_why(why, LC_EMEDIA, "video: invalid frame type %u", frame_type);
    if (frame_type == 5) { /* video info / command frame: a one-byte note, not a picture */
        out->kind = LC_FLV_SKIP;
        return 0;
    }
    if (len < 5)
        return lc_why(why, LC_EMEDIA, "video: truncated AVC tag header (%zu bytes)", len);
    uint32_t raw = (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    out->cts = (int32_t)(raw ^ 0x800000u) - 0x800000; /* sign-extend 24 bits */
    out->data = p + 5;
    out->len = len - 5;
    switch (p[1]) {
    case 0:
        if (out->len == 0)
            return lc_why(why, LC_EMEDIA, "video: empty AVC sequence header");
        out->kind = LC_FLV_CONFIG;
        return 0;
    case 1:
        out->kind = LC_FLV_FRAME;
        out->keyframe = frame_type == 1 || frame_type == 4;
        return 0;
    case 2:
        out->kind = LC_FLV_END;
        return 0;
    default:
        return lc_why(why, LC_EMEDIA, "video: unknown AVC packet type %u", p[1]);
    }
}

int lc_flv_parse_audio(const uint8_t *p, size_t len, lc_flv_tag_t *out, lc_why_t *why)
{
    memset(out, 0, sizeof *out);
    if (len < 1)
        return lc_why(why, LC_EMEDIA, "audio: empty message");
    unsigned format = p[0] >> 4;
    if (format == FLV_SOUND_EX_HEADER)
        return lc_why(why, LC_EMEDIA, "audio: Enhanced RTMP audio is not supported; send AAC "
                      "without Enhanced RTMP");
    if (format != FLV_SOUND_AAC)
        return lc_why(why, LC_EMEDIA, "audio: codec %s (FLV sound format %u) is not supported; "
                      "send AAC", audio_codec_name(format), format);
    if (len < 2)
        return lc_why(why, LC_EMEDIA, "audio: truncated AAC tag header");
    out->data = p + 2;
    out->len = len - 2;
    out->keyframe = true;
    switch (p[1]) {
    case 0:
        if (out->len < 2)
            return lc_why(why, LC_EMEDIA, "audio: AAC sequence header of %zu bytes", out->len);
        out->kind = LC_FLV_CONFIG;
        return 0;
    case 1:
        out->kind = LC_FLV_FRAME;
        return 0;
    default:
        return lc_why(why, LC_EMEDIA, "audio: unknown AAC packet type %u", p[1]);
    }
}

static int set_extradata(AVCodecParameters *par, const uint8_t *p, size_t len)
{
    par->extradata = av_mallocz(len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return -ENOMEM;
    memcpy(par->extradata, p, len);
    par->extradata_size = (int)len;
    return 0;
}

int lc_flv_video_params(const uint8_t *rec, size_t len, AVCodecParameters **out, lc_why_t *why)
{
    lc_avc_config_t cfg;
    *out = NULL;
    int rc = lc_avc_parse_config(rec, len, &cfg, why);
    if (rc < 0)
        return rc;
    AVCodecParameters *par = avcodec_parameters_alloc();
    if (!par || set_extradata(par, rec, len) < 0) {
        avcodec_parameters_free(&par);
        return lc_why(why, -ENOMEM, "video: out of memory");
    }
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = AV_CODEC_ID_H264;
    par->width = cfg.width;
    par->height = cfg.height;
    par->profile = cfg.profile;
    par->level = cfg.level;
    if (cfg.chroma_format == 1 && cfg.bit_depth == 8)
        par->format = AV_PIX_FMT_YUV420P;
    *out = par;
    return 0;
}

static const int aac_rates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                  22050, 16000, 12000, 11025, 8000,  7350};

static unsigned read_aot(lc_bits_t *b)
{
    unsigned aot = lc_bits_read(b, 5);
    return aot == 31 ? 32 + lc_bits_read(b, 6) : aot;
}

static int read_rate(lc_bits_t *b, int *rate, lc_why_t *why)
{
    unsigned idx = lc_bits_read(b, 4);
    if (idx == 15) {
        uint32_t r = lc_bits_read(b, 24);
        if (r < 1000 || r > 192000)
            return lc_why(why, LC_EMEDIA, "AAC: sample rate %u Hz", r);
        *rate = (int)r;
        return 0;
    }
    if (idx >= 13)
        return lc_why(why, LC_EMEDIA, "AAC: reserved sample rate index %u", idx);
    *rate = aac_rates[idx];
    return 0;
}

/* AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): object type, rate, channel configuration; with
 * explicit SBR/PS signalling (HE-AAC v1/v2) the output rate and the core object type follow. */
int lc_flv_audio_params(const uint8_t *asc, size_t len, AVCodecParameters **out, lc_why_t *why)
{
    *out = NULL;
    if (len < 2 || len > LC_FLV_MAX_AUDIO_CONFIG)
        return lc_why(why, LC_EMEDIA, "AAC: AudioSpecificConfig of %zu bytes", len);
    lc_bits_t b;
    lc_bits_init(&b, asc, len);
    int rc, rate = 0, out_rate;
    unsigned aot = read_aot(&b);
    if ((rc = read_rate(&b, &rate, why)) < 0)
        return rc;
    unsigned chan_cfg = lc_bits_read(&b, 4);
    int profile = 0;
    bool sbr = aot == 5 || aot == 29;
    out_rate = rate;
    if (sbr) {
        profile = aot == 29 ? FF_PROFILE_AAC_HE_V2 : FF_PROFILE_AAC_HE;
        if ((rc = read_rate(&b, &out_rate, why)) < 0)
            return rc;
        aot = read_aot(&b);
    }
    unsigned short_frames = lc_bits_read(&b, 1); /* GASpecificConfig frameLengthFlag */
    if (b.overrun)
        return lc_why(why, LC_EMEDIA, "AAC: truncated AudioSpecificConfig");
    if (aot < 1 || aot > 4)
        return lc_why(why, LC_EMEDIA, "AAC: audio object type %u is not supported", aot);
    if (!sbr)
        profile = (int)aot - 1; /* FF_PROFILE_AAC_MAIN .. FF_PROFILE_AAC_LTP */
    static const int channels_for_cfg[8] = {0, 1, 2, 3, 4, 5, 6, 8};
    if (chan_cfg == 0 || chan_cfg > 7)
        return lc_why(why, LC_EMEDIA, "AAC: channel configuration %u is not supported", chan_cfg);
    int channels = channels_for_cfg[chan_cfg];
    if (aot == 2 && profile == FF_PROFILE_AAC_HE_V2 && channels == 1)
        channels = 2; /* parametric stereo decodes mono into stereo */

    AVCodecParameters *par = avcodec_parameters_alloc();
    if (!par || set_extradata(par, asc, len) < 0) {
        avcodec_parameters_free(&par);
        return lc_why(why, -ENOMEM, "audio: out of memory");
    }
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_AAC;
    par->sample_rate = out_rate;
    par->profile = profile;
    par->frame_size = (short_frames ? 960 : 1024) * (sbr ? 2 : 1);
    av_channel_layout_default(&par->ch_layout, channels);
    *out = par;
    return 0;
}

int lc_flv_packet(const lc_flv_tag_t *tag, const AVCodecParameters *par, int stream_index,
                  int64_t dts_ms, AVPacket **out, lc_why_t *why)
{
    *out = NULL;
    if (tag->kind != LC_FLV_FRAME || !par)
        return lc_why(why, -EINVAL, "packet: not a frame");
    if (par->codec_id == AV_CODEC_ID_H264) {
        if (par->extradata_size < 5)
            return lc_why(why, -EINVAL, "packet: H.264 parameters without a record");
        int rc = lc_avc_check_frame(tag->data, tag->len, (par->extradata[4] & 3) + 1, why);
        if (rc < 0)
            return rc;
    }
    if (tag->len > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return lc_why(why, LC_EMEDIA, "packet: %zu bytes", tag->len);
    AVPacket *pkt = av_packet_alloc();
    if (!pkt || av_new_packet(pkt, (int)tag->len) < 0) {
        av_packet_free(&pkt);
        return lc_why(why, -ENOMEM, "packet: out of memory");
    }
    if (tag->len)
        memcpy(pkt->data, tag->data, tag->len);
    pkt->stream_index = stream_index;
    pkt->dts = dts_ms;
    pkt->pts = tag->cts > 0 ? dts_ms + tag->cts : dts_ms;
    pkt->time_base = (AVRational){1, 1000};
    if (tag->keyframe)
        pkt->flags |= AV_PKT_FLAG_KEY;
    *out = pkt;
    return 0;
}
