/* A strict JSON (RFC 8259) validator for tests and fuzz harnesses: one
 * value, optional whitespace around it, nothing else. */
#ifndef SOCKCTL_JSON_VALID_H
#define SOCKCTL_JSON_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct jv {
	const char *p, *end;
	int depth;
};

static void jv_ws(struct jv *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jv_lit(struct jv *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return false;
	j->p += n;
	return true;
}

static bool jv_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool jv_string(struct jv *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++)
				if (j->p >= j->end || !jv_hex(*j->p++))
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return false;
		}
	}
	return false;
}

static bool jv_digits(struct jv *j)
{
	const char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool jv_number(struct jv *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!jv_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jv_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jv_digits(j))
			return false;
	}
	return true;
}

static bool jv_value(struct jv *j);

static bool jv_seq(struct jv *j, char close, bool object)
{
	j->p++;
	jv_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		jv_ws(j);
		if (object) {
			if (!jv_string(j))
				return false;
			jv_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!jv_value(j))
			return false;
		jv_ws(j);
		if (j->p >= j->end)
			return false;
		char c = *j->p++;
		if (c == close)
			return true;
		if (c != ',')
			return false;
	}
}

static bool jv_value(struct jv *j)
{
	jv_ws(j);
	if (j->p >= j->end || ++j->depth > 64)
		return false;
	bool r;
	switch (*j->p) {
	case '{':
		r = jv_seq(j, '}', true);
		break;
	case '[':
		r = jv_seq(j, ']', false);
		break;
	case '"':
		r = jv_string(j);
		break;
	case 't':
		r = jv_lit(j, "true");
		break;
	case 'f':
		r = jv_lit(j, "false");
		break;
	case 'n':
		r = jv_lit(j, "null");
		break;
	default:
		r = jv_number(j);
	}
	j->depth--;
	return r;
}

/* Whether s[0..n) is exactly one JSON value (whitespace around allowed). */
static inline bool json_valid(const char *s, size_t n)
{
	struct jv j = {s, s + n, 0};
	if (!jv_value(&j))
		return false;
	jv_ws(&j);
	return j.p == j.end;
}

#endif
