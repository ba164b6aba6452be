/* Listen address parsing and formatting. */
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

int lc_parse_listen_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    if (!text)
        return -EINVAL;
    const char *colon = strrchr(text, ':');
    if (!colon)
        return -EINVAL;
    int64_t port;
    if (lc_parse_int64(colon + 1, 0, 65535, &port) < 0)
        return -EINVAL;
    char host[64];
    size_t hlen = (size_t)(colon - text);
    if (hlen >= sizeof host)
        return -EINVAL;
    memcpy(host, text, hlen);
    host[hlen] = 0;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        if (hlen < 3 || host[hlen - 1] != ']')
            return -EINVAL;
        host[hlen - 1] = 0;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return -EINVAL;
        *len = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (hlen == 0)
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return -EINVAL;
    *len = sizeof *a4;
    return 0;
}

int lc_format_sockname(int fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
        return lc_fmt(out, size, "[%s]:%u", host, ntohs(a6->sin6_port));
    }
    const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
    return lc_fmt(out, size, "%s:%u", host, ntohs(a4->sin_port));
}
