/* The moderators' side of the floor: questions answered or dismissed, chat messages and
 * deletions, mutes, raised hands acknowledged or lowered; and the console's stream health and
 * "end webinar". */
#include "api/interaction.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/lobby.h"
#include "api/registration.h"
#include "api/room.h"
#include "api/webinar_input.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "events/events.h"
#include "live/live.h"

/* The moderators' row of a finished job as the answer (204 for a deletion or a mute). */
static int reply_row(lc_req_t *req, lc_ix_job_t *done, int result, const char *what)
{
    if (result < 0)
        return lc_ix_reply_refusal(req, done, result,
                                   done->op == LC_IX_CHAT_ADD ? "to_registration_id"
                                                              : "registration_id",
                                   what);
    if (done->op == LC_IX_CHAT_DELETE || done->op == LC_IX_MUTE)
        return lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
    return lc_reply_json(req, done->op == LC_IX_CHAT_ADD ? MHD_HTTP_CREATED : MHD_HTTP_OK,
                         json_incref(done->out));
}

/* The common start of a moderator's change: the finished job's answer on the second run, or
 * the webinar and (when `param` >= 0) the id in the URL. Returns 1 when the handler should go
 * on building its job, else 0 with *rc the result to return. */
static int start(lc_req_t *req, const char *what, lc_webinar_t *w, int param, int64_t *id,
                 int *rc)
{
    int result;
    lc_ix_job_t *done = lc_ix_finished(req, &result);
    if (done) {
        *rc = reply_row(req, done, result, what);
        return 0;
    }
    if (lc_ix_moderator_webinar(req, w, rc) < 0 || (param >= 0 && lc_ix_param_id(req, param, id, rc) < 0))
        return 0;
    return 1;
}

int lc_api_admin_question(lc_req_t *req)
{
    static const lc_json_field_t fields[] = {{"state", 16, LC_JSON_STRING, 0},
                                             {NULL, 0, LC_JSON_STRING, 0}};
    static const char *const states[] = {"open", "answered", "dismissed"};
    lc_webinar_t w;
    int64_t qid;
    int rc = 0;
    if (!start(req, "question", &w, 1, &qid, &rc))
        return rc;
    json_t *body = lc_req_json(req, fields, &rc);
    if (!body)
        return rc;
    const char *st = json_string_value(json_object_get(body, "state")), *state = NULL;
    for (int i = 0; i < 3; i++)
        if (strcmp(st, states[i]) == 0)
            state = states[i];
    json_decref(body);
    if (!state)
        return lc_reply_error_with(req, 422, "invalid_field", "state",
                                   "state: \"open\", \"answered\" or \"dismissed\"", NULL);
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_QUESTION_STATE, &w, 0);
    if (!job)
        return -ENOMEM;
    job->target_id = qid;
    job->state = state;
    return lc_ix_submit(req, job);
}

int lc_api_admin_chat(lc_req_t *req)
{
    static const lc_json_field_t fields[] = {
        {"body", 4 * LC_IX_CHAT_CHARS, LC_JSON_STRING, 0},
        {"to_registration_id", 0, LC_JSON_INT, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
        {NULL, 0, LC_JSON_STRING, 0}};
    lc_webinar_t w;
    int rc = 0;
    if (!start(req, "message", &w, -1, NULL, &rc))
        return rc;
    json_t *body = lc_req_json(req, fields, &rc);
    if (!body)
        return rc;
    lc_body_error_t err;
    if (lc_input_text("body", json_object_get(body, "body"), 1, LC_IX_CHAT_CHARS, "\n\r\t",
                      &err) < 0) {
        json_decref(body);
        return lc_reply_error_with(req, err.status, err.code, err.field, err.message, NULL);
    }
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_CHAT_ADD, &w, 0);
    if (job) {
        job->text = strdup(json_string_value(json_object_get(body, "body")));
        job->to_registration_id = json_integer_value(json_object_get(body, "to_registration_id"));
    }
    json_decref(body);
    if (!job || !job->text) {
        lc_ix_job_free(job);
        return -ENOMEM;
    }
    return lc_ix_submit(req, job);
}

int lc_api_admin_chat_delete(lc_req_t *req)
{
    lc_webinar_t w;
    int64_t mid;
    int rc = 0;
    if (!start(req, "message", &w, 1, &mid, &rc))
        return rc;
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_CHAT_DELETE, &w, 0);
    if (!job)
        return -ENOMEM;
    job->target_id = mid;
    return lc_ix_submit(req, job);
}

