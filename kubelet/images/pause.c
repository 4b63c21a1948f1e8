/*
 * pause is the process that holds a pod sandbox's namespaces open: PID 1 of every pod.
 *
 * It does nothing but wait. SIGINT and SIGTERM end it (exit 0); SIGCHLD makes it reap every
 * exited child, because as PID 1 of the pod's PID namespace it inherits orphans, and a zombie
 * that nobody waits for holds its PID forever.
 *
 * Freestanding: no libc, raw system calls, so the static binary is a few KB.
 *   gcc -Os -static -nostdlib -ffreestanding -fno-stack-protector -o pause pause.c
 */

#define SIGINT 2
#define SIGTERM 15
#define SIGCHLD 17
#define SIG_BLOCK 0
#define WNOHANG 1
#define EINTR 4

#if defined(__x86_64__)
#define SYS_rt_sigprocmask 14
#define SYS_wait4 61
#define SYS_exit_group 231
#define SYS_rt_sigtimedwait 128

static long syscall4(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
#define SYS_rt_sigprocmask 135
#define SYS_wait4 260
#define SYS_exit_group 94
#define SYS_rt_sigtimedwait 137

static long syscall4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
#else
#error "pause.c: only x86_64 and aarch64 are supported"
#endif

/* The kernel's sigset_t for rt_* calls: 64 signals, one bit each, signal n at bit n-1. */
#define BIT(sig) (1UL << ((sig)-1))

__attribute__((noreturn)) static void exit_group(int code) {
  for (;;) syscall4(SYS_exit_group, code, 0, 0, 0);
}

/* reap waits for every child that has exited, without blocking. */
static void reap(void) {
  for (;;) {
    long pid = syscall4(SYS_wait4, -1, 0, WNOHANG, 0);
    if (pid == -EINTR) continue;
    if (pid <= 0) return; /* 0: children left but none exited; -ECHILD: none left */
  }
}

__attribute__((noreturn)) void _start(void) {
  unsigned long set = BIT(SIGINT) | BIT(SIGTERM) | BIT(SIGCHLD);
  /* Blocked signals stay pending until rt_sigtimedwait takes them: no handler, no race. */
  syscall4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, sizeof set);
  for (;;) {
    long sig = syscall4(SYS_rt_sigtimedwait, (long)&set, 0, 0, sizeof set);
    if (sig == SIGINT || sig == SIGTERM) exit_group(0);
    if (sig == SIGCHLD) reap();
  }
}
