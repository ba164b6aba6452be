/* Reading a recording back: the scan (journal records checked against the files they describe)
 * and crash recovery, which cuts the files down to what the scan kept and makes the recording
 * final, as if lc_recording_finish had run at the last complete part.
 *
 * What recovery keeps: the journal up to its first torn or invalid record; of each segment, the
 * longest run of journaled parts whose bytes are all in the segment file — and, for a segment
 * without an E record (so not known to be synced), whose bytes also match their checksum; a
 * segment left with no part is removed, and so is one whose init segment is missing or damaged.
 * The recovered recording is then written down as a clean journal (only what was kept, ended by
 * an F record) after the segment files were cut and synced and index.m3u8 made durable: a second
 * recovery, or one interrupted and run again, finds the same thing and changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "recorder/recorder.h"
#include "recorder/recorder_internal.h"

#define TAG "recorder"
#define JOURNAL_MAX_BYTES (512u * 1024 * 1024)

void lc_rec_scan_free(lc_rec_scan_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_segs; i++)
        free(s->segs[i].parts);
    free(s->segs);
    free(s->inits);
    memset(s, 0, sizeof *s);
}

static lc_rec_init_t *find_init(lc_rec_scan_t *s, int id)
{
    for (size_t i = 0; i < s->n_inits; i++)
        if (s->inits[i].id == id)
            return &s->inits[i];
    return NULL;
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? 2 * *cap : 16;
    void *np = realloc(*p, ncap * elem);
    if (!np)
        return -ENOMEM;
    *p = np;
    *cap = ncap;
    return 0;
}

typedef struct {
    lc_rec_scan_t *s;
    bool have_header;
    ssize_t open_seg; /* index of the segment parts are appended to, -1 when none */
    size_t cap_inits, cap_segs;
} parse_state_t;

/* Applies one well-formed record. Returns 1, 0 when the record makes no sense where it stands
 * (the journal is treated as ending before it), or -ENOMEM. */
static int apply(parse_state_t *ps, const lc_jrec_t *rec)
{
    lc_rec_scan_t *s = ps->s;
    if (!ps->have_header) {
        if (rec->type != LC_JREC_HEADER)
            return 0;
        ps->have_header = true;
        s->session_id = rec->v[1];
        return 1;
    }
    lc_rec_scan_seg_t *open = ps->open_seg >= 0 ? &s->segs[ps->open_seg] : NULL;
    switch (rec->type) {
    case LC_JREC_INIT:
        if (find_init(s, (int)rec->v[0]))
            return 0;
        if (grow((void **)&s->inits, &ps->cap_inits, s->n_inits, sizeof *s->inits) < 0)
            return -ENOMEM;
        s->inits[s->n_inits++] = (lc_rec_init_t){
            .id = (int)rec->v[0], .size = rec->v[1], .crc = (uint32_t)rec->v[2]};
        return 1;
    case LC_JREC_SEGMENT:
        if ((s->n_segs && rec->v[0] <= s->segs[s->n_segs - 1].meta.msn) ||
            !find_init(s, (int)rec->v[3]))
            return 0;
        if (grow((void **)&s->segs, &ps->cap_segs, s->n_segs, sizeof *s->segs) < 0)
            return -ENOMEM;
        /* A segment left open (no E) keeps its parts; only the newest one takes more. */
        s->segs[s->n_segs] = (lc_rec_scan_seg_t){
            .meta = {.msn = rec->v[0],
                     .pdt_ms = rec->v[1],
                     .discontinuity = rec->v[2] != 0,
                     .init_id = (int)rec->v[3]},
            .file_size = -1,
        };
        ps->open_seg = (ssize_t)s->n_segs++;
        return 1;
    case LC_JREC_PART: {
        if (!open || rec->v[0] != open->meta.msn || rec->v[1] != open->n_parts)
            return 0;
        if (grow((void **)&open->parts, &open->cap_parts, (size_t)open->n_parts,
                 sizeof *open->parts) < 0)
            return -ENOMEM;
        open->parts[open->n_parts++] = (lc_rec_part_t){
            .dur_us = rec->v[2],
            .independent = rec->v[3] != 0,
            .size = rec->v[4],
            .crc = (uint32_t)rec->v[5],
        };
        return 1;
    }
    case LC_JREC_END: {
        if (!open || rec->v[0] != open->meta.msn || rec->v[1] != open->n_parts)
            return 0;
        int64_t bytes = 0, dur = 0;
        for (int i = 0; i < open->n_parts; i++) {
            bytes += open->parts[i].size;
            dur += open->parts[i].dur_us;
        }
        if (rec->v[2] != dur || rec->v[3] != bytes)
            return 0;
        open->ended = true;
        ps->open_seg = -1;
        return 1;
    }
    case LC_JREC_FINISH:
        s->finished = true;
        return 1;
    default: /* a second header */
        return 0;
    }
}

