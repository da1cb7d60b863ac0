/* TLS certificates: the temporary server certificate, SPKI pins, the
 * --cert-info report and loading PEM files. See tls_cert.h. */
#include "config.h"

#ifdef HAVE_OPENSSL

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "net/tls_cert.h"

/* The reason of OpenSSL's latest error, for the end of an error line. */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : "unknown error";
}

void tls_cert_pair_free(struct tls_cert_pair *p)
{
	if (!p)
		return;
	X509_free(p->leaf);
	sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->key);
	memset(p, 0, sizeof *p);
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (no time_t
 * overflow, no timegm() -1 ambiguity). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool asn1_time_epoch(const ASN1_TIME *t, int64_t *secs, struct tm *tm)
{
	if (!t || !ASN1_TIME_to_tm(t, tm))
		return false;
	*secs = days_from_civil((int64_t)tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday) * 86400 +
		tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
	return true;
}

static int64_t floor_days(int64_t secs)
{
	return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}

bool tls_cert_days_left(X509 *cert, time_t now, long *days)
{
	int64_t na;
	struct tm tm;
	if (!cert || !asn1_time_epoch(X509_get0_notAfter(cert), &na, &tm))
		return false;
	*days = (long)floor_days(na - (int64_t)now);
	return true;
}

/* Room for any int fields, so the compiler can prove no truncation. */
#define ISO_STRLEN 80
static void iso8601(char out[ISO_STRLEN], const struct tm *tm)
{
	snprintf(out, ISO_STRLEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm->tm_year + 1900,
		 tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec);
}

/* ---- pins ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int tls_pin_sha256(X509 *cert, unsigned char sha[32])
{
	unsigned char *der = NULL;
	X509_PUBKEY *pk = cert ? X509_get_X509_PUBKEY(cert) : NULL;
	int len = pk ? i2d_X509_PUBKEY(pk, &der) : -1;
	if (len <= 0)
		return -1;
	unsigned int n = 0;
	int ok = EVP_Digest(der, (size_t)len, sha, &n, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok && n == 32 ? 0 : -1;
}

void tls_pin_format(const unsigned char sha[32], char out[TLS_PIN_STRLEN])
{
	memcpy(out, "sha256//", 8);
	EVP_EncodeBlock((unsigned char *)out + 8, sha, 32);
}

int tls_pin_of(X509 *cert, char out[TLS_PIN_STRLEN])
{
	unsigned char sha[32];
	out[0] = '\0';
	if (tls_pin_sha256(cert, sha) < 0)
		return -1;
	tls_pin_format(sha, out);
	return 0;
}

void tls_pins_init(struct tls_pins *ps)
{
	memset(ps, 0, sizeof *ps);
}

void tls_pins_free(struct tls_pins *ps)
{
	free(ps->sha256);
	tls_pins_init(ps);
}

/* One element of a --pin value, quoted printable and cut short for an
 * error line. */
static void pin_quote(char *q, size_t qlen, const char *s, size_t n)
{
	struct sbuf b;
	sb_init(&b);
	sb_put_visible(&b, s, n > 60 ? 60 : n);
	snprintf(q, qlen, "'%s%s'", sb_str(&b), n > 60 ? "..." : "");
	sb_free(&b);
}

/* Strict base64 of exactly 32 bytes: 43 characters and '='; the last
 * character carries 2 bits that must be zero, so each pin has one text. */
