/* Every mux backend through the same scenarios, plus the loop's timers
 * and signals. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/mux.h"
#include "tap.h"
#include "unit_net.h"

static int find(struct mux_event *ev, int n, int fd)
{
	for (int i = 0; i < n; i++)
		if (ev[i].fd == fd)
			return ev[i].mask;
	return 0;
}

static void on_alarm(int s)
{
	(void)s;
}

static void scenarios(const char *name)
{
	char err[128];
	struct mux *m = mux_new(name, 16, err, sizeof err);
	ok(m != NULL, "%s: created", name);
	if (!m)
		return;
	ok(strcmp(mux_name(m), name) == 0, "%s: reports its name", name);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct mux_event ev[8];
	int tag = 42;

	ok(mux_set(m, sv[0], MUX_READ, &tag) == 0, "%s: register read", name);
	ok(mux_wait(m, ev, 8, 0) == 0, "%s: nothing ready yet", name);
	ok(write(sv[1], "x", 1) == 1, "%s: peer writes", name);
	int n = mux_wait(m, ev, 8, 1000);
	ok(n == 1 && ev[0].fd == sv[0] && ev[0].mask == MUX_READ && ev[0].udata == &tag,
	   "%s: readable with its user data", name);
	n = mux_wait(m, ev, 8, 0);
	ok(n == 1 && ev[0].mask == MUX_READ, "%s: level-triggered: still readable", name);

	ok(mux_set(m, sv[0], MUX_READ | MUX_WRITE, &tag) == 0, "%s: add write", name);
	n = mux_wait(m, ev, 8, 0);
	ok(n == 1 && ev[0].mask == (MUX_READ | MUX_WRITE), "%s: readable and writable", name);

	ok(mux_set(m, sv[0], MUX_WRITE, &tag) == 0, "%s: write only", name);
	n = mux_wait(m, ev, 8, 0);
	ok(n == 1 && ev[0].mask == MUX_WRITE, "%s: read readiness not reported", name);

	ok(mux_set(m, sv[0], 0, NULL) == 0, "%s: forget", name);
	ok(mux_wait(m, ev, 8, 0) == 0, "%s: forgotten fd reports nothing", name);

	/* Hang-up: the peer closes; reported as readable (and writable). */
	mux_set(m, sv[0], MUX_READ, NULL);
	char c;
	ok(read(sv[0], &c, 1) == 1, "%s: drained", name);
	close(sv[1]);
	n = mux_wait(m, ev, 8, 1000);
	ok(n == 1 && (find(ev, n, sv[0]) & MUX_READ), "%s: hang-up reported as readable", name);
	mux_set(m, sv[0], MUX_WRITE, NULL);
	n = mux_wait(m, ev, 8, 1000);
	ok(n == 1 && (find(ev, n, sv[0]) & MUX_WRITE), "%s: hang-up reported as writable", name);
	bool faults = strcmp(name, "select") != 0;
	ok(mux_reports_faults(m) == faults, "%s: %s faults", name,
	   faults ? "reports" : "cannot report");
	ok(((find(ev, n, sv[0]) & MUX_FAULT) != 0) == faults, "%s: hang-up %s MUX_FAULT", name,
	   faults ? "carries" : "has no");
	mux_set(m, sv[0], 0, NULL);
	close(sv[0]);

	/* A connect: writable and clean when it succeeded, with MUX_FAULT
	 * (where reported) when it was refused. */
	{
		struct sockaddr_in a;
		int lfd = loopback_listener(&a, 4);
		int cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int r = connect(cfd, (struct sockaddr *)&a, sizeof a);
		ok(r == 0 || errno == EINPROGRESS, "%s: connect started", name);
		mux_set(m, cfd, MUX_WRITE, NULL);
		n = mux_wait(m, ev, 8, 1000);
		ok(n == 1 && find(ev, n, cfd) == MUX_WRITE,
		   "%s: connected: writable, no fault (%d)", name, find(ev, n, cfd));
		mux_set(m, cfd, 0, NULL);
		close(cfd);
		close(lfd);
		int rfd = loopback_refusing(&a);
		cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		r = connect(cfd, (struct sockaddr *)&a, sizeof a);
		if (r < 0 && errno == EINPROGRESS) {
			mux_set(m, cfd, MUX_WRITE, NULL);
			n = mux_wait(m, ev, 8, 1000);
			int got_mask = find(ev, n, cfd);
			ok((got_mask & MUX_WRITE) && ((got_mask & MUX_FAULT) != 0) == faults,
			   "%s: refused: writable%s (%d)", name, faults ? ", with MUX_FAULT" : "",
			   got_mask);
			mux_set(m, cfd, 0, NULL);
		} else {
			ok(r < 0 && errno == ECONNREFUSED, "%s: refused at once", name);
		}
		close(cfd);
		close(rfd);
	}

	/* Many fds at once, some ready. */
	int pairs[20][2];
	for (int i = 0; i < 20; i++) {
		socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]);
		mux_set(m, pairs[i][0], MUX_READ, NULL);
	}
	for (int i = 0; i < 20; i += 3)
		ok(write(pairs[i][1], "y", 1) == 1 || 1, "%s: write %d", name, i);
	struct mux_event big[32];
	n = mux_wait(m, big, 32, 1000);
	int want = 0, got = 0;
	for (int i = 0; i < 20; i++) {
		if (i % 3 == 0)
			want++;
		if (find(big, n, pairs[i][0]))
			got += (i % 3 == 0) ? 1 : 100;
	}
	ok(got == want, "%s: exactly the %d ready fds of 20 reported", name, want);
	/* Fairness: with more ready fds than room for events, successive
	 * waits must reach every one of them, not the first ones again. */
	{
		for (int i = 0; i < 20; i++)
			if (write(pairs[i][1], "z", 1) != 1)
				break;
		int seen[20] = {0}, nseen = 0;
		for (int call = 0; call < 5; call++) {
			struct mux_event few[4];
			int k = mux_wait(m, few, 4, 1000);
			for (int j = 0; j < k; j++)
				for (int i = 0; i < 20; i++)
					if (few[j].fd == pairs[i][0] && !seen[i]++)
						nseen++;
		}
		ok(nseen == 20, "%s: 5 waits of 4 events reach all 20 ready fds (%d)", name, nseen);
		char drain[8];
		for (int i = 0; i < 20; i++)
			if (read(pairs[i][0], drain, 1) < 0)
				break;
	}
	/* Removing from the middle keeps the others (poll swaps entries). */
	mux_set(m, pairs[0][0], 0, NULL);
	mux_set(m, pairs[9][0], 0, NULL);
	n = mux_wait(m, big, 32, 1000);
	ok(n == want - 2 && !find(big, n, pairs[0][0]) && find(big, n, pairs[3][0]),
	   "%s: removal keeps the others", name);
	for (int i = 0; i < 20; i++) {
		mux_set(m, pairs[i][0], 0, NULL);
		close(pairs[i][0]);
		close(pairs[i][1]);
	}

	/* EINTR: a signal during the wait returns 0 events, not an error. */
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	mux_set(m, sv[0], MUX_READ, NULL);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	n = mux_wait(m, ev, 8, 2000);
	ok(n == 0, "%s: EINTR gives 0 events (got %d, errno %d)", name, n, errno);
	mux_set(m, sv[0], 0, NULL);
	close(sv[0]);
	close(sv[1]);

	/* fds beyond FD_SETSIZE: select refuses with ERANGE, others accept. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int hi = dup2(sv[0], FD_SETSIZE + 10);
	close(sv[0]);
	close(sv[1]);
	if (hi >= 0) {
		errno = 0;
		int r = mux_set(m, hi, MUX_READ, NULL);
		if (strcmp(name, "select") == 0)
			ok(r == -1 && errno == ERANGE, "select: refuses fd %d with ERANGE", hi);
		else
			ok(r == 0, "%s: accepts fd %d", name, hi);
		mux_set(m, hi, 0, NULL);
		close(hi);
	} else {
		ok(1, "%s: # SKIP cannot raise fd limit", name);
	}
	mux_free(m);
}

/* ---- loop: timers fire in deadline order; stop and re-arm work ---- */
static int order[8], norder;
static void on_timer(struct loop *l, void *arg)
{
	order[norder++] = (int)(long)arg;
}

