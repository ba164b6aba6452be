/* Registration and joining (api/registration.h). */
#include "api/registration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "api/ics.h"
#include "api/lobby.h"
#include "api/reg_cache.h"
#include "api/webinar_input.h"
#include "api/webinars.h"
#include "auth/auth.h"
#include "auth/kdf.h"
#include "auth/ratelimit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/registrations.h"
#include "db/writer.h"
#include "live/live.h"
#include "recorder/recorder.h"


const char lc_default_privacy_notice[] =
    "Who is responsible: the organisation that runs this webinar; ask it for its contact "
    "details and those of its data protection officer.\n"
    "What we store: your name, email address, your answers to this form, when you agreed, "
    "the campaign or page that brought you here, and when and how long you watched.\n"
    "Why: to let you take part in this webinar and its recording, and, where you agreed, to "
    "contact you about it (Art. 6(1)(a) and (b) GDPR).\n"
    "How long: until the retention period set for this webinar ends after it; then it is "
    "deleted.\n"
    "Your rights: access, correction, erasure, restriction, portability, objection, and "
    "complaint to a supervisory authority. Ask the organiser.\n"
    "No IP address is stored; nothing on this page is loaded from another site.";

const char lc_default_consent_text[] =
    "I agree that my details are stored and used for this webinar as described in the privacy "
    "notice. I can withdraw this at any time.";

const char lc_default_privacy_notice_de[] =
    "Verantwortlich: die Organisation, die dieses Webinar veranstaltet; sie nennt Ihnen auf "
    "Anfrage ihre Kontaktdaten und die ihres Datenschutzbeauftragten.\n"
    "Was wir speichern: Ihren Namen, Ihre E-Mail-Adresse, Ihre Antworten in diesem Formular, "
    "wann Sie eingewilligt haben, die Kampagne oder Seite, über die Sie kamen, und wann und wie "
    "lange Sie zugesehen haben.\n"
    "Wozu: damit Sie an diesem Webinar und seiner Aufzeichnung teilnehmen können und, soweit "
    "Sie eingewilligt haben, um Sie dazu zu kontaktieren (Art. 6 Abs. 1 lit. a und b DSGVO).\n"
    "Wie lange: bis die für dieses Webinar festgelegte Aufbewahrungsfrist nach dem Webinar "
    "endet; dann wird es gelöscht.\n"
    "Ihre Rechte: Auskunft, Berichtigung, Löschung, Einschränkung, Datenübertragbarkeit, "
    "Widerspruch und Beschwerde bei einer Aufsichtsbehörde. Wenden Sie sich an den "
    "Veranstalter.\n"
    "Es wird keine IP-Adresse gespeichert; nichts auf dieser Seite wird von einer anderen "
    "Website geladen.";

const char lc_default_consent_text_de[] =
    "Ich willige ein, dass meine Angaben wie in den Datenschutzhinweisen beschrieben für dieses "
    "Webinar gespeichert und verwendet werden. Ich kann dies jederzeit widerrufen.";

/* ---- handlers ---------------------------------------------------------------------------------
 * Everything an attendee does goes through the personal join link's token: registering makes
 * one (only its SHA-256 is stored), the join page reads the state behind it, waits on it,
 * gives the room password and sends heartbeats through it. Logs name registrations by id only. */

/* How long a registration waits for its group commit before the client is told to retry. */
#define WRITE_WAIT_MS 10000
/* How long the join page's request is held when nothing changes (below common proxy idle
 * timeouts of 30 to 60 s). */
#define JOIN_WAIT_MS 25000
#define STARTING_WAIT_MS 500
#define TEXT_ANSWER_CHARS 1000
#define UTM_CHARS 200
#define REFERRER_CHARS 2000

