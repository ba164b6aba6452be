/* libmicrohttpd daemon, routing and the reply helpers shared by every handler. */
#include "http/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "auth/auth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "http/cookie.h"

#define MAX_PARAMS 4
#define MAX_PATH 1024
/* A body up to this size is read to its end and then refused (413), so that the client reads a
 * clean answer; beyond it the connection is closed. */
#define BODY_DISCARD_MAX (1024 * 1024)

/* A waiting request's state. PREPARING: the handler is registering its waiter; a wake then is
 * kept as EARLY and turned into READY once the connection is suspended (libmicrohttpd must not
 * be asked to resume a connection that is not suspended). WAITING: suspended. READY / TIMEOUT:
 * resumed for that reason; exactly one party wins the move out of WAITING and resumes. */
enum { WS_NONE, WS_PREPARING, WS_WAITING, WS_EARLY, WS_READY, WS_TIMEOUT };

struct lc_http {
    struct MHD_Daemon *daemon;
    lc_app_t *app;
    /* The waiting requests, for their timeouts (a short list walk every TICK_MS). */
    pthread_mutex_t wait_mu;
    pthread_cond_t wait_cond;
    lc_req_t *waiting;
    bool stopping;
    pthread_t timer;
    bool timer_started;
    /* Push streams (SSE), to end them when the server stops. */
    pthread_mutex_t push_mu;
    lc_push_t *pushes;
    bool push_stopping;
};

struct lc_req {
    struct MHD_Connection *conn;
    lc_http_t *http;
    lc_app_t *app;
    const char *method;
    char *path; /* at most MAX_PATH - 1 bytes; thousands of held streams each keep one */
    char *params[MAX_PARAMS];
    int nparams;
    bool replied;
    /* Waiting (see lc_req_suspend). */
    _Atomic int wait_state;
    int64_t deadline_ms; /* CLOCK_MONOTONIC */
    void (*cancel)(void *opaque);
    void *cancel_opaque;
    lc_req_t *wprev, *wnext; /* on http->waiting, guarded by wait_mu */
    bool in_wait_list;
    void (*done)(void *opaque);
    void *done_opaque;
    /* The body of a state-changing request, kept up to LC_HTTP_BODY_MAX bytes. */
    char *body;
    size_t body_len, body_seen;
    bool body_too_large;
    /* Access checks ran (they run once, not again when a suspended request resumes). */
    bool guarded;
    bool has_session;
    lc_auth_session_t session;
    char session_token[LC_DB_TOKEN_MAX];
};

#define TICK_MS 50

/* Security headers on every response: nothing is loaded from other hosts (privacy by design),
 * no MIME sniffing, pages cannot be framed by other sites. hls.js needs blob: for its media
 * source and its worker. */
static const char CSP[] = "default-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; "
                          "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
                          "form-action 'self'";

lc_app_t *lc_req_app(lc_req_t *req) { return req->app; }
const char *lc_req_method(lc_req_t *req) { return req->method; }
const lc_auth_session_t *lc_req_session(lc_req_t *req)
{
    return req->has_session ? &req->session : NULL;
}
const char *lc_req_session_token(lc_req_t *req)
{
    return req->session_token[0] ? req->session_token : NULL;
}
bool lc_req_secure(lc_req_t *req) { return req->app->cfg.secure_cookies; }
void *lc_req_state(lc_req_t *req) { return req->done_opaque; }

const char *lc_req_body(lc_req_t *req, size_t *len)
{
    *len = req->body_len;
    return req->body ? req->body : "";
}

const char *lc_req_param(lc_req_t *req, int i)
{
    return i >= 0 && i < req->nparams ? req->params[i] : NULL;
}

