/* What organisers may set on a webinar, and the rule for each member, shared by the HTTP API
 * (POST and PATCH /api/admin/webinars) and `lectern webinar create` so both accept exactly the
 * same values. Pure: no database, no I/O; any thread. */
#ifndef LC_API_WEBINAR_INPUT_H
#define LC_API_WEBINAR_INPUT_H

#include <jansson.h>

#include "auth/password.h"
#include "db/db.h"
#include "http/body.h"

#define LC_WEBINAR_TITLE_CHARS 200
#define LC_WEBINAR_DESCRIPTION_CHARS 10000
#define LC_WEBINAR_PRESENTERS_MAX 20
#define LC_WEBINAR_PRESENTER_CHARS 100
#define LC_WEBINAR_DURATION_MIN_S 60
#define LC_WEBINAR_DURATION_MAX_S 86400
#define LC_WEBINAR_RETENTION_MAX_DAYS 3650
#define LC_ROOM_PASSWORD_MIN_CHARS 4
#define LC_ROOM_PASSWORD_MAX_CHARS 128
#define LC_WEBINAR_FORM_FIELDS_MAX 20
#define LC_FORM_FIELD_ID_MAX 32
#define LC_FORM_LABEL_CHARS 200
#define LC_FORM_OPTIONS_MAX 50
#define LC_FORM_OPTION_CHARS 100
#define LC_PRIVACY_NOTICE_CHARS 20000
#define LC_CONSENT_TEXT_CHARS 2000
#define LC_CONSENT_VERSION_CHARS 40

/* Room passwords are hashed with lighter scrypt parameters than accounts (16 MiB, some tens of
 * milliseconds, instead of 128 MiB and a few hundred): a room password is one secret shared with
 * every invited attendee, not an account credential, and it must be checked for each attendee
 * who joins, many at once when a webinar starts. Setting one happens on an HTTP thread (a rare
 * organiser action), which this cost keeps short. */
#define LC_SCRYPT_ROOM ((lc_scrypt_params_t){.n = 1u << 14, .r = 8, .p = 1})

typedef enum {
    LC_ROOM_PASSWORD_KEEP = 0,
    LC_ROOM_PASSWORD_SET,
    LC_ROOM_PASSWORD_CLEAR,
} lc_room_password_op_t;

/* A webinar as an organiser edits it. Strings are owned (lc_webinar_input_clear frees them). */
typedef struct {
    char *title;
    char *description;
    char *presenters_json; /* a JSON array of strings, compact */
    /* The registration form: a compact JSON array of {"id", "label", "type" (text, email,
     * select, checkbox), "required", "options" (select only)}; ids are [a-z0-9_], unique, not
     * "email" or "name" (every form asks those). */
    char *form_fields_json;
    char *privacy_notice; /* NULL: the server's default */
    char *consent_text;   /* NULL: the server's default */
    lc_webinar_settings_t settings;
    lc_room_password_op_t room_password_op;
    char *room_password; /* the new password in clear when op is SET; wiped by _clear */
    bool stored;            /* made by lc_webinar_input_from: an edit, not a new webinar */
    bool has_room_password; /* the stored webinar has one (KEEP keeps it) */
} lc_webinar_input_t;

/* The members a webinar body may have, all optional (for lc_json_body_parse / lc_req_json). A
 * create also needs "title", which the caller checks. */
extern const lc_json_field_t lc_webinar_fields[];

/* A new webinar's defaults: no title yet, empty description and presenters, no start time,
 * 1 hour, registration required, no waiting room or approval, attendee names hidden, replay on
 * and behind registration, personal data kept 90 days, the recording kept. */
void lc_webinar_input_defaults(lc_webinar_input_t *in);

/* Starts from a stored webinar (for a partial update). Returns 0 or -ENOMEM. */
int lc_webinar_input_from(lc_webinar_input_t *in, const lc_webinar_t *w,
                          const lc_webinar_texts_t *texts);

/* Applies the members of `body` (already checked by lc_json_body_parse against
 * lc_webinar_fields: known names, JSON types) to `in`, checking each member's rule. On a broken
 * rule returns -EINVAL with *err naming the member (422 invalid_field); `in` may then be half
 * changed and must be thrown away, which is what keeps a refused update from writing anything.
 * Text is counted in characters (code points). Setting on_demand to true clears the start time;
 * a start time on an on-demand webinar is refused. A public webinar has nobody registered, so
 * approval, the waiting room and a room password (asked through each attendee's join link) are
 * refused on it. A changed consent text without a new
 * consent_version gets the next number when the version is a number (else it is refused):
 * each stored consent must name the text that was agreed to. (A new webinar's first text keeps
 * its version.) */
int lc_webinar_input_apply(lc_webinar_input_t *in, json_t *body, lc_body_error_t *err);

/* Frees the strings (the clear password is wiped first). NULL-safe. */
void lc_webinar_input_clear(lc_webinar_input_t *in);

/* The rule for a text member `name` (a JSON string): `min`..`max` characters (code points),
 * well-formed UTF-8, no control characters but those in `allowed` ("\n\r\t" for multi-line
 * text). 0, or -EINVAL with *err (422 invalid_field naming `name`). */
int lc_input_text(const char *name, json_t *v, size_t min, size_t max, const char *allowed,
                  lc_body_error_t *err);

/* The row to write: borrows in's strings; `room_hash` is the hash to store (NULL for none). */
lc_webinar_row_t lc_webinar_input_row(const lc_webinar_input_t *in, const char *room_hash);

#endif
