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
 * Transport: plain non-blocking TCP sockets, one epoll loop (level-triggered) per thread
 * (--threads), each thread with its share of the viewers. Every viewer holds two HTTP/1.1
 * keep-alive connections, one for its playlist requests and one for its media, each carrying one
 * request at a time (no pipelining); a connection is opened when a request needs it, kept while
 * the server keeps it, and opened again after the server closed it or it failed. A request is
 * written with one send() (epoll watches for EPOLLOUT only while connecting or after a partial
 * send); responses are read with recv() into one 256 KiB buffer per thread and parsed by
 * http_parser (libhttp-parser). Media bodies are counted and dropped there (as received: never
 * inflated); playlist bodies are copied into the viewer's buffer (4 MiB at most) and, when the
 * server gzip'd them (Accept-Encoding: gzip goes with every request, as a browser sends it, unless
 * --no-gzip), inflated with zlib, without checking their CRC-32. A request that finds its
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
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>
#include <zlib.h>

#define MAX_PLAYLIST_BYTES (4 << 20) /* a playlist body, as received and inflated */
#define MAX_PARTS 512     /* parts one playlist may list that we keep track of */
#define QUEUE_CAP 32      /* media requests a viewer may have queued (it skips older ones) */
#define URI_MAX 256
#define START_PARTS 3     /* parts fetched at tune-in (PART-HOLD-BACK is 3 part targets) */
#define ERROR_BACKOFF_S 1.0
#define CONNS_PER_VIEWER 2
#define RECV_BUF (256 << 10) /* per thread: every response is read into it */
#define REQ_MAX 2048      /* one request, headers included */

/* ---- clocks and samples ------------------------------------------------------------------ */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
    float *v;
    size_t n, cap;
} samples_t;

