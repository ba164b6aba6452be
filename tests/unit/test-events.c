/* The per-webinar event logs (events/events.h): who receives which event, resuming after a
 * Last-Event-ID, snapshots, frames larger than a read, readers that fall behind the ring, pings,
 * the audience count, and the Last-Event-ID parser against malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/events.h"

#define EPOCH 77

/* Everything a reader has now, as text (reads in pieces of `chunk` bytes). */
static char *drain(lc_event_sub_t *s, size_t chunk)
{
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap + 1);
    assert_non_null(out);
    for (;;) {
        ssize_t k = lc_event_sub_read(s, out + n, chunk < cap - n ? chunk : cap - n);
        assert_true(k >= 0);
        if (k == 0)
            break;
        n += (size_t)k;
    }
    out[n] = 0;
    return out;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void publish(lc_events_t *ev, int64_t webinar, const char *type, const char *mod,
                    const char *att, int64_t att_reg)
{
    json_t *m = mod ? json_pack("{s:s}", "v", mod) : NULL;
    json_t *a = att ? json_pack("{s:s}", "v", att) : NULL;
    assert_true(lc_events_publish(ev, webinar, type, m, a, att_reg) > 0);
    json_decref(m);
    json_decref(a);
}

/* A reader without a stream limit (the test fails when it cannot subscribe). */
static lc_event_sub_t *subscribe(lc_events_t *ev, int64_t webinar, int64_t reg, const char *last,
                                 bool *snap)
{
    lc_event_sub_t *s = NULL;
    assert_int_equal(lc_events_subscribe(ev, webinar, reg, last, 0, snap, &s), 0);
    return s;
}

static int wakes;
static void on_wake(void *opaque)
{
    (void)opaque;
    wakes++;
}

static void test_audiences(void **state)
{
    (void)state;
    lc_events_t *ev = lc_events_new(EPOCH, LC_EVENTS_IDLE_MS);
    bool snap;
    lc_event_sub_t *mod = subscribe(ev, 1, 0, NULL, &snap);
    lc_event_sub_t *a = subscribe(ev, 1, 10, NULL, &snap);
    lc_event_sub_t *b = subscribe(ev, 1, 11, NULL, &snap);
    lc_event_sub_t *other = subscribe(ev, 2, 10, NULL, &snap);
    assert_true(snap);
    lc_event_sub_set_wake(b, on_wake, NULL);
    wakes = 0;
    publish(ev, 1, "poll", "mod-all", "att-all", LC_EVENTS_ALL_ATTENDEES);
    publish(ev, 1, "question", "mod-private", "att-private-a", 10);
    publish(ev, 1, "poll_results", "mod-only", NULL, LC_EVENTS_NO_ATTENDEE);
    /* b was woken by the first event only: the others are not for it. */
    assert_int_equal(wakes, 1);
    char *m = drain(mod, 4096), *ta = drain(a, 4096), *tb = drain(b, 4096), *to = drain(other, 4096);
    assert_non_null(strstr(m, "mod-all"));
    assert_non_null(strstr(m, "mod-private"));
    assert_non_null(strstr(m, "mod-only"));
    assert_null(strstr(m, "att-"));
    assert_non_null(strstr(ta, "att-all"));
    assert_non_null(strstr(ta, "att-private-a"));
    assert_null(strstr(ta, "mod-"));
    assert_non_null(strstr(tb, "att-all"));
    assert_null(strstr(tb, "private"));
    assert_null(strstr(tb, "mod-"));
    assert_string_equal(to, "");
    /* Frames: id, event, one data line, blank line. */
    assert_non_null(strstr(ta, "id: 77-1\nevent: poll\ndata: {\"v\":\"att-all\"}\n\n"));
    assert_non_null(strstr(ta, "id: 77-2\nevent: question\n"));
    assert_int_equal(lc_events_last_seq(ev, 1), 3);
    assert_int_equal(lc_events_audience(ev, 1), 2);
    assert_int_equal(lc_events_audience(ev, 3), 0);
    free(m), free(ta), free(tb), free(to);
    lc_event_sub_free(&mod);
    lc_event_sub_free(&a);
    lc_event_sub_free(&b);
    lc_event_sub_free(&other);
    lc_events_free(&ev);
}

