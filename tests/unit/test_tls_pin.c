/* Pins, a certificate in memory and the report mode of the handshake
 * stage, over a socketpair with both ends in this process, on every mux
 * backend: a server context from a temporary certificate (no files), a
 * client that pins it (verified through the pin, its name still
 * checked), a pin that does not match (with and without insecure), and
 * report_failures handing the stream over with the failure so that
 * tls_report can say what the server sent. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/sbuf.h"
#include "net/stream.h"
#include "net/tls.h"
#include "net/tls_cert.h"
#include "tap.h"

static const char *B;
static struct tls_cert_pair pair;
static char pin[TLS_PIN_STRLEN];
static const char *const OTHER = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

struct end {
	struct tls_handshake *h;
	struct stream *s;
	enum tls_err kind;
	char text[700];
	bool done;
};

static void on_server(struct loop *l, struct stream *s, enum tls_err kind, const char *text,
		      void *arg)
{
	(void)l;
	struct end *e = arg;
	e->h = NULL;
	e->s = s;
	e->kind = kind;
	e->done = true;
}

static void on_client(struct loop *l, struct stream *s, enum tls_err kind, const char *text,
		      void *arg)
{
	struct end *e = arg;
	e->h = NULL;
	e->s = s;
	e->kind = kind;
	snprintf(e->text, sizeof e->text, "%s", text ? text : "");
	e->done = true;
	loop_stop(l);
}

static struct tls_ctx *mkctx(const struct tls_config *c)
{
	enum tls_err kind;
	char err[300];
	struct tls_ctx *x = tls_ctx_new(c, &kind, err, sizeof err);
	if (!x)
		printf("# tls_ctx_new: %s\n", err);
	return x;
}

/* One handshake of a client with cfg against the temporary certificate;
 * the client's end in *cl (its stream, if any, for the caller to close).
 * The report (JSON) in report when the client got a stream. */
static void shake(struct tls_config *cfg, const char *host, struct end *cl, struct sbuf *report)
{
	memset(cl, 0, sizeof *cl);
	sb_reset(report);
	char err[128];
	struct loop *l = loop_new(B, 16, err, sizeof err);
	struct tls_config sc = {.role = TLS_SERVER, .pair = &pair};
	struct tls_ctx *sx = mkctx(&sc), *cx = mkctx(cfg);
	int sv[2];
	if (!l || !sx || !cx || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
		printf("# setup failed\n");
		cl->kind = -1;
		goto out;
	}
	struct end srv = {0};
	srv.h = tls_handshake_start(l, sx, stream_socket_new(l, sv[0], STREAM_F_OWN), NULL, 5000,
				    on_server, &srv, err, sizeof err);
	cl->h = tls_handshake_start(l, cx, stream_socket_new(l, sv[1], STREAM_F_OWN), host, 5000,
				    on_client, cl, err, sizeof err);
	if (srv.h && cl->h)
		loop_run(l);
	if (cl->s)
		tls_report(cl->s, report, true, time(NULL));
	tls_handshake_cancel(srv.h);
	tls_handshake_cancel(cl->h);
	stream_close(srv.s);
	stream_close(cl->s);
	cl->s = NULL;
out:
	tls_ctx_free(sx);
	tls_ctx_free(cx);
	loop_free(l);
}

static void pins_of(struct tls_pins *ps, const char *v)
{
	char err[200];
	tls_pins_init(ps);
	if (tls_pins_add(ps, v, err, sizeof err) < 0)
		printf("# tls_pins_add: %s\n", err);
}

static void t_pins(void)
{
	struct sbuf r;
	sb_init(&r);
	struct end c;
	struct tls_pins good, other, both;
	pins_of(&good, pin);
	pins_of(&other, OTHER);
	char two[2 * TLS_PIN_STRLEN + 1];
	snprintf(two, sizeof two, "%s;%s", OTHER, pin);
	pins_of(&both, two);

	struct tls_config cfg = {.role = TLS_CLIENT};
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_VERIFY && strstr(c.text, "self-signed"),
	   "%s: no pin, no CA: the temporary certificate does not verify (%s)", B, c.text);

	cfg.pins = &good;
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_NONE &&
	       strstr(r.p, "\"verification\":{\"result\":\"ok\",\"reason\":null}"),
	   "%s: its pin verifies it, for its address", B);
	shake(&cfg, "localhost", &c, &r);
	ok(c.kind == TLS_E_NONE, "%s: ... and for localhost", B);
	shake(&cfg, "other.example", &c, &r);
	ok(c.kind == TLS_E_VERIFY && strstr(c.text, "hostname mismatch"),
	   "%s: a pinned certificate still carries the name (%s)", B, c.text);

	cfg.pins = &both;
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_NONE, "%s: one pin of several is enough", B);

	cfg.pins = &other;
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_PIN && strstr(c.text, "public key pin mismatch") && strstr(c.text, pin),
	   "%s: another pin: TLS_E_PIN, naming the server's key (%s)", B, c.text);
	cfg.insecure = true;
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_PIN, "%s: insecure still needs the pin", B);
	cfg.pins = &good;
	shake(&cfg, "other.example", &c, &r);
	ok(c.kind == TLS_E_NONE && strstr(r.p, "\"result\":\"ok\",\"reason\":\"the public key pin "
					       "matched; the chain was not verified"),
	   "%s: insecure with the right pin: only the pin is checked, and the report says so", B);

	/* report_failures: the stream comes with the failure. */
	cfg = (struct tls_config){.role = TLS_CLIENT, .report_failures = true};
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_VERIFY && r.len &&
	       strstr(r.p, "{\"result\":\"failed\",\"reason\":\"self-signed certificate\"}") &&
	       strstr(r.p, "\"subject\":\"CN=sockctl temporary\""),
	   "%s: report_failures: a chain that fails is reported (%s)", B, c.text);
	cfg.pins = &other;
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_PIN && r.len &&
	       strstr(r.p, "\"result\":\"failed\",\"reason\":\"public key pin mismatch"),
	   "%s: report_failures: a pin that fails is reported", B);
	cfg.pins = &good;
	shake(&cfg, "localhost", &c, &r);
	ok(c.kind == TLS_E_NONE && strstr(r.p, "\"sni\":\"localhost\"") &&
	       strstr(r.p, "\"result\":\"ok\""),
	   "%s: report_failures with the pin: verified, the SNI sent reported", B);
	cfg = (struct tls_config){.role = TLS_CLIENT, .report_failures = true, .insecure = true};
	shake(&cfg, "127.0.0.1", &c, &r);
	ok(c.kind == TLS_E_NONE && strstr(r.p, "\"sni\":null") &&
	       strstr(r.p, "{\"result\":\"skipped\",\"reason\":null}"),
	   "%s: insecure: verification skipped, no SNI for an address", B);

	tls_pins_free(&good);
	tls_pins_free(&other);
	tls_pins_free(&both);
	sb_free(&r);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	char err[300];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const struct sockaddr *bound = (const struct sockaddr *)&a;
	if (tls_cert_temporary_for(&bound, 1, NULL, time(NULL), &pair, err, sizeof err) < 0 ||
	    tls_pin_of(pair.leaf, pin) < 0) {
		printf("Bail out! temporary certificate: %s\n", err);
		return 1;
	}
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_pins();
	}
	tls_cert_pair_free(&pair);
	tap_done();
}
