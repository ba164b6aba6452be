/* Registrations' personal data in the database (db/leads.h): the export cursor reads one
 * snapshot, data-subject requests find an address whatever its letter case and erase it with
 * its links and attendance while keeping the counts, the audit log lists both ways. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "db/leads.h"
#include "temp_db.h"

/* Two webinars; registrations 1-3 in the first (2 is Ada's), 4-5 in the second (4 is Ada's,
 * with another letter case); Ada watched live and on replay, and has three links. */
static lc_db_t *open_with_people(void)
{
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    temp_db_exec("INSERT INTO webinars (slug, title, stream_key_hash, created_at) VALUES "
             "('one', 'One', randomblob(32), 1), ('two', 'Two', randomblob(32), 1);"
             "INSERT INTO registrations (id, webinar_id, email, name, consent_version, "
             "consent_at, state, created_at, last_activity) VALUES "
             "(1, 1, 'x@example.com', 'X', '1', 1, 'approved', 1, 1),"
             "(2, 1, 'Ada@Example.com', 'Ada', '1', 1, 'approved', 1, 1),"
             "(3, 1, 'y@example.com', 'Y', '1', 1, 'approved', 1, 1),"
             "(4, 2, 'ada@example.COM', 'Ada L.', '2', 1, 'pending', 1, 1),"
             "(5, 2, 'z@example.com', 'Z', '1', 1, 'approved', 1, 1);"
             "INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds) "
             "VALUES (2, 'live', 10, 20, 120), (2, 'replay', 30, 40, 15), (4, 'replay', 50, 60, "
             "45), (1, 'live', 10, 20, 999);"
             "INSERT INTO join_links (token_hash, registration_id, created_at) VALUES "
             "(randomblob(32), 2, 1), (randomblob(32), 2, 2), (randomblob(32), 4, 1), "
             "(randomblob(32), 1, 1);");
    return db;
}

static void test_cursor_reads_one_snapshot(void **state)
{
    (void)state;
    lc_db_t *db = open_with_people();
    int64_t count = -1;
    int err = 0;
    lc_reg_cursor_t *c = lc_reg_cursor_open(temp_db_path, 1, &count, &err);
    assert_non_null(c);
    assert_int_equal(count, 3);
    /* Written after the export began (and one deleted): not part of it. */
    temp_db_exec("INSERT INTO registrations (webinar_id, email, name, consent_version, consent_at, "
             "state, created_at, last_activity) VALUES (1, 'late@example.com', 'Late', '1', 1, "
             "'approved', 1, 1); DELETE FROM registrations WHERE id = 3;");
    lc_reg_row_t row;
    int64_t ids[4] = {0};
    int n = 0, rc;
    while ((rc = lc_reg_cursor_next(c, &row)) == 1) {
        assert_true(n < 4);
        ids[n++] = row.id;
        if (row.id == 2) {
            assert_string_equal(row.email, "Ada@Example.com");
            assert_int_equal(row.seconds_live, 120);
            assert_int_equal(row.seconds_replay, 15);
            assert_true(row.attended_live);
        }
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3);
    assert_true(ids[0] == 1 && ids[1] == 2 && ids[2] == 3);
    assert_int_equal(lc_reg_cursor_next(c, &row), 0);
    lc_reg_cursor_close(&c);
    assert_null(c);
    lc_reg_cursor_close(&c); /* NULL-safe */
    /* A read-only cursor cannot create a database. */
    assert_null(lc_reg_cursor_open("/nonexistent/dir/x.db", 1, &count, &err));
    assert_int_equal(err, LC_EDB);
    lc_db_close(&db);
}

typedef struct {
    int64_t regs[8], links[8], stretches[8];
    int nregs, nstretches;
} seen_t;

static int on_reg(void *opaque, const lc_subject_reg_t *r)
{
    seen_t *s = opaque;
    s->regs[s->nregs] = r->reg.id;
    s->links[s->nregs++] = r->join_links;
    assert_string_equal(r->webinar_slug, r->reg.webinar_id == 1 ? "one" : "two");
    return 0;
}

static int on_stretch(void *opaque, const lc_attendance_t *a)
{
    seen_t *s = opaque;
    s->stretches[s->nstretches++] = a->registration_id * 1000 + a->seconds + (a->replay ? 1 : 0);
    return 0;
}

