/* -C: line endings sent as CRLF. Pure. */
#ifndef SOCKCTL_CRLF_H
#define SOCKCTL_CRLF_H

#include <stdbool.h>
#include <stddef.h>

/* -C: turns each "\n" not after "\r" into "\r\n" in place (t has room
 * for 2n bytes, n > 0); *prev_cr carries the last byte across calls. */
size_t crlf_expand(char *t, size_t n, bool *prev_cr);

#endif