static void samples_add(samples_t *s, double x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        float *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return; /* a lost sample is better than a lost run */
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (float)x;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Linear interpolation between closest ranks; s->v must be sorted. */
static double quantile(const samples_t *s, double q)
{
    if (!s->n)
        return NAN;
    double pos = (double)(s->n - 1) * q;
    size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
    return s->v[lo] + (s->v[hi] - s->v[lo]) * (pos - (double)lo);
}


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

/* Why a request failed (errors.detail), besides errno names and http_parser's error names. */
#define CAUSES(X)                                                                                 \
    X(CAUSE_CLOSED_EARLY, "closed_early")                                                         \
    X(CAUSE_TOO_LARGE, "too_large")                                                               \
    X(CAUSE_GUNZIP, "gunzip")                                                                     \
    X(CAUSE_ENCODING, "content_encoding")                                                         \
    X(CAUSE_URL, "url")                                                                           \
    X(CAUSE_TIMEOUT_CONNECT, "timeout_connecting")                                                \
    X(CAUSE_TIMEOUT_WAIT, "timeout_waiting")                                                      \
    X(CAUSE_TIMEOUT_BODY, "timeout_receiving")
enum { CAUSES(AS_ENUM) CAUSE_COUNT };
static const char *const cause_names[CAUSE_COUNT] = {CAUSES(AS_NAME)};

/* A failure's detail in one int: an errno value, D_CAUSE(CAUSE_…) or D_HPE(http_errno). */
#define ERRNO_SLOTS 256 /* Linux's errno values are below 134 */
#define AS_ONE(n, s) +1
enum { HPE_SLOTS = 0 HTTP_ERRNO_MAP(AS_ONE) };
#define D_CAUSE(c) (ERRNO_SLOTS + (c))
#define D_HPE(e) (ERRNO_SLOTS + CAUSE_COUNT + (int)(e))
#define DETAIL_SLOTS (ERRNO_SLOTS + CAUSE_COUNT + HPE_SLOTS)

typedef struct {
    uint64_t c[C_COUNT];
    uint64_t http_status[600];     /* whole run; index: status, [0]: out of range */
    uint64_t detail[DETAIL_SLOTS]; /* whole run: the failures behind timeout/connection/other */
    samples_t s[S_COUNT];
} stats_t;

/* errors.detail's name for detail d; `buf` for an errno without a name. */
static const char *detail_name(int d, char *buf, size_t size)
{
    if (d >= D_HPE(0))
        return http_errno_name((enum http_errno)(d - D_HPE(0)));
    if (d >= D_CAUSE(0))
        return cause_names[d - D_CAUSE(0)];
    const char *name = d > 0 ? strerrorname_np(d) : NULL;
    if (name)
        return name;
    snprintf(buf, size, "errno_%d", d);
    return buf;
}

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

/* A point in time something must happen: a viewer's next step, or a request's deadline. */
typedef enum { T_VIEWER, T_CONN } tmr_kind_t;
typedef struct {
    double at;       /* monotonic s */
    int pos;         /* index in the worker's heap; -1: not scheduled */
    tmr_kind_t kind; /* the owner: a viewer_t or a conn_t, whose first member this is */
} tmr_t;

typedef enum {
    CS_CLOSED,     /* no socket */
    CS_CONNECTING, /* connect() in progress; epoll: EPOLLOUT */
    CS_SENDING,    /* the request partly sent; epoll: EPOLLIN | EPOLLOUT */
    CS_RECEIVING,  /* the request sent, its response not complete; epoll: EPOLLIN */
    CS_IDLE,       /* kept alive between requests; epoll: EPOLLIN (the server closing it) */
} conn_state_t;

static const char *const state_names[] = {"closed", "connecting", "sending", "receiving", "idle"};

/* One of a viewer's two connections, and the request it carries. */
typedef struct {
    tmr_t timer;        /* first: the request's deadline */
    viewer_t *v;
    http_parser parser; /* parser.data: this */
    int fd;             /* -1 when closed */
    uint32_t gen;       /* bumped with every new socket: tells a stale epoll event */
    uint32_t index;     /* viewer's index in its worker × 2 + (1 for media): epoll's data */
    uint32_t events;    /* what epoll watches fd for; 0: fd not registered */
    conn_state_t state;
    bool playlist;      /* the playlist connection (else media) */
    bool reused;        /* the request went out on a kept-alive connection */
    bool resent;        /* … and was sent again on a new one after that had been closed */
    bool got_bytes;     /* some of the response has arrived */
    bool done;          /* the response is complete (http_parser paused after it) */
    bool keep_alive;    /* … and the connection may carry the next request */
    bool keep_body;     /* playlist with status 200/206: its body goes to the viewer's buffer */
    bool gzip;          /* Content-Encoding: gzip */
    bool bad_encoding;  /* another Content-Encoding */
    bool in_value;      /* header parsing (playlist connection): in a value, else in a name */
    bool is_ce;         /* … of Content-Encoding */
    uint16_t name_len, val_len; /* header name and value lengths so far (saturating) */
    char name[16], val[16];     /* their first bytes: all a match needs */
    int detail;         /* set by a parser callback that fails: D_CAUSE(…), or errno */
    unsigned nreq;      /* responses completed on this socket (--debug) */
    uint64_t wire;      /* body bytes of this response as received (before inflating) */
    double start;       /* monotonic s when the request started */
    double done_mono;   /* monotonic s when its last byte had been parsed */
    double done_wall_ms;
    uint16_t req_len, req_off; /* the request's length and what has been sent of it */
    char req[REQ_MAX];
} conn_t;

struct viewer {
    tmr_t timer;       /* first: on_tick when it fires */
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
    int epfd;
    viewer_t *viewers; /* this thread's own */
    int nviewers;
    tmr_t **heap;      /* every timer of this thread, earliest first */
    int heap_len;
    char *buf;         /* RECV_BUF: every response is read into it */
    char *text;        /* MAX_PLAYLIST_BYTES + 1: an inflated playlist */
    z_stream z;
    bool z_ready;
    double now;        /* monotonic s: the current batch of events */
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

/* ---- timers: one binary heap per thread ------------------------------------------------- */

static void heap_swap(worker_t *w, int a, int b)
{
    tmr_t *t = w->heap[a];
    w->heap[a] = w->heap[b];
    w->heap[b] = t;
    w->heap[a]->pos = a;
    w->heap[b]->pos = b;
}

static void heap_up(worker_t *w, int i)
{
    while (i > 0 && w->heap[(i - 1) / 2]->at > w->heap[i]->at) {
        heap_swap(w, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(worker_t *w, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->heap_len && w->heap[l]->at < w->heap[m]->at)
            m = l;
        if (r < w->heap_len && w->heap[r]->at < w->heap[m]->at)
            m = r;
        if (m == i)
            return;
        heap_swap(w, i, m);
        i = m;
    }
}

static void unschedule(worker_t *w, tmr_t *t)
{
    int i = t->pos;
    if (i < 0)
        return;
    w->heap_len--;
    if (i != w->heap_len) {
        w->heap[i] = w->heap[w->heap_len];
        w->heap[i]->pos = i;
        heap_down(w, i);
        heap_up(w, i);
    }
    t->pos = -1;
}

/* Fires `t` at `at` (monotonic s), replacing an earlier schedule. The heap has room for every
 * timer of the thread, and each is in it at most once. */
static void schedule(worker_t *w, tmr_t *t, double at)
{
    unschedule(w, t);
    t->at = at;
    t->pos = w->heap_len;
    w->heap[w->heap_len++] = t;
    heap_up(w, t->pos);
}

/* ---- requests and connections ----------------------------------------------------------- */

static void request_done(conn_t *c, bool ok, char *text, size_t text_len);

/* Writes the GET request for `uri`, as the playlist names it (relative to it, an absolute path,
 * or an absolute URL on the same origin), into c->req. False when it does not fit or points
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
    int n = snprintf(c->req, sizeof c->req,
                     "GET %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: llhls-load\r\n"
                     "Accept: */*\r\n%s\r\n",
                     prefix, uri, query, opt.host, opt.gzip ? "Accept-Encoding: gzip\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof c->req)
        return false;
    c->req_len = (uint16_t)n;
    return true;
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0 && close(c->fd) < 0 && opt.debug) /* the descriptor is released anyway */
        perror("llhls-load: close");
    c->fd = -1;
    c->events = 0;
    c->state = CS_CLOSED;
}

/* Makes epoll watch c->fd for `events` (registering it the first time). */
static bool conn_watch(conn_t *c, uint32_t events)
{
    if (c->events == events)
        return true;
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)c->gen << 32 | c->index};
    if (epoll_ctl(c->v->w->epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
        return false;
    c->events = events;
    return true;
}

typedef enum { F_TIMEOUT, F_CONNECTION, F_OTHER } fail_kind_t;

/* The request on c failed: counted once (kind and detail), the connection closed, the viewer
 * told. */
static void conn_fail(conn_t *c, fail_kind_t kind, int detail)
{
    worker_t *w = c->v->w;
    stats_t *st = &w->st;
    if (opt.debug && st->c[C_TIMEOUTS] + st->c[C_CONNECT_ERR] + st->c[C_OTHER_ERR] < 10) {
        char buf[32];
        fprintf(stderr,
                "llhls-load: viewer %d: %s request failed after %.0f ms: %s (%s, %s "
                "connection, %u responses on it before%s): %.*s\n",
                c->v->id, c->playlist ? "playlist" : "media", (mono_s() - c->start) * 1e3,
                detail_name(detail, buf, sizeof buf), state_names[c->state],
                c->reused ? "reused" : "new", c->nreq, c->resent ? ", sent again" : "",
                (int)strcspn(c->req, "\r"), c->req);
    }
    st->c[kind == F_TIMEOUT ? C_TIMEOUTS : kind == F_CONNECTION ? C_CONNECT_ERR : C_OTHER_ERR]++;
    if (detail > 0 && detail < DETAIL_SLOTS)
        st->detail[detail]++;
    conn_close(c);
    request_done(c, false, NULL, 0);
}

static void conn_open(conn_t *c);

/* Ready to send c->req from its start and parse a new response. */
static void conn_rewind(conn_t *c)
{
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->req_off = 0;
    c->got_bytes = c->done = c->keep_alive = c->keep_body = false;
    c->gzip = c->bad_encoding = c->in_value = c->is_ce = false;
    c->name_len = c->val_len = 0;
    c->detail = 0;
    c->wire = 0;
}

/* The connection broke (err: an errno value, or 0 when the server closed it). Before the first
 * byte of the response on a kept-alive connection, that is the server having closed it while
 * idle: the request is sent again, once, on a new connection. */
static void conn_broken(conn_t *c, int err)
{
    if (c->reused && !c->got_bytes && !c->resent) {
        c->resent = true;
        if (measuring(c->v->w->now))
            c->v->w->st.c[C_RESENT]++;
        conn_rewind(c);
        conn_open(c);
        return;
    }
    conn_fail(c, F_CONNECTION, err > 0 ? err : D_CAUSE(CAUSE_CLOSED_EARLY));
}

/* Sends what is left of the request; then waits for the response. */
static void conn_send(conn_t *c)
{
    while (c->req_off < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->req_off += (uint16_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->state = CS_SENDING;
            if (!conn_watch(c, EPOLLIN | EPOLLOUT))
                conn_fail(c, F_OTHER, errno);
            return;
        } else {
            conn_broken(c, n < 0 ? errno : 0);
            return;
        }
    }
    c->state = CS_RECEIVING;
    if (!conn_watch(c, EPOLLIN))
        conn_fail(c, F_OTHER, errno);
}

/* Opens a new connection to the origin for the request on c. */
static void conn_open(conn_t *c)
{
    worker_t *w = c->v->w;
    conn_close(c);
    c->reused = false;
    int fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        conn_fail(c, F_CONNECTION, errno); /* EMFILE: out of descriptors */
        return;
    }
    c->fd = fd;
    c->gen++;
    c->nreq = 0;
    if (measuring(w->now))
        w->st.c[C_CONNECTS]++;
    int one = 1; /* the request is one write: no reason to hold it back */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        conn_fail(c, F_CONNECTION, errno);
        return;
    }
    if (connect(fd, (const struct sockaddr *)&opt.addr, opt.addrlen) == 0) {
        conn_send(c);
        return;
    }
    if (errno != EINPROGRESS) {
        conn_fail(c, F_CONNECTION, errno);
        return;
    }
    c->state = CS_CONNECTING;
    if (!conn_watch(c, EPOLLOUT))
        conn_fail(c, F_OTHER, errno);
}

