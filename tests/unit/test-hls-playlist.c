/* HLS playlist rendering tests (server/hls/playlist.h): each playlist is compared, tag by tag,
 * with the exact text expected; the live sliding form (with and without low latency), the
 * recording's EVENT and VOD forms, the discontinuity rule both share, and the multivariant
 * playlist. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "hls/playlist.h"

#define T0 1700000000000LL /* 2023-11-14T22:13:20.000Z */

/* A run of segments with their parts, built for one test. */
typedef struct {
    lc_part_meta_t parts[32][8];
    lc_hls_segment_t segs[32];
    int n;
    lc_hls_segment_t partial;
} fixture_t;

/* Appends segment `msn` of `nparts` parts of `part_s` seconds; its PDT follows the previous
 * segment's end. The first part is independent, and so is the third (a keyframe mid-segment). */
static lc_hls_segment_t *add(fixture_t *f, int64_t msn, int nparts, double part_s, int init,
                                  bool disc)
{
    lc_hls_segment_t *prev = f->n ? &f->segs[f->n - 1] : NULL;
    int64_t pdt = prev ? prev->meta.pdt_ms + (int64_t)(prev->meta.duration * 1000 + 0.5) : T0;
    lc_part_meta_t *parts = f->parts[f->n];
    for (int i = 0; i < nparts; i++)
        parts[i] = (lc_part_meta_t){msn, i, part_s, i == 0 || i == 2, init};
    lc_hls_segment_t *s = &f->segs[f->n++];
    *s = (lc_hls_segment_t){
        .meta = {msn, nparts * part_s, pdt, disc, init, nparts},
        .parts = parts,
        .part_count = nparts,
    };
    return s;
}

/* Turns the last segment added into the segment in progress, with `nparts` parts so far. */
static const lc_hls_segment_t *to_partial(fixture_t *f, int nparts)
{
    f->partial = f->segs[--f->n];
    f->partial.part_count = nparts;
    f->partial.meta.duration = 99; /* ignored for the segment in progress */
    return &f->partial;
}

static lc_hls_media_t media(const fixture_t *f, int first, const lc_hls_segment_t *partial,
                                 bool ll)
{
    return (lc_hls_media_t){
        .segments = f->segs + first,
        .segment_count = f->n - first,
        .partial = partial,
        .target_duration = 2,
        .part_target_s = 0.5,
        .low_latency = ll,
    };
}

static void expect_media(const lc_hls_media_t *pl, bool delta, const char *expected)
{
    lc_bytes_t out;
    lc_bytes_init(&out);
    assert_int_equal(lc_hls_render_media(pl, delta, &out), 0);
    assert_string_equal((const char *)out.data, expected);
    lc_bytes_free(&out);
}

static void expect_master(const lc_media_info_t *info, const char *expected)
{
    lc_bytes_t out;
    lc_bytes_init(&out);
    assert_int_equal(lc_hls_render_multivariant(info, "index.m3u8", &out), 0);
    assert_string_equal((const char *)out.data, expected);
    lc_bytes_free(&out);
}

/* ---- without low latency ------------------------------------------------------------------- */

static void test_basic(void **state)
{
    fixture_t f = {0};
    add(&f, 10, 4, 0.5, 1, false);
    add(&f, 11, 4, 0.5, 1, false);
    add(&f, 12, 3, 0.5, 1, false);
    add(&f, 13, 2, 0.5, 1, false);
    lc_hls_media_t pl = media(&f, 0, to_partial(&f, 2), false);
    /* The segment in progress is not listed without low latency. */
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:10\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-10.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-11.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z\n"
                 "#EXTINF:1.500,\n"
                 "seg-12.m4s\n");
    /* A delta request without low latency gets the full playlist. */
    expect_media(&pl, true,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:10\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-10.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-11.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z\n"
                 "#EXTINF:1.500,\n"
                 "seg-12.m4s\n");
}

