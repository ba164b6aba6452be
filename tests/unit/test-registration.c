/* The group-commit writer, the registration statements (a repeat registration keeps one row
 * and adds a pending link; decisions; admission; heartbeats) and the calendar file. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/ics.h"
#include "core/error.h"
#include "core/util.h"
#include "db/db.h"
#include "db/registrations.h"
#include "db/writer.h"
#include "temp_db.h"

static int64_t make_webinar(lc_db_t *db, const char *slug)
{
    uint8_t key[32];
    lc_random_bytes(key, sizeof key);
    lc_webinar_row_t row = {.title = "T", .settings = {.starts_at_ms = LC_DB_NO_TIME,
                                                        .duration_s = 3600,
                                                        .retention_days = 90,
                                                        .consent_version = "1"}};
    int64_t id = 0;
    assert_int_equal(lc_db_webinar_insert(db, slug, &row, key, 0, 1000, &id), 0);
    return id;
}

/* ---- the writer ---------------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
} counter_t;

static void count_done(void *opaque)
{
    counter_t *c = opaque;
    pthread_mutex_lock(&c->lock);
    c->done++;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void wait_done(counter_t *c, int n)
{
    pthread_mutex_lock(&c->lock);
    while (c->done < n)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

static const char SQL_INSERT_T[] = "INSERT INTO t (v) VALUES (?1)";

/* A job that inserts its value; negative values fail after inserting (to be rolled back). */
static int insert_value(lc_wtx_t *tx, void *arg)
{
    int v = *(int *)arg;
    sqlite3_stmt *st = lc_wtx_stmt(tx, SQL_INSERT_T);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int(st, 1, v < 0 ? -v : v);
    int rc = lc_wtx_step_done(tx, st);
    return rc < 0 ? rc : v < 0 ? -EINVAL : 0;
}

