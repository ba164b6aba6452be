/* llhls-load: N simulated low-latency HLS viewers against one live media playlist, for a fixed
 * time. Prints a JSON report on stdout and a one-line summary on stderr. Build: make -C bench
 * (needs libhttp-parser-dev and zlib1g-dev).
 *
 * Each viewer behaves like hls.js in low-latency mode: it loads the media playlist once (the
 * init segment and the last few parts, the way a player tunes in PART-HOLD-BACK behind the edge),
 * then loops on a blocking reload `?_HLS_msn=M&_HLS_part=N` for the part after the last one
 * listed (the preload hint names it; `_HLS_skip=YES` when CAN-SKIP-UNTIL is advertised) and,
 * alongside it, fetches every part it has not fetched yet, one after the other on a second
 * connection: two connections per viewer, as a browser on HTTP/1.1 holds them. A playlist
 * without CAN-BLOCK-RELOAD or parts is polled as plain HLS instead (a reload every target
 * duration, half of it when nothing changed; new segments fetched), so the tool also runs
 * against a server without LL-HLS and says which of the two it saw.
 *
 * Transport (lib/hconn.c, shared with registration-load): plain non-blocking TCP sockets, one epoll
 * loop (level-triggered) per thread (--threads), each thread with its share of the viewers. Every
 * viewer holds two HTTP/1.1 keep-alive connections, one for its playlist requests and one for its
 * media, each carrying one request at a time (no pipelining); a connection is opened when a request
 * needs it, kept while the server keeps it, and opened again after the server closed it or it
 * failed. A request is written with one send() (epoll watches for EPOLLOUT only while connecting or
 * after a partial send); responses are read with recv() into one 256 KiB buffer per thread and
 * parsed by http_parser (libhttp-parser). Media bodies are counted and dropped there (as received:
 * never inflated); playlist bodies are copied into the viewer's buffer (4 MiB at most) and, when
 * the server gzip'd them (Accept-Encoding: gzip goes with every request, as a browser sends it,
 * unless --no-gzip), inflated with zlib, without checking their CRC-32. A request that finds its
 * kept-alive connection closed by the server before the first byte of the response (the keep-alive
 * race) is sent once more on a new connection, as browsers do; that is not an error. Each request
 * has a deadline (--timeout, connecting included) in the thread's timer heap.
 *
 * Measured, in the window after the ramp and warm-up (errors over the whole run):
 *   lag        for every playlist response: arrival − (EXT-X-PROGRAM-DATE-TIME of the segment
 *              holding the last listed part + the part durations up to the end of that part); the
 *              end of the last segment for plain HLS. Arrival is the wall clock when the last byte
 *              of the response has been parsed, so it includes the time this process took to get
 *              to the socket: when thousands of responses land at once, one event loop reads them
 *              one after the other, and the later ones look late. Run a second instance with a
 *              few viewers beside a large one (bench/llhls-capacity.mjs does) for what one more
 *              viewer sees.
 *   block      total time of each blocking playlist request, from its start (a connect included)
 *              to its last byte (mostly the server holding it until the part exists: about one
 *              part duration when all is well).
 *   part, segment  the same for each media fetch.
 * Errors (whole run), each failed request counted once, under one kind:
 *   http       a status other than 200/206, by status (the response is read to its end);
 * and, for the next three, one cause in errors.detail:
 *   timeout    no complete response --timeout seconds after the request started (detail:
 *              timeout_connecting, timeout_waiting for the first byte, timeout_receiving);
 *   connection connect, send or recv failed (detail: the errno's name, e.g. ECONNREFUSED), or
 *              the server closed the connection before the response ended (closed_early);
 *   other      a malformed response (http_parser's error name, e.g. HPE_INVALID_CONSTANT), a
 *              playlist body or inflated playlist over 4 MiB (too_large), bad gzip (gunzip), a
 *              Content-Encoding other than gzip (content_encoding), a URI that does not fit or
 *              names another host (url), epoll_ctl failing or memory running out (their errno);
 *   playlist_parse  a 200 response that is not a media playlist.
 * A blocking response that does not yet list the part asked for is counted apart.
 *
 * Requests go only to the origin of --url (resolved once at start: the first of its addresses
 * that accepts a connection); the run ends by itself after --seconds. Exit status: 0, 3 when any
 * request failed, 2 on bad arguments, 1 when out of memory or descriptors. */
#define _GNU_SOURCE
#define ZLIB_CONST
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <zlib.h>

#include "lib/hconn.h"
#include "lib/samples.h"

#define MAX_PLAYLIST_BYTES (4 << 20) /* a playlist body, as received and inflated */
#define MAX_PARTS 512     /* parts one playlist may list that we keep track of */
#define QUEUE_CAP 32      /* media requests a viewer may have queued (it skips older ones) */
#define URI_MAX 256
#define START_PARTS 3     /* parts fetched at tune-in (PART-HOLD-BACK is 3 part targets) */
#define ERROR_BACKOFF_S 1.0
#define CONNS_PER_VIEWER 2
#define RECV_BUF (256 << 10) /* per thread: every response is read into it */

/* ---- statistics (one per thread, merged at the end) ------------------------------------- */

enum { S_LAG, S_BLOCK, S_PLAYLIST, S_PART, S_SEGMENT, S_COUNT };
static const char *const sample_names[S_COUNT] = {"lag_ms", "block_wait_ms", "playlist_ms",
                                                  "part_ms", "segment_ms"};

/* Counters: those before C_WHOLE_RUN count only in the measured window. */
#define COUNTERS(X)                                                                               \
    X(C_REQUESTS, "requests")                                                                     \
    X(C_PLAYLIST_REQ, "playlist_requests")                                                        \
    X(C_BLOCKING_REQ, "blocking_requests")                                                        \
    X(C_MEDIA_REQ, "media_requests")                                                              \
    X(C_BODY_BYTES, "body_bytes")                                                                 \
    X(C_WIRE_BYTES, "wire_bytes")                                                                 \
    X(C_LL_PL, "ll_playlists")                                                                    \
    X(C_PLAIN_PL, "plain_playlists")                                                              \
    X(C_GZIP_PL, "gzip_playlists")                                                                \
    X(C_DELTA_PL, "delta_playlists")                                                              \
    X(C_STALE, "stale_blocking_responses")                                                        \
    X(C_HINT_MISMATCH, "hint_mismatches")                                                         \
    X(C_MEDIA_DROPPED, "media_dropped")                                                           \
    X(C_CONNECTS, "connections_opened")                                                           \
    X(C_RESENT, "requests_resent")                                                                \
    X(C_WHOLE_RUN, "")                                                                            \
    X(C_TIMEOUTS, "timeout")                                                                      \
    X(C_CONNECT_ERR, "connection")                                                                \
    X(C_OTHER_ERR, "other")                                                                       \
    X(C_PARSE_ERR, "playlist_parse")                                                              \
    X(C_STARTED, "viewers_started")                                                               \
    X(C_JOINED, "viewers_joined")
