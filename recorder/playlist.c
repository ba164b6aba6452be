/* The recording's VOD playlist (index.m3u8), rendered by the HLS renderer the live window uses
 * (server/hls/playlist.h), and the small path and file helpers the recorder's files share. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "hls/playlist.h"
#include "recorder/recorder_internal.h"

#define US_PER_S 1000000
/* EXTINF with six decimals: the journal's durations are whole microseconds, written exactly, so
 * the playlist's timeline adds up to the media's. */
#define EXTINF_DECIMALS 6

int lc_rec_render_playlist(const lc_rec_seg_t *segs, size_t n, bool ended, lc_bytes_t *out)
{
    if (n > INT_MAX)
        return -EINVAL;
    lc_hls_segment_t *list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const lc_rec_seg_t *s = &segs[i];
        list[i].meta = (lc_segment_meta_t){
            .msn = s->msn,
            .duration = (double)s->dur_us / US_PER_S,
            .pdt_ms = s->pdt_ms,
            .discontinuity = s->discontinuity,
            .init_id = s->init_id,
            .part_count = s->part_count,
        };
        /* A new run, a run whose first segment is gone, or segments missing in between (dropped
         * after a write error, or by recovery): the media time jumps, players must be told. */
        list[i].meta.discontinuity =
            lc_hls_discontinuity(i > 0 ? &list[i - 1].meta : NULL, &list[i].meta);
    }
    lc_hls_media_t pl = {
        .type = ended ? LC_HLS_VOD : LC_HLS_EVENT,
        .segments = list,
        .segment_count = (int)n,
        .extinf_decimals = EXTINF_DECIMALS,
    };
    int rc = lc_hls_render_media(&pl, false, out);
    free(list);
    return rc;
}

bool lc_rec_playlist_is_final(const char *dir)
{
    static const char tail[] = "#EXT-X-ENDLIST\n";
    const size_t tail_len = sizeof tail - 1;
    char path[PATH_MAX];
    if (lc_fmt(path, sizeof path, "%s/" LC_REC_PLAYLIST, dir) < 0)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool final = false;
    struct stat st;
    char buf[sizeof tail];
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)tail_len &&
        pread(fd, buf, tail_len, st.st_size - (off_t)tail_len) == (ssize_t)tail_len)
        final = memcmp(buf, tail, tail_len) == 0;
    close(fd);
    return final;
}

int lc_rec_session_dir(const char *recordings_dir, int64_t session_id, char *out, size_t size)
{
    return lc_fmt(out, size, "%s/%" PRId64, recordings_dir, session_id);
}

int lc_rec_init_name(int init_id, char *out, size_t size)
{
    return lc_fmt(out, size, "init-%d.mp4", init_id);
}

int lc_rec_seg_name(int64_t msn, char *out, size_t size)
{
    return lc_fmt(out, size, "seg-%" PRId64 ".m4s", msn);
}

int lc_rec_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}
