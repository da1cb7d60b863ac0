/* Pure parsing for the command line: endpoint operands (HOST PORT,
 * HOST:PORT, [IPV6]:PORT) and the nearest names for "did you mean". No
 * I/O and no messages: errors come back as text. */
#ifndef SOCKCTL_ARGPARSE_H
#define SOCKCTL_ARGPARSE_H

#include <stdbool.h>
#include <stddef.h>

/* "did you mean": appends to out (size outlen) the names of the n-entry
 * names[] nearest to word by edit distance (letters swapped, added,
 * dropped or changed), as "'a'", "'a' or 'b'", each with prefix before
 * it; nothing when none is near enough. Returns how many it named. */
int suggest_names(const char *word, const char *const *names, size_t n, const char *prefix,
		  char *out, size_t outlen);

/* An IPv6 address (with a %zone or not) in the n bytes at s. */
bool ipv6_literal(const char *s, size_t n);

/* An endpoint from the operands: HOST PORT, HOST:PORT, [IPV6]:PORT or
 * [IPV6] PORT; a bare IPv6 address (::1 80) is a HOST. ENDPOINT_LISTEN:
 * one operand without ':' is a PORT alone (host NULL). ENDPOINT_EXACT:
 * the endpoint is the only operand (HOST:PORT then takes no PORT after
 * it). The brackets and the separating ':' are cut out of the operand in
 * place, so *host and *port point into args. Returns how many operands
 * it used (1 or 2), or -1 with the reason in err. Never looks up a name:
 * a host with a ':' that is not an IPv6 address is refused here. */
enum { ENDPOINT_LISTEN = 1, ENDPOINT_EXACT = 2 };
int endpoint_split(int nargs, char **args, int flags, const char **host, const char **port,
		   char *err, size_t errlen);

#endif
