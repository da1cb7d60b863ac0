/* The TLS options every command shares, in one place: their table,
 * their help text, the checks, the net/tls config they fill, the
 * context made from it, and the exit codes TLS failures map to. A
 * command includes TLSOPT_CLIENT_LONGOPTS or TLSOPT_SERVER_LONGOPTS and
 * hands every option to tlsopt_handle. */
#ifndef SOCKCTL_TLSOPTS_H
#define SOCKCTL_TLSOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "net/tls.h"

enum {
	TOPT_TLS = 0x1300,
	TOPT_CACERT,
	TOPT_INSECURE,
	TOPT_SNI,
	TOPT_NO_SNI,
	TOPT_ALPN,
	TOPT_CERT,
	TOPT_KEY,
	TOPT_TLS_MIN,
	TOPT_TLS_MAX,
	TOPT_CIPHERS,
	TOPT_CIPHERSUITES,
	TOPT_CLIENT_CA,
	TOPT_HANDSHAKE_TIMEOUT,
	TOPT_ALLOW_TRUNCATION,
	TOPT_PIN,
};

/* Exit codes of TLS failures, curl's where the meaning is the same. */
enum {
	EXIT_TLS_HANDSHAKE = 35, /* the handshake failed or timed out */
	EXIT_TLS_RECV = 56,	 /* the peer closed without close_notify (truncation) */
	EXIT_TLS_CERT = 58,   /* our certificate or key (--cert, --key), or the peer refused it */
	EXIT_TLS_VERIFY = 60, /* the peer's certificate did not verify */
	EXIT_TLS_CAFILE = 77, /* --cacert, --client-ca cannot be loaded */
	EXIT_TLS_PIN = 90,    /* the server's public key matches no --pin */
};

#define TLSOPT_COMMON_LONGOPTS                                                                     \
	{"tls", no_argument, NULL, TOPT_TLS}, {"alpn", required_argument, NULL, TOPT_ALPN},        \
	    {"cert", required_argument, NULL, TOPT_CERT},                                          \
	    {"key", required_argument, NULL, TOPT_KEY},                                            \
	    {"tls-min", required_argument, NULL, TOPT_TLS_MIN},                                    \
	    {"tls-max", required_argument, NULL, TOPT_TLS_MAX},                                    \
	    {"ciphers", required_argument, NULL, TOPT_CIPHERS},                                    \
	    {"ciphersuites", required_argument, NULL, TOPT_CIPHERSUITES},                          \
	{                                                                                          \
		"handshake-timeout", required_argument, NULL, TOPT_HANDSHAKE_TIMEOUT               \
	}
/* A client: -k where the command has no -k of its own (map it to
 * TOPT_INSECURE before tlsopt_handle). */
#define TLSOPT_CLIENT_LONGOPTS                                                                     \
	TLSOPT_COMMON_LONGOPTS, {"cacert", required_argument, NULL, TOPT_CACERT},                  \
	    {"insecure", no_argument, NULL, TOPT_INSECURE},                                        \
	    {"sni", required_argument, NULL, TOPT_SNI},                                            \
	    {"no-sni", no_argument, NULL, TOPT_NO_SNI},                                            \
	    {"pin", required_argument, NULL, TOPT_PIN},                                            \
	{                                                                                          \
		"tls-allow-truncation", no_argument, NULL, TOPT_ALLOW_TRUNCATION                   \
	}
#define TLSOPT_SERVER_LONGOPTS                                                                     \
	TLSOPT_COMMON_LONGOPTS,                                                                    \
	{                                                                                          \
		"client-ca", required_argument, NULL, TOPT_CLIENT_CA                               \
	}

#define TLSOPT_COMMON_HELP                                                                         \
	"      --alpn LIST      ALPN protocols, comma separated (h2,http/1.1)\n"                   \
	"      --tls-min V, --tls-max V  protocol versions: 1.2 or 1.3\n"                          \
	"      --ciphers LIST   TLS 1.2 cipher list (OpenSSL syntax)\n"                            \
	"      --ciphersuites LIST  TLS 1.3 cipher suites (TLS_AES_128_GCM_SHA256:...)\n"          \
	"      --handshake-timeout SECS  give up a handshake after SECS (default 10)\n"
