/* Shared inside recorder/: the journal's record format, the in-memory segment list the VOD
 * playlist is rendered from, and the read-only scan of a recording directory that recovery and
 * export both build on. Not for other modules. */
#ifndef RECORDER_RECORDER_INTERNAL_H
#define RECORDER_RECORDER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "recorder/recorder.h"

/* ---- journal --------------------------------------------------------------------------------
 * One text line per record: a type letter, its decimal fields separated by single spaces, and a
 * CRC-32 (zlib) of everything before it as 8 lowercase hex digits:
 *
 *   L <version=1> <session_id> <crc>                      journal header, always first
 *   I <init_id> <size> <crc32 of the bytes> <crc>          init-<init_id>.mp4 is written
 *   S <msn> <pdt_ms> <discontinuity 0|1> <init_id> <crc>   segment begun
 *   P <msn> <index> <duration_us> <independent 0|1> <size> <crc32 of the bytes> <crc>
 *                                                          part appended to seg-<msn>.m4s
 *   E <msn> <part_count> <duration_us> <bytes> <crc>       segment ended, its file fdatasync'ed
 *   F <total_duration_us> <crc>                            recording final, index.m3u8 durable
 *
 * A record is valid only when its line is complete (ends in '\n'), has exactly its fields and a
 * matching CRC; a torn or corrupted line ends the journal there. Durations are integral
 * microseconds so that the live writer and recovery compute the very same sums. */
enum {
    LC_JREC_HEADER = 'L',
    LC_JREC_INIT = 'I',
    LC_JREC_SEGMENT = 'S',
    LC_JREC_PART = 'P',
    LC_JREC_END = 'E',
    LC_JREC_FINISH = 'F',
};

#define LC_JOURNAL_VERSION 1
#define LC_JOURNAL_MAX_FIELDS 6
#define LC_JOURNAL_LINE_MAX 256
/* Sizes above these are refused on write and treated as corruption on read. */
#define LC_REC_MAX_PART_BYTES (256 * 1024 * 1024)
#define LC_REC_MAX_INIT_BYTES (16 * 1024 * 1024)

typedef struct {
    char type;
    int64_t v[LC_JOURNAL_MAX_FIELDS];
} lc_jrec_t;

/* Formats `rec` as one line (with its '\n') into `out`. Returns the length or -EINVAL. */
int lc_journal_format(const lc_jrec_t *rec, char out[static LC_JOURNAL_LINE_MAX]);

/* Parses the record starting at buf[*off]. Returns 1 and advances *off past it, 0 at the end
 * of the buffer, or -EINVAL when the record is torn or invalid (*off is left at its start). */
int lc_journal_next(const char *buf, size_t len, size_t *off, lc_jrec_t *rec);

/* CRC-32 of `len` bytes (zlib's polynomial), as stored in I and P records. */
uint32_t lc_rec_crc32(const void *data, size_t len);

/* ---- playlist -------------------------------------------------------------------------------- */

/* A segment as listed in index.m3u8. */
typedef struct {
    int64_t msn;
    int64_t pdt_ms;
    int64_t dur_us; /* sum of its parts */
    int64_t bytes;  /* sum of its parts */
    int init_id;
    int part_count;
    bool discontinuity; /* as journaled; the playlist also breaks where init_id changes or an
                           msn is missing (lc_hls_discontinuity) */
} lc_rec_seg_t;

/* Renders the VOD playlist of `n` segments (msn increasing): EVENT while live, VOD +
 * EXT-X-ENDLIST when `ended`, through server/hls/playlist.h. Appends to `out`; returns 0,
 * -ENOMEM or -EINVAL. */
int lc_rec_render_playlist(const lc_rec_seg_t *segs, size_t n, bool ended, lc_bytes_t *out);

/* ---- paths and small file helpers ------------------------------------------------------------ */

#define LC_REC_JOURNAL "journal"
#define LC_REC_PLAYLIST "index.m3u8"
#define LC_REC_DOWNLOAD "download.mp4"

/* "<recordings_dir>/<session_id>" into `out`. Returns 0 or -ENAMETOOLONG. */
int lc_rec_session_dir(const char *recordings_dir, int64_t session_id, char *out, size_t size);
/* File names inside a session directory. */
int lc_rec_init_name(int init_id, char *out, size_t size);
int lc_rec_seg_name(int64_t msn, char *out, size_t size);

/* fsync(2) of a directory, so that names created or renamed in it survive a power loss. */
int lc_rec_fsync_dir(const char *path);

/* Whether `dir`/index.m3u8 ends with EXT-X-ENDLIST. */
bool lc_rec_playlist_is_final(const char *dir);

/* ---- scan ------------------------------------------------------------------------------------
 * A read-only look at a recording directory: the journal's valid records, checked against the
 * files they describe. Used by recovery (which then repairs the files) and by the exporter. */

typedef struct {
    int64_t size;
    int64_t dur_us;
    uint32_t crc;
    bool independent;
} lc_rec_part_t;

typedef struct {
    int id;
    int64_t size;
    uint32_t crc;
    bool ok; /* the file exists with the journaled size and checksum */
} lc_rec_init_t;

typedef struct {
    /* Totals of the parts kept: the longest prefix of journaled parts whose bytes are all in
     * the file (and, unless an E record vouches for a synced file, match their checksum).
     * meta.part_count == 0 means the segment is dropped. */
    lc_rec_seg_t meta;
    lc_rec_part_t *parts; /* every journaled part */
    int n_parts;
    size_t cap_parts;
    int64_t file_size; /* -1 when the file is missing */
    bool ended;        /* a valid E record covers all journaled parts */
} lc_rec_scan_seg_t;

typedef struct {
    int64_t session_id;
    lc_rec_init_t *inits;
    size_t n_inits;
    lc_rec_scan_seg_t *segs; /* in journal order, msn strictly increasing */
    size_t n_segs;
    size_t journal_len; /* bytes in the file */
    size_t valid_len;   /* bytes up to the end of the last valid record */
    bool finished;      /* a valid F record ends the journal */
    int64_t total_us;   /* sum of the kept segments */
} lc_rec_scan_t;

/* Scans the recording in `dir`. Returns 0, LC_ENOTFOUND without a journal, or a negative code.
 * Free the result with lc_rec_scan_free (also after a failure). */
int lc_rec_scan(const char *dir, lc_rec_scan_t *out);
void lc_rec_scan_free(lc_rec_scan_t *s);

/* ---- export ---------------------------------------------------------------------------------- */

/* lc_export_mp4 with cancellation: returns -ECANCELED (temporary file removed) as soon as it
 * sees *stop set. `packet_cb`, when set, is called after every packet written (tests use it to
 * hold an export in flight). */
typedef void (*lc_export_packet_cb)(void *opaque);
int lc_export_mp4_ex(const char *recording_dir, const char *out_path, atomic_bool *stop,
                     lc_export_packet_cb packet_cb, void *opaque);

/* Test seam: makes the exporter's thread call `cb` after every packet it writes. Call before
 * queueing anything. */
void lc_exporter_set_packet_cb(lc_exporter_t *e, lc_export_packet_cb cb, void *opaque);
/* Whether lc_exporter_stop has been called (for such a callback to wait on). Any thread. */
bool lc_exporter_stopping(lc_exporter_t *e);

#endif
