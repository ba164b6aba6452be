/* registration-load: N concurrent clients posting distinct registrations to one webinar of a
 * lectern on this machine (POST /api/webinars/{slug}/registrations), for a fixed time. Prints a
 * JSON report on stdout and a one-line summary on stderr; optionally writes every acknowledged
 * email (for a durability check). Build: make -C bench (needs libhttp-parser-dev).
 *
 * Each client holds one HTTP/1.1 keep-alive connection (lib/hconn.c, shared with llhls-load) and
 * has one registration in flight at a time, each with its own email address
 * u<prefix>-<16 hex digits>@example.com: the digits are a bijective 64-bit mix of (client, n), so
 * no two requests of a run, or of two runs with different --prefix, register the same person,
 * and the addresses arrive in no particular order, as real sign-ups do (in order, they would all
 * land at the same few places of the email indexes and flatter the database's writer). The body
 * is what the registration page sends:
 *   {"email": …, "name": …, "consent": true, "consent_version": <the webinar's, read once with
 *    GET /api/webinars/{slug} unless --consent-version>, "utm_source": "bench"}
 * Two ways to offer the load:
 *   closed loop (default)  each client sends its next registration as soon as the previous one is
 *                          answered: the most the server completes with N clients waiting.
 *   open loop (--rate R)   R registrations per second in all, due at even intervals spread over
 *                          the clients (each every N/R s). A client whose previous answer is
 *                          late sends the next as soon as it comes, and its latency counts from
 *                          when it was due, so a server that falls behind shows it in latency
 *                          (no coordinated omission) as long as no more than one is in flight
 *                          per client.
 * Clients start evenly spread over --ramp seconds (closed loop). After a failed request a client
 * pauses 0.1 s before its next registration.
 *
 * Measured in the window after --warmup (responses that complete in it):
 *   registrations_per_s  201 answers with a join_url, per second;
 *   latency_ms           for each of them, from the moment it was sent (closed loop) or due
 *                        (open loop) to the last byte of the answer parsed.
 * Errors (whole run), each failed request counted once: a status other than 201 (by status),
 * a 201 without a join_url in its body (other: bad_body), a timeout (--timeout), a connection
 * that failed or closed early (connection: errno name or closed_early), a malformed response
 * (other: http_parser's error).
 * Acknowledged (whole run): every registration answered 201 with a join_url — the server said it
 * is stored. Their count and an order-independent hash (the sum of FNV-1a 64 of each address)
 * are in the report; --acked FILE writes the addresses, one a line, when the run ends.
 *
 * Only a loopback origin is accepted (127.0.0.0/8 or ::1). The run ends after --seconds, or at
 * SIGINT/SIGTERM (the report and the file are still written). Exit status: 0, 3 when any request
 * failed, 2 on bad arguments, 1 when out of memory or descriptors or the webinar cannot be read. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>

#include "lib/hconn.h"
#include "lib/samples.h"

#define ERROR_BACKOFF_S 0.1
#define RECV_BUF (64 << 10)   /* per thread */
#define BODY_KEEP 512         /* bytes of a response body kept to check it */
#define WEBINAR_MAX (256 << 10) /* the webinar's JSON, read once */
#define VALUE_MAX 160         /* consent_version: 40 characters in the schema, escaped */

/* ---- statistics (one per thread, merged at the end) ------------------------------------------ */

/* Counters: those before C_WHOLE_RUN count only in the measured window. */
#define COUNTERS(X)                                                                               \
    X(C_ACKED, "acknowledged")                                                                    \
    X(C_DUE, "due")                                                                               \
    X(C_CONNECTS, "connections_opened")                                                           \
    X(C_RESENT, "requests_resent")                                                                \
    X(C_WHOLE_RUN, "")                                                                            \
    X(C_SENT, "requests_sent")                                                                    \
    X(C_ACKED_ALL, "acknowledged_total")                                                          \
    X(C_TIMEOUTS, "timeout")                                                                      \
    X(C_CONNECT_ERR, "connection")                                                                \
    X(C_OTHER_ERR, "other")
