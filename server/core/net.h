/* Listen addresses: "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4 interfaces) into a sockaddr.
 * Shared by the HTTP server and the RTMP ingest so both accept the same forms. */
#ifndef LC_CORE_NET_H
#define LC_CORE_NET_H

#include <sys/socket.h>

/* Parses `text` (numeric hosts only: no DNS at start-up). Returns 0 and fills *ss / *len, or
 * -EINVAL. Port 0 asks the kernel for a free port. */
int lc_parse_listen_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* Formats a bound socket's local address as "HOST:PORT" / "[V6]:PORT". Returns 0 or -errno. */
int lc_format_sockname(int fd, char *out, size_t size);

#endif