#define TLSOPT_CLIENT_HELP                                                                         \
	"TLS (see sockctl(1), TLS):\n"                                                             \
	"      --tls            TLS over the connection; the server's certificate is\n"            \
	"                       verified against the system store and HOST\n"                      \
	"      --cacert FILE|DIR  verify against these CA certificates instead\n"                  \
	"  -k, --insecure       do not verify the server's certificate\n"                          \
	"      --sni NAME       send NAME as SNI and verify the certificate for it\n"              \
	"      --no-sni         send no SNI (never sent for an IP address)\n"                      \
	"      --pin sha256//BASE64  the server's public key must be this one (SPKI\n"             \
	"                       pin; several: repeat or separate with ';'; exit 90\n"              \
	"                       when none matches); without --cacert it needs no CA,\n"            \
	"                       but its dates and names count unless -k\n"                         \
	"      --cert FILE, --key FILE  client certificate (PEM) and its key\n"                    \
	"      --tls-allow-truncation  a close without close_notify is the end of\n"               \
	"                       input, not an error (exit 56)\n" TLSOPT_COMMON_HELP
#define TLSOPT_SERVER_HELP                                                                         \
	"TLS (see sockctl(1), TLS):\n"                                                             \
	"      --tls            TLS on every connection; without --cert, with a\n"                 \
	"                       temporary certificate whose pin the readiness line shows\n"        \
	"      --cert FILE, --key FILE  the server's certificate (PEM, chain allowed)\n"           \
	"                       and key (without --key: in FILE too)\n"                            \
	"      --client-ca FILE require client certificates verified against "                     \
	"FILE\n" TLSOPT_COMMON_HELP

struct tlsopts {
	bool on;	       /* --tls */
	const char *first;     /* the first TLS option given, for messages */
	struct tls_config cfg; /* what the options say (role set by tlsopt_check) */
	int handshake_ms;      /* --handshake-timeout; default 10 s */
	struct tls_pins *pins; /* --pin; owned */
	/* A server's certificate and key in memory (owned), and the pin of
	 * a temporary one for the readiness line ("" otherwise). */
	struct tls_cert_pair *pair;
	char pin[64];
	/* The options' names in messages carry this after "--" ("target-":
	 * forward's --target-tls, --target-pin, ...); NULL: none. */
	const char *prefix;
	char first_buf[48];
};

/* One option: 1 if handled, 0 if not a TLS option, -1 after a usage
 * error was printed. A build without TLS refuses them all, with one
 * line. */
int tlsopt_handle(struct tlsopts *t, int c, const char *arg);
/* A build without TLS refusing a command's own TLS option NAME ("--cert-info"):
 * the one line, then -1. */
int tlsopt_no_tls(const char *name);
/* After the options: 0, or EXIT_USAGE after the message (a TLS option
 * without --tls). */
int tlsopt_check(struct tlsopts *t, enum tls_role role);
/* The context (NULL without --tls, or on failure with *status the exit
 * code after the message). */
struct tls_ctx *tlsopt_ctx(struct tlsopts *t, int *status);
/* A server's context, made after the listening socket is bound: from
 * --cert/--key (a certificate that is expired or not yet valid gets one
 * warning line), or, without --cert, from a temporary certificate for
 * the nbound addresses bound (and localhost, and this host's name),
 * whose pin goes to t->pin. NULL without --tls, or on failure with
 * *status the exit code after the message. */
struct tls_ctx *tlsopt_server_ctx(struct tlsopts *t, const struct sockaddr *const *bound,
				  size_t nbound, int *status);
/* What the readiness line adds within its parentheses: ", tls pin
 * sha256//..." with a temporary certificate (a client needs it to
 * verify), "" otherwise. */
const char *tlsopt_ready_note(const struct tlsopts *t);
/* Frees what the options hold (after the context is freed). */
void tlsopt_free(struct tlsopts *t);
/* The exit code for a TLS failure. */
int tlsopt_exit(enum tls_err kind);

#endif
