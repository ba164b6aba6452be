/* Window tests: the writer's calls and what readers get back, sliding and retention (RFC 8216
 * 6.2.1/6.2.2: nothing listed twice, sequences and target duration never going back), cached
 * playlists, and a multi-threaded reader stress (run under ASan in the test build). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/log.h"
#include "live/window.h"

#include "log_capture.h"

#define T0 1700000000000LL

static lc_window_config_t config(int window, int extra, bool ll)
{
    return (lc_window_config_t){
        .part_target_s = 0.5,
        .segment_target_s = 2.0,
        .window_segments = window,
        .keep_extra_segments = extra,
        .low_latency = ll,
    };
}

/* A part's bytes say which part they are: msn, index, then `index + 1` filler bytes. */
static lc_buf_t *part_bytes(int64_t msn, int index)
{
    size_t len = 12 + (size_t)index + 1;
    lc_buf_t *b = lc_buf_new(len);
    uint8_t *d = lc_buf_data(b);
    memcpy(d, &msn, 8);
    memcpy(d + 8, &index, 4);
    memset(d + 12, 0xa0 + index, (size_t)index + 1);
    return b;
}

static bool part_bytes_ok(const uint8_t *d, size_t len, int64_t msn, int index)
{
    int64_t m;
    int i;
    if (len != 12 + (size_t)index + 1)
        return false;
    memcpy(&m, d, 8);
    memcpy(&i, d + 8, 4);
    for (int k = 0; k <= index; k++)
        if (d[12 + k] != (uint8_t)(0xa0 + index))
            return false;
    return m == msn && i == index;
}

static void add_init(lc_window_t *w, int id)
{
    lc_media_info_t info = {.has_video = true, .has_audio = true, .codecs = "avc1.64001f,mp4a.40.2",
                            .width = 1280, .height = 720, .frame_rate = 30, .bandwidth_bps = 2500000};
    lc_buf_t *init = lc_buf_new_copy("ftypmoov", 8);
    assert_int_equal(lc_window_add_init(w, id, init, &info), 0);
    lc_buf_unref(init);
}

static void begin(lc_window_t *w, int64_t msn, int init, bool disc)
{
    lc_segment_meta_t seg = {.msn = msn, .pdt_ms = T0 + msn * 2000, .discontinuity = disc,
                             .init_id = init};
    assert_int_equal(lc_window_begin_segment(w, &seg), 0);
}

static void part(lc_window_t *w, int64_t msn, int index, int init, double dur)
{
    lc_part_meta_t meta = {msn, index, dur, index == 0, init};
    lc_buf_t *b = part_bytes(msn, index);
    assert_int_equal(lc_window_add_part(w, &meta, b), 0);
    lc_buf_unref(b);
}

static void end(lc_window_t *w, int64_t msn, int init, int nparts, double dur)
{
    lc_segment_meta_t seg = {.msn = msn, .duration = dur, .init_id = init, .part_count = nparts};
    assert_int_equal(lc_window_end_segment(w, &seg), 0);
}

/* A whole segment of `nparts` parts of 0.5 s. */
static void segment(lc_window_t *w, int64_t msn, int init, bool disc, int nparts)
{
    begin(w, msn, init, disc);
    for (int i = 0; i < nparts; i++)
        part(w, msn, i, init, 0.5);
    end(w, msn, init, nparts, nparts * 0.5);
}

