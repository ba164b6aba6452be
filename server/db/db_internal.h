/* Shared by the files of server/db/: each entity file owns a table of SQL text, prepared once
 * at open, and runs its statements with the connection's mutex held. Not for use outside db/. */
#ifndef LC_DB_DB_INTERNAL_H
#define LC_DB_DB_INTERNAL_H

#include <pthread.h>

#include "db/db.h"

struct lc_db_accounts;
struct lc_db_regs;

struct lc_db_conn {
    sqlite3 *conn;
    pthread_mutex_t lock; /* every statement runs with it held */
    /* Transactions (BEGIN IMMEDIATE, COMMIT, ROLLBACK), shared by the entity files. */
    sqlite3_stmt *begin, *commit, *rollback;
};

/* The connection part of an lc_db_t, and the statements of accounts.c. */
struct lc_db_conn *lc_db_conn(lc_db_t *db);
struct lc_db_accounts *lc_db_accounts(lc_db_t *db);
/* The statements of registrations.c. */
struct lc_db_regs *lc_db_regs(lc_db_t *db);

/* Prepares `n` statements (persistent). Returns 0 or LC_EDB (logged). */
int lc_db_prepare_all(struct lc_db_conn *c, const char *const *sql, int n, sqlite3_stmt **out);

/* Steps a statement that returns no rows, then resets it and clears its bindings; a UNIQUE
 * violation is LC_ECONFLICT, another constraint -EINVAL, anything else LC_EDB (logged). */
int lc_db_step_done(struct lc_db_conn *c, sqlite3_stmt *st);
/* Ends a transaction begun with c->begin: COMMIT when rc == 0, else ROLLBACK. Returns rc (or the
 * commit's failure). */
int lc_db_end_transaction(struct lc_db_conn *c, int rc);

/* Opens / closes the statement set of accounts.c (called by lc_db_open / lc_db_close). */
int lc_db_accounts_open(lc_db_t *db, struct lc_db_accounts **out);
void lc_db_accounts_close(struct lc_db_accounts **pa);

#endif