/* A reconnect: new init, EXT-X-DISCONTINUITY on the run's first segment; discontinuities that
 * left the window are counted in EXT-X-DISCONTINUITY-SEQUENCE. */
static void test_discontinuity(void **state)
{
    fixture_t f = {0};
    add(&f, 20, 4, 0.5, 2, false);
    add(&f, 21, 2, 0.5, 2, false);
    add(&f, 22, 4, 0.5, 3, true);
    f.segs[2].meta.pdt_ms += 5000; /* the presenter was away for 5 s */
    add(&f, 23, 4, 0.5, 3, false);
    lc_hls_media_t pl = media(&f, 0, NULL, false);
    pl.discontinuity_sequence = 1;
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:20\n"
                 "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-2.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-20.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXTINF:1.000,\n"
                 "seg-21.m4s\n"
                 "#EXT-X-DISCONTINUITY\n"
                 "#EXT-X-MAP:URI=\"init-3.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-22.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-23.m4s\n");

    /* The window slides past the run's start: the first listed segment carries its own MAP;
     * segments 20 and 21 had no discontinuity, so the sequence stays; once segment 22 leaves,
     * its discontinuity is counted. */
    pl = media(&f, 2, NULL, false);
    pl.discontinuity_sequence = 1;
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:22\n"
                 "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-DISCONTINUITY\n"
                 "#EXT-X-MAP:URI=\"init-3.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-22.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-23.m4s\n");
    pl = media(&f, 3, NULL, false);
    pl.discontinuity_sequence = 2;
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:23\n"
                 "#EXT-X-DISCONTINUITY-SEQUENCE:2\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-3.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-23.m4s\n");
}

/* The window slides one segment at a time: media sequence and PDT of the first line follow. */
static void test_window_sliding(void **state)
{
    fixture_t f = {0};
    for (int i = 0; i < 8; i++)
        add(&f, i, 4, 0.5, 1, false);
    for (int first = 0; first + 3 <= 8; first++) {
        lc_hls_media_t pl = media(&f, first, NULL, false);
        pl.segment_count = 3;
        lc_bytes_t out;
        lc_bytes_init(&out);
        assert_int_equal(lc_hls_render_media(&pl, false, &out), 0);
        char head[512];
        snprintf(head, sizeof head,
                 "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:%02d.000Z\n#EXTINF:2.000,\n"
                 "seg-%d.m4s\n",
                 first, 20 + 2 * first, first);
        assert_int_equal(strncmp((const char *)out.data, head, strlen(head)), 0);
        char tail[64];
        snprintf(tail, sizeof tail, "seg-%d.m4s\n", first + 2);
        assert_string_equal((const char *)out.data + out.len - strlen(tail), tail);
        lc_bytes_free(&out);
    }
}

static void test_endlist(void **state)
{
    fixture_t f = {0};
    add(&f, 0, 4, 0.5, 1, false);
    add(&f, 1, 1, 0.25, 1, false);
    lc_hls_media_t pl = media(&f, 0, NULL, false);
    pl.ended = true;
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-0.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXTINF:0.250,\n"
                 "seg-1.m4s\n"
                 "#EXT-X-ENDLIST\n");
    /* Low latency and ended: parts stay listed, no preload hint after ENDLIST. */
    pl.low_latency = true;
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:9\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,"
                 "HOLD-BACK=6.000,CAN-SKIP-UNTIL=12.000\n"
                 "#EXT-X-PART-INF:PART-TARGET=0.500\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-0.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-0.1.m4s\"\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-0.2.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-0.3.m4s\"\n"
                 "#EXTINF:2.000,\n"
                 "seg-0.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXT-X-PART:DURATION=0.250,URI=\"part-1.0.m4s\",INDEPENDENT=YES\n"
                 "#EXTINF:0.250,\n"
                 "seg-1.m4s\n"
                 "#EXT-X-ENDLIST\n");
}

