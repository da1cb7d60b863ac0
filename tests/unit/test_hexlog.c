/* Session logs: the dump line format, raw and hex files, offsets per
 * direction, truncate versus append, and open errors. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/hexlog.h"
#include "tap.h"

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

int main(void)
{
	char line[HEXLOG_LINE];
	size_t n = hexlog_format(line, HEXLOG_SENT, 0x10, (const uint8_t *)"hello\n", 6);
	ok(n == strlen(line) &&
	       !strcmp(line, "> 00000010  68 65 6c 6c 6f 0a" /* 10 empty columns, gap, margin */
			     "                                 |hello.|\n"),
	   "short line: [%s]", line);
	hexlog_format(line, HEXLOG_RECV, 0, (const uint8_t *)"0123456789abcdef\x01", 17);
	ok(!strcmp(line, "< 00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  "
			 "|0123456789abcdef|\n"),
	   "full line, at most 16 bytes: [%s]", line);
	hexlog_format(line, HEXLOG_RECV, 0, (const uint8_t *)"\x1b[2J\x7f\xff", 6);
	ok(strstr(line, "|.[2J..|"), "control and 8-bit bytes shown as dots");

	char dir[] = "/tmp/test_hexlog_XXXXXX";
	mkdtemp(dir);
	char raw[64], hex[64], err[256];
	snprintf(raw, sizeof raw, "%s/raw", dir);
	snprintf(hex, sizeof hex, "%s/hex", dir);
	struct hexlog h;
	ok(hexlog_open(&h, raw, hex, false, err, sizeof err) == 0 && hexlog_active(&h), "open");
	hexlog_data(&h, HEXLOG_SENT, "ping\n", 5);
	hexlog_data(&h, HEXLOG_RECV, "pong\n", 5);
	char big[40];
	memset(big, 'x', sizeof big);
	hexlog_data(&h, HEXLOG_SENT, big, sizeof big);
	hexlog_close(&h);
	ok(!strcmp(slurp(raw), "ping\npong\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), "raw log");
	const char *x = slurp(hex);
	ok(strstr(x, "> 00000000  70 69 6e 67 0a") && strstr(x, "< 00000000  70 6f 6e 67 0a") &&
	       strstr(x, "> 00000005  78") && strstr(x, "> 00000015  78") &&
	       strstr(x, "> 00000025  78 78 78"),
	   "hex log: offsets per direction");
	ok(hexlog_open(&h, raw, NULL, true, err, sizeof err) == 0, "append");
	hexlog_data(&h, HEXLOG_RECV, "more", 4);
	hexlog_close(&h);
	ok(strlen(slurp(raw)) == 54 && strstr(slurp(raw), "xmore"), "appended");
	ok(hexlog_open(&h, raw, NULL, false, err, sizeof err) == 0, "truncate");
	hexlog_data(&h, HEXLOG_RECV, "new", 3);
	hexlog_close(&h);
	ok(!strcmp(slurp(raw), "new"), "truncated");
	/* Logs on standard error, as with `2>>errf` and `2>errf`: written
	 * through fd 2's own open file, never truncated, never overwriting
	 * what fd 2 writes. */
	char errf[300];
	snprintf(errf, sizeof errf, "%s/stderr", dir);
	int saved = dup(2);
	const char *names[] = {"-", "/dev/stderr", errf};
	for (int append_mode = 0; append_mode < 2; append_mode++)
		for (size_t i = 0; i < 3; i++) {
			int fd =
			    open(errf, O_WRONLY | O_CREAT | O_TRUNC | (append_mode ? O_APPEND : 0),
				 0644);
			dup2(fd, 2);
			close(fd);
			if (write(2, "before\n", 7) != 7)
				break;
			int r = hexlog_open(&h, names[i], NULL, false, err, sizeof err);
			hexlog_data(&h, HEXLOG_SENT, "log\n", 4);
			if (write(2, "after\n", 6) != 6)
				break;
			hexlog_close(&h);
			dup2(saved, 2);
			ok(r == 0 && !strcmp(slurp(errf), "before\nlog\nafter\n"),
			   "log on stderr as %s (%s): kept in order", names[i],
			   append_mode ? "2>>" : "2>");
		}
	dup2(saved, 2);
	close(saved);
	unlink(errf);
	ok(hexlog_open(&h, NULL, "/nonexistent/x", false, err, sizeof err) < 0 &&
	       !strcmp(err, "open /nonexistent/x: No such file or directory"),
	   "open error: %s", err);
	hexlog_open(&h, "/dev/full", NULL, false, err, sizeof err);
	hexlog_data(&h, HEXLOG_SENT, "x", 1);
	ok(h.failed && strstr(h.errtext, "No space left"), "write failure recorded: %s", h.errtext);
	hexlog_close(&h);
	unlink(raw);
	unlink(hex);
	rmdir(dir);
	tap_done();
}
