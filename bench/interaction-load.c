/* interaction-load: N attendees of one webinar of a lectern on this machine, each holding its
 * Server-Sent Events stream (GET /api/join/{token}/events), driven by commands on stdin (one a
 * line) and answering with JSON lines on stdout. Build: make -C bench (needs libhttp-parser-dev).
 * bench/interaction.mjs sets the server up and drives it; see there for the measurements.
 *
 * At start every attendee's stream is opened (spread over --ramp seconds) on its own connection
 * (lib/hconn.c: one epoll loop, non-blocking sockets, http_parser undoes the chunked encoding);
 * the event stream is parsed as it arrives, keeping per stream only the event names, counts and
 * the arrival time of the events being watched (the moment epoll said the bytes were there: an
 * upper bound of the real arrival that does not include this tool's own work on the other
 * streams of the same batch). A stream that ends is not opened again: it is counted. Once every
 * stream got its `snapshot` (or failed, or --connect-timeout passed) it prints
 *   {"type":"ready", …}
 * and takes commands:
 *   status                      the streams: open, snapshots, failed and closed (by cause), the
 *                               ping comments (": ping") seen, events by name
 *   arm EVENT                   from now on record, per stream, the first EVENT to arrive
 *                               (answers with this tool's CLOCK_MONOTONIC, to check the caller's)
 *   collect EVENT t0=NS [timeout=S] [from=due]
 *                               waits until every open stream has had the armed EVENT (or the
 *                               timeout, default 10 s) and answers with how many got it and the
 *                               quantiles of arrival − t0 (t0: CLOCK_MONOTONIC in ns, when the
 *                               caller sent what causes the event); from=due: minus the time the
 *                               stream's attendee's vote was due instead (after a vote burst)
 *   vote poll=ID options=A,B,… [seconds=2] [conns=K] [timeout=10] [acked=FILE] [kill=PID]
 *                               every attendee votes once (POST /api/join/{token}/polls/ID/vote,
 *                               attendee i for option i mod the number of options), in a random
 *                               order, due at even intervals over `seconds` (open loop), over a
 *                               pool of K keep-alive connections (--vote-conns at most): a vote
 *                               due while every connection is busy waits for one, and its
 *                               latency counts from when it was due, not when it was sent (no
 *                               coordinated omission). When the last vote is answered (or
 *                               failed): kill=PID sends SIGKILL to PID at once, then
 *                               {"type":"last_ack"} and the report ("voted": rate, errors by
 *                               status and cause, 200s per option, latency quantiles, and
 *                               send_lag_ms: due → sent, for want of a free connection or because
 *                               this loop was late); acked=FILE gets the indices (0-based, the
 *                               line of --tokens) of the attendees answered 200
 *   quit                        (or the end of stdin) ends the run
 * Only a loopback origin is accepted. The run ends after --seconds whatever happens. Exit status 0,
 * 2 on bad arguments, 1 when out of memory or descriptors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
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

#define RECV_BUF (256 << 10)
#define TOKEN_MAX 64        /* a join token: 43 base64url characters */
#define LINE_KEEP 40        /* of each SSE line: enough for "event: NAME" and ": ping" */
#define CMD_POLL_S 0.002    /* how often stdin is looked at */
#define CMD_MAX 4096
#define VOTE_CONNS_MAX 4096
#define OPTIONS_MAX 10
#define FOREVER_S 1e6       /* a stream's request has no deadline of its own */

/* ---- event names ----------------------------------------------------------------------------- */

#define EVENTS(X)                                                                                 \
    X(EV_MESSAGE, "message") /* no event: line, or a name not below */                          \
    X(EV_SNAPSHOT, "snapshot")                                                                    \
    X(EV_SETTINGS, "settings")                                                                    \
    X(EV_POLL, "poll")                                                                            \
    X(EV_POLL_REMOVED, "poll_removed")                                                            \
    X(EV_POLL_RESULTS, "poll_results")                                                            \
    X(EV_VOTE, "vote")                                                                            \
    X(EV_QUESTION, "question")                                                                    \
    X(EV_CHAT, "chat")                                                                            \
    X(EV_CHAT_DELETED, "chat_deleted")                                                            \
    X(EV_HAND, "hand")                                                                            \
    X(EV_MUTED, "muted")                                                                          \
    X(EV_AUDIENCE, "audience")                                                                    \
    X(EV_ENDED, "ended")
#define AS_ENUM(id, name) id,
#define AS_NAME(id, name) name,
enum { EVENTS(AS_ENUM) EV_COUNT };
static const char *const event_names[EV_COUNT] = {EVENTS(AS_NAME)};

static int event_kind(const char *name, size_t len)
{
    for (int k = 1; k < EV_COUNT; k++)
        if (strlen(event_names[k]) == len && !memcmp(event_names[k], name, len))
            return k;
    return EV_MESSAGE;
}

/* ---- state ----------------------------------------------------------------------------------- */