#define AS_ENUM(id, name) id,
#define AS_NAME(id, name) name,
enum { COUNTERS(AS_ENUM) C_COUNT };
static const char *const counter_names[C_COUNT] = {COUNTERS(AS_NAME)};

/* Causes of our own (HC_D_USER), besides errno names, http_parser's and lib/hconn's. */
enum { CAUSE_BAD_BODY, CAUSE_TOO_LONG, CAUSE_COUNT };
static const char *const cause_names[CAUSE_COUNT] = {"bad_body", "request_too_long"};

typedef struct {
    uint64_t c[C_COUNT];
    uint64_t http_status[600];        /* whole run, errors only; [0]: out of range */
    uint64_t detail[HC_DETAIL_SLOTS]; /* whole run: the failures behind timeout/connection/other */
    samples_t latency;                /* ms */
    uint64_t acked_hash;              /* sum of FNV-1a 64 of every acknowledged address */
    uint64_t *acked;                  /* client << 32 | n of each, when --acked */
    size_t nacked, acked_cap;
} stats_t;

static uint64_t stats_errors(const stats_t *st)
{
    uint64_t e = st->c[C_TIMEOUTS] + st->c[C_CONNECT_ERR] + st->c[C_OTHER_ERR];
    for (int i = 0; i < 600; i++)
        e += st->http_status[i];
    return e;
}

/* ---- options --------------------------------------------------------------------------------- */

static struct {
    char host[256];       /* "HOST:PORT" (the Host header) */
    char path[512];       /* "/api/webinars/SLUG" */
    char consent[VALUE_MAX + 1]; /* the JSON string's contents, escapes kept */
    char prefix[32];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    double clients, seconds, warmup, ramp, threads, timeout, rate;
    double t0, measure_from, end_at; /* monotonic s */
    const char *json_path, *acked_path;
    bool debug;
} opt = {.clients = 64, .seconds = 20, .warmup = 2, .ramp = 1, .threads = 1, .timeout = 15};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static bool measuring(double now) { return now >= opt.measure_from && now < opt.end_at; }

/* ---- clients --------------------------------------------------------------------------------- */

typedef struct worker worker_t;

typedef struct {
    hc_conn_t hc;       /* first: hc.user is the client too */
    hc_tmr_t timer;     /* the next registration's start (ramp, open loop, back-off) */
    worker_t *w;
    uint32_t id;        /* 0..N-1 over all threads */
    uint32_t next;      /* number of the next address */
    uint32_t cur;       /* … of the one in flight */
    bool busy;
    double origin;      /* latency counts from here: sent, or due (open loop) */
    double due;         /* open loop: when the next tick is */
    int backlog;        /* open loop: registrations due and not sent yet */
    double resume_at;   /* backing off after a failure until then */
    uint16_t body_len;
    char body[BODY_KEEP];
} client_t;

struct worker {
    hc_loop_t *loop;
    client_t *clients;
    int nclients;
    stats_t st;
    pthread_t thread;
};

static double interval_s(void) { return opt.clients / opt.rate; } /* open loop, per client */

/* splitmix64's finaliser: a bijection on 64 bits, so distinct (client, n) give distinct
 * addresses. */
