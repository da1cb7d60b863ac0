/* Port lists for scanning: "22,80,8000-8100,https". Pure parsing, no I/O
 * beyond the services database. */
#ifndef SOCKCTL_PORTSPEC_H
#define SOCKCTL_PORTSPEC_H

#include <stddef.h>
#include <stdint.h>

struct portspec {
	uint16_t *ports; /* owned; in the order given, each port once */
	size_t n;
};

/* Parses a comma-separated list of ports, ranges LO-HI and service names
 * (looked up for socktype: SOCK_STREAM = tcp, SOCK_DGRAM = udp). Port 0,
 * reversed ranges, empty items and unknown names are errors. Returns 0, or
 * -1 with a message in err. Free with portspec_free. */
int portspec_parse(const char *s, int socktype, struct portspec *out, char *err, size_t errlen);
void portspec_free(struct portspec *ps);

#endif
