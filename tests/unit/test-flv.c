/* FLV tag payloads → codec parameters and packets: H.264 (records and SPS from real x264 output)
 * and AAC; unknown codecs, Enhanced RTMP, truncated tags and records that lie about lengths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "ingest/avc.h"
#include "ingest/flv.h"

#include "test-rtmp-client.h"

/* x264 records as ffmpeg writes them into FLV (see test-rtmp-client.h for 320x240 High). */
static const uint8_t avcc_1080p[] = {
    0x01, 0x64, 0x00, 0x28, 0xff, 0xe1, 0x00, 0x1b, 0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40,
    0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00,
    0xc8, 0x3c, 0x60, 0xc6, 0x58, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd,
    0xf8, 0xf8, 0x00};
static const uint8_t avcc_360p_baseline[] = {
    0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0,
    0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f,
    0x16, 0x2e, 0x48, 0x01, 0x00, 0x05, 0x68, 0xcb, 0x83, 0xcb, 0x20};
static const uint8_t avcc_352x288_444[] = {
    0x01, 0xf4, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x18, 0x67, 0xf4, 0x00, 0x0d, 0x91, 0x9b, 0x28,
    0x2c, 0x12, 0xd8, 0x08, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x19, 0x07, 0x8a,
    0x14, 0xcb, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xc4, 0x48, 0x44, 0xff, 0xf8, 0xf8, 0x00};

static void expect_video_error(const uint8_t *p, size_t n, const char *needle)
{
    lc_flv_tag_t tag;
    lc_why_t why = {{0}};
    assert_int_equal(lc_flv_parse_video(p, n, &tag, &why), LC_EMEDIA);
    if (!strstr(why.text, needle)) {
        fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", why.text, needle);
        fail();
    }
}

static void expect_audio_error(const uint8_t *p, size_t n, const char *needle)
{
    lc_flv_tag_t tag;
    lc_why_t why = {{0}};
    assert_int_equal(lc_flv_parse_audio(p, n, &tag, &why), LC_EMEDIA);
    if (!strstr(why.text, needle)) {
        fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", why.text, needle);
        fail();
    }
}

static void check_video_params(const uint8_t *rec, size_t len, int w, int h, int profile, int level)
{
    AVCodecParameters *par = NULL;
    lc_why_t why = {{0}};
    int rc = lc_flv_video_params(rec, len, &par, &why);
    if (rc < 0)
        fprintf(stderr, "%s\n", why.text);
    assert_int_equal(rc, 0);
    assert_int_equal(par->codec_type, AVMEDIA_TYPE_VIDEO);
    assert_int_equal(par->codec_id, AV_CODEC_ID_H264);
    assert_int_equal(par->width, w);
    assert_int_equal(par->height, h);
    assert_int_equal(par->profile, profile);
    assert_int_equal(par->level, level);
    assert_int_equal(par->extradata_size, (int)len);
    assert_memory_equal(par->extradata, rec, len);
    avcodec_parameters_free(&par);
}

static void test_avc_sequence_header(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_avc_body(&b, true, 0, 0, tc_avcc_320x240, sizeof tc_avcc_320x240);
    lc_flv_tag_t tag;
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(tag.kind, LC_FLV_CONFIG);
    assert_int_equal(tag.len, sizeof tc_avcc_320x240);
    assert_ptr_equal(tag.data, b.data + 5);
    check_video_params(tag.data, tag.len, 320, 240, 100, 13);
    AVCodecParameters *par = NULL;
    assert_int_equal(lc_flv_video_params(tag.data, tag.len, &par, NULL), 0);
    assert_int_equal(par->format, AV_PIX_FMT_YUV420P);
    avcodec_parameters_free(&par);
    lc_bytes_free(&b);
}

/* Real x264 SPSs: cropping (1080 = 1088 - 8), the baseline path, and 4:4:4. */
static void test_sps_variants(void **state)
{
    (void)state;
    check_video_params(avcc_1080p, sizeof avcc_1080p, 1920, 1080, 100, 40);
    check_video_params(avcc_360p_baseline, sizeof avcc_360p_baseline, 640, 360, 66, 30);
    check_video_params(avcc_352x288_444, sizeof avcc_352x288_444, 352, 288, 244, 13);
    lc_avc_config_t cfg;
    assert_int_equal(lc_avc_parse_config(avcc_352x288_444, sizeof avcc_352x288_444, &cfg, NULL),
                     0);
    assert_int_equal(cfg.chroma_format, 3);
    assert_int_equal(cfg.nal_length_size, 4);
}