static const lc_json_field_t register_fields[] = {
    {"email", 254, LC_JSON_STRING, 0},
    {"name", 4 * 200, LC_JSON_STRING, 0},
    {"fields", 0, LC_JSON_OBJECT, LC_JSON_OPTIONAL},
    {"consent", 0, LC_JSON_BOOL, 0},
    {"consent_version", 4 * LC_CONSENT_VERSION_CHARS, LC_JSON_STRING, 0},
    {"utm_source", 4 * UTM_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"utm_medium", 4 * UTM_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"utm_campaign", 4 * UTM_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"referrer", 4 * REFERRER_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {NULL, 0, LC_JSON_STRING, 0},
};

static int reply_body_error(lc_req_t *req, const lc_body_error_t *err)
{
    return lc_reply_error_with(req, err->status, err->code, err->field, err->message, NULL);
}

static int reply_busy(lc_req_t *req, const char *message)
{
    const char *hdr[] = {"Retry-After", "2", NULL};
    return lc_reply_error_with(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", NULL, message, hdr);
}

/* The answer to one custom field, checked against its definition: 0 with *out (a new
 * reference, or NULL when left empty), or -EINVAL with *err naming "fields.<id>". */
static int check_answer(json_t *def, json_t *v, json_t **out, lc_body_error_t *err)
{
    const char *id = json_string_value(json_object_get(def, "id"));
    const char *type = json_string_value(json_object_get(def, "type"));
    bool required = json_is_true(json_object_get(def, "required"));
    char field[72];
    snprintf(field, sizeof field, "fields.%s", id);
    *out = NULL;
    if (strcmp(type, "checkbox") == 0) {
        if (v && !json_is_boolean(v))
            return lc_body_error_set(err, 422, "invalid_field", field, "%s: true or false",
                                     field);
        if (required && !json_is_true(v))
            return lc_body_error_set(err, 422, "missing_field", field, "%s: must be ticked",
                                     field);
        *out = json_boolean(json_is_true(v));
        return 0;
    }
    if (v && !json_is_string(v))
        return lc_body_error_set(err, 422, "invalid_field", field, "%s: must be a string", field);
    const char *s = v ? json_string_value(v) : "";
    if (!s[0]) {
        if (required)
            return lc_body_error_set(err, 422, "missing_field", field, "%s: required", field);
        return 0;
    }
    if (lc_input_text(field, v, 1, TEXT_ANSWER_CHARS, "", err) < 0)
        return -EINVAL;
    if (strcmp(type, "email") == 0 && !lc_email_valid(s))
        return lc_body_error_set(err, 422, "invalid_field", field,
                                 "%s: not a valid email address", field);
    if (strcmp(type, "select") == 0) {
        size_t i;
        json_t *o;
        bool found = false;
        json_array_foreach(json_object_get(def, "options"), i, o) found |= json_equal(o, v);
        if (!found)
            return lc_body_error_set(err, 422, "invalid_field", field,
                                     "%s: not one of the options", field);
    }
    *out = json_incref(v);
    return 0;
}

/* The answers to the webinar's form as stored: only the form's fields, each checked. */
static int check_answers(const char *form_json, json_t *given, char **out, lc_body_error_t *err)
{
    json_t *form = json_loads(form_json, JSON_DECODE_ANY, NULL);
    json_t *clean = json_object();
    int rc = json_is_array(form) && clean ? 0 : -ENOMEM;
    const char *key;
    json_t *v;
    json_object_foreach(given, key, v)
    {
        size_t i;
        json_t *def;
        bool known = false;
        json_array_foreach(form, i, def)
            known |= strcmp(json_string_value(json_object_get(def, "id")), key) == 0;
        if (rc == 0 && !known) {
            char field[72];
            snprintf(field, sizeof field, "fields.%.60s", key);
            rc = lc_body_error_set(err, 422, "unknown_field", field,
                                   "%s: this form has no such field", field);
        }
    }
    size_t i;
    json_t *def;
    json_array_foreach(form, i, def)
    {
        json_t *answer = NULL;
        if (rc == 0 &&
            (rc = check_answer(def, json_object_get(given, json_string_value(json_object_get(
                                                               def, "id"))),
                               &answer, err)) == 0 &&
            answer)
            json_object_set_new(clean, json_string_value(json_object_get(def, "id")), answer);
    }
    if (rc == 0 && !(*out = json_dumps(clean, JSON_COMPACT)))
        rc = -ENOMEM;
    json_decref(form);
    json_decref(clean);
    return rc;
}

/* An optional short text (utm_*): NULL when absent, null or empty. */
static int optional_text(json_t *body, const char *name, size_t max, char **out,
                         lc_body_error_t *err)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (!json_is_string(v) || !json_string_length(v))
        return 0;
    int rc = lc_input_text(name, v, 1, max, "", err);
    if (rc == 0 && !(*out = strdup(json_string_value(v))))
        rc = -ENOMEM;
    return rc;
}

/* The referring page, reduced to scheme, host and path: a query string or fragment can carry
 * personal data of its own (an email in a newsletter link), which is not ours to keep. Anything
 * but an http(s) URL is dropped. */
static int referrer_text(json_t *body, char **out, lc_body_error_t *err)
{
    int rc = optional_text(body, "referrer", REFERRER_CHARS, out, err);
    if (rc < 0 || !*out)
        return rc;
    char *r = *out;
    if (strncmp(r, "https://", 8) != 0 && strncmp(r, "http://", 7) != 0) {
        free(r);
        *out = NULL;
        return 0;
    }
    r[strcspn(r, "?#")] = 0;
    return 0;
}

/* A registration waiting for its group commit: the job and the link's token in clear (the
 * answer needs it; only its hash is stored). */
typedef struct {
    lc_write_job_t *job;
    char token[LC_TOKEN_LEN + 1];
    bool approval;
    bool has_date; /* the answer offers a calendar file */
} reg_wait_t;

static void reg_wait_cancel(void *opaque) { lc_write_job_cancel(((reg_wait_t *)opaque)->job); }

static void reg_wait_free(void *opaque)
{
    reg_wait_t *rw = opaque;
    if (rw->job)
        lc_write_job_cancel(rw->job);
    lc_write_job_release(&rw->job);
    OPENSSL_cleanse(rw->token, sizeof rw->token);
    free(rw);
}

static void wake(void *opaque) { lc_req_wake(opaque); }

/* Builds the registration to write from a checked body; replies itself on a refusal (0 with
 * *out NULL and *rc set). */
static int build_registration(lc_req_t *req, const lc_webinar_t *w, const char *form,
                              json_t *body, lc_reg_new_t **out, int *rc)
{
    lc_body_error_t err;
    *out = NULL;
    const char *email = json_string_value(json_object_get(body, "email"));
    if (!lc_email_valid(email)) {
        *rc = lc_reply_error_with(req, 422, "invalid_field", "email",
                                  "email: not a valid email address", NULL);
        return 0;
    }
    if (lc_input_text("name", json_object_get(body, "name"), 1, 200, "", &err) < 0) {
        *rc = reply_body_error(req, &err);
        return 0;
    }
    if (!json_is_true(json_object_get(body, "consent"))) {
        *rc = lc_reply_error_with(req, 422, "consent_required", "consent",
                                  "consent: registering needs your consent (tick the box)",
                                  NULL);
        return 0;
    }
    if (strcmp(json_string_value(json_object_get(body, "consent_version")),
               w->settings.consent_version) != 0) {
        *rc = lc_reply_error_with(req, MHD_HTTP_CONFLICT, "consent_changed", "consent_version",
                                  "consent_version: the consent text has changed since the page "
                                  "was loaded; reload it and read the new text",
                                  NULL);
        return 0;
    }
    lc_reg_new_t *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    json_t *given = json_object_get(body, "fields");
    json_t *empty = given ? NULL : json_object();
    int r = check_answers(form, given ? given : empty, &n->answers_json, &err);
    json_decref(empty);
    if (r == 0)
        r = optional_text(body, "utm_source", UTM_CHARS, &n->utm_source, &err);
    if (r == 0)
        r = optional_text(body, "utm_medium", UTM_CHARS, &n->utm_medium, &err);
    if (r == 0)
        r = optional_text(body, "utm_campaign", UTM_CHARS, &n->utm_campaign, &err);
    if (r == 0)
        r = referrer_text(body, &n->referrer, &err);
    if (r == -EINVAL) {
        lc_reg_new_free(n);
        *rc = reply_body_error(req, &err);
        return 0;
    }
    n->webinar_id = w->id;
    n->email = strdup(email);
    n->name = strdup(json_string_value(json_object_get(body, "name")));
    n->consent_version = strdup(w->settings.consent_version);
    n->approval = w->settings.approval;
    n->now_ms = lc_now_real_ms();
    if (r < 0 || !n->email || !n->name || !n->consent_version) {
        lc_reg_new_free(n);
        return r < 0 ? r : -ENOMEM;
    }
    *out = n;
    return 0;
}

/* The absolute URL of a path, for links that leave the page (calendar files, copied links). */
static json_t *abs_url(lc_app_t *app, const char *path)
{
    return json_sprintf("%s%s", app->cfg.public_url, path);
}

/* POST /api/webinars/{slug}/registrations */
int lc_api_register(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    reg_wait_t *rw = lc_req_state(req);
    int rc = 0;
    if (!rw) {
        lc_webinar_t w;
        char *form = NULL;
        const char *slug = lc_req_param(req, 0);
        if (!lc_slug_valid(slug))
            return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
        json_t *body = lc_req_json(req, register_fields, &rc);
        if (!body)
            return rc;
        rc = lc_reg_cache_get(app->reg_cache, app->db, slug, lc_now_real_ms(), false, &w, &form);
        /* A page showing a newer consent text than the cached row: read the row again rather
         * than refuse a consent that is current. */
        const char *version = json_string_value(json_object_get(body, "consent_version"));
        if (rc == 0 && strcmp(version, w.settings.consent_version) != 0) {
            free(form);
            form = NULL;
            rc = lc_reg_cache_get(app->reg_cache, app->db, slug, lc_now_real_ms(), true, &w,
                                  &form);
        }
        lc_reg_new_t *n = NULL;
        if (rc == LC_ENOTFOUND)
            rc = lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
        else if (rc == 0 && w.state == LC_WEBINAR_ENDED && !w.settings.replay_enabled &&
                 lc_live_state(app->live, w.id, NULL) == LC_LIVE_OFFLINE)
            rc = lc_reply_error(req, MHD_HTTP_CONFLICT, "registration_closed",
                                "this webinar is over and has no replay");
        else if (rc == 0) {
            int brc = build_registration(req, &w, form, body, &n, &rc);
            if (brc < 0)
                rc = brc;
        }
        json_decref(body);
        free(form);
        if (!n)
            return rc;
        if (!(rw = calloc(1, sizeof *rw))) {
            lc_reg_new_free(n);
            return -ENOMEM;
        }
        rw->approval = n->approval;
        rw->has_date = w.settings.starts_at_ms != LC_DB_NO_TIME;
        if ((rc = lc_secret_new(32, rw->token, sizeof rw->token, n->token_hash)) < 0) {
            lc_reg_new_free(n);
            reg_wait_free(rw);
            return rc;
        }
        lc_req_on_done(req, reg_wait_free, rw);
        lc_req_prepare_wait(req);
        rw->job = lc_writer_submit(app->writer, lc_db_reg_write, n, lc_reg_new_free, wake, req,
                                   &rc);
        if (!rw->job)
            return rc == LC_ELIMIT || rc == -ESHUTDOWN
                       ? reply_busy(req, "too many registrations at once; try again")
                       : rc;
        return lc_req_suspend(req, WRITE_WAIT_MS, reg_wait_cancel, rw);
    }
    if (lc_req_woken(req) == LC_WAKE_TIMEOUT)
        return reply_busy(req, "the server is busy; try again");
    rc = lc_write_job_result(rw->job);
    if (rc == -EINVAL) /* the webinar was deleted a moment ago (the foreign key refused it) */
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
    if (rc < 0) {
        LC_ERROR("api", "a registration could not be stored: %s", lc_strerror(rc));
        return rc;
    }
    const lc_reg_new_t *n = lc_write_job_arg(rw->job);
    /* The answer is the same whether or not this email was registered already. */
    LC_DEBUG("api", "webinar %lld: registration %lld%s", (long long)n->webinar_id,
            (long long)n->registration_id, n->repeat ? " (again)" : "");
    char path[96];
    snprintf(path, sizeof path, "/j/%s", rw->token);
    json_t *body = json_pack("{s:o,s:o,s:b}", "join_url", abs_url(app, path), "calendar_url",
                             json_null(), "approval_required", rw->approval);
    if (body && rw->has_date) {
        snprintf(path, sizeof path, "/j/%s/calendar.ics", rw->token);
        json_object_set_new(body, "calendar_url", abs_url(app, path));
    }
    OPENSSL_cleanse(path, sizeof path);
    return body ? lc_reply_json(req, MHD_HTTP_CREATED, body) : -ENOMEM;
}

/* ---- the join link ---------------------------------------------------------------------------- */

typedef enum {
    JOIN_PENDING,
    JOIN_REJECTED,
    JOIN_PASSWORD,
    JOIN_WAITING,
    JOIN_SCHEDULED,
    JOIN_LIVE,
    JOIN_REPLAY,
    JOIN_ENDED,
} join_state_t;

static const char *const join_state_names[] = {
    "pending", "rejected", "password", "waiting", "scheduled", "live", "replay", "ended",
};

/* Resolves the token of the URL: 0 with *j and *w, or a reply was queued (*rc). */
static int resolve(lc_req_t *req, lc_join_t *j, lc_webinar_t *w, int *rc)
{
    lc_app_t *app = lc_req_app(req);
    const char *token = lc_req_param(req, 0);
    uint8_t hash[32];
    int r = LC_ENOTFOUND;
    if (lc_token_wellformed(token)) {
        lc_sha256(token, strlen(token), hash);
        r = lc_db_join_get(app->db, hash, j);
        if (r == 0)
            r = lc_db_webinar_get(app->db, j->webinar_id, w);
    }
    if (r == LC_ENOTFOUND)
        *rc = lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found",
                             "this join link is unknown or no longer valid");
    else if (r < 0)
        *rc = r;
    return r;
}

