/* The one route table. Order matters only where patterns overlap (none do today). */
#include "api/webinars.h"
#include "http/http.h"
#include "http/media.h"
#include "http/pages.h"

const lc_route_t lc_routes[] = {
    {"GET", "/", lc_page_index},
    {"GET", "/watch/*", lc_page_watch},
    {"GET", "/replay/*", lc_page_replay},
    {"GET", "/static/*", lc_page_static},
    {"GET", "/favicon.ico", lc_page_favicon},
    {"GET", "/live/*/master.m3u8", lc_media_live_master},
    {"GET", "/live/*/*/*", lc_media_live_file},
    {"GET", "/vod/*/*", lc_media_vod_file},
    {"GET", "/api/webinars/*", lc_api_webinar_get},
    {"GET", "/api/sessions/*", lc_api_session_get},
    {NULL, NULL, NULL},
};
