/* The targets of `sockctl wait`, from their text (pure: no I/O, no
 * lookups):
 *   HOST:PORT, [V6ADDR]:PORT   TCP: ready when a connect succeeds
 *   tcp://HOST:PORT            the same, spelt out
 *   tls://HOST:PORT            ready when a TLS handshake verifies
 *   unix:PATH, unix:@NAME      a Unix stream socket accepts a connect
 *   udp:HOST:PORT              a datagram gets a (matching) reply
 *   http://..., https://...    an HTTP response with a ready status
 * A PORT is a decimal 1..65535 or a service name (letters, digits, '-'
 * and '_'); whether a name exists is for the resolver to say. */
#ifndef SOCKCTL_WAIT_TARGET_H
#define SOCKCTL_WAIT_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http_url.h"

enum wait_kind { WAIT_TCP, WAIT_TLS, WAIT_UNIX, WAIT_UDP, WAIT_HTTP };

/* Longer target text is refused (a URL may be long). */
#define WAIT_TARGET_MAX 2048

struct wait_target {
	enum wait_kind kind;
	const char *text; /* as given: not copied, must outlive the run */
	/* WAIT_TCP, WAIT_TLS, WAIT_UDP: the host without brackets, and the
	 * port as given; WAIT_UNIX: the path in host ("@name" is abstract),
	 * port "". WAIT_HTTP: the parsed URL's host and port. */
	char host[HTTP_URL_HOSTMAX];
	char port[33];
	bool https; /* WAIT_HTTP over TLS */
};

/* Parses s into *t. Returns true, or false with the reason in err (one
 * line without the target's text: the caller names it). */
bool wait_target_parse(const char *s, struct wait_target *t, char *err, size_t errlen);

/* "tcp", "tls", "unix", "udp", "http" (for messages and JSON). */
const char *wait_kind_name(enum wait_kind k);

#endif
