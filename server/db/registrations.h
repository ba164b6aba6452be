/* Registrations (leads), their join links, admission and attendance (migrations/0004). The
 * writes that arrive from many attendees at once are jobs for the group-commit writer
 * (db/writer.h); an organiser's decisions run on the main connection. */
#ifndef LC_DB_REGISTRATIONS_H
#define LC_DB_REGISTRATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "db/writer.h"

typedef enum { LC_REG_PENDING = 0, LC_REG_APPROVED, LC_REG_REJECTED } lc_reg_state_t;
const char *lc_reg_state_name(lc_reg_state_t s);
/* 0 and *out for "pending", "approved" or "rejected"; -EINVAL otherwise. */
int lc_reg_state_parse(const char *s, lc_reg_state_t *out);

/* At most this many links made by registering again are kept per registration (the oldest go);
 * the first registration's own link always stays. */
#define LC_REG_REPEAT_LINKS_MAX 10

/* A registration to write (a writer job's arg; lc_reg_new_free frees it and its strings).
 * Strings are owned; the optional ones may be NULL. */
typedef struct {
    int64_t webinar_id;
    char *email, *name, *answers_json, *consent_version;
    char *utm_source, *utm_medium, *utm_campaign, *referrer;
    bool approval; /* the webinar approves registrations by hand */
    uint8_t token_hash[32];
    int64_t now_ms;
    /* written by the job */
    int64_t registration_id;
    bool repeat; /* the email was registered already: only a link was added */
} lc_reg_new_t;

void lc_reg_new_free(void *arg);
/* The writer job: inserts the registration, or (same webinar, same email in any letter case)
 * keeps the existing one untouched and adds a link to it, pending when `approval`. */
int lc_db_reg_write(lc_wtx_t *tx, void *arg);

/* An attendance heartbeat (a writer job's arg; plain struct, free() it). */
typedef struct {
    int64_t registration_id;
    bool replay;
    int64_t now_ms;
} lc_heartbeat_t;

/* Heartbeats at most this far apart continue one stretch of attendance; each adds the time
 * since the previous one, up to this much. */
#define LC_HEARTBEAT_GAP_MS 120000
#define LC_HEARTBEAT_CREDIT_MS 60000

/* The writer job: extends the registration's current stretch of this mode or starts one. */
int lc_db_heartbeat_write(lc_wtx_t *tx, void *arg);

/* What a join link opens. */
typedef struct {
    int64_t registration_id;
    int64_t webinar_id;
    lc_reg_state_t state;
    bool link_pending; /* a repeat registration's link not yet approved */
    bool admitted;     /* waiting room */
    bool password_ok;  /* the room password was given through this registration */
} lc_join_t;

/* The registration behind a join link's token hash: 0, LC_ENOTFOUND or LC_EDB. */
int lc_db_join_get(lc_db_t *db, const uint8_t token_hash[32], lc_join_t *out);
/* Remembers that the room password was given (and touches last_activity). */
int lc_db_reg_password_ok(lc_db_t *db, int64_t registration_id, int64_t now_ms);

/* Approves or rejects registrations of a webinar by id (others' ids are ignored). Approving also
 * approves their pending links; rejecting an approved registration rejects only its pending
 * links (a repeat registration), rejecting a pending one rejects it. *changed counts the
 * registrations touched. One transaction. */
int lc_db_reg_decide(lc_db_t *db, int64_t webinar_id, const int64_t *ids, size_t n, bool approve,
                     int64_t now_ms, int *changed);
/* Admits attendees of a webinar from the waiting room (sets admitted_at where unset). */
int lc_db_reg_admit(lc_db_t *db, int64_t webinar_id, const int64_t *ids, size_t n,
                    int64_t now_ms, int *changed);
/* "Admit everyone from now on" on or off. */
int lc_db_webinar_set_admit_all(lc_db_t *db, int64_t webinar_id, bool on);