/* Whether a session of the webinar has a replay (and which is the newest). */
static bool has_replay(lc_app_t *app, int64_t webinar_id, int64_t *newest)
{
    lc_session_t *items = NULL;
    size_t n = 0;
    bool found = false;
    if (lc_api_sessions_collect(app->db, webinar_id, &items, &n) == 0)
        for (size_t i = n; i-- > 0 && !found;)
            if (!items[i].live && lc_recording_has_replay(app->recordings_dir, items[i].id)) {
                found = true;
                *newest = items[i].id;
            }
    free(items);
    return found;
}

/* The live stream has its first segment (a player would meet 404s before). */
static bool playable(lc_app_t *app, const lc_webinar_t *w)
{
    lc_window_t *win = lc_live_window(app->live, w->live_key);
    lc_buf_t *master = win ? lc_window_master_playlist(win) : NULL;
    bool ok = master && !lc_window_ended(win);
    lc_buf_unref(master);
    lc_window_unref(win);
    return ok;
}

/* What the link opens now. *starting: the presenter is connected but the first segment is not
 * ready yet (the state says "scheduled" until it is, a second or two). */
static join_state_t join_state(lc_app_t *app, const lc_join_t *j, const lc_webinar_t *w,
                               bool *starting)
{
    *starting = false;
    if (j->state == LC_REG_REJECTED)
        return JOIN_REJECTED;
    if (j->state == LC_REG_PENDING || j->link_pending)
        return JOIN_PENDING;
    if (w->has_room_password && !j->password_ok)
        return JOIN_PASSWORD;
    bool live = lc_live_state(app->live, w->id, NULL) != LC_LIVE_OFFLINE;
    bool waiting = w->settings.waiting_room && !j->admitted && !w->admit_all;
    int64_t newest = 0;
    if (live) {
        if (waiting)
            return JOIN_WAITING;
        *starting = !playable(app, w);
        return *starting ? JOIN_SCHEDULED : JOIN_LIVE;
    }
    /* The stream has stopped and its session is being closed (the recording made final): over,
     * and the replay follows in a moment (the session's end wakes the waiting pages). */
    if (w->state == LC_WEBINAR_LIVE)
        return JOIN_ENDED;
    if (w->state == LC_WEBINAR_ENDED || w->settings.on_demand) {
        if (w->settings.replay_enabled && has_replay(app, w->id, &newest))
            return JOIN_REPLAY;
        if (w->state == LC_WEBINAR_ENDED)
            return JOIN_ENDED;
    }
    return waiting ? JOIN_WAITING : JOIN_SCHEDULED;
}