/* ---- low latency --------------------------------------------------------------------------- */

/* Parts are listed for the segments that start within 3 target durations of the live edge and
 * for the segment in progress; the preload hint names the next part. */
static void test_low_latency(void **state)
{
    fixture_t f = {0};
    for (int i = 0; i < 4; i++)
        add(&f, 10 + i, 4, 0.5, 1, false);
    add(&f, 14, 4, 0.5, 1, false);
    lc_hls_media_t pl = media(&f, 0, to_partial(&f, 2), true);
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:9\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,"
                 "HOLD-BACK=6.000,CAN-SKIP-UNTIL=12.000\n"
                 "#EXT-X-PART-INF:PART-TARGET=0.500\n"
                 "#EXT-X-MEDIA-SEQUENCE:10\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-10.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-11.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-12.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-12.1.m4s\"\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-12.2.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-12.3.m4s\"\n"
                 "#EXTINF:2.000,\n"
                 "seg-12.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:26.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-13.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-13.1.m4s\"\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-13.2.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-13.3.m4s\"\n"
                 "#EXTINF:2.000,\n"
                 "seg-13.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-14.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-14.1.m4s\"\n"
                 "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-14.2.m4s\"\n");
}

/* Parts are listed for segments that start less than three target durations from the end: with
 * 2 s segments and no part of the next yet, the segment starting exactly 6 s from the end has
 * none (validators count at most three segments with parts, the hinted one included). */
static void test_parts_boundary(void **state)
{
    fixture_t f = {0};
    for (int i = 0; i < 4; i++)
        add(&f, 10 + i, 4, 0.5, 1, false);
    lc_hls_media_t pl = media(&f, 0, NULL, true);
    lc_bytes_t out;
    lc_bytes_init(&out);
    assert_int_equal(lc_hls_render_media(&pl, false, &out), 0);
    const char *text = (const char *)out.data;
    assert_null(strstr(text, "part-11.0.m4s"));
    assert_non_null(strstr(text, "part-12.0.m4s"));
    assert_non_null(strstr(text, "part-13.3.m4s"));
    assert_non_null(strstr(text, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-14.0.m4s\""));
    lc_bytes_free(&out);
}

/* Between segments (the last one just ended, the next has no part yet) the hint names part 0 of
 * the next segment; a segment in progress without parts shows its tags before the hint, and a
 * new run's tags (discontinuity, map) come before its first part. */
static void test_low_latency_edges(void **state)
{
    fixture_t f = {0};
    add(&f, 5, 4, 0.5, 1, false);
    lc_hls_media_t pl = media(&f, 0, NULL, true);
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:9\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,"
                 "HOLD-BACK=6.000,CAN-SKIP-UNTIL=12.000\n"
                 "#EXT-X-PART-INF:PART-TARGET=0.500\n"
                 "#EXT-X-MEDIA-SEQUENCE:5\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.1.m4s\"\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.2.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.3.m4s\"\n"
                 "#EXTINF:2.000,\n"
                 "seg-5.m4s\n"
                 "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-6.0.m4s\"\n");

    add(&f, 6, 1, 0.5, 2, true);
    pl = media(&f, 0, to_partial(&f, 1), true);
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:9\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,"
                 "HOLD-BACK=6.000,CAN-SKIP-UNTIL=12.000\n"
                 "#EXT-X-PART-INF:PART-TARGET=0.500\n"
                 "#EXT-X-MEDIA-SEQUENCE:5\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.1.m4s\"\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.2.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-5.3.m4s\"\n"
                 "#EXTINF:2.000,\n"
                 "seg-5.m4s\n"
                 "#EXT-X-DISCONTINUITY\n"
                 "#EXT-X-MAP:URI=\"init-2.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-6.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-6.1.m4s\"\n");

    /* Only the first part of the first segment: legal with low latency (the part plays). */
    fixture_t g = {0};
    add(&g, 0, 1, 0.5, 1, false);
    pl = media(&g, 0, to_partial(&g, 1), true);
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:9\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,"
                 "HOLD-BACK=6.000,CAN-SKIP-UNTIL=12.000\n"
                 "#EXT-X-PART-INF:PART-TARGET=0.500\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-0.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-0.1.m4s\"\n");
    /* Before that part, or without low latency (the segment in progress is not listed), there
     * is nothing to play: no playlist (hls.js would report LEVEL_EMPTY_ERROR). */
    lc_bytes_t out;
    lc_bytes_init(&out);
    g.partial.part_count = 0;
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    g.partial.part_count = 1;
    pl.low_latency = false;
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    assert_int_equal(out.len, 0);
    lc_bytes_free(&out);
}

