/* SPDX-License-Identifier: MIT */
/* Placeholder so the tree links while the interpreter is written. */
#include <stdlib.h>
#include "cpu/cpu.h"
#include "util/log.h"

struct cpu *cpu_create(const struct cpu_config *cfg, struct verr *err)
{
	(void)cfg;
	verr_set(err, 38, "cpu engine not built yet");
	return NULL;
}
void cpu_destroy(struct cpu *c)
{
	(void)c;
}
void cpu_reset(struct cpu *c, uint64_t pc, uint64_t a0, uint64_t a1, uint64_t a2)
{
	(void)c;
	(void)pc;
	(void)a0;
	(void)a1;
	(void)a2;
}
int cpu_run(struct cpu *c)
{
	(void)c;
	return -1;
}
void cpu_request_stop(struct cpu *c)
{
	(void)c;
}
struct hart_port cpu_hart_port(struct cpu *c)
{
	(void)c;
	return (struct hart_port){0};
}
uint64_t cpu_instret(const struct cpu *c)
{
	(void)c;
	return 0;
}
void cpu_flush_write_tlb(struct cpu *c)
{
	(void)c;
}
