/* The PROXY protocol (haproxy's, versions 1 and 2): the header a proxy
 * sends before the client's bytes to tell the server who the client
 * was. Pure: building and parsing, no I/O. */
#ifndef SOCKCTL_PROXY_PROTO_H
#define SOCKCTL_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/sock.h"

/* The longest header pp_build makes (v2 with IPv6 addresses is 52; v1 is
 * at most 107). */
#define PP_BUILD_MAX 108
/* The longest header pp_parse takes: a v1 line of 107 bytes, or a v2
 * header of 16 bytes and up to this much more (addresses and TLVs). */
#define PP_V2_MAX (16 + 1024)

/* What a header says. local: no addresses to take (v1 UNKNOWN, v2 LOCAL
 * or an unspecified family): the connection's own endpoints count. */
struct pp_info {
	int version; /* 1 or 2 */
	bool local;
	struct sock_addr src, dst;
};

/* The header of version (1 or 2) for a connection from src to dst (the
 * address the client reached). Addresses that are not both IPv4 or both
 * IPv6 (an IPv4-mapped IPv6 address counts as IPv4), or NULL, make the
 * header that names none (v1 "PROXY UNKNOWN", v2 with no addresses).
 * Returns its length (out needs PP_BUILD_MAX bytes). */
size_t pp_build(int version, const struct sockaddr *src, socklen_t srclen,
		const struct sockaddr *dst, socklen_t dstlen, uint8_t *out);

/* Parses the header at the start of buf[0..len). Returns its length when
 * it is complete (what follows is the client's data), 0 when more bytes
 * are needed (*want: how many more can be read without reading past the
 * header), or -1 with err (not a PROXY header, or a malformed one). */
long pp_parse(const uint8_t *buf, size_t len, struct pp_info *info, size_t *want, char *err,
	      size_t errlen);

#endif
