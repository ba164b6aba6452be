/* The web pages and their assets, compiled into the binary from web/ (see tools/embed.c). */
#include "http/pages.h"

#include <string.h>

#include <microhttpd.h>

#include "api/webinars.h"
#include "auth/auth.h"
#include "core/embedded.h"
#include "core/util.h"

static int send_embedded(lc_req_t *req, const char *name, const char *cache)
{
    const lc_embedded_file_t *f = lc_embedded_find(lc_embedded_web, name);
    if (!f)
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
    return lc_reply_static(req, f->data, f->len, lc_content_type(f->name), cache);
}

int lc_page_index(lc_req_t *req) { return send_embedded(req, "index.html", "no-cache"); }

int lc_page_watch(lc_req_t *req)
{
    /* The page reads its slug from the URL and asks the API; an unknown slug shows a message
     * there. Still refuse what cannot be a slug. */
    if (!lc_slug_valid(lc_req_param(req, 0)))
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
    return send_embedded(req, "watch.html", "no-cache");
}

int lc_page_replay(lc_req_t *req)
{
    /* The page asks /api/replays/{key}/{session}, which checks the key; only the form of the
     * URL is checked here. */
    int64_t id;
    if (!lc_media_key_valid(lc_req_param(req, 0)) ||
        lc_parse_int64(lc_req_param(req, 1), 1, INT64_MAX, &id) < 0)
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such recording");
    return send_embedded(req, "replay.html", "no-cache");
}

int lc_page_setup(lc_req_t *req)
{
    /* The page posts the token from its URL; only its form is checked here. Never cached: the
     * URL is a secret. */
    if (!lc_token_wellformed(lc_req_param(req, 0)))
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such setup link");
    return send_embedded(req, "account.html", "no-store");
}

int lc_page_login(lc_req_t *req) { return send_embedded(req, "account.html", "no-store"); }

int lc_page_static(lc_req_t *req)
{
    const char *name = lc_req_param(req, 0);
    /* Pages are served under their own routes, not as /static/x.html. */
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".html") == 0)
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
    return send_embedded(req, name, "public, max-age=300");
}

int lc_page_favicon(lc_req_t *req) { return send_embedded(req, "icon.svg", "public, max-age=86400"); }

int lc_page_register(lc_req_t *req)
{
    if (!lc_slug_valid(lc_req_param(req, 0)))
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such webinar");
    return send_embedded(req, "register.html", "no-cache");
}

int lc_page_join(lc_req_t *req)
{
    /* The token is checked by the API the page calls; refuse what cannot be one. */
    if (!lc_token_wellformed(lc_req_param(req, 0)))
        return lc_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such join link");
    return send_embedded(req, "join.html", "no-store");
}

int lc_page_admin(lc_req_t *req) { return send_embedded(req, "admin.html", "no-store"); }

int lc_page_console(lc_req_t *req) { return send_embedded(req, "console.html", "no-store"); }