static void test_avc_frames(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_avc_frame_body(&b, true, 80, 10);
    lc_flv_tag_t tag;
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(tag.kind, LC_FLV_FRAME);
    assert_true(tag.keyframe);
    assert_int_equal(tag.cts, 80);
    assert_int_equal(tag.len, 14);
    lc_bytes_reset(&b);
    tc_avc_frame_body(&b, false, -10, 3);
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    assert_false(tag.keyframe);
    assert_int_equal(tag.cts, -10);
    lc_bytes_reset(&b);
    tc_avc_frame_body(&b, false, 0x7FFFFF, 3);
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(tag.cts, 0x7FFFFF);

    const uint8_t eos[] = {0x17, 0x02, 0, 0, 0};
    assert_int_equal(lc_flv_parse_video(eos, sizeof eos, &tag, NULL), 0);
    assert_int_equal(tag.kind, LC_FLV_END);
    const uint8_t info[] = {0x57, 0x00};
    assert_int_equal(lc_flv_parse_video(info, sizeof info, &tag, NULL), 0);
    assert_int_equal(tag.kind, LC_FLV_SKIP);
    const uint8_t generated_key[] = {0x47, 0x01, 0, 0, 0};
    assert_int_equal(lc_flv_parse_video(generated_key, sizeof generated_key, &tag, NULL), 0);
    assert_true(tag.keyframe);
    assert_int_equal(tag.len, 0);
    lc_bytes_free(&b);
}

static void test_video_refusals(void **state)
{
    (void)state;
    const uint8_t hevc_ex[] = {0x90, 'h', 'v', 'c', '1', 0x01, 0x02};
    expect_video_error(hevc_ex, sizeof hevc_ex, "Enhanced RTMP (FourCC 'hvc1')");
    const uint8_t av1_ex[] = {0x91, 'a', 'v', '0', '1'};
    expect_video_error(av1_ex, sizeof av1_ex, "'av01'");
    const uint8_t ex_short[] = {0x80};
    expect_video_error(ex_short, sizeof ex_short, "'\?\?\?\?'");
    const uint8_t avc_ex[] = {0x90, 'a', 'v', 'c', '1', 0, 0, 0, 0}; /* even AVC, if enhanced */
    expect_video_error(avc_ex, sizeof avc_ex, "Enhanced RTMP");
    const uint8_t h263[] = {0x12, 0, 0, 0, 0};
    expect_video_error(h263, sizeof h263, "Sorenson H.263 (FLV id 2)");
    const uint8_t vp6[] = {0x14, 0, 0, 0, 0};
    expect_video_error(vp6, sizeof vp6, "VP6");
    const uint8_t hevc12[] = {0x1C, 0, 0, 0, 0};
    expect_video_error(hevc12, sizeof hevc12, "HEVC");
    const uint8_t type0[] = {0x07, 1, 0, 0, 0};
    expect_video_error(type0, sizeof type0, "invalid frame type 0");
    const uint8_t type6[] = {0x67, 1, 0, 0, 0};
    expect_video_error(type6, sizeof type6, "invalid frame type 6");
    const uint8_t short1[] = {0x17};
    expect_video_error(short1, sizeof short1, "truncated AVC tag header");
    const uint8_t short4[] = {0x17, 0x01, 0, 0};
    expect_video_error(short4, sizeof short4, "truncated AVC tag header");
    expect_video_error(short1, 0, "empty");
    const uint8_t bad_type[] = {0x17, 0x03, 0, 0, 0, 1};
    expect_video_error(bad_type, sizeof bad_type, "unknown AVC packet type 3");
    const uint8_t empty_cfg[] = {0x17, 0x00, 0, 0, 0};
    expect_video_error(empty_cfg, sizeof empty_cfg, "empty AVC sequence header");
}

static void expect_record_error(const uint8_t *rec, size_t len, const char *needle)
{
    AVCodecParameters *par = (AVCodecParameters *)0x1;
    lc_why_t why = {{0}};
    assert_int_equal(lc_flv_video_params(rec, len, &par, &why), LC_EMEDIA);
    assert_null(par);
    if (needle && !strstr(why.text, needle)) {
        fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", why.text, needle);
        fail();
    }
}

