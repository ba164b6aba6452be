/* Handlers for media: the live HLS window (/live/...) and recordings on disk (/vod/...), each
 * under one of the webinar's media keys (api/webinars.h). URL layout in docs/urls.md. */
#ifndef LC_HTTP_MEDIA_H
#define LC_HTTP_MEDIA_H

#include "http/http.h"

int lc_media_live_master(lc_req_t *req); /* GET /live/{live_key}/master.m3u8 */
int lc_media_live_file(lc_req_t *req);   /* GET /live/{live_key}/{session}/{file} */
int lc_media_vod_file(lc_req_t *req);    /* GET /vod/{replay_key}/{session}/{file} */

#endif