const char *lc_req_query(lc_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *lc_req_header(lc_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *lc_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".m3u8", "application/vnd.apple.mpegurl"},
        {".m4s", "video/iso.segment"},
        {".mp4", "video/mp4"},
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".json", "application/json"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

int lc_http_parse_range(const char *header, size_t size, size_t *first, size_t *last)
{
    if (!header || strncmp(header, "bytes=", 6) != 0)
        return 0;
    const char *p = header + 6;
    if (strchr(p, ','))
        return 0; /* several ranges: serving the whole body is allowed and simpler */
    const char *dash = strchr(p, '-');
    if (!dash)
        return 0;
    char a[24] = "", b[24] = "";
    size_t alen = (size_t)(dash - p), blen = strlen(dash + 1);
    if (alen >= sizeof a || blen >= sizeof b)
        return 0;
    memcpy(a, p, alen);
    memcpy(b, dash + 1, blen + 1);
    int64_t va = -1, vb = -1;
    if (alen && lc_parse_int64(a, 0, INT64_MAX, &va) < 0)
        return 0;
    if (blen && lc_parse_int64(b, 0, INT64_MAX, &vb) < 0)
        return 0;
    if (va < 0 && vb < 0)
        return 0;
    if (va < 0) { /* suffix: the last vb bytes */
        if (vb == 0 || size == 0)
            return -1;
        *first = (size_t)vb >= size ? 0 : size - (size_t)vb;
        *last = size - 1;
        return 1;
    }
    if ((uint64_t)va >= size)
        return -1;
    if (vb >= 0 && vb < va)
        return 0; /* syntactically invalid: ignore */
    *first = (size_t)va;
    *last = (vb < 0 || (uint64_t)vb >= size) ? size - 1 : (size_t)vb;
    return 1;
}

/* ---- waiting ------------------------------------------------------------------------------- */

static void unlink_waiting_locked(lc_http_t *h, lc_req_t *req)
{
    if (!req->in_wait_list)
        return;
    if (req->wprev)
        req->wprev->wnext = req->wnext;
    else
        h->waiting = req->wnext;
    if (req->wnext)
        req->wnext->wprev = req->wprev;
    req->wprev = req->wnext = NULL;
    req->in_wait_list = false;
}

void lc_req_prepare_wait(lc_req_t *req) { atomic_store(&req->wait_state, WS_PREPARING); }

void lc_req_wake(lc_req_t *req)
{
    int st = atomic_load(&req->wait_state);
    for (;;) {
        if (st == WS_WAITING) {
            if (atomic_compare_exchange_weak(&req->wait_state, &st, WS_READY)) {
                MHD_resume_connection(req->conn);
                return;
            }
        } else if (st == WS_PREPARING) {
            if (atomic_compare_exchange_weak(&req->wait_state, &st, WS_EARLY))
                return;
        } else {
            return; /* already woken, or timed out */
        }
    }
}

lc_wake_t lc_req_woken(lc_req_t *req)
{
    int st = atomic_load(&req->wait_state);
    return st == WS_READY ? LC_WAKE_READY : st == WS_TIMEOUT ? LC_WAKE_TIMEOUT : LC_WAKE_NONE;
}

void lc_req_on_done(lc_req_t *req, void (*fn)(void *opaque), void *opaque)
{
    req->done = fn;
    req->done_opaque = opaque;
}

int lc_req_suspend(lc_req_t *req, int64_t timeout_ms, void (*cancel)(void *opaque), void *opaque)
{
    lc_http_t *h = req->http;
    req->cancel = cancel;
    req->cancel_opaque = opaque;
    req->deadline_ms = lc_now_mono_ms() + timeout_ms;
    pthread_mutex_lock(&h->wait_mu);
    bool stopping = h->stopping;
    if (!stopping) {
        req->wprev = NULL;
        req->wnext = h->waiting;
        if (h->waiting)
            h->waiting->wprev = req;
        h->waiting = req;
        req->in_wait_list = true;
    }
    pthread_mutex_unlock(&h->wait_mu);
    MHD_suspend_connection(req->conn);
    int st = WS_PREPARING;
    if (stopping) {
        /* No new waits while the server stops: answer as a timeout at once. */
        cancel(opaque);
        atomic_store(&req->wait_state, WS_TIMEOUT);
        MHD_resume_connection(req->conn);
    } else if (!atomic_compare_exchange_strong(&req->wait_state, &st, WS_WAITING)) {
        /* Woken while registering (st == WS_EARLY): resume right away. */
        atomic_store(&req->wait_state, WS_READY);
        MHD_resume_connection(req->conn);
    }
    return 0;
}

/* Times out waiting requests (and, when stopping, all of them): moves each out of WAITING,
 * unregisters it (cancel) and resumes it, outside the list's lock. */
static void expire_waiting(lc_http_t *h, bool all)
{
    lc_req_t *fire[256];
    for (;;) {
        int n = 0;
        bool more = false;
        int64_t now = lc_now_mono_ms();
        pthread_mutex_lock(&h->wait_mu);
        lc_req_t *next;
        for (lc_req_t *r = h->waiting; r; r = next) {
            next = r->wnext;
            int st = atomic_load(&r->wait_state);
            if (st == WS_READY || st == WS_TIMEOUT) {
                unlink_waiting_locked(h, r); /* woken meanwhile: nothing to do */
                continue;
            }
            if (st != WS_WAITING || (!all && r->deadline_ms > now))
                continue;
            if (n == (int)(sizeof fire / sizeof fire[0])) {
                more = true;
                break;
            }
            if (atomic_compare_exchange_strong(&r->wait_state, &st, WS_TIMEOUT)) {
                unlink_waiting_locked(h, r);
                fire[n++] = r;
            }
        }
        pthread_mutex_unlock(&h->wait_mu);
        for (int i = 0; i < n; i++) {
            fire[i]->cancel(fire[i]->cancel_opaque);
            MHD_resume_connection(fire[i]->conn);
        }
        if (!more)
            return;
    }
}

static void *timer_main(void *arg)
{
    lc_http_t *h = arg;
    pthread_mutex_lock(&h->wait_mu);
    while (!h->stopping) {
        struct timespec ts = lc_mono_timespec(lc_now_mono_ms() + TICK_MS);
        pthread_cond_timedwait(&h->wait_cond, &h->wait_mu, &ts);
        if (h->stopping)
            break;
        pthread_mutex_unlock(&h->wait_mu);
        expire_waiting(h, false);
        pthread_mutex_lock(&h->wait_mu);
    }
    pthread_mutex_unlock(&h->wait_mu);
    return NULL;
}

static void add_common_headers(struct MHD_Response *r, const char *content_type, const char *cache)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    if (cache)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    if (strncmp(content_type, "text/html", 9) == 0)
        MHD_add_response_header(r, "Content-Security-Policy", CSP);
}