static void on_sig(struct loop *l, int signo, void *arg)
{
	*(int *)arg = signo;
	loop_stop(l);
}

/* A 0 ms timer started by an event's callback after the clock moved
 * (a long batch) runs in that turn, before the loop waits again: a
 * deferred start must not cost one more wait. */
static int steps[4], nsteps;
static struct timer zero_timer;
static int late_pipe[2];

static void on_zero(struct loop *l, void *arg)
{
	steps[nsteps++] = 1;
}

/* Takes the byte that made fd readable, and stops watching it. */
static bool take_byte(struct loop *l, int fd)
{
	char c;
	if (read(fd, &c, 1) < 0)
		return false;
	loop_io(l, fd, 0, NULL, NULL);
	return true;
}

static void on_late(struct loop *l, int fd, int mask, void *arg)
{
	if (take_byte(l, fd))
		steps[nsteps++] = 2;
}

static void on_first(struct loop *l, int fd, int mask, void *arg)
{
	if (!take_byte(l, fd))
		return;
	int64_t t0 = clock_ms();
	while (clock_ms() < t0 + 2)
		; /* the clock moves on */
	loop_timer_start(l, &zero_timer, 0);
	/* Ready for the next wait, if there is one before the timer. */
	if (write(late_pipe[1], "x", 1) == 1)
		loop_io(l, late_pipe[0], MUX_READ, on_late, NULL);
}

