/* Polls: prepared or created live by moderators, opened and closed, results shown when the
 * moderator chooses, exported as CSV; votes from attendees, one each (the database's primary
 * key), durable before the answer. */
#include "api/interaction.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/registration.h"
#include "api/room.h"
#include "api/webinar_input.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/util.h"

static int reply_body_error(lc_req_t *req, const lc_body_error_t *err)
{
    return lc_reply_error_with(req, err->status, err->code, err->field, err->message, NULL);
}

/* A finished poll job's answer: the poll as moderators see it. */
static int reply_poll(lc_req_t *req, lc_ix_job_t *done, int result, unsigned status)
{
    if (result < 0)
        return lc_ix_reply_refusal(req, done, result, NULL, "poll");
    return lc_reply_json(req, status, json_incref(done->out));
}

int lc_api_admin_polls(lc_req_t *req)
{
    lc_webinar_t w;
    json_t *polls = NULL;
    int rc = 0;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0)
        return rc;
    if ((rc = lc_db_polls(lc_req_app(req)->db, w.id, 0, &polls)) < 0)
        return rc;
    size_t i;
    json_t *p;
    json_array_foreach(polls, i, p) {
        json_t *res = NULL;
        if ((rc = lc_db_poll_results(lc_req_app(req)->db,
                                     json_integer_value(json_object_get(p, "id")), &res)) < 0) {
            json_decref(polls);
            return rc;
        }
        json_object_set_new(p, "results", res);
    }
    return lc_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "polls", polls));
}

static const lc_json_field_t poll_fields[] = {
    {"question", 4 * LC_IX_POLL_QUESTION_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL},
    {"options", 0, LC_JSON_ARRAY, LC_JSON_OPTIONAL},
    {"multiple", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"anonymous", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"allow_change", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"open", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* Checks the poll members of a body into the job: 0, or -EINVAL with *err. `create`: question
 * and options are required. */
static int poll_input(json_t *body, bool create, lc_ix_job_t *job, lc_body_error_t *err)
{
    json_t *q = json_object_get(body, "question"), *opts = json_object_get(body, "options");
    if (create && !q)
        return lc_body_error_set(err, 422, "missing_field", "question", "question: required");
    if (create && !opts)
        return lc_body_error_set(err, 422, "missing_field", "options", "options: required");
    if (q) {
        if (lc_input_text("question", q, 1, LC_IX_POLL_QUESTION_CHARS, "", err) < 0)
            return -EINVAL;
        if (!(job->text = strdup(json_string_value(q))))
            return -ENOMEM;
        job->set |= LC_IX_SET_TEXT;
    }
    if (opts) {
        size_t n = json_array_size(opts);
        if (n < LC_POLL_OPTIONS_MIN || n > LC_POLL_OPTIONS_MAX)
            return lc_body_error_set(err, 422, "invalid_field", "options",
                                     "options: between %d and %d", LC_POLL_OPTIONS_MIN,
                                     LC_POLL_OPTIONS_MAX);
        for (size_t i = 0; i < n; i++) {
            json_t *l = json_array_get(opts, i);
            if (lc_input_text("options", l, 1, LC_IX_POLL_OPTION_CHARS, "", err) < 0)
                return -EINVAL;
            for (size_t k = 0; k < i; k++)
                if (strcmp(json_string_value(json_array_get(opts, k)), json_string_value(l)) == 0)
                    return lc_body_error_set(err, 422, "invalid_field", "options",
                                             "options: two options are the same");
        }
        job->options = json_incref(opts);
        job->set |= LC_IX_SET_OPTIONS;
    }
    static const struct {
        const char *name;
        int bit;
        size_t off;
        bool dflt;
    } flags[] = {
        {"multiple", LC_IX_SET_MULTIPLE, offsetof(lc_ix_job_t, multiple), false},
        {"anonymous", LC_IX_SET_ANONYMOUS, offsetof(lc_ix_job_t, anonymous), true},
        {"allow_change", LC_IX_SET_ALLOW_CHANGE, offsetof(lc_ix_job_t, allow_change), false},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        json_t *v = json_object_get(body, flags[i].name);
        bool *dst = (bool *)((char *)job + flags[i].off);
        *dst = v ? json_is_true(v) : flags[i].dflt;
        if (v)
            job->set |= flags[i].bit;
    }
    return 0;
}

int lc_api_admin_poll_create(lc_req_t *req)
{
    int result, rc = 0;
    lc_ix_job_t *done = lc_ix_finished(req, &result);
    if (done)
        return reply_poll(req, done, result, MHD_HTTP_CREATED);
    lc_webinar_t w;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0)
        return rc;
    json_t *body = lc_req_json(req, poll_fields, &rc);
    if (!body)
        return rc;
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_POLL_CREATE, &w, 0);
    lc_body_error_t err;
    rc = job ? poll_input(body, true, job, &err) : -ENOMEM;
    if (job)
        job->flag = json_is_true(json_object_get(body, "open"));
    json_decref(body);
    if (rc < 0) {
        lc_ix_job_free(job);
        return rc == -EINVAL ? reply_body_error(req, &err) : rc;
    }
    return lc_ix_submit(req, job);
}