/* Media and playlists may be played by a player on another origin (an embedding site). */
static void add_media_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "Content-Length, Content-Range");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
}

static int queue(lc_req_t *req, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return -ENOMEM;
    enum MHD_Result ok = MHD_queue_response(req->conn, status, r);
    MHD_destroy_response(r);
    req->replied = true;
    return ok == MHD_YES ? 0 : -EIO;
}

static int reply_unsatisfiable(lc_req_t *req, size_t size)
{
    char cr[48];
    snprintf(cr, sizeof cr, "bytes */%zu", size);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return -ENOMEM;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    add_media_headers(r);
    return queue(req, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
}

static void set_content_range(struct MHD_Response *r, size_t first, size_t last, size_t size)
{
    char cr[80];
    snprintf(cr, sizeof cr, "bytes %zu-%zu/%zu", first, last, size);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
}

static void unref_cb(void *cls) { lc_buf_unref(cls); }

int lc_reply_buf(lc_req_t *req, unsigned status, const char *content_type, lc_buf_t *buf,
                 const char *cache)
{
    size_t size = lc_buf_len(buf), first = 0, last = size ? size - 1 : 0;
    int range = status == 200 ? lc_http_parse_range(lc_req_header(req, "Range"), size, &first,
                                                    &last)
                              : 0;
    if (range < 0) {
        lc_buf_unref(buf);
        return reply_unsatisfiable(req, size);
    }
    size_t len = range > 0 ? last - first + 1 : size;
    /* The response points into the shared buffer and drops our reference when it is done. */
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        len, lc_buf_data(buf) + (range > 0 ? first : 0), unref_cb, buf);
    if (!r) {
        lc_buf_unref(buf);
        return -ENOMEM;
    }
    add_common_headers(r, content_type, cache);
    add_media_headers(r);
    if (range > 0) {
        set_content_range(r, first, last, size);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    return queue(req, status, r);
}

int lc_reply_buf_encoded(lc_req_t *req, unsigned status, const char *content_type, lc_buf_t *buf,
                         const char *cache, bool gzip)
{
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        lc_buf_len(buf), lc_buf_data(buf), unref_cb, buf);
    if (!r) {
        lc_buf_unref(buf);
        return -ENOMEM;
    }
    add_common_headers(r, content_type, cache);
    add_media_headers(r);
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (gzip)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    return queue(req, status, r);
}

