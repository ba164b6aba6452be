/* Handlers for the web pages: /, /watch/{slug}, /replay/{replay_key}/{session}, /setup/{token},
 * /login, /static/{file}. */
#ifndef LC_HTTP_PAGES_H
#define LC_HTTP_PAGES_H

#include "http/http.h"

int lc_page_index(lc_req_t *req);
int lc_page_watch(lc_req_t *req);
int lc_page_replay(lc_req_t *req);
int lc_page_static(lc_req_t *req);
/* The organiser's account page: the first account's form (/setup/{token}) or the login form. */
int lc_page_setup(lc_req_t *req);
int lc_page_login(lc_req_t *req);
/* Browsers ask for /favicon.ico on their own: answer with the icon instead of a 404. */
int lc_page_favicon(lc_req_t *req);

/* /w/{slug}: the registration page; /j/{token}: an attendee's join page (countdown, waiting
 * room, room password, player); /admin and /admin/...: the organiser pages. */
int lc_page_register(lc_req_t *req);
int lc_page_join(lc_req_t *req);
int lc_page_admin(lc_req_t *req);
/* GET /console/{webinar id}: the presenter and moderator console (it asks the API for a session). */
int lc_page_console(lc_req_t *req);

#endif
