/* Programs on connections: the socket as stdin/stdout, the SOCKCTL_*
 * environment over real TCP, exec failures, reaping and status text. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/sock.h"
#include "proc/spawn.h"
#include "tap.h"

static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as sockctl does: the child must not inherit it */
	char err[256];
	struct sock_endpoint ep = {.host = "127.0.0.1", .port = "0", .socktype = SOCK_STREAM};
	struct sock_addr bound;
	int lfd = sock_listen(&ep, NULL, &bound, err, sizeof err);
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	connect(cfd, (struct sockaddr *)&bound.ss, bound.len);
	sock_set_nonblock(lfd, false);
	int sfd = accept(lfd, NULL, NULL);
	sock_set_nonblock(sfd, true);

	struct spawn_env env;
	spawn_env_fill(&env, sfd);
	ok(!strcmp(env.proto, "tcp") && !strcmp(env.remote_addr, "127.0.0.1") &&
	       !strcmp(env.local_addr, "127.0.0.1") && atoi(env.local_port) > 0 &&
	       atoi(env.remote_port) > 0,
	   "environment from the socket");
	setenv("SOCKCTL_PROTO", "spoofed", 1);
	pid_t pid = spawn_child(sfd, NULL,
				"echo \"$SOCKCTL_PROTO $SOCKCTL_REMOTE_ADDR:$SOCKCTL_REMOTE_PORT "
				"$SOCKCTL_LOCAL_ADDR:$SOCKCTL_LOCAL_PORT\"; "
				"tr a-z A-Z; kill -0 $PPID && echo parent; exit 3",
				&env, err, sizeof err);
	ok(pid > 0, "sh-exec started");
	close(sfd);
	ok(write(cfd, "hello\n", 6) == 6, "sent");
	shutdown(cfd, SHUT_WR);
	char out[512], want[1200];
	read_all(cfd, out, sizeof out);
	snprintf(want, sizeof want, "tcp %s:%s %s:%s\nHELLO\nparent\n", env.remote_addr,
		 env.remote_port, env.local_addr, env.local_port);
	ok(!strcmp(out, want), "child read the socket and saw its environment: [%s]", out);
	close(cfd);
	int last_status;
	pid_t reaped = waitpid(pid, &last_status, 0);
	char text[64];
	spawn_status_text(last_status, text, sizeof text);
	ok(reaped == pid && !strcmp(text, "exited with status 3"), "reaped: %s", text);

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	char a0[] = "printf", a1[] = "%s-%s", a2[] = "a b", a3[] = "c";
	char *argv[] = {a0, a1, a2, a3, NULL};
	pid = spawn_child(sv[0], argv, NULL, &env, err, sizeof err);
	close(sv[0]);
	read_all(sv[1], out, sizeof out);
	ok(pid > 0 && !strcmp(out, "a b-c"), "exec with arguments, PATH searched: %s", out);
	waitpid(pid, NULL, 0);
	/* A child writing to a closed socket dies of SIGPIPE, as programs expect. */
	pid = spawn_child(sv[1], NULL, "exec yes", &env, err, sizeof err);
	close(sv[1]);
	int st;
	waitpid(pid, &st, 0);
	spawn_status_text(st, text, sizeof text);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "SIGPIPE is default in the child: %s", text);

	char b0[] = "/nonexistent/prog";
	char *bad[] = {b0, NULL};
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(spawn_child(sv[0], bad, NULL, &env, err, sizeof err) < 0 &&
	       !strcmp(err, "exec /nonexistent/prog: No such file or directory"),
	   "exec failure reported: %s", err);
	close(sv[0]);
	close(sv[1]);
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "failed exec already reaped");

	/* Pipes of their own for stdin and stdout (a datagram's program),
	 * the child leading its own process group. */
	int in[2], outp[2];
	ok(pipe2(in, O_CLOEXEC) == 0 && pipe2(outp, O_CLOEXEC) == 0, "pipes");
	struct sock_addr from = {.len = sizeof(struct sockaddr_in)};
	struct sockaddr_in *sin = (struct sockaddr_in *)&from.ss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(5353);
	sin->sin_addr.s_addr = htonl(0x7f000002);
	spawn_env_addrs(&env, &from, &bound, SOCK_DGRAM);
	struct spawn_io io = {.in = in[0], .out = outp[1], .own_group = true};
	pid = spawn_child_io(&io, NULL,
			     "echo \"$SOCKCTL_PROTO $SOCKCTL_REMOTE_ADDR:$SOCKCTL_REMOTE_PORT\"; "
			     "tr a-z A-Z; echo; ps -o pgid= -p $$ | tr -d ' '",
			     &env, err, sizeof err);
	close(in[0]);
	close(outp[1]);
	ok(pid > 0 && write(in[1], "datagram", 8) == 8, "program with pipes started");
	close(in[1]);
	read_all(outp[0], out, sizeof out);
	snprintf(want, sizeof want, "udp 127.0.0.2:5353\nDATAGRAM\n%d\n", (int)pid);
	ok(!strcmp(out, want), "stdin and stdout apart, its own process group: [%s]", out);
	close(outp[0]);
	waitpid(pid, NULL, 0);
	close(lfd);
	tap_done();
}
