/* Pure parsing for the command line: endpoint operands and the nearest
 * names for "did you mean". No I/O, no messages: errors come back as text. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tool/argparse.h"

/* Optimal string alignment distance (Levenshtein plus swapping two
 * neighbours, the commonest typo); words here are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return SIZE_MAX;
	size_t d[64][64];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

int suggest_names(const char *word, const char *const *names, size_t n, const char *prefix,
		  char *out, size_t outlen)
{
	size_t wl = strlen(word), best = SIZE_MAX;
	/* A beginning counts as one edit ("conn" for connect); short words
	 * may be one edit off, longer ones two. */
	size_t limit = wl < 5 ? 1 : 2;
	size_t score[64];
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++) {
		score[i] = edit_distance(word, names[i]);
		if (wl >= 2 && strncmp(names[i], word, wl) == 0 && score[i] > 1)
			score[i] = 1;
		if (score[i] < best)
			best = score[i];
	}
	if (best > limit || best == 0)
		return 0;
	int named = 0;
	for (size_t i = 0; i < n && named < 3; i++) {
		if (score[i] != best)
			continue;
		size_t used = strlen(out);
		snprintf(out + used, outlen - used, "%s'%s%s'", named ? " or " : "", prefix,
			 names[i]);
		named++;
	}
	return named;
}

bool ipv6_literal(const char *s, size_t n)
{
	char b[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;
	size_t zone = strcspn(s, "%");
	if (zone < n)
		n = zone;
	if (n == 0 || n >= sizeof b)
		return false;
	memcpy(b, s, n);
	b[n] = '\0';
	return inet_pton(AF_INET6, b, &a) == 1;
}

int endpoint_split(int nargs, char **args, int flags, const char **host, const char **port,
		   char *err, size_t errlen)
{
	bool listen = flags & ENDPOINT_LISTEN;
	*host = *port = NULL;
	if (nargs < 1) {
		snprintf(err, errlen,
			 listen ? "missing PORT (0 picks a free one)" : "missing HOST and PORT");
		return -1;
	}
	char *a = args[0];
	char *colon = strchr(a, ':');
	char *cut = NULL; /* where the host ends, once all is checked */
	if (a[0] == '[') {
		char *close = strchr(a, ']');
		if (!close || !ipv6_literal(a + 1, (size_t)(close - a - 1)) ||
		    (close[1] && close[1] != ':')) {
			snprintf(err, errlen,
				 "invalid address '%s': brackets hold an IPv6 address, as in "
				 "[::1]:80 or [::1] 80",
				 a);
			return -1;
		}
		*host = a + 1;
		cut = close;
		colon = close[1] ? close + 1 : NULL;
	} else if (colon && strchr(colon + 1, ':')) {
		/* Several colons: a bare IPv6 address, whose port follows. */
		if (!ipv6_literal(a, strlen(a))) {
			snprintf(err, errlen,
				 "invalid host '%s': write HOST PORT, HOST:PORT or [IPV6]:PORT", a);
			return -1;
		}
		*host = a;
		colon = NULL;
	} else if (colon) {
		if (colon == a) {
			snprintf(err, errlen, "missing host before ':' in '%s'", a);
			return -1;
		}
		*host = a;
		cut = colon;
	} else if (listen && nargs == 1) {
		*port = a;
		return 1;
	} else {
		*host = a;
	}
	int used;
	if (colon) {
		if (!colon[1]) {
			snprintf(err, errlen, "missing PORT after ':' in '%s'", a);
			return -1;
		}
		if ((flags & ENDPOINT_EXACT) && nargs > 1) {
			snprintf(err, errlen, "'%s' has its port already: unexpected argument '%s'",
				 a, args[1]);
			return -1;
		}
		*port = colon + 1;
		used = 1;
	} else {
		if (nargs < 2) {
			snprintf(err, errlen, "missing PORT after '%s'", a);
			return -1;
		}
		*port = args[1];
		used = 2;
	}
	if (cut)
		*cut = '\0';
	return used;
}