static char *playlist_text(lc_window_t *w)
{
    lc_buf_t *b = lc_window_media_playlist(w);
    if (!b)
        return NULL;
    char *s = strdup((const char *)lc_buf_cdata(b));
    lc_buf_unref(b);
    return s;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_empty(void **state)
{
    lc_window_config_t bad = config(0, 0, false);
    assert_null(lc_window_new(&bad));
    lc_window_config_t cfg = config(3, 1, false);
    lc_window_t *w = lc_window_new(&cfg);
    assert_non_null(w);
    assert_null(lc_window_media_playlist(w));
    assert_null(lc_window_media_playlist_delta(w));
    assert_null(lc_window_master_playlist(w));
    assert_null(lc_window_init(w, 1));
    assert_null(lc_window_segment(w, 0));
    assert_null(lc_window_part(w, 0, 0));
    assert_false(lc_window_ended(w));
    /* Ending a window that never had media leaves it without a playlist. */
    lc_window_end(w);
    assert_true(lc_window_ended(w));
    assert_null(lc_window_media_playlist(w));
    lc_window_unref(w);
    lc_window_unref(NULL);
    assert_null(lc_window_ref(NULL));
}

static void test_flow(void **state)
{
    lc_window_config_t cfg = config(3, 1, false);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    lc_buf_t *init = lc_window_init(w, 1);
    assert_memory_equal(lc_buf_cdata(init), "ftypmoov", 8);
    lc_buf_unref(init);

    begin(w, 0, 1, false);
    part(w, 0, 0, 1, 0.5);
    part(w, 0, 1, 1, 0.5);
    /* Parts are served as soon as they are added; the segment once it has ended. */
    lc_buf_t *p1 = lc_window_part(w, 0, 1);
    assert_true(part_bytes_ok(lc_buf_cdata(p1), lc_buf_len(p1), 0, 1));
    lc_buf_t *p1again = lc_window_part(w, 0, 1);
    assert_ptr_equal(p1, p1again); /* the same buffer, not a copy */
    lc_buf_unref(p1again);
    assert_null(lc_window_part(w, 0, 2));
    assert_null(lc_window_part(w, 0, -1));
    assert_null(lc_window_segment(w, 0));
    /* Without low latency nothing is listed before the first segment ends: no playlist at all
     * (one without a segment is an error to players), and no multivariant playlist naming it. */
    assert_null(lc_window_media_playlist(w));
    assert_null(lc_window_media_playlist_delta(w));
    assert_null(lc_window_master_playlist(w));
    end(w, 0, 1, 2, 1.0);
    lc_buf_t *master = lc_window_master_playlist(w);
    assert_non_null(master);
    assert_string_equal((const char *)lc_buf_cdata(master),
                        "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                        "#EXT-X-STREAM-INF:BANDWIDTH=2500000,CODECS=\"avc1.64001f,mp4a.40.2\","
                        "RESOLUTION=1280x720,FRAME-RATE=30.000\nindex.m3u8\n");
    lc_buf_unref(master);

    lc_buf_t *seg = lc_window_segment(w, 0);
    lc_buf_t *p0 = lc_window_part(w, 0, 0);
    assert_int_equal(lc_buf_len(seg), lc_buf_len(p0) + lc_buf_len(p1));
    assert_memory_equal(lc_buf_cdata(seg), lc_buf_cdata(p0), lc_buf_len(p0));
    assert_memory_equal(lc_buf_cdata(seg) + lc_buf_len(p0), lc_buf_cdata(p1), lc_buf_len(p1));
    lc_buf_t *seg_again = lc_window_segment(w, 0);
    assert_ptr_equal(seg, seg_again); /* built once, when the segment ended */
    lc_buf_unref(seg_again);
    lc_buf_unref(seg);
    lc_buf_unref(p0);
    lc_buf_unref(p1);

    /* The playlist is cached: the same buffer until something changes. */
    lc_buf_t *a = lc_window_media_playlist(w), *b = lc_window_media_playlist(w);
    assert_ptr_equal(a, b);
    assert_string_equal((const char *)lc_buf_cdata(a),
                        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n"
                        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                        "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                        "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                        "#EXTINF:1.000,\nseg-0.m4s\n");
    lc_buf_t *delta = lc_window_media_playlist_delta(w);
    assert_ptr_equal(delta, a); /* no low latency: the delta form is the playlist itself */
    lc_buf_unref(delta);
    begin(w, 1, 1, false); /* not listed without low latency: nothing changed */
    part(w, 1, 0, 1, 0.5);
    lc_buf_t *c = lc_window_media_playlist(w);
    assert_ptr_equal(a, c);
    lc_buf_unref(c);
    end(w, 1, 1, 1, 0.5);
    c = lc_window_media_playlist(w);
    assert_ptr_not_equal(a, c);
    assert_non_null(strstr((const char *)lc_buf_cdata(c), "seg-1.m4s\n"));
    lc_buf_unref(a);
    lc_buf_unref(b);
    lc_buf_unref(c);
    /* Readers keep their references past the window's end of life. */
    lc_buf_t *kept = lc_window_init(w, 1);
    lc_window_unref(w);
    assert_memory_equal(lc_buf_cdata(kept), "ftypmoov", 8);
    lc_buf_unref(kept);
}

/* A window of a session names the session's media playlist (/live/<live key>/<session>/...). */
static void test_session(void **state)
{
    lc_window_config_t cfg = config(3, 1, false);
    cfg.session_id = 42;
    lc_window_t *w = lc_window_new(&cfg);
    assert_int_equal(lc_window_session_id(w), 42);
    add_init(w, 1);
    segment(w, 0, 1, false, 4);
    lc_buf_t *master = lc_window_master_playlist(w);
    const char *text = (const char *)lc_buf_cdata(master);
    assert_string_equal(text + strlen(text) - strlen("\n42/index.m3u8\n"), "\n42/index.m3u8\n");
    lc_buf_unref(master);
    lc_window_unref(w);
}

/* window_segments listed, keep_extra_segments more downloadable, older ones gone. */
static void test_sliding(void **state)
{
    lc_window_config_t cfg = config(3, 2, false);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    for (int msn = 0; msn < 10; msn++)
        segment(w, msn, 1, false, 4);
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-MEDIA-SEQUENCE:7\n"));
    assert_null(strstr(text, "seg-6.m4s"));
    assert_non_null(strstr(text, "seg-7.m4s\n"));
    assert_non_null(strstr(text, "seg-9.m4s\n"));
    free(text);
    for (int msn = 0; msn < 10; msn++) {
        lc_buf_t *s = lc_window_segment(w, msn), *p = lc_window_part(w, msn, 3);
        assert_true((s != NULL) == (msn >= 5));
        assert_true((p != NULL) == (msn >= 5));
        if (p)
            assert_true(part_bytes_ok(lc_buf_cdata(p), lc_buf_len(p), msn, 3));
        lc_buf_unref(s);
        lc_buf_unref(p);
    }
    lc_window_unref(w);
}

/* The playlist never gets shorter than 3 target durations, even with a small window. */
static void test_minimum_length(void **state)
{
    lc_window_config_t cfg = config(1, 4, false);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    for (int msn = 0; msn < 8; msn++)
        segment(w, msn, 1, false, 4);
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-MEDIA-SEQUENCE:5\n")); /* 3 x 2 s = 6 s */
    free(text);
    lc_window_unref(w);
}

/* A second run: new init, discontinuity; the old init goes when its last segment goes; the
 * discontinuity sequence counts the discontinuities that left the playlist. */
static void test_runs(void **state)
{
    lc_window_config_t cfg = config(3, 1, false);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    segment(w, 0, 1, false, 4);
    segment(w, 1, 1, false, 4);
    add_init(w, 2);
    segment(w, 2, 2, true, 4);
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-MAP:URI=\"init-1.mp4\"\n#EXT-X-PROGRAM-DATE-TIME"));
    assert_non_null(strstr(text, "seg-1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-2.mp4\"\n"));
    assert_null(strstr(text, "DISCONTINUITY-SEQUENCE"));
    free(text);
    segment(w, 3, 2, false, 4);
    segment(w, 4, 2, false, 4);
    /* Kept: 1..4; listed: 2..4; init 1 is still used by segment 1. */
    lc_buf_t *i1 = lc_window_init(w, 1);
    assert_non_null(i1);
    lc_buf_unref(i1);
    segment(w, 5, 2, false, 4);
    assert_null(lc_window_init(w, 1));
    lc_buf_t *i2 = lc_window_init(w, 2);
    assert_non_null(i2);
    lc_buf_unref(i2);
    text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
    assert_null(strstr(text, "#EXT-X-DISCONTINUITY\n"));
    free(text);
    lc_window_unref(w);
}

