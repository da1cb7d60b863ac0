/* libFuzzer: a zone transfer stream (length-prefixed messages, any number
 * of them) fed in pieces of every size, each record put in presentation
 * format. Everything printed must be printable ASCII, whatever the input,
 * and the same stream must give the same result however it is cut. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_fmt.h"
#include "dns/dns_msg.h"
#include "dns/dns_xfr.h"

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

/* Returns the records read; fills *failed and *done. */
static unsigned run(struct dns_xfr *x, const uint8_t *p, size_t n, size_t step, struct sbuf *b,
		    int *failed)
{
	unsigned records = 0;
	*failed = 0;
	dns_xfr_init(x, 0x1234, "zone");
	while (n && !x->done) {
		size_t take = n < step ? n : step, used;
		enum dns_xfr_ret r = dns_xfr_feed(x, p, take, &used);
		p += used;
		n -= used;
		if (r == DNS_XFR_FAIL) {
			*failed = 1;
			break;
		}
		if (r != DNS_XFR_MSG)
			continue;
		struct dns_rr rr;
		int k;
		while ((k = dns_xfr_next(x, &rr)) == 1) {
			check_printable(rr.name);
			sb_reset(b);
			if (dns_rdata_format(&x->msg, &rr, b) == 0)
				check_printable(sb_str(b));
			records++;
		}
		if (k < 0) {
			*failed = 1;
			break;
		}
	}
	check_printable(x->err);
	return records;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_xfr x;
	struct sbuf b;
	if (size < 1)
		return 0;
	size_t step = 1 + data[0] % 64;
	sb_init(&b);
	int f1, f2;
	unsigned r1 = run(&x, data + 1, size - 1, step, &b, &f1);
	unsigned m1 = x.messages;
	bool d1 = x.done;
	unsigned r2 = run(&x, data + 1, size - 1, size, &b, &f2);
	if (r1 != r2 || f1 != f2 || m1 != x.messages || d1 != x.done)
		abort();
	sb_free(&b);
	return 0;
}
