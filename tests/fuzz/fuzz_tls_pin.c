/* libFuzzer: the --pin parser never crashes; a refused value always says
 * why; every pin it accepts comes back to the same bytes from its own
 * text, and that text is the only spelling (strict base64). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/tls_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[1024];
	if (size >= sizeof s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct tls_pins ps;
	char err[256] = "";
	tls_pins_init(&ps);
	if (tls_pins_add(&ps, s, err, sizeof err) < 0) {
		if (!*err || ps.n)
			abort();
	} else {
		for (size_t i = 0; i < ps.n; i++) {
			char text[TLS_PIN_STRLEN];
			struct tls_pins again;
			tls_pin_format(ps.sha256[i], text);
			tls_pins_init(&again);
			if (tls_pins_add(&again, text, err, sizeof err) < 0 || again.n != 1 ||
			    memcmp(again.sha256[0], ps.sha256[i], 32))
				abort();
			/* Strict: the accepted input holds exactly this text. */
			if (!strstr(s, text))
				abort();
			tls_pins_free(&again);
		}
	}
	tls_pins_free(&ps);
	return 0;
}