static void test_resume_and_snapshot(void **state)
{
    (void)state;
    lc_events_t *ev = lc_events_new(EPOCH, LC_EVENTS_IDLE_MS);
    for (int i = 0; i < 5; i++)
        publish(ev, 1, "chat", "m", "a", LC_EVENTS_ALL_ATTENDEES);
    bool snap = false;
    /* After id 77-3: events 4 and 5, no snapshot. */
    lc_event_sub_t *s = subscribe(ev, 1, 10, "77-3", &snap);
    assert_false(snap);
    char *t = drain(s, 4096);
    assert_int_equal(count(t, "event: chat"), 2);
    assert_non_null(strstr(t, "id: 77-4\n"));
    assert_non_null(strstr(t, "id: 77-5\n"));
    free(t);
    lc_event_sub_free(&s);
    /* Another epoch, a future id, garbage: a snapshot, then only new events. */
    const char *bad[] = {"12-3", "77-99", "77", "-3", "77-", "77-3x", "x-1", "", "77--1",
                         "99999999999999999999-1", NULL};
    for (int i = 0; bad[i]; i++) {
        s = subscribe(ev, 1, 10, bad[i], &snap);
        assert_true(snap);
        json_t *data = json_pack("{s:s}", "state", "all");
        assert_int_equal(lc_event_sub_snapshot(s, data), 0);
        json_decref(data);
        t = drain(s, 7); /* in small pieces */
        assert_non_null(strstr(t, "id: 77-5\nevent: snapshot\ndata: {\"state\":\"all\"}\n\n"));
        assert_int_equal(count(t, "event: chat"), 0);
        free(t);
        lc_event_sub_free(&s);
    }
    lc_events_free(&ev);
}

static void test_large_frame_in_pieces(void **state)
{
    (void)state;
    lc_events_t *ev = lc_events_new(EPOCH, LC_EVENTS_IDLE_MS);
    bool snap;
    lc_event_sub_t *s = subscribe(ev, 1, 10, NULL, &snap);
    char *big = malloc(20001);
    memset(big, 'x', 20000);
    big[20000] = 0;
    publish(ev, 1, "chat", NULL, big, LC_EVENTS_ALL_ATTENDEES);
    publish(ev, 1, "chat", NULL, "after", LC_EVENTS_ALL_ATTENDEES);
    char *t = drain(s, 1000);
    assert_non_null(strstr(t, big));
    assert_non_null(strstr(t, "\"after\""));
    assert_true(strstr(t, big) < strstr(t, "\"after\""));
    free(t);
    free(big);
    lc_event_sub_free(&s);
    lc_events_free(&ev);
}

static void test_fallen_behind(void **state)
{
    (void)state;
    lc_events_t *ev = lc_events_new(EPOCH, LC_EVENTS_IDLE_MS);
    bool snap;
    lc_event_sub_t *s = subscribe(ev, 1, 10, NULL, &snap);
    for (int i = 0; i < LC_EVENTS_RING + 1; i++)
        publish(ev, 1, "chat", "m", "a", LC_EVENTS_ALL_ATTENDEES);
    char buf[256];
    assert_int_equal(lc_event_sub_read(s, buf, sizeof buf), -EPIPE);
    lc_event_sub_free(&s);
    /* An id that old is not resumable either. */
    s = subscribe(ev, 1, 10, "77-0", &snap);
    assert_true(snap);
    lc_event_sub_free(&s);
    s = subscribe(ev, 1, 10, "77-1", &snap);
    assert_false(snap);
    lc_event_sub_free(&s);
    lc_events_free(&ev);
}

static void test_ping(void **state)
{
    (void)state;
    lc_events_t *ev = lc_events_new(EPOCH, LC_EVENTS_IDLE_MS);
    bool snap;
    lc_event_sub_t *s = subscribe(ev, 4, 0, NULL, &snap);
    lc_event_sub_set_wake(s, on_wake, NULL);
    char buf[64];
    assert_int_equal(lc_event_sub_read(s, buf, sizeof buf), 0);
    wakes = 0;
    lc_events_ping(ev);
    assert_int_equal(wakes, 1);
    ssize_t n = lc_event_sub_read(s, buf, sizeof buf);
    assert_int_equal(n, 8);
    assert_memory_equal(buf, ": ping\n\n", 8);
    assert_int_equal(lc_event_sub_read(s, buf, sizeof buf), 0);
    lc_event_sub_free(&s);
    lc_events_free(&ev);
}