static int pin_decode(const char *s, size_t n, unsigned char out[32], char *err, size_t errlen)
{
	char q[80];
	pin_quote(q, sizeof q, s, n);
	if (n < 8 || memcmp(s, "sha256//", 8) != 0) {
		snprintf(err, errlen,
			 "pin %s: expected sha256//BASE64 (the SHA-256 of a public key)", q);
		return -1;
	}
	const char *p = s + 8;
	size_t len = n - 8;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '=')
			continue; /* padding: where it may be is checked below */
		if (!c || !strchr(b64, c)) {
			if (c >= 0x21 && c < 0x7f)
				snprintf(
				    err, errlen,
				    "pin %s: '%c' (character %zu after sha256//) is not base64", q,
				    c, i + 1);
			else
				snprintf(err, errlen,
					 "pin %s: byte 0x%02x (character %zu after sha256//) is "
					 "not base64",
					 q, c, i + 1);
			return -1;
		}
	}
	if (len != 44) {
		snprintf(
		    err, errlen,
		    "pin %s: %zu base64 characters after sha256//, a SHA-256 pin has 44 (32 bytes)",
		    q, len);
		return -1;
	}
	if (memchr(p, '=', 43) || p[43] != '=') {
		snprintf(err, errlen, "pin %s: the base64 must end in exactly one '=' (32 bytes)",
			 q);
		return -1;
	}
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < 43; i++) {
		acc = (acc << 6) | (uint32_t)(strchr(b64, p[i]) - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) {
		snprintf(err, errlen,
			 "pin %s: not canonical base64 (the last character before '=' "
			 "has unused bits set)",
			 q);
		return -1;
	}
	return 0;
}

int tls_pins_add(struct tls_pins *ps, const char *value, char *err, size_t errlen)
{
	size_t count = 1;
	for (const char *c = value; *c; c++)
		count += *c == ';';
	unsigned char(*v)[32] = calloc(count, 32);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t n = 0;
	for (const char *s = value;; s++) {
		const char *e = strchr(s, ';');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == 0) {
			char q[80];
			pin_quote(q, sizeof q, value, strlen(value));
			snprintf(err, errlen,
				 "empty pin in %s (pins are sha256//BASE64, separated by ';')", q);
			free(v);
			return -1;
		}
		if (pin_decode(s, len, v[n], err, errlen) < 0) {
			free(v);
			return -1;
		}
		n++;
		if (!e)
			break;
		s = e;
	}
	unsigned char(*all)[32] = realloc(ps->sha256, (ps->n + n) * 32);
	if (!all) {
		free(v);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(all + ps->n, v, n * 32);
	ps->sha256 = all;
	ps->n += n;
	free(v);
	return 0;
}

bool tls_pins_match(const struct tls_pins *ps, X509 *leaf)
{
	unsigned char sha[32];
	if (!ps->n || tls_pin_sha256(leaf, sha) < 0)
		return false;
	for (size_t i = 0; i < ps->n; i++)
		if (!memcmp(ps->sha256[i], sha, 32))
			return true;
	return false;
}

/* ---- the temporary certificate ---- */

static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Adds one SAN entry unless an equal one is there already. */
static int san_add(GENERAL_NAMES *gens, int type, const unsigned char *data, int len)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		int t;
		ASN1_STRING *v = GENERAL_NAME_get0_value(g, &t);
		if (t == type && ASN1_STRING_length(v) == len &&
		    (type == GEN_DNS ? !strncasecmp((const char *)ASN1_STRING_get0_data(v),
						    (const char *)data, (size_t)len)
				     : !memcmp(ASN1_STRING_get0_data(v), data, (size_t)len)))
			return 0;
	}
	ASN1_STRING *v = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
	GENERAL_NAME *g = GENERAL_NAME_new();
	if (!v || !g || !ASN1_STRING_set(v, data, len)) {
		ASN1_STRING_free(v);
		GENERAL_NAME_free(g);
		return -1;
	}
	GENERAL_NAME_set0_value(g, type, v);
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return -1;
	}
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