static void test_low_latency(void **state)
{
    lc_window_config_t cfg = config(3, 1, true);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    for (int msn = 0; msn < 8; msn++)
        segment(w, msn, 1, false, 4);
    begin(w, 8, 1, false);
    part(w, 8, 0, 1, 0.5);
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-VERSION:9\n"));
    assert_non_null(strstr(text, "#EXT-X-PART-INF:PART-TARGET=0.500\n"));
    assert_non_null(strstr(text, "#EXT-X-PART:DURATION=0.500,URI=\"part-8.0.m4s\",INDEPENDENT=YES\n"
                                 "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-8.1.m4s\"\n"));
    free(text);
    /* Every part added changes the playlist. */
    lc_buf_t *before = lc_window_media_playlist(w);
    part(w, 8, 1, 1, 0.5);
    lc_buf_t *after = lc_window_media_playlist(w);
    assert_ptr_not_equal(before, after);
    assert_non_null(strstr((const char *)lc_buf_cdata(after), "part-8.2.m4s\"\n"));
    lc_buf_t *delta = lc_window_media_playlist_delta(w);
    assert_non_null(delta); /* 3 x 2 s + 1 s listed: nothing older than 12 s to skip */
    assert_string_equal((const char *)lc_buf_cdata(delta), (const char *)lc_buf_cdata(after));
    lc_buf_unref(delta);
    lc_buf_unref(before);
    lc_buf_unref(after);
    lc_window_unref(w);

    /* A long window: the delta skips what is older than 12 s. */
    cfg = config(10, 0, true);
    w = lc_window_new(&cfg);
    add_init(w, 1);
    for (int msn = 0; msn < 10; msn++)
        segment(w, msn, 1, false, 4);
    delta = lc_window_media_playlist_delta(w);
    assert_non_null(strstr((const char *)lc_buf_cdata(delta), "#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n"));
    lc_buf_unref(delta);
    lc_window_unref(w);
}

