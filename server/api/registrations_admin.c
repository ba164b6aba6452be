/* The registrations of a webinar as organisers handle them: list, one, approve or reject (one or
 * many), the waiting room and admission. Every view of personal data goes to the audit log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/lobby.h"
#include "api/registration.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/registrations.h"

#define IDS_MAX 10000

static json_t *time_or_null(int64_t ms)
{
    char buf[25];
    return ms > 0 ? json_string(lc_iso8601(ms, buf)) : json_null();
}

static json_t *text_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *lc_api_registration_json(const lc_reg_row_t *r)
{
    json_t *fields = json_loads(r->answers_json, 0, NULL);
    return json_pack(
        "{s:I,s:I,s:s,s:s,s:o,s:s,s:i,s:{s:s,s:o},s:{s:o,s:o,s:o,s:o},s:o,s:o,s:o,"
        "s:{s:b,s:I,s:I,s:I,s:I,s:o,s:o}}",
        "id", (json_int_t)r->id, "webinar_id", (json_int_t)r->webinar_id, "email", r->email,
        "name", r->name, "fields", fields ? fields : json_object(), "state",
        lc_reg_state_name(r->state), "pending_links", r->pending_links, "consent", "version",
        r->consent_version, "at", time_or_null(r->consent_at_ms), "source", "utm_source",
        text_or_null(r->utm_source), "utm_medium", text_or_null(r->utm_medium), "utm_campaign",
        text_or_null(r->utm_campaign), "referrer", text_or_null(r->referrer), "registered_at",
        time_or_null(r->created_at_ms), "decided_at", time_or_null(r->decided_at_ms),
        "admitted_at", time_or_null(r->admitted_at_ms), "attendance", "attended_live",
        r->attended_live, "seconds_live", (json_int_t)r->seconds_live, "seconds_replay",
        (json_int_t)r->seconds_replay, "minutes_live",
        (json_int_t)lc_reg_minutes(r->seconds_live), "minutes_replay",
        (json_int_t)lc_reg_minutes(r->seconds_replay), "first_joined_at",
        time_or_null(r->first_joined_ms), "last_seen_at", time_or_null(r->last_seen_ms));
}

void lc_api_audit(lc_req_t *req, const char *action, int64_t webinar_id, const char *subject,
                  int64_t records)
{
    const lc_auth_session_t *s = lc_req_session(req);
    lc_audit_entry_t e = {.at_ms = lc_now_real_ms(), .user_id = s ? s->user_id : 0,
                          .user_email = s ? s->email : NULL, .action = action,
                          .webinar_id = webinar_id, .subject = subject, .records = records};
    lc_db_audit_add(lc_req_app(req)->db, &e);
}

int lc_api_load_webinar(lc_req_t *req, lc_webinar_t *w, int *rc)
{
    int64_t id;
    int r = LC_ENOTFOUND;
    if (lc_parse_int64(lc_req_param(req, 0), 1, INT64_MAX, &id) == 0)
        r = lc_db_webinar_get(lc_req_app(req)->db, id, w);
    if (r == LC_ENOTFOUND)
        *rc = lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
    else if (r < 0)
        *rc = r;
    return r;
}

int lc_api_query_int(lc_req_t *req, const char *name, int64_t min, int64_t max,
                     const char *message, int64_t *v, int *rc)
{
    const char *q = lc_req_query(req, name);
    if (!q || lc_parse_int64(q, min, max, v) == 0)
        return 0;
    *rc = lc_reply_error_with(req, MHD_HTTP_BAD_REQUEST, "invalid_query", name, message, NULL);
    return -EINVAL;
}

typedef struct {
    json_t *list;
    int64_t last_id;
    int n;
    bool failed;
} list_acc_t;

static int add_row(void *opaque, const lc_reg_row_t *r)
{
    list_acc_t *a = opaque;
    json_t *j = lc_api_registration_json(r);
    if (!j || json_array_append_new(a->list, j) < 0) {
        a->failed = true;
        return 1;
    }
    a->last_id = r->id;
    a->n++;
    return 0;
}

/* GET /api/admin/webinars/{id}/registrations?state=&after=&limit= */
int lc_api_admin_reg_list(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (lc_api_load_webinar(req, &w, &rc) < 0)
        return rc;
    const char *state_q = lc_req_query(req, "state");
    lc_reg_state_t state;
    int64_t after = 0, limit = LC_API_LIST_LIMIT;
    if (state_q && lc_reg_state_parse(state_q, &state) < 0)
        return lc_reply_error_with(req, MHD_HTTP_BAD_REQUEST, "invalid_query", "state",
                                   "state: pending, approved or rejected", NULL);
    if (lc_api_query_int(req, "after", 0, INT64_MAX, "after: a registration id", &after,
                         &rc) < 0 ||
        lc_api_query_int(req, "limit", 1, LC_API_LIST_LIMIT_MAX, "limit: 1 to 1000", &limit,
                         &rc) < 0)
        return rc;
    list_acc_t a = {.list = json_array()};
    if (!a.list)
        return -ENOMEM;
    rc = lc_db_reg_list(app->db, w.id, state_q ? &state : NULL, after, (int)limit, add_row, &a);
    int64_t pending = 0, approved = 0, rejected = 0;
    if (rc == 0)
        rc = lc_db_reg_counts(app->db, w.id, &pending, &approved, &rejected);
    if (rc < 0 || a.failed) {
        json_decref(a.list);
        return rc < 0 ? rc : -ENOMEM;
    }
    lc_api_audit(req, "view_registrations", w.id, NULL, a.n);
    json_t *body = json_pack("{s:o,s:o,s:{s:I,s:I,s:I}}", "registrations", a.list, "next",
                             a.n == limit ? json_integer(a.last_id) : json_null(), "counts",
                             "pending", (json_int_t)pending, "approved", (json_int_t)approved,
                             "rejected", (json_int_t)rejected);
    return body ? lc_reply_json(req, MHD_HTTP_OK, body) : -ENOMEM;
}

