#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "net/splice_pipe.h"

#define PIPE_SIZE (1024 * 1024)
#define PIPE_POOL 128

static __thread struct {
	int fd[2];
	size_t cap;
} pool[PIPE_POOL];
static __thread int pooled;

bool splice_pipe_take(int fd[2], size_t *cap)
{
	if (pooled > 0) {
		pooled--;
		fd[0] = pool[pooled].fd[0];
		fd[1] = pool[pooled].fd[1];
		*cap = pool[pooled].cap;
		return true;
	}
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return false;
	int sz = fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
	fd[0] = p[0];
	fd[1] = p[1];
	*cap = sz > 0 ? (size_t)sz : 65536;
	return true;
}

void splice_pipe_give(int fd[2], size_t cap, bool empty)
{
	if (fd[0] < 0)
		return;
	if (empty && pooled < PIPE_POOL) {
		pool[pooled].fd[0] = fd[0];
		pool[pooled].fd[1] = fd[1];
		pool[pooled].cap = cap;
		pooled++;
	} else {
		close(fd[0]);
		close(fd[1]);
	}
	fd[0] = fd[1] = -1;
}
