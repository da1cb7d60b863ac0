#include "config.h"

#include "tool/certopts.h"

#include <errno.h>
#include <string.h>

#include "core/sbuf.h"
#include "tool/cmd.h"
#include "tool/tlsopts.h"

const char *certopt_name(const struct certopts *c)
{
	return c->info != CERT_INFO_NONE ? "--cert-info" : "--expires-within";
}

int certopt_handle(struct certopts *c, int opt, const char *arg)
{
	if (opt != COPT_CERT_INFO && opt != COPT_EXPIRES_WITHIN)
		return 0;
	if (!tls_available())
		return tlsopt_no_tls(opt == COPT_CERT_INFO ? "--cert-info" : "--expires-within");
	if (opt == COPT_EXPIRES_WITHIN) {
		if (!parse_long(arg, 0, 100000, &c->expires_within)) {
			usage_error("invalid --expires-within '%s': give days, 0-100000", arg);
			return -1;
		}
		return 1;
	}
	if (!arg || strcmp(arg, "text") == 0) {
		c->info = CERT_INFO_TEXT;
	} else if (strcmp(arg, "json") == 0) {
		c->info = CERT_INFO_JSON;
	} else {
		usage_error("invalid --cert-info '%s': give json or text", arg);
		return -1;
	}
	return 1;
}

bool certopt_report(const struct certopts *c, const struct stream *s, time_t now, bool to_stdout)
{
	if (c->info == CERT_INFO_NONE)
		return true;
	struct sbuf b;
	sb_init(&b);
	tls_report(s, &b, c->info == CERT_INFO_JSON, now);
	if (b.oom) {
		sb_free(&b);
		errmsg("--cert-info: the report does not fit in memory");
		return false;
	}
	bool ok = true;
	if (to_stdout) {
		fwrite(sb_str(&b), 1, b.len, stdout);
		if (fflush(stdout) != 0) {
			errmsg("standard output: %s", strerror(errno));
			ok = false;
		}
	} else {
		errline("%s", sb_str(&b));
	}
	sb_free(&b);
	return ok;
}

int certopt_expiry(const struct certopts *c, const struct stream *s, time_t now, char *why,
		   size_t whylen)
{
	long days;
	if (c->expires_within < 0)
		return 0;
	if (!tls_peer_days_left(s, now, &days)) {
		snprintf(why, whylen,
			 "the server's certificate has no expiry date that can be read");
		return EXIT_TLS_EXPIRING;
	}
	if (days >= c->expires_within)
		return 0;
	if (days < 0)
		snprintf(why, whylen, "the server's certificate has expired");
	else
		snprintf(why, whylen,
			 "the server's certificate expires within %ld days (%ld whole days left)",
			 c->expires_within, days);
	return EXIT_TLS_EXPIRING;
}
