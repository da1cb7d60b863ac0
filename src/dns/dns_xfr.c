#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns/dns_xfr.h"

static enum dns_xfr_ret fail(struct dns_xfr *x, enum dns_xfr_fail why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum dns_xfr_ret fail(struct dns_xfr *x, enum dns_xfr_fail why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err, sizeof x->err, fmt, ap);
	va_end(ap);
	x->fail = why;
	x->failed = true;
	return DNS_XFR_FAIL;
}

int dns_xfr_init(struct dns_xfr *x, uint16_t id, const char *zone)
{
	uint8_t wire[256];
	size_t off = 0;
	memset(x, 0, offsetof(struct dns_xfr, frame));
	x->id = id;
	/* Back from wire format: the zone as records name it (escapes and
	 * the final dot as dns_read_name writes them), to compare. */
	int n = dns_name_to_wire(zone, wire, sizeof wire);
	if (n < 0 || dns_read_name(wire, (size_t)n, &off, x->zone, sizeof x->zone) < 0)
		return -1;
	return 0;
}

/* A whole message is in the frame: 1 to read it, 0 to skip it, or
 * DNS_XFR_FAIL's -1. */
static int take(struct dns_xfr *x, size_t len)
{
	struct dns_msg *m = &x->msg;
	char t[16];
	if (dns_msg_init(m, x->frame, len) < 0) {
		fail(x, DNS_XFR_MALFORMED, "malformed message %u", x->messages + 1);
		return -1;
	}
	/* Not a response (a query sent back to us): ignored, as over UDP. */
	if (!(m->flags & DNS_FLAG_QR))
		return 0;
	if (m->id != x->id) {
		fail(x, DNS_XFR_MALFORMED, "message %u has id %u, the query had %u",
		     x->messages + 1, m->id, x->id);
		return -1;
	}
	if (m->flags & 0x7800) {
		fail(x, DNS_XFR_MALFORMED, "message %u has opcode %u", x->messages + 1,
		     (m->flags >> 11) & 0xf);
		return -1;
	}
	if (m->rcode != DNS_RCODE_NOERROR) {
		x->rcode = m->rcode;
		fail(x, DNS_XFR_RCODE, "%s", dns_rcode_name(m->rcode, t));
		return -1;
	}
	if (m->flags & DNS_FLAG_TC) {
		fail(x, DNS_XFR_MALFORMED, "message %u is marked truncated", x->messages + 1);
		return -1;
	}
	/* Only the first message must carry the question (RFC 5936 2.2.1);
	 * where there is one it must be ours. */
	if (m->count[0] &&
	    (strcasecmp(m->qname, x->zone) != 0 || m->qtype != DNS_T_AXFR || m->qclass != 1)) {
		fail(x, DNS_XFR_MALFORMED, "message %u answers another question (%s %s)",
		     x->messages + 1, m->qname, dns_type_name(m->qtype, t));
		return -1;
	}
	if (x->messages == 0 && m->count[1] == 0) {
		fail(x, DNS_XFR_NOTZONE, "no records: %s is not a zone of this server", x->zone);
		return -1;
	}
	x->messages++;
	return 1;
}

enum dns_xfr_ret dns_xfr_feed(struct dns_xfr *x, const uint8_t *p, size_t n, size_t *used)
{
	size_t at = 0;
	enum dns_xfr_ret ret = DNS_XFR_MORE;
	*used = 0;
	if (x->failed)
		return DNS_XFR_FAIL;
	while (at < n && ret == DNS_XFR_MORE) {
		if (x->lenhave < 2) {
			x->lenbuf[x->lenhave++] = p[at++];
			if (x->lenhave < 2)
				continue;
			x->need = (size_t)x->lenbuf[0] << 8 | x->lenbuf[1];
			x->have = 0;
			if (x->need < 12)
				ret = fail(x, DNS_XFR_MALFORMED, "a message of %zu bytes", x->need);
			continue;
		}
		size_t k = n - at < x->need - x->have ? n - at : x->need - x->have;
		memcpy(x->frame + x->have, p + at, k);
		x->have += k;
		at += k;
		if (x->have < x->need)
			continue;
		x->lenhave = 0;
		int r = take(x, x->need);
		if (r < 0)
			ret = DNS_XFR_FAIL;
		else if (r > 0)
			ret = DNS_XFR_MSG;
	}
	x->bytes += at;
	*used = at;
	return ret;
}

int dns_xfr_next(struct dns_xfr *x, struct dns_rr *rr)
{
	struct dns_msg *m = &x->msg;
	if (x->failed)
		return -1;
	/* The answer section is the transfer; the others (OPT, TSIG) are not. */
	if (m->section != DNS_SEC_ANSWER || m->left == 0)
		return 0;
	if (dns_msg_next(m, rr) < 0) {
		fail(x, DNS_XFR_MALFORMED, "malformed record in message %u", x->messages);
		return -1;
	}
	if (x->done) {
		fail(x, DNS_XFR_MALFORMED, "records after the closing SOA");
		return -1;
	}
	bool soa = rr->type == DNS_T_SOA && strcasecmp(rr->name, x->zone) == 0;
	if (x->records == 0 && !soa) {
		fail(x, DNS_XFR_MALFORMED, "the transfer does not start with the SOA of %s",
		     x->zone);
		return -1;
	}
	if (x->records > 0 && soa)
		x->done = true;
	x->records++;
	return 1;
}