#define AS_ENUM(id, name) id,
#define AS_NAME(id, name) name,
enum { COUNTERS(AS_ENUM) C_COUNT };
static const char *const counter_names[C_COUNT] = {COUNTERS(AS_NAME)};

/* Why a request failed (errors.detail), besides errno names, http_parser's error names and the
 * connection's own causes (lib/hconn.h): HC_D_USER(CAUSE_…). */
#define CAUSES(X)                                                                                 \
    X(CAUSE_TOO_LARGE, "too_large")                                                               \
    X(CAUSE_GUNZIP, "gunzip")                                                                     \
    X(CAUSE_ENCODING, "content_encoding")                                                         \
    X(CAUSE_URL, "url")
enum { CAUSES(AS_ENUM) CAUSE_COUNT };
static const char *const cause_names[CAUSE_COUNT] = {CAUSES(AS_NAME)};
_Static_assert(CAUSE_COUNT <= HC_USER_SLOTS, "too many causes of our own");

typedef struct {
    uint64_t c[C_COUNT];
    uint64_t http_status[600];        /* whole run; index: status, [0]: out of range */
    uint64_t detail[HC_DETAIL_SLOTS]; /* whole run: the failures behind timeout/connection/other */
    samples_t s[S_COUNT];
} stats_t;

static uint64_t http_errors(const stats_t *st)
{
    uint64_t e = 0;
    for (int i = 0; i < 600; i++)
        if (i != 200 && i != 206)
            e += st->http_status[i];
    return e;
}

static uint64_t stats_errors(const stats_t *st)
{
    return http_errors(st) + st->c[C_TIMEOUTS] + st->c[C_CONNECT_ERR] + st->c[C_OTHER_ERR] +
           st->c[C_PARSE_ERR];
}

/* ---- the playlist as far as a viewer needs it ------------------------------------------- */

/* A part or segment the playlist lists; uri points into the playlist text (valid until the
 * viewer's next playlist request). */
typedef struct {
    int64_t msn;
    int idx; /* part index in its segment; -1 for a segment */
    const char *uri;
} media_ref_t;

typedef struct {
    double target_duration;
    int64_t media_sequence;
    int skipped;
    bool can_block, can_skip, endlist;
    const char *map_uri;  /* NULL when none */
    media_ref_t parts[MAX_PARTS]; /* in order (the newest MAX_PARTS when more) */
    int nparts;
    media_ref_t segs[8];  /* complete segments, the newest few, in order */
    int nsegs;
    int64_t next_msn;     /* msn of the segment after the last complete one */
    int partial_parts;    /* parts of segment next_msn listed so far */
    double edge_ms;       /* wall clock end of the newest listed media, NAN if unknown */
    bool has_hint;
    int64_t hint_msn;
    int hint_idx;         /* -1: the hint URI is not named part-<msn>.<i>.<ext> */
} playlist_t;

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]" → ms since the epoch, NAN when malformed. By hand:
 * sscanf and timegm were a tenth of the client's time at thousands of playlists a second. */
static double parse_pdt(const char *s)
{
    if (strnlen(s, 19) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return NAN;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || mi < 0 || sec < 0)
        return NAN;
    double ms = ((double)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1e3;
    const char *p = s + 19;
    if (*p == '.') {
        double scale = 100;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2), om = p[3] == ':' ? digits(p + 4, 2) : 0;
        if (oh < 0 || om < 0)
            return NAN;
        double off = (oh * 60.0 + om) * 60e3;
        ms += *p == '+' ? -off : off;
    }
    return ms;
}

/* Finds attribute `name` in an attribute list; returns its value (without quotes) and its end.
 * NULL when absent or malformed. */
static char *attr_find(char *line, const char *name, char **end)
{
    size_t len = strlen(name);
    for (char *p = line; (p = strstr(p, name)); p += len) {
        if ((p != line && p[-1] != ',' && p[-1] != ':') || p[len] != '=')
            continue;
        char *v = p + len + 1;
        if (*v == '"') {
            v++;
            *end = strchr(v, '"');
            if (!*end)
                return NULL;
        } else {
            *end = v + strcspn(v, ",");
        }
        return v;
    }
    return NULL;
}

/* The value of attribute `name`, cut in place (so: the last attribute read from that line). */
static const char *attr_cut(char *line, const char *name)
{
    char *end, *v = attr_find(line, name, &end);
    if (!v || end == v || end - v >= URI_MAX)
        return NULL;
    *end = 0;
    return v;
}

static double attr_num(char *line, const char *name, double dflt)
{
    char *end, *v = attr_find(line, name, &end);
    return v ? strtod(v, NULL) : dflt;
}

static bool attr_is(char *line, const char *name, const char *value)
{
    char *end, *v = attr_find(line, name, &end);
    size_t n = strlen(value);
    return v && (size_t)(end - v) == n && strncmp(v, value, n) == 0;
}

/* Parses a media playlist (the product's own format, not HTTP). Returns false when it is not
 * one. `text` is NUL-terminated and cut in place; pl points into it. */
