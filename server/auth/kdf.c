/* One worker thread and a bounded queue of password jobs. */
#include "auth/kdf.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

struct lc_kdf_job {
    lc_kdf_job_t *next; /* in the queue, under the worker's mutex */
    /* Under the job's own mutex (it outlives the worker when a submitter holds it longer). */
    pthread_mutex_t mu;
    int refs;
    bool cancelled, finished;
    void (*done)(void *opaque);
    void *opaque;
    int result;
    /* Input, owned by the job; the password is wiped once used. */
    bool verify;
    char *password;
    size_t password_len;
    char encoded[LC_PASSWORD_HASH_MAX]; /* verify: the stored hash */
    char hash[LC_PASSWORD_HASH_MAX];    /* output: the new hash, "" when none */
};

struct lc_kdf {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    lc_kdf_job_t *head, *tail;
    int queued, max_jobs;
    bool stopping;
    pthread_t thread;
    lc_scrypt_params_t params;
};

static void wipe_password(lc_kdf_job_t *job)
{
    if (job->password) {
        OPENSSL_cleanse(job->password, job->password_len);
        free(job->password);
        job->password = NULL;
    }
}

void lc_kdf_job_release(lc_kdf_job_t **pjob)
{
    if (!pjob || !*pjob)
        return;
    lc_kdf_job_t *job = *pjob;
    *pjob = NULL;
    pthread_mutex_lock(&job->mu);
    bool last = --job->refs == 0;
    pthread_mutex_unlock(&job->mu);
    if (!last)
        return;
    wipe_password(job);
    OPENSSL_cleanse(job->hash, sizeof job->hash);
    pthread_mutex_destroy(&job->mu);
    free(job);
}

/* Records the result and tells the submitter, unless it stopped waiting. */
static void finish(lc_kdf_job_t *job, int result)
{
    pthread_mutex_lock(&job->mu);
    job->result = result;
    job->finished = true;
    if (!job->cancelled && job->done)
        job->done(job->opaque);
    pthread_mutex_unlock(&job->mu);
}

static int run(const lc_kdf_t *k, lc_kdf_job_t *job)
{
    if (!job->verify)
        return lc_password_hash(job->password, job->password_len, &k->params, job->hash);
    int rc = lc_password_verify(job->password, job->password_len, job->encoded);
    if (rc == 0 && lc_password_needs_rehash(job->encoded, &k->params) &&
        lc_password_hash(job->password, job->password_len, &k->params, job->hash) < 0)
        job->hash[0] = 0; /* the login still succeeds; the upgrade waits for the next one */
    return rc;
}

static void *worker_main(void *arg)
{
    lc_kdf_t *k = arg;
    for (;;) {
        pthread_mutex_lock(&k->mu);
        while (!k->stopping && !k->head)
            pthread_cond_wait(&k->cond, &k->mu);
        if (k->stopping) {
            pthread_mutex_unlock(&k->mu);
            return NULL;
        }
        lc_kdf_job_t *job = k->head;
        k->head = job->next;
        if (!k->head)
            k->tail = NULL;
        pthread_mutex_unlock(&k->mu);

        pthread_mutex_lock(&job->mu);
        bool skip = job->cancelled;
        pthread_mutex_unlock(&job->mu);
        int rc = skip ? -ECANCELED : run(k, job);
        if (rc < 0 && rc != LC_EDENIED && rc != -ECANCELED)
            LC_ERROR("auth", "password %s failed: %s", job->verify ? "check" : "hashing",
                     lc_strerror(rc));
        wipe_password(job);
        /* The slot is free before the submitter hears of the result: a submitter woken by
         * finish() may queue its next job at once and must not find the queue still full. */
        pthread_mutex_lock(&k->mu);
        k->queued--;
        pthread_mutex_unlock(&k->mu);
        finish(job, rc);
        lc_kdf_job_release(&job);
    }
}

