/* libFuzzer: AMF0 decoding of arbitrary bytes, then every accessor over the tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/amf0.h"

static size_t walk(const lc_amf_t *v, int depth)
{
    if (depth > LC_AMF_MAX_DEPTH + 1) /* the decoder promised a bound */
        abort();
    size_t n = 1, len = 0, klen = 0;
    double d;
    bool b;
    const char *s = lc_amf_str(v, &len);
    if (s && s[len] != 0) /* strings are NUL-terminated copies */
        abort();
    (void)lc_amf_num(v, &d);
    (void)lc_amf_bool(v, &b);
    for (size_t i = 0; i < lc_amf_count(v); i++) {
        const char *k = lc_amf_key(v, i, &klen);
        if (k && k[klen] != 0)
            abort();
        if (k && klen == strlen(k) && lc_amf_get(v, k) == NULL)
            abort(); /* a key that is there must be found */
        n += walk(lc_amf_item(v, i), depth + 1);
    }
    if (lc_amf_item(v, lc_amf_count(v)) != NULL)
        abort();
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_amf_t *v = NULL;
    size_t used = 0;
    if (lc_amf0_decode(data, size, &used, &v, NULL) == 0) {
        if (used > size || used == 0)
            abort();
        if (walk(v, 0) > LC_AMF_MAX_NODES)
            abort();
        lc_amf_free(&v);
    } else if (v) {
        abort();
    }
    lc_amf_t *list = NULL;
    if (lc_amf0_decode_all(data, size, &list, NULL) == 0) {
        walk(list, -1);
        lc_amf_free(&list);
    }
    return 0;
}
