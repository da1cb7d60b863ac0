/* The --alpn list in TLS's wire form: names kept in order with their
 * lengths, and every malformed list refused. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "net/tls_alpn.h"
#include "tap.h"

static int wire_is(const char *list, const char *want, size_t wantlen)
{
	unsigned char *w = NULL;
	size_t n = 0;
	if (tls_alpn_wire(list, &w, &n) < 0)
		return 0;
	int same = n == wantlen && memcmp(w, want, n) == 0;
	free(w);
	return same;
}

static int refused(const char *list)
{
	unsigned char *w = NULL;
	size_t n = 0;
	return tls_alpn_wire(list, &w, &n) < 0 && !w;
}

int main(void)
{
	ok(wire_is("h2", "\2h2", 3), "one name");
	ok(wire_is("h2,http/1.1", "\2h2\10http/1.1", 12), "two names in order");
	ok(wire_is("a,b,c", "\1a\1b\1c", 6), "one-byte names");
	ok(refused(""), "an empty list");
	ok(refused(","), "a lone comma");
	ok(refused(",h2"), "an empty first name");
	ok(refused("h2,"), "a trailing comma");
	ok(refused("h2,,x"), "an empty name between two");

	char name[300];
	memset(name, 'x', sizeof name);
	name[255] = '\0';
	unsigned char *w = NULL;
	size_t n = 0;
	ok(tls_alpn_wire(name, &w, &n) == 0 && n == 256 && w[0] == 255,
	   "a 255-byte name is the longest");
	free(w);
	name[255] = 'x';
	name[256] = '\0';
	ok(refused(name), "a 256-byte name");
	tap_done();
}
