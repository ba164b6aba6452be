/* HLS media and multivariant playlists from plain structs (see playlist.h): one renderer for the
 * live window and the recording, so that both write the same tags the same way. */
#include "hls/playlist.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Multiples of the target duration / part target (notes/ll-hls.md, RFC 8216bis 4.4.3.8). */
#define HOLD_BACK_TDS 3        /* HOLD-BACK */
#define PART_HOLD_BACK_PARTS 3 /* PART-HOLD-BACK (Apple: at least 3 part targets) */
#define SKIP_UNTIL_TDS 6       /* CAN-SKIP-UNTIL */
#define PART_LIST_TDS 3        /* EXT-X-PART lines for segments this close to the live edge */

/* EXT-X-MAP needs version 6; 7 is what FFmpeg's hlsenc writes for fMP4. LL-HLS (EXT-X-PART,
 * PRELOAD-HINT, SKIP) needs 9. */
#define VERSION_FMP4 7
#define VERSION_LL 9

#define DEFAULT_DECIMALS 3
#define MAX_DECIMALS 9

static int decimals_of(int decimals) { return decimals == 0 ? DEFAULT_DECIMALS : decimals; }

int lc_hls_target_duration(double duration_s, int decimals)
{
    decimals = decimals_of(decimals);
    if (decimals < 1 || decimals > MAX_DECIMALS || !isfinite(duration_s) || duration_s <= 0)
        return 1;
    /* From the very text EXTINF gets, so that the rounding of the two can never disagree. RFC 8216
     * 4.3.3.1 compares the EXTINF *rounded to the nearest integer* with the target duration: a
     * 2.002 s segment (60 frames at 29.97 fps) fits a target of 2. */
    char text[64];
    int n = snprintf(text, sizeof text, "%.*f", decimals, duration_s);
    if (n < 0 || (size_t)n >= sizeof text)
        return 1;
    double written = floor(strtod(text, NULL) + 0.5);
    if (written > INT32_MAX)
        return INT32_MAX;
    return written < 1 ? 1 : (int)written;
}

bool lc_hls_discontinuity(const lc_segment_meta_t *prev, const lc_segment_meta_t *seg)
{
    if (!prev)
        return false;
    return seg->discontinuity || seg->init_id != prev->init_id || seg->msn != prev->msn + 1;
}

static double parts_duration(const lc_hls_segment_t *s)
{
    double d = 0;
    for (int i = 0; i < s->part_count; i++)
        d += s->parts[i].duration;
    return d;
}

static void render_segment(lc_bytes_t *out, const lc_hls_segment_t *s, bool partial,
                           bool with_map, bool with_parts, int decimals)
{
    char when[25];
    if (s->meta.discontinuity)
        lc_bytes_printf(out, "#EXT-X-DISCONTINUITY\n");
    if (with_map)
        lc_bytes_printf(out, "#EXT-X-MAP:URI=\"init-%d.mp4\"\n", s->meta.init_id);
    lc_bytes_printf(out, "#EXT-X-PROGRAM-DATE-TIME:%s\n", lc_iso8601(s->meta.pdt_ms, when));
    for (int i = 0; with_parts && i < s->part_count; i++) {
        const lc_part_meta_t *p = &s->parts[i];
        lc_bytes_printf(out, "#EXT-X-PART:DURATION=%.3f,URI=\"part-%" PRId64 ".%d.m4s\"%s\n",
                        p->duration, s->meta.msn, i, p->independent ? ",INDEPENDENT=YES" : "");
    }
    if (!partial)
        lc_bytes_printf(out, "#EXTINF:%.*f,\nseg-%" PRId64 ".m4s\n", decimals, s->meta.duration,
                        s->meta.msn);
}

/* The target duration to write, or -EINVAL when the caller's does not cover a listed segment. */
static int target_duration_of(const lc_hls_media_t *pl, int decimals)
{
    int needed = 1;
    for (int i = 0; i < pl->segment_count; i++) {
        int td = lc_hls_target_duration(pl->segments[i].meta.duration, decimals);
        if (td > needed)
            needed = td;
    }
    if (pl->target_duration == 0)
        return needed;
    return pl->target_duration >= needed ? pl->target_duration : -EINVAL;
}

static int check(const lc_hls_media_t *pl, int decimals)
{
    if (pl->segment_count < 0 || (pl->segment_count > 0 && !pl->segments) ||
        pl->target_duration < 0 || decimals < 1 || decimals > MAX_DECIMALS)
        return -EINVAL;
    if (pl->type != LC_HLS_LIVE)
        return pl->partial || pl->low_latency || pl->discontinuity_sequence ? -EINVAL : 0;
    /* A live playlist without anything to play is what hls.js reports as LEVEL_EMPTY_ERROR: the
     * caller publishes none until it has something. */
    bool has_parts = pl->low_latency && !pl->ended && pl->partial && pl->partial->part_count > 0;
    return pl->segment_count > 0 || has_parts ? 0 : -EINVAL;
}

