/* The running server: the modules wired together once at start-up, and the hooks by which they
 * call each other (ingest → database for stream keys, live → database and exporter for sessions).
 * Start-up and shutdown order are written down in app.c. */
#ifndef LC_APP_H
#define LC_APP_H

#include <limits.h>
#include <stdint.h>

#include "config/config.h"
#include "db/db.h"

struct lc_live;
struct lc_ingest;
struct lc_http;
struct lc_exporter;
struct lc_demo;
struct lc_auth;
struct lc_writer;
struct lc_lobby;
struct lc_kdf;
struct lc_ratelimit;
struct lc_reg_cache;
struct lc_retention;
struct lc_retention_config;
struct lc_room;

typedef struct lc_app {
    lc_config_t cfg;
    char db_path[PATH_MAX];
    char recordings_dir[PATH_MAX];
    lc_db_t *db;
    struct lc_auth *auth;
    struct lc_writer *writer;       /* group commits: registrations, heartbeats */
    struct lc_lobby *lobby;         /* the waiting rooms, in memory */
    struct lc_kdf *room_kdf;        /* room password checks, apart from logins */
    struct lc_ratelimit *room_rate; /* room password attempts per registration */
    struct lc_reg_cache *reg_cache; /* webinars as the registration path reads them */
    struct lc_room *room;           /* live interaction: event logs, poll results, pings */
    char *privacy_notice;           /* --privacy-notice's text, or NULL: the built-in one */
    struct lc_exporter *exporter;
    struct lc_retention *retention; /* deletes expired personal data, logins, recordings */
    struct lc_live *live;
    struct lc_ingest *ingest;
    struct lc_http *http;
    struct lc_demo *demo;
    char http_bound[160]; /* actual listen addresses, after binding */
    char rtmp_bound[160];
    /* The one-time setup link's token when the server started without any account (printed
     * once on stdout by main, then wiped); "" otherwise. */
    char setup_token[48];
} lc_app_t;

/* In the data directory: the URLs the running server serves (see app.c). */
#define LC_URLS_FILE "urls.conf"

/* Derives db_path and recordings_dir from cfg->data_dir and creates the directories. Used by the
 * server and by the command-line tools. */
int lc_app_paths(lc_app_t *app);

/* Opens the database, recovers recordings of sessions the last run left live, starts the
 * organiser authentication (and, with no account yet, issues a setup token), the exporter, the
 * retention thread, live registry, RTMP ingest and HTTP server (and the demo with --demo). On
 * failure stops what was started and returns a negative code (logged). Main thread. */
int lc_app_start(lc_app_t *app);

/* Shuts down in order: demo, HTTP, authentication (its password worker), retention, ingest
 * (publishers finish), live (streams end, recordings are final, sessions are closed in the
 * database), exporter, database. Main thread. */
void lc_app_stop(lc_app_t *app);

/* What the retention purge needs (retention/retention.h), for the server and for
 * `lectern purge`: recordings are deleted through the exporter's queue when it runs, else at
 * once. */
void lc_app_retention_config(lc_app_t *app, struct lc_retention_config *out);

/* Creates a webinar from `row` (borrowed) with a fresh stream key, its slug made from the title
 * unless given. `created_by`: the organiser's user id, 0 for none. Writes the key (shown once,
 * never stored) to `key_out` (at least LC_STREAM_KEY_SIZE bytes). */
#define LC_STREAM_KEY_SIZE 48
int lc_app_create_webinar(lc_db_t *db, const lc_webinar_row_t *row, const char *slug_or_null,
                          int64_t created_by, int64_t *id_out, char *key_out);
/* Gives an existing webinar a fresh stream key (the old one stops working). */
int lc_app_rotate_key(lc_db_t *db, int64_t webinar_id, char *key_out);

#endif
