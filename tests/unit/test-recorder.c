/* Recorder, live side: a session recorded from real CMAF parts gives the exact VOD playlist and
 * segment bytes, and the playlist plays (libavformat's HLS demuxer reads every frame). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "core/log.h"
#include "recorder/recorder.h"

#include "cmaf_fixture.h"

#define PDT0 1795766400000LL /* 2026-11-27T08:00:00.000Z */
#define TARGET_US 2000000

typedef struct {
    char fixtures[PATH_MAX];
    cmaf_fixture_t av, audio;
    char root[PATH_MAX]; /* recordings dir of the running test */
} suite_t;

static int suite_setup(void **state)
{
    lc_log_set_level(LC_LOG_WARN);
    av_log_set_level(AV_LOG_ERROR);
    suite_t *s = calloc(1, sizeof *s);
    if (!s || fx_tmpdir(s->fixtures, "recfx") < 0 ||
        cmaf_fixture_make(&s->av, s->fixtures, CMAF_AV, 6) < 0 ||
        cmaf_fixture_make(&s->audio, s->fixtures, CMAF_AUDIO, 6) < 0)
        return -1;
    *state = s;
    return 0;
}

static int suite_teardown(void **state)
{
    suite_t *s = *state;
    cmaf_fixture_free(&s->av);
    cmaf_fixture_free(&s->audio);
    fx_rm_rf(s->fixtures);
    free(s);
    return 0;
}

static int test_setup(void **state)
{
    suite_t *s = *state;
    return fx_tmpdir(s->root, "rec");
}

static int test_teardown(void **state)
{
    suite_t *s = *state;
    fx_rm_rf(s->root);
    return 0;
}

static const char *session_file(const suite_t *s, int64_t session, const char *name,
                                char out[static PATH_MAX])
{
    int n = snprintf(out, PATH_MAX, "%s/%" PRId64 "/%s", s->root, session, name);
    assert_true(n > 0 && n < PATH_MAX);
    return out;
}

static char *read_text(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (fx_read(path, &data, &len) < 0)
        return NULL;
    return (char *)data;
}

static void assert_file_text(const char *path, const char *want)
{
    char *got = read_text(path);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* The fixture is what the expected texts below assume: 6 s of 25 fps video in fragments of 13
 * and 12 frames (0.52 s + 0.48 s per 1 s GOP). */
static void test_fixture_shape(void **state)
{
    suite_t *s = *state;
    assert_int_equal(s->av.n_frags, 12);
    assert_int_equal(s->av.video_frames, 150);
    assert_int_equal(s->av.dur_us, 6000000);
    for (int i = 0; i < s->av.n_frags; i++) {
        assert_int_equal(s->av.frags[i].dur_us, i % 2 ? 480000 : 520000);
        assert_int_equal(s->av.frags[i].independent, i % 2 == 0);
    }
    assert_false(s->audio.has_video);
    assert_true(s->audio.n_frags >= 10);
}

static const char av_playlist[] = "#EXTM3U\n"
                                  "#EXT-X-VERSION:7\n"
                                  "#EXT-X-TARGETDURATION:2\n"
                                  "#EXT-X-MEDIA-SEQUENCE:0\n"
                                  "#EXT-X-PLAYLIST-TYPE:VOD\n"
                                  "#EXT-X-INDEPENDENT-SEGMENTS\n"
                                  "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                                  "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:00.000Z\n"
                                  "#EXTINF:2.000000,\n"
                                  "seg-0.m4s\n"
                                  "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:02.000Z\n"
                                  "#EXTINF:2.000000,\n"
                                  "seg-1.m4s\n"
                                  "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:04.000Z\n"
                                  "#EXTINF:2.000000,\n"
                                  "seg-2.m4s\n"
                                  "#EXT-X-ENDLIST\n";

static void test_record_session(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    lc_recording_t *r = NULL;
    assert_int_equal(lc_recording_open(s->root, 42, &r), 0);
    int64_t next_msn;
    cmaf_feed_t feed = {.init_id = 1, .pdt_ms = PDT0, .target_us = TARGET_US, .max_parts = -1};
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &next_msn), 0);
    assert_int_equal(next_msn, 3);
    assert_true(lc_recording_duration(r) == 6.0);
    assert_false(lc_recording_has_replay(s->root, 42));
    assert_int_equal(lc_recording_finish(&r), 0);
    assert_null(r);

    assert_true(lc_recording_has_replay(s->root, 42));
    assert_false(lc_recording_has_download(s->root, 42));
    assert_file_text(session_file(s, 42, "index.m3u8", path), av_playlist);

    /* Files hold exactly the init and the parts, in order. */
    uint8_t *data;
    size_t len;
    assert_int_equal(fx_read(session_file(s, 42, "init-1.mp4", path), &data, &len), 0);
    assert_int_equal(len, s->av.init_len);
    assert_memory_equal(data, s->av.data, len);
    free(data);
    for (int seg = 0; seg < 3; seg++) {
        char name[32];
        snprintf(name, sizeof name, "seg-%d.m4s", seg);
        assert_int_equal(fx_read(session_file(s, 42, name, path), &data, &len), 0);
        const cmaf_frag_t *first = &s->av.frags[4 * seg], *last = &s->av.frags[4 * seg + 3];
        assert_int_equal(len, last->off + last->len - first->off);
        assert_memory_equal(data, s->av.data + first->off, len);
        free(data);
    }

    fx_probe_t p = fx_probe(session_file(s, 42, "index.m3u8", path));
    assert_int_equal(p.open_error, 0);
    assert_int_equal(p.read_error, 0);
    assert_int_equal(p.video_frames, 150);
    assert_int_equal(p.audio_frames, s->av.audio_frames);
    assert_true(fabs(p.video_span - 6.0) < 0.1);
    assert_true(fabs(p.format_duration - 6.0) < 0.1);
}

