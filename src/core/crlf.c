#include "config.h"

#include "core/crlf.h"

size_t crlf_expand(char *t, size_t n, bool *prev_cr)
{
	size_t add = 0;
	for (size_t i = 0; i < n; i++)
		if (t[i] == '\n' && !(i ? t[i - 1] == '\r' : *prev_cr))
			add++;
	bool last_cr = t[n - 1] == '\r';
	for (size_t i = n, o = n + add; i > 0;) {
		char ch = t[--i];
		t[--o] = ch;
		if (ch == '\n' && !(i ? t[i - 1] == '\r' : *prev_cr))
			t[--o] = '\r';
	}
	*prev_cr = last_cr;
	return n + add;
}
