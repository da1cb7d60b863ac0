/* Fuzzes the forwarder's control protocol and the fault value parser
 * behind it: any line gets exactly one answer line, "ok ..." or
 * "error: ...", and what a line leaves in the settings is always within
 * their documented bounds. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "core/sbuf.h"
#include "forward/fault.h"
#include "forward/fault_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fault_settings st;
	fault_settings_init(&st);
	struct fault_set fs;
	fault_set_init(&fs, &st);
	struct sbuf out;
	sb_init(&out);
	/* Lines one after another on one set, as a controller sends them. */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		sb_reset(&out);
		fault_ctl_line(&fs, p, len, &out);
		p += len;
		if (!out.len)
			continue;
		const char *a = sb_str(&out);
		assert(!strncmp(a, "ok", 2) || !strncmp(a, "error: ", 7));
		assert(a[out.len - 1] == '\n' && memchr(a, '\n', out.len) == a + out.len - 1);
	}
	for (int d = 0; d < 2; d++) {
		assert(fs.st.flow[d].delay_ms >= 0 && fs.st.flow[d].delay_ms <= 86400000);
		assert(fs.st.flow[d].jitter_ms >= 0 && fs.st.flow[d].chunk_delay_ms >= 0);
	}
	assert(fs.st.loss >= 0 && fs.st.loss <= 100 && fs.st.duplicate >= 0 &&
	       fs.st.duplicate <= 100 && fs.st.reorder >= 0 && fs.st.reorder <= 100);
	assert(fs.st.timeout_after_ms >= 0 && fs.st.close_after.ms >= 0 &&
	       fs.st.reset_after.ms >= 0);
	sb_free(&out);
	return 0;
}
