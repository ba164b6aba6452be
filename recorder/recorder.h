/* The recorder: archives every part of a live session to disk as it is published, so the
 * session is an on-demand replay the moment it ends (no remux, no queue), survives a crash of
 * the server (everything up to the last completed part), and becomes a single-file MP4 download
 * in the background.
 *
 * On-disk layout of one session (docs/urls.md has the HTTP side):
 *   RECORDINGS/<session_id>/init-<init_id>.mp4   one per publishing run
 *   RECORDINGS/<session_id>/seg-<msn>.m4s         a segment: its parts appended as they complete
 *   RECORDINGS/<session_id>/journal               append-only log of runs, segments and parts
 *   RECORDINGS/<session_id>/index.m3u8            VOD playlist (EVENT while live, ENDLIST after)
 *   RECORDINGS/<session_id>/download.mp4          faststart MP4, written by the exporter
 */
#ifndef RECORDER_RECORDER_H
#define RECORDER_RECORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/media.h"

typedef struct lc_recording lc_recording_t;

/* Opens the recording of `session_id` under `recordings_dir` (created if needed). A session
 * that already has files (the same process continuing after a reconnect never reopens; this is
 * for a new session) is refused with -EEXIST. Returns 0 and *out, or a negative code. The
 * recording is then used by one thread (the stream's worker). */
int lc_recording_open(const char *recordings_dir, int64_t session_id, lc_recording_t **out);

/* Mirror of the window's writer calls (server/live/window.h). Each writes through to disk before
 * returning (see recording.c for the fsync policy). Borrow their arguments. */
int lc_recording_add_init(lc_recording_t *r, int init_id, lc_buf_t *init);
int lc_recording_begin_segment(lc_recording_t *r, const lc_segment_meta_t *seg);
int lc_recording_add_part(lc_recording_t *r, const lc_part_meta_t *part, lc_buf_t *bytes);
int lc_recording_end_segment(lc_recording_t *r, const lc_segment_meta_t *seg);

/* Total duration recorded so far, seconds. */
double lc_recording_duration(const lc_recording_t *r);

/* Finishes the recording: the last segment (if begun) is closed, index.m3u8 is rewritten with
 * EXT-X-ENDLIST and made durable, the files are closed. The replay is playable when this returns.
 * Frees the recording and sets *pr to NULL; NULL-safe. Returns 0 or a negative code (logged;
 * the recording is freed either way). */
int lc_recording_finish(lc_recording_t **pr);

/* Recovers the recording of a session that was live when the server died: reads the journal,
 * truncates the segment in progress to its last complete part, rewrites index.m3u8 with
 * EXT-X-ENDLIST. Sets *duration_s to the recovered duration. Idempotent. Returns 0, LC_ENOTFOUND
 * when there is no recording, or another negative code. */
int lc_recording_recover(const char *recordings_dir, int64_t session_id, double *duration_s);

/* Whether the session's recording directory has a finished replay / a finished MP4 download. */
bool lc_recording_has_replay(const char *recordings_dir, int64_t session_id);
bool lc_recording_has_download(const char *recordings_dir, int64_t session_id);
/* Whether the session has a recording directory at all (finished or not). */
bool lc_recording_exists(const char *recordings_dir, int64_t session_id);

/* Deletes the session's recording directory and every file in it (the layout above has no
 * subdirectories). No directory is fine. Returns 0 or -errno (logged). Must not run while the
 * session records or is exported: the exporter thread runs it (lc_exporter_queue_removal). */
int lc_recording_remove(const char *recordings_dir, int64_t session_id);

/* ---- MP4 export ----------------------------------------------------------------------------
 * One background thread turns finished recordings into RECORDINGS/<id>/download.mp4 (faststart),
 * from the same segment files, written to a temporary name and renamed when complete. */
typedef struct lc_exporter lc_exporter_t;

/* Starts the exporter thread. Also queues every finished recording under `recordings_dir` that
 * has no download.mp4 yet (an export interrupted by a shutdown or crash resumes). */
lc_exporter_t *lc_exporter_start(const char *recordings_dir);
/* Queues a session's export. Any thread; never blocks on the export itself. */
void lc_exporter_queue(lc_exporter_t *e, int64_t session_id);
/* Queues the deletion of a session's recording (its webinar was deleted): a queued export of it
 * is dropped, one under way finishes first, since the same thread runs both, so no export ever
 * reads a directory being deleted. Any thread; never blocks on the work. A removal still queued
 * at shutdown is not done (the files stay). */
void lc_exporter_queue_removal(lc_exporter_t *e, int64_t session_id);
/* Stops the thread: the export under way is abandoned (its temporary file removed; it resumes at
 * the next start). NULL-safe; sets *pe to NULL. */
void lc_exporter_stop(lc_exporter_t **pe);
/* Waits until the queue is empty and no export runs (tests, `--exit-after-export`). */
void lc_exporter_drain(lc_exporter_t *e);

/* Exports one finished recording synchronously (what the thread runs). Returns 0 or a negative
 * code. `out_path` is written via a temporary file and rename. */
int lc_export_mp4(const char *recording_dir, const char *out_path);

#endif
