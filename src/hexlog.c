#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hexlog.h"

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

static int open_log(const char *path, bool append, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
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
		ssize_t w = write(fd, c, n);
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
