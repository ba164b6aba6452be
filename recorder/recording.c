/* The live side of the recorder: writes each part of a session to its segment file the moment it
 * is published, journals it, and keeps index.m3u8 (a VOD/EVENT playlist) up to date.
 *
 * Durability (fsync policy)
 * -------------------------
 * What must hold: after a `kill -9` of the server mid-stream, everything up to the last completed
 * part is recovered. A process crash loses nothing that was handed to write(2) — the page cache
 * belongs to the kernel — so for that case it is enough that add_part writes the part's bytes and
 * then its journal record before it returns, in that order; recovery keeps a part only when both
 * made it. fsync only matters when the kernel itself goes away (power loss, kernel crash), and it
 * costs the stream's worker thread a disk round trip, so it is paid once per segment (~2 s), not
 * per part:
 *   - open: the session directory and the journal are created, then fsync'ed (journal data,
 *     session directory, recordings directory), so that the recording exists at all.
 *   - add_init: the init file is written to a temporary name, fdatasync'ed and renamed, and the
 *     directory fsync'ed, before its journal record is written (once per publishing run).
 *   - end_segment: fdatasync(segment file), then the E record is written, then
 *     fdatasync(journal), index.m3u8 is replaced (tmp + rename, not synced: recovery rebuilds it
 *     from the journal) and the directory is fsync'ed (the segment's name, the playlist rename).
 *     Because the E record is written only after the segment's data is on disk, a journaled E
 *     vouches for its segment; recovery checksums only the parts of segments without one.
 *   - finish: the last segment is ended as above, index.m3u8 is written and fdatasync'ed, the F
 *     record is written and the journal and directory are fsync'ed: the replay is durable.
 * What a power loss can lose: the segment in progress and the parts of it journaled since the
 * last end_segment (so up to about one segment plus a part), and whatever index.m3u8 said since
 * then; every segment whose end_segment returned survives. Recovery keeps any part of the
 * unfinished segment that did reach the disk intact (its checksum matches), never a damaged one.
 *
 * A failed write never leaves a half part behind for the next part to append to: bytes are
 * written at the known end of the last complete part (pwrite), the file is cut back on failure,
 * and the rest of that segment is refused; the journal is handled the same way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "recorder/recorder.h"
#include "recorder/recorder_internal.h"

#define TAG "recorder"

struct lc_recording {
    char dir[PATH_MAX]; /* RECORDINGS/<session_id> */
    int64_t session_id;
    int dir_fd;
    int journal_fd;
    off_t journal_size; /* end of the last complete record */

    int *inits; /* init ids recorded so far */
    size_t n_inits, cap_inits;

    lc_rec_seg_t *segs; /* finished segments with at least one part: the playlist */
    size_t n_segs, cap_segs;
    int64_t total_us; /* of segs */
    bool have_msn;
    int64_t last_msn;

    /* The segment in progress. */
    bool seg_open;      /* begun and not yet ended (API state) */
    bool seg_journaled; /* its S record is in the journal, so an E record may follow */
    bool seg_failed;    /* a write failed: its remaining parts are refused */
    int seg_fd;
    lc_rec_seg_t cur; /* bytes, dur_us and part_count of the parts written */

    lc_bytes_t playlist; /* render buffer, reused */
};

static int pwrite_all(int fd, const void *data, size_t len, off_t off)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t w = pwrite(fd, p, len, off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
        off += w;
    }
    return 0;
}

static int path_in(const lc_recording_t *r, const char *name, char out[static PATH_MAX])
{
    return lc_fmt(out, PATH_MAX, "%s/%s", r->dir, name);
}

/* Appends one record at the end of the last complete one. On failure the journal is cut back, so
 * the next record does not follow a torn one (and recovery would stop at the tear). */
