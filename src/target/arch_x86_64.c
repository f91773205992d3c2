/* x86-64: registers, the system-call restart rule and the shim's machine
 * code.  See arch.h. */
#include "target/arch.h"

#include <cpuid.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#define RED_ZONE 128
/* Kernel-internal restart codes a thread stopped in a system call can
 * hold in rax (include/linux/errno.h). */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* Data page layout, offsets from the start of the data page. */
#define D_IMAGE 0x00  /* 15 registers and rflags, in pop order */
#define D_RSP 0x80
#define D_RIP 0x88
#define D_ERRNO 0x90
#define D_GSTATE 0x94
#define D_DONE 0x98
#define D_STUB_DONE 0x99
#define D_SIGMASK 0xa0    /* the thread's signal mask at shim entry */
#define D_STUB_MASK 0xa8  /* ... at pending-call stub entry */
#define D_LIBC_SYSCALL 0xb0 /* address of the C library's syscall() */
#define D_NONE ((size_t)-1)
#define D_CODE 0x100
#define STUB_OFF 0x400 /* pending-call stub in the code page */

const uint8_t arch_syscall_insn[2] = { 0x0f, 0x05 };

long arch_syscall_nr(const arch_regs *r)
{
	return (long)r->orig_rax;
}

uint64_t arch_syscall_arg0(const arch_regs *r)
{
	return r->rdi;
}

uint64_t arch_pc(const arch_regs *r)
{
	return r->rip;
}

uint64_t arch_sp(const arch_regs *r)
{
	return r->rsp;
}

void arch_setup_syscall(arch_regs *r, uint64_t gadget, long nr,
			const uint64_t a[6])
{
	r->rip = gadget;
	r->rax = (uint64_t)nr;
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
	/* No restart logic for the call we interrupted: it is redone when
	 * the saved registers are put back. */
	r->orig_rax = (uint64_t)-1;
}

int64_t arch_syscall_result(const arch_regs *r)
{
	return (int64_t)r->rax;
}

void arch_setup_shim_entry(arch_regs *r, uint64_t entry)
{
	r->rsp = (r->rsp - RED_ZONE - 256) & ~(uint64_t)15;
	r->rip = entry;
	r->orig_rax = (uint64_t)-1;
}

/* Where the thread must go on and with what in rax: what the kernel would
 * have done on resuming it without a signal handler to run. */
static void resume_point(const arch_regs *r, uint64_t *rip, uint64_t *rax)
{
	*rip = r->rip;
	*rax = r->rax;
	if ((int64_t)r->orig_rax < 0)
		return;
	switch ((int64_t)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		*rax = r->orig_rax;
		*rip -= 2;
		break;
	case -ERESTART_RESTARTBLOCK:
		*rax = SYS_restart_syscall;
		*rip -= 2;
		break;
	}
}

/* XSAVE where the CPU and kernel have it (all enabled components), else
 * FXSAVE (x87 and SSE). */
static bool have_xsave(unsigned *size)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))
		return false;
	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d) || !b)
		return false;
	*size = b;
	return true;
}

static size_t xsave_size(void)
{
	unsigned size;

	return have_xsave(&size) ? size : 512;
}

static size_t data_len(const struct shim_spec *sp)
{
	size_t xs = (D_CODE + strlen(sp->code) + 1 + 63) & ~(size_t)63;

	return (xs + xsave_size() + 4095) & ~(size_t)4095;
}

size_t arch_shim_size(const struct shim_spec *sp)
{
	return ARCH_SHIM_CODE_LEN + data_len(sp);
}

size_t arch_shim_done_offset(enum shim_kind kind)
{
	return ARCH_SHIM_CODE_LEN + (kind == SHIM_RUN ? D_DONE : D_STUB_DONE);
}

struct emit {
	uint8_t *code;
	size_t pos;
	uint64_t base;
};

static void bytes(struct emit *m, const void *b, size_t n)
{
	memcpy(m->code + m->pos, b, n);
	m->pos += n;
}

static void byte(struct emit *m, uint8_t b)
{
	m->code[m->pos++] = b;
}

/* A rip-relative disp32 to data offset d; tail is how many bytes of the
 * instruction follow the displacement. */
static void rel(struct emit *m, size_t d, size_t tail)
{
	int64_t target = (int64_t)(ARCH_SHIM_CODE_LEN + d);
	int32_t disp = (int32_t)(target - (int64_t)(m->pos + 4 + tail));

	bytes(m, &disp, 4);
}

/* op [rip + data offset d] with the given opcode bytes (modrm included). */
static void op_rip(struct emit *m, const uint8_t *op, size_t n, size_t d)
{
	bytes(m, op, n);
	rel(m, d, 0);
}

static void call_abs(struct emit *m, uint64_t fn)
{
	byte(m, 0x48), byte(m, 0xb8); /* mov rax, imm64 */
	bytes(m, &fn, 8);
	byte(m, 0xff), byte(m, 0xd0); /* call rax */
}

