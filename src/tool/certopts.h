/* The certificate options of the TLS clients (connect, http get, chat
 * connect), in one place: --cert-info[=json], the report of what a
 * handshake settled and the chain the server sent, and --expires-within
 * DAYS, the check that the server's certificate does not expire that
 * soon. The table, the parsing, the report and the check; each command
 * says where the report goes and what happens after it. */
#ifndef SOCKCTL_CERTOPTS_H
#define SOCKCTL_CERTOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <time.h>

#include "net/tls.h"

/* In tlsopts' range (0x1300), past its own values. */
enum { COPT_CERT_INFO = 0x1380, COPT_EXPIRES_WITHIN };

/* --expires-within: the server's certificate expires that soon. Not one
 * of curl's codes (those are all taken up to 101) nor a sysexits one. */
#define EXIT_TLS_EXPIRING 110

#define CERTOPT_LONGOPTS                                                                           \
	{"cert-info", optional_argument, NULL, COPT_CERT_INFO},                                    \
	{                                                                                          \
		"expires-within", required_argument, NULL, COPT_EXPIRES_WITHIN                     \
	}

enum certopt_info { CERT_INFO_NONE, CERT_INFO_TEXT, CERT_INFO_JSON };

struct certopts {
	enum certopt_info info; /* --cert-info */
	long expires_within;	/* --expires-within DAYS; -1: not given */
};

static inline void certopt_init(struct certopts *c)
{
	*c = (struct certopts){.expires_within = -1};
}
/* Whether either option was given. */
static inline bool certopt_on(const struct certopts *c)
{
	return c->info != CERT_INFO_NONE || c->expires_within >= 0;
}
/* The first given, for messages ("--cert-info"). */
const char *certopt_name(const struct certopts *c);
/* One option: 1 if handled, 0 if not one of these, -1 after the usage
 * error (a build without TLS refuses them with one line). */
int certopt_handle(struct certopts *c, int opt, const char *arg);
/* With --cert-info, the report of the TLS stream s (text, or one JSON
 * object on one line), days counted from now: on stdout (to_stdout;
 * flushed, a write error is one) or on stderr through the messages'
 * queue. False after the message when it cannot be made or written. */
bool certopt_report(const struct certopts *c, const struct stream *s, time_t now, bool to_stdout);
/* With --expires-within: EXIT_TLS_EXPIRING and why (no leading name:
 * "the server's certificate has expired") when the leaf of s expires
 * within the days given, or has no date that can be read; 0 otherwise
 * (or without the option). */
int certopt_expiry(const struct certopts *c, const struct stream *s, time_t now, char *why,
		   size_t whylen);

#endif