/* The join page's view: the state, the webinar's public facts and, when watching is allowed,
 * the media URLs under the webinar's keys (lc_api_media_urls). `replays` lists the recordings
 * newest first, while a replay is what the link opens. */
static json_t *join_json(lc_app_t *app, const lc_webinar_t *w, join_state_t st, bool starting)
{
    json_t *webinar = lc_api_webinar_json(app, w, "", NULL, false);
    json_t *media = lc_api_media_urls(app, w, "", st == JOIN_LIVE, st == JOIN_REPLAY);
    json_t *o = webinar && media ? json_pack("{s:s,s:b,s:O,s:O,s:[]}", "state",
                                             join_state_names[st], "starting", starting,
                                             "webinar", webinar, "hls_url",
                                             json_object_get(media, "hls_url"), "replays")
                                 : NULL;
    if (o) {
        /* The public view's media URLs follow the public rules: the attendee's are these. */
        json_t *pub = json_object_get(o, "webinar");
        json_object_del(pub, "sessions");
        json_object_del(pub, "hls_url");
        json_object_del(pub, "rtmp_url");
        json_object_del(pub, "registration");
        json_t *sessions = json_object_get(media, "sessions"), *list = json_object_get(o, "replays");
        for (size_t i = json_array_size(sessions); i-- > 0;) {
            json_t *s = json_array_get(sessions, i), *url = json_object_get(s, "replay_url");
            const char *state = json_string_value(json_object_get(s, "state"));
            if (!json_is_string(url) || !state || strcmp(state, "ended") != 0)
                continue;
            json_array_append_new(list, json_pack("{s:O,s:O,s:O,s:O,s:O}", "session_id",
                                                  json_object_get(s, "id"), "started_at",
                                                  json_object_get(s, "started_at"), "duration_s",
                                                  json_object_get(s, "duration_s"), "hls_url", url,
                                                  "page_url",
                                                  json_object_get(s, "replay_page_url")));
        }
    }
    json_decref(webinar);
    json_decref(media);
    return o;
}

