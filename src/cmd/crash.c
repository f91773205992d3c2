#include "cmd/crash.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/addrname.h"
#include "target/procfs.h"
#include "target/signames.h"
#include "util/xalloc.h"

static void describe_addr(struct crash_report *c, pid_t pid,
			  const struct maps *maps)
{
	struct addr_name an;

	addr_name_lookup(pid, maps, c->addr, &an);
	if (!an.map) {
		snprintf(c->addr_where, sizeof(c->addr_where), "is unmapped");
		return;
	}
	snprintf(c->addr_where, sizeof(c->addr_where),
		 "is in %s (%s, offset 0x%" PRIx64 ")", addr_name_path(&an),
		 an.map->perms, c->addr - an.map->start + an.map->offset);
}

/* sym: the unwinder's name for the instruction (better than the
 * nearest .dynsym symbol in a stripped library), or NULL. */
static void describe_pc(struct crash_report *c, pid_t pid,
			const struct maps *maps, const struct frame *sym)
{
	struct addr_name an;
	char id[160] = "", name[300] = "";

	addr_name_lookup(pid, maps, c->pc, &an);
	if (!an.map) {
		snprintf(c->pc_where, sizeof(c->pc_where), "unmapped");
		return;
	}
	if (an.build_id[0])
		snprintf(id, sizeof(id), " (build-id %s)", an.build_id);
	/* The unwinder looked further (MiniDebugInfo, debug files): when
	 * it found no name, the nearest exported symbol would mislead. */
	if (sym && sym->function)
		snprintf(name, sizeof(name), ": %s+0x%" PRIx64, sym->function,
			 sym->offset);
	else if (!sym && an.symbol[0])
		snprintf(name, sizeof(name), ": %s", an.symbol);
	snprintf(c->pc_where, sizeof(c->pc_where), "in %s%s%s",
		 addr_name_path(&an), name, id);
}

/* When no native stack could be unwound: the faulting instruction. */
static void native_fallback(struct crash_report *c, pid_t pid,
			    const struct maps *maps, const char *why)
{
	struct addr_name an;

	c->native = xcalloc(1, sizeof(*c->native));
	c->nnative = 1;
	c->native[0].pc = c->pc;
	addr_name_lookup(pid, maps, c->pc, &an);
	if (an.map)
		snprintf(c->native[0].where, sizeof(c->native[0].where),
			 "%s%s%s", addr_map_name(an.map),
			 an.symbol[0] ? "!" : "", an.symbol);
	snprintf(c->native_note, sizeof(c->native_note),
		 "callers not shown: %s", why);
}

static const struct thread_stack *crashed_thread(const struct crash_report *c)
{
	for (size_t i = 0; i < c->dump.nthreads; i++)
		if (c->dump.threads[i].tid == c->tid)
			return &c->dump.threads[i];
	return NULL;
}

/* The crashing thread's innermost frame when the unwinder named it. */
static const struct frame *innermost_native(const struct crash_report *c)
{
	const struct thread_stack *t = crashed_thread(c);

	if (!t || !t->nframes || t->frames[0].kind != FRAME_NATIVE ||
	    t->frames[0].address != c->pc)
		return NULL;
	return &t->frames[0];
}

static bool has_native(const struct thread_stack *t)
{
	for (size_t i = 0; t && i < t->nframes; i++)
		if (t->frames[i].kind == FRAME_NATIVE)
			return true;
	return false;
}

static void signal_facts(struct crash_report *c, const siginfo_t *si)
{
	c->signo = si->si_signo;
	c->si_code = si->si_code;
	if (si->si_code <= 0)
		c->sender = si->si_pid;
	c->has_addr = signal_has_addr(si->si_signo, si->si_code);
	c->addr = (uint64_t)(uintptr_t)si->si_addr;
}

/* Other threads show their locals only when asked (--locals); the
 * crashing thread always does. */
static void drop_other_locals(struct crash_report *c)
{
	for (size_t i = 0; i < c->dump.nthreads; i++) {
		struct thread_stack *t = &c->dump.threads[i];

		if (t->tid == c->tid)
			continue;
		for (size_t k = 0; k < t->nframes; k++) {
			struct frame *f = &t->frames[k];

			for (size_t j = 0; j < f->nlocals; j++)
				free(f->locals[j].repr);
			free(f->locals);
			free(f->locals_error);
			f->locals = NULL;
			f->nlocals = 0;
			f->locals_error = NULL;
		}
	}
}

static void python_stacks(struct crash_report *c, struct heldcap *hc,
			  const struct hold *h, const struct heldcap_opts *o)
{
	struct heldcap_opts all = *o;
	struct err e = { 0 };

	all.locals = true;
	all.native = NATIVE_MERGED;
	all.native_tid = c->tid;
	if (heldcap_capture(hc, h, &all, &c->dump, &e)) {
		snprintf(c->python_note, sizeof(c->python_note), "%s",
			 e.msg[0] ? e.msg : "not a Python process");
		dump_release(&c->dump);
		heldcap_release(hc);
		return;
	}
	c->python_ok = true;
	if (!o->locals)
		drop_other_locals(c);
}

/* The crashing thread's native stack, merged with its Python frames
 * when there are any; the faulting instruction alone if unwinding gave
 * nothing. */
static void native_stack(struct crash_report *c, const struct hold *h,
			 const struct maps *maps)
{
	const struct thread_stack *t;
	struct err e = { 0 };

	if (!c->python_ok &&
	    heldcap_native_only(h, c->tid, &c->dump, &e)) {
		native_fallback(c, h->pid, maps, e.msg);
		return;
	}
	t = crashed_thread(c);
	if (!has_native(t))
		native_fallback(c, h->pid, maps, t && t->error ? t->error :
				"the native stack could not be unwound");
}

void crash_gather(struct crash_report *c, struct heldcap *hc,
		  const struct hold *h, pid_t tid, const siginfo_t *si,
		  const struct heldcap_opts *o)
{
	const struct held_thread *t = hold_thread(h, tid);
	struct maps maps = { 0 };
	struct err e = { 0 };

	memset(c, 0, sizeof(*c));
	memset(hc, 0, sizeof(*hc));
	c->pid = h->pid;
	c->tid = tid;
	if (procfs_comm(h->pid, c->comm, sizeof(c->comm)))
		snprintf(c->comm, sizeof(c->comm), "?");
	if (procfs_thread_comm(h->pid, tid, c->thread_comm,
			       sizeof(c->thread_comm)))
		snprintf(c->thread_comm, sizeof(c->thread_comm), "?");
	signal_facts(c, si);
	c->pc = t ? t->regs.rip : 0;
	procfs_read_maps(h->pid, &maps, &e);
	if (c->has_addr)
		describe_addr(c, h->pid, &maps);
	python_stacks(c, hc, h, o);
	native_stack(c, h, &maps);
	describe_pc(c, h->pid, &maps, innermost_native(c));
	maps_release(&maps);
}
