"""Layer kernels (private; use initcore.activations): activations and their
derivatives, element-wise."""
from libc.stdint cimport int64_t
from cython cimport floating

from fills cimport threads_for


cdef extern from "activations.h" nogil:
    int IC_ACT_COUNT
    void ic_activation_f32(int id, double param, const float *z, float *out, int64_t n,
                           int derivative, int nthreads)
    void ic_activation_f64(int id, double param, const double *z, double *out, int64_t n,
                           int derivative, int nthreads)

ACTIVATION_COUNT = IC_ACT_COUNT


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