/* Sequence headers that lie about their lengths, counts and contents. */
static void test_lying_records(void **state)
{
    (void)state;
    uint8_t r[sizeof tc_avcc_320x240];
    size_t n = sizeof r;
    /* every prefix that cuts the SPS or PPS */
    for (size_t cut = 0; cut < n - 4; cut++)
        expect_record_error(tc_avcc_320x240, cut, NULL);

    memcpy(r, tc_avcc_320x240, n);
    r[0] = 0;
    expect_record_error(r, n, "version 0");
    memcpy(r, tc_avcc_320x240, n);
    r[4] = 0xFE; /* NAL length size 3 */
    expect_record_error(r, n, "NAL length size 3");
    memcpy(r, tc_avcc_320x240, n);
    r[5] = 0xE0; /* no SPS */
    expect_record_error(r, n, "no SPS");
    memcpy(r, tc_avcc_320x240, n);
    r[6] = 0xFF; /* SPS length 65535+ */
    expect_record_error(r, n, "SPS of");
    memcpy(r, tc_avcc_320x240, n);
    r[5] = 0xE2; /* claims two SPSs: the PPS count byte is read as a length */
    expect_record_error(r, n, NULL);
    memcpy(r, tc_avcc_320x240, n);
    r[33] = 0; /* no PPS */
    expect_record_error(r, n, "no PPS");
    memcpy(r, tc_avcc_320x240, n);
    r[35] = 0x40; /* PPS length beyond the end */
    expect_record_error(r, n, "PPS of");
    memcpy(r, tc_avcc_320x240, n);
    r[8] = 0x68; /* the "SPS" is a PPS NAL unit */
    expect_record_error(r, n, "not an SPS");
    /* an SPS truncated inside its fields */
    const uint8_t short_sps[] = {0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x05, 0x67,
                                 0x64, 0x00, 0x0d, 0xac, 0x01, 0x00, 0x01, 0x68};
    expect_record_error(short_sps, sizeof short_sps, "H.264 SPS: truncated");
    /* absurd picture size: pic_width_in_mbs_minus1 = 4095 */
    const uint8_t huge[] = {0x01, 0x42, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x0a, 0x67, 0x42, 0x00,
                            0x1e, 0xf4, 0x00, 0x08, 0x00, 0x0b, 0xd0, 0x01, 0x00, 0x01, 0x68};
    expect_record_error(huge, sizeof huge, "picture size out of range");
    /* found by fuzz-flv: 1024 map units of interlaced fields make a 16704-line picture */
    const uint8_t fields[] = {0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00,
                              0x0d, 0xac, 0xfb, 0x00, 0x41, 0x41, 0x01, 0xd9, 0x10, 0x00, 0x03,
                              0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
                              0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xf8, 0xf8, 0x00};
    expect_record_error(fields, sizeof fields, "picture size 48x16704 out of range");
    /* larger than any real record */
    uint8_t *big = calloc(1, LC_AVC_MAX_CONFIG + 1);
    memcpy(big, tc_avcc_320x240, n);
    expect_record_error(big, LC_AVC_MAX_CONFIG + 1, "too long");
    free(big);
}

