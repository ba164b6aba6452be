/* The live room's rules where the database enforces them (db/interaction.h), run through the
 * real group-commit writer: votes (closed, draft, other poll's option, single choice, second
 * vote, changed vote, anonymous storage), poll life, questions (limit, upvotes), chat (mutes,
 * rate), hands; and the writer's commit hook (called in commit order, also for a cancelled
 * submitter, never for a failed job). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "temp_db.h"

#include "core/error.h"
#include "core/util.h"
#include "db/db.h"
#include "db/interaction.h"
#include "db/writer.h"

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int committed[64]; /* the ops the commit hook saw, in order */
    int ncommitted;
} tracker_t;

static tracker_t T = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void on_done(void *opaque)
{
    (void)opaque;
    pthread_mutex_lock(&T.lock);
    T.done++;
    pthread_cond_signal(&T.cond);
    pthread_mutex_unlock(&T.lock);
}

static void on_committed(void *arg, int result)
{
    lc_ix_job_t *j = arg;
    pthread_mutex_lock(&T.lock);
    if (result == 0 && T.ncommitted < 64)
        T.committed[T.ncommitted++] = (int)j->target_id;
    pthread_mutex_unlock(&T.lock);
}

static lc_writer_t *W;
static int64_t WEBINAR;

static lc_ix_job_t *job(lc_ix_op_t op, int64_t reg, int64_t target)
{
    lc_ix_job_t *j = calloc(1, sizeof *j);
    j->op = op;
    j->webinar_id = WEBINAR;
    j->registration_id = reg;
    j->target_id = target;
    j->now_ms = lc_now_real_ms();
    j->limit = 3;
    return j;
}

/* Runs a job to completion: its result; *out (when given) a copy of its output row. */
static int run(lc_ix_job_t *j, json_t **out, const char **why)
{
    int err = 0, before;
    pthread_mutex_lock(&T.lock);
    before = T.done;
    pthread_mutex_unlock(&T.lock);
    lc_write_job_t *wj = lc_writer_submit_ex(W, lc_db_ix_run, on_committed, j, lc_ix_job_free,
                                             on_done, NULL, &err);
    assert_non_null(wj);
    pthread_mutex_lock(&T.lock);
    while (T.done == before)
        pthread_cond_wait(&T.cond, &T.lock);
    pthread_mutex_unlock(&T.lock);
    int rc = lc_write_job_result(wj);
    lc_ix_job_t *done = lc_write_job_arg(wj);
    if (out)
        *out = json_incref(done->out);
    if (why)
        *why = done->why;
    lc_write_job_release(&wj);
    return rc;
}

static int64_t new_poll(bool open, bool multiple, bool allow_change, bool anonymous,
                        json_t **out)
{
    lc_ix_job_t *j = job(LC_IX_POLL_CREATE, 0, 0);
    j->text = strdup("Which?");
    j->options = json_pack("[sss]", "a", "b", "c");
    j->flag = open;
    j->multiple = multiple;
    j->allow_change = allow_change;
    j->anonymous = anonymous;
    json_t *o = NULL;
    assert_int_equal(run(j, &o, NULL), 0);
    int64_t id = json_integer_value(json_object_get(o, "id"));
    if (out)
        *out = o;
    else
        json_decref(o);
    return id;
}

static int64_t option_id(json_t *poll, int i)
{
    return json_integer_value(json_object_get(json_array_get(json_object_get(poll, "options"), i),
                                              "id"));
}

static int vote(int64_t poll, int64_t reg, json_t *options, const char **why)
{
    lc_ix_job_t *j = job(LC_IX_VOTE, reg, poll);
    j->options = options;
    /* A stand-in for the room's HMAC: distinct per (poll, registration). */
    for (int i = 0; i < LC_VOTER_LEN; i++)
        j->voter[i] = (uint8_t)(i < 8 ? poll >> (8 * i) : reg >> (8 * (i - 8)));
    return run(j, NULL, why);
}

static void setup(void)
{
    lc_db_t *db;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    uint8_t key[32];
    lc_random_bytes(key, sizeof key);
    lc_webinar_row_t row = {.title = "T", .settings = {.starts_at_ms = LC_DB_NO_TIME,
                                                        .duration_s = 3600,
                                                        .retention_days = 90,
                                                        .consent_version = "1"}};
    assert_int_equal(lc_db_webinar_insert(db, "w", &row, key, 0, 1000, &WEBINAR), 0);
    lc_db_close(&db);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO registrations (id, webinar_id, email, name, answers, consent_version, "
             "consent_at, state, created_at, last_activity) VALUES "
             "(1, %lld, 'a@x.org', 'Ann', '{}', '1', 1, 'approved', 1, 1), "
             "(2, %lld, 'b@x.org', 'Bob', '{}', '1', 1, 'approved', 1, 1)",
             (long long)WEBINAR, (long long)WEBINAR);
    temp_db_exec(sql);
    int err = 0;
    W = lc_writer_start(temp_db_path, 100, &err);
    assert_non_null(W);
    T.ncommitted = 0;
}

