/* The webinar resource: its public description, state and recordings. */
#include "api/webinars.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/registration.h"
#include "core/error.h"
#include "core/util.h"
#include "live/live.h"
#include "recorder/recorder.h"

bool lc_slug_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return n >= 1 && n <= 63;
}

bool lc_media_key_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'f') || (c >= '0' && c <= '9')))
            return false;
    }
    return n == LC_DB_MEDIA_KEY_MAX - 1;
}

bool lc_media_key_matches(const char *stored, const char *given)
{
    size_t n = LC_DB_MEDIA_KEY_MAX - 1;
    return strlen(stored) == n && strlen(given) == n && lc_ct_equal(stored, given, n);
}

bool lc_webinar_live_is_public(const lc_webinar_t *w)
{
    return w->settings.public_access && !w->has_room_password;
}

bool lc_webinar_replay_is_public(const lc_webinar_t *w)
{
    const lc_webinar_settings_t *k = &w->settings;
    return k->replay_enabled && (k->public_access || !k->replay_requires_registration) &&
           !w->has_room_password;
}

static json_t *url(const char *base, const char *fmt_path)
{
    json_t *j = json_sprintf("%s%s", base, fmt_path);
    return j;
}

/* Adds the members of `more` (a new reference, taken; NULL: out of memory) to `o`. */
static int merge(json_t *o, json_t *more)
{
    int rc = more && json_object_update(o, more) == 0 ? 0 : -ENOMEM;
    json_decref(more);
    return rc;
}

/* base + "/{kind}/{key}/{session}{tail}": a media URL of one session, or null when it is not to
 * be given. */
static json_t *session_url(bool give, const char *base, const char *kind, const char *key,
                           int64_t session_id, const char *tail)
{
    char path[160];
    if (!give)
        return json_null();
    if (lc_fmt(path, sizeof path, "/%s/%s/%lld%s", kind, key, (long long)session_id, tail) < 0)
        return NULL;
    return url(base, path);
}

static json_t *iso_or_null(int64_t ms)
{
    char buf[25];
    return ms ? json_string(lc_iso8601(ms, buf)) : json_null();
}

/* Rows are copied out of a listing first: describing a row looks at the database again or at
 * files on disk, which must not happen while the database mutex is held. */
typedef struct {
    void *items;
    size_t n, cap;
    bool failed;
} row_vec_t;

static int push_row(row_vec_t *v, const void *row, size_t size)
{
    v->failed = lc_vec_push(&v->items, &v->n, &v->cap, row, size) < 0;
    return v->failed;
}

static int collect_session(void *opaque, const lc_session_t *s)
{
    return push_row(opaque, s, sizeof *s);
}

static int collect_webinar(void *opaque, const lc_webinar_t *w)
{
    return push_row(opaque, w, sizeof *w);
}

/* Hands the rows of a finished listing to the caller, or frees them on failure. */
static int take_rows(row_vec_t *v, int rc, void *items, size_t *n)
{
    if (rc == 0 && v->failed)
        rc = -ENOMEM;
    if (rc < 0) {
        free(v->items);
        return rc;
    }
    *(void **)items = v->items;
    *n = v->n;
    return 0;
}

int lc_api_sessions_collect(lc_db_t *db, int64_t webinar_id, lc_session_t **items, size_t *n)
{
    row_vec_t v = {0};
    return take_rows(&v, lc_db_session_list(db, webinar_id, collect_session, &v), items, n);
}

int lc_api_webinars_collect(lc_db_t *db, lc_webinar_t **items, size_t *n)
{
    row_vec_t v = {0};
    return take_rows(&v, lc_db_webinar_list(db, collect_webinar, &v), items, n);
}

/* One session as JSON: times, duration, and (when `replay`) the replay and download URLs once
 * they exist. */
