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

#define LC_MEDIA_NAME_MAX 64 /* including the NUL */

typedef struct lc_ingest lc_ingest_t;

typedef struct {
    /* Maps a stream key to the webinar it publishes. Called on the listener thread when a
     * `publish` arrives (app = the connect's application name, "live"). Returns 0 and fills
     * *webinar_id and media_name (the name its live media is published under, lc_live_publish:
     * the webinar's live key, a secret the ingest never logs), or LC_EDENIED for an unknown key
     * (the publish is refused with NetStream.Publish.BadName and the connection closed). Must
     * compare in constant time. */
    int (*authorize)(void *opaque, const char *app, const char *stream_key, int64_t *webinar_id,
                     char media_name[LC_MEDIA_NAME_MAX]);
    void *opaque;
} lc_ingest_hooks_t;

/* Limits and timeouts. A connection is "pending" until a publish is accepted on it (the peer has
 * shown a valid stream key); until then it gets little (see rtmp_conn.h) and may be evicted.
 * Fields that are 0 (or negative) take their defaults, so a caller that zero-initializes the
 * struct and sets only the fields it knows keeps working as fields are added (at the end). */
typedef struct {
    const char *listen;        /* "HOST:PORT", "[::1]:PORT" or ":PORT"; default "0.0.0.0:1935" */
    /* Connections at once; default 256. At the limit, a new connection closes the oldest pending
     * one to take its place (so that a flood of idle connections cannot lock out a presenter);
     * only when every connection is publishing is the new one refused. */
    int max_connections;
    int handshake_timeout_ms;  /* a pending connection must publish within this; default 5000 */
    /* No bytes for this long closes a connection that is not publishing (it published and
     * stopped, or it is pending); default 30000. */
    int idle_timeout_ms;
    /* No bytes for this long closes a publishing connection as lost: its stream waits in grace,
     * and the presenter's reconnect (refused as "already live" while the old connection is
     * attached) goes through. Media flows many times a second, so silence this long is a dead
     * (typically half-open) connection. Default 10000. */
    int publish_idle_timeout_ms;
    /* Pending connections per remote address (an IPv4 address or an IPv6 /64, kept in memory
     * only); a new one beyond it is refused. Default 8. */
    int max_pending_per_address;
} lc_ingest_config_t;

/* Fills every field with its default. */
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