static void test_end(void **state)
{
    lc_window_config_t cfg = config(3, 1, true);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    segment(w, 0, 1, false, 4);
    begin(w, 1, 1, false);
    part(w, 1, 0, 1, 0.5);
    lc_window_end(w);
    assert_true(lc_window_ended(w));
    /* The segment in progress was finished with what it had. */
    lc_buf_t *s1 = lc_window_segment(w, 1);
    assert_non_null(s1);
    lc_buf_unref(s1);
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "#EXTINF:0.500,\nseg-1.m4s\n#EXT-X-ENDLIST\n"));
    assert_null(strstr(text, "PRELOAD-HINT"));
    free(text);
    /* No writes after the end. */
    lc_segment_meta_t seg = {.msn = 2, .init_id = 1};
    assert_int_equal(lc_window_begin_segment(w, &seg), -EINVAL);
    lc_window_end(w); /* idempotent */
    lc_window_unref(w);

    /* The only segment, begun without parts: nothing to play yet, so no playlist even with low
     * latency; its first part makes one (a part alone is playable). */
    w = lc_window_new(&cfg);
    add_init(w, 1);
    begin(w, 0, 1, false);
    assert_null(playlist_text(w));
    assert_null(lc_window_master_playlist(w));
    part(w, 0, 0, 1, 0.5);
    assert_non_null(text = playlist_text(w));
    assert_non_null(strstr(text, "#EXT-X-MEDIA-SEQUENCE:0\n"));
    assert_non_null(strstr(text, "#EXT-X-PART:DURATION=0.500,URI=\"part-0.0.m4s\",INDEPENDENT=YES\n"
                                 "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-0.1.m4s\"\n"));
    assert_null(strstr(text, "#EXTINF"));
    free(text);
    lc_buf_t *master = lc_window_master_playlist(w);
    assert_non_null(master);
    lc_buf_unref(master);
    lc_window_unref(w);

    /* The only segment, begun without parts: dropped at the end, and no playlist ever. */
    w = lc_window_new(&cfg);
    add_init(w, 1);
    begin(w, 0, 1, false);
    lc_window_end(w);
    assert_null(playlist_text(w));
    lc_window_unref(w);

    /* A segment begun without parts is dropped at the end. */
    w = lc_window_new(&cfg);
    add_init(w, 1);
    segment(w, 0, 1, false, 2);
    begin(w, 1, 1, false);
    lc_window_end(w);
    text = playlist_text(w);
    assert_null(strstr(text, "seg-1"));
    assert_non_null(strstr(text, "seg-0.m4s\n#EXT-X-ENDLIST\n"));
    free(text);
    lc_window_unref(w);
}

