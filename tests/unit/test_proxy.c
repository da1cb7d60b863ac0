/* Proxy protocols: the exact bytes of every request, every reply code,
 * and whole handshakes against a scripted proxy on a socketpair. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/proxy.h"
#include "net/stream.h"
#include "net/sock.h"
#include "tap.h"

static char err[256];

/* Runs the handshake with the proxy side scripted: after each step, the
 * bytes the client sent must equal expect[i], then reply[i] is sent. */
static int scripted(const struct proxy_target *t, const char *const *expect, const size_t *elen,
		    const char *const *reply, const size_t *rlen, int steps)
{
	int sv[2];
	err[0] = '\0';
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	sock_set_nonblock(sv[0], true);
	/* No loop: the handshake's steps only read and write the stream. */
	struct stream *st = stream_fd_new(NULL, sv[0], 0);
	struct proxy_hs h;
	if (!st || proxy_hs_init(&h, t, err, sizeof err) < 0)
		return -2;
	int s = PROXY_FAIL;
	for (int i = 0; i < steps; i++) {
		s = proxy_hs_step(&h, st, err, sizeof err);
		char got[1024];
		ssize_t n = recv(sv[1], got, sizeof got, MSG_DONTWAIT);
		if (n != (ssize_t)elen[i] || memcmp(got, expect[i], elen[i]) != 0) {
			snprintf(err, sizeof err, "step %d: unexpected request (%zd bytes)", i, n);
			s = -3;
			break;
		}
		if (write(sv[1], reply[i], rlen[i]) != (ssize_t)rlen[i])
			return -4;
		s = proxy_hs_step(&h, st, err, sizeof err);
	}
	/* Tunnel bytes sent after the reply must still be in the socket. */
	if (s == PROXY_DONE) {
		char b[16];
		ssize_t n = recv(sv[0], b, sizeof b, MSG_DONTWAIT);
		if (n != 6 || memcmp(b, "tunnel", 6) != 0)
			s = -5;
	}
	stream_close(st);
	close(sv[0]);
	close(sv[1]);
	return s;
}

#define B(s) s, sizeof s - 1

