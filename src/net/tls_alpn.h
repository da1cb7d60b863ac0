/* ALPN protocol lists: the command line's comma-separated names in the
 * wire form TLS sends (each name prefixed by its length). Pure. */
#ifndef SOCKCTL_TLS_ALPN_H
#define SOCKCTL_TLS_ALPN_H

#include <stddef.h>

/* "h2,http/1.1" -> "\x02h2\x08http/1.1" in *out (malloc'd, *outlen
 * bytes). Every name must be 1-255 bytes: an empty list, an empty name
 * (",h2", "h2,,x", "h2,") or a longer one is refused. Returns 0, or -1
 * (errno EINVAL, or ENOMEM). */
int tls_alpn_wire(const char *list, unsigned char **out, size_t *outlen);

#endif
