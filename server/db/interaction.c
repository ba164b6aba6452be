/* Polls, questions, chat and hands in SQLite (interaction.h). The row builders serve both the
 * shared connection (reads) and the writer (a change reads its row back inside its own
 * transaction), through one statement lookup. */
#include "db/interaction.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db_internal.h"

enum {
    ST_POLLS,
    ST_OPTIONS,
    ST_RESULTS,
    ST_VOTE_GET,
    ST_POLL_ANSWERS,
    ST_LEAD_POLLS,
    ST_LEAD_ANSWERS,
    ST_QUESTIONS,
    ST_UPVOTED,
    ST_CHAT,
    ST_HANDS,
    ST_MUTES,
    ST_POLL_INSERT,
    ST_OPTION_INSERT,
    ST_OPTIONS_DELETE,
    ST_POLL_GET,
    ST_POLL_UPDATE,
    ST_POLL_SET_STATE,
    ST_POLL_SET_RESULTS,
    ST_POLL_DELETE,
    ST_VOTE_INSERT,
    ST_VOTE_UPDATE,
    ST_QUESTION_COUNT,
    ST_QUESTION_INSERT,
    ST_QUESTION_GET,
    ST_UPVOTE_INSERT,
    ST_QUESTION_BUMP,
    ST_QUESTION_SET_STATE,
    ST_CHAT_RECENT_COUNT,
    ST_CHAT_INSERT,
    ST_CHAT_DELETE,
    ST_MUTED,
    ST_MUTE_INSERT,
    ST_MUTE_DELETE,
    ST_HAND_RAISE,
    ST_HAND_LOWER,
    ST_HAND_ACK,
    ST_REG_OF_WEBINAR,
    ST_REG_NAME,
    ST_SUBJ_QUESTIONS,
    ST_SUBJ_CHAT,
    ST_SUBJ_VOTES,
    ST_SUBJ_HAND,
    ST_COUNT
};

