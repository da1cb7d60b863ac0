/* Running the jobs: the system's one after another; direct DNS queries
 * concurrently on the event loop (zone transfers one at a time, at the
 * head); output handed to the sink always in input order, each lookup
 * whole, as soon as everything before it is handed on. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "dns/dns_msg.h"
#include "dns/resolve.h"
#include "dns/resolve_axfr.h"
#include "dns/resolve_dns.h"

struct resolve_run {
	struct resolve_opts o;
	struct resolve_job *jobs;
	size_t njobs, next, head, inflight;
	int worst;
	bool pumping;
	struct rdns *dns;
};

static void put_job(struct resolve_run *r, struct resolve_job *j)
{
	r->o.sink.put(j, r->o.sink.arg);
	sb_reset(&j->out);
	sb_reset(&j->err);
}

static void flush_jobs(struct resolve_run *r)
{
	while (r->head < r->njobs && r->jobs[r->head].done) {
		struct resolve_job *j = &r->jobs[r->head++];
		if (j->out.oom || j->err.oom) {
			j->status = RES_FAIL;
			log_error("resolve %s: out of memory formatting the answer", j->arg);
		} else
			put_job(r, j);
		r->worst = resolve_worst(r->worst, j->status);
		sb_free(&j->out);
		sb_free(&j->err);
	}
	/* A zone transfer is put as it comes: it only runs at the head. */
	if (r->head < r->njobs && r->jobs[r->head].axfr)
		put_job(r, &r->jobs[r->head]);
	/* Whole lookups at a time, so a reader of a pipe sees each promptly. */
	if (r->o.sink.flush)
		r->o.sink.flush(r->o.sink.arg);
}

static void pump(struct resolve_run *r);

static void job_end(struct resolve_run *r, struct resolve_job *j)
{
	j->done = true;
	r->inflight--;
	flush_jobs(r);
	pump(r);
	if (r->head == r->njobs)
		loop_stop(r->o.loop);
}

static void dns_done(const struct rdns_result *res, void *arg)
{
	struct resolve_job *j = arg;
	if (res->status == RDNS_ANSWER)
		resolve_dns_format(j, res);
	else if (res->status == RDNS_NOANSWER)
		resolve_dns_noanswer(j, res);
	else
		resolve_job_fail(j, RES_FAIL, "dns", res->errtext);
	job_end(j->run, j);
}

static void axfr_rr(const struct dns_msg *m, const struct dns_rr *rr, void *arg)
{
	struct resolve_job *j = arg;
	resolve_axfr_record(j, m, rr);
	/* Written out every few records, not kept: a zone can be large. */
	if (j->out.len >= 16384)
		flush_jobs(j->run);
}

static void axfr_done(const struct raxfr_result *res, void *arg)
{
	struct resolve_job *j = arg;
	j->axfr = NULL;
	resolve_axfr_end(j, res);
	job_end(j->run, j);
}

static void dns_start(struct resolve_run *r, struct resolve_job *j)
{
	char rev[DNS_PRES_MAX], err[256];
	const char *name = j->arg;
	if (j->kind == RESOLVE_ADDR) {
		dns_reverse_name(j->arg, rev, sizeof rev);
		name = rev;
	}
	if (j->qtype == DNS_T_AXFR) {
		resolve_axfr_begin(j);
		j->axfr =
		    raxfr_start(r->o.loop, r->o.dns, name, axfr_rr, axfr_done, j, err, sizeof err);
		if (!j->axfr) {
			sb_reset(&j->out);
			resolve_job_fail(j, RES_FAIL, "axfr", err);
			j->done = true;
			r->inflight--;
		}
		return;
	}
	if (rdns_query(r->dns, name, j->qtype, dns_done, j) < 0) {
		resolve_job_fail(j, RES_FAIL, "dns", strerror(ENOMEM));
		j->done = true;
		r->inflight--;
	}
}

static void pump(struct resolve_run *r)
{
	if (r->pumping)
		return;
	r->pumping = true;
	while (r->inflight < r->o.parallel && r->next < r->njobs) {
		struct resolve_job *j = &r->jobs[r->next];
		/* A transfer waits until everything before it is printed, then
		 * streams its records straight out. */
		if (j->qtype == DNS_T_AXFR && r->next != r->head)
			break;
		r->next++;
		r->inflight++;
		dns_start(r, j);
	}
	r->pumping = false;
	flush_jobs(r);
}

static int run_direct(struct resolve_run *r, char *err, size_t errlen)
{
	r->dns = rdns_new(r->o.loop, r->o.dns, err, errlen);
	if (!r->dns)
		return -1;
	pump(r);
	if (r->head < r->njobs && loop_run(r->o.loop) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	if (r->head < r->njobs) {
		snprintf(err, errlen, "the event loop ended with lookups unfinished");
		return -1;
	}
	return r->worst;
}

int resolve_jobs(struct resolve_job *jobs, size_t njobs, const struct resolve_opts *o, char *err,
		 size_t errlen)
{
	struct resolve_run r = {.o = *o, .jobs = jobs, .njobs = njobs};
	int rc;
	for (size_t i = 0; i < njobs; i++) {
		jobs[i].x = &r.o.x;
		jobs[i].run = &r;
	}
	if (!o->dns) {
		for (size_t i = 0; i < njobs; i++) {
			resolve_sys_run(&jobs[i]);
			flush_jobs(&r);
		}
		rc = r.worst;
	} else
		rc = run_direct(&r, err, errlen);
	for (size_t i = 0; i < njobs; i++) {
		raxfr_cancel(jobs[i].axfr);
		jobs[i].axfr = NULL;
		sb_free(&jobs[i].out);
		sb_free(&jobs[i].err);
		jobs[i].run = NULL;
	}
	if (r.dns)
		rdns_free(r.dns);
	return rc;
}
