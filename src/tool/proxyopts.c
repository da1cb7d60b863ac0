#include "config.h"

#include "tool/proxyopts.h"

#include <stdio.h>
#include <string.h>

#include "tool/argparse.h"
#include "tool/cmd.h"

/* http, https, socks4, socks4a, socks5, socks5h (the proxy resolves
 * names with every one of them, unless --proxy-dns local). */
static bool type_parse(const char *s, struct proxyopts *p)
{
	p->tls = strcmp(s, "https") == 0;
	return p->tls ? (p->type = PROXY_HTTP, true) : proxy_type_parse(s, &p->type);
}

int proxyopt_handle(struct proxyopts *p, int c, const char *arg)
{
	switch (c) {
	case POPT_PROXY:
		p->proxy = (char *)arg;
		return 1;
	case POPT_TYPE:
		if (!type_parse(arg, p)) {
			usage_error("invalid --proxy-type '%s': give http, https, socks4 or socks5",
				    arg);
			return -1;
		}
		p->type_given = true;
		return 1;
	case POPT_AUTH:
		if (!proxy_auth_parse(arg, p->user, sizeof p->user, p->pass, sizeof p->pass)) {
			usage_error("invalid --proxy-auth: give USER:PASS");
			return -1;
		}
		p->auth = arg;
		return 1;
	case POPT_DNS:
		if (strcmp(arg, "local") == 0) {
			p->local_dns = true;
		} else if (strcmp(arg, "remote") != 0) {
			usage_error("invalid --proxy-dns '%s': give local or remote", arg);
			return -1;
		}
		return 1;
	case POPT_CACERT:
		p->ptls_given = true;
		return tlsopt_handle(&p->ptls, TOPT_CACERT, arg) < 0 ? -1 : 1;
	case POPT_INSECURE:
		p->ptls_given = true;
		return tlsopt_handle(&p->ptls, TOPT_INSECURE, NULL) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

int proxyopt_parse(struct proxyopts *p, const char **host, const char **port)
{
	char *spec = p->proxy, *sep = strstr(spec, "://");
	if (sep) {
		*sep = '\0';
		if (p->type_given)
			return usage_error(
			    "give the proxy's type once: --proxy %s:// or --proxy-type", spec);
		if (!type_parse(spec, p))
			return usage_error("invalid --proxy scheme '%s': give http, https, socks4, "
					   "socks4a, socks5 or socks5h",
					   spec);
		spec = sep + 3;
	}
	size_t n = strlen(spec);
	if (n && spec[n - 1] == '/')
		spec[n - 1] = '\0'; /* "http://proxy:3128/" */
	char shown[sizeof p->host_shown];
	snprintf(shown, sizeof shown, "%s", spec); /* endpoint_split cuts spec */
	char perr[SOCK_ERRLEN + 128], err[SOCK_ERRLEN];
	if (endpoint_split(1, &spec, ENDPOINT_EXACT, host, port, perr, sizeof perr) != 1)
		return usage_error("invalid --proxy '%s': give [TYPE://]HOST:PORT ([V6ADDR]:PORT "
				   "for IPv6)",
				   shown);
	uint16_t num;
	if (!sock_parse_port(*port, SOCK_STREAM, false, &num, err, sizeof err))
		return usage_error("--proxy %s", err);
	/* An https proxy's certificate is checked for its own name. */
	snprintf(p->host_shown, sizeof p->host_shown, "%s", *host);
	return 0;
}

int proxyopt_tls(struct proxyopts *p)
{
	int st;
	if (tlsopt_handle(&p->ptls, TOPT_TLS, NULL) < 0 || tlsopt_check(&p->ptls, TLS_CLIENT) != 0)
		return EXIT_USAGE;
	if (!(p->pt.tls = tlsopt_ctx(&p->ptls, &st)))
		return st;
	p->pt.tls_host = p->host_shown;
	return 0;
}

int proxyopt_apply(struct proxyopts *p, struct sock_endpoint *ep)
{
	if (!p->proxy) {
		if (p->type_given || p->auth || p->local_dns || p->ptls_given)
			return usage_error("--proxy-type, --proxy-auth, --proxy-dns, "
					   "--proxy-cacert and --proxy-insecure need --proxy");
		return 0;
	}
	const char *phost, *pport;
	int st = proxyopt_parse(p, &phost, &pport);
	if (st)
		return st;
	if (p->ptls_given && !p->tls)
		return usage_error("--proxy-cacert and --proxy-insecure are for an https proxy");
	char err[SOCK_ERRLEN];
	uint16_t port;
	if (!sock_parse_port(ep->port, SOCK_STREAM, false, &port, err, sizeof err))
		return usage_error("%s", err);
	p->pt = (struct proxy_target){.type = p->type, .host = ep->host, .port = port};
	if (p->auth) {
		p->pt.user = p->user;
		p->pt.pass = p->pass;
	}
	if (p->local_dns) {
		/* Once, here: plain SOCKS4 carries IPv4 addresses only, and a
		 * name would make it SOCKS4a. */
		struct sock_endpoint te = *ep;
		te.family = p->type == PROXY_SOCKS4 ? AF_INET : ep->family;
		struct addrinfo *res;
		if (sock_resolve(&te, false, &res, err, sizeof err) < 0) {
			errmsg("%s", err);
			return EXIT_FAIL;
		}
		char pbuf[16];
		sock_addr_parts(res->ai_addr, res->ai_addrlen, p->resolved, sizeof p->resolved,
				pbuf, sizeof pbuf);
		sock_freeaddrinfo(res);
		p->pt.host = p->resolved;
	}
	if (p->tls && (st = proxyopt_tls(p)))
		return st;
	ep->host = phost;
	ep->port = pport;
	return 0;
}

void proxyopt_free(struct proxyopts *p)
{
	tls_ctx_free(p->pt.tls);
	p->pt.tls = NULL;
	tlsopt_free(&p->ptls);
}
