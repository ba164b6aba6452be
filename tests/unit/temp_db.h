/* Test helper: a fresh temporary directory and a database path in it for each test, removed
 * afterwards (with SQLite's -wal and -shm files). Register tests with TEMP_DB_TEST(test).
 * temp_db_exec / temp_db_int run SQL on that database over a connection of their own (for
 * rows no API writes, and checks no API reads). Header-only; include it after cmocka.h. */
#ifndef TESTS_UNIT_TEMP_DB_H
#define TESTS_UNIT_TEMP_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

static char temp_db_dir[64];
static char temp_db_path[128]; /* TEMP_DIR/t.db */

static __attribute__((unused)) int temp_db_setup(void **state)
{
    (void)state;
    strcpy(temp_db_dir, "/tmp/lectern-test-db-XXXXXX");
    if (!mkdtemp(temp_db_dir))
        return -1;
    snprintf(temp_db_path, sizeof temp_db_path, "%s/t.db", temp_db_dir);
    return 0;
}

static __attribute__((unused)) int temp_db_teardown(void **state)
{
    (void)state;
    char p[160];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", temp_db_path, sfx[i]);
        unlink(p);
    }
    rmdir(temp_db_dir);
    return 0;
}

/* Runs `sql` (several statements) on the test's database; fails the test on an error. */
static __attribute__((unused)) void temp_db_exec(const char *sql)
{
    sqlite3 *c;
    assert_int_equal(sqlite3_open(temp_db_path, &c), SQLITE_OK);
    sqlite3_busy_timeout(c, 5000);
    char *err = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(c);
}

/* The first column of the first row of `sql`, as an integer. */
static __attribute__((unused)) int64_t temp_db_int(const char *sql)
{
    sqlite3 *c;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(temp_db_path, &c), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(c);
    return v;
}

#define TEMP_DB_TEST(t) cmocka_unit_test_setup_teardown(t, temp_db_setup, temp_db_teardown)

#endif
