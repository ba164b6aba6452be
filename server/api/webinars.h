/* The webinar resource as JSON, shared by the HTTP API and the `lectern webinar` commands so
 * both describe a webinar the same way. */
#ifndef LC_API_WEBINARS_H
#define LC_API_WEBINARS_H

#include <jansson.h>

#include "app.h"
#include "http/http.h"

/* Builds {"id", "slug", "title", "state", "created_at", the public facts ("description",
 * "starts_at", "duration_s", "presenters", "on_demand", "access", "password_required",
 * "waiting_room", "replay_enabled"), "watch_url", "hls_url", "rtmp_url", "sessions": [{"id",
 * "state", "started_at", "ended_at", "duration_s", "recovered", "replay_url", "replay_page_url",
 * "download_url"}]} for a webinar. `with_settings` adds what only organisers see ("approval",
 * "hide_attendee_names", "replay_requires_registration", "retention_days",
 * "recording_retention_days", "updated_at", "created_by"); never a hash or a key. URLs are
 * prefixed with `base` ("" for site-relative URLs). replay_url appears once the recording has a
 * playlist, download_url once the MP4 exists. `live_state` ("running", "reconnecting" or NULL)
 * is added as "live" when given. Reads the database: never call it inside a listing callback.
 * Returns a new reference or NULL (out of memory / database error). */
json_t *lc_api_webinar_json(lc_app_t *app, const lc_webinar_t *w, const char *base,
                            const char *live_state, bool with_settings);

/* GET /api/webinars/{slug} */
int lc_api_webinar_get(lc_req_t *req);

/* GET /api/sessions/{id}: one session with its webinar's slug, title and watch URL. */
int lc_api_session_get(lc_req_t *req);

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

#endif
