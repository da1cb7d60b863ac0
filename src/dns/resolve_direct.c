/* Direct DNS: a response as lines, data only or JSON, and its outcome;
 * a query that got no response; a zone transfer as it comes. */
#include "config.h"

#include <stdio.h>

#include "dns/dns_msg.h"
#include "dns/resolve.h"
#include "dns/resolve_axfr.h"
#include "dns/resolve_dns.h"

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

/* One answer record: a JSON object (the n-th), data only, or a line. */
static void put_record(struct resolve_job *j, const struct dns_msg *m, const struct dns_rr *rr,
		       unsigned n, struct sbuf *data)
{
	char t[16];
	struct sbuf *o = &j->out;
	sb_reset(data);
	dns_rdata_format(m, rr, data);
	const char *tn = dns_type_name(rr->type, t);
	if (j->x->mode == RESOLVE_JSON) {
		sb_puts(o, n ? ",{\"name\":" : "{\"name\":");
		json_str(o, rr->name);
		sb_printf(o, ",\"type\":\"%s\",\"ttl\":%u,\"data\":", tn, rr->ttl);
		json_str(o, sb_str(data));
		sb_putc(o, '}');
	} else if (j->x->mode == RESOLVE_SHORT)
		sb_printf(o, "%s\n", sb_str(data));
	else
		sb_printf(o, "%s\t%u\tIN\t%s\t%s\n", rr->name, rr->ttl, tn, sb_str(data));
}

