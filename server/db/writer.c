/* The group-commit writer (writer.h). */
#include "db/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"

/* A batch is cut at this many jobs, so one transaction never grows without bound. */
#define BATCH_MAX 4096
#define STMT_CACHE 128
/* The checkpointer copies the WAL back into the database at most this often, off the writer's
 * thread, so a COMMIT never pays for a checkpoint. */
#define CHECKPOINT_EVERY_MS 1000
/* Page cache of the writer's connection (KiB): the indexes stay in memory, no page is read back
 * or spilled in the middle of a batch. */
#define WRITER_CACHE_KIB 65536

struct lc_write_job {
    lc_write_job_t *next;
    int refs; /* the submitter's and the writer's; under w->lock */
    bool cancelled, finished;
    bool notifying; /* its `done` is being called, without the lock */
    int result;
    lc_write_fn run;
    lc_write_committed_fn committed;
    void *arg;
    void (*free_arg)(void *arg);
    void (*done)(void *opaque);
    void *opaque;
    lc_writer_t *w;
};

struct lc_wtx {
    sqlite3 *conn;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
    int n;
};

struct lc_writer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_cond_t notified; /* a batch's `done` calls are over */
    pthread_t thread;
    bool stopping;
    lc_write_job_t *head, *tail;
    int queued, max_queue;
    long long jobs_done, batches_done;
    struct lc_wtx tx;
    /* The checkpointer: its own connection and thread. */
    sqlite3 *ckpt_conn;
    pthread_cond_t ckpt_cond; /* only to wake it at stop; the writer's cond is for jobs */
    pthread_t ckpt_thread;
    bool ckpt_started;
    long long batches_at_ckpt;
};

sqlite3 *lc_wtx_conn(lc_wtx_t *tx) { return tx->conn; }

sqlite3_stmt *lc_wtx_stmt(lc_wtx_t *tx, const char *sql)
{
    for (int i = 0; i < tx->n; i++)
        if (tx->cache[i].sql == sql) {
            sqlite3_reset(tx->cache[i].st);
            sqlite3_clear_bindings(tx->cache[i].st);
            return tx->cache[i].st;
        }
    sqlite3_stmt *st = NULL;
    if (tx->n == STMT_CACHE ||
        sqlite3_prepare_v3(tx->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        LC_ERROR("db", "writer: cannot prepare %s: %s", sql,
                 tx->n == STMT_CACHE ? "cache full" : sqlite3_errmsg(tx->conn));
        sqlite3_finalize(st);
        return NULL;
    }
    tx->cache[tx->n].sql = sql;
    tx->cache[tx->n].st = st;
    tx->n++;
    return st;
}

int lc_wtx_step_done(lc_wtx_t *tx, sqlite3_stmt *st)
{
    int r = sqlite3_step(st), rc = 0;
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        int ext = sqlite3_extended_errcode(tx->conn);
        if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc = LC_ECONFLICT;
        else if ((ext & 0xff) == SQLITE_CONSTRAINT)
            rc = -EINVAL;
        else {
            LC_ERROR("db", "writer: %s: %s", sqlite3_sql(st), sqlite3_errmsg(tx->conn));
            rc = LC_EDB;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int exec(sqlite3 *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &msg) != SQLITE_OK) {
        LC_ERROR("db", "writer: %s: %s", sql, msg ? msg : sqlite3_errmsg(c));
        sqlite3_free(msg);
        return LC_EDB;
    }
    return 0;
}

/* Drops one reference; the caller holds w->lock. Returns true when the job must be freed (done
 * outside the lock: free_arg may take time). */
static bool unref_locked(lc_write_job_t *job) { return --job->refs == 0; }

static void job_free(lc_write_job_t *job)
{
    if (job->free_arg)
        job->free_arg(job->arg);
    free(job);
}

/* Steps a prepared transaction-control statement: 0 or LC_EDB (logged). */
static int control(lc_writer_t *w, const char *sql)
{
    sqlite3_stmt *st = lc_wtx_stmt(&w->tx, sql);
    if (!st)
        return LC_EDB;
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE) {
        LC_ERROR("db", "writer: %s: %s", sql, sqlite3_errmsg(w->tx.conn));
        return LC_EDB;
    }
    return 0;
}

static const char SQL_SAVEPOINT[] = "SAVEPOINT job";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO job";
static const char SQL_RELEASE[] = "RELEASE job";

