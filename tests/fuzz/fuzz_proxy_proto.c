/* libFuzzer: the PROXY protocol parser on arbitrary bytes (fed whole and
 * as the reader feeds it, never past what it asked for), and the round
 * trip: what it parses as addresses, built again and parsed, gives the
 * same addresses. Nothing may crash, overrun or disagree. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/proxy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The builder sends an IPv4-mapped IPv6 address as the IPv4 one it is:
 * such a header does not come back as it went. */
static bool mapped(const struct sock_addr *a)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
	return s6->sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
}

static bool same(const struct sock_addr *a, const struct sock_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct pp_info info;
	size_t want;
	long whole = pp_parse(data, size, &info, &want, err, sizeof err);
	if (whole > 0 && (size_t)whole > size)
		abort();
	/* As the engine reads: never more than asked for. */
	size_t have = 0;
	long n;
	while ((n = pp_parse(data, have, &info, &want, err, sizeof err)) == 0) {
		if (want == 0 || have + want > size)
			break;
		have += want;
	}
	if (n > 0 && (size_t)n != have)
		abort(); /* it asked for more than the header */
	if (n > 0 && whole != n)
		abort();
	if (n <= 0 || info.local || mapped(&info.src) || mapped(&info.dst))
		return 0;
	struct pp_info first = info;
	for (int v = 1; v <= 2; v++) {
		uint8_t out[PP_BUILD_MAX];
		size_t len = pp_build(v, (const struct sockaddr *)&first.src.ss, first.src.len,
				      (const struct sockaddr *)&first.dst.ss, first.dst.len, out);
		if (len == 0 || len > PP_BUILD_MAX)
			abort();
		struct pp_info again;
		if (pp_parse(out, len, &again, &want, err, sizeof err) != (long)len ||
		    again.local || !same(&again.src, &first.src) || !same(&again.dst, &first.dst))
			abort();
	}
	return 0;
}