static bool parse_playlist(char *text, playlist_t *pl)
{
    pl->target_duration = 0;
    pl->media_sequence = 0;
    pl->skipped = 0;
    pl->can_block = pl->can_skip = pl->endlist = pl->has_hint = false;
    pl->map_uri = NULL;
    pl->nparts = pl->nsegs = 0;
    pl->edge_ms = NAN;
    if (strncmp(text, "#EXTM3U", 7) != 0)
        return false;
    int64_t msn = -1;     /* msn of the segment being listed; known after MEDIA-SEQUENCE/SKIP */
    double pdt = NAN;     /* its start */
    double parts_dur = 0; /* its parts so far */
    int part_idx = 0;
    double extinf = -1;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        size_t len = next ? (size_t)(next - line) : strlen(line);
        if (next)
            *next++ = 0;
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        if (line[0] != '#') {
            if (!len)
                continue;
            if (msn < 0) /* a URI before any MEDIA-SEQUENCE: the sequence starts at 0 */
                msn = 0;
            if (extinf < 0 || len >= URI_MAX)
                return false;
            if (pl->nsegs == 8) {
                memmove(pl->segs, pl->segs + 1, 7 * sizeof pl->segs[0]);
                pl->nsegs--;
            }
            pl->segs[pl->nsegs++] = (media_ref_t){.msn = msn, .idx = -1, .uri = line};
            pl->edge_ms = pdt + extinf * 1e3;
            pdt += extinf * 1e3; /* a segment without its own PROGRAM-DATE-TIME follows on */
            msn++;
            part_idx = 0;
            parts_dur = 0;
            extinf = -1;
        } else if (strncmp(line, "#EXT-X-PART:", 12) == 0) {
            if (msn < 0)
                msn = 0;
            double d = attr_num(line, "DURATION", -1);
            const char *uri = attr_cut(line, "URI");
            if (d < 0 || !uri)
                return false;
            if (pl->nparts == MAX_PARTS) {
                memmove(pl->parts, pl->parts + 1, (MAX_PARTS - 1) * sizeof pl->parts[0]);
                pl->nparts--;
            }
            pl->parts[pl->nparts++] = (media_ref_t){.msn = msn, .idx = part_idx++, .uri = uri};
            parts_dur += d;
            pl->edge_ms = pdt + parts_dur * 1e3;
        } else if (strncmp(line, "#EXT-X-PROGRAM-DATE-TIME:", 25) == 0) {
            pdt = parse_pdt(line + 25);
        } else if (strncmp(line, "#EXTINF:", 8) == 0) {
            extinf = strtod(line + 8, NULL);
        } else if (strncmp(line, "#EXT-X-MEDIA-SEQUENCE:", 22) == 0) {
            pl->media_sequence = strtoll(line + 22, NULL, 10);
            msn = pl->media_sequence;
        } else if (strncmp(line, "#EXT-X-TARGETDURATION:", 22) == 0) {
            pl->target_duration = strtod(line + 22, NULL);
        } else if (strncmp(line, "#EXT-X-SERVER-CONTROL:", 22) == 0) {
            pl->can_block = attr_is(line, "CAN-BLOCK-RELOAD", "YES");
            pl->can_skip = attr_num(line, "CAN-SKIP-UNTIL", 0) > 0;
        } else if (strncmp(line, "#EXT-X-SKIP:", 12) == 0) {
            pl->skipped = (int)attr_num(line, "SKIPPED-SEGMENTS", 0);
            msn = pl->media_sequence + pl->skipped;
        } else if (strncmp(line, "#EXT-X-MAP:", 11) == 0) {
            pl->map_uri = attr_cut(line, "URI");
        } else if (strncmp(line, "#EXT-X-PRELOAD-HINT:", 20) == 0) {
            const char *uri;
            if (attr_is(line, "TYPE", "PART") && (uri = attr_cut(line, "URI"))) {
                pl->has_hint = true;
                pl->hint_idx = -1;
                const char *base = strrchr(uri, '/');
                base = base ? base + 1 : uri;
                long long m;
                int i, n = 0;
                if (sscanf(base, "part-%lld.%d.%*[a-z0-9]%n", &m, &i, &n) == 2 && n > 0) {
                    pl->hint_msn = m;
                    pl->hint_idx = i;
                }
            }
        } else if (strcmp(line, "#EXT-X-ENDLIST") == 0) {
            pl->endlist = true;
        }
    }
    if (msn < 0)
        return false;
    pl->next_msn = msn;
    pl->partial_parts = part_idx;
    return true;
}


/* ---- viewers, connections, threads ------------------------------------------------------ */

typedef enum { REQ_INIT, REQ_PART, REQ_SEGMENT } req_kind_t;

typedef struct {
    req_kind_t kind;
    char uri[URI_MAX];
} queued_t;

typedef struct worker worker_t;
typedef struct viewer viewer_t;

/* One of a viewer's two connections (lib/hconn.h), and what is parsed of its response. */
typedef struct {
    hc_conn_t hc;       /* first: hc.user is the viewer */
    viewer_t *v;
    bool playlist;      /* the playlist connection (else media) */
    bool keep_body;     /* playlist with status 200/206: its body goes to the viewer's buffer */
    bool gzip;          /* Content-Encoding: gzip */
    bool bad_encoding;  /* another Content-Encoding */
    bool in_value;      /* header parsing (playlist connection): in a value, else in a name */
    bool is_ce;         /* … of Content-Encoding */
    uint16_t name_len, val_len; /* header name and value lengths so far (saturating) */
    char name[16], val[16];     /* their first bytes: all a match needs */
    uint64_t wire;      /* body bytes of this response as received (before inflating) */
} conn_t;

struct viewer {
    hc_tmr_t timer;    /* first: on_tick when it fires */
    worker_t *w;
    int id;            /* 0..N-1 over all threads */
    conn_t pl, media;
    bool started, joined;
    bool pl_busy, media_busy;
    bool pl_blocking;  /* the playlist request in flight is a blocking reload */
    req_kind_t media_kind;
    char *body;        /* playlist response body as received (gzip'd or not) */
    size_t body_len, body_cap;
    char *body_copy;   /* --debug: the last playlist as received */
    char map_uri[URI_MAX];
    int64_t last_msn;  /* newest media queued: part (last_msn, last_idx), or segment last_msn */
    int last_idx;
    int64_t want_msn;  /* what the blocking request in flight asked for */
    int want_idx;
    double last_edge_ms; /* plain HLS: whether the playlist changed since the last reload */
    queued_t queue[QUEUE_CAP];
    int qhead, qlen;
};

struct worker {
    int index;
    hc_loop_t *loop;   /* every response is read into its RECV_BUF */
    viewer_t *viewers; /* this thread's own */
    int nviewers;
    char *text;        /* MAX_PLAYLIST_BYTES + 1: an inflated playlist */
    z_stream z;
    bool z_ready;
    stats_t st;
    pthread_t thread;
};

/* ---- options ---------------------------------------------------------------------------- */

static struct {
    char base[1024];  /* "http://HOST:PORT/DIR/", for URIs relative to the playlist */
    char origin[512]; /* "http://HOST:PORT", for URIs starting with '/' */
    const char *host; /* "HOST:PORT" (the Host header) */
    const char *base_path; /* "/DIR/" */
    const char *name; /* the playlist's file name */
    struct sockaddr_storage addr; /* the origin's, resolved once */
    socklen_t addrlen;
    double viewers, seconds, ramp, warmup, timeout, threads;
    bool skip, gzip, media, blocking, debug;
    double t0, measure_from, end_at; /* monotonic s */
    const char *json_path;
} opt = {.viewers = 100, .seconds = 60, .ramp = 5, .warmup = 2, .timeout = 15, .threads = 1,
         .skip = true, .gzip = true, .media = true, .blocking = true};

static bool measuring(double now) { return now >= opt.measure_from && now < opt.end_at; }

/* ---- requests and connections ----------------------------------------------------------- */

static void request_done(conn_t *c, bool ok, char *text, size_t text_len);

/* Writes the GET request for `uri`, as the playlist names it (relative to it, an absolute path,
 * or an absolute URL on the same origin), into c->hc.req. False when it does not fit or points
 * elsewhere. */