static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int email(char *buf, size_t size, uint32_t client, uint32_t n)
{
    return snprintf(buf, size, "u%s-%016" PRIx64 "@example.com", opt.prefix,
                    mix64((uint64_t)client << 32 | n));
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Writes the POST for the client's next address into c->hc.req. */
static bool build_request(client_t *c)
{
    char addr[96], body[512];
    email(addr, sizeof addr, c->id, c->next);
    int blen = snprintf(body, sizeof body,
                        "{\"email\":\"%s\",\"name\":\"Attendee %" PRIu32 "-%" PRIu32
                        "\",\"consent\":true,\"consent_version\":\"%s\",\"utm_source\":\"bench\"}",
                        addr, c->id, c->next, opt.consent);
    if (blen < 0 || (size_t)blen >= sizeof body)
        return false;
    int n = snprintf(c->hc.req, sizeof c->hc.req,
                     "POST %s/registrations HTTP/1.1\r\nHost: %s\r\n"
                     "User-Agent: registration-load\r\nAccept: application/json\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     opt.path, opt.host, blen, body);
    if (n < 0 || (size_t)n >= sizeof c->hc.req)
        return false;
    c->hc.req_len = (uint16_t)n;
    return true;
}

/* Sends the client's next registration; `origin` is when it was due (0: now). */
static void send_next(client_t *c, double origin)
{
    stats_t *st = &c->w->st;
    if (!build_request(c)) {
        st->c[C_OTHER_ERR]++;
        st->detail[HC_D_USER(CAUSE_TOO_LONG)]++;
        return;
    }
    c->cur = c->next++;
    c->busy = true;
    c->body_len = 0;
    c->origin = origin > 0 ? origin : hc_mono_s();
    st->c[C_SENT]++;
    /* a failure at once calls on_failure before this returns */
    hc_conn_request(&c->hc, opt.timeout);
}

/* The client is free and not backing off: its next registration, at once (closed loop) or the
 * oldest one due (open loop), whose latency counts from when it was due. */
static void client_idle(client_t *c)
{
    if (opt.rate <= 0) {
        send_next(c, 0);
    } else if (c->backlog > 0) {
        double due = c->due - c->backlog * interval_s();
        c->backlog--;
        send_next(c, due);
    }
}

/* The client's timer: its first registration or the end of a back-off (closed loop), or the
 * next tick (open loop: each tick that has passed is one more registration due). */
static void on_tick(hc_tmr_t *t)
{
    client_t *c = (client_t *)((char *)t - offsetof(client_t, timer));
    double now = hc_loop_now(c->w->loop);
    if (opt.rate > 0) {
        while (c->due <= now) { /* after a stall of the loop, several */
            if (measuring(c->due))
                c->w->st.c[C_DUE]++;
            c->backlog++;
            c->due += interval_s();
        }
        hc_schedule(c->w->loop, &c->timer, c->due);
    }
    if (!c->busy && now >= c->resume_at)
        client_idle(c);
}

/* After a failure: a pause before the next registration. In the open loop the first tick after
 * it sends what is due by then. */
static void back_off(client_t *c)
{
    c->resume_at = hc_mono_s() + ERROR_BACKOFF_S;
    if (opt.rate <= 0)
        hc_schedule(c->w->loop, &c->timer, c->resume_at);
}

static void on_failure(hc_conn_t *hc, hc_fail_t kind, int detail)
{
    client_t *c = hc->user;
    stats_t *st = &c->w->st;
    if (opt.debug && st->c[C_TIMEOUTS] + st->c[C_CONNECT_ERR] + st->c[C_OTHER_ERR] < 10) {
        char buf[32];
        fprintf(stderr,
                "registration-load: client %" PRIu32 ": request failed after %.0f ms: %s (%s, %s "
                "connection, %u responses on it before%s)\n",
                c->id, (hc_mono_s() - hc->start) * 1e3,
                hc_detail_name(detail, cause_names, buf, sizeof buf), hc_state_name(hc->fail_state),
                hc->reused ? "reused" : "new", hc->nreq, hc->resent ? ", sent again" : "");
    }
    st->c[kind == HC_FAIL_TIMEOUT      ? C_TIMEOUTS
          : kind == HC_FAIL_CONNECTION ? C_CONNECT_ERR
                                       : C_OTHER_ERR]++;
    if (detail > 0 && detail < HC_DETAIL_SLOTS)
        st->detail[detail]++;
    c->busy = false;
    back_off(c);
}

static void on_opened(hc_conn_t *hc)
{
    client_t *c = hc->user;
    if (!measuring(hc_loop_now(c->w->loop)))
        return;
    c->w->st.c[C_CONNECTS]++;
    c->w->st.c[C_RESENT] += hc->resent;
}

static void acknowledge(client_t *c)
{
    stats_t *st = &c->w->st;
    char addr[96];
    email(addr, sizeof addr, c->id, c->cur);
    st->c[C_ACKED_ALL]++;
    st->acked_hash += fnv1a(addr);
    if (!opt.acked_path)
        return;
    if (st->nacked == st->acked_cap) {
        size_t cap = st->acked_cap ? st->acked_cap * 2 : 65536;
        uint64_t *a = realloc(st->acked, cap * sizeof *a);
        if (!a) {
            fprintf(stderr, "registration-load: out of memory for the acknowledged list\n");
            exit(1); /* a partial list would make the durability check lie */
        }
        st->acked = a;
        st->acked_cap = cap;
    }
    st->acked[st->nacked++] = (uint64_t)c->id << 32 | c->cur;
}

static void on_response(hc_conn_t *hc, bool extra)
{
    (void)extra; /* the connection was closed for it */
    client_t *c = hc->user;
    stats_t *st = &c->w->st;
    unsigned status = hc->parser.status_code;
    c->busy = false;
    if (status != 201) {
        if (opt.debug && stats_errors(st) < 10)
            fprintf(stderr, "registration-load: client %" PRIu32 ": status %u: %.*s\n", c->id,
                    status, (int)c->body_len, c->body);
        st->http_status[status < 600 ? status : 0]++;
        back_off(c);
        return;
    }
    /* lectern's answer: {"join_url":"http…", …}; anything else is not an acknowledgement */
    c->body[c->body_len < BODY_KEEP ? c->body_len : BODY_KEEP - 1] = 0;
    if (!strstr(c->body, "\"join_url\":\"http")) {
        st->c[C_OTHER_ERR]++;
        st->detail[HC_D_USER(CAUSE_BAD_BODY)]++;
        back_off(c);
        return;
    }
    acknowledge(c);
    if (measuring(hc->done_mono)) {
        st->c[C_ACKED]++;
        samples_add(&st->latency, (hc->done_mono - c->origin) * 1e3);
    }
    client_idle(c);
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    client_t *c = ((hc_conn_t *)p->data)->user;
    size_t room = BODY_KEEP - 1 - c->body_len;
    size_t n = len < room ? len : room;
    memcpy(c->body + c->body_len, at, n);
    c->body_len = (uint16_t)(c->body_len + n);
    return 0;
}

static const http_parser_settings settings = {
    .on_body = on_body,
    .on_message_complete = hc_on_message_complete,
};

static const hc_ops_t client_ops = {
    .settings = &settings,
    .response = on_response,
    .failure = on_failure,
    .opened = on_opened,
};

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    int rc = hc_loop_run(w->loop, opt.end_at, &stopping);
    if (rc < 0)
        fprintf(stderr, "registration-load: epoll_wait: %s\n", strerror(-rc));
    return NULL; /* what is in flight is abandoned: neither acknowledged nor failed */
}

/* Thread t's clients are t, t+T, t+2T, …; client i starts at ramp × i / N (closed loop) or, open
 * loop, at its phase i / N of the interval. */
static int worker_init(worker_t *w, int t, int nclients, int nthreads)
{
    w->nclients = (nclients - t + nthreads - 1) / nthreads;
    w->clients = calloc((size_t)w->nclients, sizeof *w->clients);
    w->loop = hc_loop_new((const struct sockaddr *)&opt.addr, opt.addrlen, w->nclients,
                          w->nclients, RECV_BUF);
    if (!w->clients || !w->loop)
        return -1;
    for (int j = 0; j < w->nclients; j++) {
        client_t *c = &w->clients[j];
        c->w = w;
        c->id = (uint32_t)(j * nthreads + t);
        c->timer = HC_TMR_INIT(on_tick);
        if (hc_conn_init(&c->hc, w->loop, &client_ops, c) < 0)
            return -1;
        double start = opt.rate > 0 ? opt.t0 + interval_s() * c->id / nclients
                                    : opt.t0 + opt.ramp * c->id / nclients;
        c->due = start;
        hc_schedule(w->loop, &c->timer, start);
    }
    return 0;
}

static void worker_free(worker_t *w)
{
    hc_loop_free(&w->loop);
    free(w->clients);
    samples_clear(&w->st.latency);
    free(w->st.acked);
}

static void merge(stats_t *into, const stats_t *from)
{
    for (int i = 0; i < C_COUNT; i++)
        into->c[i] += from->c[i];
    for (int i = 0; i < 600; i++)
        into->http_status[i] += from->http_status[i];
    for (int i = 0; i < HC_DETAIL_SLOTS; i++)
        into->detail[i] += from->detail[i];
    samples_merge(&into->latency, &from->latency);
    into->acked_hash += from->acked_hash;
}

/* ---- the webinar's consent version ----------------------------------------------------------- */

typedef struct {
    hc_conn_t hc;
    char *buf;
    size_t len;
    bool done, ok;
    volatile sig_atomic_t stop;
} fetch_t;

static int fetch_on_body(http_parser *p, const char *at, size_t len)
{
    fetch_t *f = ((hc_conn_t *)p->data)->user;
    if (len > WEBINAR_MAX - f->len)
        return -1;
    memcpy(f->buf + f->len, at, len);
    f->len += len;
    return 0;
}

static void fetch_response(hc_conn_t *hc, bool extra)
{
    (void)extra;
    fetch_t *f = hc->user;
    f->ok = hc->parser.status_code == 200;
    if (!f->ok)
        fprintf(stderr, "registration-load: GET %s: status %u\n", opt.path,
                hc->parser.status_code);
    f->stop = 1;
}

static void fetch_failure(hc_conn_t *hc, hc_fail_t kind, int detail)
{
    (void)kind;
    char buf[32];
    fprintf(stderr, "registration-load: GET %s failed: %s\n", opt.path,
            hc_detail_name(detail, NULL, buf, sizeof buf));
    ((fetch_t *)hc->user)->stop = 1;
}

/* Reads the webinar's public JSON once and copies the contents of its first "consent_version"
 * string (lectern's public view has it in "registration") into opt.consent, escapes as they are:
 * the same text is valid inside our own JSON string. */
static int read_consent_version(void)
{
    static const http_parser_settings fetch_settings = {
        .on_body = fetch_on_body,
        .on_message_complete = hc_on_message_complete,
    };
    static const hc_ops_t fetch_ops = {
        .settings = &fetch_settings, .response = fetch_response, .failure = fetch_failure};
    fetch_t f = {.buf = malloc(WEBINAR_MAX + 1)};
    hc_loop_t *l = hc_loop_new((const struct sockaddr *)&opt.addr, opt.addrlen, 1, 0, RECV_BUF);
    int rc = -1;
    if (!f.buf || !l || hc_conn_init(&f.hc, l, &fetch_ops, &f) < 0)
        goto out;
    int n = snprintf(f.hc.req, sizeof f.hc.req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: registration-load\r\n"
                     "Accept: application/json\r\nConnection: close\r\n\r\n",
                     opt.path, opt.host);
    if (n < 0 || (size_t)n >= sizeof f.hc.req)
        goto out;
    f.hc.req_len = (uint16_t)n;
    hc_conn_request(&f.hc, opt.timeout);
    if (!f.stop && hc_loop_run(l, hc_mono_s() + opt.timeout + 1, &f.stop) < 0)
        goto out;
    if (!f.ok)
        goto out;
    f.buf[f.len] = 0;
    const char *key = strstr(f.buf, "\"consent_version\"");
    if (!key) {
        fprintf(stderr, "registration-load: the webinar has no consent_version\n");
        goto out;
    }
    const char *p = key + strlen("\"consent_version\"");
    p += strspn(p, " \t\r\n");
    if (*p++ != ':')
        goto bad;
    p += strspn(p, " \t\r\n");
    if (*p++ != '"')
        goto bad;
    size_t len = 0;
    for (; p[len] && p[len] != '"'; len++) {
        if ((unsigned char)p[len] < 0x20)
            goto bad;
        if (p[len] == '\\' && p[++len] == 0)
            goto bad;
    }
    if (p[len] != '"' || len == 0 || len > VALUE_MAX)
        goto bad;
    memcpy(opt.consent, p, len);
    opt.consent[len] = 0;
    rc = 0;
    goto out;
bad:
    fprintf(stderr, "registration-load: cannot read consent_version from the webinar's JSON\n");
out:
    hc_loop_free(&l);
    free(f.buf);
    return rc;
}

/* ---- set-up and report ----------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: registration-load --url http://127.0.0.1:PORT/api/webinars/SLUG [options]\n"
            "  --clients N          concurrent clients, one connection each (default 64)\n"
            "  --seconds S          length of the run, warm-up included (default 20)\n"
            "  --warmup S           not measured (default 2)\n"
            "  --ramp S             closed loop: clients start spread over this (default 1)\n"
            "  --rate R             open loop: R registrations/s in all (default: closed loop)\n"
            "  --threads T          event loops, each with its share of the clients (default 1)\n"
            "  --timeout S          per request (default 15)\n"
            "  --consent-version V  (default: read from GET /api/webinars/SLUG)\n"
            "  --prefix P           addresses are uP-<16 hex digits>@example.com (default:\n"
            "                       from the pid and the time; [a-z0-9] only)\n"
            "  --acked FILE         write every acknowledged address there, one a line\n"
            "  --json FILE          the JSON report goes there instead of stdout\n"
            "  --debug              print the first few failures\n");
}

/* http://HOST[:PORT]/api/webinars/SLUG → opt.host, opt.path. */
static int parse_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *host = url + 7, *slash = strchr(host, '/');
    if (!slash || slash == host || (size_t)(slash - host) >= sizeof opt.host)
        return -1;
    snprintf(opt.host, sizeof opt.host, "%.*s", (int)(slash - host), host);
    size_t len = strcspn(slash, "?#");
    while (len > 1 && slash[len - 1] == '/')
        len--;
    if (len >= sizeof opt.path || strncmp(slash, "/api/webinars/", 14) != 0 || len <= 14 ||
        memchr(slash + 14, '/', len - 14))
        return -1;
    snprintf(opt.path, sizeof opt.path, "%.*s", (int)len, slash);
    return 0;
}