int lc_api_admin_poll_update(lc_req_t *req)
{
    int result, rc = 0;
    lc_ix_job_t *done = lc_ix_finished(req, &result);
    if (done)
        return reply_poll(req, done, result, MHD_HTTP_OK);
    lc_webinar_t w;
    int64_t pid;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0 || lc_ix_param_id(req, 1, &pid, &rc) < 0)
        return rc;
    json_t *body = lc_req_json(req, poll_fields, &rc);
    if (!body)
        return rc;
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_POLL_UPDATE, &w, 0);
    lc_body_error_t err;
    if (job && json_object_get(body, "open"))
        rc = lc_body_error_set(&err, 422, "unknown_field", "open",
                               "open: use POST .../open to open a poll");
    else
        rc = job ? poll_input(body, false, job, &err) : -ENOMEM;
    json_decref(body);
    if (rc < 0) {
        lc_ix_job_free(job);
        return rc == -EINVAL ? reply_body_error(req, &err) : rc;
    }
    job->target_id = pid;
    return lc_ix_submit(req, job);
}

/* Open, close, delete, results shown: a job on one poll without a body (but `results`). */
static int poll_action(lc_req_t *req, lc_ix_op_t op, const char *state)
{
    int result, rc = 0;
    lc_ix_job_t *done = lc_ix_finished(req, &result);
    if (done) {
        if (result == 0 && op == LC_IX_POLL_DELETE)
            return lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
        return reply_poll(req, done, result, MHD_HTTP_OK);
    }
    lc_webinar_t w;
    int64_t pid;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0 || lc_ix_param_id(req, 1, &pid, &rc) < 0)
        return rc;
    bool shown = false;
    if (op == LC_IX_POLL_RESULTS) {
        static const lc_json_field_t fields[] = {{"shown", 0, LC_JSON_BOOL, 0},
                                                 {NULL, 0, LC_JSON_STRING, 0}};
        json_t *body = lc_req_json(req, fields, &rc);
        if (!body)
            return rc;
        shown = json_is_true(json_object_get(body, "shown"));
        json_decref(body);
    }
    lc_ix_job_t *job = lc_ix_job_new(req, op, &w, 0);
    if (!job)
        return -ENOMEM;
    job->target_id = pid;
    job->state = state;
    job->flag = shown;
    return lc_ix_submit(req, job);
}

int lc_api_admin_poll_open(lc_req_t *req) { return poll_action(req, LC_IX_POLL_STATE, "open"); }
int lc_api_admin_poll_close(lc_req_t *req)
{
    return poll_action(req, LC_IX_POLL_STATE, "closed");
}
int lc_api_admin_poll_results(lc_req_t *req) { return poll_action(req, LC_IX_POLL_RESULTS, NULL); }
int lc_api_admin_poll_delete(lc_req_t *req) { return poll_action(req, LC_IX_POLL_DELETE, NULL); }

/* ---- voting --------------------------------------------------------------------------------- */