static void test_stream_limit_and_audience(void **state)
{
    (void)state;
    lc_events_t *ev = lc_events_new(EPOCH, LC_EVENTS_IDLE_MS);
    bool snap;
    lc_event_sub_t *subs[3] = {NULL}, *extra = NULL, *mod = NULL, *other = NULL;
    for (int i = 0; i < 3; i++)
        assert_int_equal(lc_events_subscribe(ev, 1, 10, NULL, 3, &snap, &subs[i]), 0);
    /* A fourth stream of the same link is refused; another link, a moderator are not. */
    assert_int_equal(lc_events_subscribe(ev, 1, 10, NULL, 3, &snap, &extra), -EMFILE);
    assert_null(extra);
    assert_int_equal(lc_events_subscribe(ev, 1, 11, NULL, 3, &snap, &other), 0);
    assert_int_equal(lc_events_subscribe(ev, 1, 0, NULL, 3, &snap, &mod), 0);
    /* Distinct attendees: two (three streams of one count once; moderators not at all). */
    assert_int_equal(lc_events_audience(ev, 1), 2);
    lc_event_sub_free(&subs[0]);
    assert_int_equal(lc_events_audience(ev, 1), 2);
    assert_int_equal(lc_events_subscribe(ev, 1, 10, NULL, 3, &snap, &extra), 0);
    lc_event_sub_free(&subs[1]);
    lc_event_sub_free(&subs[2]);
    lc_event_sub_free(&extra);
    assert_int_equal(lc_events_audience(ev, 1), 1);
    lc_event_sub_free(&other);
    assert_int_equal(lc_events_audience(ev, 1), 0);
    lc_event_sub_free(&mod);
    lc_events_free(&ev);
}

static void test_idle_log_freed(void **state)
{
    (void)state;
    lc_events_t *ev = lc_events_new(EPOCH, 0); /* idle at once */
    bool snap;
    lc_event_sub_t *s = subscribe(ev, 1, 10, NULL, &snap);
    publish(ev, 1, "chat", "m", "a", LC_EVENTS_ALL_ATTENDEES);
    char *t = drain(s, 4096);
    assert_non_null(strstr(t, "id: 77-1\n"));
    free(t);
    /* A reader keeps the log alive through pings. */
    lc_events_ping(ev);
    assert_int_equal(lc_events_last_seq(ev, 1), 1);
    lc_event_sub_free(&s);
    lc_events_ping(ev);
    assert_int_equal(lc_events_last_seq(ev, 1), 0); /* freed */
    /* Made anew under the next epoch: the old id asks for a snapshot, new ids are 78-. */
    s = subscribe(ev, 1, 10, "77-1", &snap);
    assert_true(snap);
    publish(ev, 1, "chat", "m", "a", LC_EVENTS_ALL_ATTENDEES);
    json_t *data = json_object();
    assert_int_equal(lc_event_sub_snapshot(s, data), 0);
    json_decref(data);
    t = drain(s, 4096);
    assert_non_null(strstr(t, "id: 78-0\nevent: snapshot"));
    assert_non_null(strstr(t, "id: 78-1\nevent: chat"));
    free(t);
    lc_event_sub_free(&s);
    lc_events_free(&ev);
}

static void test_parse_id(void **state)
{
    (void)state;
    int64_t e, q;
    assert_int_equal(lc_events_parse_id("5-7", &e, &q), 0);
    assert_int_equal(e, 5);
    assert_int_equal(q, 7);
    const char *bad[] = {NULL, "", "-", "5", "5-", "-7", "a-7", "5-b", "5-7-", "5 -7", "5-+7",
                         "5-0x7", "123456789012345678901234-1", NULL};
    for (int i = 1; bad[i]; i++)
        assert_int_equal(lc_events_parse_id(bad[i], &e, &q), -EINVAL);
    assert_int_equal(lc_events_parse_id(NULL, &e, &q), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audiences),
        cmocka_unit_test(test_resume_and_snapshot),
        cmocka_unit_test(test_large_frame_in_pieces),
        cmocka_unit_test(test_fallen_behind),
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_stream_limit_and_audience),
        cmocka_unit_test(test_idle_log_freed),
        cmocka_unit_test(test_parse_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