static int journal_append(lc_recording_t *r, const lc_jrec_t *rec)
{
    char line[LC_JOURNAL_LINE_MAX];
    int len = lc_journal_format(rec, line);
    if (len < 0) {
        LC_ERROR(TAG, "session %" PRId64 ": journal record '%c' out of range", r->session_id,
                 rec->type);
        return len;
    }
    int rc = pwrite_all(r->journal_fd, line, (size_t)len, r->journal_size);
    if (rc < 0) {
        LC_ERROR(TAG, "session %" PRId64 ": journal write: %s", r->session_id, lc_strerror(rc));
        if (ftruncate(r->journal_fd, r->journal_size) < 0)
            LC_WARN(TAG, "session %" PRId64 ": journal cut back: %s", r->session_id,
                    strerror(errno));
        return rc;
    }
    r->journal_size += len;
    return 0;
}

static int sync_fd(const lc_recording_t *r, int fd, const char *what)
{
    if (fdatasync(fd) == 0)
        return 0;
    int rc = -errno;
    LC_ERROR(TAG, "session %" PRId64 ": fdatasync %s: %s", r->session_id, what, lc_strerror(rc));
    return rc;
}

static int sync_dir(const lc_recording_t *r)
{
    if (fsync(r->dir_fd) == 0)
        return 0;
    int rc = -errno;
    LC_ERROR(TAG, "session %" PRId64 ": fsync directory: %s", r->session_id, lc_strerror(rc));
    return rc;
}

