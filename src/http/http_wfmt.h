/* curl's --write-out format for `http get -w` (pure: no I/O). The same
 * text in gives the same text out as curl: %{NAME} variables, %header{NAME}
 * (a response header's first value), %% for '%', \n \r \t escapes, a '%'
 * or '\' before anything else kept with it, %{stdout} and %{stderr} to
 * switch where the rest goes, %{onerror} to stop unless the transfer
 * failed, and %{json} and %{header_json} objects. Times are written as
 * seconds with six decimals, as curl writes them. */
#ifndef SOCKCTL_HTTP_WFMT_H
#define SOCKCTL_HTTP_WFMT_H

#include <stdint.h>

#include "core/sbuf.h"
#include "http/http_resp.h"

struct http_wfmt_vars {
	long http_code; /* 0: no response ("000") */
	/* Microseconds from the start of the URL. */
	int64_t t_namelookup, t_connect, t_appconnect, t_pretransfer, t_starttransfer, t_total;
	uint64_t size_download, size_upload, size_header, size_request;
	/* Strings: NULL is written as nothing (null in %{json}). */
	const char *url, *url_effective, *content_type, *remote_ip, *local_ip, *method,
	    *http_version, *errormsg, *filename_effective, *redirect_url, *scheme;
	long remote_port, local_port, num_redirects, num_connects, exitcode;
	const struct http_resp *resp; /* for %header{} and %{header_json}; NULL: none */
};

/* Where the expansion goes: out[0] is standard output's, out[1] standard
 * error's (after %{stderr}). warn gets one line per unknown variable
 * ("unknown --write-out variable: 'NAME'"), without a newline at the
 * end of the last. */
void http_wfmt(const char *fmt, const struct http_wfmt_vars *v, struct sbuf out[2],
	       struct sbuf *warn);

#endif
