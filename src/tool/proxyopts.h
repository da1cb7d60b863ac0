/* The proxy options of the commands that reach a target through a
 * proxy (connect, forward), in one place: their table, help text,
 * parsing, and what they set up once the target is known: the endpoint
 * to connect to becomes the proxy's, and the proxy's handshake gets
 * the target (with TLS to the proxy itself for an https proxy). http
 * get, with curl's option names, uses the spec parser and the https
 * proxy's TLS. */
#ifndef SOCKCTL_PROXYOPTS_H
#define SOCKCTL_PROXYOPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "net/proxy.h"
#include "net/sock.h"
#include "tool/tlsopts.h"

enum {
	POPT_PROXY = 0x1500,
	POPT_TYPE,
	POPT_AUTH,
	POPT_DNS,
	POPT_CACERT,
	POPT_INSECURE,
};

#define PROXYOPT_LONGOPTS                                                                          \
	{"proxy", required_argument, NULL, POPT_PROXY},                                            \
	    {"proxy-type", required_argument, NULL, POPT_TYPE},                                    \
	    {"proxy-auth", required_argument, NULL, POPT_AUTH},                                    \
	    {"proxy-dns", required_argument, NULL, POPT_DNS},                                      \
	    {"proxy-cacert", required_argument, NULL, POPT_CACERT},                                \
	{                                                                                          \
		"proxy-insecure", no_argument, NULL, POPT_INSECURE                                 \
	}

#define PROXYOPT_HELP                                                                              \
	"      --proxy [TYPE://]HOST:PORT  through a proxy ([V6ADDR]:PORT for IPv6)\n"             \
	"      --proxy-type TYPE  http (CONNECT, the default), https (CONNECT over\n"              \
	"                       TLS to the proxy), socks4 or socks5\n"                             \
	"      --proxy-auth USER:PASS  credentials (http basic, socks5; socks4: user)\n"           \
	"      --proxy-dns WHERE  remote (default: the proxy resolves the target's\n"              \
	"                       name) or local\n"                                                  \
	"      --proxy-cacert FILE|DIR, --proxy-insecure  how an https proxy's own\n"              \
	"                       certificate is verified (default: the system store\n"              \
	"                       and the proxy's name)\n"

struct proxyopts {
	char *proxy; /* [TYPE://]HOST:PORT as given (in argv: cut in place) */
	const char *auth;
	enum proxy_type type;
	bool tls; /* https: TLS to the proxy itself */
	bool type_given, local_dns;
	struct tlsopts ptls; /* the TLS to an https proxy (--proxy-cacert, ...) */
	bool ptls_given;
	char user[256], pass[256];
	char host_shown[300]; /* the proxy's host, for TLS name checks */
	char resolved[SOCK_ADDRSTRLEN];
	struct proxy_target pt; /* what proxyopt_apply set up */
};

/* One option: 1 if handled, 0 if not a proxy option, -1 after a usage
 * error was printed. */
int proxyopt_handle(struct proxyopts *p, int c, const char *arg);
/* After the operands, with the target in *ep (TCP): with --proxy, ep
 * becomes the proxy's endpoint and p->pt the handshake's target (the
 * name, or its address with --proxy-dns local); for an https proxy the
 * TLS context is made. Returns 0 (nothing to do without --proxy), or
 * the exit status after the message. */
int proxyopt_apply(struct proxyopts *p, struct sock_endpoint *ep);
/* The parts of proxyopt_apply that need no target (http get, whose
 * targets are its URLs, uses them alone). proxyopt_parse: p->proxy,
 * [TYPE://]HOST:PORT with an optional '/' after it, cut in place: the
 * type and p->tls from the scheme, *host and *port pointing into it.
 * proxyopt_tls, for an https proxy: the TLS context (p->pt.tls, owned)
 * from --proxy-cacert and --proxy-insecure, the proxy's certificate
 * checked for its host. Both return 0, or the exit status after the
 * message. */
int proxyopt_parse(struct proxyopts *p, const char **host, const char **port);
int proxyopt_tls(struct proxyopts *p);
/* Whether --proxy was given. */
static inline bool proxyopt_on(const struct proxyopts *p)
{
	return p->proxy != NULL;
}
/* Frees what the options hold (the https proxy's context). */
void proxyopt_free(struct proxyopts *p);

#endif
