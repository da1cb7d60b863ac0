/* Filler with sequence numbers, reply matching and round-trip statistics. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "udp/udp_probe.h"

int main(void)
{
	unsigned char b[64];
	uint64_t seq = 0;
	char line[256];

	udp_filler(b, 20, 0x1234abcd);
	ok(memcmp(b, "000000001234abcdqrst", 20) == 0, "filler: sequence then letters: %.20s", b);
	ok(udp_filler_seq(b, 20, &seq) && seq == 0x1234abcd, "sequence read back");
	udp_filler_set_seq(b, 20, UINT64_MAX);
	ok(udp_filler_seq(b, 20, &seq) && seq == UINT64_MAX && b[16] == 'q',
	   "header rewritten alone");
	udp_filler(b, 10, 7);
	ok(memcmp(b, "abcdefghij", 10) == 0, "short filler: letters only");
	ok(!udp_filler_seq(b, 10, &seq), "short: no sequence");
	ok(!udp_filler_seq((const unsigned char *)"00000000000000g0", 16, &seq), "bad digit");
	ok(!udp_filler_seq((const unsigned char *)"0000000000000000", 15, &seq), "too short");

	struct probe *p = malloc(sizeof *p);
	probe_init(p);
	probe_sent(p, 1000);
	probe_sent(p, 2000);
	probe_sent(p, 3000);
	ok(probe_reply(p, false, 0, 1500), "in order: first reply times the first datagram");
	ok(probe_reply(p, false, 0, 4000), "second reply, second datagram");
	probe_format(p, true, line, sizeof line);
	ok(strcmp(line,
		  "sent 3, received 2, lost 1 (33.3%), rtt min/avg/max 0.500/1.250/2.000 ms") == 0,
	   "format: %s", line);

	probe_init(p);
	for (int i = 0; i < 5; i++)
		probe_sent(p, i * 100);
	ok(probe_reply(p, true, 3, 350), "by sequence: out of order");
	ok(!probe_reply(p, true, 3, 360), "a duplicate gives no second time");
	ok(!probe_reply(p, true, 9, 360), "a sequence never sent is not timed");
	ok(p->received == 3 && p->timed == 1 && p->rtt_min == 50, "counts: %llu received",
	   (unsigned long long)p->received);

	probe_init(p);
	for (int i = 0; i < PROBE_RING + 10; i++)
		probe_sent(p, i);
	ok(!probe_reply(p, true, 5, 99999), "too old to time");
	ok(probe_reply(p, true, PROBE_RING + 5, 99999), "recent one timed");
	probe_init(p);
	probe_format(p, true, line, sizeof line);
	ok(strcmp(line, "sent 0, received 0, lost 0 (0.0%)") == 0, "empty: %s", line);
	probe_sent(p, 1);
	probe_format(p, false, line, sizeof line);
	ok(strcmp(line, "sent 1, received 0") == 0, "no replies expected: %s", line);
	free(p);
	tap_done();
}
