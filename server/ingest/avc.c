/* H.264 decoder configuration record, SPS picture size, AVCC frame framing. */
#include "ingest/avc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "ingest/bits.h"

#define MAX_MBS 1024    /* macroblocks (map units) per dimension, before field doubling */
#define MAX_DIM 16384   /* pixels per dimension: beyond any H.264 level */

static bool is_high_profile(int p)
{
    switch (p) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86: case 118: case 128:
    case 138: case 139: case 134: case 135:
        return true;
    default:
        return false;
    }
}

static void skip_scaling_list(lc_bits_t *b, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && !b->overrun; j++) {
        if (next != 0) {
            int32_t delta = lc_bits_se(b);
            next = (int)(((int64_t)last + delta + 256) % 256);
            if (next < 0)
                next += 256;
        }
        last = next == 0 ? last : next;
    }
}

/* Only the fields up to frame cropping are read: that is all the picture size needs. */
static int parse_rbsp(const uint8_t *p, size_t len, lc_avc_config_t *c, lc_why_t *why)
{
    lc_bits_t b;
    lc_bits_init(&b, p, len);
    c->profile = (int)lc_bits_read(&b, 8);
    c->compatibility = (int)lc_bits_read(&b, 8);
    c->level = (int)lc_bits_read(&b, 8);
    uint32_t sps_id = lc_bits_ue(&b);
    if (sps_id > 31)
        return lc_why(why, LC_EMEDIA, "H.264 SPS: id %u out of range", sps_id);
    c->chroma_format = 1;
    c->bit_depth = 8;
    bool separate_planes = false;
    if (is_high_profile(c->profile)) {
        uint32_t chroma = lc_bits_ue(&b);
        if (chroma > 3)
            return lc_why(why, LC_EMEDIA, "H.264 SPS: chroma_format_idc %u", chroma);
        c->chroma_format = (int)chroma;
        if (chroma == 3)
            separate_planes = lc_bits_read(&b, 1);
        uint32_t depth_luma = lc_bits_ue(&b), depth_chroma = lc_bits_ue(&b);
        if (depth_luma > 6 || depth_chroma > 6)
            return lc_why(why, LC_EMEDIA, "H.264 SPS: bit depth out of range");
        c->bit_depth = 8 + (int)depth_luma;
        lc_bits_read(&b, 1); /* qpprime_y_zero_transform_bypass_flag */
        if (lc_bits_read(&b, 1)) { /* seq_scaling_matrix_present_flag */
            int lists = chroma == 3 ? 12 : 8;
            for (int i = 0; i < lists && !b.overrun; i++)
                if (lc_bits_read(&b, 1))
                    skip_scaling_list(&b, i < 6 ? 16 : 64);
        }
    }
    if (lc_bits_ue(&b) > 12) /* log2_max_frame_num_minus4 */
        return lc_why(why, LC_EMEDIA, "H.264 SPS: log2_max_frame_num out of range");
    uint32_t poc_type = lc_bits_ue(&b);
    if (poc_type == 0) {
        if (lc_bits_ue(&b) > 12)
            return lc_why(why, LC_EMEDIA, "H.264 SPS: log2_max_pic_order_cnt_lsb out of range");
    } else if (poc_type == 1) {
        lc_bits_read(&b, 1);
        lc_bits_se(&b);
        lc_bits_se(&b);
        uint32_t n = lc_bits_ue(&b);
        if (n > 255)
            return lc_why(why, LC_EMEDIA, "H.264 SPS: %u reference frames in POC cycle", n);
        for (uint32_t i = 0; i < n && !b.overrun; i++)
            lc_bits_se(&b);
    } else if (poc_type != 2) {
        return lc_why(why, LC_EMEDIA, "H.264 SPS: pic_order_cnt_type %u", poc_type);
    }
    lc_bits_ue(&b); /* max_num_ref_frames */
    lc_bits_read(&b, 1);
    uint32_t w_mbs = lc_bits_ue(&b) + 1, h_map = lc_bits_ue(&b) + 1;
    unsigned frame_mbs_only = lc_bits_read(&b, 1);
    if (!frame_mbs_only)
        lc_bits_read(&b, 1);
    lc_bits_read(&b, 1); /* direct_8x8_inference_flag */
    uint64_t crop[4] = {0, 0, 0, 0};
    if (lc_bits_read(&b, 1))
        for (int i = 0; i < 4; i++)
            crop[i] = lc_bits_ue(&b);
    if (b.overrun)
        return lc_why(why, LC_EMEDIA, "H.264 SPS: truncated");
    if (w_mbs == 0 || h_map == 0 || w_mbs > MAX_MBS || h_map > MAX_MBS)
        return lc_why(why, LC_EMEDIA, "H.264 SPS: picture size out of range");

    unsigned crop_x = 1, crop_y = 2 - frame_mbs_only;
    if (!separate_planes && c->chroma_format != 0) {
        crop_x = c->chroma_format == 3 ? 1 : 2;
        crop_y *= c->chroma_format == 1 ? 2 : 1;
    }
    uint64_t width = (uint64_t)w_mbs * 16, height = (uint64_t)(2 - frame_mbs_only) * h_map * 16;
    uint64_t cut_x = crop_x * (crop[0] + crop[1]), cut_y = crop_y * (crop[2] + crop[3]);
    if (cut_x >= width || cut_y >= height)
        return lc_why(why, LC_EMEDIA, "H.264 SPS: cropping larger than the picture");
    if (width - cut_x > MAX_DIM || height - cut_y > MAX_DIM) /* fields double the height */
        return lc_why(why, LC_EMEDIA, "H.264 SPS: picture size %" PRIu64 "x%" PRIu64
                      " out of range", width - cut_x, height - cut_y);
    c->width = (int)(width - cut_x);
    c->height = (int)(height - cut_y);
    return 0;
}