static void test_refused(void **state)
{
    lc_window_config_t cfg = config(3, 1, false);
    lc_window_t *w = lc_window_new(&cfg);
    lc_segment_meta_t seg = {.msn = 5, .init_id = 1};
    assert_int_equal(lc_window_begin_segment(w, &seg), -EINVAL); /* unknown init */
    add_init(w, 1);
    lc_buf_t *init = lc_buf_new_copy("x", 1);
    lc_media_info_t info = {0};
    assert_int_equal(lc_window_add_init(w, 1, init, &info), -EINVAL); /* same id twice */
    lc_buf_unref(init);
    lc_part_meta_t pm = {5, 0, 0.5, true, 1};
    lc_buf_t *b = part_bytes(5, 0);
    assert_int_equal(lc_window_add_part(w, &pm, b), -EINVAL); /* no segment in progress */
    assert_int_equal(lc_window_begin_segment(w, &seg), 0);
    assert_int_equal(lc_window_end_segment(w, &seg), -EINVAL); /* no parts */
    pm.index = 1;
    assert_int_equal(lc_window_add_part(w, &pm, b), -EINVAL); /* index skipped */
    pm.index = 0;
    pm.msn = 6;
    assert_int_equal(lc_window_add_part(w, &pm, b), -EINVAL); /* another segment */
    pm.msn = 5;
    assert_int_equal(lc_window_add_part(w, &pm, b), 0);
    seg.msn = 6;
    assert_int_equal(lc_window_begin_segment(w, &seg), -EINVAL); /* 5 still in progress */
    seg.msn = 5;
    seg.duration = 0.5;
    assert_int_equal(lc_window_end_segment(w, &seg), 0);
    assert_int_equal(lc_window_begin_segment(w, &seg), -EINVAL); /* msn not increasing */
    lc_buf_unref(b);
    lc_window_unref(w);
}

/* EXT-X-TARGETDURATION follows the longest segment (rounded) and never comes back down, even
 * once that segment has left the playlist. */
static void test_target_duration(void **state)
{
    lc_window_config_t cfg = config(2, 0, false);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    segment(w, 0, 1, false, 4);
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:2\n"));
    free(text);
    segment(w, 1, 1, false, 8); /* a 4 s GOP */
    text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:4\n"));
    free(text);
    /* Segment 1 leaves once what stays lasts 3 x 4 s: six more 2 s segments. */
    for (int msn = 2; msn < 8; msn++)
        segment(w, msn, 1, false, 4);
    text = playlist_text(w);
    assert_null(strstr(text, "seg-1.m4s"));
    assert_non_null(strstr(text, "#EXT-X-MEDIA-SEQUENCE:2\n"));
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:4\n"));
    free(text);
    lc_window_unref(w);

    /* The configured target is the floor: short segments do not lower it. */
    cfg = config(3, 0, false);
    cfg.segment_target_s = 1.5;
    w = lc_window_new(&cfg);
    add_init(w, 1);
    segment(w, 0, 1, false, 1);
    text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:2\n"));
    free(text);
    lc_window_unref(w);
}

/* Parses the numbers a playlist's header carries, and sums its EXTINF values. */
typedef struct {
    int64_t media_seq, disc_seq, target;
    int segments;
    double listed_s, longest_s, first_s;
    int64_t first_msn, last_msn;
} header_t;

static header_t parse_playlist(const char *text)
{
    header_t h = {.first_msn = -1, .last_msn = -1};
    const char *p;
    assert_non_null(p = strstr(text, "#EXT-X-MEDIA-SEQUENCE:"));
    h.media_seq = strtoll(p + 22, NULL, 10);
    if ((p = strstr(text, "#EXT-X-DISCONTINUITY-SEQUENCE:")))
        h.disc_seq = strtoll(p + 30, NULL, 10);
    assert_non_null(p = strstr(text, "#EXT-X-TARGETDURATION:"));
    h.target = strtoll(p + 22, NULL, 10);
    for (p = text; (p = strstr(p, "#EXTINF:")); p += 8) {
        double d = strtod(p + 8, NULL);
        long long msn;
        assert_int_equal(sscanf(strchr(p, '\n') + 1, "seg-%lld.m4s", &msn), 1);
        if (h.first_msn < 0) {
            h.first_msn = msn;
            h.first_s = d;
        }
        h.last_msn = msn;
        h.listed_s += d;
        h.longest_s = d > h.longest_s ? d : h.longest_s;
        h.segments++;
    }
    return h;
}

/* The review's case: one 8 s segment (a presenter's GOP) after many 2 s ones, with reconnects
 * around it. RFC 8216: EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE never go back, no
 * segment is listed again after it left, EXTINF never exceeds EXT-X-TARGETDURATION (which never
 * decreases), and the playlist keeps 3 target durations by keeping segments longer. One WARN for
 * the session says what to change in the encoder. */
