/* sockctl resolve: names, addresses, services and protocols, from the
 * system resolver or (--server) straight from DNS servers with c-ares on
 * our event loop; zone transfers. Here: the options and operands (dig's
 * too), read in order into jobs, one per lookup, which the engine
 * (dns/resolve.h) runs and hands back in that order to be printed here;
 * the exit status is the worst outcome. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/loop.h"
#include "dns/dns_msg.h"
#include "dns/resolve.h"
#include "dns/resolve_dns.h"
#include "net/tls.h"
#include "tool/cmd.h"
#include "tool/tlsopts.h"

static const char help[] =
    "usage: sockctl resolve [options] NAME|ADDRESS...\n"
    "       sockctl resolve --service NAME|PORT[/PROTO] | --protocol NAME|NUMBER\n"
    "       sockctl resolve --hostname | --fqdn\n"
    "       sockctl resolve @SERVER [TYPE] NAME [TYPE] ... [+short] (as with dig)\n"
    "\n"
    "Looks up names with the system resolver (/etc/hosts, nsswitch, resolv.conf),\n"
    "or with --server straight from DNS servers. Results come in the order asked.\n"
    "\n"
    "  -x, --reverse        operands that are numeric addresses: find their names\n"
    "                       (the other operands are still names)\n"
    "  --service SPEC       a service by name or port, /tcp or /udp (repeatable)\n"
    "  --protocol SPEC      a protocol by name or number (repeatable)\n"
    "  --hostname, --fqdn   this machine's host name, or its canonical name\n"
    "  -f, --file FILE      also read names (or addresses) from FILE, one a line;\n"
    "                       - is standard input\n"
    "  -4, -6               IPv4 or IPv6 addresses only\n"
    "\n"
    "Direct DNS:\n"
    "  --server IP[:PORT]   ask this server (repeatable: the next one is tried\n"
    "                       when one does not answer); also @IP, IP#PORT, [IPv6]:PORT\n"
    "  -p, --port PORT      the port of servers given without one (default 53)\n"
    "  -t, --type TYPE      record type, repeatable or comma-separated: A, AAAA,\n"
    "                       CNAME, MX, NS, TXT, SRV, PTR, SOA, CAA, HINFO, ANY,\n"
    "                       TYPEnnn (default A; AAAA with -6; PTR with -x), or\n"
    "                       AXFR: a zone transfer over TCP\n"
    "  --tcp                always use TCP (default: UDP, and TCP when truncated)\n"
    "  --no-tcp-fallback    keep a truncated UDP answer\n"
    "  --no-edns            send no EDNS0 OPT record\n"
    "  --timeout SECS       wait per try (default 2)\n"
    "  --tries N            tries per server (default 2)\n"
    "  --parallel N         queries in flight at once (default 100)\n"
    "  --tls                DNS over TLS (port 853 unless -p or :PORT says): the\n"
    "                       server's certificate is verified against the system\n"
    "                       store for its address, or for NAME with --sni NAME;\n"
    "                       --cacert, -k/--insecure, --pin and the other TLS\n"
    "                       options of sockctl(1), TLS\n"
    "With a server, an operand that names a type (MX) or the class IN is one, as\n"
    "with dig: for the name before it, or before any name for all; write a host of\n"
    "that name with its final dot (mx.), or after --. dig's +short, +json, +tcp,\n"
    "+notcp, +tls, +ignore, +noedns, +time=SECS, +tries=N, +retry=N are understood.\n"
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

/* ---- the command line: options, operands, names from files ---- */

#define MAX_TYPES 16

struct resolve_types {
	int v[MAX_TYPES];
	int n;
};

/* What the command line asks for, in its order. */
struct resolve_item {
	enum { IT_NAME, IT_FILE, IT_SPEC, IT_GONE } kind;
	enum resolve_job_kind spec; /* IT_SPEC */
	const char *arg;	    /* not owned */
	bool literal;		    /* an operand after --: a name whatever it looks like */
	struct resolve_types types; /* IT_NAME, IT_FILE: type words that followed it */
};

struct resolve_names {
	char **v; /* owned strings from -f */
	size_t n, cap;
};

static int add_name(struct resolve_names *ns, const char *s, size_t len)
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
static int read_names(const char *path, struct resolve_names *ns)
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

static int add_type(struct resolve_types *ts, int v)
{
	if (ts->n == MAX_TYPES)
		return usage_error("too many record types (at most %d)", MAX_TYPES);
	ts->v[ts->n++] = v;
	return 0;
}

