/* SPDX-License-Identifier: MIT */
/* Kernel: quicksort (insertion sort below 16) of 1M pseudo-random 32-bit keys, 3 times. */
#include <stdlib.h>

#include "kernel.h"

static void isort(uint32_t *v, long n)
{
	for (long i = 1; i < n; i++) {
		uint32_t x = v[i];
		long j = i - 1;
		while (j >= 0 && v[j] > x) {
			v[j + 1] = v[j];
			j--;
		}
		v[j + 1] = x;
	}
}

static void qsort_u32(uint32_t *v, long n)
{
	while (n > 16) {
		uint32_t a = v[0], b = v[n / 2], c = v[n - 1];
		uint32_t p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		long i = 0, j = n - 1;
		for (;;) {
			while (v[i] < p)
				i++;
			while (v[j] > p)
				j--;
			if (i >= j)
				break;
			uint32_t t = v[i];
			v[i] = v[j];
			v[j] = t;
			i++;
			j--;
		}
		/* Recurse into the smaller half, loop over the larger. */
		if (j + 1 < n - j - 1) {
			qsort_u32(v, j + 1);
			v += j + 1;
			n -= j + 1;
		} else {
			qsort_u32(v + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	isort(v, n);
}

int main(void)
{
	long n = 1 << 20;
	uint32_t *v = malloc(sizeof(*v) * (size_t)n);
	if (!v)
		return 1;
	uint64_t res = 0, x = 88172645463325252ull;
	int64_t t = 0;
	for (int r = 0; r < 3; r++) {
		for (long i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			v[i] = (uint32_t)x;
		}
		int64_t t0 = kernel_now_ns();
		qsort_u32(v, n);
		t += kernel_now_ns() - t0;
		for (long i = 1; i < n; i++)
			if (v[i - 1] > v[i])
				return 1;
		res = res * 31 + v[n / 3] + v[n - 1];
	}
	kernel_report("sort", res, t);
	free(v);
	return 0;
}
