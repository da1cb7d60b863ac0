/* TLS over OpenSSL 3: contexts, the TLS stream type and the handshake
 * stage (see tls.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tls.h"

bool tls_version_parse(const char *s, int *out)
{
	if (strcmp(s, "1.2") == 0)
		*out = TLS_V1_2;
	else if (strcmp(s, "1.3") == 0)
		*out = TLS_V1_3;
	else
		return false;
	return true;
}

#ifndef HAVE_OPENSSL

#include "net/stream.h"

/* A build without OpenSSL: the program refuses the TLS options before
 * any of this is reached; these answers keep other callers honest. */
bool tls_available(void)
{
	return false;
}

struct tls_ctx *tls_ctx_new(const struct tls_config *cfg, enum tls_err *kind, char *err,
			    size_t errlen)
{
	(void)cfg;
	*kind = TLS_E_NOTLS;
	snprintf(err, errlen, "this build has no TLS");
	return NULL;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	(void)ctx;
}

struct stream *tls_stream_new(struct tls_ctx *ctx, struct stream *plain, const char *host,
			      char *err, size_t errlen)
{
	(void)ctx;
	(void)host;
	stream_close(plain);
	snprintf(err, errlen, "this build has no TLS");
	return NULL;
}

struct tls_handshake *tls_handshake_start(struct loop *l, struct tls_ctx *ctx, struct stream *plain,
					  const char *host, int timeout_ms, tls_handshake_cb cb,
					  void *arg, char *err, size_t errlen)
{
	(void)l, (void)ctx, (void)host, (void)timeout_ms, (void)cb, (void)arg;
	stream_close(plain);
	snprintf(err, errlen, "this build has no TLS");
	return NULL;
}

void tls_handshake_cancel(struct tls_handshake *h)
{
	(void)h;
}

bool tls_is(const struct stream *s)
{
	(void)s;
	return false;
}
bool tls_truncated(const struct stream *s)
{
	(void)s;
	return false;
}
const char *tls_error(const struct stream *s)
{
	(void)s;
	return NULL;
}
enum tls_err tls_failure(const struct stream *s)
{
	(void)s;
	return TLS_E_NONE;
}
void tls_summary(const struct stream *s, char *buf, size_t len)
{
	(void)s;
	if (len)
		*buf = 0;
}
bool tls_ktls_send(const struct stream *s)
{
	(void)s;
	return false;
}
bool tls_ktls_recv(const struct stream *s)
{
	(void)s;
	return false;
}
const char *tls_lib_version(void)
{
	return NULL;
}
const char *tls_lib_build_version(void)
{
	return NULL;
}
bool tls_lib_ktls(void)
{
	return false;
}
void *tls_native(const struct stream *s)
{
	(void)s;
	return NULL;
}
bool tls_peer_subject(const struct stream *s, char *buf, size_t len)
{
	(void)s;
	if (len)
		*buf = 0;
	return false;
}
bool tls_env_facts(const struct stream *s, char *version, size_t vlen, char *cipher, size_t clen,
		   char *subject, size_t slen)
{
	(void)s;
	snprintf(version, vlen, "%s", "");
	snprintf(cipher, clen, "%s", "");
	snprintf(subject, slen, "%s", "");
	return false;
}
void tls_report(const struct stream *s, struct sbuf *out, bool json, time_t now)
{
	(void)s, (void)out, (void)json, (void)now;
}
bool tls_peer_days_left(const struct stream *s, time_t now, long *days)
{
	(void)s, (void)now, (void)days;
	return false;
}

#else /* HAVE_OPENSSL */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/sbuf.h"
#include "net/sock.h"
#include "net/stream.h"
#include "net/tls_cert.h"
#include "net/tls_alpn.h"

bool tls_available(void)
{
	return true;
}

/* What one read(2) of the socket may take (read ahead). */
#define TLS_READ_AHEAD (64 * 1024)
#define TLS_RECORD     16384 /* the most plaintext one record carries */

struct tls_linger;

struct tls_ctx {
	SSL_CTX *ctx;
	struct tls_linger *lingers; /* failed connections closing; owned */
	enum tls_role role;
	bool insecure, no_sni, allow_truncation, verify_client, report_failures, cafile;
	struct tls_pins pins; /* a copy of the config's */
	char *sni;
	unsigned char *alpn; /* wire format: length-prefixed names */
	size_t alpn_len;
};

/* OpenSSL's reason for the oldest error queued (the cause; later ones
 * are the layers that passed it on), then the queue is emptied. */
static void ssl_err_text(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	char num[32];
	if (e && !r) {
		snprintf(num, sizeof num, "error %lx", e);
		r = num;
	}
	if (!r)
		r = errno ? strerror(errno) : "failed";
	if (what)
		snprintf(err, errlen, "%s: %s", what, r);
	else
		snprintf(err, errlen, "%s", r);
	ERR_clear_error();
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	struct tls_ctx *c = arg;
	unsigned char *sel;
	/* Our order of preference: the first of ours the client offers. */
	if (SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned)c->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A file the user named must be there and readable: OpenSSL's own
 * message for it ("system lib") says less than errno does. */
static bool readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return true;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return false;
}

static int verify_note(int ok, X509_STORE_CTX *xs);
static int pin_verify(X509_STORE_CTX *xs, void *arg);

static int cert_asked(SSL *ssl, void *arg);

