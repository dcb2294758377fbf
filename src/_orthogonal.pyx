"""Haar-distributed orthogonal matrices (private; use initcore.orthogonal).

Stewart (1980): the Householder reflectors that QR would extract from a
Gaussian matrix are themselves independent, isotropic Gaussian vectors of
decreasing length. So the reflectors are built straight from fresh Gaussians
and a blocked Householder product forms the matrix; no factorization is needed. Multiplying
column j by sign(R_jj) makes the result exactly Haar (Mezzadri 2007).
"""
from libc.math cimport copysign, sqrt
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc
from cython cimport floating

from fills cimport *
from gemm cimport ic_gemm_f32, ic_gemm_f64

# The O(n^2) steps (Gaussians, reflectors, signs) run on one thread: they are
# small next to the O(n^3) products, which initcore's GEMM (gemm.h) shares
# among the kernels' threads with the same bits for any thread count and any
# CPU; no BLAS library is involved.

# Products smaller than this many multiply-adds run on one thread.
cdef int64_t PARALLEL_MIN_MACS = 1 << 24

# Reflectors per block of the backward accumulation: wide enough that the
# trailing-update GEMMs run near peak.
cdef int BLOCK = 128


cdef void _reflectors(floating *q, int64_t m, int64_t k, floating *tau, floating *sign) noexcept nogil:
    """Turn Gaussian column j (rows j..m-1 of column-major q) into reflector j."""
    cdef int64_t j, i
    cdef floating *col
    cdef double alpha, ss, beta, s
    for j in range(k):
        col = q + j * m
        alpha = col[j]
        ss = 0.0
        for i in range(j + 1, m):
            ss = ss + <double>col[i] * col[i]
        if ss == 0.0:
            # LAPACK's dlarfg: H = I and R_jj = alpha
            tau[j] = 0
            sign[j] = 1 if alpha >= 0 else -1
        else:
            beta = -copysign(sqrt(alpha * alpha + ss), alpha)
            tau[j] = <floating>((beta - alpha) / beta)
            s = 1.0 / (alpha - beta)
            for i in range(j + 1, m):
                col[i] = <floating>(col[i] * s)
            sign[j] = 1 if beta > 0 else -1


cdef int _gemm(char *ta, char *tb, int m, int n, int k, floating alpha, floating *a, int lda,
               floating *b, int ldb, floating beta, floating *c, int ldc) noexcept nogil:
    """Column-major C = alpha op(A) op(B) + beta C, as BLAS's gemm: the
    row-major C^T = op(B)^T op(A)^T. Returns 0, or -1 when out of memory."""
    cdef int nt = ic_max_threads() if <int64_t>m * n * k >= PARALLEL_MIN_MACS else 1
    if floating is float:
        return ic_gemm_f32(tb[0], ta[0], n, m, k, alpha, b, ldb, a, lda, beta, c, ldc, nt)
    else:
        return ic_gemm_f64(tb[0], ta[0], n, m, k, alpha, b, ldb, a, lda, beta, c, ldc, nt)


