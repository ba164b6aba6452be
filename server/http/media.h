/* Handlers for media: the live HLS window (/live/...) and recordings on disk (/vod/...).
 * URL layout in docs/urls.md. */
#ifndef LC_HTTP_MEDIA_H
#define LC_HTTP_MEDIA_H

#include "http/http.h"

int lc_media_live_master(lc_req_t *req); /* GET /live/{slug}/master.m3u8 */
int lc_media_live_file(lc_req_t *req);   /* GET /live/{slug}/{session}/{file} */
int lc_media_vod_file(lc_req_t *req);    /* GET /vod/{session}/{file} */

#endif