static int ctx_setup(struct tls_ctx *c, const struct tls_config *cfg, enum tls_err *kind, char *err,
		     size_t errlen)
{
	SSL_CTX *x = c->ctx;
	char what[600];
	*kind = TLS_E_CONFIG;
	SSL_CTX_set_mode(x, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Read ahead into a buffer of several records: one read(2) for many
	 * records instead of two (header, body) for each. What it holds
	 * counts as pending (tls_pending): the fd will not report it. */
	SSL_CTX_set_read_ahead(x, 1);
	SSL_CTX_set_default_read_buffer_len(x, TLS_READ_AHEAD);
	/* Renegotiation is TLS 1.2's; nobody needs it of a relay. */
	SSL_CTX_set_options(x, SSL_OP_NO_RENEGOTIATION | (cfg->ktls ? SSL_OP_ENABLE_KTLS : 0));
	if (cfg->min_version && !SSL_CTX_set_min_proto_version(x, cfg->min_version)) {
		ssl_err_text("minimum version", err, errlen);
		return -1;
	}
	if (cfg->max_version && !SSL_CTX_set_max_proto_version(x, cfg->max_version)) {
		ssl_err_text("maximum version", err, errlen);
		return -1;
	}
	if (cfg->min_version && cfg->max_version && cfg->min_version > cfg->max_version) {
		snprintf(err, errlen, "the minimum version is above the maximum");
		return -1;
	}
	if (cfg->ciphers && !SSL_CTX_set_cipher_list(x, cfg->ciphers)) {
		snprintf(what, sizeof what, "ciphers '%s'", cfg->ciphers);
		ssl_err_text(what, err, errlen);
		return -1;
	}
	if (cfg->ciphersuites && !SSL_CTX_set_ciphersuites(x, cfg->ciphersuites)) {
		snprintf(what, sizeof what, "ciphersuites '%s'", cfg->ciphersuites);
		ssl_err_text(what, err, errlen);
		return -1;
	}
	if (cfg->alpn) {
		if (tls_alpn_wire(cfg->alpn, &c->alpn, &c->alpn_len) < 0) {
			snprintf(err, errlen,
				 "ALPN list '%s': give names of 1-255 bytes, "
				 "separated by commas",
				 cfg->alpn);
			return -1;
		}
		if (cfg->role == TLS_CLIENT) {
			if (SSL_CTX_set_alpn_protos(x, c->alpn, (unsigned)c->alpn_len) != 0) {
				ssl_err_text("ALPN", err, errlen);
				return -1;
			}
		} else {
			SSL_CTX_set_alpn_select_cb(x, alpn_select, c);
		}
	}
	if (cfg->role == TLS_CLIENT)
		SSL_CTX_set_cert_cb(x, cert_asked, NULL);
	*kind = TLS_E_CERT;
	if (cfg->pair) {
		const struct tls_cert_pair *p = cfg->pair;
		if (SSL_CTX_use_certificate(x, p->leaf) != 1) {
			ssl_err_text("certificate", err, errlen);
			return -1;
		}
		for (int i = 0; p->chain && i < sk_X509_num(p->chain); i++)
			if (SSL_CTX_add1_chain_cert(x, sk_X509_value(p->chain, i)) != 1) {
				ssl_err_text("certificate chain", err, errlen);
				return -1;
			}
		if (SSL_CTX_use_PrivateKey(x, p->key) != 1 || SSL_CTX_check_private_key(x) != 1) {
			ssl_err_text("key", err, errlen);
			return -1;
		}
	} else if (cfg->cert || cfg->key) {
		const char *cert = cfg->cert ? cfg->cert : cfg->key;
		const char *key = cfg->key ? cfg->key : cfg->cert;
		if (!readable("certificate", cert, err, errlen) ||
		    !readable("key", key, err, errlen))
			return -1;
		if (SSL_CTX_use_certificate_chain_file(x, cert) != 1) {
			snprintf(what, sizeof what, "certificate %s", cert);
			ssl_err_text(what, err, errlen);
			return -1;
		}
		if (SSL_CTX_use_PrivateKey_file(x, key, SSL_FILETYPE_PEM) != 1) {
			if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
				ERR_clear_error();
				snprintf(err, errlen, "key %s does not match certificate %s", key,
					 cert);
				return -1;
			}
			snprintf(what, sizeof what, "key %s", key);
			ssl_err_text(what, err, errlen);
			return -1;
		}
		if (SSL_CTX_check_private_key(x) != 1) {
			ERR_clear_error();
			snprintf(err, errlen, "key %s does not match certificate %s", key, cert);
			return -1;
		}
	} else if (cfg->role == TLS_SERVER) {
		snprintf(err, errlen, "a server needs a certificate and its key");
		return -1;
	}
	*kind = TLS_E_CAFILE;
	if (cfg->role == TLS_CLIENT && !cfg->insecure) {
		SSL_CTX_set_verify(x, SSL_VERIFY_PEER, cfg->report_failures ? verify_note : NULL);
		if (cfg->cafile) {
			if (!readable("CA", cfg->cafile, err, errlen))
				return -1;
			int ok = is_dir(cfg->cafile) ? SSL_CTX_load_verify_dir(x, cfg->cafile)
						     : SSL_CTX_load_verify_file(x, cfg->cafile);
			if (ok != 1) {
				snprintf(what, sizeof what, "CA %s", cfg->cafile);
				ssl_err_text(what, err, errlen);
				return -1;
			}
		} else if (!c->pins.n && SSL_CTX_set_default_verify_paths(x) != 1) {
			/* With pins and no cafile the pinned key is the anchor:
			 * the system's store (milliseconds to load) is not used. */
			ssl_err_text("the system's CA store", err, errlen);
			return -1;
		}
		c->cafile = cfg->cafile != NULL;
		if (c->pins.n)
			SSL_CTX_set_cert_verify_callback(x, pin_verify, c);
	} else if (cfg->role == TLS_CLIENT) {
		SSL_CTX_set_verify(x, SSL_VERIFY_NONE, NULL);
	}
	if (cfg->role == TLS_SERVER && cfg->client_ca) {
		if (!readable("client CA", cfg->client_ca, err, errlen))
			return -1;
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->client_ca);
		if (!names || SSL_CTX_load_verify_file(x, cfg->client_ca) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			snprintf(what, sizeof what, "client CA %s", cfg->client_ca);
			ssl_err_text(what, err, errlen);
			return -1;
		}
		SSL_CTX_set_client_CA_list(x, names);
		SSL_CTX_set_verify(x, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		c->verify_client = true;
	}
	if (cfg->role == TLS_SERVER) {
		/* Resumption within one process: a client reconnecting
		 * skips the certificate work. */
		static const unsigned char sid[] = "sockctl";
		SSL_CTX_set_session_id_context(x, sid, sizeof sid - 1);
	}
	*kind = TLS_E_NONE;
	return 0;
}

