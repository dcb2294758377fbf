/* Instantiates fills_template.c for float and double and holds the parts
 * that do not depend on the dtype. */
#include <math.h>
#include <string.h>

#include "compact.h"
#include "cpu.h"
#include "fills.h"
#include "parallel.h"
#include "philox.h"
#include "template.h"
#include "vecmath.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Plane loops have 1-5 iterations; unrolled, each lane loop vectorizes. */
#if defined(__GNUC__) && !defined(__clang__)
#define IC_UNROLL _Pragma("GCC unroll 8")
#else
#define IC_UNROLL
#endif

#define PB PHILOX_BLOCK
/* Elements per parallel work item of the indexed fills. */
#define IC_CHUNK 32768

#define TWO_M24F 5.9604644775390625e-08f
#define TWO_M32F 2.3283064365386963e-10f
#define TWO_M33F 1.1641532182693481e-10f
#define TWO_M53 1.1102230246251565e-16
#define TWO_M54 5.5511151231257827e-17
#define TWO_M64 5.4210108624275222e-20

/* float: four 32-bit units per counter. */
IC_INLINE uint32_t unit_f32(uint32_t w[4][PB], int k, int j) { return w[k][j]; }
IC_INLINE float u01_f32(uint32_t x) { return (float)(x >> 8) * TWO_M24F; }               /* [0, 1) */
/* A uniform float32 needs 24 bits: the top 24 of each word, then a fifth value
 * from the spare low bytes of words 0-2, so a counter yields five. */