/* Starts the request built in c->req: on the kept-alive connection if there is one, else on a
 * new one. Its deadline runs from now. */
static void conn_request(conn_t *c)
{
    worker_t *w = c->v->w;
    c->start = mono_s();
    schedule(w, &c->timer, c->start + opt.timeout);
    conn_rewind(c);
    c->resent = false;
    if (c->state == CS_IDLE) {
        c->reused = true;
        conn_send(c);
    } else {
        conn_open(c);
    }
}

/* A connect() in progress ended. */
static void conn_connected(conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        conn_fail(c, F_CONNECTION, err);
        return;
    }
    conn_send(c);
}

/* Inflates a gzip'd playlist body into w->text (NUL-terminated): its length, or -1 with *detail
 * set. */
static long gunzip(worker_t *w, const char *in, size_t len, int *detail)
{
    z_stream *z = &w->z;
    if (inflateReset(z) != Z_OK) {
        *detail = D_CAUSE(CAUSE_GUNZIP);
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
    *detail = D_CAUSE(rc == Z_BUF_ERROR && z->avail_out == 0 ? CAUSE_TOO_LARGE : CAUSE_GUNZIP);
    return -1;
}

/* The response on c is complete (http_parser paused after its last byte); `extra`: bytes came
 * after it, which nobody asked for. */
static void conn_complete(conn_t *c, bool extra)
{
    worker_t *w = c->v->w;
    viewer_t *v = c->v;
    unsigned status = c->parser.status_code;
    bool ok = status == 200 || status == 206;
    char *text = NULL;
    long len = 0;
    c->nreq++;
    if (ok && c->playlist) {
        text = v->body;
        len = (long)v->body_len;
        if (c->gzip) {
            int detail = 0;
            if ((len = gunzip(w, v->body, v->body_len, &detail)) < 0) {
                conn_fail(c, F_OTHER, detail);
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
    if (c->keep_alive && !extra && c->req_off == c->req_len)
        c->state = CS_IDLE; /* epoll keeps watching for EPOLLIN: the server closing it */
    else
        conn_close(c);
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
        c->detail = D_CAUSE(CAUSE_ENCODING);
        return -1;
    }
    if (p->content_length != ULLONG_MAX && p->content_length > MAX_PLAYLIST_BYTES) {
        c->detail = D_CAUSE(CAUSE_TOO_LARGE);
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
        c->detail = D_CAUSE(CAUSE_TOO_LARGE);
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
            c->detail = ENOMEM;
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
    if (measuring(w->now))
        w->st.c[C_BODY_BYTES] += len;
    return 0;
}

/* Arrival: when the last byte has been parsed. The parser stops there: one response per request,
 * and whatever follows is not ours. */
static int on_message_complete(http_parser *p)
{
    conn_t *c = p->data;
    c->done = true;
    c->keep_alive = http_should_keep_alive(p) != 0;
    c->done_mono = mono_s();
    if (c->playlist)
        c->done_wall_ms = wall_ms();
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings pl_settings = {
    .on_header_field = pl_on_header_field,
    .on_header_value = pl_on_header_value,
    .on_headers_complete = pl_on_headers_complete,
    .on_body = pl_on_body,
    .on_message_complete = on_message_complete,
};

static const http_parser_settings media_settings = {
    .on_body = media_on_body,
    .on_message_complete = on_message_complete,
};

/* ---- reading responses ------------------------------------------------------------------ */

/* Feeds n received bytes to c's parser. True when the request ended, well or not (c may carry
 * the viewer's next request by then). */
static bool conn_feed(conn_t *c, const char *data, size_t n)
{
    size_t used = http_parser_execute(&c->parser, c->playlist ? &pl_settings : &media_settings,
                                      data, n);
    if (c->done) {
        conn_complete(c, used < n);
        return true;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (used == n && e == HPE_OK)
        return false;
    conn_fail(c, F_OTHER, c->detail ? c->detail : D_HPE(e));
    return true;
}

/* The server closed the connection: the end of a response that runs until then, or a failure. */
static void conn_eof(conn_t *c)
{
    http_parser_execute(&c->parser, c->playlist ? &pl_settings : &media_settings, NULL, 0);
    if (c->done) {
        c->keep_alive = false;
        conn_complete(c, false);
        return;
    }
    conn_broken(c, 0);
}

/* Reads what has arrived: until a read does not fill the buffer (level-triggered epoll says
 * when there is more), the response ends, or the connection does. */
static void conn_read(conn_t *c)
{
    worker_t *w = c->v->w;
    for (;;) {
        ssize_t n = recv(c->fd, w->buf, RECV_BUF, 0);
        if (n > 0) {
            c->got_bytes = true;
            if (conn_feed(c, w->buf, (size_t)n) || n < RECV_BUF)
                return;
        } else if (n == 0) {
            conn_eof(c);
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            conn_broken(c, errno);
            return;
        }
    }
}

/* Something happened on an idle kept-alive connection: the server closed it (or sent what nobody
 * asked for). Closed; the next request opens a new one. */
static void conn_idle_event(conn_t *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n > 0 && opt.debug)
        fprintf(stderr, "llhls-load: viewer %d: unexpected bytes on an idle connection\n",
                c->v->id);
    conn_close(c);
}

/* An epoll event: data is the connection's gen << 32 | index. */
static void on_event(worker_t *w, uint64_t data, uint32_t events)
{
    uint32_t index = (uint32_t)data, gen = (uint32_t)(data >> 32);
    viewer_t *v = &w->viewers[index / 2];
    conn_t *c = index & 1 ? &v->media : &v->pl;
    if (c->fd < 0 || c->gen != gen)
        return; /* about a socket closed since */
    if (c->state == CS_CONNECTING) {
        conn_connected(c);
        return;
    }
    if (c->state == CS_IDLE) {
        conn_idle_event(c);
        return;
    }
    if (c->state == CS_SENDING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        conn_send(c);
        if (c->gen != gen)
            return;
    }
    /* sending or receiving: the server may have answered (or closed) before the last byte went */
    if ((c->state == CS_SENDING || c->state == CS_RECEIVING) &&
        (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        conn_read(c);
}

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
        v->w->st.detail[D_CAUSE(CAUSE_URL)]++;
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
            v->w->st.detail[D_CAUSE(CAUSE_URL)]++;
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
        schedule(w, &v->timer, now + ERROR_BACKOFF_S);
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
    schedule(w, &v->timer, now + (changed ? td : td / 2));
}


/* The request on c ended, well or not; the connection is idle or closed by now. */
static void request_done(conn_t *c, bool ok, char *text, size_t text_len)
{
    viewer_t *v = c->v;
    worker_t *w = v->w;
    double now = ok ? c->done_mono : mono_s();
    unschedule(w, &c->timer);
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
    double took_ms = (c->done_mono - c->start) * 1e3;
    if (c->playlist) {
        v->pl_busy = false;
        if (ok && m)
            samples_add(&w->st.s[v->pl_blocking ? S_BLOCK : S_PLAYLIST], took_ms);
        if (ok)
            on_playlist(v, text, now, c->done_wall_ms);
        else /* start over with a plain load after a pause, as a player retries */
            schedule(w, &v->timer, now + ERROR_BACKOFF_S);
    } else {
        v->media_busy = false;
        if (ok && m && v->media_kind != REQ_INIT)
            samples_add(&w->st.s[v->media_kind == REQ_PART ? S_PART : S_SEGMENT], took_ms);
        next_media(v);
    }
}

/* A request's deadline passed. */
static void conn_timeout(conn_t *c)
{
    int cause = c->state == CS_CONNECTING ? CAUSE_TIMEOUT_CONNECT
                : c->got_bytes            ? CAUSE_TIMEOUT_BODY
                                          : CAUSE_TIMEOUT_WAIT;
    conn_fail(c, F_TIMEOUT, D_CAUSE(cause));
}

/* A viewer's timer: its first load, a plain-HLS reload, or a retry after an error. */
static void on_tick(viewer_t *v)
{
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
    struct epoll_event events[1024];
    for (;;) {
        double now = mono_s();
        if (now >= opt.end_at)
            break;
        w->now = now;
        while (w->heap_len && w->heap[0]->at <= now) {
            tmr_t *t = w->heap[0];
            unschedule(w, t);
            if (t->kind == T_CONN)
                conn_timeout((conn_t *)t);
            else
                on_tick((viewer_t *)t);
        }
        double until = opt.end_at;
        if (w->heap_len && w->heap[0]->at < until)
            until = w->heap[0]->at;
        double wait = ceil((until - mono_s()) * 1e3);
        int n = epoll_wait(w->epfd, events, 1024, wait > 0 ? (int)wait : 0);
        if (n < 0 && errno != EINTR) {
            perror("llhls-load: epoll_wait");
            break;
        }
        w->now = mono_s();
        for (int i = 0; i < n; i++)
            on_event(w, events[i].data.u64, events[i].events);
    }
    /* The run is over: what is still in flight is abandoned, and not counted. */
    for (int i = 0; i < w->nviewers; i++) {
        viewer_t *v = &w->viewers[i];
        conn_close(&v->pl);
        conn_close(&v->media);
        free(v->body);
        free(v->body_copy);
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

/* Resolves the origin's host once: the first address that accepts a connection when it has more
 * than one (as a browser tries them in turn), else its only one. */
static int resolve(void)
{
    char host[512], port[16] = "80";
    const char *hp = opt.host, *end;
    if (*hp == '[') { /* [IPv6]:port */
        if (!(end = strchr(hp, ']')) || (end[1] && end[1] != ':'))
            return -1;
        snprintf(host, sizeof host, "%.*s", (int)(end - hp - 1), hp + 1);
        end++;
    } else {
        end = strrchr(hp, ':');
        if (!end)
            end = hp + strlen(hp);
        snprintf(host, sizeof host, "%.*s", (int)(end - hp), hp);
    }
    if (*end == ':' && snprintf(port, sizeof port, "%s", end + 1) >= (int)sizeof port)
        return -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "llhls-load: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    const struct addrinfo *pick = res;
    for (const struct addrinfo *ai = res; res->ai_next && ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        bool ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        close(fd);
        if (ok) {
            pick = ai;
            break;
        }
    }
    if (pick->ai_addrlen > sizeof opt.addr) {
        freeaddrinfo(res);
        return -1;
    }
    memcpy(&opt.addr, pick->ai_addr, pick->ai_addrlen);
    opt.addrlen = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void merge(stats_t *into, const stats_t *from)
{
    for (int i = 0; i < C_COUNT; i++)
        into->c[i] += from->c[i];
    for (int i = 0; i < 600; i++)
        into->http_status[i] += from->http_status[i];
    for (int i = 0; i < DETAIL_SLOTS; i++)
        into->detail[i] += from->detail[i];
    for (int k = 0; k < S_COUNT; k++)
        for (size_t i = 0; i < from->s[k].n; i++)
            samples_add(&into->s[k], from->s[k].v[i]);
}

static void print_dist(FILE *f, const char *name, samples_t *s, const char *end)
{
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_float);
    fprintf(f, "  \"%s\": {\"n\": %zu", name, s->n);
    if (s->n)
        fprintf(f, ", \"p50\": %.1f, \"p95\": %.1f, \"p99\": %.1f, \"max\": %.1f",
                quantile(s, .5), quantile(s, .95), quantile(s, .99), (double)s->v[s->n - 1]);
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
            ", \"playlist_parse\": %" PRIu64 ", \"detail\": {",
            c[C_TIMEOUTS], c[C_CONNECT_ERR], c[C_OTHER_ERR], c[C_PARSE_ERR]);
    first = true;
    for (int i = 0; i < DETAIL_SLOTS; i++) {
        if (!st->detail[i])
            continue;
        char buf[32];
        fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", detail_name(i, buf, sizeof buf),
                st->detail[i]);
        first = false;
    }
    fprintf(f, "}},\n");
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
            c[C_TIMEOUTS], c[C_CONNECT_ERR], quantile(lag, .5), quantile(lag, .99),
            quantile(blk, .99), quantile(part, .5), quantile(part, .99), 100 * cpu_s / wall_s);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void conn_init(conn_t *c, viewer_t *v, uint32_t index, bool playlist)
{
    c->timer = (tmr_t){.pos = -1, .kind = T_CONN};
    c->v = v;
    c->fd = -1;
    c->index = index;
    c->playlist = playlist;
    c->state = CS_CLOSED;
    c->parser.data = c; /* http_parser_init keeps it */
}

/* Thread t's viewers are t, t+T, t+2T, …; viewer i starts at ramp × i / N. */
static int worker_init(worker_t *w, int t, int nviewers, int nthreads)
{
    w->index = t;
    w->nviewers = (nviewers - t + nthreads - 1) / nthreads;
    w->viewers = calloc((size_t)w->nviewers, sizeof *w->viewers);
    /* room for every timer: the viewer's, and one deadline per connection */
    w->heap = calloc((size_t)w->nviewers * (1 + CONNS_PER_VIEWER), sizeof *w->heap);
    w->buf = malloc(RECV_BUF);
    w->text = malloc(MAX_PLAYLIST_BYTES + 1);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!w->viewers || !w->heap || !w->buf || !w->text || w->epfd < 0)
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
        v->timer = (tmr_t){.pos = -1, .kind = T_VIEWER};
        v->last_edge_ms = NAN;
        conn_init(&v->pl, v, (uint32_t)j * 2, true);
        conn_init(&v->media, v, (uint32_t)j * 2 + 1, false);
        schedule(w, &v->timer, opt.t0 + opt.ramp * v->id / nviewers);
    }
    return 0;
}

static void worker_free(worker_t *w)
{
    if (w->z_ready)
        inflateEnd(&w->z);
    if (w->epfd > 0)
        close(w->epfd);
    free(w->viewers);
    free(w->heap);
    free(w->buf);
    free(w->text);
    for (int k = 0; k < S_COUNT; k++)
        free(w->st.s[k].v);
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

    if (resolve() < 0) {
        fprintf(stderr, "llhls-load: cannot resolve the host of %s\n", url);
        return 2;
    }

    /* Two connections per viewer (a closed one is closed before the next opens), an epoll
     * descriptor per thread, and headroom. Raise the soft limit to the hard one; no more can be
     * had without CAP_SYS_RESOURCE. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        perror("llhls-load: getrlimit");
        return 1;
    }
    rlim_t want = (rlim_t)nviewers * CONNS_PER_VIEWER + (rlim_t)nthreads + 256;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        perror("llhls-load: getrlimit");
        return 1;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        fprintf(stderr, "llhls-load: warning: descriptor limit %llu, %llu wanted for %d viewers\n",
                (unsigned long long)rl.rlim_cur, (unsigned long long)want, nviewers);

    worker_t *workers = calloc((size_t)nthreads, sizeof *workers);
    if (!workers)
        goto oom;
    opt.t0 = mono_s();
    opt.end_at = opt.t0 + opt.seconds;
    opt.measure_from = opt.t0 + opt.ramp + opt.warmup;
    for (int t = 0; t < nthreads; t++)
        if (worker_init(&workers[t], t, nviewers, nthreads) < 0)
            goto oom;

    double cpu0 = cpu_seconds();
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&workers[t].thread, NULL, worker_run, &workers[t]) != 0)
            goto oom;
    worker_run(&workers[0]);
    for (int t = 1; t < nthreads; t++)
        if (pthread_join(workers[t].thread, NULL) != 0)
            return 1;
    double wall = mono_s() - opt.t0, cpu = cpu_seconds() - cpu0;

    stats_t *all = &workers[0].st;
    for (int t = 1; t < nthreads; t++)
        merge(all, &workers[t].st);
    report(all, url, opt.seconds - opt.ramp - opt.warmup, cpu, wall,
           (unsigned long long)rl.rlim_cur);
    int status = stats_errors(all) ? 3 : 0;
    for (int t = 0; t < nthreads; t++)
        worker_free(&workers[t]);
    free(workers);
    return status;
oom:
    fprintf(stderr, "llhls-load: out of memory or descriptors for %d viewers\n", nviewers);
    return 1;
}
