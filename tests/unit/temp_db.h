/* Test helper: a fresh temporary directory and a database path in it for each test, removed
 * afterwards (with SQLite's -wal and -shm files). Register tests with TEMP_DB_TEST(test).
 * Header-only. */
#ifndef TESTS_UNIT_TEMP_DB_H
#define TESTS_UNIT_TEMP_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define TEMP_DB_TEST(t) cmocka_unit_test_setup_teardown(t, temp_db_setup, temp_db_teardown)

#endif
