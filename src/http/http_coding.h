/* HTTP content codings (RFC 9110 8.4.1), as the client decodes them
 * (http get --compressed) and the server encodes them (http serve
 * --compress): one list for both. */
#ifndef SOCKCTL_HTTP_CODING_H
#define SOCKCTL_HTTP_CODING_H

enum http_coding {
	HTTP_CODING_IDENTITY = 0,
	HTTP_CODING_GZIP,
	HTTP_CODING_BR,
	HTTP_CODING_DEFLATE,
	HTTP_CODINGS, /* how many */
	/* A coding this build cannot decode (or a list of several). */
	HTTP_CODING_UNKNOWN = HTTP_CODINGS,
};
#define HTTP_CODING_BIT(c) (1u << (c))

#endif
