/* libFuzzer: FLV video/audio tag payloads, sequence headers (AVCDecoderConfigurationRecord, SPS,
 * AudioSpecificConfig) and AVCC frames. The first byte chooses the path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/avc.h"
#include "ingest/flv.h"

/* A valid 320x240 record, to check frames against when the input has none. */
static const uint8_t avcc[] = {0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00,
                               0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03,
                               0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
                               0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

static void check_params(const AVCodecParameters *par)
{
    if (!par->extradata || par->extradata_size <= 0)
        abort();
    if (par->codec_type == AVMEDIA_TYPE_VIDEO &&
        (par->width <= 0 || par->height <= 0 || par->width > 16384 || par->height > 16384))
        abort();
    if (par->codec_type == AVMEDIA_TYPE_AUDIO &&
        (par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] & 3;
    data++;
    size--;
    lc_flv_tag_t tag;
    AVCodecParameters *par = NULL;
    AVPacket *pkt = NULL;
    switch (mode) {
    case 0:
    case 1: {
        bool video = mode == 0;
        int rc = video ? lc_flv_parse_video(data, size, &tag, NULL)
                       : lc_flv_parse_audio(data, size, &tag, NULL);
        if (rc < 0)
            return 0;
        if (tag.len > size || (tag.len && (tag.data < data || tag.data + tag.len > data + size)))
            abort();
        if (tag.kind == LC_FLV_CONFIG) {
            rc = video ? lc_flv_video_params(tag.data, tag.len, &par, NULL)
                       : lc_flv_audio_params(tag.data, tag.len, &par, NULL);
            if (rc == 0)
                check_params(par);
        } else if (tag.kind == LC_FLV_FRAME) {
            if (video)
                lc_flv_video_params(avcc, sizeof avcc, &par, NULL);
            else
                lc_flv_audio_params((const uint8_t *)"\x12\x10", 2, &par, NULL);
            if (par && lc_flv_packet(&tag, par, video ? 0 : 1, 1000, &pkt, NULL) == 0) {
                if ((size_t)pkt->size != tag.len || pkt->pts < pkt->dts || pkt->dts != 1000)
                    abort();
                av_packet_free(&pkt);
            }
        }
        break;
    }
    case 2: {
        lc_avc_config_t cfg;
        if (lc_avc_parse_sps(data, size, &cfg, NULL) == 0 && (cfg.width <= 0 || cfg.height <= 0))
            abort();
        if (lc_flv_audio_params(data, size, &par, NULL) == 0)
            check_params(par);
        break;
    }
    case 3:
        if (lc_flv_video_params(data, size, &par, NULL) == 0)
            check_params(par);
        for (int nls = 1; nls <= 4; nls++)
            lc_avc_check_frame(data, size, nls, NULL);
        break;
    }
    avcodec_parameters_free(&par);
    return 0;
}