static bool build_request(conn_t *c, const char *uri, const char *query)
{
    const char *prefix = "";
    size_t olen = strlen(opt.origin);
    if (strstr(uri, "://")) {
        if (strncmp(uri, opt.origin, olen) != 0 || uri[olen] != '/')
            return false; /* another host: not ours to load */
        uri += olen;
        query = "";
    } else if (uri[0] != '/') {
        prefix = opt.base_path;
    }
    int n = snprintf(c->hc.req, sizeof c->hc.req,
                     "GET %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: llhls-load\r\n"
                     "Accept: */*\r\n%s\r\n",
                     prefix, uri, query, opt.host, opt.gzip ? "Accept-Encoding: gzip\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof c->hc.req)
        return false;
    c->hc.req_len = (uint16_t)n;
    return true;
}

/* The request on c failed (kind and detail as in lib/hconn.h; the connection is closed by then):
 * counted once, the viewer told. */
static void request_failed(conn_t *c, hc_fail_t kind, int detail)
{
    stats_t *st = &c->v->w->st;
    if (opt.debug && st->c[C_TIMEOUTS] + st->c[C_CONNECT_ERR] + st->c[C_OTHER_ERR] < 10) {
        char buf[32];
        fprintf(stderr,
                "llhls-load: viewer %d: %s request failed after %.0f ms: %s (%s, %s "
                "connection, %u responses on it before%s): %.*s\n",
                c->v->id, c->playlist ? "playlist" : "media", (hc_mono_s() - c->hc.start) * 1e3,
                hc_detail_name(detail, cause_names, buf, sizeof buf),
                hc_state_name(c->hc.fail_state), c->hc.reused ? "reused" : "new", c->hc.nreq,
                c->hc.resent ? ", sent again" : "", (int)strcspn(c->hc.req, "\r"), c->hc.req);
    }
    st->c[kind == HC_FAIL_TIMEOUT      ? C_TIMEOUTS
          : kind == HC_FAIL_CONNECTION ? C_CONNECT_ERR
                                       : C_OTHER_ERR]++;
    if (detail > 0 && detail < HC_DETAIL_SLOTS)
        st->detail[detail]++;
    request_done(c, false, NULL, 0);
}

static void on_failure(hc_conn_t *hc, hc_fail_t kind, int detail)
{
    request_failed((conn_t *)hc, kind, detail);
}

/* A new socket for the request on c (a second try when hc->resent). */
static void on_opened(hc_conn_t *hc)
{
    worker_t *w = ((conn_t *)hc)->v->w;
    if (!measuring(hc_loop_now(w->loop)))
        return;
    w->st.c[C_CONNECTS]++;
    w->st.c[C_RESENT] += hc->resent;
}

/* Starts the request built in c->hc.req, with a fresh state for parsing its response. */
static void conn_request(conn_t *c)
{
    c->keep_body = c->gzip = c->bad_encoding = c->in_value = c->is_ce = false;
    c->name_len = c->val_len = 0;
    c->wire = 0;
    hc_conn_request(&c->hc, opt.timeout);
}

/* Inflates a gzip'd playlist body into w->text (NUL-terminated): its length, or -1 with *detail
 * set. */
static long gunzip(worker_t *w, const char *in, size_t len, int *detail)
{
    z_stream *z = &w->z;
    if (inflateReset(z) != Z_OK) {
        *detail = HC_D_USER(CAUSE_GUNZIP);
        return -1;
    }
    z->next_in = (const Bytef *)in;
    z->avail_in = (uInt)len; /* ≤ MAX_PLAYLIST_BYTES */
    z->next_out = (Bytef *)w->text;
    z->avail_out = MAX_PLAYLIST_BYTES;
    int rc = inflate(z, Z_FINISH);
    if (rc == Z_STREAM_END) {
        size_t n = MAX_PLAYLIST_BYTES - z->avail_out;
        w->text[n] = 0;
        return (long)n;
    }
    *detail = HC_D_USER(rc == Z_BUF_ERROR && z->avail_out == 0 ? CAUSE_TOO_LARGE : CAUSE_GUNZIP);
    return -1;
}

/* The response on c is complete; the connection is idle or closed by then (bytes after it,
 * which nobody asked for, closed it). */
static void on_response(hc_conn_t *hc, bool extra)
{
    (void)extra;
    conn_t *c = (conn_t *)hc;
    viewer_t *v = c->v;
    worker_t *w = v->w;
    unsigned status = hc->parser.status_code;
    bool ok = status == 200 || status == 206;
    char *text = NULL;
    long len = 0;
    if (ok && c->playlist) {
        text = v->body;
        len = (long)v->body_len;
        if (c->gzip) {
            int detail = 0;
            if ((len = gunzip(w, v->body, v->body_len, &detail)) < 0) {
                hc_conn_close(hc); /* as after any failure: the next request opens a new one */
                request_failed(c, HC_FAIL_OTHER, detail);
                return;
            }
            text = w->text;
        } else if (!v->body) { /* an empty body */
            text = w->text;
            text[0] = 0;
        } else {
            text[len] = 0; /* body_cap > body_len: pl_on_body */
        }
    }
    if (!ok)
        w->st.http_status[status < 600 ? status : 0]++;
    request_done(c, ok, text, (size_t)len);
}

/* ---- http_parser callbacks: c is parser->data ------------------------------------------ */

/* A header value ended: what Content-Encoding says. */
static void header_end(conn_t *c)
{
    if (!c->in_value || !c->is_ce)
        return;
    size_t n = c->val_len;
    if (n > sizeof c->val) { /* none of ours is that long */
        c->bad_encoding = true;
        return;
    }
    while (n && (c->val[n - 1] == ' ' || c->val[n - 1] == '\t'))
        n--;
    if ((n == 4 && strncasecmp(c->val, "gzip", 4) == 0) ||
        (n == 6 && strncasecmp(c->val, "x-gzip", 6) == 0))
        c->gzip = true;
    else if (n && !(n == 8 && strncasecmp(c->val, "identity", 8) == 0))
        c->bad_encoding = true;
}

/* Appends at[0..len) to a header name or value buffer, counting what does not fit. */
static void header_add(char *buf, size_t size, uint16_t *have, const char *at, size_t len)
{
    if (*have < size)
        memcpy(buf + *have, at, len < size - *have ? len : size - *have);
    *have = (uint16_t)(*have + len < UINT16_MAX ? *have + len : UINT16_MAX);
}

static int pl_on_header_field(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    if (c->in_value) {
        header_end(c);
        c->in_value = false;
        c->name_len = 0;
    }
    header_add(c->name, sizeof c->name, &c->name_len, at, len);
    return 0;
}

static int pl_on_header_value(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    if (!c->in_value) {
        c->in_value = true;
        c->is_ce = c->name_len == 16 && strncasecmp(c->name, "content-encoding", 16) == 0;
        c->val_len = 0;
    }
    if (c->is_ce)
        header_add(c->val, sizeof c->val, &c->val_len, at, len);
    return 0;
}

static int pl_on_headers_complete(http_parser *p)
{
    conn_t *c = p->data;
    header_end(c);
    c->in_value = false;
    c->keep_body = p->status_code == 200 || p->status_code == 206;
    c->v->body_len = 0;
    if (!c->keep_body)
        return 0; /* an error's body is read and dropped */
    if (c->bad_encoding) {
        c->hc.detail = HC_D_USER(CAUSE_ENCODING);
        return -1;
    }
    if (p->content_length != ULLONG_MAX && p->content_length > MAX_PLAYLIST_BYTES) {
        c->hc.detail = HC_D_USER(CAUSE_TOO_LARGE);
        return -1;
    }
    return 0;
}

static int pl_on_body(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    viewer_t *v = c->v;
    c->wire += len;
    if (!c->keep_body)
        return 0;
    if (len > MAX_PLAYLIST_BYTES - v->body_len) {
        c->hc.detail = HC_D_USER(CAUSE_TOO_LARGE);
        return -1;
    }
    if (v->body_len + len + 1 > v->body_cap) {
        size_t cap = v->body_cap ? v->body_cap : 4096;
        while (cap < v->body_len + len + 1)
            cap *= 2;
        if (cap > MAX_PLAYLIST_BYTES + 1)
            cap = MAX_PLAYLIST_BYTES + 1;
        char *b = realloc(v->body, cap);
        if (!b) {
            c->hc.detail = ENOMEM;
            return -1;
        }
        v->body = b;
        v->body_cap = cap;
    }
    memcpy(v->body + v->body_len, at, len);
    v->body_len += len;
    return 0;
}

static int media_on_body(http_parser *p, const char *at, size_t len)
{
    (void)at; /* media bytes are counted and dropped */
    conn_t *c = p->data;
    worker_t *w = c->v->w;
    c->wire += len;
    if (measuring(hc_loop_now(w->loop)))
        w->st.c[C_BODY_BYTES] += len;
    return 0;
}

static const http_parser_settings pl_settings = {
    .on_header_field = pl_on_header_field,
    .on_header_value = pl_on_header_value,
    .on_headers_complete = pl_on_headers_complete,
    .on_body = pl_on_body,
    .on_message_complete = hc_on_message_complete,
};

static const http_parser_settings media_settings = {
    .on_body = media_on_body,
    .on_message_complete = hc_on_message_complete,
};

static const hc_ops_t pl_ops = {
    .settings = &pl_settings,
    .response = on_response,
    .failure = on_failure,
    .opened = on_opened,
};

static const hc_ops_t media_ops = {
    .settings = &media_settings,
    .response = on_response,
    .failure = on_failure,
    .opened = on_opened,
};

/* A plain (re)load when `blocking` is false; otherwise a blocking reload for (want_msn,
 * want_idx), a delta update when `skip`. */
static void request_playlist(viewer_t *v, bool blocking, bool skip)
{
    char query[128] = "";
    if (blocking)
        snprintf(query, sizeof query, "?_HLS_msn=%" PRId64 "&_HLS_part=%d%s", v->want_msn,
                 v->want_idx, skip ? "&_HLS_skip=YES" : "");
    if (!build_request(&v->pl, opt.name, query)) {
        v->w->st.c[C_OTHER_ERR]++;
        v->w->st.detail[HC_D_USER(CAUSE_URL)]++;
        return;
    }
    v->pl_blocking = blocking;
    v->pl_busy = true;
    conn_request(&v->pl);
}

/* Starts the next queued media fetch unless one is in flight: one at a time per viewer. */
static void next_media(viewer_t *v)
{
    while (!v->media_busy && v->qlen > 0) {
        queued_t *q = &v->queue[v->qhead];
        v->qhead = (v->qhead + 1) % QUEUE_CAP;
        v->qlen--;
        if (!build_request(&v->media, q->uri, "")) {
            v->w->st.c[C_OTHER_ERR]++;
            v->w->st.detail[HC_D_USER(CAUSE_URL)]++;
            continue;
        }
        v->media_kind = q->kind;
        v->media_busy = true;
        conn_request(&v->media); /* may fail at once, and come back here */
    }
}

static void enqueue(viewer_t *v, req_kind_t kind, const char *uri, double now)
{
    if (!opt.media)
        return;
    if (v->qlen == QUEUE_CAP) { /* fell behind: drop the oldest, as a player skips ahead */
        v->qhead = (v->qhead + 1) % QUEUE_CAP;
        v->qlen--;
        if (measuring(now))
            v->w->st.c[C_MEDIA_DROPPED]++;
    }
    queued_t *q = &v->queue[(v->qhead + v->qlen) % QUEUE_CAP];
    q->kind = kind;
    snprintf(q->uri, sizeof q->uri, "%s", uri); /* < URI_MAX: parse_playlist checked */
    v->qlen++;
}

static bool newer(int64_t msn, int idx, int64_t than_msn, int than_idx)
{
    return msn > than_msn || (msn == than_msn && idx > than_idx);
}

/* A playlist (`text`, NUL-terminated, inflated) arrived at `arrived_ms` (wall clock): note the
 * lag, queue the media that is new, ask for the next playlist. */
static void on_playlist(viewer_t *v, char *text, double now, double arrived_ms)
{
    worker_t *w = v->w;
    static __thread playlist_t pl_store; /* large: one per thread, used by one call at a time */
    playlist_t *pl = &pl_store;
    if (opt.debug) { /* parse_playlist cuts the text in place */
        free(v->body_copy);
        v->body_copy = strdup(text);
    }
    if (!parse_playlist(text, pl)) {
        w->st.c[C_PARSE_ERR]++;
        hc_schedule(w->loop, &v->timer, now + ERROR_BACKOFF_S);
        return;
    }
    bool ll = opt.blocking && pl->can_block && pl->nparts > 0;
    bool m = measuring(now);
    if (m) {
        if (!isnan(pl->edge_ms))
            samples_add(&w->st.s[S_LAG], arrived_ms - pl->edge_ms);
        w->st.c[ll ? C_LL_PL : C_PLAIN_PL]++;
        w->st.c[C_GZIP_PL] += v->pl.gzip;
        w->st.c[C_DELTA_PL] += pl->skipped > 0;
        if (v->pl_blocking) {
            const media_ref_t *last = pl->nparts ? &pl->parts[pl->nparts - 1] : NULL;
            if (!last || newer(v->want_msn, v->want_idx, last->msn, last->idx)) {
                if (opt.debug && w->st.c[C_STALE] < 5)
                    fprintf(stderr, "llhls-load: viewer %d asked for part %" PRId64 ".%d, got a "
                            "playlist up to %" PRId64 ".%d:\n%s\n", v->id, v->want_msn,
                            v->want_idx, last ? last->msn : -1, last ? last->idx : -1,
                            v->body_copy ? v->body_copy : "");
                w->st.c[C_STALE]++;
            }
        }
    }
    if (pl->map_uri && strcmp(pl->map_uri, v->map_uri) != 0) {
        snprintf(v->map_uri, sizeof v->map_uri, "%s", pl->map_uri); /* < URI_MAX: attr_cut */
        enqueue(v, REQ_INIT, pl->map_uri, now);
    }
    if (!v->joined) {
        /* Tune in START_PARTS parts (or one segment) behind the newest, as a player starting
         * PART-HOLD-BACK behind the live edge. */
        v->joined = true;
        w->st.c[C_JOINED]++;
        v->last_msn = -1;
        v->last_idx = -1;
        if (ll) {
            const media_ref_t *p =
                &pl->parts[pl->nparts > START_PARTS ? pl->nparts - START_PARTS : 0];
            v->last_msn = p->msn;
            v->last_idx = p->idx - 1;
        } else if (pl->nsegs) {
            v->last_msn = pl->segs[pl->nsegs - 1].msn - 1;
        }
    }
    if (ll) {
        for (int i = 0; i < pl->nparts; i++) {
            const media_ref_t *p = &pl->parts[i];
            if (newer(p->msn, p->idx, v->last_msn, v->last_idx)) {
                enqueue(v, REQ_PART, p->uri, now);
                v->last_msn = p->msn;
                v->last_idx = p->idx;
            }
        }
    } else {
        for (int i = 0; i < pl->nsegs; i++) {
            const media_ref_t *s = &pl->segs[i];
            if (s->msn > v->last_msn) {
                enqueue(v, REQ_SEGMENT, s->uri, now);
                v->last_msn = s->msn;
                v->last_idx = -1;
            }
        }
    }
    next_media(v);

    if (pl->endlist)
        return; /* the session ended: nothing more to wait for */
    if (ll) {
        /* The part after the last one listed: the next of the segment in progress, or part 0 of
         * the segment after the last complete one. The preload hint names the same part; when it
         * does not, the server knows better (counted). */
        v->want_msn = pl->next_msn;
        v->want_idx = pl->partial_parts;
        if (pl->has_hint && pl->hint_idx >= 0 &&
            (pl->hint_msn != v->want_msn || pl->hint_idx != v->want_idx)) {
            w->st.c[C_HINT_MISMATCH] += m;
            v->want_msn = pl->hint_msn;
            v->want_idx = pl->hint_idx;
        }
        request_playlist(v, true, opt.skip && pl->can_skip);
        return;
    }
    /* Plain HLS (RFC 8216 6.3.4): reload after the target duration, half of it when the
     * playlist did not change. */
    double td = pl->target_duration > 0 ? pl->target_duration : 2;
    bool changed = pl->edge_ms != v->last_edge_ms; /* NAN never equals: a first load changed */
    v->last_edge_ms = pl->edge_ms;
    hc_schedule(w->loop, &v->timer, now + (changed ? td : td / 2));
}


/* The request on c ended, well or not; the connection is idle or closed by now. */
static void request_done(conn_t *c, bool ok, char *text, size_t text_len)
{
    viewer_t *v = c->v;
    worker_t *w = v->w;
    double now = ok ? c->hc.done_mono : hc_mono_s();
    bool m = measuring(now);
    if (m) {
        w->st.c[C_REQUESTS]++;
        w->st.c[C_WIRE_BYTES] += c->wire;
        w->st.c[c->playlist ? C_PLAYLIST_REQ : C_MEDIA_REQ]++;
        if (c->playlist) {
            w->st.c[C_BLOCKING_REQ] += v->pl_blocking;
            w->st.c[C_BODY_BYTES] += ok ? text_len : c->wire;
        }
    }
    double took_ms = (c->hc.done_mono - c->hc.start) * 1e3;
    if (c->playlist) {
        v->pl_busy = false;
        if (ok && m)
            samples_add(&w->st.s[v->pl_blocking ? S_BLOCK : S_PLAYLIST], took_ms);
        if (ok)
            on_playlist(v, text, now, c->hc.done_wall_ms);
        else /* start over with a plain load after a pause, as a player retries */
            hc_schedule(w->loop, &v->timer, now + ERROR_BACKOFF_S);
    } else {
        v->media_busy = false;
        if (ok && m && v->media_kind != REQ_INIT)
            samples_add(&w->st.s[v->media_kind == REQ_PART ? S_PART : S_SEGMENT], took_ms);
        next_media(v);
    }
}

/* A viewer's timer: its first load, a plain-HLS reload, or a retry after an error. */
static void on_tick(hc_tmr_t *t)
{
    viewer_t *v = (viewer_t *)t; /* the timer is the viewer's first member */
    if (!v->started) {
        v->started = true;
        v->w->st.c[C_STARTED]++;
    }
    if (!v->pl_busy)
        request_playlist(v, false, false);
}

/* One thread's event loop, until the end of the run. */
static void *worker_run(void *arg)
{
    worker_t *w = arg;
    int rc = hc_loop_run(w->loop, opt.end_at, NULL);
    if (rc < 0)
        fprintf(stderr, "llhls-load: epoll_wait: %s\n", strerror(-rc));
    /* The run is over: what is still in flight is abandoned (hc_loop_free closes it), and not
     * counted. */
    for (int i = 0; i < w->nviewers; i++) {
        free(w->viewers[i].body);
        free(w->viewers[i].body_copy);
    }
    return NULL;
}

/* ---- set-up and report ------------------------------------------------------------------ */

/* --parse FILE: what the parser makes of a saved playlist, and the blocking request a viewer
 * would send next; for checking the tool against a server's output by hand. */
static int parse_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static char text[MAX_PLAYLIST_BYTES + 1];
    size_t n = fread(text, 1, MAX_PLAYLIST_BYTES, f);
    fclose(f);
    text[n] = 0;
    static playlist_t pl;
    if (!parse_playlist(text, &pl)) {
        fprintf(stderr, "%s: not a media playlist\n", path);
        return 3;
    }
    const media_ref_t *last = pl.nparts ? &pl.parts[pl.nparts - 1] : NULL;
    printf("{\"media_sequence\": %" PRId64 ", \"skipped\": %d, \"target_duration\": %g, "
           "\"can_block\": %s, \"can_skip\": %s, \"endlist\": %s, \"map\": \"%s\", "
           "\"parts\": %d, \"last_part\": \"%s\", \"segments_seen\": %d, "
           "\"next\": {\"msn\": %" PRId64 ", \"part\": %d}, \"hint\": {\"msn\": %" PRId64
           ", \"part\": %d}, \"edge_ms\": %.0f}\n",
           pl.media_sequence, pl.skipped, pl.target_duration, pl.can_block ? "true" : "false",
           pl.can_skip ? "true" : "false", pl.endlist ? "true" : "false",
           pl.map_uri ? pl.map_uri : "", pl.nparts, last ? last->uri : "", pl.nsegs, pl.next_msn,
           pl.partial_parts, pl.has_hint ? pl.hint_msn : -1, pl.has_hint ? pl.hint_idx : -1,
           pl.edge_ms);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: llhls-load --url http://HOST:PORT/live/LIVE_KEY/SESSION/index.m3u8 [options]\n"
            "  --viewers N    simulated viewers (default 100)\n"
            "  --seconds S    length of the run, ramp included (default 60)\n"
            "  --ramp S       viewers start evenly spread over this (default 5)\n"
            "  --warmup S     after the ramp, not measured (default 2)\n"
            "  --threads T    event loops, each with its share of the viewers (default 1)\n"
            "  --timeout S    per request (default 15)\n"
            "  --no-media     playlists only: no init, part or segment fetches\n"
            "  --no-skip      never ask for delta playlists (_HLS_skip=YES)\n"
            "  --no-gzip      no Accept-Encoding: gzip\n"
            "  --no-block     poll as plain HLS even when the server can block\n"
            "  --json FILE    the JSON report goes there instead of stdout\n"
            "  --debug        print the first few blocking responses that lack the part asked for,\n"
            "                 and the first few failed requests (why, on what connection)\n"
            "or:    llhls-load --parse PLAYLIST_FILE   (what the parser understands of it)\n");
}

