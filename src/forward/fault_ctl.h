/* The control protocol of a forwarder's faults: one command per line,
 * one line in answer. Pure: a line becomes a struct fault_cmd (or a
 * one-line error), and fault_ctl_run applies it to a fault set and writes
 * the answer.
 *
 *   set NAME VALUE   a fault, by its option's name (set delay-up 200)
 *   set NAME         a flag (set refuse), the same as "set NAME on"
 *   clear [NAME]     one fault, or all, back to nothing injected
 *   down [hold]      refuse new connections; reset open ones, or hold them
 *   up               forward again
 *   stats            the live totals, as JSON
 *   show             the settings, as JSON
 *   help             the commands
 *
 * Answers begin "ok" or "error: ". */
#ifndef SOCKCTL_FAULT_CTL_H
#define SOCKCTL_FAULT_CTL_H

#include <stddef.h>

#include "forward/fault.h"

struct sbuf;

/* Longest line taken, with its newline. */
#define FAULT_CTL_LINE 512

enum fault_cmd_kind {
	FAULT_CMD_SET,
	FAULT_CMD_CLEAR,
	FAULT_CMD_DOWN,
	FAULT_CMD_HOLD,
	FAULT_CMD_UP,
	FAULT_CMD_STATS,
	FAULT_CMD_SHOW,
	FAULT_CMD_HELP,
	FAULT_CMD_NONE, /* an empty line: answered with nothing */
};

struct fault_cmd {
	enum fault_cmd_kind kind;
	char name[32];		    /* SET, CLEAR ("" = all) */
	char value[FAULT_CTL_LINE]; /* SET ("" for a bare flag) */
};

/* Parses one line (its newline, a CR before it, and blanks around words
 * are allowed). A SET's value is checked against the fault's syntax.
 * Returns 0, or -1 with the answer to send ("error: ...") in err. */
int fault_ctl_parse(const char *line, size_t len, struct fault_cmd *cmd, char *err, size_t errlen);

/* Applies cmd to fs and appends the answer line (with its newline) to
 * out; `stats` reports fs->stats. */
void fault_ctl_run(struct fault_set *fs, const struct fault_cmd *cmd, struct sbuf *out);

/* fault_ctl_parse then fault_ctl_run, errors answered too. */
void fault_ctl_line(struct fault_set *fs, const char *line, size_t len, struct sbuf *out);

#endif
