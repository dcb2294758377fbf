"""Layer kernels (private; use initcore.activations and initcore.simulate):
activations element-wise, and fused dense layers forward and backward."""
from libc.math cimport INFINITY, isfinite
from libc.stdint cimport int64_t, uint64_t
from cython cimport floating

from fills cimport ic_max_threads, threads_for
from gemm cimport ic_gemm_f32, ic_gemm_f64, ic_gemm_kernel


cdef extern from "activations.h" nogil:
    int IC_ACT_COUNT
    void ic_activation_f32(int id, double param, const float *z, float *out, int64_t n,
                           int derivative, int nthreads)
    void ic_activation_f64(int id, double param, const double *z, double *out, int64_t n,
                           int derivative, int nthreads)


cdef extern from "layers.h" nogil:
    ctypedef struct ic_moments:
        pass
    ctypedef struct ic_act:
        int id
        double param
    ctypedef struct ic_stats:
        double sat_lo, sat_hi, hist_lo, hist_hi, hist_sigmas
        double *hist_range
        int64_t nbins
        int64_t *hist
        ic_moments *moments
        double *units
        uint64_t *unit_hash
        double *unit_summary
        double *sums
    int IC_MOMENT_FIELDS
    int ic_histogram_f32(const float *v, int64_t n, double lo, double hi, int64_t nbins,
                         int64_t *hist, int nthreads)
    int ic_histogram_f64(const double *v, int64_t n, double lo, double hi, int64_t nbins,
                         int64_t *hist, int nthreads)
    ctypedef struct ic_forward_args_f32:
        int64_t batch, n_in, n_out
        const float *x
        const float *w
        const float *b
        float *z
        float *a
        ic_act act
    ctypedef struct ic_forward_args_f64:
        int64_t batch, n_in, n_out
        const double *x
        const double *w
        const double *b
        double *z
        double *a
        ic_act act
    ctypedef struct ic_backward_args_f32:
        int64_t batch, n_in, n_out
        const float *x
        const float *w
        const float *z
        int z_is_dphi
        float *grad
        float *dx
        float *dw
        float *db
        ic_act act
        float *z_below
        float *x_below
        ic_act act_below
    ctypedef struct ic_backward_args_f64:
        int64_t batch, n_in, n_out
        const double *x
        const double *w
        const double *z
        int z_is_dphi
        double *grad
        double *dx
        double *dw
        double *db
        ic_act act
        double *z_below
        double *x_below
        ic_act act_below
    int ic_forward_f32(const ic_forward_args_f32 *layer, const ic_stats *stats, int nthreads)
    int ic_forward_f64(const ic_forward_args_f64 *layer, const ic_stats *stats, int nthreads)
    int ic_backward_f32(const ic_backward_args_f32 *layer, const ic_stats *stats, int nthreads)
    int ic_backward_f64(const ic_backward_args_f64 *layer, const ic_stats *stats, int nthreads)

ACTIVATION_COUNT = IC_ACT_COUNT
MOMENT_FIELDS = IC_MOMENT_FIELDS
# A layer below this many multiply-adds (~2 ms of one core's GEMM) runs on one
# thread: a second thread would cost more in start-up than it saves.
cdef int64_t PARALLEL_MIN_MACS = 1 << 24


def activation(int id, double param, const floating[::1] z, floating[::1] out, bint derivative):
    """phi(z) or phi'(z) into out; both C-contiguous 1-D of one dtype and length."""
    cdef int64_t n = z.shape[0]
    cdef int nt = threads_for(n)
    if n == 0:
        return
    with nogil:
        if floating is float:
            ic_activation_f32(id, param, &z[0], &out[0], n, derivative, nt)
        else:
            ic_activation_f64(id, param, &z[0], &out[0], n, derivative, nt)


def gemm_kernel():
    """The GEMM micro-kernel in use: 'avx512', 'avx2' or 'portable' (gemm.h)."""
    return ic_gemm_kernel().decode()


