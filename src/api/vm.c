/* SPDX-License-Identifier: MIT */
#include "api/vm.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/console_log.h"
#include "cli/cli.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_input.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "machine/virt.h"
#include "net/netdev.h"
#include "util/clock.h"
#include "util/log.h"

/* One slot is the power button's. */
#define VM_DEVICE_SLOTS (VIRT_VIRTIO_SLOTS - 1)
#define VM_MAX_FWD	16

struct vm_drive {
	char id[VM_ID_MAX + 1];
	char *path;
	enum blk_format fmt;
	bool read_only;
	struct virtio_device *dev;
};

struct vm_nic {
	char id[VM_ID_MAX + 1];
	char *hostfwd[VM_MAX_FWD];
	unsigned nfwd;
	uint8_t mac[6];
	struct virtio_device *dev;
};

struct vm {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* state or reset_req changed */
	char *name;
	struct console_log *con;
	int ended_fd;

	enum vm_state state;
	const char *exit; /* why it stopped; NULL until then */
	int exit_status;

	/* Configuration. */
	unsigned vcpus;
	uint64_t memory_mib;
	char *cpuset; /* as given, NULL: no pinning */
	int cpus[CPU_SETSIZE];
	unsigned ncpus; /* host CPUs listed in cpuset */
	char *kernel, *initrd, *append, *firmware;
	struct vm_drive drive[VM_DEVICE_SLOTS];
	unsigned ndrives;
	struct vm_nic nic[VM_DEVICE_SLOTS];
	unsigned nnics;
	struct virtio_device *rng;
	struct virtio_device *button;

	/* Running. */
	struct vm_config cfg; /* what the machine is (re)built from */
	struct machine *m;
	pthread_t thread;
	bool thread_started;
	bool stop_req, reset_req;
	int64_t start_ns, stop_ns;
	unsigned boots;
};

static const char *const vm_state_names[] = {
    [VM_CONFIGURING] = "configuring",
    [VM_RUNNING] = "running",
    [VM_PAUSED] = "paused",
    [VM_STOPPED] = "stopped",
};

bool vm_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > VM_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int vm_need_configuring(struct vm *vm, struct verr *err)
{
	if (vm->state != VM_CONFIGURING)
		return verr_set(err, EBUSY,
				"the VM is %s: configuration can only change before start",
				vm_state_names[vm->state]);
	return 0;
}

static unsigned vm_slots_used(const struct vm *vm)
{
	return vm->ndrives + vm->nnics + (vm->rng ? 1 : 0);
}

static int vm_need_slot(struct vm *vm, struct verr *err)
{
	if (vm_slots_used(vm) >= VM_DEVICE_SLOTS)
		return verr_set(
		    err, ENOSPC,
		    "no free virtio slot: drives, interfaces and rng may use %d together",
		    VM_DEVICE_SLOTS);
	return 0;
}

/* ---- Creation ---------------------------------------------------------------- */

static char *vm_strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct vm *vm_create(const char *name, struct console_log *con, int ended_fd, struct verr *err)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->changed, NULL);
	vm->con = con;
	vm->ended_fd = ended_fd;
	vm->state = VM_CONFIGURING;
	vm->vcpus = 1;
	vm->memory_mib = VM_DEFAULT_MEMORY_MIB;
	vm->name = strdup(name);
	vm->append = strdup(VM_DEFAULT_APPEND);
	vm->firmware = strdup(VM_DEFAULT_FIRMWARE);
	vm->button = virtio_input_power_button_create();
	if (!vm->name || !vm->append || !vm->firmware || !vm->button) {
		verr_set(err, ENOMEM, "out of memory");
		vm_destroy(vm);
		return NULL;
	}
	return vm;
}

static void vm_drive_free(struct vm_drive *d)
{
	virtio_device_destroy(d->dev);
	free(d->path);
	memset(d, 0, sizeof(*d));
}

