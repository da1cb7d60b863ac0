/* libFuzzer: the rule parser never crashes; a parsed rule always matches
 * its own address. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128];
	if (size >= sizeof s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct acl a;
	char err[256];
	acl_init(&a);
	if (acl_add(&a, true, s, err, sizeof err) == 0) {
		struct sockaddr_storage ss = {0};
		const struct acl_rule *r = &a.allow[0];
		if (r->family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, r->addr, 4);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, r->addr, 16);
		}
		if (!acl_permits(&a, (struct sockaddr *)&ss))
			abort();
	}
	acl_free(&a);
	return 0;
}
