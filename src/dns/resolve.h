/* Shared between cmd_resolve.c (options, operands, jobs), resolve_run.c
 * (running them, output in order), resolve_job.c (a job's status and
 * failure lines), resolve_sys.c (the system resolver and the local
 * databases) and resolve_direct.c (direct DNS output). */
#ifndef SOCKCTL_RESOLVE_H
#define SOCKCTL_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/dns_fmt.h"

/* Exit statuses, one per outcome. */
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
	int status;	 /* RES_*: the exit status */
	/* The status word when it says more than the exit status's own
	 * ("unreachable" and "closed" are exit 7 as "timeout" is); NULL for
	 * resolve_status_name(status). Static text. */
	const char *label;
	bool done;
	struct sbuf out, err; /* for stdout and stderr, printed in input order */
	unsigned records;     /* zone transfers: records written so far */
	struct raxfr *axfr;   /* a zone transfer running, owned */
	struct resolve_ctx *x;
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

/* Runs the jobs (with the system resolver when dopt is NULL, else
 * straight from dopt's servers, parallel at once), prints each in input
 * order, frees their output, and returns the worst exit status. */
struct rdns_opts;
int run_jobs(struct resolve_job *jobs, size_t njobs, const struct resolve_ctx *x,
	     const struct rdns_opts *dopt, size_t parallel);

#endif