static void test_subject_access_and_erasure(void **state)
{
    (void)state;
    lc_db_t *db = open_with_people();
    seen_t s = {0};
    assert_int_equal(lc_db_subject_list(db, "ADA@example.com", on_reg, on_stretch, &s), 0);
    assert_int_equal(s.nregs, 2);
    assert_true(s.regs[0] == 2 && s.regs[1] == 4);
    assert_true(s.links[0] == 2 && s.links[1] == 1);
    assert_int_equal(s.nstretches, 3);
    assert_true(s.stretches[0] == 2120 && s.stretches[1] == 2016 && s.stretches[2] == 4046);

    lc_erased_t e;
    assert_int_equal(lc_db_subject_erase(db, "ada@EXAMPLE.com", &e), 0);
    assert_true(e.registrations == 2 && e.webinars == 2 && e.join_links == 3 &&
                e.attendance == 3);
    assert_int_equal(temp_db_int("SELECT count(*) FROM registrations"), 3);
    assert_int_equal(temp_db_int("SELECT count(*) FROM join_links"), 1);
    assert_int_equal(temp_db_int("SELECT count(*) FROM attendance"), 1);
    assert_int_equal(temp_db_int("SELECT registrations * 1000000 + attended_live * 10000 + "
                               "seconds_live * 10 + seconds_replay FROM webinar_stats "
                               "WHERE webinar_id = 1"),
                     1000000 + 10000 + 1200 + 15);
    assert_int_equal(temp_db_int("SELECT registrations * 1000000 + attended_live * 10000 + "
                               "seconds_live * 10 + seconds_replay FROM webinar_stats "
                               "WHERE webinar_id = 2"),
                     1000000 + 45);
    /* Again: nothing, and the counts are not added twice. */
    assert_int_equal(lc_db_subject_erase(db, "ada@example.com", &e), 0);
    assert_int_equal(e.registrations + e.join_links + e.attendance + e.webinars, 0);
    assert_int_equal(temp_db_int("SELECT sum(registrations) FROM webinar_stats"), 2);
    memset(&s, 0, sizeof s);
    assert_int_equal(lc_db_subject_list(db, "ada@example.com", on_reg, on_stretch, &s), 0);
    assert_int_equal(s.nregs + s.nstretches, 0);
    lc_db_close(&db);
}

static int on_audit(void *opaque, const lc_audit_row_t *r)
{
    int64_t *ids = opaque;
    ids[++ids[0]] = r->id;
    assert_string_equal(r->e.action, "export_csv");
    return 0;
}

static void test_audit_list_both_ways(void **state)
{
    (void)state;
    lc_db_t *db = NULL;
    assert_int_equal(lc_db_open(temp_db_path, &db), 0);
    for (int i = 0; i < 5; i++) {
        lc_audit_entry_t e = {.at_ms = i, .user_id = 1, .action = "export_csv", .records = i};
        assert_int_equal(lc_db_audit_add(db, &e), 0);
    }
    int64_t ids[8] = {0};
    assert_int_equal(lc_db_audit_list(db, 0, -1, 3, on_audit, ids), 0);
    assert_true(ids[0] == 3 && ids[1] == 5 && ids[2] == 4 && ids[3] == 3);
    memset(ids, 0, sizeof ids);
    assert_int_equal(lc_db_audit_list(db, 3, -1, 10, on_audit, ids), 0);
    assert_true(ids[0] == 2 && ids[1] == 2 && ids[2] == 1);
    memset(ids, 0, sizeof ids);
    assert_int_equal(lc_db_audit_list(db, 0, 0, 2, on_audit, ids), 0);
    assert_true(ids[0] == 2 && ids[1] == 1 && ids[2] == 2);
    memset(ids, 0, sizeof ids);
    assert_int_equal(lc_db_audit_list(db, 0, 4, 10, on_audit, ids), 0);
    assert_true(ids[0] == 1 && ids[1] == 5);
    uint8_t key[64];
    size_t len = 0;
    assert_int_equal(lc_db_secret_get(db, "audit_hmac", key, sizeof key, &len), 0);
    assert_int_equal(len, 32);
    assert_int_equal(lc_db_secret_get(db, "audit_hmac", key, 16, &len), -ENOSPC);
    assert_int_equal(lc_db_secret_get(db, "nope", key, sizeof key, &len), LC_ENOTFOUND);
    lc_db_close(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEMP_DB_TEST(test_cursor_reads_one_snapshot),
        TEMP_DB_TEST(test_subject_access_and_erasure),
        TEMP_DB_TEST(test_audit_list_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
