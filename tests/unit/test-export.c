/* MP4 export: finished recordings (one run, two runs, a run with other codec parameters, audio
 * only, a recovered one) become one faststart MP4 with every frame and the recording's
 * duration; the exporter thread resumes, drains, and removes its temporary file when stopped. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
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

#define PDT0 1795766400000LL
#define TARGET_US 2000000

typedef struct {
    char fixtures[PATH_MAX];
    cmaf_fixture_t av, av_large, audio, av_long_audio;
    char root[PATH_MAX];
} suite_t;

static int suite_setup(void **state)
{
    lc_log_set_level(LC_LOG_ERROR);
    av_log_set_level(AV_LOG_ERROR);
    suite_t *s = calloc(1, sizeof *s);
    if (!s || fx_tmpdir(s->fixtures, "exportfx") < 0 ||
        cmaf_fixture_make(&s->av, s->fixtures, CMAF_AV, 6) < 0 ||
        cmaf_fixture_make(&s->av_large, s->fixtures, CMAF_AV_LARGE, 6) < 0 ||
        cmaf_fixture_make(&s->audio, s->fixtures, CMAF_AUDIO, 6) < 0 ||
        cmaf_fixture_make(&s->av_long_audio, s->fixtures, CMAF_AV_LONG_AUDIO, 6) < 0)
        return -1;
    *state = s;
    return 0;
}

static int suite_teardown(void **state)
{
    suite_t *s = *state;
    cmaf_fixture_free(&s->av);
    cmaf_fixture_free(&s->av_large);
    cmaf_fixture_free(&s->audio);
    cmaf_fixture_free(&s->av_long_audio);
    fx_rm_rf(s->fixtures);
    free(s);
    return 0;
}

static int test_setup(void **state)
{
    suite_t *s = *state;
    return fx_tmpdir(s->root, "export");
}

static int test_teardown(void **state)
{
    suite_t *s = *state;
    fx_rm_rf(s->root);
    return 0;
}

static const char *path_of(const suite_t *s, int64_t session, const char *name,
                           char out[static PATH_MAX])
{
    int n = name ? snprintf(out, PATH_MAX, "%s/%" PRId64 "/%s", s->root, session, name)
                 : snprintf(out, PATH_MAX, "%s/%" PRId64, s->root, session);
    assert_true(n > 0 && n < PATH_MAX);
    return out;
}

/* Records the given runs (one fixture each, a new init and a discontinuity per run). With
 * `finish` false the recording is abandoned by a child process that exits without finishing,
 * as a crashed server leaves it. */
static void record(const suite_t *s, int64_t session, const cmaf_fixture_t *const *runs,
                   int n_runs, bool finish)
{
    pid_t pid = finish ? 0 : fork();
    assert_true(pid >= 0);
    if (pid > 0) {
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return;
    }
    lc_recording_t *r = NULL;
    int rc = lc_recording_open(s->root, session, &r);
    int64_t msn = 0;
    for (int i = 0; rc == 0 && i < n_runs; i++) {
        cmaf_feed_t feed = {.init_id = i + 1, .first_msn = msn, .pdt_ms = PDT0 + 60000 * i,
                            .discontinuity = i > 0, .target_us = TARGET_US, .max_parts = -1};
        rc = cmaf_feed_run(r, runs[i], &feed, &msn);
    }
    if (!finish)
        _exit(rc == 0 ? 0 : 1); /* abandoned: no finish */
    assert_int_equal(rc, 0);
    assert_int_equal(lc_recording_finish(&r), 0);
}

typedef struct {
    int moov_index, mdat_index, n;
} box_order_t;

static void box_order_cb(void *opaque, const char type[4], size_t off, size_t size)
{
    (void)off, (void)size;
    box_order_t *o = opaque;
    if (memcmp(type, "moov", 4) == 0 && o->moov_index < 0)
        o->moov_index = o->n;
    if (memcmp(type, "mdat", 4) == 0 && o->mdat_index < 0)
        o->mdat_index = o->n;
    o->n++;
}

/* Exports `session` and checks the MP4's layout; returns what demuxing it finds. */
static fx_probe_t export_and_probe(const suite_t *s, int64_t session)
{
    char dir[PATH_MAX], out[PATH_MAX], tmp[PATH_MAX];
    path_of(s, session, NULL, dir);
    path_of(s, session, "download.mp4", out);
    path_of(s, session, "download.mp4.tmp", tmp);
    assert_int_equal(lc_export_mp4(dir, out), 0);
    assert_true(lc_recording_has_download(s->root, session));
    assert_int_equal(fx_file_size(tmp), -1);

    uint8_t *data;
    size_t len;
    assert_int_equal(fx_read(out, &data, &len), 0);
    box_order_t order = {-1, -1, 0};
    assert_true(fx_walk_boxes(data, len, box_order_cb, &order) > 0);
    free(data);
    assert_true(order.moov_index >= 0 && order.mdat_index >= 0);
    assert_true(order.moov_index < order.mdat_index); /* faststart */

    fx_probe_t p = fx_probe(out);
    assert_int_equal(p.open_error, 0);
    assert_int_equal(p.read_error, 0);
    assert_true(p.video_dts_increasing);
    assert_true(p.audio_dts_increasing);
    return p;
}

