/* TLS certificates, without any I/O on a connection: a temporary server
 * certificate, SPKI pins (sha256//BASE64, what curl --pinnedpubkey and
 * HPKP use), the report behind --cert-info[=json], and loading a PEM
 * certificate chain with its key.
 *
 * Library code over OpenSSL 3's libcrypto: it never prints and never
 * exits; a failure comes back as -1 with one line of text in the caller's
 * err buffer (no trailing newline, no "sockctl:" prefix). Everything here
 * exists only when configure found OpenSSL (HAVE_OPENSSL).
 *
 * Ownership: every X509 / EVP_PKEY / STACK_OF(X509) passed IN is borrowed
 * (nothing here frees or keeps it); what comes OUT in a struct
 * tls_cert_pair is the caller's, freed with tls_cert_pair_free(). */
#ifndef SOCKCTL_TLS_CERT_H
#define SOCKCTL_TLS_CERT_H

#ifdef HAVE_OPENSSL

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/sbuf.h"

/* ---- certificate + key ---- */

/* A leaf certificate, the certificates that followed it in its file (the
 * chain to send after it; empty, never NULL, after a success) and its
 * private key. For SSL_CTX_use_certificate(leaf), SSL_CTX_add1_chain_cert
 * for each of chain, SSL_CTX_use_PrivateKey(key). */
struct tls_cert_pair {
	X509 *leaf;
	STACK_OF(X509) * chain;
	EVP_PKEY *key;
	unsigned warn; /* TLS_CERT_WARN_*: loaded, but worth one line */
};
#define TLS_CERT_WARN_EXPIRED	    1u /* leaf's notAfter is before now */
#define TLS_CERT_WARN_NOT_YET_VALID 2u /* leaf's notBefore is after now */

/* Frees what *p holds and zeroes it (NULL p or an empty pair is fine). */
void tls_cert_pair_free(struct tls_cert_pair *p);

/* Reads cert_file (PEM: the leaf first, then any chain certificates) and
 * key_file (a PEM private key: PKCS#8, traditional RSA/EC; NULL: the key
 * is in cert_file too). Returns 0 and fills *out, or -1 with one line in
 * err naming the file and what is wrong: missing or unreadable (the
 * system's reason), a directory, not PEM (DER is named as such), PEM
 * without a certificate / without a private key, an encrypted key (no
 * passphrase is ever asked for: the library has no terminal), a key that
 * does not match the leaf. An expired or not yet valid leaf (at now) is
 * NOT an error: 0 comes back with out->warn set and the warning line in
 * err (err is "" when warn is 0). */
int tls_cert_load_pair(const char *cert_file, const char *key_file, time_t now,
		       struct tls_cert_pair *out, char *err, size_t errlen);

/* A temporary server certificate: a new P-256 key and a self-signed X.509
 * v3 certificate, random 128-bit serial, valid from now - 1 hour for
 * TLS_CERT_TEMP_DAYS days, subject and issuer CN=sockctl temporary,
 * basicConstraints critical CA:FALSE, keyUsage critical digitalSignature,
 * extendedKeyUsage serverAuth, subjectKeyIdentifier, and a subjectAltName
 * of the dns names and ips (IPv4 or IPv6 literals) given (at least one of
 * the two; a duplicate is listed once). It verifies with `openssl verify
 * -partial_chain -CAfile cert.pem cert.pem` and a client that pins it
 * (tls_pin_of) connects verified. out->chain is empty. Returns 0, or -1
 * with err (a bad IP literal, an empty or overlong name, OpenSSL). */
#define TLS_CERT_TEMP_DAYS 30
int tls_cert_temporary(const char *const *dns, size_t ndns, const char *const *ips, size_t nips,
		       time_t now, struct tls_cert_pair *out, char *err, size_t errlen);

/* tls_cert_temporary() for a server bound to the nbound addresses (AF_INET
 * / AF_INET6; others are skipped): their addresses, "localhost", the
 * loopback address of each wildcard's family (127.0.0.1 for 0.0.0.0; ::1
 * and 127.0.0.1 for ::, which takes IPv4 too unless V6ONLY), and
 * hostname when not NULL or empty (the caller's gethostname()). */
int tls_cert_temporary_for(const struct sockaddr *const *bound, size_t nbound, const char *hostname,
			   time_t now, struct tls_cert_pair *out, char *err, size_t errlen);

/* The certificate as PEM text appended to out (for a file a peer reads). */
void tls_cert_pem(X509 *cert, struct sbuf *out);

/* ---- SPKI pins ---- */

/* "sha256//" + 44 base64 characters + NUL. */
#define TLS_PIN_STRLEN 53

/* SHA-256 of the DER SubjectPublicKeyInfo of cert, which is what a pin
 * names. Returns 0, or -1 when the key cannot be encoded. */