int lc_reply_static(lc_req_t *req, const void *data, size_t len, const char *content_type,
                    const char *cache)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return -ENOMEM;
    add_common_headers(r, content_type, cache);
    return queue(req, MHD_HTTP_OK, r);
}

int lc_reply_file(lc_req_t *req, const char *path, const char *content_type, const char *cache,
                  const char *download_name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
    }
    size_t size = (size_t)st.st_size, first = 0, last = size ? size - 1 : 0;
    int range = lc_http_parse_range(lc_req_header(req, "Range"), size, &first, &last);
    if (range < 0) {
        close(fd);
        return reply_unsatisfiable(req, size);
    }
    size_t len = range > 0 ? last - first + 1 : size;
    /* libmicrohttpd owns the descriptor from here and closes it when the response is freed. */
    struct MHD_Response *r =
        MHD_create_response_from_fd_at_offset64(len, fd, range > 0 ? (uint64_t)first : 0);
    if (!r) {
        close(fd);
        return -ENOMEM;
    }
    add_common_headers(r, content_type, cache);
    add_media_headers(r);
    if (download_name) {
        char cd[256];
        if (lc_fmt(cd, sizeof cd, "attachment; filename=\"%s\"", download_name) == 0)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
    }
    unsigned status = MHD_HTTP_OK;
    if (range > 0) {
        set_content_range(r, first, last, size);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    return queue(req, status, r);
}

static void add_headers(struct MHD_Response *r, const char *const *headers)
{
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(r, headers[i], headers[i + 1]);
}

/* What libmicrohttpd calls back for a streamed response. */
typedef struct {
    lc_stream_read_cb read;
    void (*free_cb)(void *opaque);
    void *opaque;
} stream_t;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_t *s = cls;
    ssize_t n = s->read(s->opaque, buf, max);
    /* 0 would mean "nothing yet, ask again" to libmicrohttpd: for us it is the end. */
    return n > 0 ? n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
                              : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    stream_t *s = cls;
    if (s->free_cb)
        s->free_cb(s->opaque);
    free(s);
}

int lc_reply_stream(lc_req_t *req, unsigned status, const char *content_type,
                    lc_stream_read_cb read, void (*free_cb)(void *opaque), void *opaque,
                    const char *const *headers)
{
    stream_t *s = malloc(sizeof *s);
    struct MHD_Response *r = NULL;
    if (s) {
        *s = (stream_t){read, free_cb, opaque};
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, s,
                                              stream_free);
    }
    if (!r) {
        free(s);
        if (free_cb)
            free_cb(opaque);
        return -ENOMEM;
    }
    add_common_headers(r, content_type, "no-store");
    add_headers(r, headers);
    return queue(req, status, r);
}

/* ---- push streams ---------------------------------------------------------------------------
 * PUSH_RUNNING: libmicrohttpd may call `read`. PUSH_SUSPENDED: `read` had nothing and the
 * connection is suspended. A wake sets `pending` and, when it moves the stream out of
 * SUSPENDED, resumes it; `read` suspends first, then publishes SUSPENDED, then looks at
 * `pending`: whichever side comes second resumes (sequentially consistent atomics). */
enum { PUSH_RUNNING, PUSH_SUSPENDED };

struct lc_push {
    lc_http_t *http;
    struct MHD_Connection *conn;
    lc_stream_read_cb read;
    void (*free_cb)(void *opaque);
    void *opaque;
    _Atomic int state;
    _Atomic bool pending;
    lc_push_t *prev, *next; /* on http->pushes, under push_mu */
};

static void push_resume(lc_push_t *p)
{
    int st = PUSH_SUSPENDED;
    if (atomic_compare_exchange_strong(&p->state, &st, PUSH_RUNNING))
        MHD_resume_connection(p->conn);
}

