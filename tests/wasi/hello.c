/* SPDX-License-Identifier: MIT */
/* Arguments and environment, printed in a stable order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	printf("hello, world\n");
	/* argv[0] is the path of the program, which differs between the builds. */
	printf("argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d]=<%s> len %zu\n", i, argv[i], strlen(argv[i]));
	int n = 0;
	while (environ && environ[n])
		n++;
	char **env = malloc(sizeof(*env) * (size_t)(n ? n : 1));
	if (!env)
		return 1;
	memcpy(env, environ, sizeof(*env) * (size_t)n);
	qsort(env, (size_t)n, sizeof(*env), cmp);
	printf("environ has %d variables\n", n);
	for (int i = 0; i < n; i++)
		printf("env: %s\n", env[i]);
	const char *g = getenv("GREETING");
	printf("GREETING=%s\n", g ? g : "(unset)");
	free(env);
	return 0;
}
