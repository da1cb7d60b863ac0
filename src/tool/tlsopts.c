/* The TLS options: parsed here for every command (see tlsopts.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "tool/tlsopts.h"
#ifdef HAVE_OPENSSL
#include "net/tls_cert.h"
#endif

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
	case TOPT_PIN:
		return "--pin";
	default:
		return NULL;
	}
}

/* --pin VALUE (repeated, or ';'-separated): 1, or -1 after the usage
 * error. */
static int pin_add(struct tlsopts *t, const char *arg, const char *name)
{
#ifdef HAVE_OPENSSL
	char err[300];
	if (!t->pins) {
		if (!(t->pins = malloc(sizeof *t->pins))) {
			errmsg("out of memory");
			return -1;
		}
		tls_pins_init(t->pins);
	}
	if (tls_pins_add(t->pins, arg, err, sizeof err) < 0) {
		usage_error("invalid %s: %s", name, err);
		if (!t->pins->n) { /* the command stops here: nothing left held */
			tls_pins_free(t->pins);
			free(t->pins);
			t->pins = NULL;
		}
		return -1;
	}
	t->cfg.pins = t->pins;
	return 1;
#else
	(void)t, (void)arg, (void)name;
	return -1; /* not reached: a build without TLS refuses the option first */
#endif
}

int tlsopt_no_tls(const char *name)
{
	fprintf(stderr, "sockctl %s: %s: this build has no TLS\n", g_cmdname ? g_cmdname : "",
		name);
	return -1;
}

int tlsopt_handle(struct tlsopts *t, int c, const char *arg)
{
	const char *name = opt_name(c);
	if (!name)
		return 0;
	char named[48];
	if (t->prefix) {
		snprintf(named, sizeof named, "--%s%s", t->prefix, name + 2);
		name = named;
	}
	if (!tls_available())
		return tlsopt_no_tls(name);
	if (!t->first && c != TOPT_TLS) {
		snprintf(t->first_buf, sizeof t->first_buf, "%s", name);
		t->first = t->first_buf;
	}
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
			usage_error("%s needs a name (--%sno-sni sends none)", name,
				    t->prefix ? t->prefix : "");
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
	case TOPT_PIN:
		return pin_add(t, arg, name);
	}
	return 1;
}

int tlsopt_check(struct tlsopts *t, enum tls_role role)
{
	if (!t->on && t->first)
		return usage_error("%s needs --%stls", t->first, t->prefix ? t->prefix : "");
	if (!t->on)
		return 0;
	t->cfg.role = role;
	t->cfg.ktls = true;
	if (!t->handshake_ms)
		t->handshake_ms = 10000;
	const char *p = t->prefix ? t->prefix : "";
	if (t->cfg.no_sni && t->cfg.sni)
		return usage_error("--%ssni and --%sno-sni: give one", p, p);
	if ((t->cfg.cert != NULL) != (t->cfg.key != NULL) && role == TLS_CLIENT)
		return usage_error("--%scert and --%skey go together", p, p);
	/* A server without --cert makes a temporary certificate; --cert
	 * alone has its key in the same file. */
	if (role == TLS_SERVER && t->cfg.key && !t->cfg.cert)
		return usage_error("--key needs --cert");
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
	case TLS_E_PIN:
		return EXIT_TLS_PIN;
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

/* The server's certificate and key in memory: loaded from --cert/--key,
 * or a temporary one. 0, or the exit status after the message. */
static int server_pair(struct tlsopts *t, const struct sockaddr *const *bound, size_t nbound)
{
#ifdef HAVE_OPENSSL
	char err[700];
	struct tls_cert_pair *p = calloc(1, sizeof *p);
	if (!p) {
		errmsg("out of memory");
		return EXIT_FAIL;
	}
	time_t now = time(NULL);
	if (t->cfg.cert) {
		/* A pair that does not load leaves the files to the context,
		 * whose messages say what is wrong as they always have (and
		 * which may still take a key this loader refuses). */
		if (tls_cert_load_pair(t->cfg.cert, t->cfg.key, now, p, err, sizeof err) < 0) {
			free(p);
			return 0;
		}
		/* Served anyway (a test of clients, a clock that is wrong),
		 * but said once: every verifying client will refuse it. */
		if (p->warn)
			errline("sockctl: warning: TLS: %s\n", err);
	} else {
		char host[256];
		if (gethostname(host, sizeof host) < 0)
			host[0] = 0;
		host[sizeof host - 1] = 0;
		if (tls_cert_temporary_for(bound, nbound, host, now, p, err, sizeof err) < 0 &&
		    /* A host name a certificate cannot carry is left out. */
		    (!host[0] ||
		     tls_cert_temporary_for(bound, nbound, NULL, now, p, err, sizeof err) < 0)) {
			free(p);
			errmsg("TLS: temporary certificate: %s", err);
			return EXIT_FAIL;
		}
		char pin[TLS_PIN_STRLEN];
		if (tls_pin_of(p->leaf, pin) < 0) {
			tls_cert_pair_free(p);
			free(p);
			errmsg("TLS: temporary certificate: its pin cannot be computed");
			return EXIT_FAIL;
		}
		snprintf(t->pin, sizeof t->pin, "%s", pin);
	}
	t->pair = p;
	t->cfg.pair = p;
	return 0;
#else
	(void)t, (void)bound, (void)nbound;
	errmsg("TLS: this build has no TLS");
	return EXIT_FAIL;
#endif
}

struct tls_ctx *tlsopt_server_ctx(struct tlsopts *t, const struct sockaddr *const *bound,
				  size_t nbound, int *status)
{
	*status = EXIT_OK;
	if (!t->on)
		return NULL;
	if (!t->pair && (*status = server_pair(t, bound, nbound)))
		return NULL;
	/* A pair in memory goes before the files (net/tls.h). */
	return tlsopt_ctx(t, status);
}

const char *tlsopt_ready_note(const struct tlsopts *t)
{
	static char note[80];
	if (!t->on || !t->pin[0])
		return "";
	snprintf(note, sizeof note, ", tls pin %s", t->pin);
	return note;
}

void tlsopt_free(struct tlsopts *t)
{
#ifdef HAVE_OPENSSL
	if (t->pins) {
		tls_pins_free(t->pins);
		free(t->pins);
	}
	if (t->pair) {
		tls_cert_pair_free(t->pair);
		free(t->pair);
	}
#endif
	t->pins = NULL;
	t->pair = NULL;
	t->cfg.pins = NULL;
	t->cfg.pair = NULL;
}