typedef struct {
    lc_lobby_waiter_t waiter;
    lc_lobby_t *lobby;
} join_wait_t;

static void join_wait_cancel(void *opaque)
{
    join_wait_t *jw = opaque;
    lc_lobby_cancel(jw->lobby, &jw->waiter);
}

static void join_wait_free(void *opaque)
{
    join_wait_cancel(opaque);
    free(opaque);
}

/* GET /api/join/{token}[?wait=STATE]: the state behind the link. With wait, the request is held
 * (up to JOIN_WAIT_MS) while the state is still STATE, and answered as soon as it changes: how
 * an admission reaches the waiting room without a reload. */
int lc_api_join_get(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (resolve(req, &j, &w, &rc) < 0)
        return rc;
    bool starting;
    join_state_t st = join_state(app, &j, &w, &starting);
    int64_t now = lc_now_real_ms();
    if (st == JOIN_WAITING)
        lc_lobby_seen(app->lobby, w.id, j.registration_id, now);
    const char *wait = lc_req_query(req, "wait");
    if (!lc_req_state(req) && wait && strcmp(wait, join_state_names[st]) == 0 &&
        st != JOIN_REJECTED && st != JOIN_PASSWORD) {
        join_wait_t *jw = calloc(1, sizeof *jw);
        if (!jw)
            return -ENOMEM;
        jw->lobby = app->lobby;
        lc_req_on_done(req, join_wait_free, jw);
        lc_req_prepare_wait(req);
        lc_lobby_wait(app->lobby, &jw->waiter, w.id, j.registration_id, req);
        /* Starting: nothing wakes the page when the first segment is ready; look again soon. */
        return lc_req_suspend(req, starting ? STARTING_WAIT_MS : JOIN_WAIT_MS, join_wait_cancel,
                              jw);
    }
    json_t *body = join_json(app, &w, st, starting);
    return body ? lc_reply_json(req, MHD_HTTP_OK, body) : -ENOMEM;
}

