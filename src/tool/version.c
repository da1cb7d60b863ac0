/* sockctl --version: the version, then what this build has, one
 * "name: value" line each, or the same as one JSON object (--json). The
 * facts come from the layer that owns each library; this file only
 * prints them. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/mux.h"
#include "core/sbuf.h"
#include "dns/resolve_dns.h"
#include "http/http_auth.h"
#include "http/http_encode.h"
#include "net/tls.h"
#include "tool/cmd.h"

enum fact_kind { FACT_TEXT, FACT_BOOL, FACT_LIST };

struct fact {
	const char *name;
	enum fact_kind kind;
	const char *text;	 /* FACT_TEXT; NULL: not built in ("no", false) */
	bool yes;		 /* FACT_BOOL */
	const char *const *list; /* FACT_LIST, NULL-terminated */
};

static void put_text(struct sbuf *b, const struct fact *f, size_t n)
{
	/* The first line stays "sockctl VERSION", as scripts read it with
	 * head -1; the facts follow. */
	sb_printf(b, "sockctl %s\n", f[0].text);
	for (size_t i = 1; i < n; i++) {
		sb_printf(b, "%s: ", f[i].name);
		if (f[i].kind == FACT_TEXT)
			sb_puts(b, f[i].text ? f[i].text : "no");
		else if (f[i].kind == FACT_BOOL)
			sb_puts(b, f[i].yes ? "yes" : "no");
		else
			for (size_t j = 0; f[i].list[j]; j++)
				sb_printf(b, "%s%s", j ? ", " : "", f[i].list[j]);
		sb_putc(b, '\n');
	}
}

static void put_json(struct sbuf *b, const struct fact *f, size_t n)
{
	sb_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(b, ',');
		json_str(b, f[i].name);
		sb_putc(b, ':');
		if (f[i].kind == FACT_TEXT && f[i].text)
			json_str(b, f[i].text);
		else if (f[i].kind == FACT_TEXT || f[i].kind == FACT_BOOL)
			sb_puts(b, f[i].kind == FACT_BOOL && f[i].yes ? "true" : "false");
		else {
			sb_putc(b, '[');
			for (size_t j = 0; f[i].list[j]; j++) {
				if (j)
					sb_putc(b, ',');
				json_str(b, f[i].list[j]);
			}
			sb_putc(b, ']');
		}
	}
	sb_puts(b, "}\n");
}

bool version_json_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

int version_print(bool json)
{
	char zlib[32], brotli[32];
	bool has_zlib = http_coding_lib_version(HTTP_CODING_GZIP, zlib, sizeof zlib);
	bool has_brotli = http_coding_lib_version(HTTP_CODING_BR, brotli, sizeof brotli);
	/* The order both forms print. */
	const struct fact f[] = {
	    {.name = "version", .kind = FACT_TEXT, .text = PACKAGE_VERSION},
	    /* Run time and build time both: a library upgraded under the
	     * binary shows as two versions. */
	    {.name = "tls", .kind = FACT_TEXT, .text = tls_lib_version()},
	    {.name = "tls-build", .kind = FACT_TEXT, .text = tls_lib_build_version()},
	    {.name = "ktls", .kind = FACT_BOOL, .yes = tls_lib_ktls()},
	    {.name = "c-ares", .kind = FACT_TEXT, .text = rdns_cares_version()},
	    /* libedit tells no version at run time: pkg-config's, at configure. */
	    {.name = "libedit", .kind = FACT_TEXT, .text = SOCKCTL_LIBEDIT_VERSION},
	    {.name = "zlib", .kind = FACT_TEXT, .text = has_zlib ? zlib : NULL},
	    {.name = "brotli", .kind = FACT_TEXT, .text = has_brotli ? brotli : NULL},
	    {.name = "crypt", .kind = FACT_TEXT, .text = http_auth_crypt_lib()},
	    {.name = "mux", .kind = FACT_LIST, .list = mux_backends()},
	};
	struct sbuf b;
	sb_init(&b);
	(json ? put_json : put_text)(&b, f, sizeof f / sizeof f[0]);
	bool ok = !b.oom && fputs(sb_str(&b), stdout) >= 0;
	sb_free(&b);
	return fflush(stdout) == 0 && ok ? EXIT_OK : EXIT_FAIL;
}