/* http://HOST[:PORT]/PATH/NAME → base "http://HOST:PORT/PATH/", origin, name. */
static int parse_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *slash = strchr(url + 7, '/');
    if (!slash || (size_t)(slash - url) >= sizeof opt.origin)
        return -1;
    snprintf(opt.origin, sizeof opt.origin, "%.*s", (int)(slash - url), url);
    size_t len = strcspn(url, "?#");
    const char *last = url + len;
    while (last > slash && last[-1] != '/')
        last--;
    if ((size_t)(last - url) >= sizeof opt.base || last == url + len)
        return -1;
    snprintf(opt.base, sizeof opt.base, "%.*s", (int)(last - url), url);
    opt.host = opt.origin + 7;
    opt.base_path = opt.base + strlen(opt.origin);
    static char name[URI_MAX];
    if (snprintf(name, sizeof name, "%.*s", (int)(url + len - last), last) >= (int)sizeof name)
        return -1;
    opt.name = name;
    return 0;
}

static void merge(stats_t *into, const stats_t *from)
{
    for (int i = 0; i < C_COUNT; i++)
        into->c[i] += from->c[i];
    for (int i = 0; i < 600; i++)
        into->http_status[i] += from->http_status[i];
    for (int i = 0; i < HC_DETAIL_SLOTS; i++)
        into->detail[i] += from->detail[i];
    for (int k = 0; k < S_COUNT; k++)
        samples_merge(&into->s[k], &from->s[k]);
}

