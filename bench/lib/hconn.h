/* hconn: what the C load generators share — one epoll event loop per thread with a timer heap,
 * and HTTP/1.1 keep-alive client connections to one origin over non-blocking sockets, their
 * responses parsed by http_parser (libhttp-parser). Plus the clocks and the names of failures.
 *
 * A connection carries one request at a time (no pipelining): the caller writes the request into
 * c->req and calls hc_conn_request; it goes out on the kept-alive socket if there is one, else on
 * a new one, with one send() (epoll watches for EPOLLOUT only while connecting or after a partial
 * send). Responses are read into the loop's buffer and fed to the caller's http_parser callbacks;
 * the caller learns the end through ops->response or ops->failure, exactly once per request. A
 * request that finds its kept-alive socket closed by the server before the first byte of the
 * response (the keep-alive race) is sent once more on a new socket, as browsers do; that is not a
 * failure. Each request has a deadline in the loop's timer heap.
 *
 * Threads: a loop, its timers and its connections belong to the one thread that runs the loop;
 * nothing here is shared between threads. Memory: the caller owns every hc_conn_t and hc_tmr_t
 * (usually inside its own structures) and keeps them alive until hc_loop_free. */
#ifndef BENCH_HCONN_H
#define BENCH_HCONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <http_parser.h>

/* ---- clocks ---------------------------------------------------------------------------------- */

double hc_mono_s(void); /* CLOCK_MONOTONIC, seconds */
double hc_wall_ms(void); /* CLOCK_REALTIME, milliseconds since the epoch */

/* ---- why a request failed -------------------------------------------------------------------- */

typedef enum { HC_FAIL_TIMEOUT, HC_FAIL_CONNECTION, HC_FAIL_OTHER } hc_fail_t;

#define HC_CAUSES(X)                                                                              \
    X(HC_CAUSE_CLOSED_EARLY, "closed_early")                                                      \
    X(HC_CAUSE_TIMEOUT_CONNECT, "timeout_connecting")                                             \
    X(HC_CAUSE_TIMEOUT_WAIT, "timeout_waiting")                                                   \
    X(HC_CAUSE_TIMEOUT_BODY, "timeout_receiving")
#define HC_AS_ENUM_(id, name) id,
enum { HC_CAUSES(HC_AS_ENUM_) HC_CAUSE_COUNT };

/* A failure's detail is one int, so that a tool can count them in one array: an errno value
 * (1..255), HC_D_CAUSE(one of the above), HC_D_USER(a cause of the tool's own, below
 * HC_USER_SLOTS) or HC_D_HPE(http_parser's error). */
#define HC_ERRNO_SLOTS 256
#define HC_USER_SLOTS 16
#define HC_ONE_(n, s) +1
enum { HC_HPE_SLOTS = 0 HTTP_ERRNO_MAP(HC_ONE_) };
#define HC_D_CAUSE(c) (HC_ERRNO_SLOTS + (c))
#define HC_D_USER(u) (HC_ERRNO_SLOTS + HC_CAUSE_COUNT + (u))
#define HC_D_HPE(e) (HC_ERRNO_SLOTS + HC_CAUSE_COUNT + HC_USER_SLOTS + (int)(e))
#define HC_DETAIL_SLOTS (HC_ERRNO_SLOTS + HC_CAUSE_COUNT + HC_USER_SLOTS + HC_HPE_SLOTS)

/* The name of detail d: errno's name (ECONNREFUSED), a cause's, user_names[u] for HC_D_USER(u)
 * (user_names may be NULL when the tool has none), an http_parser error's (HPE_…), or
 * "errno_N" written into buf. */
const char *hc_detail_name(int d, const char *const *user_names, char *buf, size_t size);

/* Prints `{"name": count, …}` for every nonzero detail count (HC_DETAIL_SLOTS of them). */
void hc_print_details(FILE *f, const uint64_t *detail, const char *const *user_names);

/* ---- event loop and timers ------------------------------------------------------------------- */

typedef struct hc_loop hc_loop_t;

/* A moment something must happen. `fire` is called from hc_loop_run once `at` has passed, the
 * timer already unscheduled (it may schedule itself again). */
typedef struct hc_tmr hc_tmr_t;
struct hc_tmr {
    double at; /* monotonic s */
    int pos;   /* index in the loop's heap; -1: not scheduled */
    void (*fire)(hc_tmr_t *t);
};
#define HC_TMR_INIT(cb) ((hc_tmr_t){.pos = -1, .fire = (cb)})

/* A loop for up to `max_conns` connections and `max_timers` timers of the caller's besides
 * (each connection has its own deadline timer, counted apart), connecting to `addr` (copied),
 * reading into one buffer of `recv_buf` bytes. NULL when out of memory or descriptors. */
hc_loop_t *hc_loop_new(const struct sockaddr *addr, socklen_t addrlen, int max_conns,
                       int max_timers, size_t recv_buf);
/* Closes every connection still open and frees the loop; NULL-safe, sets *pl to NULL. */
void hc_loop_free(hc_loop_t **pl);

