#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/spawn.h"

extern char **environ;

char **spawn_split_words(const char *cmd)
{
	size_t n = strlen(cmd);
	char *copy = malloc(n + 1);
	char **v = calloc(n / 2 + 2, sizeof *v);
	if (!copy || !v) {
		free(copy);
		free(v);
		return NULL;
	}
	memcpy(copy, cmd, n + 1);
	size_t k = 0;
	for (char *tok = strtok(copy, " \t"); tok; tok = strtok(NULL, " \t"))
		v[k++] = tok;
	if (k == 0) {
		free(copy);
		free(v);
		return NULL;
	}
	return v;
}

void spawn_words_free(char **v)
{
	if (!v)
		return;
	free(v[0]);
	free((void *)v);
}

void spawn_env_addrs(struct spawn_env *e, const struct sock_addr *remote,
		     const struct sock_addr *local, int socktype)
{
	memset(e, 0, sizeof *e);
	if (remote)
		sock_addr_parts((const struct sockaddr *)&remote->ss, remote->len, e->remote_addr,
				sizeof e->remote_addr, e->remote_port, sizeof e->remote_port);
	if (local) {
		sock_addr_parts((const struct sockaddr *)&local->ss, local->len, e->local_addr,
				sizeof e->local_addr, e->local_port, sizeof e->local_port);
		e->proto = sock_proto_name(local->ss.ss_family, socktype);
	} else {
		e->proto = "unknown";
	}
}

void spawn_env_fill(struct spawn_env *e, int fd)
{
	struct sock_addr peer, local;
	int type = SOCK_STREAM;
	socklen_t tl = sizeof type;
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	bool have_peer = sock_peer_addr(fd, &peer) == 0;
	bool have_local = sock_local_addr(fd, &local) == 0;
	spawn_env_addrs(e, have_peer ? &peer : NULL, have_local ? &local : NULL, type);
}

/* environ without our variables, then ours; built before fork so the
 * child only calls async-signal-safe functions. */
static char **make_env(const struct spawn_env *e)
{
	static const char *const names[] = {"SOCKCTL_REMOTE_ADDR", "SOCKCTL_REMOTE_PORT",
					    "SOCKCTL_LOCAL_ADDR",  "SOCKCTL_LOCAL_PORT",
					    "SOCKCTL_PROTO",	   "SOCKCTL_TLS_VERSION",
					    "SOCKCTL_TLS_CIPHER",  "SOCKCTL_TLS_SUBJECT"};
	const char *vals[] = {
	    e->remote_addr,	      e->remote_port, e->local_addr, e->local_port,
	    e->proto ? e->proto : "", e->tls_version, e->tls_cipher, e->tls_subject};
	/* The TLS variables only over TLS. */
	size_t nours = e->tls_version[0] ? 8 : 5;
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + nours + 1, sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SOCKCTL_", 8) != 0 ||
		    strncmp(environ[i], "SOCKCTL_MUX=", 12) == 0)
			env[k++] = environ[i];
	for (size_t i = 0; i < nours; i++) {
		size_t len = strlen(names[i]) + strlen(vals[i]) + 2;
		char *s = malloc(len);
		if (!s)
			continue;
		snprintf(s, len, "%s=%s", names[i], vals[i]);
		env[k++] = s;
	}
	env[k] = NULL;
	return env;
}

static void free_env(char **env)
{
	if (!env)
		return;
	for (size_t i = 0; env[i]; i++)
		if (strncmp(env[i], "SOCKCTL_", 8) == 0 && strncmp(env[i], "SOCKCTL_MUX=", 12) != 0)
			/* Ours were allocated here; the others belong to environ.
			 * An inherited SOCKCTL_* variable other than MUX was left
			 * out above, so every SOCKCTL_* entry here is ours. */
			free(env[i]);
	free(env);
}

pid_t spawn_child(int fd, char *const *argv, const char *shcmd, const struct spawn_env *env,
		  char *err, size_t errlen)
{
	struct spawn_io io = {.in = fd, .out = fd};
	return spawn_child_io(&io, argv, shcmd, env, err, errlen);
}

pid_t spawn_child_io(const struct spawn_io *io, char *const *argv, const char *shcmd,
		     const struct spawn_env *env, char *err, size_t errlen)
{
	/* No env: the program gets ours as it is. */
	char **envp = env ? make_env(env) : environ;
	int pfd[2];
	if (!envp || pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "exec: %s", envp ? strerror(errno) : "out of memory");
		if (env)
			free_env(envp);
		return -1;
	}
	const char *sh_argv[] = {"sh", "-c", shcmd, NULL};
	char *const *av = argv ? argv : (char *const *)sh_argv;
	const char *prog = argv ? argv[0] : "/bin/sh";
	pid_t pid = fork();
	if (pid == 0) {
		/* Child: only async-signal-safe calls from here on. */
		close(pfd[0]);
		if (io->own_group)
			setpgid(0, 0);
		/* Out of the way of each other's dup2 first. */
		int in = io->in <= 1 ? fcntl(io->in, F_DUPFD_CLOEXEC, 3) : io->in;
		int out = io->out <= 1 ? fcntl(io->out, F_DUPFD_CLOEXEC, 3) : io->out;
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
			goto fail;
		for (int i = 0; i < 2; i++) {
			int fl = fcntl(i, F_GETFL);
			if (fl >= 0)
				fcntl(i, F_SETFL, fl & ~O_NONBLOCK);
		}
		/* Ignored signals survive exec: give the program the usual
		 * SIGPIPE, and an empty mask. */
		signal(SIGPIPE, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvpe(prog, av, envp);
	fail:;
		int e = errno;
		/* not a stream: our own pipe, telling the parent why exec failed */
		ssize_t w = write(pfd[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	int saved = errno;
	/* Also here, so that kill(-pid) works before the child has run. */
	if (pid > 0 && io->own_group)
		setpgid(pid, pid);
	close(pfd[1]);
	if (env)
		free_env(envp);
	if (pid < 0) {
		close(pfd[0]);
		snprintf(err, errlen, "fork: %s", strerror(saved));
		return -1;
	}
	int ce;
	ssize_t r;
	do
		/* not a stream: our own pipe, closed by a successful exec */
		r = read(pfd[0], &ce, sizeof ce);
	while (r < 0 && errno == EINTR);
	close(pfd[0]);
	if (r == (ssize_t)sizeof ce) {
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "exec %s: %s", argv ? argv[0] : "/bin/sh", strerror(ce));
		return -1;
	}
	return pid;
}

void spawn_status_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with wait status %#x", status);
}
