/* Lookups through the system: getaddrinfo and getnameinfo (so /etc/hosts,
 * nsswitch and resolv.conf apply), /etc/services and /etc/protocols, and
 * this machine's own names. Each fills a job's output. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/parse.h"
#include "dns/resolve.h"

/* getaddrinfo's errors as outcomes. It cannot tell SERVFAIL, REFUSED and
 * a timeout apart (all EAI_AGAIN): that is what --server is for. */
static int gai_status(int e)
{
	switch (e) {
	case EAI_NONAME:
		return RES_NXDOMAIN;
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return RES_NODATA;
	case EAI_AGAIN:
		return RES_TIMEOUT;
	case EAI_FAIL:
		return RES_SERVFAIL;
	default:
		return RES_FAIL;
	}
}

static const char *gai_text(int e)
{
	return e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e);
}

static const char *socktype_name(int t)
{
	switch (t) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_RAW:
		return "raw";
	case SOCK_SEQPACKET:
		return "seqpacket";
	}
	return "other";
}

#define MAX_ADDRS 256
struct resolve_addr_row {
	char text[INET6_ADDRSTRLEN + 16];
	int family;
	const char *types[4];
	int ntypes;
};

static void sys_forward(struct resolve_job *j)
{
	struct addrinfo hints = {.ai_family = j->x->family,
				 .ai_flags = j->x->numeric ? AI_NUMERICHOST : AI_CANONNAME},
			*res;
	int e = getaddrinfo(j->arg, NULL, &hints, &res);
	if (e) {
		resolve_job_fail(j, gai_status(e), "addresses", gai_text(e));
		return;
	}
	static struct resolve_addr_row rows[MAX_ADDRS];
	int n = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char host[INET6_ADDRSTRLEN + 16];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0,
				NI_NUMERICHOST))
			continue;
		int i;
		for (i = 0; i < n && strcmp(rows[i].text, host); i++)
			;
		if (i == n) {
			if (n == MAX_ADDRS)
				continue;
			memset(&rows[n], 0, sizeof rows[n]);
			memcpy(rows[n].text, host, sizeof host);
			rows[n].family = ai->ai_family;
			n++;
		}
		struct resolve_addr_row *r = &rows[i];
		const char *t = socktype_name(ai->ai_socktype);
		int k;
		for (k = 0; k < r->ntypes && strcmp(r->types[k], t); k++)
			;
		if (k == r->ntypes && r->ntypes < 4)
			r->types[r->ntypes++] = t;
	}
	struct sbuf canon, q;
	sb_init(&canon);
	sb_init(&q);
	if (res->ai_canonname)
		dns_escape_host(&canon, res->ai_canonname);
	dns_escape_host(&q, j->arg);
	freeaddrinfo(res);
	j->status = RES_OK;
	struct sbuf *o = &j->out;
	if (j->x->mode == RESOLVE_JSON) {
		resolve_job_json_head(j, "addresses");
		sb_puts(o, ",\"canonical\":");
		if (canon.len)
			json_str(o, sb_str(&canon));
		else
			sb_puts(o, "null");
		sb_puts(o, ",\"addresses\":[");
		for (int i = 0; i < n; i++) {
			sb_puts(o, i ? ",{\"address\":" : "{\"address\":");
			json_str(o, rows[i].text);
			sb_printf(o, ",\"family\":\"%s\",\"socktypes\":[",
				  rows[i].family == AF_INET6 ? "inet6" : "inet");
			for (int k = 0; k < rows[i].ntypes; k++)
				sb_printf(o, "%s\"%s\"", k ? "," : "", rows[i].types[k]);
			sb_puts(o, "]}");
		}
		sb_puts(o, "]}\n");
	} else if (j->x->mode == RESOLVE_SHORT) {
		for (int i = 0; i < n; i++)
			sb_printf(o, "%s\n", rows[i].text);
	} else {
		if (canon.len)
			sb_printf(o, ";; %s: canonical name %s\n", sb_str(&q), sb_str(&canon));
		for (int i = 0; i < n; i++) {
			sb_printf(o, "%s\t%s\t", sb_str(&q), rows[i].text);
			for (int k = 0; k < rows[i].ntypes; k++)
				sb_printf(o, "%s%s", k ? "," : "", rows[i].types[k]);
			sb_putc(o, '\n');
		}
	}
	sb_free(&canon);
	sb_free(&q);
}