typedef enum { S_IDLE, S_WAITING, S_OPEN, S_FAILED, S_CLOSED } stream_state_t;

/* One attendee's event stream, and its SSE parser's state. */
typedef struct {
    hc_conn_t hc; /* first: hc.user is the stream too */
    uint32_t idx;
    uint8_t state;
    uint8_t line_len;
    bool line_over, after_cr, has_data;
    uint8_t cur_event;           /* of the frame being read */
    uint16_t armed_count;        /* armed events since `arm` */
    uint32_t pings;
    uint32_t counts[EV_COUNT];
    double armed_at;             /* first armed event since `arm`; 0: none yet */
    double snapshot_at;
    char line[LINE_KEEP];
} stream_t;

typedef struct {
    hc_conn_t hc;
    int attendee; /* the vote in flight; -1: free */
} vconn_t;

/* Why streams ended: before their 200 (failed) or after (closed). */
typedef struct {
    uint64_t http_status[600];
    uint64_t detail[HC_DETAIL_SLOTS];
    uint64_t eof; /* the server ended the response */
} ends_t;

static struct {
    char host[256];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const char *tokens_path;
    double ramp, seconds, connect_timeout;
    int vote_conns;
    bool debug;
} opt = {.ramp = 2, .seconds = 900, .connect_timeout = 60, .vote_conns = 2000};

static struct {
    hc_loop_t *loop;
    char (*tokens)[TOKEN_MAX];
    stream_t *streams;
    int n;
    int next_open;          /* ramp: the next stream to open */
    double t0;
    hc_tmr_t ramp_timer, cmd_timer;
    /* counts over the streams */
    int waiting, open, snapshots, failed, closed;
    ends_t failed_why, closed_why;
    bool ready_told;
    /* arm / collect */
    int armed_kind;         /* -1: none */
    int armed_got;
    bool collecting;
    double collect_deadline;
    int64_t collect_t0_ns;
    bool collect_from_due;
    /* commands */
    char cmd[CMD_MAX];
    size_t cmd_len;
    bool stdin_eof;
    volatile sig_atomic_t stop;
} g = {.armed_kind = -1};

/* A vote burst, one at a time. */
static struct {
    bool running;
    hc_tmr_t timer;          /* the next vote due */
    vconn_t *conns;
    int *free_conns, nfree, nconns;
    int *order;              /* attendees in the order their votes are due */
    double *due;             /* by attendee: when the vote was due (monotonic s); 0: none */
    uint8_t *acked;          /* by attendee: answered 200 */
    int next;                /* the next of `order` to send */
    int answered;            /* answered or failed */
    double start, seconds, timeout, last_done;
    int64_t poll_id;
    int64_t options[OPTIONS_MAX];
    int noptions;
    uint64_t ok_by_option[OPTIONS_MAX];
    uint64_t http_status[600];
    uint64_t detail[HC_DETAIL_SLOTS];
    uint64_t timeouts, conn_errors, other_errors, ok;
    uint64_t queued_max;     /* votes due at once with no connection free, at the most */
    samples_t latency;       /* ms, from due to answered, 200s only */
    samples_t lag;           /* ms, from due to sent: no connection free, or this loop late */
    char acked_path[512];
    pid_t kill_pid;
} vb;

