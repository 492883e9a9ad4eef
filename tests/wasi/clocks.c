/* SPDX-License-Identifier: MIT */
/* Clocks, sleeping and randomness; prints only what is the same on every run. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static volatile uint64_t spin_sink;

int main(void)
{
	time_t now = time(NULL);
	/* After 2020-01-01 and before 2100. */
	printf("realtime plausible: %d\n", now > 1577836800 && now < 4102444800);
	int64_t a = ns(CLOCK_MONOTONIC), b = ns(CLOCK_MONOTONIC);
	printf("monotonic does not go back: %d\n", a > 0 && b >= a);
	struct timespec res;
	printf("monotonic resolution <= 1ms: %d\n", clock_getres(CLOCK_MONOTONIC, &res) == 0 &&
							res.tv_sec == 0 && res.tv_nsec <= 1000000);

	int64_t t0 = ns(CLOCK_MONOTONIC);
	struct timespec d = {0, 20 * 1000 * 1000};
	nanosleep(&d, NULL);
	int64_t slept = ns(CLOCK_MONOTONIC) - t0;
	printf("nanosleep 20ms slept >= 20ms: %d, < 2s: %d\n", slept >= 20000000,
	       slept < 2000000000);
	t0 = ns(CLOCK_MONOTONIC);
	usleep(5000);
	printf("usleep 5ms: %d\n", ns(CLOCK_MONOTONIC) - t0 >= 5000000);

	/* poll: a timeout alone, then stdout (a pipe or file) ready for writing. */
	t0 = ns(CLOCK_MONOTONIC);
	int pr = poll(NULL, 0, 15);
	printf("poll timeout: %d, waited >= 15ms: %d\n", pr, ns(CLOCK_MONOTONIC) - t0 >= 15000000);
	struct pollfd pfd = {.fd = 1, .events = POLLOUT};
	pr = poll(&pfd, 1, 1000);
	printf("poll stdout: %d, writable: %d\n", pr, !!(pfd.revents & POLLOUT));

	int64_t c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < 3000000; i++)
		spin_sink += (uint64_t)i * (uint64_t)i;
	printf("process cputime advances: %d\n", ns(CLOCK_PROCESS_CPUTIME_ID) > c0);

	unsigned char r1[32], r2[32];
	int ok = getentropy(r1, sizeof(r1)) == 0 && getentropy(r2, sizeof(r2)) == 0;
	int zero = 1;
	for (size_t i = 0; i < sizeof(r1); i++)
		zero &= r1[i] == 0;
	printf("getentropy works: %d, differs: %d, not all zero: %d\n", ok,
	       memcmp(r1, r2, sizeof(r1)) != 0, !zero);
	return 0;
}