int tls_cert_temporary(const char *const *dns, size_t ndns, const char *const *ips, size_t nips,
		       time_t now, struct tls_cert_pair *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (ndns + nips == 0) {
		snprintf(err, errlen, "a temporary certificate needs at least one name or address");
		return -1;
	}
	ERR_clear_error();
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	const char *what = "out of memory";
	if (!gens)
		goto fail;
	for (size_t i = 0; i < ndns; i++) {
		if (!dns_name_ok(dns[i])) {
			snprintf(err, errlen, "'%.80s' cannot be a certificate name", dns[i]);
			goto fail_set;
		}
		if (san_add(gens, GEN_DNS, (const unsigned char *)dns[i], (int)strlen(dns[i])) < 0)
			goto fail;
	}
	for (size_t i = 0; i < nips; i++) {
		unsigned char a[16];
		int len = 0;
		if (inet_pton(AF_INET, ips[i], a) == 1)
			len = 4;
		else if (inet_pton(AF_INET6, ips[i], a) == 1)
			len = 16;
		if (!len) {
			snprintf(err, errlen, "'%.80s' is not an IP address", ips[i]);
			goto fail_set;
		}
		if (san_add(gens, GEN_IPADD, a, len) < 0)
			goto fail;
	}

	what = "key generation failed";
	out->key = EVP_EC_gen("P-256");
	if (!out->key)
		goto fail;
	what = "certificate";
	X509 *x = out->leaf = X509_new();
	out->chain = sk_X509_new_null();
	if (!x || !out->chain || !X509_set_version(x, X509_VERSION_3))
		goto fail;
	/* 127 random bits, top bit clear: a positive serial of 16 bytes. */
	unsigned char rnd[16];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		goto fail;
	rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x40);
	BIGNUM *bn = BN_bin2bn(rnd, sizeof rnd, NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	if (!ok)
		goto fail;
	/* An hour back, so a peer whose clock is a little behind accepts it. */
	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), TLS_CERT_TEMP_DAYS, 0, &now))
		goto fail;
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"sockctl temporary", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, out->key))
		goto fail;
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0)
		goto fail;
	/* Built as values, not as a config string: a name holding ',' or ':'
	 * could not inject another entry. */
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
		goto fail;
	if (X509_sign(x, out->key, EVP_sha256()) <= 0)
		goto fail;
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	return 0;
fail:
	snprintf(err, errlen, "temporary certificate: %s (%s)", what, ossl_reason());
fail_set:
	GENERAL_NAMES_free(gens);
	tls_cert_pair_free(out);
	ERR_clear_error();
	return -1;
}

/* Appends s to the list (of cap entries) unless it is there already. */
static void name_add(const char **list, size_t *n, size_t cap, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(list[i], s))
			return;
	if (*n < cap)
		list[(*n)++] = s;
}

