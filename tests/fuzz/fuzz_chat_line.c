/* Fuzzes what the chat server does with a client's bytes: framing into
 * lines (in reads of varying sizes), sanitising, command parsing and name
 * checks, and asserts the invariants the room relies on: every line is
 * bounded, the sanitised text is valid UTF-8 without control characters,
 * and the framer always makes progress. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat_proto.h"

static void check_clean(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		assert(c >= 0x20 && c != 0x7F);
		size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		assert(c < 0x80 || (c >= 0xC2 && c <= 0xF4));
		assert(i + k <= n);
		for (size_t j = 1; j < k; j++)
			assert((s[i + j] & 0xC0) == 0x80);
		if (c == 0xC2)
			assert(s[i + 1] >= 0xA0); /* no C1 controls */
		i += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* First byte: the maximum line length; second: the read size. */
	size_t max = CHAT_LINE_MIN + data[0];
	size_t chunk = 1 + data[1] % 64;
	data += 2;
	size -= 2;
	size_t cap = max + 2;
	char *buf = malloc(cap);
	char *clean = malloc(3 * max + 1);
	struct chat_framer f = {0};
	size_t len = 0, fed = 0;
	while (fed < size || len > 0) {
		size_t n = size - fed < cap - len ? size - fed : cap - len;
		if (n > chunk)
			n = chunk;
		memcpy(buf + len, data + fed, n);
		len += n;
		fed += n;
		size_t off = 0;
		for (;;) {
			const char *line;
			size_t ll, used;
			enum chat_frame k =
			    chat_frame_next(&f, buf + off, len - off, max, &line, &ll, &used);
			assert(used <= len - off);
			off += used;
			if (k == CHAT_FRAME_MORE) {
				if (used == 0)
					break;
				continue;
			}
			assert(ll <= max);
			assert(!memchr(line, '\n', ll));
			size_t cl = chat_sanitize(line, ll, clean);
			assert(cl <= 3 * ll && clean[cl] == '\0');
			check_clean((const unsigned char *)clean, cl);
			struct chat_parsed p;
			chat_parse(clean, cl, &p);
			assert(p.arg >= clean && p.arg + p.arglen <= clean + cl);
			if (p.cmd == CHAT_MSG)
				assert(p.arg2 >= clean && p.arg2 + p.arg2len <= clean + cl);
			if (p.cmd == CHAT_NICK || p.cmd == CHAT_JOIN)
				(void)chat_name_check(p.arg, p.arglen);
			size_t no, nl;
			(void)chat_classify(clean, cl, &no, &nl);
			assert(no + nl <= cl);
		}
		memmove(buf, buf + off, len - off);
		len -= off;
		/* The buffer never fills up without the framer taking bytes. */
		assert(len < cap);
		if (fed >= size)
			break;
	}
	free(buf);
	free(clean);
	return 0;
}