struct tls_ctx *tls_ctx_new(const struct tls_config *cfg, enum tls_err *kind, char *err,
			    size_t errlen)
{
	struct tls_ctx *c = calloc(1, sizeof *c);
	*kind = TLS_E_CONFIG;
	if (!c || (cfg->sni && !(c->sni = strdup(cfg->sni)))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ERR_clear_error();
	c->ctx = SSL_CTX_new(cfg->role == TLS_SERVER ? TLS_server_method() : TLS_client_method());
	if (!c->ctx) {
		ssl_err_text("TLS context", err, errlen);
		tls_ctx_free(c);
		return NULL;
	}
	c->role = cfg->role;
	c->insecure = cfg->insecure;
	c->no_sni = cfg->no_sni;
	c->allow_truncation = cfg->allow_truncation;
	c->report_failures = cfg->report_failures;
	tls_pins_init(&c->pins);
	if (cfg->pins && cfg->pins->n) {
		c->pins.sha256 = malloc(cfg->pins->n * sizeof *c->pins.sha256);
		if (!c->pins.sha256) {
			snprintf(err, errlen, "out of memory");
			tls_ctx_free(c);
			return NULL;
		}
		memcpy(c->pins.sha256, cfg->pins->sha256, cfg->pins->n * sizeof *c->pins.sha256);
		c->pins.n = cfg->pins->n;
	}
	if (ctx_setup(c, cfg, kind, err, errlen) < 0) {
		tls_ctx_free(c);
		return NULL;
	}
	return c;
}

static void linger_end(struct tls_linger *g);

void tls_ctx_free(struct tls_ctx *c)
{
	if (!c)
		return;
	while (c->lingers)
		linger_end(c->lingers);
	SSL_CTX_free(c->ctx); /* connections hold references of their own */
	free(c->sni);
	free(c->alpn);
	tls_pins_free(&c->pins);
	free(c);
}

/* ---- the stream ---- */

struct tls_conn {
	SSL *ssl;
	enum tls_role role;
	bool allow_truncation, insecure;
	/* The last read needs the fd writable, the last write needs it
	 * readable (a key update, a renegotiation, a session ticket). */
	bool read_wants_write, write_wants_read;
	bool had_pending; /* tls_pending() > 0 when the loop last heard */
	/* The last read wanted more from the fd: what is read ahead is part
	 * of a record, not pending until the fd brings the rest. */
	bool starved;
	int last_events; /* tls_events() when the loop last heard */
	bool shut_sent, shut_pending;
	bool eof, truncated;
	bool end_unread;   /* eof or dead came with the last read's bytes */
	bool cert_refused; /* the peer's alert refused our certificate */
	bool cert_asked;   /* a client: the server asked for a certificate */
	/* TLS inside another stream (a TLS proxy's tunnel): the records go
	 * through it, owned, never registered with the loop itself; NULL
	 * over a socket. */
	struct stream *inner;
	int dead; /* errno of a fatal failure: no more I/O, no close_notify */
	char *host;
	char why[200]; /* the TLS-level reason of a failure */
	bool sni_sent; /* host went out as SNI */
	/* A client's verdict on the server once the handshake is done:
	 * TLS_E_NONE, TLS_E_VERIFY or TLS_E_PIN and why; pinned: a pin
	 * matched. verr: the first verification error (report_failures). */
	enum tls_err verdict;
	bool pinned;
	int verr;
	char verdict_why[200];
};

/* report_failures: the first verification error is noted and the
 * handshake goes on, so the certificate can still be reported; the
 * verdict after the handshake fails the connection. */
static int verify_note(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *t = ssl ? SSL_get_app_data(ssl) : NULL;
	if (!ok && t && !t->verr)
		t->verr = X509_STORE_CTX_get_error(xs);
	return 1;
}

static void pin_mismatch(struct tls_conn *t, X509 *leaf)
{
	char got[TLS_PIN_STRLEN] = "";
	if (leaf)
		tls_pin_of(leaf, got);
	snprintf(t->verdict_why, sizeof t->verdict_why,
		 "public key pin mismatch (the server's key is %s)", got[0] ? got : "unknown");
	t->verdict = TLS_E_PIN;
}

/* With pins, and verifying, the pin comes first: a leaf whose key
 * matches none fails at once, whatever its chain. A leaf that matches
 * is verified as usual against cafile when there is one (the chain must
 * reach that CA too, as curl does); without one it stands for the CA,
 * so a server with a temporary or self-signed certificate verifies
 * through its pin, and its validity dates, names and purpose are still
 * checked. */
static int pin_verify(X509_STORE_CTX *xs, void *arg)
{
	const struct tls_ctx *c = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *t = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	if (!t)
		return 0;
	if (!leaf || !tls_pins_match(&c->pins, leaf)) {
		pin_mismatch(t, leaf);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return c->report_failures;
	}
	t->pinned = true;
	if (c->cafile)
		return X509_verify_cert(xs) > 0 || c->report_failures;
	STACK_OF(X509) *anchor = sk_X509_new_null();
	if (!anchor || !sk_X509_push(anchor, leaf)) {
		sk_X509_free(anchor);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
		return 0;
	}
	/* The trusted set is the pinned certificate alone (borrowed: the
	 * store context frees neither the stack nor the certificate). */
	X509_STORE_CTX_set0_trusted_stack(xs, anchor);
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(xs), X509_V_FLAG_PARTIAL_CHAIN);
	int ok = X509_verify_cert(xs);
	sk_X509_free(anchor);
	return ok > 0 || c->report_failures;
}

static const struct stream_ops tls_ops, tls_ktls_ops;
static int tls_events(const struct stream *s, int want);
static size_t tls_pending(const struct stream *s);

static struct tls_conn *conn_of(const struct stream *s)
{
	return tls_is(s) ? s->priv : NULL;
}

bool tls_is(const struct stream *s)
{
	return s && (s->ops == &tls_ops || s->ops == &tls_ktls_ops);
}

/* The loop learns when what the fd must be watched for, or whether
 * bytes wait inside, changed. A stream off the loop (a thread or fork
 * handler's, waiting with stream_wait) has nothing registered to change. */
static void refresh(struct stream *s)
{
	struct tls_conn *t = s->priv;
	if (!s->want && !s->mask)
		return;
	bool p = tls_pending(s) > 0;
	int ev = tls_events(s, s->want);
	if (p != t->had_pending || ev != t->last_events) {
		t->had_pending = p;
		t->last_events = ev;
		stream_update(s);
	}
}

/* The peer's alert says it refused our certificate (or that it wanted
 * one): for a client, a problem of --cert, not of the connection. */
static bool cert_refused(unsigned long e)
{
	switch (ERR_GET_REASON(e)) {
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		return true;
	default:
		return false;
	}
}

/* A client: the server sent a CertificateRequest. A TLS 1.2 server
 * that then gets none (or one it refuses) may answer with a generic
 * handshake_failure alert; knowing it asked tells that apart from any
 * other handshake failure. */
static int cert_asked(SSL *ssl, void *arg)
{
	(void)arg;
	struct tls_conn *t = SSL_get_app_data(ssl);
	if (t)
		t->cert_asked = true;
	return 1;
}

/* Empties the error queue before a call whose failure is read from it.
 * On the per-record paths it is nearly always empty already, and
 * looking is cheaper than clearing (which resets every slot). */
static inline void err_reset(void)
{
	if (ERR_peek_error())
		ERR_clear_error();
}

