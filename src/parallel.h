/* Parallel loops and regions, using a variable `nthreads` in scope; serial
 * (and warning-free) without OpenMP. */
#ifndef INITCORE_PARALLEL_H
#define INITCORE_PARALLEL_H

#include <stdint.h>

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

/* Runs the statement given last for each chunk c of `size` items out of n,
 * items [start, start + len), the chunks split among the threads. A chunk's
 * items depend on c alone, never on the thread, so what it computes from them
 * and c is the same for any thread count. */
#define IC_FOR_CHUNKS(n, size, c, start, len, ...)                                   \
    do {                                                                             \
        int64_t ic_chunks_ = ((n) + (size) - 1) / (size);                            \
        IC_PARALLEL_FOR(nthreads > 1 && ic_chunks_ > 1)                              \
        for (int64_t c = 0; c < ic_chunks_; c++) {                                   \
            int64_t start = c * (size);                                              \
            int64_t len = (n) - start < (size) ? (n) - start : (size);               \
            __VA_ARGS__;                                                             \
        }                                                                            \
    } while (0)

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
