/* The control socket of a forwarder's faults: a listening socket (Unix,
 * usually) served on the loop, where each controller sends commands one
 * per line and gets one answer line each (the protocol is
 * forward/fault_ctl.h). Several controllers at once; a bad line is
 * answered "error: ..." and changes nothing. Every change reaches the
 * connections open under fs at once. Commands are logged at LOG_LVL_INFO. */
#ifndef SOCKCTL_FAULT_CONTROL_H
#define SOCKCTL_FAULT_CONTROL_H

#include <stddef.h>

#include "core/loop.h"
#include "forward/fault.h"

/* Most controllers connected at once; more are refused. */
#define FAULT_CONTROL_MAX 64

struct fault_control;
/* Serves lfd (listening, non-blocking; owned from now on, even on
 * failure) for fs, which outlives the server. NULL with err. */
struct fault_control *fault_control_new(struct loop *l, int lfd, struct fault_set *fs, char *err,
					size_t errlen);
/* Closes the controllers and the listening socket. NULL is fine. */
void fault_control_free(struct fault_control *fc);

#endif