void lc_push_wake(lc_push_t *p)
{
    atomic_store(&p->pending, true);
    push_resume(p);
}

static ssize_t push_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    lc_push_t *p = cls;
    atomic_store(&p->pending, false);
    pthread_mutex_lock(&p->http->push_mu);
    bool stopping = p->http->push_stopping;
    pthread_mutex_unlock(&p->http->push_mu);
    if (stopping)
        return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = p->read(p->opaque, buf, max);
    if (n > 0)
        return n;
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    MHD_suspend_connection(p->conn);
    atomic_store(&p->state, PUSH_SUSPENDED);
    if (atomic_load(&p->pending))
        push_resume(p);
    return 0;
}

static void push_free(void *cls)
{
    lc_push_t *p = cls;
    if (p->free_cb)
        p->free_cb(p->opaque); /* after this, nothing calls lc_push_wake */
    lc_http_t *h = p->http;
    pthread_mutex_lock(&h->push_mu);
    if (p->prev)
        p->prev->next = p->next;
    else
        h->pushes = p->next;
    if (p->next)
        p->next->prev = p->prev;
    pthread_mutex_unlock(&h->push_mu);
    free(p);
}

lc_push_t *lc_reply_push(lc_req_t *req, const char *content_type, lc_stream_read_cb read,
                         void (*free_cb)(void *opaque), void *opaque, const char *const *headers,
                         int *rc)
{
    lc_http_t *h = req->http;
    lc_push_t *p = calloc(1, sizeof *p);
    struct MHD_Response *r = NULL;
    if (p) {
        *p = (lc_push_t){.http = h, .conn = req->conn, .read = read, .free_cb = free_cb,
                         .opaque = opaque};
        /* Small blocks: events are small, and thousands of streams are held at once. */
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, push_read, p, push_free);
    }
    if (!r) {
        free(p);
        if (free_cb)
            free_cb(opaque);
        *rc = -ENOMEM;
        return NULL;
    }
    pthread_mutex_lock(&h->push_mu);
    p->next = h->pushes;
    if (h->pushes)
        h->pushes->prev = p;
    h->pushes = p;
    pthread_mutex_unlock(&h->push_mu);
    add_common_headers(r, content_type, "no-store");
    /* Proxies (nginx) must pass events on at once, not gather them. */
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    add_headers(r, headers);
    *rc = queue(req, MHD_HTTP_OK, r);
    return *rc == 0 ? p : NULL;
}

/* Ends every push stream: each is woken and its next read ends the body. */
static void end_pushes(lc_http_t *h)
{
    pthread_mutex_lock(&h->push_mu);
    h->push_stopping = true;
    for (lc_push_t *p = h->pushes; p; p = p->next)
        lc_push_wake(p);
    pthread_mutex_unlock(&h->push_mu);
}

static int reply_json_full(lc_req_t *req, unsigned status, json_t *body, bool cors,
                           const char *const *headers)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text && status != MHD_HTTP_NO_CONTENT)
        return -ENOMEM;
    struct MHD_Response *r =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return -ENOMEM;
    }
    add_common_headers(r, "application/json", "no-store");
    if (cors)
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    add_headers(r, headers);
    return queue(req, status, r);
}

int lc_reply_json(lc_req_t *req, unsigned status, json_t *body)
{
    return body ? reply_json_full(req, status, body, false, NULL) : -ENOMEM;
}

int lc_reply_json_with(lc_req_t *req, unsigned status, json_t *body, const char *const *headers)
{
    return reply_json_full(req, status, body, false, headers);
}

int lc_reply_error_with(lc_req_t *req, unsigned status, const char *code, const char *field,
                        const char *message, const char *const *headers)
{
    json_t *err = json_pack("{s:s,s:s}", "code", code, "message", message);
    if (err && field && *field && json_object_set_new(err, "field", json_string(field)) < 0) {
        json_decref(err);
        err = NULL;
    }
    json_t *body = err ? json_pack("{s:o}", "error", err) : NULL;
    return body ? reply_json_full(req, status, body, true, headers) : -ENOMEM;
}

