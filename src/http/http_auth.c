/* Basic authentication for http serve. See http_auth.h. */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_auth.h"
#include "http/http_parse.h"

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64: '=' only as the last one or two characters of a padded
 * text, the bits a short last group leaves over zero (so every text has
 * one decoding). The padding may be left out, as nginx allows: the last
 * group is then two or three characters. Returns the decoded length, or
 * -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out, size_t outcap)
{
	if (n == 0 || n % 4 == 1)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			bool last = i + 4 >= n;
			if (last && i + (size_t)k >= n) { /* unpadded short group */
				v[k] = 0;
				pad++;
				continue;
			}
			unsigned char c = (unsigned char)s[i + k];
			if (c == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(c)) < 0)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		if ((pad == 2 && (w & 0xffff)) || (pad == 1 && (w & 0xff)))
			return -1;
		int bytes = 3 - pad;
		if (o + (size_t)bytes > outcap)
			return -1;
		for (int k = 0; k < bytes; k++)
			out[o++] = (unsigned char)(w >> (16 - 8 * k));
	}
	return (long)o;
}

int http_auth_basic_parse(const char *v, size_t len, struct http_cred *out)
{
	/* auth-scheme 1*SP token68 (RFC 9110 11.4); the scheme in any case */
	if (len < 5 || !http_mem_ieq(v, "basic", 5) || (len > 5 && v[5] != ' '))
		return HTTP_AUTH_ABSENT;
	size_t i = 5;
	while (i < len && v[i] == ' ')
		i++;
	unsigned char dec[2 * HTTP_AUTH_CRED_MAX + 2];
	long n = b64_decode(v + i, len - i, dec, sizeof dec);
	if (n < 0)
		return HTTP_AUTH_MALFORMED;
	unsigned char *colon = memchr(dec, ':', (size_t)n);
	if (!colon)
		return HTTP_AUTH_MALFORMED;
	size_t ulen = (size_t)(colon - dec), plen = (size_t)n - ulen - 1;
	if (ulen > HTTP_AUTH_CRED_MAX || plen > HTTP_AUTH_CRED_MAX)
		return HTTP_AUTH_MALFORMED;
	memcpy(out->user, dec, ulen);
	out->user[ulen] = '\0';
	memcpy(out->pass, colon + 1, plen);
	out->pass[plen] = '\0';
	out->ulen = ulen;
	out->plen = plen;
	return HTTP_AUTH_BASIC;
}

bool http_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char *x = a, *y = b;
	/* Every byte of b is looked at, whatever a holds. */
	unsigned diff = alen != blen;
	for (size_t i = 0; i < blen; i++)
		diff |= (unsigned)(i < alen ? x[i] : 0) ^ y[i];
	return diff == 0;
}

static bool add(struct http_auth *a, const char *user, size_t ulen, const char *secret, size_t slen,
		bool hashed)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		struct http_account *nv = realloc(a->v, cap * sizeof *nv);
		if (!nv)
			return false;
		a->v = nv;
		a->cap = cap;
	}
	char *u = strndup(user, ulen), *s = strndup(secret, slen);
	if (!u || !s) {
		free(u);
		free(s);
		errno = ENOMEM;
		return false;
	}
	a->v[a->n++] = (struct http_account){u, s, ulen, slen, hashed, NULL, 0};
	return true;
}

bool http_auth_add_plain(struct http_auth *a, const char *userpass)
{
	const char *colon = strchr(userpass, ':');
	if (!colon || colon == userpass) {
		errno = EINVAL;
		return false;
	}
	return add(a, userpass, (size_t)(colon - userpass), colon + 1, strlen(colon + 1), false);
}

static struct crypt_data *scratch(struct http_auth *a)
{
	if (!a->scratch)
		a->scratch = calloc(1, sizeof(struct crypt_data));
	return a->scratch;
}

/* crypt(3) of pass with the hash as setting; NULL when libcrypt cannot
 * use that hash (unknown method, "*", "!", a bad salt). */
static const char *hash_with(struct http_auth *a, const char *pass, const char *hash)
{
	struct crypt_data *d = scratch(a);
	if (!d)
		return NULL;
	const char *r = crypt_rn(pass, hash, d, (int)sizeof *d);
	/* some libcrypts give "*0"/"*1" for failure rather than NULL */
	return r && r[0] != '*' ? r : NULL;
}

int http_auth_load(struct http_auth *a, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096];
	unsigned ln = 0;
	size_t before = a->n;
	int rc = -1;
	while (fgets(line, sizeof line, f)) {
		ln++;
		size_t len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, ln);
			goto out;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char *colon = strchr(line, ':');
		if (!colon || colon == line || !colon[1]) {
			snprintf(err, errlen, "%s:%u: want 'user:hash'", path, ln);
			goto out;
		}
		/* htpasswd-style trailing fields (user:hash:comment) are not
		 * part of the hash */
		char *end = strchr(colon + 1, ':');
		if (end)
			*end = '\0';
		const char *hash = colon + 1;
		/* A real hash comes back its own length whatever the password;
		 * anything else ("x", a DES salt that is only a word) never
		 * matches. */
		const char *probe = hash_with(a, "", hash);
		if (!probe || strlen(probe) != strlen(hash)) {
			snprintf(err, errlen,
				 "%s:%u: '%.40s' is not a crypt(3) hash this system can check",
				 path, ln, hash);
			goto out;
		}
		if (!add(a, line, (size_t)(colon - line), hash, strlen(hash), true)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (a->n == before) {
		snprintf(err, errlen, "%s: no accounts in it", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

bool http_auth_check(struct http_auth *a, const struct http_cred *c)
{
	/* Every account's name and (plain) password compared, no early
	 * exit; then at most one crypt(3) run, done also for a user who is
	 * not there. */
	bool ok = false;
	const struct http_account *hashed = NULL, *any_hash = NULL;
	for (size_t i = 0; i < a->n; i++) {
		const struct http_account *e = &a->v[i];
		bool user = http_ct_equal(c->user, c->ulen, e->user, e->ulen);
		if (e->hashed) {
			if (!any_hash)
				any_hash = e;
			if (user && !hashed)
				hashed = e;
		} else {
			ok |= user & http_ct_equal(c->pass, c->plen, e->secret, e->slen);
		}
	}
	if (hashed && hashed->known &&
	    http_ct_equal(c->pass, c->plen, hashed->known, hashed->known_len))
		return true;
	const struct http_account *h = hashed ? hashed : any_hash;
	if (h) {
		/* the password must not hold a NUL crypt would cut it at */
		const char *r = hash_with(a, c->pass, h->secret);
		bool match = r && http_ct_equal(r, strlen(r), h->secret, h->slen) &&
			     strlen(c->pass) == c->plen;
		if (hashed && match) {
			struct http_account *e = &a->v[hashed - a->v];
			char *k = malloc(c->plen + 1);
			if (k) {
				memcpy(k, c->pass, c->plen + 1);
				free(e->known);
				e->known = k;
				e->known_len = c->plen;
			}
			ok = true;
		}
	}
	return ok;
}

void http_auth_free(struct http_auth *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].user);
		free(a->v[i].secret);
		free(a->v[i].known);
	}
	free(a->v);
	free(a->scratch);
	*a = (struct http_auth){0};
}

const char *http_auth_crypt_lib(void)
{
#ifdef XCRYPT_VERSION_STR
	return "libxcrypt " XCRYPT_VERSION_STR;
#else
	return "yes";
#endif
}
