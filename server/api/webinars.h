/* The webinar resource as JSON, shared by the HTTP API and the `lectern webinar` commands so
 * both describe a webinar the same way. */
#ifndef LC_API_WEBINARS_H
#define LC_API_WEBINARS_H

#include <jansson.h>

#include "app.h"
#include "http/http.h"

/* Builds {"id", "slug", "title", "state", "created_at", "watch_url", "hls_url", "rtmp_url",
 * "sessions": [{"id", "state", "started_at", "ended_at", "duration_s", "recovered",
 * "replay_url", "replay_page_url", "download_url"}]} for a webinar. URLs are prefixed with
 * `base` ("" for site-relative URLs). replay_url appears once the recording has a playlist,
 * download_url once the MP4 exists. `live_state` ("running", "reconnecting" or NULL) is added
 * as "live" when given. Returns a new reference or NULL (out of memory / database error). */
json_t *lc_api_webinar_json(lc_app_t *app, const lc_webinar_t *w, const char *base,
                            const char *live_state);

/* GET /api/webinars/{slug} */
int lc_api_webinar_get(lc_req_t *req);

/* GET /api/sessions/{id}: one session with its webinar's slug, title and watch URL. */
int lc_api_session_get(lc_req_t *req);

/* True when `s` has the form of a slug ([a-z0-9-], 1 to 63 bytes). */
bool lc_slug_valid(const char *s);

#endif
