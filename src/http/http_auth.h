/* Basic authentication for http serve (RFC 7617).
 *
 * http_auth_basic_parse() is the Authorization header parser: pure, no
 * allocation, strict base64 (padding as RFC 4648 says, no bytes after it,
 * no white space inside), the user name up to the first ':'.
 *
 * struct http_auth holds the accounts: "user:pass" pairs from the command
 * line and "user:hash" lines of a file (crypt(3) hashes: whatever the
 * system's libcrypt knows: yescrypt, sha512crypt, bcrypt, ...).
 * http_auth_check() compares in constant time: every account is looked
 * at whatever matched, and a user name that is not there still costs a
 * crypt(3) run, so the time taken tells nothing about which part was
 * wrong. A password a hash has accepted is remembered for its account (a
 * right one is then answered without the hash's cost; a wrong one still
 * pays it). Library code: errors come back as text. */
#ifndef SOCKCTL_HTTP_AUTH_H
#define SOCKCTL_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_AUTH_CRED_MAX  512 /* decoded user or password bytes; longer is malformed */
#define HTTP_AUTH_REALM_MAX 200 /* --realm: printable ASCII, no quote or backslash */

struct http_cred {
	char user[HTTP_AUTH_CRED_MAX + 1], pass[HTTP_AUTH_CRED_MAX + 1];
	size_t ulen, plen;
};

enum { HTTP_AUTH_ABSENT = 0, HTTP_AUTH_BASIC = 1, HTTP_AUTH_MALFORMED = -1 };
/* Parses an Authorization field value. HTTP_AUTH_BASIC with *out filled
 * (both NUL-terminated; either may hold NUL bytes: the lengths count);
 * HTTP_AUTH_ABSENT for another scheme; HTTP_AUTH_MALFORMED for Basic with
 * bad base64, no ':' or too long. */
int http_auth_basic_parse(const char *v, size_t len, struct http_cred *out);

struct http_account {
	char *user;   /* owned */
	char *secret; /* owned: the password, or its crypt(3) hash */
	size_t ulen, slen;
	bool hashed;
	/* hashed: the password crypt(3) last said is right (owned, NULL
	 * until then), so a slow hash costs its time once, not on every
	 * request while the event loop waits */
	char *known;
	size_t known_len;
};

struct http_auth {
	struct http_account *v; /* owned */
	size_t n, cap;
	void *scratch; /* owned: crypt_rn's work area, made on first use */
};

/* Adds "user:pass" (the password may hold ':'). false: no ':', an empty
 * user name, or out of memory (errno ENOMEM). */
bool http_auth_add_plain(struct http_auth *a, const char *userpass);
/* Adds the accounts of a file: one "user:hash" a line, blank lines and
 * lines starting with '#' skipped. 0, or -1 with a line "PATH:LINE: why"
 * (or "PATH: why") in err. A hash libcrypt cannot use is an error here,
 * not a locked account found at the first request. */
int http_auth_load(struct http_auth *a, const char *path, char *err, size_t errlen);
/* Are these credentials one of the accounts? */
bool http_auth_check(struct http_auth *a, const struct http_cred *c);
void http_auth_free(struct http_auth *a);

/* Constant-time equality of two byte strings (the time depends on the
 * lengths only). */
bool http_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* The crypt(3) library this build was compiled against (for --version):
 * "libxcrypt 4.4.33", or "yes" for another libcrypt, which tells no
 * version. */
const char *http_auth_crypt_lib(void);

#endif
