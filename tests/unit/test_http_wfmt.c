/* -w FORMAT (src/http/http_wfmt.c): what curl 7.88 writes for the same
 * format and values. */
#include "config.h"

#include <string.h>

#include "http/http_resp.h"
#include "http/http_wfmt.h"
#include "tap.h"

static struct http_resp resp;
static struct http_wfmt_vars v;
static struct sbuf out[2], warn;

static const char *fmt(const char *f)
{
	sb_reset(&out[0]);
	sb_reset(&out[1]);
	sb_reset(&warn);
	http_wfmt(f, &v, out, &warn);
	return sb_str(&out[0]);
}

static void is(const char *f, const char *want)
{
	const char *got = fmt(f);
	ok(strcmp(got, want) == 0, "'%s' -> '%s' (got '%s')", f, want, got);
}

int main(void)
{
	sb_init(&out[0]);
	sb_init(&out[1]);
	sb_init(&warn);
	http_resp_init(&resp, false);
	const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\n"
			    "Set-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 5\r\n\r\nhello";
	const char *body;
	size_t bl;
	http_resp_feed(&resp, head, sizeof head - 1, &body, &bl);
	v = (struct http_wfmt_vars){
	    .http_code = 200,
	    .t_namelookup = 12,
	    .t_connect = 1234567,
	    .t_starttransfer = 2000000,
	    .t_total = 2000000,
	    .size_download = 5,
	    .size_upload = 3,
	    .url = "http://h/x",
	    .url_effective = "http://h/y",
	    .content_type = "text/plain",
	    .remote_ip = "127.0.0.1",
	    .remote_port = 8080,
	    .num_redirects = 1,
	    .method = "GET",
	    .resp = &resp,
	};

	is("%{http_code}", "200");
	is("%{response_code}\\n", "200\n");
	is("%{HTTP_CODE}", "200");
	is("%{time_namelookup} %{time_connect} %{time_appconnect}", "0.000012 1.234567 0.000000");
	is("%{size_download}/%{size_upload}", "5/3");
	is("%{speed_download}", "2");
	is("%{url_effective} %{url} %{num_redirects}", "http://h/y http://h/x 1");
	is("%{content_type};%{remote_ip}:%{remote_port}", "text/plain;127.0.0.1:8080");
	is("%{errormsg}|", "|");
	is("%header{x-a}%header{Content-Type}", "1text/plain");
	is("%header{set-cookie}", "a=1");
	is("%header{missing}|", "|");
	is("%header{unterminated", "%header{unterminated");
	is("100%% %q %", "100% %q %");
	is("a\\tb\\rc\\\\d\\x\\", "a\tb\rc\\\\d\\x\\");
	is("%{unterminated", "%{unterminated");
	is("%{nosuch}x", "x");
	ok(strcmp(sb_str(&warn), "unknown --write-out variable: 'nosuch'") == 0, "warning: %s",
	   sb_str(&warn));
	is("%{nosuch}%{other}", "");
	ok(strcmp(
	       sb_str(&warn),
	       "unknown --write-out variable: 'nosuch'\nunknown --write-out variable: 'other'") ==
	       0,
	   "two warnings");
	is("a%{stderr}b%{stdout}c", "ac");
	ok(strcmp(sb_str(&out[1]), "b") == 0, "%%{stderr} switches: '%s'", sb_str(&out[1]));
	is("ok%{onerror}not", "ok");
	v.exitcode = 7;
	is("ok%{onerror}err %{exitcode}", "okerr 7");
	v.exitcode = 0;
	is("%{header_json}", "{\"content-type\":[\"text/plain\"],\n\"x-a\":[\"1\"],\n"
			     "\"set-cookie\":[\"a=1\",\"b=2\"],\n\"content-length\":[\"5\"]\n}");
	fmt("%{json}");
	ok(strstr(sb_str(&out[0]), "\"http_code\":200,") &&
	       strstr(sb_str(&out[0]), "\"errormsg\":null,") &&
	       strstr(sb_str(&out[0]), "\"time_connect\":1.234567,"),
	   "%%{json}: %s", sb_str(&out[0]));

	v = (struct http_wfmt_vars){0};
	is("%{http_code} %{time_total} %{content_type}|%header{a}", "000 0.000000 |");
	is("%{header_json}", "{\n}");
	sb_free(&out[0]);
	sb_free(&out[1]);
	sb_free(&warn);
	tap_done();
}
