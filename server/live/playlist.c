/* HLS media and multivariant playlists from a snapshot (see playlist.h). */
#include "live/playlist.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "core/util.h"

/* Multiples of the target duration / part target (notes/ll-hls.md, RFC 8216bis 4.4.3.8). */
#define HOLD_BACK_TDS 3      /* HOLD-BACK */
#define PART_HOLD_BACK_PARTS 3 /* PART-HOLD-BACK (Apple: at least 3 part targets) */
#define SKIP_UNTIL_TDS 6     /* CAN-SKIP-UNTIL */
#define PART_LIST_TDS 3      /* EXT-X-PART lines for segments this close to the live edge */

/* EXT-X-MAP needs version 6; 7 is what FFmpeg's hlsenc writes for fMP4. LL-HLS (EXT-X-PART,
 * PRELOAD-HINT, SKIP) needs 9. */
#define VERSION_FMP4 7
#define VERSION_LL 9

int lc_playlist_target_duration(double longest_s, double configured_s)
{
    /* The ceiling of the EXTINF value as written (three decimals), so that 2.0000001 s of
     * accumulated rounding does not make it 3. */
    double longest = ceil(round(longest_s * 1000) / 1000);
    double configured = ceil(configured_s - 1e-9);
    double td = longest > configured ? longest : configured;
    return td < 1 ? 1 : (int)td;
}

static double duration_of(const lc_playlist_segment_t *s, bool partial)
{
    if (!partial)
        return s->meta.duration;
    double d = 0;
    for (int i = 0; i < s->part_count; i++)
        d += s->parts[i].duration;
    return d;
}

static void render_segment(lc_bytes_t *out, const lc_playlist_segment_t *s, bool partial,
                           bool with_map, bool with_parts)
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
        lc_bytes_printf(out, "#EXTINF:%.3f,\nseg-%" PRId64 ".m4s\n", s->meta.duration,
                        s->meta.msn);
}

int lc_playlist_render_media(const lc_playlist_media_t *pl, bool delta, lc_bytes_t *out)
{
    bool ll = pl->low_latency;
    int n = pl->segment_count;
    /* Only a low-latency playlist lists the segment in progress (through its parts). */
    const lc_playlist_segment_t *partial = ll && !pl->ended ? pl->partial : NULL;
    if (n == 0 && !pl->partial)
        return -EINVAL;
    double td = pl->target_duration;

    /* remaining: from the start of the segment at hand to the end of the playlist. */
    double remaining = partial ? duration_of(partial, true) : 0;
    for (int i = 0; i < n; i++)
        remaining += pl->segments[i].meta.duration;
    int skipped = 0;
    while (delta && ll && skipped < n && remaining > SKIP_UNTIL_TDS * td + 1e-6)
        remaining -= pl->segments[skipped++].meta.duration;

    int64_t first_msn = n > 0 ? pl->segments[0].meta.msn : pl->partial->meta.msn;
    lc_bytes_printf(out, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n",
                    ll ? VERSION_LL : VERSION_FMP4, pl->target_duration);
    if (ll) {
        lc_bytes_printf(out,
                        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%.3f,"
                        "HOLD-BACK=%.3f,CAN-SKIP-UNTIL=%.3f\n"
                        "#EXT-X-PART-INF:PART-TARGET=%.3f\n",
                        PART_HOLD_BACK_PARTS * pl->part_target_s, HOLD_BACK_TDS * td,
                        SKIP_UNTIL_TDS * td, pl->part_target_s);
    }
    lc_bytes_printf(out, "#EXT-X-MEDIA-SEQUENCE:%" PRId64 "\n", first_msn);
    if (pl->discontinuity_sequence > 0)
        lc_bytes_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%" PRId64 "\n",
                        pl->discontinuity_sequence);
    lc_bytes_printf(out, "#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (skipped > 0)
        lc_bytes_printf(out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%d\n", skipped);

    int prev_init = 0;
    for (int i = skipped; i < n; i++) {
        const lc_playlist_segment_t *s = &pl->segments[i];
        bool with_parts = ll && remaining <= PART_LIST_TDS * td + 1e-6;
        render_segment(out, s, false, i == skipped || s->meta.init_id != prev_init, with_parts);
        prev_init = s->meta.init_id;
        remaining -= s->meta.duration;
    }
    if (partial)
        render_segment(out, partial, true, n == skipped || partial->meta.init_id != prev_init,
                       true);

    if (pl->ended) {
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

int lc_playlist_render_master(const lc_media_info_t *info, const char *media_uri,
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
