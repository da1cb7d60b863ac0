#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "proc/children.h"

struct child {
	pid_t pid;
	child_done_cb done;
	void *arg;
};

/* An exit reaped before its pid was registered (a child can exit between
 * fork and children_add): kept until the add. */
struct early {
	pid_t pid;
	int status;
};

struct children {
	struct loop *loop;
	struct child *c; /* owned array */
	size_t n, cap;
	struct early *early; /* owned */
	size_t nearly, capearly;
	struct timer deliver; /* runs the callbacks of early exits from the loop */
};

static void remove_at(struct children *cs, size_t i)
{
	cs->c[i] = cs->c[--cs->n];
	loop_release(cs->loop);
}

static void keep_early(struct children *cs, pid_t pid, int status)
{
	if (cs->nearly == cs->capearly) {
		size_t cap = cs->capearly ? cs->capearly * 2 : 8;
		struct early *e = realloc(cs->early, cap * sizeof *e);
		if (!e)
			return; /* the exit is lost; its add will wait forever */
		cs->early = e;
		cs->capearly = cap;
	}
	cs->early[cs->nearly++] = (struct early){pid, status};
}

static void on_sigchld(struct loop *l, int signo, void *arg)
{
	(void)l;
	(void)signo;
	struct children *cs = arg;
	pid_t pid;
	int status;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		size_t i = 0;
		while (i < cs->n && cs->c[i].pid != pid)
			i++;
		if (i == cs->n) {
			keep_early(cs, pid, status);
			continue;
		}
		struct child ch = cs->c[i];
		remove_at(cs, i);
		/* The callback may add or kill children: the array is in a
		 * consistent state by now. */
		ch.done(pid, status, ch.arg);
	}
}

/* An exit that came before its add: delivered from the loop (the add's
 * caller is not ready for a callback inside children_add). */
static void on_deliver(struct loop *l, void *arg)
{
	(void)l;
	struct children *cs = arg;
	for (size_t i = 0; i < cs->n;) {
		size_t k = 0;
		while (k < cs->nearly && cs->early[k].pid != cs->c[i].pid)
			k++;
		if (k == cs->nearly) {
			i++;
			continue;
		}
		int status = cs->early[k].status;
		cs->early[k] = cs->early[--cs->nearly];
		struct child ch = cs->c[i];
		remove_at(cs, i);
		ch.done(ch.pid, status, ch.arg);
		i = 0; /* the callback may have changed the array */
	}
}

struct children *children_new(struct loop *l)
{
	struct children *cs = calloc(1, sizeof *cs);
	if (!cs)
		return NULL;
	cs->loop = l;
	timer_init(&cs->deliver, on_deliver, cs);
	if (loop_signal(l, SIGCHLD, on_sigchld, cs) < 0) {
		free(cs);
		return NULL;
	}
	return cs;
}

int children_add(struct children *cs, pid_t pid, child_done_cb done, void *arg)
{
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 16;
		struct child *c = realloc(cs->c, cap * sizeof *c);
		if (!c) {
			errno = ENOMEM;
			return -1;
		}
		cs->c = c;
		cs->cap = cap;
	}
	cs->c[cs->n++] = (struct child){pid, done, arg};
	loop_hold(cs->loop);
	for (size_t k = 0; k < cs->nearly; k++)
		if (cs->early[k].pid == pid) {
			loop_timer_start(cs->loop, &cs->deliver, 0);
			break;
		}
	return 0;
}

size_t children_count(const struct children *cs)
{
	return cs ? cs->n : 0;
}

void children_kill(struct children *cs, int sig)
{
	for (size_t i = 0; cs && i < cs->n; i++)
		kill(cs->c[i].pid, sig);
}

void children_free(struct children *cs)
{
	if (!cs)
		return;
	loop_timer_stop(cs->loop, &cs->deliver);
	while (cs->n)
		remove_at(cs, cs->n - 1);
	free(cs->c);
	free(cs->early);
	free(cs);
}
