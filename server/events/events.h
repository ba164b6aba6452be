/* Live events of webinars: per webinar an ordered log with sequence numbers (the newest
 * LC_EVENTS_RING events kept in memory) and the readers subscribed to it (Server-Sent Events
 * streams). An event is serialised once per audience (moderators, attendees) as a complete SSE
 * frame; readers copy frames straight into their connection's buffer. Nothing here is stored:
 * the database is the truth, and a reader that cannot resume gets a snapshot built from it.
 * Thread-safe. */
#ifndef LC_EVENTS_EVENTS_H
#define LC_EVENTS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

typedef struct lc_events lc_events_t;
typedef struct lc_event_sub lc_event_sub_t;

/* Events kept per webinar for readers that reconnect (Last-Event-ID). A power of two. */
#define LC_EVENTS_RING 4096
/* A comment line is sent on every idle stream this often by default (--events-ping), so that
 * proxies keep it open (and a client that went away is noticed: a suspended connection sees no
 * disconnect). */
#define LC_EVENTS_PING_DEFAULT_MS 15000

/* Event ids are "EPOCH-SEQ": a webinar's log gets `epoch` + n, n counting the logs made by this
 * table, so ids of an earlier process (another random `epoch`) or of a log since freed are not
 * resumable. A webinar's log (~200 KiB) that nobody read or wrote for `idle_ms` is freed by
 * lc_events_ping. NULL when out of memory. */
#define LC_EVENTS_IDLE_MS (30 * 60 * 1000LL)
lc_events_t *lc_events_new(int64_t epoch, int64_t idle_ms);
/* No reader may be subscribed any more. NULL-safe; sets *pev to NULL. */
void lc_events_free(lc_events_t **pev);

/* Who an attendee-side event is for. */
#define LC_EVENTS_NO_ATTENDEE (-1) /* moderators only */
#define LC_EVENTS_ALL_ATTENDEES 0

/* Appends an event of `type` to the webinar's log and wakes the readers who may see it.
 * `mod`: what moderators get (NULL: not for them); `att`: what attendees get (NULL: not for
 * them), `att_reg` LC_EVENTS_ALL_ATTENDEES or the one registration it is for. Borrows both
 * (serialised here). Returns the event's sequence number, or -ENOMEM. Any thread; never blocks
 * for long (callers publish from the writer's commit hook). */
int64_t lc_events_publish(lc_events_t *ev, int64_t webinar_id, const char *type, json_t *mod,
                          json_t *att, int64_t att_reg);

/* ---- readers ---------------------------------------------------------------------------- */

typedef void (*lc_events_wake_cb)(void *opaque);

/* Subscribes a reader: a moderator (`registration_id` 0) or an attendee. `last_event_id` (the
 * client's Last-Event-ID, or NULL) resumes after that event when this log still holds
 * everything after it; otherwise *snapshot is set: the caller must build the reader's snapshot
 * from the database and give it with lc_event_sub_snapshot before the first read (events
 * published meanwhile follow it; every event carries whole objects, so one the snapshot already
 * reflects does no harm). At most `max_streams` readers per registration of a webinar (all
 * moderators together count as registration 0; 0: no limit): one link cannot hold thousands of
 * connections. 0 and *out, -EMFILE over the limit, or -ENOMEM. */
int lc_events_subscribe(lc_events_t *ev, int64_t webinar_id, int64_t registration_id,
                        const char *last_event_id, int max_streams, bool *snapshot,
                        lc_event_sub_t **out);
/* Queues the snapshot frame (`event: snapshot`, borrowed) as the reader's first: 0 or
 * -ENOMEM. */
int lc_event_sub_snapshot(lc_event_sub_t *sub, json_t *data);
/* Sets what is called (from the publishing thread, with the log's lock held: it must only
 * signal) when the reader has something new. Until set, nothing is called. */
void lc_event_sub_set_wake(lc_event_sub_t *sub, lc_events_wake_cb wake, void *opaque);
/* Copies what is due into buf[max]: the snapshot, then the frames after the reader's position
 * that it may see, then a ping comment when one is due. Returns the bytes written (> 0), 0 when
 * there is nothing (wait for the wake), or -EPIPE when the reader fell so far behind that the
 * log no longer holds its next event (end the stream: the client reconnects and resumes, or
 * gets a new snapshot). One thread at a time per reader. */
ssize_t lc_event_sub_read(lc_event_sub_t *sub, char *buf, size_t max);
/* Unsubscribes and frees. NULL-safe; sets *psub to NULL. */
void lc_event_sub_free(lc_event_sub_t **psub);

/* Marks a ping due on every reader and wakes them (called every --events-ping); frees the logs
 * idle for `idle_ms`. */
void lc_events_ping(lc_events_t *ev);
/* The distinct attendees with an open stream to the webinar. */
size_t lc_events_audience(lc_events_t *ev, int64_t webinar_id);
/* The webinar's last sequence number (0 before its first event). */
int64_t lc_events_last_seq(lc_events_t *ev, int64_t webinar_id);

/* Exported for unit tests: parses "EPOCH-SEQ". 0 and *epoch, *seq, or -EINVAL. */
int lc_events_parse_id(const char *id, int64_t *epoch, int64_t *seq);

#endif
