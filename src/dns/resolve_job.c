/* A lookup's status and its failure lines, shared by the command and the
 * engines that fill jobs (system resolver, direct DNS). */
#include "config.h"

#include "dns/dns_msg.h"
#include "dns/resolve.h"

const char *resolve_status_name(int status)
{
	switch (status) {
	case RES_OK:
		return "ok";
	case RES_NXDOMAIN:
		return "nxdomain";
	case RES_NODATA:
		return "nodata";
	case RES_SERVFAIL:
		return "servfail";
	case RES_REFUSED:
		return "refused";
	case RES_TIMEOUT:
		return "timeout";
	}
	return "error";
}

const char *resolve_job_status_word(const struct resolve_job *j)
{
	return j->label ? j->label : resolve_status_name(j->status);
}

int resolve_worst(int a, int b)
{
	if (a == RES_FAIL || b == RES_FAIL)
		return RES_FAIL;
	return a > b ? a : b;
}

void resolve_put_query(struct sbuf *o, const struct resolve_job *j)
{
	dns_escape_host(o, j->arg ? j->arg : "");
	if (j->qtype > 0) {
		char t[16];
		sb_printf(o, " %s", dns_type_name((uint16_t)j->qtype, t));
	}
}

void resolve_job_json_head(struct resolve_job *j, const char *kind)
{
	struct sbuf q;
	sb_init(&q);
	dns_escape_host(&q, j->arg ? j->arg : "");
	sb_puts(&j->out, "{\"query\":");
	json_str(&j->out, sb_str(&q));
	sb_free(&q);
	sb_printf(&j->out, ",\"kind\":\"%s\",\"status\":\"%s\",\"exit\":%d", kind,
		  resolve_job_status_word(j), j->status);
}

void resolve_job_fail(struct resolve_job *j, int status, const char *kind, const char *detail)
{
	j->status = status;
	if (j->x->mode == RESOLVE_JSON) {
		resolve_job_json_head(j, kind);
		sb_puts(&j->out, ",\"error\":");
		json_str(&j->out, detail ? detail : resolve_job_status_word(j));
		sb_puts(&j->out, "}\n");
		return;
	}
	struct sbuf *o = j->x->mode == RESOLVE_SHORT ? &j->err : &j->out;
	if (j->x->mode == RESOLVE_SHORT) {
		if (j->x->quiet)
			return;
		sb_puts(o, "sockctl: resolve ");
	} else
		sb_puts(o, ";; ");
	resolve_put_query(o, j);
	sb_printf(o, ": %s", resolve_job_status_word(j));
	if (detail)
		sb_printf(o, " (%s)", detail);
	sb_putc(o, '\n');
}