static void zero_timer_scenario(struct loop *l, const char *name)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	if (pipe(late_pipe) < 0 || write(sv[1], "x", 1) != 1) {
		ok(0, "%s loop: set up", name);
		return;
	}
	timer_init(&zero_timer, on_zero, NULL);
	nsteps = 0;
	loop_io(l, sv[0], MUX_READ, on_first, NULL);
	loop_run(l);
	ok(nsteps == 2 && steps[0] == 1 && steps[1] == 2,
	   "%s loop: a 0 ms timer started late in a turn runs before the next wait", name);
	close(sv[0]);
	close(sv[1]);
	close(late_pipe[0]);
	close(late_pipe[1]);
}

static void loop_scenarios(const char *name)
{
	char err[128];
	struct loop *l = loop_new(name, 16, err, sizeof err);
	ok(l != NULL, "%s loop: created", name);
	struct timer t[5];
	for (int i = 0; i < 5; i++)
		timer_init(&t[i], on_timer, (void *)(long)i);
	norder = 0;
	loop_timer_start(l, &t[0], 40);
	loop_timer_start(l, &t[1], 10);
	loop_timer_start(l, &t[2], 30);
	loop_timer_start(l, &t[3], 20);
	loop_timer_start(l, &t[4], 5);
	loop_timer_stop(l, &t[3]);
	loop_timer_start(l, &t[4], 50); /* re-armed later */
	int64_t t0 = clock_ms();
	loop_run(l);
	int64_t el = clock_ms() - t0;
	ok(norder == 4 && order[0] == 1 && order[1] == 2 && order[2] == 0 && order[3] == 4,
	   "%s loop: timers in deadline order, stopped one skipped", name);
	ok(el >= 45 && el < 1000, "%s loop: ran until the last timer (%lld ms)", name,
	   (long long)el);
	ok(!timer_armed(&t[0]) && !timer_armed(&t[3]), "%s loop: fired timers disarmed", name);
	zero_timer_scenario(l, name);

	int got = 0;
	loop_signal(l, SIGUSR1, on_sig, &got);
	struct timer guard;
	timer_init(&guard, on_timer, (void *)7L);
	loop_timer_start(l, &guard, 2000);
	kill(getpid(), SIGUSR1);
	loop_run(l);
	ok(got == SIGUSR1, "%s loop: signal delivered through the loop", name);
	loop_timer_stop(l, &guard);
	loop_free(l);
}

int main(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FD_SETSIZE + 64 &&
	    rl.rlim_max >= FD_SETSIZE + 64) {
		rl.rlim_cur = FD_SETSIZE + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (const char *const *b = mux_backends(); *b; b++) {
		scenarios(*b);
		loop_scenarios(*b);
	}
	char err[128];
	ok(mux_new("nosuch", 8, err, sizeof err) == NULL && strstr(err, "available"),
	   "unknown backend refused with the list: %s", err);
	tap_done();
}