/* Reads {"ids": [int, ...]} into *ids (free() it): 0, or a reply was queued (*rc). */
static int read_ids(lc_req_t *req, json_t *list, int64_t **ids, size_t *n, int *rc)
{
    size_t count = json_array_size(list), i;
    json_t *v;
    *ids = NULL;
    *n = 0;
    if (count > IDS_MAX) {
        *rc = lc_reply_error_with(req, 422, "invalid_field", "ids", "ids: at most 10000", NULL);
        return -EINVAL;
    }
    if (count && !(*ids = malloc(count * sizeof **ids)))
        return *rc = -ENOMEM;
    json_array_foreach(list, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            free(*ids);
            *ids = NULL;
            *rc = lc_reply_error_with(req, 422, "invalid_field", "ids",
                                      "ids: registration ids (positive integers)", NULL);
            return -EINVAL;
        }
        (*ids)[i] = json_integer_value(v);
    }
    *n = count;
    return 0;
}

static const lc_json_field_t decision_fields[] = {
    {"ids", 0, LC_JSON_ARRAY, 0},
    {"decision", 16, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* POST /api/admin/webinars/{id}/registrations/decision {"ids", "decision"} */
int lc_api_admin_reg_decide(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (lc_api_load_webinar(req, &w, &rc) < 0)
        return rc;
    json_t *body = lc_req_json(req, decision_fields, &rc);
    if (!body)
        return rc;
    const char *d = json_string_value(json_object_get(body, "decision"));
    bool approve = strcmp(d, "approve") == 0;
    int64_t *ids = NULL;
    size_t n = 0;
    if (!approve && strcmp(d, "reject") != 0) {
        json_decref(body);
        return lc_reply_error_with(req, 422, "invalid_field", "decision",
                                   "decision: \"approve\" or \"reject\"", NULL);
    }
    if (read_ids(req, json_object_get(body, "ids"), &ids, &n, &rc) < 0) {
        json_decref(body);
        return rc;
    }
    json_decref(body);
    int changed = 0;
    rc = lc_db_reg_decide(app->db, w.id, ids, n, approve, lc_now_real_ms(), &changed);
    if (rc == 0) /* pending join pages learn the decision at once */
        lc_lobby_wake_some(app->lobby, w.id, ids, n);
    free(ids);
    if (rc < 0)
        return rc;
    LC_INFO("api", "webinar %lld: %d registrations %s by organiser %lld", (long long)w.id,
            changed, approve ? "approved" : "rejected", (long long)lc_req_session(req)->user_id);
    lc_api_audit(req, "decide_registrations", w.id, NULL, changed);
    return lc_reply_json(req, MHD_HTTP_OK, json_pack("{s:i}", "changed", changed));
}

typedef struct {
    json_t *list;
    bool failed;
    int64_t since_ms;
} waiting_acc_t;

static int add_waiting(void *opaque, const lc_reg_row_t *r)
{
    waiting_acc_t *a = opaque;
    json_t *j = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)r->id, "name", r->name, "email",
                          r->email);
    if (!j || json_array_append_new(a->list, j) < 0)
        a->failed = true;
    return a->failed;
}