static void on_signal(int sig)
{
    (void)sig;
    g.stop = 1;
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- SSE parsing ----------------------------------------------------------------------------- */

/* A frame ended (blank line): it is an event when it had data (as EventSource decides). */
static void dispatch(stream_t *s)
{
    int kind = s->cur_event;
    bool event = s->has_data;
    s->cur_event = EV_MESSAGE;
    s->has_data = false;
    if (!event)
        return;
    double now = hc_loop_now(g.loop);
    s->counts[kind]++;
    if (kind == EV_SNAPSHOT && s->snapshot_at == 0) {
        s->snapshot_at = now;
        g.snapshots++;
    }
    if (kind == g.armed_kind && s->armed_count++ == 0) {
        s->armed_at = now;
        g.armed_got++;
    }
}

/* One complete line (its first LINE_KEEP bytes in s->line). */
static void end_line(stream_t *s)
{
    size_t len = s->line_len;
    const char *l = s->line;
    s->line_len = 0;
    bool over = s->line_over;
    s->line_over = false;
    if (len == 0 && !over) {
        dispatch(s);
        return;
    }
    if (l[0] == ':') { /* a comment: the heartbeat is ": ping" */
        size_t i = 1;
        while (i < len && l[i] == ' ')
            i++;
        if (len - i >= 4 && !memcmp(l + i, "ping", 4))
            s->pings++;
        return;
    }
    const char *colon = memchr(l, ':', len);
    size_t name_len = colon ? (size_t)(colon - l) : len;
    const char *value = colon ? colon + 1 : l + len;
    size_t value_len = colon ? len - name_len - 1 : 0;
    if (value_len && *value == ' ')
        value++, value_len--;
    if (name_len == 5 && !memcmp(l, "event", 5))
        s->cur_event = over ? EV_MESSAGE : (uint8_t)event_kind(value, value_len);
    else if (name_len == 4 && !memcmp(l, "data", 4))
        s->has_data = true;
}

static int on_stream_body(http_parser *p, const char *at, size_t len)
{
    stream_t *s = ((hc_conn_t *)p->data)->user;
    if (s->state != S_OPEN)
        return 0; /* an error's body */
    for (size_t i = 0; i < len; i++) {
        char ch = at[i];
        if (s->after_cr) {
            s->after_cr = false;
            if (ch == '\n')
                continue;
        }
        if (ch == '\r' || ch == '\n') {
            s->after_cr = ch == '\r';
            end_line(s);
            continue;
        }
        if (s->line_len < LINE_KEEP)
            s->line[s->line_len++] = ch;
        else
            s->line_over = true;
    }
    return 0;
}

/* ---- streams --------------------------------------------------------------------------------- */

static void maybe_ready(void);

/* The stream is no longer waiting or open. */
static void stream_left(stream_t *s)
{
    if (s->state == S_WAITING)
        g.waiting--;
    else if (s->state == S_OPEN)
        g.open--;
}

static int on_stream_headers(http_parser *p)
{
    stream_t *s = ((hc_conn_t *)p->data)->user;
    if (p->status_code != 200)
        return 0;
    g.waiting--;
    g.open++;
    s->state = S_OPEN;
    return 0;
}

static void on_stream_response(hc_conn_t *hc, bool extra)
{
    (void)extra;
    stream_t *s = hc->user;
    unsigned status = hc->parser.status_code;
    if (s->state == S_OPEN) {
        stream_left(s);
        g.closed_why.eof++;
        s->state = S_CLOSED;
        g.closed++;
    } else {
        stream_left(s);
        g.failed_why.http_status[status < 600 ? status : 0]++;
        s->state = S_FAILED;
        g.failed++;
        if (opt.debug && g.failed <= 5)
            fprintf(stderr, "interaction-load: stream %" PRIu32 ": status %u\n", s->idx, status);
    }
    maybe_ready();
}

static void on_stream_failure(hc_conn_t *hc, hc_fail_t kind, int detail)
{
    (void)kind;
    stream_t *s = hc->user;
    ends_t *why = s->state == S_OPEN ? &g.closed_why : &g.failed_why;
    stream_left(s);
    if (detail > 0 && detail < HC_DETAIL_SLOTS)
        why->detail[detail]++;
    if (s->state == S_OPEN) {
        s->state = S_CLOSED;
        g.closed++;
    } else {
        s->state = S_FAILED;
        g.failed++;
        if (opt.debug && g.failed <= 5) {
            char buf[32];
            fprintf(stderr, "interaction-load: stream %" PRIu32 ": %s\n", s->idx,
                    hc_detail_name(detail, NULL, buf, sizeof buf));
        }
    }
    maybe_ready();
}

static const http_parser_settings stream_settings = {
    .on_headers_complete = on_stream_headers,
    .on_body = on_stream_body,
    .on_message_complete = hc_on_message_complete,
};

static const hc_ops_t stream_ops = {
    .settings = &stream_settings,
    .response = on_stream_response,
    .failure = on_stream_failure,
};

static void stream_open(stream_t *s)
{
    int n = snprintf(s->hc.req, sizeof s->hc.req,
                     "GET /api/join/%s/events HTTP/1.1\r\nHost: %s\r\n"
                     "User-Agent: interaction-load\r\nAccept: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\n\r\n",
                     g.tokens[s->idx], opt.host);
    s->hc.req_len = (uint16_t)n; /* fits: the token and host are bounded */
    s->state = S_WAITING;
    g.waiting++;
    hc_conn_request(&s->hc, FOREVER_S);
}

/* Opens the streams whose moment in the ramp has come. */
static void on_ramp(hc_tmr_t *t)
{
    (void)t;
    double now = hc_loop_now(g.loop);
    while (g.next_open < g.n && g.t0 + opt.ramp * g.next_open / g.n <= now)
        stream_open(&g.streams[g.next_open++]);
    if (g.next_open < g.n)
        hc_schedule(g.loop, &g.ramp_timer, g.t0 + opt.ramp * g.next_open / g.n);
}

/* ---- reports --------------------------------------------------------------------------------- */

static void print_status_counts(FILE *f, const uint64_t *status)
{
    bool first = true;
    fputc('{', f);
    for (int i = 0; i < 600; i++) {
        if (!status[i])
            continue;
        fprintf(f, "%s\"%d\": %" PRIu64, first ? "" : ", ", i, status[i]);
        first = false;
    }
    fputc('}', f);
}

static void print_ends(FILE *f, const char *name, const ends_t *e)
{
    fprintf(f, "\"%s\": {\"http\": ", name);
    print_status_counts(f, e->http_status);
    fprintf(f, ", \"eof\": %" PRIu64 ", \"detail\": ", e->eof);
    hc_print_details(f, e->detail, NULL);
    fputc('}', f);
}

static void print_status(const char *type)
{
    uint64_t events[EV_COUNT] = {0};
    uint64_t pings = 0;
    uint32_t pings_min = UINT32_MAX;
    int with_ping = 0;
    for (int i = 0; i < g.n; i++) {
        stream_t *s = &g.streams[i];
        for (int k = 0; k < EV_COUNT; k++)
            events[k] += s->counts[k];
        pings += s->pings;
        if (s->state != S_OPEN)
            continue;
        with_ping += s->pings > 0;
        if (s->pings < pings_min)
            pings_min = s->pings;
    }
    FILE *f = stdout;
    fprintf(f,
            "{\"type\": \"%s\", \"t\": %.3f, \"streams\": %d, \"opened\": %d, \"waiting\": %d, "
            "\"open\": %d, \"snapshots\": %d, \"failed\": %d, \"closed\": %d, ",
            type, hc_mono_s() - g.t0, g.n, g.next_open, g.waiting, g.open, g.snapshots, g.failed,
            g.closed);
    print_ends(f, "failed_why", &g.failed_why);
    fputs(", ", f);
    print_ends(f, "closed_why", &g.closed_why);
    fprintf(f, ", \"pings\": %" PRIu64 ", \"open_with_ping\": %d, \"pings_min\": %u, \"events\": {",
            pings, with_ping, pings_min == UINT32_MAX ? 0 : pings_min);
    bool first = true;
    for (int k = 0; k < EV_COUNT; k++) {
        if (!events[k])
            continue;
        fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", event_names[k], events[k]);
        first = false;
    }
    fprintf(f, "}, \"cpu_s\": %.3f}\n", hc_cpu_seconds());
    fflush(f);
}

static void print_quantiles(FILE *f, samples_t *s)
{
    samples_sort(s);
    fprintf(f, "{\"n\": %zu", s->n);
    if (s->n)
        fprintf(f,
                ", \"min\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"p999\": %.3f, "
                "\"max\": %.3f",
                (double)s->v[0], samples_quantile(s, .5), samples_quantile(s, .9),
                samples_quantile(s, .99), samples_quantile(s, .999), (double)s->v[s->n - 1]);
    fputc('}', f);
}

static void maybe_ready(void)
{
    if (g.ready_told || g.next_open < g.n)
        return;
    bool timed_out = hc_mono_s() > g.t0 + opt.ramp + opt.connect_timeout;
    if (g.snapshots + g.failed + g.closed < g.n && !timed_out)
        return;
    g.ready_told = true;
    print_status("ready");
}

/* ---- arm and collect ------------------------------------------------------------------------- */

static void arm(int kind)
{
    g.armed_kind = kind;
    g.armed_got = 0;
    g.collecting = false;
    for (int i = 0; i < g.n; i++) {
        g.streams[i].armed_count = 0;
        g.streams[i].armed_at = 0;
    }
}

/* Every open stream has had the armed event (a stream that got it and closed since counts). */
static bool collect_done(void)
{
    int got_open = 0;
    for (int i = 0; i < g.n; i++)
        got_open += g.streams[i].state == S_OPEN && g.streams[i].armed_count > 0;
    return got_open >= g.open;
}

static void collect_report(void)
{
    samples_t lat = {0};
    int missing = 0, dup = 0;
    double t0 = (double)g.collect_t0_ns / 1e9;
    for (int i = 0; i < g.n; i++) {
        stream_t *s = &g.streams[i];
        if (s->armed_count > 1)
            dup++;
        if (!s->armed_count) {
            missing += s->state == S_OPEN;
            continue;
        }
        double base = t0;
        if (g.collect_from_due) {
            if (!vb.due || vb.due[i] == 0)
                continue;
            base = vb.due[i];
        }
        samples_add(&lat, (s->armed_at - base) * 1e3);
    }
    FILE *f = stdout;
    fprintf(f,
            "{\"type\": \"collected\", \"event\": \"%s\", \"from\": \"%s\", \"streams\": %d, "
            "\"open\": %d, \"got\": %d, \"missing_open\": %d, \"more_than_one\": %d, "
            "\"timed_out\": %s, \"cpu_s\": %.4f, \"ms\": ",
            event_names[g.armed_kind], g.collect_from_due ? "due" : "t0", g.n, g.open,
            g.armed_got, missing, dup, collect_done() ? "false" : "true", hc_cpu_seconds());
    print_quantiles(f, &lat);
    fputs("}\n", f);
    fflush(f);
    samples_clear(&lat);
}

/* ---- the vote burst -------------------------------------------------------------------------- */

static void burst_pump(void);

static void vote_send(vconn_t *v, int attendee)
{
    int64_t option = vb.options[attendee % vb.noptions];
    char body[64];
    int blen = snprintf(body, sizeof body, "{\"options\":[%" PRId64 "]}", option);
    int n = snprintf(v->hc.req, sizeof v->hc.req,
                     "POST /api/join/%s/polls/%" PRId64 "/vote HTTP/1.1\r\nHost: %s\r\n"
                     "User-Agent: interaction-load\r\nAccept: application/json\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     g.tokens[attendee], vb.poll_id, opt.host, blen, body);
    v->hc.req_len = (uint16_t)n; /* bounded: token, host and numbers */
    v->attendee = attendee;
    samples_add(&vb.lag, (hc_mono_s() - vb.due[attendee]) * 1e3);
    hc_conn_request(&v->hc, vb.timeout);
}

static void burst_write_acked(void)
{
    if (!vb.acked_path[0])
        return;
    FILE *f = fopen(vb.acked_path, "w");
    if (!f) {
        fprintf(stderr, "interaction-load: %s: %s\n", vb.acked_path, strerror(errno));
        return;
    }
    for (int i = 0; i < g.n; i++)
        if (vb.acked[i])
            fprintf(f, "%d\n", i);
    if (fclose(f) != 0)
        fprintf(stderr, "interaction-load: %s: %s\n", vb.acked_path, strerror(errno));
}

static void burst_report(void)
{
    FILE *f = stdout;
    double span = vb.last_done - vb.start;
    fprintf(f,
            "{\"type\": \"voted\", \"poll_id\": %" PRId64 ", \"votes\": %d, \"seconds\": %.3f, "
            "\"conns\": %d, \"offered_per_s\": %.1f, \"ok\": %" PRIu64
            ", \"ok_per_s\": %.1f, \"span_s\": %.3f, \"queued_max\": %" PRIu64
            ", \"errors\": {\"http\": ",
            vb.poll_id, g.n, vb.seconds, vb.nconns, g.n / vb.seconds, vb.ok,
            span > 0 ? (double)vb.ok / span : NAN, span, vb.queued_max);
    print_status_counts(f, vb.http_status);
    fprintf(f, ", \"timeout\": %" PRIu64 ", \"connection\": %" PRIu64 ", \"other\": %" PRIu64
               ", \"detail\": ",
            vb.timeouts, vb.conn_errors, vb.other_errors);
    hc_print_details(f, vb.detail, NULL);
    fprintf(f, "}, \"ok_by_option\": {");
    for (int k = 0; k < vb.noptions; k++)
        fprintf(f, "%s\"%" PRId64 "\": %" PRIu64, k ? ", " : "", vb.options[k],
                vb.ok_by_option[k]);
    fprintf(f, "}, \"latency_ms\": ");
    print_quantiles(f, &vb.latency);
    fprintf(f, ", \"send_lag_ms\": ");
    print_quantiles(f, &vb.lag);
    fprintf(f, ", \"acked_file\": \"%s\", \"killed\": %d, \"cpu_s\": %.4f}\n", vb.acked_path,
            (int)vb.kill_pid, hc_cpu_seconds());
    fflush(f);
}

/* A vote was answered or failed: its connection takes the next one due, and the last one ends
 * the burst (SIGKILL first, when asked: the acknowledgements are all out by then). */
static void vote_done(vconn_t *v)
{
    v->attendee = -1;
    vb.free_conns[vb.nfree++] = (int)(v - vb.conns);
    if (++vb.answered < g.n) {
        burst_pump();
        return;
    }
    vb.last_done = hc_mono_s();
    vb.running = false;
    if (vb.kill_pid > 0 && kill(vb.kill_pid, SIGKILL) < 0)
        fprintf(stderr, "interaction-load: kill %d: %s\n", (int)vb.kill_pid, strerror(errno));
    out_line("{\"type\": \"last_ack\", \"t\": %.6f, \"killed\": %d}", vb.last_done - vb.start,
             (int)vb.kill_pid);
    burst_write_acked();
    burst_report();
}

static void on_vote_response(hc_conn_t *hc, bool extra)
{
    (void)extra;
    vconn_t *v = hc->user;
    int a = v->attendee;
    unsigned status = hc->parser.status_code;
    if (status == 200) {
        vb.ok++;
        vb.acked[a] = 1;
        vb.ok_by_option[a % vb.noptions]++;
        samples_add(&vb.latency, (hc->done_mono - vb.due[a]) * 1e3);
    } else {
        vb.http_status[status < 600 ? status : 0]++;
    }
    vote_done(v);
}

static void on_vote_failure(hc_conn_t *hc, hc_fail_t kind, int detail)
{
    vconn_t *v = hc->user;
    if (kind == HC_FAIL_TIMEOUT)
        vb.timeouts++;
    else if (kind == HC_FAIL_CONNECTION)
        vb.conn_errors++;
    else
        vb.other_errors++;
    if (detail > 0 && detail < HC_DETAIL_SLOTS)
        vb.detail[detail]++;
    vote_done(v);
}

static const http_parser_settings vote_settings = {
    .on_message_complete = hc_on_message_complete,
};

static const hc_ops_t vote_ops = {
    .settings = &vote_settings,
    .response = on_vote_response,
    .failure = on_vote_failure,
};

/* Sends every vote that is due while a connection is free; wakes up for the next one due. */
static void burst_pump(void)
{
    double now = hc_mono_s();
    while (vb.next < g.n && vb.due[vb.order[vb.next]] <= now && vb.nfree > 0) {
        int a = vb.order[vb.next++];
        vote_send(&vb.conns[vb.free_conns[--vb.nfree]], a);
    }
    /* votes due and not sent: they wait for a connection (the dues are evenly spaced) */
    double due_now = floor((now - vb.start) * g.n / vb.seconds) + 1;
    if (due_now > g.n)
        due_now = g.n;
    if (due_now - vb.next > (double)vb.queued_max)
        vb.queued_max = (uint64_t)(due_now - vb.next);
    if (vb.next < g.n && vb.nfree > 0)
        hc_schedule(g.loop, &vb.timer, vb.due[vb.order[vb.next]]);
}

static void on_burst_timer(hc_tmr_t *t)
{
    (void)t;
    burst_pump();
}

/* The options of a `vote` command are checked by the caller. */
static void burst_start(void)
{
    for (int i = g.n - 1; i > 0; i--) { /* a random order of the attendees */
        int j = (int)(drand48() * (i + 1));
        int tmp = vb.order[i];
        vb.order[i] = vb.order[j];
        vb.order[j] = tmp;
    }
    vb.start = hc_mono_s() + 0.01;
    for (int j = 0; j < g.n; j++)
        vb.due[vb.order[j]] = vb.start + vb.seconds * j / g.n;
    memset(vb.acked, 0, (size_t)g.n);
    vb.next = vb.answered = 0;
    vb.ok = vb.timeouts = vb.conn_errors = vb.other_errors = vb.queued_max = 0;
    memset(vb.ok_by_option, 0, sizeof vb.ok_by_option);
    memset(vb.http_status, 0, sizeof vb.http_status);
    memset(vb.detail, 0, sizeof vb.detail);
    samples_clear(&vb.latency);
    samples_clear(&vb.lag);
    vb.running = true;
    hc_schedule(g.loop, &vb.timer, vb.start);
}

/* ---- commands -------------------------------------------------------------------------------- */

/* The value of `key=` among the words, or NULL. */
static const char *arg(char **words, int nwords, const char *key)
{
    size_t klen = strlen(key);
    for (int i = 1; i < nwords; i++)
        if (!strncmp(words[i], key, klen) && words[i][klen] == '=')
            return words[i] + klen + 1;
    return NULL;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return false;
    *out = strtod(s, &end);
    return *end == 0 && isfinite(*out);
}

static void cmd_error(const char *what)
{
    out_line("{\"type\": \"error\", \"message\": \"%s\"}", what);
}

static void cmd_vote(char **w, int nw)
{
    const char *poll = arg(w, nw, "poll"), *options = arg(w, nw, "options");
    const char *acked = arg(w, nw, "acked"), *killpid = arg(w, nw, "kill");
    double seconds = 2, conns = opt.vote_conns, timeout = 10, pid = 0, id;
    if (vb.running) {
        cmd_error("a vote burst is running");
        return;
    }
    if (!parse_double(poll, &id) || id < 1 || !options ||
        (arg(w, nw, "seconds") && !parse_double(arg(w, nw, "seconds"), &seconds)) ||
        (arg(w, nw, "conns") && !parse_double(arg(w, nw, "conns"), &conns)) ||
        (arg(w, nw, "timeout") && !parse_double(arg(w, nw, "timeout"), &timeout)) ||
        (killpid && !parse_double(killpid, &pid)) || seconds <= 0 || timeout <= 0 || conns < 1 ||
        conns > opt.vote_conns || pid < 0 || (acked && strlen(acked) >= sizeof vb.acked_path)) {
        cmd_error("vote: bad arguments");
        return;
    }
    vb.noptions = 0;
    for (const char *p = options; *p;) {
        char *end;
        long long o = strtoll(p, &end, 10);
        if (end == p || o < 1 || vb.noptions == OPTIONS_MAX || (*end && *end != ',')) {
            cmd_error("vote: bad options");
            return;
        }
        vb.options[vb.noptions++] = o;
        p = *end ? end + 1 : end;
    }
    if (!vb.noptions) {
        cmd_error("vote: no options");
        return;
    }
    vb.poll_id = (int64_t)id;
    vb.seconds = seconds;
    vb.timeout = timeout;
    vb.kill_pid = (pid_t)pid;
    snprintf(vb.acked_path, sizeof vb.acked_path, "%s", acked ? acked : "");
    vb.nconns = (int)conns;
    vb.nfree = 0;
    for (int i = vb.nconns - 1; i >= 0; i--)
        vb.free_conns[vb.nfree++] = i;
    burst_start();
}

static void cmd_collect(char **w, int nw)
{
    double t0, timeout = 10;
    const char *from = arg(w, nw, "from");
    if (nw < 2 || g.armed_kind < 0 || strcmp(w[1], event_names[g.armed_kind]) ||
        !parse_double(arg(w, nw, "t0"), &t0) ||
        (arg(w, nw, "timeout") && !parse_double(arg(w, nw, "timeout"), &timeout)) ||
        (from && strcmp(from, "due") && strcmp(from, "t0"))) {
        cmd_error("collect: not armed for that event, or bad arguments");
        return;
    }
    g.collect_t0_ns = (int64_t)t0;
    g.collect_from_due = from && !strcmp(from, "due");
    g.collect_deadline = hc_mono_s() + timeout;
    g.collecting = true;
}

static void run_command(char *line)
{
    char *w[16];
    int nw = 0;
    for (char *save = NULL, *tok = strtok_r(line, " \t", &save); tok && nw < 16;
         tok = strtok_r(NULL, " \t", &save))
        w[nw++] = tok;
    if (!nw)
        return;
    if (!strcmp(w[0], "status")) {
        print_status("status");
    } else if (!strcmp(w[0], "arm") && nw == 2) {
        int kind = event_kind(w[1], strlen(w[1]));
        if (kind == EV_MESSAGE) {
            cmd_error("arm: unknown event");
            return;
        }
        arm(kind);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        out_line("{\"type\": \"armed\", \"event\": \"%s\", \"mono_ns\": %lld, \"cpu_s\": %.4f}",
                 w[1], (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, hc_cpu_seconds());
    } else if (!strcmp(w[0], "collect")) {
        cmd_collect(w, nw);
    } else if (!strcmp(w[0], "vote")) {
        cmd_vote(w, nw);
    } else if (!strcmp(w[0], "quit")) {
        g.stop = 1;
    } else {
        cmd_error("unknown command");
    }
}

/* Reads stdin (non-blocking) and runs the next command when the previous one is over; also
 * finishes a collect that is complete or timed out. */
static void on_cmd_timer(hc_tmr_t *t)
{
    if (g.collecting && (collect_done() || hc_mono_s() >= g.collect_deadline)) {
        g.collecting = false;
        collect_report();
    }
    maybe_ready();
    while (!g.stdin_eof && g.cmd_len < sizeof g.cmd - 1) {
        ssize_t n = read(0, g.cmd + g.cmd_len, sizeof g.cmd - 1 - g.cmd_len);
        if (n > 0)
            g.cmd_len += (size_t)n;
        else if (n == 0)
            g.stdin_eof = true;
        else if (errno != EINTR)
            break;
    }
    while (!g.collecting && !vb.running) {
        char *nl = memchr(g.cmd, '\n', g.cmd_len);
        if (!nl) {
            if (g.cmd_len == sizeof g.cmd - 1) { /* a line too long: dropped */
                g.cmd_len = 0;
                cmd_error("command too long");
            }
            if (g.stdin_eof)
                g.stop = 1; /* the caller is gone */
            break;
        }
        *nl = 0;
        size_t used = (size_t)(nl - g.cmd) + 1;
        char line[CMD_MAX];
        memcpy(line, g.cmd, used);
        memmove(g.cmd, g.cmd + used, g.cmd_len - used);
        g.cmd_len -= used;
        run_command(line);
    }
    hc_schedule(g.loop, t, hc_loop_now(g.loop) + CMD_POLL_S);
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: interaction-load --url http://127.0.0.1:PORT --tokens FILE [options]\n"
            "  --tokens FILE          join tokens, one a line: one attendee each\n"
            "  --ramp S               streams are opened spread over this (default 2)\n"
            "  --connect-timeout S    `ready` is told after this even if streams are missing\n"
            "                         (default 60)\n"
            "  --vote-conns K         connections for votes at most (default 2000)\n"
            "  --seconds S            the whole run at most (default 900)\n"
            "  --debug                print the first few failures\n"
            "then commands on stdin: status | arm EVENT | collect EVENT t0=NS [timeout=S]\n"
            "  [from=due] | vote poll=ID options=A,B [seconds=S] [conns=K] [timeout=S]\n"
            "  [acked=FILE] [kill=PID] | quit\n");
}

/* Reads the tokens: base64url characters only, each shorter than TOKEN_MAX. */
static int read_tokens(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "interaction-load: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[256];
    int cap = 0, rc = -1;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (!len)
            continue;
        if (len >= TOKEN_MAX || strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                             "0123456789-_") != len) {
            fprintf(stderr, "interaction-load: %s: line %d is not a join token\n", path, g.n + 1);
            goto out;
        }
        if (g.n == cap) {
            cap = cap ? cap * 2 : 1024;
            void *t = realloc(g.tokens, (size_t)cap * sizeof *g.tokens);
            if (!t)
                goto out;
            g.tokens = t;
        }
        memcpy(g.tokens[g.n++], line, len + 1);
    }
    rc = g.n > 0 ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "interaction-load: %s: no tokens\n", path);
