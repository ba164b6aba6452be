/* The webinars as organisers manage them: list, create, read, partial update, delete, new
 * stream key. Every organiser of the server sees and edits every webinar (one organisation per
 * server). Bodies are checked whole before anything is written; logs name webinars and
 * organisers by id only. */
#include "api/webinars.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "api/room.h"
#include "api/webinar_input.h"
#include "auth/password.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "live/live.h"
#include "recorder/recorder.h"

static int reply_not_found(lc_req_t *req)
{
    return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
}

static int reply_body_error(lc_req_t *req, const lc_body_error_t *err)
{
    return lc_reply_error_with(req, err->status, err->code, err->field, err->message, NULL);
}

/* The webinar named by the URL's id: 0 and *w, or an error already answered (*rc). */
static int load(lc_req_t *req, lc_webinar_t *w, int *rc)
{
    int64_t id;
    if (lc_parse_int64(lc_req_param(req, 0), 1, INT64_MAX, &id) < 0) {
        *rc = reply_not_found(req);
        return -1;
    }
    int r = lc_db_webinar_get(lc_req_app(req)->db, id, w);
    if (r < 0) {
        *rc = r == LC_ENOTFOUND ? reply_not_found(req) : r;
        return -1;
    }
    return 0;
}

/* Replies with the webinar as organisers see it, plus the stream key when one was just made. */
static int reply_webinar(lc_req_t *req, unsigned status, int64_t id, const char *key)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = lc_db_webinar_get(app->db, id, &w);
    if (rc < 0)
        return rc;
    json_t *body = lc_api_webinar_json(app, &w, "", NULL, true);
    if (!body || (key && json_object_set_new(body, "stream_key", json_string(key)) < 0)) {
        json_decref(body);
        return -ENOMEM;
    }
    return lc_reply_json(req, status, body);
}

/* The room password's hash for the row: a new one (SET), none (CLEAR), or the stored one. */
static int room_hash(const lc_webinar_input_t *in, const char *stored,
                     char out[LC_PASSWORD_HASH_MAX], const char **hash)
{
    switch (in->room_password_op) {
    case LC_ROOM_PASSWORD_SET: {
        int rc = lc_password_hash(in->room_password, strlen(in->room_password), &LC_SCRYPT_ROOM,
                                  out);
        *hash = rc == 0 ? out : NULL;
        return rc;
    }
    case LC_ROOM_PASSWORD_CLEAR: *hash = NULL; return 0;
    case LC_ROOM_PASSWORD_KEEP: *hash = stored; return 0;
    }
    return -EINVAL;
}

