/* Wiring: start-up and shutdown order, and the hooks between modules.
 *
 * Start-up: paths → database (migrations) → recover recordings of sessions the last run left
 * live → authentication (password worker; a setup token when there is no account) → the
 * registration side (group-commit writer, waiting rooms, room password worker, the live rooms'
 * event logs and clock) → exporter
 * (resumes unfinished MP4 exports) → retention (a purge at once, then every
 * --retention-interval; it queues recording removals on the exporter) → live registry → RTMP
 * ingest → HTTP → demo.
 * Shutdown runs so that nothing is ever used after it was freed and data only flows into
 * modules that are still running: demo (its push ends cleanly) → HTTP (handlers read the live
 * registry and the database, so they stop first) → authentication and the registration side
 * (no request waits on them any more; the writer commits what is queued) → retention (a purge
 * under way ends after its current batch; before the exporter it feeds) → ingest (every
 * publisher finishes as stopped) → live (streams end, recordings are made final, sessions are
 * closed in the database and queued for export) → exporter (an export under way is abandoned
 * and resumes at the next start) → the live rooms (nothing publishes or streams any more) →
 * waiting rooms → database. */
#include "app.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/lobby.h"
#include "api/room.h"
#include "api/reg_cache.h"
#include "api/webinar_input.h"
#include "auth/auth.h"
#include "auth/kdf.h"
#include "auth/ratelimit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/writer.h"
#include "demo/demo.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "live/live.h"
#include "recorder/recorder.h"
#include "retention/retention.h"

int lc_app_paths(lc_app_t *app)
{
    int rc;
    if ((rc = lc_fmt(app->db_path, sizeof app->db_path, "%s/lectern.db", app->cfg.data_dir)) < 0 ||
        (rc = lc_fmt(app->recordings_dir, sizeof app->recordings_dir, "%s/recordings",
                     app->cfg.data_dir)) < 0) {
        LC_ERROR("app", "data directory path is too long");
        return rc;
    }
    if ((rc = lc_mkdir_p(app->recordings_dir)) < 0) {
        LC_ERROR("app", "cannot create %s: %s", app->recordings_dir, lc_strerror(rc));
        return rc;
    }
    return 0;
}

/* ---- webinars ------------------------------------------------------------------------------ */

static int new_key(char *key_out, uint8_t hash[32])
{
    /* 192 bits; base64url gives 32 characters, well inside ffmpeg's tcUrl cap */
    return lc_secret_new(24, key_out, LC_STREAM_KEY_SIZE, hash);
}

/* "Quarterly Update: Q3!" → "quarterly-update-q3-k3x9ab": readable, and unique thanks to the
 * random tail (which also keeps slugs from being guessed from titles). */
static int make_slug(const char *title, char *out, size_t size)
{
    size_t n = 0;
    bool dash = false;
    for (const char *p = title; *p && n < 40; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 0x80) {
            if (dash && n > 0)
                out[n++] = '-';
            out[n++] = (char)tolower(c);
            dash = false;
        } else {
            dash = true;
        }
    }
    if (n == 0) {
        memcpy(out, "webinar", 7);
        n = 7;
    }
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    uint8_t rnd[6];
    int rc = lc_random_bytes(rnd, sizeof rnd);
    if (rc < 0)
        return rc;
    if (n + 8 > size)
        return -ENAMETOOLONG;
    out[n++] = '-';
    for (int i = 0; i < 6; i++)
        out[n++] = alphabet[rnd[i] & 31];
    out[n] = 0;
    return 0;
}

int lc_app_create_webinar(lc_db_t *db, const lc_webinar_row_t *row, const char *slug_or_null,
                          int64_t created_by, int64_t *id_out, char *key_out)
{
    uint8_t hash[32];
    char slug[LC_DB_SLUG_MAX];
    int rc = new_key(key_out, hash);
    if (rc < 0)
        return rc;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (slug_or_null)
            rc = lc_fmt(slug, sizeof slug, "%s", slug_or_null);
        else
            rc = make_slug(row->title, slug, sizeof slug);
        if (rc < 0)
            return rc;
        rc = lc_db_webinar_insert(db, slug, row, hash, created_by, lc_now_real_ms(), id_out);
        if (rc != LC_ECONFLICT || slug_or_null)
            return rc;
    }
    return rc;
}

int lc_app_rotate_key(lc_db_t *db, int64_t webinar_id, char *key_out)
{
    uint8_t hash[32];
    int rc = new_key(key_out, hash);
    return rc < 0 ? rc : lc_db_webinar_set_key_hash(db, webinar_id, hash);
}

/* ---- hooks --------------------------------------------------------------------------------- */