int lc_reply_error(lc_req_t *req, unsigned status, const char *code, const char *message)
{
    return lc_reply_error_with(req, status, code, NULL, message, NULL);
}

json_t *lc_req_json(lc_req_t *req, const lc_json_field_t *fields, int *rc)
{
    if (!lc_content_type_is_json(lc_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        *rc = lc_reply_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                             "the body must be JSON (Content-Type: application/json)");
        return NULL;
    }
    json_t *j = NULL;
    lc_body_error_t err;
    if (lc_json_body_parse(req->body ? req->body : "", req->body_len, fields, &j, &err) < 0) {
        *rc = lc_reply_error_with(req, err.status, err.code, err.field, err.message, NULL);
        return NULL;
    }
    return j;
}

/* Matches `path` against `pattern`, capturing each '*' segment into req->params. */
static bool match(lc_req_t *req, const char *pattern, const char *path)
{
    int n = 0;
    char *caps[MAX_PARAMS] = {0};
    const char *p = pattern, *s = path;
    bool ok = true;
    while (*p && ok) {
        if (*p == '*') {
            const char *end = strchr(s, '/');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            if (len == 0 || n >= MAX_PARAMS) {
                ok = false;
                break;
            }
            caps[n] = strndup(s, len);
            if (!caps[n++]) {
                ok = false;
                break;
            }
            s += len;
            p++;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            ok = false;
        }
    }
    if (ok && *s)
        ok = false;
    if (!ok) {
        for (int i = 0; i < n; i++)
            free(caps[i]);
        return false;
    }
    memcpy(req->params, caps, sizeof caps);
    req->nparams = n;
    return true;
}

static void free_req(lc_req_t *req)
{
    if (!req)
        return;
    if (req->in_wait_list) {
        pthread_mutex_lock(&req->http->wait_mu);
        unlink_waiting_locked(req->http, req);
        pthread_mutex_unlock(&req->http->wait_mu);
    }
    if (req->done)
        req->done(req->done_opaque);
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    free(req->body);
    free(req->path);
    /* The session token and the CSRF token are secrets: leave no copy in freed memory. */
    OPENSSL_cleanse(req, sizeof *req);
    free(req);
}

static bool changes_state(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_POST) == 0 || strcmp(method, MHD_HTTP_METHOD_PUT) == 0 ||
           strcmp(method, MHD_HTTP_METHOD_PATCH) == 0 ||
           strcmp(method, MHD_HTTP_METHOD_DELETE) == 0;
}

/* Keeps (up to the limit) or counts the body bytes of a state-changing request. Returns false
 * when the connection should be closed (far too much). */
static bool take_body(lc_req_t *req, const char *data, size_t size)
{
    req->body_seen += size;
    if (!req->body_too_large && req->body_len + size <= LC_HTTP_BODY_MAX) {
        char *b = realloc(req->body, req->body_len + size + 1);
        if (!b)
            return false;
        memcpy(b + req->body_len, data, size);
        req->body = b;
        req->body_len += size;
        b[req->body_len] = 0;
    } else {
        req->body_too_large = true;
        free(req->body);
        req->body = NULL;
        req->body_len = 0;
    }
    return req->body_seen <= BODY_DISCARD_MAX;
}

/* The checks every route gets before its handler: body size, same origin and CSRF token for
 * state-changing requests, a session where the route needs one. Returns true when the handler
 * may run; otherwise it replied and *rc is the reply's result. */
