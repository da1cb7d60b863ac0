#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#include "http/http_parse.h"
#include "http/http_path.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int http_path_clean(const char *t, size_t len, struct http_path *out)
{
	size_t i = 0;
	out->rel[0] = '\0';
	out->slash = false;
	out->dotfile = false;
	/* absolute-form: "http://authority/path" (RFC 9112 3.2.2). */
	size_t scheme = 0;
	if (len >= 7 && http_mem_ieq(t, "http://", 7))
		scheme = 7;
	else if (len >= 8 && http_mem_ieq(t, "https://", 8))
		scheme = 8;
	if (scheme) {
		i = scheme;
		while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
			i++;
		if (i >= len || t[i] != '/') {
			out->slash = true;
			return 0;
		}
	}
	if (i >= len || t[i] != '/')
		return 400;
	char *o = out->rel;
	size_t n = 0;	      /* bytes in rel */
	size_t seg = 0;	      /* where the current segment starts in rel */
	bool last_dir = true; /* the last segment was empty, "." or ".." */
	while (i <= len) {
		bool end = i == len || t[i] == '?' || t[i] == '#';
		if (end || t[i] == '/') {
			size_t sl = n - seg;
			if (sl == 0 || (sl == 1 && o[seg] == '.')) {
				n = seg; /* drop "" and "." */
				last_dir = true;
			} else if (sl == 2 && o[seg] == '.' && o[seg + 1] == '.') {
				if (seg == 0)
					return 400; /* above the root */
				/* back to the start of the previous segment */
				size_t p = seg - 1;
				while (p > 0 && o[p - 1] != '/')
					p--;
				n = p;
				last_dir = true;
			} else {
				if (o[seg] == '.')
					out->dotfile = true;
				if (n + 1 >= HTTP_PATH_MAX)
					return 414;
				o[n++] = '/';
				last_dir = false;
			}
			seg = n;
			if (end)
				break;
			i++;
			continue;
		}
		unsigned char c = (unsigned char)t[i];
		if (c == '%') {
			int h = i + 2 < len ? hexval(t[i + 1]) : -1;
			int l = h >= 0 ? hexval(t[i + 2]) : -1;
			if (l < 0)
				return 400;
			c = (unsigned char)(h * 16 + l);
			/* An encoded slash would be a separator nobody checked;
			 * NUL would cut the path short. */
			if (c == '/' || c == '\0')
				return 400;
			i += 3;
		} else {
			i++;
		}
		if (c < 0x20 || c == 0x7f)
			return 400;
		if (n + 1 >= HTTP_PATH_MAX)
			return 414;
		o[n++] = (char)c;
	}
	/* Each kept segment was followed by '/': drop the last one. */
	if (n > 0)
		n--;
	o[n] = '\0';
	out->slash = last_dir;
	return 0;
}

bool http_path_url(const char *rel, bool slash, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	if (outlen < 2)
		return false;
	out[n++] = '/';
	for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
		unsigned char c = *p;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			     c == '~' || c == '/';
		if (n + 4 >= outlen)
			return false;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (slash && n > 1) {
		if (n + 2 > outlen)
			return false;
		out[n++] = '/';
	}
	out[n] = '\0';
	return true;
}

bool http_symlinks_parse(const char *s, enum http_symlinks *out)
{
	if (strcmp(s, "inside") == 0)
		*out = HTTP_SYMLINKS_INSIDE;
	else if (strcmp(s, "follow") == 0)
		*out = HTTP_SYMLINKS_FOLLOW;
	else if (strcmp(s, "deny") == 0)
		*out = HTTP_SYMLINKS_DENY;
	else
		return false;
	return true;
}

/* deny without openat2: open each directory with O_NOFOLLOW, so no
 * component may be a symlink. */
static int open_nofollow_walk(int rootfd, const char *rel, int flags)
{
	char comp[HTTP_PATH_MAX];
	int dir = rootfd;
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		size_t l = (size_t)(slash - p);
		memcpy(comp, p, l);
		comp[l] = '\0';
		int next = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (dir != rootfd)
			close(dir);
		if (next < 0) {
			errno = e == ENOTDIR ? ELOOP : e;
			return -1;
		}
		dir = next;
		p = slash + 1;
	}
	int fd = openat(dir, p, flags | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	if (dir != rootfd)
		close(dir);
	errno = e;
	return fd;
}

static bool real_path_of(int fd, char *out, size_t outlen)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, out, outlen - 1);
	if (n <= 0 || (size_t)n >= outlen - 1)
		return false;
	out[n] = '\0';
	return true;
}

int http_path_open_compat(int rootfd, const char *rel, int flags, enum http_symlinks mode)
{
	const char *name = *rel ? rel : ".";
	if (mode == HTTP_SYMLINKS_DENY)
		return *rel ? open_nofollow_walk(rootfd, rel, flags)
			    : openat(rootfd, ".", flags | O_CLOEXEC);
	int fd = openat(rootfd, name, flags | O_CLOEXEC);
	if (fd < 0 || mode == HTTP_SYMLINKS_FOLLOW)
		return fd;
	/* inside: where did we land? */
	char root[HTTP_PATH_MAX], got[HTTP_PATH_MAX];
	if (!real_path_of(rootfd, root, sizeof root) || !real_path_of(fd, got, sizeof got)) {
		close(fd);
		errno = EACCES;
		return -1;
	}
	size_t rl = strlen(root);
	if (strcmp(root, "/") != 0 &&
	    (strncmp(got, root, rl) != 0 || (got[rl] != '\0' && got[rl] != '/'))) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

int http_path_open(int rootfd, const char *rel, int flags, enum http_symlinks mode)
{
	if (mode == HTTP_SYMLINKS_FOLLOW)
		return openat(rootfd, *rel ? rel : ".", flags | O_CLOEXEC);
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	static bool no_openat2;
	if (!no_openat2) {
		struct open_how how = {
		    .flags = (unsigned long long)(flags | O_CLOEXEC),
		    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};
		if (mode == HTTP_SYMLINKS_DENY)
			how.resolve |= RESOLVE_NO_SYMLINKS;
		long fd = syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
		/* ENOSYS: an old kernel; EPERM: a seccomp filter. */
		no_openat2 = true;
	}
#endif
	return http_path_open_compat(rootfd, rel, flags, mode);
}
