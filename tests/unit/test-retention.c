/* The retention rule (when a registration's personal data expires) and the purge that applies
 * it to a database: batches, dry runs, the counts kept in webinar_stats, the audit entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "db/db.h"
#include "retention/retention.h"
#include "temp_db.h"

#define NOW 1800000000000LL /* 2027-01-15 */
#define HOUR 3600000LL

static lc_retention_webinar_t scheduled(int64_t starts_at_ms, int32_t days)
{
    return (lc_retention_webinar_t){.webinar_id = 1, .starts_at_ms = starts_at_ms,
                                    .duration_s = 3600, .retention_days = days};
}

static void test_the_later_of_the_end_and_the_last_activity_counts(void **state)
{
    (void)state;
    lc_retention_webinar_t w = scheduled(NOW, 90);
    int64_t end = NOW + HOUR, keep = 90 * LC_DAY_MS;
    /* Registered long before the webinar: from its end. */
    assert_true(lc_retention_expires_at(&w, NOW - 30 * LC_DAY_MS) == end + keep);
    /* Watched the replay after it: from that. */
    assert_true(lc_retention_expires_at(&w, end + 5 * LC_DAY_MS) == end + 5 * LC_DAY_MS + keep);
    /* It ran, and ended later than planned: from the real end. */
    w.last_ended_ms = end + 2 * HOUR;
    assert_true(lc_retention_expires_at(&w, NOW - LC_DAY_MS) == end + 2 * HOUR + keep);
    /* A test run long before the date it is scheduled for does not end it. */
    w = scheduled(NOW + 30 * LC_DAY_MS, 1);
    w.last_ended_ms = NOW - 100 * LC_DAY_MS;
    assert_true(lc_retention_expires_at(&w, NOW - 200 * LC_DAY_MS) ==
                NOW + 30 * LC_DAY_MS + HOUR + LC_DAY_MS);
    /* No date, but it ran: from the run's end. */
    w = scheduled(LC_DB_NO_TIME, 10);
    w.last_ended_ms = NOW;
    assert_true(lc_retention_expires_at(&w, 0) == NOW + 10 * LC_DAY_MS);
}

static void test_no_end_means_no_expiry(void **state)
{
    (void)state;
    /* Live now: its end is not known yet, whatever the schedule said. */
    lc_retention_webinar_t w = scheduled(NOW - 400 * LC_DAY_MS, 1);
    w.live = true;
    w.last_ended_ms = NOW - 300 * LC_DAY_MS;
    assert_true(lc_retention_expires_at(&w, 0) == LC_RETENTION_NEVER);
    assert_true(lc_retention_cutoff(&w, NOW) == LC_RETENTION_NONE);
    /* Never ran and has no date. */
    w = scheduled(LC_DB_NO_TIME, 1);
    assert_true(lc_retention_expires_at(&w, 0) == LC_RETENTION_NEVER);
    assert_true(lc_retention_cutoff(&w, NOW) == LC_RETENTION_NONE);
}

static void test_on_demand_counts_only_the_last_activity(void **state)
{
    (void)state;
    lc_retention_webinar_t w = {.on_demand = true, .starts_at_ms = LC_DB_NO_TIME,
                                .retention_days = 30, .last_ended_ms = NOW, .live = true};
    assert_true(lc_retention_expires_at(&w, NOW - 40 * LC_DAY_MS) == NOW - 10 * LC_DAY_MS);
    assert_true(lc_retention_cutoff(&w, NOW) == NOW - 30 * LC_DAY_MS);
}

/* The cutoff is the rule per webinar: exactly the registrations that expired by now. */
static void test_cutoff_agrees_with_the_rule(void **state)
{
    (void)state;
    const int64_t starts[] = {LC_DB_NO_TIME, NOW - 200 * LC_DAY_MS, NOW - 91 * LC_DAY_MS,
                              NOW - 90 * LC_DAY_MS - HOUR, NOW - 89 * LC_DAY_MS, NOW + LC_DAY_MS};
    const int64_t ended[] = {0, NOW - 95 * LC_DAY_MS, NOW - 90 * LC_DAY_MS, NOW - LC_DAY_MS};
    for (size_t a = 0; a < sizeof starts / sizeof starts[0]; a++)
        for (size_t b = 0; b < sizeof ended / sizeof ended[0]; b++)
            for (int flags = 0; flags < 4; flags++) {
                lc_retention_webinar_t w = scheduled(starts[a], 90);
                w.last_ended_ms = ended[b];
                w.on_demand = flags & 1;
                w.live = flags & 2;
                int64_t cutoff = lc_retention_cutoff(&w, NOW);
                for (int64_t la = NOW - 200 * LC_DAY_MS; la <= NOW; la += LC_DAY_MS / 4) {
                    bool expired = lc_retention_expires_at(&w, la) <= NOW;
                    assert_int_equal(expired, cutoff != LC_RETENTION_NONE && la <= cutoff);
                }
                /* The boundary itself: expired at exactly retention_days. */
                if (cutoff != LC_RETENTION_NONE) {
                    assert_true(lc_retention_expires_at(&w, cutoff) <= NOW);
                    assert_true(lc_retention_expires_at(&w, cutoff + 1) > NOW);
                }
            }
}