cdef char _layout(const floating[:, :] m, int64_t *ld) except 0:
    """'N' for a row-major matrix, 'T' for the transpose of one, with its
    leading dimension in ld (the stride of a dimension of size 1 does not
    matter)."""
    cdef Py_ssize_t size = sizeof(floating), rows = max(m.shape[0], 1), cols = max(m.shape[1], 1)
    cdef Py_ssize_t r = m.strides[0] if rows > 1 else cols * size
    cdef Py_ssize_t c = m.strides[1] if cols > 1 else size
    if c == size and r % size == 0 and r >= cols * size:
        ld[0] = r // size
        return b'N'
    r = m.strides[0] if rows > 1 else size
    c = m.strides[1] if cols > 1 else rows * size
    if r == size and c % size == 0 and c >= rows * size:
        ld[0] = c // size
        return b'T'
    raise ValueError(f"matmul: each operand needs one unit stride, got strides ({m.strides[0]}, {m.strides[1]})")


def matmul(const floating[:, :] a, const floating[:, :] b, floating[:, ::1] out, int nthreads=0):
    """out = a @ b by initcore's GEMM, on nthreads threads (0: all); a and b
    may be transposed views of row-major matrices."""
    cdef int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1], lda = 0, ldb = 0
    cdef int nt = nthreads if nthreads > 0 else ic_max_threads()
    cdef int rc
    cdef char ta, tb
    _check(b.shape[0] == k and out.shape[0] == m and out.shape[1] == n,
           f"matmul shapes ({a.shape[0]}, {a.shape[1]}) @ ({b.shape[0]}, {b.shape[1]}) -> "
           f"({out.shape[0]}, {out.shape[1]})")
    if m == 0 or n == 0:
        return
    if k == 0:
        out[:, :] = 0
        return
    ta, tb = _layout(a, &lda), _layout(b, &ldb)
    with nogil:
        if floating is float:
            rc = ic_gemm_f32(ta, tb, m, n, k, 1, &a[0, 0], lda, &b[0, 0], ldb, 0, &out[0, 0], n, nt)
        else:
            rc = ic_gemm_f64(ta, tb, m, n, k, 1, &a[0, 0], lda, &b[0, 0], ldb, 0, &out[0, 0], n, nt)
    if rc != 0:
        raise MemoryError("matmul: no memory for the packed operands")


cdef int _threads(int64_t batch, int64_t n_in, int64_t n_out) noexcept nogil:
    return ic_max_threads() if batch * n_in * n_out >= PARALLEL_MIN_MACS else 1


cdef void _check(bint ok, str what) except *:
    if not ok:
        raise ValueError(f"layer kernel: {what}")


cdef void _check_bins(int64_t slots, double lo, double hi) except *:
    _check(slots >= 3, "hist needs nbins + 2 >= 3 slots")
    _check(isfinite(lo) and isfinite(hi) and hi > lo and isfinite((slots - 2) / (hi - lo))
           and isfinite((hi - lo) / (slots - 2)) and (hi - lo) / (slots - 2) > 0,
           f"histogram range must be finite with hi > lo and a representable bin width, got [{lo}, {hi}]")


