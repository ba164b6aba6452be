/* What the interaction handlers share: a change's trip through the group-commit writer (the
 * request waits without a thread; the change is published from the commit hook, in commit
 * order, whether or not the request still waits), refusals, ids; and the attendees' actions
 * other than voting (questions, chat, hands). */
#include "api/interaction.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/registration.h"
#include "api/room.h"
#include "api/webinar_input.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

/* Longest a change waits for its commit before the answer is "busy" (it may still commit). */
#define IX_WAIT_MS 10000

typedef struct {
    lc_write_job_t *job;
} ix_wait_t;

static void ix_wait_cancel(void *opaque) { lc_write_job_cancel(((ix_wait_t *)opaque)->job); }

static void ix_wait_free(void *opaque)
{
    ix_wait_t *iw = opaque;
    if (iw->job)
        lc_write_job_cancel(iw->job);
    lc_write_job_release(&iw->job);
    free(iw);
}

static void wake(void *opaque) { lc_req_wake(opaque); }

static void committed(void *arg, int result)
{
    lc_ix_job_t *j = arg;
    if (result == 0)
        lc_room_publish_change(j->ctx, j);
}

static int reply_busy(lc_req_t *req)
{
    const char *hdr[] = {"Retry-After", "2", NULL};
    return lc_reply_error_with(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", NULL,
                               "the server is busy; try again", hdr);
}

lc_ix_job_t *lc_ix_job_new(lc_req_t *req, lc_ix_op_t op, const lc_webinar_t *w,
                           int64_t registration_id)
{
    lc_ix_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->op = op;
    j->webinar_id = w->id;
    j->registration_id = registration_id;
    j->now_ms = lc_now_real_ms();
    j->ctx = lc_req_app(req)->room;
    j->names_hidden = w->settings.hide_attendee_names;
    j->questions_public = w->settings.questions_public;
    return j;
}

int lc_ix_submit(lc_req_t *req, lc_ix_job_t *job)
{
    lc_app_t *app = lc_req_app(req);
    ix_wait_t *iw = calloc(1, sizeof *iw);
    if (!iw) {
        lc_ix_job_free(job);
        return -ENOMEM;
    }
    lc_req_on_done(req, ix_wait_free, iw);
    lc_req_prepare_wait(req);
    int rc = 0;
    iw->job = lc_writer_submit_ex(app->writer, lc_db_ix_run, committed, job, lc_ix_job_free, wake,
                                  req, &rc);
    if (!iw->job)
        return rc == LC_ELIMIT || rc == -ESHUTDOWN ? reply_busy(req) : rc;
    return lc_req_suspend(req, IX_WAIT_MS, ix_wait_cancel, iw);
}

lc_ix_job_t *lc_ix_finished(lc_req_t *req, int *result)
{
    ix_wait_t *iw = lc_req_state(req);
    if (!iw || !iw->job)
        return NULL;
    *result = lc_req_woken(req) == LC_WAKE_TIMEOUT ? -ETIMEDOUT : lc_write_job_result(iw->job);
    return lc_write_job_arg(iw->job);
}

