/* RTMP ingest: one listener thread runs an event loop (epoll) over every presenter connection.
 * Each connection speaks RTMP (handshake → chunk stream → AMF0 commands → publish) and turns FLV
 * audio/video messages into packets for a live publisher (server/live/live.h).
 *
 * Publish URL: rtmp://HOST:PORT/live/STREAM_KEY (OBS: server rtmp://HOST/live, key STREAM_KEY).
 * Hostile input closes that one connection with one log line; nothing else is affected.
 */
#ifndef LC_INGEST_INGEST_H
#define LC_INGEST_INGEST_H

#include <stdint.h>

#include "live/live.h"

#define LC_SLUG_MAX 64 /* including the NUL */

typedef struct lc_ingest lc_ingest_t;

typedef struct {
    /* Maps a stream key to the webinar it publishes. Called on the listener thread when a
     * `publish` arrives (app = the connect's application name, "live"). Returns 0 and fills
     * *webinar_id and slug, or LC_EDENIED for an unknown key (the publish is refused with
     * NetStream.Publish.BadName and the connection closed). Must compare in constant time. */
    int (*authorize)(void *opaque, const char *app, const char *stream_key, int64_t *webinar_id,
                     char slug[LC_SLUG_MAX]);
    void *opaque;
} lc_ingest_hooks_t;

typedef struct {
    const char *listen;        /* "HOST:PORT", "[::1]:PORT" or ":PORT"; default "0.0.0.0:1935" */
    int max_connections;       /* default 256 */
    int handshake_timeout_ms;  /* a connection must finish connect+publish within; default 10000 */
    int idle_timeout_ms;       /* no bytes for this long closes the connection; default 30000 */
} lc_ingest_config_t;

void lc_ingest_config_default(lc_ingest_config_t *cfg);

/* Binds the listen address and starts the listener thread. On failure returns NULL and sets *err
 * (e.g. -EADDRINUSE); the error was logged. `live` must outlive the ingest. Main thread. */
lc_ingest_t *lc_ingest_start(const lc_ingest_config_t *cfg, lc_live_t *live,
                             const lc_ingest_hooks_t *hooks, int *err);

/* The port actually bound (useful with port 0 in tests). */
int lc_ingest_port(const lc_ingest_t *ing);

/* Stops the listener thread and closes every connection; their publishers finish as stopped
 * (the sessions end: this is a server shutdown, not a network failure). NULL-safe. */
void lc_ingest_stop(lc_ingest_t **ping);

#endif
