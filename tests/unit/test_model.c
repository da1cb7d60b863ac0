/* The per-connection models: each blocking handler over a socketpair, in
 * this process, in a thread and in a child; and the worker processes. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/loop.h"
#include "net/stream.h"
#include "proc/model.h"
#include "proc/workers.h"
#include "tap.h"

/* Sends text, half-closes, returns everything the handler sent back. */
static char *exchange(int fd, const char *text)
{
	static char out[256];
	size_t n = 0;
	ssize_t r;
	if (write(fd, text, strlen(text)) < 0)
		return NULL;
	shutdown(fd, SHUT_WR);
	while (n + 1 < sizeof out && (r = read(fd, out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fd);
	return out;
}

/* The handler's end of a socketpair, as the accept loop gives it. */
static struct stream *conn(int fd)
{
	return stream_fd_new(NULL, fd, STREAM_F_OWN);
}

int main(void)
{
	enum model m;
	ok(model_parse("fork", &m) && m == MODEL_FORK && model_parse("thread", &m) &&
	       m == MODEL_THREAD && model_parse("loop", &m) && !model_parse("forks", &m),
	   "model names");

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct model_totals *tot = model_totals_new();
	ok(tot != NULL, "shared totals");
	struct model_job j = {.s = conn(sv[0]), .kind = MODEL_JOB_UPPER, .totals = tot};
	pid_t pid = model_job_fork(&j);
	stream_close(j.s);
	ok(!strcmp(exchange(sv[1], "ab\ncd\r\n"), "AB\nCD\r\n"), "fork: upper, bytes unchanged");
	int st;
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exits 0");
	uint64_t tin, tout;
	model_totals_get(tot, &tin, &tout);
	ok(tin == 7 && tout == 7, "the child's bytes are in the parent's totals");

	int note[2];
	pipe(note);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	j = (struct model_job){.s = conn(sv[0]), .kind = MODEL_JOB_ECHO, .totals = tot};
	ok(model_job_thread(&j, note[1]) == 0, "thread started");
	ok(!strcmp(exchange(sv[1], "hello\n"), "hello\n"), "thread: echo");
	char b;
	ok(read(note[0], &b, 1) == 1, "thread notified its end");
	model_totals_get(tot, &tin, &tout);
	ok(tin == 13 && tout == 13, "a thread adds to the same totals");
	model_totals_free(tot);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	j = (struct model_job){
	    .s = conn(sv[0]), .kind = MODEL_JOB_RESPOND, .data = "hi\n", .len = 3};
	ok(model_job_thread(&j, note[1]) == 0 && !strcmp(exchange(sv[1], "ignored"), "hi\n"),
	   "respond");
	read(note[0], &b, 1);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	j = (struct model_job){.s = conn(sv[0]), .kind = MODEL_JOB_DISCARD};
	ok(model_job_thread(&j, note[1]) == 0 && !strcmp(exchange(sv[1], "gone"), ""), "discard");
	read(note[0], &b, 1);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	j = (struct model_job){.s = conn(sv[0]), .kind = MODEL_JOB_ECHO, .idle_ms = 50};
	model_job_thread(&j, note[1]);
	struct pollfd p = {.fd = sv[1], .events = POLLIN};
	ok(poll(&p, 1, 10000) == 1 && read(sv[1], &b, 1) == 0, "idle timeout closes");
	close(sv[1]);

	struct workers w;
	char err[256];
	int index = -1;
	int r = workers_start(&w, 3, &index, err, sizeof err);
	if (r == 1) {
		workers_ready(&w);
		_exit(index == 2 ? 2 : 0);
	}
	ok(r == 0 && workers_wait_ready(&w, 10000, err, sizeof err) == 0, "3 workers ready");
	ok(workers_wait(&w) == 2, "highest worker status");
	workers_free(&w);
	r = workers_start(&w, 2, &index, err, sizeof err);
	if (r == 1)
		_exit(1); /* dies before it is ready */
	ok(workers_wait_ready(&w, 10000, err, sizeof err) < 0 && strstr(err, "failed to start"),
	   "failed workers detected: %s", err);
	workers_wait(&w);
	workers_free(&w);
	tap_done();
}