int lc_ix_reply_refusal(lc_req_t *req, const lc_ix_job_t *job, int result, const char *field,
                        const char *what)
{
    const char *why = job->why;
    if (result == -ETIMEDOUT)
        return reply_busy(req);
    if (result == LC_ENOTFOUND) {
        char msg[96];
        snprintf(msg, sizeof msg, "no such %s", what);
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", msg);
    }
    if (!why)
        return result;
    static const struct {
        const char *why;
        unsigned status;
        bool field;
        const char *message;
    } table[] = {
        {"poll_closed", 409, false, "the poll is closed"},
        {"already_voted", 409, false, "you have voted in this poll already"},
        {"unknown_option", 422, true, "options: an option that is not one of this poll's"},
        {"single_choice", 422, true, "options: this poll takes one option"},
        {"not_draft", 409, false, "only a draft poll can be changed"},
        {"poll_open", 409, false, "close the poll first"},
        {"invalid_state", 409, false, "it is in that state already"},
        {"already_upvoted", 409, false, "you have upvoted this question already"},
        {"too_many", 429, false, "you have asked the most questions one attendee may ask"},
        {"too_fast", 429, false, "too many messages; wait a few seconds"},
        {"muted", 403, false, "a moderator has muted you in the chat"},
        {"unknown_registration", 422, true, "no such attendee in this webinar"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].why, why) == 0) {
            /* "single_choice" is an invalid field of the request, like an empty list. */
            const char *code = strcmp(why, "single_choice") == 0 ? "invalid_field" : why;
            return lc_reply_error_with(req, table[i].status, code,
                                       table[i].field ? field : NULL, table[i].message, NULL);
        }
    return result;
}

int lc_ix_moderator_webinar(lc_req_t *req, lc_webinar_t *w, int *rc)
{
    return lc_api_load_webinar(req, w, rc);
}

int lc_ix_param_id(lc_req_t *req, int i, int64_t *id, int *rc)
{
    if (lc_parse_int64(lc_req_param(req, i), 1, INT64_MAX, id) == 0)
        return 0;
    *rc = lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such item");
    return -EINVAL;
}

/* ---- attendees: questions, chat, hands --------------------------------------------------- */

static int reply_body_error(lc_req_t *req, const lc_body_error_t *err)
{
    return lc_reply_error_with(req, err->status, err->code, err->field, err->message, NULL);
}

/* The attendee's view of a finished job's row, as the answer. */
static int reply_view(lc_req_t *req, lc_ix_job_t *j, unsigned status, int64_t me)
{
    json_t *o = NULL;
    switch (j->op) {
    case LC_IX_QUESTION_ADD:
    case LC_IX_QUESTION_UPVOTE:
        o = lc_room_question_view(j->out, j->names_hidden, me);
        if (o)
            json_object_set_new(o, "upvoted", json_boolean(j->op == LC_IX_QUESTION_UPVOTE));
        break;
    case LC_IX_CHAT_ADD:
        o = lc_room_chat_view(j->out, j->names_hidden, me);
        break;
    case LC_IX_HAND:
        o = lc_room_hand_view(j->out);
        break;
    default:
        o = json_incref(j->out);
    }
    return o ? lc_reply_json(req, status, o) : -ENOMEM;
}