/* A fatal failure: errno for the caller, the reason kept. */
static ssize_t conn_fail(struct tls_conn *t, int e, bool ssl_level)
{
	t->cert_refused = ssl_level && t->role == TLS_CLIENT && cert_refused(ERR_peek_error());
	if (ssl_level)
		ssl_err_text(NULL, t->why, sizeof t->why);
	else
		t->why[0] = 0;
	ERR_clear_error();
	t->dead = e;
	errno = e;
	return -1;
}

/* The read side ended (e: SSL_get_error's answer, not a WANT): the
 * peer's close_notify (0), a TCP close without one (a truncation, -1
 * EPROTO, or 0 if allowed), or a failure (-1 with errno). */
static ssize_t read_ended(struct tls_conn *t, int e)
{
	switch (e) {
	case SSL_ERROR_ZERO_RETURN: /* the peer's close_notify */
		t->eof = true;
		return 0;
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) != SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return conn_fail(t, EBADMSG, true);
		break;
	case SSL_ERROR_SYSCALL:
		if (errno && errno != EPIPE)
			return conn_fail(t, errno, false);
		break;
	default:
		return conn_fail(t, EBADMSG, true);
	}
	/* The TCP connection ended without close_notify: whatever came
	 * before may be cut short, unless the user accepts that. */
	ERR_clear_error();
	if (t->allow_truncation) {
		t->eof = true;
		return 0;
	}
	t->truncated = true;
	snprintf(t->why, sizeof t->why,
		 "the peer closed the connection without close_notify (the data may be truncated)");
	t->dead = EPROTO;
	errno = EPROTO;
	return -1;
}

static ssize_t tls_read(struct stream *s, void *buf, size_t n)
{
	struct tls_conn *t = s->priv;
	t->end_unread = false;
	if (t->eof)
		return 0;
	if (t->dead) {
		errno = t->dead;
		return -1;
	}
	size_t got;
	err_reset();
	errno = 0;
	int ok = SSL_read_ex(t->ssl, buf, n, &got);
	if (ok) {
		t->read_wants_write = false;
		t->starved = false;
		/* One call gives one record: take the records already read
		 * ahead too, so the engine moves big pieces. An end met on
		 * the way is kept for the next read (pending says so). */
		size_t more;
		while (got < n && SSL_has_pending(t->ssl)) {
			if (SSL_read_ex(t->ssl, (char *)buf + got, n - got, &more)) {
				got += more;
				continue;
			}
			int e = SSL_get_error(t->ssl, 0);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				int keep = errno;
				read_ended(t, e);
				t->end_unread = true;
				errno = keep;
			}
			break;
		}
		err_reset();
		refresh(s);
		return (ssize_t)got;
	}
	int e = SSL_get_error(t->ssl, ok);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		t->read_wants_write = e == SSL_ERROR_WANT_WRITE;
		t->starved = e == SSL_ERROR_WANT_READ;
		refresh(s);
		errno = EAGAIN;
		return -1;
	}
	ssize_t r = read_ended(t, e);
	int keep = errno;
	refresh(s);
	errno = keep;
	return r;
}

/* One SSL_write_ex (a record, with SSL_MODE_ENABLE_PARTIAL_WRITE). */
static ssize_t write_record(struct stream *s, const void *buf, size_t n)
{
	struct tls_conn *t = s->priv;
	size_t w;
	err_reset();
	int ok = SSL_write_ex(t->ssl, buf, n, &w);
	if (ok) {
		if (t->write_wants_read) {
			t->write_wants_read = false;
			refresh(s);
		}
		return (ssize_t)w;
	}
	int e = SSL_get_error(t->ssl, ok);
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		t->write_wants_read = e == SSL_ERROR_WANT_READ;
		refresh(s);
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		return conn_fail(t, errno ? errno : EPIPE, false);
	default:
		return conn_fail(t, EBADMSG, true);
	}
}

/* TCP_CORK on or off, for a TLS stream over TCP (else nothing). */
static void cork(struct stream *s, int on)
{
	if (s->flags & STREAM_F_SOCKET)
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

static ssize_t tls_write(struct stream *s, const void *buf, size_t n)
{
	struct tls_conn *t = s->priv;
	if (n == 0)
		return 0;
	if (t->dead) {
		errno = t->dead == EPROTO ? EPIPE : t->dead;
		return -1;
	}
	if (n <= TLS_RECORD)
		return write_record(s, buf, n);
	/* Several records: one system call each, but corked, so the kernel
	 * sends them in full segments and wakes the reader once per segment,
	 * not once per record. */
	const char *p = buf;
	size_t done = 0;
	cork(s, 1);
	while (done < n) {
		ssize_t w = write_record(s, p + done, n - done);
		if (w <= 0) {
			int e = errno;
			cork(s, 0);
			if (done) /* what was taken is reported; the error comes again */
				return (ssize_t)done;
			errno = e;
			return w;
		}
		done += (size_t)w;
	}
	cork(s, 0);
	return (ssize_t)done;
}

/* Small pieces are gathered into one record (a queue of short lines
 * would otherwise cost a record each); a big first piece goes alone.
 * A retry after EAGAIN gathers the same bytes again (the engine offers
 * what it offered before), which is what OpenSSL needs. */
#define TLS_GATHER     16384
static ssize_t tls_writev(struct stream *s, const struct iovec *iov, int iovcnt)
{
	int i = 0;
	while (i < iovcnt && !iov[i].iov_len)
		i++;
	if (i == iovcnt)
		return 0;
	if (iov[i].iov_len >= TLS_GATHER || i == iovcnt - 1)
		return tls_write(s, iov[i].iov_base, iov[i].iov_len);
	char buf[TLS_GATHER];
	size_t n = 0;
	for (; i < iovcnt && n < sizeof buf; i++) {
		size_t k = iov[i].iov_len;
		if (k > sizeof buf - n)
			k = sizeof buf - n;
		memcpy(buf + n, iov[i].iov_base, k);
		n += k;
	}
	return tls_write(s, buf, n);
}

static int tls_shutdown_write(struct stream *s)
{
	struct tls_conn *t = s->priv;
	if (t->shut_sent)
		return 0;
	if (t->dead) {
		errno = t->dead == EPROTO ? EPIPE : t->dead;
		return -1;
	}
	ERR_clear_error();
	/* Once: a second call would wait for the peer's close_notify,
	 * while the read side is to go on until the peer ends it. */
	int r = SSL_shutdown(t->ssl);
	if (r >= 0) {
		t->shut_sent = true;
		t->shut_pending = false;
		refresh(s);
		return 0;
	}
	int e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
		/* The alert waits for room: the stream sends it itself when
		 * the fd is writable (an engine may never ask again). */
		t->shut_pending = true;
		refresh(s);
		errno = EAGAIN;
		return -1;
	}
	conn_fail(t, e == SSL_ERROR_SYSCALL && errno ? errno : EPIPE, e == SSL_ERROR_SSL);
	return -1;
}

