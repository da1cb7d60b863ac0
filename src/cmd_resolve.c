/* sockctl resolve: names, addresses, services and protocols, from the
 * system resolver or (--server) straight from DNS servers with c-ares on
 * our event loop. Every lookup is a job (resolve_job.c: its status and
 * failure lines); jobs run concurrently (direct DNS) and print in input
 * order; the exit status is the worst outcome. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"
#include "dns_msg.h"
#include "loop.h"
#include "resolve.h"
#include "resolve_dns.h"

static const char help[] =
    "usage: sockctl resolve [options] NAME...\n"
    "       sockctl resolve -x [options] ADDRESS...\n"
    "       sockctl resolve --service NAME|PORT[/PROTO] | --protocol NAME|NUMBER\n"
    "       sockctl resolve --hostname | --fqdn\n"
    "\n"
    "Looks up names with the system resolver (/etc/hosts, nsswitch, resolv.conf),\n"
    "or with --server straight from DNS servers.\n"
    "\n"
    "  -x, --reverse        the operands are addresses: find their names\n"
    "  --service SPEC       a service by name or port, /tcp or /udp (repeatable)\n"
    "  --protocol SPEC      a protocol by name or number (repeatable)\n"
    "  --hostname, --fqdn   this machine's host name, or its canonical name\n"
    "  -f, --file FILE      also read names (or addresses) from FILE, one a line;\n"
    "                       - is standard input\n"
    "  -4, -6               IPv4 or IPv6 addresses only\n"
    "\n"
    "Direct DNS:\n"
    "  --server IP[:PORT]   ask this server (repeatable: the next one is tried\n"
    "                       when one does not answer)\n"
    "  -t, --type TYPE      record type, repeatable or comma-separated: A, AAAA,\n"
    "                       CNAME, MX, NS, TXT, SRV, PTR, SOA, CAA, HINFO, ANY,\n"
    "                       TYPEnnn (default A; AAAA with -6)\n"
    "  --tcp                always use TCP (default: UDP, and TCP when truncated)\n"
    "  --no-tcp-fallback    keep a truncated UDP answer\n"
    "  --no-edns            send no EDNS0 OPT record\n"
    "  --timeout SECS       wait per try (default 2)\n"
    "  --tries N            tries per server (default 2)\n"
    "  --parallel N         queries in flight at once (default 100)\n"
    "\n"
    "Output:\n"
    "  --short              data only, one item a line\n"
    "  --json               one JSON document (a line) per lookup\n"
    "\n"
    "Exit status: 0 all answered, 1 other failure, 2 usage, 3 NXDOMAIN (not\n"
    "found), 4 no data, 5 server failure, 6 refused, 7 no answer (timeout,\n"
    "unreachable, or closed before the answer was complete).\n"
    "With several lookups the worst wins (1, then 7, 6, 5, 4, 3).\n";

enum {
	OPT_SERVER = OPT_BASE,
	OPT_TCP,
	OPT_NOFALLBACK,
	OPT_NOEDNS,
	OPT_TIMEOUT,
	OPT_TRIES,
	OPT_PARALLEL,
	OPT_SHORT,
	OPT_JSON,
	OPT_SERVICE,
	OPT_PROTOCOL,
	OPT_HOSTNAME,
	OPT_FQDN,
};

/* ---- direct DNS ---- */

struct run {
	struct resolve_ctx x;
	struct job *jobs;
	size_t njobs, next, head, inflight, parallel;
	int worst;
	bool pumping;
	struct rdns *dns;
	struct loop *l;
};

static void flush_jobs(struct run *r)
{
	while (r->head < r->njobs && r->jobs[r->head].done) {
		struct job *j = &r->jobs[r->head++];
		if (j->out.oom || j->err.oom) {
			j->status = RES_FAIL;
			errmsg("resolve %s: out of memory formatting the answer", j->arg);
		} else {
			fwrite(sb_str(&j->out), 1, j->out.len, stdout);
			fputs(sb_str(&j->err), stderr);
		}
		r->worst = res_worst(r->worst, j->status);
		sb_free(&j->out);
		sb_free(&j->err);
	}
	/* Whole lookups at a time, so a reader of a pipe sees each promptly. */
	fflush(stdout);
}

static void pump(struct run *r);

static void dns_done(const struct rdns_result *res, void *arg)
{
	struct job *j = arg;
	struct run *r = (struct run *)j->x;
	if (res->status == RDNS_ANSWER)
		dns_format(j, res);
	else if (res->status == RDNS_NOANSWER)
		dns_noanswer(j, res);
	else
		job_fail(j, RES_FAIL, "dns", res->errtext);
	j->done = true;
	r->inflight--;
	flush_jobs(r);
	pump(r);
	if (r->head == r->njobs)
		loop_stop(r->l);
}

