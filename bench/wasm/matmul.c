/* SPDX-License-Identifier: MIT */
/* Kernel: multiply two 256x256 matrices of doubles, 24 times (i-k-j order). */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define N 256

int main(void)
{
	double *a = malloc(sizeof(double) * N * N), *b = malloc(sizeof(double) * N * N);
	double *c = malloc(sizeof(double) * N * N);
	if (!a || !b || !c)
		return 1;
	for (int i = 0; i < N * N; i++) {
		a[i] = (double)((i * 7) % 13) - 6.0;
		b[i] = (double)((i * 5) % 11) * 0.5;
	}
	int64_t t0 = kernel_now_ns();
	for (int r = 0; r < 24; r++) {
		memset(c, 0, sizeof(double) * N * N);
		for (int i = 0; i < N; i++)
			for (int k = 0; k < N; k++) {
				double aik = a[i * N + k];
				for (int j = 0; j < N; j++)
					c[i * N + j] += aik * b[k * N + j];
			}
		a[r] += c[N * N - 1 - r] * 1e-9;
	}
	int64_t t = kernel_now_ns() - t0;
	double sum = 0;
	for (int i = 0; i < N * N; i++)
		sum += c[i] * (double)(i % 17);
	kernel_report("matmul", (uint64_t)(int64_t)sum, t);
	free(a);
	free(b);
	free(c);
	return 0;
}