cdef class Stats:
    """What a layer kernel measures, and the buffers it writes it to: the
    mirror of ``ic_stats`` (layers.h). None skips an output.

    moments: float64[2 * MOMENT_FIELDS] for z and a (forward) or
    float64[MOMENT_FIELDS] for dZ (backward). Forward only: units,
    float64[2 * n_out], the mean and variance of each unit of a; unit_hash,
    uint64[n_out], a hash of each unit's values; unit_summary, float64[3],
    the units that are dead (0 on the whole batch), the distinct units (by
    hash) and the standard deviation across units of their means; sat_lo and
    sat_hi, the band outside which a value of a counts as saturated.
    Backward only: sums, float64[4] = |dx|^2, |dw|^2, |db|^2, |w|^2.
    hist: int64[nbins + 2] of a (forward) or dZ (backward), counts below and
    above the range first and last, over [hist_lo, hist_hi], or with
    hist_sigmas > 0 over mean +- hist_sigmas std within [min, max], binned in
    a second pass and written to hist_range (float64[2]).
    """
    cdef double[::1] moments, units, unit_summary, hist_range, sums
    cdef uint64_t[::1] unit_hash
    cdef int64_t[::1] hist
    cdef double hist_lo, hist_hi, hist_sigmas, sat_lo, sat_hi

    def __init__(self, double[::1] moments not None, *, double[::1] units=None, uint64_t[::1] unit_hash=None,
                 double[::1] unit_summary=None, int64_t[::1] hist=None, double hist_lo=0.0, double hist_hi=1.0,
                 double hist_sigmas=0.0, double[::1] hist_range=None, double sat_lo=-INFINITY,
                 double sat_hi=INFINITY, double[::1] sums=None):
        if hist is not None and hist_sigmas != 0:
            _check(hist.shape[0] >= 3, "hist needs nbins + 2 >= 3 slots")
            _check(isfinite(hist_sigmas) and hist_sigmas > 0, f"hist_sigmas must be finite and > 0, got {hist_sigmas}")
            _check(hist_range is not None and hist_range.shape[0] == 2,
                   f"hist_sigmas needs hist_range: 2 values, got "
                   f"{None if hist_range is None else hist_range.shape[0]}")
        elif hist is not None:
            _check_bins(hist.shape[0], hist_lo, hist_hi)
        if unit_summary is not None:
            _check(unit_summary.shape[0] == 3, f"unit_summary must hold 3 values, got {unit_summary.shape[0]}")
        if sums is not None:
            _check(sums.shape[0] == 4, f"sums must hold 4 values, got {sums.shape[0]}")
        self.moments, self.units, self.unit_hash, self.unit_summary = moments, units, unit_hash, unit_summary
        self.hist, self.hist_lo, self.hist_hi = hist, hist_lo, hist_hi
        self.hist_sigmas, self.hist_range = hist_sigmas, hist_range
        self.sat_lo, self.sat_hi, self.sums = sat_lo, sat_hi, sums

    cdef ic_stats of_layer(self, int64_t n_out, bint forward) except *:
        """The C struct for a forward or backward call of width n_out."""
        cdef ic_stats st
        cdef int64_t expected = (2 if forward else 1) * IC_MOMENT_FIELDS
        _check(self.moments.shape[0] == expected,
               f"moments has the wrong length: {self.moments.shape[0]} values, expected {expected}")
        if forward:
            _check(self.sums is None, "sums is a backward statistic")
        else:
            _check(self.units is None and self.unit_hash is None and self.unit_summary is None,
                   "units, unit_hash and unit_summary are forward statistics")
            _check(self.sat_lo == -INFINITY and self.sat_hi == INFINITY,
                   f"sat_lo and sat_hi are forward statistics, got [{self.sat_lo}, {self.sat_hi}]")
        st.moments = <ic_moments *>&self.moments[0]
        st.sat_lo, st.sat_hi = self.sat_lo, self.sat_hi
        st.hist, st.nbins, st.hist_lo, st.hist_hi = NULL, 0, self.hist_lo, self.hist_hi
        st.hist_sigmas, st.hist_range = 0.0, NULL
        if self.hist is not None:
            st.hist, st.nbins = &self.hist[0], self.hist.shape[0] - 2
            if self.hist_sigmas != 0:
                st.hist_sigmas, st.hist_range = self.hist_sigmas, &self.hist_range[0]
        st.units = NULL
        if self.units is not None:
            _check(self.units.shape[0] == 2 * n_out,
                   f"units must hold 2 * n_out = {2 * n_out} values, got {self.units.shape[0]}")
            st.units = &self.units[0]
        st.unit_hash = NULL
        if self.unit_hash is not None:
            _check(self.unit_hash.shape[0] == n_out,
                   f"unit_hash must hold n_out = {n_out} values, got {self.unit_hash.shape[0]}")
            st.unit_hash = &self.unit_hash[0]
        st.unit_summary = &self.unit_summary[0] if self.unit_summary is not None else NULL
        st.sums = &self.sums[0] if self.sums is not None else NULL
        return st