static const char *const sql_text[ST_COUNT] = {
    [ST_POLLS] = "SELECT id, question, multiple, anonymous, allow_change, state, results_shown, "
                 "created_at, opened_at, closed_at FROM polls WHERE webinar_id = ?1 "
                 "AND (?2 = 0 OR id = ?2) ORDER BY id",
    [ST_OPTIONS] = "SELECT id, label, position FROM poll_options WHERE poll_id = ?1 "
                   "ORDER BY position",
    [ST_RESULTS] = "SELECT choices, count(*) FROM poll_votes WHERE poll_id = ?1 GROUP BY choices",
    [ST_VOTE_GET] = "SELECT choices FROM poll_votes WHERE poll_id = ?1 AND voter = ?2",
    [ST_POLL_ANSWERS] = "SELECT r.name, r.email, v.choices FROM poll_votes v JOIN registrations r "
                        "ON r.id = v.registration_id WHERE v.poll_id = ?1 "
                        "ORDER BY v.voted_at, r.id",
    [ST_LEAD_POLLS] = "SELECT id, question FROM polls WHERE webinar_id = ?1 AND anonymous = 0 "
                      "AND state != 'draft' ORDER BY id",
    [ST_LEAD_ANSWERS] = "SELECT registration_id, choices FROM poll_votes WHERE poll_id = ?1 "
                        "AND registration_id IS NOT NULL",
    [ST_QUESTIONS] = "SELECT q.id, q.registration_id, r.name, q.show_name, q.body, q.state, "
                     "q.upvotes, q.created_at, q.public FROM questions q JOIN registrations r "
                     "ON r.id = q.registration_id WHERE q.webinar_id = ?1 "
                     "AND (?2 = 0 OR q.id = ?2) ORDER BY q.id",
    [ST_UPVOTED] = "SELECT u.question_id FROM question_upvotes u JOIN questions q "
                   "ON q.id = u.question_id WHERE q.webinar_id = ?1 AND u.registration_id = ?2 "
                   "ORDER BY u.question_id",
    [ST_CHAT] = "SELECT * FROM (SELECT m.id, m.registration_id, r.name, m.show_name, "
                "m.to_moderators, m.to_registration_id, m.body, m.created_at, m.deleted_at "
                "FROM chat_messages m LEFT JOIN registrations r ON r.id = m.registration_id "
                "WHERE m.webinar_id = ?1 AND (?3 = 0 OR m.id = ?3) ORDER BY m.id DESC "
                "LIMIT ?2) ORDER BY id",
    [ST_HANDS] = "SELECT h.registration_id, r.name, h.raised_at, h.acknowledged_at FROM hands h "
                 "JOIN registrations r ON r.id = h.registration_id WHERE h.webinar_id = ?1 "
                 "AND (?2 = 0 OR h.registration_id = ?2) "
                 "ORDER BY h.raised_at, h.registration_id",
    [ST_MUTES] = "SELECT registration_id FROM chat_mutes WHERE webinar_id = ?1 "
                 "ORDER BY muted_at, registration_id",
    [ST_POLL_INSERT] = "INSERT INTO polls (webinar_id, question, multiple, anonymous, "
                       "allow_change, state, created_at, opened_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_OPTION_INSERT] = "INSERT INTO poll_options (poll_id, position, label) VALUES (?1, ?2, ?3)",
    [ST_OPTIONS_DELETE] = "DELETE FROM poll_options WHERE poll_id = ?1",
    [ST_POLL_GET] = "SELECT state, multiple, anonymous, allow_change, results_shown FROM polls "
                    "WHERE id = ?1 AND webinar_id = ?2",
    [ST_POLL_UPDATE] = "UPDATE polls SET question = coalesce(?3, question), "
                       "multiple = coalesce(?4, multiple), anonymous = coalesce(?5, anonymous), "
                       "allow_change = coalesce(?6, allow_change) "
                       "WHERE id = ?1 AND webinar_id = ?2",
    [ST_POLL_SET_STATE] = "UPDATE polls SET state = ?3, "
                          "opened_at = CASE WHEN ?3 = 'open' THEN ?4 ELSE opened_at END, "
                          "closed_at = CASE WHEN ?3 = 'closed' THEN ?4 ELSE closed_at END "
                          "WHERE id = ?1 AND webinar_id = ?2",
    [ST_POLL_SET_RESULTS] = "UPDATE polls SET results_shown = ?3 WHERE id = ?1 "
                            "AND webinar_id = ?2",
    [ST_POLL_DELETE] = "DELETE FROM polls WHERE id = ?1 AND webinar_id = ?2",
    [ST_VOTE_INSERT] = "INSERT INTO poll_votes (poll_id, voter, registration_id, choices, "
                       "voted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_VOTE_UPDATE] = "UPDATE poll_votes SET choices = ?3, changed_at = ?4 "
                       "WHERE poll_id = ?1 AND voter = ?2",
    [ST_QUESTION_COUNT] = "SELECT count(*) FROM questions WHERE webinar_id = ?1 "
                          "AND registration_id = ?2",
    [ST_QUESTION_INSERT] = "INSERT INTO questions (webinar_id, registration_id, body, show_name, "
                           "created_at, updated_at, public) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
    [ST_QUESTION_GET] = "SELECT registration_id, state, public FROM questions WHERE id = ?1 "
                        "AND webinar_id = ?2",
    [ST_UPVOTE_INSERT] = "INSERT INTO question_upvotes (question_id, registration_id) "
                         "VALUES (?1, ?2)",
    [ST_QUESTION_BUMP] = "UPDATE questions SET upvotes = upvotes + 1, updated_at = ?2 "
                         "WHERE id = ?1",
    [ST_QUESTION_SET_STATE] = "UPDATE questions SET state = ?3, updated_at = ?4 WHERE id = ?1 "
                              "AND webinar_id = ?2",
    [ST_CHAT_RECENT_COUNT] = "SELECT count(*) FROM chat_messages WHERE webinar_id = ?1 "
                             "AND registration_id = ?2 AND created_at > ?3",
    [ST_CHAT_INSERT] = "INSERT INTO chat_messages (webinar_id, registration_id, to_moderators, "
                       "to_registration_id, body, show_name, created_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CHAT_DELETE] = "UPDATE chat_messages SET deleted_at = ?3 WHERE id = ?1 "
                       "AND webinar_id = ?2 AND deleted_at IS NULL",
    [ST_MUTED] = "SELECT 1 FROM chat_mutes WHERE webinar_id = ?1 AND registration_id = ?2",
    [ST_MUTE_INSERT] = "INSERT INTO chat_mutes (webinar_id, registration_id, muted_at) "
                       "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    [ST_MUTE_DELETE] = "DELETE FROM chat_mutes WHERE webinar_id = ?1 AND registration_id = ?2",
    [ST_HAND_RAISE] = "INSERT INTO hands (webinar_id, registration_id, raised_at) "
                      "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    [ST_HAND_LOWER] = "DELETE FROM hands WHERE webinar_id = ?1 AND registration_id = ?2",
    [ST_HAND_ACK] = "UPDATE hands SET acknowledged_at = ?3 WHERE webinar_id = ?1 "
                    "AND registration_id = ?2 AND acknowledged_at IS NULL",
    [ST_REG_OF_WEBINAR] = "SELECT 1 FROM registrations WHERE id = ?1 AND webinar_id = ?2",
    [ST_REG_NAME] = "SELECT name FROM registrations WHERE id = ?1 AND webinar_id = ?2",
    [ST_SUBJ_QUESTIONS] = "SELECT body, state, created_at FROM questions "
                          "WHERE registration_id = ?1 ORDER BY id",
    [ST_SUBJ_CHAT] = "SELECT body, to_moderators, created_at, deleted_at FROM chat_messages "
                     "WHERE registration_id = ?1 ORDER BY id",
    [ST_SUBJ_VOTES] = "SELECT p.id, p.question, v.choices, v.voted_at FROM poll_votes v "
                      "JOIN polls p ON p.id = v.poll_id WHERE v.registration_id = ?1 "
                      "ORDER BY p.id",
    [ST_SUBJ_HAND] = "SELECT raised_at, acknowledged_at FROM hands WHERE registration_id = ?1",
};

int lc_db_ix_open(lc_db_t *db, sqlite3_stmt ***out)
{
    return lc_db_stmts_open(lc_db_conn(db), sql_text, ST_COUNT, out);
}

void lc_db_ix_close(sqlite3_stmt ***pst) { lc_db_stmts_close(pst, ST_COUNT); }

/* Where a builder gets its statements: the writer's transaction, or the shared connection's
 * prepared set (its lock held by the caller). */
typedef struct {
    lc_wtx_t *tx;
    sqlite3_stmt **st;
} q_t;

static sqlite3_stmt *S(q_t *q, int i)
{
    if (q->tx)
        return lc_wtx_stmt(q->tx, sql_text[i]);
    sqlite3_stmt *st = q->st[i];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* A finished statement: reset, so that it holds no read transaction open. */
static int end(sqlite3_stmt *st, int r)
{
    sqlite3_reset(st);
    if (r != SQLITE_DONE) {
        LC_ERROR("db", "interaction: %s", sqlite3_errstr(r));
        return LC_EDB;
    }
    return 0;
}

static json_t *time_json(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return json_null();
    char iso[25];
    return json_string(lc_iso8601(sqlite3_column_int64(st, col), iso));
}

static json_t *text_json(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? json_string((const char *)s) : json_null();
}

static json_t *int_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null()
                                                        : json_integer(sqlite3_column_int64(st, col));
}

/* Appends o to the array (stealing it); false when out of memory. */
static bool push(json_t *a, json_t *o) { return o && json_array_append_new(a, o) == 0; }