/* Streams `len` bytes at `off` of `fd` through CRC-32. Returns 0 when they match `want`. */
static int check_crc(int fd, off_t off, int64_t len, uint32_t want)
{
    uint8_t buf[64 * 1024];
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        size_t n = len > (int64_t)sizeof buf ? sizeof buf : (size_t)len;
        ssize_t r = pread(fd, buf, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -EIO;
        crc = crc32(crc, buf, (uInt)r);
        off += r;
        len -= r;
    }
    return (uint32_t)crc == want ? 0 : -EIO;
}

static void check_init(const char *dir, lc_rec_init_t *in)
{
    char name[64], path[PATH_MAX];
    char *data = NULL;
    size_t len = 0;
    if (lc_rec_init_name(in->id, name, sizeof name) < 0 ||
        lc_fmt(path, sizeof path, "%s/%s", dir, name) < 0 ||
        lc_read_file(path, LC_REC_MAX_INIT_BYTES, &data, &len) < 0)
        return;
    in->ok = (int64_t)len == in->size && lc_rec_crc32(data, len) == in->crc;
    free(data);
}

/* Decides which parts of a segment are kept (see the top of this file). */
static void check_segment(const char *dir, lc_rec_scan_t *s, lc_rec_scan_seg_t *seg)
{
    char name[64], path[PATH_MAX];
    seg->meta.part_count = 0;
    seg->meta.bytes = seg->meta.dur_us = 0;
    if (lc_rec_seg_name(seg->meta.msn, name, sizeof name) < 0 ||
        lc_fmt(path, sizeof path, "%s/%s", dir, name) < 0)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    seg->file_size = st.st_size;
    const lc_rec_init_t *init = find_init(s, seg->meta.init_id);
    if (!init || !init->ok) {
        close(fd);
        return;
    }
    int64_t journaled = 0;
    for (int i = 0; i < seg->n_parts; i++)
        journaled += seg->parts[i].size;
    bool trusted = seg->ended && st.st_size >= journaled;
    for (int i = 0; i < seg->n_parts; i++) {
        const lc_rec_part_t *p = &seg->parts[i];
        if (seg->meta.bytes + p->size > st.st_size)
            break;
        if (!trusted && check_crc(fd, seg->meta.bytes, p->size, p->crc) < 0)
            break;
        seg->meta.bytes += p->size;
        seg->meta.dur_us += p->dur_us;
        seg->meta.part_count++;
    }
    close(fd);
}