def forward(const floating[:, ::1] x, const floating[:, ::1] w, const floating[::1] b,
            floating[:, ::1] z, floating[:, ::1] a, int act_id, double param, Stats stats=None):
    """z = x @ w + b, a = phi(z), with the statistics `stats` asks for.

    z may be None (a then holds the product until phi replaces it); b may
    be None.
    """
    cdef int64_t batch = x.shape[0], n_in = x.shape[1], n_out = w.shape[1]
    cdef ic_act act
    cdef ic_stats st
    cdef ic_stats *stp = NULL
    cdef const floating *bp = NULL
    cdef floating *zp = NULL
    cdef ic_forward_args_f32 f32
    cdef ic_forward_args_f64 f64
    cdef int rc, nt = _threads(batch, n_in, n_out)
    _check(0 <= act_id < IC_ACT_COUNT, f"unknown activation id {act_id}")
    _check(n_in >= 1 and n_out >= 1 and w.shape[0] == n_in, "w must be (n_in, n_out), n_in, n_out >= 1")
    _check(a.shape[0] == batch and a.shape[1] == n_out, "a must be (batch, n_out)")
    _check(max(batch, n_in, n_out) < 2**31, "dimensions must be < 2**31")
    if b is not None:
        _check(b.shape[0] == n_out, "b must have n_out values")
        bp = &b[0]
    if z is not None:
        _check(z.shape[0] == batch and z.shape[1] == n_out, "z must be (batch, n_out)")
    if batch == 0:
        return
    if z is not None:
        zp = &z[0, 0]
    act.id, act.param = act_id, param
    if stats is not None:
        st = stats.of_layer(n_out, True)
        stp = &st
    with nogil:
        if floating is float:
            f32.batch, f32.n_in, f32.n_out, f32.act = batch, n_in, n_out, act
            f32.x, f32.w, f32.b, f32.z, f32.a = &x[0, 0], &w[0, 0], bp, zp, &a[0, 0]
            rc = ic_forward_f32(&f32, stp, nt)
        else:
            f64.batch, f64.n_in, f64.n_out, f64.act = batch, n_in, n_out, act
            f64.x, f64.w, f64.b, f64.z, f64.a = &x[0, 0], &w[0, 0], bp, zp, &a[0, 0]
            rc = ic_forward_f64(&f64, stp, nt)
    if rc != 0:
        raise MemoryError("layer kernel: out of memory for the statistics")


