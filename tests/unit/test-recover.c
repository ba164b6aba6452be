/* Recorder, crash side: a recording process killed with SIGKILL mid-stream (plus torn writes and
 * damaged bytes made on top) is recovered to every complete part, plays, and recovering again
 * changes nothing. Also the journal's line format on its own. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/log.h"
#include "recorder/recorder.h"
#include "recorder/recorder_internal.h"

#include "cmaf_fixture.h"

#define PDT0 1795766400000LL /* 2026-11-27T08:00:00.000Z */
#define TARGET_US 2000000
#define SESSION 77

typedef struct {
    char fixtures[PATH_MAX];
    cmaf_fixture_t av; /* 12 parts of 0.52 s / 0.48 s; 4 parts (2 s) per segment */
    char root[PATH_MAX];
} suite_t;

static int suite_setup(void **state)
{
    lc_log_set_level(LC_LOG_ERROR);
    av_log_set_level(AV_LOG_ERROR);
    suite_t *s = calloc(1, sizeof *s);
    if (!s || fx_tmpdir(s->fixtures, "recoverfx") < 0 ||
        cmaf_fixture_make(&s->av, s->fixtures, CMAF_AV, 6) < 0 || s->av.n_frags != 12)
        return -1;
    *state = s;
    return 0;
}

static int suite_teardown(void **state)
{
    suite_t *s = *state;
    cmaf_fixture_free(&s->av);
    fx_rm_rf(s->fixtures);
    free(s);
    return 0;
}

static int test_setup(void **state)
{
    suite_t *s = *state;
    return fx_tmpdir(s->root, "recover");
}

static int test_teardown(void **state)
{
    suite_t *s = *state;
    fx_rm_rf(s->root);
    return 0;
}

static const char *file_of(const suite_t *s, const char *name, char out[static PATH_MAX])
{
    int n = snprintf(out, PATH_MAX, "%s/%d/%s", s->root, SESSION, name);
    assert_true(n > 0 && n < PATH_MAX);
    return out;
}

static const char *seg_file(const suite_t *s, int msn, char out[static PATH_MAX])
{
    char name[32];
    snprintf(name, sizeof name, "seg-%d.m4s", msn);
    return file_of(s, name, out);
}

/* Records the fixture's first `parts` parts in a child process, then kills it with SIGKILL: the
 * recording is left exactly as a crashed server leaves it. */