static void eax_edx_all_ones(struct emit *m)
{
	static const uint8_t b[] = { 0xb8, 0xff, 0xff, 0xff, 0xff,   /* eax */
				     0xba, 0xff, 0xff, 0xff, 0xff }; /* edx */

	bytes(m, b, sizeof(b));
}

static void ext_state(struct emit *m, size_t xs, bool save)
{
	unsigned size;
	/* REX.W 0F AE /r with rip-relative modrm: xsave64 /4, xrstor64 /5,
	 * fxsave64 /0, fxrstor64 /1 */
	uint8_t op[4] = { 0x48, 0x0f, 0xae, 0 };

	if (have_xsave(&size)) {
		eax_edx_all_ones(m);
		op[3] = save ? 0x25 : 0x2d;
	} else {
		op[3] = save ? 0x05 : 0x0d;
	}
	op_rip(m, op, 4, xs);
}

static void errno_copy(struct emit *m, const struct shim_spec *sp, bool save)
{
	static const uint8_t ld[] = { 0x8b, 0x08 }, st[] = { 0x89, 0x08 };
	static const uint8_t st_rip[] = { 0x89, 0x0d }, ld_rip[] = { 0x8b, 0x0d };

	call_abs(m, sp->errno_location);
	if (save) {
		bytes(m, ld, 2);                  /* mov ecx, [rax] */
		op_rip(m, st_rip, 2, D_ERRNO);    /* mov [errno], ecx */
	} else {
		op_rip(m, ld_rip, 2, D_ERRNO);    /* mov ecx, [errno] */
		bytes(m, st, 2);                  /* mov [rax], ecx */
	}
}

static void body_run(struct emit *m, const struct shim_spec *sp)
{
	static const uint8_t st_eax[] = { 0x89, 0x05 };       /* mov [d], eax */
	static const uint8_t lea_rdi[] = { 0x48, 0x8d, 0x3d }; /* lea rdi, [d] */
	static const uint8_t xor_esi[] = { 0x31, 0xf6 };
	static const uint8_t ld_edi[] = { 0x8b, 0x3d };       /* mov edi, [d] */

	call_abs(m, sp->gil_ensure);
	op_rip(m, st_eax, 2, D_GSTATE);
	op_rip(m, lea_rdi, 3, D_CODE);
	bytes(m, xor_esi, 2);
	call_abs(m, sp->run_string);
	op_rip(m, ld_edi, 2, D_GSTATE);
	call_abs(m, sp->gil_release);
}

/* rt_sigprocmask(how, set, old, 8) with set and old data offsets (D_NONE
 * for NULL).  The mask is read by the shim itself rather than through
 * PTRACE_GETSIGMASK: a thread stopped in ppoll, pselect6, epoll_pwait or
 * rt_sigsuspend still has the call's temporary mask at its ptrace stop,
 * and the kernel puts its own mask back only on the way to user space. */
static void sigmask_call(struct emit *m, int how, size_t set, size_t old)
{
	static const uint8_t mov_eax[] = { 0xb8, SYS_rt_sigprocmask, 0, 0, 0 };
	static const uint8_t lea_rsi[] = { 0x48, 0x8d, 0x35 };
	static const uint8_t lea_rdx[] = { 0x48, 0x8d, 0x15 };
	static const uint8_t xor_esi[] = { 0x31, 0xf6 }, xor_edx[] = { 0x31, 0xd2 };
	static const uint8_t mov_r10d_8[] = { 0x41, 0xba, 8, 0, 0, 0 };
	const uint8_t mov_edi[] = { 0xbf, (uint8_t)how, 0, 0, 0 };

	bytes(m, mov_eax, sizeof(mov_eax));
	bytes(m, mov_edi, sizeof(mov_edi));
	if (set == D_NONE)
		bytes(m, xor_esi, 2);
	else
		op_rip(m, lea_rsi, 3, set);
	if (old == D_NONE)
		bytes(m, xor_edx, 2);
	else
		op_rip(m, lea_rdx, 3, old);
	bytes(m, mov_r10d_8, sizeof(mov_r10d_8));
	bytes(m, arch_syscall_insn, 2); /* clobbers rax, rcx, r11 only */
}

/* int stub(void *code): PyRun_SimpleStringFlags(code, NULL); return 0.
 * Zero whatever happened: the script catches its own exceptions, and a
 * pending call that fails must have set one.  Its last act is to free the
 * whole mapping: it tail-calls the C library's syscall(SYS_munmap, base,
 * len), which returns 0 straight to the interpreter, so no instruction of
 * the mapping runs after it is gone (the hijacked part finished long
 * before, in this same thread).  A pending call that runs after
 * snakescope gave up thus leaves nothing behind. */
