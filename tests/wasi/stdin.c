/* SPDX-License-Identifier: MIT */
/* Reads stdin to the end (fd_read), writes it back transformed, and sums it up. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	unsigned char buf[3000];
	uint64_t bytes = 0, lines = 0, sum = 0;
	ssize_t n;
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			bytes++;
			lines += buf[i] == '\n';
			sum = sum * 31 + buf[i];
			buf[i] = (unsigned char)toupper(buf[i]);
		}
		if (write(1, buf, (size_t)n) != n)
			return 1;
	}
	printf("\n%llu bytes, %llu lines, hash %016llx, last read %zd\n", (unsigned long long)bytes,
	       (unsigned long long)lines, (unsigned long long)sum, n);
	return 0;
}
