/* libFuzzer: every proxy reply decoder on arbitrary bytes, and the
 * encoders on arbitrary targets; nothing may crash or overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	int method;
	proxy_http_response((const char *)data, size, err, sizeof err);
	proxy_socks4_reply(data, size, err, sizeof err);
	proxy_socks5_method(data, size, size & 1, &method, err, sizeof err);
	proxy_socks5_auth_reply(data, size, err, sizeof err);
	long n = proxy_socks5_reply_len(data, size, err, sizeof err);
	if (n > 0 && (size_t)n <= size)
		proxy_socks5_reply(data, (size_t)n, err, sizeof err);

	/* Input split into host, user and password at NUL bytes. */
	char *s = malloc(size + 3);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = s[size + 1] = s[size + 2] = '\0';
	const char *host = s, *user = host + strlen(host) + 1;
	if (user > s + size)
		user = s + size;
	const char *pass = user + strlen(user) + 1;
	if (pass > s + size + 1)
		pass = s + size + 1;
	struct proxy_target t = {.type = PROXY_HTTP,
				 .host = host,
				 .port = (uint16_t)size,
				 .user = *user ? user : NULL,
				 .pass = pass};
	char out[1024];
	uint8_t bo[1024];
	proxy_http_request(&t, out, sizeof out, err, sizeof err);
	proxy_socks4_request(&t, bo, sizeof bo, err, sizeof err);
	proxy_socks5_greeting(&t, bo, sizeof bo);
	if (t.user)
		proxy_socks5_auth(&t, bo, sizeof bo, err, sizeof err);
	proxy_socks5_request(&t, bo, sizeof bo, err, sizeof err);
	char u[300], p[300];
	proxy_auth_parse(host, u, sizeof u, p, sizeof p);
	free(s);
	return 0;
}
