/* Live interaction over HTTP: the event streams (Server-Sent Events), polls and votes,
 * questions, chat, raised hands, and the console's stream health and "end webinar". docs/api.md
 * ("Live interaction") has every request and answer. Attendees act through their join link
 * (/api/join/{token}/...), moderators through an organiser session
 * (/api/admin/webinars/{id}/...). */
#ifndef LC_API_INTERACTION_H
#define LC_API_INTERACTION_H

#include "db/interaction.h"
#include "http/http.h"

/* Limits of what attendees and moderators write (characters). */
#define LC_IX_POLL_QUESTION_CHARS 300
#define LC_IX_POLL_OPTION_CHARS 120
#define LC_IX_QUESTION_CHARS 1000
#define LC_IX_CHAT_CHARS 500
#define LC_IX_QUESTIONS_PER_ATTENDEE 20
#define LC_IX_CHAT_PER_10S 5
/* Event streams open at once per join link (tabs, devices), and for all moderators of a
 * webinar together: one link cannot hold thousands of connections. */
#define LC_IX_STREAMS_PER_ATTENDEE 8
#define LC_IX_STREAMS_MODERATORS 200

/* ---- shared by the files of the interaction API (interaction.c) ---- */

/* Runs `job` (taken) through the group-commit writer, publishing its change in commit order,
 * and suspends the request; the route's handler runs again when it is done, and then
 * lc_ix_finished returns it. Replies 503 busy itself when the writer's queue is full. */
int lc_ix_submit(lc_req_t *req, lc_ix_job_t *job);
/* On the handler's second run: the finished job (owned by the request) and its result; NULL on
 * a first run. */
lc_ix_job_t *lc_ix_finished(lc_req_t *req, int *result);
/* The standard answer to a refused job (404 not_found, 409 / 422 / 403 / 429 with its `why`),
 * or the result as is for other failures. */
int lc_ix_reply_refusal(lc_req_t *req, const lc_ix_job_t *job, int result, const char *field,
                        const char *what);
/* A new job for the webinar (its settings copied for the views). NULL when out of memory. */
lc_ix_job_t *lc_ix_job_new(lc_req_t *req, lc_ix_op_t op, const lc_webinar_t *w,
                           int64_t registration_id);
/* The webinar of a moderator route (the URL's first parameter) into *w: as lc_api_load_webinar. */
int lc_ix_moderator_webinar(lc_req_t *req, lc_webinar_t *w, int *rc);
/* AUDIENCE: {"watching", "waiting"} of the webinar now (moderate.c). */
json_t *lc_ix_audience_json(lc_app_t *app, int64_t webinar_id);
/* A URL parameter that must be a positive id: 0, or after replying 404 (*rc). */
int lc_ix_param_id(lc_req_t *req, int i, int64_t *id, int *rc);

/* ---- attendees ---- */
int lc_api_join_events(lc_req_t *req);   /* GET /api/join/{token}/events */
int lc_api_join_vote(lc_req_t *req);     /* POST /api/join/{token}/polls/{id}/vote */
int lc_api_join_question(lc_req_t *req); /* POST /api/join/{token}/questions */
int lc_api_join_upvote(lc_req_t *req);   /* POST /api/join/{token}/questions/{id}/upvote */
int lc_api_join_chat(lc_req_t *req);     /* POST /api/join/{token}/chat */
int lc_api_join_hand(lc_req_t *req);     /* POST /api/join/{token}/hand */

/* ---- moderators ---- */
int lc_api_admin_events(lc_req_t *req);        /* GET .../events */
int lc_api_admin_polls(lc_req_t *req);         /* GET .../polls */
int lc_api_admin_poll_create(lc_req_t *req);   /* POST .../polls */
int lc_api_admin_poll_update(lc_req_t *req);   /* PATCH .../polls/{id} */
int lc_api_admin_poll_delete(lc_req_t *req);   /* DELETE .../polls/{id} */
int lc_api_admin_poll_open(lc_req_t *req);     /* POST .../polls/{id}/open */
int lc_api_admin_poll_close(lc_req_t *req);    /* POST .../polls/{id}/close */
int lc_api_admin_poll_results(lc_req_t *req);  /* POST .../polls/{id}/results */
int lc_api_admin_poll_csv(lc_req_t *req);      /* GET .../polls/{id}/results.csv */
int lc_api_admin_polls_csv(lc_req_t *req);     /* GET .../polls.csv */
int lc_api_admin_question(lc_req_t *req);      /* PATCH .../questions/{id} */
int lc_api_admin_chat(lc_req_t *req);          /* POST .../chat */
int lc_api_admin_chat_delete(lc_req_t *req);   /* DELETE .../chat/{id} */
int lc_api_admin_mute(lc_req_t *req);          /* POST .../mutes */
int lc_api_admin_hand(lc_req_t *req);          /* POST .../hands/{registration id} */
int lc_api_admin_health(lc_req_t *req);        /* GET .../health */
int lc_api_admin_end(lc_req_t *req);           /* POST .../end */

#endif
