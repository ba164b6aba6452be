/* Organisers' tools for the personal data of registrations: the exports (CSV for spreadsheets,
 * JSON), data-subject access and erasure, and the audit log that records every use of them.
 * docs/api.md has every request and answer. */
#ifndef LC_API_LEADS_H
#define LC_API_LEADS_H

#include "db/db.h"
#include "http/http.h"

/* GET /api/admin/webinars/{id}/registrations.csv and .json: every registration of the webinar,
 * streamed from a snapshot in constant memory (export.c). */
int lc_api_admin_export_csv(lc_req_t *req);
int lc_api_admin_export_json(lc_req_t *req);

/* POST /api/admin/data-subject/access {"email"}: everything stored about the address.
 * POST /api/admin/data-subject/erasure {"email"}: deletes it, keeping the counts.
 * GET /api/admin/audit?before=&after=&limit=: the audit log (privacy.c). */
int lc_api_admin_subject_access(lc_req_t *req);
int lc_api_admin_subject_erasure(lc_req_t *req);
int lc_api_admin_audit_list(lc_req_t *req);

/* How the audit log names a person without storing the address: HMAC-SHA256 of the address in
 * lower case under the server's key (server_secrets 'audit_hmac'), 64 hex digits and a NUL into
 * `out`. 0, -EINVAL (not an address of at most 254 bytes) or a database failure. */
#define LC_SUBJECT_HEX 65
int lc_api_subject_hmac(lc_db_t *db, const char *email, char out[LC_SUBJECT_HEX]);

#endif
