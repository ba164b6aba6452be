/* The migration runner and the webinar/session statements. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "db/db.h"
#include "temp_db.h"

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
                       -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_step(st);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

#define SQL(s) (const unsigned char *)(s), sizeof(s) - 1

/* Inserts a webinar with the default settings. */
static int ins(lc_db_t *db, const char *slug, const char *title, const uint8_t hash[32],
               int64_t now, int64_t *id)
{
    lc_webinar_row_t row = {.title = title,
                            .settings = {.starts_at_ms = LC_DB_NO_TIME,
                                         .duration_s = 3600,
                                         .hide_attendee_names = true,
                                         .replay_enabled = true,
                                         .replay_requires_registration = true,
                                         .retention_days = 90}};
    return lc_db_webinar_insert(db, slug, &row, hash, 0, now, id);
}

static void test_migrations_apply_in_order_and_once(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(temp_db_path, &db), SQLITE_OK);
    const lc_embedded_file_t two[] = {
        {"0001_a.sql", SQL("CREATE TABLE a (x INTEGER);")},
        {"0002_b.sql", SQL("CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);")},
        {NULL, NULL, 0},
    };
    assert_int_equal(lc_db_migrate(db, two), 0);
    assert_int_equal(user_version(db), 2);
    assert_true(table_exists(db, "a") && table_exists(db, "b"));
    /* Running again applies nothing: the insert would otherwise add a second row. */
    assert_int_equal(lc_db_migrate(db, two), 0);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM a", -1, &st, NULL);
    sqlite3_step(st);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_failing_migration_rolls_back_whole(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(temp_db_path, &db), SQLITE_OK);
    const lc_embedded_file_t bad[] = {
        {"0001_a.sql", SQL("CREATE TABLE a (x INTEGER);")},
        {"0002_b.sql", SQL("CREATE TABLE b (y INTEGER); THIS IS NOT SQL;")},
        {NULL, NULL, 0},
    };
    assert_true(lc_db_migrate(db, bad) < 0);
    assert_int_equal(user_version(db), 1);
    assert_int_equal(table_exists(db, "a"), 1);
    assert_int_equal(table_exists(db, "b"), 0); /* the half of 0002 that worked is gone too */
    sqlite3_close(db);
}

static void test_bad_tables_and_newer_database_refused(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(temp_db_path, &db), SQLITE_OK);
    const lc_embedded_file_t gap[] = {
        {"0001_a.sql", SQL("CREATE TABLE a (x);")},
        {"0003_c.sql", SQL("CREATE TABLE c (x);")},
        {NULL, NULL, 0},
    };
    assert_int_equal(lc_db_migrate(db, gap), -EINVAL);
    assert_int_equal(table_exists(db, "a"), 0); /* validated before anything runs */
    const lc_embedded_file_t badname[] = {{"1_a.sql", SQL("CREATE TABLE a (x);")}, {NULL, NULL, 0}};
    assert_int_equal(lc_db_migrate(db, badname), -EINVAL);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    const lc_embedded_file_t one[] = {{"0001_a.sql", SQL("CREATE TABLE a (x);")}, {NULL, NULL, 0}};
    assert_int_equal(lc_db_migrate(db, one), -EPROTO);
    sqlite3_close(db);
}

static void test_open_sets_wal_fk_and_schema(void **state)
{
    (void)state;
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    lc_db_close(&db);
    assert_null(db);
    lc_db_close(&db); /* NULL-safe */
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(temp_db_path, &raw), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL);
    sqlite3_step(st);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_true(user_version(raw) >= 1);
    assert_int_equal(table_exists(raw, "webinars"), 1);
    assert_int_equal(table_exists(raw, "sessions"), 1);
    sqlite3_close(raw);
}

