/* Blocking playlist reload at the window (draft-pantos-hls-rfc8216bis 6.2.5.2): which requests
 * are answered at once, which wait, which are too far ahead, and that a woken reader always finds
 * what it waited for in the playlist. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "live/window.h"

typedef struct {
    lc_window_waiter_t waiter; /* first: the callback gets this pointer */
    lc_window_t *w;
    int fired;
} probe_t;

static lc_window_t *new_window(void)
{
    lc_window_config_t cfg = {.part_target_s = 0.5, .segment_target_s = 2.0,
                              .window_segments = 6, .keep_extra_segments = 2,
                              .low_latency = true, .session_id = 7};
    lc_window_t *w = lc_window_new(&cfg);
    assert_non_null(w);
    lc_buf_t *init = lc_buf_new_copy("init", 4);
    lc_media_info_t info = {.has_video = true, .width = 640, .height = 360,
                            .bandwidth_bps = 800000};
    snprintf(info.codecs, sizeof info.codecs, "avc1.42c01e");
    assert_int_equal(lc_window_add_init(w, 1, init, &info), 0);
    lc_buf_unref(init);
    return w;
}

static void begin(lc_window_t *w, int64_t msn)
{
    lc_segment_meta_t seg = {.msn = msn, .pdt_ms = 1795737600000 + msn * 2000, .init_id = 1};
    assert_int_equal(lc_window_begin_segment(w, &seg), 0);
}

static void part(lc_window_t *w, int64_t msn, int index)
{
    lc_part_meta_t p = {.msn = msn, .index = index, .duration = 0.5, .independent = index == 0,
                        .init_id = 1};
    lc_buf_t *b = lc_buf_new_copy("part", 4);
    assert_int_equal(lc_window_add_part(w, &p, b), 0);
    lc_buf_unref(b);
}

static void end(lc_window_t *w, int64_t msn, int parts)
{
    lc_segment_meta_t seg = {.msn = msn, .duration = 0.5 * parts, .init_id = 1,
                             .part_count = parts};
    assert_int_equal(lc_window_end_segment(w, &seg), 0);
}

/* Runs on the writer's thread with the window locked (reading the playlist here would deadlock):
 * the tests check right after the write call that the playlist lists what was awaited. */
static void on_wake(lc_window_waiter_t *waiter)
{
    probe_t *p = (probe_t *)(void *)waiter;
    p->fired++;
}

static void probe_init(probe_t *p, lc_window_t *w, int64_t msn, int part_index)
{
    memset(p, 0, sizeof *p);
    p->w = w;
    p->waiter.msn = msn;
    p->waiter.part = part_index;
    p->waiter.cb = on_wake;
}

static bool playlist_has(lc_window_t *w, const char *needle)
{
    lc_buf_t *b = lc_window_media_playlist(w);
    bool has = b && strstr((const char *)lc_buf_cdata(b), needle) != NULL;
    lc_buf_unref(b);
    return has;
}

static void test_answered_at_once_when_listed(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    part(w, 0, 1);
    probe_t p;
    probe_init(&p, w, 0, 1);
    assert_int_equal(lc_window_wait(w, &p.waiter), 0); /* part 0.1 is listed */
    probe_init(&p, w, 0, 0);
    assert_int_equal(lc_window_wait(w, &p.waiter), 0);
    assert_int_equal(p.fired, 0);
    lc_window_unref(w);
}

static void test_part_wait_fires_when_listed(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    probe_t p;
    probe_init(&p, w, 0, 2);
    assert_int_equal(lc_window_wait(w, &p.waiter), 1);
    part(w, 0, 1);
    assert_int_equal(p.fired, 0); /* 0.1 is not what it waits for */
    part(w, 0, 2);
    assert_int_equal(p.fired, 1);
    assert_true(playlist_has(w, "part-0.2.m4s")); /* published before the wake-up */
    assert_false(lc_window_cancel(w, &p.waiter)); /* no longer queued */
    part(w, 0, 3);
    assert_int_equal(p.fired, 1); /* once */
    lc_window_unref(w);
}

