/* The group-commit writer: the writes that come from many attendees at once (registrations,
 * attendance heartbeats) go through one thread with its own connection, which runs every job
 * queued meanwhile in one transaction and commits them together with one fsync
 * (synchronous=FULL). While a batch commits, the next one gathers, so throughput grows with load
 * instead of being capped by the disk's fsync rate; each job still fails or succeeds alone (a
 * savepoint per job).
 *
 * A job's life: lc_writer_submit → the writer runs `run(tx, arg)` inside the batch → COMMIT →
 * `done(opaque)` is called once, from the writer thread, without the writer's lock (it must only
 * signal, e.g. lc_req_wake, and never call lc_write_job_cancel itself) → the submitter reads
 * lc_write_job_result and the outputs its `run` left in `arg`, then releases the job. A
 * submitter that stops waiting calls lc_write_job_cancel: once it returns, `done` is not running
 * and will never be called (a queued job is then skipped; one already in a batch still
 * commits). The job owns `arg` (freed with `free_arg` at the last
 * release), so a cancelled job's `run` never touches freed memory.
 *
 * An acknowledged job (done with result 0) is durable: its transaction was committed with the
 * WAL synced to disk. */
#ifndef LC_DB_WRITER_H
#define LC_DB_WRITER_H

#include <sqlite3.h>

typedef struct lc_writer lc_writer_t;
typedef struct lc_write_job lc_write_job_t;

/* Inside a batch: the connection and a cache of statements prepared once per SQL text (the text
 * must be a string literal or otherwise live as long as the writer: it is the cache key). */
typedef struct lc_wtx lc_wtx_t;
sqlite3 *lc_wtx_conn(lc_wtx_t *tx);
/* The statement for `sql`, reset and with its bindings cleared; NULL when it does not prepare
 * (logged). */
sqlite3_stmt *lc_wtx_stmt(lc_wtx_t *tx, const char *sql);
/* Steps a statement that returns no row, then resets it: 0, LC_ECONFLICT (UNIQUE), -EINVAL
 * (another constraint) or LC_EDB (logged). */
int lc_wtx_step_done(lc_wtx_t *tx, sqlite3_stmt *st);

/* What a job does inside the transaction: 0, or a negative code (its changes are undone). */
typedef int (*lc_write_fn)(lc_wtx_t *tx, void *arg);

/* Opens a second connection to the database at `path` (already migrated by lc_db_open) and
 * starts the thread. `max_queue` bounds the jobs waiting (past it lc_writer_submit refuses with
 * LC_ELIMIT). NULL on failure (*err set). */
lc_writer_t *lc_writer_start(const char *path, int max_queue, int *err);
/* Runs what is queued, joins the thread, closes the connection. NULL-safe; sets *pw to NULL. */
void lc_writer_stop(lc_writer_t **pw);

/* Queues a job. `arg` is taken (freed with `free_arg`, which may be NULL, at the last release,
 * also when this call fails). Returns the job, or NULL with *err (LC_ELIMIT: queue full;
 * -ESHUTDOWN: stopping; -ENOMEM). */
lc_write_job_t *lc_writer_submit(lc_writer_t *w, lc_write_fn run, void *arg,
                                 void (*free_arg)(void *arg), void (*done)(void *opaque),
                                 void *opaque, int *err);
/* After the batch's COMMIT (or its failure: `result` < 0), on the writer thread and without its
 * lock, for every job that ran, also when its submitter has cancelled meanwhile, in commit
 * order and before any `done`: where a job publishes what it changed (live events), so that
 * everyone sees changes in the order the database made them. Must not block. */
typedef void (*lc_write_committed_fn)(void *arg, int result);
/* lc_writer_submit with a `committed` hook (may be NULL). */
lc_write_job_t *lc_writer_submit_ex(lc_writer_t *w, lc_write_fn run,
                                    lc_write_committed_fn committed, void *arg,
                                    void (*free_arg)(void *arg), void (*done)(void *opaque),
                                    void *opaque, int *err);
/* Queues a job nobody waits for (an attendance heartbeat): 0, or the errors of
 * lc_writer_submit. */
int lc_writer_post(lc_writer_t *w, lc_write_fn run, void *arg, void (*free_arg)(void *arg));
/* After `done`: the job's result (0 when committed), else -EINPROGRESS. */
int lc_write_job_result(lc_write_job_t *job);
/* The job's arg (for the outputs `run` wrote). */
void *lc_write_job_arg(lc_write_job_t *job);
void lc_write_job_cancel(lc_write_job_t *job);
/* Drops the submitter's reference; NULL-safe; sets *pjob to NULL. */
void lc_write_job_release(lc_write_job_t **pjob);

/* Counters for tests and benchmarks: jobs committed and batches (transactions) committed. */
void lc_writer_stats(lc_writer_t *w, long long *jobs, long long *batches);

#endif
