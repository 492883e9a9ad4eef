/* SPDX-License-Identifier: MIT */
/*
 * vessel-reseed HEX: mix the bytes HEX into the kernel's entropy pool
 * (RNDADDENTROPY, credited) and reseed the CRNG from it at once
 * (RNDRESEEDCRNG).  A restored clone runs this with the fresh seed its VMM
 * sent, so that clones of one snapshot stop sharing the random state they
 * were saved with; writing to /dev/urandom alone would not reseed the CRNG
 * before its next scheduled reseed (up to a minute later).  Needs root.
 * Built statically for the default guest by guest/build.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define SEED_MAX 256

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int main(int argc, char **argv)
{
	/* struct rand_pool_info ends in a flexible array: the seed goes there. */
	static _Alignas(
	    struct rand_pool_info) unsigned char raw[sizeof(struct rand_pool_info) + SEED_MAX];
	struct rand_pool_info *info = (struct rand_pool_info *)raw;
	unsigned char *seed = (unsigned char *)info->buf;
	size_t n = argc == 2 ? strlen(argv[1]) : 0;
	if (n == 0 || n % 2 || n / 2 > SEED_MAX) {
		fprintf(stderr, "usage: vessel-reseed HEX (2 to %d hex digits, even)\n",
			2 * SEED_MAX);
		return 2;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(argv[1][2 * i]), lo = hexval(argv[1][2 * i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "vessel-reseed: not a hex string\n");
			return 2;
		}
		seed[i] = (unsigned char)(hi << 4 | lo);
	}
	info->buf_size = (int)(n / 2);
	info->entropy_count = (int)(n / 2 * 8);
	int fd = open("/dev/urandom", O_WRONLY);
	if (fd < 0 || ioctl(fd, RNDADDENTROPY, info) < 0) {
		fprintf(stderr, "vessel-reseed: add entropy: %s\n", strerror(errno));
		return 1;
	}
	/* ENODATA: the CRNG was not ready yet; the credited seed makes it so. */
	if (ioctl(fd, RNDRESEEDCRNG) < 0 && errno != ENODATA) {
		fprintf(stderr, "vessel-reseed: reseed: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