static void print_dist(FILE *f, const char *name, samples_t *s, const char *end)
{
    samples_sort(s);
    fprintf(f, "  \"%s\": {\"n\": %zu", name, s->n);
    if (s->n)
        fprintf(f, ", \"p50\": %.1f, \"p95\": %.1f, \"p99\": %.1f, \"max\": %.1f",
                samples_quantile(s, .5), samples_quantile(s, .95), samples_quantile(s, .99),
                (double)s->v[s->n - 1]);
    fprintf(f, "}%s\n", end);
}

static void report(stats_t *st, const char *url, double measured_s, double cpu_s, double wall_s,
                   unsigned long long fd_limit)
{
    FILE *f = stdout;
    if (opt.json_path && !(f = fopen(opt.json_path, "w"))) {
        perror(opt.json_path);
        f = stdout;
    }
    uint64_t *c = st->c;
    const char *mode = c[C_LL_PL] && !c[C_PLAIN_PL]   ? "ll-hls"
                       : c[C_PLAIN_PL] && !c[C_LL_PL] ? "plain-hls"
                       : c[C_LL_PL]                   ? "mixed"
                                                      : "none";
    fprintf(f, "{\n  \"url\": \"%s\",\n  \"viewers\": %d,\n  \"threads\": %d,\n", url,
            (int)opt.viewers, (int)opt.threads);
    fprintf(f, "  \"seconds\": %.1f,\n  \"ramp_s\": %.1f,\n  \"measured_s\": %.1f,\n",
            opt.seconds, opt.ramp, measured_s);
    fprintf(f, "  \"options\": {\"media\": %s, \"skip\": %s, \"gzip\": %s, \"block\": %s},\n",
            opt.media ? "true" : "false", opt.skip ? "true" : "false",
            opt.gzip ? "true" : "false", opt.blocking ? "true" : "false");
    fprintf(f, "  \"mode\": \"%s\",\n  \"fd_limit\": %llu,\n", mode, fd_limit);
    fprintf(f, "  \"requests_per_s\": %.1f,\n", (double)c[C_REQUESTS] / measured_s);
    fprintf(f, "  \"body_mbit_per_s\": %.1f,\n", (double)c[C_BODY_BYTES] * 8 / 1e6 / measured_s);
    fprintf(f, "  \"counts\": {");
    bool first = true;
    for (int i = 0; i < C_COUNT; i++) {
        if (i == C_WHOLE_RUN || i == C_TIMEOUTS || i == C_CONNECT_ERR || i == C_OTHER_ERR ||
            i == C_PARSE_ERR)
            continue;
        fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", counter_names[i], c[i]);
        first = false;
    }
    fprintf(f, "},\n  \"errors\": {\"total\": %" PRIu64 ", \"http\": {", stats_errors(st));
    first = true;
    for (int i = 0; i < 600; i++) {
        if (i == 200 || i == 206 || !st->http_status[i])
            continue;
        fprintf(f, "%s\"%d\": %" PRIu64, first ? "" : ", ", i, st->http_status[i]);
        first = false;
    }
    fprintf(f,
            "}, \"timeout\": %" PRIu64 ", \"connection\": %" PRIu64 ", \"other\": %" PRIu64
            ", \"playlist_parse\": %" PRIu64 ", \"detail\": ",
            c[C_TIMEOUTS], c[C_CONNECT_ERR], c[C_OTHER_ERR], c[C_PARSE_ERR]);
    hc_print_details(f, st->detail, cause_names);
    fprintf(f, "},\n");
    fprintf(f, "  \"client_cpu_pct\": %.1f,\n", 100 * cpu_s / wall_s);
    for (int k = 0; k < S_COUNT; k++)
        print_dist(f, sample_names[k], &st->s[k], k + 1 < S_COUNT ? "," : "");
    fprintf(f, "}\n");
    if (f != stdout)
        fclose(f);

    samples_t *lag = &st->s[S_LAG], *blk = &st->s[S_BLOCK], *part = &st->s[S_PART];
    fprintf(stderr,
            "llhls-load: %d viewers, %s, %.0f req/s, %.0f Mbit/s, errors %" PRIu64
            " (http %" PRIu64 ", timeout %" PRIu64 ", conn %" PRIu64
            "), lag p50 %.0f p99 %.0f ms, block p99 %.0f ms, part p50 %.1f p99 %.1f ms, "
            "client cpu %.0f%%\n",
            (int)opt.viewers, mode, (double)c[C_REQUESTS] / measured_s,
            (double)c[C_BODY_BYTES] * 8 / 1e6 / measured_s, stats_errors(st), http_errors(st),
            c[C_TIMEOUTS], c[C_CONNECT_ERR], samples_quantile(lag, .5), samples_quantile(lag, .99),
            samples_quantile(blk, .99), samples_quantile(part, .5), samples_quantile(part, .99),
            100 * cpu_s / wall_s);
}

