/* Pure helpers for the command line: the nearest names for "did you
 * mean". No I/O and no messages. */
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

#endif