static void test_export_one_run(void **state)
{
    suite_t *s = *state;
    const cmaf_fixture_t *runs[] = {&s->av};
    record(s, 1, runs, 1, true);
    fx_probe_t p = export_and_probe(s, 1);
    assert_int_equal(p.video_frames, 150);
    assert_int_equal(p.audio_frames, s->av.audio_frames);
    assert_true(fabs(p.video_span - 6.0) < 0.1);
    assert_true(fabs(p.format_duration - 6.0) < 0.1);
}

/* Two runs follow each other: every frame, and the sum of both durations. */
static void test_export_two_runs(void **state)
{
    suite_t *s = *state;
    const cmaf_fixture_t *runs[] = {&s->av, &s->av};
    record(s, 2, runs, 2, true);
    fx_probe_t p = export_and_probe(s, 2);
    assert_int_equal(p.video_frames, 300);
    /* The fixture's audio ends before its video, so no audio overlaps the next run. */
    assert_int_equal(p.audio_frames, 2 * s->av.audio_frames);
    assert_true(fabs(p.video_span - 12.0) < 0.1);
    assert_true(fabs(p.format_duration - 12.0) < 0.1);
}

/* A segment begun and ended without parts (the stream stopped at once) leaves no file and no
 * gap. */
static void test_export_skips_empty_segment(void **state)
{
    suite_t *s = *state;
    lc_recording_t *r = NULL;
    int64_t msn;
    cmaf_feed_t feed = {.init_id = 1, .pdt_ms = PDT0, .target_us = TARGET_US, .max_parts = -1};
    assert_int_equal(lc_recording_open(s->root, 7, &r), 0);
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &msn), 0);
    lc_segment_meta_t empty = {.msn = msn, .pdt_ms = PDT0 + 6000, .init_id = 1};
    assert_int_equal(lc_recording_begin_segment(r, &empty), 0);
    assert_int_equal(lc_recording_end_segment(r, &empty), 0);
    feed = (cmaf_feed_t){.init_id = 2, .first_msn = msn + 1, .pdt_ms = PDT0 + 9000,
                         .discontinuity = true, .target_us = TARGET_US, .max_parts = -1};
    assert_int_equal(cmaf_feed_run(r, &s->av, &feed, &msn), 0);
    assert_int_equal(lc_recording_finish(&r), 0);
    char path[PATH_MAX];
    assert_int_equal(fx_file_size(path_of(s, 7, "seg-3.m4s", path)), -1);

    fx_probe_t p = export_and_probe(s, 7);
    assert_int_equal(p.video_frames, 300);
    assert_true(fabs(p.video_span - 12.0) < 0.1);
}

/* Runs are laid end to end on the video; audio that ran on past the video's end overlaps the
 * next run, and the next run's audio frames that start inside it are dropped. */
static void test_export_overlapping_audio(void **state)
{
    suite_t *s = *state;
    const cmaf_fixture_t *fx = &s->av_long_audio;
    const cmaf_fixture_t *runs[] = {fx, fx};
    record(s, 6, runs, 2, true);
    fx_probe_t p = export_and_probe(s, 6);

    int64_t shift = fx->video_end_us - fx->video_start_us; /* where run 2 starts */
    int dropped = 0;
    for (int i = 0; i < fx->audio_frames; i++)
        if (fx->audio_pts_us[i] + shift < fx->audio_end_us)
            dropped++;
    assert_true(fx->audio_end_us > fx->video_end_us); /* the fixture does overlap */
    assert_true(dropped > 0);
    assert_int_equal(p.video_frames, 300);
    assert_int_equal(p.audio_frames, 2 * fx->audio_frames - dropped);
    assert_true(fabs(p.video_span - 12.0) < 0.1);
}

/* The known limit: a run with another resolution ends the MP4 before it. */
static void test_export_stops_at_other_params(void **state)
{
    suite_t *s = *state;
    const cmaf_fixture_t *runs[] = {&s->av, &s->av_large, &s->av};
    record(s, 3, runs, 3, true);
    fx_probe_t p = export_and_probe(s, 3);
    assert_int_equal(p.video_width, 320);
    assert_int_equal(p.video_frames, 150);
    assert_int_equal(p.audio_frames, s->av.audio_frames);
    assert_true(fabs(p.video_span - 6.0) < 0.1);
}

