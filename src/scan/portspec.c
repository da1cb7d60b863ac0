#include "config.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "scan/portspec.h"

/* Longest item worth looking at: service names are short. */
#define ITEM_MAX 64

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One port: 1..65535 in decimal, or a service name. */
static bool one_port(const char *s, size_t n, int socktype, uint16_t *out, char *err, size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "empty port");
		return false;
	}
	if (n >= ITEM_MAX) {
		snprintf(err, errlen, "port '%.20s...' is too long", s);
		return false;
	}
	char tmp[ITEM_MAX];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (all_digits(s, n)) {
		unsigned long v = n > 5 ? 70000 : strtoul(tmp, NULL, 10);
		if (v < 1 || v > 65535) {
			snprintf(err, errlen, "port '%s' is out of range (1-65535)", tmp);
			return false;
		}
		*out = (uint16_t)v;
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tmp[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '+' || c == '/')) {
			snprintf(err, errlen, "bad character in port '%.*s'",
				 (int)(n > 20 ? 20 : n), tmp);
			return false;
		}
	}
	struct servent *se = getservbyname(tmp, socktype == SOCK_DGRAM ? "udp" : "tcp");
	if (!se) {
		snprintf(err, errlen, "unknown service '%s'", tmp);
		return false;
	}
	*out = ntohs((uint16_t)se->s_port);
	return true;
}

static bool add_port(struct portspec *ps, uint8_t *seen, uint16_t p)
{
	if (seen[p >> 3] & (1u << (p & 7)))
		return true;
	seen[p >> 3] |= (uint8_t)(1u << (p & 7));
	ps->ports[ps->n++] = p;
	return true;
}

int portspec_parse(const char *s, int socktype, struct portspec *out, char *err, size_t errlen)
{
	out->ports = NULL;
	out->n = 0;
	if (!s || !*s) {
		snprintf(err, errlen, "empty port list");
		return -1;
	}
	uint8_t *seen = calloc(65536 / 8, 1);
	out->ports = malloc(65535 * sizeof *out->ports);
	if (!seen || !out->ports) {
		free(seen);
		portspec_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *p = s;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0) {
			snprintf(err, errlen, "empty item in port list '%.40s'", s);
			goto fail;
		}
		uint16_t lo, hi;
		/* A service name may itself hold '-' (e.g. "ftp-data"), so a
		 * whole item that names a service wins over a range. */
		const char *dash = memchr(p, '-', n);
		char e2[128];
		if (dash && !one_port(p, n, socktype, &lo, e2, sizeof e2)) {
			size_t ln = (size_t)(dash - p);
			if (!one_port(p, ln, socktype, &lo, err, errlen) ||
			    !one_port(dash + 1, n - ln - 1, socktype, &hi, err, errlen))
				goto fail;
			if (lo > hi) {
				snprintf(err, errlen, "range %u-%u is reversed", lo, hi);
				goto fail;
			}
			for (unsigned v = lo; v <= hi; v++)
				add_port(out, seen, (uint16_t)v);
		} else if (dash) {
			add_port(out, seen, lo);
		} else {
			if (!one_port(p, n, socktype, &lo, err, errlen))
				goto fail;
			add_port(out, seen, lo);
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	free(seen);
	return 0;
fail:
	free(seen);
	portspec_free(out);
	return -1;
}

void portspec_free(struct portspec *ps)
{
	free(ps->ports);
	ps->ports = NULL;
	ps->n = 0;
}