/* _HLS_part past the last part of a finished segment means part 0 of the next segment. */
static void test_part_past_end_means_next_segment(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    for (int i = 0; i < 4; i++)
        part(w, 0, i);
    probe_t p;
    probe_init(&p, w, 0, 4);
    assert_int_equal(lc_window_wait(w, &p.waiter), 1);
    end(w, 0, 4);
    assert_int_equal(p.fired, 0); /* the segment ended with 4 parts: wait for 1.0 */
    begin(w, 1);
    assert_int_equal(p.fired, 0); /* begun, but no part yet */
    part(w, 1, 0);
    assert_int_equal(p.fired, 1);
    assert_true(playlist_has(w, "part-1.0.m4s"));
    lc_window_unref(w);
}

/* _HLS_msn alone waits for the whole segment. */
static void test_segment_wait(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    probe_t p;
    probe_init(&p, w, 0, -1);
    assert_int_equal(lc_window_wait(w, &p.waiter), 1);
    part(w, 0, 1);
    assert_int_equal(p.fired, 0);
    end(w, 0, 2);
    assert_int_equal(p.fired, 1);
    assert_true(playlist_has(w, "seg-0.m4s"));
    probe_init(&p, w, 0, -1);
    assert_int_equal(lc_window_wait(w, &p.waiter), 0);
    lc_window_unref(w);
}

static void test_too_far_ahead(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    probe_t p;
    probe_init(&p, w, 2, 0); /* two segments ahead: may wait */
    assert_int_equal(lc_window_wait(w, &p.waiter), 1);
    assert_true(lc_window_cancel(w, &p.waiter));
    probe_init(&p, w, 3, 0); /* three: 400 */
    assert_int_equal(lc_window_wait(w, &p.waiter), -ERANGE);
    probe_init(&p, w, 3, -1);
    assert_int_equal(lc_window_wait(w, &p.waiter), -ERANGE);
    probe_init(&p, w, 0, 50); /* a part index no 2 s segment of 0.5 s parts can reach */
    assert_int_equal(lc_window_wait(w, &p.waiter), -ERANGE);
    lc_window_unref(w);
}

/* An ended stream answers every wait (the directives are ignored once ENDLIST is there). */
static void test_end_wakes_everyone(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    probe_t a, b;
    probe_init(&a, w, 0, 3);
    probe_init(&b, w, 2, -1);
    assert_int_equal(lc_window_wait(w, &a.waiter), 1);
    assert_int_equal(lc_window_wait(w, &b.waiter), 1);
    lc_window_end(w);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired, 1);
    assert_true(playlist_has(w, "#EXT-X-ENDLIST"));
    probe_init(&a, w, 5, 0);
    assert_int_equal(lc_window_wait(w, &a.waiter), 0);
    lc_window_unref(w);
}

static void test_cancel(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    probe_t p;
    probe_init(&p, w, 0, 1);
    assert_int_equal(lc_window_wait(w, &p.waiter), 1);
    assert_true(lc_window_cancel(w, &p.waiter));
    assert_false(lc_window_cancel(w, &p.waiter));
    part(w, 0, 1);
    assert_int_equal(p.fired, 0);
    lc_window_unref(w);
}

static void test_next_part_and_low_latency_off(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    assert_true(lc_window_is_next_part(w, 0, 1));
    assert_false(lc_window_is_next_part(w, 0, 2));
    assert_false(lc_window_is_next_part(w, 1, 0));
    end(w, 0, 1);
    assert_true(lc_window_is_next_part(w, 1, 0));
    assert_false(lc_window_is_next_part(w, 0, 1));
    lc_window_unref(w);

    lc_window_config_t cfg = {.part_target_s = 0.5, .segment_target_s = 2.0,
                              .window_segments = 6, .low_latency = false};
    w = lc_window_new(&cfg);
    probe_t p;
    probe_init(&p, w, 0, 0);
    assert_int_equal(lc_window_wait(w, &p.waiter), -EINVAL);
    lc_window_unref(w);
}

