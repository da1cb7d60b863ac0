/* Direct DNS: a response as lines, data only or JSON, and its outcome;
 * a query that got no response. */
#include "config.h"

#include <stdio.h>

#include "dns_msg.h"
#include "resolve.h"
#include "resolve_dns.h"

static int rcode_status(int rcode)
{
	switch (rcode) {
	case DNS_RCODE_NOERROR:
		return RES_OK;
	case DNS_RCODE_NXDOMAIN:
		return RES_NXDOMAIN;
	case DNS_RCODE_REFUSED:
		return RES_REFUSED;
	default: /* SERVFAIL, FORMERR, NOTIMP, ...: the server could not */
		return RES_SERVFAIL;
	}
}

/* Why no response came, as a status word for exit status 7. */
static const char *noanswer_word(enum rdns_noanswer why)
{
	switch (why) {
	case RDNS_TIMEDOUT:
		break;
	case RDNS_UNREACHABLE:
		return "unreachable";
	case RDNS_CLOSED:
		return "closed";
	}
	return "timeout";
}

void dns_noanswer(struct job *j, const struct rdns_result *res)
{
	char t[16];
	j->label = noanswer_word(res->noanswer);
	if (j->x->mode == OUT_JSON) {
		j->status = RES_TIMEOUT;
		job_json_head(j, "dns");
		sb_printf(&j->out,
			  ",\"type\":\"%s\",\"server\":", dns_type_name((uint16_t)j->qtype, t));
		json_str(&j->out, res->server);
		sb_printf(&j->out, ",\"transport\":\"%s\",\"attempts\":%d,\"tries\":%d,\"error\":",
			  res->transport, res->attempts, res->tries);
		json_str(&j->out, res->errtext);
		sb_puts(&j->out, "}\n");
		return;
	}
	char why[256];
	snprintf(why, sizeof why, "%s; %d %s, last %s over %s%s", res->errtext, res->tries,
		 res->tries == 1 ? "try" : "tries", res->server, res->transport,
		 res->after_tc ? " after a truncated udp answer" : "");
	job_fail(j, RES_TIMEOUT, "dns", why);
}

void dns_format(struct job *j, const struct rdns_result *res)
{
	struct dns_msg m;
	struct dns_rr rr;
	struct sbuf data;
	char t1[16], t2[16];
	if (dns_msg_init(&m, res->abuf, res->alen) < 0) {
		job_fail(j, RES_FAIL, "dns", "malformed response");
		return;
	}
	/* First pass: check every record and count the answers. */
	int answers = 0, r;
	sb_init(&data);
	struct dns_msg m2 = m;
	while ((r = dns_msg_next(&m2, &rr)) == 1) {
		if (rr.section == DNS_SEC_ANSWER &&
		    (rr.type == j->qtype || (j->qtype == 255 && rr.type != DNS_T_OPT)))
			answers++;
		if (rr.type != DNS_T_OPT && dns_rdata_format(&m2, &rr, &data) < 0)
			r = -1;
		sb_reset(&data);
		if (r < 0)
			break;
	}
	if (r < 0) {
		sb_free(&data);
		job_fail(j, RES_FAIL, "dns", "malformed response");
		return;
	}
	m.rcode = m2.rcode;
	j->status = rcode_status(m.rcode);
	if (j->status == RES_OK && answers == 0)
		j->status = RES_NODATA;
	bool tc = m.flags & DNS_FLAG_TC;
	enum out_mode mode = j->x->mode;
	struct sbuf *o = &j->out;
	if (mode == OUT_JSON) {
		job_json_head(j, "dns");
		sb_puts(o, ",\"name\":");
		json_str(o, m.qname);
		sb_printf(o, ",\"type\":\"%s\",\"rcode\":\"%s\",\"server\":",
			  dns_type_name((uint16_t)j->qtype, t1), dns_rcode_name(m.rcode, t2));
		json_str(o, res->server);
		sb_printf(o, ",\"transport\":\"%s\",\"rtt_ms\":%.3f,\"attempts\":%d",
			  res->transport, res->rtt_ms, res->attempts);
		sb_printf(o, ",\"aa\":%s,\"tc\":%s,\"rd\":%s,\"ra\":%s,\"answers\":[",
			  m.flags & DNS_FLAG_AA ? "true" : "false", tc ? "true" : "false",
			  m.flags & DNS_FLAG_RD ? "true" : "false",
			  m.flags & DNS_FLAG_RA ? "true" : "false");
	} else if (mode == OUT_LINES) {
		sb_puts(o, ";; ");
		put_query(o, j);
		sb_printf(o, ": %s (%s) from %s over %s in %.2f ms%s\n", res_status_name(j->status),
			  dns_rcode_name(m.rcode, t2), res->server, res->transport, res->rtt_ms,
			  tc ? ", truncated" : "");
	} else if (j->status != RES_OK && !j->x->quiet) {
		sb_puts(&j->err, "sockctl: resolve ");
		put_query(&j->err, j);
		sb_printf(&j->err, ": %s (%s from %s)\n", res_status_name(j->status),
			  dns_rcode_name(m.rcode, t2), res->server);
	}
	int n = 0;
	while (dns_msg_next(&m, &rr) == 1) {
		if (rr.section != DNS_SEC_ANSWER)
			break;
		sb_reset(&data);
		dns_rdata_format(&m, &rr, &data);
		const char *tn = dns_type_name(rr.type, t1);
		if (mode == OUT_JSON) {
			sb_puts(o, n ? ",{\"name\":" : "{\"name\":");
			json_str(o, rr.name);
			sb_printf(o, ",\"type\":\"%s\",\"ttl\":%u,\"data\":", tn, rr.ttl);
			json_str(o, sb_str(&data));
			sb_putc(o, '}');
		} else if (mode == OUT_SHORT)
			sb_printf(o, "%s\n", sb_str(&data));
		else
			sb_printf(o, "%s\t%u\tIN\t%s\t%s\n", rr.name, rr.ttl, tn, sb_str(&data));
		n++;
	}
	if (mode == OUT_JSON)
		sb_puts(o, "]}\n");
	sb_free(&data);
}