/* While live the playlist is an EVENT playlist of the finished segments; finish closes the
 * segment in progress and ends the list. */
static void test_live_playlist(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    lc_recording_t *r = NULL;
    assert_int_equal(lc_recording_open(s->root, 7, &r), 0);
    int64_t next_msn;
    cmaf_feed_t feed = {.init_id = 3, .first_msn = 10, .pdt_ms = PDT0, .target_us = TARGET_US,
                        .max_parts = 5};
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &next_msn), 0);
    assert_true(lc_recording_duration(r) == 2.52);
    assert_file_text(session_file(s, 7, "index.m3u8", path),
                     "#EXTM3U\n"
                     "#EXT-X-VERSION:7\n"
                     "#EXT-X-TARGETDURATION:2\n"
                     "#EXT-X-MEDIA-SEQUENCE:10\n"
                     "#EXT-X-PLAYLIST-TYPE:EVENT\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n"
                     "#EXT-X-MAP:URI=\"init-3.mp4\"\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:00.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-10.m4s\n");
    assert_false(lc_recording_has_replay(s->root, 7));
    assert_int_equal(lc_recording_finish(&r), 0);
    assert_file_text(session_file(s, 7, "index.m3u8", path),
                     "#EXTM3U\n"
                     "#EXT-X-VERSION:7\n"
                     "#EXT-X-TARGETDURATION:2\n"
                     "#EXT-X-MEDIA-SEQUENCE:10\n"
                     "#EXT-X-PLAYLIST-TYPE:VOD\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n"
                     "#EXT-X-MAP:URI=\"init-3.mp4\"\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:00.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-10.m4s\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:02.000Z\n"
                     "#EXTINF:0.520000,\n"
                     "seg-11.m4s\n"
                     "#EXT-X-ENDLIST\n");
    assert_true(lc_recording_has_replay(s->root, 7));
    fx_probe_t p = fx_probe(session_file(s, 7, "index.m3u8", path));
    assert_int_equal(p.read_error, 0);
    assert_int_equal(p.video_frames, 50 + 13);
}

/* A reconnect: a second run with its own init, a discontinuity and a later wall clock. */
static void test_two_runs(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    lc_recording_t *r = NULL;
    assert_int_equal(lc_recording_open(s->root, 5, &r), 0);
    int64_t next_msn;
    cmaf_feed_t feed = {.init_id = 1, .pdt_ms = PDT0, .target_us = TARGET_US, .max_parts = -1};
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &next_msn), 0);
    feed = (cmaf_feed_t){.init_id = 2, .first_msn = next_msn, .pdt_ms = PDT0 + 60000,
                         .discontinuity = true, .target_us = TARGET_US, .max_parts = -1};
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &next_msn), 0);
    assert_int_equal(next_msn, 6);
    assert_true(lc_recording_duration(r) == 12.0);
    assert_int_equal(lc_recording_finish(&r), 0);

    assert_file_text(session_file(s, 5, "index.m3u8", path),
                     "#EXTM3U\n"
                     "#EXT-X-VERSION:7\n"
                     "#EXT-X-TARGETDURATION:2\n"
                     "#EXT-X-MEDIA-SEQUENCE:0\n"
                     "#EXT-X-PLAYLIST-TYPE:VOD\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n"
                     "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:00.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-0.m4s\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:02.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-1.m4s\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:04.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-2.m4s\n"
                     "#EXT-X-DISCONTINUITY\n"
                     "#EXT-X-MAP:URI=\"init-2.mp4\"\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:01:00.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-3.m4s\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:01:02.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-4.m4s\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:01:04.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-5.m4s\n"
                     "#EXT-X-ENDLIST\n");

    fx_probe_t p = fx_probe(session_file(s, 5, "index.m3u8", path));
    assert_int_equal(p.open_error, 0);
    assert_int_equal(p.read_error, 0);
    assert_int_equal(p.video_frames, 300);
    assert_int_equal(p.audio_frames, 2 * s->av.audio_frames);
    assert_true(fabs(p.format_duration - 12.0) < 0.1);
}

