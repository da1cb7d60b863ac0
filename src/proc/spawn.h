/* --exec PROG ARGS / --sh-exec CMD: a child per connection whose stdin
 * and stdout are the socket (stderr stays ours), with the connection
 * described in SOCKCTL_* environment variables. Callers on a loop learn
 * of their exit through proc/children. */
#ifndef SOCKCTL_SPAWN_H
#define SOCKCTL_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net/sock.h"

struct spawn_env {
	char remote_addr[SOCK_ADDRSTRLEN], remote_port[8];
	char local_addr[SOCK_ADDRSTRLEN], local_port[8];
	const char *proto; /* static text */
	/* Over TLS (empty otherwise): the version, the cipher, and the
	 * peer's verified certificate subject (empty when it sent none or
	 * it was not verified). */
	char tls_version[16], tls_cipher[64], tls_subject[256];
};

/* --exec 'PROG ARGS': split at blanks into a NULL-terminated vector, or
 * NULL (no word, or out of memory). Free it with spawn_words_free. */
char **spawn_split_words(const char *cmd);
void spawn_words_free(char **v);

/* Describes connected socket fd (Unix peers have a path or no port). */
void spawn_env_fill(struct spawn_env *e, int fd);
/* The same from the addresses (a datagram's sender and the local
 * socket's); remote NULL leaves the remote fields empty. */
void spawn_env_addrs(struct spawn_env *e, const struct sock_addr *remote,
		     const struct sock_addr *local, int socktype);

/* Starts argv[0] (searched in PATH) with argv, or `/bin/sh -c shcmd` when
 * argv is NULL, with fd as stdin and stdout (made blocking). The caller
 * still owns fd and normally closes it at once. Returns the pid, or -1
 * with err (including a failed exec, reported by the child before it
 * exits). */
pid_t spawn_child(int fd, char *const *argv, const char *shcmd, const struct spawn_env *env,
		  char *err, size_t errlen);

/* The same with stdin and stdout on fds of their own (pipes, say). With
 * own_group the child leads a new process group, so that kill(-pid)
 * reaches what it started too. env NULL: our environment as it is. */
struct spawn_io {
	int in, out;
	bool own_group;
};
pid_t spawn_child_io(const struct spawn_io *io, char *const *argv, const char *shcmd,
		     const struct spawn_env *env, char *err, size_t errlen);

/* "exited with status 3", "killed by signal 9 (Killed)". */
void spawn_status_text(int status, char *buf, size_t len);

#endif
