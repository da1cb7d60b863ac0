/* The path jail: cleaning targets and opening beneath the root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http_path.h"
#include "tap.h"

static struct http_path p;

static int clean(const char *t)
{
	return http_path_clean(t, strlen(t), &p);
}

static bool cleans_to(const char *t, const char *rel, bool slash)
{
	return clean(t) == 0 && strcmp(p.rel, rel) == 0 && p.slash == slash;
}

int main(void)
{
	ok(cleans_to("/", "", true), "root");
	ok(cleans_to("/a/b", "a/b", false), "plain");
	ok(cleans_to("/a/b/", "a/b", true), "trailing slash");
	ok(cleans_to("//a///b", "a/b", false), "empty segments dropped");
	ok(cleans_to("/a/./b/../c", "a/c", false), "dot segments");
	ok(cleans_to("/a/..", "", true), "back to the root");
	ok(cleans_to("/a%20b?x=/../..#f", "a b", false), "decoded once, query dropped");
	ok(cleans_to("/%252e%252e/x", "%2e%2e/x", false), "double encoding stays literal");
	ok(cleans_to("http://evil/a/b", "a/b", false), "absolute-form");
	ok(clean("/..") == 400, ".. above the root");
	ok(clean("/a/../../etc/passwd") == 400, "climbing out");
	ok(clean("/%2e%2e/etc/passwd") == 400, "encoded dots climbing out");
	ok(clean("/%2E%2E%2fetc") == 400, "encoded slash");
	ok(clean("/a%2Fb") == 400, "encoded slash alone");
	ok(clean("/a%00b") == 400, "encoded NUL");
	ok(clean("/a%0d%0aSet-Cookie:x") == 400, "encoded CRLF");
	ok(clean("/a%1") == 400 && clean("/a%zz") == 400, "bad escapes");
	ok(clean("a/b") == 400 && clean("*") == 400, "not origin-form");
	ok(clean("/.git/config") == 0 && p.dotfile, "dotfiles noticed");
	ok(clean("/a/.well/x") == 0 && p.dotfile, "dot directories noticed");
	ok(clean("/a/b.c") == 0 && !p.dotfile, "dots inside names are fine");

	char url[256];
	ok(http_path_url("a b/c", true, url, sizeof url) && strcmp(url, "/a%20b/c/") == 0,
	   "url encoding");
	ok(http_path_url("\\evil.com", true, url, sizeof url) && strcmp(url, "/%5Cevil.com/") == 0,
	   "a backslash never makes //host");
	ok(http_path_url("", true, url, sizeof url) && strcmp(url, "/") == 0, "root url");
	ok(http_path_url("a\r\nb", false, url, sizeof url) && !strchr(url, '\r'), "no CR in urls");

	/* a tree: root/in.txt, root/sub/, root/ok -> in.txt, root/out -> ../secret,
	 * root/abs -> /etc/passwd; dir/secret outside */
	char base[] = "/tmp/sockctl-test-path-XXXXXX";
	ok(mkdtemp(base) != NULL, "temp dir");
	char path[512];
	snprintf(path, sizeof path, "%s/root", base);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/root/sub", base);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/secret", base);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	snprintf(path, sizeof path, "%s/root/in.txt", base);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	snprintf(path, sizeof path, "%s/root/ok", base);
	ok(symlink("in.txt", path) == 0, "inside link");
	snprintf(path, sizeof path, "%s/root/out", base);
	ok(symlink("../secret", path) == 0, "outside link");
	snprintf(path, sizeof path, "%s/root/sub/up", base);
	ok(symlink("../../secret", path) == 0, "outside link in a subdirectory");
	snprintf(path, sizeof path, "%s/root", base);
	int root = open(path, O_RDONLY | O_DIRECTORY);

	int (*openers[2])(int, const char *, int, enum http_symlinks) = {http_path_open,
									 http_path_open_compat};
	for (int k = 0; k < 2; k++) {
		const char *w = k ? "compat" : "openat2";
		int fd;
		ok((fd = openers[k](root, "in.txt", O_RDONLY, HTTP_SYMLINKS_INSIDE)) >= 0,
		   "%s: a file", w);
		close(fd);
		ok((fd = openers[k](root, "", O_RDONLY, HTTP_SYMLINKS_INSIDE)) >= 0, "%s: the root",
		   w);
		close(fd);
		ok((fd = openers[k](root, "ok", O_RDONLY, HTTP_SYMLINKS_INSIDE)) >= 0,
		   "%s: inside: a link inside", w);
		close(fd);
		errno = 0;
		ok(openers[k](root, "out", O_RDONLY, HTTP_SYMLINKS_INSIDE) < 0 && errno == EXDEV,
		   "%s: inside: a link out is refused (EXDEV)", w);
		ok(openers[k](root, "sub/up", O_RDONLY, HTTP_SYMLINKS_INSIDE) < 0,
		   "%s: inside: a deeper link out is refused", w);
		errno = 0;
		ok(openers[k](root, "ok", O_RDONLY, HTTP_SYMLINKS_DENY) < 0 && errno == ELOOP,
		   "%s: deny: any link is refused (ELOOP)", w);
		ok((fd = openers[k](root, "sub", O_RDONLY, HTTP_SYMLINKS_DENY)) >= 0,
		   "%s: deny: a plain directory", w);
		close(fd);
		ok((fd = openers[k](root, "out", O_RDONLY, HTTP_SYMLINKS_FOLLOW)) >= 0,
		   "%s: follow: a link out is followed", w);
		close(fd);
		errno = 0;
		ok(openers[k](root, "nope", O_RDONLY, HTTP_SYMLINKS_INSIDE) < 0 && errno == ENOENT,
		   "%s: missing: ENOENT", w);
	}
	close(root);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	ok(system(cmd) == 0, "cleanup");

	enum http_symlinks m;
	ok(http_symlinks_parse("deny", &m) && m == HTTP_SYMLINKS_DENY &&
	       !http_symlinks_parse("x", &m),
	   "symlink modes");
	tap_done();
}
