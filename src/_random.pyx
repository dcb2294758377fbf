"""Seeded fill kernels over Philox4x32-10 (private; use the initcore API).

Every function takes a C-contiguous 1-D view that the Python layer has already
validated, and makes one GIL-free call into the C kernels.
"""
from libc.math cimport INFINITY, exp, nextafterf, sqrt
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t
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


ctypedef fused element:
    float
    double
    uint16_t


cdef ic_box make_box(box, int64_t n) except *:
    """A whole array of n elements for None, else box = (base, counts, strides)
    with the innermost stride 1 (see ic_box in fills.h)."""
    cdef ic_box b
    cdef int d
    if box is None:
        return ic_box_whole(n)
    base, counts, strides = box
    if not 1 <= len(counts) <= IC_MAX_DIMS or len(strides) != len(counts) or strides[len(strides) - 1] != 1:
        raise ValueError(f"bad box {box!r}")
    b.ndim = len(counts)
    b.base = base
    for d in range(b.ndim):
        b.count[d] = counts[d]
        b.stride[d] = strides[d]
    return b


# Half-precision outputs (uint16 bit patterns) name their format.
HALF_FORMATS = {"float16": IC_HALF_F16, "bfloat16": IC_HALF_BF16}


def uniform(element[::1] out, uint64_t key, uint64_t position, double low, double high,
            box=None, int half=0, float top=INFINITY):
    """U[low, high) into out (elements `box` of the stream); a uint16 out
    takes `half`-format bit patterns of the float32 draws, at most `top`."""
    cdef ic_stream s = make_stream(key, position)
    cdef int64_t n = out.shape[0]
    cdef ic_box b = make_box(box, n)
    cdef int nt = threads_for(n)
    if n == 0:
        return
    with nogil:
        if element is float:
            ic_uniform_f32(&out[0], &b, &s, low, high, nt)
        elif element is double:
            ic_uniform_f64(&out[0], &b, &s, low, high, nt)
        else:
            ic_uniform_h16(&out[0], half, &b, &s, low, high, -INFINITY, top, nt)


def normal(element[::1] out, uint64_t key, uint64_t position, double mean, double std,
           box=None, int half=0):
    cdef ic_stream s = make_stream(key, position)
    cdef int64_t n = out.shape[0]
    cdef ic_box b = make_box(box, n)
    cdef int nt = threads_for(n)
    if n == 0:
        return
    with nogil:
        if element is float:
            ic_normal_f32(&out[0], &b, &s, mean, std, nt)
        elif element is double:
            ic_normal_f64(&out[0], &b, &s, mean, std, nt)
        else:
            ic_normal_h16(&out[0], half, &b, &s, mean, std, nt)


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


def trunc_normal(element[::1] out, uint64_t key, uint64_t position,
                 double mean, double std, double a, double b, box=None, int half=0,
                 double lo=0.0, double hi=0.0):
    """N(mean, std^2) truncated to [a, b]. Values are clamped to the bounds
    rounded inward (rounding in mean + std z can step just outside); a uint16
    out takes `half`-format bit patterns and needs those bounds, lo and hi,
    exact in its format."""
    cdef ic_stream s = make_stream(key, position)
    cdef int64_t n = out.shape[0]
    cdef ic_box bx = make_box(box, n)
    cdef int nt = threads_for(n)
    cdef ic_truncnorm p = _truncnorm_plan(mean, std, a, b)
    cdef float lo32, hi32
    if element is double:
        p.lo, p.hi = a, b
    elif element is float:
        lo32, hi32 = <float>a, <float>b
        if lo32 < a:
            lo32 = nextafterf(lo32, INFINITY)
        if hi32 > b:
            hi32 = nextafterf(hi32, -INFINITY)
        if lo32 > hi32:
            raise ValueError(f"no float32 value lies in [a, b] = [{a!r}, {b!r}]; use dtype=float64")
        p.lo, p.hi = lo32, hi32
    else:
        p.lo, p.hi = lo, hi
    if n == 0:
        return
    with nogil:
        if element is float:
            ic_truncnorm_f32(&out[0], &bx, &s, &p, nt)
        elif element is double:
            ic_truncnorm_f64(&out[0], &bx, &s, &p, nt)
        else:
            ic_truncnorm_h16(&out[0], half, &bx, &s, &p, nt)


def constant(element[::1] out, double value, int bits=0):
    """value into out; a uint16 out takes the bit pattern `bits`."""
    cdef int64_t n = out.shape[0]
    cdef int nt = threads_for(n)
    if n == 0:
        return
    with nogil:
        if element is float:
            ic_constant_f32(&out[0], n, value, nt)
        elif element is double:
            ic_constant_f64(&out[0], n, value, nt)
        else:
            ic_constant_h16(&out[0], n, <uint16_t>bits, nt)


def round_half(const float[::1] values, uint16_t[::1] out, int half):
    """float32 values to `half`-format bit patterns, rounded to nearest even."""
    cdef int64_t n = values.shape[0]
    cdef int nt = threads_for(n)
    if out.shape[0] != n:
        raise ValueError("values and out differ in length")
    if n == 0:
        return
    with nogil:
        ic_round_h16(&out[0], &values[0], n, half, nt)


def sparse_zeros(element[:, ::1] out, uint64_t key, uint64_t position, int64_t rows, int64_t cols,
                 int64_t nzeros, int64_t r0, int64_t c0):
    """nzeros zeros per column of a rows x cols matrix drawn at `position`,
    written where they fall in out, the box of it from (r0, c0)."""
    cdef ic_stream s = make_stream(key, position)
    cdef int64_t r1 = r0 + out.shape[0], c1 = c0 + out.shape[1]
    cdef int nt = threads_for(out.shape[0] * out.shape[1])
    if out.shape[0] * out.shape[1] == 0:
        return
    with nogil:
        ic_sparse_zeros(&out[0, 0], sizeof(element), rows, cols, nzeros, r0, r1, c0, c1, &s, nt)
