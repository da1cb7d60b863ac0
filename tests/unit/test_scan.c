/* The scanner against real loopback ports, on every backend: an open
 * port, a closed one, one whose accept queue is full (timeout), a bad list
 * and a bad host. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "core/loop.h"
#include "scan/scan.h"
#include "net/sock.h"
#include "tap.h"

static int listener(int backlog, uint16_t *port)
{
	struct sock_endpoint ep = {.host = "127.0.0.1", .port = "0", .socktype = SOCK_STREAM};
	struct sock_listen_opts lo = {.backlog = backlog};
	struct sock_addr a;
	char err[SOCK_ERRLEN];
	int fd = sock_listen(&ep, &lo, &a, err, sizeof err);
	if (fd >= 0)
		*port = ntohs(((struct sockaddr_in *)&a.ss)->sin_port);
	return fd;
}

struct collect {
	struct sbuf text;
	bool json;
};

static void on_result(void *arg, const struct scan_result *r)
{
	struct collect *c = arg;
	scan_format(&c->text, r, c->json);
}

static char *run(const char *backend, const char *ports, int timeout_ms, bool json, int *ret)
{
	char err[256] = "";
	struct collect c = {.json = json};
	sb_init(&c.text);
	struct loop *l = loop_new(backend, 0, err, sizeof err);
	struct scan_opts o = {.parallel = 4,
			      .timeout_ms = timeout_ms,
			      .result = on_result,
			      .arg = &c,
			      .err = err,
			      .errlen = sizeof err};
	*ret = scan_run(l, "127.0.0.1", ports, &o);
	loop_free(l);
	char *text = strdup(*ret < 0 ? err : sb_str(&c.text));
	sb_free(&c.text);
	return text;
}

int main(void)
{
	ok(scan_classify(0) == SCAN_OPEN && scan_classify(ECONNREFUSED) == SCAN_CLOSED &&
	       scan_classify(ETIMEDOUT) == SCAN_TIMEOUT && scan_classify(ENETUNREACH) == SCAN_ERROR,
	   "outcomes classified");
	uint16_t open_port, full_port, closed_port;
	int lfd = listener(16, &open_port);
	int cfd = listener(16, &closed_port);
	close(cfd); /* nothing listens there now */
	/* A listener whose accept queue is full drops new SYNs: a timeout. */
	int ffd = listener(16, &full_port);
	listen(ffd, 0); /* lowers the backlog to its minimum */
	struct sockaddr_in fa = {.sin_family = AF_INET,
				 .sin_port = htons(full_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fillers[4];
	for (int i = 0; i < 4; i++) {
		fillers[i] = sock_socket(AF_INET, SOCK_STREAM, 0);
		sock_connect_start(fillers[i], (struct sockaddr *)&fa, sizeof fa);
	}
	usleep(100000);

	const char *const backends[] = {"select", "poll", "epoll"};
	for (size_t b = 0; b < 3; b++) {
		const char *const *have = mux_backends();
		bool found = false;
		for (size_t i = 0; have[i]; i++)
			found |= strcmp(have[i], backends[b]) == 0;
		if (!found)
			continue;
		char ports[64], want[256];
		snprintf(ports, sizeof ports, "%u,%u,%u", closed_port, open_port, full_port);
		int ret;
		char *out = run(backends[b], ports, 300, false, &ret);
		snprintf(want, sizeof want,
			 "127.0.0.1 %u closed\n127.0.0.1 %u open\n127.0.0.1 %u timeout\n",
			 closed_port, open_port, full_port);
		ok(ret == 0 && strcmp(out, want) == 0, "%s: text lines in order, exit 0: %s",
		   backends[b], out);
		free(out);
		snprintf(ports, sizeof ports, "%u", closed_port);
		out = run(backends[b], ports, 300, true, &ret);
		snprintf(want, sizeof want,
			 "{\"host\":\"127.0.0.1\",\"address\":\"127.0.0.1\",\"port\":%u,"
			 "\"state\":\"closed\"}\n",
			 closed_port);
		ok(ret == 1 && strcmp(out, want) == 0, "%s: json, none open = 1: %s", backends[b],
		   out);
		free(out);
	}
	int ret;
	char *out = run("poll", "1-2,x!", 300, false, &ret);
	ok(ret == -1 && strstr(out, "bad character"), "bad list: %s", out);
	free(out);
	char err[256];
	struct loop *l = loop_new("poll", 0, err, sizeof err);
	struct scan_opts o = {.err = err, .errlen = sizeof err, .numeric = true};
	ok(scan_run(l, "not-an-address", "80", &o) == -1 && err[0], "bad host: %s", err);
	loop_free(l);
	for (int i = 0; i < 4; i++)
		close(fillers[i]);
	close(ffd);
	close(lfd);
	tap_done();
}
