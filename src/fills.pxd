# Declarations of the C fill kernels (fills.h), shared by the extensions.
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t

cdef extern from "fills.h" nogil:
    ctypedef struct ic_stream:
        uint32_t key[2]
        uint64_t position

    ctypedef struct ic_truncnorm:
        int regime
        double alpha, beta, lam, mean, std, base, scale, lo, hi

    enum:
        PHILOX_BLOCK

    int ic_philox_block_path(int path, const ic_stream *s, uint64_t first,
                             uint32_t (*w)[PHILOX_BLOCK])

    enum:
        IC_TN_NORMAL
        IC_TN_UNIFORM0
        IC_TN_UNIFORM_TAIL
        IC_TN_EXP_TAIL

    void ic_philox4x32_10(const uint32_t *ctr, const uint32_t *key, uint32_t *out)

    enum:
        IC_MAX_DIMS
        IC_HALF_F16
        IC_HALF_BF16

    ctypedef struct ic_box:
        int ndim
        int64_t base
        int64_t count[IC_MAX_DIMS]
        int64_t stride[IC_MAX_DIMS]

    ic_box ic_box_whole(int64_t n)
    void ic_uniform_f32(float *out, const ic_box *box, const ic_stream *s,
                        double low, double high, int nthreads)
    void ic_uniform_f64(double *out, const ic_box *box, const ic_stream *s,
                        double low, double high, int nthreads)
    void ic_uniform_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                        double low, double high, float lo, float hi, int nthreads)
    void ic_normal_f32(float *out, const ic_box *box, const ic_stream *s,
                       double mean, double std, int nthreads)
    void ic_normal_f64(double *out, const ic_box *box, const ic_stream *s,
                       double mean, double std, int nthreads)
    void ic_normal_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                       double mean, double std, int nthreads)
    void ic_truncnorm_f32(float *out, const ic_box *box, const ic_stream *s,
                          const ic_truncnorm *p, int nthreads)
    void ic_truncnorm_f64(double *out, const ic_box *box, const ic_stream *s,
                          const ic_truncnorm *p, int nthreads)
    void ic_truncnorm_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                          const ic_truncnorm *p, int nthreads)
    void ic_constant_f32(float *out, int64_t n, double value, int nthreads)
    void ic_constant_f64(double *out, int64_t n, double value, int nthreads)
    void ic_constant_h16(uint16_t *out, int64_t n, uint16_t bits, int nthreads)
    void ic_round_h16(uint16_t *out, const float *inp, int64_t n, int format, int nthreads)
    void ic_sparse_zeros(void *out, int elem_size, int64_t rows, int64_t cols, int64_t nzeros,
                         int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                         const ic_stream *s, int nthreads)
    enum:
        IC_MAX_THREADS

    int ic_openmp_enabled()
    int ic_max_threads()
    void ic_set_num_threads(int n)


# Below this many elements (~1 MiB of float32) a kernel runs on one thread: a
# team costs more than it saves, and on a busy machine its barrier can wait
# milliseconds for a descheduled thread.
cdef enum:
    PARALLEL_MIN_ELEMENTS = 262144


cdef inline ic_stream make_stream(uint64_t key, uint64_t position) noexcept nogil:
    cdef ic_stream s
    s.key[0] = <uint32_t>(key & 0xffffffffu)
    s.key[1] = <uint32_t>(key >> 32)
    s.position = position
    return s


cdef inline int threads_for(int64_t n) noexcept nogil:
    return 1 if n < PARALLEL_MIN_ELEMENTS else ic_max_threads()
