"""Haar-distributed orthogonal matrices (private; use initcore.orthogonal).

Stewart (1980): the Householder reflectors that QR would extract from a
Gaussian matrix are themselves independent, isotropic Gaussian vectors of
decreasing length. So the reflectors are built straight from fresh Gaussians
and LAPACK's orgqr forms their product; no factorization is needed. Multiplying
column j by sign(R_jj) makes the result exactly Haar (Mezzadri 2007).
"""
from libc.math cimport copysign, sqrt
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc
from cython cimport floating
from cython.parallel cimport prange
from scipy.linalg.cython_lapack cimport dorgqr, sorgqr

from fills cimport *


cdef void _reflectors(floating *q, int64_t m, int64_t k, floating *tau, floating *sign) noexcept nogil:
    """Turn Gaussian column j (rows j..m-1 of column-major q) into reflector j."""
    cdef int64_t j, i
    cdef floating *col
    cdef double alpha, ss, beta, s
    for j in prange(k, schedule='static', num_threads=threads_for(m * k)):
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


cdef int _orgqr(floating *q, int m, int k, floating *tau) noexcept nogil:
    cdef int lwork = -1, info = 0
    cdef floating query
    cdef floating *work
    if floating is float:
        sorgqr(&m, &k, &k, q, &m, tau, &query, &lwork, &info)
    else:
        dorgqr(&m, &k, &k, q, &m, tau, &query, &lwork, &info)
    lwork = <int>query
    work = <floating *>malloc(lwork * sizeof(floating))
    if work == NULL:
        return -1
    if floating is float:
        sorgqr(&m, &k, &k, q, &m, tau, work, &lwork, &info)
    else:
        dorgqr(&m, &k, &k, q, &m, tau, work, &lwork, &info)
    free(work)
    return info


def haar(floating[:, ::1] out, uint64_t key, uint64_t position, double gain):
    """Fill out with gain times a Haar matrix: orthonormal rows if rows <= cols,
    else orthonormal columns. Both dimensions must fit a LAPACK int."""
    cdef int64_t rows = out.shape[0], cols = out.shape[1]
    cdef int64_t m = max(rows, cols), k = min(rows, cols), i, j
    cdef bint transpose = rows > cols
    cdef ic_stream s = make_stream(key, position)
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
            ic_normal_f32(q, m * k, 0, &s, 0.0, 1.0, threads_for(m * k))
        else:
            ic_normal_f64(q, m * k, 0, &s, 0.0, 1.0, threads_for(m * k))
        _reflectors(q, m, k, tau, sign)
        info = _orgqr(q, <int>m, <int>k, tau)
        if info == 0:
            if transpose:
                for i in prange(m, schedule='static', num_threads=threads_for(m * k)):
                    for j in range(k):
                        out[i, j] = <floating>(q[i + j * m] * sign[j] * gain)
            else:
                for j in prange(k, schedule='static', num_threads=threads_for(m * k)):
                    g = <floating>(sign[j] * gain)
                    for i in range(m):
                        q[j * m + i] = q[j * m + i] * g
    if transpose:
        free(q)
    free(tau)
    if info != 0:
        raise MemoryError("orgqr could not allocate its workspace") if info == -1 else RuntimeError(
            f"LAPACK orgqr failed with info={info}")