static void test_webinars_and_sessions(void **state)
{
    (void)state;
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    uint8_t h1[32], h2[32];
    memset(h1, 1, 32);
    memset(h2, 2, 32);
    int64_t id1, id2;
    assert_int_equal(ins(db, "one-aaaaaa", "One", h1, 1000, &id1), 0);
    assert_int_equal(ins(db, "one-aaaaaa", "Dup slug", h2, 1000, &id2),
                     LC_ECONFLICT);
    assert_int_equal(ins(db, "two-bbbbbb", "Dup key", h1, 1000, &id2),
                     LC_ECONFLICT);
    assert_int_equal(ins(db, "two-bbbbbb", "", h2, 1000, &id2), -EINVAL);
    char longtitle[300];
    memset(longtitle, 'x', sizeof longtitle - 1);
    longtitle[299] = 0;
    assert_int_equal(ins(db, "two-bbbbbb", longtitle, h2, 1000, &id2), -EINVAL);
    assert_int_equal(ins(db, "two-bbbbbb", "Two", h2, 2000, &id2), 0);

    lc_webinar_t w;
    assert_int_equal(lc_db_webinar_by_key_hash(db, h2, &w), 0);
    assert_int_equal(w.id, id2);
    assert_string_equal(w.slug, "two-bbbbbb");
    assert_int_equal(w.state, LC_WEBINAR_SCHEDULED);
    uint8_t h3[32];
    memset(h3, 3, 32);
    assert_int_equal(lc_db_webinar_by_key_hash(db, h3, &w), LC_ENOTFOUND);
    assert_int_equal(lc_db_webinar_set_key_hash(db, id2, h3), 0);
    assert_int_equal(lc_db_webinar_by_key_hash(db, h2, &w), LC_ENOTFOUND);
    assert_int_equal(lc_db_webinar_by_key_hash(db, h3, &w), 0);
    assert_int_equal(lc_db_webinar_by_slug(db, "one-aaaaaa", &w), 0);
    assert_string_equal(w.title, "One");
    assert_int_equal(lc_db_webinar_get(db, 999, &w), LC_ENOTFOUND);

    int64_t s1, s2;
    assert_int_equal(lc_db_session_begin(db, 999, 5000, &s1), LC_ENOTFOUND);
    assert_int_equal(lc_db_session_begin(db, id1, 5000, &s1), 0);
    assert_int_equal(lc_db_webinar_get(db, id1, &w), 0);
    assert_int_equal(w.state, LC_WEBINAR_LIVE);
    assert_int_equal(lc_db_session_begin(db, id1, 6000, &s2), 0);
    /* Ending one of two live sessions keeps the webinar live. */
    assert_int_equal(lc_db_session_end(db, s1, 9000, 4000, false), 0);
    assert_int_equal(lc_db_webinar_get(db, id1, &w), 0);
    assert_int_equal(w.state, LC_WEBINAR_LIVE);
    assert_int_equal(lc_db_session_end(db, s1, 9000, 4000, false), LC_ENOTFOUND);
    assert_int_equal(lc_db_session_end(db, s2, 9500, 3500, true), 0);
    assert_int_equal(lc_db_webinar_get(db, id1, &w), 0);
    assert_int_equal(w.state, LC_WEBINAR_ENDED);
    lc_session_t s;
    assert_int_equal(lc_db_session_get(db, s2, &s), 0);
    assert_false(s.live);
    assert_true(s.recovered);
    assert_int_equal(s.duration_ms, 3500);
    assert_int_equal(s.ended_at_ms, 9500);
    /* A session with its webinar: what /vod/ checks the URL's replay key against. */
    lc_webinar_t one;
    assert_int_equal(lc_db_webinar_get(db, id1, &one), 0);
    memset(&s, 0, sizeof s);
    memset(&w, 0, sizeof w);
    assert_int_equal(lc_db_session_get_with_webinar(db, s2, &s, &w), 0);
    assert_int_equal(s.id, s2);
    assert_int_equal(w.id, id1);
    assert_string_equal(w.replay_key, one.replay_key);
    assert_int_equal(strlen(w.replay_key), 32);
    assert_int_equal(strlen(w.live_key), 32);
    assert_string_not_equal(w.live_key, w.replay_key);
    assert_int_equal(lc_db_session_get_with_webinar(db, 999, &s, &w), LC_ENOTFOUND);
    lc_db_close(&db);
}

