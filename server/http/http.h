/* The HTTP server: libmicrohttpd with its own thread pool (epoll, suspend/resume), one route
 * table (server/http/routes.c), and the shared helpers every handler uses to reply. Handlers
 * never block: they read snapshots (the live window, the database's short reads) and reply.
 * Every error reply is JSON {"error": {"code": "...", "message": "..."}}. */
#ifndef LC_HTTP_HTTP_H
#define LC_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "app.h"
#include "core/buf.h"
#include "http/body.h"

typedef struct lc_http lc_http_t;
typedef struct lc_req lc_req_t;

/* Binds cfg->http_listen and starts the daemon. NULL on failure (logged, *err set). The bound
 * address is written to app->http_bound. Main thread. */
lc_http_t *lc_http_start(lc_app_t *app, int *err);
/* Stops accepting, closes connections, joins the threads. NULL-safe; sets *ph to NULL. */
void lc_http_stop(lc_http_t **ph);

/* ---- for handlers ---------------------------------------------------------------------- */

/* A handler queues exactly one reply (via the lc_reply_* helpers) and returns their result:
 * 0 when a reply was queued, negative to drop the connection. */
typedef int (*lc_handler_fn)(lc_req_t *req);

/* Who may use a route. Whatever the route, a request with a state-changing method (POST, PUT,
 * PATCH, DELETE) is refused with 403 when its Origin header names another site, and, when it
 * carries a valid session cookie, unless its X-CSRF-Token header is the session's CSRF token. */
typedef enum {
    LC_ROUTE_PUBLIC = 0,
    LC_ROUTE_ORGANISER = 1, /* a logged-in organiser only; 401 otherwise */
} lc_route_access_t;

typedef struct {
    const char *method;  /* "GET" (also serves HEAD), "POST", ... */
    const char *pattern; /* each "*" matches one non-empty path segment */
    lc_handler_fn handler;
    lc_route_access_t access;
} lc_route_t;

lc_app_t *lc_req_app(lc_req_t *req);
/* The request's login session: for LC_ROUTE_ORGANISER routes always set; on other routes set
 * when the request changes state and carries a valid session cookie; else NULL. */
const lc_auth_session_t *lc_req_session(lc_req_t *req);
/* The raw session token from the request's cookie (for logout), or NULL. */
const char *lc_req_session_token(lc_req_t *req);
/* The request body (at most LC_HTTP_BODY_MAX bytes, larger ones were refused with 413 before
 * the handler runs) and its length; "" when there is none. */
const char *lc_req_body(lc_req_t *req, size_t *len);
/* For JSON endpoints: checks the Content-Type (415) and parses the body against `fields`
 * (http/body.h). Returns the object (a new reference), or NULL after replying with the error;
 * *rc is then the reply's result, for the handler to return. */
json_t *lc_req_json(lc_req_t *req, const lc_json_field_t *fields, int *rc);
/* Whether the request came over TLS as far as lectern may know: --secure-cookies (lectern
 * serves plain HTTP; the option is for running behind a TLS proxy). */
bool lc_req_secure(lc_req_t *req);
/* The i-th '*' of the matched pattern, URL-decoded; NULL when absent. */
const char *lc_req_param(lc_req_t *req, int i);
/* A query-string argument (decoded by libmicrohttpd) or NULL. */
const char *lc_req_query(lc_req_t *req, const char *name);
/* A request header (case-insensitive name) or NULL. */
const char *lc_req_header(lc_req_t *req, const char *name);
const char *lc_req_method(lc_req_t *req);

/* ---- waiting without a thread (blocking playlist reload, preload-hinted parts) --------------
 * A handler that must wait for data calls lc_req_prepare_wait(), registers whatever will call
 * lc_req_wake() (e.g. a window waiter), then lc_req_suspend() and returns 0 without a reply. The
 * connection is suspended (libmicrohttpd keeps no thread on it); the same route's handler runs
 * again once lc_req_wake() was called or the timeout passed, and lc_req_woken() says which. */
typedef enum {
    LC_WAKE_NONE = 0,    /* not waiting (a first call) */
    LC_WAKE_READY = 1,   /* lc_req_wake() was called */
    LC_WAKE_TIMEOUT = 2, /* the timeout passed, or the server is stopping */
} lc_wake_t;

/* Marks the request as about to wait: a wake that arrives before lc_req_suspend() is kept. */
void lc_req_prepare_wait(lc_req_t *req);
/* Suspends the request for at most `timeout_ms`. `cancel(opaque)` is called before a timeout
 * (or shutdown) wake, from another thread, to unregister whatever would call lc_req_wake(); once
 * it returns, lc_req_wake() must no longer be called for this request. Returns 0. */
int lc_req_suspend(lc_req_t *req, int64_t timeout_ms, void (*cancel)(void *opaque), void *opaque);
/* Wakes a waiting request. Any thread; only the first of a wake and the timeout counts. */
void lc_req_wake(lc_req_t *req);
lc_wake_t lc_req_woken(lc_req_t *req);
/* Runs `fn(opaque)` once the request is over (answered, or the connection dropped): the place to
 * free state a waiting handler keeps. One per request. */