/* One registration as organisers see it; the strings are borrowed from the statement and valid
 * only during the callback. Optional ones are NULL when absent. */
typedef struct {
    int64_t id;
    int64_t webinar_id;
    const char *email, *name, *answers_json, *consent_version;
    const char *utm_source, *utm_medium, *utm_campaign, *referrer;
    lc_reg_state_t state;
    int pending_links;
    int64_t consent_at_ms, created_at_ms, decided_at_ms, admitted_at_ms; /* 0: never */
    int64_t seconds_live, seconds_replay;
    bool attended_live;
    int64_t first_joined_ms, last_seen_ms; /* 0: never watched */
} lc_reg_row_t;

/* Whole minutes of watching, rounded to the nearest (what exports and lists show). */
static inline int64_t lc_reg_minutes(int64_t seconds) { return (seconds + 30) / 60; }

/* The columns and joins that lc_db_reg_read reads (for statements on other connections, such
 * as the streamed export): "SELECT " LC_REG_COLS " FROM " LC_REG_FROM " WHERE ...". */
#define LC_REG_COLS                                                                            \
    "r.id, r.webinar_id, r.email, r.name, r.answers, r.consent_version, r.utm_source, "         \
    "r.utm_medium, r.utm_campaign, r.referrer, r.state, "                                       \
    "(SELECT count(*) FROM join_links l WHERE l.registration_id = r.id AND l.pending = 1), "    \
    "r.consent_at, r.created_at, r.decided_at, r.admitted_at, "                                 \
    "(SELECT coalesce(sum(seconds), 0) FROM attendance a WHERE a.registration_id = r.id AND "   \
    "a.mode = 'live'), "                                                                        \
    "(SELECT coalesce(sum(seconds), 0) FROM attendance a WHERE a.registration_id = r.id AND "   \
    "a.mode = 'replay'), "                                                                      \
    "EXISTS (SELECT 1 FROM attendance a WHERE a.registration_id = r.id AND a.mode = 'live'), "  \
    "(SELECT min(joined_at) FROM attendance a WHERE a.registration_id = r.id), "                \
    "(SELECT max(last_seen_at) FROM attendance a WHERE a.registration_id = r.id)"
#define LC_REG_FROM "registrations r"
void lc_db_reg_read(sqlite3_stmt *st, lc_reg_row_t *out);

/* Lists a webinar's registrations in id order after `after_id`, at most `limit`, optionally
 * only those in `state` (NULL: all). See db.h on listing callbacks. */
int lc_db_reg_list(lc_db_t *db, int64_t webinar_id, const lc_reg_state_t *state,
                   int64_t after_id, int limit, int (*cb)(void *opaque, const lc_reg_row_t *r),
                   void *opaque);
/* One registration of a webinar (callback as above, called once): 0 or LC_ENOTFOUND. */
int lc_db_reg_get(lc_db_t *db, int64_t webinar_id, int64_t id,
                  int (*cb)(void *opaque, const lc_reg_row_t *r), void *opaque);
/* Counts per state. */
int lc_db_reg_counts(lc_db_t *db, int64_t webinar_id, int64_t *pending, int64_t *approved,
                     int64_t *rejected);

/* A webinar's registration form (its form_fields JSON) into *out (free() it): 0,
 * LC_ENOTFOUND, -ENOMEM or LC_EDB. Lighter than lc_db_webinar_texts for the hot path. */
int lc_db_webinar_form(lc_db_t *db, int64_t webinar_id, char **out);

/* The audit log: who viewed, exported or erased personal data. `action` is one of the names
 * the schema allows (migrations/0004); `subject` is NULL or an HMAC, never an address. */
typedef struct {
    int64_t at_ms;
    int64_t user_id; /* 0: the server itself (retention) */
    const char *user_email;
    const char *action;
    int64_t webinar_id; /* 0: none */
    const char *subject;
    int64_t records;
} lc_audit_entry_t;
int lc_db_audit_add(lc_db_t *db, const lc_audit_entry_t *e);

#endif
