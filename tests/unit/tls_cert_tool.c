/* The certificate module for shell peers (tests/tls_cert.bats):
 *   tls_cert_tool temp DIR    DIR/cert.pem + DIR/key.pem, a temporary
 *                             certificate for localhost, 127.0.0.1, ::1;
 *                             prints its pin
 *   tls_cert_tool pin FILE    the pin of FILE's first certificate
 *   tls_cert_tool info FILE text|json   the report of FILE's certificates */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "net/tls_cert.h"

static int die(const char *what)
{
	fprintf(stderr, "tls_cert_tool: %s\n", what);
	return 1;
}

static STACK_OF(X509) * read_chain(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)))
		sk_X509_push(sk, x);
	fclose(f);
	return sk;
}

int main(int argc, char **argv)
{
	char err[512], path[4096];
	if (argc == 3 && !strcmp(argv[1], "temp")) {
		const char *dns[] = {"localhost"};
		const char *ips[] = {"127.0.0.1", "::1"};
		struct tls_cert_pair p;
		if (tls_cert_temporary(dns, 1, ips, 2, time(NULL), &p, err, sizeof err) < 0)
			return die(err);
		snprintf(path, sizeof path, "%s/cert.pem", argv[2]);
		FILE *f = fopen(path, "w");
		if (!f || !PEM_write_X509(f, p.leaf) || fclose(f))
			return die(path);
		snprintf(path, sizeof path, "%s/key.pem", argv[2]);
		f = fopen(path, "w");
		if (!f || !PEM_write_PrivateKey(f, p.key, NULL, NULL, 0, NULL, NULL) || fclose(f))
			return die(path);
		char pin[TLS_PIN_STRLEN];
		if (tls_pin_of(p.leaf, pin) < 0)
			return die("pin");
		printf("%s\n", pin);
		tls_cert_pair_free(&p);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "pin")) {
		STACK_OF(X509) *sk = read_chain(argv[2]);
		char pin[TLS_PIN_STRLEN];
		if (!sk || !sk_X509_num(sk) || tls_pin_of(sk_X509_value(sk, 0), pin) < 0)
			return die("no certificate");
		printf("%s\n", pin);
		sk_X509_pop_free(sk, X509_free);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "info")) {
		STACK_OF(X509) *sk = read_chain(argv[2]);
		if (!sk)
			return die("no file");
		struct tls_facts f = {
		    "TLSv1.3", "TLS_AES_128_GCM_SHA256", NULL, "localhost", TLS_VERIFY_OK, NULL};
		struct sbuf b;
		sb_init(&b);
		tls_cert_info(&b, &f, sk, time(NULL),
			      !strcmp(argv[3], "json") ? TLS_INFO_JSON : TLS_INFO_TEXT);
		if (b.oom)
			return die("too long");
		fwrite(b.p, 1, b.len, stdout);
		sb_free(&b);
		sk_X509_pop_free(sk, X509_free);
		return 0;
	}
	return die("usage: temp DIR | pin FILE | info FILE text|json");
}