static json_t *session_json(lc_app_t *app, const lc_webinar_t *w, const lc_session_t *s,
                            const char *base, bool replay)
{
    json_t *o = json_pack("{s:I,s:s,s:o,s:o,s:o,s:b}", "id", (json_int_t)s->id, "state",
                          s->live ? "live" : "ended", "started_at", iso_or_null(s->started_at_ms),
                          "ended_at", iso_or_null(s->ended_at_ms), "duration_s",
                          s->live ? json_null() : json_real((double)s->duration_ms / 1000.0),
                          "recovered", s->recovered);
    if (!o)
        return NULL;
    const char *key = w->replay_key;
    bool playable = replay && lc_recording_has_replay(app->recordings_dir, s->id);
    bool download = replay && !s->live && lc_recording_has_download(app->recordings_dir, s->id);
    if (merge(o, json_pack("{s:o,s:o,s:o}", "replay_url",
                           session_url(playable, base, "vod", key, s->id, "/index.m3u8"),
                           "replay_page_url", session_url(playable, base, "replay", key, s->id, ""),
                           "download_url",
                           session_url(download, base, "vod", key, s->id, "/download.mp4"))) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *time_or_null(int64_t ms)
{
    char buf[25];
    return ms == LC_DB_NO_TIME ? json_null() : json_string(lc_iso8601(ms, buf));
}

static json_t *int_or_null(int64_t v) { return v > 0 ? json_integer(v) : json_null(); }

/* What anyone with the link may know about a webinar (its page shows these). */
static int add_public_facts(lc_app_t *app, json_t *o, const lc_webinar_t *w,
                            const lc_webinar_texts_t *t)
{
    const lc_webinar_settings_t *k = &w->settings;
    json_t *presenters = json_loads(t->presenters_json, JSON_DECODE_ANY, NULL);
    if (!json_is_array(presenters)) {
        json_decref(presenters);
        return -EIO; /* the schema only lets arrays in */
    }
    json_t *form = json_loads(t->form_fields_json, JSON_DECODE_ANY, NULL);
    if (!json_is_array(form)) {
        json_decref(presenters);
        json_decref(form);
        return -EIO;
    }
    /* The organiser's notice, else the operator's (--privacy-notice), else the built-in one. */
    const char *notice = t->privacy_notice   ? t->privacy_notice
                         : app->privacy_notice ? app->privacy_notice
                                               : lc_default_privacy_notice;
    json_t *reg = json_pack("{s:o,s:s,s:s,s:s,s:b}", "fields", form, "privacy_notice", notice,
                            "consent_text",
                            t->consent_text ? t->consent_text : lc_default_consent_text,
                            "consent_version", k->consent_version, "approval", k->approval);
    if (!reg) {
        json_decref(presenters);
        return -ENOMEM;
    }
    /* The server's own texts exist in English and German; the page shows the viewer's. */
    if (notice == lc_default_privacy_notice)
        json_object_set_new(reg, "privacy_notice_i18n",
                            json_pack("{s:s,s:s}", "en", lc_default_privacy_notice, "de",
                                      lc_default_privacy_notice_de));
    if (!t->consent_text)
        json_object_set_new(reg, "consent_text_i18n",
                            json_pack("{s:s,s:s}", "en", lc_default_consent_text, "de",
                                      lc_default_consent_text_de));
    return merge(o, json_pack(
        "{s:s,s:o,s:i,s:o,s:b,s:s,s:b,s:b,s:b,s:o}", "description", t->description, "starts_at",
        time_or_null(k->starts_at_ms), "duration_s", (int)k->duration_s, "presenters",
        presenters, "on_demand", k->on_demand, "access",
        k->public_access ? "public" : "registration", "password_required", w->has_room_password,
        "waiting_room", k->waiting_room, "replay_enabled", k->replay_enabled, "registration",
        reg));
}

/* What only organisers see. Never a hash or a key. */
static int add_settings(json_t *o, const lc_webinar_t *w, const lc_webinar_texts_t *t)
{
    const lc_webinar_settings_t *k = &w->settings;
    json_t *form = json_loads(t->form_fields_json, JSON_DECODE_ANY, NULL);
    return merge(o, json_pack(
        "{s:o,s:o,s:o,s:s,s:b,s:b,s:b,s:b,s:b,s:b,s:i,s:o,s:o,s:o}", "form_fields",
        form ? form : json_array(), "privacy_notice",
        t->privacy_notice ? json_string(t->privacy_notice) : json_null(), "consent_text",
        t->consent_text ? json_string(t->consent_text) : json_null(), "consent_version",
        k->consent_version, "admit_all", w->admit_all, "approval", k->approval, "hide_attendee_names",
        k->hide_attendee_names, "questions_public", k->questions_public, "chat_enabled",
        k->chat_enabled, "replay_requires_registration", k->replay_requires_registration,
        "retention_days", (int)k->retention_days, "recording_retention_days",
        int_or_null(k->recording_retention_days), "updated_at", iso_or_null(w->updated_at_ms),
        "created_by", int_or_null(w->created_by)));
}

json_t *lc_api_media_urls(lc_app_t *app, const lc_webinar_t *w, const char *base, bool live,
                          bool replay)
{
    char path[96];
    json_t *hls = json_null();
    if (live && (lc_fmt(path, sizeof path, "/live/%s/master.m3u8", w->live_key) < 0 ||
                 !(hls = url(base, path))))
        return NULL;
    lc_session_t *items = NULL;
    size_t n = 0;
    json_t *o = json_object();
    json_t *list = json_array();
    /* json_object_set_new takes each reference, also when it fails. */
    int rc = json_object_set_new(o, "hls_url", hls) < 0 ? -ENOMEM : 0;
    if (json_object_set_new(o, "sessions", list) < 0)
        rc = -ENOMEM;
    if (rc == 0)
        rc = lc_api_sessions_collect(app->db, w->id, &items, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *so = session_json(app, w, &items[i], base, replay);
        if (!so || json_array_append_new(list, so) < 0)
            rc = -ENOMEM;
    }
    free(items);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *lc_api_webinar_json(lc_app_t *app, const lc_webinar_t *w, const char *base,
                            const char *live_state, bool with_settings)
{
    char path[96];
    lc_webinar_texts_t texts;
    if (lc_db_webinar_texts(app->db, w->id, &texts) < 0)
        return NULL;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:o}", "id", (json_int_t)w->id, "slug", w->slug,
                          "title", w->title, "state", lc_webinar_state_name(w->state),
                          "created_at", iso_or_null(w->created_at_ms));
    if (o && (add_public_facts(app, o, w, &texts) < 0 || (with_settings && add_settings(o, w, &texts) < 0))) {
        json_decref(o);
        o = NULL;
    }
    lc_webinar_texts_clear(&texts);
    if (!o)
        return NULL;
    snprintf(path, sizeof path, "/watch/%s", w->slug);
    json_object_set_new(o, "watch_url", url(base, path));
    json_object_set_new(o, "rtmp_url", json_string(app->cfg.rtmp_url));
    if (live_state)
        json_object_set_new(o, "live", json_string(live_state));
    /* Organisers get every URL; everyone else what the webinar's settings open to anyone. */
    bool live = with_settings || lc_webinar_live_is_public(w);
    bool replay = with_settings || lc_webinar_replay_is_public(w);
    if (merge(o, lc_api_media_urls(app, w, base, live, replay)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int lc_api_webinar_get(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const char *slug = lc_req_param(req, 0);
    lc_webinar_t w;
    if (!lc_slug_valid(slug))
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
    int rc = lc_db_webinar_by_slug(app->db, slug, &w);
    if (rc == LC_ENOTFOUND)
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
    if (rc < 0)
        return rc;
    const char *live = NULL;
    switch (lc_live_state(app->live, w.id, NULL)) {
    case LC_LIVE_RUNNING: live = "running"; break;
    case LC_LIVE_GRACE: live = "reconnecting"; break;
    case LC_LIVE_OFFLINE: live = "offline"; break;
    }
    json_t *body = lc_api_webinar_json(app, &w, "", live, false);
    if (!body)
        return -ENOMEM;
    /* A stream that has just gone live has no playlist until its first segment is complete:
     * players wait for this instead of meeting a 404. */
    lc_window_t *win = lc_live_window(app->live, w.live_key);
    lc_buf_t *master = win ? lc_window_master_playlist(win) : NULL;
    json_object_set_new(body, "playable", json_boolean(master && !lc_window_ended(win)));
    lc_buf_unref(master);
    lc_window_unref(win);
    return lc_reply_json(req, MHD_HTTP_OK, body);
}

/* Answers one session with its webinar's slug, title and watch URL; the replay URLs when
 * `replay_key` is the webinar's (the replay page's question), else as the public view has them.
 * A key that does not match is a 404, like an unknown session. */
static int reply_session(lc_req_t *req, const char *id_text, const char *replay_key)
{
    lc_app_t *app = lc_req_app(req);
    int64_t id;
    lc_session_t s;
    lc_webinar_t w;
    if (lc_parse_int64(id_text, 1, INT64_MAX, &id) < 0 ||
        (replay_key && !lc_media_key_valid(replay_key)))
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such session");
    int rc = lc_db_session_get_with_webinar(app->db, id, &s, &w);
    if (rc == 0 && replay_key && !lc_media_key_matches(w.replay_key, replay_key))
        rc = LC_ENOTFOUND;
    if (rc == LC_ENOTFOUND)
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such session");
    if (rc < 0)
        return rc;
    json_t *body = session_json(app, &w, &s, "", replay_key || lc_webinar_replay_is_public(&w));
    char path[96];
    snprintf(path, sizeof path, "/watch/%s", w.slug);
    if (!body || json_object_set_new(body, "webinar",
                                     json_pack("{s:s,s:s,s:o}", "slug", w.slug, "title", w.title,
                                               "watch_url", url("", path))) < 0) {
        json_decref(body);
        return -ENOMEM;
    }
    return lc_reply_json(req, MHD_HTTP_OK, body);
}

int lc_api_session_get(lc_req_t *req) { return reply_session(req, lc_req_param(req, 0), NULL); }

int lc_api_replay_get(lc_req_t *req)
{
    return reply_session(req, lc_req_param(req, 1), lc_req_param(req, 0));
}