int lc_rec_scan(const char *dir, lc_rec_scan_t *out)
{
    memset(out, 0, sizeof *out);
    char path[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    int rc = lc_fmt(path, sizeof path, "%s/" LC_REC_JOURNAL, dir);
    if (rc == 0)
        rc = lc_read_file(path, JOURNAL_MAX_BYTES, &buf, &len);
    if (rc == -ENOENT)
        return LC_ENOTFOUND;
    if (rc < 0)
        return rc;
    out->journal_len = len;

    parse_state_t ps = {.s = out, .open_seg = -1};
    size_t off = 0;
    while (!out->finished) {
        lc_jrec_t rec;
        size_t at = off;
        int n = lc_journal_next(buf, len, &off, &rec);
        if (n == 0)
            break;
        if (n > 0 && (n = apply(&ps, &rec)) < 0) {
            rc = n;
            goto out;
        }
        if (n <= 0) { /* torn, corrupt, or out of place */
            LC_WARN(TAG, "%s: journal ends at byte %zu of %zu (torn or invalid record)", dir, at,
                    len);
            break;
        }
        out->valid_len = off;
    }
    if (out->finished && out->valid_len < len)
        LC_WARN(TAG, "%s: %zu bytes after the journal's final record ignored", dir,
                len - out->valid_len);

    for (size_t i = 0; i < out->n_inits; i++)
        check_init(dir, &out->inits[i]);
    for (size_t i = 0; i < out->n_segs; i++) {
        check_segment(dir, out, &out->segs[i]);
        out->total_us += out->segs[i].meta.dur_us;
    }
out:
    free(buf);
    return rc;
}

/* Cuts a kept segment's file to its kept parts and syncs it, so that the E record the clean
 * journal gives it is true. */
static int settle_segment(const char *dir, const lc_rec_scan_seg_t *seg)
{
    char name[64], path[PATH_MAX];
    int rc = lc_rec_seg_name(seg->meta.msn, name, sizeof name);
    if (rc == 0)
        rc = lc_fmt(path, sizeof path, "%s/%s", dir, name);
    if (rc < 0)
        return rc;
    if (seg->meta.part_count == 0) {
        if (unlink(path) < 0 && errno != ENOENT)
            return -errno;
        return 0;
    }
    if (seg->ended && seg->file_size == seg->meta.bytes)
        return 0; /* synced when it ended */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = 0;
    if (seg->file_size > seg->meta.bytes && ftruncate(fd, seg->meta.bytes) < 0)
        rc = -errno;
    if (rc == 0 && fdatasync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && seg->file_size != seg->meta.bytes)
        LC_INFO(TAG, "%s: %s cut from %" PRId64 " to %" PRId64 " bytes (%d of %d parts)", dir,
                name, seg->file_size, seg->meta.bytes, seg->meta.part_count, seg->n_parts);
    return rc;
}

static void journal_line(lc_bytes_t *out, lc_jrec_t rec)
{
    char line[LC_JOURNAL_LINE_MAX];
    int n = lc_journal_format(&rec, line);
    if (n < 0)
        out->failed = 1; /* cannot happen: the values were parsed with the same ranges */
    else
        lc_bytes_append(out, line, (size_t)n);
}

/* The journal of what was kept, ending with F. */
static void render_clean_journal(const lc_rec_scan_t *s, int64_t session_id, lc_bytes_t *out)
{
    journal_line(out, (lc_jrec_t){LC_JREC_HEADER, {LC_JOURNAL_VERSION, session_id}});
    for (size_t i = 0; i < s->n_inits; i++)
        if (s->inits[i].ok)
            journal_line(out, (lc_jrec_t){LC_JREC_INIT,
                                          {s->inits[i].id, s->inits[i].size, s->inits[i].crc}});
    for (size_t i = 0; i < s->n_segs; i++) {
        const lc_rec_seg_t *m = &s->segs[i].meta;
        if (m->part_count == 0)
            continue;
        journal_line(out, (lc_jrec_t){LC_JREC_SEGMENT,
                                      {m->msn, m->pdt_ms, m->discontinuity, m->init_id}});
        for (int j = 0; j < m->part_count; j++) {
            const lc_rec_part_t *p = &s->segs[i].parts[j];
            journal_line(out, (lc_jrec_t){LC_JREC_PART, {m->msn, j, p->dur_us, p->independent,
                                                         p->size, p->crc}});
        }
        journal_line(out,
                     (lc_jrec_t){LC_JREC_END, {m->msn, m->part_count, m->dur_us, m->bytes}});
    }
    journal_line(out, (lc_jrec_t){LC_JREC_FINISH, {s->total_us}});
}

int lc_recording_recover(const char *recordings_dir, int64_t session_id, double *duration_s)
{
    *duration_s = 0;
    char dir[PATH_MAX], path[PATH_MAX];
    lc_rec_scan_t scan;
    lc_rec_seg_t *kept = NULL;
    lc_bytes_t text;
    lc_bytes_init(&text);
    memset(&scan, 0, sizeof scan);

    int rc = lc_rec_session_dir(recordings_dir, session_id, dir, sizeof dir);
    if (rc < 0)
        goto out;
    if ((rc = lc_rec_scan(dir, &scan)) < 0)
        goto out;
    if (scan.finished && lc_rec_playlist_is_final(dir)) {
        *duration_s = (double)scan.total_us / 1e6;
        goto out; /* finished (or recovered) before: nothing to do */
    }

    kept = calloc(scan.n_segs ? scan.n_segs : 1, sizeof *kept);
    if (!kept) {
        rc = -ENOMEM;
        goto out;
    }
    size_t n_kept = 0;
    for (size_t i = 0; i < scan.n_segs; i++) {
        if ((rc = settle_segment(dir, &scan.segs[i])) < 0)
            goto out;
        if (scan.segs[i].meta.part_count > 0)
            kept[n_kept++] = scan.segs[i].meta;
    }

    /* The playlist first, the journal last: the clean journal's F is the commit point. */
    if ((rc = lc_rec_render_playlist(kept, n_kept, true, &text)) < 0 ||
        (rc = lc_fmt(path, sizeof path, "%s/" LC_REC_PLAYLIST, dir)) < 0 ||
        (rc = lc_write_file_atomic(path, text.data, text.len, true)) < 0)
        goto out;
    lc_bytes_reset(&text);
    render_clean_journal(&scan, session_id, &text);
    if (text.failed) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = lc_fmt(path, sizeof path, "%s/" LC_REC_JOURNAL, dir)) < 0 ||
        (rc = lc_write_file_atomic(path, text.data, text.len, true)) < 0 ||
        (rc = lc_rec_fsync_dir(dir)) < 0)
        goto out;
    *duration_s = (double)scan.total_us / 1e6;
    LC_INFO(TAG, "session %" PRId64 ": recovered %zu of %zu segments, %.3f s", session_id,
            n_kept, scan.n_segs, *duration_s);
out:
    if (rc < 0 && rc != LC_ENOTFOUND)
        LC_ERROR(TAG, "session %" PRId64 ": recovery: %s", session_id, lc_strerror(rc));
    lc_bytes_free(&text);
    free(kept);
    lc_rec_scan_free(&scan);
    return rc;
}
