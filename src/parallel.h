/* Parallel loops and regions, using a variable `nthreads` in scope; serial
 * (and warning-free) without OpenMP. */
#ifndef INITCORE_PARALLEL_H
#define INITCORE_PARALLEL_H

#define IC_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#include <omp.h>
#define IC_PARALLEL_FOR(cond) IC_PRAGMA(omp parallel for schedule(static) num_threads(nthreads) if (cond))
/* A region whose threads share the loops marked IC_FOR (items in equal
 * runs) and IC_FOR_DYNAMIC (one item at a time, to whichever thread is free:
 * for items whose result does not depend on the thread that computes it),
 * each ending at a barrier; IC_SINGLE runs the next statement on one thread,
 * the others waiting for it. */
#define IC_PARALLEL(cond) IC_PRAGMA(omp parallel num_threads(nthreads) if (cond))
#define IC_FOR IC_PRAGMA(omp for schedule(static))
#define IC_FOR_DYNAMIC IC_PRAGMA(omp for schedule(dynamic, 1))
#define IC_SINGLE IC_PRAGMA(omp single)
#else
#define IC_PARALLEL_FOR(cond) (void)nthreads;
#define IC_PARALLEL(cond) (void)nthreads;
#define IC_FOR
#define IC_FOR_DYNAMIC
#define IC_SINGLE
#endif

/* Keeping a team on distinct CPUs for one region. The scheduler sometimes
 * wakes an idle OpenMP worker on its waker's CPU, and the two threads then
 * share it for milliseconds; with as many threads as CPUs, that is the whole
 * cost of a layer's GEMM twice over. So when the team fills the CPUs the
 * process may use, thread t runs on the t-th of them counting from the CPU
 * the region started on, and gets its own CPU set back at the end. Nothing
 * changes when OMP_PROC_BIND already binds threads, off Linux or without
 * OpenMP. */
typedef struct {
    unsigned long saved[128 / sizeof(unsigned long)];  /* a cpu_set_t, aligned as one */
    int pinned;
} ic_pin;

/* Before the region: the calling thread's CPU, or -1 for no pinning. */
int ic_team_home(void);
/* At the start and at the end of the region, in each thread. */
void ic_pin_start(ic_pin *pin, int home);
void ic_pin_end(ic_pin *pin);

#endif
