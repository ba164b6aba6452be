/* The KDF worker: password hashing and verification off the HTTP threads. One thread runs the
 * jobs one after the other, so the memory scrypt takes (128 MiB at the default parameters) is
 * taken once however many logins arrive, and the cores stay free for the live streams. The
 * queue is bounded: past `max_jobs` a new job is refused (LC_ELIMIT) and the caller answers
 * "busy".
 *
 * A job's life: submitted (lc_kdf_verify / lc_kdf_hash) → the worker runs it → `done(opaque)` is
 * called once, from the worker thread, with the worker's lock held (it must only signal, e.g.
 * lc_req_wake) → the submitter reads the result and releases the job. A submitter that stops
 * waiting calls lc_kdf_job_cancel: once it returns, `done` is never called; a queued job is then
 * skipped. Either way the submitter releases its reference. */
#ifndef LC_AUTH_KDF_H
#define LC_AUTH_KDF_H

#include <stddef.h>

#include "auth/password.h"

typedef struct lc_kdf lc_kdf_t;
typedef struct lc_kdf_job lc_kdf_job_t;

/* Starts the worker; new hashes use `params`. NULL on failure (*err set). Main thread. */
lc_kdf_t *lc_kdf_start(const lc_scrypt_params_t *params, int max_jobs, int *err);
/* Finishes the job being run, fails the queued ones (-ECANCELED, `done` is called), joins the
 * thread. Jobs still referenced by submitters stay valid until released. NULL-safe. */
void lc_kdf_stop(lc_kdf_t **pk);

/* Queues a verification of `password` against `encoded` (both copied). When the password
 * matches and `encoded` used other parameters than the worker's, a new hash is made as well
 * (lc_kdf_job_hash). NULL with *err = LC_ELIMIT when the queue is full. Any thread. */
lc_kdf_job_t *lc_kdf_verify(lc_kdf_t *k, const char *password, size_t len, const char *encoded,
                            void (*done)(void *opaque), void *opaque, int *err);
/* Queues the hashing of a new password (copied). */
lc_kdf_job_t *lc_kdf_hash(lc_kdf_t *k, const char *password, size_t len,
                          void (*done)(void *opaque), void *opaque, int *err);

/* After `done`: 0 (match / hashed), LC_EDENIED (no match) or a negative error; -EINPROGRESS
 * before. */
int lc_kdf_job_result(lc_kdf_job_t *job);
/* After `done`: the new hash (lc_kdf_hash), a replacement hash with the current parameters
 * (lc_kdf_verify of an old hash), or NULL. Valid until the job is released. */
const char *lc_kdf_job_hash(lc_kdf_job_t *job);
/* After it returns, `done` will not be called for this job. Any thread. */
void lc_kdf_job_cancel(lc_kdf_job_t *job);
/* Drops the submitter's reference; NULL-safe, sets *pjob to NULL. */
void lc_kdf_job_release(lc_kdf_job_t **pjob);

#endif