static bool loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return false;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Every thread's acknowledged addresses, one a line, sorted by client and number. */
static int write_acked(worker_t *workers, int nthreads)
{
    FILE *f = fopen(opt.acked_path, "w");
    if (!f) {
        perror(opt.acked_path);
        return -1;
    }
    for (int t = 0; t < nthreads; t++) {
        stats_t *st = &workers[t].st;
        qsort(st->acked, st->nacked, sizeof *st->acked, cmp_u64);
        for (size_t i = 0; i < st->nacked; i++) {
            char addr[96];
            email(addr, sizeof addr, (uint32_t)(st->acked[i] >> 32), (uint32_t)st->acked[i]);
            fprintf(f, "%s\n", addr);
        }
    }
    if (fclose(f) != 0) {
        perror(opt.acked_path);
        return -1;
    }
    return 0;
}

static void report(stats_t *st, const char *url, double measured_s, double cpu_s, double wall_s,
                   bool interrupted)
{
    FILE *f = stdout;
    if (opt.json_path && !(f = fopen(opt.json_path, "w"))) {
        perror(opt.json_path);
        f = stdout;
    }
    uint64_t *c = st->c;
    samples_t *lat = &st->latency;
    samples_sort(lat);
    double mean = 0;
    for (size_t i = 0; i < lat->n; i++)
        mean += lat->v[i];
    mean = lat->n ? mean / (double)lat->n : NAN;
    fprintf(f, "{\n  \"url\": \"%s\",\n  \"clients\": %d,\n  \"threads\": %d,\n", url,
            (int)opt.clients, (int)opt.threads);
    fprintf(f, "  \"mode\": \"%s\",\n  \"rate\": %.1f,\n", opt.rate > 0 ? "open" : "closed",
            opt.rate > 0 ? opt.rate : 0.0);
    fprintf(f, "  \"seconds\": %.1f,\n  \"warmup_s\": %.1f,\n  \"measured_s\": %.2f,\n",
            opt.seconds, opt.warmup, measured_s);
    fprintf(f, "  \"interrupted\": %s,\n  \"consent_version\": \"%s\",\n  \"prefix\": \"%s\",\n",
            interrupted ? "true" : "false", opt.consent, opt.prefix);
    fprintf(f, "  \"registrations_per_s\": %.1f,\n",
            measured_s > 0 ? (double)c[C_ACKED] / measured_s : NAN);
    if (opt.rate > 0)
        fprintf(f, "  \"offered_per_s\": %.1f,\n",
                measured_s > 0 ? (double)c[C_DUE] / measured_s : NAN);
    fprintf(f, "  \"counts\": {");
    bool first = true;
    for (int i = 0; i < C_COUNT; i++) {
        if (i == C_WHOLE_RUN || i == C_TIMEOUTS || i == C_CONNECT_ERR || i == C_OTHER_ERR ||
            (i == C_DUE && opt.rate <= 0))
            continue;
        fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", counter_names[i], c[i]);
        first = false;
    }
    fprintf(f, "},\n  \"errors\": {\"total\": %" PRIu64 ", \"http\": {", stats_errors(st));
    first = true;
    for (int i = 0; i < 600; i++) {
        if (!st->http_status[i])
            continue;
        fprintf(f, "%s\"%d\": %" PRIu64, first ? "" : ", ", i, st->http_status[i]);
        first = false;
    }
    fprintf(f,
            "}, \"timeout\": %" PRIu64 ", \"connection\": %" PRIu64 ", \"other\": %" PRIu64
            ", \"detail\": ",
            c[C_TIMEOUTS], c[C_CONNECT_ERR], c[C_OTHER_ERR]);
    hc_print_details(f, st->detail, cause_names);
    fprintf(f, "},\n");
    fprintf(f, "  \"acked\": {\"count\": %" PRIu64 ", \"hash\": \"%016" PRIx64 "\"%s%s%s},\n",
            c[C_ACKED_ALL], st->acked_hash, opt.acked_path ? ", \"file\": \"" : "",
            opt.acked_path ? opt.acked_path : "", opt.acked_path ? "\"" : "");
    fprintf(f, "  \"client_cpu_pct\": %.1f,\n", 100 * cpu_s / wall_s);
    fprintf(f, "  \"client_cpu_us_per_request\": %.1f,\n",
            c[C_SENT] ? cpu_s * 1e6 / (double)c[C_SENT] : NAN);
    fprintf(f, "  \"latency_ms\": {\"n\": %zu", lat->n);
    if (lat->n)
        fprintf(f,
                ", \"mean\": %.2f, \"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p999\": %.2f, "
                "\"max\": %.2f",
                mean, samples_quantile(lat, .5), samples_quantile(lat, .9),
                samples_quantile(lat, .99), samples_quantile(lat, .999),
                (double)lat->v[lat->n - 1]);
    fprintf(f, "}\n}\n");
    if (f != stdout)
        fclose(f);

    fprintf(stderr,
            "registration-load: %d clients, %s, %.0f registrations/s, latency p50 %.1f p90 %.1f "
            "p99 %.1f max %.1f ms, errors %" PRIu64 " (http %" PRIu64 ", timeout %" PRIu64
            ", conn %" PRIu64 "), acknowledged %" PRIu64 ", client cpu %.0f%%\n",
            (int)opt.clients, opt.rate > 0 ? "open loop" : "closed loop",
            measured_s > 0 ? (double)c[C_ACKED] / measured_s : NAN, samples_quantile(lat, .5),
            samples_quantile(lat, .9), samples_quantile(lat, .99),
            lat->n ? (double)lat->v[lat->n - 1] : NAN, stats_errors(st),
            stats_errors(st) - c[C_TIMEOUTS] - c[C_CONNECT_ERR] - c[C_OTHER_ERR], c[C_TIMEOUTS],
            c[C_CONNECT_ERR], c[C_ACKED_ALL], 100 * cpu_s / wall_s);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *consent = NULL, *prefix = NULL;
    static const struct {
        const char *flag;
        double *value;
    } nums[] = {{"--clients", &opt.clients}, {"--seconds", &opt.seconds},
                {"--warmup", &opt.warmup},   {"--ramp", &opt.ramp},
                {"--threads", &opt.threads}, {"--timeout", &opt.timeout},
                {"--rate", &opt.rate}};
    const struct {
        const char *flag;
        const char **value;
    } strs[] = {{"--url", &url},
                {"--consent-version", &consent},
                {"--prefix", &prefix},
                {"--acked", &opt.acked_path},
                {"--json", &opt.json_path}};
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
        for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
            if (!strcmp(a, strs[k].flag) && val) {
                *strs[k].value = val;
                known = true;
                i++;
            }
        if (!strcmp(a, "--debug"))
            opt.debug = known = true;
        if (!known) {
            usage();
            return 2;
        }
    }
    if (!url || parse_url(url) < 0 || opt.clients < 1 || opt.clients > 1e6 || opt.threads < 1 ||
        opt.threads > 64 || opt.warmup < 0 || opt.ramp < 0 || opt.timeout <= 0 || opt.rate < 0 ||
        opt.warmup >= opt.seconds) {
        usage();
        return 2;
    }
    if (prefix) {
        if (!*prefix || strlen(prefix) >= sizeof opt.prefix ||
            strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(prefix)) {
            usage();
            return 2;
        }
        snprintf(opt.prefix, sizeof opt.prefix, "%s", prefix);
    } else {
        snprintf(opt.prefix, sizeof opt.prefix, "%lx%x", (unsigned long)time(NULL),
                 (unsigned)getpid());
    }
    if (consent) {
        /* given on the command line: plain text, so no quote, backslash or control character */
        size_t len = strlen(consent);
        if (!len || len > 40 || strpbrk(consent, "\"\\")) {
            usage();
            return 2;
        }
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)consent[i] < 0x20) {
                usage();
                return 2;
            }
        snprintf(opt.consent, sizeof opt.consent, "%s", consent);
    }
    int nclients = (int)opt.clients, nthreads = (int)opt.threads;
    if (nthreads > nclients)
        nthreads = nclients, opt.threads = nclients;

    if (hc_resolve("registration-load", opt.host, &opt.addr, &opt.addrlen) < 0) {
        fprintf(stderr, "registration-load: cannot resolve the host of %s\n", url);
        return 2;
    }
    if (!loopback(&opt.addr)) {
        fprintf(stderr, "registration-load: %s is not a loopback address: this tool only loads a "
                        "server on this machine\n", opt.host);
        return 2;
    }
    if (!consent && read_consent_version() < 0)
        return 1;
    if (!hc_raise_nofile("registration-load", (unsigned long long)nclients + 256))
        return 1;

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    worker_t *workers = calloc((size_t)nthreads, sizeof *workers);
    if (!workers)
        goto oom;
    opt.t0 = hc_mono_s();
    opt.end_at = opt.t0 + opt.seconds;
    opt.measure_from = opt.t0 + opt.warmup;
    for (int t = 0; t < nthreads; t++)
        if (worker_init(&workers[t], t, nclients, nthreads) < 0)
            goto oom;

    double cpu0 = hc_cpu_seconds();
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&workers[t].thread, NULL, worker_run, &workers[t]) != 0)
            goto oom;
    worker_run(&workers[0]);
    for (int t = 1; t < nthreads; t++)
        if (pthread_join(workers[t].thread, NULL) != 0)
            return 1;
    double end = hc_mono_s(), wall = end - opt.t0, cpu = hc_cpu_seconds() - cpu0;
    bool interrupted = end < opt.end_at;
    double measured = (interrupted ? end : opt.end_at) - opt.measure_from;

    int status = 0;
    if (opt.acked_path && write_acked(workers, nthreads) < 0)
        status = 1;
    stats_t *all = &workers[0].st;
    for (int t = 1; t < nthreads; t++)
        merge(all, &workers[t].st);
    report(all, url, measured > 0 ? measured : 0, cpu, wall, interrupted);
    if (!status && stats_errors(all))
        status = 3;
    for (int t = 0; t < nthreads; t++)
        worker_free(&workers[t]);
    free(workers);
    return status;
oom:
    fprintf(stderr, "registration-load: out of memory or descriptors for %d clients\n", nclients);
    return 1;
}
