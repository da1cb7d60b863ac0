/* libFuzzer: DNS response parsing and presentation-format output. The
 * output must be printable ASCII only, whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_fmt.h"
#include "dns/dns_msg.h"

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_msg m;
	struct dns_rr rr;
	struct sbuf b;
	if (dns_msg_init(&m, data, size) < 0)
		return 0;
	check_printable(m.qname);
	sb_init(&b);
	while (dns_msg_next(&m, &rr) == 1) {
		check_printable(rr.name);
		sb_reset(&b);
		if (dns_rdata_format(&m, &rr, &b) == 0)
			check_printable(sb_str(&b));
		sb_reset(&b);
		json_string(&b, (const char *)data, size < 512 ? size : 512);
		check_printable(sb_str(&b));
	}
	sb_free(&b);
	return 0;
}