/* Runs timers and socket events until the monotonic clock reaches `end_at`, or *stop becomes
 * nonzero (checked at least every 100 ms; stop may be NULL). What is still in flight then is
 * abandoned: no callback is called for it. 0, or -errno when epoll_wait failed. */
int hc_loop_run(hc_loop_t *l, double end_at, const volatile sig_atomic_t *stop);
/* The monotonic time of the batch of events being handled (cheaper than a clock call). */
double hc_loop_now(const hc_loop_t *l);

/* Fires `t` at `at` (monotonic s), replacing an earlier schedule. */
void hc_schedule(hc_loop_t *l, hc_tmr_t *t, double at);
void hc_unschedule(hc_loop_t *l, hc_tmr_t *t);

/* ---- connections ----------------------------------------------------------------------------- */

#define HC_REQ_MAX 2048 /* one request, headers and body */

typedef enum { HC_CLOSED, HC_CONNECTING, HC_SENDING, HC_RECEIVING, HC_IDLE } hc_state_t;
const char *hc_state_name(hc_state_t s);

typedef struct hc_conn hc_conn_t;

/* What a kind of connection does with its responses; shared by all connections of that kind. */
typedef struct {
    /* The caller's parser callbacks (parser.data is the hc_conn_t). on_message_complete must be
     * hc_on_message_complete, or call it. A callback that fails returns nonzero and may set
     * c->detail (else the failure is named by http_parser's error). */
    const http_parser_settings *settings;
    /* The response is complete (c->parser.status_code, the caller's own state for the body);
     * `extra`: bytes came after it, which nobody asked for. The connection is idle by then (it
     * may carry the next request at once) or closed. */
    void (*response)(hc_conn_t *c, bool extra);
    /* The request failed, once: the connection is closed (c->fail_state: what it was doing). */
    void (*failure)(hc_conn_t *c, hc_fail_t kind, int detail);
    /* Optional: a new socket was opened for the request in c (c->resent: for its second try). */
    void (*opened)(hc_conn_t *c);
} hc_ops_t;

struct hc_conn {
    hc_tmr_t timer;       /* the request's deadline */
    hc_loop_t *loop;
    const hc_ops_t *ops;
    void *user;           /* the caller's */
    http_parser parser;   /* parser.data: this */
    int fd;               /* -1 when closed */
    uint32_t gen;         /* bumped with every new socket: tells a stale epoll event */
    uint32_t index;       /* in the loop's table: epoll's data */
    uint32_t events;      /* what epoll watches fd for; 0: not registered */
    hc_state_t state;
    hc_state_t fail_state; /* the state a failed request was in */
    bool reused;          /* the request went out on a kept-alive connection */
    bool resent;          /* … and was sent again on a new one after that had been closed */
    bool got_bytes;       /* some of the response has arrived */
    bool done;            /* the response is complete (http_parser paused after it) */
    bool keep_alive;      /* … and the connection may carry the next request */
    int detail;           /* set by a parser callback that fails */
    unsigned nreq;        /* responses completed on this socket */
    double start;         /* monotonic s when the request started */
    double done_mono;     /* monotonic s when its last byte had been parsed */
    double done_wall_ms;  /* the same, wall clock */
    uint16_t req_len, req_off; /* the request's length and what has been sent of it */
    char req[HC_REQ_MAX];
};

/* Makes c a closed connection of `l` of kind `ops`. -ENOSPC when the loop has room for no more. */
int hc_conn_init(hc_conn_t *c, hc_loop_t *l, const hc_ops_t *ops, void *user);
/* Starts the request the caller wrote into c->req (c->req_len bytes): on the kept-alive socket if
 * there is one, else on a new one; the deadline is `timeout_s` from now. The outcome comes
 * through ops->response or ops->failure, possibly before this returns. */
void hc_conn_request(hc_conn_t *c, double timeout_s);
/* Closes the socket (whatever is in flight on it is abandoned without a callback). */
void hc_conn_close(hc_conn_t *c);
/* The on_message_complete callback every hc_ops_t's settings must use (or call). */
int hc_on_message_complete(http_parser *p);

/* ---- set-up helpers -------------------------------------------------------------------------- */

/* Resolves "HOST:PORT" (or "[V6]:PORT"; port 80 when absent) into *addr: the first address
 * that accepts a connection when it has more than one (as a browser tries them in turn), else
 * its only one. 0, or -1 (told on stderr, prefixed with `tool`). */
int hc_resolve(const char *tool, const char *hostport, struct sockaddr_storage *addr,
               socklen_t *addrlen);
/* True when *ss is a loopback address (127.0.0.0/8 or ::1): the generators load only a server
 * on this machine. */
bool hc_is_loopback(const struct sockaddr_storage *ss);
/* Raises the soft descriptor limit to the hard one and warns when it stays below `want`. The
 * limit in effect, or 0 when it cannot be read. */
unsigned long long hc_raise_nofile(const char *tool, unsigned long long want);
/* Process CPU time (user + system, all threads), seconds; NAN when unknown. */
double hc_cpu_seconds(void);

#endif
