/* RTMP ingest listener: one thread runs an epoll loop over the listening socket, a wakeup eventfd
 * and every presenter connection; each connection's protocol lives in an lc_rtmp_conn, whose sink
 * is wired here to the stream-key hook and to lc_live. Implements ingest.h (timeouts, limits). */
#include "ingest/ingest.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "ingest/peer_key.h"
#include "ingest/rtmp_conn.h"

#define TAG "rtmp"
#define READ_SIZE (64 * 1024)  /* per connection per wakeup: level-triggered, so fair */
#define CLOSING_GRACE_MS 2000  /* to deliver a refusal before closing */
#define TICK_MS 250            /* timeouts are checked at least this often */
#define ACCEPT_PAUSE_MS 100    /* after EMFILE/ENFILE */
#define LIMIT_LOG_MS 10000     /* at most one line per this for each kind of limit reached */

typedef struct client client_t;

struct client {
    lc_ingest_t *ing;
    int fd;
    uint64_t id;
    lc_peer_key_t peer; /* never logged (privacy rule): only compared */
    lc_rtmp_conn_t *conn;
    lc_publisher_t *pub; /* attached by the conn's publish, finished by its end */
    int64_t born_ms, last_rx_ms, closing_since_ms;
    uint32_t events; /* registered with epoll */
    bool dead;     /* closed; freed after the current batch of events */
    client_t *prev, *next;
};

struct lc_ingest {
    lc_ingest_config_t cfg;
    char listen[128];
    lc_live_t *live;
    lc_ingest_hooks_t hooks;
    int lfd, ep, wake;
    int port;
    pthread_t thread;
    bool thread_started;
    /* Owned by the listener thread from lc_ingest_start's pthread_create on: */
    client_t *clients;
    client_t *zombies;
    int nclients;
    uint64_t next_id;
    int64_t accept_paused_until;
    int64_t logged_full, logged_evict, logged_per_address; /* see LIMIT_LOG_MS */
    uint8_t rbuf[READ_SIZE];
};

void lc_ingest_config_default(lc_ingest_config_t *cfg)
{
    cfg->listen = "0.0.0.0:1935";
    cfg->max_connections = 256;
    cfg->handshake_timeout_ms = 5000;
    cfg->idle_timeout_ms = 30000;
    cfg->publish_idle_timeout_ms = 10000;
    cfg->max_pending_per_address = 8;
}

int lc_ingest_port(const lc_ingest_t *ing) { return ing ? ing->port : -1; }

/* ---- the conn's sink: stream keys and lc_live ------------------------------------------------ */

static int sink_publish(void *opaque, const char *app, const char *key)
{
    client_t *cl = opaque;
    lc_ingest_t *ing = cl->ing;
    if (!ing->hooks.authorize || !ing->live)
        return LC_EDENIED;
    int64_t webinar_id = 0;
    char name[LC_MEDIA_NAME_MAX] = {0};
    int rc = ing->hooks.authorize(ing->hooks.opaque, app, key, &webinar_id, name);
    if (rc < 0)
        return rc;
    name[LC_MEDIA_NAME_MAX - 1] = 0;
    rc = lc_live_publish(ing->live, webinar_id, name, &cl->pub);
    if (rc < 0)
        return rc;
    LC_INFO(TAG, "conn %" PRIu64 ": publishing webinar %" PRId64, cl->id, webinar_id);
    return 0;
}

static int sink_start(void *opaque, const AVCodecParameters *video, const AVCodecParameters *audio)
{
    client_t *cl = opaque;
    return cl->pub ? lc_publisher_start(cl->pub, video, audio) : -EINVAL;
}

static int sink_write(void *opaque, const AVPacket *pkt)
{
    client_t *cl = opaque;
    return cl->pub ? lc_publisher_write(cl->pub, pkt) : -EINVAL;
}

static void sink_finish(void *opaque, bool stopped)
{
    client_t *cl = opaque;
    lc_publisher_finish(&cl->pub, stopped);
}

