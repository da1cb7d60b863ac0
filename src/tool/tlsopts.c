/* The TLS options: parsed here for every command (see tlsopts.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tool/cmd.h"
#include "tool/tlsopts.h"

static const char *opt_name(int c)
{
	switch (c) {
	case TOPT_TLS:
		return "--tls";
	case TOPT_CACERT:
		return "--cacert";
	case TOPT_INSECURE:
		return "--insecure";
	case TOPT_SNI:
		return "--sni";
	case TOPT_NO_SNI:
		return "--no-sni";
	case TOPT_ALPN:
		return "--alpn";
	case TOPT_CERT:
		return "--cert";
	case TOPT_KEY:
		return "--key";
	case TOPT_TLS_MIN:
		return "--tls-min";
	case TOPT_TLS_MAX:
		return "--tls-max";
	case TOPT_CIPHERS:
		return "--ciphers";
	case TOPT_CIPHERSUITES:
		return "--ciphersuites";
	case TOPT_CLIENT_CA:
		return "--client-ca";
	case TOPT_HANDSHAKE_TIMEOUT:
		return "--handshake-timeout";
	case TOPT_ALLOW_TRUNCATION:
		return "--tls-allow-truncation";
	default:
		return NULL;
	}
}

int tlsopt_handle(struct tlsopts *t, int c, const char *arg)
{
	const char *name = opt_name(c);
	if (!name)
		return 0;
	if (!tls_available()) {
		fprintf(stderr, "sockctl %s: %s: this build has no TLS\n",
			g_cmdname ? g_cmdname : "", name);
		return -1;
	}
	if (!t->first && c != TOPT_TLS)
		t->first = name;
	struct tls_config *cfg = &t->cfg;
	switch (c) {
	case TOPT_TLS:
		t->on = true;
		break;
	case TOPT_CACERT:
		cfg->cafile = arg;
		break;
	case TOPT_INSECURE:
		cfg->insecure = true;
		break;
	case TOPT_SNI:
		if (!*arg) {
			usage_error("--sni needs a name (--no-sni sends none)");
			return -1;
		}
		cfg->sni = arg;
		break;
	case TOPT_NO_SNI:
		cfg->no_sni = true;
		break;
	case TOPT_ALPN:
		cfg->alpn = arg;
		break;
	case TOPT_CERT:
		cfg->cert = arg;
		break;
	case TOPT_KEY:
		cfg->key = arg;
		break;
	case TOPT_TLS_MIN:
	case TOPT_TLS_MAX:
		if (!tls_version_parse(arg,
				       c == TOPT_TLS_MIN ? &cfg->min_version : &cfg->max_version)) {
			usage_error("invalid %s '%s': give 1.2 or 1.3", name, arg);
			return -1;
		}
		break;
	case TOPT_CIPHERS:
		cfg->ciphers = arg;
		break;
	case TOPT_CIPHERSUITES:
		cfg->ciphersuites = arg;
		break;
	case TOPT_CLIENT_CA:
		cfg->client_ca = arg;
		break;
	case TOPT_HANDSHAKE_TIMEOUT:
		if (!parse_seconds(arg, &t->handshake_ms) || t->handshake_ms == 0) {
			usage_error("invalid --handshake-timeout '%s': give seconds > 0", arg);
			return -1;
		}
		break;
	case TOPT_ALLOW_TRUNCATION:
		cfg->allow_truncation = true;
		break;
	}
	return 1;
}

int tlsopt_check(struct tlsopts *t, enum tls_role role)
{
	if (!t->on && t->first)
		return usage_error("%s needs --tls", t->first);
	if (!t->on)
		return 0;
	t->cfg.role = role;
	t->cfg.ktls = true;
	if (!t->handshake_ms)
		t->handshake_ms = 10000;
	if (t->cfg.no_sni && t->cfg.sni)
		return usage_error("--sni and --no-sni: give one");
	if ((t->cfg.cert != NULL) != (t->cfg.key != NULL) && role == TLS_CLIENT)
		return usage_error("--cert and --key go together");
	if (role == TLS_SERVER && (!t->cfg.cert || !t->cfg.key))
		return usage_error("--tls needs --cert and --key");
	return 0;
}

int tlsopt_exit(enum tls_err kind)
{
	switch (kind) {
	case TLS_E_NONE:
		return EXIT_OK;
	case TLS_E_CAFILE:
		return EXIT_TLS_CAFILE;
	case TLS_E_CERT:
		return EXIT_TLS_CERT;
	case TLS_E_VERIFY:
		return EXIT_TLS_VERIFY;
	case TLS_E_HANDSHAKE:
	case TLS_E_TIMEOUT:
		return EXIT_TLS_HANDSHAKE;
	case TLS_E_TRUNCATED:
		return EXIT_TLS_RECV;
	case TLS_E_CONFIG:
		return EXIT_USAGE;
	default:
		return EXIT_FAIL;
	}
}

struct tls_ctx *tlsopt_ctx(struct tlsopts *t, int *status)
{
	*status = EXIT_OK;
	if (!t->on)
		return NULL;
	enum tls_err kind;
	char err[700];
	struct tls_ctx *c = tls_ctx_new(&t->cfg, &kind, err, sizeof err);
	if (!c) {
		*status = tlsopt_exit(kind);
		if (kind == TLS_E_CONFIG)
			usage_error("TLS: %s", err);
		else
			errmsg("TLS: %s", err);
	}
	return c;
}
