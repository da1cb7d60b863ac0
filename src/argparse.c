/* Pure helpers for the command line: the nearest names for "did you
 * mean". No I/O, no messages. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "argparse.h"

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