/* ---- connections ---------------------------------------------------------------------------- */

/* Closes the socket and frees the conn (a publisher still attached finishes as lost: callers
 * that mean otherwise end the conn first). The client itself is freed after the current batch of
 * epoll events, which may still name it. `why` is logged unless NULL (already logged). */
static void close_client(client_t *cl, lc_log_level_t level, const char *why)
{
    if (cl->dead)
        return;
    lc_ingest_t *ing = cl->ing;
    if (why)
        lc_log(level, TAG, "conn %" PRIu64 ": %s", cl->id, why);
    epoll_ctl(ing->ep, EPOLL_CTL_DEL, cl->fd, NULL);
    close(cl->fd);
    cl->fd = -1;
    lc_rtmp_conn_free(&cl->conn);
    cl->dead = true;
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        ing->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    cl->prev = NULL;
    cl->next = ing->zombies;
    ing->zombies = cl;
    ing->nclients--;
}

static void free_zombies(lc_ingest_t *ing)
{
    while (ing->zombies) {
        client_t *cl = ing->zombies;
        ing->zombies = cl->next;
        free(cl);
    }
}

/* Reads unless the conn is closing; waits for writability while output is pending. */
static void update_events(client_t *cl)
{
    size_t len;
    bool out = lc_rtmp_conn_output(cl->conn, &len) != NULL;
    uint32_t want = (lc_rtmp_conn_state(cl->conn) != LC_RTMP_CLOSING ? EPOLLIN : 0) |
                    (out ? EPOLLOUT : 0);
    if (want == cl->events)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = cl};
    if (epoll_ctl(cl->ing->ep, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
        cl->events = want;
}

/* Sends what the conn has queued, as far as the socket takes it. Returns false if the client
 * was closed. */
static bool flush(client_t *cl)
{
    size_t len = 0;
    const uint8_t *p;
    while ((p = lc_rtmp_conn_output(cl->conn, &len)) != NULL) {
        ssize_t w = send(cl->fd, p, len, MSG_NOSIGNAL);
        if (w > 0) {
            lc_rtmp_conn_output_sent(cl->conn, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        bool published = lc_rtmp_conn_has_published(cl->conn);
        close_client(cl, published ? LC_LOG_INFO : LC_LOG_DEBUG, "connection lost (send failed)");
        return false;
    }
    if (!p && lc_rtmp_conn_state(cl->conn) == LC_RTMP_CLOSING) {
        close_client(cl, LC_LOG_DEBUG, "closed after refusing the publish");
        return false;
    }
    update_events(cl);
    return true;
}

static void on_readable(client_t *cl, int64_t now)
{
    lc_ingest_t *ing = cl->ing;
    ssize_t r = recv(cl->fd, ing->rbuf, sizeof ing->rbuf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        bool published = lc_rtmp_conn_has_published(cl->conn);
        bool live = lc_rtmp_conn_state(cl->conn) == LC_RTMP_PUBLISHING;
        close_client(cl, published ? LC_LOG_INFO : LC_LOG_DEBUG,
                     live ? "connection lost while publishing"
                     : r == 0 ? "closed by the peer" : "connection reset");
        return;
    }
    cl->last_rx_ms = now;
    int rc = lc_rtmp_conn_feed(cl->conn, ing->rbuf, (size_t)r);
    if (rc < 0) {
        /* The conn logged why. One try to deliver what it queued (an onStatus saying why). */
        size_t len = 0;
        const uint8_t *p = lc_rtmp_conn_output(cl->conn, &len);
        if (p && send(cl->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            LC_DEBUG(TAG, "conn %" PRIu64 ": last words not sent", cl->id);
        close_client(cl, LC_LOG_DEBUG, NULL);
        return;
    }
    if (lc_rtmp_conn_state(cl->conn) == LC_RTMP_CLOSING && cl->closing_since_ms == 0)
        cl->closing_since_ms = now;
    flush(cl);
}

/* Pending: no publish accepted yet, so the peer has not shown a stream key. */
static bool pending(const client_t *cl) { return !lc_rtmp_conn_has_published(cl->conn); }

static int pending_from(const lc_ingest_t *ing, const lc_peer_key_t *peer)
{
    int n = 0;
    for (const client_t *cl = ing->clients; cl; cl = cl->next)
        n += pending(cl) && lc_peer_key_equal(&cl->peer, peer);
    return n;
}

/* The list is newest first: the last pending client in it is the oldest. */
static client_t *oldest_pending(lc_ingest_t *ing)
{
    client_t *found = NULL;
    for (client_t *cl = ing->clients; cl; cl = cl->next)
        if (pending(cl))
            found = cl;
    return found;
}

/* A warning about a limit, at most once per LIMIT_LOG_MS per kind (a flood must not flood the
 * log). Never with an address. */
static void limit_log(int64_t *last, int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void limit_log(int64_t *last, int64_t now, const char *fmt, ...)
{
    if (*last && now - *last < LIMIT_LOG_MS)
        return;
    *last = now;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (n < 0)
        what[0] = 0; /* (a cut line is fine) */
    LC_WARN(TAG, "%s; not logged again for %d s", what, LIMIT_LOG_MS / 1000);
}

/* Decides whether a new connection from `peer` may have a slot, making room if needed. Pending
 * connections are limited per address, and when the slots run out the oldest pending one is
 * evicted: nobody without a stream key can hold a presenter out, whether from one address or from
 * many (a flood only shortens how long a pending connection may take to publish, to
 * max_connections / arrival rate). The O(connections) scans are fine: at most max_connections. */
static bool admit(lc_ingest_t *ing, const lc_peer_key_t *peer, int64_t now)
{
    int from_peer = pending_from(ing, peer);
    if (from_peer >= ing->cfg.max_pending_per_address) {
        limit_log(&ing->logged_per_address, now,
                  "refusing a connection: %d from the same address have not published yet "
                  "(max_pending_per_address)", from_peer);
        return false;
    }
    if (ing->nclients < ing->cfg.max_connections)
        return true;
    client_t *victim = oldest_pending(ing);
    if (!victim) {
        limit_log(&ing->logged_full, now,
                  "refusing a connection: all %d connections are publishing (max_connections)",
                  ing->nclients);
        return false;
    }
    limit_log(&ing->logged_evict, now,
              "%d connections open (max_connections): closing the oldest that have not "
              "published to make room for new ones", ing->nclients);
    close_client(victim, LC_LOG_DEBUG, "evicted: the connection limit was reached before it "
                 "published");
    return true;
}

static void accept_all(lc_ingest_t *ing, int64_t now)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof ss;
        int fd = accept4(ing->lfd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: the backlog stays readable, so pause instead of spinning. */
                LC_WARN(TAG, "accept: %s; pausing new connections", lc_strerror(-errno));
                struct epoll_event ev = {.events = 0, .data.ptr = &ing->lfd};
                epoll_ctl(ing->ep, EPOLL_CTL_MOD, ing->lfd, &ev);
                ing->accept_paused_until = now + ACCEPT_PAUSE_MS;
            }
            return;
        }
        lc_peer_key_t peer;
        lc_peer_key((const struct sockaddr *)&ss, sslen, &peer); /* else all-zero: shared */
        if (!admit(ing, &peer, now)) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client_t *cl = calloc(1, sizeof *cl);
        uint64_t id = ++ing->next_id;
        lc_rtmp_sink_t sink = {.publish = sink_publish,
                               .start = sink_start,
                               .write = sink_write,
                               .finish = sink_finish,
                               .opaque = cl};
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
        if (!cl || !(cl->conn = lc_rtmp_conn_new(&sink, id)) ||
            epoll_ctl(ing->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            LC_WARN(TAG, "conn %" PRIu64 ": cannot set up: %s", id,
                    lc_strerror(cl && cl->conn ? -errno : -ENOMEM));
            if (cl)
                lc_rtmp_conn_free(&cl->conn);
            free(cl);
            close(fd);
            continue;
        }
        cl->ing = ing;
        cl->fd = fd;
        cl->id = id;
        cl->peer = peer;
        cl->born_ms = cl->last_rx_ms = now;
        cl->events = EPOLLIN;
        cl->next = ing->clients;
        if (ing->clients)
            ing->clients->prev = cl;
        ing->clients = cl;
        ing->nclients++;
        LC_DEBUG(TAG, "conn %" PRIu64 ": accepted", id);
    }
}

static void check_timeouts(lc_ingest_t *ing, int64_t now)
{
    if (ing->accept_paused_until && now >= ing->accept_paused_until) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ing->lfd};
        epoll_ctl(ing->ep, EPOLL_CTL_MOD, ing->lfd, &ev);
        ing->accept_paused_until = 0;
    }
    client_t *next;
    for (client_t *cl = ing->clients; cl; cl = next) {
        next = cl->next;
        lc_rtmp_state_t state = lc_rtmp_conn_state(cl->conn);
        if (cl->closing_since_ms) {
            if (now - cl->closing_since_ms > CLOSING_GRACE_MS)
                close_client(cl, LC_LOG_DEBUG, "refusal not read in time");
        } else if (state == LC_RTMP_PUBLISHING) {
            /* Typically a half-open connection after the presenter's network changed: closing
             * it (as lost: the stream waits in grace) lets the reconnect in. */
            if (now - cl->last_rx_ms > ing->cfg.publish_idle_timeout_ms)
                close_client(cl, LC_LOG_INFO, "no data while publishing (publish_idle_timeout): "
                             "connection lost");
        } else if (pending(cl) && now - cl->born_ms > ing->cfg.handshake_timeout_ms) {
            /* Before connect is answered it is likely a scanner: not worth a line by default. */
            close_client(cl, state == LC_RTMP_CONNECTED ? LC_LOG_INFO : LC_LOG_DEBUG,
                         "no publish within the handshake timeout");
        } else if (now - cl->last_rx_ms > ing->cfg.idle_timeout_ms) {
            close_client(cl, LC_LOG_INFO, "idle timeout");
        }
    }
}

/* Server shutdown: every publisher ends as stopped (a session end, not a network failure). */
static void close_all(lc_ingest_t *ing)
{
    while (ing->clients) {
        client_t *cl = ing->clients;
        lc_rtmp_conn_end(cl->conn, true);
        close_client(cl, LC_LOG_DEBUG, "server stopping");
    }
    free_zombies(ing);
}

static void *run(void *arg)
{
    lc_ingest_t *ing = arg;
    struct epoll_event evs[64];
    bool stop = false;
    while (!stop) {
        int n = epoll_wait(ing->ep, evs, 64, TICK_MS);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            LC_ERROR(TAG, "epoll_wait: %s; the ingest stops", lc_strerror(-errno));
            break;
        }
        int64_t now = lc_now_mono_ms();
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &ing->wake) {
                stop = true;
                continue;
            }
            if (p == &ing->lfd) {
                accept_all(ing, now);
                continue;
            }
            client_t *cl = p;
            if (!cl->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(cl, now);
            if (!cl->dead && (evs[i].events & EPOLLOUT))
                flush(cl);
        }
        check_timeouts(ing, now);
        free_zombies(ing);
    }
    close_all(ing);
    return NULL;
}