static bool guard(lc_req_t *req, const lc_route_t *route, int *rc)
{
    if (req->guarded)
        return true;
    req->guarded = true;
    bool unsafe = changes_state(req->method);
    if (unsafe && req->body_too_large) {
        *rc = lc_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
                             "the body is larger than 65536 bytes");
        return false;
    }
    /* A browser sends Origin with every cross-site POST; forms and scripts of other sites must
     * not act on this server, with or without a session. */
    const char *origin = lc_req_header(req, "Origin");
    const char *fetch_site = lc_req_header(req, "Sec-Fetch-Site");
    if (unsafe && ((origin && !lc_origin_allowed(origin, lc_req_header(req, "Host"),
                                                 req->app->cfg.public_url)) ||
                   (fetch_site && strcmp(fetch_site, "cross-site") == 0))) {
        *rc = lc_reply_error(req, MHD_HTTP_FORBIDDEN, "cross_origin",
                             "requests from other sites are refused");
        return false;
    }
    if (!unsafe && route->access == LC_ROUTE_PUBLIC)
        return true;
    const char *cookie = lc_req_header(req, MHD_HTTP_HEADER_COOKIE);
    if (lc_cookie_get(cookie, LC_SESSION_COOKIE, req->session_token,
                      sizeof req->session_token) < 0)
        req->session_token[0] = 0;
    int src = LC_ENOTFOUND;
    if (req->session_token[0])
        src = lc_auth_session_get(req->app->auth, req->session_token, lc_now_real_ms(),
                                  &req->session);
    if (src < 0 && src != LC_ENOTFOUND) {
        *rc = src;
        return false;
    }
    req->has_session = src == 0;
    if (route->access == LC_ROUTE_ORGANISER && !req->has_session) {
        /* A cookie that names no live session is of no use to the browser any more. */
        char clear[128];
        const char *hdr[] = {MHD_HTTP_HEADER_SET_COOKIE, clear, NULL};
        bool had = req->session_token[0] &&
                   lc_cookie_format(clear, sizeof clear, LC_SESSION_COOKIE, "", 0,
                                    lc_req_secure(req)) == 0;
        *rc = lc_reply_error_with(req, MHD_HTTP_UNAUTHORIZED, "not_logged_in",
                                  NULL, "log in first", had ? hdr : NULL);
        return false;
    }
    if (unsafe && req->has_session &&
        !lc_auth_csrf_ok(&req->session, lc_req_header(req, "X-CSRF-Token"))) {
        *rc = lc_reply_error(req, MHD_HTTP_FORBIDDEN, "csrf",
                             "missing or wrong X-CSRF-Token header");
        return false;
    }
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    lc_http_t *h = cls;
    lc_req_t *req = *req_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->conn = conn;
        req->http = h;
        req->app = h->app;
        req->method = method;
        *req_cls = req;
        if (strlen(url) >= MAX_PATH)
            return lc_reply_error(req, MHD_HTTP_URI_TOO_LONG, "uri_too_long",
                                  "the request path is too long") == 0 ? MHD_YES : MHD_NO;
        if (!(req->path = strdup(url)))
            return MHD_NO;
        /* Far too large a body is refused before it is sent (libmicrohttpd then closes the
         * connection); a smaller one that is still too large is read and refused at its end. */
        const char *cl = lc_req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t clen;
        if (changes_state(method) && cl && lc_parse_int64(cl, 0, INT64_MAX, &clen) == 0 &&
            clen > BODY_DISCARD_MAX)
            return lc_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
                                  "the body is larger than 65536 bytes") == 0 ? MHD_YES : MHD_NO;
        /* Wait for the body (if any) before dispatching. */
        return MHD_YES;
    }
    if (req->replied) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->in_wait_list) {
        /* Resumed: it no longer needs the timer. */
        pthread_mutex_lock(&h->wait_mu);
        unlink_waiting_locked(h, req);
        pthread_mutex_unlock(&h->wait_mu);
    }
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    req->nparams = 0;
    if (*upload_data_size) {
        /* Only state-changing requests have a body worth keeping; others' are dropped. */
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (changes_state(method) && !take_body(req, upload_data, size))
            return MHD_NO;
        return MHD_YES;
    }
    bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool path_matched = false;
    for (const lc_route_t *r = lc_routes; r->pattern; r++) {
        if (!match(req, r->pattern, req->path))
            continue;
        if (strcmp(r->method, method) == 0 || (head && strcmp(r->method, "GET") == 0)) {
            int rc = 0;
            if (guard(req, r, &rc))
                rc = r->handler(req);
            if (rc < 0 && !req->replied) {
                LC_ERROR("http", "%s %s: %s", method, r->pattern, lc_strerror(rc));
                rc = lc_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                    "internal error");
            }
            return rc == 0 ? MHD_YES : MHD_NO;
        }
        path_matched = true;
        for (int i = 0; i < req->nparams; i++)
            free(req->params[i]);
        req->nparams = 0;
    }
    (void)version;
    int rc = path_matched ? lc_reply_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                           "method not allowed on this resource")
                          : lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such page");
    return rc == 0 ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free_req(*req_cls);
    *req_cls = NULL;
}