static int options_of(q_t *q, int64_t poll_id, json_t **out)
{
    sqlite3_stmt *st = S(q, ST_OPTIONS);
    if (!st)
        return LC_EDB;
    json_t *a = json_array();
    sqlite3_bind_int64(st, 1, poll_id);
    int r;
    bool ok = a != NULL;
    while (ok && (r = sqlite3_step(st)) == SQLITE_ROW)
        ok = push(a, json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                               "label", text_json(st, 1)));
    int rc = ok ? end(st, r) : (sqlite3_reset(st), -ENOMEM);
    if (rc < 0)
        json_decref(a);
    else
        *out = a;
    return rc;
}

static int polls_of(q_t *q, int64_t webinar_id, int64_t poll_id, json_t **out)
{
    sqlite3_stmt *st = S(q, ST_POLLS);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int64(st, 2, poll_id);
    json_t *a = json_array();
    bool ok = a != NULL;
    int r;
    while (ok && (r = sqlite3_step(st)) == SQLITE_ROW)
        ok = push(a, json_pack("{s:I,s:o,s:b,s:b,s:b,s:o,s:b,s:o,s:o,s:o}", "id",
                               (json_int_t)sqlite3_column_int64(st, 0), "question",
                               text_json(st, 1), "multiple", sqlite3_column_int(st, 2),
                               "anonymous", sqlite3_column_int(st, 3), "allow_change",
                               sqlite3_column_int(st, 4), "state", text_json(st, 5),
                               "results_shown", sqlite3_column_int(st, 6), "created_at",
                               time_json(st, 7), "opened_at", time_json(st, 8), "closed_at",
                               time_json(st, 9)));
    int rc = ok ? end(st, r) : (sqlite3_reset(st), -ENOMEM);
    /* The options after the polls' statement is done (the writer's cache hands out one
     * statement per text). */
    size_t i;
    json_t *p;
    json_array_foreach(a, i, p) {
        json_t *opts = NULL;
        if (rc == 0 && (rc = options_of(q, json_integer_value(json_object_get(p, "id")),
                                        &opts)) == 0)
            json_object_set_new(p, "options", opts);
    }
    if (rc < 0)
        json_decref(a);
    else
        *out = a;
    return rc;
}

static int results_of(q_t *q, int64_t poll_id, json_t **out)
{
    json_t *opts = NULL;
    int rc = options_of(q, poll_id, &opts);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = S(q, ST_RESULTS);
    if (!st) {
        json_decref(opts);
        return LC_EDB;
    }
    sqlite3_bind_int64(st, 1, poll_id);
    long long counts[LC_POLL_OPTIONS_MAX] = {0}, voters = 0, total = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int mask = sqlite3_column_int(st, 0);
        long long n = sqlite3_column_int64(st, 1);
        voters += n;
        for (int b = 0; b < LC_POLL_OPTIONS_MAX; b++)
            if (mask & (1 << b)) {
                counts[b] += n;
                total += n;
            }
    }
    rc = end(st, r);
    json_t *list = json_array(), *o;
    size_t i;
    json_array_foreach(opts, i, o) {
        if (rc == 0 && !push(list, json_pack("{s:O,s:I}", "option_id", json_object_get(o, "id"),
                                             "votes", (json_int_t)(i < LC_POLL_OPTIONS_MAX
                                                                       ? counts[i]
                                                                       : 0))))
            rc = -ENOMEM;
    }
    json_decref(opts);
    json_t *res = rc == 0 && list ? json_pack("{s:I,s:I,s:O}", "total", (json_int_t)total,
                                              "voters", (json_int_t)voters, "counts", list)
                                  : NULL;
    json_decref(list);
    if (rc == 0 && !res)
        rc = -ENOMEM;
    if (rc == 0)
        *out = res;
    return rc;
}

static int questions_of(q_t *q, int64_t webinar_id, int64_t question_id, json_t **out)
{
    sqlite3_stmt *st = S(q, ST_QUESTIONS);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int64(st, 2, question_id);
    json_t *a = json_array();
    bool ok = a != NULL;
    int r;
    while (ok && (r = sqlite3_step(st)) == SQLITE_ROW)
        ok = push(a, json_pack("{s:I,s:I,s:o,s:b,s:o,s:o,s:I,s:o,s:b}", "id",
                               (json_int_t)sqlite3_column_int64(st, 0), "registration_id",
                               (json_int_t)sqlite3_column_int64(st, 1), "name", text_json(st, 2),
                               "show_name", sqlite3_column_int(st, 3), "body", text_json(st, 4),
                               "state", text_json(st, 5), "upvotes",
                               (json_int_t)sqlite3_column_int64(st, 6), "asked_at",
                               time_json(st, 7), "public", sqlite3_column_int(st, 8)));
    int rc = ok ? end(st, r) : (sqlite3_reset(st), -ENOMEM);
    if (rc < 0)
        json_decref(a);
    else
        *out = a;
    return rc;
}

static int chat_of(q_t *q, int64_t webinar_id, int limit, int64_t message_id, json_t **out)
{
    sqlite3_stmt *st = S(q, ST_CHAT);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int(st, 2, limit);
    sqlite3_bind_int64(st, 3, message_id);
    json_t *a = json_array();
    bool ok = a != NULL;
    int r;
    while (ok && (r = sqlite3_step(st)) == SQLITE_ROW) {
        bool moderator = sqlite3_column_type(st, 1) == SQLITE_NULL;
        bool private = sqlite3_column_int(st, 4) || sqlite3_column_type(st, 5) != SQLITE_NULL;
        ok = push(a, json_pack("{s:I,s:o,s:o,s:b,s:b,s:o,s:o,s:o,s:b,s:s,s:b}", "id",
                               (json_int_t)sqlite3_column_int64(st, 0), "registration_id",
                               int_or_null(st, 1), "name", text_json(st, 2), "show_name",
                               sqlite3_column_int(st, 3), "to_moderators",
                               sqlite3_column_int(st, 4), "to_registration_id",
                               int_or_null(st, 5), "body", text_json(st, 6), "at",
                               time_json(st, 7), "deleted",
                               sqlite3_column_type(st, 8) != SQLITE_NULL, "from",
                               moderator ? "moderator" : "attendee", "private", private));
    }
    int rc = ok ? end(st, r) : (sqlite3_reset(st), -ENOMEM);
    if (rc < 0)
        json_decref(a);
    else
        *out = a;
    return rc;
}