static void test_votes(void **state)
{
    (void)state;
    setup();
    json_t *poll;
    int64_t p = new_poll(true, false, false, true, &poll);
    int64_t a = option_id(poll, 0), b = option_id(poll, 1);
    const char *why = NULL;
    assert_int_equal(vote(p, 1, json_pack("[I]", (json_int_t)a), &why), 0);
    /* A second vote, the same or another option: refused, the first stays. */
    assert_int_equal(vote(p, 1, json_pack("[I]", (json_int_t)b), &why), LC_ECONFLICT);
    assert_string_equal(why, "already_voted");
    /* Two options on a single-choice poll; an option of another poll. */
    assert_int_equal(vote(p, 2, json_pack("[II]", (json_int_t)a, (json_int_t)b), &why), -EINVAL);
    assert_string_equal(why, "single_choice");
    json_t *other;
    int64_t p2 = new_poll(true, false, false, true, &other);
    assert_int_equal(vote(p, 2, json_pack("[I]", (json_int_t)option_id(other, 0)), &why),
                     -EINVAL);
    assert_string_equal(why, "unknown_option");
    assert_int_equal(vote(p, 2, json_pack("[I]", (json_int_t)b), &why), 0);
    /* Anonymous: no registration stored. */
    assert_int_equal(temp_db_int("SELECT count(*) FROM poll_votes WHERE registration_id IS NOT "
                                 "NULL"),
                     0);
    lc_db_t *db;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    json_t *res = NULL;
    assert_int_equal(lc_db_poll_results(db, p, &res), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "voters")), 2);
    json_t *counts = json_object_get(res, "counts");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(counts, 0), "votes")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(counts, 1), "votes")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(counts, 2), "votes")), 0);
    json_decref(res);
    /* Closed: refused; a draft: not found. */
    lc_ix_job_t *c = job(LC_IX_POLL_STATE, 0, p);
    c->state = "closed";
    assert_int_equal(run(c, NULL, NULL), 0);
    assert_int_equal(vote(p, 2, json_pack("[I]", (json_int_t)a), &why), LC_ECONFLICT);
    assert_string_equal(why, "poll_closed");
    json_t *draft;
    int64_t d = new_poll(false, false, false, true, &draft);
    assert_int_equal(vote(d, 1, json_pack("[I]", (json_int_t)option_id(draft, 0)), NULL),
                     LC_ENOTFOUND);
    /* Closing a closed poll, deleting an open one. */
    c = job(LC_IX_POLL_STATE, 0, p);
    c->state = "closed";
    assert_int_equal(run(c, NULL, &why), LC_ECONFLICT);
    lc_ix_job_t *del = job(LC_IX_POLL_DELETE, 0, p2);
    assert_int_equal(run(del, NULL, &why), LC_ECONFLICT);
    assert_string_equal(why, "poll_open");
    json_decref(poll);
    json_decref(other);
    json_decref(draft);
    lc_db_close(&db);
    lc_writer_stop(&W);
}

static void test_changed_and_attributed_vote(void **state)
{
    (void)state;
    setup();
    json_t *poll;
    int64_t p = new_poll(true, true, true, false, &poll);
    int64_t a = option_id(poll, 0), b = option_id(poll, 1), c = option_id(poll, 2);
    assert_int_equal(vote(p, 1, json_pack("[II]", (json_int_t)a, (json_int_t)b), NULL), 0);
    assert_int_equal(vote(p, 1, json_pack("[I]", (json_int_t)c), NULL), 0);
    assert_int_equal(temp_db_int("SELECT count(*) FROM poll_votes"), 1);
    assert_int_equal(temp_db_int("SELECT choices FROM poll_votes WHERE registration_id = 1"), 4);
    lc_db_t *db;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    json_t *lead = NULL;
    assert_int_equal(lc_db_poll_lead_answers(db, WEBINAR, &lead), 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(lead, 0), "answers"), "1")),
                     4);
    json_decref(lead);
    json_decref(poll);
    lc_db_close(&db);
    lc_writer_stop(&W);
}