IC_INLINE float uniform_unit_f32(uint32_t w[4][PB], int k, int j)
{
    uint32_t bits = k < 4 ? w[k][j] >> 8
                          : (w[0][j] & 0xffu) | (w[1][j] & 0xffu) << 8 | (w[2][j] & 0xffu) << 16;
    return (float)bits * TWO_M24F;
}
IC_INLINE float u01_open_f32(uint32_t x) { return (float)x * TWO_M32F + TWO_M33F; }      /* (0, 1] */
IC_INLINE void box_muller_f32(uint32_t ur, uint32_t ua, float *z0, float *z1)
{
    /* 32 bits for the radius reach 6.8 sigma (24 bits would stop at 5.77). */
    float r = sqrtf(-2.0f * log_f32(u01_open_f32(ur)));
    float s, c;
    sincos_quarter_f32(ua >> 30, (float)(int32_t)(ua << 2) * TWO_M32F, &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

/* double: two 64-bit units per counter. */
IC_INLINE uint64_t unit_f64(uint32_t w[4][PB], int k, int j)
{
    return ((uint64_t)w[2 * k][j] << 32) | w[2 * k + 1][j];
}
IC_INLINE double u01_f64(uint64_t x) { return (double)(x >> 11) * TWO_M53; }
IC_INLINE double uniform_unit_f64(uint32_t w[4][PB], int k, int j) { return u01_f64(unit_f64(w, k, j)); }
IC_INLINE double u01_open_f64(uint64_t x) { return (double)(x >> 11) * TWO_M53 + TWO_M54; }
IC_INLINE void box_muller_f64(uint64_t ur, uint64_t ua, double *z0, double *z1)
{
    double r = sqrt(-2.0 * log_f64(u01_open_f64(ur)));
    double s, c;
    sincos_quarter_f64(ua >> 62, (double)(int64_t)(ua << 2) * TWO_M64, &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

static inline int64_t ic_box_size(const ic_box *box)
{
    int64_t n = 1;
    for (int d = 0; d < box->ndim; d++)
        n *= box->count[d];
    return n;
}

/* The stream index of element k of a box, and in *run how many elements from
 * k on are contiguous both in the box and in the stream. */
static inline int64_t ic_box_locate(const ic_box *box, int64_t k, int64_t *run)
{
    int64_t g = box->base;
    int last = box->ndim - 1;
    *run = box->count[last] - k % box->count[last];
    for (int d = last; d >= 0; d--) {
        g += (k % box->count[d]) * box->stride[d];
        k /= box->count[d];
    }
    return g;
}

/* How far a contiguous box starts inside a stream chunk of `size` elements:
 * work items shifted by it line up with the chunks, so none is drawn twice. */
static inline int64_t ic_box_lead(const ic_box *box, int64_t size)
{
    return box->ndim == 1 ? box->base % size : 0;
}

#define REAL float
#define UNIT uint32_t
#define NUNIT 4
#define UNIFORM_UNITS 5
#define SUF f32
#define NEXTAFTER nextafterf
#include "fills_template.c"
#undef REAL
#undef UNIT
#undef NUNIT
#undef UNIFORM_UNITS
#undef SUF
#undef NEXTAFTER

#define REAL double
#define UNIT uint64_t
#define NUNIT 2
#define UNIFORM_UNITS 2
#define SUF f64
#define NEXTAFTER nextafter
#include "fills_template.c"

/* ---- half precision: float32 values, clamped, rounded to nearest even ---- */

/* IEEE binary16 (F. Giesen's float_to_half_fast3_rtne): finite inputs only,
 * which the callers' range checks guarantee; beyond 65520 gives infinity. */
IC_INLINE uint16_t f16_from_f32(float x)
{
    uint32_t u = f32_bits(x), sign = u & 0x80000000u, o;
    u ^= sign;
    if (u >= (127u + 16u) << 23) {
        o = 0x7c00u;
    } else if (u < 113u << 23) {
        /* subnormal or zero: the FPU's own rounding places the bits, as
         * adding 0.5 leaves x's 2^-24 units in the low mantissa */
        o = f32_bits(f32_from(u) + 0.5f) - (126u << 23);
    } else {
        uint32_t odd = (u >> 13) & 1u;
        u += ((uint32_t)(15 - 127) << 23) + 0xfffu + odd;
        o = u >> 13;
    }
    return (uint16_t)(o | sign >> 16);
}

IC_INLINE uint16_t bf16_from_f32(float x)
{
    uint32_t u = f32_bits(x);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

IC_SIMD static void store_h16(uint16_t *out, const float *in, int64_t n, int format, float lo, float hi)
{
    if (format == IC_HALF_BF16) {
        for (int64_t i = 0; i < n; i++) {
            float x = in[i] < lo ? lo : (in[i] > hi ? hi : in[i]);
            out[i] = bf16_from_f32(x);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float x = in[i] < lo ? lo : (in[i] > hi ? hi : in[i]);
            out[i] = f16_from_f32(x);
        }
    }
}

/* float32 values staged in pieces that stay in L1. */
#define IC_HALF_PIECE 2048

static void h16_chunk(int kind, uint16_t *dst, int format, int64_t k, int64_t len, const ic_box *box,
                      const ic_stream *s, float a, float b, float c, float lo, float hi)
{
    float piece[IC_HALF_PIECE];
    while (len > 0) {
        int64_t take = len < IC_HALF_PIECE ? len : IC_HALF_PIECE;
        box_chunk_f32(kind, piece, k, take, box, s, a, b, c);
        store_h16(dst, piece, take, format, lo, hi);
        dst += take;
        k += take;
        len -= take;
    }
}

void ic_uniform_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                    double low, double high, float lo, float hi, int nthreads)
{
    float l = (float)low, h = (float)high;
    IC_FOR_CHUNKS(ic_box_size(box), IC_CHUNK, i, start, len,
                  h16_chunk(KIND_UNIFORM_f32, out + start, format, start, len, box, s, l, h - l,
                            nextafterf(h, l), lo, hi));
}

void ic_normal_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                   double mean, double std, int nthreads)
{
    IC_FOR_CHUNKS(ic_box_size(box), IC_CHUNK, i, start, len,
                  h16_chunk(KIND_NORMAL_f32, out + start, format, start, len, box, s, (float)mean,
                            (float)std, 0, -INFINITY, INFINITY));
}

void ic_truncnorm_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                      const ic_truncnorm *p, int nthreads)
{
    int64_t n = ic_box_size(box), lead = ic_box_lead(box, IC_TRUNC_CHUNK);
    IC_FOR_CHUNKS(n + lead, IC_TRUNC_CHUNK, i, start, len, {
        float piece[IC_TRUNC_CHUNK];
        int64_t first = start > lead ? start - lead : 0, count = start + len - lead - first;
        trunc_box_chunk_f32(piece, first, count, box, s, p);
        store_h16(out + first, piece, count, format, (float)p->lo, (float)p->hi);
    });
}

void ic_constant_h16(uint16_t *out, int64_t n, uint16_t bits, int nthreads)
{
    int64_t i;
    IC_PARALLEL_FOR(nthreads > 1 && n > IC_CHUNK)
    for (i = 0; i < n; i++)
        out[i] = bits;
}

void ic_round_h16(uint16_t *out, const float *in, int64_t n, int format, int nthreads)
{
    IC_FOR_CHUNKS(n, IC_CHUNK, i, start, len,
                  store_h16(out + start, in + start, len, format, -INFINITY, INFINITY));
}

void ic_sparse_zeros(void *out, int elem_size, int64_t rows, int64_t cols, int64_t nzeros,
                     int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                     const ic_stream *s, int nthreads)
{
    int64_t col, width = c1 - c0;
    /* Selection sampling (Knuth, TAOCP vol. 2, Algorithm S): row r is chosen
     * with probability need / (rows - r); column col owns counters col << 32,
     * so a box of columns costs its columns' walks down to row r1 only. */
    IC_PARALLEL_FOR(nthreads > 1 && width > 1)
    for (col = c0; col < c1; col++) {
        uint32_t w[4][PB];
        int64_t need = nzeros;
        for (int64_t r = 0; r < r1 && need > 0; r++) {
            int lane = (int)(r % (2 * PB));
            if (lane == 0)
                ic_philox_block(s, ((uint64_t)col << 32) + (uint64_t)(r / 2), w);
            uint64_t x = ((uint64_t)w[2 * (lane / PB)][lane % PB] << 32) | w[2 * (lane / PB) + 1][lane % PB];
            if ((double)(rows - r) * u01_f64(x) < (double)need) {
                if (r >= r0)
                    memset((char *)out + ((r - r0) * width + (col - c0)) * elem_size, 0, (size_t)elem_size);
                need--;
            }
        }
    }
}

void ic_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t w[4][PB];
    ic_stream s;
    s.key[0] = key[0];
    s.key[1] = key[1];
    s.position = ((uint64_t)ctr[3] << 32) | ctr[2];
    philox_block(&s, ((uint64_t)ctr[1] << 32) | ctr[0], 1, w);
    for (int k = 0; k < 4; k++)
        out[k] = w[k][0];
}

int ic_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int ic_max_threads(void)
{
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n < IC_MAX_THREADS ? n : IC_MAX_THREADS;
#else
    return 1;
#endif
}

void ic_set_num_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}
