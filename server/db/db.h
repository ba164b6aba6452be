/* The database: one SQLite file (WAL mode, foreign keys on), its schema applied by the migration
 * runner at open, and one function per statement. Every SQL string of the program lives in
 * server/db/; every statement is prepared once with bound parameters.
 *
 * Threads: an lc_db_t may be used from any thread; calls are serialized by a mutex inside (each
 * is a short indexed read or a single small transaction). Several processes (the server and the
 * `lectern webinar` commands) may open the same file at once. */
#ifndef LC_DB_DB_H
#define LC_DB_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/embedded.h"

typedef struct lc_db lc_db_t;

#define LC_DB_SLUG_MAX 64
#define LC_DB_TITLE_MAX 801 /* 200 characters of up to 4 bytes and the NUL */

/* Opens (creating if needed) the database at `path`, applies pending migrations. Returns 0 and
 * *out, or a negative code (the reason was logged). */
int lc_db_open(const char *path, lc_db_t **out);
/* Closes the database. NULL-safe; sets *pdb to NULL. */
void lc_db_close(lc_db_t **pdb);

/* Applies `migrations` (an embedded table of "NNNN_name.sql", numbered 1, 2, 3... in order)
 * beyond the database's PRAGMA user_version, each in its own transaction that also sets
 * user_version. Refuses a database newer than the program (-EPROTO) and a table with gaps or bad
 * names (-EINVAL). Returns 0 or a negative code; a failing migration is rolled back whole. */
int lc_db_migrate(sqlite3 *db, const lc_embedded_file_t *migrations);

typedef enum { LC_WEBINAR_SCHEDULED, LC_WEBINAR_LIVE, LC_WEBINAR_ENDED } lc_webinar_state_t;
const char *lc_webinar_state_name(lc_webinar_state_t s);

/* What an organiser sets on a webinar besides its texts (migrations/0003_webinar_settings.sql
 * has the bounds). */
typedef struct {
    int64_t starts_at_ms; /* UTC; LC_DB_NO_TIME for none (on-demand) */
    int32_t duration_s;
    bool on_demand;
    bool public_access; /* access 'public'; else 'registration' */
    bool waiting_room;
    bool approval;
    bool hide_attendee_names;
    bool questions_public; /* attendees see (and upvote) each other's questions */
    bool chat_enabled;
    bool replay_enabled;
    bool replay_requires_registration;
    int32_t retention_days;
    int32_t recording_retention_days; /* 0: keep the recording */
    char consent_version[161];        /* up to 40 characters; "" on input means "1" */
} lc_webinar_settings_t;

#define LC_DB_NO_TIME INT64_MIN
#define LC_DB_MEDIA_KEY_MAX 33 /* 32 lowercase hex digits and the NUL */

typedef struct {
    int64_t id;
    char slug[LC_DB_SLUG_MAX];
    char title[LC_DB_TITLE_MAX];
    lc_webinar_state_t state;
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t created_by; /* user id, 0 when none */
    bool has_room_password;
    bool admit_all; /* waiting room: everyone is let straight in from now on */
    /* The names of its media (migrations/0004): /live/{live_key}/, /vod/{replay_key}/. */
    char live_key[LC_DB_MEDIA_KEY_MAX];
    char replay_key[LC_DB_MEDIA_KEY_MAX];
    lc_webinar_settings_t settings;
} lc_webinar_t;

/* A webinar's long texts, read apart from lc_webinar_t so that rows stay small and copyable:
 * description (up to 10,000 characters) and presenters (a JSON array of strings, as text). Both
 * are owned by the struct; lc_webinar_texts_clear frees them (NULL-safe, idempotent). */
typedef struct {
    char *description;
    char *presenters_json;
    char *room_password_hash; /* NULL when the room has no password */
    char *form_fields_json;   /* the registration form: a JSON array (webinar_input.h) */
    char *privacy_notice;     /* NULL: the server's default */
    char *consent_text;       /* NULL: the server's default */
} lc_webinar_texts_t;

void lc_webinar_texts_clear(lc_webinar_texts_t *t);

/* Everything written by an insert or an update (borrowed strings). room_password_hash NULL: no
 * password. */
