// SPDX-License-Identifier: MIT OR Apache-2.0
// manythreads N: start N threads that sleep forever (for a dump with many
// tasks: `mkcorpus.sh tasks`). Small stacks, so that 20,000 fit in a few
// hundred MiB. Prints how many it started, then sleeps.
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleeper(void *arg) {
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv) {
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000, i;
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
	for (i = 0; i < n; i++) {
		if (pthread_create(&t, &attr, sleeper, NULL) != 0) {
			perror("pthread_create");
			break;
		}
	}
	printf("=== manythreads: %ld threads\n", i);
	fflush(stdout);
	for (;;)
		pause();
}