int tls_cert_temporary_for(const struct sockaddr *const *bound, size_t nbound, const char *hostname,
			   time_t now, struct tls_cert_pair *out, char *err, size_t errlen)
{
	size_t cap = 2 * nbound + 2;
	const char **ips = calloc(cap, sizeof *ips);
	char(*text)[INET6_ADDRSTRLEN] = calloc(nbound ? nbound : 1, sizeof *text);
	if (!ips || !text) {
		free(ips);
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t nips = 0;
	for (size_t i = 0; i < nbound; i++) {
		const struct sockaddr *sa = bound[i];
		if (sa->sa_family == AF_INET) {
			const struct in_addr *a = &((const struct sockaddr_in *)sa)->sin_addr;
			if (a->s_addr == htonl(INADDR_ANY))
				name_add(ips, &nips, cap, "127.0.0.1");
			else if (inet_ntop(AF_INET, a, text[i], sizeof text[i]))
				name_add(ips, &nips, cap, text[i]);
		} else if (sa->sa_family == AF_INET6) {
			const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
			if (IN6_IS_ADDR_UNSPECIFIED(a)) {
				name_add(ips, &nips, cap, "::1");
				name_add(ips, &nips, cap, "127.0.0.1");
			} else if (IN6_IS_ADDR_V4MAPPED(a)) {
				/* A client names it in its IPv4 form. */
				if (inet_ntop(AF_INET, &a->s6_addr[12], text[i], sizeof text[i]))
					name_add(ips, &nips, cap, text[i]);
			} else if (inet_ntop(AF_INET6, a, text[i], sizeof text[i])) {
				name_add(ips, &nips, cap, text[i]);
			}
		}
	}
	const char *dns[2] = {"localhost", NULL};
	size_t ndns = 1;
	if (hostname && *hostname && strcasecmp(hostname, "localhost") && dns_name_ok(hostname))
		dns[ndns++] = hostname;
	int r = tls_cert_temporary(dns, ndns, ips, nips, now, out, err, errlen);
	free(ips);
	free(text);
	return r;
}

void tls_cert_pem(X509 *cert, struct sbuf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	if (!b || !PEM_write_bio_X509(b, cert)) {
		out->oom = true;
	} else {
		long n = BIO_get_mem_data(b, &p);
		sb_putn(out, p, (size_t)n);
	}
	BIO_free(b);
	ERR_clear_error();
}

/* ---- loading PEM files ---- */

#define TLS_FILE_MAX (1u << 20)

/* The whole file in memory (certificate and key files are small), with a
 * line in err for a missing, unreadable, empty or huge file, a directory. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	char *buf = NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a PEM file", path);
		goto out;
	}
	buf = malloc(TLS_FILE_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*len = fread(buf, 1, TLS_FILE_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (*len > TLS_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than 1 MiB, not a certificate or key file", path);
	} else if (*len == 0) {
		snprintf(err, errlen, "%s: empty file, expected PEM", path);
	} else {
		buf[*len] = '\0';
		fclose(f);
		return buf;
	}
	free(buf);
	buf = NULL;
out:
	fclose(f);
	return NULL;
}

/* Never asks for a passphrase (OpenSSL's default would read the
 * terminal): notes that one was wanted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	*(bool *)u = true;
	return -1;
}

static bool no_pem_start(void)
{
	unsigned long e = ERR_peek_last_error();
	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Why a file without the PEM block it should hold is not usable. */
static void not_pem(const char *path, const char *data, const char *kind, char *err, size_t errlen)
{
	if ((unsigned char)data[0] == 0x30)
		snprintf(err, errlen, "%s: looks like DER, expected PEM (-----BEGIN %s-----)", path,
			 kind);
	else if (!strstr(data, "-----BEGIN "))
		snprintf(err, errlen, "%s: not a PEM file (no -----BEGIN %s-----)", path, kind);
	else
		snprintf(err, errlen, "%s: no %s in it", path,
			 !strcmp(kind, "CERTIFICATE") ? "PEM certificate" : "PEM private key");
}

static int load_certs(const char *path, struct tls_cert_pair *out, char *err, size_t errlen)
{
	size_t len;
	char *data = slurp(path, &len, err, errlen);
	if (!data)
		return -1;
	BIO *b = BIO_new_mem_buf(data, (int)len);
	out->chain = sk_X509_new_null();
	int r = -1;
	if (!b || !out->chain) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	bool pass = false;
	for (int i = 0;; i++) {
		X509 *x = PEM_read_bio_X509(b, NULL, no_passphrase, &pass);
		if (!x) {
			if (i > 0 && no_pem_start())
				break;
			if (i == 0 && no_pem_start())
				not_pem(path, data, "CERTIFICATE", err, errlen);
			else
				snprintf(err, errlen, "%s: certificate %d: bad PEM (%s)", path,
					 i + 1, ossl_reason());
			goto out;
		}
		if (i == 0)
			out->leaf = x;
		else if (!sk_X509_push(out->chain, x)) {
			X509_free(x);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	r = 0;
out:
	BIO_free(b);
	free(data);
	return r;
}

static int load_key(const char *path, struct tls_cert_pair *out, char *err, size_t errlen)
{
	size_t len;
	char *data = slurp(path, &len, err, errlen);
	if (!data)
		return -1;
	/* OpenSSL's decoders say "unsupported" for a file of other PEM
	 * blocks: look for the block first. */
	if (!strstr(data, "PRIVATE KEY-----")) {
		not_pem(path, data, "PRIVATE KEY", err, errlen);
		free(data);
		return -1;
	}
	BIO *b = BIO_new_mem_buf(data, (int)len);
	bool pass = false;
	out->key = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, &pass) : NULL;
	if (!out->key) {
		if (pass)
			snprintf(err, errlen,
				 "%s: the private key is encrypted; give it without a passphrase "
				 "(openssl pkey -in FILE -out PLAIN)",
				 path);
		else if (no_pem_start())
			not_pem(path, data, "PRIVATE KEY", err, errlen);
		else
			snprintf(err, errlen, "%s: bad private key (%s)", path, ossl_reason());
	}
	BIO_free(b);
	free(data);
	return out->key ? 0 : -1;
}

int tls_cert_load_pair(const char *cert_file, const char *key_file, time_t now,
		       struct tls_cert_pair *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (errlen)
		err[0] = '\0';
	ERR_clear_error();
	const char *kf = key_file ? key_file : cert_file;
	if (load_certs(cert_file, out, err, errlen) < 0 || load_key(kf, out, err, errlen) < 0)
		goto fail;
	if (X509_check_private_key(out->leaf, out->key) != 1) {
		if (key_file)
			snprintf(err, errlen,
				 "%s: the private key does not match the certificate in %s",
				 key_file, cert_file);
		else
			snprintf(err, errlen,
				 "%s: the private key does not match the certificate (the first in "
				 "the file)",
				 cert_file);
		goto fail;
	}
	int64_t nb, na;
	struct tm tbm, tam;
	char when[ISO_STRLEN];
	if (asn1_time_epoch(X509_get0_notAfter(out->leaf), &na, &tam) && na < (int64_t)now) {
		out->warn |= TLS_CERT_WARN_EXPIRED;
		iso8601(when, &tam);
		snprintf(err, errlen, "%s: the certificate expired on %s", cert_file, when);
	} else if (asn1_time_epoch(X509_get0_notBefore(out->leaf), &nb, &tbm) &&
		   nb > (int64_t)now) {
		out->warn |= TLS_CERT_WARN_NOT_YET_VALID;
		iso8601(when, &tbm);
		snprintf(err, errlen, "%s: the certificate is not valid before %s", cert_file,
			 when);
	}
	ERR_clear_error();
	return 0;
fail:
	tls_cert_pair_free(out);
	ERR_clear_error();
	return -1;
}

/* ---- the report ---- */

/* Text from a certificate or a peer: printable in text, a JSON string (or
 * null) in JSON. */
static void put_str(struct sbuf *o, const char *s, size_t n, enum tls_info_format fmt)
{
	if (fmt == TLS_INFO_JSON)
		json_string(o, s, n);
	else
		sb_put_visible(o, s, n);
}

static void put_opt(struct sbuf *o, const char *s, const char *none, enum tls_info_format fmt)
{
	if (s)
		put_str(o, s, strlen(s), fmt);
	else
		sb_puts(o, fmt == TLS_INFO_JSON ? "null" : none);
}

static void put_name(struct sbuf *o, const X509_NAME *nm, enum tls_info_format fmt)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n = 0;
	if (b && nm && X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_get_mem_data(b, &p);
	/* RFC 2253 text is escaped already ("CN=a\,b", control and 8-bit
	 * bytes as \XX): in text it stays as it is unless something
	 * unprintable got through, which is then shown \xHH. */
	bool plain = fmt == TLS_INFO_TEXT && p;
	for (long i = 0; plain && i < n; i++)
		plain = p[i] >= 0x20 && p[i] < 0x7f;
	if (plain)
		sb_putn(o, p, (size_t)n);
	else
		put_str(o, p ? p : "", p ? (size_t)n : 0, fmt);
	BIO_free(b);
}

/* The SAN entries of one type (GEN_DNS or GEN_IPADD), as a JSON array or
 * a ", " list ("none" when empty). */
static void put_sans(struct sbuf *o, const GENERAL_NAMES *gens, int type, enum tls_info_format fmt)
{
	bool json = fmt == TLS_INFO_JSON;
	size_t k = 0;
	if (json)
		sb_putc(o, '[');
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		int t;
		const ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &t);
		if (t != type || !v)
			continue;
		const unsigned char *d = ASN1_STRING_get0_data(v);
		int len = ASN1_STRING_length(v);
		char ip[INET6_ADDRSTRLEN];
		const char *s = (const char *)d;
		size_t n = (size_t)len;
		if (type == GEN_IPADD) {
			/* An entry of another length is no address (a name
			 * constraint's address/mask belongs in CA certificates). */
			if ((len != 4 && len != 16) ||
			    !inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip, sizeof ip))
				continue;
			s = ip;
			n = strlen(ip);
		}
		if (k++)
			sb_puts(o, json ? "," : ", ");
		put_str(o, s, n, fmt);
	}
	if (json)
		sb_putc(o, ']');
	else if (!k)
		sb_puts(o, "none");
}