void lc_req_on_done(lc_req_t *req, void (*fn)(void *opaque), void *opaque);
/* The `opaque` given to lc_req_on_done (what a woken handler kept), or NULL. */
void *lc_req_state(lc_req_t *req);

/* Replies with `buf` (takes the reference). Honours a single `Range: bytes=` request (206, or
 * 416 when unsatisfiable); the bytes are served from the buffer itself, never copied. `cache`
 * is the Cache-Control value or NULL. */
int lc_reply_buf(lc_req_t *req, unsigned status, const char *content_type, lc_buf_t *buf,
                 const char *cache);
/* The same for a gzip-compressed body (Content-Encoding: gzip; no ranges). Every variant of a
 * resource that can be compressed carries Vary: Accept-Encoding, compressed or not. */
int lc_reply_buf_encoded(lc_req_t *req, unsigned status, const char *content_type, lc_buf_t *buf,
                         const char *cache, bool gzip);
/* Replies with bytes that live as long as the process (embedded files). */
int lc_reply_static(lc_req_t *req, const void *data, size_t len, const char *content_type,
                    const char *cache);
/* Replies with a file (sendfile), honouring Range like lc_reply_buf; 404 JSON when it does not
 * exist. `download_name` (or NULL) adds Content-Disposition: attachment. */
int lc_reply_file(lc_req_t *req, const char *path, const char *content_type, const char *cache,
                  const char *download_name);
/* A streamed body's source: writes up to `max` bytes into `buf` and returns how many (> 0), 0
 * at the end of the body, or a negative code to abandon the response (the connection is closed
 * and the client sees a truncated body). Called on the connection's HTTP thread, one call at a
 * time, as the client reads; it must not block for long. */
typedef ssize_t (*lc_stream_read_cb)(void *opaque, char *buf, size_t max);

/* Replies with a body produced piece by piece by `read` (chunked transfer encoding), for bodies
 * that must not be built in memory (exports). Never cached (Cache-Control: no-store); `headers`
 * as for lc_reply_json_with. `free_cb(opaque)` (may be NULL) is called exactly once when the
 * response is over — sent, abandoned, or the client gone — also when this call fails. */
int lc_reply_stream(lc_req_t *req, unsigned status, const char *content_type,
                    lc_stream_read_cb read, void (*free_cb)(void *opaque), void *opaque,
                    const char *const *headers);
/* A long-lived streamed reply (Server-Sent Events), held without a thread: `read` is called as
 * for lc_reply_stream, except that 0 means "nothing now": the connection is then suspended until
 * lc_push_wake is called (a wake that races with the suspension is never lost). Negative ends
 * the body. Returns the handle for lc_push_wake, valid until `free_cb(opaque)` has returned
 * (called exactly once: when the response is over, the client gone, or this call fails), or NULL
 * when the reply could not be queued (*rc is then the result for the handler to return). When
 * the server stops, every push stream is ended. */
typedef struct lc_push lc_push_t;
lc_push_t *lc_reply_push(lc_req_t *req, const char *content_type, lc_stream_read_cb read,
                         void (*free_cb)(void *opaque), void *opaque, const char *const *headers,
                         int *rc);
/* Has the push stream's `read` called again soon. Any thread, any number of times; cheap when the
 * stream is not suspended. */
void lc_push_wake(lc_push_t *p);
/* Replies with a JSON body (steals the reference to `body`); Cache-Control: no-store. */
int lc_reply_json(lc_req_t *req, unsigned status, json_t *body);
/* The same with extra response headers: `headers` holds name, value, name, value, ..., NULL
 * (NULL itself for none). A NULL body sends no body (204). */
int lc_reply_json_with(lc_req_t *req, unsigned status, json_t *body, const char *const *headers);
/* Replies {"error": {"code": code, "message": message}}, never cached (Cache-Control: no-store);
 * media errors also carry the CORS header so a player on another origin sees the status. */
int lc_reply_error(lc_req_t *req, unsigned status, const char *code, const char *message);
/* The same, naming the request field at fault ("field": field, when not NULL or ""), with extra
 * headers as for lc_reply_json_with (e.g. Retry-After). */
int lc_reply_error_with(lc_req_t *req, unsigned status, const char *code, const char *field,
                        const char *message, const char *const *headers);
/* Content type by file extension (".m3u8", ".m4s", ".mp4", ".html", ".js", ".css", ...). */
const char *lc_content_type(const char *name);

/* Exported for unit tests: parses a Range header against a body of `size` bytes. Returns 1 and
 * [*first, *last] for one satisfiable range, 0 to ignore the header (absent, malformed, several
 * ranges), -1 when unsatisfiable (416). */
int lc_http_parse_range(const char *header, size_t size, size_t *first, size_t *last);

/* The route table (routes.c). */
extern const lc_route_t lc_routes[];

#endif