static void vm_nic_free(struct vm_nic *n)
{
	virtio_device_destroy(n->dev);
	for (unsigned i = 0; i < n->nfwd; i++)
		free(n->hostfwd[i]);
	memset(n, 0, sizeof(*n));
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	pthread_mutex_lock(&vm->lock);
	if (vm->m && vm->state != VM_STOPPED) {
		vm->stop_req = true;
		machine_request_quit(vm->m);
	}
	pthread_mutex_unlock(&vm->lock);
	if (vm->thread_started)
		pthread_join(vm->thread, NULL);
	/* The machine is gone; the devices it used go now. */
	for (unsigned i = 0; i < vm->ndrives; i++)
		vm_drive_free(&vm->drive[i]);
	for (unsigned i = 0; i < vm->nnics; i++)
		vm_nic_free(&vm->nic[i]);
	virtio_device_destroy(vm->rng);
	virtio_device_destroy(vm->button);
	free(vm->name);
	free(vm->cpuset);
	free(vm->kernel);
	free(vm->initrd);
	free(vm->append);
	free(vm->firmware);
	pthread_cond_destroy(&vm->changed);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

int vm_exit_status(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int st = vm->exit_status;
	pthread_mutex_unlock(&vm->lock);
	return st;
}

/* ---- Configuration ------------------------------------------------------------- */

/* "0-1,3" into a list of host CPUs, each in the process's allowed set. */
static int vm_parse_cpuset(const char *s, int *cpus, unsigned *n, struct verr *err)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return verr_set(err, errno, "cpuset: sched_getaffinity: %s", strerror(errno));
	*n = 0;
	const char *p = s;
	for (;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return verr_set(err, EINVAL,
					"cpuset \"%s\": expected CPU numbers like 0-1,3", s);
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				return verr_set(err, EINVAL,
						"cpuset \"%s\": expected CPU numbers like 0-1,3",
						s);
			hi = strtoul(p, &end, 10);
			p = end;
		}
		if (lo > hi || hi >= CPU_SETSIZE)
			return verr_set(err, EINVAL, "cpuset \"%s\": bad range %lu-%lu", s, lo, hi);
		for (unsigned long c = lo; c <= hi; c++) {
			if (!CPU_ISSET((int)c, &allowed))
				return verr_set(
				    err, EINVAL,
				    "cpuset \"%s\": host CPU %lu is not available to this "
				    "process",
				    s, c);
			if (*n == CPU_SETSIZE)
				return verr_set(err, EINVAL, "cpuset \"%s\": too many CPUs", s);
			cpus[(*n)++] = (int)c;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return verr_set(err, EINVAL,
					"cpuset \"%s\": expected CPU numbers like 0-1,3", s);
		p++;
	}
}

