/* resolve's engine: lookups (jobs) run with the system resolver and the
 * local databases, or straight against DNS servers on the event loop,
 * each formatted into its job's text and handed to the program in input
 * order. resolve_run.c runs them, resolve_job.c writes a job's status and
 * failure lines, resolve_sys.c asks the system, resolve_direct.c writes
 * what DNS servers answered. The program (tool/cmd_resolve.c) makes the
 * jobs from its command line, prints what it is handed and exits with the
 * worst outcome. Nothing here prints or exits. */
#ifndef SOCKCTL_RESOLVE_H
#define SOCKCTL_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/dns_fmt.h"

/* The outcomes of a lookup, from best to worst as resolve_worst orders
 * them; the program exits with them. */
enum {
	RES_OK = 0,
	RES_FAIL = 1,
	RES_NXDOMAIN = 3,
	RES_NODATA = 4,
	RES_SERVFAIL = 5,
	RES_REFUSED = 6,
	RES_TIMEOUT = 7,
};

enum resolve_out { RESOLVE_LINES, RESOLVE_SHORT, RESOLVE_JSON };

enum resolve_job_kind {
	RESOLVE_NAME,
	RESOLVE_ADDR,
	RESOLVE_SERVICE,
	RESOLVE_PROTOCOL,
	RESOLVE_HOSTNAME,
	RESOLVE_FQDN
};

struct resolve_job {
	enum resolve_job_kind kind;
	const char *arg; /* not owned: argv or the names read from -f */
	int qtype;	 /* direct DNS */
	int status;	 /* RES_*: the outcome */
	/* The status word when it says more than the exit status's own
	 * ("unreachable" and "closed" are exit 7 as "timeout" is); NULL for
	 * resolve_status_name(status). Static text. */
	const char *label;
	bool done;
	/* The text for stdout (results) and stderr (--short's failure
	 * lines), handed to the sink in input order. */
	struct sbuf out, err;
	unsigned records;	     /* zone transfers: records written so far */
	struct raxfr *axfr;	     /* a zone transfer running, owned */
	const struct resolve_ctx *x; /* how to write it, not owned */
	struct resolve_run *run;     /* the run it is part of, not owned */
};

struct resolve_ctx {
	enum resolve_out mode;
	bool quiet;
	int family;
	bool numeric; /* -n: numeric addresses only, no lookups */
};

/* The status word used in output for an exit status. */
const char *resolve_status_name(int status);
/* A job's status word: its label, else resolve_status_name. */
const char *resolve_job_status_word(const struct resolve_job *j);
/* The worse of two outcomes: 1 (our own or the system's failure) is the
 * worst, then 7, 6, 5, 4, 3; 0 is the best. */
int resolve_worst(int a, int b);

/* Ends a job that failed: status, a ";; " line (or an error line with
 * --short, a JSON document with --json). detail may be NULL. */
void resolve_job_fail(struct resolve_job *j, int status, const char *kind, const char *detail);
/* Starts a JSON document {"query":...,"kind":...,"status":...,"exit":N */
void resolve_job_json_head(struct resolve_job *j, const char *kind);

/* Writes a job's output and status from a DNS response (direct DNS), or
 * from a query that got none. */
struct rdns_result;
void resolve_dns_format(struct resolve_job *j, const struct rdns_result *res);
void resolve_dns_noanswer(struct resolve_job *j, const struct rdns_result *res);
/* A zone transfer: its start (before any record), each record as it
 * comes, and its end with the outcome. */
struct dns_msg;
struct dns_rr;
struct raxfr_result;
void resolve_axfr_begin(struct resolve_job *j);
void resolve_axfr_record(struct resolve_job *j, const struct dns_msg *m, const struct dns_rr *rr);
void resolve_axfr_end(struct resolve_job *j, const struct raxfr_result *res);
/* Writes the query ("www.example A") in presentation format. */
void resolve_put_query(struct sbuf *o, const struct resolve_job *j);

/* Runs one job with the system resolver or the local databases. */
void resolve_sys_run(struct resolve_job *j);

/* Where the jobs' text goes: the program prints it. */
struct resolve_sink {
	/* A job's out and err, in input order: a lookup whole once it is
	 * done; a zone transfer also in pieces as its records come. The
	 * engine empties both afterwards. */
	void (*put)(const struct resolve_job *j, void *arg);
	/* What was put so far should reach its reader now: called after
	 * each batch of lookups that ended together. May be NULL. */
	void (*flush)(void *arg);
	void *arg;
};

struct rdns_opts;
struct loop;
struct resolve_opts {
	struct resolve_ctx x;
	/* NULL: the system resolver, one job after another. Else straight
	 * from these servers, on loop (not owned), parallel queries at once;
	 * zone transfers one at a time, when everything before them is put. */
	const struct rdns_opts *dns;
	struct loop *loop;
	size_t parallel;
	struct resolve_sink sink;
};

/* Runs the jobs, hands each one's text to the sink in input order and
 * frees it. Returns the worst outcome (RES_*), or -1 with err filled when
 * the run could not go on (c-ares could not start, the event loop
 * failed); the jobs put before that stay put. A job whose text ran out of
 * memory is RES_FAIL, said through core/log instead of put. */
int resolve_jobs(struct resolve_job *jobs, size_t njobs, const struct resolve_opts *o, char *err,
		 size_t errlen);

#endif
