/* The hex payload parser and printer. */
#include "config.h"

#include <string.h>

#include "udp/hexpayload.h"
#include "tap.h"

static long dec(const char *s, unsigned char *out, size_t cap, char *err)
{
	return hex_decode(s, strlen(s), out, cap, err, 128);
}

int main(void)
{
	unsigned char b[16];
	char err[128], txt[64];
	long n;

	n = dec("deadBEEF", b, sizeof b, err);
	ok(n == 4 && b[0] == 0xde && b[1] == 0xad && b[2] == 0xbe && b[3] == 0xef, "plain hex");
	n = dec("  de ad\tbe:ef\n", b, sizeof b, err);
	ok(n == 4 && b[3] == 0xef, "separators between bytes");
	n = dec("0x0001ff", b, sizeof b, err);
	ok(n == 3 && b[0] == 0 && b[1] == 1 && b[2] == 0xff, "0x prefix");
	n = dec("00", b, sizeof b, err);
	ok(n == 1 && b[0] == 0, "a single NUL byte");

	ok(dec("", b, sizeof b, err) == -1 && strstr(err, "empty"), "empty refused: %s", err);
	ok(dec("  : \n", b, sizeof b, err) == -1 && strstr(err, "empty"), "only separators: %s",
	   err);
	ok(dec("0x", b, sizeof b, err) == -1 && strstr(err, "empty"), "bare 0x: %s", err);
	ok(dec("abc", b, sizeof b, err) == -1 && strstr(err, "odd"), "odd length: %s", err);
	ok(dec("a bc", b, sizeof b, err) == -1 && strstr(err, "offset 0"),
	   "a separator inside a byte: %s", err);
	ok(dec("zz", b, sizeof b, err) == -1 && strstr(err, "'z' at offset 0"),
	   "bad first digit: %s", err);
	ok(dec("0g", b, sizeof b, err) == -1 && strstr(err, "'g' at offset 1"),
	   "bad second digit: %s", err);
	ok(dec("00\x01", b, sizeof b, err) == -1 && strstr(err, "0x01"), "control byte: %s", err);
	ok(hex_decode("0011", 4, b, 1, err, sizeof err) == -1 && strstr(err, "longer than 1"),
	   "capacity enforced: %s", err);
	ok(hex_decode("0011", 2, b, 1, err, sizeof err) == 1 && b[0] == 0,
	   "length bound respected (no NUL needed)");

	const unsigned char bytes[] = {0x00, 0x7f, 0x80, 0xff, 'A'};
	ok(hex_encode(bytes, sizeof bytes, txt) == 10 && strcmp(txt, "007f80ff41") == 0,
	   "encode: %s", txt);
	ok(hex_encode(bytes, 0, txt) == 0 && txt[0] == '\0', "encode nothing");
	n = hex_decode(txt, hex_encode(bytes, sizeof bytes, txt), b, sizeof b, err, sizeof err);
	ok(n == 5 && memcmp(b, bytes, 5) == 0, "round trip");
	tap_done();
}