/* ---- start / stop --------------------------------------------------------------------------- */

static void release(lc_ingest_t *ing)
{
    if (ing->lfd >= 0)
        close(ing->lfd);
    if (ing->ep >= 0)
        close(ing->ep);
    if (ing->wake >= 0)
        close(ing->wake);
    free(ing);
}

lc_ingest_t *lc_ingest_start(const lc_ingest_config_t *cfg, lc_live_t *live,
                             const lc_ingest_hooks_t *hooks, int *err)
{
    int rc = 0;
    lc_ingest_t *ing = calloc(1, sizeof *ing);
    if (!ing) {
        rc = -ENOMEM;
        LC_ERROR(TAG, "out of memory");
        goto fail;
    }
    ing->lfd = ing->ep = ing->wake = -1;
    lc_ingest_config_default(&ing->cfg);
    if (cfg) {
        if (cfg->listen)
            ing->cfg.listen = cfg->listen;
        if (cfg->max_connections > 0)
            ing->cfg.max_connections = cfg->max_connections;
        if (cfg->handshake_timeout_ms > 0)
            ing->cfg.handshake_timeout_ms = cfg->handshake_timeout_ms;
        if (cfg->idle_timeout_ms > 0)
            ing->cfg.idle_timeout_ms = cfg->idle_timeout_ms;
        if (cfg->publish_idle_timeout_ms > 0)
            ing->cfg.publish_idle_timeout_ms = cfg->publish_idle_timeout_ms;
        if (cfg->max_pending_per_address > 0)
            ing->cfg.max_pending_per_address = cfg->max_pending_per_address;
    }
    if (lc_fmt(ing->listen, sizeof ing->listen, "%s", ing->cfg.listen) < 0) {
        rc = -EINVAL;
        LC_ERROR(TAG, "listen address too long");
        goto fail;
    }
    ing->cfg.listen = ing->listen;
    ing->live = live;
    if (hooks)
        ing->hooks = *hooks;

    struct sockaddr_storage ss;
    socklen_t sslen;
    if ((rc = lc_parse_listen_addr(ing->listen, &ss, &sslen)) < 0) {
        LC_ERROR(TAG, "invalid listen address \"%s\"", ing->listen);
        goto fail;
    }
    ing->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (ing->lfd < 0 || setsockopt(ing->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (ss.ss_family == AF_INET6 &&
         setsockopt(ing->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
        bind(ing->lfd, (struct sockaddr *)&ss, sslen) < 0 || listen(ing->lfd, 128) < 0) {
        rc = -errno;
        LC_ERROR(TAG, "cannot listen on %s: %s", ing->listen, lc_strerror(rc));
        goto fail;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(ing->lfd, (struct sockaddr *)&bound, &blen) < 0) {
        rc = -errno;
        LC_ERROR(TAG, "getsockname: %s", lc_strerror(rc));
        goto fail;
    }
    ing->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                   : ((struct sockaddr_in *)&bound)->sin_port);

    ing->ep = epoll_create1(EPOLL_CLOEXEC);
    ing->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &ing->lfd};
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &ing->wake};
    if (ing->ep < 0 || ing->wake < 0 || epoll_ctl(ing->ep, EPOLL_CTL_ADD, ing->lfd, &lev) < 0 ||
        epoll_ctl(ing->ep, EPOLL_CTL_ADD, ing->wake, &wev) < 0) {
        rc = -errno;
        LC_ERROR(TAG, "epoll setup: %s", lc_strerror(rc));
        goto fail;
    }
    if ((rc = -pthread_create(&ing->thread, NULL, run, ing)) < 0) {
        LC_ERROR(TAG, "cannot start the listener thread: %s", lc_strerror(rc));
        goto fail;
    }
    ing->thread_started = true;
    char where[160];
    if (lc_format_sockname(ing->lfd, where, sizeof where) < 0)
        where[0] = 0;
    LC_INFO(TAG, "listening on %s", where);
    return ing;

fail:
    if (ing)
        release(ing);
    if (err)
        *err = rc;
    return NULL;
}

void lc_ingest_stop(lc_ingest_t **ping)
{
    if (!ping || !*ping)
        return;
    lc_ingest_t *ing = *ping;
    if (ing->thread_started) {
        uint64_t one = 1;
        while (write(ing->wake, &one, sizeof one) < 0 && errno == EINTR) {
        }
        pthread_join(ing->thread, NULL);
    }
    release(ing);
    *ping = NULL;
}