def backward(const floating[:, ::1] x, const floating[:, ::1] w, const floating[:, ::1] z,
             floating[:, ::1] grad, floating[:, ::1] dx, floating[:, ::1] dw, floating[::1] db,
             int act_id, double param, Stats stats=None, *, bint z_is_dphi=False,
             floating[:, ::1] z_below=None, int act_below=-1, double param_below=0.0):
    """grad (dA in, dZ out) *= phi'(z); db = sum of dZ; dx = dZ @ w.T; dw = x.T @ dZ.

    dx and db may be None. z_is_dphi: z already holds phi'(z). stats: the
    statistics of dZ, and sums (see Stats).

    With z_below (the layer below's z, activation act_below), x is formed
    here: x = phi_below(z_below) (x must be writable), and z_below becomes
    phi_below'(z_below), for the layer below's call with z_is_dphi.
    """
    cdef int64_t batch = x.shape[0], n_in = x.shape[1], n_out = w.shape[1]
    cdef ic_act act, below
    cdef ic_stats st
    cdef ic_stats *stp = NULL
    cdef floating[:, ::1] x_out
    cdef floating *dxp = NULL
    cdef floating *dbp = NULL
    cdef floating *zbp = NULL
    cdef floating *xbp = NULL
    cdef ic_backward_args_f32 b32
    cdef ic_backward_args_f64 b64
    cdef int rc, nt = _threads(batch, n_in, n_out)
    _check(0 <= act_id < IC_ACT_COUNT, f"unknown activation id {act_id}")
    _check(n_in >= 1 and n_out >= 1 and w.shape[0] == n_in, "w must be (n_in, n_out), n_in, n_out >= 1")
    _check(batch >= 1 and max(batch, n_in, n_out) < 2**31, "need 1 <= batch and dimensions < 2**31")
    _check(z.shape[0] == batch and z.shape[1] == n_out and grad.shape[0] == batch
           and grad.shape[1] == n_out, "z and grad must be (batch, n_out)")
    _check(dw.shape[0] == n_in and dw.shape[1] == n_out, "dw must be (n_in, n_out)")
    if z_below is not None:
        _check(0 <= act_below < IC_ACT_COUNT, f"unknown activation id {act_below}")
        _check(z_below.shape[0] == batch and z_below.shape[1] == n_in,
               f"z_below must be (batch, n_in) = ({batch}, {n_in}), got ({z_below.shape[0]}, {z_below.shape[1]})")
        x_out = x.base  # writable, or a ValueError
        zbp, xbp = &z_below[0, 0], &x_out[0, 0]
    if dx is not None:
        _check(dx.shape[0] == batch and dx.shape[1] == n_in, "dx must be (batch, n_in)")
        dxp = &dx[0, 0]
    if db is not None:
        _check(db.shape[0] == n_out, "db must have n_out values")
        dbp = &db[0]
    act.id, act.param = act_id, param
    below.id, below.param = act_below, param_below
    if stats is not None:
        st = stats.of_layer(n_out, False)
        stp = &st
    with nogil:
        if floating is float:
            b32.batch, b32.n_in, b32.n_out, b32.act, b32.act_below = batch, n_in, n_out, act, below
            b32.x, b32.w, b32.z, b32.z_is_dphi = &x[0, 0], &w[0, 0], &z[0, 0], z_is_dphi
            b32.grad, b32.dx, b32.dw, b32.db, b32.z_below, b32.x_below = &grad[0, 0], dxp, &dw[0, 0], dbp, zbp, xbp
            rc = ic_backward_f32(&b32, stp, nt)
        else:
            b64.batch, b64.n_in, b64.n_out, b64.act, b64.act_below = batch, n_in, n_out, act, below
            b64.x, b64.w, b64.z, b64.z_is_dphi = &x[0, 0], &w[0, 0], &z[0, 0], z_is_dphi
            b64.grad, b64.dx, b64.dw, b64.db, b64.z_below, b64.x_below = &grad[0, 0], dxp, &dw[0, 0], dbp, zbp, xbp
            rc = ic_backward_f64(&b64, stp, nt)
    if rc != 0:
        raise MemoryError("layer kernel: out of memory")


def histogram(const floating[::1] v, double lo, double hi, int64_t[::1] hist):
    """Adds the histogram of v over [lo, hi] to hist: int64[nbins + 2] with
    the counts below and above the range first and last (NaN left out)."""
    cdef int64_t n = v.shape[0]
    cdef int rc = 0, nt = threads_for(n)
    _check_bins(hist.shape[0], lo, hi)
    if n == 0:
        return
    with nogil:
        if floating is float:
            rc = ic_histogram_f32(&v[0], n, lo, hi, hist.shape[0] - 2, &hist[0], nt)
        else:
            rc = ic_histogram_f64(&v[0], n, lo, hi, hist.shape[0] - 2, &hist[0], nt)
    if rc != 0:
        raise MemoryError("histogram: out of memory")
