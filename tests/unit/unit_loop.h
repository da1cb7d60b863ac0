/* For the unit tests that run on every mux backend: B is the backend of
 * the current pass (set by the test's main), mkloop makes a loop on it. */
#ifndef SOCKCTL_UNIT_LOOP_H
#define SOCKCTL_UNIT_LOOP_H

#include <stdio.h>

#include "core/loop.h"

static const char *B;

static struct loop *mkloop(void)
{
	char err[128];
	struct loop *l = loop_new(B, 64, err, sizeof err);
	if (!l)
		printf("# loop_new(%s): %s\n", B, err);
	return l;
}

#endif
