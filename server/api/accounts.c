/* Organiser accounts over HTTP. Login and setup need the KDF: the request is suspended while
 * the password worker runs, and the handler runs again to answer (see http.h, "waiting"). */
#include "api/accounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "auth/auth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "http/cookie.h"

/* How long a request waits for the password worker before it is told to try again. */
#define KDF_WAIT_MS 30000

static const lc_json_field_t login_fields[] = {
    {"email", 254, LC_JSON_STRING, 0},
    {"password", LC_PASSWORD_MAX, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

static const lc_json_field_t setup_fields[] = {
    {"token", 128, LC_JSON_STRING, 0},
    {"email", 254, LC_JSON_STRING, 0},
    {"password", LC_PASSWORD_MAX, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

static json_t *me_json(int64_t user_id, const char *email, const char *csrf)
{
    return json_pack("{s:{s:I,s:s},s:s}", "user", "id", (json_int_t)user_id, "email", email,
                     "csrf_token", csrf);
}

static int reply_retry(lc_req_t *req, unsigned status, const char *code, const char *message,
                       int64_t retry_after_ms)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (long long)((retry_after_ms + 999) / 1000));
    const char *hdr[] = {"Retry-After", secs, NULL};
    return lc_reply_error_with(req, status, code, NULL, message, hdr);
}

/* The answers for what lc_auth_* refuse; anything else is an internal error. */
static int reply_refusal(lc_req_t *req, int rc)
{
    switch (rc) {
    case LC_EDENIED:
        return lc_reply_error(req, MHD_HTTP_UNAUTHORIZED, "invalid_credentials",
                              "wrong email or password");
    case LC_ENOTFOUND:
        return lc_reply_error(req, MHD_HTTP_FORBIDDEN, "invalid_setup_token",
                              "this setup link is unknown, used or expired");
    case LC_ECONFLICT:
        return lc_reply_error(req, MHD_HTTP_CONFLICT, "setup_closed",
                              "an organiser account exists already: log in instead");
    case LC_ELIMIT:
        return reply_retry(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                           "too many password checks at once; try again in a moment", 2000);
    default:
        return rc < 0 ? rc : -EIO;
    }
}

static int reply_field(lc_req_t *req, const char *field, const char *message)
{
    char text[160];
    snprintf(text, sizeof text, "%s: %s", field, message);
    return lc_reply_error_with(req, 422, "invalid_field", field, text, NULL);
}

/* A new session for the account: its cookie and CSRF token. */
static int reply_logged_in(lc_req_t *req, int64_t user_id, unsigned status)
{
    lc_app_t *app = lc_req_app(req);
    char token[LC_TOKEN_LEN + 1], csrf[LC_TOKEN_LEN + 1], cookie[192];
    lc_user_t u;
    int rc = lc_db_user_get(app->db, user_id, &u);
    if (rc == 0)
        rc = lc_auth_session_new(app->auth, user_id, lc_now_real_ms(), token, csrf);
    if (rc == 0)
        rc = lc_cookie_format(cookie, sizeof cookie, LC_SESSION_COOKIE, token,
                              lc_auth_config(app->auth)->session_lifetime_ms / 1000,
                              lc_req_secure(req));
    if (rc == 0) {
        const char *hdr[] = {MHD_HTTP_HEADER_SET_COOKIE, cookie, NULL};
        rc = lc_reply_json_with(req, status, me_json(u.id, u.email, csrf), hdr);
    }
    OPENSSL_cleanse(token, sizeof token);
    OPENSSL_cleanse(cookie, sizeof cookie);
    return rc;
}

static void wake(void *opaque) { lc_req_wake(opaque); }
static void op_cancel(void *opaque) { lc_auth_op_cancel(opaque); }

static void op_free(void *opaque)
{
    lc_auth_op_t *op = opaque;
    lc_auth_op_free(&op);
}

/* Validates the request and starts the operation; NULL after replying (*rc). */
typedef lc_auth_op_t *(*start_fn)(lc_req_t *req, json_t *body, int *rc);

static const char *str(json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name));
}