static void emit_stub(struct emit *m, const struct shim_spec *sp,
		      size_t len)
{
	static const uint8_t sub8[] = { 0x48, 0x83, 0xec, 0x08 };
	static const uint8_t add8[] = { 0x48, 0x83, 0xc4, 0x08 };
	static const uint8_t lea_rdi[] = { 0x48, 0x8d, 0x3d };
	static const uint8_t xor_esi[] = { 0x31, 0xf6 };
	static const uint8_t set_done[] = { 0xc6, 0x05 };
	static const uint8_t jmp_ind[] = { 0xff, 0x25 };
	const uint8_t mov_edi[] = { 0xbf, SYS_munmap, 0, 0, 0 };
	uint64_t ulen = len;

	m->pos = STUB_OFF;
	bytes(m, sub8, 4);
	sigmask_call(m, SIG_BLOCK, D_NONE, D_STUB_MASK);
	op_rip(m, lea_rdi, 3, D_CODE); /* the argument, lost to the call */
	bytes(m, xor_esi, 2);
	call_abs(m, sp->run_string);
	/* code that changed its thread's mask changed the main thread's */
	sigmask_call(m, SIG_SETMASK, D_STUB_MASK, D_NONE);
	bytes(m, set_done, 2);
	rel(m, D_STUB_DONE, 1);
	byte(m, 1);
	bytes(m, add8, 4);
	bytes(m, mov_edi, sizeof(mov_edi));
	byte(m, 0x48), byte(m, 0xbe); /* mov rsi, imm64 */
	bytes(m, &m->base, 8);
	byte(m, 0x48), byte(m, 0xba); /* mov rdx, imm64 */
	bytes(m, &ulen, 8);
	op_rip(m, jmp_ind, 2, D_LIBC_SYSCALL);
}

static void body_pending(struct emit *m, const struct shim_spec *sp)
{
	static const uint8_t lea_rsi[] = { 0x48, 0x8d, 0x35 }; /* lea rsi, [d] */
	uint64_t stub = m->base + STUB_OFF;

	byte(m, 0x48), byte(m, 0xbf); /* mov rdi, imm64 */
	bytes(m, &stub, 8);
	op_rip(m, lea_rsi, 3, D_CODE);
	call_abs(m, sp->add_pending);
}

/* Put every general register and rflags back, then the stack pointer,
 * then jump: nothing of the shim is left in the thread's state. */
static void restore_and_return(struct emit *m)
{
	static const uint8_t lea_rsp[] = { 0x48, 0x8d, 0x25 };
	static const uint8_t pops[] = {
		0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, /* r15-r12 */
		0x5d, 0x5b,                                     /* rbp rbx */
		0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58, /* r11-r8 */
		0x58, 0x59, 0x5a, 0x5e, 0x5f,                   /* rax rcx rdx rsi rdi */
		0x9d,                                           /* popfq */
	};
	static const uint8_t ld_rsp[] = { 0x48, 0x8b, 0x25 };
	static const uint8_t jmp_ind[] = { 0xff, 0x25 };

	op_rip(m, lea_rsp, 3, D_IMAGE);
	bytes(m, pops, sizeof(pops));
	op_rip(m, ld_rsp, 3, D_RSP);
	op_rip(m, jmp_ind, 2, D_RIP);
}

static void fill_image(uint8_t *data, const arch_regs *r)
{
	uint64_t rip, rax;
	uint64_t img[16];

	resume_point(r, &rip, &rax);
	img[0] = r->r15, img[1] = r->r14, img[2] = r->r13, img[3] = r->r12;
	img[4] = r->rbp, img[5] = r->rbx, img[6] = r->r11, img[7] = r->r10;
	img[8] = r->r9, img[9] = r->r8, img[10] = rax, img[11] = r->rcx;
	img[12] = r->rdx, img[13] = r->rsi, img[14] = r->rdi;
	img[15] = r->eflags;
	memcpy(data + D_IMAGE, img, sizeof(img));
	memcpy(data + D_RSP, &r->rsp, 8);
	memcpy(data + D_RIP, &rip, 8);
}

void arch_build_shim(uint8_t *buf, uint64_t base, const struct shim_spec *sp)
{
	static const uint8_t set_done[] = { 0xc6, 0x05 };
	uint8_t *data = buf + ARCH_SHIM_CODE_LEN;
	size_t xs = (D_CODE + strlen(sp->code) + 1 + 63) & ~(size_t)63;
	struct emit m = { .code = buf, .pos = 0, .base = base };

	memset(buf, 0, arch_shim_size(sp));
	memset(buf, 0xcc, ARCH_SHIM_CODE_LEN); /* int3 anywhere unused */
	fill_image(data, &sp->saved);
	memcpy(data + D_CODE, sp->code, strlen(sp->code) + 1);
	memcpy(data + D_LIBC_SYSCALL, &sp->libc_syscall, 8);

	ext_state(&m, xs, true);
	errno_copy(&m, sp, true);
	sigmask_call(&m, SIG_BLOCK, D_NONE, D_SIGMASK);
	if (sp->kind == SHIM_RUN)
		body_run(&m, sp);
	else
		body_pending(&m, sp);
	sigmask_call(&m, SIG_SETMASK, D_SIGMASK, D_NONE);
	errno_copy(&m, sp, false);
	ext_state(&m, xs, false);
	bytes(&m, set_done, 2); /* mov byte [done], 1 */
	rel(&m, D_DONE, 1);
	byte(&m, 1);
	restore_and_return(&m);
	if (sp->kind == SHIM_PENDING)
		emit_stub(&m, sp, arch_shim_size(sp));
}