static int hands_of(q_t *q, int64_t webinar_id, int64_t registration_id, json_t **out)
{
    sqlite3_stmt *st = S(q, ST_HANDS);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, webinar_id);
    sqlite3_bind_int64(st, 2, registration_id);
    json_t *a = json_array();
    bool ok = a != NULL;
    int r;
    while (ok && (r = sqlite3_step(st)) == SQLITE_ROW)
        ok = push(a, json_pack("{s:I,s:o,s:b,s:o,s:o}", "registration_id",
                               (json_int_t)sqlite3_column_int64(st, 0), "name", text_json(st, 1),
                               "raised", 1, "raised_at", time_json(st, 2), "acknowledged_at",
                               time_json(st, 3)));
    int rc = ok ? end(st, r) : (sqlite3_reset(st), -ENOMEM);
    if (rc < 0)
        json_decref(a);
    else
        *out = a;
    return rc;
}

/* A list of one integer column (bound ?1 = a, ?2 = b). */
static int ids_of(q_t *q, int stmt, int64_t a, int64_t b, json_t **out)
{
    sqlite3_stmt *st = S(q, stmt);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    json_t *list = json_array();
    bool ok = list != NULL;
    int r;
    while (ok && (r = sqlite3_step(st)) == SQLITE_ROW)
        ok = push(list, json_integer(sqlite3_column_int64(st, 0)));
    int rc = ok ? end(st, r) : (sqlite3_reset(st), -ENOMEM);
    if (rc < 0)
        json_decref(list);
    else
        *out = list;
    return rc;
}

/* ---- reads ----------------------------------------------------------------------------------- */

/* Runs a builder on the shared connection, its lock held. */
#define WITH_READER(db, call)                                                                  \
    do {                                                                                       \
        struct lc_db_conn *c_ = lc_db_conn(db);                                                \
        q_t q_ = {NULL, lc_db_ix(db)};                                                         \
        q_t *q = &q_;                                                                          \
        pthread_mutex_lock(&c_->lock);                                                         \
        rc = (call);                                                                           \
        pthread_mutex_unlock(&c_->lock);                                                       \
    } while (0)

int lc_db_polls(lc_db_t *db, int64_t webinar_id, int64_t poll_id, json_t **out)
{
    int rc;
    WITH_READER(db, polls_of(q, webinar_id, poll_id, out));
    return rc;
}

int lc_db_poll_results(lc_db_t *db, int64_t poll_id, json_t **out)
{
    int rc;
    WITH_READER(db, results_of(q, poll_id, out));
    return rc;
}

static int vote_mask(q_t *q, int64_t poll_id, const uint8_t voter[LC_VOTER_LEN], int *mask)
{
    sqlite3_stmt *st = S(q, ST_VOTE_GET);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, poll_id);
    sqlite3_bind_blob(st, 2, voter, LC_VOTER_LEN, SQLITE_STATIC);
    int r = sqlite3_step(st);
    *mask = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    return end(st, r == SQLITE_ROW ? SQLITE_DONE : r);
}

int lc_db_poll_vote_mask(lc_db_t *db, int64_t poll_id, const uint8_t voter[LC_VOTER_LEN],
                         int *mask)
{
    int rc;
    WITH_READER(db, vote_mask(q, poll_id, voter, mask));
    return rc;
}

static int answers_of(q_t *q, int64_t poll_id,
                      int (*fn)(void *, const char *, const char *, int), void *opaque)
{
    sqlite3_stmt *st = S(q, ST_POLL_ANSWERS);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, poll_id);
    int r, rc = 0;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(opaque, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2));
    if (rc < 0) {
        sqlite3_reset(st);
        return rc;
    }
    return end(st, r);
}

int lc_db_poll_answers(lc_db_t *db, int64_t poll_id,
                       int (*fn)(void *opaque, const char *name, const char *email, int mask),
                       void *opaque)
{
    int rc;
    WITH_READER(db, answers_of(q, poll_id, fn, opaque));
    return rc;
}

static int lead_answers(q_t *q, int64_t webinar_id, json_t **out)
{
    sqlite3_stmt *st = S(q, ST_LEAD_POLLS);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, webinar_id);
    json_t *polls = json_array();
    bool ok = polls != NULL;
    int r;
    while (ok && (r = sqlite3_step(st)) == SQLITE_ROW)
        ok = push(polls, json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                                   "question", text_json(st, 1)));
    int rc = ok ? end(st, r) : (sqlite3_reset(st), -ENOMEM);
    size_t i;
    json_t *p;
    json_array_foreach(polls, i, p) {
        int64_t id = json_integer_value(json_object_get(p, "id"));
        json_t *opts = NULL, *answers = json_object();
        if (rc == 0)
            rc = answers ? options_of(q, id, &opts) : -ENOMEM;
        if (rc == 0 && !(st = S(q, ST_LEAD_ANSWERS)))
            rc = LC_EDB;
        if (rc == 0) {
            sqlite3_bind_int64(st, 1, id);
            while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                char key[24];
                snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
                json_object_set_new(answers, key, json_integer(sqlite3_column_int(st, 1)));
            }
            rc = end(st, r);
        }
        json_object_set_new(p, "options", opts ? opts : json_array());
        json_object_set_new(p, "answers", answers ? answers : json_object());
    }
    if (rc < 0)
        json_decref(polls);
    else
        *out = polls;
    return rc;
}

int lc_db_poll_lead_answers(lc_db_t *db, int64_t webinar_id, json_t **out)
{
    int rc;
    WITH_READER(db, lead_answers(q, webinar_id, out));
    return rc;
}

int lc_db_questions(lc_db_t *db, int64_t webinar_id, int64_t question_id, json_t **out)
{
    int rc;
    WITH_READER(db, questions_of(q, webinar_id, question_id, out));
    return rc;
}