out:
    fclose(f);
    return rc;
}

/* http://HOST:PORT[/] → opt.host */
static int parse_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *host = url + 7;
    size_t len = strcspn(host, "/");
    if (!len || len >= sizeof opt.host || (host[len] && strcmp(host + len, "/")))
        return -1;
    memcpy(opt.host, host, len);
    opt.host[len] = 0;
    return 0;
}

static int setup(void)
{
    g.streams = calloc((size_t)g.n, sizeof *g.streams);
    vb.conns = calloc((size_t)opt.vote_conns, sizeof *vb.conns);
    vb.free_conns = calloc((size_t)opt.vote_conns, sizeof *vb.free_conns);
    vb.order = calloc((size_t)g.n, sizeof *vb.order);
    vb.due = calloc((size_t)g.n, sizeof *vb.due);
    vb.acked = calloc((size_t)g.n, 1);
    g.loop = hc_loop_new((const struct sockaddr *)&opt.addr, opt.addrlen, g.n + opt.vote_conns, 3,
                         RECV_BUF);
    if (!g.streams || !vb.conns || !vb.free_conns || !vb.order || !vb.due || !vb.acked || !g.loop)
        return -1;
    for (int i = 0; i < g.n; i++) {
        stream_t *s = &g.streams[i];
        s->idx = (uint32_t)i;
        if (hc_conn_init(&s->hc, g.loop, &stream_ops, s) < 0)
            return -1;
        vb.order[i] = i;
    }
    for (int i = 0; i < opt.vote_conns; i++) {
        vb.conns[i].attendee = -1;
        if (hc_conn_init(&vb.conns[i].hc, g.loop, &vote_ops, &vb.conns[i]) < 0)
            return -1;
    }
    g.ramp_timer = HC_TMR_INIT(on_ramp);
    g.cmd_timer = HC_TMR_INIT(on_cmd_timer);
    vb.timer = HC_TMR_INIT(on_burst_timer);
    return 0;
}