static const lc_json_field_t question_fields[] = {
    {"body", 4 * LC_IX_QUESTION_CHARS, LC_JSON_STRING, 0},
    {"show_name", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {NULL, 0, LC_JSON_STRING, 0},
};

static const lc_json_field_t chat_fields[] = {
    {"body", 4 * LC_IX_CHAT_CHARS, LC_JSON_STRING, 0},
    {"to", 16, LC_JSON_STRING, LC_JSON_OPTIONAL},
    {"show_name", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {NULL, 0, LC_JSON_STRING, 0},
};

static const lc_json_field_t hand_fields[] = {
    {"raised", 0, LC_JSON_BOOL, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* Parses the body and checks its text member `name` (1..max characters, line breaks allowed):
 * the body, or NULL after replying (*rc). */
static json_t *text_body(lc_req_t *req, const lc_json_field_t *fields, const char *name,
                         size_t max, int *rc)
{
    json_t *body = lc_req_json(req, fields, rc);
    if (!body)
        return NULL;
    lc_body_error_t err;
    if (lc_input_text(name, json_object_get(body, name), 1, max, "\n\r\t", &err) < 0) {
        json_decref(body);
        *rc = reply_body_error(req, &err);
        return NULL;
    }
    return body;
}

/* The common start of an attendee's change: on the second run the finished job's answer (the
 * attendee's view, with `status`); on the first, the join link checked to be in the room.
 * Returns true when the handler should go on building its job, else false with *rc the result
 * to return. */
static bool begin(lc_req_t *req, const char *what, unsigned status, lc_join_t *j,
                  lc_webinar_t *w, int *rc)
{
    int result;
    lc_ix_job_t *done = lc_ix_finished(req, &result);
    if (done) {
        *rc = result < 0 ? lc_ix_reply_refusal(req, done, result, NULL, what)
                         : reply_view(req, done, status, done->registration_id);
        return false;
    }
    return lc_api_join_in_room(req, j, w, rc) == 0;
}

/* A question or a chat message from the checked body. NULL when out of memory. */
static lc_ix_job_t *text_job(lc_req_t *req, lc_ix_op_t op, const lc_webinar_t *w,
                             int64_t registration_id, json_t *body, int limit)
{
    lc_ix_job_t *job = lc_ix_job_new(req, op, w, registration_id);
    if (!job)
        return NULL;
    job->text = strdup(json_string_value(json_object_get(body, "body")));
    job->flag = json_is_true(json_object_get(body, "show_name"));
    job->limit = limit;
    if (!job->text) {
        lc_ix_job_free(job);
        return NULL;
    }
    return job;
}

int lc_api_join_question(lc_req_t *req)
{
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (!begin(req, "question", MHD_HTTP_CREATED, &j, &w, &rc))
        return rc;
    json_t *body = text_body(req, question_fields, "body", LC_IX_QUESTION_CHARS, &rc);
    if (!body)
        return rc;
    lc_ix_job_t *job = text_job(req, LC_IX_QUESTION_ADD, &w, j.registration_id, body,
                                LC_IX_QUESTIONS_PER_ATTENDEE);
    json_decref(body);
    return job ? lc_ix_submit(req, job) : -ENOMEM;
}

int lc_api_join_upvote(lc_req_t *req)
{
    lc_join_t j;
    lc_webinar_t w;
    int64_t qid;
    int rc = 0;
    if (!begin(req, "question", MHD_HTTP_OK, &j, &w, &rc) || lc_ix_param_id(req, 1, &qid, &rc) < 0)
        return rc;
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_QUESTION_UPVOTE, &w, j.registration_id);
    if (!job)
        return -ENOMEM;
    job->target_id = qid;
    return lc_ix_submit(req, job);
}

int lc_api_join_chat(lc_req_t *req)
{
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (!begin(req, "message", MHD_HTTP_CREATED, &j, &w, &rc))
        return rc;
    json_t *body = text_body(req, chat_fields, "body", LC_IX_CHAT_CHARS, &rc);
    if (!body)
        return rc;
    const char *to = json_string_value(json_object_get(body, "to"));
    bool private = to && strcmp(to, "moderators") == 0;
    if (to && !private && strcmp(to, "everyone") != 0)
        rc = lc_reply_error_with(req, 422, "invalid_field", "to",
                                 "to: \"everyone\" or \"moderators\"", NULL);
    else if (!w.settings.chat_enabled)
        rc = lc_reply_error(req, MHD_HTTP_CONFLICT, "chat_disabled",
                            "the chat is off in this webinar");
    else {
        lc_ix_job_t *job = text_job(req, LC_IX_CHAT_ADD, &w, j.registration_id, body,
                                    LC_IX_CHAT_PER_10S);
        if (job)
            job->to_moderators = private;
        rc = job ? lc_ix_submit(req, job) : -ENOMEM;
    }
    json_decref(body);
    return rc;
}

int lc_api_join_hand(lc_req_t *req)
{
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (!begin(req, "hand", MHD_HTTP_OK, &j, &w, &rc))
        return rc;
    json_t *body = lc_req_json(req, hand_fields, &rc);
    if (!body)
        return rc;
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_HAND, &w, j.registration_id);
    if (job)
        job->flag = json_is_true(json_object_get(body, "raised"));
    json_decref(body);
    return job ? lc_ix_submit(req, job) : -ENOMEM;
}
