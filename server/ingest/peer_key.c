/* Remote addresses reduced to the key the ingest limits connections by (peer_key.h). */
#include "ingest/peer_key.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

int lc_peer_key(const struct sockaddr *sa, socklen_t len, lc_peer_key_t *key)
{
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(key, 0, sizeof *key);
    if (!sa || len < (socklen_t)sizeof(sa_family_t))
        return -EINVAL;
    if (sa->sa_family == AF_INET) {
        if (len < (socklen_t)sizeof(struct sockaddr_in))
            return -EINVAL;
        struct sockaddr_in in; /* copied: `sa` may be any buffer */
        memcpy(&in, sa, sizeof in);
        memcpy(key->b, v4_mapped, sizeof v4_mapped);
        memcpy(key->b + 12, &in.sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        if (len < (socklen_t)sizeof(struct sockaddr_in6))
            return -EINVAL;
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        const uint8_t *a = in6.sin6_addr.s6_addr;
        if (memcmp(a, v4_mapped, sizeof v4_mapped) == 0)
            memcpy(key->b, a, 16); /* the IPv4 address itself */
        else
            memcpy(key->b, a, 8); /* its /64 */
        return 0;
    }
    return -EAFNOSUPPORT;
}

bool lc_peer_key_equal(const lc_peer_key_t *a, const lc_peer_key_t *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}