/* Delta update: segments that end CAN-SKIP-UNTIL (12 s) or more before the end are skipped;
 * the first listed one repeats the MAP. */
static void test_delta(void **state)
{
    fixture_t f = {0};
    for (int i = 0; i < 10; i++)
        add(&f, 100 + i, 4, 0.5, 1, false);
    add(&f, 110, 4, 0.5, 1, false);
    lc_hls_media_t pl = media(&f, 0, to_partial(&f, 2), true);
    pl.discontinuity_sequence = 4;
    /* 10 x 2 s + 1 s in progress = 21 s: 100..103 end 19..13 s before the end; 104 ends 11 s
     * before it, so it stays and the delta covers 13 s >= CAN-SKIP-UNTIL. */
    expect_media(&pl, true,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:9\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,"
                 "HOLD-BACK=6.000,CAN-SKIP-UNTIL=12.000\n"
                 "#EXT-X-PART-INF:PART-TARGET=0.500\n"
                 "#EXT-X-MEDIA-SEQUENCE:100\n"
                 "#EXT-X-DISCONTINUITY-SEQUENCE:4\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-104.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-105.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:32.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-106.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:34.000Z\n"
                 "#EXTINF:2.000,\n"
                 "seg-107.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:36.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-108.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-108.1.m4s\"\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-108.2.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-108.3.m4s\"\n"
                 "#EXTINF:2.000,\n"
                 "seg-108.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:38.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-109.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-109.1.m4s\"\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-109.2.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-109.3.m4s\"\n"
                 "#EXTINF:2.000,\n"
                 "seg-109.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:40.000Z\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-110.0.m4s\",INDEPENDENT=YES\n"
                 "#EXT-X-PART:DURATION=0.500,URI=\"part-110.1.m4s\"\n"
                 "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-110.2.m4s\"\n");

    /* Nothing old enough to skip: the delta is the full playlist. */
    lc_bytes_t full, delta;
    lc_bytes_init(&full);
    lc_bytes_init(&delta);
    pl = media(&f, 6, &f.partial, true);
    assert_int_equal(lc_hls_render_media(&pl, false, &full), 0);
    assert_int_equal(lc_hls_render_media(&pl, true, &delta), 0);
    assert_string_equal((const char *)delta.data, (const char *)full.data);
    assert_null(strstr((const char *)full.data, "EXT-X-SKIP"));
    lc_bytes_free(&full);
    lc_bytes_free(&delta);
}

static void test_nothing_to_list(void **state)
{
    lc_hls_media_t pl = {.target_duration = 2, .part_target_s = 0.5, .low_latency = true};
    lc_bytes_t out;
    lc_bytes_init(&out);
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    pl.low_latency = false;
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    assert_int_equal(out.len, 0);
    lc_bytes_free(&out);
}