int vm_set_machine(struct vm *vm, unsigned vcpus, uint64_t memory_mib, const char *cpuset,
		   struct verr *err)
{
	if (vcpus < 1 || vcpus > VIRT_MAX_HARTS)
		return verr_set(err, EINVAL, "vcpus %u: must be 1 to %d", vcpus, VIRT_MAX_HARTS);
	if (memory_mib < VM_MIN_MEMORY_MIB || memory_mib > VM_MAX_MEMORY_MIB)
		return verr_set(err, EINVAL, "memory_mib %llu: must be %d to %d",
				(unsigned long long)memory_mib, VM_MIN_MEMORY_MIB,
				VM_MAX_MEMORY_MIB);
	int cpus[CPU_SETSIZE];
	unsigned ncpus = 0;
	pthread_mutex_lock(&vm->lock);
	int r = vm_need_configuring(vm, err);
	if (!r && cpuset)
		r = vm_parse_cpuset(cpuset, cpus, &ncpus, err);
	char *copy = NULL;
	if (!r && cpuset && !(copy = strdup(cpuset)))
		r = verr_set(err, ENOMEM, "out of memory");
	if (!r) {
		vm->vcpus = vcpus;
		vm->memory_mib = memory_mib;
		free(vm->cpuset);
		vm->cpuset = copy;
		vm->ncpus = ncpus;
		memcpy(vm->cpus, cpus, ncpus * sizeof(int));
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int vm_check_file(const char *what, const char *path, struct verr *err)
{
	struct stat st;
	if (!path)
		return 0;
	if (stat(path, &st))
		return verr_set(err, EINVAL, "%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return verr_set(err, EINVAL, "%s %s: not a regular file", what, path);
	return 0;
}

int vm_set_boot(struct vm *vm, const char *kernel, const char *initrd, const char *append,
		const char *firmware, struct verr *err)
{
	int r;
	if ((r = vm_check_file("kernel", kernel, err)) ||
	    (r = vm_check_file("initrd", initrd, err)) ||
	    (r = vm_check_file("firmware", firmware, err)))
		return r;
	char *k = vm_strdup_or_null(kernel), *i = vm_strdup_or_null(initrd);
	char *a = strdup(append ? append : VM_DEFAULT_APPEND);
	char *f = strdup(firmware ? firmware : VM_DEFAULT_FIRMWARE);
	pthread_mutex_lock(&vm->lock);
	r = vm_need_configuring(vm, err);
	if (!r && (!a || !f || (kernel && !k) || (initrd && !i)))
		r = verr_set(err, ENOMEM, "out of memory");
	if (!r) {
		free(vm->kernel);
		free(vm->initrd);
		free(vm->append);
		free(vm->firmware);
		vm->kernel = k;
		vm->initrd = i;
		vm->append = a;
		vm->firmware = f;
		k = i = a = f = NULL;
	}
	pthread_mutex_unlock(&vm->lock);
	free(k);
	free(i);
	free(a);
	free(f);
	return r;
}

static struct vm_drive *vm_find_drive(struct vm *vm, const char *id)
{
	for (unsigned i = 0; i < vm->ndrives; i++)
		if (!strcmp(vm->drive[i].id, id))
			return &vm->drive[i];
	return NULL;
}

static struct vm_nic *vm_find_nic(struct vm *vm, const char *id)
{
	for (unsigned i = 0; i < vm->nnics; i++)
		if (!strcmp(vm->nic[i].id, id))
			return &vm->nic[i];
	return NULL;
}

int vm_put_drive(struct vm *vm, const char *id, const char *path, enum blk_format fmt,
		 bool read_only, struct verr *err)
{
	if (!vm_id_valid(id))
		return verr_set(err, EINVAL, "drive id '%s': use 1 to %d of A-Z a-z 0-9 _ . -", id,
				VM_ID_MAX);
	pthread_mutex_lock(&vm->lock);
	int r = vm_need_configuring(vm, err);
	struct vm_drive *old = r ? NULL : vm_find_drive(vm, id);
	if (!r && !old)
		r = vm_need_slot(vm, err);
	pthread_mutex_unlock(&vm->lock);
	if (r)
		return r;
	/* Open outside the lock: an image on a slow disk must not hold up GET /vm. */
	struct vm_drive d = {.fmt = fmt, .read_only = read_only};
	snprintf(d.id, sizeof(d.id), "%s", id);
	struct blk *disk;
	struct verr e = {{0}};
	r = blk_open(path, fmt, read_only, &disk, &e);
	/* Written by another process now (a live migration's source on shared storage):
	 * taken over when the migration hands it over, or at start (docs/snapshot.md). */
	if (r == -EWOULDBLOCK && !read_only)
		r = blk_open_inactive(path, fmt, read_only, &disk, &e);
	if (r)
		return verr_set(err, EINVAL, "drive %s: %s", id, e.msg);
	d.dev = virtio_blk_create(disk, &e);
	if (!d.dev) {
		blk_close(disk);
		return verr_set(err, EINVAL, "drive %s: %s", id, e.msg);
	}
	char serial[21];
	snprintf(serial, sizeof(serial), "%s", id);
	virtio_blk_set_serial(d.dev, serial);
	if (!(d.path = strdup(path))) {
		vm_drive_free(&d);
		return verr_set(err, ENOMEM, "out of memory");
	}
	/* Check again: another request may have changed things meanwhile. */
	pthread_mutex_lock(&vm->lock);
	r = vm_need_configuring(vm, err);
	old = r ? NULL : vm_find_drive(vm, id);
	if (!r && !old)
		r = vm_need_slot(vm, err);
	if (!r) {
		if (old) {
			struct vm_drive gone = *old;
			*old = d;
			d = gone;
		} else {
			vm->drive[vm->ndrives++] = d;
			memset(&d, 0, sizeof(d));
		}
	}
	pthread_mutex_unlock(&vm->lock);
	vm_drive_free(&d);
	return r;
}

int vm_put_nic(struct vm *vm, const char *id, const char *const *hostfwd, unsigned nfwd,
	       const uint8_t *mac, struct verr *err)
{
	if (!vm_id_valid(id))
		return verr_set(err, EINVAL, "interface id '%s': use 1 to %d of A-Z a-z 0-9 _ . -",
				id, VM_ID_MAX);
	if (nfwd > VM_MAX_FWD)
		return verr_set(err, EINVAL, "interface %s: at most %d hostfwd rules", id,
				VM_MAX_FWD);
	if (mac && (mac[0] & 1))
		return verr_set(err, EINVAL, "interface %s: mac must be a unicast address", id);
	/* The backend spec of 'vessel run --net'; a comma would smuggle in another option. */
	size_t len = 8;
	for (unsigned i = 0; i < nfwd; i++) {
		if (!hostfwd[i][0] || strchr(hostfwd[i], ','))
			return verr_set(err, EINVAL, "interface %s: hostfwd \"%s\": not a rule", id,
					hostfwd[i]);
		len += strlen(hostfwd[i]) + 10;
	}
	char *spec = malloc(len);
	if (!spec)
		return verr_set(err, ENOMEM, "out of memory");
	strcpy(spec, "user");
	for (unsigned i = 0; i < nfwd; i++) {
		strcat(spec, ",hostfwd=");
		strcat(spec, hostfwd[i]);
	}
	pthread_mutex_lock(&vm->lock);
	int r = vm_need_configuring(vm, err);
	struct vm_nic *old = r ? NULL : vm_find_nic(vm, id);
	if (!r && !old)
		r = vm_need_slot(vm, err);
	unsigned index = old ? (unsigned)(old - vm->nic) : vm->nnics;
	pthread_mutex_unlock(&vm->lock);
	struct vm_nic n = {.nfwd = nfwd};
	snprintf(n.id, sizeof(n.id), "%s", id);
	if (mac)
		memcpy(n.mac, mac, 6);
	else
		virtio_net_default_mac(index, n.mac);
	struct net_backend *be = NULL;
	struct verr e = {{0}};
	if (!r && (r = net_backend_parse(spec, &be, &e)))
		r = verr_set(err, EINVAL, "interface %s: %s", id, e.msg);
	free(spec);
	if (r)
		return r;
	n.dev = virtio_net_create(be, n.mac, &e);
	if (!n.dev) {
		net_backend_destroy(be);
		return verr_set(err, EIO, "interface %s: %s", id, e.msg);
	}
	for (unsigned i = 0; i < nfwd; i++)
		if (!(n.hostfwd[i] = strdup(hostfwd[i]))) {
			vm_nic_free(&n);
			return verr_set(err, ENOMEM, "out of memory");
		}
	pthread_mutex_lock(&vm->lock);
	r = vm_need_configuring(vm, err);
	old = r ? NULL : vm_find_nic(vm, id);
	if (!r && !old)
		r = vm_need_slot(vm, err);
	if (!r) {
		if (old) {
			struct vm_nic gone = *old;
			*old = n;
			n = gone;
		} else {
			vm->nic[vm->nnics++] = n;
			memset(&n, 0, sizeof(n));
		}
	}
	pthread_mutex_unlock(&vm->lock);
	vm_nic_free(&n);
	return r;
}

int vm_set_rng(struct vm *vm, bool enabled, struct verr *err)
{
	struct virtio_device *gone = NULL;
	pthread_mutex_lock(&vm->lock);
	int r = vm_need_configuring(vm, err);
	if (!r && enabled && !vm->rng) {
		r = vm_need_slot(vm, err);
		if (!r && !(vm->rng = virtio_rng_create()))
			r = verr_set(err, ENOMEM, "out of memory");
	} else if (!r && !enabled) {
		gone = vm->rng;
		vm->rng = NULL;
	}
	pthread_mutex_unlock(&vm->lock);
	virtio_device_destroy(gone);
	return r;
}

/* ---- Running ----------------------------------------------------------------------- */

static void vm_notify_ended(struct vm *vm)
{
	uint64_t one = 1;
	ssize_t n = write(vm->ended_fd, &one, sizeof(one));
	(void)n;
}

/* Called with the lock held: the VM has stopped for good. */
static void vm_set_stopped(struct vm *vm, const char *why, int status)
{
	vm->state = VM_STOPPED;
	vm->exit = why;
	vm->exit_status = status;
	vm->stop_ns = host_monotonic_ns();
	pthread_cond_broadcast(&vm->changed);
	vm_notify_ended(vm);
}

static void vm_stopped_by(struct vm *vm, enum machine_exit how, const struct verr *err)
{
	switch (how) {
	case MACHINE_EXIT_POWEROFF:
		vm_set_stopped(vm, "poweroff", EXIT_GUEST_POWEROFF);
		return;
	case MACHINE_EXIT_REBOOT: /* only when the rebuild failed */
		vm_set_stopped(vm, "error", EXIT_FAILURE_VMM);
		return;
	case MACHINE_EXIT_GUEST_FAILURE:
		log_error("guest reported failure code %u", machine_guest_code(vm->m));
		vm_set_stopped(vm, "guest-failure", EXIT_GUEST_FAILED);
		return;
	case MACHINE_EXIT_USER_QUIT:
		vm_set_stopped(vm, "stopped", EXIT_USER_QUIT);
		return;
	case MACHINE_EXIT_ERROR:
		break;
	}
	log_error("%s", err->msg);
	vm_set_stopped(vm, "error", EXIT_FAILURE_VMM);
}

static void *vm_thread(void *arg)
{
	struct vm *vm = arg;
	for (;;) {
		struct verr err = {{0}};
		enum machine_exit how =
		    machine_run(vm->m, console_log_machine_console(vm->con), &err);
		pthread_mutex_lock(&vm->lock);
		bool restart = !vm->stop_req && (how == MACHINE_EXIT_REBOOT ||
						 (how == MACHINE_EXIT_USER_QUIT && vm->reset_req));
		if (!restart) {
			vm_stopped_by(vm, how, &err);
			machine_destroy(vm->m);
			vm->m = NULL;
			pthread_mutex_unlock(&vm->lock);
			return NULL;
		}
		/* Reboot in place: a new machine on the same devices and console. */
		machine_destroy(vm->m);
		vm->m = machine_create(&vm->cfg, &err);
		vm->reset_req = false;
		if (!vm->m) {
			log_error("reset: %s", err.msg);
			vm_set_stopped(vm, "error", EXIT_FAILURE_VMM);
			pthread_mutex_unlock(&vm->lock);
			return NULL;
		}
		vm->boots++;
		vm->state = VM_RUNNING;
		pthread_cond_broadcast(&vm->changed);
		pthread_mutex_unlock(&vm->lock);
	}
}

/* Called with the lock held.  'load' (may be NULL) restores a snapshot into the new machine. */
static int vm_start(struct vm *vm, int (*load)(struct machine *m, void *arg), void *arg,
		    struct verr *err)
{
	struct vm_config *c = &vm->cfg;
	*c = (struct vm_config){
	    .firmware = vm->firmware,
	    .kernel = vm->kernel,
	    .initrd = vm->initrd,
	    .cmdline = vm->append,
	    .mem_size = vm->memory_mib << 20,
	    .ncpus = vm->vcpus,
	    .console_out_fd = console_log_out_fd(vm->con),
	};
	/* Drives first (/dev/vda...), then interfaces, the rng, the power button. */
	unsigned slot = 0;
	for (unsigned i = 0; i < vm->ndrives; i++)
		c->virtio[slot++] = vm->drive[i].dev;
	for (unsigned i = 0; i < vm->nnics; i++)
		c->virtio[slot++] = vm->nic[i].dev;
	if (vm->rng)
		c->virtio[slot++] = vm->rng;
	c->virtio[slot] = vm->button;
	if (vm->ncpus) {
		c->pin_harts = true;
		for (unsigned i = 0; i < vm->vcpus; i++)
			c->hart_cpu[i] = vm->cpus[i % vm->ncpus];
	}
	struct verr e = {{0}};
	/* A drive opened while another process wrote its image is ours from now on
	 * (a restore or an incoming migration takes its drives itself). */
	for (unsigned i = 0; !load && i < vm->ndrives; i++)
		if (blk_activate(virtio_blk_disk(vm->drive[i].dev), &e))
			return verr_set(err, EBUSY, "start: drive %s: %s", vm->drive[i].id, e.msg);
	c->restoring = load != NULL;
	vm->m = machine_create(c, &e);
	c->restoring = false; /* a reboot later boots the firmware */
	if (!vm->m)
		return verr_set(err, EINVAL, "start: %s", e.msg);
	int r = load ? load(vm->m, arg) : 0;
	if (r) {
		machine_destroy(vm->m);
		vm->m = NULL;
		return r;
	}
	r = pthread_create(&vm->thread, NULL, vm_thread, vm);
	if (r) {
		machine_destroy(vm->m);
		vm->m = NULL;
		return verr_set(err, r, "start: cannot create the VM thread: %s", strerror(r));
	}
	vm->thread_started = true;
	vm->state = VM_RUNNING;
	vm->start_ns = host_monotonic_ns();
	vm->boots = 1;
	return 0;
}

static const char *const vm_action_names[] = {
    [VM_ACTION_START] = "start",       [VM_ACTION_PAUSE] = "pause", [VM_ACTION_RESUME] = "resume",
    [VM_ACTION_SHUTDOWN] = "shutdown", [VM_ACTION_STOP] = "stop",   [VM_ACTION_RESET] = "reset",
};

/* Which states each action is valid in (bit per enum vm_state). */
static const unsigned vm_action_states[] = {
    [VM_ACTION_START] = 1u << VM_CONFIGURING,
    [VM_ACTION_PAUSE] = 1u << VM_RUNNING,
    [VM_ACTION_RESUME] = 1u << VM_PAUSED,
    [VM_ACTION_SHUTDOWN] = 1u << VM_RUNNING,
    [VM_ACTION_STOP] = 1u << VM_CONFIGURING | 1u << VM_RUNNING | 1u << VM_PAUSED,
    [VM_ACTION_RESET] = 1u << VM_RUNNING | 1u << VM_PAUSED,
};

/* Called with the lock held: wait until the VM thread has acted on stop_req/reset_req. */
static void vm_wait_machine(struct vm *vm)
{
	while (vm->state != VM_STOPPED && (vm->stop_req || vm->reset_req))
		pthread_cond_wait(&vm->changed, &vm->lock);
}

int vm_do_action(struct vm *vm, enum vm_action a, struct verr *err)
{
	pthread_mutex_lock(&vm->lock);
	int r = 0;
	if (!(vm_action_states[a] & (1u << vm->state))) {
		r = verr_set(err, EBUSY, "cannot %s: the VM is %s", vm_action_names[a],
			     vm_state_names[vm->state]);
		goto out;
	}
	switch (a) {
	case VM_ACTION_START:
		r = vm_start(vm, NULL, NULL, err);
		break;
	case VM_ACTION_PAUSE:
		if (machine_pause(vm->m))
			r = verr_set(err, EBUSY, "cannot pause: the machine is stopping");
		else
			vm->state = VM_PAUSED;
		break;
	case VM_ACTION_RESUME:
		machine_resume(vm->m);
		vm->state = VM_RUNNING;
		break;
	case VM_ACTION_SHUTDOWN:
		/* The guest decides; a press that cannot be queued is one too many already. */
		virtio_input_power_button_press(vm->button);
		break;
	case VM_ACTION_STOP:
		if (vm->state == VM_CONFIGURING) {
			vm->start_ns = host_monotonic_ns();
			vm_set_stopped(vm, "stopped", EXIT_USER_QUIT);
			break;
		}
		vm->stop_req = true;
		machine_request_quit(vm->m);
		vm_wait_machine(vm);
		break;
	case VM_ACTION_RESET:
		vm->reset_req = true;
		machine_request_quit(vm->m);
		vm_wait_machine(vm);
		break;
	}
out:
	pthread_mutex_unlock(&vm->lock);
	return r;
}

/* ---- Answers ------------------------------------------------------------------------ */

json_t *vm_json_info(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int64_t up = 0;
	if (vm->state != VM_CONFIGURING)
		up = (vm->state == VM_STOPPED ? vm->stop_ns : host_monotonic_ns()) - vm->start_ns;
	json_t *j = json_pack("{s:s, s:s, s:o, s:i, s:I}", "name", vm->name, "state",
			      vm_state_names[vm->state], "exit",
			      vm->exit ? json_string(vm->exit) : json_null(), "pid", (int)getpid(),
			      "uptime_ms", (json_int_t)(up / 1000000));
	pthread_mutex_unlock(&vm->lock);
	return j;
}

json_t *vm_json_machine(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	json_t *j = json_pack("{s:i, s:I, s:o}", "vcpus", (int)vm->vcpus, "memory_mib",
			      (json_int_t)vm->memory_mib, "cpuset",
			      vm->cpuset ? json_string(vm->cpuset) : json_null());
	pthread_mutex_unlock(&vm->lock);
	return j;
}

static json_t *vm_json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *vm_json_boot(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	json_t *j = json_pack("{s:o, s:o, s:s, s:s}", "kernel", vm_json_str_or_null(vm->kernel),
			      "initrd", vm_json_str_or_null(vm->initrd), "append", vm->append,
			      "firmware", vm->firmware);
	pthread_mutex_unlock(&vm->lock);
	return j;
}

static json_t *vm_drive_json(const struct vm_drive *d)
{
	return json_pack("{s:s, s:s, s:s, s:b}", "id", d->id, "path", d->path, "format",
			 d->fmt == BLK_FMT_AUTO ? "auto" : blk_format_name(d->fmt), "read_only",
			 d->read_only);
}

static json_t *vm_nic_json(const struct vm_nic *n)
{
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2],
		 n->mac[3], n->mac[4], n->mac[5]);
	json_t *fwd = json_array();
	for (unsigned i = 0; i < n->nfwd; i++)
		json_array_append_new(fwd, json_string(n->hostfwd[i]));
	return json_pack("{s:s, s:s, s:o, s:s}", "id", n->id, "backend", "user", "hostfwd", fwd,
			 "mac", mac);
}

json_t *vm_json_drives(struct vm *vm)
{
	json_t *a = json_array();
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->ndrives; i++)
		json_array_append_new(a, vm_drive_json(&vm->drive[i]));
	pthread_mutex_unlock(&vm->lock);
	return a;
}