int main(void)
{
	char out[1024];
	uint8_t bo[1024];
	enum proxy_type pt;
	ok(proxy_type_parse("socks5", &pt) && pt == PROXY_SOCKS5 && proxy_type_parse("http", &pt) &&
	       pt == PROXY_HTTP && proxy_type_parse("socks4a", &pt) && pt == PROXY_SOCKS4 &&
	       !proxy_type_parse("socks6", &pt),
	   "proxy types");
	char u[64], p[64];
	ok(proxy_auth_parse("alice:se:cret", u, sizeof u, p, sizeof p) && !strcmp(u, "alice") &&
	       !strcmp(p, "se:cret"),
	   "USER:PASS split at the first colon");
	ok(!proxy_auth_parse("alice", u, sizeof u, p, sizeof p) &&
	       !proxy_auth_parse(":x", u, sizeof u, p, sizeof p),
	   "auth without colon or user refused");
	proxy_base64("Aladdin:open sesame", 19, out, sizeof out);
	ok(!strcmp(out, "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), "base64: %s", out);
	proxy_base64("ab", 2, out, sizeof out);
	ok(!strcmp(out, "YWI="), "base64 padding");

	struct proxy_target t = {.type = PROXY_HTTP, .host = "example.org", .port = 443};
	size_t n = proxy_http_request(&t, out, sizeof out, err, sizeof err);
	ok(n && !strcmp(out, "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n"),
	   "HTTP CONNECT request");
	t = (struct proxy_target){
	    .type = PROXY_HTTP, .host = "::1", .port = 80, .user = "u", .pass = "p"};
	n = proxy_http_request(&t, out, sizeof out, err, sizeof err);
	ok(n && strstr(out, "CONNECT [::1]:80 HTTP/1.1\r\n") &&
	       strstr(out, "Proxy-Authorization: Basic dTpw\r\n"),
	   "HTTP CONNECT with IPv6 and basic auth");
	t.host = "evil\r\nX: y";
	ok(!proxy_http_request(&t, out, sizeof out, err, sizeof err), "CRLF in host refused");

	ok(proxy_http_response(B("HTTP/1.1 200 OK\r\n"), err, sizeof err) == 0, "partial head");
	ok(proxy_http_response(B("HTTP/1.0 200 Connection established\r\n\r\n"), err, sizeof err) ==
	       39,
	   "complete 200 head");
	ok(proxy_http_response(B("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"), err,
			       sizeof err) < 0 &&
	       !strcmp(err, "proxy refused: 407 Proxy Authentication Required"),
	   "407: %s", err);
	ok(proxy_http_response(B("SSH-2.0-x\r\n"), err, sizeof err) < 0, "not HTTP: %s", err);
	ok(proxy_http_response(B("HTTP/1.1 2x\r\n\r\n"), err, sizeof err) < 0, "bad status");

	t = (struct proxy_target){
	    .type = PROXY_SOCKS4, .host = "10.1.2.3", .port = 80, .user = "bob", .pass = NULL};
	n = proxy_socks4_request(&t, bo, sizeof bo, err, sizeof err);
	ok(n == 12 && !memcmp(bo,
			      "\x04\x01\x00\x50\x0a\x01\x02\x03"
			      "bob\0",
			      12),
	   "SOCKS4 request");
	t.host = "example.org";
	t.user = NULL;
	n = proxy_socks4_request(&t, bo, sizeof bo, err, sizeof err);
	ok(n == 21 && !memcmp(bo,
			      "\x04\x01\x00\x50\x00\x00\x00\x01\x00"
			      "example.org\0",
			      21),
	   "SOCKS4a request");
	t.host = "::1";
	ok(!proxy_socks4_request(&t, bo, sizeof bo, err, sizeof err), "SOCKS4 refuses IPv6");
	ok(proxy_socks4_reply((const uint8_t *)"\0\x5a\0\0\0\0\0\0", 8, err, sizeof err) == 0,
	   "SOCKS4 granted");
	ok(proxy_socks4_reply((const uint8_t *)"\0\x5b\0\0\0\0\0\0", 8, err, sizeof err) < 0,
	   "SOCKS4 rejected: %s", err);

	t = (struct proxy_target){
	    .type = PROXY_SOCKS5, .host = "::1", .port = 22, .user = NULL, .pass = NULL};
	n = proxy_socks5_request(&t, bo, sizeof bo, err, sizeof err);
	ok(n == 22 && bo[3] == 4 && bo[19] == 1 && bo[20] == 0 && bo[21] == 22,
	   "SOCKS5 IPv6 request");
	t.host = "a.b";
	n = proxy_socks5_request(&t, bo, sizeof bo, err, sizeof err);
	ok(n == 10 && !memcmp(bo,
			      "\x05\x01\x00\x03\x03"
			      "a.b\x00\x16",
			      10),
	   "SOCKS5 name request");
	int method;
	ok(proxy_socks5_method((const uint8_t *)"\x05\xff", 2, false, &method, err, sizeof err) <
		   0 &&
	       strstr(err, "--proxy-auth"),
	   "no acceptable method: %s", err);
	ok(proxy_socks5_method((const uint8_t *)"\x05\x02", 2, false, &method, err, sizeof err) < 0,
	   "unoffered method refused");
	ok(proxy_socks5_reply_len((const uint8_t *)"\x05\x00\x00\x03\x09", 5, err, sizeof err) ==
	       16,
	   "SOCKS5 reply length with a name");
	ok(proxy_socks5_reply((const uint8_t *)"\x05\x05", 2, err, sizeof err) < 0 &&
	       !strcmp(err, "proxy: connection refused"),
	   "SOCKS5 code 5: %s", err);

	/* Whole handshakes. */
	t = (struct proxy_target){
	    .type = PROXY_HTTP, .host = "127.0.0.1", .port = 7, .user = NULL, .pass = NULL};
	const char *e1[] = {"CONNECT 127.0.0.1:7 HTTP/1.1\r\nHost: 127.0.0.1:7\r\n\r\n"};
	size_t e1l[] = {strlen(e1[0])};
	const char *r1[] = {"HTTP/1.1 200 OK\r\nVia: x\r\n\r\ntunnel"};
	size_t r1l[] = {strlen(r1[0])};
	ok(scripted(&t, e1, e1l, r1, r1l, 1) == PROXY_DONE, "HTTP handshake keeps tunnel bytes: %s",
	   err);
	t = (struct proxy_target){
	    .type = PROXY_SOCKS5, .host = "127.0.0.1", .port = 7, .user = "al", .pass = "pw"};
	const char *e2[] = {"\x05\x02\x00\x02",
			    "\x01\x02"
			    "al\x02"
			    "pw",
			    "\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x07"};
	size_t e2l[] = {4, 7, 10};
	/* The reply and the tunnel's first bytes, in one read. */
	const char *r2[] = {"\x05\x02", "\x01\x00",
			    ("\x05\x00\x00\x01\x7f\x00\x00\x01\x12\x34"
			     "tunnel")};
	size_t r2l[] = {2, 2, 16};
	ok(scripted(&t, e2, e2l, r2, r2l, 3) == PROXY_DONE, "SOCKS5 with auth: %s", err);
	const char *r3[] = {"\x05\x02", "\x01\x01"};
	ok(scripted(&t, e2, e2l, r3, r2l, 2) == PROXY_FAIL &&
	       !strcmp(err, "proxy refused the user name or password"),
	   "SOCKS5 bad password: %s", err);
	t = (struct proxy_target){
	    .type = PROXY_SOCKS4, .host = "h.example", .port = 7, .user = NULL, .pass = NULL};
	const char *e4[] = {"\x04\x01\x00\x07\x00\x00\x00\x01\x00h.example"};
	size_t e4l[] = {19};
	const char *r4[] = {"\x00\x5a\x00\x00\x00\x00\x00\x00tunnel"};
	size_t r4l[] = {14};
	ok(scripted(&t, e4, e4l, r4, r4l, 1) == PROXY_DONE, "SOCKS4a handshake: %s", err);
	tap_done();
}
