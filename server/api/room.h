/* The live rooms' runtime: the event logs (events/events.h), the key that turns a registration
 * into a poll's voter id, and one thread that does what is due on a clock — poll results while
 * votes arrive (at most every LC_ROOM_RESULTS_MS per poll, read from the database, so always
 * exact), the audience count for moderators, and the keep-alive pings of idle streams. */
#ifndef LC_API_ROOM_H
#define LC_API_ROOM_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "db/interaction.h"
#include "events/events.h"

typedef struct lc_room lc_room_t;

#define LC_ROOM_RESULTS_MS 500
#define LC_ROOM_AUDIENCE_MS 2000

/* Loads the voter key (server secret 'vote_hmac'), creates the event logs (their epoch random)
 * and starts the thread. Reads app->db and app->lobby (both must outlive the room). NULL on
 * failure (*err set, logged). Main thread. */
lc_room_t *lc_room_start(lc_app_t *app, int *err);
/* Stops the thread and frees the logs: nothing may publish or read any more (HTTP, the writer
 * and live are stopped first). NULL-safe; sets *proom to NULL. */
void lc_room_stop(lc_room_t **proom);

lc_events_t *lc_room_events(lc_room_t *room);
/* The voter id of a registration in a poll: HMAC-SHA-256(key, poll id, registration id),
 * truncated. Without the key the id tells nothing about who voted. */
void lc_room_voter(lc_room_t *room, int64_t poll_id, int64_t registration_id,
                   uint8_t out[LC_VOTER_LEN]);
/* A vote changed the poll's results: the thread publishes them soon (coalesced). Any thread. */
void lc_room_results_dirty(lc_room_t *room, int64_t webinar_id, int64_t poll_id);
/* A stream of the webinar was opened: the thread keeps its moderators' audience count current
 * while the webinar has streams. Any thread. */
void lc_room_watch(lc_room_t *room, int64_t webinar_id);

/* ---- what attendees see (new objects from the moderators' rows of db/interaction.h) -------- */

/* POLL: without results unless they are shown. */
json_t *lc_room_poll_view(const json_t *poll);
/* QUESTION: the name only when names are not hidden and the asker agreed; "mine" (and
 * "upvoted": false, for the caller to correct) when `viewer` (a registration) is given. */
json_t *lc_room_question_view(const json_t *q, bool names_hidden, int64_t viewer);
/* MESSAGE, as above. */
json_t *lc_room_chat_view(const json_t *m, bool names_hidden, int64_t viewer);
/* Whether attendee `viewer` may see the message (public, or private to or from them; not
 * deleted). */
bool lc_room_chat_visible(const json_t *m, int64_t viewer);
/* HAND: {"raised", "raised_at", "acknowledged_at"}. */
json_t *lc_room_hand_view(const json_t *h);
/* SETTINGS: {"questions_public", "chat_enabled", "names_hidden"}. */
json_t *lc_room_settings(const lc_webinar_t *w);

/* ---- publishing (any thread; changes from the writer's commit hook, in commit order) ------- */

/* What a committed change means to moderators and attendees (a vote only marks its poll's
 * results for the thread). */
void lc_room_publish_change(lc_room_t *room, const lc_ix_job_t *job);
void lc_room_publish_settings(lc_room_t *room, const lc_webinar_t *w);
void lc_room_publish_ended(lc_room_t *room, int64_t webinar_id);

/* After a moderator ended a webinar, publishing to it is refused this long: encoders such as
 * OBS reconnect by themselves and would otherwise start it again at once. */
#define LC_ROOM_END_HOLD_MS 120000
/* Marks the webinar as ended by a moderator now (lc_room_publish_ended does). */
void lc_room_mark_ended(lc_room_t *room, int64_t webinar_id);
/* Whether a moderator ended it within LC_ROOM_END_HOLD_MS. */
bool lc_room_recently_ended(lc_room_t *room, int64_t webinar_id);

#endif
