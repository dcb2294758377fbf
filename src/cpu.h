/* Run-time CPU feature checks for the x86 SIMD paths. */
#ifndef INITCORE_CPU_H
#define INITCORE_CPU_H

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define IC_X86_PATHS 1
#include <immintrin.h>

static inline int ic_cpu_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

static inline int ic_cpu_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
#else
#define IC_X86_PATHS 0
#endif

/* Hot kernels are compiled for baseline x86-64 and for AVX2 / AVX-512, and the
 * loader picks one at run time. Floating-point contraction is disabled in the
 * build, so all clones round identically. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define IC_SIMD __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define IC_SIMD
#endif

#endif