static int authorize(void *opaque, const char *rtmp_app, const char *stream_key,
                     int64_t *webinar_id, char media_name[LC_MEDIA_NAME_MAX])
{
    lc_app_t *app = opaque;
    if (strcmp(rtmp_app, "live") != 0) {
        LC_WARN("app", "publish refused: unknown RTMP application (expected /live)");
        return LC_EDENIED;
    }
    uint8_t hash[32];
    lc_sha256(stream_key, strlen(stream_key), hash);
    lc_webinar_t w;
    int rc = lc_db_webinar_by_key_hash(app->db, hash, &w);
    if (rc == LC_ENOTFOUND) {
        LC_WARN("app", "publish refused: unknown stream key");
        return LC_EDENIED;
    }
    if (rc < 0)
        return rc;
    /* The live media is published under the webinar's live key, never under its public slug:
     * /live/{live_key}/ is only handed to those who may watch (api/webinars.h). */
    if (!w.live_key[0]) {
        LC_ERROR("app", "webinar %lld has no live key; publish refused", (long long)w.id);
        return LC_EDENIED;
    }
    /* A moderator's "end webinar" must not be undone by the encoder reconnecting by itself. */
    if (app->room && lc_room_recently_ended(app->room, w.id)) {
        LC_WARN("app", "webinar %lld: publish refused: a moderator ended it less than %d s ago",
                (long long)w.id, LC_ROOM_END_HOLD_MS / 1000);
        return LC_EDENIED;
    }
    *webinar_id = w.id;
    return lc_fmt(media_name, LC_MEDIA_NAME_MAX, "%s", w.live_key);
}

static int session_begin(void *opaque, int64_t webinar_id, int64_t started_real_ms,
                         int64_t *session_id)
{
    lc_app_t *app = opaque;
    int rc = lc_db_session_begin(app->db, webinar_id, started_real_ms, session_id);
    if (rc == 0) {
        LC_INFO("app", "webinar %lld: session %lld is live", (long long)webinar_id,
                (long long)*session_id);
        lc_lobby_wake(app->lobby, webinar_id); /* join pages waiting for the start */
    }
    return rc;
}

static void session_end(void *opaque, int64_t webinar_id, int64_t session_id,
                        int64_t ended_real_ms, double duration_s, bool recording_ok)
{
    lc_app_t *app = opaque;
    int rc = lc_db_session_end(app->db, session_id, ended_real_ms,
                               (int64_t)(duration_s * 1000.0 + 0.5), false);
    if (rc < 0)
        LC_ERROR("app", "session %lld: cannot mark ended: %s", (long long)session_id,
                 lc_strerror(rc));
    if (!recording_ok) {
        /* Finishing failed (disk full, I/O error): the parts on disk are intact, and recovery
         * makes a playable replay of them. If that fails too, the next start tries again. */
        double recovered = 0;
        recording_ok = lc_recording_recover(app->recordings_dir, session_id, &recovered) == 0;
        if (!recording_ok)
            LC_ERROR("app", "session %lld: the recording could not be finalized; it will be "
                            "recovered at the next start", (long long)session_id);
    }
    LC_INFO("app", "webinar %lld: session %lld ended after %.1f s%s", (long long)webinar_id,
            (long long)session_id, duration_s, recording_ok ? "; replay is available" : "");
    if (recording_ok)
        lc_exporter_queue(app->exporter, session_id);
    lc_lobby_wake(app->lobby, webinar_id); /* join pages now offer the replay */
}

static int recover_one(void *opaque, const lc_session_t *s)
{
    lc_app_t *app = opaque;
    double duration = 0;
    int rc = lc_recording_recover(app->recordings_dir, s->id, &duration);
    if (rc < 0 && rc != LC_ENOTFOUND)
        LC_ERROR("app", "session %lld: recording recovery failed: %s", (long long)s->id,
                 lc_strerror(rc));
    /* Ended at the start time plus what was recorded: the best knowledge of when it stopped. */
    int64_t dur_ms = (int64_t)(duration * 1000.0 + 0.5);
    rc = lc_db_session_end(app->db, s->id, s->started_at_ms + dur_ms, dur_ms, true);
    if (rc < 0)
        LC_ERROR("app", "session %lld: cannot mark ended: %s", (long long)s->id, lc_strerror(rc));
    else
        LC_WARN("app", "session %lld was live when the server stopped unexpectedly; recovered "
                       "%.1f s of recording", (long long)s->id, duration);
    return 0;
}

/* The list is collected first: ending a session inside the listing would write to the table
 * being read. */
typedef struct {
    lc_session_t items[64];
    int n;
} live_list_t;

static int collect_live(void *opaque, const lc_session_t *s)
{
    live_list_t *l = opaque;
    l->items[l->n++] = *s;
    return l->n == 64;
}

/* Recordings of ended sessions that are not final (finishing failed and recovery failed then
 * too): try again. A directory name is a session id. */