/* -t A,MX: every element must be a type; "" and "A," are mistakes. */
static int add_types(const char *s, struct resolve_types *ts)
{
	const char *p = s;
	do {
		char t[32];
		size_t n = strcspn(p, ",");
		if (n == 0)
			return usage_error("empty record type in -t '%s' (known: %s)", s,
					   dns_type_list);
		snprintf(t, sizeof t, "%.*s", (int)(n < sizeof t ? n : sizeof t - 1), p);
		int v = n < sizeof t ? dns_type_parse(t) : -1;
		if (v <= 0)
			return usage_error("unknown record type '%.*s' (known: %s)", (int)n, p,
					   dns_type_list);
		if (add_type(ts, v))
			return EXIT_USAGE;
		p += n;
	} while (*p++ == ',');
	return 0;
}

/* An operand that is a record type, as dig reads it: a type name or
 * TYPEnnn (a bare number is more likely a name). */
static int type_word(const char *s)
{
	if (s[0] >= '0' && s[0] <= '9')
		return -1;
	return dns_type_parse(s);
}

static bool class_word(const char *s)
{
	static const char *const words[] = {"IN", "CH", "CHAOS", "HS", "HESIOD", "NONE"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	return strncasecmp(s, "CLASS", 5) == 0 && s[5] >= '0' && s[5] <= '9';
}

struct resolve_cli {
	struct rdns_opts dopt;
	const char *servers[RDNS_MAX_SERVERS]; /* as given; parsed once -p is known */
	int nservers;
	long port; /* -p: for servers given without one */
	struct resolve_types types;
	const char *typeword; /* the first type operand before any name */
	bool reverse, dns_opt;
	struct tlsopts tls; /* --tls: DNS over TLS */
};

static int add_server(struct resolve_cli *c, const char *s)
{
	if (c->nservers == RDNS_MAX_SERVERS)
		return usage_error("at most %d servers", RDNS_MAX_SERVERS);
	c->servers[c->nservers++] = s;
	return 0;
}

/* dig's +options that have an option here; the rest are refused with the
 * list, never taken for names. */
static int dig_option(struct resolve_cli *c, struct resolve_ctx *x, const char *s)
{
	const char *v = strchr(s, '=');
	size_t n = v ? (size_t)(v - s) : strlen(s);
	long l;
#define IS(w) (n == sizeof(w) - 1 && strncasecmp(s, w, n) == 0)
	if (IS("+short") && !v)
		x->mode = RESOLVE_SHORT;
	else if (IS("+json") && !v)
		x->mode = RESOLVE_JSON;
	else if ((IS("+tcp") || IS("+vc")) && !v)
		c->dopt.tcp = c->dns_opt = true;
	else if ((IS("+notcp") || IS("+novc")) && !v)
		c->dopt.tcp = false;
	else if (IS("+tls") && !v)
		return tlsopt_handle(&c->tls, TOPT_TLS, NULL) < 0 ? EXIT_USAGE : 0;
	else if (IS("+ignore") && !v)
		c->dopt.no_fallback = c->dns_opt = true;
	else if (IS("+noignore") && !v)
		c->dopt.no_fallback = false;
	else if (IS("+noedns") && !v)
		c->dopt.no_edns = c->dns_opt = true;
	else if (IS("+edns") && !v)
		c->dopt.no_edns = false;
	else if (IS("+time") && v) {
		if (!parse_seconds(v + 1, &c->dopt.timeout_ms) || c->dopt.timeout_ms < 1)
			return usage_error("invalid %s (seconds, more than 0)", s);
		c->dns_opt = true;
	} else if ((IS("+tries") || IS("+retry")) && v) {
		bool retry = IS("+retry");
		if (!parse_long(v + 1, retry ? 0 : 1, retry ? 99 : 100, &l))
			return usage_error("invalid %s (%s)", s, retry ? "0-99" : "1-100");
		c->dopt.tries = (int)l + retry;
		c->dns_opt = true;
	} else
		return usage_error(
		    "unknown dig option '%s' (known: +short, +json, +tcp, +notcp, +tls, "
		    "+ignore, +noedns, +time=SECS, +tries=N, +retry=N)",
		    s);
#undef IS
	return 0;
}

/* Reads the operands as dig does: @SERVER and +options anywhere, and,
 * when a server is given, type words (MX) for the name before them or,
 * before any name, for every name. Returns 0 or EXIT_USAGE. */
static int read_operands(struct resolve_cli *c, struct resolve_ctx *x, struct resolve_item *it,
			 size_t nit)
{
	for (size_t i = 0; i < nit; i++) {
		if (it[i].kind != IT_NAME || it[i].literal)
			continue;
		const char *s = it[i].arg;
		int rc = 0;
		if (s[0] == '@')
			rc = add_server(c, s + 1);
		else if (s[0] == '+')
			rc = dig_option(c, x, s);
		else
			continue;
		if (rc)
			return rc;
		it[i].kind = IT_GONE;
	}
	/* Without a server there are no types: every operand is a name, as
	 * with getent and host. */
	if (c->nservers == 0)
		return 0;
	struct resolve_item *last = NULL;
	for (size_t i = 0; i < nit; i++) {
		if (it[i].kind == IT_FILE)
			last = &it[i];
		if (it[i].kind != IT_NAME)
			continue;
		int t = it[i].literal ? -1 : type_word(it[i].arg);
		if (t > 0) {
			if (add_type(last ? &last->types : &c->types, t))
				return EXIT_USAGE;
			if (!last && !c->typeword)
				c->typeword = it[i].arg;
			it[i].kind = IT_GONE;
		} else if (!it[i].literal && class_word(it[i].arg)) {
			if (strcasecmp(it[i].arg, "IN") != 0)
				return usage_error("class '%s': only IN is asked for here (write "
						   "'%s.' for a host of that name)",
						   it[i].arg, it[i].arg);
			it[i].kind = IT_GONE;
		} else
			last = &it[i];
	}
	return 0;
}

static bool parse_servers(struct resolve_cli *c)
{
	char err[256];
	for (int i = 0; i < c->nservers; i++)
		if (!rdns_parse_server(c->servers[i], (uint16_t)c->port, &c->dopt.server[i], err,
				       sizeof err)) {
			usage_error("%s", err);
			return false;
		}
	c->dopt.nservers = c->nservers;
	return true;
}

/* Adds the jobs for one name: one per type, the item's own or else the
 * defaults. */
static void name_jobs(struct resolve_job *jobs, size_t *njobs, const struct resolve_cli *c,
		      const struct resolve_types *own, const char *arg, bool direct)
{
	char rev[DNS_PRES_MAX];
	bool addr = c->reverse && dns_reverse_name(arg, rev, sizeof rev);
	const struct resolve_types *ts = own->n ? own : &c->types;
	int fallback = addr ? DNS_T_PTR : g_opts.family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
	int n = direct && ts->n ? ts->n : 1;
	for (int t = 0; t < n; t++)
		jobs[(*njobs)++] = (struct resolve_job){
		    .kind = addr ? RESOLVE_ADDR : RESOLVE_NAME,
		    .arg = arg,
		    .qtype = !direct ? 0
			     : ts->n ? ts->v[t]
				     : fallback,
		};
}

/* Answers are the command's data: written as they come, at the pace of
 * their reader (not through the log queues). */
static void put_job(const struct resolve_job *j, void *arg)
{
	(void)arg;
	fwrite(sb_str(&j->out), 1, j->out.len, stdout);
	fputs(sb_str(&j->err), stderr);
}

static void flush_out(void *arg)
{
	(void)arg;
	fflush(stdout);
}

/* Runs the jobs made from the command line: the worst outcome, or
 * EXIT_FAIL (said) when they could not all run. */
static int run(struct resolve_job *jobs, size_t njobs, const struct resolve_ctx *x,
	       const struct rdns_opts *dns, size_t parallel)
{
	struct resolve_opts o = {.x = *x,
				 .dns = dns,
				 .parallel = parallel,
				 .sink = {.put = put_job, .flush = flush_out}};
	int rc = EXIT_FAIL;
	char err[256];
	if (dns && !(o.loop = cmd_loop(parallel < 64 ? 64 : (int)parallel, &rc)))
		return rc;
	rc = resolve_jobs(jobs, njobs, &o, err, sizeof err);
	if (rc < 0) {
		errmsg("resolve: %s", err);
		rc = EXIT_FAIL;
	}
	if (o.loop)
		loop_free(o.loop);
	return rc;
}

int cmd_resolve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"reverse", no_argument, NULL, 'x'},
	    {"type", required_argument, NULL, 't'},
	    {"file", required_argument, NULL, 'f'},
	    {"port", required_argument, NULL, 'p'},
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
	    TLSOPT_CLIENT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	struct resolve_cli cl = {.dopt = {.timeout_ms = 2000, .tries = 2}, .port = 53};
	struct resolve_ctx x = {.mode = RESOLVE_LINES};
	size_t parallel = 100;
	struct resolve_job *jobs = NULL;
	int c, rc = EXIT_USAGE;
	bool port_set = false;
	long v;
	struct resolve_names *files = NULL;
	struct resolve_item *it = calloc((size_t)argc + 1, sizeof *it);
	size_t nit = 0, nfiles = 0, nspecs = 0;
	if (!it) {
		errmsg("resolve: out of memory");
		return EXIT_FAIL;
	}
	/* In order ('+': getopt stops at each operand, which we take, then
	 * go on), so results come in the order asked and type words follow
	 * their names; options may still follow operands. */
	const char *lastarg = NULL;
	for (int taken = 0;; lastarg = optarg) {
		c = cmd_getopt(argc, argv, "+" COMMON_SHORTOPTS "xt:f:p:k", longopts);
		/* glibc points optind back at the operands after "--" each time
		 * it ends: those are taken once, all together. */
		if (c == -1 && (optind >= argc || optind < taken))
			break;
		if (c == -1 && optind > 1 && argv[optind - 1] != lastarg &&
		    strcmp(argv[optind - 1], "--") == 0) {
			while (optind < argc)
				it[nit++] = (struct resolve_item){
				    .kind = IT_NAME, .arg = argv[optind++], .literal = true};
			break;
		}
		if (c == -1) {
			it[nit++] = (struct resolve_item){.kind = IT_NAME, .arg = argv[optind++]};
			taken = optind;
			continue;
		}
		switch (c) {
		case 'h':
			free(it);
			return print_help(help);
		case 'x':
			cl.reverse = true;
			break;
		case 't':
			if (add_types(optarg, &cl.types))
				goto out;
			cl.dns_opt = true;
			break;
		case 'f':
			it[nit++] = (struct resolve_item){.kind = IT_FILE, .arg = optarg};
			nfiles++;
			break;
		case 'p':
			if (!parse_long(optarg, 1, 65535, &cl.port)) {
				usage_error("invalid -p '%s' (a port, 1-65535)", optarg);
				goto out;
			}
			port_set = true;
			break;
		case OPT_SERVER:
			if (add_server(&cl, optarg))
				goto out;
			break;
		case OPT_TCP:
			cl.dopt.tcp = cl.dns_opt = true;
			break;
		case OPT_NOFALLBACK:
			cl.dopt.no_fallback = cl.dns_opt = true;
			break;
		case OPT_NOEDNS:
			cl.dopt.no_edns = cl.dns_opt = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_seconds(optarg, &cl.dopt.timeout_ms) || cl.dopt.timeout_ms < 1) {
				usage_error("invalid --timeout '%s' (seconds, more than 0)",
					    optarg);
				goto out;
			}
			cl.dns_opt = true;
			break;
		case OPT_TRIES:
			if (!parse_long(optarg, 1, 100, &v)) {
				usage_error("invalid --tries '%s' (1-100)", optarg);
				goto out;
			}
			cl.dopt.tries = (int)v;
			cl.dns_opt = true;
			break;
		case OPT_PARALLEL:
			if (!parse_long(optarg, 1, 10000, &v)) {
				usage_error("invalid --parallel '%s' (1-10000)", optarg);
				goto out;
			}
			parallel = (size_t)v;
			break;
		case OPT_SHORT:
			x.mode = RESOLVE_SHORT;
			break;
		case OPT_JSON:
			x.mode = RESOLVE_JSON;
			break;
		case OPT_SERVICE:
		case OPT_PROTOCOL:
			/* A number out of range is a typo, not a lookup. */
			if (optarg[0] >= '0' && optarg[0] <= '9') {
				long most = c == OPT_SERVICE ? 65535 : 255;
				char num[32];
				snprintf(num, sizeof num, "%.*s", (int)strcspn(optarg, "/"),
					 optarg);
				if (!parse_long(num, 0, most, &v)) {
					usage_error("invalid --%s '%s' (%s 0-%ld)",
						    c == OPT_SERVICE ? "service" : "protocol",
						    optarg,
						    c == OPT_SERVICE ? "a port" : "a number", most);
					goto out;
				}
			}
			FALLTHROUGH;
		case OPT_HOSTNAME:
		case OPT_FQDN:
			it[nit++] =
			    (struct resolve_item){.kind = IT_SPEC,
						  .spec = c == OPT_SERVICE    ? RESOLVE_SERVICE
							  : c == OPT_PROTOCOL ? RESOLVE_PROTOCOL
							  : c == OPT_HOSTNAME ? RESOLVE_HOSTNAME
									      : RESOLVE_FQDN,
						  .arg = c == OPT_HOSTNAME ? "hostname"
							 : c == OPT_FQDN   ? "fqdn"
									   : optarg};
			nspecs++;
			break;
		default: {
			/* cmd_getopt has said what was wrong with any other. */
			if (tlsopt_handle(&cl.tls, c == 'k' ? TOPT_INSECURE : c, optarg) == 1)
				break;
			goto out;
		}
		}
	}
	if (read_operands(&cl, &x, it, nit))
		goto out;
	if (tlsopt_check(&cl.tls, TLS_CLIENT))
		goto out;
	x.quiet = g_opts.quiet;
	x.family = g_opts.family;
	x.numeric = g_opts.numeric;
	bool direct = cl.nservers > 0;
	if ((cl.dns_opt || port_set) && !direct) {
		usage_error("-t, -p, --tcp, --no-tcp-fallback, --no-edns, --timeout and --tries "
			    "need --server or @SERVER");
		goto out;
	}
	if (direct && nspecs) {
		usage_error("--service, --protocol, --hostname and --fqdn use the local "
			    "system, not --server");
		goto out;
	}
	if (cl.tls.on && !direct) {
		usage_error("--tls is DNS over TLS: it needs --server or @SERVER");
		goto out;
	}
	if (cl.tls.on && !port_set)
		cl.port = 853;
	if (!parse_servers(&cl))
		goto out;
	size_t nnames = 0;
	for (size_t i = 0; i < nit; i++)
		nnames += it[i].kind == IT_NAME;
	if (nnames + nfiles + nspecs == 0) {
		if (cl.typeword)
			usage_error("nothing to look up: '%s' is a record type here (a host of "
				    "that name: write '%s.')",
				    cl.typeword, cl.typeword);
		else
			usage_error("nothing to look up: give a NAME, -f FILE, --service, "
				    "--protocol, --hostname or --fqdn");
		goto out;
	}
	if (nfiles && !(files = calloc(nfiles, sizeof *files))) {
		errmsg("resolve: out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	size_t njobs = nspecs, f = 0;
	for (size_t i = 0; i < nit; i++) {
		size_t names = it[i].kind == IT_NAME ? 1 : 0;
		if (it[i].kind == IT_FILE) {
			if (read_names(it[i].arg, &files[f]) < 0) {
				rc = EXIT_FAIL;
				goto out;
			}
			names = files[f++].n;
		}
		const struct resolve_types *ts = it[i].types.n ? &it[i].types : &cl.types;
		njobs += names * (size_t)(direct && ts->n ? ts->n : 1);
	}
	jobs = calloc(njobs ? njobs : 1, sizeof *jobs);
	if (!jobs) {
		errmsg("resolve: out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	size_t made = 0;
	f = 0;
	for (size_t i = 0; i < nit; i++) {
		if (it[i].kind == IT_SPEC)
			jobs[made++] = (struct resolve_job){.kind = it[i].spec, .arg = it[i].arg};
		else if (it[i].kind == IT_NAME)
			name_jobs(jobs, &made, &cl, &it[i].types, it[i].arg, direct);
		else if (it[i].kind == IT_FILE) {
			for (size_t n = 0; n < files[f].n; n++)
				name_jobs(jobs, &made, &cl, &it[i].types, files[f].v[n], direct);
			f++;
		}
	}
	for (size_t i = 0; cl.tls.on && i < made; i++)
		if (jobs[i].qtype == DNS_T_AXFR) {
			usage_error("AXFR over TLS is not offered: ask without --tls");
			goto out;
		}
	if (cl.tls.on && !(cl.dopt.tls = tlsopt_ctx(&cl.tls, &rc)))
		goto out;
	rc = run(jobs, made, &x, direct ? &cl.dopt : NULL, parallel);
out:
	tls_ctx_free(cl.dopt.tls);
	tlsopt_free(&cl.tls);
	free(jobs);
	for (size_t i = 0; files && i < nfiles; i++) {
		for (size_t k = 0; k < files[i].n; k++)
			free(files[i].v[k]);
		free(files[i].v);
	}
	free(files);
	free(it);
	return rc;
}
