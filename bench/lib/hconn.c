/* hconn: epoll loop, timer heap and keep-alive HTTP/1.1 client connections for the load
 * generators (hconn.h). */
#define _GNU_SOURCE
#include "hconn.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_MAX 1024 /* per epoll_wait */
#define STOP_POLL_MS 100

struct hc_loop {
    int epfd;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    hc_conn_t **conns; /* by index */
    uint32_t nconns, max_conns;
    hc_tmr_t **heap;   /* every scheduled timer, earliest first */
    int heap_len, heap_cap;
    char *buf;
    size_t buf_size;
    double now;
};

double hc_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double hc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double hc_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- failure names --------------------------------------------------------------------------- */

#define HC_AS_NAME_(id, name) name,
static const char *const cause_names[HC_CAUSE_COUNT] = {HC_CAUSES(HC_AS_NAME_)};

const char *hc_detail_name(int d, const char *const *user_names, char *buf, size_t size)
{
    if (d >= HC_D_HPE(0))
        return http_errno_name((enum http_errno)(d - HC_D_HPE(0)));
    if (d >= HC_D_USER(0) && user_names)
        return user_names[d - HC_D_USER(0)];
    if (d >= HC_D_CAUSE(0) && d < HC_D_USER(0))
        return cause_names[d - HC_D_CAUSE(0)];
    const char *name = d > 0 && d < HC_ERRNO_SLOTS ? strerrorname_np(d) : NULL;
    if (name)
        return name;
    snprintf(buf, size, "errno_%d", d);
    return buf;
}

void hc_print_details(FILE *f, const uint64_t *detail, const char *const *user_names)
{
    bool first = true;
    fputc('{', f);
    for (int i = 0; i < HC_DETAIL_SLOTS; i++) {
        if (!detail[i])
            continue;
        char buf[32];
        fprintf(f, "%s\"%s\": %llu", first ? "" : ", ",
                hc_detail_name(i, user_names, buf, sizeof buf), (unsigned long long)detail[i]);
        first = false;
    }
    fputc('}', f);
}

static const char *const state_names[] = {"closed", "connecting", "sending", "receiving", "idle"};

const char *hc_state_name(hc_state_t s) { return state_names[s]; }

/* ---- timers: one binary heap per loop -------------------------------------------------------- */

static void heap_swap(hc_loop_t *l, int a, int b)
{
    hc_tmr_t *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->pos = a;
    l->heap[b]->pos = b;
}