static lc_auth_op_t *start_login(lc_req_t *req, json_t *body, int *rc)
{
    lc_app_t *app = lc_req_app(req);
    const char *email = str(body, "email");
    json_t *pw = json_object_get(body, "password");
    if (!lc_email_valid(email)) {
        *rc = reply_field(req, "email", "not a valid email address");
        return NULL;
    }
    int64_t retry = 0;
    int err = 0;
    lc_auth_op_t *op = lc_auth_login_start(app->auth, email, json_string_value(pw),
                                           json_string_length(pw), lc_now_real_ms(), wake, req,
                                           &retry, &err);
    if (!op)
        *rc = retry > 0 ? reply_retry(req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_attempts",
                                      "too many login attempts for this account; wait and try "
                                      "again", retry)
                        : reply_refusal(req, err);
    return op;
}

static lc_auth_op_t *start_setup(lc_req_t *req, json_t *body, int *rc)
{
    lc_app_t *app = lc_req_app(req);
    const char *token = str(body, "token"), *email = str(body, "email");
    json_t *pw = json_object_get(body, "password");
    const char *field = NULL, *why = NULL;
    if (!lc_token_wellformed(token))
        field = "token", why = "not a setup token (the last part of the setup link)";
    else if (!lc_email_valid(email))
        field = "email", why = "not a valid email address";
    else if ((why = lc_password_rule_broken(json_string_value(pw), json_string_length(pw))))
        field = "password";
    if (field) {
        *rc = reply_field(req, field, why);
        return NULL;
    }
    int err = 0;
    lc_auth_op_t *op = lc_auth_setup_start(app->auth, token, email, json_string_value(pw),
                                           json_string_length(pw), lc_now_real_ms(), wake, req,
                                           &err);
    if (!op)
        *rc = reply_refusal(req, err);
    return op;
}

/* Login and setup: parse, start, wait for the worker, answer with a new session. */
static int credential_request(lc_req_t *req, const lc_json_field_t *fields, start_fn start,
                              unsigned ok_status)
{
    lc_app_t *app = lc_req_app(req);
    lc_auth_op_t *op = lc_req_state(req);
    int rc = 0;
    if (!op) {
        json_t *body = lc_req_json(req, fields, &rc);
        if (!body)
            return rc;
        /* A wake that comes before the suspension below must not be lost. */
        lc_req_prepare_wait(req);
        op = start(req, body, &rc);
        json_decref(body);
        if (!op)
            return rc;
        lc_req_on_done(req, op_free, op);
        return lc_req_suspend(req, KDF_WAIT_MS, op_cancel, op);
    }
    if (lc_req_woken(req) == LC_WAKE_TIMEOUT)
        return reply_retry(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                           "the server is busy checking passwords; try again", 5000);
    int64_t user_id = 0;
    rc = lc_auth_op_finish(app->auth, op, lc_now_real_ms(), &user_id);
    return rc == 0 ? reply_logged_in(req, user_id, ok_status) : reply_refusal(req, rc);
}

int lc_api_login(lc_req_t *req)
{
    return credential_request(req, login_fields, start_login, MHD_HTTP_OK);
}

int lc_api_setup(lc_req_t *req)
{
    return credential_request(req, setup_fields, start_setup, MHD_HTTP_CREATED);
}

int lc_api_logout(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const lc_auth_session_t *s = lc_req_session(req);
    int rc = lc_auth_session_end(app->auth, lc_req_session_token(req));
    if (rc < 0 && rc != LC_ENOTFOUND)
        return rc;
    LC_INFO("auth", "organiser %lld logged out", (long long)s->user_id);
    char cookie[128];
    if ((rc = lc_cookie_format(cookie, sizeof cookie, LC_SESSION_COOKIE, "", 0,
                               lc_req_secure(req))) < 0)
        return rc;
    const char *hdr[] = {MHD_HTTP_HEADER_SET_COOKIE, cookie, NULL};
    return lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, hdr);
}

int lc_api_me(lc_req_t *req)
{
    const lc_auth_session_t *s = lc_req_session(req);
    return lc_reply_json(req, MHD_HTTP_OK, me_json(s->user_id, s->email, s->csrf_token));
}