typedef struct {
    const char *title;
    const char *description;
    const char *presenters_json;
    const char *room_password_hash;
    const char *form_fields_json; /* NULL: no custom fields */
    const char *privacy_notice;   /* NULL or "": the server's default */
    const char *consent_text;     /* NULL or "": the server's default */
    lc_webinar_settings_t settings;
} lc_webinar_row_t;

typedef struct {
    int64_t id;
    int64_t webinar_id;
    bool live;
    int64_t started_at_ms;
    int64_t ended_at_ms;  /* 0 while live */
    int64_t duration_ms;  /* 0 while live */
    bool recovered;
} lc_session_t;

/* Inserts a webinar. `created_by`: the organiser's user id, 0 for none. Returns 0 and *id,
 * LC_ECONFLICT when the slug or key hash exists, -EINVAL for a value the schema refuses, or
 * LC_EDB. */
int lc_db_webinar_insert(lc_db_t *db, const char *slug, const lc_webinar_row_t *row,
                         const uint8_t key_hash[32], int64_t created_by, int64_t now_ms,
                         int64_t *id);
/* Replaces every editable column of webinar `id` by `row`, provided its updated_at is still
 * `expect_updated_ms` (what the caller read before deciding the new values: a concurrent edit
 * in between makes this LC_ECONFLICT instead of being overwritten); updated_at becomes
 * `new_updated_ms`. One statement: all or nothing. 0, LC_ENOTFOUND, LC_ECONFLICT, -EINVAL (the
 * schema refused a value) or LC_EDB. */
int lc_db_webinar_update(lc_db_t *db, int64_t id, const lc_webinar_row_t *row,
                         int64_t expect_updated_ms, int64_t new_updated_ms);
/* The long texts of webinar `id` into *out (free with lc_webinar_texts_clear). 0,
 * LC_ENOTFOUND, -ENOMEM or LC_EDB. */
int lc_db_webinar_texts(lc_db_t *db, int64_t id, lc_webinar_texts_t *out);
/* Deletes a webinar and (cascade) its sessions, unless it is live (LC_ECONFLICT). 0,
 * LC_ENOTFOUND or LC_EDB. Files on disk are the caller's business. */
int lc_db_webinar_delete(lc_db_t *db, int64_t id);
/* Replaces a webinar's stream key hash (key rotation). */
int lc_db_webinar_set_key_hash(lc_db_t *db, int64_t id, const uint8_t key_hash[32]);
/* Lookups: 0 and *out, LC_ENOTFOUND, or LC_EDB. */
int lc_db_webinar_get(lc_db_t *db, int64_t id, lc_webinar_t *out);
int lc_db_webinar_by_slug(lc_db_t *db, const char *slug, lc_webinar_t *out);
/* Finds the webinar whose key hash equals `key_hash`; the stored hash is compared to the given
 * one in constant time after the indexed lookup. */
int lc_db_webinar_by_key_hash(lc_db_t *db, const uint8_t key_hash[32], lc_webinar_t *out);

/* Listing functions call `cb` once per row with the connection's mutex held: the callback must
 * only copy what it needs and never call back into the database (that would deadlock).
 * Lists webinars, newest first; stop early by returning non-zero. */
int lc_db_webinar_list(lc_db_t *db, int (*cb)(void *opaque, const lc_webinar_t *w), void *opaque);

/* Starts a session (state live) and marks the webinar live, in one transaction. */
int lc_db_session_begin(lc_db_t *db, int64_t webinar_id, int64_t started_at_ms, int64_t *id);
/* Ends a live session and marks the webinar ended unless another session of it is live. */
int lc_db_session_end(lc_db_t *db, int64_t session_id, int64_t ended_at_ms, int64_t duration_ms,
                      bool recovered);
int lc_db_session_get(lc_db_t *db, int64_t id, lc_session_t *out);
/* A session and the webinar it belongs to, both read under one hold of the connection's lock
 * (what the media handlers check a URL's key against): 0, LC_ENOTFOUND (no such session) or
 * LC_EDB. */
int lc_db_session_get_with_webinar(lc_db_t *db, int64_t id, lc_session_t *s, lc_webinar_t *w);
/* The sessions of a webinar, oldest first. */
int lc_db_session_list(lc_db_t *db, int64_t webinar_id,
                       int (*cb)(void *opaque, const lc_session_t *s), void *opaque);
