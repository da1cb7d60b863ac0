/* TLS certificates: the temporary certificate (names, validity,
 * extensions, it verifies), pins against a fixed certificate made by
 * openssl (tests/data/tls_fixed.*), the --pin parser, the report as text
 * and as JSON that parses, days left around the boundaries, and loading
 * PEM files with each of their faults. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "json_valid.h"
#include "net/tls_cert.h"
#include "tap.h"

static char dir[] = "/tmp/test_tls_cert.XXXXXX";
static char srcdir_path[4096];

static const char *src(const char *rel)
{
	const char *top = getenv("SOCKCTL_SRCDIR");
	snprintf(srcdir_path, sizeof srcdir_path, "%s/%s", top ? top : ".", rel);
	return srcdir_path;
}

static const char *tmp(const char *name)
{
	static char paths[8][4200];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, sizeof paths[0], "%s/%s", dir, name);
	return p;
}

static void put_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return x;
}

/* The SAN entries of one type, as "a,b,c". */
static void sans(X509 *x, int type, char *out, size_t outlen)
{
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	out[0] = '\0';
	for (int i = 0; i < sk_GENERAL_NAME_num(g); i++) {
		int t;
		ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, i), &t);
		if (t != type)
			continue;
		char s[64] = "";
		int n = ASN1_STRING_length(v);
		if (type == GEN_DNS)
			snprintf(s, sizeof s, "%.*s", n, (const char *)ASN1_STRING_get0_data(v));
		else
			inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(v), s,
				  sizeof s);
		if (*out)
			strncat(out, ",", outlen - strlen(out) - 1);
		strncat(out, s, outlen - strlen(out) - 1);
	}
	GENERAL_NAMES_free(g);
}

static bool verifies(X509 *x, const char *host)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_add_cert(st, x);
	X509_STORE_CTX_init(ctx, st, x, NULL);
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set1_host(vp, host, 0);
	bool r = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return r;
}