static void put_time(struct sbuf *o, const ASN1_TIME *t, enum tls_info_format fmt)
{
	int64_t secs;
	struct tm tm;
	char s[ISO_STRLEN];
	if (!asn1_time_epoch(t, &secs, &tm)) {
		sb_puts(o, fmt == TLS_INFO_JSON ? "null" : "unreadable");
		return;
	}
	iso8601(s, &tm);
	put_str(o, s, strlen(s), fmt);
}

void tls_cert_info_one(struct sbuf *o, X509 *x, size_t index, time_t now, enum tls_info_format fmt)
{
	bool json = fmt == TLS_INFO_JSON;
	const char *sep = json ? "," : "\n";
#define FIELD(jname, tname)                                                                        \
	sb_printf(o, json ? "%s\"%s\":" : "%s  %-14s ", sep, json ? jname : tname)
	sep = "";
	if (json)
		sb_putc(o, '{');
	else
		sb_printf(o, "certificate %zu:\n", index);
	FIELD("subject", "subject:");
	sep = json ? "," : "\n";
	put_name(o, X509_get_subject_name(x), fmt);
	FIELD("issuer", "issuer:");
	put_name(o, X509_get_issuer_name(x), fmt);

	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	FIELD("dns", "DNS names:");
	put_sans(o, gens, GEN_DNS, fmt);
	FIELD("ip", "IP addresses:");
	put_sans(o, gens, GEN_IPADD, fmt);
	GENERAL_NAMES_free(gens);

	FIELD("not_before", "not before:");
	put_time(o, X509_get0_notBefore(x), fmt);
	FIELD("not_after", "not after:");
	put_time(o, X509_get0_notAfter(x), fmt);

	long days;
	bool have_days = tls_cert_days_left(x, now, &days);
	int64_t nb;
	struct tm tm;
	const char *status = "valid";
	if (have_days && days < 0)
		status = "expired";
	else if (asn1_time_epoch(X509_get0_notBefore(x), &nb, &tm) && nb > (int64_t)now)
		status = "not yet valid";
	else if (!have_days)
		status = "unknown";
	if (json) {
		FIELD("days_left", "");
		if (have_days)
			sb_printf(o, "%ld", days);
		else
			sb_puts(o, "null");
		FIELD("status", "");
		json_str(o, status);
	} else {
		FIELD("", "days left:");
		if (have_days)
			sb_printf(o, "%ld (%s)", days, status);
		else
			sb_puts(o, "unknown");
	}

	char pin[TLS_PIN_STRLEN];
	FIELD("pin", "SPKI pin:");
	put_opt(o, tls_pin_of(x, pin) == 0 ? pin : NULL, "unreadable", fmt);

	FIELD("serial", "serial:");
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	put_opt(o, hex, "unreadable", fmt);
	OPENSSL_free(hex);
	BN_free(bn);

	FIELD("signature_algorithm", "signature:");
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	char algname[128] = "";
	X509_get0_signature(NULL, &alg, x);
	if (alg)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj)
		OBJ_obj2txt(algname, sizeof algname, obj, 0);
	put_opt(o, *algname ? algname : NULL, "unknown", fmt);

	EVP_PKEY *pk = X509_get0_pubkey(x);
	const char *ktype = pk ? EVP_PKEY_get0_type_name(pk) : NULL;
	int bits = pk ? EVP_PKEY_get_bits(pk) : 0;
	char group[64] = "";
	size_t glen = 0;
	if (!pk || !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof group, &glen))
		group[0] = '\0';
	if (json) {
		FIELD("key_type", "");
		put_opt(o, ktype, "", fmt);
		FIELD("key_bits", "");
		if (bits > 0)
			sb_printf(o, "%d", bits);
		else
			sb_puts(o, "null");
		FIELD("key_group", "");
		put_opt(o, *group ? group : NULL, "", fmt);
		sb_putc(o, '}');
	} else {
		FIELD("", "key:");
		put_opt(o, ktype, "unknown", fmt);
		if (bits > 0)
			sb_printf(o, " %d bits", bits);
		if (*group) {
			sb_puts(o, " (");
			put_str(o, group, strlen(group), fmt);
			sb_putc(o, ')');
		}
		sb_putc(o, '\n');
	}