static const lc_json_field_t vote_fields[] = {
    {"options", 0, LC_JSON_ARRAY, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

int lc_api_join_vote(lc_req_t *req)
{
    int result, rc = 0;
    lc_ix_job_t *done = lc_ix_finished(req, &result);
    if (done) {
        if (result < 0)
            return lc_ix_reply_refusal(req, done, result, "options", "poll");
        json_t *o = json_copy(done->out);
        if (o)
            json_object_set_new(o, "changed", json_boolean(done->changed));
        return o ? lc_reply_json(req, MHD_HTTP_OK, o) : -ENOMEM;
    }
    lc_join_t j;
    lc_webinar_t w;
    int64_t pid;
    if (lc_api_join_in_room(req, &j, &w, &rc) < 0 || lc_ix_param_id(req, 1, &pid, &rc) < 0)
        return rc;
    json_t *body = lc_req_json(req, vote_fields, &rc);
    if (!body)
        return rc;
    json_t *opts = json_object_get(body, "options");
    const char *bad = json_array_size(opts) == 0 ? "options: choose at least one option"
                      : json_array_size(opts) > LC_POLL_OPTIONS_MAX ? "options: too many"
                                                                   : NULL;
    for (size_t i = 0; !bad && i < json_array_size(opts); i++) {
        json_t *o = json_array_get(opts, i);
        if (!json_is_integer(o))
            bad = "options: option ids (integers)";
        for (size_t k = 0; !bad && k < i; k++)
            if (json_integer_value(json_array_get(opts, k)) == json_integer_value(o))
                bad = "options: an option twice";
    }
    if (bad) {
        json_decref(body);
        return lc_reply_error_with(req, 422, "invalid_field", "options", bad, NULL);
    }
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_VOTE, &w, j.registration_id);
    if (job) {
        job->target_id = pid;
        job->options = json_incref(opts);
        lc_room_voter(lc_req_app(req)->room, pid, j.registration_id, job->voter);
    }
    json_decref(body);
    return job ? lc_ix_submit(req, job) : -ENOMEM;
}

/* ---- results as CSV -------------------------------------------------------------------------- */

static void csv_int(lc_bytes_t *out, long long v, bool first)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", v);
    lc_csv_field(out, text, first);
}

static void csv_percent(lc_bytes_t *out, long long votes, long long voters)
{
    char text[16];
    snprintf(text, sizeof text, "%.1f", voters ? 100.0 * (double)votes / (double)voters : 0.0);
    lc_csv_field(out, text, false);
}

/* The labels of the options in `mask`, joined by "; ". */
static void csv_choices(lc_bytes_t *out, json_t *options, int mask)
{
    lc_bytes_t s;
    lc_bytes_init(&s);
    size_t i;
    json_t *o;
    json_array_foreach(options, i, o) {
        if (i < LC_POLL_OPTIONS_MAX && (mask & (1 << i))) {
            if (s.len)
                lc_bytes_append(&s, "; ", 2);
            const char *l = json_string_value(json_object_get(o, "label"));
            lc_bytes_append(&s, l, strlen(l));
        }
    }
    lc_bytes_append(&s, "", 1);
    lc_csv_field(out, s.failed ? "" : (const char *)s.data, false);
    lc_bytes_free(&s);
}

typedef struct {
    lc_bytes_t *out;
    json_t *options;
} answers_t;

static int add_answer(void *opaque, const char *name, const char *email, int mask)
{
    answers_t *a = opaque;
    lc_csv_field(a->out, name, true);
    lc_csv_field(a->out, email, false);
    csv_choices(a->out, a->options, mask);
    lc_bytes_append(a->out, LC_CSV_EOL, 2);
    return a->out->failed ? -ENOMEM : 0;
}

/* A CSV file built in memory (results are a few rows per poll; an attributed poll's answers
 * one row per voter), sent as it is. */
typedef struct {
    lc_bytes_t b;
    size_t off;
} memfile_t;