static void tls_close(struct stream *s)
{
	struct tls_conn *t = s->priv;
	if (!t)
		return;
	/* Closing the connection ends it as close(2) sends a FIN: with
	 * close_notify (once, never waiting), unless the handshake never
	 * finished, the connection failed, or it goes on in another process
	 * (stream_release). */
	if (SSL_is_init_finished(t->ssl) && !t->shut_sent && !t->dead &&
	    !(s->flags & STREAM_F_RELEASED)) {
		ERR_clear_error();
		SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
	SSL_free(t->ssl);
	if (t->inner) {
		if (s->flags & STREAM_F_RELEASED)
			stream_release(t->inner);
		else
			stream_close(t->inner);
	}
	free(t->host);
	free(t);
	s->priv = NULL;
}

static int tls_events(const struct stream *s, int want)
{
	const struct tls_conn *t = s->priv;
	int m = 0;
	if (want & STREAM_READ)
		m |= t->read_wants_write ? MUX_WRITE : MUX_READ;
	if (want & STREAM_WRITE)
		m |= t->write_wants_read ? MUX_READ : MUX_WRITE;
	if (t->shut_pending)
		m |= MUX_WRITE;
	/* Nested: m is what the records need from the inner stream (whose
	 * READ and WRITE are MUX_READ and MUX_WRITE), and it says what the
	 * fd must do for that. */
	if (t->inner && t->inner->ops->events)
		m = t->inner->ops->events(t->inner, m);
	return m;
}

static int tls_ready(struct stream *s, int fdmask)
{
	struct tls_conn *t = s->priv;
	/* Nested: what the inner stream may do now stands for the fd. */
	if (t->inner && t->inner->ops->ready)
		fdmask = t->inner->ops->ready(t->inner, fdmask);
	if (t->shut_pending && (fdmask & MUX_WRITE))
		tls_shutdown_write(s);
	if (fdmask & MUX_READ)
		t->starved = false;
	int r = 0;
	if (fdmask & (t->read_wants_write ? MUX_WRITE : MUX_READ))
		r |= STREAM_READ;
	if (fdmask & (t->write_wants_read ? MUX_READ : MUX_WRITE))
		r |= STREAM_WRITE;
	return r;
}

static size_t tls_pending(const struct stream *s)
{
	const struct tls_conn *t = s->priv;
	int n = SSL_pending(t->ssl);
	if (n > 0)
		return (size_t)n;
	if (t->end_unread)
		return 1; /* the end, for the next read to say */
	/* Nested: bytes the inner stream holds (decrypted records of the
	 * outer TLS) are there for the next read without the fd. */
	if (t->inner && stream_pending(t->inner))
		return 1;
	/* Records read ahead, not yet decrypted: at least a byte waits (or
	 * an end: the read says which), unless it is a record's beginning
	 * that waits for the fd (reporting it would spin the loop). */
	return !t->starved && SSL_has_pending(t->ssl) ? 1 : 0;
}

/* With kernel TLS sending, a file goes out without being read here. */
static ssize_t tls_sendfile(struct stream *s, int file_fd, size_t n)
{
	struct tls_conn *t = s->priv;
	off_t off = lseek(file_fd, 0, SEEK_CUR);
	if (off < 0)
		return -1;
	ossl_ssize_t r = SSL_sendfile(t->ssl, file_fd, off, n, 0);
	if (r < 0) {
		int e = SSL_get_error(t->ssl, (int)r);
		ERR_clear_error();
		if (e == SSL_ERROR_WANT_WRITE)
			errno = EAGAIN;
		else if (!errno)
			errno = EIO;
		return -1;
	}
	lseek(file_fd, off + r, SEEK_SET);
	return r;
}

static const struct stream_ops tls_ops = {
    .name = "tls",
    .read = tls_read,
    .write = tls_write,
    .writev = tls_writev,
    .shutdown_write = tls_shutdown_write,
    .close = tls_close,
    .events = tls_events,
    .ready = tls_ready,
    .pending = tls_pending,
};

static const struct stream_ops tls_ktls_ops = {
    .name = "tls",
    .read = tls_read,
    .write = tls_write,
    .writev = tls_writev,
    .shutdown_write = tls_shutdown_write,
    .close = tls_close,
    .events = tls_events,
    .ready = tls_ready,
    .pending = tls_pending,
    .sendfile = tls_sendfile,
};

/* ---- records through another stream ---- */

static bool again_errno(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static int inner_write(BIO *b, const char *buf, size_t n, size_t *done)
{
	BIO_clear_retry_flags(b);
	ssize_t w = stream_write(BIO_get_data(b), buf, n);
	if (w < 0) {
		if (again_errno())
			BIO_set_retry_write(b);
		return 0;
	}
	*done = (size_t)w;
	return 1;
}

static int inner_read(BIO *b, char *buf, size_t n, size_t *done)
{
	BIO_clear_retry_flags(b);
	ssize_t r = stream_read(BIO_get_data(b), buf, n);
	if (r < 0) {
		if (again_errno())
			BIO_set_retry_read(b);
		return 0;
	}
	if (r == 0) {
		errno = 0; /* an end, not a failure: as a TCP FIN */
		return 0;
	}
	*done = (size_t)r;
	return 1;
}

static long inner_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int inner_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* The one BIO type, made on first use and kept for the process. */
static BIO_METHOD *inner_method(void)
{
	static BIO_METHOD *m;
	if (!m && (m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "stream"))) {
		BIO_meth_set_write_ex(m, inner_write);
		BIO_meth_set_read_ex(m, inner_read);
		BIO_meth_set_ctrl(m, inner_ctrl);
		BIO_meth_set_create(m, inner_create);
	}
	return m;
}

static bool ip_literal(const char *h)
{
	unsigned char b[16];
	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

struct stream *tls_stream_new(struct tls_ctx *c, struct stream *plain, const char *host, char *err,
			      size_t errlen)
{
	struct loop *l = plain->loop;
	unsigned own = plain->flags & STREAM_F_OWN;
	/* Over a socket, OpenSSL reads and writes the fd itself; over any
	 * other stream (TLS to a TLS proxy, then TLS to the target through
	 * its tunnel), through a BIO that calls the stream. */
	struct stream *inner = plain->ops == &stream_fd_ops ? NULL : plain;
	int fd = inner ? inner->fd : stream_detach_fd(plain);
	if (fd < 0) {
		stream_close(plain);
		snprintf(err, errlen, "TLS: the connection is not a socket");
		return NULL;
	}
	struct stream *s = calloc(1, sizeof *s);
	struct tls_conn *t = calloc(1, sizeof *t);
	SSL *ssl = NULL;
	BIO *bio = NULL;
	ERR_clear_error();
	if (!s || !t || !(ssl = SSL_new(c->ctx))) {
		ssl_err_text("TLS", err, errlen);
		goto fail;
	}
	if (inner) {
		if (!inner_method() || !(bio = BIO_new(inner_method()))) {
			ssl_err_text("TLS", err, errlen);
			goto fail;
		}
		BIO_set_data(bio, inner);
		SSL_set_bio(ssl, bio, bio);
	} else if (!SSL_set_fd(ssl, fd)) {
		ssl_err_text("TLS", err, errlen);
		goto fail;
	}
	t->ssl = ssl;
	SSL_set_app_data(ssl, t);
	t->role = c->role;
	t->allow_truncation = c->allow_truncation;
	t->insecure = c->insecure;
	if (c->role == TLS_CLIENT) {
		SSL_set_connect_state(ssl);
		/* The name the certificate must carry: --sni's if given
		 * (the name the server is asked for), else the host. */
		const char *name = c->sni ? c->sni : host;
		if (name && !(t->host = strdup(name))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (name && !c->insecure) {
			int ok = ip_literal(name)
				     ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
				     : SSL_set1_host(ssl, name);
			if (ok != 1) {
				ssl_err_text("TLS: the name to verify", err, errlen);
				goto fail;
			}
			/* A wildcard must stand for one whole label. */
			SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		}
		/* SNI for every name, dot or not (localhost), never for an
		 * address: RFC 6066 allows host names only. */
		if (name && !c->no_sni && !ip_literal(name)) {
			if (SSL_set_tlsext_host_name(ssl, name) != 1) {
				ssl_err_text("TLS: SNI", err, errlen);
				goto fail;
			}
			t->sni_sent = true;
		}
	} else {
		SSL_set_accept_state(ssl);
	}
	s->ops = &tls_ops;
	s->loop = l;
	s->fd = fd;
	s->orig_fd = -1;
	s->flags = own | STREAM_F_SOCKET;
	s->priv = t;
	if (inner) {
		/* The TLS stream watches the fd from now on, mapping what it
		 * needs through the inner stream's own rules; the inner one
		 * keeps (and closes) the fd. */
		stream_want(inner, 0);
		stream_set_cb(inner, NULL, NULL);
		t->inner = inner;
		s->flags = inner->flags & STREAM_F_SOCKET;
	}
	return s;
fail:
	SSL_free(ssl);
	if (t)
		free(t->host);
	free(t);
	free(s);
	if (inner)
		stream_close(inner);
	else if (own)
		close(fd);
	return NULL;
}

bool tls_truncated(const struct stream *s)
{
	const struct tls_conn *t = conn_of(s);
	return t && t->truncated;
}

enum tls_err tls_failure(const struct stream *s)
{
	const struct tls_conn *t = conn_of(s);
	if (!t || !t->dead)
		return TLS_E_NONE;
	if (t->truncated)
		return TLS_E_TRUNCATED;
	if (t->cert_refused)
		return TLS_E_CERT;
	return t->why[0] ? TLS_E_HANDSHAKE : TLS_E_NONE;
}

const char *tls_error(const struct stream *s)
{
	const struct tls_conn *t = conn_of(s);
	return t && t->why[0] ? t->why : NULL;
}

void *tls_native(const struct stream *s)
{
	const struct tls_conn *t = conn_of(s);
	return t ? t->ssl : NULL;
}

static void name_text(X509_NAME *n, char *buf, size_t len);

bool tls_env_facts(const struct stream *s, char *version, size_t vlen, char *cipher, size_t clen,
		   char *subject, size_t slen)
{
	const struct tls_conn *t = conn_of(s);
	snprintf(version, vlen, "%s", t ? SSL_get_version(t->ssl) : "");
	snprintf(cipher, clen, "%s", t ? SSL_get_cipher_name(t->ssl) : "");
	tls_peer_subject(s, subject, slen);
	return t != NULL;
}

bool tls_peer_subject(const struct stream *s, char *buf, size_t len)
{
	const struct tls_conn *t = conn_of(s);
	if (len)
		*buf = 0;
	X509 *peer = t ? SSL_get0_peer_certificate(t->ssl) : NULL;
	/* Only a certificate the handshake checked names anyone. */
	if (!peer || !len || SSL_get_verify_result(t->ssl) != X509_V_OK ||
	    SSL_get_verify_mode(t->ssl) == SSL_VERIFY_NONE)
		return false;
	name_text(X509_get_subject_name(peer), buf, len);
	return *buf != 0;
}

void tls_report(const struct stream *s, struct sbuf *out, bool json, time_t now)
{
	const struct tls_conn *t = conn_of(s);
	if (!t)
		return;
	SSL *ssl = t->ssl;
	const unsigned char *a;
	unsigned alen;
	SSL_get0_alpn_selected(ssl, &a, &alen);
	char alpn[256];
	snprintf(alpn, sizeof alpn, "%.*s", (int)alen, alen ? (const char *)a : "");
	struct tls_facts f = {.version = SSL_get_version(ssl),
			      .cipher = SSL_get_cipher_name(ssl),
			      .alpn = alen ? alpn : NULL,
			      .sni = t->sni_sent ? t->host : NULL};
	if (t->verdict != TLS_E_NONE) {
		f.verify = TLS_VERIFY_FAILED;
		f.verify_reason = t->verdict_why;
	} else if (t->insecure && !t->pinned) {
		f.verify = TLS_VERIFY_SKIPPED;
	} else {
		f.verify = TLS_VERIFY_OK;
		if (t->insecure)
			f.verify_reason = "the public key pin matched; the chain was not verified "
					  "(--insecure)";
	}
	tls_cert_info(out, &f, SSL_get_peer_cert_chain(ssl), now,
		      json ? TLS_INFO_JSON : TLS_INFO_TEXT);
}

bool tls_peer_days_left(const struct stream *s, time_t now, long *days)
{
	const struct tls_conn *t = conn_of(s);
	X509 *leaf = t ? SSL_get0_peer_certificate(t->ssl) : NULL;
	return leaf && tls_cert_days_left(leaf, now, days);
}

bool tls_ktls_send(const struct stream *s)
{
	const struct tls_conn *t = conn_of(s);
	return t && BIO_get_ktls_send(SSL_get_wbio(t->ssl)) > 0;
}

bool tls_ktls_recv(const struct stream *s)
{
	const struct tls_conn *t = conn_of(s);
	return t && BIO_get_ktls_recv(SSL_get_rbio(t->ssl)) > 0;
}

const char *tls_lib_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

const char *tls_lib_build_version(void)
{
	return OPENSSL_VERSION_TEXT;
}

bool tls_lib_ktls(void)
{
#ifdef OPENSSL_NO_KTLS
	return false;
#else
	return true;
#endif
}

/* A name in one line (RFC 2253: "CN=localhost,O=Test"). */
static void name_text(X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) < 0) {
		snprintf(buf, len, "?");
		BIO_free(b);
		return;
	}
	char *p;
	long k = BIO_get_mem_data(b, &p);
	snprintf(buf, len, "%.*s", (int)(k > 0 ? k : 0), p);
	BIO_free(b);
}

void tls_summary(const struct stream *s, char *buf, size_t len)
{
	const struct tls_conn *t = conn_of(s);
	if (!t) {
		if (len)
			*buf = 0;
		return;
	}
	SSL *ssl = t->ssl;
	char subj[256] = "";
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (peer)
		name_text(X509_get_subject_name(peer), subj, sizeof subj);
	const char *ver;
	if (!peer)
		ver = t->role == TLS_SERVER ? "no client certificate" : "no certificate";
	else if (t->role == TLS_CLIENT && t->insecure)
		ver = "not verified (--insecure)";
	else if (SSL_get_verify_result(ssl) == X509_V_OK && t->role == TLS_CLIENT && !t->host)
		ver = "chain verified, no name to check it against (give --sni NAME)";
	else if (SSL_get_verify_result(ssl) == X509_V_OK)
		ver = "verified";
	else
		ver = X509_verify_cert_error_string(SSL_get_verify_result(ssl));
	const char *pin = t->pinned		    ? ", pin matched"
			  : t->verdict == TLS_E_PIN ? ", pin mismatch"
						    : "";
	int o =
	    snprintf(buf, len, "%s %s, %s%s%s%s%s", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
		     peer ? "peer " : "", subj, peer ? ", " : "", ver, pin);
	if (o < 0 || (size_t)o >= len)
		return;
	const unsigned char *a;
	unsigned alen;
	SSL_get0_alpn_selected(ssl, &a, &alen);
	if (t->role == TLS_SERVER) {
		const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		o += snprintf(buf + o, len - (size_t)o, ", SNI %s", sni ? sni : "none");
	}
	if (o >= 0 && (size_t)o < len && (alen || t->role == TLS_SERVER))
		o += snprintf(buf + o, len - (size_t)o, ", ALPN %.*s", alen ? (int)alen : 4,
			      alen ? (const char *)a : "none");
	if (o >= 0 && (size_t)o < len && (tls_ktls_send(s) || tls_ktls_recv(s)))
		snprintf(buf + o, len - (size_t)o, ", kernel TLS%s%s",
			 tls_ktls_send(s) ? " send" : "", tls_ktls_recv(s) ? " recv" : "");
}

/* ---- the handshake stage ---- */

struct tls_handshake {
	struct loop *loop;
	struct tls_ctx *ctx; /* not owned */
	struct stream *s;    /* the TLS stream being set up; owned */
	struct timer deadline;
	int timeout_ms;
	tls_handshake_cb cb;
	void *arg;
};

static void hs_finish(struct tls_handshake *h, struct stream *s, enum tls_err kind,
		      const char *text)
{
	struct loop *l = h->loop;
	tls_handshake_cb cb = h->cb;
	void *arg = h->arg;
	loop_timer_stop(l, &h->deadline);
	h->s = NULL;
	free(h);
	cb(l, s, kind, text, arg);
}

/* Who the peer is, for the failure and summary lines. */
static void peer_name(const struct stream *s, char *buf, size_t len)
{
	const struct tls_conn *t = s->priv;
	struct sock_addr a;
	if (t->host) {
		snprintf(buf, len, "%s", t->host);
	} else if (sock_peer_addr(s->fd, &a) == 0) {
		sock_addr_str((struct sockaddr *)&a.ss, a.len, buf, len);
	} else {
		snprintf(buf, len, "the peer");
	}
}

/* A server's connection whose handshake failed: the alert has gone
 * out; what the client sent meanwhile (TLS 1.3 clients send data before
 * the server has checked their certificate) is read and dropped for a
 * moment before the close. Closing with it unread would be a reset, and
 * a reset makes the client's kernel discard the alert before the client
 * has read why. */
#define TLS_LINGER_MS 1000

struct tls_linger {
	struct tls_ctx *ctx; /* whose list it is on */
	struct stream *s;    /* the plain socket; owned */
	struct timer t;
	struct tls_linger *prev, *next;
};

static void linger_end(struct tls_linger *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else
		g->ctx->lingers = g->next;
	if (g->next)
		g->next->prev = g->prev;
	loop_timer_stop(g->s->loop, &g->t);
	stream_close(g->s);
	free(g);
}

static void linger_io(struct stream *s, int ready, void *arg)
{
	(void)ready;
	char b[4096];
	ssize_t n;
	while ((n = stream_read(s, b, sizeof b)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		linger_end(arg);
}

static void linger_timeout(struct loop *l, void *arg)
{
	(void)l;
	linger_end(arg);
}

static void linger_close(struct tls_ctx *c, struct stream *s)
{
	struct loop *l = s->loop;
	int fd = s->fd;
	if (!(s->flags & STREAM_F_OWN)) {
		stream_close(s);
		return;
	}
	/* The TLS state goes, the socket stays for the linger. */
	s->flags &= ~STREAM_F_OWN;
	stream_close(s);
	struct tls_linger *g = calloc(1, sizeof *g);
	struct stream *p = g ? stream_socket_new(l, fd, STREAM_F_OWN) : NULL;
	if (!p) {
		free(g);
		close(fd);
		return;
	}
	g->s = p;
	g->ctx = c;
	g->next = c->lingers;
	if (c->lingers)
		c->lingers->prev = g;
	c->lingers = g;
	timer_init(&g->t, linger_timeout, g);
	stream_shutdown_write(p);
	stream_set_cb(p, linger_io, g);
	if (stream_want(p, STREAM_READ) < 0) {
		linger_end(g);
		return;
	}
	loop_timer_start(l, &g->t, TLS_LINGER_MS);
}

static void hs_failed(struct tls_handshake *h, int sslerr)
{
	struct stream *s = h->s;
	struct tls_conn *t = s->priv;
	char why[300], text[900];
	enum tls_err kind = TLS_E_HANDSHAKE;
	long vr = SSL_get_verify_result(t->ssl);
	/* A server verifies only with client_ca; a client unless insecure. */
	if (t->verdict == TLS_E_PIN) {
		kind = TLS_E_PIN;
		snprintf(why, sizeof why, "%s", t->verdict_why);
		ERR_clear_error();
	} else if (vr != X509_V_OK && (t->role == TLS_SERVER || !t->insecure)) {
		kind = TLS_E_VERIFY;
		snprintf(why, sizeof why, "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
		ERR_clear_error();
	} else if (t->role == TLS_CLIENT && sslerr == SSL_ERROR_SSL &&
		   cert_refused(ERR_peek_error())) {
		kind = TLS_E_CERT;
		ssl_err_text("the server refused our certificate", why, sizeof why);
	} else if (t->role == TLS_CLIENT && sslerr == SSL_ERROR_SSL && t->cert_asked &&
		   ERR_GET_REASON(ERR_peek_error()) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE) {
		kind = TLS_E_CERT;
		ssl_err_text(
		    SSL_get_certificate(t->ssl)
			? "the server asked for a client certificate and refused ours"
			: "the server asked for a client certificate (give --cert and --key)",
		    why, sizeof why);
	} else if (sslerr == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
		snprintf(why, sizeof why, "%s",
			 errno && errno != EPIPE ? strerror(errno)
						 : "the peer closed the connection");
	} else {
		ssl_err_text(NULL, why, sizeof why);
	}
	char peer[SOCK_ADDRSTRLEN + 8];
	peer_name(s, peer, sizeof peer);
	snprintf(text, sizeof text, "TLS handshake with %s failed: %s", peer, why);
	if (t->role == TLS_SERVER)
		linger_close(h->ctx, s);
	else
		stream_close(s);
	hs_finish(h, NULL, kind, text);
}

/* A client's verdict on the server once the handshake is done: the
 * chain (a failure got this far only with report_failures), then the
 * pins, which hold with insecure too. */
static enum tls_err client_verdict(const struct tls_ctx *c, struct tls_conn *t)
{
	if (t->verdict != TLS_E_NONE)
		return t->verdict; /* the pin, in the verification */
	long vr = t->verr ? t->verr : SSL_get_verify_result(t->ssl);
	if (!c->insecure && vr != X509_V_OK) {
		snprintf(t->verdict_why, sizeof t->verdict_why, "%s",
			 X509_verify_cert_error_string(vr));
		return t->verdict = TLS_E_VERIFY;
	}
	/* insecure: nothing verified, but the pin still holds. */
	if (!c->pins.n || t->pinned)
		return TLS_E_NONE;
	X509 *leaf = SSL_get0_peer_certificate(t->ssl);
	if (leaf && tls_pins_match(&c->pins, leaf)) {
		t->pinned = true;
		return TLS_E_NONE;
	}
	pin_mismatch(t, leaf);
	return TLS_E_PIN;
}

static void hs_step(struct tls_handshake *h)
{
	struct stream *s = h->s;
	struct tls_conn *t = s->priv;
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		stream_want(s, 0);
		stream_set_cb(s, NULL, NULL);
		if (tls_ktls_send(s))
			s->ops = &tls_ktls_ops, s->flags |= STREAM_F_SENDFILE;
		enum tls_err kind = t->role == TLS_CLIENT ? client_verdict(h->ctx, t) : TLS_E_NONE;
		char peer[SOCK_ADDRSTRLEN + 8];
		if (log_wants(LOG_LVL_INFO)) {
			char sum[600];
			tls_summary(s, sum, sizeof sum);
			peer_name(s, peer, sizeof peer);
			log_info("TLS with %s: %s", peer, sum);
		}
		if (kind == TLS_E_NONE) {
			hs_finish(h, s, TLS_E_NONE, NULL);
			return;
		}
		peer_name(s, peer, sizeof peer);
		char text[SOCK_ADDRSTRLEN + 300];
		snprintf(text, sizeof text, "TLS handshake with %s failed: %s%s", peer,
			 kind == TLS_E_VERIFY ? "certificate verify failed: " : "", t->verdict_why);
		if (!h->ctx->report_failures) {
			stream_close(s);
			s = NULL;
		}
		hs_finish(h, s, kind, text);
		return;
	}
	int e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (stream_want(s, e == SSL_ERROR_WANT_READ ? STREAM_READ : STREAM_WRITE) < 0) {
			char text[300];
			snprintf(text, sizeof text, "TLS handshake: %s", strerror(errno));
			stream_close(s);
			hs_finish(h, NULL, TLS_E_HANDSHAKE, text);
		}
		return;
	}
	hs_failed(h, e);
}

static void hs_on_io(struct stream *s, int ready, void *arg)
{
	(void)s;
	(void)ready;
	hs_step(arg);
}

static void hs_on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct tls_handshake *h = arg;
	char text[600], peer[SOCK_ADDRSTRLEN + 8];
	peer_name(h->s, peer, sizeof peer);
	snprintf(text, sizeof text, "TLS handshake with %s timed out after %.3g s", peer,
		 (double)h->timeout_ms / 1000.0);
	stream_close(h->s);
	hs_finish(h, NULL, TLS_E_TIMEOUT, text);
}

struct tls_handshake *tls_handshake_start(struct loop *l, struct tls_ctx *ctx, struct stream *plain,
					  const char *host, int timeout_ms, tls_handshake_cb cb,
					  void *arg, char *err, size_t errlen)
{
	struct tls_handshake *h = calloc(1, sizeof *h);
	if (!h) {
		stream_close(plain);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->s = tls_stream_new(ctx, plain, host, err, errlen);
	if (!h->s) {
		free(h);
		return NULL;
	}
	h->loop = l;
	h->ctx = ctx;
	h->cb = cb;
	h->arg = arg;
	h->timeout_ms = timeout_ms;
	timer_init(&h->deadline, hs_on_deadline, h);
	stream_set_cb(h->s, hs_on_io, h);
	/* The first step runs from the loop (the callback is never called
	 * from here): a client's hello can be written at once, a server
	 * waits for the client's. */
	if (stream_want(h->s, ctx->role == TLS_CLIENT ? STREAM_WRITE : STREAM_READ) < 0) {
		snprintf(err, errlen, "TLS: %s", strerror(errno));
		stream_close(h->s);
		free(h);
		return NULL;
	}
	if (timeout_ms > 0)
		loop_timer_start(l, &h->deadline, timeout_ms);
	return h;
}

void tls_handshake_cancel(struct tls_handshake *h)
{
	if (!h)
		return;
	loop_timer_stop(h->loop, &h->deadline);
	stream_close(h->s);
	free(h);
}

#endif /* HAVE_OPENSSL */
