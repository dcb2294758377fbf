"""Seeded fill kernels over Philox4x32-10 (private; use the initcore API).

Every function takes a C-contiguous 1-D view that the Python layer has already
validated, and makes one GIL-free call into the C kernels.
"""
from libc.math cimport INFINITY, exp, nextafterf, sqrt
from libc.stdint cimport int64_t, uint32_t, uint64_t
from cython cimport floating

from fills cimport *

# kernels on fewer elements run on one thread
PARALLEL_MIN = PARALLEL_MIN_ELEMENTS

cdef double SQRT_2PI = 2.5066282746310002
cdef double SQRT_E = 1.6487212707001282
# Beyond this standardized bound a tail sample sits within rounding of the bound.
cdef double TAIL_ALPHA_MAX = 1e18


def openmp_enabled():
    """Whether the kernels were built with OpenMP."""
    return bool(ic_openmp_enabled())


MAX_THREADS = IC_MAX_THREADS


def get_num_threads():
    return ic_max_threads()


def set_num_threads(int n):
    ic_set_num_threads(n)


def philox4x32_10(counter, key):
    """One Philox4x32-10 block: 4 counter words and 2 key words to 4 words."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t o[4]
    for i in range(4):
        c[i] = counter[i]
    for i in range(2):
        k[i] = key[i]
    ic_philox4x32_10(c, k, o)
    return (o[0], o[1], o[2], o[3])


PHILOX_PATHS = ("portable", "avx2", "avx512")


def philox_block_words(uint64_t key, uint64_t position, uint64_t first, str path):
    """The 4 x PHILOX_BLOCK words of counters first.. on one SIMD path, as a
    list of 4 lists, or None if this CPU lacks the path (for tests)."""
    cdef ic_stream s = make_stream(key, position)
    cdef uint32_t w[4][PHILOX_BLOCK]
    if ic_philox_block_path(PHILOX_PATHS.index(path), &s, first, w) != 0:
        return None
    return [[w[k][j] for j in range(PHILOX_BLOCK)] for k in range(4)]


def uniform(floating[::1] out, uint64_t key, uint64_t position, double low, double high):
    cdef ic_stream s = make_stream(key, position)
    cdef int64_t n = out.shape[0]
    cdef int nt = threads_for(n)
    if n == 0:
        return
    with nogil:
        if floating is float:
            ic_uniform_f32(&out[0], n, 0, &s, low, high, nt)
        else:
            ic_uniform_f64(&out[0], n, 0, &s, low, high, nt)


def normal(floating[::1] out, uint64_t key, uint64_t position, double mean, double std):
    cdef ic_stream s = make_stream(key, position)
    cdef int64_t n = out.shape[0]
    cdef int nt = threads_for(n)
    if n == 0:
        return
    with nogil:
        if floating is float:
            ic_normal_f32(&out[0], n, 0, &s, mean, std, nt)
        else:
            ic_normal_f64(&out[0], n, 0, &s, mean, std, nt)


cdef ic_truncnorm _truncnorm_plan(double mean, double std, double a, double b) noexcept:
    """Pick the proposal with the best acceptance rate (Robert 1995)."""
    cdef ic_truncnorm p
    cdef double alpha = (a - mean) / std, beta = (b - mean) / std, root
    p.mean = mean
    p.std = std
    p.lam = 1.0
    p.lo = p.hi = 0.0   # set by the caller for its dtype
    if alpha <= 0.0 <= beta:
        p.alpha, p.beta, p.base, p.scale = alpha, beta, a, std
        # uniform acceptance P*sqrt(2 pi)/(beta - alpha) beats the normal's P
        p.regime = IC_TN_UNIFORM0 if beta - alpha < SQRT_2PI else IC_TN_NORMAL
        return p
    if alpha > 0.0:
        p.alpha, p.beta, p.base, p.scale = alpha, beta, a, std
    else:
        # mirror the left tail onto the right one
        p.alpha, p.beta, p.base, p.scale = -beta, -alpha, b, -std
    if p.alpha > TAIL_ALPHA_MAX:
        p.beta = TAIL_ALPHA_MAX + (p.beta - p.alpha)
        p.alpha = TAIL_ALPHA_MAX
    root = sqrt(p.alpha * p.alpha + 4.0)
    # Robert (1995), Sec. 2.2: uniform proposal when the interval is short
    if p.beta <= p.alpha + 2.0 * SQRT_E / (p.alpha + root) * exp((p.alpha * p.alpha - p.alpha * root) / 4.0):
        p.regime = IC_TN_UNIFORM_TAIL
    else:
        p.regime = IC_TN_EXP_TAIL
        p.lam = (p.alpha + root) / 2.0
    return p


def trunc_normal_regime(double mean, double std, double a, double b):
    """Name of the proposal used for these parameters (for tests)."""
    return ("normal", "uniform0", "uniform_tail", "exp_tail")[_truncnorm_plan(mean, std, a, b).regime]


def trunc_normal(floating[::1] out, uint64_t key, uint64_t position,
                 double mean, double std, double a, double b):
    cdef ic_stream s = make_stream(key, position)
    cdef int64_t n = out.shape[0]
    cdef int nt = threads_for(n)
    cdef ic_truncnorm p = _truncnorm_plan(mean, std, a, b)
    cdef float lo32, hi32
    # clamp to the bounds rounded inward, so rounding never leaves [a, b]
    if floating is float:
        lo32, hi32 = <float>a, <float>b
        if lo32 < a:
            lo32 = nextafterf(lo32, INFINITY)
        if hi32 > b:
            hi32 = nextafterf(hi32, -INFINITY)
        if lo32 > hi32:
            raise ValueError(f"no float32 value lies in [a, b] = [{a!r}, {b!r}]; use dtype=float64")
        p.lo, p.hi = lo32, hi32
    else:
        p.lo, p.hi = a, b
    if n == 0:
        return
    with nogil:
        if floating is float:
            ic_truncnorm_f32(&out[0], n, &s, &p, nt)
        else:
            ic_truncnorm_f64(&out[0], n, &s, &p, nt)


def constant(floating[::1] out, double value):
    cdef int64_t n = out.shape[0]
    cdef int nt = threads_for(n)
    if n == 0:
        return
    with nogil:
        if floating is float:
            ic_constant_f32(&out[0], n, value, nt)
        else:
            ic_constant_f64(&out[0], n, value, nt)


def sparse(floating[:, ::1] out, uint64_t key, uint64_t position, int64_t nzeros, double std):
    """N(0, std^2) at stream position, then nzeros zeros per column at position + 1."""
    cdef ic_stream values = make_stream(key, position)
    cdef ic_stream zeros = make_stream(key, position + 1)
    cdef int64_t rows = out.shape[0], cols = out.shape[1]
    cdef int nt = threads_for(rows * cols)
    if rows * cols == 0:
        return
    with nogil:
        if floating is float:
            ic_normal_f32(&out[0, 0], rows * cols, 0, &values, 0.0, std, nt)
            ic_sparse_zeros_f32(&out[0, 0], rows, cols, nzeros, &zeros, nt)
        else:
            ic_normal_f64(&out[0, 0], rows * cols, 0, &values, 0.0, std, nt)
            ic_sparse_zeros_f64(&out[0, 0], rows, cols, nzeros, &zeros, nt)