/* GET /api/admin/webinars/{id}/waiting: who waits in the waiting room now, in order of arrival,
 * and whether everyone is let in from now on. */
int lc_api_admin_waiting(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (lc_api_load_webinar(req, &w, &rc) < 0)
        return rc;
    int64_t *ids = NULL;
    size_t n = 0;
    if ((rc = lc_lobby_present(app->lobby, w.id, lc_now_real_ms(), &ids, &n)) < 0)
        return rc;
    waiting_acc_t a = {.list = json_array()};
    for (size_t i = 0; a.list && !a.failed && i < n; i++) {
        int r = lc_db_reg_get(app->db, w.id, ids[i], add_waiting, &a);
        if (r < 0 && r != LC_ENOTFOUND)
            rc = r;
    }
    free(ids);
    if (!a.list || a.failed || rc < 0) {
        json_decref(a.list);
        return rc < 0 ? rc : -ENOMEM;
    }
    if (n)
        lc_api_audit(req, "view_registrations", w.id, NULL, (int64_t)n);
    json_t *body = json_pack("{s:o,s:b,s:b}", "waiting", a.list, "admit_all", w.admit_all,
                             "waiting_room", w.settings.waiting_room);
    return body ? lc_reply_json(req, MHD_HTTP_OK, body) : -ENOMEM;
}

static const lc_json_field_t admission_fields[] = {
    {"ids", 0, LC_JSON_ARRAY, LC_JSON_OPTIONAL},
    {"all", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"admit_all", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* POST /api/admin/webinars/{id}/admission {"ids": [...]} | {"all": true}, and/or
 * {"admit_all": bool} ("everyone from now on"). Answers {"admitted": n, "admit_all"}. */
int lc_api_admin_admit(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (lc_api_load_webinar(req, &w, &rc) < 0)
        return rc;
    json_t *body = lc_req_json(req, admission_fields, &rc);
    if (!body)
        return rc;
    json_t *list = json_object_get(body, "ids"), *flag = json_object_get(body, "admit_all");
    bool all = json_is_true(json_object_get(body, "all"));
    int64_t *ids = NULL;
    size_t n = 0;
    if (!list && !all && !flag) {
        json_decref(body);
        return lc_reply_error_with(req, 422, "missing_field", "ids",
                                   "ids: give ids, \"all\": true or \"admit_all\"", NULL);
    }
    if (list && read_ids(req, list, &ids, &n, &rc) < 0) {
        json_decref(body);
        return rc;
    }
    int64_t now = lc_now_real_ms();
    if (all) {
        free(ids);
        ids = NULL;
        rc = lc_lobby_present(app->lobby, w.id, now, &ids, &n);
    }
    int changed = 0;
    if (rc == 0 && n)
        rc = lc_db_reg_admit(app->db, w.id, ids, n, now, &changed);
    if (rc == 0 && flag)
        rc = lc_db_webinar_set_admit_all(app->db, w.id, json_is_true(flag));
    for (size_t i = 0; rc == 0 && i < n; i++)
        lc_lobby_leave(app->lobby, ids[i]);
    if (rc == 0 && flag) /* everyone's state may change */
        lc_lobby_wake(app->lobby, w.id);
    else if (rc == 0)
        lc_lobby_wake_some(app->lobby, w.id, ids, n);
    free(ids);
    json_decref(body);
    if (rc < 0)
        return rc;
    if (changed)
        lc_api_audit(req, "admit", w.id, NULL, changed);
    bool admit_all = flag ? json_is_true(flag) : w.admit_all;
    LC_INFO("api", "webinar %lld: %d attendees admitted by organiser %lld%s", (long long)w.id,
            changed, (long long)lc_req_session(req)->user_id,
            flag ? (admit_all ? "; everyone from now on" : "; admitting one by one") : "");
    return lc_reply_json(req, MHD_HTTP_OK,
                         json_pack("{s:i,s:b}", "admitted", changed, "admit_all", admit_all));
}
