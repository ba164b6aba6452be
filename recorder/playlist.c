/* The recording's VOD playlist (index.m3u8) and the small path and file helpers the recorder's
 * files share. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "recorder/recorder_internal.h"

#define US_PER_S 1000000

int lc_rec_render_playlist(const lc_rec_seg_t *segs, size_t n, bool ended, lc_bytes_t *out)
{
    /* EXT-X-TARGETDURATION is the ceiling of the longest segment. Durations are integral
     * microseconds, so an exact 2 s segment gives 2 and not 3 through float noise. */
    int64_t longest = 0;
    for (size_t i = 0; i < n; i++)
        if (segs[i].dur_us > longest)
            longest = segs[i].dur_us;
    int64_t target = (longest + US_PER_S - 1) / US_PER_S;
    if (target < 1)
        target = 1;

    lc_bytes_printf(out,
                    "#EXTM3U\n"
                    "#EXT-X-VERSION:7\n"
                    "#EXT-X-TARGETDURATION:%" PRId64 "\n"
                    "#EXT-X-MEDIA-SEQUENCE:%" PRId64 "\n"
                    "#EXT-X-PLAYLIST-TYPE:%s\n"
                    "#EXT-X-INDEPENDENT-SEGMENTS\n",
                    target, n ? segs[0].msn : 0, ended ? "VOD" : "EVENT");
    for (size_t i = 0; i < n; i++) {
        const lc_rec_seg_t *s = &segs[i];
        bool new_init = i == 0 || s->init_id != segs[i - 1].init_id;
        /* A run's first segment may be gone (dropped by recovery): a change of init is a
         * discontinuity all the same. Nothing comes before the first segment to break from. */
        if (i > 0 && (s->discontinuity || new_init))
            lc_bytes_printf(out, "#EXT-X-DISCONTINUITY\n");
        if (new_init)
            lc_bytes_printf(out, "#EXT-X-MAP:URI=\"init-%d.mp4\"\n", s->init_id);
        char when[25];
        lc_bytes_printf(out,
                        "#EXT-X-PROGRAM-DATE-TIME:%s\n"
                        "#EXTINF:%" PRId64 ".%06" PRId64 ",\n"
                        "seg-%" PRId64 ".m4s\n",
                        lc_iso8601(s->pdt_ms, when), s->dur_us / US_PER_S, s->dur_us % US_PER_S,
                        s->msn);
    }
    if (ended)
        lc_bytes_printf(out, "#EXT-X-ENDLIST\n");
    return out->failed ? -ENOMEM : 0;
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
