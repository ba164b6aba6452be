/* The RTMP chunk stream: a reader that reassembles the peer's messages from interleaved chunks,
 * and a writer that splits our messages into chunks. Both are pure (no sockets, no logging).
 *
 * The reader is incremental: any split of the input (down to one byte at a time) yields the same
 * messages. It applies the chunk-layer control messages itself (Set Chunk Size, Abort) and hands
 * every other complete message to the caller, one per call, so that a message can change how the
 * bytes after it are read. Everything the peer declares is bounded before it is used: chunk size,
 * message length, number of chunk streams, bytes held in partial messages.
 */
#ifndef LC_INGEST_CHUNK_H
#define LC_INGEST_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ingest/why.h"

/* Message type ids. */
enum {
    LC_RTMP_MSG_SET_CHUNK_SIZE = 1,
    LC_RTMP_MSG_ABORT = 2,
    LC_RTMP_MSG_ACK = 3,
    LC_RTMP_MSG_USER_CONTROL = 4,
    LC_RTMP_MSG_WINDOW_ACK_SIZE = 5,
    LC_RTMP_MSG_SET_PEER_BW = 6,
    LC_RTMP_MSG_AUDIO = 8,
    LC_RTMP_MSG_VIDEO = 9,
    LC_RTMP_MSG_DATA_AMF3 = 15,
    LC_RTMP_MSG_SHARED_OBJECT_AMF3 = 16,
    LC_RTMP_MSG_COMMAND_AMF3 = 17,
    LC_RTMP_MSG_DATA_AMF0 = 18,
    LC_RTMP_MSG_SHARED_OBJECT_AMF0 = 19,
    LC_RTMP_MSG_COMMAND_AMF0 = 20,
    LC_RTMP_MSG_AGGREGATE = 22,
};

#define LC_CHUNK_DEFAULT_SIZE 128u          /* until Set Chunk Size */
#define LC_CHUNK_MAX_SIZE (16u << 20)       /* largest Set Chunk Size we accept from a peer */
#define LC_CHUNK_MAX_MESSAGE (8u << 20)     /* largest message (a 4K keyframe is ~2 MB) */
#define LC_CHUNK_MAX_STREAMS 32             /* distinct chunk stream ids per connection */
#define LC_CHUNK_MAX_BUFFERED (32u << 20)   /* bytes allocated for messages being reassembled */
/* (The last two are a new reader's limits and the ceiling of lc_chunk_reader_set_limits.) */
#define LC_CHUNK_CSID_MAX 65599u            /* largest id the 3-byte basic header can carry */

/* One complete message. `data` points into the reader and stays valid until the next call to
 * lc_chunk_reader_feed (or free). */
typedef struct {
    uint32_t csid;      /* chunk stream it arrived on */
    uint8_t type;       /* LC_RTMP_MSG_* */
    uint32_t stream_id; /* message stream id */
    uint32_t timestamp; /* absolute, milliseconds, 32 bits: it wraps */
    const uint8_t *data;
    uint32_t len;
} lc_rtmp_msg_t;

typedef struct lc_chunk_reader lc_chunk_reader_t;

/* A reader at chunk size 128. Returns NULL when out of memory. */
lc_chunk_reader_t *lc_chunk_reader_new(void);
/* Frees the reader and every partial message; sets *pr to NULL. NULL-safe. */
void lc_chunk_reader_free(lc_chunk_reader_t **pr);

/* Reads from `in` until one message is complete or `len` is used up; *used says how many bytes
 * were taken (the caller passes the rest in the next call).
 *   1: *msg holds a complete message (never a Set Chunk Size or Abort: those are applied here);
 *   0: all input consumed, no complete message yet;
 *   LC_EPROTO_RTMP: the peer broke the protocol or a limit (reason in `why`); -ENOMEM.
 * After an error the reader stays failed. */
int lc_chunk_reader_feed(lc_chunk_reader_t *r, const uint8_t *in, size_t len, size_t *used,
                         lc_rtmp_msg_t *msg, lc_why_t *why);

/* The chunk size the peer currently sends with. */
uint32_t lc_chunk_reader_chunk_size(const lc_chunk_reader_t *r);

/* Sets the largest message length the reader accepts and the bytes it may allocate for partial
 * messages (both capped at LC_CHUNK_MAX_MESSAGE and LC_CHUNK_MAX_BUFFERED; 0 means the cap). A
 * connection keeps them small until the peer has authenticated. They apply to every header and
 * every allocation after the call: a message already being reassembled keeps its length, and
 * lowering the budget frees nothing (further growth fails instead). */
void lc_chunk_reader_set_limits(lc_chunk_reader_t *r, uint32_t max_message, size_t max_buffered);

/* Appends `len` bytes of payload as one message to `out`: a type-0 chunk, then type-3 chunks of
 * at most `chunk_size` bytes, repeating the extended timestamp on each (as ffmpeg and Adobe do)
 * when `timestamp` >= 0xFFFFFF. csid is 2..65599. Returns 0, -EINVAL or -ENOMEM. */
int lc_chunk_write(lc_bytes_t *out, uint32_t chunk_size, uint32_t csid, uint8_t type,
                   uint32_t stream_id, uint32_t timestamp, const void *payload, size_t len);

#endif
