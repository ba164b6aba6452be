/* One RTMP publishing connection as a socket-free state machine: feed it the bytes the peer sent,
 * take the bytes to send back, and observe its effects through a sink (authorize + attach a
 * publisher, declare tracks, write packets, detach). The listener wires the sink to the
 * stream-key hook and lc_live; unit tests and fuzzers wire it to recorders.
 *
 *   HANDSHAKE → WAIT_CONNECT → CONNECTED ⇄ PUBLISHING      (FCUnpublish/deleteStream: back to
 *                                  │            │           CONNECTED, publisher finished as stopped)
 *                                  └─ publish refused → CLOSING (flush, then close)
 *   any protocol violation → FAILED (close now; one log line "rtmp: conn N: <what>")
 *
 * Media: H.264 + AAC in FLV tags. The publisher is started once every track announced by
 * onMetaData has its sequence header — or, without metadata (or when a promised header never
 * comes), once media of one kind has run LC_RTMP_START_WAIT_MS without the other kind's header.
 * Packets before the start are held (bounded) and written right after it.
 * Packets: stream_index 0 = video, 1 = audio (fixed, whichever tracks exist); dts/pts in ms from
 * the RTMP timestamps, unwrapped to 64 bits and strictly increasing per track. Small regressions
 * are clamped (+1 ms, logged once per track); a step back of more than LC_RTMP_TS_REBASE_MS or
 * forward of more than LC_RTMP_TS_JUMP_MS starts a new timeline that continues from the last
 * timestamp plus the track's usual step (the first such jump is logged, once per connection).
 *
 * Until a publish is accepted the peer has not authenticated, and gets a small budget: messages
 * of at most LC_RTMP_PREAUTH_MAX_MESSAGE bytes, LC_RTMP_PREAUTH_MAX_BUFFERED bytes of partial
 * messages, LC_RTMP_PREAUTH_OUTPUT_MAX bytes of unsent output; the LC_CHUNK_MAX_* limits and
 * LC_RTMP_OUTPUT_MAX apply from the publish on (for the rest of the connection).
 *
 * Threads: a conn is used by one thread at a time; the sink is called on that thread, from inside
 * lc_rtmp_conn_feed, lc_rtmp_conn_end and lc_rtmp_conn_free. */
#ifndef LC_INGEST_RTMP_CONN_H
#define LC_INGEST_RTMP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#define LC_RTMP_OUT_CHUNK_SIZE 4096u     /* the chunk size we announce and send with */
#define LC_RTMP_WINDOW_ACK_SIZE 2500000u /* announced to the peer; also our default ack window */
#define LC_RTMP_MIN_ACK_WINDOW 4096u     /* a peer's smaller Window Ack Size is raised to this */
#define LC_RTMP_OUTPUT_MAX (1u << 20)    /* unsent bytes before the peer counts as not reading */
#define LC_RTMP_APP_MAX 128              /* bytes of the application name */
#define LC_RTMP_KEY_MAX 256              /* bytes of a stream key */
#define LC_RTMP_START_WAIT_MS 1000       /* media without the other track's header, see above */
#define LC_RTMP_HOLD_MAX_PACKETS 1024    /* packets held before the start... */
#define LC_RTMP_HOLD_MAX_BYTES (16u << 20) /* ...and their bytes; beyond either we start anyway */
#define LC_RTMP_TS_REBASE_MS 1000        /* a larger step back is a new timeline, not jitter */
#define LC_RTMP_TS_JUMP_MS 10000         /* a larger step forward is a new timeline, not a gap */
/* Before the publish. The largest command a real publisher sends then is ffmpeg's connect (built
 * in a 5120-byte packet: tcUrl and app up to 1 KiB each, flashVer, optional swfUrl/pageUrl and
 * -rtmp_conn extras); OBS builds its connect in 4096 bytes, publish in 1024. */
#define LC_RTMP_PREAUTH_MAX_MESSAGE 8192u
#define LC_RTMP_PREAUTH_MAX_BUFFERED (64u << 10)
#define LC_RTMP_PREAUTH_OUTPUT_MAX (16u << 10) /* all we send before it is under 4 KiB */