void resolve_dns_noanswer(struct resolve_job *j, const struct rdns_result *res)
{
	char t[16];
	j->label = noanswer_word(res->noanswer);
	if (j->x->mode == RESOLVE_JSON) {
		j->status = RES_TIMEOUT;
		resolve_job_json_head(j, "dns");
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
	resolve_job_fail(j, RES_TIMEOUT, "dns", why);
}

void resolve_dns_format(struct resolve_job *j, const struct rdns_result *res)
{
	struct dns_msg m;
	struct dns_rr rr;
	struct sbuf data;
	char t1[16], t2[16];
	if (dns_msg_init(&m, res->abuf, res->alen) < 0) {
		resolve_job_fail(j, RES_FAIL, "dns", "malformed response");
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
		resolve_job_fail(j, RES_FAIL, "dns", "malformed response");
		return;
	}
	m.rcode = m2.rcode;
	j->status = rcode_status(m.rcode);
	if (j->status == RES_OK && answers == 0)
		j->status = RES_NODATA;
	bool tc = m.flags & DNS_FLAG_TC;
	enum resolve_out mode = j->x->mode;
	struct sbuf *o = &j->out;
	if (mode == RESOLVE_JSON) {
		resolve_job_json_head(j, "dns");
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
	} else if (mode == RESOLVE_LINES) {
		sb_puts(o, ";; ");
		resolve_put_query(o, j);
		sb_printf(o, ": %s (%s) from %s over %s in %.2f ms%s\n",
			  resolve_status_name(j->status), dns_rcode_name(m.rcode, t2), res->server,
			  res->transport, res->rtt_ms, tc ? ", truncated" : "");
	} else if (j->status != RES_OK && !j->x->quiet) {
		sb_puts(&j->err, "sockctl: resolve ");
		resolve_put_query(&j->err, j);
		sb_printf(&j->err, ": %s (%s from %s)\n", resolve_status_name(j->status),
			  dns_rcode_name(m.rcode, t2), res->server);
	}
	unsigned n = 0;
	while (dns_msg_next(&m, &rr) == 1) {
		if (rr.section != DNS_SEC_ANSWER)
			break;
		put_record(j, &m, &rr, n++, &data);
	}
	if (mode == RESOLVE_JSON)
		sb_puts(o, "]}\n");
	sb_free(&data);
}

/* ---- zone transfers: records as they come, the outcome at the end ---- */

void resolve_axfr_begin(struct resolve_job *j)
{
	if (j->x->mode != RESOLVE_JSON)
		return;
	/* The status is known only at the end, so it comes after the records. */
	struct sbuf q;
	sb_init(&q);
	dns_escape_host(&q, j->arg);
	sb_puts(&j->out, "{\"query\":");
	json_str(&j->out, sb_str(&q));
	sb_puts(&j->out, ",\"kind\":\"axfr\",\"type\":\"AXFR\",\"answers\":[");
	sb_free(&q);
}

void resolve_axfr_record(struct resolve_job *j, const struct dns_msg *m, const struct dns_rr *rr)
{
	struct sbuf data;
	sb_init(&data);
	put_record(j, m, rr, j->records++, &data);
	sb_free(&data);
}

void resolve_axfr_end(struct resolve_job *j, const struct raxfr_result *res)
{
	char t[16];
	const char *hint = NULL;
	switch (res->status) {
	case RAXFR_OK:
		j->status = RES_OK;
		break;
	case RAXFR_RCODE:
		j->status = rcode_status(res->rcode);
		hint = res->rcode == DNS_RCODE_REFUSED	 ? "the server refuses this transfer"
		       : res->rcode == DNS_RCODE_NOTAUTH ? "the server is not authoritative for it"
							 : "the server could not transfer it";
		break;
	case RAXFR_NOTZONE:
		j->status = RES_NODATA;
		break;
	case RAXFR_NOANSWER:
	case RAXFR_CUT:
		j->status = RES_TIMEOUT;
		j->label = noanswer_word(res->noanswer);
		break;
	case RAXFR_MALFORMED:
	case RAXFR_ERROR:
		j->status = RES_FAIL;
		break;
	}
	const char *why = hint ? hint : res->errtext;
	struct sbuf *o = &j->out;
	if (j->x->mode == RESOLVE_JSON) {
		sb_printf(o,
			  "],\"status\":\"%s\",\"exit\":%d,\"server\":", resolve_job_status_word(j),
			  j->status);
		json_str(o, res->server);
		sb_printf(o, ",\"transport\":\"tcp\",\"attempts\":%d", res->attempts);
		if (res->status == RAXFR_RCODE || res->status == RAXFR_OK ||
		    res->status == RAXFR_NOTZONE)
			sb_printf(o, ",\"rcode\":\"%s\"", dns_rcode_name(res->rcode, t));
		sb_printf(o, ",\"ms\":%lld,\"messages\":%u,\"records\":%u,\"bytes\":%llu",
			  (long long)res->ms, res->messages, res->records,
			  (unsigned long long)res->bytes);
		if (why) {
			sb_puts(o, ",\"error\":");
			json_str(o, why);
		}
		sb_puts(o, "}\n");
		return;
	}
	if (j->x->mode == RESOLVE_SHORT && res->status == RAXFR_OK)
		return;
	if (j->x->mode == RESOLVE_SHORT) {
		if (j->x->quiet)
			return;
		o = &j->err;
		sb_puts(o, "sockctl: resolve ");
	} else
		sb_puts(o, ";; ");
	resolve_put_query(o, j);
	sb_printf(o, ": %s", resolve_job_status_word(j));
	switch (res->status) {
	case RAXFR_OK:
		sb_printf(
		    o, " (NOERROR) from %s over tcp in %lld ms: %u records in %u %s, %llu bytes",
		    res->server, (long long)res->ms, res->records, res->messages,
		    res->messages == 1 ? "message" : "messages", (unsigned long long)res->bytes);
		break;
	case RAXFR_RCODE:
		sb_printf(o, " (%s: %s) from %s over tcp", dns_rcode_name(res->rcode, t), why,
			  res->server);
		break;
	case RAXFR_NOANSWER:
		sb_printf(o, " (%s; %d %s, last %s over tcp)", why, res->attempts,
			  res->attempts == 1 ? "try" : "tries", res->server);
		break;
	case RAXFR_ERROR:
		sb_printf(o, " (%s)", why);
		break;
	default:
		sb_printf(o, " (%s) from %s over tcp", why, res->server);
		break;
	}
	sb_putc(o, '\n');
}
