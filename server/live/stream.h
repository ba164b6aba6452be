/* One live stream (= one session of a webinar): its packet queue, its worker thread, its window,
 * its recording. Internal to server/live: live.c keeps the registry of streams, the publisher
 * functions of live.h are implemented in stream.c.
 *
 * States (guarded by the stream's mutex):
 *   STARTING → RUNNING ⇄ GRACE → ENDING → ENDED → (worker exits after the linger)
 * STARTING: the worker runs the session_begin hook; RUNNING: a publisher is attached; GRACE: it
 * dropped and the worker waits for the deadline; ENDING: the worker finishes the session (entered
 * from RUNNING when the presenter stops or lc_stream_end cuts the publisher off, from GRACE at
 * the deadline, lc_stream_end or lc_stream_stop); ENDED: the window lingers, readable, until
 * ended_linger_ms pass or lc_stream_stop.
 */
#ifndef LC_LIVE_STREAM_H
#define LC_LIVE_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "live/live.h"
#include "live/window.h"

typedef struct lc_stream lc_stream_t;

/* Creates a stream for a new session, in STARTING with its first publisher counted as attached
 * (so that a concurrent publish sees a conflict); no thread yet. `cfg` and `hooks` are borrowed
 * and must outlive the stream (they belong to the registry). Returns NULL when out of memory. */
lc_stream_t *lc_stream_new(const lc_live_config_t *cfg, const lc_live_hooks_t *hooks,
                           int64_t webinar_id, const char *name);

/* Starts the worker, which runs session_begin, and waits for its answer (one database insert).
 * Returns 0 and the first publisher, or the hook's code: the worker then exits on its own and the
 * stream is to be freed. */
int lc_stream_start(lc_stream_t *s, lc_publisher_t **out);

/* Attaches a publisher to a stream in GRACE (a reconnect: same session). Returns 0 and *out,
 * LC_ECONFLICT while a publisher is attached (or the session is starting), LC_ENOTFOUND when the
 * session is over or ending (a new session is needed). Any thread. */
int lc_stream_attach(lc_stream_t *s, lc_publisher_t **out);

/* For lc_live_state: RUNNING, GRACE, or OFFLINE (starting, ending, ended). Any thread. */
lc_live_state_t lc_stream_state(lc_stream_t *s, int64_t *session_id);

/* For lc_live_health: state and session as lc_stream_state, and in RUNNING the publisher's
 * measures (live/meter.h). *out is overwritten. Any thread. */
void lc_stream_health(lc_stream_t *s, lc_live_health_t *out);

/* For lc_live_end: a RUNNING or GRACE stream goes to ENDING, as when the presenter stops (the
 * worker packages what is queued, then ends the session); the attached publisher's writes are
 * refused from now on. Does not wait. 0, or LC_ENOTFOUND in any other state. Any thread. */
int lc_stream_end(lc_stream_t *s);

/* A new reference to the window, or NULL once the linger is over. Any thread. */
lc_window_t *lc_stream_window(lc_stream_t *s);

int64_t lc_stream_webinar(const lc_stream_t *s);
/* The name readers find the stream by (lc_live_window); a secret: never log it. */
const char *lc_stream_name(const lc_stream_t *s);

/* Asks the worker to wind down without waiting: a session in grace ends now, an ended stream
 * stops lingering (its window is released). A stream whose publisher is still attached (the
 * ingest was not stopped first) ends as if the presenter had stopped. Any thread. */
void lc_stream_stop(lc_stream_t *s);

/* True once the worker has returned (lc_stream_free will not wait) and no publisher holds the
 * stream (after lc_stream_end, the cut-off one does until lc_publisher_finish): the stream may
 * then be freed. Any thread. */
bool lc_stream_exited(lc_stream_t *s);

/* Waits for the worker to return (call lc_stream_stop first unless it has exited), then frees
 * the stream. NULL-safe; sets *ps to NULL. Not from the worker itself. */
void lc_stream_free(lc_stream_t **ps);

#endif
