# initcore's own GEMM (gemm.h), for the Cython modules that call it.
from libc.stdint cimport int64_t

cdef extern from "gemm.h" nogil:
    const char *ic_gemm_kernel()
    int ic_gemm_f32(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                    int64_t ldc, int nthreads)
    int ic_gemm_f64(char ta, char tb, int64_t m, int64_t n, int64_t k, double alpha,
                    const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                    int64_t ldc, int nthreads)
