/* libFuzzer: a DER certificate, however odd, formats as text and as JSON
 * without crashing, and the JSON always parses. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "../unit/json_valid.h"
#include "net/tls_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)size);
	if (!x) {
		ERR_clear_error();
		return 0;
	}
	STACK_OF(X509) *chain = sk_X509_new_null();
	sk_X509_push(chain, x);
	sk_X509_push(chain, x); /* a chain of two: the separators too */
	struct tls_facts f = {"TLSv1.3", "TLS_AES_128_GCM_SHA256", "h2\x01\"",
			      NULL,	 TLS_VERIFY_FAILED,	   "self-signed certificate"};
	struct sbuf b;
	sb_init(&b);
	tls_cert_info(&b, &f, chain, 1700000000, TLS_INFO_TEXT);
	sb_reset(&b);
	tls_cert_info(&b, &f, chain, 1700000000, TLS_INFO_JSON);
	if (!b.oom && !json_valid(b.p, b.len))
		abort();
	sb_reset(&b);
	tls_cert_info_one(&b, x, 0, 0, TLS_INFO_JSON);
	if (!b.oom && !json_valid(b.p, b.len))
		abort();
	long days;
	(void)tls_cert_days_left(x, 1700000000, &days);
	sb_free(&b);
	sk_X509_free(chain);
	X509_free(x);
	ERR_clear_error();
	return 0;
}