/* Runs one batch: every job in its own savepoint, one COMMIT for all. */
static void run_batch(lc_writer_t *w, lc_write_job_t **jobs, int n)
{
    int rc = exec(w->tx.conn, "BEGIN IMMEDIATE");
    for (int i = 0; i < n; i++) {
        lc_write_job_t *job = jobs[i];
        if (rc < 0) {
            job->result = rc;
            continue;
        }
        pthread_mutex_lock(&w->lock);
        bool skip = job->cancelled;
        pthread_mutex_unlock(&w->lock);
        if (skip) {
            job->result = -ECANCELED;
            continue;
        }
        if (control(w, SQL_SAVEPOINT) < 0) {
            job->result = LC_EDB;
            continue;
        }
        job->result = job->run(&w->tx, job->arg);
        if (job->result < 0)
            control(w, SQL_ROLLBACK_TO);
        control(w, SQL_RELEASE);
    }
    if (rc == 0 && exec(w->tx.conn, "COMMIT") < 0) {
        exec(w->tx.conn, "ROLLBACK");
        for (int i = 0; i < n; i++)
            if (jobs[i]->result == 0)
                jobs[i]->result = LC_EDB;
    }
    /* What the jobs publish, in commit order and whether or not their submitter still waits. */
    for (int i = 0; i < n; i++)
        if (jobs[i]->committed && jobs[i]->result != -ECANCELED)
            jobs[i]->committed(jobs[i]->arg, jobs[i]->result);
    int ok = 0;
    bool notify[BATCH_MAX];
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < n; i++) {
        lc_write_job_t *job = jobs[i];
        ok += job->result == 0;
        job->finished = true;
        notify[i] = job->done && !job->cancelled;
        job->notifying = notify[i];
    }
    w->jobs_done += ok;
    w->batches_done += rc == 0;
    pthread_mutex_unlock(&w->lock);
    /* `done` runs without the writer's lock: it calls into the HTTP server (a resume), which
     * must never wait on a lock of ours. A cancel meanwhile waits for it (notifying). */
    for (int i = 0; i < n; i++)
        if (notify[i])
            jobs[i]->done(jobs[i]->opaque);
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < n; i++)
        jobs[i]->notifying = false;
    pthread_cond_broadcast(&w->notified);
    bool freeing[BATCH_MAX];
    for (int i = 0; i < n; i++)
        freeing[i] = unref_locked(jobs[i]);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < n; i++)
        if (freeing[i])
            job_free(jobs[i]);
}

static void *writer_main(void *opaque)
{
    lc_writer_t *w = opaque;
    lc_write_job_t **batch = malloc(BATCH_MAX * sizeof *batch);
    if (!batch) {
        LC_ERROR("db", "writer: out of memory");
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cond, &w->lock);
        if (!w->head) { /* stopping, and nothing left */
            pthread_mutex_unlock(&w->lock);
            break;
        }
        int n = 0;
        while (w->head && n < BATCH_MAX) {
            batch[n++] = w->head;
            w->head = w->head->next;
        }
        if (!w->head)
            w->tail = NULL;
        w->queued -= n;
        pthread_mutex_unlock(&w->lock);
        run_batch(w, batch, n);
    }
    free(batch);
    return NULL;
}

/* Passive checkpoints (they never block the writer) once a second while batches commit. The
 * writer's connection has its automatic checkpoint turned off; this thread does that work on the
 * other core. */