/* GET /j/{token}/calendar.ics */
int lc_api_join_calendar(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (resolve(req, &j, &w, &rc) < 0)
        return rc;
    if (w.settings.starts_at_ms == LC_DB_NO_TIME)
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "no_date",
                              "this webinar has no date to put in a calendar");
    lc_webinar_texts_t texts;
    if ((rc = lc_db_webinar_texts(app->db, w.id, &texts)) < 0)
        return rc;
    char url[512], uid[80];
    uint8_t hash[32];
    const char *token = lc_req_param(req, 0);
    lc_sha256(token, strlen(token), hash);
    /* Stable per link, and not the token: a calendar may be shared or synced elsewhere. */
    snprintf(uid, sizeof uid, "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x-%lld@lectern",
             hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], hash[8],
             hash[9], hash[10], hash[11], (long long)w.id);
    snprintf(url, sizeof url, "%s/j/%s", app->cfg.public_url, token);
    lc_ics_event_t ev = {.uid = uid, .title = w.title, .description = texts.description,
                         .url = url, .starts_at_ms = w.settings.starts_at_ms,
                         .duration_s = w.settings.duration_s, .now_ms = lc_now_real_ms()};
    lc_buf_t *b = lc_ics_event(&ev);
    lc_webinar_texts_clear(&texts);
    OPENSSL_cleanse(url, sizeof url);
    if (!b)
        return -ENOMEM;
    return lc_reply_buf(req, MHD_HTTP_OK, "text/calendar; charset=utf-8", b, "no-store");
}