int lc_avc_parse_sps(const uint8_t *nal, size_t len, lc_avc_config_t *out, lc_why_t *why)
{
    if (len < 4 || (nal[0] & 0x1F) != 7 || (nal[0] & 0x80))
        return lc_why(why, LC_EMEDIA, "H.264: %zu-byte NAL unit is not an SPS", len);
    /* Drop emulation prevention bytes (00 00 03 → 00 00) to get the RBSP. */
    uint8_t *rbsp = malloc(len);
    if (!rbsp)
        return lc_why(why, -ENOMEM, "H.264 SPS: out of memory");
    size_t n = 0, zeros = 0;
    for (size_t i = 1; i < len; i++) {
        if (zeros >= 2 && nal[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        rbsp[n++] = nal[i];
    }
    int rc = parse_rbsp(rbsp, n, out, why);
    free(rbsp);
    return rc;
}

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

int lc_avc_parse_config(const uint8_t *rec, size_t len, lc_avc_config_t *out, lc_why_t *why)
{
    memset(out, 0, sizeof *out);
    if (len < 7)
        return lc_why(why, LC_EMEDIA, "AVC sequence header: %zu bytes is too short", len);
    if (len > LC_AVC_MAX_CONFIG)
        return lc_why(why, LC_EMEDIA, "AVC sequence header: %zu bytes is too long", len);
    if (rec[0] != 1)
        return lc_why(why, LC_EMEDIA, "AVC sequence header: version %u, expected 1", rec[0]);
    int nls = (rec[4] & 3) + 1;
    if (nls == 3)
        return lc_why(why, LC_EMEDIA, "AVC sequence header: NAL length size 3");
    size_t pos = 5;
    const uint8_t *first_sps = NULL;
    size_t first_sps_len = 0;
    for (int kind = 0; kind < 2; kind++) { /* SPS list, then PPS list */
        if (pos >= len)
            return lc_why(why, LC_EMEDIA, "AVC sequence header: truncated before %s count",
                          kind ? "PPS" : "SPS");
        unsigned count = kind ? rec[pos] : rec[pos] & 0x1F;
        pos++;
        if (count == 0)
            return lc_why(why, LC_EMEDIA, "AVC sequence header: no %s", kind ? "PPS" : "SPS");
        for (unsigned i = 0; i < count; i++) {
            if (len - pos < 2)
                return lc_why(why, LC_EMEDIA, "AVC sequence header: truncated %s length",
                              kind ? "PPS" : "SPS");
            size_t n = rd16(rec + pos);
            pos += 2;
            if (n == 0 || n > len - pos)
                return lc_why(why, LC_EMEDIA,
                              "AVC sequence header: %s of %zu bytes, %zu bytes left",
                              kind ? "PPS" : "SPS", n, len - pos);
            if (kind == 0 && i == 0) {
                first_sps = rec + pos;
                first_sps_len = n;
            }
            pos += n;
        }
    }
    /* High profiles may append chroma format and bit depths: allowed, not needed. */
    int rc = lc_avc_parse_sps(first_sps, first_sps_len, out, why);
    if (rc < 0)
        return rc;
    out->nal_length_size = nls;
    return 0;
}

int lc_avc_check_frame(const uint8_t *p, size_t len, int nal_length_size, lc_why_t *why)
{
    if (nal_length_size != 1 && nal_length_size != 2 && nal_length_size != 4)
        return lc_why(why, LC_EMEDIA, "H.264: NAL length size %d", nal_length_size);
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < (size_t)nal_length_size)
            return lc_why(why, LC_EMEDIA, "H.264 frame: truncated NAL length at byte %zu", pos);
        size_t n = 0;
        for (int i = 0; i < nal_length_size; i++)
            n = n << 8 | p[pos + (size_t)i];
        pos += (size_t)nal_length_size;
        if (n > len - pos)
            return lc_why(why, LC_EMEDIA, "H.264 frame: NAL unit of %zu bytes, %zu left", n,
                          len - pos);
        pos += n;
    }
    return 0;
}