static void *checkpoint_main(void *opaque)
{
    lc_writer_t *w = opaque;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(CHECKPOINT_EVERY_MS % 1000) * 1000000L;
        until.tv_sec += CHECKPOINT_EVERY_MS / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->ckpt_cond, &w->lock, &until);
        if (w->stopping || w->batches_done == w->batches_at_ckpt)
            continue;
        w->batches_at_ckpt = w->batches_done;
        pthread_mutex_unlock(&w->lock);
        int log = 0, done = 0;
        int r = sqlite3_wal_checkpoint_v2(w->ckpt_conn, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                          &done);
        if (r != SQLITE_OK && r != SQLITE_BUSY)
            LC_WARN("db", "checkpoint: %s", sqlite3_errmsg(w->ckpt_conn));
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static int open_conn(const char *path, sqlite3 **out)
{
    if (sqlite3_open_v2(path, out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        LC_ERROR("db", "writer: cannot open %s: %s", path,
                 *out ? sqlite3_errmsg(*out) : "out of memory");
        return LC_EDB;
    }
    sqlite3_busy_timeout(*out, 5000);
    return 0;
}

lc_writer_t *lc_writer_start(const char *path, int max_queue, int *err)
{
    lc_writer_t *w = calloc(1, sizeof *w);
    if (!w) {
        *err = -ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_cond_init(&w->ckpt_cond, NULL);
    pthread_cond_init(&w->notified, NULL);
    w->max_queue = max_queue;
    char cache[64];
    snprintf(cache, sizeof cache, "PRAGMA cache_size = -%d", WRITER_CACHE_KIB);
    if ((*err = open_conn(path, &w->tx.conn)) < 0 || (*err = open_conn(path, &w->ckpt_conn)) < 0)
        goto fail;
    /* FULL: the WAL is synced at each commit, so an acknowledged job survives a power cut, not
     * only a crash of the process. One fsync per batch is what group commit buys. */
    if ((*err = exec(w->tx.conn, "PRAGMA synchronous = FULL")) < 0 ||
        (*err = exec(w->tx.conn, "PRAGMA foreign_keys = ON")) < 0 ||
        (*err = exec(w->tx.conn, cache)) < 0 ||
        (*err = exec(w->tx.conn, "PRAGMA wal_autocheckpoint = 0")) < 0)
        goto fail;
    if (pthread_create(&w->ckpt_thread, NULL, checkpoint_main, w) != 0) {
        *err = -EAGAIN;
        goto fail;
    }
    w->ckpt_started = true;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        *err = -EAGAIN;
        goto fail;
    }
    return w;
fail:
    if (w->ckpt_started) {
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_signal(&w->ckpt_cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->ckpt_thread, NULL);
    }
    sqlite3_close(w->ckpt_conn);
    sqlite3_close(w->tx.conn);
    pthread_cond_destroy(&w->ckpt_cond);
    pthread_cond_destroy(&w->notified);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
}

void lc_writer_stop(lc_writer_t **pw)
{
    if (!pw || !*pw)
        return;
    lc_writer_t *w = *pw;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->cond);
    pthread_cond_signal(&w->ckpt_cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_join(w->ckpt_thread, NULL);
    for (int i = 0; i < w->tx.n; i++)
        sqlite3_finalize(w->tx.cache[i].st);
    /* What the checkpointer has not copied yet is in the WAL, durable: the next open (or the
     * main connection's own checkpoint) moves it. */
    sqlite3_close(w->ckpt_conn);
    sqlite3_close(w->tx.conn);
    pthread_cond_destroy(&w->ckpt_cond);
    pthread_cond_destroy(&w->notified);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
    *pw = NULL;
}

static lc_write_job_t *submit(lc_writer_t *w, lc_write_fn run, lc_write_committed_fn committed,
                              void *arg, void (*free_arg)(void *arg),
                              void (*done)(void *opaque), void *opaque, int *err)
{
    lc_write_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        if (free_arg)
            free_arg(arg);
        *err = -ENOMEM;
        return NULL;
    }
    *job = (lc_write_job_t){.refs = done ? 2 : 1, .result = -EINPROGRESS, .run = run,
                            .committed = committed, .arg = arg,
                            .free_arg = free_arg, .done = done, .opaque = opaque, .w = w};
    pthread_mutex_lock(&w->lock);
    if (w->stopping || w->queued >= w->max_queue) {
        *err = w->stopping ? -ESHUTDOWN : LC_ELIMIT;
        pthread_mutex_unlock(&w->lock);
        job_free(job);
        return NULL;
    }
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->queued++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return job;
}

lc_write_job_t *lc_writer_submit(lc_writer_t *w, lc_write_fn run, void *arg,
                                 void (*free_arg)(void *arg), void (*done)(void *opaque),
                                 void *opaque, int *err)
{
    return submit(w, run, NULL, arg, free_arg, done, opaque, err);
}

lc_write_job_t *lc_writer_submit_ex(lc_writer_t *w, lc_write_fn run,
                                    lc_write_committed_fn committed, void *arg,
                                    void (*free_arg)(void *arg), void (*done)(void *opaque),
                                    void *opaque, int *err)
{
    return submit(w, run, committed, arg, free_arg, done, opaque, err);
}

int lc_writer_post(lc_writer_t *w, lc_write_fn run, void *arg, void (*free_arg)(void *arg))
{
    int err = 0;
    /* Without `done` the writer holds the only reference: the job is not the caller's. */
    return submit(w, run, NULL, arg, free_arg, NULL, NULL, &err) ? 0 : err;
}

int lc_write_job_result(lc_write_job_t *job)
{
    pthread_mutex_lock(&job->w->lock);
    int rc = job->finished ? job->result : -EINPROGRESS;
    pthread_mutex_unlock(&job->w->lock);
    return rc;
}

void *lc_write_job_arg(lc_write_job_t *job) { return job->arg; }

void lc_write_job_cancel(lc_write_job_t *job)
{
    lc_writer_t *w = job->w;
    pthread_mutex_lock(&w->lock);
    job->cancelled = true;
    while (job->notifying) /* `done` runs right now: once this returns it is over */
        pthread_cond_wait(&w->notified, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

void lc_write_job_release(lc_write_job_t **pjob)
{
    if (!pjob || !*pjob)
        return;
    lc_write_job_t *job = *pjob;
    pthread_mutex_lock(&job->w->lock);
    bool last = unref_locked(job);
    pthread_mutex_unlock(&job->w->lock);
    if (last)
        job_free(job);
    *pjob = NULL;
}

void lc_writer_stats(lc_writer_t *w, long long *jobs, long long *batches)
{
    pthread_mutex_lock(&w->lock);
    *jobs = w->jobs_done;
    *batches = w->batches_done;
    pthread_mutex_unlock(&w->lock);
}