json_t *vm_json_drive(struct vm *vm, const char *id)
{
	pthread_mutex_lock(&vm->lock);
	struct vm_drive *d = vm_find_drive(vm, id);
	json_t *j = d ? vm_drive_json(d) : NULL;
	pthread_mutex_unlock(&vm->lock);
	return j;
}

json_t *vm_json_nics(struct vm *vm)
{
	json_t *a = json_array();
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nnics; i++)
		json_array_append_new(a, vm_nic_json(&vm->nic[i]));
	pthread_mutex_unlock(&vm->lock);
	return a;
}

unsigned vm_nic_macs(struct vm *vm, uint8_t mac[][6], unsigned max)
{
	pthread_mutex_lock(&vm->lock);
	unsigned n = vm->nnics < max ? vm->nnics : max;
	for (unsigned i = 0; i < n; i++)
		memcpy(mac[i], vm->nic[i].mac, 6);
	pthread_mutex_unlock(&vm->lock);
	return n;
}

struct virtio_device *vm_power_button(struct vm *vm)
{
	return vm->button; /* made with the VM, freed with it */
}

json_t *vm_json_nic(struct vm *vm, const char *id)
{
	pthread_mutex_lock(&vm->lock);
	struct vm_nic *n = vm_find_nic(vm, id);
	json_t *j = n ? vm_nic_json(n) : NULL;
	pthread_mutex_unlock(&vm->lock);
	return j;
}