static void dns_start(struct run *r, struct job *j)
{
	char rev[DNS_PRES_MAX];
	const char *name = j->arg;
	if (j->kind == K_ADDR) {
		if (!dns_reverse_name(j->arg, rev, sizeof rev)) {
			job_fail(j, RES_FAIL, "dns", "not a numeric address");
			j->done = true;
			r->inflight--;
			return;
		}
		name = rev;
	}
	if (rdns_query(r->dns, name, j->qtype, dns_done, j) < 0) {
		job_fail(j, RES_FAIL, "dns", strerror(ENOMEM));
		j->done = true;
		r->inflight--;
	}
}

static void pump(struct run *r)
{
	if (r->pumping)
		return;
	r->pumping = true;
	while (r->inflight < r->parallel && r->next < r->njobs) {
		struct job *j = &r->jobs[r->next++];
		r->inflight++;
		dns_start(r, j);
	}
	r->pumping = false;
	flush_jobs(r);
}

/* ---- jobs from arguments and files ---- */

struct names {
	char **v; /* owned strings from -f */
	size_t n, cap;
};

static int add_name(struct names *ns, const char *s, size_t len)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		char **v = realloc(ns->v, cap * sizeof *v);
		if (!v)
			return -1;
		ns->v = v;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = strndup(s, len)))
		return -1;
	ns->n++;
	return 0;
}

/* One name a line; blank lines and lines starting with # are skipped,
 * surrounding blanks trimmed. */