/* Audio only: every part is independent; durations are whole AAC frames (1024 / 48000 s), so
 * the expected text is computed from the fixture's own measurements. */
static void test_audio_only(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    const cmaf_fixture_t *fx = &s->audio;
    lc_recording_t *r = NULL;
    assert_int_equal(lc_recording_open(s->root, 9, &r), 0);
    int64_t next_msn;
    cmaf_feed_t feed = {.init_id = 0, .pdt_ms = PDT0, .target_us = TARGET_US, .max_parts = -1};
    assert_int_equal(cmaf_feed_run(r, fx, &feed, &next_msn), 0);
    assert_int_equal(lc_recording_finish(&r), 0);

    int seg_of[64];
    assert_true(fx->n_frags <= 64);
    int n_segs = cmaf_plan(fx, TARGET_US, seg_of);
    assert_int_equal(next_msn, n_segs);
    int64_t seg_us[64] = {0}, longest = 0;
    for (int i = 0; i < fx->n_frags; i++)
        seg_us[seg_of[i]] += fx->frags[i].dur_us;
    for (int i = 0; i < n_segs; i++)
        longest = seg_us[i] > longest ? seg_us[i] : longest;
    char want[8192];
    int n = snprintf(want, sizeof want,
                     "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n"
                     "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init-0.mp4\"\n",
                     (int)floor((double)longest / 1e6 + 0.5));
    int64_t pdt = PDT0;
    for (int i = 0; i < n_segs; i++) {
        int ms = (int)((pdt - PDT0) % 60000);
        n += snprintf(want + n, sizeof want - (size_t)n,
                      "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:%02d.%03dZ\n"
                      "#EXTINF:%.6f,\nseg-%d.m4s\n",
                      ms / 1000, ms % 1000, (double)seg_us[i] / 1e6, i);
        pdt += seg_us[i] / 1000;
    }
    n += snprintf(want + n, sizeof want - (size_t)n, "#EXT-X-ENDLIST\n");
    assert_true(n < (int)sizeof want);
    assert_file_text(session_file(s, 9, "index.m3u8", path), want);
    /* Just over 2 s: rounded to the nearest integer (RFC 8216), the target stays 2. */
    assert_true(longest > 2000000 && longest < 2500000);

    fx_probe_t p = fx_probe(session_file(s, 9, "index.m3u8", path));
    assert_int_equal(p.read_error, 0);
    assert_int_equal(p.video_frames, 0);
    assert_int_equal(p.audio_frames, fx->audio_frames);
    assert_true(fabs(p.audio_span - (double)fx->dur_us / 1e6) < 0.1);
}

/* A segment the recorder could not write (here its file cannot be created; a full disk does the
 * same) is left out of the replay, and the next one is marked EXT-X-DISCONTINUITY: the media time
 * jumps there, and a player that is not told waits for the hole to fill. The recorder is driven
 * the way server/live drives it, carrying on past its errors. */