/* The EXTINF value as written, rounded to the nearest integer (RFC 8216 4.3.3.1). */
static void test_target_duration(void **state)
{
    assert_int_equal(lc_hls_target_duration(2.0, 3), 2);
    assert_int_equal(lc_hls_target_duration(2.0000004, 0), 2); /* sums of parts; 0 means 3 */
    assert_int_equal(lc_hls_target_duration(2.002, 3), 2);     /* 60 frames at 29.97 fps */
    assert_int_equal(lc_hls_target_duration(2.4994, 3), 2);    /* written "2.499" */
    assert_int_equal(lc_hls_target_duration(2.4996, 3), 3);    /* written "2.500": rounds up */
    assert_int_equal(lc_hls_target_duration(4.1, 3), 4);
    assert_int_equal(lc_hls_target_duration(4.6, 3), 5);
    assert_int_equal(lc_hls_target_duration(0.2, 3), 1);
    assert_int_equal(lc_hls_target_duration(0, 3), 1);
    /* The decision is made on the text as written, in the playlist's precision. */
    assert_int_equal(lc_hls_target_duration(2.4999996, 6), 3); /* written "2.500000" */
    assert_int_equal(lc_hls_target_duration(2.4999994, 6), 2); /* written "2.499999" */
}

/* A live window passes its own (never decreasing) target duration: a larger one is written as
 * given, one that a listed segment exceeds is refused rather than written. */
static void test_target_duration_given(void **state)
{
    fixture_t f = {0};
    add(&f, 3, 4, 0.5, 1, false);
    add(&f, 4, 5, 0.5, 1, false); /* 2.5 s */
    lc_hls_media_t pl = media(&f, 0, NULL, false);
    pl.target_duration = 8;
    lc_bytes_t out;
    lc_bytes_init(&out);
    assert_int_equal(lc_hls_render_media(&pl, false, &out), 0);
    assert_non_null(strstr((const char *)out.data, "#EXT-X-TARGETDURATION:8\n"));
    lc_bytes_reset(&out);
    pl.target_duration = 2;
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    assert_int_equal(out.len, 0);
    pl.target_duration = 0; /* computed: the longest segment, rounded up */
    assert_int_equal(lc_hls_render_media(&pl, false, &out), 0);
    assert_non_null(strstr((const char *)out.data, "#EXT-X-TARGETDURATION:3\n"));
    lc_bytes_free(&out);
}

/* ---- the recording's forms: EVENT while live, VOD once ended ------------------------------- */

static void test_event_and_vod(void **state)
{
    fixture_t f = {0};
    add(&f, 0, 4, 0.5, 1, false);
    add(&f, 1, 1, 0.52, 1, false);
    lc_hls_media_t pl = {.type = LC_HLS_EVENT, .segments = f.segs, .segment_count = 2,
                         .extinf_decimals = 6};
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n"
                 "#EXT-X-PLAYLIST-TYPE:EVENT\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXTINF:2.000000,\n"
                 "seg-0.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXTINF:0.520000,\n"
                 "seg-1.m4s\n");
    pl.type = LC_HLS_VOD; /* VOD always ends the list */
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n"
                 "#EXT-X-PLAYLIST-TYPE:VOD\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                 "#EXTINF:2.000000,\n"
                 "seg-0.m4s\n"
                 "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                 "#EXTINF:0.520000,\n"
                 "seg-1.m4s\n"
                 "#EXT-X-ENDLIST\n");
    /* A recording without a segment is an empty, ended replay. */
    pl.segment_count = 0;
    expect_media(&pl, false,
                 "#EXTM3U\n"
                 "#EXT-X-VERSION:7\n"
                 "#EXT-X-TARGETDURATION:1\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n"
                 "#EXT-X-PLAYLIST-TYPE:VOD\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-ENDLIST\n");

    /* Live-only features are refused in the other forms, and so is a silly precision. */
    lc_bytes_t out;
    lc_bytes_init(&out);
    pl.segment_count = 2;
    pl.low_latency = true;
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    pl.low_latency = false;
    pl.partial = &f.segs[1];
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    pl.partial = NULL;
    pl.discontinuity_sequence = 1;
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    pl.discontinuity_sequence = 0;
    pl.extinf_decimals = 10;
    assert_int_equal(lc_hls_render_media(&pl, false, &out), -EINVAL);
    assert_int_equal(out.len, 0);
    lc_bytes_free(&out);
}

