/* The pure parsers of directory listings: the query that sorts them and
 * Accept asking for JSON. See http_listing.h. */
#include "config.h"

#include <string.h>

#include "http/http_listing.h"
#include "http/http_parse.h"

static bool is(const char *p, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(p, word, n) == 0;
}

void http_list_query_parse(const char *q, size_t n, struct http_list_query *out)
{
	*out = (struct http_list_query){HTTP_SORT_NAME, false, HTTP_LIST_AUTO};
	size_t i = 0;
	while (q && i < n) {
		size_t end = i;
		while (end < n && q[end] != '&' && q[end] != ';')
			end++;
		const char *eq = memchr(q + i, '=', end - i);
		if (eq) {
			const char *k = q + i, *v = eq + 1;
			size_t kl = (size_t)(eq - k), vl = (size_t)(q + end - v);
			if (is(k, kl, "sort")) {
				if (is(v, vl, "name"))
					out->sort = HTTP_SORT_NAME;
				else if (is(v, vl, "size"))
					out->sort = HTTP_SORT_SIZE;
				else if (is(v, vl, "date") || is(v, vl, "mtime"))
					out->sort = HTTP_SORT_DATE;
			} else if (is(k, kl, "order")) {
				if (is(v, vl, "asc"))
					out->desc = false;
				else if (is(v, vl, "desc"))
					out->desc = true;
			} else if (is(k, kl, "format")) {
				if (is(v, vl, "json"))
					out->format = HTTP_LIST_JSON;
				else if (is(v, vl, "html"))
					out->format = HTTP_LIST_HTML;
			}
		}
		i = end + 1;
	}
}

/* Is the parameter list p[0..n) (after a media range) "q=0", "q=0.0"..? */
static bool q_zero(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t end = i;
		while (end < n && p[end] != ';')
			end++;
		size_t a = i;
		while (a < end && (p[a] == ' ' || p[a] == '\t'))
			a++;
		size_t b = end;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		if (b - a >= 3 && (p[a] == 'q' || p[a] == 'Q') && p[a + 1] == '=') {
			bool zero = p[a + 2] == '0';
			for (size_t k = a + 3; zero && k < b; k++)
				zero = k == a + 3 ? p[k] == '.' : p[k] == '0';
			return zero;
		}
		i = end + 1;
	}
	return false;
}

bool http_accept_json(const char *v, size_t n)
{
	bool json = false, html = false;
	size_t i = 0;
	while (v && i < n) {
		size_t end = i;
		while (end < n && v[end] != ',')
			end++;
		size_t a = i;
		while (a < end && (v[a] == ' ' || v[a] == '\t'))
			a++;
		size_t b = a;
		while (b < end && v[b] != ';' && v[b] != ' ' && v[b] != '\t')
			b++;
		size_t semi = b;
		while (semi < end && v[semi] != ';')
			semi++;
		bool refused = semi < end && q_zero(v + semi + 1, end - semi - 1);
		if (b - a == 16 && http_mem_ieq(v + a, "application/json", 16))
			json |= !refused;
		else if (b - a == 9 && http_mem_ieq(v + a, "text/html", 9))
			html |= !refused;
		i = end + 1;
	}
	return json && !html;
}
