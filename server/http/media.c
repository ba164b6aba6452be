/* Live HLS from the in-memory window, and recordings from disk.
 *
 * Caching: init segments, parts and segments never change once published (their names carry
 * the session and sequence numbers), so they are public and immutable for a year; playlists
 * change with every part and are cacheable for about a part duration. An HTTP cache in front of
 * lectern can therefore fan a webinar out to any audience. */
#include "http/media.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/webinars.h"
#include "core/error.h"
#include "core/gzip.h"
#include "core/util.h"
#include "http/names.h"
#include "live/live.h"
#include "recorder/recorder.h"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_LIVE_PLAYLIST "public, max-age=1"
/* A blocking reload's answer lists the part its URL names (or later ones) whatever the moment it
 * is served: an HTTP cache keyed by the full URL may hand it to every viewer asking the same. */
#define CACHE_BLOCKING "public, max-age=60"
#define CACHE_RECORDING "public, max-age=3600"

static int not_found(lc_req_t *req, const char *what)
{
    return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", what);
}

/* Live media is published under the webinar's live key (app.c), so the window a URL's key names
 * is the whole check: an unknown key finds none and gets the same 404 as a webinar off the air. */
int lc_media_live_master(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const char *key = lc_req_param(req, 0);
    if (!lc_media_key_valid(key))
        return not_found(req, "this webinar is not live");
    lc_window_t *w = lc_live_window(app->live, key);
    lc_buf_t *b = w ? lc_window_master_playlist(w) : NULL;
    lc_window_unref(w);
    if (!b)
        return not_found(req, "this webinar is not live");
    /* The master names the current session's media playlist, which changes when a new session
     * starts: keep it short-lived. */
    return lc_reply_buf(req, MHD_HTTP_OK, lc_content_type("x.m3u8"), b, CACHE_LIVE_PLAYLIST);
}

/* ---- LL-HLS: blocking playlist reload and preload-hinted parts ------------------------------ */

/* A waiting request's registration with the window; freed when the request is over. */
typedef struct {
    lc_window_waiter_t waiter;
    lc_req_t *req;
    lc_window_t *w; /* a reference, so the window outlives the waiter */
} live_wait_t;

static void wait_wake(lc_window_waiter_t *waiter)
{
    lc_req_wake(((live_wait_t *)(void *)waiter)->req);
}

static void wait_cancel(void *opaque)
{
    live_wait_t *lw = opaque;
    lc_window_cancel(lw->w, &lw->waiter);
}

static void wait_done(void *opaque)
{
    live_wait_t *lw = opaque;
    lc_window_cancel(lw->w, &lw->waiter);
    lc_window_unref(lw->w);
    free(lw);
}

/* Registers a wait for (msn, part) and suspends the request (timeout: 3 target durations, the
 * spec's limit). Returns 1 when suspended, 0 when it is there already, -ERANGE when too far
 * ahead, or another negative code. */
static int wait_for(lc_req_t *req, lc_window_t *w, int64_t msn, int part)
{
    live_wait_t *lw = calloc(1, sizeof *lw);
    if (!lw)
        return -ENOMEM;
    lw->waiter.msn = msn;
    lw->waiter.part = part;
    lw->waiter.cb = wait_wake;
    lw->req = req;
    lw->w = lc_window_ref(w);
    lc_req_prepare_wait(req);
    int rc = lc_window_wait(w, &lw->waiter);
    if (rc != 1) {
        lc_window_unref(lw->w);
        free(lw);
        return rc == -EINVAL ? 0 : rc; /* without low latency: no waiting, answer as it is */
    }
    lc_req_on_done(req, wait_done, lw);
    lc_req_suspend(req, 3 * 1000 * (int64_t)lc_window_target_duration(w), wait_cancel, lw);
    return 1;
}

static int live_playlist(lc_req_t *req, lc_window_t *w)
{
    lc_hls_query_t q;
    const char *bad = lc_hls_parse_query(lc_req_query(req, "_HLS_msn"),
                                         lc_req_query(req, "_HLS_part"),
                                         lc_req_query(req, "_HLS_skip"), &q);
    if (bad)
        return lc_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request", bad);
    lc_wake_t woke = lc_req_woken(req);
    if (woke == LC_WAKE_TIMEOUT)
        return lc_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "the requested part did not appear in time");
    if (q.has_msn && woke == LC_WAKE_NONE) {
        int rc = wait_for(req, w, q.msn, q.has_part ? q.part : -1);
        if (rc == 1)
            return 0; /* suspended: this handler runs again when it is there */
        if (rc == -ERANGE)
            return lc_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
                                  "_HLS_msn/_HLS_part are too far ahead of the live edge");
        if (rc < 0)
            return rc;
    }
    bool gzip = lc_accepts_gzip(lc_req_header(req, "Accept-Encoding"));
    lc_buf_t *buf = lc_window_playlist(w, q.skip, gzip);
    if (!buf)
        return not_found(req, "not available yet");
    /* The window falls back to the plain text if compression failed: look at what came. */
    bool compressed = lc_buf_len(buf) >= 2 && lc_buf_cdata(buf)[0] == 0x1f &&
                      lc_buf_cdata(buf)[1] == 0x8b;
    return lc_reply_buf_encoded(req, MHD_HTTP_OK, lc_content_type("x.m3u8"), buf,
                                q.has_msn ? CACHE_BLOCKING : CACHE_LIVE_PLAYLIST, compressed);
}