static void test_aac(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_aac_body(&b, 0, tc_asc_44k_mono, sizeof tc_asc_44k_mono);
    lc_flv_tag_t tag;
    assert_int_equal(lc_flv_parse_audio(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(tag.kind, LC_FLV_CONFIG);
    assert_int_equal(tag.len, sizeof tc_asc_44k_mono);
    AVCodecParameters *par = NULL;
    assert_int_equal(lc_flv_audio_params(tag.data, tag.len, &par, NULL), 0);
    assert_int_equal(par->codec_type, AVMEDIA_TYPE_AUDIO);
    assert_int_equal(par->codec_id, AV_CODEC_ID_AAC);
    assert_int_equal(par->sample_rate, 44100);
    assert_int_equal(par->ch_layout.nb_channels, 1);
    assert_int_equal(par->profile, FF_PROFILE_AAC_LOW);
    assert_int_equal(par->frame_size, 1024);
    assert_int_equal(par->extradata_size, (int)sizeof tc_asc_44k_mono);
    assert_memory_equal(par->extradata, tc_asc_44k_mono, sizeof tc_asc_44k_mono);
    avcodec_parameters_free(&par);

    assert_int_equal(lc_flv_audio_params(tc_asc_48k_stereo, 2, &par, NULL), 0);
    assert_int_equal(par->sample_rate, 48000);
    assert_int_equal(par->ch_layout.nb_channels, 2);
    avcodec_parameters_free(&par);

    /* HE-AAC with explicit SBR: AOT 5, 24 kHz core, stereo, 48 kHz output, core AOT 2 */
    const uint8_t he[] = {0x2B, 0x11, 0x88, 0x00};
    assert_int_equal(lc_flv_audio_params(he, sizeof he, &par, NULL), 0);
    assert_int_equal(par->sample_rate, 48000);
    assert_int_equal(par->profile, FF_PROFILE_AAC_HE);
    assert_int_equal(par->frame_size, 2048);
    assert_int_equal(par->ch_layout.nb_channels, 2);
    avcodec_parameters_free(&par);

    lc_bytes_reset(&b);
    tc_aac_body(&b, 1, "\x21\x10\x05", 3);
    assert_int_equal(lc_flv_parse_audio(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(tag.kind, LC_FLV_FRAME);
    assert_true(tag.keyframe);
    assert_int_equal(tag.len, 3);
    lc_bytes_free(&b);
}

static void expect_asc_error(const uint8_t *asc, size_t len, const char *needle)
{
    AVCodecParameters *par = (AVCodecParameters *)0x1;
    lc_why_t why = {{0}};
    assert_int_equal(lc_flv_audio_params(asc, len, &par, &why), LC_EMEDIA);
    assert_null(par);
    if (!strstr(why.text, needle)) {
        fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", why.text, needle);
        fail();
    }
}

static void test_audio_refusals(void **state)
{
    (void)state;
    const uint8_t mp3[] = {0x2F, 0xFF, 0xFB};
    expect_audio_error(mp3, sizeof mp3, "MP3 (FLV sound format 2)");
    const uint8_t speex[] = {0xB6, 0x00};
    expect_audio_error(speex, sizeof speex, "Speex");
    const uint8_t pcm[] = {0x3F, 0x00};
    expect_audio_error(pcm, sizeof pcm, "PCM little-endian");
    const uint8_t ex[] = {0x90, 'O', 'p', 'u', 's'};
    expect_audio_error(ex, sizeof ex, "Enhanced RTMP audio");
    const uint8_t short1[] = {0xAF};
    expect_audio_error(short1, sizeof short1, "truncated AAC tag header");
    expect_audio_error(short1, 0, "empty");
    const uint8_t bad_type[] = {0xAF, 0x02, 0x12};
    expect_audio_error(bad_type, sizeof bad_type, "unknown AAC packet type 2");
    const uint8_t cfg1[] = {0xAF, 0x00, 0x12};
    expect_audio_error(cfg1, sizeof cfg1, "AAC sequence header of 1 bytes");

    expect_asc_error((const uint8_t *)"\x16\x88", 2, "reserved sample rate index 13");
    expect_asc_error((const uint8_t *)"\x12\x00", 2, "channel configuration 0");
    expect_asc_error((const uint8_t *)"\x12\x40", 2, "channel configuration 8");
    expect_asc_error((const uint8_t *)"\x02\x10", 2, "audio object type 0");
    expect_asc_error((const uint8_t *)"\xF8\x00\x00", 3, "audio object type 32");
    expect_asc_error((const uint8_t *)"\x3A\x10", 2, "audio object type 7");
    expect_asc_error((const uint8_t *)"\x2B\x11", 2, "truncated"); /* SBR fields missing */
    expect_asc_error((const uint8_t *)"\x17\x80\x00\x00\x08", 5, "sample rate 0 Hz");
    expect_asc_error((const uint8_t *)"\x12", 1, "AudioSpecificConfig of 1 bytes");
}

static void test_packets(void **state)
{
    (void)state;
    AVCodecParameters *v = NULL, *a = NULL;
    assert_int_equal(lc_flv_video_params(tc_avcc_320x240, sizeof tc_avcc_320x240, &v, NULL), 0);
    assert_int_equal(lc_flv_audio_params(tc_asc_48k_stereo, 2, &a, NULL), 0);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_avc_frame_body(&b, true, 80, 20);
    lc_flv_tag_t tag;
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    AVPacket *pkt = NULL;
    assert_int_equal(lc_flv_packet(&tag, v, 0, 1000, &pkt, NULL), 0);
    assert_int_equal(pkt->stream_index, 0);
    assert_int_equal(pkt->dts, 1000);
    assert_int_equal(pkt->pts, 1080);
    assert_int_equal(pkt->flags & AV_PKT_FLAG_KEY, AV_PKT_FLAG_KEY);
    assert_int_equal(pkt->time_base.num, 1);
    assert_int_equal(pkt->time_base.den, 1000);
    assert_int_equal(pkt->size, 24);
    assert_memory_equal(pkt->data, b.data + 5, 24);
    assert_non_null(pkt->buf); /* reference-counted: the live module takes its own reference */
    av_packet_free(&pkt);

    /* a negative composition offset never puts pts before dts */
    lc_bytes_reset(&b);
    tc_avc_frame_body(&b, false, -40, 5);
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(lc_flv_packet(&tag, v, 0, 500, &pkt, NULL), 0);
    assert_int_equal(pkt->pts, 500);
    assert_int_equal(pkt->flags & AV_PKT_FLAG_KEY, 0);
    av_packet_free(&pkt);

    /* AVCC framing that lies: a NAL length past the end, a cut length prefix */
    lc_bytes_reset(&b);
    tc_avc_frame_body(&b, true, 0, 20);
    b.data[8] = 21;
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    lc_why_t why = {{0}};
    assert_int_equal(lc_flv_packet(&tag, v, 0, 0, &pkt, &why), LC_EMEDIA);
    assert_null(pkt);
    assert_non_null(strstr(why.text, "NAL unit of 21 bytes, 20 left"));
    b.data[8] = 20;
    tc_put(&b, "\0\0", 2); /* two stray bytes: a truncated next length */
    assert_int_equal(lc_flv_parse_video(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(lc_flv_packet(&tag, v, 0, 0, &pkt, &why), LC_EMEDIA);
    assert_non_null(strstr(why.text, "truncated NAL length"));

    /* audio */
    lc_bytes_reset(&b);
    tc_aac_body(&b, 1, "\x01\x02\x03\x04", 4);
    assert_int_equal(lc_flv_parse_audio(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(lc_flv_packet(&tag, a, 1, 23, &pkt, NULL), 0);
    assert_int_equal(pkt->stream_index, 1);
    assert_int_equal(pkt->pts, 23);
    assert_int_equal(pkt->dts, 23);
    assert_int_equal(pkt->size, 4);
    assert_int_equal(pkt->flags & AV_PKT_FLAG_KEY, AV_PKT_FLAG_KEY);
    av_packet_free(&pkt);

    /* configs are not packets */
    lc_bytes_reset(&b);
    tc_aac_body(&b, 0, tc_asc_48k_stereo, 2);
    assert_int_equal(lc_flv_parse_audio(b.data, b.len, &tag, NULL), 0);
    assert_int_equal(lc_flv_packet(&tag, a, 1, 0, &pkt, NULL), -EINVAL);
    lc_bytes_free(&b);
    avcodec_parameters_free(&v);
    avcodec_parameters_free(&a);
}

static void test_avcc_framing_sizes(void **state)
{
    (void)state;
    const uint8_t two[] = {0, 2, 0x65, 0x88, 0, 1, 0x41};
    assert_int_equal(lc_avc_check_frame(two, sizeof two, 2, NULL), 0);
    assert_int_equal(lc_avc_check_frame(two, sizeof two, 4, NULL), LC_EMEDIA);
    const uint8_t one[] = {2, 0x65, 0x88, 0, 1, 0x41};
    assert_int_equal(lc_avc_check_frame(one, sizeof one, 1, NULL), 0); /* an empty NAL is framing */
    assert_int_equal(lc_avc_check_frame(one, sizeof one - 1, 1, NULL), LC_EMEDIA);
    assert_int_equal(lc_avc_check_frame(one, 3, 1, NULL), 0);
    assert_int_equal(lc_avc_check_frame(one, 3, 3, NULL), LC_EMEDIA);
    assert_int_equal(lc_avc_check_frame(NULL, 0, 4, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avc_sequence_header),
        cmocka_unit_test(test_sps_variants),
        cmocka_unit_test(test_avc_frames),
        cmocka_unit_test(test_video_refusals),
        cmocka_unit_test(test_lying_records),
        cmocka_unit_test(test_aac),
        cmocka_unit_test(test_audio_refusals),
        cmocka_unit_test(test_packets),
        cmocka_unit_test(test_avcc_framing_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