static void test_temporary(void)
{
	time_t now = time(NULL);
	const char *dns[] = {"localhost", "host.example", "LOCALHOST"};
	const char *ips[] = {"127.0.0.1", "::1", "192.0.2.7", "::0001"};
	struct tls_cert_pair p;
	char err[256] = "";
	ok(tls_cert_temporary(dns, 3, ips, 4, now, &p, err, sizeof err) == 0, "temporary: %s", err);
	X509 *x = p.leaf;
	char got[256];
	sans(x, GEN_DNS, got, sizeof got);
	ok(!strcmp(got, "localhost,host.example"), "DNS SANs, a duplicate once: %s", got);
	sans(x, GEN_IPADD, got, sizeof got);
	ok(!strcmp(got, "127.0.0.1,::1,192.0.2.7"), "IP SANs, ::0001 is ::1: %s", got);
	ok(X509_get_version(x) == X509_VERSION_3, "X.509 v3");
	ok(p.chain && sk_X509_num(p.chain) == 0, "no chain");
	ok(X509_check_private_key(x, p.key) == 1, "key matches");
	ok(EVP_PKEY_is_a(p.key, "EC") && EVP_PKEY_get_bits(p.key) == 256, "P-256 key");
	ok(X509_verify(x, p.key) == 1, "self-signed with its key");
	ok(X509_get_signature_nid(x) == NID_ecdsa_with_SHA256, "ecdsa-with-SHA256");
	ok(X509_check_ca(x) == 0, "not a CA");
	ok((X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE) &&
	       !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN),
	   "keyUsage digitalSignature only");
	ok(X509_get_extended_key_usage(x) == XKU_SSL_SERVER, "extendedKeyUsage serverAuth");
	ok(X509_get0_subject_key_id(x) != NULL, "subject key identifier");
	X509_NAME *nm = X509_get_subject_name(x);
	char cn[64] = "";
	X509_NAME_get_text_by_NID(nm, NID_commonName, cn, sizeof cn);
	ok(!strcmp(cn, "sockctl temporary") && !X509_NAME_cmp(nm, X509_get_issuer_name(x)),
	   "CN=sockctl temporary, self-issued");
	ok(X509_cmp_time(X509_get0_notBefore(x), &(time_t){now - 3599}) < 0 &&
	       X509_cmp_time(X509_get0_notBefore(x), &(time_t){now - 3601}) > 0,
	   "valid from an hour ago");
	long days = -99;
	ok(tls_cert_days_left(x, now, &days) && days == TLS_CERT_TEMP_DAYS, "30 days left: %ld",
	   days);
	ok(tls_cert_days_left(x, now + 1, &days) && days == TLS_CERT_TEMP_DAYS - 1,
	   "29 days a second later: %ld", days);
	ok(verifies(x, "localhost") && verifies(x, "host.example"),
	   "verifies as a server (partial chain) for its names");
	ok(!verifies(x, "other.example"), "not for another name");
	ok(X509_check_ip_asc(x, "::1", 0) == 1 && X509_check_ip_asc(x, "10.0.0.1", 0) == 0,
	   "IP check");
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
	ok(!BN_is_negative(bn) && BN_num_bytes(bn) == 16, "positive 16-byte serial");
	struct tls_cert_pair q;
	ok(tls_cert_temporary(dns, 1, NULL, 0, now, &q, err, sizeof err) == 0 &&
	       ASN1_INTEGER_cmp(sn, X509_get0_serialNumber(q.leaf)) != 0 &&
	       EVP_PKEY_eq(p.key, q.key) != 1,
	   "a second one: another serial, another key");
	BN_free(bn);
	tls_cert_pair_free(&q);

	/* The files the shell peers check, kept for the bats test. */
	struct sbuf pem;
	sb_init(&pem);
	tls_cert_pem(x, &pem);
	ok(!pem.oom && !strncmp(sb_str(&pem), "-----BEGIN CERTIFICATE-----\n", 28), "PEM text");
	put_file(tmp("temp.pem"), pem.p, pem.len);
	X509 *back = read_cert(tmp("temp.pem"));
	ok(back && !X509_cmp(back, x), "PEM reads back");
	X509_free(back);
	sb_free(&pem);
	tls_cert_pair_free(&p);
	ok(p.leaf == NULL && p.key == NULL, "pair freed and zeroed");
	tls_cert_pair_free(&p);

	ok(tls_cert_temporary(NULL, 0, NULL, 0, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "at least one"),
	   "no names refused: %s", err);
	const char *badip[] = {"1.2.3"};
	ok(tls_cert_temporary(dns, 1, badip, 1, now, &p, err, sizeof err) < 0 &&
	       !strcmp(err, "'1.2.3' is not an IP address") && !p.leaf,
	   "bad IP refused: %s", err);
	const char *baddns[] = {"a b"};
	ok(tls_cert_temporary(baddns, 1, NULL, 0, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "'a b' cannot be a certificate name"),
	   "bad name refused: %s", err);
}

static void test_temporary_for(void)
{
	struct sockaddr_in any4 = {.sin_family = AF_INET};
	struct sockaddr_in6 any6 = {.sin6_family = AF_INET6};
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
	struct sockaddr_in one = {.sin_family = AF_INET};
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &mapped.sin6_addr);
	inet_pton(AF_INET, "192.0.2.5", &one.sin_addr);
	const struct sockaddr *b1[] = {(struct sockaddr *)&any4};
	const struct sockaddr *b2[] = {(struct sockaddr *)&any6, (struct sockaddr *)&any4,
				       (struct sockaddr *)&mapped, (struct sockaddr *)&one};
	struct tls_cert_pair p;
	char err[256] = "", got[256];
	ok(tls_cert_temporary_for(b1, 1, "myhost", 0 + time(NULL), &p, err, sizeof err) == 0,
	   "for 0.0.0.0: %s", err);
	sans(p.leaf, GEN_IPADD, got, sizeof got);
	ok(!strcmp(got, "127.0.0.1"), "0.0.0.0: loopback only: %s", got);
	sans(p.leaf, GEN_DNS, got, sizeof got);
	ok(!strcmp(got, "localhost,myhost"), "localhost and the host name: %s", got);
	tls_cert_pair_free(&p);
	ok(tls_cert_temporary_for(b2, 4, NULL, time(NULL), &p, err, sizeof err) == 0, "for four");
	sans(p.leaf, GEN_IPADD, got, sizeof got);
	ok(!strcmp(got, "::1,127.0.0.1,192.0.2.9,192.0.2.5"),
	   ":: takes both loopbacks, a mapped address in IPv4 form: %s", got);
	sans(p.leaf, GEN_DNS, got, sizeof got);
	ok(!strcmp(got, "localhost"), "no host name given: %s", got);
	tls_cert_pair_free(&p);
}