int lc_api_admin_webinar_list(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t *items = NULL;
    size_t n = 0;
    int rc = lc_api_webinars_collect(app->db, &items, &n);
    if (rc < 0)
        return rc;
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        json_t *j = lc_api_webinar_json(app, &items[i], "", NULL, true);
        if (!j || json_array_append_new(list, j) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    free(items);
    json_t *body = list ? json_pack("{s:o}", "webinars", list) : NULL;
    return body ? lc_reply_json(req, MHD_HTTP_OK, body) : -ENOMEM;
}

int lc_api_admin_webinar_create(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    int rc = 0;
    json_t *body = lc_req_json(req, lc_webinar_fields, &rc);
    if (!body)
        return rc;
    lc_webinar_input_t in;
    lc_body_error_t err;
    char hash_buf[LC_PASSWORD_HASH_MAX], key[LC_STREAM_KEY_SIZE];
    const char *hash = NULL;
    int64_t id = 0;
    lc_webinar_input_defaults(&in);
    if (!json_object_get(body, "title")) {
        rc = lc_reply_error_with(req, 422, "missing_field", "title", "title: required", NULL);
        goto out;
    }
    if ((rc = lc_webinar_input_apply(&in, body, &err)) == -EINVAL) {
        rc = reply_body_error(req, &err);
        goto out;
    }
    if (rc < 0 || (rc = room_hash(&in, NULL, hash_buf, &hash)) < 0)
        goto out;
    lc_webinar_row_t row = lc_webinar_input_row(&in, hash);
    int64_t by = lc_req_session(req)->user_id;
    if ((rc = lc_app_create_webinar(app->db, &row, NULL, by, &id, key)) < 0)
        goto out;
    LC_INFO("api", "webinar %lld created by organiser %lld", (long long)id, (long long)by);
    rc = reply_webinar(req, MHD_HTTP_CREATED, id, key);
out:
    OPENSSL_cleanse(key, sizeof key);
    lc_webinar_input_clear(&in);
    json_decref(body);
    return rc;
}

int lc_api_admin_webinar_get(lc_req_t *req)
{
    lc_webinar_t w;
    int rc = 0;
    if (load(req, &w, &rc) < 0)
        return rc;
    return reply_webinar(req, MHD_HTTP_OK, w.id, NULL);
}

/* PATCH: the stored webinar, the body's members applied to a copy, every rule checked, then one
 * UPDATE of the whole row that only succeeds if nobody changed the webinar since it was read. */
int lc_api_admin_webinar_update(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (load(req, &w, &rc) < 0)
        return rc;
    json_t *body = lc_req_json(req, lc_webinar_fields, &rc);
    if (!body)
        return rc;
    lc_webinar_texts_t texts = {0};
    lc_webinar_input_t in = {0};
    lc_body_error_t err;
    char hash_buf[LC_PASSWORD_HASH_MAX];
    const char *hash = NULL;
    if ((rc = lc_db_webinar_texts(app->db, w.id, &texts)) < 0 ||
        (rc = lc_webinar_input_from(&in, &w, &texts)) < 0)
        goto out;
    if ((rc = lc_webinar_input_apply(&in, body, &err)) == -EINVAL) {
        rc = reply_body_error(req, &err);
        goto out;
    }
    if (rc < 0 || (rc = room_hash(&in, texts.room_password_hash, hash_buf, &hash)) < 0)
        goto out;
    lc_webinar_row_t row = lc_webinar_input_row(&in, hash);
    int64_t now = lc_now_real_ms();
    rc = lc_db_webinar_update(app->db, w.id, &row, w.updated_at_ms,
                              now > w.updated_at_ms ? now : w.updated_at_ms + 1);
    if (rc == LC_ECONFLICT) {
        rc = lc_reply_error(req, MHD_HTTP_CONFLICT, "edit_conflict",
                            "the webinar was changed by someone else meanwhile; reload it");
        goto out;
    }
    if (rc == LC_ENOTFOUND) {
        rc = reply_not_found(req);
        goto out;
    }
    if (rc < 0)
        goto out;
    LC_INFO("api", "webinar %lld updated by organiser %lld", (long long)w.id,
            (long long)lc_req_session(req)->user_id);
    /* Open event streams learn the interaction settings at once. */
    lc_webinar_t after;
    if (lc_db_webinar_get(app->db, w.id, &after) == 0 &&
        (after.settings.questions_public != w.settings.questions_public ||
         after.settings.chat_enabled != w.settings.chat_enabled ||
         after.settings.hide_attendee_names != w.settings.hide_attendee_names))
        lc_room_publish_settings(app->room, &after);
    rc = reply_webinar(req, MHD_HTTP_OK, w.id, NULL);
out:
    lc_webinar_input_clear(&in);
    lc_webinar_texts_clear(&texts);
    json_decref(body);
    return rc;
}

static int reply_live(lc_req_t *req)
{
    return lc_reply_error(req, MHD_HTTP_CONFLICT, "live",
                          "the webinar is live; stop the stream before deleting it");
}

/* DELETE: refused while a stream runs or waits for its presenter to reconnect. The row goes
 * first (so its stream key stops working and no session can begin), then the recordings, on
 * the exporter's thread (lc_exporter_queue_removal). */
int lc_api_admin_webinar_delete(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    int rc = 0;
    if (load(req, &w, &rc) < 0)
        return rc;
    if (lc_live_state(app->live, w.id, NULL) != LC_LIVE_OFFLINE)
        return reply_live(req);
    lc_session_t *sessions = NULL;
    size_t n = 0;
    rc = lc_api_sessions_collect(app->db, w.id, &sessions, &n);
    if (rc == 0)
        rc = lc_db_webinar_delete(app->db, w.id);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            lc_exporter_queue_removal(app->exporter, sessions[i].id);
        LC_INFO("api", "webinar %lld deleted by organiser %lld (%zu recordings)",
                (long long)w.id, (long long)lc_req_session(req)->user_id, n);
        rc = lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
    } else if (rc == LC_ECONFLICT) {
        rc = reply_live(req);
    } else if (rc == LC_ENOTFOUND) {
        rc = reply_not_found(req);
    }
    free(sessions);
    return rc;
}

int lc_api_admin_webinar_rotate_key(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    char key[LC_STREAM_KEY_SIZE];
    int rc = 0;
    if (load(req, &w, &rc) < 0)
        return rc;
    rc = lc_app_rotate_key(app->db, w.id, key);
    if (rc == LC_ENOTFOUND)
        return reply_not_found(req);
    if (rc == 0) {
        LC_INFO("api", "webinar %lld: stream key replaced by organiser %lld", (long long)w.id,
                (long long)lc_req_session(req)->user_id);
        rc = reply_webinar(req, MHD_HTTP_OK, w.id, key);
    }
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}
