/* http serve's basic authentication: the Authorization parser, the
 * constant-time comparison, accounts on the command line and in a file
 * of crypt(3) hashes. */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http_auth.h"
#include "tap.h"

static struct http_cred c;

static int parse(const char *v)
{
	memset(&c, 0, sizeof c);
	return http_auth_basic_parse(v, strlen(v), &c);
}

static bool check(struct http_auth *a, const char *user, const char *pass)
{
	struct http_cred k = {.ulen = strlen(user), .plen = strlen(pass)};
	memcpy(k.user, user, k.ulen + 1);
	memcpy(k.pass, pass, k.plen + 1);
	return http_auth_check(a, &k);
}

static char tmpl[] = "/tmp/test_http_auth.XXXXXX";

static int load(struct http_auth *a, const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(tmpl, "w");
	fputs(text, f);
	fclose(f);
	return http_auth_load(a, tmpl, err, errlen);
}

int main(void)
{
	ok(parse("Basic dXNlcjpwYXNz") == HTTP_AUTH_BASIC && strcmp(c.user, "user") == 0 &&
	       strcmp(c.pass, "pass") == 0,
	   "user:pass decoded");
	ok(parse("bAsIc   dXNlcjpwYXNz") == HTTP_AUTH_BASIC, "scheme in any case, spaces");
	ok(parse("Basic dXNlcjpwYXM6Og==") == HTTP_AUTH_BASIC && strcmp(c.pass, "pas::") == 0,
	   "the password may hold ':'");
	ok(parse("Basic OnB3") == HTTP_AUTH_BASIC && c.ulen == 0 && strcmp(c.pass, "pw") == 0,
	   "empty user name parses (and matches no account)");
	ok(parse("Basic YWw6cHc") == HTTP_AUTH_BASIC && strcmp(c.pass, "pw") == 0,
	   "padding left out whole (as nginx takes it)");
	ok(parse("Basic YQBiOmM=") == HTTP_AUTH_BASIC && c.ulen == 3 && c.user[1] == '\0',
	   "a NUL inside is kept, counted by the length");
	ok(parse("Bearer abc") == HTTP_AUTH_ABSENT, "another scheme");
	ok(parse("Basicx dXNlcjpwYXNz") == HTTP_AUTH_ABSENT, "a longer scheme name");
	const char *bad[] = {"Basic",
			     "Basic ",
			     "Basic !!!!",
			     "Basic dXNlcg==",
			     "Basic dXNlcjpwYXNz=",
			     "Basic dXNlc=pwYXNz",
			     "Basic dXNlcjpwYXN=",
			     "Basic dXNlcjpwYXNz dXNl",
			     "Basic d",
			     "Basic YWw6cHd=",
			     "Basic dXNlcjpw\tYXNz"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ok(parse(bad[i]) == HTTP_AUTH_MALFORMED, "malformed: '%s'", bad[i]);
	char big[2400] = "Basic ";
	memset(big + 6, 'Q', 1400);
	big[1406] = '\0';
	ok(parse(big) == HTTP_AUTH_MALFORMED, "over the length limit: malformed, no overflow");

	ok(http_ct_equal("abc", 3, "abc", 3), "ct_equal: equal");
	ok(!http_ct_equal("abc", 3, "abd", 3), "ct_equal: last byte");
	ok(!http_ct_equal("ab", 2, "abc", 3) && !http_ct_equal("abc", 3, "ab", 2),
	   "ct_equal: prefix either way");
	ok(http_ct_equal("", 0, "", 0), "ct_equal: empty");

	struct http_auth a = {0};
	ok(!http_auth_add_plain(&a, "nocolon") && !http_auth_add_plain(&a, ":pw"),
	   "plain: need user and ':'");
	ok(http_auth_add_plain(&a, "al:p:w") && http_auth_add_plain(&a, "bo:"), "plain: added");
	ok(check(&a, "al", "p:w") && check(&a, "bo", ""), "plain: right");
	ok(!check(&a, "al", "p:") && !check(&a, "al", "p:ww") && !check(&a, "bo", "x") &&
	       !check(&a, "al", "") && !check(&a, "cy", "p:w"),
	   "plain: wrong password, other user");

	int fd = mkstemp(tmpl);
	close(fd);
	char err[512];
	struct crypt_data cd;
	memset(&cd, 0, sizeof cd);
	char s512[256], yes[256];
	snprintf(s512, sizeof s512, "%s", crypt_rn("s3cret", "$6$saltsalt$", &cd, sizeof cd));
	const char *ys = crypt_gensalt_rn("$y$", 0, NULL, 0, yes, sizeof yes);
	char yhash[256] = "";
	if (ys)
		snprintf(yhash, sizeof yhash, "%s", crypt_rn("pw2", yes, &cd, sizeof cd));
	char file[1024];
	snprintf(file, sizeof file, "# accounts\n\ncy:%s\ndi:%s:comment\n", s512,
		 *yhash ? yhash : s512);
	ok(load(&a, file, err, sizeof err) == 0, "file loads: %s", err);
	ok(check(&a, "cy", "s3cret"), "sha512crypt: right");
	ok(a.v[a.n - 2].known && strcmp(a.v[a.n - 2].known, "s3cret") == 0,
	   "a password the hash accepted is remembered");
	ok(check(&a, "cy", "s3cret"), "... and accepted again from there");
	ok(!check(&a, "cy", "s3cre") && !check(&a, "cy", "s3cretx") && !check(&a, "di", "s3cret"),
	   "... which takes no other password, nor for another user");
	ok(strcmp(a.v[a.n - 2].known, "s3cret") == 0, "a wrong one does not replace it");
	ok(!check(&a, "cy", "s3cre") && !check(&a, "cy", "s3cret "), "sha512crypt: wrong");
	ok(check(&a, "di", *yhash ? "pw2" : "s3cret"), "yescrypt (or its stand-in): right");
	ok(!check(&a, "zz", "s3cret"), "unknown user with a password that hashes right");
	ok(check(&a, "al", "p:w"), "plain accounts still there beside hashed ones");
	struct http_cred nul = {.ulen = 2, .plen = 7};
	memcpy(nul.user, "cy", 3);
	memcpy(nul.pass, "s3cret\0x", 8);
	ok(!http_auth_check(&a, &nul), "a NUL cutting the password short does not pass");

	snprintf(file, sizeof file, "ok:%s\nbroken\n", s512);
	ok(load(&a, file, err, sizeof err) < 0 && strstr(err, ":2:"),
	   "no colon: its line number (%s)", err);
	http_auth_free(&a);
	ok(load(&a, "# only\n", err, sizeof err) < 0 && strstr(err, "no accounts"),
	   "no accounts: an error (%s)", err);
	http_auth_free(&a);
	ok(load(&a, "x:notahash\n", err, sizeof err) < 0 && strstr(err, ":1:"),
	   "a hash libcrypt cannot use: an error (%s)", err);
	http_auth_free(&a);
	ok(load(&a, "x:!locked\n", err, sizeof err) < 0, "a locked hash: an error");
	http_auth_free(&a);
	ok(http_auth_load(&a, "/nonexistent/pw", err, sizeof err) < 0 &&
	       strstr(err, "No such file"),
	   "missing file (%s)", err);
	http_auth_free(&a);
	unlink(tmpl);
	tap_done();
}
