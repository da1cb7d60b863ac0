/* Where the library's messages go. The library never prints: it says
 * what happened through these calls, and the program installs the sink
 * that shows it (sockctl's prints "sockctl: TEXT" on stderr, through a
 * queue that never blocks a loop) and says how much detail it wants. With
 * no sink, messages are dropped. One sink per process. */
#ifndef SOCKCTL_LOG_H
#define SOCKCTL_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 0, /* always shown: why something failed */
	LOG_LVL_INFO = 1,  /* -v: connections, totals, what was dropped */
	LOG_LVL_DEBUG = 2, /* -vv */
};

/* text: one line, without "sockctl: " and without the newline. */
typedef void (*log_sink_fn)(int level, const char *text, void *arg);
/* level: the most detailed level passed on (LOG_LVL_ERROR for errors
 * only). */
void log_set_sink(log_sink_fn fn, void *arg, int level);
void log_set_level(int level);
/* Whether a message of this level would be shown (to skip building it). */
bool log_wants(int level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