static int count_cb(void *opaque, const lc_session_t *s)
{
    (void)s;
    (*(int *)opaque)++;
    return 0;
}

static void test_live_sessions_listed_for_recovery(void **state)
{
    (void)state;
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    uint8_t h[32];
    memset(h, 9, 32);
    int64_t wid, s1, s2;
    assert_int_equal(ins(db, "x-cccccc", "X", h, 1, &wid), 0);
    assert_int_equal(lc_db_session_begin(db, wid, 10, &s1), 0);
    assert_int_equal(lc_db_session_begin(db, wid, 20, &s2), 0);
    assert_int_equal(lc_db_session_end(db, s1, 30, 20, false), 0);
    lc_db_close(&db);
    /* A new process sees what the old one left live. */
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    int n = 0;
    assert_int_equal(lc_db_session_list_live(db, count_cb, &n), 0);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(lc_db_session_list(db, wid, count_cb, &n), 0);
    assert_int_equal(n, 2);
    lc_db_close(&db);
}

/* A webinar made before 0003 gets every setting's default, and its updated_at. */
static void test_existing_webinars_migrate_with_defaults(void **state)
{
    (void)state;
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(temp_db_path, &raw), SQLITE_OK);
    lc_embedded_file_t first_two[3] = {lc_embedded_migrations[0], lc_embedded_migrations[1],
                                       {NULL, NULL, 0}};
    assert_string_equal(lc_embedded_migrations[2].name, "0003_webinar_settings.sql");
    assert_int_equal(lc_db_migrate(raw, first_two), 0);
    assert_int_equal(sqlite3_exec(raw,
                                  "INSERT INTO webinars (slug, title, stream_key_hash, created_at)"
                                  " VALUES ('old-aaaaaa', 'Old', zeroblob(32), 1234)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    lc_webinar_t w;
    assert_int_equal(lc_db_webinar_by_slug(db, "old-aaaaaa", &w), 0);
    assert_int_equal(w.settings.starts_at_ms, LC_DB_NO_TIME);
    assert_int_equal(w.settings.duration_s, 3600);
    assert_false(w.settings.on_demand);
    assert_false(w.settings.public_access);
    assert_false(w.settings.waiting_room);
    assert_false(w.settings.approval);
    assert_false(w.has_room_password);
    assert_true(w.settings.hide_attendee_names);
    assert_true(w.settings.replay_enabled);
    assert_true(w.settings.replay_requires_registration);
    assert_int_equal(w.settings.retention_days, 90);
    assert_int_equal(w.settings.recording_retention_days, 0);
    assert_int_equal(w.updated_at_ms, 1234);
    assert_int_equal(w.created_by, 0);
    lc_webinar_texts_t t;
    assert_int_equal(lc_db_webinar_texts(db, w.id, &t), 0);
    assert_string_equal(t.description, "");
    assert_string_equal(t.presenters_json, "[]");
    assert_null(t.room_password_hash);
    lc_webinar_texts_clear(&t);
    lc_webinar_texts_clear(&t); /* idempotent */
    lc_db_close(&db);
}

/* Updates write the whole row or nothing, and lose nobody's edit; a live webinar stays. */
static void test_webinar_update_and_delete(void **state)
{
    (void)state;
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    uint8_t h[32];
    memset(h, 7, 32);
    int64_t id, sid;
    assert_int_equal(ins(db, "u-aaaaaa", "U", h, 100, &id), 0);
    lc_webinar_row_t row = {.title = "Renamed <b>",
                            .description = "'; DROP TABLE webinars; --",
                            .presenters_json = "[\"Ada\",\"Grace\"]",
                            .room_password_hash = "scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2g",
                            .settings = {.starts_at_ms = 1800000000000,
                                         .duration_s = 60,
                                         .public_access = true,
                                         .waiting_room = true,
                                         .approval = true,
                                         .replay_enabled = false,
                                         .retention_days = 3650,
                                         .recording_retention_days = 1}};
    /* Someone else changed it since updated_at 99 was read: nothing is written. */
    assert_int_equal(lc_db_webinar_update(db, id, &row, 99, 200), LC_ECONFLICT);
    assert_int_equal(lc_db_webinar_update(db, 999, &row, 100, 200), LC_ENOTFOUND);
    lc_webinar_t w;
    assert_int_equal(lc_db_webinar_get(db, id, &w), 0);
    assert_string_equal(w.title, "U");
    assert_int_equal(lc_db_webinar_update(db, id, &row, 100, 200), 0);
    assert_int_equal(lc_db_webinar_get(db, id, &w), 0);
    assert_string_equal(w.title, "Renamed <b>");
    assert_int_equal(w.settings.starts_at_ms, 1800000000000);
    assert_int_equal(w.settings.duration_s, 60);
    assert_true(w.settings.public_access && w.settings.waiting_room && w.settings.approval);
    assert_false(w.settings.replay_enabled);
    assert_true(w.has_room_password);
    assert_int_equal(w.settings.retention_days, 3650);
    assert_int_equal(w.settings.recording_retention_days, 1);
    assert_int_equal(w.updated_at_ms, 200);
    lc_webinar_texts_t t;
    assert_int_equal(lc_db_webinar_texts(db, id, &t), 0);
    assert_string_equal(t.description, "'; DROP TABLE webinars; --");
    assert_string_equal(t.presenters_json, "[\"Ada\",\"Grace\"]");
    lc_webinar_texts_clear(&t);
    /* The schema's own bounds hold even if the API's were bypassed. */
    row.settings.on_demand = true; /* with a start time */
    assert_int_equal(lc_db_webinar_update(db, id, &row, 200, 300), -EINVAL);
    row.settings.on_demand = false;
    row.settings.duration_s = 59;
    assert_int_equal(lc_db_webinar_update(db, id, &row, 200, 300), -EINVAL);
    row.settings.duration_s = 60;
    row.presenters_json = "{}";
    assert_int_equal(lc_db_webinar_update(db, id, &row, 200, 300), -EINVAL);
    assert_int_equal(lc_db_webinar_get(db, id, &w), 0);
    assert_int_equal(w.updated_at_ms, 200);

    assert_int_equal(lc_db_session_begin(db, id, 1000, &sid), 0);
    assert_int_equal(lc_db_webinar_delete(db, id), LC_ECONFLICT);
    assert_int_equal(lc_db_session_end(db, sid, 2000, 1000, false), 0);
    assert_int_equal(lc_db_webinar_delete(db, id), 0);
    assert_int_equal(lc_db_webinar_get(db, id, &w), LC_ENOTFOUND);
    assert_int_equal(lc_db_session_get(db, sid, &(lc_session_t){0}), LC_ENOTFOUND);
    assert_int_equal(lc_db_webinar_delete(db, id), LC_ENOTFOUND);
    lc_db_close(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEMP_DB_TEST(test_migrations_apply_in_order_and_once),
        TEMP_DB_TEST(test_failing_migration_rolls_back_whole),
        TEMP_DB_TEST(test_bad_tables_and_newer_database_refused),
        TEMP_DB_TEST(test_open_sets_wal_fk_and_schema),
        TEMP_DB_TEST(test_webinars_and_sessions),
        TEMP_DB_TEST(test_live_sessions_listed_for_recovery),
        TEMP_DB_TEST(test_existing_webinars_migrate_with_defaults),
        TEMP_DB_TEST(test_webinar_update_and_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
