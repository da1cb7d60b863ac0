/* Session logs: -o FILE (the raw bytes, both directions as they pass) and
 * -x FILE (a hex dump with direction marks), --append to add to them. */
#ifndef SOCKCTL_HEXLOG_H
#define SOCKCTL_HEXLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { HEXLOG_SENT = '>', HEXLOG_RECV = '<' };

struct hexlog {
	int raw_fd, hex_fd;  /* owned; -1 = not logging */
	uint64_t sent, recv; /* offsets per direction */
	bool failed;	     /* a write failed; logging stopped */
	char errtext[256];   /* why, for the caller to report once */
};

/* Opens the files (either path may be NULL). Returns 0 or -1 with err. */
int hexlog_open(struct hexlog *h, const char *raw_path, const char *hex_path, bool append,
		char *err, size_t errlen);
/* Logs n bytes going in direction dir (HEXLOG_SENT or HEXLOG_RECV). */
void hexlog_data(struct hexlog *h, int dir, const void *p, size_t n);
void hexlog_close(struct hexlog *h);
static inline bool hexlog_active(const struct hexlog *h)
{
	return h->raw_fd >= 0 || h->hex_fd >= 0;
}

/* One dump line for up to 16 bytes (pure):
 * "> 00000010  68 65 6c 6c 6f 0a                                 |hello.|\n"
 * Returns its length; out needs HEXLOG_LINE bytes. */
#define HEXLOG_LINE 96
size_t hexlog_format(char *out, int dir, uint64_t offset, const uint8_t *p, size_t n);

#endif