/* Thread t's viewers are t, t+T, t+2T, …; viewer i starts at ramp × i / N. */
static int worker_init(worker_t *w, int t, int nviewers, int nthreads)
{
    w->index = t;
    w->nviewers = (nviewers - t + nthreads - 1) / nthreads;
    w->viewers = calloc((size_t)w->nviewers, sizeof *w->viewers);
    /* timers of our own: one per viewer (the connections' deadlines are the loop's) */
    w->loop = hc_loop_new((const struct sockaddr *)&opt.addr, opt.addrlen,
                          w->nviewers * CONNS_PER_VIEWER, w->nviewers, RECV_BUF);
    w->text = malloc(MAX_PLAYLIST_BYTES + 1);
    if (!w->viewers || !w->loop || !w->text)
        return -1;
    if (inflateInit2(&w->z, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper */
        return -1;
    w->z_ready = true;
    /* No CRC-32 of what loopback TCP delivered: a sixth of the inflating. A truncated or broken
     * stream still fails (inflate must reach its end). */
    if (inflateValidate(&w->z, 0) != Z_OK)
        return -1;
    for (int j = 0; j < w->nviewers; j++) {
        viewer_t *v = &w->viewers[j];
        v->w = w;
        v->id = j * nthreads + t;
        v->timer = HC_TMR_INIT(on_tick);
        v->last_edge_ms = NAN;
        v->pl.v = v->media.v = v;
        v->pl.playlist = true;
        if (hc_conn_init(&v->pl.hc, w->loop, &pl_ops, v) < 0 ||
            hc_conn_init(&v->media.hc, w->loop, &media_ops, v) < 0)
            return -1;
        hc_schedule(w->loop, &v->timer, opt.t0 + opt.ramp * v->id / nviewers);
    }
    return 0;
}

static void worker_free(worker_t *w)
{
    if (w->z_ready)
        inflateEnd(&w->z);
    hc_loop_free(&w->loop);
    free(w->viewers);
    free(w->text);
    for (int k = 0; k < S_COUNT; k++)
        samples_clear(&w->st.s[k]);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    if (argc == 3 && !strcmp(argv[1], "--parse"))
        return parse_file(argv[2]);
    static const struct {
        const char *flag;
        double *value;
    } nums[] = {{"--viewers", &opt.viewers}, {"--seconds", &opt.seconds},
                {"--ramp", &opt.ramp},       {"--warmup", &opt.warmup},
                {"--threads", &opt.threads}, {"--timeout", &opt.timeout}};
    static const struct {
        const char *flag;
        bool *value;
    } offs[] = {{"--no-media", &opt.media}, {"--no-skip", &opt.skip},
                {"--no-gzip", &opt.gzip},   {"--no-block", &opt.blocking}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool known = false;
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            if (!strcmp(a, nums[k].flag) && val) {
                char *end;
                *nums[k].value = strtod(val, &end);
                known = *end == 0;
                i++;
            }
        for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++)
            if (!strcmp(a, offs[k].flag))
                *offs[k].value = false, known = true;
        if (!strcmp(a, "--url") && val)
            url = val, i++, known = true;
        else if (!strcmp(a, "--json") && val)
            opt.json_path = val, i++, known = true;
        else if (!strcmp(a, "--debug"))
            opt.debug = known = true;
        if (!known) {
            usage();
            return 2;
        }
    }
    if (!url || parse_url(url) < 0 || opt.viewers < 1 || opt.viewers > 1e6 || opt.threads < 1 ||
        opt.threads > 64 || opt.ramp < 0 || opt.warmup < 0 || opt.timeout <= 0 ||
        opt.ramp + opt.warmup >= opt.seconds) {
        usage();
        return 2;
    }
    int nviewers = (int)opt.viewers, nthreads = (int)opt.threads;
    if (nthreads > nviewers)
        nthreads = nviewers, opt.threads = nviewers;

    if (hc_resolve("llhls-load", opt.host, &opt.addr, &opt.addrlen) < 0) {
        fprintf(stderr, "llhls-load: cannot resolve the host of %s\n", url);
        return 2;
    }

    /* Two connections per viewer (a closed one is closed before the next opens), an epoll
     * descriptor per thread, and headroom. */
    unsigned long long fd_limit = hc_raise_nofile(
        "llhls-load", (unsigned long long)nviewers * CONNS_PER_VIEWER + (unsigned)nthreads + 256);
    if (!fd_limit)
        return 1;

    worker_t *workers = calloc((size_t)nthreads, sizeof *workers);
    if (!workers)
        goto oom;
    opt.t0 = hc_mono_s();
    opt.end_at = opt.t0 + opt.seconds;
    opt.measure_from = opt.t0 + opt.ramp + opt.warmup;
    for (int t = 0; t < nthreads; t++)
        if (worker_init(&workers[t], t, nviewers, nthreads) < 0)
            goto oom;

    double cpu0 = hc_cpu_seconds();
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&workers[t].thread, NULL, worker_run, &workers[t]) != 0)
            goto oom;
    worker_run(&workers[0]);
    for (int t = 1; t < nthreads; t++)
        if (pthread_join(workers[t].thread, NULL) != 0)
            return 1;
    double wall = hc_mono_s() - opt.t0, cpu = hc_cpu_seconds() - cpu0;

    stats_t *all = &workers[0].st;
    for (int t = 1; t < nthreads; t++)
        merge(all, &workers[t].st);
    report(all, url, opt.seconds - opt.ramp - opt.warmup, cpu, wall, fd_limit);
    int status = stats_errors(all) ? 3 : 0;
    for (int t = 0; t < nthreads; t++)
        worker_free(&workers[t]);
    free(workers);
    return status;
oom:
    fprintf(stderr, "llhls-load: out of memory or descriptors for %d viewers\n", nviewers);
    return 1;
}