int lc_hls_render_media(const lc_hls_media_t *pl, bool delta, lc_bytes_t *out)
{
    int decimals = decimals_of(pl->extinf_decimals);
    int rc = check(pl, decimals);
    if (rc < 0)
        return rc;
    int target = target_duration_of(pl, decimals);
    if (target < 0)
        return target;

    bool live = pl->type == LC_HLS_LIVE;
    bool ll = pl->low_latency;
    int n = pl->segment_count;
    /* Only a low-latency playlist lists the segment in progress (through its parts). */
    const lc_hls_segment_t *partial = ll && !pl->ended ? pl->partial : NULL;
    double td = target;

    /* remaining: from the start of the segment at hand to the end of the playlist. */
    double remaining = partial ? parts_duration(partial) : 0;
    for (int i = 0; i < n; i++)
        remaining += pl->segments[i].meta.duration;
    /* A delta update skips only segments that end at or before the Skip Boundary (CAN-SKIP-UNTIL
     * from the end), so what it keeps always covers at least CAN-SKIP-UNTIL. */
    int skipped = 0;
    while (delta && ll && skipped < n &&
           remaining - pl->segments[skipped].meta.duration >= SKIP_UNTIL_TDS * td - 1e-6)
        remaining -= pl->segments[skipped++].meta.duration;

    int64_t first_msn = n > 0 ? pl->segments[0].meta.msn : partial ? partial->meta.msn : 0;
    lc_bytes_printf(out, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n",
                    ll ? VERSION_LL : VERSION_FMP4, target);
    if (ll) {
        lc_bytes_printf(out,
                        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%.3f,"
                        "HOLD-BACK=%.3f,CAN-SKIP-UNTIL=%.3f\n"
                        "#EXT-X-PART-INF:PART-TARGET=%.3f\n",
                        PART_HOLD_BACK_PARTS * pl->part_target_s, HOLD_BACK_TDS * td,
                        SKIP_UNTIL_TDS * td, pl->part_target_s);
    }
    lc_bytes_printf(out, "#EXT-X-MEDIA-SEQUENCE:%" PRId64 "\n", first_msn);
    if (live && pl->discontinuity_sequence > 0)
        lc_bytes_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%" PRId64 "\n",
                        pl->discontinuity_sequence);
    if (!live)
        lc_bytes_printf(out, "#EXT-X-PLAYLIST-TYPE:%s\n",
                        pl->type == LC_HLS_VOD ? "VOD" : "EVENT");
    lc_bytes_printf(out, "#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (skipped > 0)
        lc_bytes_printf(out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%d\n", skipped);

    int prev_init = 0;
    for (int i = skipped; i < n; i++) {
        const lc_hls_segment_t *s = &pl->segments[i];
        /* Parts are listed for segments that start less than three target durations from the
         * end (rfc8216bis 4.4.4.9 removes them beyond); strictly less, so that at most two
         * finished segments and the one in progress carry parts, as validators count it. */
        bool with_parts = ll && remaining < PART_LIST_TDS * td - 1e-6;
        render_segment(out, s, false, i == skipped || s->meta.init_id != prev_init, with_parts,
                       decimals);
        prev_init = s->meta.init_id;
        remaining -= s->meta.duration;
    }
    if (partial)
        render_segment(out, partial, true, n == skipped || partial->meta.init_id != prev_init,
                       true, decimals);

    if (pl->ended || pl->type == LC_HLS_VOD) {
        lc_bytes_printf(out, "#EXT-X-ENDLIST\n");
    } else if (ll) {
        int64_t msn = partial ? partial->meta.msn : pl->segments[n - 1].meta.msn + 1;
        int index = partial ? partial->part_count : 0;
        lc_bytes_printf(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-%" PRId64 ".%d.m4s\"\n",
                        msn, index);
    }
    return out->failed ? -ENOMEM : 0;
}

/* A quoted-string attribute value may not hold a double quote or a line break. */
static bool quotable(const char *s) { return s && !strpbrk(s, "\"\r\n"); }

int lc_hls_render_multivariant(const lc_media_info_t *info, const char *media_uri,
                               lc_bytes_t *out)
{
    if (info->bandwidth_bps <= 0 || !info->codecs[0] || !quotable(info->codecs) ||
        !quotable(media_uri) || !media_uri[0])
        return -EINVAL;
    lc_bytes_printf(out,
                    "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                    "#EXT-X-STREAM-INF:BANDWIDTH=%" PRId64 ",CODECS=\"%s\"",
                    info->bandwidth_bps, info->codecs);
    if (info->has_video && info->width > 0 && info->height > 0)
        lc_bytes_printf(out, ",RESOLUTION=%dx%d", info->width, info->height);
    if (info->has_video && info->frame_rate > 0)
        lc_bytes_printf(out, ",FRAME-RATE=%.3f", info->frame_rate);
    lc_bytes_printf(out, "\n%s\n", media_uri);
    return out->failed ? -ENOMEM : 0;
}