static void test_questions_chat_hands(void **state)
{
    (void)state;
    setup();
    const char *why;
    /* Questions 1 and 2 asked while questions were public, 3 in private. */
    for (int i = 0; i < 3; i++) {
        lc_ix_job_t *q = job(LC_IX_QUESTION_ADD, 1, 0);
        q->text = strdup("<b>why?</b>");
        q->questions_public = i < 2;
        assert_int_equal(run(q, NULL, NULL), 0);
    }
    assert_int_equal(temp_db_int("SELECT count(*) FROM questions WHERE public = 1"), 2);
    lc_ix_job_t *q = job(LC_IX_QUESTION_ADD, 1, 0);
    q->text = strdup("one too many");
    assert_int_equal(run(q, NULL, &why), LC_ELIMIT);
    assert_string_equal(why, "too_many");
    /* Upvotes: not one's own, not a private one, not twice. */
    lc_ix_job_t *u = job(LC_IX_QUESTION_UPVOTE, 1, 1);
    assert_int_equal(run(u, NULL, NULL), LC_ENOTFOUND);
    u = job(LC_IX_QUESTION_UPVOTE, 2, 3);
    assert_int_equal(run(u, NULL, NULL), LC_ENOTFOUND);
    json_t *row = NULL;
    u = job(LC_IX_QUESTION_UPVOTE, 2, 1);
    assert_int_equal(run(u, &row, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "upvotes")), 1);
    assert_string_equal(json_string_value(json_object_get(row, "body")), "<b>why?</b>");
    json_decref(row);
    u = job(LC_IX_QUESTION_UPVOTE, 2, 1);
    assert_int_equal(run(u, NULL, &why), LC_ECONFLICT);
    assert_string_equal(why, "already_upvoted");
    /* Chat: the rate (limit 3 in 10 s here), a mute. */
    for (int i = 0; i < 3; i++) {
        lc_ix_job_t *m = job(LC_IX_CHAT_ADD, 2, 0);
        m->text = strdup("hi");
        assert_int_equal(run(m, NULL, NULL), 0);
    }
    lc_ix_job_t *m = job(LC_IX_CHAT_ADD, 2, 0);
    m->text = strdup("hi");
    assert_int_equal(run(m, NULL, &why), LC_ELIMIT);
    assert_string_equal(why, "too_fast");
    lc_ix_job_t *mute = job(LC_IX_MUTE, 0, 0);
    mute->to_registration_id = 1;
    mute->flag = true;
    assert_int_equal(run(mute, NULL, NULL), 0);
    m = job(LC_IX_CHAT_ADD, 1, 0);
    m->text = strdup("hello");
    assert_int_equal(run(m, NULL, &why), LC_EDENIED);
    assert_string_equal(why, "muted");
    /* Hands: raise twice keeps the first time; acknowledge; a moderator on no hand. */
    lc_ix_job_t *h = job(LC_IX_HAND, 2, 0);
    h->flag = true;
    assert_int_equal(run(h, NULL, NULL), 0);
    int64_t raised = temp_db_int("SELECT raised_at FROM hands WHERE registration_id = 2");
    h = job(LC_IX_HAND, 2, 0);
    h->flag = true;
    assert_int_equal(run(h, NULL, NULL), 0);
    assert_int_equal(temp_db_int("SELECT raised_at FROM hands WHERE registration_id = 2"), raised);
    h = job(LC_IX_HAND, 2, 0);
    h->state = "acknowledge";
    assert_int_equal(run(h, &row, NULL), 0);
    assert_true(json_is_string(json_object_get(row, "acknowledged_at")));
    json_decref(row);
    h = job(LC_IX_HAND, 1, 0);
    h->state = "lower";
    assert_int_equal(run(h, NULL, NULL), LC_ENOTFOUND);
    /* Erasing a registration takes its questions, messages and hand with it. */
    temp_db_exec("PRAGMA foreign_keys = ON; DELETE FROM registrations WHERE id = 2");
    assert_int_equal(temp_db_int("SELECT count(*) FROM chat_messages WHERE registration_id = 2"),
                     0);
    assert_int_equal(temp_db_int("SELECT count(*) FROM hands"), 0);
    assert_int_equal(temp_db_int("SELECT count(*) FROM question_upvotes"), 0);
    lc_writer_stop(&W);
}

static void test_commit_hook_order(void **state)
{
    (void)state;
    setup();
    /* Three questions queued at once (one batch, likely), and one refused: the hook sees the
     * committed ones in order and not the refused one. */
    lc_write_job_t *jobs[4];
    int err = 0;
    for (int i = 0; i < 4; i++) {
        lc_ix_job_t *q = job(LC_IX_QUESTION_ADD, 1, 100 + i);
        q->text = strdup("q");
        jobs[i] = lc_writer_submit_ex(W, lc_db_ix_run, on_committed, q, lc_ix_job_free, on_done,
                                      NULL, &err);
        assert_non_null(jobs[i]);
    }
    /* The last submitter gives up: its job still commits or is skipped, never half. */
    lc_write_job_cancel(jobs[3]);
    lc_writer_stop(&W); /* runs what is queued */
    assert_true(T.ncommitted >= 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(T.committed[i], 100 + i);
    assert_int_equal(T.ncommitted, 3); /* the 4th is over the limit of 3 */
    for (int i = 0; i < 4; i++)
        lc_write_job_release(&jobs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEMP_DB_TEST(test_votes),
        TEMP_DB_TEST(test_changed_and_attributed_vote),
        TEMP_DB_TEST(test_questions_chat_hands),
        TEMP_DB_TEST(test_commit_hook_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