int lc_api_admin_mute(lc_req_t *req)
{
    static const lc_json_field_t fields[] = {{"registration_id", 0, LC_JSON_INT, 0},
                                             {"muted", 0, LC_JSON_BOOL, 0},
                                             {NULL, 0, LC_JSON_STRING, 0}};
    lc_webinar_t w;
    int rc = 0;
    if (!start(req, "attendee", &w, -1, NULL, &rc))
        return rc;
    json_t *body = lc_req_json(req, fields, &rc);
    if (!body)
        return rc;
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_MUTE, &w, 0);
    if (job) {
        job->to_registration_id = json_integer_value(json_object_get(body, "registration_id"));
        job->flag = json_is_true(json_object_get(body, "muted"));
    }
    json_decref(body);
    return job ? lc_ix_submit(req, job) : -ENOMEM;
}

int lc_api_admin_hand(lc_req_t *req)
{
    static const lc_json_field_t fields[] = {{"action", 16, LC_JSON_STRING, 0},
                                             {NULL, 0, LC_JSON_STRING, 0}};
    lc_webinar_t w;
    int64_t reg;
    int rc = 0;
    if (!start(req, "raised hand", &w, 1, &reg, &rc))
        return rc;
    json_t *body = lc_req_json(req, fields, &rc);
    if (!body)
        return rc;
    const char *a = json_string_value(json_object_get(body, "action"));
    const char *action = strcmp(a, "acknowledge") == 0 ? "acknowledge"
                         : strcmp(a, "lower") == 0     ? "lower"
                                                       : NULL;
    json_decref(body);
    if (!action)
        return lc_reply_error_with(req, 422, "invalid_field", "action",
                                   "action: \"acknowledge\" or \"lower\"", NULL);
    lc_ix_job_t *job = lc_ix_job_new(req, LC_IX_HAND, &w, reg);
    if (!job)
        return -ENOMEM;
    job->state = action;
    return lc_ix_submit(req, job);
}

/* ---- the console ------------------------------------------------------------------------------ */

static json_t *audience_json(lc_app_t *app, int64_t webinar_id)
{
    int64_t *ids = NULL;
    size_t waiting = 0;
    lc_lobby_present(app->lobby, webinar_id, lc_now_real_ms(), &ids, &waiting);
    free(ids);
    return json_pack("{s:I,s:I}", "watching",
                     (json_int_t)lc_events_audience(lc_room_events(app->room), webinar_id),
                     "waiting", (json_int_t)waiting);
}

json_t *lc_ix_audience_json(lc_app_t *app, int64_t webinar_id)
{
    return audience_json(app, webinar_id);
}

int lc_api_admin_health(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0)
        return rc;
    lc_live_health_t h;
    static const char *const states[] = {"offline", "running", "grace"};
    bool on = lc_live_health(app->live, w.id, &h) == 0;
    json_t *video = json_null(), *audio = json_null();
    if (on && h.has_video)
        video = json_pack("{s:s,s:i,s:i,s:f,s:f,s:f}", "codec", h.video_codec, "width", h.width,
                          "height", h.height, "bitrate_kbps", h.video_kbps, "fps", h.fps,
                          "keyframe_interval_s", h.keyframe_interval_s);
    if (on && h.has_audio)
        audio = json_pack("{s:s,s:i,s:i,s:f}", "codec", h.audio_codec, "sample_rate",
                          h.sample_rate, "channels", h.channels, "bitrate_kbps", h.audio_kbps);
    json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:b,s:o}", "state",
                          states[on && (unsigned)h.state < 3 ? h.state : 0], "session_id",
                          on ? json_integer(h.session_id) : json_null(), "video", video, "audio",
                          audio, "audio_present", on && h.audio_present, "audience",
                          audience_json(app, w.id));
    return o ? lc_reply_json(req, MHD_HTTP_OK, o) : -ENOMEM;
}

int lc_api_admin_end(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (lc_ix_moderator_webinar(req, &w, &rc) < 0)
        return rc;
    rc = lc_live_end(app->live, w.id);
    if (rc == LC_ENOTFOUND)
        return lc_reply_error(req, MHD_HTTP_CONFLICT, "not_live", "nothing is live to end");
    if (rc < 0)
        return rc;
    LC_INFO("api", "webinar %lld: ended by organiser %lld", (long long)w.id,
            (long long)lc_req_session(req)->user_id);
    lc_room_publish_ended(app->room, w.id);
    return lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
}