static void test_export_audio_only(void **state)
{
    suite_t *s = *state;
    const cmaf_fixture_t *runs[] = {&s->audio, &s->audio};
    record(s, 4, runs, 2, true);
    fx_probe_t p = export_and_probe(s, 4);
    assert_int_equal(p.video_frames, 0);
    assert_int_equal(p.audio_frames, 2 * s->audio.audio_frames);
    double want = 2 * (double)s->audio.dur_us / 1e6;
    assert_true(fabs(p.audio_span - want) < 0.1);
    assert_true(fabs(p.format_duration - want) < 0.1);
}

/* An unfinished recording is not exported; once recovered it is. */
static void test_export_after_recovery(void **state)
{
    suite_t *s = *state;
    char dir[PATH_MAX], out[PATH_MAX];
    const cmaf_fixture_t *runs[] = {&s->av};
    record(s, 5, runs, 1, false);
    assert_int_equal(lc_export_mp4(path_of(s, 5, NULL, dir), path_of(s, 5, "download.mp4", out)),
                     LC_ECONFLICT);
    assert_false(lc_recording_has_download(s->root, 5));
    double duration;
    assert_int_equal(lc_recording_recover(s->root, 5, &duration), 0);
    assert_true(duration == 6.0);
    fx_probe_t p = export_and_probe(s, 5);
    assert_int_equal(p.video_frames, 150);
    assert_true(fabs(p.video_span - duration) < 0.1);
}

/* At start the exporter queues every finished recording without a download; drain waits. */
static void test_exporter_resumes_and_drains(void **state)
{
    suite_t *s = *state;
    const cmaf_fixture_t *runs[] = {&s->av};
    record(s, 10, runs, 1, true);
    record(s, 11, runs, 1, true);
    record(s, 12, runs, 1, false); /* not finished: not queued */
    lc_exporter_t *e = lc_exporter_start(s->root);
    assert_non_null(e);
    lc_exporter_drain(e);
    assert_true(lc_recording_has_download(s->root, 10));
    assert_true(lc_recording_has_download(s->root, 11));
    assert_false(lc_recording_has_download(s->root, 12));

    double duration;
    assert_int_equal(lc_recording_recover(s->root, 12, &duration), 0);
    lc_exporter_queue(e, 12);
    lc_exporter_drain(e);
    assert_true(lc_recording_has_download(s->root, 12));
    lc_exporter_stop(&e);
    assert_null(e);
    lc_exporter_stop(&e); /* NULL-safe */
}

/* Holds the export after its first packet until the exporter is told to stop. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started;
    lc_exporter_t *e;
} hold_t;

static void hold_cb(void *opaque)
{
    hold_t *h = opaque;
    pthread_mutex_lock(&h->lock);
    h->started = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    while (!lc_exporter_stopping(h->e))
        usleep(1000);
}

static void test_exporter_stop_removes_tmp(void **state)
{
    suite_t *s = *state;
    char tmp[PATH_MAX];
    hold_t h = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    h.e = lc_exporter_start(s->root);
    assert_non_null(h.e);
    lc_exporter_set_packet_cb(h.e, hold_cb, &h);
    const cmaf_fixture_t *runs[] = {&s->av};
    record(s, 20, runs, 1, true);
    lc_exporter_queue(h.e, 20);

    pthread_mutex_lock(&h.lock);
    while (!h.started)
        pthread_cond_wait(&h.cond, &h.lock);
    pthread_mutex_unlock(&h.lock);
    assert_true(fx_file_size(path_of(s, 20, "download.mp4.tmp", tmp)) >= 0); /* in flight */
    lc_exporter_t *e = h.e; /* h.e stays valid for hold_cb until stop has joined the thread */
    lc_exporter_stop(&e);
    assert_int_equal(fx_file_size(tmp), -1);
    assert_false(lc_recording_has_download(s->root, 20));

    /* The next start picks it up again. */
    e = lc_exporter_start(s->root);
    assert_non_null(e);
    lc_exporter_drain(e);
    lc_exporter_stop(&e);
    assert_true(lc_recording_has_download(s->root, 20));
    assert_int_equal(fx_file_size(tmp), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_one_run, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_export_two_runs, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_export_skips_empty_segment, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_export_overlapping_audio, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_export_stops_at_other_params, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_export_audio_only, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_export_after_recovery, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_exporter_resumes_and_drains, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_exporter_stop_removes_tmp, test_setup,
                                        test_teardown),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
