/* Backslash escapes in TEXT option values (serve --respond, http serve
 * --body), as printf(1) users write them: 'HTTP/1.0 200 OK\r\n\r\nhi'; and
 * --upper's ASCII letters. Pure functions, no I/O. */
#ifndef SOCKCTL_TEXT_ESCAPE_H
#define SOCKCTL_TEXT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes \\ \" \a \b \e \f \n \r \t \v, \xH or \xHH (hex) and \N, \NN or
 * \NNN (octal, at most \377; \0 is a NUL byte); every other byte is
 * copied as it is. Writes at most outcap bytes: inlen always suffices,
 * as the text never grows. Returns the number of bytes, or -1 with a
 * message in err: an unknown escape, a backslash at the end, \x without
 * a hex digit, an octal value above \377, or more than outcap bytes. */
long text_unescape(const char *in, size_t inlen, char *out, size_t outcap, char *err,
		   size_t errlen);

/* text_unescape() of the NUL-terminated s into a new buffer (*out, NUL
 * terminated, owned by the caller; NULL on error). */
long text_unescape_dup(const char *s, char **out, char *err, size_t errlen);

/* ASCII upper-casing in place (serve --upper): bytes outside a-z pass
 * unchanged, so UTF-8 stays valid. */
void text_upper(char *p, size_t n);

#endif