/* ---- the purge on a database ---------------------------------------------------------------- */

static int64_t insert_webinar(lc_db_t *db, const char *slug, int64_t starts_at_ms)
{
    uint8_t hash[32];
    memset(hash, slug[0], sizeof hash);
    lc_webinar_row_t row = {.title = slug,
                            .settings = {.starts_at_ms = starts_at_ms, .duration_s = 3600,
                                         .retention_days = 90}};
    int64_t id = 0;
    assert_int_equal(lc_db_webinar_insert(db, slug, &row, hash, 0, NOW, &id), 0);
    return id;
}

static void test_purge_in_batches_keeps_counts(void **state)
{
    (void)state;
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    int64_t old = insert_webinar(db, "old", NOW - 200 * LC_DAY_MS);
    int64_t soon = insert_webinar(db, "soon", NOW + LC_DAY_MS);
    char sql[2048];
    /* 1,234 expired registrations (more than two batches), 10 active ones, 5 of a webinar to
     * come; 100 of the expired watched live for 60 s and on replay for 30 s. */
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1249) "
             "INSERT INTO registrations (webinar_id, email, name, consent_version, consent_at, "
             "state, created_at, last_activity) SELECT CASE WHEN i > 1244 THEN %lld ELSE %lld "
             "END, 'p' || i || '@example.com', 'P', '1', 1, 'approved', 1, CASE WHEN i > 1234 "
             "THEN %lld ELSE 1 END FROM k;"
             "INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds) "
             "SELECT id, 'live', 1, 2, 60 FROM registrations WHERE id <= 100 UNION ALL "
             "SELECT id, 'replay', 1, 2, 30 FROM registrations WHERE id <= 100;"
             "INSERT INTO join_links (token_hash, registration_id, created_at) "
             "SELECT randomblob(32), id, 1 FROM registrations;"
             "INSERT INTO users (email, password_hash, created_at) VALUES ('o@example.com', "
             "'scrypt$xxxxxxxxxxxxxxxxxxxx', 1);"
             "INSERT INTO auth_sessions (token_hash, user_id, csrf_token, created_at, "
             "last_seen_at, expires_at) VALUES (randomblob(32), 1, substr(hex(zeroblob(22)), 1, "
             "43), 1, 1, 2), (randomblob(32), 1, substr(hex(zeroblob(22)), 1, 43), 1, %lld, "
             "%lld);",
             (long long)soon, (long long)old, (long long)(NOW - LC_DAY_MS),
             (long long)(NOW - 1000), (long long)(NOW + LC_DAY_MS));
    temp_db_exec(sql);
    lc_retention_config_t cfg = {.session_idle_ms = 3600000, .recordings_dir = temp_db_dir};
    lc_purge_counts_t n;
    assert_int_equal(lc_retention_purge(db, &cfg, NOW, true, &n), 0);
    assert_int_equal(n.registrations, 1234);
    assert_int_equal(n.webinars, 1);
    assert_int_equal(n.login_sessions, 1);
    assert_int_equal(n.recordings, 0);
    assert_int_equal(temp_db_int("SELECT count(*) FROM registrations"), 1249);

    assert_int_equal(lc_retention_purge(db, &cfg, NOW, false, &n), 0);
    assert_int_equal(n.registrations, 1234);
    assert_int_equal(n.login_sessions, 1);
    assert_int_equal(temp_db_int("SELECT count(*) FROM registrations"), 15);
    assert_int_equal(temp_db_int("SELECT count(*) FROM join_links"), 15);
    assert_int_equal(temp_db_int("SELECT count(*) FROM attendance"), 0);
    assert_int_equal(temp_db_int("SELECT count(*) FROM auth_sessions"), 1);
    snprintf(sql, sizeof sql,
             "SELECT registrations * 1000000000 + attended_live * 1000000 + seconds_live * 10 "
             "+ seconds_replay / 3000 FROM webinar_stats WHERE webinar_id = %lld",
             (long long)old);
    assert_int_equal(temp_db_int(sql), 1234LL * 1000000000 + 100 * 1000000 + 6000 * 10 + 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) * 1000000 + sum(records) + sum(user_id IS NULL) * 10000 FROM "
             "audit_log WHERE action = 'retention_purge' AND webinar_id = %lld", (long long)old);
    assert_int_equal(temp_db_int(sql), 1 * 1000000 + 1234 + 1 * 10000);

    /* Nothing left to do: a second purge deletes and records nothing. */
    assert_int_equal(lc_retention_purge(db, &cfg, NOW, false, &n), 0);
    assert_int_equal(n.registrations + n.login_sessions + n.recordings, 0);
    assert_int_equal(temp_db_int("SELECT count(*) FROM audit_log"), 1);
    lc_db_close(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_later_of_the_end_and_the_last_activity_counts),
        cmocka_unit_test(test_no_end_means_no_expiry),
        cmocka_unit_test(test_on_demand_counts_only_the_last_activity),
        cmocka_unit_test(test_cutoff_agrees_with_the_rule),
        TEMP_DB_TEST(test_purge_in_batches_keeps_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
