/* Pipes for zero-copy moves (socket -> pipe -> output with splice):
 * non-blocking, grown to 1 MiB where the system allows, and kept empty in
 * a per-thread pool for the next user, since making one (pipe2,
 * F_SETPIPE_SZ) and closing it costs four system calls. Per thread:
 * each loop runs on one. */
#ifndef SOCKCTL_SPLICE_PIPE_H
#define SOCKCTL_SPLICE_PIPE_H

#include <stdbool.h>
#include <stddef.h>

/* A pipe from the pool, or a new one: fd[0] reads, fd[1] writes, *cap
 * is what it holds. False with errno (fd untouched) when none can be
 * made. */
bool splice_pipe_take(int fd[2], size_t *cap);
/* Gives the pipe back: to the pool when empty (nothing left in it),
 * closed otherwise; fd becomes -1, -1. Fine on -1, -1. */
void splice_pipe_give(int fd[2], size_t cap, bool empty);

#endif