int lc_db_question_upvoted(lc_db_t *db, int64_t webinar_id, int64_t registration_id,
                           json_t **out)
{
    int rc;
    WITH_READER(db, ids_of(q, ST_UPVOTED, webinar_id, registration_id, out));
    return rc;
}

int lc_db_chat_recent(lc_db_t *db, int64_t webinar_id, int limit, json_t **out)
{
    int rc;
    WITH_READER(db, chat_of(q, webinar_id, limit, 0, out));
    return rc;
}

int lc_db_hands(lc_db_t *db, int64_t webinar_id, json_t **out)
{
    int rc;
    WITH_READER(db, hands_of(q, webinar_id, 0, out));
    return rc;
}

int lc_db_chat_mutes(lc_db_t *db, int64_t webinar_id, json_t **out)
{
    int rc;
    WITH_READER(db, ids_of(q, ST_MUTES, webinar_id, 0, out));
    return rc;
}

/* ---- the writer job ------------------------------------------------------------------------ */

void lc_ix_job_free(void *arg)
{
    lc_ix_job_t *j = arg;
    if (!j)
        return;
    free(j->text);
    json_decref(j->options);
    json_decref(j->out);
    json_decref(j->before);
    free(j);
}

/* Steps a statement that returns one integer (or none: *v = 0). */
static int one_int(q_t *q, sqlite3_stmt *st, int64_t *v)
{
    (void)q;
    int r = sqlite3_step(st);
    *v = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    return end(st, r == SQLITE_ROW ? SQLITE_DONE : r);
}

static int refuse(lc_ix_job_t *j, int code, const char *why)
{
    j->why = why;
    return code;
}

/* The single row a builder returned (rc its result, *list its rows), as the job's output (or
 * LC_ENOTFOUND). */
static int take_one(lc_ix_job_t *j, int rc, json_t **plist)
{
    if (rc < 0)
        return rc;
    json_t *list = *plist;
    json_t *row = json_array_get(list, 0);
    if (!row) {
        json_decref(list);
        return LC_ENOTFOUND;
    }
    json_decref(j->out);
    j->out = json_incref(row);
    json_decref(list);
    return 0;
}

/* The poll as the job's output, with its results (moderators always see them). */
static int poll_row(q_t *q, lc_ix_job_t *j, int64_t id)
{
    json_t *list = NULL, *res = NULL;
    int rc = take_one(j, polls_of(q, j->webinar_id, id, &list), &list);
    if (rc == 0 && (rc = results_of(q, id, &res)) == 0)
        json_object_set_new(j->out, "results", res);
    return rc;
}

static int insert_options(q_t *q, int64_t poll_id, json_t *labels)
{
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l) {
        sqlite3_stmt *st = S(q, ST_OPTION_INSERT);
        if (!st)
            return LC_EDB;
        sqlite3_bind_int64(st, 1, poll_id);
        sqlite3_bind_int(st, 2, (int)i);
        sqlite3_bind_text(st, 3, json_string_value(l), -1, SQLITE_STATIC);
        int rc = lc_wtx_step_done(q->tx, st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

typedef struct {
    char state[8];
    bool multiple, anonymous, allow_change, results_shown;
} poll_facts_t;

static int poll_facts(q_t *q, lc_ix_job_t *j, poll_facts_t *f)
{
    sqlite3_stmt *st = S(q, ST_POLL_GET);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->target_id);
    sqlite3_bind_int64(st, 2, j->webinar_id);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        snprintf(f->state, sizeof f->state, "%s", (const char *)sqlite3_column_text(st, 0));
        f->multiple = sqlite3_column_int(st, 1);
        f->anonymous = sqlite3_column_int(st, 2);
        f->allow_change = sqlite3_column_int(st, 3);
        f->results_shown = sqlite3_column_int(st, 4);
    }
    int rc = end(st, r == SQLITE_ROW ? SQLITE_DONE : r);
    return rc < 0 ? rc : r == SQLITE_ROW ? 0 : LC_ENOTFOUND;
}

static int poll_create(q_t *q, lc_ix_job_t *j)
{
    sqlite3_stmt *st = S(q, ST_POLL_INSERT);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->webinar_id);
    sqlite3_bind_text(st, 2, j->text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, j->multiple);
    sqlite3_bind_int(st, 4, j->anonymous);
    sqlite3_bind_int(st, 5, j->allow_change);
    sqlite3_bind_text(st, 6, j->flag ? "open" : "draft", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, j->now_ms);
    if (j->flag)
        sqlite3_bind_int64(st, 8, j->now_ms);
    else
        sqlite3_bind_null(st, 8);
    int rc = lc_wtx_step_done(q->tx, st);
    if (rc < 0)
        return rc;
    int64_t id = sqlite3_last_insert_rowid(lc_wtx_conn(q->tx));
    if ((rc = insert_options(q, id, j->options)) < 0)
        return rc;
    return poll_row(q, j, id);
}