cdef int _householder_product(floating *q, int m, int k, floating *tau) noexcept nogil:
    """Overwrite the reflectors in q (m x k, column-major) with their product
    H_0 H_1 ... H_{k-1}, accumulated backwards in blocks of BLOCK reflectors:
    each block is I - V T V^T (compact WY, Schreiber & Van Loan 1989), applied
    with three GEMMs (T is upper triangular, stored with its zeros). LAPACK's
    orgqr does the same with blocks of 32, where the GEMMs are too thin to run
    at full speed."""
    cdef int nb = BLOCK if k > BLOCK else k
    cdef int s, b, rows, trailing, i, j, c
    cdef floating *v = <floating *>malloc(<size_t>m * nb * sizeof(floating))
    cdef floating *w = <floating *>malloc(<size_t>nb * k * sizeof(floating))
    cdef floating *tw = <floating *>malloc(<size_t>nb * k * sizeof(floating))
    cdef floating *t = <floating *>malloc(<size_t>nb * nb * sizeof(floating))
    cdef floating *gram = <floating *>malloc(<size_t>nb * nb * sizeof(floating))
    cdef double acc
    cdef int rc = 0
    if v == NULL or w == NULL or tw == NULL or t == NULL or gram == NULL:
        free(v); free(w); free(tw); free(t); free(gram)
        return -1
    s = ((k - 1) // nb) * nb
    while s >= 0:
        b = min(nb, k - s)
        rows = m - s
        trailing = k - s - b
        # V: the block's reflectors with explicit unit diagonal and zeros above
        for j in range(b):
            for i in range(rows):
                v[i + j * rows] = 0 if i < j else (1 if i == j else q[(s + i) + (s + j) * m])
        # T: upper triangular with T[i, i] = tau_i and
        # T[:i, i] = -tau_i T[:i, :i] (V^T v_i)   (LAPACK's larft, forward)
        rc |= _gemm(b"T", b"N", b, b, rows, 1, v, rows, v, rows, 0, gram, b)
        for i in range(b):
            for j in range(b):
                t[j + i * b] = 0
            t[i + i * b] = tau[s + i]
            for j in range(i):
                acc = 0
                for c in range(j, i):
                    acc = acc + <double>t[j + c * b] * gram[c + i * b]
                t[j + i * b] = <floating>(-tau[s + i] * acc)
        if trailing > 0:
            # rows of this block in the later columns start from the identity's zeros
            for j in range(s + b, k):
                for i in range(s, s + b):
                    q[i + j * m] = 0
            # C := C - V (T (V^T C)) on C = q[s:, s+b:]
            rc |= _gemm(b"T", b"N", b, trailing, rows, 1, v, rows, q + s + (s + b) * m, m, 0, w, b)
            rc |= _gemm(b"N", b"N", b, trailing, b, 1, t, b, w, b, 0, tw, b)
            rc |= _gemm(b"N", b"N", rows, trailing, b, -1, v, rows, tw, b, 1, q + s + (s + b) * m, m)
        # own columns: I - V T L^T, with L the unit lower triangle at the top of V
        for j in range(b):
            for i in range(b):
                w[i + j * b] = v[j + i * rows]
        rc |= _gemm(b"N", b"N", b, b, b, 1, t, b, w, b, 0, tw, b)
        rc |= _gemm(b"N", b"N", rows, b, b, -1, v, rows, tw, b, 0, q + s + s * m, m)
        for j in range(b):
            q[(s + j) + (s + j) * m] += 1
        s -= nb
    free(v); free(w); free(tw); free(t); free(gram)
    return -1 if rc else 0


def haar(floating[:, ::1] out, uint64_t key, uint64_t position, double gain):
    """Fill out with gain times a Haar matrix: orthonormal rows if rows <= cols,
    else orthonormal columns. Both dimensions must be below 2**31."""
    cdef int64_t rows = out.shape[0], cols = out.shape[1]
    cdef int64_t m = max(rows, cols), k = min(rows, cols), i, j
    cdef bint transpose = rows > cols
    cdef ic_stream s = make_stream(key, position)
    cdef ic_box box = ic_box_whole(m * k)
    cdef floating *q
    cdef floating *tau
    cdef floating *sign
    cdef floating g
    cdef int info = 0
    if k == 0:
        return
    # Column-major m x k: for rows <= cols that is exactly out's row-major memory.
    q = &out[0, 0] if not transpose else <floating *>malloc(m * k * sizeof(floating))
    tau = <floating *>malloc(2 * k * sizeof(floating))
    if q == NULL or tau == NULL:
        if transpose:
            free(q)
        free(tau)
        raise MemoryError()
    sign = tau + k
    with nogil:
        if floating is float:
            ic_normal_f32(q, &box, &s, 0.0, 1.0, 1)
        else:
            ic_normal_f64(q, &box, &s, 0.0, 1.0, 1)
        _reflectors(q, m, k, tau, sign)
        info = _householder_product(q, <int>m, <int>k, tau)
        if info == 0:
            if transpose:
                for i in range(m):
                    for j in range(k):
                        out[i, j] = <floating>(q[i + j * m] * sign[j] * gain)
            else:
                for j in range(k):
                    g = <floating>(sign[j] * gain)
                    for i in range(m):
                        q[j * m + i] = q[j * m + i] * g
    if transpose:
        free(q)
    free(tau)
    if info != 0:
        raise MemoryError("no memory for the Householder product's workspace")
