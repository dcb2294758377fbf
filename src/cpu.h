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

#endif
