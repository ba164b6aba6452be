/* Data-subject requests (GDPR Art. 15 access, Art. 17 erasure) and the audit log's listing.
 * The person is named by the request body (POST: an address never appears in a URL, a proxy's
 * log or the browser's history) and, in the audit log and our logs, never by the address: the
 * audit log keeps an HMAC of it, our log lines only counts. */
#include "api/leads.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/registration.h"
#include "auth/auth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/interaction.h"
#include "db/leads.h"

int lc_api_subject_hmac(lc_db_t *db, const char *email, char out[LC_SUBJECT_HEX])
{
    uint8_t key[64], mac[EVP_MAX_MD_SIZE];
    char lower[LC_DB_EMAIL_MAX];
    size_t klen = 0, n = strlen(email);
    unsigned mlen = 0;
    if (n >= sizeof lower)
        return -EINVAL;
    int rc = lc_db_secret_get(db, "audit_hmac", key, sizeof key, &klen);
    if (rc < 0) {
        LC_ERROR("api", "the audit log's key is missing: %s", lc_strerror(rc));
        return rc;
    }
    /* Addresses are ASCII (auth.h's rules) and the same whatever the case of their letters. */
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    if (!HMAC(EVP_sha256(), key, (int)klen, (const uint8_t *)lower, n, mac, &mlen) || mlen != 32)
        rc = -EIO;
    for (unsigned i = 0; rc == 0 && i < mlen; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(lower, sizeof lower);
    return rc;
}

static const lc_json_field_t subject_fields[] = {
    {"email", 254, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* The request's address and its HMAC: 0, or a reply was queued / a failure (*rc). The address
 * is copied to email[LC_DB_EMAIL_MAX]. */
static int read_subject(lc_req_t *req, char *email, char subject[LC_SUBJECT_HEX], int *rc)
{
    json_t *body = lc_req_json(req, subject_fields, rc);
    if (!body)
        return -EINVAL;
    const char *given = json_string_value(json_object_get(body, "email"));
    int r = lc_email_valid(given) ? lc_fmt(email, LC_DB_EMAIL_MAX, "%s", given) : -EINVAL;
    json_decref(body);
    if (r < 0) {
        *rc = lc_reply_error_with(req, 422, "invalid_field", "email",
                                  "email: not a valid email address", NULL);
        return r;
    }
    if ((r = lc_api_subject_hmac(lc_req_app(req)->db, email, subject)) < 0)
        *rc = r;
    return r;
}

/* ---- access ---------------------------------------------------------------------------------- */

typedef struct {
    json_t *list;
    size_t at; /* the registration the next stretches belong to (both lists are in id order) */
    bool failed;
} access_acc_t;

static int add_subject_reg(void *opaque, const lc_subject_reg_t *r)
{
    access_acc_t *a = opaque;
    json_t *j = lc_api_registration_json(&r->reg);
    json_t *more = json_pack("{s:{s:I,s:s,s:s},s:I,s:[]}", "webinar", "id",
                             (json_int_t)r->reg.webinar_id, "slug",
                             r->webinar_slug ? r->webinar_slug : "", "title",
                             r->webinar_title ? r->webinar_title : "", "join_links",
                             (json_int_t)r->join_links, "attendance_stretches");
    a->failed = !j || !more || json_object_update(j, more) < 0 ||
                json_array_append(a->list, j) < 0;
    json_decref(j);
    json_decref(more);
    return a->failed;
}

static int add_stretch(void *opaque, const lc_attendance_t *s)
{
    access_acc_t *a = opaque;
    json_t *reg;
    while ((reg = json_array_get(a->list, a->at)) &&
           json_integer_value(json_object_get(reg, "id")) != s->registration_id)
        a->at++;
    char joined[25], seen[25];
    json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "mode", s->replay ? "replay" : "live",
                          "joined_at", lc_iso8601(s->joined_at_ms, joined), "last_seen_at",
                          lc_iso8601(s->last_seen_ms, seen), "seconds", (json_int_t)s->seconds);
    a->failed = !reg || !j ||
                json_array_append_new(json_object_get(reg, "attendance_stretches"), j) < 0;
    if (!reg)
        json_decref(j);
    return a->failed;
}

/* POST /api/admin/data-subject/access {"email"} */
int lc_api_admin_subject_access(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    char email[LC_DB_EMAIL_MAX], subject[LC_SUBJECT_HEX], now[25];
    int rc = 0;
    if (read_subject(req, email, subject, &rc) < 0)
        return rc;
    access_acc_t a = {.list = json_array()};
    if (!a.list)
        return -ENOMEM;
    rc = lc_db_subject_list(app->db, email, add_subject_reg, add_stretch, &a);
    if (rc < 0 || a.failed) {
        json_decref(a.list);
        return rc < 0 ? rc : -ENOMEM;
    }
    size_t n = json_array_size(a.list), i;
    json_t *reg;
    json_array_foreach(a.list, i, reg) {
        json_t *live = NULL;
        if ((rc = lc_db_subject_interaction(app->db, json_integer_value(json_object_get(reg, "id")),
                                            &live)) < 0) {
            json_decref(a.list);
            return rc;
        }
        json_object_set_new(reg, "live_interaction", live);
    }
    lc_api_audit(req, "subject_access", 0, subject, (int64_t)n);
    LC_INFO("api", "data-subject access: %zu registrations, by organiser %lld", n,
            (long long)lc_req_session(req)->user_id);
    json_t *body = json_pack("{s:s,s:s,s:s,s:o}", "email", email, "subject", subject,
                             "generated_at", lc_iso8601(lc_now_real_ms(), now), "registrations",
                             a.list);
    return body ? lc_reply_json(req, MHD_HTTP_OK, body) : -ENOMEM;
}

/* ---- erasure --------------------------------------------------------------------------------- */

/* POST /api/admin/data-subject/erasure {"email"} */
int lc_api_admin_subject_erasure(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    char email[LC_DB_EMAIL_MAX], subject[LC_SUBJECT_HEX];
    lc_erased_t e;
    int rc = 0;
    if (read_subject(req, email, subject, &rc) < 0)
        return rc;
    if ((rc = lc_db_subject_erase(app->db, email, &e)) < 0)
        return rc;
    /* Also when nothing was found: "was my erasure done?" can then be answered. */
    lc_api_audit(req, "subject_erasure", 0, subject, e.registrations);
    LC_INFO("api", "data-subject erasure: %lld registrations of %lld webinars deleted, by "
                   "organiser %lld",
            (long long)e.registrations, (long long)e.webinars,
            (long long)lc_req_session(req)->user_id);
    return lc_reply_json(req, MHD_HTTP_OK,
                         json_pack("{s:s,s:{s:I,s:I,s:I,s:I}}", "subject", subject, "erased",
                                   "registrations", (json_int_t)e.registrations, "webinars",
                                   (json_int_t)e.webinars, "join_links",
                                   (json_int_t)e.join_links, "attendance_stretches",
                                   (json_int_t)e.attendance));
}

/* ---- the audit log --------------------------------------------------------------------------- */

typedef struct {
    json_t *list;
    int64_t last_id;
    bool failed;
} audit_acc_t;

static json_t *id_or_null(int64_t id) { return id > 0 ? json_integer(id) : json_null(); }

static int add_audit(void *opaque, const lc_audit_row_t *r)
{
    audit_acc_t *a = opaque;
    const lc_audit_entry_t *e = &r->e;
    char at[25];
    /* No user: the server itself (retention). */
    json_t *user = e->user_id > 0 || e->user_email
                       ? json_pack("{s:o,s:o}", "id", id_or_null(e->user_id), "email",
                                   e->user_email ? json_string(e->user_email) : json_null())
                       : json_null();
    json_t *j = json_pack("{s:I,s:s,s:o,s:s,s:o,s:o,s:I}", "id", (json_int_t)r->id, "at",
                          lc_iso8601(e->at_ms, at), "user", user, "action", e->action,
                          "webinar_id", id_or_null(e->webinar_id), "subject",
                          e->subject ? json_string(e->subject) : json_null(), "records",
                          (json_int_t)e->records);
    a->failed = !j || json_array_append_new(a->list, j) < 0;
    a->last_id = r->id;
    return a->failed;
}

/* GET /api/admin/audit?before=&after=&limit= */
int lc_api_admin_audit_list(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    int64_t before = 0, after = -1, limit = LC_API_LIST_LIMIT;
    int rc = 0;
    if (lc_api_query_int(req, "before", 1, INT64_MAX, "before: an audit entry id", &before,
                         &rc) < 0 ||
        lc_api_query_int(req, "after", 0, INT64_MAX, "after: an audit entry id", &after, &rc) <
            0 ||
        lc_api_query_int(req, "limit", 1, LC_API_LIST_LIMIT_MAX, "limit: 1 to 1000", &limit,
                         &rc) < 0)
        return rc;
    if (before && after >= 0)
        return lc_reply_error_with(req, MHD_HTTP_BAD_REQUEST, "invalid_query", "after",
                                   "after: not together with before", NULL);
    audit_acc_t a = {.list = json_array()};
    if (!a.list)
        return -ENOMEM;
    rc = lc_db_audit_list(app->db, before, after, (int)limit, add_audit, &a);
    if (rc < 0 || a.failed) {
        json_decref(a.list);
        return rc < 0 ? rc : -ENOMEM;
    }
    bool full = json_array_size(a.list) == (size_t)limit;
    json_t *body = json_pack("{s:o,s:o}", "entries", a.list, "next",
                             full ? json_integer(a.last_id) : json_null());
    return body ? lc_reply_json(req, MHD_HTTP_OK, body) : -ENOMEM;
}