static void test_never_back(void **state)
{
    lc_window_config_t cfg = config(3, 2, false);
    cfg.session_id = 9;
    lc_window_t *w = lc_window_new(&cfg);
    assert_int_equal(log_capture_start(), 0);
    header_t prev = {0};
    int64_t left_below = 0; /* segments below this msn left the playlist for good */
    int init = 0;
    for (int msn = 0; msn < 40; msn++) {
        bool new_run = msn % 12 == 0; /* a reconnect every 12 segments */
        if (new_run)
            add_init(w, ++init);
        int nparts = msn == 14 ? 16 : msn == 27 ? 11 : 4; /* 8 s, then 5.5 s */
        segment(w, msn, init, new_run && msn > 0, nparts);
        char *text = playlist_text(w);
        header_t h = parse_playlist(text);
        assert_true(h.media_seq >= prev.media_seq);
        assert_true(h.disc_seq >= prev.disc_seq);
        assert_true(h.target >= prev.target);
        assert_int_equal(h.first_msn, h.media_seq);
        assert_int_equal(h.last_msn, msn);
        assert_true(h.first_msn >= left_below);
        left_below = h.first_msn;
        assert_true(h.longest_s <= (double)h.target);
        /* A segment leaves only while what stays lasts 3 target durations (a target that just
         * grew may find fewer listed: they are kept, not brought back), and the oldest listed
         * one stays only for the window or for those 3 target durations. */
        if (h.media_seq > prev.media_seq)
            assert_true(h.listed_s >= 3.0 * (double)h.target - 1e-9);
        if (h.segments > 3)
            assert_true(h.listed_s - h.first_s < 3.0 * (double)h.target + 1e-9);
        if (msn >= 14)
            assert_int_equal(h.target, 8);
        prev = h;
        free(text);
    }
    char *log = log_capture_stop();
    assert_non_null(log);
    /* 14 x 2 s, then 8 s: the target becomes 8, the older segments stay listed (12 s < 24 s) */
    assert_int_equal(log_lines(log, "WARN ", "set the encoder's keyframe interval to 1–2 s"), 1);
    assert_int_equal(log_lines(log, "WARN ", "session 9: segment 14 lasts 8.000 s"), 1);
    assert_int_equal(log_lines(log, "ERROR", NULL), 0);
    free(log);
    /* Four runs began; the discontinuities of the first two reconnects (msn 12 and 24) left the
     * playlist, which lists 28..39 (27 left once 28..39 lasted 24 s). */
    assert_int_equal(prev.media_seq, 28);
    assert_int_equal(prev.disc_seq, 2);
    lc_window_unref(w);
}

/* The 8 s segment of the review's report, step by step: MEDIA-SEQUENCE stays, nothing older is
 * listed again. */
static void test_long_segment_keeps_older(void **state)
{
    lc_window_config_t cfg = config(3, 4, false);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    for (int msn = 0; msn < 9; msn++)
        segment(w, msn, 1, false, 4);
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:6\n"));
    free(text);
    assert_int_equal(log_capture_start(), 0);
    segment(w, 9, 1, false, 16);
    free(log_capture_stop());
    text = playlist_text(w);
    /* 6, 7, 8 and 9 (14 s) stay listed until 24 s would remain without the oldest. */
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:8\n#EXT-X-MEDIA-SEQUENCE:6\n"));
    assert_null(strstr(text, "seg-5.m4s"));
    free(text);
    for (int msn = 10; msn < 16; msn++)
        segment(w, msn, 1, false, 4);
    text = playlist_text(w);
    /* 6 left only when 7..15 (26 s) lasted 24 s without it. */
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:8\n#EXT-X-MEDIA-SEQUENCE:7\n"));
    free(text);
    /* keep_extra_segments (4) more stay downloadable after they left: 3..6. */
    lc_buf_t *s2 = lc_window_segment(w, 2), *s3 = lc_window_segment(w, 3);
    assert_null(s2);
    assert_non_null(s3);
    lc_buf_unref(s3);
    lc_window_unref(w);
}

/* A segment that does not follow the one before (an msn skipped, or another init without the
 * flag) is a discontinuity all the same, counted when it leaves. */