static ssize_t memfile_read(void *opaque, char *buf, size_t max)
{
    memfile_t *m = opaque;
    size_t k = m->b.len - m->off;
    if (k > max)
        k = max;
    memcpy(buf, m->b.data + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

static void memfile_free(void *opaque)
{
    memfile_t *m = opaque;
    lc_bytes_free(&m->b);
    free(m);
}

static int reply_csv(lc_req_t *req, lc_bytes_t *out, const char *name)
{
    char cd[160];
    memfile_t *m = malloc(sizeof *m);
    if (!m || out->failed || lc_fmt(cd, sizeof cd, "attachment; filename=\"%s\"", name) < 0) {
        free(m);
        lc_bytes_free(out);
        return -ENOMEM;
    }
    m->b = *out;
    m->off = 0;
    const char *hdr[] = {"Content-Disposition", cd, NULL};
    return lc_reply_stream(req, MHD_HTTP_OK, "text/csv; charset=utf-8; header=present",
                           memfile_read, memfile_free, m, hdr);
}

int lc_api_admin_poll_csv(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int64_t pid;
    int rc = 0;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0 || lc_ix_param_id(req, 1, &pid, &rc) < 0)
        return rc;
    json_t *polls = NULL, *res = NULL;
    if ((rc = lc_db_polls(app->db, w.id, pid, &polls)) < 0)
        return rc;
    json_t *poll = json_array_get(polls, 0);
    if (!poll) {
        json_decref(polls);
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such poll");
    }
    if ((rc = lc_db_poll_results(app->db, pid, &res)) < 0) {
        json_decref(polls);
        return rc;
    }
    lc_bytes_t out;
    lc_bytes_init(&out);
    lc_bytes_append(&out, "\xEF\xBB\xBF", 3);
    lc_csv_field(&out, "option", true);
    lc_csv_field(&out, "votes", false);
    lc_csv_field(&out, "percent", false);
    lc_bytes_append(&out, LC_CSV_EOL, 2);
    long long voters = json_integer_value(json_object_get(res, "voters"));
    json_t *options = json_object_get(poll, "options"), *counts = json_object_get(res, "counts");
    for (size_t i = 0; i < json_array_size(options); i++) {
        long long votes =
            json_integer_value(json_object_get(json_array_get(counts, i), "votes"));
        lc_csv_field(&out, json_string_value(json_object_get(json_array_get(options, i), "label")),
                     true);
        csv_int(&out, votes, false);
        csv_percent(&out, votes, voters);
        lc_bytes_append(&out, LC_CSV_EOL, 2);
    }
    lc_csv_field(&out, "total voters", true);
    csv_int(&out, voters, false);
    lc_bytes_append(&out, LC_CSV_EOL, 2);
    bool attributed = !json_is_true(json_object_get(poll, "anonymous"));
    if (attributed && rc == 0) {
        /* Who answered what: personal data, as in the lead export (and audited like it). */
        lc_bytes_append(&out, LC_CSV_EOL, 2);
        lc_csv_field(&out, "name", true);
        lc_csv_field(&out, "email", false);
        lc_csv_field(&out, "options", false);
        lc_bytes_append(&out, LC_CSV_EOL, 2);
        answers_t a = {&out, options};
        rc = lc_db_poll_answers(app->db, pid, add_answer, &a);
        if (rc == 0)
            lc_api_audit(req, "export_csv", w.id, NULL, voters);
    }
    json_decref(res);
    json_decref(polls);
    if (rc < 0) {
        lc_bytes_free(&out);
        return rc;
    }
    char name[96];
    snprintf(name, sizeof name, "poll-%lld-results.csv", (long long)pid);
    return reply_csv(req, &out, name);
}

int lc_api_admin_polls_csv(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0)
        return rc;
    json_t *polls = NULL;
    if ((rc = lc_db_polls(app->db, w.id, 0, &polls)) < 0)
        return rc;
    lc_bytes_t out;
    lc_bytes_init(&out);
    lc_bytes_append(&out, "\xEF\xBB\xBF", 3);
    static const char *const head[] = {"poll_id", "question", "state", "option", "votes",
                                       "percent", NULL};
    for (int k = 0; head[k]; k++)
        lc_csv_field(&out, head[k], k == 0);
    lc_bytes_append(&out, LC_CSV_EOL, 2);
    size_t i;
    json_t *p;
    json_array_foreach(polls, i, p) {
        json_t *res = NULL;
        int64_t id = json_integer_value(json_object_get(p, "id"));
        if ((rc = lc_db_poll_results(app->db, id, &res)) < 0)
            break;
        long long voters = json_integer_value(json_object_get(res, "voters"));
        json_t *options = json_object_get(p, "options"), *counts = json_object_get(res, "counts");
        for (size_t k = 0; k < json_array_size(options); k++) {
            long long votes =
                json_integer_value(json_object_get(json_array_get(counts, k), "votes"));
            csv_int(&out, id, true);
            lc_csv_field(&out, json_string_value(json_object_get(p, "question")), false);
            lc_csv_field(&out, json_string_value(json_object_get(p, "state")), false);
            lc_csv_field(&out,
                         json_string_value(json_object_get(json_array_get(options, k), "label")),
                         false);
            csv_int(&out, votes, false);
            csv_percent(&out, votes, voters);
            lc_bytes_append(&out, LC_CSV_EOL, 2);
        }
        json_decref(res);
    }
    json_decref(polls);
    if (rc < 0) {
        lc_bytes_free(&out);
        return rc;
    }
    char name[96];
    snprintf(name, sizeof name, "polls-%s.csv", w.slug);
    return reply_csv(req, &out, name);
}