/* A part that is not there yet may be asked for when it is the next one (EXT-X-PRELOAD-HINT):
 * the answer comes when it is complete. */
static int live_part(lc_req_t *req, lc_window_t *w, int64_t msn, int64_t index, const char *name)
{
    if (index > INT32_MAX)
        return not_found(req, "no such part");
    lc_buf_t *buf = lc_window_part(w, msn, (int)index);
    lc_wake_t woke = lc_req_woken(req);
    if (!buf && woke == LC_WAKE_NONE && lc_window_is_next_part(w, msn, (int)index)) {
        int rc = wait_for(req, w, msn, (int)index);
        if (rc == 1)
            return 0;
        if (rc < 0 && rc != -ERANGE)
            return rc;
        buf = lc_window_part(w, msn, (int)index);
    }
    if (!buf && woke == LC_WAKE_TIMEOUT)
        return lc_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "the part did not appear in time");
    if (!buf)
        return not_found(req, "not available (not yet, or no longer)");
    return lc_reply_buf(req, MHD_HTTP_OK, lc_content_type(name), buf, CACHE_IMMUTABLE);
}

int lc_media_live_file(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const char *key = lc_req_param(req, 0);
    const char *name = lc_req_param(req, 2);
    int64_t session_id, a, b;
    if (!lc_media_key_valid(key) ||
        lc_parse_int64(lc_req_param(req, 1), 1, INT64_MAX, &session_id) < 0)
        return not_found(req, "no such stream");
    lc_name_kind_t kind = lc_parse_media_name(name, &a, &b);
    if (kind == LC_NAME_INVALID || kind == LC_NAME_DOWNLOAD || kind == LC_NAME_MASTER)
        return not_found(req, "no such file");
    lc_window_t *w = lc_live_window(app->live, key);
    if (!w || lc_window_session_id(w) != session_id) {
        lc_window_unref(w);
        return not_found(req, "this session is not live");
    }
    lc_buf_t *buf = NULL;
    int rc;
    switch (kind) {
    case LC_NAME_PLAYLIST:
        rc = live_playlist(req, w);
        lc_window_unref(w);
        return rc;
    case LC_NAME_PART:
        rc = live_part(req, w, a, b, name);
        lc_window_unref(w);
        return rc;
    case LC_NAME_INIT:
        buf = a <= INT32_MAX ? lc_window_init(w, (int)a) : NULL;
        break;
    case LC_NAME_SEGMENT:
        buf = lc_window_segment(w, a);
        break;
    default:
        break;
    }
    lc_window_unref(w);
    if (!buf)
        return not_found(req, "not available (not yet, or no longer)");
    return lc_reply_buf(req, MHD_HTTP_OK, lc_content_type(name), buf, CACHE_IMMUTABLE);
}

/* A recording is served only under its webinar's replay key: a session id alone (they are
 * sequential) or another webinar's key gets the same 404 as a session that does not exist. The
 * files on disk stay named by session id (recorder/recorder.h). */
int lc_media_vod_file(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const char *key = lc_req_param(req, 0);
    const char *name = lc_req_param(req, 2);
    int64_t session_id, a, b;
    if (!lc_media_key_valid(key) ||
        lc_parse_int64(lc_req_param(req, 1), 1, INT64_MAX, &session_id) < 0)
        return not_found(req, "no such recording");
    lc_name_kind_t kind = lc_parse_media_name(name, &a, &b);
    if (kind != LC_NAME_PLAYLIST && kind != LC_NAME_INIT && kind != LC_NAME_SEGMENT &&
        kind != LC_NAME_DOWNLOAD)
        return not_found(req, "no such file");
    lc_session_t s;
    lc_webinar_t w;
    int rc = lc_db_session_get_with_webinar(app->db, session_id, &s, &w);
    if (rc == 0 && !lc_media_key_matches(w.replay_key, key))
        rc = LC_ENOTFOUND;
    if (rc == LC_ENOTFOUND)
        return not_found(req, "no such recording");
    if (rc < 0)
        return rc;
    char path[PATH_MAX + 64];
    if (lc_fmt(path, sizeof path, "%s/%lld/%s", app->recordings_dir, (long long)session_id,
               name) < 0)
        return not_found(req, "no such file");
    /* While the session is live, its playlist grows (EVENT) and the newest segment file is still
     * being appended to: nothing of it may be cached yet. */
    const char *cache = s.live ? "no-cache" : CACHE_RECORDING;
    char download[96];
    const char *download_name = NULL;
    if (kind == LC_NAME_DOWNLOAD) {
        if (s.live)
            return not_found(req, "the download is made when the session has ended");
        snprintf(download, sizeof download, "lectern-session-%lld.mp4", (long long)session_id);
        download_name = download;
    }
    return lc_reply_file(req, path, lc_content_type(name), cache, download_name);
}
