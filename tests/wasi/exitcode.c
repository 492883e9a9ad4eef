/* SPDX-License-Identifier: MIT */
/* Exit with the status given as argv[1], through exit() or returning from main. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int code = atoi(argv[2]);
	printf("exiting with %d via %s\n", code, argv[1]);
	fflush(stdout);
	if (!strcmp(argv[1], "exit"))
		exit(code);
	if (!strcmp(argv[1], "_Exit"))
		_Exit(code);
	return code;
}
