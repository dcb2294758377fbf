/* A parallel loop over work items, using a variable `nthreads` in scope;
 * serial (and warning-free) without OpenMP. */
#ifndef INITCORE_PARALLEL_H
#define INITCORE_PARALLEL_H

#define IC_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#define IC_PARALLEL_FOR(cond) IC_PRAGMA(omp parallel for schedule(static) num_threads(nthreads) if (cond))
#else
#define IC_PARALLEL_FOR(cond) (void)nthreads;
#endif

#endif