static int write_playlist(lc_recording_t *r, bool ended)
{
    char path[PATH_MAX];
    int rc = path_in(r, LC_REC_PLAYLIST, path);
    if (rc < 0)
        return rc;
    lc_bytes_reset(&r->playlist);
    rc = lc_rec_render_playlist(r->segs, r->n_segs, ended, &r->playlist);
    if (rc == 0)
        rc = lc_write_file_atomic(path, r->playlist.data, r->playlist.len, ended);
    if (rc < 0)
        LC_ERROR(TAG, "session %" PRId64 ": write playlist: %s", r->session_id, lc_strerror(rc));
    return rc;
}

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool empty = true;
    const struct dirent *de;
    while (empty && (de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = false;
    closedir(d);
    return empty;
}

int lc_recording_open(const char *recordings_dir, int64_t session_id, lc_recording_t **out)
{
    *out = NULL;
    lc_recording_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->session_id = session_id;
    r->dir_fd = r->journal_fd = r->seg_fd = -1;
    lc_bytes_init(&r->playlist);

    int rc = lc_rec_session_dir(recordings_dir, session_id, r->dir, sizeof r->dir);
    if (rc < 0)
        goto fail;
    if ((rc = lc_mkdir_p(recordings_dir)) < 0)
        goto fail;
    if (mkdir(r->dir, 0750) < 0) {
        rc = -errno;
        /* An empty directory is what a failed open leaves; anything else is a recording. */
        if (rc != -EEXIST || !dir_is_empty(r->dir))
            goto fail;
    }
    if ((rc = lc_rec_fsync_dir(recordings_dir)) < 0)
        goto fail;
    r->dir_fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dir_fd < 0) {
        rc = -errno;
        goto fail;
    }
    r->journal_fd =
        openat(r->dir_fd, LC_REC_JOURNAL, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (r->journal_fd < 0) {
        rc = -errno;
        goto fail;
    }
    lc_jrec_t header = {LC_JREC_HEADER, {LC_JOURNAL_VERSION, session_id}};
    if ((rc = journal_append(r, &header)) < 0)
        goto fail;
    if ((rc = sync_fd(r, r->journal_fd, "journal")) < 0 || (rc = sync_dir(r)) < 0)
        goto fail;
    *out = r;
    return 0;

fail:
    LC_ERROR(TAG, "session %" PRId64 ": open recording: %s", session_id, lc_strerror(rc));
    if (r->journal_fd >= 0) {
        /* Leave the directory empty, as an open that may be retried expects it. */
        close(r->journal_fd);
        unlinkat(r->dir_fd, LC_REC_JOURNAL, 0);
    }
    if (r->dir_fd >= 0)
        close(r->dir_fd);
    free(r);
    return rc;
}

static bool init_known(const lc_recording_t *r, int init_id)
{
    for (size_t i = 0; i < r->n_inits; i++)
        if (r->inits[i] == init_id)
            return true;
    return false;
}

int lc_recording_add_init(lc_recording_t *r, int init_id, lc_buf_t *init)
{
    size_t len = init ? lc_buf_len(init) : 0;
    if (len == 0 || len > LC_REC_MAX_INIT_BYTES || init_known(r, init_id)) {
        LC_ERROR(TAG, "session %" PRId64 ": init %d refused (size %zu, or already recorded)",
                 r->session_id, init_id, len);
        return -EINVAL;
    }
    if (r->n_inits == r->cap_inits) {
        size_t cap = r->cap_inits ? 2 * r->cap_inits : 4;
        int *ids = realloc(r->inits, cap * sizeof *ids);
        if (!ids)
            return -ENOMEM;
        r->inits = ids;
        r->cap_inits = cap;
    }
    char name[64], path[PATH_MAX];
    int rc = lc_rec_init_name(init_id, name, sizeof name);
    if (rc == 0)
        rc = path_in(r, name, path);
    if (rc == 0)
        rc = lc_write_file_atomic(path, lc_buf_cdata(init), len, true);
    if (rc < 0) {
        LC_ERROR(TAG, "session %" PRId64 ": write %s: %s", r->session_id, name, lc_strerror(rc));
        return rc;
    }
    /* The record promises a complete file under its final name. */
    if ((rc = sync_dir(r)) < 0)
        return rc;
    lc_jrec_t rec = {LC_JREC_INIT, {init_id, (int64_t)len, lc_rec_crc32(lc_buf_cdata(init), len)}};
    if ((rc = journal_append(r, &rec)) < 0)
        return rc;
    r->inits[r->n_inits++] = init_id;
    return 0;
}

/* Closes the segment in progress (see the fsync policy above). A segment without parts is
 * removed; one with parts joins the playlist even when syncing failed (the data was written). */
static int end_current(lc_recording_t *r)
{
    int rc = 0;
    char name[64];
    lc_rec_seg_name(r->cur.msn, name, sizeof name);
    if (r->seg_fd >= 0) {
        if (r->cur.part_count > 0)
            rc = sync_fd(r, r->seg_fd, name);
        close(r->seg_fd);
        r->seg_fd = -1;
    }
    if (r->cur.part_count == 0 && unlinkat(r->dir_fd, name, 0) < 0 && errno != ENOENT)
        LC_WARN(TAG, "session %" PRId64 ": remove empty %s: %s", r->session_id, name,
                strerror(errno));
    /* No E record unless the data is on disk: it is what lets recovery trust the segment. */
    if (r->seg_journaled && rc == 0) {
        lc_jrec_t rec = {LC_JREC_END, {r->cur.msn, r->cur.part_count, r->cur.dur_us, r->cur.bytes}};
        rc = journal_append(r, &rec);
        if (rc == 0)
            rc = sync_fd(r, r->journal_fd, "journal");
    }
    r->seg_open = r->seg_journaled = r->seg_failed = false;
    if (r->cur.part_count == 0)
        return rc;

    if (r->n_segs == r->cap_segs) {
        size_t cap = r->cap_segs ? 2 * r->cap_segs : 64;
        lc_rec_seg_t *segs = realloc(r->segs, cap * sizeof *segs);
        if (!segs)
            return -ENOMEM;
        r->segs = segs;
        r->cap_segs = cap;
    }
    r->segs[r->n_segs++] = r->cur;
    r->total_us += r->cur.dur_us;
    int prc = write_playlist(r, false);
    int drc = sync_dir(r);
    return rc < 0 ? rc : prc < 0 ? prc : drc;
}

int lc_recording_begin_segment(lc_recording_t *r, const lc_segment_meta_t *seg)
{
    if (seg->msn < 0 || (r->have_msn && seg->msn <= r->last_msn) ||
        !init_known(r, seg->init_id)) {
        LC_ERROR(TAG, "session %" PRId64 ": segment %" PRId64 " (init %d) refused: msn not "
                 "increasing or init unknown", r->session_id, seg->msn, seg->init_id);
        return -EINVAL;
    }
    int rc = 0;
    if (r->seg_open) {
        LC_WARN(TAG, "session %" PRId64 ": segment %" PRId64 " begun before %" PRId64 " ended",
                r->session_id, seg->msn, r->cur.msn);
        end_current(r);
    }
    r->have_msn = true;
    r->last_msn = seg->msn;
    r->seg_open = true;
    r->seg_journaled = false;
    r->seg_failed = true; /* until the segment file is open */
    r->cur = (lc_rec_seg_t){
        .msn = seg->msn,
        .pdt_ms = seg->pdt_ms,
        .init_id = seg->init_id,
        .discontinuity = seg->discontinuity,
    };
    /* The record comes first: a segment file nobody journaled could only be an orphan. */
    lc_jrec_t rec = {LC_JREC_SEGMENT, {seg->msn, seg->pdt_ms, seg->discontinuity, seg->init_id}};
    if ((rc = journal_append(r, &rec)) < 0)
        return rc;
    r->seg_journaled = true;
    char name[64];
    if ((rc = lc_rec_seg_name(seg->msn, name, sizeof name)) < 0)
        return rc;
    r->seg_fd = openat(r->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (r->seg_fd < 0) {
        rc = -errno;
        LC_ERROR(TAG, "session %" PRId64 ": create %s: %s", r->session_id, name, lc_strerror(rc));
        return rc;
    }
    r->seg_failed = false;
    return 0;
}

int lc_recording_add_part(lc_recording_t *r, const lc_part_meta_t *part, lc_buf_t *bytes)
{
    if (!r->seg_open || part->msn != r->cur.msn || part->init_id != r->cur.init_id) {
        LC_ERROR(TAG, "session %" PRId64 ": part of segment %" PRId64 " outside the segment "
                 "in progress", r->session_id, part->msn);
        return -EINVAL;
    }
    if (r->seg_failed)
        return -EIO; /* logged when it failed */
    size_t len = bytes ? lc_buf_len(bytes) : 0;
    if (part->index != r->cur.part_count || len == 0 || len > LC_REC_MAX_PART_BYTES ||
        !isfinite(part->duration) || part->duration < 0 || part->duration > 3600) {
        LC_ERROR(TAG, "session %" PRId64 ": part %" PRId64 ".%d refused (expected index %d, "
                 "%zu bytes, %.3f s)", r->session_id, part->msn, part->index, r->cur.part_count,
                 len, part->duration);
        return -EINVAL;
    }
    const uint8_t *data = lc_buf_cdata(bytes);
    int64_t dur_us = llround(part->duration * 1e6);
    int rc = pwrite_all(r->seg_fd, data, len, r->cur.bytes);
    if (rc == 0) {
        lc_jrec_t rec = {LC_JREC_PART, {part->msn, part->index, dur_us, part->independent,
                                        (int64_t)len, lc_rec_crc32(data, len)}};
        rc = journal_append(r, &rec);
    } else {
        LC_ERROR(TAG, "session %" PRId64 ": write part %" PRId64 ".%d: %s", r->session_id,
                 part->msn, part->index, lc_strerror(rc));
    }
    if (rc < 0) {
        /* The segment stays a whole number of parts; later parts would not decode without
         * this one, so the segment ends here. */
        if (ftruncate(r->seg_fd, r->cur.bytes) < 0)
            LC_WARN(TAG, "session %" PRId64 ": cut back segment %" PRId64 ": %s",
                    r->session_id, part->msn, strerror(errno));
        r->seg_failed = true;
        return rc;
    }
    r->cur.bytes += (int64_t)len;
    r->cur.dur_us += dur_us;
    r->cur.part_count++;
    return 0;
}

int lc_recording_end_segment(lc_recording_t *r, const lc_segment_meta_t *seg)
{
    if (!r->seg_open || seg->msn != r->cur.msn) {
        LC_ERROR(TAG, "session %" PRId64 ": end of segment %" PRId64 " which is not in progress",
                 r->session_id, seg->msn);
        return -EINVAL;
    }
    if (seg->part_count != r->cur.part_count)
        LC_WARN(TAG, "session %" PRId64 ": segment %" PRId64 " ends with %d of its %d parts",
                r->session_id, seg->msn, r->cur.part_count, seg->part_count);
    return end_current(r);
}

double lc_recording_duration(const lc_recording_t *r)
{
    int64_t us = r->total_us + (r->seg_open ? r->cur.dur_us : 0);
    return (double)us / 1e6;
}

int lc_recording_finish(lc_recording_t **pr)
{
    if (!pr || !*pr)
        return 0;
    lc_recording_t *r = *pr;
    *pr = NULL;
    int rc = 0;
    if (r->seg_open)
        rc = end_current(r);
    int wrc = write_playlist(r, true);
    if (wrc == 0) {
        /* F only once index.m3u8 is final and durable: recovery then has nothing to do. */
        lc_jrec_t rec = {LC_JREC_FINISH, {r->total_us}};
        wrc = journal_append(r, &rec);
        if (wrc == 0)
            wrc = sync_fd(r, r->journal_fd, "journal");
    }
    if (wrc == 0)
        wrc = sync_dir(r);
    if (rc == 0)
        rc = wrc;
    if (rc < 0) /* the failure itself was logged where it happened */
        LC_WARN(TAG, "session %" PRId64 ": recording not final; recovery completes it",
                r->session_id);
    else
        LC_INFO(TAG, "session %" PRId64 ": recording final, %zu segments, %.3f s", r->session_id,
                r->n_segs, (double)r->total_us / 1e6);
    if (r->seg_fd >= 0)
        close(r->seg_fd);
    close(r->journal_fd);
    close(r->dir_fd);
    lc_bytes_free(&r->playlist);
    free(r->segs);
    free(r->inits);
    free(r);
    return rc;
}

bool lc_recording_has_replay(const char *recordings_dir, int64_t session_id)
{
    char dir[PATH_MAX];
    return lc_rec_session_dir(recordings_dir, session_id, dir, sizeof dir) == 0 &&
           lc_rec_playlist_is_final(dir);
}

bool lc_recording_exists(const char *recordings_dir, int64_t session_id)
{
    char dir[PATH_MAX];
    struct stat st;
    return lc_rec_session_dir(recordings_dir, session_id, dir, sizeof dir) == 0 &&
           stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int lc_recording_remove(const char *recordings_dir, int64_t session_id)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int rc = lc_rec_session_dir(recordings_dir, session_id, dir, sizeof dir);
    if (rc < 0)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    const struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((rc = lc_fmt(path, sizeof path, "%s/%s", dir, de->d_name)) < 0 ||
            (unlink(path) < 0 && errno != ENOENT && (rc = -errno)))
            break;
    }
    closedir(d);
    if (rc == 0 && rmdir(dir) < 0 && errno != ENOENT)
        rc = -errno;
    if (rc < 0)
        LC_ERROR(TAG, "session %" PRId64 ": cannot delete the recording: %s", session_id,
                 lc_strerror(rc));
    else
        LC_INFO(TAG, "session %" PRId64 ": recording deleted", session_id);
    return rc;
}

bool lc_recording_has_download(const char *recordings_dir, int64_t session_id)
{
    char path[PATH_MAX];
    struct stat st;
    /* download.mp4 appears by rename only once complete. */
    return lc_fmt(path, sizeof path, "%s/%" PRId64 "/" LC_REC_DOWNLOAD, recordings_dir,
                  session_id) == 0 &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}
