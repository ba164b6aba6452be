/* Shared by the files of server/db/: each entity file owns a table of SQL text, prepared once
 * at open, and runs its statements with the connection's mutex held. Not for use outside db/. */
#ifndef LC_DB_DB_INTERNAL_H
#define LC_DB_DB_INTERNAL_H

#include <pthread.h>

#include "db/db.h"


struct lc_db_conn {
    sqlite3 *conn;
    pthread_mutex_t lock; /* every statement runs with it held */
    /* Transactions (BEGIN IMMEDIATE, COMMIT, ROLLBACK), shared by the entity files. */
    sqlite3_stmt *begin, *commit, *rollback;
};

/* The connection part of an lc_db_t, and the statements of accounts.c, registrations.c,
 * leads.c and interaction.c (each file's array, indexed by its own enum). */
struct lc_db_conn *lc_db_conn(lc_db_t *db);
sqlite3_stmt **lc_db_accounts(lc_db_t *db);
sqlite3_stmt **lc_db_regs(lc_db_t *db);
sqlite3_stmt **lc_db_leads(lc_db_t *db);
sqlite3_stmt **lc_db_ix(lc_db_t *db);

/* Prepares `n` statements (persistent). Returns 0 or LC_EDB (logged). */
int lc_db_prepare_all(struct lc_db_conn *c, const char *const *sql, int n, sqlite3_stmt **out);
/* An entity file's statements: `n` prepared into a new array (*out). 0, -ENOMEM or LC_EDB
 * (logged; nothing is left allocated). lc_db_stmts_close finalizes and frees them (NULL-safe,
 * sets *pst to NULL). */
int lc_db_stmts_open(struct lc_db_conn *c, const char *const *sql, int n, sqlite3_stmt ***out);
void lc_db_stmts_close(sqlite3_stmt ***pst, int n);

/* Steps a statement that returns no rows, then resets it and clears its bindings; a UNIQUE
 * violation is LC_ECONFLICT, another constraint -EINVAL, anything else LC_EDB (logged). */
int lc_db_step_done(struct lc_db_conn *c, sqlite3_stmt *st);
/* Ends a transaction begun with c->begin: COMMIT when rc == 0, else ROLLBACK. Returns rc (or the
 * commit's failure). */
int lc_db_end_transaction(struct lc_db_conn *c, int rc);

/* Opens / closes the statements of accounts.c, registrations.c and leads.c (called by
 * lc_db_open / lc_db_close). */
int lc_db_accounts_open(lc_db_t *db, sqlite3_stmt ***out);
void lc_db_accounts_close(sqlite3_stmt ***pst);
int lc_db_regs_open(lc_db_t *db, sqlite3_stmt ***out);
void lc_db_regs_close(sqlite3_stmt ***pst);
int lc_db_leads_open(lc_db_t *db, sqlite3_stmt ***out);
void lc_db_leads_close(sqlite3_stmt ***pst);
int lc_db_ix_open(lc_db_t *db, sqlite3_stmt ***out);
void lc_db_ix_close(sqlite3_stmt ***pst);

#endif