static void sys_reverse(struct resolve_job *j)
{
	struct addrinfo hints = {.ai_family = j->x->family, .ai_flags = AI_NUMERICHOST}, *res;
	int e = getaddrinfo(j->arg, NULL, &hints, &res);
	if (e) {
		j->status = RES_FAIL;
		resolve_job_fail(j, RES_FAIL, "reverse", "not a numeric address");
		return;
	}
	char host[NI_MAXHOST];
	e = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, NULL, 0, NI_NAMEREQD);
	freeaddrinfo(res);
	if (e) {
		resolve_job_fail(j, gai_status(e), "reverse", gai_text(e));
		return;
	}
	struct sbuf name, q;
	sb_init(&name);
	sb_init(&q);
	dns_escape_host(&name, host);
	dns_escape_host(&q, j->arg);
	j->status = RES_OK;
	if (j->x->mode == RESOLVE_JSON) {
		resolve_job_json_head(j, "reverse");
		sb_puts(&j->out, ",\"names\":[");
		json_str(&j->out, sb_str(&name));
		sb_puts(&j->out, "]}\n");
	} else if (j->x->mode == RESOLVE_SHORT)
		sb_printf(&j->out, "%s\n", sb_str(&name));
	else
		sb_printf(&j->out, "%s\t%s\n", sb_str(&q), sb_str(&name));
	sb_free(&name);
	sb_free(&q);
}

static void put_aliases(struct sbuf *o, char **aliases, bool json)
{
	for (int i = 0; aliases && aliases[i]; i++) {
		if (json) {
			if (i)
				sb_putc(o, ',');
			struct sbuf t;
			sb_init(&t);
			dns_escape_host(&t, aliases[i]);
			json_str(o, sb_str(&t));
			sb_free(&t);
		} else {
			sb_putc(o, i ? ' ' : '\t');
			dns_escape_host(o, aliases[i]);
		}
	}
}

/* --service NAME|PORT[/PROTO]: getservbyname or getservbyport, for the
 * protocol given or else for tcp and udp. */
static void sys_service(struct resolve_job *j)
{
	char spec[256];
	snprintf(spec, sizeof spec, "%s", j->arg);
	char *slash = strrchr(spec, '/');
	const char *proto = NULL;
	if (slash) {
		*slash = '\0';
		proto = slash + 1;
	}
	const char *protos[] = {proto ? proto : "tcp", proto ? NULL : "udp", NULL};
	bool by_port = spec[0] >= '0' && spec[0] <= '9';
	long port = 0;
	if (by_port && !parse_long(spec, 0, 65535, &port)) {
		resolve_job_fail(j, RES_FAIL, "service", "port must be 0-65535");
		return;
	}
	struct sbuf *o = &j->out;
	int found = 0;
	char lastshort[256] = "";
	for (int i = 0; protos[i]; i++) {
		struct servent *se = by_port ? getservbyport(htons((uint16_t)port), protos[i])
					     : getservbyname(spec, protos[i]);
		if (!se)
			continue;
		if (found == 0)
			j->status = RES_OK;
		if (j->x->mode == RESOLVE_JSON) {
			if (found == 0) {
				resolve_job_json_head(j, "service");
				sb_puts(o, ",\"services\":[");
			} else
				sb_putc(o, ',');
			sb_puts(o, "{\"name\":");
			struct sbuf t;
			sb_init(&t);
			dns_escape_host(&t, se->s_name);
			json_str(o, sb_str(&t));
			sb_free(&t);
			sb_printf(o, ",\"port\":%u,\"protocol\":", ntohs((uint16_t)se->s_port));
			json_str(o, se->s_proto);
			sb_puts(o, ",\"aliases\":[");
			put_aliases(o, se->s_aliases, true);
			sb_puts(o, "]}");
		} else if (j->x->mode == RESOLVE_SHORT) {
			char line[256];
			struct sbuf t;
			sb_init(&t);
			if (by_port)
				dns_escape_host(&t, se->s_name);
			else
				sb_printf(&t, "%u", ntohs((uint16_t)se->s_port));
			snprintf(line, sizeof line, "%s", sb_str(&t));
			sb_free(&t);
			if (strcmp(line, lastshort)) {
				sb_printf(o, "%s\n", line);
				memcpy(lastshort, line, sizeof line);
			}
		} else {
			dns_escape_host(o, se->s_name);
			sb_printf(o, "\t%u/", ntohs((uint16_t)se->s_port));
			dns_escape_host(o, se->s_proto);
			put_aliases(o, se->s_aliases, false);
			sb_putc(o, '\n');
		}
		found++;
	}
	if (!found) {
		resolve_job_fail(j, RES_NXDOMAIN, "service", "not found");
		return;
	}
	if (j->x->mode == RESOLVE_JSON)
		sb_puts(o, "]}\n");
}

