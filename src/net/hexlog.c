#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/hexlog.h"

size_t hexlog_format(char *out, int dir, uint64_t offset, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (n > 16)
		n = 16;
	size_t o = 0;
	out[o++] = (char)dir;
	out[o++] = ' ';
	for (int s = 28; s >= 0; s -= 4)
		out[o++] = hex[(offset >> s) & 15];
	out[o++] = ' ';
	for (size_t i = 0; i < 16; i++) {
		out[o++] = ' ';
		if (i == 8)
			out[o++] = ' ';
		if (i < n) {
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
		} else {
			out[o++] = ' ';
			out[o++] = ' ';
		}
	}
	out[o++] = ' ';
	out[o++] = ' ';
	out[o++] = '|';
	for (size_t i = 0; i < n; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[o++] = '|';
	out[o++] = '\n';
	out[o] = '\0';
	return o;
}

/* The standard stream a log path names: "-" (standard error: standard
 * output carries the data), /dev/stderr or /dev/stdout; -1 for others. */
static int std_stream(const char *path)
{
	static const struct {
		const char *path;
		int fd;
	} names[] = {{"-", STDERR_FILENO},
		     {"/dev/stderr", STDERR_FILENO},
		     {"/dev/fd/2", STDERR_FILENO},
		     {"/proc/self/fd/2", STDERR_FILENO},
		     {"/dev/stdout", STDOUT_FILENO},
		     {"/dev/fd/1", STDOUT_FILENO},
		     {"/proc/self/fd/1", STDOUT_FILENO}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(path, names[i].path) == 0)
			return names[i].fd;
	return -1;
}

static bool same_file(const struct stat *st, int fd)
{
	struct stat o;
	return fstat(fd, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

/* A log on our standard output or error (-x -, -x /dev/stderr, or the
 * very file of a `2>>file`) writes through that stream's own open file,
 * never truncating it: a fresh open of /dev/stderr would start at offset
 * 0 and overwrite, or with O_TRUNC empty, what the shell's redirection
 * has collected. Only another regular file is emptied (unless append). */
static int open_log(const char *path, bool append, char *err, size_t errlen)
{
	int std = std_stream(path), fd = -1;
	struct stat st;
	if (std < 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		bool reg = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		for (int i = STDOUT_FILENO; reg && i <= STDERR_FILENO && std < 0; i++)
			if (same_file(&st, i))
				std = i;
		if (reg && std < 0 && !append && ftruncate(fd, 0) < 0) {
			snprintf(err, errlen, "truncate %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (std >= 0) {
		if (fd >= 0)
			close(fd);
		fd = fcntl(std, F_DUPFD_CLOEXEC, 3);
	}
	if (fd < 0)
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
	return fd;
}

int hexlog_open(struct hexlog *h, const char *raw_path, const char *hex_path, bool append,
		char *err, size_t errlen)
{
	memset(h, 0, sizeof *h);
	h->raw_fd = h->hex_fd = -1;
	if (raw_path && (h->raw_fd = open_log(raw_path, append, err, errlen)) < 0)
		return -1;
	if (hex_path && (h->hex_fd = open_log(hex_path, append, err, errlen)) < 0) {
		hexlog_close(h);
		return -1;
	}
	return 0;
}

/* Logs are regular files (blocking writes are short); a failure stops
 * logging rather than the session. */
static void write_all(struct hexlog *h, int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0 && !h->failed) {
		ssize_t w = write(fd, c, n); /* not a stream: the log file */
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			h->failed = true;
			snprintf(h->errtext, sizeof h->errtext, "session log: %s",
				 w < 0 ? strerror(errno) : "short write");
			return;
		}
		c += w;
		n -= (size_t)w;
	}
}

void hexlog_data(struct hexlog *h, int dir, const void *p, size_t n)
{
	if (h->failed || n == 0)
		return;
	if (h->raw_fd >= 0)
		write_all(h, h->raw_fd, p, n);
	uint64_t *off = dir == HEXLOG_SENT ? &h->sent : &h->recv;
	if (h->hex_fd >= 0) {
		/* Batch the lines of one chunk into few writes. */
		char block[HEXLOG_LINE * 64];
		size_t used = 0;
		const uint8_t *b = p;
		for (size_t i = 0; i < n; i += 16) {
			size_t k = n - i < 16 ? n - i : 16;
			used += hexlog_format(block + used, dir, *off + i, b + i, k);
			if (used + HEXLOG_LINE > sizeof block) {
				write_all(h, h->hex_fd, block, used);
				used = 0;
			}
		}
		write_all(h, h->hex_fd, block, used);
	}
	*off += n;
}

void hexlog_close(struct hexlog *h)
{
	if (h->raw_fd >= 0)
		close(h->raw_fd);
	if (h->hex_fd >= 0)
		close(h->hex_fd);
	h->raw_fd = h->hex_fd = -1;
}
