/* SPDX-License-Identifier: MIT */
/*
 * vessel vmm: one VM in one process, configured and driven through the HTTP
 * API on a unix socket (src/api/, docs/api/openapi.yaml).  The process ends
 * when the VM has stopped for good; SIGTERM/SIGINT stop it hard.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/console_log.h"
#include "api/server.h"
#include "api/vm.h"
#include "cli/cli.h"
#include "util/log.h"

/* After the VM stops, keep answering this long so a poller sees 'stopped'. */
#define VMM_LINGER_MS 500

static void vmm_usage(FILE *f)
{
	fputs("usage: vessel vmm --api-sock PATH [--name NAME] [--log FILE]\n"
	      "\n"
	      "Run one VM in this process, configured and controlled through an HTTP/JSON API\n"
	      "on the unix socket PATH (see docs/api/openapi.yaml). The process exits when the\n"
	      "VM has stopped.\n"
	      "\n"
	      "options:\n"
	      "  --api-sock PATH  the unix socket to serve the API on (required)\n"
	      "  --name NAME      the VM's name, shown by GET /vm (default \"vm\")\n"
	      "  --log FILE       also append the guest's console output to FILE\n"
	      "  -h, --help       show this help\n"
	      "\n"
	      "exit status: 0 guest powered off, 1 error, 2 usage error, 4 guest reported\n"
	      "failure, 5 hard stop (stop action, SIGINT, SIGTERM)\n",
	      f);
}

struct vmm_opts {
	const char *sock, *name, *log;
};

/* -1 to go on, else the exit status. */
static int vmm_parse(int argc, char **argv, struct vmm_opts *o)
{
	static const struct option opts[] = {
	    {"api-sock", required_argument, NULL, 's'},
	    {"name", required_argument, NULL, 'n'},
	    {"log", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->sock = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'l':
			o->log = optarg;
			break;
		case 'h':
			vmm_usage(stdout);
			return 0;
		case ':':
			log_error("vmm: option %s needs an argument (try 'vessel vmm --help')",
				  argv[optind - 1]);
			return EXIT_USAGE;
		default:
			log_error("vmm: unknown option '%s' (try 'vessel vmm --help')",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("vmm: unexpected argument '%s' (try 'vessel vmm --help')", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->sock) {
		log_error("vmm: --api-sock PATH is required (try 'vessel vmm --help')");
		return EXIT_USAGE;
	}
	if (!*o->name) {
		log_error("vmm: --name: empty");
		return EXIT_USAGE;
	}
	return -1;
}

/* Wait for the VM's end; a SIGTERM/SIGINT/SIGHUP stops it hard. */
static void vmm_wait(struct vm *vm, int sig_fd, int ended_fd)
{
	for (;;) {
		struct pollfd pfd[2] = {{.fd = sig_fd, .events = POLLIN},
					{.fd = ended_fd, .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return;
		if (pfd[1].revents & POLLIN)
			return;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			ssize_t n = read(sig_fd, &si, sizeof(si));
			(void)n;
			struct verr err = {{0}};
			vm_do_action(vm, VM_ACTION_STOP, &err); /* 409 if already stopping */
		}
	}
}

int cmd_vmm(int argc, char **argv)
{
	struct vmm_opts o = {.name = "vm"};
	int st = vmm_parse(argc, argv, &o);
	if (st >= 0)
		return st;
	/* Signals arrive on a signalfd; every thread created from here on blocks them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	int ended_fd = eventfd(0, EFD_CLOEXEC);
	if (sig_fd < 0 || ended_fd < 0) {
		log_error("vmm: %s", strerror(errno));
		return EXIT_FAILURE_VMM;
	}
	struct verr err = {{0}};
	struct console_log *con = NULL;
	struct vm *vm = NULL;
	struct api_server *srv = NULL;
	st = EXIT_FAILURE_VMM;
	if (!(con = console_log_create(o.log, &err)) ||
	    !(vm = vm_create(o.name, con, ended_fd, &err)) ||
	    !(srv = api_server_start(o.sock, vm, con, &err))) {
		log_error("%s", err.msg);
		goto out;
	}
	vmm_wait(vm, sig_fd, ended_fd);
	/* Linger, unless another signal says not to. */
	struct pollfd pfd = {.fd = sig_fd, .events = POLLIN};
	poll(&pfd, 1, VMM_LINGER_MS);
	st = vm_exit_status(vm);
out:
	if (con)
		console_log_detach_all(con);
	api_server_stop(srv);
	vm_destroy(vm);
	console_log_destroy(con);
	close(sig_fd);
	close(ended_fd);
	return st;
}