/* ---- room password ---------------------------------------------------------------------------- */

static const lc_json_field_t password_fields[] = {
    {"password", 4 * LC_ROOM_PASSWORD_MAX_CHARS, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

typedef struct {
    lc_kdf_job_t *job;
    int64_t registration_id;
    uint8_t key[32];
} pw_wait_t;

static void pw_wait_cancel(void *opaque) { lc_kdf_job_cancel(((pw_wait_t *)opaque)->job); }

static void pw_wait_free(void *opaque)
{
    pw_wait_t *pw = opaque;
    if (pw->job)
        lc_kdf_job_cancel(pw->job);
    lc_kdf_job_release(&pw->job);
    free(pw);
}

static void rate_key(int64_t registration_id, uint8_t key[32])
{
    char text[48];
    snprintf(text, sizeof text, "room:%lld", (long long)registration_id);
    lc_sha256(text, strlen(text), key);
}

/* POST /api/join/{token}/password {"password"}: checked on the room password worker; 10
 * attempts per registration per 15 minutes. Once right, the link remembers it. */
int lc_api_join_password(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    pw_wait_t *pw = lc_req_state(req);
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (!pw) {
        if (resolve(req, &j, &w, &rc) < 0)
            return rc;
        json_t *body = lc_req_json(req, password_fields, &rc);
        if (!body)
            return rc;
        lc_webinar_texts_t texts = {0};
        if (!w.has_room_password || j.password_ok) {
            json_decref(body);
            return lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
        }
        if ((rc = lc_db_webinar_texts(app->db, w.id, &texts)) < 0 || !texts.room_password_hash) {
            json_decref(body);
            lc_webinar_texts_clear(&texts);
            return rc < 0 ? rc : lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
        }
        if (!(pw = calloc(1, sizeof *pw))) {
            json_decref(body);
            lc_webinar_texts_clear(&texts);
            return -ENOMEM;
        }
        pw->registration_id = j.registration_id;
        rate_key(j.registration_id, pw->key);
        lc_req_on_done(req, pw_wait_free, pw);
        int64_t retry = lc_ratelimit_acquire(app->room_rate, pw->key, lc_now_real_ms());
        if (retry > 0) {
            json_decref(body);
            lc_webinar_texts_clear(&texts);
            char secs[24];
            snprintf(secs, sizeof secs, "%lld", (long long)((retry + 999) / 1000));
            const char *hdr[] = {"Retry-After", secs, NULL};
            return lc_reply_error_with(req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_attempts",
                                       NULL, "too many wrong passwords; wait and try again",
                                       hdr);
        }
        json_t *v = json_object_get(body, "password");
        lc_req_prepare_wait(req);
        pw->job = lc_kdf_verify(app->room_kdf, json_string_value(v), json_string_length(v),
                                texts.room_password_hash, wake, req, &rc);
        json_decref(body);
        lc_webinar_texts_clear(&texts);
        if (!pw->job) {
            lc_ratelimit_refund(app->room_rate, pw->key);
            return rc == LC_ELIMIT ? reply_busy(req, "too many password checks at once") : rc;
        }
        return lc_req_suspend(req, WRITE_WAIT_MS, pw_wait_cancel, pw);
    }
    if (lc_req_woken(req) == LC_WAKE_TIMEOUT) {
        lc_ratelimit_refund(app->room_rate, pw->key);
        return reply_busy(req, "the server is busy checking passwords; try again");
    }
    rc = lc_kdf_job_result(pw->job);
    if (rc == LC_EDENIED)
        return lc_reply_error_with(req, MHD_HTTP_FORBIDDEN, "wrong_password", "password",
                                   "password: this is not the room password", NULL);
    if (rc < 0) {
        lc_ratelimit_refund(app->room_rate, pw->key);
        return rc;
    }
    lc_ratelimit_success(app->room_rate, pw->key);
    if ((rc = lc_db_reg_password_ok(app->db, pw->registration_id, lc_now_real_ms())) < 0)
        return rc;
    return lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
}

/* ---- attendance ------------------------------------------------------------------------------- */

static const lc_json_field_t heartbeat_fields[] = {
    {"mode", 16, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* POST /api/join/{token}/heartbeat {"mode": "live" | "replay"}: the watch page sends one every
 * 30 s while the video plays. Answered at once; written with the next group commit. */
int lc_api_join_heartbeat(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    lc_join_t j;
    lc_webinar_t w;
    int rc = 0;
    if (resolve(req, &j, &w, &rc) < 0)
        return rc;
    json_t *body = lc_req_json(req, heartbeat_fields, &rc);
    if (!body)
        return rc;
    const char *mode = json_string_value(json_object_get(body, "mode"));
    bool replay = strcmp(mode, "replay") == 0;
    bool bad = !replay && strcmp(mode, "live") != 0;
    json_decref(body);
    if (bad)
        return lc_reply_error_with(req, 422, "invalid_field", "mode",
                                   "mode: \"live\" or \"replay\"", NULL);
    bool starting;
    join_state_t st = join_state(app, &j, &w, &starting);
    if (st != (replay ? JOIN_REPLAY : JOIN_LIVE) &&
        !(replay && st == JOIN_LIVE)) /* a replay of an earlier session while a new one runs */
        return lc_reply_error(req, MHD_HTTP_CONFLICT, "not_watching",
                              "there is nothing to watch in this mode now");
    lc_heartbeat_t *h = malloc(sizeof *h);
    if (!h)
        return -ENOMEM;
    *h = (lc_heartbeat_t){.registration_id = j.registration_id, .replay = replay,
                          .now_ms = lc_now_real_ms()};
    rc = lc_writer_post(app->writer, lc_db_heartbeat_write, h, free);
    if (rc == LC_ELIMIT || rc == -ESHUTDOWN)
        return reply_busy(req, "busy; the next heartbeat will count");
    if (rc < 0)
        return rc;
    return lc_reply_json_with(req, MHD_HTTP_NO_CONTENT, NULL, NULL);
}

int lc_api_join_in_room(lc_req_t *req, lc_join_t *j, lc_webinar_t *w, int *rc)
{
    int r = resolve(req, j, w, rc);
    if (r < 0)
        return r;
    bool starting;
    join_state_t st = join_state(lc_req_app(req), j, w, &starting);
    if (st == JOIN_LIVE || st == JOIN_SCHEDULED)
        return 0;
    if (st == JOIN_REPLAY || st == JOIN_ENDED)
        *rc = lc_reply_error(req, MHD_HTTP_CONFLICT, "not_live",
                             "the webinar is not live: there is nothing to take part in now");
    else
        *rc = lc_reply_error(req, MHD_HTTP_FORBIDDEN, "not_admitted",
                             "this join link is not admitted to the webinar (yet)");
    return LC_EDENIED;
}