static void heap_up(hc_loop_t *l, int i)
{
    while (i > 0 && l->heap[(i - 1) / 2]->at > l->heap[i]->at) {
        heap_swap(l, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(hc_loop_t *l, int i)
{
    for (;;) {
        int left = 2 * i + 1, right = left + 1, m = i;
        if (left < l->heap_len && l->heap[left]->at < l->heap[m]->at)
            m = left;
        if (right < l->heap_len && l->heap[right]->at < l->heap[m]->at)
            m = right;
        if (m == i)
            return;
        heap_swap(l, i, m);
        i = m;
    }
}

void hc_unschedule(hc_loop_t *l, hc_tmr_t *t)
{
    int i = t->pos;
    if (i < 0)
        return;
    l->heap_len--;
    if (i != l->heap_len) {
        l->heap[i] = l->heap[l->heap_len];
        l->heap[i]->pos = i;
        heap_down(l, i);
        heap_up(l, i);
    }
    t->pos = -1;
}

/* The heap has room for every timer the loop was made for (hc_loop_new), and each timer is in it
 * at most once, so this cannot run out of room unless the caller has more timers than it said. */
void hc_schedule(hc_loop_t *l, hc_tmr_t *t, double at)
{
    hc_unschedule(l, t);
    if (l->heap_len == l->heap_cap) {
        fprintf(stderr, "hconn: more timers than the loop was made for\n");
        abort();
    }
    t->at = at;
    t->pos = l->heap_len;
    l->heap[l->heap_len++] = t;
    heap_up(l, t->pos);
}

/* ---- the loop -------------------------------------------------------------------------------- */

hc_loop_t *hc_loop_new(const struct sockaddr *addr, socklen_t addrlen, int max_conns,
                       int max_timers, size_t recv_buf)
{
    hc_loop_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = -1;
    if (addrlen > sizeof l->addr || max_conns < 0 || max_timers < 0)
        goto fail;
    memcpy(&l->addr, addr, addrlen);
    l->addrlen = addrlen;
    l->max_conns = (uint32_t)max_conns;
    l->heap_cap = max_conns + max_timers;
    l->conns = calloc((size_t)max_conns + 1, sizeof *l->conns);
    l->heap = calloc((size_t)l->heap_cap + 1, sizeof *l->heap);
    l->buf_size = recv_buf;
    l->buf = malloc(recv_buf);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!l->conns || !l->heap || !l->buf || l->epfd < 0)
        goto fail;
    return l;
fail:
    hc_loop_free(&l);
    return NULL;
}

void hc_loop_free(hc_loop_t **pl)
{
    if (!pl || !*pl)
        return;
    hc_loop_t *l = *pl;
    for (uint32_t i = 0; i < l->nconns; i++)
        hc_conn_close(l->conns[i]);
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->conns);
    free(l->heap);
    free(l->buf);
    free(l);
    *pl = NULL;
}

double hc_loop_now(const hc_loop_t *l) { return l->now; }

static void on_event(hc_loop_t *l, uint64_t data, uint32_t events);

int hc_loop_run(hc_loop_t *l, double end_at, const volatile sig_atomic_t *stop)
{
    struct epoll_event events[EVENTS_MAX];
    for (;;) {
        double now = hc_mono_s();
        if (now >= end_at || (stop && *stop))
            return 0;
        l->now = now;
        while (l->heap_len && l->heap[0]->at <= now) {
            hc_tmr_t *t = l->heap[0];
            hc_unschedule(l, t);
            t->fire(t);
        }
        double until = end_at;
        if (l->heap_len && l->heap[0]->at < until)
            until = l->heap[0]->at;
        double wait = ceil((until - hc_mono_s()) * 1e3);
        if (stop && wait > STOP_POLL_MS)
            wait = STOP_POLL_MS;
        int n = epoll_wait(l->epfd, events, EVENTS_MAX, wait > 0 ? (int)wait : 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        l->now = hc_mono_s();
        for (int i = 0; i < n; i++)
            on_event(l, events[i].data.u64, events[i].events);
    }
}

/* ---- connections ----------------------------------------------------------------------------- */

static void conn_deadline(hc_tmr_t *t);

int hc_conn_init(hc_conn_t *c, hc_loop_t *l, const hc_ops_t *ops, void *user)
{
    if (l->nconns == l->max_conns)
        return -ENOSPC;
    memset(c, 0, offsetof(hc_conn_t, req));
    c->timer = HC_TMR_INIT(conn_deadline);
    c->loop = l;
    c->ops = ops;
    c->user = user;
    c->fd = -1;
    c->state = HC_CLOSED;
    c->index = l->nconns;
    c->parser.data = c; /* http_parser_init keeps it */
    l->conns[l->nconns++] = c;
    return 0;
}

void hc_conn_close(hc_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd); /* the descriptor is released whatever close() says */
    c->fd = -1;
    c->events = 0;
    c->state = HC_CLOSED;
}

/* Makes epoll watch c->fd for `events` (registering it the first time). */
static bool conn_watch(hc_conn_t *c, uint32_t events)
{
    if (c->events == events)
        return true;
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)c->gen << 32 | c->index};
    if (epoll_ctl(c->loop->epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
        return false;
    c->events = events;
    return true;
}

/* The request on c failed: the connection closed, the caller told once. */
static void conn_fail(hc_conn_t *c, hc_fail_t kind, int detail)
{
    c->fail_state = c->state;
    hc_unschedule(c->loop, &c->timer);
    hc_conn_close(c);
    c->ops->failure(c, kind, detail);
}

static void conn_open(hc_conn_t *c);

/* Ready to send c->req from its start and parse a new response. */
static void conn_rewind(hc_conn_t *c)
{
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->req_off = 0;
    c->got_bytes = c->done = c->keep_alive = false;
    c->detail = 0;
}

/* The connection broke (err: an errno value, or 0 when the server closed it). Before the first
 * byte of the response on a kept-alive connection, that is the server having closed it while
 * idle: the request is sent again, once, on a new connection. */
static void conn_broken(hc_conn_t *c, int err)
{
    if (c->reused && !c->got_bytes && !c->resent) {
        c->resent = true;
        conn_rewind(c);
        conn_open(c);
        return;
    }
    conn_fail(c, HC_FAIL_CONNECTION, err > 0 ? err : HC_D_CAUSE(HC_CAUSE_CLOSED_EARLY));
}

/* Sends what is left of the request; then waits for the response. */
static void conn_send(hc_conn_t *c)
{
    while (c->req_off < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->req_off += (uint16_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->state = HC_SENDING;
            if (!conn_watch(c, EPOLLIN | EPOLLOUT))
                conn_fail(c, HC_FAIL_OTHER, errno);
            return;
        } else {
            conn_broken(c, n < 0 ? errno : 0);
            return;
        }
    }
    c->state = HC_RECEIVING;
    if (!conn_watch(c, EPOLLIN))
        conn_fail(c, HC_FAIL_OTHER, errno);
}

/* Opens a new connection to the origin for the request on c. */
static void conn_open(hc_conn_t *c)
{
    hc_loop_t *l = c->loop;
    hc_conn_close(c);
    c->reused = false;
    int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        conn_fail(c, HC_FAIL_CONNECTION, errno); /* EMFILE: out of descriptors */
        return;
    }
    c->fd = fd;
    c->gen++;
    c->nreq = 0;
    if (c->ops->opened)
        c->ops->opened(c);
    int one = 1; /* the request is one write: no reason to hold it back */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        conn_fail(c, HC_FAIL_CONNECTION, errno);
        return;
    }
    if (connect(fd, (const struct sockaddr *)&l->addr, l->addrlen) == 0) {
        conn_send(c);
        return;
    }
    if (errno != EINPROGRESS) {
        conn_fail(c, HC_FAIL_CONNECTION, errno);
        return;
    }
    c->state = HC_CONNECTING;
    if (!conn_watch(c, EPOLLOUT))
        conn_fail(c, HC_FAIL_OTHER, errno);
}