static void recover_unfinished(lc_app_t *app)
{
    DIR *d = opendir(app->recordings_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t id;
        lc_session_t s;
        if (lc_parse_int64(e->d_name, 1, INT64_MAX, &id) < 0 ||
            lc_recording_has_replay(app->recordings_dir, id) ||
            lc_db_session_get(app->db, id, &s) < 0 || s.live)
            continue;
        double duration = 0;
        int rc = lc_recording_recover(app->recordings_dir, id, &duration);
        if (rc == 0)
            LC_WARN("app", "session %lld: its recording was not final; recovered %.1f s",
                    (long long)id, duration);
        else if (rc != LC_ENOTFOUND)
            LC_ERROR("app", "session %lld: recording recovery failed: %s", (long long)id,
                     lc_strerror(rc));
    }
    closedir(d);
}

static int recover_sessions(lc_app_t *app)
{
    recover_unfinished(app);
    for (;;) {
        live_list_t list = {.n = 0};
        int rc = lc_db_session_list_live(app->db, collect_live, &list);
        if (rc < 0)
            return rc;
        for (int i = 0; i < list.n; i++)
            recover_one(app, &list.items[i]);
        if (list.n < 64)
            return 0;
    }
}

/* ---- start / stop -------------------------------------------------------------------------- */

/* DATA/urls.conf tells the `lectern webinar` commands, run beside the server with the same data
 * directory, which URLs the server really serves, so they print working links without being
 * given the server's flags again. It is a config file of two lines. */
static void write_urls_file(lc_app_t *app)
{
    char path[PATH_MAX + 16], text[600];
    if (lc_fmt(path, sizeof path, "%s/" LC_URLS_FILE, app->cfg.data_dir) < 0 ||
        lc_fmt(text, sizeof text, "# written by lectern serve at start-up\npublic-url = %s\n"
                                  "rtmp-url = %s\n", app->cfg.public_url, app->cfg.rtmp_url) < 0)
        return;
    int rc = lc_write_file_atomic(path, text, strlen(text), false);
    if (rc < 0)
        LC_WARN("app", "cannot write %s: %s", path, lc_strerror(rc));
}

/* Organiser accounts: the password worker, and a setup token when no account exists yet (the
 * token is printed once by main, never logged). */
static int start_auth(lc_app_t *app)
{
    lc_auth_config_t acfg;
    lc_auth_config_default(&acfg);
    acfg.session_idle_ms = app->cfg.session_idle_ms;
    acfg.session_lifetime_ms = app->cfg.session_lifetime_ms;
    int rc;
    app->auth = lc_auth_new(app->db, &acfg, &rc);
    if (!app->auth)
        return rc;
    rc = lc_auth_setup_issue(app->auth, lc_now_real_ms(), app->setup_token);
    if (rc < 0) {
        LC_ERROR("app", "cannot create the setup link: %s", lc_strerror(rc));
        return rc;
    }
    if (rc == 1)
        LC_INFO("auth", "no organiser account yet: a one-time setup link was printed on "
                        "standard output");
    return 0;
}

/* The registration side: the group-commit writer, the waiting rooms, and the worker and limits
 * for room passwords (apart from the login worker, so a crowd entering a room password at the
 * start of a webinar never delays an organiser's login). */
static int start_registration(lc_app_t *app)
{
    int rc = 0;
    app->writer = lc_writer_start(app->db_path, 100000, &rc);
    if (!app->writer)
        return rc;
    app->lobby = lc_lobby_new();
    app->reg_cache = lc_reg_cache_new(1000);
    lc_ratelimit_config_t rl;
    lc_ratelimit_config_default(&rl);
    rl.account_max = 10;                  /* tries per registration per 15 minutes */
    rl.global_max = 3000;                 /* a crowd arriving at once, per minute */
    rl.slots = 65536;
    app->room_rate = lc_ratelimit_new(&rl);
    if (!app->lobby || !app->room_rate || !app->reg_cache)
        return -ENOMEM;
    app->room_kdf = lc_kdf_start(&LC_SCRYPT_ROOM, 1024, &rc);
    if (!app->room_kdf)
        return rc;
    app->room = lc_room_start(app, &rc);
    return app->room ? 0 : rc;
}

static void queue_removal(void *opaque, int64_t session_id)
{
    lc_exporter_queue_removal(opaque, session_id);
}

void lc_app_retention_config(lc_app_t *app, lc_retention_config_t *out)
{
    *out = (lc_retention_config_t){.session_idle_ms = app->cfg.session_idle_ms,
                                   .recordings_dir = app->recordings_dir,
                                   .remove_recording = app->exporter ? queue_removal : NULL,
                                   .opaque = app->exporter};
}

