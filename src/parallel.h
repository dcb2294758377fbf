/* Parallel loops and regions, using a variable `nthreads` in scope; serial
 * (and warning-free) without OpenMP. */
#ifndef INITCORE_PARALLEL_H
#define INITCORE_PARALLEL_H

#define IC_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#include <omp.h>
#define IC_PARALLEL_FOR(cond) IC_PRAGMA(omp parallel for schedule(static) num_threads(nthreads) if (cond))
/* A region whose threads share work items t = IC_THREAD, + IC_THREADS, ...
 * and meet at IC_BARRIER; IC_SINGLE runs the next statement on one thread,
 * the others waiting for it. */
#define IC_PARALLEL(cond) IC_PRAGMA(omp parallel num_threads(nthreads) if (cond))
#define IC_BARRIER IC_PRAGMA(omp barrier)
#define IC_SINGLE IC_PRAGMA(omp single)
#define IC_THREAD ((int64_t)omp_get_thread_num())
#define IC_THREADS ((int64_t)omp_get_num_threads())
#else
#define IC_PARALLEL_FOR(cond) (void)nthreads;
#define IC_PARALLEL(cond) (void)nthreads;
#define IC_BARRIER
#define IC_SINGLE
#define IC_THREAD ((int64_t)0)
#define IC_THREADS ((int64_t)1)
#endif

#endif