void hc_conn_request(hc_conn_t *c, double timeout_s)
{
    c->start = hc_mono_s();
    hc_schedule(c->loop, &c->timer, c->start + timeout_s);
    conn_rewind(c);
    c->resent = false;
    if (c->state == HC_IDLE) {
        c->reused = true;
        conn_send(c);
    } else {
        conn_open(c);
    }
}

/* A connect() in progress ended. */
static void conn_connected(hc_conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        conn_fail(c, HC_FAIL_CONNECTION, err);
        return;
    }
    conn_send(c);
}

static void conn_deadline(hc_tmr_t *t)
{
    hc_conn_t *c = (hc_conn_t *)t; /* the timer is the connection's first member */
    int cause = c->state == HC_CONNECTING ? HC_CAUSE_TIMEOUT_CONNECT
                : c->got_bytes            ? HC_CAUSE_TIMEOUT_BODY
                                          : HC_CAUSE_TIMEOUT_WAIT;
    conn_fail(c, HC_FAIL_TIMEOUT, HC_D_CAUSE(cause));
}

/* The response on c is complete (http_parser paused after its last byte). */
static void conn_complete(hc_conn_t *c, bool extra)
{
    hc_unschedule(c->loop, &c->timer);
    c->nreq++;
    if (c->keep_alive && !extra && c->req_off == c->req_len)
        c->state = HC_IDLE; /* epoll keeps watching for EPOLLIN: the server closing it */
    else
        hc_conn_close(c);
    c->ops->response(c, extra);
}

/* Arrival: when the last byte has been parsed. The parser stops there: one response per
 * request, and whatever follows is not ours. */
int hc_on_message_complete(http_parser *p)
{
    hc_conn_t *c = p->data;
    c->done = true;
    c->keep_alive = http_should_keep_alive(p) != 0;
    c->done_mono = hc_mono_s();
    c->done_wall_ms = hc_wall_ms();
    http_parser_pause(p, 1);
    return 0;
}

/* Feeds n received bytes to c's parser. True when the request ended, well or not (c may carry
 * the caller's next request by then). */