static void record_and_kill(const suite_t *s, int parts)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        lc_recording_t *r = NULL;
        int64_t next_msn;
        cmaf_feed_t feed = {.init_id = 1, .pdt_ms = PDT0, .target_us = TARGET_US,
                            .max_parts = parts};
        if (lc_recording_open(s->root, SESSION, &r) != 0 ||
            cmaf_feed_run(r, &s->av, &feed, &next_msn) != 0)
            _exit(1);
        char ready = 'r';
        if (write(fds[1], &ready, 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    close(fds[1]);
    char ready;
    assert_int_equal(read(fds[0], &ready, 1), 1); /* the child recorded its parts */
    close(fds[0]);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static int64_t frag_bytes(const suite_t *s, int first, int n)
{
    int64_t sum = 0;
    for (int i = first; i < first + n; i++)
        sum += (int64_t)s->av.frags[i].len;
    return sum;
}

static int frag_frames(const suite_t *s, int n, bool video)
{
    int sum = 0;
    for (int i = 0; i < n; i++)
        sum += video ? s->av.frags[i].video_frames : s->av.frags[i].audio_frames;
    return sum;
}

/* The playlist recovery must write for segments 0.. of these durations (µs). */
static void expected_playlist(const int64_t *dur_us, int n, char *out, size_t size)
{
    int64_t longest = 0, pdt_ms = 0;
    for (int i = 0; i < n; i++)
        longest = dur_us[i] > longest ? dur_us[i] : longest;
    int len = snprintf(out, size,
                       "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n"
                       "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                       "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init-1.mp4\"\n",
                       (int)((longest + 999999) / 1000000));
    for (int i = 0; i < n; i++) {
        len += snprintf(out + len, size - (size_t)len,
                        "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T08:00:%02d.%03dZ\n"
                        "#EXTINF:%.6f,\nseg-%d.m4s\n",
                        (int)(pdt_ms / 1000), (int)(pdt_ms % 1000), (double)dur_us[i] / 1e6, i);
        pdt_ms += dur_us[i] / 1000;
    }
    len += snprintf(out + len, size - (size_t)len, "#EXT-X-ENDLIST\n");
    assert_true(len < (int)size);
}

typedef struct {
    char *playlist, *journal;
    size_t playlist_len, journal_len;
    int64_t seg_size[4];
} snapshot_t;

static snapshot_t snapshot(const suite_t *s)
{
    snapshot_t snap;
    char path[PATH_MAX];
    assert_int_equal(fx_read(file_of(s, "index.m3u8", path), (uint8_t **)&snap.playlist,
                             &snap.playlist_len), 0);
    assert_int_equal(fx_read(file_of(s, "journal", path), (uint8_t **)&snap.journal,
                             &snap.journal_len), 0);
    for (int i = 0; i < 4; i++)
        snap.seg_size[i] = fx_file_size(seg_file(s, i, path));
    return snap;
}

static void snapshot_free(snapshot_t *snap)
{
    free(snap->playlist);
    free(snap->journal);
}

/* Recovers, checks the playlist text, the durations, that the playlist plays with the frames
 * of the kept parts, and that a second recovery changes nothing. */
static void recover_and_check(const suite_t *s, const int64_t *seg_us, int n_segs,
                              int kept_parts)
{
    double duration = -1;
    assert_int_equal(lc_recording_recover(s->root, SESSION, &duration), 0);
    int64_t total = 0;
    for (int i = 0; i < n_segs; i++)
        total += seg_us[i];
    assert_true(duration == (double)total / 1e6);
    assert_true(lc_recording_has_replay(s->root, SESSION));

    char want[4096], path[PATH_MAX];
    expected_playlist(seg_us, n_segs, want, sizeof want);
    snapshot_t first = snapshot(s);
    assert_string_equal(first.playlist, want);
    /* The journal now describes exactly what was kept and is final. */
    assert_true(first.journal_len > 11);
    assert_int_equal(first.journal[first.journal_len - 1], '\n');
    char fin[32];
    snprintf(fin, sizeof fin, "\nF %" PRId64 " ", total);
    assert_non_null(strstr(first.journal, fin));

    fx_probe_t p = fx_probe(file_of(s, "index.m3u8", path));
    assert_int_equal(p.open_error, 0);
    assert_int_equal(p.read_error, 0);
    assert_int_equal(p.video_frames, frag_frames(s, kept_parts, true));
    assert_int_equal(p.audio_frames, frag_frames(s, kept_parts, false));
    assert_true(fabs(p.video_span - (double)total / 1e6) < 0.1);

    double again = -1;
    assert_int_equal(lc_recording_recover(s->root, SESSION, &again), 0);
    assert_true(again == duration);
    snapshot_t second = snapshot(s);
    assert_int_equal(second.playlist_len, first.playlist_len);
    assert_memory_equal(second.playlist, first.playlist, first.playlist_len);
    assert_int_equal(second.journal_len, first.journal_len);
    assert_memory_equal(second.journal, first.journal, first.journal_len);
    assert_memory_equal(second.seg_size, first.seg_size, sizeof first.seg_size);
    snapshot_free(&first);
    snapshot_free(&second);
}

/* Killed with segment 2 holding 2 parts; on top, a part half written and a journal record torn
 * (what a kill during write(2) can leave). */
static void test_kill_with_torn_tail(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    record_and_kill(s, 10);
    const cmaf_frag_t *next = &s->av.frags[10];
    assert_int_equal(fx_write(seg_file(s, 2, path), s->av.data + next->off, next->len / 2, "ab"), 0);
    assert_int_equal(fx_write(file_of(s, "journal", path), "P 2 2 480000 1 ", 15, "ab"), 0);

    double duration = -1;
    assert_int_equal(lc_recording_recover(s->root, SESSION, &duration), 0);
    assert_true(duration == 5.0);
    char *text = NULL;
    size_t len;
    assert_int_equal(fx_read(file_of(s, "index.m3u8", path), (uint8_t **)&text, &len), 0);
    assert_string_equal(text, "#EXTM3U\n"
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
                              "#EXTINF:1.000000,\n"
                              "seg-2.m4s\n"
                              "#EXT-X-ENDLIST\n");
    free(text);
    assert_int_equal(fx_file_size(seg_file(s, 2, path)), frag_bytes(s, 8, 2));

    const int64_t segs[] = {2000000, 2000000, 1000000};
    recover_and_check(s, segs, 3, 10);
}

/* The last journaled part's bytes only partly reached the file: that part goes. */
static void test_part_cut_short(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    record_and_kill(s, 7);
    assert_int_equal(truncate(seg_file(s, 1, path), frag_bytes(s, 4, 2) + 1000), 0);
    const int64_t segs[] = {2000000, 1000000};
    recover_and_check(s, segs, 2, 6);
    assert_int_equal(fx_file_size(seg_file(s, 1, path)), frag_bytes(s, 4, 2));
}

/* A segment begun whose only part is incomplete is dropped, file and all. */
static void test_segment_without_part_dropped(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    record_and_kill(s, 5);
    assert_int_equal(truncate(seg_file(s, 1, path), 100), 0);
    const int64_t segs[] = {2000000};
    recover_and_check(s, segs, 1, 4);
    assert_int_equal(fx_file_size(seg_file(s, 1, path)), -1);
}

/* Bytes of an unsynced segment that are there but wrong (what a power loss can leave) do not
 * pass their checksum: the part and the ones after it go. */
static void test_damaged_part_dropped(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    record_and_kill(s, 7);
    uint8_t *data;
    size_t len;
    assert_int_equal(fx_read(seg_file(s, 1, path), &data, &len), 0);
    assert_int_equal(len, frag_bytes(s, 4, 3));
    memset(data + s->av.frags[4].len + 100, 0, 64); /* inside part 1 of segment 1 */
    assert_int_equal(fx_write(path, data, len, "wb"), 0);
    free(data);
    const int64_t segs[] = {2000000, 520000};
    recover_and_check(s, segs, 2, 5);
    assert_int_equal(fx_file_size(seg_file(s, 1, path)), frag_bytes(s, 4, 1));
}

/* A damaged record in the middle ends the journal there: only what it vouched for is kept. */
static void test_corrupt_record_ends_journal(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    record_and_kill(s, 10);
    char *journal;
    size_t len;
    assert_int_equal(fx_read(file_of(s, "journal", path), (uint8_t **)&journal, &len), 0);
    char *rec = strstr(journal, "\nP 1 1 480000 ");
    assert_non_null(rec);
    rec[9] = '1'; /* 480000 -> 481000: well-formed, wrong checksum */
    assert_int_equal(fx_write(path, journal, len, "wb"), 0);
    free(journal);
    const int64_t segs[] = {2000000, 520000};
    recover_and_check(s, segs, 2, 5);
    assert_int_equal(fx_file_size(seg_file(s, 1, path)), frag_bytes(s, 4, 1));
}

/* A finished recording is left alone: recovery only reports its duration. */
static void test_finished_untouched(void **state)
{
    suite_t *s = *state;
    lc_recording_t *r = NULL;
    int64_t next_msn;
    cmaf_feed_t feed = {.init_id = 1, .pdt_ms = PDT0, .target_us = TARGET_US, .max_parts = -1};
    assert_int_equal(lc_recording_open(s->root, SESSION, &r), 0);
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &next_msn), 0);
    assert_int_equal(lc_recording_finish(&r), 0);
    snapshot_t before = snapshot(s);
    double duration = -1;
    assert_int_equal(lc_recording_recover(s->root, SESSION, &duration), 0);
    assert_true(duration == 6.0);
    snapshot_t after = snapshot(s);
    assert_int_equal(after.journal_len, before.journal_len);
    assert_memory_equal(after.journal, before.journal, before.journal_len);
    assert_string_equal(after.playlist, before.playlist);
    snapshot_free(&before);
    snapshot_free(&after);
}