static int read_names(const char *path, struct names *ns)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		errmsg("resolve: %s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e = line + len;
		while (s < e && strchr(" \t\r\n", *s))
			s++;
		while (e > s && strchr(" \t\r\n", e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (add_name(ns, s, (size_t)(e - s)) < 0) {
			errmsg("resolve: %s: out of memory", path);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		errmsg("resolve: %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int add_types(const char *s, int *types, int *ntypes)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int v = dns_type_parse(t);
		if (v <= 0)
			return usage_error("unknown record type '%s' (known: %s)", t,
					   dns_type_list);
		if (*ntypes == 16)
			return usage_error("too many record types (at most 16)");
		types[(*ntypes)++] = v;
	}
	return 0;
}

int cmd_resolve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"reverse", no_argument, NULL, 'x'},
	    {"type", required_argument, NULL, 't'},
	    {"file", required_argument, NULL, 'f'},
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"tcp", no_argument, NULL, OPT_TCP},
	    {"no-tcp-fallback", no_argument, NULL, OPT_NOFALLBACK},
	    {"no-edns", no_argument, NULL, OPT_NOEDNS},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"tries", required_argument, NULL, OPT_TRIES},
	    {"parallel", required_argument, NULL, OPT_PARALLEL},
	    {"short", no_argument, NULL, OPT_SHORT},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"service", required_argument, NULL, OPT_SERVICE},
	    {"protocol", required_argument, NULL, OPT_PROTOCOL},
	    {"hostname", no_argument, NULL, OPT_HOSTNAME},
	    {"fqdn", no_argument, NULL, OPT_FQDN},
	    {NULL, 0, NULL, 0},
	};
	struct rdns_opts dopt = {.timeout_ms = 2000, .tries = 2};
	struct run r = {.x.mode = OUT_LINES, .parallel = 100};
	int types[16], ntypes = 0, c, rc = EXIT_USAGE;
	bool reverse = false, dns_opt = false;
	const char *file = NULL;
	/* Jobs for --service/--protocol/--hostname/--fqdn, in the order given. */
	struct job_spec {
		enum job_kind kind;
		const char *arg;
	} *specs = calloc((size_t)argc + 1, sizeof *specs);
	size_t nspecs = 0;
	struct names ns = {0};
	long v;
	char err[256];
	if (!specs) {
		errmsg("resolve: out of memory");
		return EXIT_FAIL;
	}
	/* cmd_getopt permutes: options may follow operands (`resolve NAME -t
	 * MX`), and at the end the operands are argv[optind..]. */
	char **operands = calloc((size_t)argc + 1, sizeof *operands);
	size_t nops = 0;
	if (!operands) {
		free(specs);
		errmsg("resolve: out of memory");
		return EXIT_FAIL;
	}
	for (;;) {
		c = cmd_getopt(argc, argv, COMMON_SHORTOPTS "xt:f:", longopts);
		if (c == -1) {
			while (optind < argc)
				operands[nops++] = argv[optind++];
			break;
		}
		switch (c) {
		case 'h':
			free(specs);
			free(operands);
			return print_help(help);
		case 'x':
			reverse = true;
			break;
		case 't':
			if (add_types(optarg, types, &ntypes))
				goto out;
			dns_opt = true;
			break;
		case 'f':
			file = optarg;
			break;
		case OPT_SERVER:
			if (dopt.nservers == RDNS_MAX_SERVERS) {
				usage_error("at most %d servers", RDNS_MAX_SERVERS);
				goto out;
			}
			if (!rdns_parse_server(optarg, &dopt.server[dopt.nservers], err,
					       sizeof err)) {
				usage_error("%s", err);
				goto out;
			}
			dopt.nservers++;
			break;
		case OPT_TCP:
			dopt.tcp = dns_opt = true;
			break;
		case OPT_NOFALLBACK:
			dopt.no_fallback = dns_opt = true;
			break;
		case OPT_NOEDNS:
			dopt.no_edns = dns_opt = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_seconds(optarg, &dopt.timeout_ms) || dopt.timeout_ms < 1) {
				usage_error("invalid --timeout '%s' (seconds, more than 0)",
					    optarg);
				goto out;
			}
			dns_opt = true;
			break;
		case OPT_TRIES:
			if (!parse_long(optarg, 1, 100, &v)) {
				usage_error("invalid --tries '%s' (1-100)", optarg);
				goto out;
			}
			dopt.tries = (int)v;
			dns_opt = true;
			break;
		case OPT_PARALLEL:
			if (!parse_long(optarg, 1, 10000, &v)) {
				usage_error("invalid --parallel '%s' (1-10000)", optarg);
				goto out;
			}
			r.parallel = (size_t)v;
			break;
		case OPT_SHORT:
			r.x.mode = OUT_SHORT;
			break;
		case OPT_JSON:
			r.x.mode = OUT_JSON;
			break;
		case OPT_SERVICE:
			specs[nspecs++] = (struct job_spec){K_SERVICE, optarg};
			break;
		case OPT_PROTOCOL:
			specs[nspecs++] = (struct job_spec){K_PROTOCOL, optarg};
			break;
		case OPT_HOSTNAME:
			specs[nspecs++] = (struct job_spec){K_HOSTNAME, "hostname"};
			break;
		case OPT_FQDN:
			specs[nspecs++] = (struct job_spec){K_FQDN, "fqdn"};
			break;
		default:
			goto out;
		}
	}
	r.x.quiet = g_opts.quiet;
	r.x.family = g_opts.family;
	r.x.numeric = g_opts.numeric;
	bool direct = dopt.nservers > 0;
	if (dns_opt && !direct) {
		usage_error("-t, --tcp, --no-tcp-fallback, --no-edns, --timeout and --tries "
			    "need --server");
		goto out;
	}
	if (direct && nspecs) {
		usage_error("--service, --protocol, --hostname and --fqdn use the local "
			    "system, not --server");
		goto out;
	}
	if (reverse && (ntypes || nspecs)) {
		usage_error("-x cannot be combined with -t, --service, --protocol, --hostname "
			    "or --fqdn");
		goto out;
	}
	if (file && read_names(file, &ns) < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	size_t nargs = nops + ns.n;
	if (nargs == 0 && nspecs == 0) {
		usage_error("nothing to look up: give a NAME, -f FILE, --service, --protocol, "
			    "--hostname or --fqdn");
		goto out;
	}
	if (ntypes == 0)
		types[ntypes++] = reverse		      ? DNS_T_PTR
				  : g_opts.family == AF_INET6 ? DNS_T_AAAA
							      : DNS_T_A;
	if (!direct)
		ntypes = 1;
	r.njobs = nspecs + nargs * (size_t)ntypes;
	r.jobs = calloc(r.njobs, sizeof *r.jobs);
	if (!r.jobs) {
		errmsg("resolve: out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < nspecs; i++)
		r.jobs[k++] = (struct job){.kind = specs[i].kind, .arg = specs[i].arg};
	for (size_t i = 0; i < nargs; i++)
		for (int t = 0; t < ntypes; t++)
			r.jobs[k++] = (struct job){.kind = reverse ? K_ADDR : K_NAME,
						   .arg = i < nops ? operands[i] : ns.v[i - nops],
						   .qtype = direct ? types[t] : 0};
	for (size_t i = 0; i < r.njobs; i++)
		r.jobs[i].x = &r.x;

	if (!direct) {
		for (size_t i = 0; i < r.njobs; i++) {
			sys_run(&r.jobs[i]);
			flush_jobs(&r);
		}
		rc = r.worst;
		goto out;
	}
	r.l = cmd_loop(r.parallel < 64 ? 64 : (int)r.parallel, &rc);
	if (!r.l)
		goto out;
	r.dns = rdns_new(r.l, &dopt, err, sizeof err);
	if (!r.dns) {
		errmsg("resolve: %s", err);
		rc = EXIT_FAIL;
		goto out;
	}
	pump(&r);
	if (r.head < r.njobs && loop_run(r.l) < 0) {
		errmsg("resolve: event loop: %s", strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	rc = r.head == r.njobs ? r.worst : EXIT_FAIL;
out:
	if (r.dns)
		rdns_free(r.dns);
	if (r.l)
		loop_free(r.l);
	if (r.jobs) {
		for (size_t i = 0; i < r.njobs; i++) {
			sb_free(&r.jobs[i].out);
			sb_free(&r.jobs[i].err);
		}
		free(r.jobs);
	}
	for (size_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	free(specs);
	free(operands);
	return rc;
}