/* One rule for where a playlist breaks, for the live window and the recording alike. */
static void test_discontinuity_rule(void **state)
{
    lc_segment_meta_t prev = {.msn = 7, .init_id = 2};
    lc_segment_meta_t seg = {.msn = 8, .init_id = 2};
    assert_false(lc_hls_discontinuity(NULL, &seg));
    assert_false(lc_hls_discontinuity(&prev, &seg));
    seg.discontinuity = true; /* a new run */
    assert_true(lc_hls_discontinuity(&prev, &seg));
    assert_false(lc_hls_discontinuity(NULL, &seg)); /* nothing before it to break from */
    seg.discontinuity = false;
    seg.init_id = 3; /* a run whose first segment is gone */
    assert_true(lc_hls_discontinuity(&prev, &seg));
    seg.init_id = 2;
    seg.msn = 10; /* segment 9 is missing: the media time jumps */
    assert_true(lc_hls_discontinuity(&prev, &seg));
}

/* ---- multivariant -------------------------------------------------------------------------- */

static void test_master(void **state)
{
    lc_media_info_t av = {
        .has_video = true,
        .has_audio = true,
        .codecs = "avc1.64001f,mp4a.40.2",
        .width = 1280,
        .height = 720,
        .frame_rate = 29.97,
        .bandwidth_bps = 3000000,
    };
    expect_master(&av, "#EXTM3U\n"
                       "#EXT-X-INDEPENDENT-SEGMENTS\n"
                       "#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS=\"avc1.64001f,mp4a.40.2\","
                       "RESOLUTION=1280x720,FRAME-RATE=29.970\n"
                       "index.m3u8\n");
    av.frame_rate = 0; /* unknown: attribute left out */
    expect_master(&av, "#EXTM3U\n"
                       "#EXT-X-INDEPENDENT-SEGMENTS\n"
                       "#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS=\"avc1.64001f,mp4a.40.2\","
                       "RESOLUTION=1280x720\n"
                       "index.m3u8\n");
    lc_media_info_t audio = {
        .has_audio = true,
        .codecs = "mp4a.40.2",
        .bandwidth_bps = 128000,
        .audio_sample_rate = 48000,
        .audio_channels = 2,
    };
    expect_master(&audio, "#EXTM3U\n"
                          "#EXT-X-INDEPENDENT-SEGMENTS\n"
                          "#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS=\"mp4a.40.2\"\n"
                          "index.m3u8\n");

    lc_bytes_t out;
    lc_bytes_init(&out);
    audio.bandwidth_bps = 0;
    assert_int_equal(lc_hls_render_multivariant(&audio, "index.m3u8", &out), -EINVAL);
    audio.bandwidth_bps = 1;
    strcpy(audio.codecs, "mp4a\"");
    assert_int_equal(lc_hls_render_multivariant(&audio, "index.m3u8", &out), -EINVAL);
    strcpy(audio.codecs, "mp4a.40.2");
    assert_int_equal(lc_hls_render_multivariant(&audio, "a\nb", &out), -EINVAL);
    assert_int_equal(out.len, 0);
    lc_bytes_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_discontinuity),
        cmocka_unit_test(test_window_sliding),
        cmocka_unit_test(test_endlist),
        cmocka_unit_test(test_low_latency),
        cmocka_unit_test(test_low_latency_edges),
        cmocka_unit_test(test_parts_boundary),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_nothing_to_list),
        cmocka_unit_test(test_target_duration),
        cmocka_unit_test(test_target_duration_given),
        cmocka_unit_test(test_event_and_vod),
        cmocka_unit_test(test_discontinuity_rule),
        cmocka_unit_test(test_master),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