/* Every session still marked live (at start-up: the server died during them). */
int lc_db_session_list_live(lc_db_t *db, int (*cb)(void *opaque, const lc_session_t *s),
                            void *opaque);

/* ---- organiser accounts (accounts.c) -------------------------------------------------------- */

#define LC_DB_EMAIL_MAX 255 /* 254 bytes and the NUL */
#define LC_DB_TOKEN_MAX 44  /* a 32-byte secret in base64url (43 characters) and the NUL */
#define LC_DB_HASH_MAX 256  /* an encoded password hash and its NUL */

typedef struct {
    int64_t id;
    char email[LC_DB_EMAIL_MAX];
    int64_t created_at_ms;
} lc_user_t;

/* Inserts an account. Returns 0 and *id, LC_ECONFLICT when the email exists (in any letter
 * case), -EINVAL for values out of bounds, or LC_EDB. */
int lc_db_user_insert(lc_db_t *db, const char *email, const char *password_hash, int64_t now_ms,
                      int64_t *id);
/* Finds an account by email, case-insensitively; `hash_out` (LC_DB_HASH_MAX bytes, or NULL)
 * receives the stored password hash. 0, LC_ENOTFOUND or LC_EDB. */
int lc_db_user_by_email(lc_db_t *db, const char *email, lc_user_t *out, char *hash_out);
int lc_db_user_get(lc_db_t *db, int64_t id, lc_user_t *out);
/* Replaces an account's password hash (a rehash with stronger parameters). */
int lc_db_user_set_password(lc_db_t *db, int64_t id, const char *password_hash);
/* Deletes an account and (cascade) its sessions. 0 or LC_ENOTFOUND. */
int lc_db_user_delete(lc_db_t *db, int64_t id);
int lc_db_user_count(lc_db_t *db, int64_t *count);
/* Every account, oldest first (see the note on listing callbacks above). */
int lc_db_user_list(lc_db_t *db, int (*cb)(void *opaque, const lc_user_t *u), void *opaque);

/* A login session, with its account's email. */
typedef struct {
    int64_t id;
    int64_t user_id;
    char email[LC_DB_EMAIL_MAX];
    char csrf_token[LC_DB_TOKEN_MAX];
    int64_t created_at_ms;
    int64_t last_seen_ms;
    int64_t expires_at_ms; /* the absolute end */
} lc_auth_session_t;

int lc_db_auth_session_insert(lc_db_t *db, const uint8_t token_hash[32], int64_t user_id,
                              const char *csrf_token, int64_t now_ms, int64_t expires_at_ms);
/* The session whose token hashes to `token_hash`: 0, LC_ENOTFOUND or LC_EDB. */
int lc_db_auth_session_get(lc_db_t *db, const uint8_t token_hash[32], lc_auth_session_t *out);
int lc_db_auth_session_touch(lc_db_t *db, int64_t id, int64_t now_ms);
/* Deletes a session (logout, expiry). 0 or LC_ENOTFOUND. */
int lc_db_auth_session_delete(lc_db_t *db, const uint8_t token_hash[32]);
/* Deletes every session past its absolute end or last seen before `idle_before_ms`; with
 * `dry_run` only counts them. *n (may be NULL): how many. */
int lc_db_auth_session_purge(lc_db_t *db, int64_t now_ms, int64_t idle_before_ms, bool dry_run,
                             int64_t *n);

/* Setup links (one-time tokens that create the first account). Replaces every existing token by
 * this one (only the newest printed link works). */
int lc_db_setup_token_replace(lc_db_t *db, const uint8_t token_hash[32], int64_t now_ms,
                              int64_t expires_at_ms);
/* Deletes every setup token (an account exists: no link may create another). */
int lc_db_setup_token_clear(lc_db_t *db);
/* 0 when the token exists, is unused and unexpired, else LC_ENOTFOUND (or LC_EDB). */
int lc_db_setup_token_check(lc_db_t *db, const uint8_t token_hash[32], int64_t now_ms);
/* In one transaction: refuses (LC_ECONFLICT) when any account exists, marks the token used
 * (LC_ENOTFOUND when it is not valid) and inserts the first account. */
int lc_db_setup_complete(lc_db_t *db, const uint8_t token_hash[32], const char *email,
                         const char *password_hash, int64_t now_ms, int64_t *user_id);

#endif