static void bind_opt_bool(sqlite3_stmt *st, int i, bool set, bool v)
{
    if (set)
        sqlite3_bind_int(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int poll_update(q_t *q, lc_ix_job_t *j)
{
    poll_facts_t f;
    int rc = poll_facts(q, j, &f);
    if (rc < 0)
        return rc;
    if (strcmp(f.state, "draft") != 0)
        return refuse(j, LC_ECONFLICT, "not_draft");
    sqlite3_stmt *st = S(q, ST_POLL_UPDATE);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->target_id);
    sqlite3_bind_int64(st, 2, j->webinar_id);
    if (j->set & LC_IX_SET_TEXT)
        sqlite3_bind_text(st, 3, j->text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    bind_opt_bool(st, 4, j->set & LC_IX_SET_MULTIPLE, j->multiple);
    bind_opt_bool(st, 5, j->set & LC_IX_SET_ANONYMOUS, j->anonymous);
    bind_opt_bool(st, 6, j->set & LC_IX_SET_ALLOW_CHANGE, j->allow_change);
    if ((rc = lc_wtx_step_done(q->tx, st)) < 0)
        return rc;
    if (j->set & LC_IX_SET_OPTIONS) {
        if (!(st = S(q, ST_OPTIONS_DELETE)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        if ((rc = lc_wtx_step_done(q->tx, st)) < 0 ||
            (rc = insert_options(q, j->target_id, j->options)) < 0)
            return rc;
    }
    return poll_row(q, j, j->target_id);
}

static int poll_state(q_t *q, lc_ix_job_t *j)
{
    poll_facts_t f;
    int rc = poll_facts(q, j, &f);
    if (rc < 0)
        return rc;
    if (j->op == LC_IX_POLL_STATE) {
        if (strcmp(f.state, j->state) == 0 ||
            (strcmp(j->state, "closed") == 0 && strcmp(f.state, "draft") == 0))
            return refuse(j, LC_ECONFLICT, "invalid_state");
        sqlite3_stmt *st = S(q, ST_POLL_SET_STATE);
        if (!st)
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        sqlite3_bind_int64(st, 2, j->webinar_id);
        sqlite3_bind_text(st, 3, j->state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, j->now_ms);
        rc = lc_wtx_step_done(q->tx, st);
    } else {
        if (f.results_shown == j->flag)
            return refuse(j, LC_ECONFLICT, "invalid_state");
        sqlite3_stmt *st = S(q, ST_POLL_SET_RESULTS);
        if (!st)
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        sqlite3_bind_int64(st, 2, j->webinar_id);
        sqlite3_bind_int(st, 3, j->flag);
        rc = lc_wtx_step_done(q->tx, st);
    }
    return rc < 0 ? rc : poll_row(q, j, j->target_id);
}

static int poll_delete(q_t *q, lc_ix_job_t *j)
{
    poll_facts_t f;
    int rc = poll_facts(q, j, &f);
    if (rc < 0)
        return rc;
    if (strcmp(f.state, "open") == 0)
        return refuse(j, LC_ECONFLICT, "poll_open");
    if ((rc = poll_row(q, j, j->target_id)) < 0)
        return rc;
    sqlite3_stmt *st = S(q, ST_POLL_DELETE);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->target_id);
    sqlite3_bind_int64(st, 2, j->webinar_id);
    return lc_wtx_step_done(q->tx, st);
}

/* The options' ids to a mask over their positions, checked against the poll. */
static int vote_choices(q_t *q, lc_ix_job_t *j, bool multiple, int *mask)
{
    json_t *opts = NULL;
    int rc = options_of(q, j->target_id, &opts);
    if (rc < 0)
        return rc;
    *mask = 0;
    size_t i, k;
    json_t *want, *o;
    json_array_foreach(j->options, i, want) {
        int bit = -1;
        json_array_foreach(opts, k, o)
            if (json_integer_value(json_object_get(o, "id")) == json_integer_value(want))
                bit = (int)k;
        if (bit < 0 || bit >= LC_POLL_OPTIONS_MAX) {
            json_decref(opts);
            return refuse(j, -EINVAL, "unknown_option");
        }
        *mask |= 1 << bit;
    }
    json_decref(opts);
    if (!multiple && json_array_size(j->options) > 1)
        return refuse(j, -EINVAL, "single_choice");
    return 0;
}

static int vote(q_t *q, lc_ix_job_t *j)
{
    poll_facts_t f;
    int rc = poll_facts(q, j, &f);
    if (rc < 0)
        return rc;
    if (strcmp(f.state, "draft") == 0)
        return LC_ENOTFOUND;
    if (strcmp(f.state, "open") != 0)
        return refuse(j, LC_ECONFLICT, "poll_closed");
    int mask, old;
    if ((rc = vote_choices(q, j, f.multiple, &mask)) < 0 ||
        (rc = vote_mask(q, j->target_id, j->voter, &old)) < 0)
        return rc;
    sqlite3_stmt *st;
    if (old) {
        if (!f.allow_change)
            return refuse(j, LC_ECONFLICT, "already_voted");
        if (!(st = S(q, ST_VOTE_UPDATE)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        sqlite3_bind_blob(st, 2, j->voter, LC_VOTER_LEN, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, mask);
        sqlite3_bind_int64(st, 4, j->now_ms);
        j->changed = true;
    } else {
        if (!(st = S(q, ST_VOTE_INSERT)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        sqlite3_bind_blob(st, 2, j->voter, LC_VOTER_LEN, SQLITE_STATIC);
        if (f.anonymous)
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_int64(st, 3, j->registration_id);
        sqlite3_bind_int(st, 4, mask);
        sqlite3_bind_int64(st, 5, j->now_ms);
    }
    /* The primary key is the last word on "one vote per attendee". */
    rc = lc_wtx_step_done(q->tx, st);
    if (rc == LC_ECONFLICT)
        return refuse(j, LC_ECONFLICT, "already_voted");
    if (rc < 0)
        return rc;
    j->out = json_pack("{s:I,s:O}", "poll_id", (json_int_t)j->target_id, "options", j->options);
    return j->out ? 0 : -ENOMEM;
}

static int question_row(q_t *q, lc_ix_job_t *j, int64_t id)
{
    json_t *list = NULL;
    return take_one(j, questions_of(q, j->webinar_id, id, &list), &list);
}

static int question_add(q_t *q, lc_ix_job_t *j)
{
    sqlite3_stmt *st = S(q, ST_QUESTION_COUNT);
    int64_t n;
    int rc;
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->webinar_id);
    sqlite3_bind_int64(st, 2, j->registration_id);
    if ((rc = one_int(q, st, &n)) < 0)
        return rc;
    if (n >= j->limit)
        return refuse(j, LC_ELIMIT, "too_many");
    if (!(st = S(q, ST_QUESTION_INSERT)))
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->webinar_id);
    sqlite3_bind_int64(st, 2, j->registration_id);
    sqlite3_bind_text(st, 3, j->text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, j->flag);
    sqlite3_bind_int64(st, 5, j->now_ms);
    sqlite3_bind_int(st, 6, j->questions_public);
    if ((rc = lc_wtx_step_done(q->tx, st)) < 0)
        return rc;
    return question_row(q, j, sqlite3_last_insert_rowid(lc_wtx_conn(q->tx)));
}

static int question_change(q_t *q, lc_ix_job_t *j)
{
    sqlite3_stmt *st = S(q, ST_QUESTION_GET);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->target_id);
    sqlite3_bind_int64(st, 2, j->webinar_id);
    int r = sqlite3_step(st);
    int64_t asker = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    bool open = r == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 1), "open") == 0;
    bool public = r == SQLITE_ROW && sqlite3_column_int(st, 2);
    int rc = end(st, r == SQLITE_ROW ? SQLITE_DONE : r);
    if (rc < 0)
        return rc;
    if (r != SQLITE_ROW)
        return LC_ENOTFOUND;
    if (j->op == LC_IX_QUESTION_UPVOTE) {
        /* Only others' open, public questions. */
        if (asker == j->registration_id || !open || !public)
            return LC_ENOTFOUND;
        if (!(st = S(q, ST_UPVOTE_INSERT)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        sqlite3_bind_int64(st, 2, j->registration_id);
        rc = lc_wtx_step_done(q->tx, st);
        if (rc == LC_ECONFLICT)
            return refuse(j, LC_ECONFLICT, "already_upvoted");
        if (rc < 0 || !(st = S(q, ST_QUESTION_BUMP)))
            return rc < 0 ? rc : LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        sqlite3_bind_int64(st, 2, j->now_ms);
    } else {
        if (!(st = S(q, ST_QUESTION_SET_STATE)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->target_id);
        sqlite3_bind_int64(st, 2, j->webinar_id);
        sqlite3_bind_text(st, 3, j->state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, j->now_ms);
    }
    if ((rc = lc_wtx_step_done(q->tx, st)) < 0)
        return rc;
    return question_row(q, j, j->target_id);
}

static int is_registration_of(q_t *q, int64_t registration_id, int64_t webinar_id)
{
    sqlite3_stmt *st = S(q, ST_REG_OF_WEBINAR);
    int64_t v;
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, registration_id);
    sqlite3_bind_int64(st, 2, webinar_id);
    int rc = one_int(q, st, &v);
    return rc < 0 ? rc : v ? 0 : LC_ENOTFOUND;
}

static int chat_row(q_t *q, lc_ix_job_t *j, int64_t id)
{
    json_t *list = NULL;
    return take_one(j, chat_of(q, j->webinar_id, 1, id, &list), &list);
}

static int chat_add(q_t *q, lc_ix_job_t *j)
{
    sqlite3_stmt *st;
    int rc;
    int64_t n;
    if (j->registration_id) {
        if (!(st = S(q, ST_MUTED)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->webinar_id);
        sqlite3_bind_int64(st, 2, j->registration_id);
        if ((rc = one_int(q, st, &n)) < 0)
            return rc;
        if (n)
            return refuse(j, LC_EDENIED, "muted");
        if (!(st = S(q, ST_CHAT_RECENT_COUNT)))
            return LC_EDB;
        sqlite3_bind_int64(st, 1, j->webinar_id);
        sqlite3_bind_int64(st, 2, j->registration_id);
        sqlite3_bind_int64(st, 3, j->now_ms - 10000);
        if ((rc = one_int(q, st, &n)) < 0)
            return rc;
        if (n >= j->limit)
            return refuse(j, LC_ELIMIT, "too_fast");
    } else if (j->to_registration_id &&
               (rc = is_registration_of(q, j->to_registration_id, j->webinar_id)) < 0) {
        return rc == LC_ENOTFOUND ? refuse(j, -EINVAL, "unknown_registration") : rc;
    }
    if (!(st = S(q, ST_CHAT_INSERT)))
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->webinar_id);
    if (j->registration_id)
        sqlite3_bind_int64(st, 2, j->registration_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int(st, 3, j->to_moderators);
    if (j->to_registration_id)
        sqlite3_bind_int64(st, 4, j->to_registration_id);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, j->text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, j->flag);
    sqlite3_bind_int64(st, 7, j->now_ms);
    if ((rc = lc_wtx_step_done(q->tx, st)) < 0)
        return rc;
    return chat_row(q, j, sqlite3_last_insert_rowid(lc_wtx_conn(q->tx)));
}

static int chat_delete(q_t *q, lc_ix_job_t *j)
{
    sqlite3_stmt *st = S(q, ST_CHAT_DELETE);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->target_id);
    sqlite3_bind_int64(st, 2, j->webinar_id);
    sqlite3_bind_int64(st, 3, j->now_ms);
    int rc = lc_wtx_step_done(q->tx, st);
    if (rc < 0)
        return rc;
    if (sqlite3_changes(lc_wtx_conn(q->tx)) == 0)
        return LC_ENOTFOUND; /* none such, or deleted already */
    return chat_row(q, j, j->target_id);
}

static int mute(q_t *q, lc_ix_job_t *j)
{
    int rc = is_registration_of(q, j->to_registration_id, j->webinar_id);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = S(q, j->flag ? ST_MUTE_INSERT : ST_MUTE_DELETE);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->webinar_id);
    sqlite3_bind_int64(st, 2, j->to_registration_id);
    if (j->flag)
        sqlite3_bind_int64(st, 3, j->now_ms);
    if ((rc = lc_wtx_step_done(q->tx, st)) < 0)
        return rc;
    j->changed = sqlite3_changes(lc_wtx_conn(q->tx)) > 0;
    return 0;
}

static int hand(q_t *q, lc_ix_job_t *j)
{
    int op = j->state == NULL ? (j->flag ? ST_HAND_RAISE : ST_HAND_LOWER)
             : strcmp(j->state, "acknowledge") == 0 ? ST_HAND_ACK
                                                    : ST_HAND_LOWER;
    sqlite3_stmt *st = S(q, op);
    if (!st)
        return LC_EDB;
    sqlite3_bind_int64(st, 1, j->webinar_id);
    sqlite3_bind_int64(st, 2, j->registration_id);
    if (op != ST_HAND_LOWER)
        sqlite3_bind_int64(st, 3, j->now_ms);
    int rc = lc_wtx_step_done(q->tx, st);
    if (rc < 0)
        return rc;
    j->changed = sqlite3_changes(lc_wtx_conn(q->tx)) > 0;
    json_t *list = NULL;
    if ((rc = hands_of(q, j->webinar_id, j->registration_id, &list)) < 0)
        return rc;
    json_t *row = json_array_get(list, 0);
    /* A moderator acts on raised hands only. */
    if (j->state && !row && !j->changed) {
        json_decref(list);
        return LC_ENOTFOUND;
    }
    json_t *name = json_null();
    if (!row && (st = S(q, ST_REG_NAME))) {
        sqlite3_bind_int64(st, 1, j->registration_id);
        sqlite3_bind_int64(st, 2, j->webinar_id);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            json_decref(name);
            name = text_json(st, 0);
            r = SQLITE_DONE;
        }
        rc = end(st, r);
    }
    j->out = row ? json_incref(row)
                 : json_pack("{s:I,s:o,s:b,s:n,s:n}", "registration_id",
                             (json_int_t)j->registration_id, "name", name, "raised", 0,
                             "raised_at", "acknowledged_at");
    json_decref(list);
    if (rc < 0)
        return rc;
    return j->out ? 0 : -ENOMEM;
}

int lc_db_ix_run(lc_wtx_t *tx, void *arg)
{
    lc_ix_job_t *j = arg;
    q_t q = {tx, NULL};
    switch (j->op) {
    case LC_IX_POLL_CREATE:
        return poll_create(&q, j);
    case LC_IX_POLL_UPDATE:
        return poll_update(&q, j);
    case LC_IX_POLL_STATE:
    case LC_IX_POLL_RESULTS:
        return poll_state(&q, j);
    case LC_IX_POLL_DELETE:
        return poll_delete(&q, j);
    case LC_IX_VOTE:
        return vote(&q, j);
    case LC_IX_QUESTION_ADD:
        return question_add(&q, j);
    case LC_IX_QUESTION_UPVOTE:
    case LC_IX_QUESTION_STATE:
        return question_change(&q, j);
    case LC_IX_CHAT_ADD:
        return chat_add(&q, j);
    case LC_IX_CHAT_DELETE:
        return chat_delete(&q, j);
    case LC_IX_MUTE:
        return mute(&q, j);
    case LC_IX_HAND:
        return hand(&q, j);
    }
    return -EINVAL;
}

/* ---- data-subject access ------------------------------------------------------------------- */

static int subject_of(q_t *q, int64_t registration_id, json_t **out)
{
    json_t *qs = json_array(), *msgs = json_array(), *votes = json_array(), *hand = json_null();
    int rc = qs && msgs && votes ? 0 : -ENOMEM, r = SQLITE_DONE;
    sqlite3_stmt *st;
    if (rc == 0 && (st = S(q, ST_SUBJ_QUESTIONS))) {
        sqlite3_bind_int64(st, 1, registration_id);
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            push(qs, json_pack("{s:o,s:o,s:o}", "body", text_json(st, 0), "state",
                               text_json(st, 1), "asked_at", time_json(st, 2)));
        rc = end(st, r);
    }
    if (rc == 0 && (st = S(q, ST_SUBJ_CHAT))) {
        sqlite3_bind_int64(st, 1, registration_id);
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            push(msgs, json_pack("{s:o,s:b,s:o,s:o}", "body", text_json(st, 0), "to_moderators",
                                 sqlite3_column_int(st, 1), "at", time_json(st, 2),
                                 "deleted_at", time_json(st, 3)));
        rc = end(st, r);
    }
    if (rc == 0 && (st = S(q, ST_SUBJ_VOTES))) {
        sqlite3_bind_int64(st, 1, registration_id);
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            push(votes, json_pack("{s:I,s:o,s:i,s:o}", "poll_id",
                                  (json_int_t)sqlite3_column_int64(st, 0), "question",
                                  text_json(st, 1), "mask", sqlite3_column_int(st, 2),
                                  "voted_at", time_json(st, 3)));
        rc = end(st, r);
    }
    /* The chosen options' labels (after the votes' statement is done). */
    size_t i;
    json_t *v;
    json_array_foreach(votes, i, v) {
        json_t *opts = NULL, *labels = json_array(), *o;
        size_t k;
        int mask = (int)json_integer_value(json_object_get(v, "mask"));
        if (rc == 0 && (rc = options_of(q, json_integer_value(json_object_get(v, "poll_id")),
                                        &opts)) == 0)
            json_array_foreach(opts, k, o)
                if (k < LC_POLL_OPTIONS_MAX && (mask & (1 << k)))
                    json_array_append(labels, json_object_get(o, "label"));
        json_decref(opts);
        json_object_del(v, "mask");
        json_object_set_new(v, "options", labels ? labels : json_array());
    }
    if (rc == 0 && (st = S(q, ST_SUBJ_HAND))) {
        sqlite3_bind_int64(st, 1, registration_id);
        if ((r = sqlite3_step(st)) == SQLITE_ROW) {
            json_decref(hand);
            hand = json_pack("{s:o,s:o}", "raised_at", time_json(st, 0), "acknowledged_at",
                             time_json(st, 1));
            r = SQLITE_DONE;
        }
        rc = end(st, r);
    }
    json_t *o = rc == 0 ? json_pack("{s:O,s:O,s:O,s:O}", "questions", qs, "chat_messages", msgs,
                                    "poll_answers", votes, "raised_hand", hand)
                        : NULL;
    json_decref(qs);
    json_decref(msgs);
    json_decref(votes);
    json_decref(hand);
    if (rc == 0 && !o)
        rc = -ENOMEM;
    if (rc == 0)
        *out = o;
    return rc;
}

int lc_db_subject_interaction(lc_db_t *db, int64_t registration_id, json_t **out)
{
    int rc;
    WITH_READER(db, subject_of(q, registration_id, out));
    return rc;
}
