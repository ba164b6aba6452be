/* Registration and joining: the public form at /w/{slug}, personal join links (/j/{token}),
 * the calendar file, the waiting room, the room password and attendance heartbeats; and for
 * organisers the registrations of a webinar, approval and admission. docs/api.md has every
 * request and answer. */
#ifndef LC_API_REGISTRATION_H
#define LC_API_REGISTRATION_H

#include "db/registrations.h"
#include "http/http.h"

/* The texts a webinar shows when its organiser set none, in English and German (one meaning,
 * one consent version). */
extern const char lc_default_privacy_notice[];
extern const char lc_default_consent_text[];
extern const char lc_default_privacy_notice_de[];
extern const char lc_default_consent_text_de[];

/* POST /api/webinars/{slug}/registrations: registers; answers 201 {"join_url",
 * "calendar_url", "approval_required"} the same whether or not the email was registered
 * already. Durable before the answer (group commit). */
int lc_api_register(lc_req_t *req);
/* GET /api/join/{token}[?wait=STATE]: what the link opens now ("pending", "rejected",
 * "password", "waiting", "scheduled", "live", "replay", "ended"), the webinar's public facts,
 * and the media URLs when watching is allowed. */
int lc_api_join_get(lc_req_t *req);
/* POST /api/join/{token}/password {"password"}: the room password, rate-limited. */
int lc_api_join_password(lc_req_t *req);
/* POST /api/join/{token}/heartbeat {"mode"}: attendance. */
int lc_api_join_heartbeat(lc_req_t *req);
/* For the live interaction: resolves the URL's join token (the first parameter) and checks
 * that the attendee is in the room (the join state is "live" or "scheduled"). 0 with *j and *w;
 * otherwise a negative code after replying 404 not_found, 403 not_admitted or 409 not_live (*rc
 * is then the reply's result), or on a database failure (*rc the code). */
int lc_api_join_in_room(lc_req_t *req, lc_join_t *j, lc_webinar_t *w, int *rc);
/* GET /j/{token}/calendar.ics: the event with the join link (RFC 5545). */
int lc_api_join_calendar(lc_req_t *req);

/* ---- organisers (registrations_admin.c) ---- */

/* One registration as organisers see it (the list, the exports' JSON, data-subject access):
 * {"id", "webinar_id", "email", "name", "fields", "state", "pending_links", "consent":
 * {"version", "at"}, "source": {"utm_source", "utm_medium", "utm_campaign", "referrer"},
 * "registered_at", "decided_at", "admitted_at", "attendance": {"attended_live",
 * "seconds_live", "seconds_replay", "minutes_live", "minutes_replay", "first_joined_at",
 * "last_seen_at"}}. NULL when out of memory. */
json_t *lc_api_registration_json(const lc_reg_row_t *r);
/* The webinar named by the URL's first parameter (an id): 0 and *w, or a negative code after
 * replying 404 (*rc is then the reply's result, for the handler to return) or on a database
 * failure (*rc the code). */
int lc_api_load_webinar(lc_req_t *req, lc_webinar_t *w, int *rc);
/* An optional integer query argument within [min, max]: 0 (*v untouched when it is absent), or
 * -EINVAL after replying 400 invalid_query naming it with `message` (*rc as above). */
int lc_api_query_int(lc_req_t *req, const char *name, int64_t min, int64_t max,
                     const char *message, int64_t *v, int *rc);
/* Listings' page size: the default and the largest a `limit` may ask. */
#define LC_API_LIST_LIMIT 100
#define LC_API_LIST_LIMIT_MAX 1000

/* Writes an audit log entry for the request's organiser (failures are logged, not fatal). */
void lc_api_audit(lc_req_t *req, const char *action, int64_t webinar_id, const char *subject,
                  int64_t records);

/* GET /api/admin/webinars/{id}/registrations, POST .../registrations/decision,
 * GET .../waiting, POST .../admission. docs/api.md has the requests and answers. */
int lc_api_admin_reg_list(lc_req_t *req);
int lc_api_admin_reg_decide(lc_req_t *req);
int lc_api_admin_waiting(lc_req_t *req);
int lc_api_admin_admit(lc_req_t *req);

#endif