/* Gzip forms exist for the full and the delta playlist and decompress to the same text. */
static void test_gzip_forms(void **state)
{
    (void)state;
    lc_window_t *w = new_window();
    begin(w, 0);
    part(w, 0, 0);
    lc_buf_t *plain = lc_window_playlist(w, false, false);
    lc_buf_t *gz = lc_window_playlist(w, false, true);
    assert_non_null(plain);
    assert_non_null(gz);
    assert_memory_equal(lc_buf_cdata(plain), "#EXTM3U", 7);
    assert_int_equal(lc_buf_cdata(gz)[0], 0x1f);
    lc_buf_t *again = lc_window_playlist(w, false, true);
    assert_ptr_equal(gz, again); /* compressed once per change */
    lc_buf_unref(again);
    lc_buf_unref(plain);
    lc_buf_unref(gz);
    lc_buf_t *dgz = lc_window_playlist(w, true, true);
    assert_non_null(dgz);
    lc_buf_unref(dgz);
    lc_window_unref(w);
}

/* A reader told "it is there" must find it in the playlist it then reads, however the writer's
 * steps interleave with it: the writer changes the segments before it swaps in the playlist that
 * lists them, and the answer must follow the playlist, not the segments. */
typedef struct {
    lc_window_t *w;
    atomic_bool stop;
    atomic_int wrong, checked;
} race_t;

static void *race_reader(void *arg)
{
    race_t *r = arg;
    while (!atomic_load(&r->stop)) {
        lc_buf_t *pl = lc_window_media_playlist(r->w);
        if (!pl)
            continue;
        /* Ask for the part the published playlist hints at, plus the one after it. */
        const char *hint = strstr((const char *)lc_buf_cdata(pl), "PRELOAD-HINT:TYPE=PART,URI=\"part-");
        long long msn = 0;
        int idx = 0;
        if (!hint || sscanf(hint, "PRELOAD-HINT:TYPE=PART,URI=\"part-%lld.%d.m4s", &msn, &idx) != 2) {
            lc_buf_unref(pl);
            continue;
        }
        lc_buf_unref(pl);
        for (int d = 0; d < 2; d++) {
            probe_t p;
            probe_init(&p, r->w, msn, idx + d);
            int rc = lc_window_wait(r->w, &p.waiter);
            if (rc == 1) {
                lc_window_cancel(r->w, &p.waiter);
                continue;
            }
            if (rc != 0)
                continue;
            /* The playlist read now must list the asked part: its hint (the next part to come)
             * is past it. Every segment here has 4 parts, so any part index past 3 of msn means
             * part 0 of msn+1 (rfc8216bis 6.2.5.2).
             * (Comparing hints, not looking for the part's line: the fast writer may already
             * have moved the part's segment out of the three target durations that list parts.) */
            lc_buf_t *now = lc_window_media_playlist(r->w);
            const char *text = (const char *)lc_buf_cdata(now);
            const char *h2 = strstr(text, "PRELOAD-HINT:TYPE=PART,URI=\"part-");
            long long hm = 0;
            int hi = 0;
            long long am = idx + d >= 4 ? msn + 1 : msn;
            int ai = idx + d >= 4 ? 0 : idx + d;
            bool ok = strstr(text, "#EXT-X-ENDLIST") ||
                      (h2 && sscanf(h2, "PRELOAD-HINT:TYPE=PART,URI=\"part-%lld.%d.m4s", &hm, &hi) == 2 &&
                       (hm > am || (hm == am && hi > ai)));
            if (!ok)
                atomic_fetch_add(&r->wrong, 1);
            atomic_fetch_add(&r->checked, 1);
            lc_buf_unref(now);
        }
    }
    return NULL;
}

static void test_answer_follows_published_playlist(void **state)
{
    (void)state;
    race_t r = {.w = new_window()};
    pthread_t readers[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&readers[i], NULL, race_reader, &r), 0);
    for (int64_t msn = 0; msn < 400; msn++) {
        begin(r.w, msn);
        for (int i = 0; i < 4; i++)
            part(r.w, msn, i);
        end(r.w, msn, 4);
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(readers[i], NULL);
    assert_true(atomic_load(&r.checked) > 100);
    assert_int_equal(atomic_load(&r.wrong), 0);
    lc_window_unref(r.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answered_at_once_when_listed),
        cmocka_unit_test(test_part_wait_fires_when_listed),
        cmocka_unit_test(test_part_past_end_means_next_segment),
        cmocka_unit_test(test_segment_wait),
        cmocka_unit_test(test_too_far_ahead),
        cmocka_unit_test(test_end_wakes_everyone),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_next_part_and_low_latency_off),
        cmocka_unit_test(test_gzip_forms),
        cmocka_unit_test(test_answer_follows_published_playlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