/* The operator's privacy notice (--privacy-notice): read once, checked like an organiser's. */
static int load_privacy_notice(lc_app_t *app)
{
    const char *path = app->cfg.privacy_notice_file;
    size_t len = 0;
    if (!path[0])
        return 0;
    int rc = lc_read_file(path, 4 * LC_PRIVACY_NOTICE_CHARS, &app->privacy_notice, &len);
    if (rc < 0) {
        LC_ERROR("app", "--privacy-notice %s: %s", path,
                 rc == -EFBIG ? "longer than 20,000 characters" : lc_strerror(rc));
        return rc;
    }
    while (len && (app->privacy_notice[len - 1] == '\n' || app->privacy_notice[len - 1] == '\r'))
        app->privacy_notice[--len] = 0;
    if (!len || lc_utf8_invalid_at(app->privacy_notice, len) < len || strlen(app->privacy_notice) != len ||
        lc_utf8_chars(app->privacy_notice, len) > LC_PRIVACY_NOTICE_CHARS) {
        LC_ERROR("app", "--privacy-notice %s: must be UTF-8 text of 1 to 20,000 characters", path);
        return -EINVAL;
    }
    return 0;
}

int lc_app_start(lc_app_t *app)
{
    int rc;
    if ((rc = lc_app_paths(app)) < 0 || (rc = load_privacy_notice(app)) < 0)
        return rc;
    if ((rc = lc_db_open(app->db_path, &app->db)) < 0)
        goto fail;
    if ((rc = recover_sessions(app)) < 0)
        goto fail;
    if ((rc = start_auth(app)) < 0 || (rc = start_registration(app)) < 0)
        goto fail;
    app->exporter = lc_exporter_start(app->recordings_dir);
    if (!app->exporter) {
        rc = -ENOMEM;
        goto fail;
    }
    lc_retention_config_t rcfg;
    lc_app_retention_config(app, &rcfg);
    app->retention = lc_retention_start(app->db, &rcfg, app->cfg.retention_interval_ms, &rc);
    if (!app->retention)
        goto fail;

    lc_live_config_t lcfg;
    lc_live_config_default(&lcfg);
    lcfg.part_target_s = app->cfg.part_target_s;
    lcfg.segment_target_s = app->cfg.segment_target_s;
    lcfg.window_segments = app->cfg.window_segments;
    lcfg.grace_ms = app->cfg.grace_ms;
    lcfg.low_latency = app->cfg.low_latency;
    lcfg.recordings_dir = app->recordings_dir;
    lc_live_hooks_t lhooks = {.session_begin = session_begin, .session_end = session_end,
                              .opaque = app};
    app->live = lc_live_new(&lcfg, &lhooks);
    if (!app->live) {
        rc = -ENOMEM;
        goto fail;
    }

    lc_ingest_config_t icfg;
    lc_ingest_config_default(&icfg);
    icfg.listen = app->cfg.rtmp_listen;
    lc_ingest_hooks_t ihooks = {.authorize = authorize, .opaque = app};
    app->ingest = lc_ingest_start(&icfg, app->live, &ihooks, &rc);
    if (!app->ingest)
        goto fail;
    snprintf(app->rtmp_bound, sizeof app->rtmp_bound, "%s", app->cfg.rtmp_listen);
    char *colon = strrchr(app->rtmp_bound, ':');
    if (colon)
        snprintf(colon + 1, sizeof app->rtmp_bound - (size_t)(colon + 1 - app->rtmp_bound), "%d",
                 lc_ingest_port(app->ingest));

    app->http = lc_http_start(app, &rc);
    if (!app->http)
        goto fail;
    /* Printed and API URLs name the ports really bound (they differ with port 0). */
    lc_config_finish(&app->cfg, app->http_bound, app->rtmp_bound);
    write_urls_file(app);

    if (app->cfg.demo) {
        rc = lc_demo_start(app, &app->demo);
        if (rc < 0)
            goto fail;
    }
    return 0;
fail:
    lc_app_stop(app);
    return rc < 0 ? rc : -EIO;
}

void lc_app_stop(lc_app_t *app)
{
    lc_demo_stop(&app->demo);
    lc_http_stop(&app->http);
    lc_auth_free(&app->auth);
    lc_kdf_stop(&app->room_kdf);
    lc_ratelimit_free(&app->room_rate);
    lc_reg_cache_free(&app->reg_cache);
    lc_writer_stop(&app->writer);
    lc_retention_stop(&app->retention);
    lc_ingest_stop(&app->ingest);
    lc_live_free(&app->live);
    lc_exporter_stop(&app->exporter);
    /* After HTTP (streams read its logs), the writer (its commit hooks publish) and live. */
    lc_room_stop(&app->room);
    lc_lobby_free(&app->lobby); /* after live and the room: they wake join pages, read it */
    free(app->privacy_notice);
    app->privacy_notice = NULL;
    lc_db_close(&app->db);
}