static const char *fixed_pin(char *buf, size_t n)
{
	FILE *f = fopen(src("tests/data/tls_fixed.pin"), "r");
	buf[0] = '\0';
	if (f && fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
	return buf;
}

#define PIN_A "sha256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko="
#define PIN_B "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void test_pins(void)
{
	char want[128], pin[TLS_PIN_STRLEN], err[256];
	X509 *x = read_cert(src("tests/data/tls_fixed.pem"));
	ok(x != NULL, "fixed certificate read");
	fixed_pin(want, sizeof want);
	ok(tls_pin_of(x, pin) == 0 && !strcmp(pin, want),
	   "pin = the openssl pipeline's (tests/data/tls_fixed.pin): %s", pin);
	ok(!strcmp(want, PIN_A), "the fixed vector is the committed one");

	struct tls_pins ps;
	tls_pins_init(&ps);
	ok(!tls_pins_match(&ps, x), "an empty set matches nothing");
	ok(tls_pins_add(&ps, PIN_B, err, sizeof err) == 0 && ps.n == 1, "one pin");
	ok(!tls_pins_match(&ps, x), "another pin does not match");
	ok(tls_pins_add(&ps, PIN_B ";" PIN_A, err, sizeof err) == 0 && ps.n == 3,
	   "two separated by ';' added to the first: %s", err);
	ok(tls_pins_match(&ps, x), "the set matches");
	unsigned char sha[32];
	ok(tls_pin_sha256(x, sha) == 0 && !memcmp(ps.sha256[2], sha, 32), "the bytes decoded");
	char again[TLS_PIN_STRLEN];
	tls_pin_format(ps.sha256[2], again);
	ok(!strcmp(again, PIN_A), "format round-trips: %s", again);
	tls_pins_free(&ps);
	ok(ps.n == 0 && ps.sha256 == NULL, "freed");

	struct {
		const char *in, *want;
	} bad[] = {
	    {"", "empty pin in ''"},
	    {PIN_A ";", "empty pin in"},
	    {PIN_A ";;" PIN_B, "empty pin in"},
	    {"sha1//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko=", "expected sha256//BASE64"},
	    {"SHA256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko=", "expected sha256//BASE64"},
	    {"BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko=", "expected sha256//BASE64"},
	    {"sha256//", "0 base64 characters after sha256//, a SHA-256 pin has 44"},
	    {"sha256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdk=",
	     "43 base64 characters after sha256//, a SHA-256 pin has 44"},
	    {"sha256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdkoA=", "45 base64 characters"},
	    {"sha256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdkoA", "must end in exactly one '='"},
	    {"sha256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdk==", "must end in exactly one '='"},
	    {"sha256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdkp=", "not canonical base64"},
	    {"sha256//BLKopRb*FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko=",
	     "'*' (character 8 after sha256//) is not base64"},
	    {"sha256//BLKopRb-FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko=", "'-' (character 8"},
	    {"sha256// BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko=",
	     "byte 0x20 (character 1 after sha256//)"},
	    {PIN_A " ", "byte 0x20 (character 45"},
	    {"sha256//BLKopRb+FVmZOPi+sePXMOUu57Vv1WmzNMKNd7eHdko=\t", "byte 0x09"},
	    {"sha256//\x1b[2J", "pin 'sha256//\\x1b[2J'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tls_pins_init(&ps);
		err[0] = '\0';
		ok(tls_pins_add(&ps, bad[i].in, err, sizeof err) < 0 && strstr(err, bad[i].want) &&
		       ps.n == 0,
		   "refused '%s': %s", bad[i].in[0] == 's' ? bad[i].in + 8 : bad[i].in, err);
		tls_pins_free(&ps);
	}
	tls_pins_init(&ps);
	ok(tls_pins_add(&ps, PIN_A ";sha1//x", err, sizeof err) < 0 && ps.n == 0,
	   "one bad element: none added");
	tls_pins_free(&ps);
	X509_free(x);
}

static void test_days_left(void)
{
	struct tls_cert_pair p;
	char err[256];
	const char *dns[] = {"localhost"};
	ok(tls_cert_temporary(dns, 1, NULL, 0, time(NULL), &p, err, sizeof err) == 0, "a cert");
	X509 *x = p.leaf;
	/* 2030-01-01T00:00:00Z */
	const time_t t = 1893456000;
	ASN1_TIME_set_string(X509_getm_notAfter(x), "300101000000Z");
	ASN1_TIME_set_string(X509_getm_notBefore(x), "291201000000Z");
	struct {
		time_t now;
		long days;
		const char *status;
	} c[] = {
	    {t, 0, "valid"},
	    {t - 1, 0, "valid"},
	    {t - 86399, 0, "valid"},
	    {t - 86400, 1, "valid"},
	    {t - 86401, 1, "valid"},
	    {t + 1, -1, "expired"},
	    {t + 86400, -1, "expired"},
	    {t + 86401, -2, "expired"},
	    {t - 31 * 86400, 31, "valid"},
	    {t - 31 * 86400 - 1, 31, "not yet valid"},
	    {t - 400 * 86400, 400, "not yet valid"},
	};
	struct sbuf b;
	sb_init(&b);
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		long d = 12345;
		char want[64];
		sb_reset(&b);
		tls_cert_info_one(&b, x, 0, c[i].now, TLS_INFO_JSON);
		snprintf(want, sizeof want, "\"days_left\":%ld,\"status\":\"%s\"", c[i].days,
			 c[i].status);
		ok(tls_cert_days_left(x, c[i].now, &d) && d == c[i].days &&
		       strstr(sb_str(&b), want),
		   "now = T%+lld s: %ld days, %s", (long long)(c[i].now - t), d, c[i].status);
	}
	ok(strstr(
	       sb_str(&b),
	       "\"not_before\":\"2029-12-01T00:00:00Z\",\"not_after\":\"2030-01-01T00:00:00Z\"") !=
	       NULL,
	   "ISO 8601 UTC times");
	/* GeneralizedTime past 2049 and a time_t far away. */
	ASN1_TIME_set_string(X509_getm_notAfter(x), "20510101000000Z");
	long d;
	ok(tls_cert_days_left(x, t, &d) && d == 21 * 365 + 5, "2051: %ld days from 2030", d);
	sb_free(&b);
	tls_cert_pair_free(&p);
}

static void test_report(void)
{
	X509 *fx = read_cert(src("tests/data/tls_fixed.pem"));
	struct tls_cert_pair p;
	char err[256], want[128];
	const char *ips[] = {"127.0.0.1"};
	ok(tls_cert_temporary(NULL, 0, ips, 1, time(NULL), &p, err, sizeof err) == 0,
	   "IP-only temporary");
	STACK_OF(X509) *chain = sk_X509_new_null();
	sk_X509_push(chain, fx);
	sk_X509_push(chain, p.leaf);
	struct tls_facts f = {
	    "TLSv1.3", "TLS_AES_256_GCM_SHA384", "h2", "fixed.test", TLS_VERIFY_OK, NULL};
	struct sbuf b;
	sb_init(&b);
	tls_cert_info(&b, &f, chain, 1800000000, TLS_INFO_JSON);
	const char *j = sb_str(&b);
	ok(json_valid(b.p, b.len), "JSON parses");
	ok(b.len > 0 && j[b.len - 1] == '\n' && !memchr(j, '\n', b.len - 1), "one line");
	ok(!strncmp(
	       j,
	       "{\"version\":\"TLSv1.3\",\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"alpn\":\"h2\","
	       "\"sni\":\"fixed.test\",\"verification\":{\"result\":\"ok\",\"reason\":null},"
	       "\"certificates\":[{\"subject\":\"CN=fixed.test,O=sockctl tests\","
	       "\"issuer\":\"CN=fixed.test,O=sockctl tests\","
	       "\"dns\":[\"fixed.test\",\"*.fixed.test\"],\"ip\":[\"192.0.2.1\",\"2001:db8::1\"],"
	       "\"not_before\":\"2026-",
	       strlen(
		   "{\"version\":\"TLSv1.3\",\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"alpn\":\"h2\","
		   "\"sni\":\"fixed.test\",\"verification\":{\"result\":\"ok\",\"reason\":null},"
		   "\"certificates\":[{\"subject\":\"CN=fixed.test,O=sockctl tests\","
		   "\"issuer\":\"CN=fixed.test,O=sockctl tests\","
		   "\"dns\":[\"fixed.test\",\"*.fixed.test\"],\"ip\":[\"192.0.2.1\",\"2001:db8::"
		   "1\"],"
		   "\"not_before\":\"2026-")),
	   "facts, subject, issuer, SANs: %.300s", j);
	snprintf(want, sizeof want, "\"pin\":\"%s\",\"serial\":\"1234ABCD\"", PIN_A);
	ok(strstr(j, want) != NULL, "pin and serial");
	ok(strstr(j, "\"signature_algorithm\":\"ecdsa-with-SHA256\",\"key_type\":\"EC\","
		     "\"key_bits\":256,\"key_group\":\"prime256v1\"}") != NULL,
	   "signature and key");
	ok(strstr(j, ",{\"subject\":\"CN=sockctl temporary\"") &&
	       strstr(j, "\"dns\":[],\"ip\":[\"127.0.0.1\"]"),
	   "second certificate, empty DNS list");
	ok(strstr(j, "\"status\":\"expired\"") && strstr(j, "\"status\":\"valid\""),
	   "the temporary one expired by then, the fixed one not");

	/* Text for a person: every field, peer bytes escaped. */
	f.alpn = "h2\x1b[31m";
	f.sni = NULL;
	f.verify = TLS_VERIFY_FAILED;
	f.verify_reason = "unable to get local issuer certificate";
	sb_reset(&b);
	tls_cert_info(&b, &f, chain, 1800000000, TLS_INFO_TEXT);
	const char *t = sb_str(&b);
	ok(strstr(t, "TLS\n  version:       TLSv1.3\n  cipher:        TLS_AES_256_GCM_SHA384\n"
		     "  ALPN:          h2\\x1b[31m\n  SNI sent:      none\n"
		     "  verification:  failed (unable to get local issuer certificate)\n"
		     "certificate 0:\n  subject:       CN=fixed.test,O=sockctl tests\n") != NULL,
	   "text head");
	ok(strstr(t, "  DNS names:     fixed.test, *.fixed.test\n"
		     "  IP addresses:  192.0.2.1, 2001:db8::1\n") != NULL,
	   "text SANs");
	ok(strstr(t, "  serial:        1234ABCD\n  signature:     ecdsa-with-SHA256\n"
		     "  key:           EC 256 bits (prime256v1)\ncertificate 1:\n") != NULL,
	   "text key line");
	ok(strstr(t, "  DNS names:     none\n") && strstr(t, "(expired)\n"), "text none, expired");
	ok(!strchr(t, '\x1b'), "no escape byte reaches the terminal");

	/* RFC 2253 escapes stay readable in text and are escaped once more
	 * in JSON. */
	X509_NAME *nm = X509_NAME_new();
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"a,b\x01", -1, -1,
				   0);
	X509_set_subject_name(p.leaf, nm);
	X509_NAME_free(nm);
	sb_reset(&b);
	tls_cert_info_one(&b, p.leaf, 1, 0, TLS_INFO_TEXT);
	ok(strstr(sb_str(&b), "  subject:       CN=a\\,b\\01\n") != NULL,
	   "text name: RFC 2253 escapes as they are");
	sb_reset(&b);
	tls_cert_info_one(&b, p.leaf, 1, 0, TLS_INFO_JSON);
	ok(strstr(sb_str(&b), "{\"subject\":\"CN=a\\\\,b\\\\01\",") && json_valid(b.p, b.len),
	   "JSON name: %.60s", sb_str(&b));

	/* Anything in the facts still makes valid JSON. */
	f.version = "\"\\\x01\xff";
	f.cipher = NULL;
	f.verify = TLS_VERIFY_SKIPPED;
	sb_reset(&b);
	tls_cert_info(&b, &f, chain, 0, TLS_INFO_JSON);
	ok(json_valid(b.p, b.len) &&
	       strstr(sb_str(&b), "\"version\":\"\\\"\\\\\\u0001\\u00ff\","
				  "\"cipher\":null,\"alpn\":\"h2\\u001b[31m\"") &&
	       strstr(sb_str(&b), "\"result\":\"skipped\""),
	   "hostile facts escaped: %.120s", sb_str(&b));
	sb_reset(&b);
	tls_cert_info(&b, NULL, NULL, 0, TLS_INFO_JSON);
	ok(!strcmp(sb_str(&b), "{\"certificates\":[]}\n"), "no facts, no chain");
	sb_reset(&b);
	tls_cert_info(&b, NULL, NULL, 0, TLS_INFO_TEXT);
	ok(!strcmp(sb_str(&b), "no certificates\n"), "text, nothing");

	/* The validator is no rubber stamp. */
	ok(!json_valid("{\"a\":1,}", 8) && !json_valid("{\"a\" 1}", 7) &&
	       !json_valid("\"\x01\"", 3) && !json_valid("[1] [2]", 7) &&
	       json_valid(" {\"a\":[1,-2.5e3,null,true]} ", 28),
	   "validator refuses bad JSON");
	sb_free(&b);
	sk_X509_free(chain);
	X509_free(fx);
	tls_cert_pair_free(&p);
}