/* Recovery cannot keep a segment (its file is gone): the replay skips it with an
 * EXT-X-DISCONTINUITY before the next one, so that players do not stall on the jump. */
static void test_dropped_segment_is_discontinuity(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    record_and_kill(s, 12);
    assert_int_equal(unlink(seg_file(s, 1, path)), 0);
    double duration = -1;
    assert_int_equal(lc_recording_recover(s->root, SESSION, &duration), 0);
    assert_true(duration == 4.0);
    char *text = NULL;
    size_t len;
    assert_int_equal(fx_read(file_of(s, "index.m3u8", path), (uint8_t **)&text, &len), 0);
    assert_string_equal(text, "#EXTM3U\n"
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
    free(text);
    fx_probe_t p = fx_probe(file_of(s, "index.m3u8", path));
    assert_int_equal(p.open_error, 0);
    assert_int_equal(p.read_error, 0);
    int frames = 0;
    for (int i = 0; i < 12; i++)
        frames += i / 4 != 1 ? s->av.frags[i].video_frames : 0;
    assert_int_equal(p.video_frames, frames);
    /* Recovering again changes nothing. */
    snapshot_t first = snapshot(s);
    assert_int_equal(lc_recording_recover(s->root, SESSION, &duration), 0);
    snapshot_t second = snapshot(s);
    assert_string_equal(second.playlist, first.playlist);
    assert_int_equal(second.journal_len, first.journal_len);
    snapshot_free(&first);
    snapshot_free(&second);
}

/* lc_recording_finish fails (index.m3u8 cannot be replaced: a full disk or an I/O error does the
 * same): the recording is left unfinished on disk, as a crash leaves it, and recovery completes
 * it with every part. */
static void test_failed_finish_recovered(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    lc_recording_t *r = NULL;
    int64_t next_msn;
    cmaf_feed_t feed = {.init_id = 1, .pdt_ms = PDT0, .target_us = TARGET_US, .max_parts = 10};
    assert_int_equal(lc_recording_open(s->root, SESSION, &r), 0);
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &next_msn), 0); /* segment 2 still open */
    file_of(s, "index.m3u8", path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0750), 0);
    assert_true(lc_recording_finish(&r) < 0);
    assert_null(r);
    assert_false(lc_recording_has_replay(s->root, SESSION));
    assert_int_equal(rmdir(path), 0);
    const int64_t segs[] = {2000000, 2000000, 1000000};
    recover_and_check(s, segs, 3, 10);
}