int tls_pin_sha256(X509 *cert, unsigned char sha[32]);
/* The pin of cert as "sha256//BASE64" in out (TLS_PIN_STRLEN bytes):
 * the same text as `openssl x509 -pubkey | openssl pkey -pubin -outform
 * der | openssl dgst -sha256 -binary | base64`, accepted by curl
 * --pinnedpubkey. Returns 0, or -1 (out is then ""). */
int tls_pin_of(X509 *cert, char out[TLS_PIN_STRLEN]);
/* The text of a pin from its 32 bytes. */
void tls_pin_format(const unsigned char sha[32], char out[TLS_PIN_STRLEN]);

/* A set of pins (the --pin values). Empty after tls_pins_init(). */
struct tls_pins {
	unsigned char (*sha256)[32];
	size_t n;
};
void tls_pins_init(struct tls_pins *ps);
void tls_pins_free(struct tls_pins *ps);
/* Adds the pins of one option value: "sha256//BASE64", several separated
 * by ';' as curl takes them (the option may also be repeated: call this
 * once per value). Strict: every element must be exactly "sha256//" and
 * 44 characters of standard padded base64 of 32 bytes; an empty element,
 * spaces, another prefix, a bad character, a wrong length or non-zero
 * padding bits are refused with err naming the element and the fault.
 * Returns 0 (all added) or -1 (none added). */
int tls_pins_add(struct tls_pins *ps, const char *value, char *err, size_t errlen);
/* Whether the public key of leaf (the peer's end-entity certificate, as
 * SSL_get0_peer_certificate gives it) is in ps. Only the leaf is matched,
 * as curl does, on purpose: the peer proves it holds the leaf's key in
 * the handshake, but any other certificate it sends is just a copy
 * anyone can include, so matching those would let a server that is not
 * the pinned one pass by appending the pinned certificate to its chain
 * (and with --insecure nothing else checks that chain). To pin a CA,
 * use --cacert with that CA instead. */
bool tls_pins_match(const struct tls_pins *ps, X509 *leaf);

/* ---- the certificate report (--cert-info[=json], --expires-within) ---- */

/* Whole days from now until cert's notAfter, rounded down (floor), so it
 * is negative once expired and 0 in the last day. Returns false when the
 * certificate's notAfter cannot be read (then *days is untouched). */
bool tls_cert_days_left(X509 *cert, time_t now, long *days);

enum tls_verify_result {
	TLS_VERIFY_OK,	    /* chain and name verified (or the pin matched) */
	TLS_VERIFY_FAILED,  /* verification failed (reason says why) */
	TLS_VERIFY_SKIPPED, /* not verified (--insecure) */
};

/* What the handshake settled, filled by the caller (SSL_get_version,
 * SSL_get_cipher_name, SSL_get0_alpn_selected, the SNI it sent,
 * SSL_get_verify_result + X509_verify_cert_error_string). A NULL string
 * means none (no ALPN agreed, no SNI sent, no reason). */
struct tls_facts {
	const char *version;
	const char *cipher;
	const char *alpn;
	const char *sni;
	enum tls_verify_result verify;
	const char *verify_reason;
};

enum tls_info_format { TLS_INFO_TEXT, TLS_INFO_JSON };

/* Appends the report to out: the handshake facts (facts may be NULL to
 * leave them out), then every certificate of chain in order (the peer's
 * chain, leaf first, as SSL_get_peer_cert_chain gives it on a client; a
 * server must put the leaf first itself; chain may be NULL or empty).
 * TLS_INFO_TEXT is one block for a person, ending in a newline; every
 * byte taken from a certificate is shown printable (\xHH otherwise).
 * TLS_INFO_JSON is ONE JSON object on one line ending in a newline:
 *   {"version":S,"cipher":S,"alpn":S|null,"sni":S|null,
 *    "verification":{"result":"ok"|"failed"|"skipped","reason":S|null},
 *    "certificates":[CERT,...]}
 * with CERT:
 *   {"subject":S,"issuer":S (RFC 2253, one line),"dns":[S...],"ip":[S...],
 *    "not_before":S,"not_after":S (ISO 8601 UTC, "2025-01-31T12:00:00Z"),
 *    "days_left":N|null,
 *    "status":"valid"|"expired"|"not yet valid"|"unknown",
 *    "pin":"sha256//..."|null,"serial":"HEX","signature_algorithm":S,
 *    "key_type":S|null,"key_bits":N|null,"key_group":S|null}
 * (null where the certificate does not say or cannot be decoded). The
 * output is valid JSON whatever the certificate holds. out->oom is set when
 * the report did not fit (SBUF_MAX): print nothing then. now is the time
 * days_left and status are counted from. */
void tls_cert_info(struct sbuf *out, const struct tls_facts *facts, STACK_OF(X509) * chain,
		   time_t now, enum tls_info_format fmt);
/* One certificate of the report alone: a CERT object (JSON) or the
 * indented block headed "certificate INDEX:" (text). */
void tls_cert_info_one(struct sbuf *out, X509 *cert, size_t index, time_t now,
		       enum tls_info_format fmt);

#endif /* HAVE_OPENSSL */
#endif
