/* H.264 as FLV carries it: the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 "avcC") from the
 * sequence header, its first SPS (for the picture size), and coded frames in AVCC form
 * (length-prefixed NAL units). Pure parsers over hostile bytes: every length is checked. */
#ifndef LC_INGEST_AVC_H
#define LC_INGEST_AVC_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/why.h"

#define LC_AVC_MAX_CONFIG 65536 /* bytes of an AVCDecoderConfigurationRecord */

typedef struct {
    int profile;         /* profile_idc */
    int compatibility;   /* constraint flags byte */
    int level;           /* level_idc */
    int nal_length_size; /* 1, 2 or 4 */
    int width, height;   /* luma samples after cropping */
    int chroma_format;   /* chroma_format_idc: 0 mono, 1 4:2:0, 2 4:2:2, 3 4:4:4 */
    int bit_depth;       /* luma */
} lc_avc_config_t;

/* Validates a whole AVCDecoderConfigurationRecord (version 1, at least one SPS and one PPS, each
 * length inside the record, NAL length size 1, 2 or 4) and parses the first SPS. Returns 0 or
 * LC_EMEDIA with the reason in `why`. */
int lc_avc_parse_config(const uint8_t *rec, size_t len, lc_avc_config_t *out, lc_why_t *why);

/* Parses an SPS NAL unit (header byte included, emulation prevention bytes still in). */
int lc_avc_parse_sps(const uint8_t *nal, size_t len, lc_avc_config_t *out, lc_why_t *why);

/* Checks that `len` bytes are a sequence of whole NAL units, each prefixed by its length in
 * `nal_length_size` bytes, ending exactly at `len`. Returns 0 or LC_EMEDIA. */
int lc_avc_check_frame(const uint8_t *p, size_t len, int nal_length_size, lc_why_t *why);

#endif