static void test_nothing_to_recover(void **state)
{
    suite_t *s = *state;
    char path[PATH_MAX];
    double duration = -1;
    assert_int_equal(lc_recording_recover(s->root, SESSION, &duration), LC_ENOTFOUND);
    assert_true(duration == 0);
    int n = snprintf(path, sizeof path, "%s/%d", s->root, SESSION);
    assert_true(n > 0 && n < (int)sizeof path);
    assert_int_equal(mkdir(path, 0750), 0); /* a directory without a journal */
    assert_int_equal(lc_recording_recover(s->root, SESSION, &duration), LC_ENOTFOUND);
    assert_false(lc_recording_has_replay(s->root, SESSION));
}

/* ---- the journal's line format ----------------------------------------------------------------- */

static void test_journal_roundtrip(void **state)
{
    (void)state;
    const lc_jrec_t recs[] = {
        {LC_JREC_HEADER, {1, 77}},
        {LC_JREC_INIT, {-3, 1256, 4294967295LL}},
        {LC_JREC_SEGMENT, {12, -5, 1, -3}},
        {LC_JREC_PART, {12, 0, 520000, 1, 24035, 0}},
        {LC_JREC_END, {12, 1, 520000, 24035}},
        {LC_JREC_FINISH, {520000}},
    };
    char buf[6 * LC_JOURNAL_LINE_MAX];
    size_t len = 0;
    for (size_t i = 0; i < 6; i++) {
        int n = lc_journal_format(&recs[i], buf + len);
        assert_true(n > 0);
        len += (size_t)n;
    }
    assert_memory_equal(buf, "L 1 77 ", 7);
    size_t off = 0;
    for (size_t i = 0; i < 6; i++) {
        lc_jrec_t got;
        assert_int_equal(lc_journal_next(buf, len, &off, &got), 1);
        assert_int_equal(got.type, recs[i].type);
        assert_memory_equal(got.v, recs[i].v, sizeof got.v);
    }
    lc_jrec_t got;
    assert_int_equal(lc_journal_next(buf, len, &off, &got), 0);
    assert_int_equal(off, len);

    /* out of range values are not written */
    lc_jrec_t bad = {LC_JREC_SEGMENT, {1, 0, 2, 0}};
    char line[LC_JOURNAL_LINE_MAX];
    assert_int_equal(lc_journal_format(&bad, line), -EINVAL);
    bad = (lc_jrec_t){'X', {0}};
    assert_int_equal(lc_journal_format(&bad, line), -EINVAL);
}

