/* The organiser account endpoints: login, logout, who am I, and the first account's setup.
 * Requests and answers are in docs/api.md. */
#ifndef LC_API_ACCOUNTS_H
#define LC_API_ACCOUNTS_H

#include "http/http.h"

/* POST /api/login {email, password} → 200 {user, csrf_token} and the session cookie. */
int lc_api_login(lc_req_t *req);
/* POST /api/logout (organiser, CSRF) → 204, the session ended and its cookie cleared. */
int lc_api_logout(lc_req_t *req);
/* GET /api/me (organiser) → 200 {user, csrf_token}. */
int lc_api_me(lc_req_t *req);
/* POST /api/setup {token, email, password} → 201 {user, csrf_token} and the session cookie. */
int lc_api_setup(lc_req_t *req);

#endif