enum { LC_RTMP_STREAM_VIDEO = 0, LC_RTMP_STREAM_AUDIO = 1 };

typedef enum {
    LC_RTMP_HANDSHAKE = 0, /* C0/C1/C2 */
    LC_RTMP_WAIT_CONNECT,  /* handshake done; `connect` expected */
    LC_RTMP_CONNECTED,     /* connect answered; createStream/publish may follow */
    LC_RTMP_PUBLISHING,    /* publish accepted: a publisher is attached */
    LC_RTMP_CLOSING,       /* refused: send what is queued, then close; input is ignored */
    LC_RTMP_FAILED,        /* protocol violation (logged): close now */
} lc_rtmp_state_t;

/* The conn's effects. All are called synchronously on the conn's thread; strings and parameters
 * are borrowed for the duration of the call. */
typedef struct {
    /* `publish` arrived for application `app` with `key` (already stripped of any "?query").
     * Authorize and attach a publisher. Return 0; LC_EDENIED for an unknown key and LC_ECONFLICT
     * when the webinar is already live (both answered NetStream.Publish.BadName); any other
     * negative code is answered NetStream.Publish.Rejected. The connection closes after a
     * refusal. */
    int (*publish)(void *opaque, const char *app, const char *key);
    /* The track set: exactly once per accepted publish, before the first write. One of the two
     * may be NULL, never both. Return 0, or a negative code to drop the connection. */
    int (*start)(void *opaque, const AVCodecParameters *video, const AVCodecParameters *audio);
    /* One packet (see above). The callee takes its own reference. Return 0, or a negative code
     * (LC_ELIMIT: the live queue is full) to drop the connection. */
    int (*write)(void *opaque, const AVPacket *pkt);
    /* The publisher detaches; once per accepted publish. `stopped`: the presenter ended the
     * broadcast (FCUnpublish/deleteStream) or the server shuts down; false: the connection was
     * lost (socket dropped, protocol error) and the stream should wait in grace. */
    void (*finish)(void *opaque, bool stopped);
    void *opaque;
} lc_rtmp_sink_t;

typedef struct lc_rtmp_conn lc_rtmp_conn_t;

/* A conn in HANDSHAKE. `sink` is copied; `id` appears in log lines ("rtmp: conn 7: ..."; never an
 * address). Returns NULL when out of memory. */
lc_rtmp_conn_t *lc_rtmp_conn_new(const lc_rtmp_sink_t *sink, uint64_t id);

/* Frees the conn. A publisher still attached is finished as lost (finish(false)): call
 * lc_rtmp_conn_end first for any other outcome. NULL-safe; sets *pc to NULL. */
void lc_rtmp_conn_free(lc_rtmp_conn_t **pc);

/* Detaches the publisher now, if one is attached: finish(stopped). Used by the listener when the
 * server stops (stopped = true). */
void lc_rtmp_conn_end(lc_rtmp_conn_t *c, bool stopped);

/* Processes bytes received from the peer (any split works). Returns 0 — then check the state:
 * CLOSING means flush the output and close — or a negative code (LC_EPROTO_RTMP, LC_EMEDIA,
 * LC_ELIMIT, -ENOMEM) after which the connection must be closed; the reason was logged once.
 * A peer that exceeds its budget (see above: it depends on whether it has published) or leaves
 * more output unread fails with LC_EPROTO_RTMP. */
int lc_rtmp_conn_feed(lc_rtmp_conn_t *c, const uint8_t *data, size_t len);

/* Bytes waiting to be sent (pointer valid until the next call on the conn), and how many of them
 * were sent. */
const uint8_t *lc_rtmp_conn_output(const lc_rtmp_conn_t *c, size_t *len);
void lc_rtmp_conn_output_sent(lc_rtmp_conn_t *c, size_t n);

lc_rtmp_state_t lc_rtmp_conn_state(const lc_rtmp_conn_t *c);
/* True once a publish has been accepted on this connection (even if it has stopped since). */
bool lc_rtmp_conn_has_published(const lc_rtmp_conn_t *c);
/* Name of a state for logs and tests ("PUBLISHING"). */
const char *lc_rtmp_state_name(lc_rtmp_state_t s);

#endif