lc_kdf_t *lc_kdf_start(const lc_scrypt_params_t *params, int max_jobs, int *err)
{
    lc_kdf_t *k = calloc(1, sizeof *k);
    if (!k) {
        *err = -ENOMEM;
        return NULL;
    }
    k->params = *params;
    k->max_jobs = max_jobs > 0 ? max_jobs : 1;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cond, NULL);
    if (pthread_create(&k->thread, NULL, worker_main, k) != 0) {
        LC_ERROR("auth", "cannot start the password worker thread");
        pthread_cond_destroy(&k->cond);
        pthread_mutex_destroy(&k->mu);
        free(k);
        *err = -EAGAIN;
        return NULL;
    }
    return k;
}

void lc_kdf_stop(lc_kdf_t **pk)
{
    if (!pk || !*pk)
        return;
    lc_kdf_t *k = *pk;
    pthread_mutex_lock(&k->mu);
    k->stopping = true;
    pthread_cond_broadcast(&k->cond);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    /* The worker is gone: whatever is still queued will never run. */
    while (k->head) {
        lc_kdf_job_t *job = k->head;
        k->head = job->next;
        wipe_password(job);
        finish(job, -ECANCELED);
        lc_kdf_job_release(&job);
    }
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->mu);
    free(k);
    *pk = NULL;
}

static lc_kdf_job_t *submit(lc_kdf_t *k, bool verify, const char *password, size_t len,
                            const char *encoded, void (*done)(void *), void *opaque, int *err)
{
    lc_kdf_job_t *job = calloc(1, sizeof *job);
    if (!job || !(job->password = malloc(len ? len : 1))) {
        free(job);
        *err = -ENOMEM;
        return NULL;
    }
    memcpy(job->password, password, len);
    job->password_len = len;
    job->verify = verify;
    job->done = done;
    job->opaque = opaque;
    job->result = -EINPROGRESS;
    job->refs = 2; /* the submitter's and the queue's */
    pthread_mutex_init(&job->mu, NULL);
    if (encoded && lc_fmt(job->encoded, sizeof job->encoded, "%s", encoded) < 0)
        job->encoded[0] = 0; /* verifies as malformed */
    pthread_mutex_lock(&k->mu);
    bool full = k->stopping || k->queued >= k->max_jobs;
    if (!full) {
        if (k->tail)
            k->tail->next = job;
        else
            k->head = job;
        k->tail = job;
        k->queued++;
        pthread_cond_signal(&k->cond);
    }
    pthread_mutex_unlock(&k->mu);
    if (full) {
        job->refs = 1;
        lc_kdf_job_release(&job);
        *err = LC_ELIMIT;
        return NULL;
    }
    return job;
}

lc_kdf_job_t *lc_kdf_verify(lc_kdf_t *k, const char *password, size_t len, const char *encoded,
                            void (*done)(void *opaque), void *opaque, int *err)
{
    return submit(k, true, password, len, encoded, done, opaque, err);
}

lc_kdf_job_t *lc_kdf_hash(lc_kdf_t *k, const char *password, size_t len,
                          void (*done)(void *opaque), void *opaque, int *err)
{
    return submit(k, false, password, len, NULL, done, opaque, err);
}

int lc_kdf_job_result(lc_kdf_job_t *job)
{
    pthread_mutex_lock(&job->mu);
    int rc = job->finished ? job->result : -EINPROGRESS;
    pthread_mutex_unlock(&job->mu);
    return rc;
}

const char *lc_kdf_job_hash(lc_kdf_job_t *job)
{
    pthread_mutex_lock(&job->mu);
    const char *h = job->finished && job->hash[0] ? job->hash : NULL;
    pthread_mutex_unlock(&job->mu);
    return h;
}

void lc_kdf_job_cancel(lc_kdf_job_t *job)
{
    pthread_mutex_lock(&job->mu);
    job->cancelled = true;
    pthread_mutex_unlock(&job->mu);
}