#undef FIELD
	ERR_clear_error();
}

static const char *verify_word(enum tls_verify_result v)
{
	switch (v) {
	case TLS_VERIFY_OK:
		return "ok";
	case TLS_VERIFY_FAILED:
		return "failed";
	case TLS_VERIFY_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

/* The handshake part of the report: JSON members (each followed by ',')
 * or the "TLS" block. */
static void put_facts(struct sbuf *o, const struct tls_facts *f, enum tls_info_format fmt)
{
	bool json = fmt == TLS_INFO_JSON;
	const struct {
		const char *jname, *tname, *v, *none;
	} row[] = {
	    {"version", "version:", f->version, "unknown"},
	    {"cipher", "cipher:", f->cipher, "unknown"},
	    {"alpn", "ALPN:", f->alpn, "none"},
	    {"sni", "SNI sent:", f->sni, "none"},
	};
	if (!json)
		sb_puts(o, "TLS\n");
	for (size_t i = 0; i < sizeof row / sizeof row[0]; i++) {
		sb_printf(o, json ? "\"%s\":" : "  %-14s ", json ? row[i].jname : row[i].tname);
		put_opt(o, row[i].v, row[i].none, fmt);
		sb_puts(o, json ? "," : "\n");
	}
	if (json) {
		sb_printf(
		    o, "\"verification\":{\"result\":\"%s\",\"reason\":", verify_word(f->verify));
		put_opt(o, f->verify_reason, "", fmt);
		sb_puts(o, "},");
		return;
	}
	sb_printf(o, "  verification:  %s", verify_word(f->verify));
	if (f->verify_reason) {
		sb_puts(o, " (");
		put_opt(o, f->verify_reason, "", fmt);
		sb_putc(o, ')');
	}
	sb_putc(o, '\n');
}

void tls_cert_info(struct sbuf *o, const struct tls_facts *f, STACK_OF(X509) * chain, time_t now,
		   enum tls_info_format fmt)
{
	bool json = fmt == TLS_INFO_JSON;
	int n = chain ? sk_X509_num(chain) : 0;
	if (json)
		sb_putc(o, '{');
	if (f)
		put_facts(o, f, fmt);
	if (json)
		sb_puts(o, "\"certificates\":[");
	else if (!n)
		sb_puts(o, "no certificates\n");
	for (int i = 0; i < n; i++) {
		if (json && i)
			sb_putc(o, ',');
		tls_cert_info_one(o, sk_X509_value(chain, i), (size_t)i, now, fmt);
	}
	if (json)
		sb_puts(o, "]}\n");
}

#endif /* HAVE_OPENSSL */