static void test_gap_is_discontinuity(void **state)
{
    lc_window_config_t cfg = config(3, 0, false);
    lc_window_t *w = lc_window_new(&cfg);
    add_init(w, 1);
    segment(w, 0, 1, false, 4);
    segment(w, 2, 1, false, 4); /* 1 never came */
    add_init(w, 2);
    segment(w, 3, 2, false, 4); /* a new init, not flagged */
    char *text = playlist_text(w);
    assert_non_null(strstr(text, "seg-0.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:"));
    assert_non_null(strstr(text, "seg-2.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-2.mp4\"\n"));
    free(text);
    for (int msn = 4; msn < 7; msn++)
        segment(w, msn, 2, false, 4);
    text = playlist_text(w);
    assert_non_null(strstr(text, "#EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n"));
    free(text);
    lc_window_unref(w);
}

/* ---- readers on many threads while the writer runs ----------------------------------------- */

#define STRESS_SEGMENTS 400
#define STRESS_READERS 4

typedef struct {
    lc_window_t *w;
    atomic_bool *done;
    long checked;
    long errors;
} reader_t;

/* Reads the playlist, then fetches what it names (the newest segments and parts) and checks the
 * bytes; whatever it gets must be intact even if the writer has moved on meanwhile. */
static void *reader_main(void *arg)
{
    reader_t *r = arg;
    while (!atomic_load(r->done) || r->checked == 0) {
        lc_buf_t *pl = lc_window_media_playlist(r->w);
        if (!pl)
            continue;
        const char *text = (const char *)lc_buf_cdata(pl);
        const char *seq = strstr(text, "#EXT-X-MEDIA-SEQUENCE:");
        int64_t first = seq ? strtoll(seq + 22, NULL, 10) : -1;
        for (const char *p = text; (p = strstr(p, "URI=\"part-")); p++) {
            long long msn;
            int idx;
            if (sscanf(p, "URI=\"part-%lld.%d.m4s\"", &msn, &idx) != 2)
                continue;
            lc_buf_t *b = lc_window_part(r->w, msn, idx);
            if (b && !part_bytes_ok(lc_buf_cdata(b), lc_buf_len(b), msn, idx))
                r->errors++;
            r->checked++;
            lc_buf_unref(b);
        }
        for (int64_t msn = first; msn >= 0 && msn < first + 3; msn++) {
            lc_buf_t *s = lc_window_segment(r->w, msn);
            if (s) {
                /* A segment is its parts back to back. */
                const uint8_t *d = lc_buf_cdata(s);
                size_t off = 0, len = lc_buf_len(s);
                for (int idx = 0; off < len; idx++) {
                    size_t plen = 12 + (size_t)idx + 1;
                    if (off + plen > len || !part_bytes_ok(d + off, plen, msn, idx))
                        r->errors++;
                    off += plen;
                }
                r->checked++;
            }
            lc_buf_unref(s);
        }
        lc_buf_t *init = lc_window_init(r->w, (int)(first / 50) + 1);
        lc_buf_unref(init);
        lc_buf_unref(pl);
    }
    lc_window_unref(r->w);
    return NULL;
}

static void test_reader_stress(void **state)
{
    lc_window_config_t cfg = config(3, 1, true);
    lc_window_t *w = lc_window_new(&cfg);
    atomic_bool done = false;
    pthread_t threads[STRESS_READERS];
    reader_t readers[STRESS_READERS];
    for (int i = 0; i < STRESS_READERS; i++) {
        readers[i] = (reader_t){lc_window_ref(w), &done, 0, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, reader_main, &readers[i]), 0);
    }
    for (int msn = 0; msn < STRESS_SEGMENTS; msn++) {
        int init = msn / 50 + 1; /* a new run every 50 segments */
        if (msn % 50 == 0)
            add_init(w, init);
        segment(w, msn, init, msn > 0 && msn % 50 == 0, 1 + msn % 6);
    }
    lc_window_end(w);
    /* The writer lets go first; the last reader to leave frees the window. */
    lc_window_unref(w);
    atomic_store(&done, true);
    for (int i = 0; i < STRESS_READERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(readers[i].errors, 0);
        assert_true(readers[i].checked > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_flow),
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_sliding),
        cmocka_unit_test(test_minimum_length),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_low_latency),
        cmocka_unit_test(test_end),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_target_duration),
        cmocka_unit_test_teardown(test_never_back, log_capture_teardown),
        cmocka_unit_test_teardown(test_long_segment_keeps_older, log_capture_teardown),
        cmocka_unit_test(test_gap_is_discontinuity),
        cmocka_unit_test(test_reader_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