static void write_pem_key(const char *path, EVP_PKEY *k, const char *pass)
{
	FILE *f = fopen(path, "w");
	PEM_write_PrivateKey(f, k, pass ? EVP_aes_128_cbc() : NULL, (unsigned char *)pass,
			     pass ? (int)strlen(pass) : 0, NULL, NULL);
	fclose(f);
}

static void cat_files(const char *out, const char *a, const char *b)
{
	char cmd[9000];
	snprintf(cmd, sizeof cmd, "cat '%s' '%s' > '%s'", a, b, out);
	if (system(cmd) != 0)
		printf("# %s failed\n", cmd);
}

static void test_load(void)
{
	char cert[4096], key[4096], err[512];
	snprintf(cert, sizeof cert, "%s", src("tests/data/tls_fixed.pem"));
	snprintf(key, sizeof key, "%s", src("tests/data/tls_fixed.key"));
	struct tls_cert_pair p;
	time_t now = 1900000000; /* 2030: inside the fixed certificate's years */
	ok(tls_cert_load_pair(cert, key, now, &p, err, sizeof err) == 0 && p.leaf && p.key &&
	       p.chain && sk_X509_num(p.chain) == 0 && p.warn == 0 && !*err,
	   "fixed pair loads: %s", err);
	tls_cert_pair_free(&p);

	ok(tls_cert_load_pair(cert, key, 2200000000, &p, err, sizeof err) == 0 &&
	       p.warn == TLS_CERT_WARN_EXPIRED &&
	       strstr(err, "tls_fixed.pem: the certificate expired on 2036-"),
	   "expired: a warning: %s", err);
	tls_cert_pair_free(&p);
	ok(tls_cert_load_pair(cert, key, 1700000000, &p, err, sizeof err) == 0 &&
	       p.warn == TLS_CERT_WARN_NOT_YET_VALID && strstr(err, "is not valid before 2026-"),
	   "not yet valid: a warning: %s", err);
	tls_cert_pair_free(&p);

	/* A combined file, and a chain after the leaf. */
	cat_files(tmp("both.pem"), key, cert);
	ok(tls_cert_load_pair(tmp("both.pem"), NULL, now, &p, err, sizeof err) == 0,
	   "key and certificate in one file: %s", err);
	tls_cert_pair_free(&p);
	cat_files(tmp("chain.pem"), cert, tmp("temp.pem"));
	ok(tls_cert_load_pair(tmp("chain.pem"), key, now, &p, err, sizeof err) == 0 &&
	       sk_X509_num(p.chain) == 1,
	   "a chain of one after the leaf: %s", err);
	tls_cert_pair_free(&p);

	ok(tls_cert_load_pair(tmp("nope.pem"), key, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "nope.pem: No such file or directory"),
	   "missing: %s", err);
	ok(tls_cert_load_pair(cert, tmp("nokey"), now, &p, err, sizeof err) < 0 &&
	       strstr(err, "nokey: No such file or directory") && !p.leaf,
	   "missing key: %s", err);
	ok(tls_cert_load_pair(dir, key, now, &p, err, sizeof err) < 0 &&
	       strstr(err, ": is a directory, not a PEM file"),
	   "a directory: %s", err);
	put_file(tmp("text.pem"), "hello\n", 6);
	ok(tls_cert_load_pair(tmp("text.pem"), key, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "text.pem: not a PEM file (no -----BEGIN CERTIFICATE-----)"),
	   "not PEM: %s", err);
	put_file(tmp("empty.pem"), "", 0);
	ok(tls_cert_load_pair(tmp("empty.pem"), key, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "empty.pem: empty file, expected PEM"),
	   "empty: %s", err);
	X509 *fx = read_cert(cert);
	unsigned char *der = NULL;
	int dlen = i2d_X509(fx, &der);
	put_file(tmp("cert.der"), der, (size_t)dlen);
	OPENSSL_free(der);
	X509_free(fx);
	ok(tls_cert_load_pair(tmp("cert.der"), key, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "cert.der: looks like DER, expected PEM (-----BEGIN CERTIFICATE-----)"),
	   "DER: %s", err);
	const char broken[] = "-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n";
	put_file(tmp("broken.pem"), broken, sizeof broken - 1);
	ok(tls_cert_load_pair(tmp("broken.pem"), key, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "broken.pem: certificate 1: bad PEM ("),
	   "broken PEM: %s", err);
	ok(tls_cert_load_pair(cert, cert, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "tls_fixed.pem: no PEM private key in it"),
	   "a certificate as the key: %s", err);

	struct tls_cert_pair t;
	const char *dns[] = {"localhost"};
	tls_cert_temporary(dns, 1, NULL, 0, time(NULL), &t, err, sizeof err);
	write_pem_key(tmp("other.key"), t.key, NULL);
	ok(tls_cert_load_pair(cert, tmp("other.key"), now, &p, err, sizeof err) < 0 &&
	       strstr(err, "other.key: the private key does not match the certificate in ") &&
	       strstr(err, "tls_fixed.pem"),
	   "mismatch: %s", err);
	cat_files(tmp("mixed.pem"), tmp("other.key"), cert);
	ok(tls_cert_load_pair(tmp("mixed.pem"), NULL, now, &p, err, sizeof err) < 0 &&
	       strstr(err, "mixed.pem: the private key does not match the certificate (the first"),
	   "mismatch in one file: %s", err);
	write_pem_key(tmp("enc.key"), t.key, "secret");
	ok(tls_cert_load_pair(tmp("temp.pem"), tmp("enc.key"), time(NULL), &p, err, sizeof err) <
		   0 &&
	       strstr(err, "enc.key: the private key is encrypted"),
	   "encrypted key, no prompt: %s", err);
	write_pem_key(tmp("temp.key"), t.key, NULL);
	ok(tls_cert_load_pair(tmp("temp.pem"), tmp("temp.key"), time(NULL), &p, err, sizeof err) <
	       0,
	   "temp.pem is the first temporary's, not this key's");
	tls_cert_pair_free(&t);
	ok(ERR_peek_error() == 0, "no OpenSSL error left queued");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_temporary();
	test_temporary_for();
	test_pins();
	test_days_left();
	test_report();
	test_load();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	tap_done();
}