static bool conn_feed(hc_conn_t *c, const char *data, size_t n)
{
    size_t used = http_parser_execute(&c->parser, c->ops->settings, data, n);
    if (c->done) {
        conn_complete(c, used < n);
        return true;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (used == n && e == HPE_OK)
        return false;
    conn_fail(c, HC_FAIL_OTHER, c->detail ? c->detail : HC_D_HPE(e));
    return true;
}

/* The server closed the connection: the end of a response that runs until then, or a failure. */
static void conn_eof(hc_conn_t *c)
{
    http_parser_execute(&c->parser, c->ops->settings, NULL, 0);
    if (c->done) {
        c->keep_alive = false;
        conn_complete(c, false);
        return;
    }
    conn_broken(c, 0);
}

/* Reads what has arrived: until a read does not fill the buffer (level-triggered epoll says
 * when there is more), the response ends, or the connection does. */
static void conn_read(hc_conn_t *c)
{
    hc_loop_t *l = c->loop;
    for (;;) {
        ssize_t n = recv(c->fd, l->buf, l->buf_size, 0);
        if (n > 0) {
            c->got_bytes = true;
            if (conn_feed(c, l->buf, (size_t)n) || (size_t)n < l->buf_size)
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

/* Something happened on an idle kept-alive connection: the server closed it (or sent what
 * nobody asked for). Closed; the next request opens a new one. */
static void conn_idle_event(hc_conn_t *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    hc_conn_close(c);
}

/* An epoll event: data is the connection's gen << 32 | index. */
static void on_event(hc_loop_t *l, uint64_t data, uint32_t events)
{
    uint32_t index = (uint32_t)data, gen = (uint32_t)(data >> 32);
    if (index >= l->nconns)
        return;
    hc_conn_t *c = l->conns[index];
    if (c->fd < 0 || c->gen != gen)
        return; /* about a socket closed since */
    if (c->state == HC_CONNECTING) {
        conn_connected(c);
        return;
    }
    if (c->state == HC_IDLE) {
        conn_idle_event(c);
        return;
    }
    if (c->state == HC_SENDING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        conn_send(c);
        if (c->gen != gen)
            return;
    }
    /* sending or receiving: the server may have answered (or closed) before the last byte went */
    if ((c->state == HC_SENDING || c->state == HC_RECEIVING) &&
        (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        conn_read(c);
}

/* ---- set-up helpers -------------------------------------------------------------------------- */

int hc_resolve(const char *tool, const char *hostport, struct sockaddr_storage *addr,
               socklen_t *addrlen)
{
    char host[512], port[16] = "80";
    const char *hp = hostport, *end;
    if (*hp == '[') { /* [IPv6]:port */
        if (!(end = strchr(hp, ']')) || (end[1] && end[1] != ':'))
            return -1;
        if (snprintf(host, sizeof host, "%.*s", (int)(end - hp - 1), hp + 1) >= (int)sizeof host)
            return -1;
        end++;
    } else {
        end = strrchr(hp, ':');
        if (!end)
            end = hp + strlen(hp);
        if (snprintf(host, sizeof host, "%.*s", (int)(end - hp), hp) >= (int)sizeof host)
            return -1;
    }
    if (*end == ':' && snprintf(port, sizeof port, "%s", end + 1) >= (int)sizeof port)
        return -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s\n", tool, host, gai_strerror(rc));
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
    if (pick->ai_addrlen > sizeof *addr) {
        freeaddrinfo(res);
        return -1;
    }
    memcpy(addr, pick->ai_addr, pick->ai_addrlen);
    *addrlen = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

bool hc_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return false;
}

unsigned long long hc_raise_nofile(const char *tool, unsigned long long want)
{
    /* No more than the hard limit can be had without CAP_SYS_RESOURCE. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "%s: getrlimit: %s\n", tool, strerror(errno));
        return 0;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "%s: getrlimit: %s\n", tool, strerror(errno));
        return 0;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        fprintf(stderr, "%s: warning: descriptor limit %llu, %llu wanted\n", tool,
                (unsigned long long)rl.rlim_cur, want);
    return (unsigned long long)rl.rlim_cur;
}
