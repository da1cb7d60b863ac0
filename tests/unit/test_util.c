/* Parsers of the shared layers: ports, numbers, seconds, addresses. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/un.h>

#include "tool/cmd.h"
#include "net/sock.h"
#include "tap.h"

int main(void)
{
	char err[SOCK_ERRLEN];
	uint16_t p;
	ok(sock_parse_port("80", SOCK_STREAM, false, &p, err, sizeof err) && p == 80, "port 80");
	ok(sock_parse_port("65535", SOCK_STREAM, false, &p, err, sizeof err) && p == 65535,
	   "port 65535");
	ok(!sock_parse_port("65536", SOCK_STREAM, false, &p, err, sizeof err), "65536 refused");
	ok(!sock_parse_port("70000", SOCK_STREAM, false, &p, err, sizeof err), "70000 refused");
	ok(!sock_parse_port("0x", SOCK_STREAM, false, &p, err, sizeof err), "0x refused: %s", err);
	ok(!sock_parse_port("-1", SOCK_STREAM, false, &p, err, sizeof err), "-1 refused");
	ok(!sock_parse_port("", SOCK_STREAM, false, &p, err, sizeof err), "empty refused");
	ok(!sock_parse_port("0", SOCK_STREAM, false, &p, err, sizeof err), "0 refused for connect");
	ok(sock_parse_port("0", SOCK_STREAM, true, &p, err, sizeof err) && p == 0,
	   "0 allowed for listen");
	ok(!sock_parse_port("99999999999999999999", SOCK_STREAM, true, &p, err, sizeof err),
	   "huge refused");
	ok(sock_parse_port("ssh", SOCK_STREAM, false, &p, err, sizeof err) && p == 22,
	   "service ssh = 22");
	ok(!sock_parse_port("nosuchservice", SOCK_STREAM, false, &p, err, sizeof err),
	   "unknown service refused: %s", err);

	long v;
	ok(parse_long("42", 0, 100, &v) && v == 42, "parse_long 42");
	ok(!parse_long("101", 0, 100, &v), "parse_long out of range");
	ok(!parse_long("4x", 0, 100, &v), "parse_long trailing junk");
	ok(!parse_long("+4", 0, 100, &v), "parse_long leading +");
	int ms;
	ok(parse_seconds("1.5", &ms) && ms == 1500, "1.5 s = 1500 ms");
	ok(parse_seconds("0", &ms) && ms == 0, "0 s");
	ok(!parse_seconds("-1", &ms), "negative seconds refused");
	ok(!parse_seconds("nan", &ms), "nan refused");
	ok(!parse_seconds("1s", &ms), "suffix refused");

	/* Endpoints from operands, cut in place; never a name with a colon. */
	struct {
		const char *in[2];
		int flags, used;
		const char *host, *port;
	} ep[] = {
	    {{"127.0.0.1", "80"}, 0, 2, "127.0.0.1", "80"},
	    {{"127.0.0.1:80", NULL}, 0, 1, "127.0.0.1", "80"},
	    {{"host:http", "x"}, 0, 1, "host", "http"},
	    {{"[::1]:80", NULL}, 0, 1, "::1", "80"},
	    {{"[::1]", "80"}, 0, 2, "::1", "80"},
	    {{"::1", "80"}, 0, 2, "::1", "80"},
	    {{"[fe80::1%lo]:7", NULL}, 0, 1, "fe80::1%lo", "7"},
	    {{"8000", NULL}, ENDPOINT_LISTEN, 1, NULL, "8000"},
	    {{"*", "8000"}, ENDPOINT_LISTEN, 2, "*", "8000"},
	    {{"0.0.0.0:0", NULL}, ENDPOINT_LISTEN, 1, "0.0.0.0", "0"},
	    {{"a:b:c", "80"}, 0, -1, NULL, NULL},
	    {{"[name]:80", NULL}, 0, -1, NULL, NULL},
	    {{"[::1]x", "80"}, 0, -1, NULL, NULL},
	    {{":80", NULL}, 0, -1, NULL, NULL},
	    {{"h:", NULL}, 0, -1, NULL, NULL},
	    {{"h", NULL}, 0, -1, NULL, NULL},
	    {{"h:1", "2"}, ENDPOINT_EXACT, -1, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof ep / sizeof ep[0]; i++) {
		char a0[64], a1[64], *args[2] = {a0, a1}, why[300] = "";
		snprintf(a0, sizeof a0, "%s", ep[i].in[0]);
		snprintf(a1, sizeof a1, "%s", ep[i].in[1] ? ep[i].in[1] : "");
		const char *h = NULL, *pt = NULL;
		int used = endpoint_split(ep[i].in[1] ? 2 : 1, args, ep[i].flags, &h, &pt, why,
					  sizeof why);
		ok(used == ep[i].used &&
		       (used < 0 ||
			((h == ep[i].host || (h && ep[i].host && !strcmp(h, ep[i].host))) &&
			 !strcmp(pt, ep[i].port))),
		   "endpoint '%s' '%s': %d %s %s %s", ep[i].in[0], ep[i].in[1] ? ep[i].in[1] : "",
		   used, h ? h : "-", pt ? pt : "-", why);
	}

	char near[128] = "";
	const char *cmds[] = {"serve", "connect", "udp-send", "resolve", "chat", "http"};
	ok(suggest_names("conect", cmds, 6, "", near, sizeof near) == 1 &&
	       !strcmp(near, "'connect'"),
	   "conect: %s", near);
	near[0] = '\0';
	ok(suggest_names("frobnicate", cmds, 6, "", near, sizeof near) == 0,
	   "frobnicate: nothing near");
	near[0] = '\0';
	ok(suggest_names("ser", cmds, 6, "", near, sizeof near) == 1 && !strcmp(near, "'serve'"),
	   "a beginning: %s", near);
	const char *opts[] = {"tos", "ttl", "linger"};
	near[0] = '\0';
	ok(suggest_names("tol", opts, 3, "--", near, sizeof near) == 2 &&
	       !strcmp(near, "'--tos' or '--ttl'"),
	   "two as near: %s", near);

	char buf[SOCK_ADDRSTRLEN];
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080)};
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	ok(strcmp(sock_addr_str((struct sockaddr *)&in, sizeof in, buf, sizeof buf),
		  "127.0.0.1:8080") == 0,
	   "IPv4 text: %s", buf);
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	ok(strcmp(sock_addr_str((struct sockaddr *)&in6, sizeof in6, buf, sizeof buf),
		  "[::1]:443") == 0,
	   "IPv6 text: %s", buf);
	struct sock_addr ua;
	ok(sock_unix_addr("/tmp/x.sock", &ua), "unix path");
	ok(strcmp(sock_addr_str((struct sockaddr *)&ua.ss, ua.len, buf, sizeof buf),
		  "/tmp/x.sock") == 0,
	   "unix text: %s", buf);
	ok(sock_unix_addr("@abs\x1b[2J", &ua), "abstract name");
	ok(strcmp(sock_addr_str((struct sockaddr *)&ua.ss, ua.len, buf, sizeof buf),
		  "@abs\\x1b[2J") == 0,
	   "abstract text escaped: %s", buf);
	char longp[200];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = 0;
	ok(!sock_unix_addr(longp, &ua), "too-long unix path refused");
	tap_done();
}