static void test_writer_groups_and_isolates(void **state)
{
    (void)state;
    lc_db_t *db;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    sqlite3 *c;
    assert_int_equal(sqlite3_open(temp_db_path, &c), SQLITE_OK);
    assert_int_equal(sqlite3_exec(c, "CREATE TABLE t (v INTEGER UNIQUE)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(c);
    int err = 0;
    lc_writer_t *w = lc_writer_start(temp_db_path, 100000, &err);
    assert_non_null(w);
    enum { N = 3000 };
    counter_t cnt = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    lc_write_job_t **jobs = calloc(N, sizeof *jobs);
    for (int i = 0; i < N; i++) {
        int *v = malloc(sizeof *v);
        /* Every 10th job fails after writing; job 7 repeats a value (UNIQUE conflict). */
        *v = i % 10 == 9 ? -(i + 1) : i == 7 ? 1 : i + 1;
        jobs[i] = lc_writer_submit(w, insert_value, v, free, count_done, &cnt, &err);
        assert_non_null(jobs[i]);
    }
    wait_done(&cnt, N);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        int rc = lc_write_job_result(jobs[i]);
        if (i % 10 == 9)
            assert_int_equal(rc, -EINVAL);
        else if (i == 7)
            assert_int_equal(rc, LC_ECONFLICT);
        else {
            assert_int_equal(rc, 0);
            ok++;
        }
        lc_write_job_release(&jobs[i]);
    }
    free(jobs);
    long long done = 0, batches = 0;
    lc_writer_stats(w, &done, &batches);
    assert_int_equal(done, ok);
    /* Jobs queued while a batch commits share the next commit. */
    assert_true(batches < N / 2);
    /* A failed job left nothing behind; the others are all there. */
    assert_int_equal((int)temp_db_int("SELECT count(*) FROM t"), ok);
    /* Fire and forget, then stop: what was queued is committed before the thread ends. */
    for (int i = 0; i < 100; i++) {
        int *v = malloc(sizeof *v);
        *v = 100000 + i;
        assert_int_equal(lc_writer_post(w, insert_value, v, free), 0);
    }
    lc_writer_stop(&w);
    assert_null(w);
    assert_int_equal((int)temp_db_int("SELECT count(*) FROM t"), ok + 100);
    lc_db_close(&db);
}

static void test_writer_queue_bound_and_cancel(void **state)
{
    (void)state;
    lc_db_t *db;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    sqlite3 *c;
    assert_int_equal(sqlite3_open(temp_db_path, &c), SQLITE_OK);
    assert_int_equal(sqlite3_exec(c, "CREATE TABLE t (v INTEGER UNIQUE)", NULL, NULL, NULL),
                     SQLITE_OK);
    /* Hold the write lock so the writer cannot commit: jobs pile up in the queue. */
    assert_int_equal(sqlite3_exec(c, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    int err = 0;
    lc_writer_t *w = lc_writer_start(temp_db_path, 2, &err);
    assert_non_null(w);
    counter_t cnt = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    int *v1 = malloc(sizeof *v1), *v2 = malloc(sizeof *v2), *v3 = malloc(sizeof *v3),
        *v4 = malloc(sizeof *v4);
    *v1 = 1, *v2 = 2, *v3 = 3, *v4 = 4;
    lc_write_job_t *a = lc_writer_submit(w, insert_value, v1, free, count_done, &cnt, &err);
    assert_non_null(a);
    usleep(100 * 1000); /* the writer took job a and waits for the lock */
    lc_write_job_t *b = lc_writer_submit(w, insert_value, v2, free, count_done, &cnt, &err);
    lc_write_job_t *d = lc_writer_submit(w, insert_value, v3, free, count_done, &cnt, &err);
    assert_non_null(b);
    assert_non_null(d);
    assert_null(lc_writer_submit(w, insert_value, v4, free, count_done, &cnt, &err));
    assert_int_equal(err, LC_ELIMIT);
    lc_write_job_cancel(d); /* a queued job that is cancelled is skipped and never reported */
    assert_int_equal(lc_write_job_result(b), -EINPROGRESS);
    assert_int_equal(sqlite3_exec(c, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    wait_done(&cnt, 2);
    assert_int_equal(lc_write_job_result(a), 0);
    assert_int_equal(lc_write_job_result(b), 0);
    lc_write_job_release(&a);
    lc_write_job_release(&b);
    lc_writer_stop(&w);
    lc_write_job_release(&d);
    sqlite3_close(c);
    assert_int_equal(cnt.done, 2);
    assert_int_equal((int)temp_db_int("SELECT count(*) FROM t"), 2);
    lc_db_close(&db);
}

/* ---- registrations ------------------------------------------------------------------------- */

static lc_reg_new_t *new_reg(int64_t webinar, const char *email, const char *name, bool approval)
{
    lc_reg_new_t *r = calloc(1, sizeof *r);
    r->webinar_id = webinar;
    r->email = strdup(email);
    r->name = strdup(name);
    r->answers_json = strdup("{}");
    r->consent_version = strdup("1");
    r->approval = approval;
    r->now_ms = lc_now_real_ms();
    lc_random_bytes(r->token_hash, 32);
    return r;
}

/* Runs one writer job to completion; returns its result and copies the arg's outputs. */
static int run_job(lc_writer_t *w, lc_write_fn fn, void *arg, void (*free_arg)(void *),
                   lc_reg_new_t *out)
{
    counter_t cnt = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    int err = 0;
    lc_write_job_t *job = lc_writer_submit(w, fn, arg, free_arg, count_done, &cnt, &err);
    assert_non_null(job);
    wait_done(&cnt, 1);
    int rc = lc_write_job_result(job);
    if (out)
        *out = *(lc_reg_new_t *)lc_write_job_arg(job);
    lc_write_job_release(&job);
    return rc;
}

typedef struct {
    char name[64];
    lc_reg_state_t state;
    int pending_links;
    int64_t seconds_live, seconds_replay;
    bool attended;
    int rows;
} seen_t;

static int remember(void *opaque, const lc_reg_row_t *r)
{
    seen_t *s = opaque;
    snprintf(s->name, sizeof s->name, "%s", r->name);
    s->state = r->state;
    s->pending_links = r->pending_links;
    s->seconds_live = r->seconds_live;
    s->seconds_replay = r->seconds_replay;
    s->attended = r->attended_live;
    s->rows++;
    return 0;
}

static void test_repeat_registration_keeps_one(void **state)
{
    (void)state;
    lc_db_t *db;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    int64_t wid = make_webinar(db, "w");
    int err = 0;
    lc_writer_t *w = lc_writer_start(temp_db_path, 100, &err);
    lc_reg_new_t first, again, third;
    lc_reg_new_t *a = new_reg(wid, "Ada@Example.com", "Ada", true);
    uint8_t first_hash[32];
    memcpy(first_hash, a->token_hash, 32);
    assert_int_equal(run_job(w, lc_db_reg_write, a, lc_reg_new_free, &first), 0);
    assert_false(first.repeat);
    lc_reg_new_t *b = new_reg(wid, "ada@example.COM", "Mallory", true);
    uint8_t again_hash[32];
    memcpy(again_hash, b->token_hash, 32);
    assert_int_equal(run_job(w, lc_db_reg_write, b, lc_reg_new_free, &again), 0);
    assert_true(again.repeat);
    assert_int_equal(again.registration_id, first.registration_id);
    seen_t s = {0};
    assert_int_equal(lc_db_reg_get(db, wid, first.registration_id, remember, &s), 0);
    assert_string_equal(s.name, "Ada");
    assert_int_equal(s.state, LC_REG_PENDING);
    assert_int_equal(s.pending_links, 1);
    lc_join_t j;
    assert_int_equal(lc_db_join_get(db, first_hash, &j), 0);
    assert_false(j.link_pending);
    assert_int_equal(lc_db_join_get(db, again_hash, &j), 0);
    assert_true(j.link_pending);
    /* Approving approves the repeat link too. */
    int changed = 0;
    int64_t id = first.registration_id;
    assert_int_equal(lc_db_reg_decide(db, wid, &id, 1, true, 2000, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(lc_db_join_get(db, again_hash, &j), 0);
    assert_false(j.link_pending);
    assert_int_equal(j.state, LC_REG_APPROVED);
    /* Approving again changes nothing. */
    assert_int_equal(lc_db_reg_decide(db, wid, &id, 1, true, 2000, &changed), 0);
    assert_int_equal(changed, 0);
    /* Another repeat link; rejecting it leaves the approved registration alone. */
    lc_reg_new_t *c = new_reg(wid, "ADA@example.com", "Eve", true);
    uint8_t third_hash[32];
    memcpy(third_hash, c->token_hash, 32);
    assert_int_equal(run_job(w, lc_db_reg_write, c, lc_reg_new_free, &third), 0);
    assert_int_equal(lc_db_reg_decide(db, wid, &id, 1, false, 3000, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(lc_db_join_get(db, third_hash, &j), LC_ENOTFOUND);
    assert_int_equal(lc_db_join_get(db, first_hash, &j), 0);
    assert_int_equal(j.state, LC_REG_APPROVED);
    /* At most LC_REG_REPEAT_LINKS_MAX repeat links; the first one always stays. */
    for (int i = 0; i < LC_REG_REPEAT_LINKS_MAX + 5; i++) {
        lc_reg_new_t *r = new_reg(wid, "ada@example.com", "x", false);
        r->now_ms += i + 1;
        assert_int_equal(run_job(w, lc_db_reg_write, r, lc_reg_new_free, NULL), 0);
    }
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM join_links WHERE registration_id = %lld",
             (long long)id);
    assert_int_equal((int)temp_db_int(sql), 1 + LC_REG_REPEAT_LINKS_MAX);
    assert_int_equal(lc_db_join_get(db, first_hash, &j), 0);
    /* Ids of another webinar are never touched. */
    int64_t other = make_webinar(db, "other");
    assert_int_equal(lc_db_reg_decide(db, other, &id, 1, false, 4000, &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(lc_db_reg_admit(db, other, &id, 1, 4000, &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(lc_db_reg_admit(db, wid, &id, 1, 4000, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(lc_db_join_get(db, first_hash, &j), 0);
    assert_true(j.admitted);
    lc_writer_stop(&w);
    lc_db_close(&db);
}

static void heartbeat(lc_writer_t *w, int64_t reg, bool replay, int64_t now)
{
    lc_heartbeat_t *h = malloc(sizeof *h);
    *h = (lc_heartbeat_t){.registration_id = reg, .replay = replay, .now_ms = now};
    assert_int_equal(run_job(w, lc_db_heartbeat_write, h, free, NULL), 0);
}

static void test_heartbeats_count_time_watched(void **state)
{
    (void)state;
    lc_db_t *db;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    int64_t wid = make_webinar(db, "w");
    int err = 0;
    lc_writer_t *w = lc_writer_start(temp_db_path, 100, &err);
    lc_reg_new_t out;
    assert_int_equal(run_job(w, lc_db_reg_write, new_reg(wid, "a@example.com", "A", false),
                             lc_reg_new_free, &out), 0);
    int64_t t = 1000000000000;
    heartbeat(w, out.registration_id, false, t);         /* joins: nothing counted yet */
    heartbeat(w, out.registration_id, false, t + 30000); /* +30 s */
    heartbeat(w, out.registration_id, false, t + 60000); /* +30 s */
    /* A gap longer than LC_HEARTBEAT_GAP_MS starts a new stretch: the gap is not counted. */
    heartbeat(w, out.registration_id, false, t + 600000);
    heartbeat(w, out.registration_id, false, t + 690000); /* +90 s, capped at 60 */
    heartbeat(w, out.registration_id, true, t + 700000);  /* replay is counted apart */
    heartbeat(w, out.registration_id, true, t + 710000);  /* +10 s */
    seen_t s = {0};
    assert_int_equal(lc_db_reg_get(db, wid, out.registration_id, remember, &s), 0);
    assert_int_equal(s.seconds_live, 30 + 30 + 60);
    assert_int_equal(s.seconds_replay, 10);
    assert_true(s.attended);
    assert_int_equal((int)temp_db_int("SELECT count(*) FROM attendance"), 3);
    lc_writer_stop(&w);
    lc_db_close(&db);
}

/* ---- the calendar file ------------------------------------------------------------------------ */

static void test_ics_escapes_and_folds(void **state)
{
    (void)state;
    /* 40 × "ü" (2 bytes each) forces folds inside multi-byte text. */
    char title[200] = "A; B, C\\D ";
    for (int i = 0; i < 40; i++)
        strcat(title, "\xc3\xbc");
    lc_ics_event_t ev = {.uid = "abc@lectern", .title = title,
                         .description = "Line one\nLine two\r\nthree\x01",
                         .url = "https://example.org/j/TOKEN", .starts_at_ms = 1798797600000,
                         .duration_s = 5400, .now_ms = 1798700000000};
    lc_buf_t *b = lc_ics_event(&ev);
    assert_non_null(b);
    size_t len = lc_buf_len(b);
    char *text = malloc(len + 1);
    memcpy(text, lc_buf_cdata(b), len);
    text[len] = 0;
    lc_buf_unref(b);
    assert_non_null(strstr(text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert_non_null(strstr(text, "\r\nDTSTART:20270101T100000Z\r\n"));
    assert_non_null(strstr(text, "\r\nDTEND:20270101T113000Z\r\n"));
    assert_non_null(strstr(text, "\r\nEND:VCALENDAR\r\n"));
    /* Every line at most 75 octets, CRLF only, and no fold inside a UTF-8 sequence. */
    for (char *line = text, *end; *line; line = end + 2) {
        end = strstr(line, "\r\n");
        assert_non_null(end);
        assert_true(end - line <= 75);
        assert_null(memchr(line, '\n', (size_t)(end - line)));
        if (line[0] == ' ')
            assert_true(((unsigned char)line[1] & 0xc0) != 0x80);
    }
    /* Unfolded, the texts are escaped as RFC 5545 says; control characters are gone. */
    char *unfolded = malloc(len + 1), *o = unfolded;
    for (char *p = text; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
            p += 2;
            continue;
        }
        *o++ = *p;
    }
    *o = 0;
    assert_non_null(strstr(unfolded, "SUMMARY:A\\; B\\, C\\\\D \xc3\xbc"));
    assert_non_null(strstr(unfolded, "DESCRIPTION:Line one\\nLine two\\nthree\\n\\nJoin: "
                                     "https://example.org/j/TOKEN\r\n"));
    assert_non_null(strstr(unfolded, "\r\nURL:https://example.org/j/TOKEN\r\n"));
    assert_null(strchr(unfolded, '\x01'));
    free(unfolded);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEMP_DB_TEST(test_writer_groups_and_isolates),
        TEMP_DB_TEST(test_writer_queue_bound_and_cancel),
        TEMP_DB_TEST(test_repeat_registration_keeps_one),
        TEMP_DB_TEST(test_heartbeats_count_time_watched),
        cmocka_unit_test(test_ics_escapes_and_folds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
