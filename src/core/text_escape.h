/* Backslash escapes in TEXT option values (serve --respond, http serve
 * --body, the dialogues of connect --send and the scripts), as printf(1)
 * users write them: 'HTTP/1.0 200 OK\r\n\r\nhi'; the way back for bytes
 * shown to the user; and --upper's ASCII letters. Pure functions, no I/O. */
#ifndef SOCKCTL_TEXT_ESCAPE_H
#define SOCKCTL_TEXT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;

/* Decodes \\ \" \$ \a \b \e \f \n \r \t \v, \xH or \xHH (hex) and \N, \NN or
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

/* For a regex written in a script or an option: only \r \n \t \e and
 * \xH/\xHH become the bytes they stand for (a NUL is refused: a regex
 * cannot hold one); every other backslash is the regex's own and is kept
 * with the byte after it (\\ \. \+ \1 \b \<). Returns and fails as
 * text_unescape does. */
long text_unescape_regex(const char *in, size_t inlen, char *out, size_t outcap, char *err,
			 size_t errlen);

/* The inverse, for showing bytes from a peer on one line: \\ \" \n \r
 * \t escaped, other printable ASCII as it is, every other byte \xHH
 * (always two digits), so that the text can be pasted back as TEXT. */
void text_escape(struct sbuf *b, const char *p, size_t n);

/* ASCII upper-casing in place (serve --upper): bytes outside a-z pass
 * unchanged, so UTF-8 stays valid. */
void text_upper(char *p, size_t n);

#endif
