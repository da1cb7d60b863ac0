#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"

static log_sink_fn sink;
static void *sink_arg;
static int max_level = LOG_LVL_ERROR;

void log_set_sink(log_sink_fn fn, void *arg, int level)
{
	sink = fn;
	sink_arg = arg;
	max_level = level;
}

void log_set_level(int level)
{
	max_level = level;
}

bool log_wants(int level)
{
	return sink && level <= max_level;
}

__attribute__((format(printf, 2, 0))) static void vlog(int level, const char *fmt, va_list ap)
{
	if (!log_wants(level))
		return;
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	sink(level, line, sink_arg);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}
