/* The webinar resource as JSON, shared by the HTTP API and the `lectern webinar` commands so
 * both describe a webinar the same way. */
#ifndef LC_API_WEBINARS_H
#define LC_API_WEBINARS_H

#include <jansson.h>

#include "app.h"
#include "http/http.h"

/* ---- media URLs ------------------------------------------------------------------------------
 * A webinar's media is served only under its two random keys (migrations/0004): live at
 * /live/{live_key}/..., recordings at /vod/{replay_key}/{session}/..., the replay page at
 * /replay/{replay_key}/{session}. Whoever holds a URL can watch, so the URLs are the access
 * control: they are handed to organisers always, to everyone only as lc_webinar_*_is_public
 * allow, and to admitted attendees by the join API. Turning a setting off stops handing URLs
 * out; it does not take back those already given. */

/* Anyone with the webinar's page may watch it live: access is public and the room has no
 * password. */
bool lc_webinar_live_is_public(const lc_webinar_t *w);
/* Anyone may watch its recordings: replay is on, it needs no registration (access public, or
 * replay_requires_registration off), and the room has no password. */
bool lc_webinar_replay_is_public(const lc_webinar_t *w);

/* The media URLs of webinar `w` for someone allowed to watch: {"hls_url": URL or null,
 * "sessions": [{"id", "state", "started_at", "ended_at", "duration_s", "recovered",
 * "replay_url", "replay_page_url", "download_url"}]}, sessions oldest first. `live`: hls_url is
 * given (else null); `replay`: each session's replay_url and replay_page_url once its recording
 * has a playlist (while live too: watch from the start) and download_url once the MP4 exists
 * (else null). URLs are prefixed with `base` ("" for site-relative URLs). For an attendee the
 * join API admitted (registration approved, room password given): live true, replay
 * w->settings.replay_enabled. Reads the database and the recordings directory: never call it
 * inside a listing callback. Any thread. Returns a new reference or NULL (out of memory or a
 * database error). */
json_t *lc_api_media_urls(lc_app_t *app, const lc_webinar_t *w, const char *base, bool live,
                          bool replay);

/* Builds {"id", "slug", "title", "state", "created_at", the public facts ("description",
 * "starts_at", "duration_s", "presenters", "on_demand", "access", "password_required",
 * "waiting_room", "replay_enabled"), "watch_url", "rtmp_url", and the members of
 * lc_api_media_urls ("hls_url", "sessions")} for a webinar. `with_settings` is the organisers'
 * view: it adds what only they see ("approval", "hide_attendee_names",
 * "replay_requires_registration", "retention_days", "recording_retention_days", "updated_at",
 * "created_by") and every media URL; without it the media URLs are those
 * lc_webinar_live_is_public and lc_webinar_replay_is_public allow (null otherwise). Never a
 * hash, a stream key, or a media key outside its URL. URLs are prefixed with `base` ("" for
 * site-relative URLs). `live_state` ("running", "reconnecting" or NULL) is added as "live" when
 * given. Reads the database: never call it inside a listing callback. Returns a new reference or
 * NULL (out of memory / database error). */
json_t *lc_api_webinar_json(lc_app_t *app, const lc_webinar_t *w, const char *base,
                            const char *live_state, bool with_settings);

/* GET /api/webinars/{slug}: the public view (lc_api_webinar_json without settings). */
int lc_api_webinar_get(lc_req_t *req);

/* GET /api/sessions/{id}: one session as in the public view, with its webinar's slug, title and
 * watch URL. */
int lc_api_session_get(lc_req_t *req);

/* GET /api/replays/{replay_key}/{id} (the replay page's question): the same, with the replay
 * URLs, when `replay_key` is the key of the session's webinar; 404 otherwise. */
int lc_api_replay_get(lc_req_t *req);

/* Every webinar, newest first, copied out of the database (so that each can be described with
 * lc_api_webinar_json afterwards): 0 with *items (free() it) and *n, or a negative code. */
int lc_api_webinars_collect(lc_db_t *db, lc_webinar_t **items, size_t *n);
/* The same for the sessions of a webinar, oldest first. */
int lc_api_sessions_collect(lc_db_t *db, int64_t webinar_id, lc_session_t **items, size_t *n);

/* Organiser-only (routes.c): the webinars of this server, every organiser sees all of them.
 * GET and POST /api/admin/webinars; GET, PATCH and DELETE /api/admin/webinars/{id};
 * POST /api/admin/webinars/{id}/stream-key. docs/api.md has the requests and answers. */
int lc_api_admin_webinar_list(lc_req_t *req);
int lc_api_admin_webinar_create(lc_req_t *req);
int lc_api_admin_webinar_get(lc_req_t *req);
int lc_api_admin_webinar_update(lc_req_t *req);
int lc_api_admin_webinar_delete(lc_req_t *req);
int lc_api_admin_webinar_rotate_key(lc_req_t *req);

/* True when `s` has the form of a slug ([a-z0-9-], 1 to 63 bytes). */
bool lc_slug_valid(const char *s);
/* True when `s` has the form of a media key: 32 lowercase hex digits (LC_DB_MEDIA_KEY_MAX). */
bool lc_media_key_valid(const char *s);
/* Whether `given` (a URL's key) is the stored media key `stored`, compared in constant time: the
 * keys are secrets that requests guess at. An empty stored key matches nothing. */
bool lc_media_key_matches(const char *stored, const char *given);

#endif
