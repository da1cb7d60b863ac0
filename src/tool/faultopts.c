/* forward's fault options (see faultopts.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "forward/fault_control.h"
#include "net/sock.h"
#include "tool/cmd.h"
#include "tool/faultopts.h"

/* The fault names, in the order of the FOPT_ codes. */
static const char *const names[] = {
    "delay",	   "delay-up",	  "delay-down", "rate",	       "rate-up",	 "rate-down",
    "chunk",	   "chunk-up",	  "chunk-down", "chunk-delay", "chunk-delay-up", "chunk-delay-down",
    "close-after", "reset-after", "refuse",	"blackhole",   "timeout-after",	 "loss",
    "duplicate",   "reorder",	  "seed",
};

void faultopt_init(struct faultopts *o)
{
	memset(o, 0, sizeof *o);
	fault_settings_init(&o->st);
}

int faultopt_handle(struct faultopts *o, int c, const char *arg)
{
	if (c == FOPT_CONTROL) {
		o->control = arg;
		return 1;
	}
	if (c < FOPT_DELAY || c >= FOPT_DELAY + (int)(sizeof names / sizeof names[0]))
		return 0;
	const char *name = names[c - FOPT_DELAY];
	char err[256];
	if (fault_settings_set(&o->st, name, arg, err, sizeof err) < 0) {
		usage_error("--%s", err);
		return -1;
	}
	if (c == FOPT_SEED) {
		o->seeded = true;
		return 1;
	}
	if (!o->first)
		o->first = name;
	o->any = true;
	return 1;
}

int faultopt_check(struct faultopts *o, long workers, bool dgram)
{
	if (o->control && workers > 1)
		return usage_error("--control serves one process: not with --workers");
	if (o->seeded && !o->any && !o->control)
		return usage_error("--seed is for --loss, --duplicate, --reorder and --delay "
				   "jitter");
	const struct fault_settings *st = &o->st;
	if (!dgram && (st->loss > 0 || st->duplicate > 0 || st->reorder > 0))
		return usage_error("--loss, --duplicate and --reorder are for UDP (-u)");
	if (dgram) {
		/* Name a stream-only one, not the first fault given. */
		const char *so = NULL;
		if (st->close_after.bytes || st->close_after.ms)
			so = "close-after";
		else if (st->reset_after.bytes || st->reset_after.ms)
			so = "reset-after";
		else if (st->timeout_after_ms)
			so = "timeout-after";
		else if (st->flow[0].chunk || st->flow[1].chunk)
			so = "chunk";
		else if (st->flow[0].chunk_delay_ms || st->flow[1].chunk_delay_ms)
			so = "chunk-delay";
		else if (st->flow[0].rate || st->flow[1].rate)
			so = "rate";
		else if (st->refuse)
			so = "refuse";
		else if (st->blackhole)
			so = "blackhole";
		if (so)
			return usage_error("--%s is for stream connections, not UDP", so);
	}
	if (!o->seeded) {
		/* Reproducible runs give --seed; others still get one, which
		 * `show` on the control socket and -v tell. */
		o->st.seed = (uint64_t)clock_us() ^ ((uint64_t)getpid() << 40);
	}
	return 0;
}

struct fault_set *faultopt_start(struct faultopts *o, struct loop *l, int *status)
{
	*status = 0;
	if (!o->any && !o->control)
		return NULL;
	fault_set_init(&o->fs, &o->st);
	if (log_wants(LOG_LVL_INFO))
		log_info("faults: seed %llu", (unsigned long long)o->st.seed);
	if (!o->control)
		return &o->fs;
	struct sock_endpoint ep = {.unix_path = o->control, .socktype = SOCK_STREAM};
	char err[SOCK_ERRLEN + 64];
	int lfd = sock_listen(&ep, &(struct sock_listen_opts){0}, NULL, err, sizeof err);
	if (lfd < 0) {
		errmsg("--control: %s", err);
		*status = EXIT_FAIL;
		return NULL;
	}
	o->started = true;
	if (!(o->ctl = fault_control_new(l, lfd, &o->fs, err, sizeof err))) {
		errmsg("%s", err);
		*status = EXIT_FAIL;
		return NULL;
	}
	return &o->fs;
}

void faultopt_free(struct faultopts *o)
{
	fault_control_free(o->ctl);
	o->ctl = NULL;
	/* The path is ours once we listened on it; an abstract name has
	 * none. */
	if (o->started && o->control[0] != '@')
		unlink(o->control);
	o->started = false;
}