static void test_journal_rejects_damage(void **state)
{
    (void)state;
    char line[LC_JOURNAL_LINE_MAX];
    lc_jrec_t rec = {LC_JREC_PART, {3, 1, 480000, 0, 19423, 123456}};
    int n = lc_journal_format(&rec, line);
    assert_true(n > 10);
    lc_jrec_t got;
    size_t off = 0;
    /* every proper prefix is torn */
    for (int cut = 1; cut < n; cut++) {
        off = 0;
        assert_int_equal(lc_journal_next(line, (size_t)cut, &off, &got), -EINVAL);
        assert_int_equal(off, 0);
    }
    /* any single changed byte is caught */
    for (int i = 0; i < n - 1; i++) {
        char copy[LC_JOURNAL_LINE_MAX];
        memcpy(copy, line, (size_t)n);
        copy[i] ^= 0x01;
        off = 0;
        assert_int_equal(lc_journal_next(copy, (size_t)n, &off, &got), -EINVAL);
    }
    /* a well-checksummed line with a field too many or an unknown type */
    const char *bodies[] = {"F 1 2", "Q 1", "F -1", "F 01x", "F  1"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char forged[64];
        int len = snprintf(forged, sizeof forged, "%s %08x\n", bodies[i],
                           lc_rec_crc32(bodies[i], strlen(bodies[i])));
        off = 0;
        assert_int_equal(lc_journal_next(forged, (size_t)len, &off, &got), -EINVAL);
    }
    /* and the same construction with a valid body passes, so the above fail for their body */
    char forged[64];
    int len = snprintf(forged, sizeof forged, "F 1 %08x\n", lc_rec_crc32("F 1", 3));
    off = 0;
    assert_int_equal(lc_journal_next(forged, (size_t)len, &off, &got), 1);
    assert_int_equal(got.v[0], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_roundtrip),
        cmocka_unit_test(test_journal_rejects_damage),
        cmocka_unit_test_setup_teardown(test_kill_with_torn_tail, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_part_cut_short, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_segment_without_part_dropped, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_part_dropped, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record_ends_journal, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_finished_untouched, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_recover, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_dropped_segment_is_discontinuity, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_failed_finish_recovered, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
