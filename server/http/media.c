/* Live HLS from the in-memory window, and recordings from disk.
 *
 * Caching: init segments, parts and segments never change once published (their names carry
 * the session and sequence numbers), so they are public and immutable for a year; playlists
 * change with every part and are cacheable for about a part duration. An HTTP cache in front of
 * lectern can therefore fan a webinar out to any audience. */
#include "http/media.h"

#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "api/webinars.h"
#include "core/error.h"
#include "core/util.h"
#include "http/names.h"
#include "live/live.h"
#include "recorder/recorder.h"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_LIVE_PLAYLIST "public, max-age=1"
#define CACHE_RECORDING "public, max-age=3600"

static int not_found(lc_req_t *req, const char *what)
{
    return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", what);
}

int lc_media_live_master(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const char *slug = lc_req_param(req, 0);
    if (!lc_slug_valid(slug))
        return not_found(req, "no such webinar");
    lc_window_t *w = lc_live_window(app->live, slug);
    lc_buf_t *b = w ? lc_window_master_playlist(w) : NULL;
    lc_window_unref(w);
    if (!b)
        return not_found(req, "this webinar is not live");
    /* The master names the current session's media playlist, which changes when a new session
     * starts: keep it short-lived. */
    return lc_reply_buf(req, MHD_HTTP_OK, lc_content_type("x.m3u8"), b, CACHE_LIVE_PLAYLIST);
}

int lc_media_live_file(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const char *slug = lc_req_param(req, 0);
    const char *name = lc_req_param(req, 2);
    int64_t session_id, a, b;
    if (!lc_slug_valid(slug) || lc_parse_int64(lc_req_param(req, 1), 1, INT64_MAX, &session_id) < 0)
        return not_found(req, "no such stream");
    lc_name_kind_t kind = lc_parse_media_name(name, &a, &b);
    if (kind == LC_NAME_INVALID || kind == LC_NAME_DOWNLOAD || kind == LC_NAME_MASTER)
        return not_found(req, "no such file");
    lc_window_t *w = lc_live_window(app->live, slug);
    if (!w || lc_window_session_id(w) != session_id) {
        lc_window_unref(w);
        return not_found(req, "this session is not live");
    }
    lc_buf_t *buf = NULL;
    const char *cache = CACHE_IMMUTABLE;
    switch (kind) {
    case LC_NAME_PLAYLIST:
        buf = lc_window_media_playlist(w);
        cache = CACHE_LIVE_PLAYLIST;
        break;
    case LC_NAME_INIT:
        buf = a <= INT32_MAX ? lc_window_init(w, (int)a) : NULL;
        break;
    case LC_NAME_SEGMENT:
        buf = lc_window_segment(w, a);
        break;
    case LC_NAME_PART:
        buf = b <= INT32_MAX ? lc_window_part(w, a, (int)b) : NULL;
        break;
    default:
        break;
    }
    lc_window_unref(w);
    if (!buf)
        return not_found(req, "not available (not yet, or no longer)");
    return lc_reply_buf(req, MHD_HTTP_OK, lc_content_type(name), buf, cache);
}

int lc_media_vod_file(lc_req_t *req)
{
    lc_app_t *app = lc_req_app(req);
    const char *name = lc_req_param(req, 1);
    int64_t session_id, a, b;
    if (lc_parse_int64(lc_req_param(req, 0), 1, INT64_MAX, &session_id) < 0)
        return not_found(req, "no such recording");
    lc_name_kind_t kind = lc_parse_media_name(name, &a, &b);
    if (kind != LC_NAME_PLAYLIST && kind != LC_NAME_INIT && kind != LC_NAME_SEGMENT &&
        kind != LC_NAME_DOWNLOAD)
        return not_found(req, "no such file");
    lc_session_t s;
    int rc = lc_db_session_get(app->db, session_id, &s);
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