/* libmicrohttpd reports every client that goes away mid-request; that is normal traffic, not
 * something an operator must act on. Real failures (bind, start) are logged by us. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (lc_log_get_level() >= LC_LOG_DEBUG)
        lc_logv(LC_LOG_DEBUG, "http", fmt, ap);
}

/* How many connections HTTP may hold: what the descriptor limit allows after a reserve for the
 * recorder (segment files, journals), the RTMP ingest, the database and the exporter, so that a
 * flood of slow clients can never starve a recording of file descriptors. */
static unsigned connection_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 20000;
    rlim_t reserve = 512;
    if (rl.rlim_cur <= reserve + 64)
        return 64;
    rlim_t n = rl.rlim_cur - reserve;
    return n > 20000 ? 20000 : (unsigned)n;
}

lc_http_t *lc_http_start(lc_app_t *app, int *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (lc_parse_listen_addr(app->cfg.http_listen, &ss, &sslen) < 0) {
        LC_ERROR("http", "bad listen address '%s' (expected HOST:PORT, [V6]:PORT or :PORT)",
                 app->cfg.http_listen);
        *err = -EINVAL;
        return NULL;
    }
    lc_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        *err = -ENOMEM;
        return NULL;
    }
    h->app = app;
    pthread_mutex_init(&h->wait_mu, NULL);
    pthread_mutex_init(&h->push_mu, NULL);
    lc_cond_init_monotonic(&h->wait_cond);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* A small pool: HTTP work here is copying bytes that already exist, and the rest of the
     * machine (muxing, recording) needs the cores too. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ncpu > 1 ? (unsigned)(ncpu > 8 ? 8 : ncpu) : 1;
    /* The logger goes first so that libmicrohttpd's own messages about later options reach it. */
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, connection_budget(),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        /* Per-connection memory for the request line, headers and response headers: our requests
         * are small (a path, a short query, a browser's headers: 1 to 2 KiB), and thousands of
         * viewers and held event streams each hold one; libmicrohttpd's default is 32 KiB. 8 KiB
         * still takes 4 to 6 KiB of request headers (431 beyond). */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(8 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (!h->daemon) {
        LC_ERROR("http", "cannot listen on %s (in use, or not an address of this machine?)",
                 app->cfg.http_listen);
        free(h);
        *err = -EADDRINUSE;
        return NULL;
    }
    if (pthread_create(&h->timer, NULL, timer_main, h) != 0) {
        LC_ERROR("http", "cannot start the timer thread");
        MHD_stop_daemon(h->daemon);
        free(h);
        *err = -EAGAIN;
        return NULL;
    }
    h->timer_started = true;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (!info || lc_format_sockname(info->listen_fd, app->http_bound, sizeof app->http_bound) < 0)
        snprintf(app->http_bound, sizeof app->http_bound, "%s", app->cfg.http_listen);
    return h;
}

/* Order: no new connections; every waiting request is answered (as a timeout: 503) and no new
 * wait starts; the timer ends; then the daemon stops — libmicrohttpd must not be stopped with
 * connections still suspended. */
void lc_http_stop(lc_http_t **ph)
{
    if (!ph || !*ph)
        return;
    lc_http_t *h = *ph;
    /* The listening socket is ours to close from here, after the daemon's threads are gone. */
    MHD_socket listen_fd = MHD_quiesce_daemon(h->daemon);
    pthread_mutex_lock(&h->wait_mu);
    h->stopping = true;
    pthread_cond_broadcast(&h->wait_cond);
    pthread_mutex_unlock(&h->wait_mu);
    if (h->timer_started)
        pthread_join(h->timer, NULL);
    expire_waiting(h, true);
    end_pushes(h);
    MHD_stop_daemon(h->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    pthread_cond_destroy(&h->wait_cond);
    pthread_mutex_destroy(&h->wait_mu);
    pthread_mutex_destroy(&h->push_mu);
    free(h);
    *ph = NULL;
}
