/* The waiting room in memory: who is waiting in which webinar right now (attendees whose join
 * page is open and not yet admitted), and the suspended requests to wake when something changes
 * for a webinar (an admission, the stream going live or ending). Nothing here is stored: a
 * restart empties the room and the pages come back within one poll. Thread-safe. */
#ifndef LC_API_LOBBY_H
#define LC_API_LOBBY_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

typedef struct lc_lobby lc_lobby_t;

/* An attendee counts as waiting this long after their page last asked. */
#define LC_LOBBY_PRESENCE_MS 45000

lc_lobby_t *lc_lobby_new(void);
/* NULL-safe; sets *pl to NULL. No request may be waiting any more. */
void lc_lobby_free(lc_lobby_t **pl);

/* A suspended request waiting for news of a webinar; the caller owns the node and keeps it
 * alive until lc_lobby_cancel returned (or the wake happened). */
typedef struct lc_lobby_waiter {
    struct lc_lobby_waiter *prev, *next;
    int64_t webinar_id;
    int64_t registration_id;
    lc_req_t *req;
} lc_lobby_waiter_t;

void lc_lobby_wait(lc_lobby_t *l, lc_lobby_waiter_t *w, int64_t webinar_id,
                   int64_t registration_id, lc_req_t *req);
/* Unregisters a waiter (NULL-safe, idempotent): afterwards it will not be woken. */
void lc_lobby_cancel(lc_lobby_t *l, lc_lobby_waiter_t *w);
/* Wakes (lc_req_wake) and unregisters every waiter of the webinar. NULL-safe. */
void lc_lobby_wake(lc_lobby_t *l, int64_t webinar_id);
/* The same for the waiters of these registrations only (a decision, an admission of some):
 * the others keep waiting instead of all asking again at once. */
void lc_lobby_wake_some(lc_lobby_t *l, int64_t webinar_id, const int64_t *ids, size_t n);

/* Presence: `registration_id` of `webinar_id` is waiting (seen now), or left (admitted). */
void lc_lobby_seen(lc_lobby_t *l, int64_t webinar_id, int64_t registration_id, int64_t now_ms);
void lc_lobby_leave(lc_lobby_t *l, int64_t registration_id);
/* The registrations waiting in a webinar (seen within LC_LOBBY_PRESENCE_MS), oldest arrival
 * first: 0 and *ids (free() it) and *n, or -ENOMEM. Forgets those not seen for long. */
int lc_lobby_present(lc_lobby_t *l, int64_t webinar_id, int64_t now_ms, int64_t **ids,
                     size_t *n);

#endif