static void test_dropped_segment_is_discontinuity(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    const cmaf_fixture_t *fx = &s->av;
    lc_recording_t *r = NULL;
    assert_int_equal(lc_recording_open(s->root, 11, &r), 0);
    assert_int_equal(mkdir(session_file(s, 11, "seg-1.m4s", path), 0750), 0);
    lc_buf_t *init = lc_buf_new_copy(fx->data, fx->init_len);
    assert_int_equal(lc_recording_add_init(r, 1, init), 0);
    lc_buf_release(&init);
    int failures = 0;
    for (int seg = 0; seg < 3; seg++) {
        lc_segment_meta_t meta = {.msn = seg, .pdt_ms = PDT0 + seg * 2000, .init_id = 1,
                                  .part_count = 4, .duration = 2.0};
        failures += lc_recording_begin_segment(r, &meta) < 0;
        for (int i = 0; i < 4; i++) {
            const cmaf_frag_t *frag = &fx->frags[4 * seg + i];
            lc_part_meta_t part = {.msn = seg, .index = i, .duration = (double)frag->dur_us / 1e6,
                                   .independent = frag->independent, .init_id = 1};
            lc_buf_t *bytes = lc_buf_new_copy(fx->data + frag->off, frag->len);
            failures += lc_recording_add_part(r, &part, bytes) < 0;
            lc_buf_release(&bytes);
        }
        failures += lc_recording_end_segment(r, &meta) < 0;
    }
    assert_true(failures > 0); /* segment 1 failed */
    assert_int_equal(lc_recording_finish(&r), 0);
    assert_file_text(session_file(s, 11, "index.m3u8", path),
                     "#EXTM3U\n"
                     "#EXT-X-VERSION:7\n"
                     "#EXT-X-TARGETDURATION:2\n"
                     "#EXT-X-MEDIA-SEQUENCE:0\n"
                     "#EXT-X-PLAYLIST-TYPE:VOD\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n"
                     "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:00.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-0.m4s\n"
                     "#EXT-X-DISCONTINUITY\n"
                     "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:04.000Z\n"
                     "#EXTINF:2.000000,\n"
                     "seg-2.m4s\n"
                     "#EXT-X-ENDLIST\n");
    fx_probe_t p = fx_probe(session_file(s, 11, "index.m3u8", path));
    assert_int_equal(p.open_error, 0);
    assert_int_equal(p.read_error, 0);
    assert_int_equal(p.video_frames, 100);
}

/* Calls out of order are refused without damaging what was recorded. */
static void test_misuse(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    const cmaf_fixture_t *fx = &s->av;
    lc_recording_t *r = NULL, *again = NULL;
    assert_int_equal(lc_recording_open(s->root, 3, &r), 0);
    assert_int_equal(lc_recording_open(s->root, 3, &again), -EEXIST);
    assert_null(again);

    lc_buf_t *init = lc_buf_new_copy(fx->data, fx->init_len);
    lc_buf_t *part0 = lc_buf_new_copy(fx->data + fx->frags[0].off, fx->frags[0].len);
    lc_segment_meta_t seg = {.msn = 4, .pdt_ms = PDT0, .init_id = 1};
    lc_part_meta_t part = {.msn = 4, .index = 0, .duration = 0.52, .independent = true,
                           .init_id = 1};
    assert_int_equal(lc_recording_begin_segment(r, &seg), -EINVAL); /* init 1 unknown */
    assert_int_equal(lc_recording_add_part(r, &part, part0), -EINVAL); /* no segment */
    assert_int_equal(lc_recording_add_init(r, 1, init), 0);
    assert_int_equal(lc_recording_add_init(r, 1, init), -EINVAL); /* twice */
    assert_int_equal(lc_recording_begin_segment(r, &seg), 0);
    part.index = 1;
    assert_int_equal(lc_recording_add_part(r, &part, part0), -EINVAL); /* index gap */
    part.index = 0;
    assert_int_equal(lc_recording_add_part(r, &part, part0), 0);
    seg.part_count = 1;
    lc_segment_meta_t other = seg;
    other.msn = 5;
    assert_int_equal(lc_recording_end_segment(r, &other), -EINVAL); /* not in progress */
    assert_int_equal(lc_recording_end_segment(r, &seg), 0);
    assert_int_equal(lc_recording_begin_segment(r, &seg), -EINVAL); /* msn not increasing */
    assert_true(lc_recording_duration(r) == 0.52);
    assert_int_equal(lc_recording_finish(&r), 0);
    assert_int_equal(lc_recording_finish(&r), 0); /* NULL-safe */
    lc_buf_release(&init);
    lc_buf_release(&part0);

    fx_probe_t p = fx_probe(session_file(s, 3, "index.m3u8", path));
    assert_int_equal(p.read_error, 0);
    assert_int_equal(p.video_frames, 13);
    assert_false(lc_recording_has_replay(s->root, 999));
    assert_false(lc_recording_has_download(s->root, 999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_shape),
        cmocka_unit_test_setup_teardown(test_record_session, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_live_playlist, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_two_runs, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_audio_only, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_misuse, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_dropped_segment_is_discontinuity, test_setup,
                                        test_teardown),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