static void teardown(void)
{
    hc_loop_free(&g.loop);
    free(g.streams);
    free(g.tokens);
    free(vb.conns);
    free(vb.free_conns);
    free(vb.order);
    free(vb.due);
    free(vb.acked);
    samples_clear(&vb.latency);
    samples_clear(&vb.lag);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!strcmp(a, "--debug")) {
            opt.debug = true;
            continue;
        }
        if (!val) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--url"))
            url = val;
        else if (!strcmp(a, "--tokens"))
            opt.tokens_path = val;
        else if (!strcmp(a, "--ramp") && parse_double(val, &d) && d >= 0)
            opt.ramp = d;
        else if (!strcmp(a, "--connect-timeout") && parse_double(val, &d) && d > 0)
            opt.connect_timeout = d;
        else if (!strcmp(a, "--seconds") && parse_double(val, &d) && d > 0)
            opt.seconds = d;
        else if (!strcmp(a, "--vote-conns") && parse_double(val, &d) && d >= 1 &&
                 d <= VOTE_CONNS_MAX)
            opt.vote_conns = (int)d;
        else {
            usage();
            return 2;
        }
    }
    if (!url || parse_url(url) < 0 || !opt.tokens_path) {
        usage();
        return 2;
    }
    if (hc_resolve("interaction-load", opt.host, &opt.addr, &opt.addrlen) < 0)
        return 2;
    if (!hc_is_loopback(&opt.addr)) {
        fprintf(stderr, "interaction-load: %s is not a loopback address: this tool only loads a "
                        "server on this machine\n", opt.host);
        return 2;
    }
    if (read_tokens(opt.tokens_path) < 0)
        return 2;
    unsigned long long want = (unsigned long long)g.n + (unsigned long long)opt.vote_conns + 64;
    if (!hc_raise_nofile("interaction-load", want))
        return 1;
    if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) < 0) {
        fprintf(stderr, "interaction-load: stdin: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srand48((long)time(NULL) ^ getpid());

    int status = 0;
    if (setup() < 0) {
        fprintf(stderr, "interaction-load: out of memory or descriptors for %d streams\n", g.n);
        status = 1;
        goto out;
    }
    g.t0 = hc_mono_s();
    hc_schedule(g.loop, &g.ramp_timer, g.t0);
    hc_schedule(g.loop, &g.cmd_timer, g.t0);
    int rc = hc_loop_run(g.loop, g.t0 + opt.seconds, &g.stop);
    if (rc < 0) {
        fprintf(stderr, "interaction-load: epoll_wait: %s\n", strerror(-rc));
        status = 1;
    }
    print_status("end");
out:
    teardown();
    return status;
}