static void sys_protocol(struct resolve_job *j)
{
	long num = 0;
	bool by_num = j->arg[0] >= '0' && j->arg[0] <= '9';
	if (by_num && !parse_long(j->arg, 0, 255, &num)) {
		resolve_job_fail(j, RES_FAIL, "protocol", "number must be 0-255");
		return;
	}
	struct protoent *pe = by_num ? getprotobynumber((int)num) : getprotobyname(j->arg);
	if (!pe) {
		resolve_job_fail(j, RES_NXDOMAIN, "protocol", "not found");
		return;
	}
	j->status = RES_OK;
	struct sbuf *o = &j->out;
	if (j->x->mode == RESOLVE_JSON) {
		resolve_job_json_head(j, "protocol");
		sb_puts(o, ",\"name\":");
		struct sbuf t;
		sb_init(&t);
		dns_escape_host(&t, pe->p_name);
		json_str(o, sb_str(&t));
		sb_free(&t);
		sb_printf(o, ",\"number\":%d,\"aliases\":[", pe->p_proto);
		put_aliases(o, pe->p_aliases, true);
		sb_puts(o, "]}\n");
	} else if (j->x->mode == RESOLVE_SHORT) {
		if (by_num)
			dns_escape_host(o, pe->p_name);
		else
			sb_printf(o, "%d", pe->p_proto);
		sb_putc(o, '\n');
	} else {
		dns_escape_host(o, pe->p_name);
		sb_printf(o, "\t%d", pe->p_proto);
		put_aliases(o, pe->p_aliases, false);
		sb_putc(o, '\n');
	}
}

/* --hostname: gethostname; --fqdn: its canonical name from getaddrinfo. */
static void sys_self(struct resolve_job *j)
{
	char host[256];
	const char *kind = j->kind == RESOLVE_FQDN ? "fqdn" : "hostname";
	if (gethostname(host, sizeof host) < 0) {
		resolve_job_fail(j, RES_FAIL, kind, strerror(errno));
		return;
	}
	host[sizeof host - 1] = '\0';
	struct sbuf name;
	sb_init(&name);
	if (j->kind == RESOLVE_FQDN) {
		struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res;
		int e = getaddrinfo(host, NULL, &hints, &res);
		if (e) {
			resolve_job_fail(j, gai_status(e), kind, gai_text(e));
			return;
		}
		dns_escape_host(&name, res->ai_canonname ? res->ai_canonname : host);
		freeaddrinfo(res);
	} else
		dns_escape_host(&name, host);
	j->status = RES_OK;
	if (j->x->mode == RESOLVE_JSON) {
		resolve_job_json_head(j, kind);
		sb_puts(&j->out, ",\"name\":");
		json_str(&j->out, sb_str(&name));
		sb_puts(&j->out, "}\n");
	} else
		sb_printf(&j->out, "%s\n", sb_str(&name));
	sb_free(&name);
}

void resolve_sys_run(struct resolve_job *j)
{
	switch (j->kind) {
	case RESOLVE_NAME:
		sys_forward(j);
		break;
	case RESOLVE_ADDR:
		sys_reverse(j);
		break;
	case RESOLVE_SERVICE:
		sys_service(j);
		break;
	case RESOLVE_PROTOCOL:
		sys_protocol(j);
		break;
	case RESOLVE_HOSTNAME:
	case RESOLVE_FQDN:
		sys_self(j);
		break;
	}
	j->done = true;
}
