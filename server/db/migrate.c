/* The migration runner: applies numbered SQL files in order, each in one transaction together
 * with the new PRAGMA user_version, so a database is always at exactly one known version. */
#include "db/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

/* "0003_add_polls.sql" → 3; -1 when the name is not NNNN_name.sql. */
static int migration_number(const char *name)
{
    size_t n = strlen(name);
    if (n < 10 || name[4] != '_' || strcmp(name + n - 4, ".sql") != 0)
        return -1;
    char digits[5];
    memcpy(digits, name, 4);
    digits[4] = 0;
    int64_t v;
    if (lc_parse_int64(digits, 1, 9999, &v) < 0)
        return -1;
    return (int)v;
}

static int exec(sqlite3 *db, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        LC_ERROR("db", "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int lc_db_migrate(sqlite3 *db, const lc_embedded_file_t *migrations)
{
    int latest = 0;
    for (const lc_embedded_file_t *m = migrations; m->name; m++) {
        int num = migration_number(m->name);
        if (num != latest + 1) {
            LC_ERROR("db", "migration %s: expected number %04d (names are NNNN_name.sql, "
                           "numbered without gaps)", m->name, latest + 1);
            return -EINVAL;
        }
        latest = num;
    }

    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0) {
        LC_ERROR("db", "cannot read the schema version: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    if (version > latest) {
        LC_ERROR("db", "the database has schema version %d but this lectern knows only %d: "
                       "it was written by a newer lectern", version, latest);
        return -EPROTO;
    }

    for (const lc_embedded_file_t *m = migrations; m->name; m++) {
        int num = migration_number(m->name);
        if (num <= version)
            continue;
        /* IMMEDIATE: take the write lock up front so a concurrent start-up of another process
         * waits (busy timeout) instead of failing half-way. */
        if (exec(db, "BEGIN IMMEDIATE", m->name) < 0)
            return -EIO;
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", num);
        if (exec(db, (const char *)m->data, m->name) < 0 || exec(db, pragma, m->name) < 0) {
            exec(db, "ROLLBACK", "rollback");
            return -EIO;
        }
        if (exec(db, "COMMIT", m->name) < 0) {
            exec(db, "ROLLBACK", "rollback");
            return -EIO;
        }
        LC_INFO("db", "applied migration %s", m->name);
    }
    return 0;
}