json_t *vm_json_rng(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	json_t *j = json_pack("{s:b}", "enabled", vm->rng != NULL);
	pthread_mutex_unlock(&vm->lock);
	return j;
}

static uint64_t vm_host_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long size = 0, rss = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

json_t *vm_json_metrics(struct vm *vm)
{
	json_t *vcpus = json_array(), *block = json_array(), *net = json_array();
	uint64_t touched = 0;
	pthread_mutex_lock(&vm->lock);
	if (vm->m) {
		unsigned n = machine_hart_count(vm->m);
		for (unsigned i = 0; i < n; i++) {
			struct machine_hart_stats st;
			machine_hart_stats(vm->m, i, &st);
			json_array_append_new(vcpus,
					      json_pack("{s:i, s:I, s:I}", "id", (int)i,
							"cpu_time_ns", (json_int_t)st.cpu_ns,
							"instructions", (json_int_t)st.instret));
		}
		touched = machine_mem_touched(vm->m);
	}
	for (unsigned i = 0; i < vm->ndrives; i++) {
		struct virtio_blk_stats s;
		virtio_blk_get_stats(vm->drive[i].dev, &s);
		json_array_append_new(
		    block,
		    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "id", vm->drive[i].id, "read_bytes",
			      (json_int_t)s.read_bytes, "write_bytes", (json_int_t)s.write_bytes,
			      "read_ops", (json_int_t)s.read_ops, "write_ops",
			      (json_int_t)s.write_ops, "flush_ops", (json_int_t)s.flush_ops));
	}
	for (unsigned i = 0; i < vm->nnics; i++) {
		struct virtio_net_stats s;
		virtio_net_get_stats(vm->nic[i].dev, &s);
		json_array_append_new(
		    net, json_pack("{s:s, s:I, s:I, s:I, s:I}", "id", vm->nic[i].id, "rx_bytes",
				   (json_int_t)s.rx_bytes, "tx_bytes", (json_int_t)s.tx_bytes,
				   "rx_packets", (json_int_t)s.rx_packets, "tx_packets",
				   (json_int_t)s.tx_packets));
	}
	pthread_mutex_unlock(&vm->lock);
	return json_pack("{s:o, s:o, s:o, s:I, s:I}", "vcpus", vcpus, "block", block, "net", net,
			 "host_rss_bytes", (json_int_t)vm_host_rss(), "guest_mem_touched_bytes",
			 (json_int_t)touched);
}

/* ---- Snapshots (api/snapshot_routes.c) ------------------------------------------------ */

int vm_with_paused_machine(struct vm *vm, int (*fn)(const struct vm_snapshot_ctx *c, void *arg),
			   void *arg, struct verr *err)
{
	pthread_mutex_lock(&vm->lock);
	int r = 0;
	bool was_running = vm->state == VM_RUNNING;
	if (!was_running && vm->state != VM_PAUSED) {
		r = verr_set(err, EBUSY,
			     "the VM is %s: only a running or paused VM has a state to save",
			     vm_state_names[vm->state]);
		goto out;
	}
	if (was_running && machine_pause(vm->m)) {
		r = verr_set(err, EBUSY, "the machine is stopping");
		goto out;
	}
	struct vm_snapshot_ctx c = {.m = vm->m, .ndrives = vm->ndrives};
	for (unsigned i = 0; i < vm->ndrives; i++)
		c.drive[i] =
		    (struct vm_snapshot_drive){vm->drive[i].id, vm->drive[i].path, vm->drive[i].fmt,
					       vm->drive[i].read_only, vm->drive[i].dev};
	r = fn(&c, arg);
	if (was_running)
		machine_resume(vm->m);
out:
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_with_running_machine(struct vm *vm, int (*fn)(const struct vm_snapshot_ctx *c, void *arg),
			    void *arg, struct verr *err)
{
	pthread_mutex_lock(&vm->lock);
	int r;
	if (vm->state != VM_RUNNING) {
		r = verr_set(err, EBUSY, "the VM is %s: only a running VM can migrate",
			     vm_state_names[vm->state]);
	} else {
		struct vm_snapshot_ctx c = {.m = vm->m};
		r = fn(&c, arg);
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_start_restored(struct vm *vm, int (*load)(struct machine *m, void *arg), void *arg,
		      struct verr *err)
{
	pthread_mutex_lock(&vm->lock);
	int r = vm_need_configuring(vm, err);
	if (!r)
		r = vm_start(vm, load, arg, err);
	pthread_mutex_unlock(&vm->lock);
	return r;
}
