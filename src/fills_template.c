/* Per-dtype fill kernels; included by fills.c with REAL, UNIT, NUNIT,
 * UNIFORM_UNITS, SUF and NEXTAFTER defined, after unit_SUF, u01_SUF,
 * u01_open_SUF, uniform_unit_SUF and box_muller_SUF.
 *
 * Value order: a block of PB counters yields planes of PB values (NUNIT planes
 * for normals, UNIFORM_UNITS for uniforms); plane k lane j comes from counter
 * j. Planes keep every loop unit-stride. */
#define VALS (PB * NUNIT)
#define UVALS (PB * UNIFORM_UNITS)

enum { FN(KIND_UNIFORM), FN(KIND_NORMAL) };

IC_INLINE void FN(uniform_planes)(uint32_t w[4][PB], REAL *dst, REAL low, REAL span, REAL top)
{
    IC_UNROLL
    for (int k = 0; k < UNIFORM_UNITS; k++)
        for (int j = 0; j < PB; j++) {
            REAL x = low + span * FN(uniform_unit)(w, k, j);
            dst[k * PB + j] = x > top ? top : x;   /* rounding must not reach high */
        }
}

IC_INLINE void FN(normal_planes)(uint32_t w[4][PB], REAL *dst, REAL mean, REAL std)
{
    for (int j = 0; j < PB; j++)
        for (int p = 0; p < NUNIT / 2; p++) {
            REAL z0, z1;
            FN(box_muller)(FN(unit)(w, 2 * p, j), FN(unit)(w, 2 * p + 1, j), &z0, &z1);
            dst[2 * p * PB + j] = mean + std * z0;
            dst[(2 * p + 1) * PB + j] = mean + std * z1;
        }
}

/* Elements [g, g + n) of the stream into out. */
IC_SIMD static void FN(indexed_chunk)(int kind, REAL *out, int64_t n, uint64_t g,
                                      const ic_stream *s, REAL a, REAL b, REAL c)
{
    uint32_t w[4][PB];
    REAL tmp[UVALS > VALS ? UVALS : VALS];
    const int64_t vals = kind == FN(KIND_UNIFORM) ? UVALS : VALS;
    while (n > 0) {
        uint64_t block = g / (uint64_t)vals;
        int64_t skip = (int64_t)(g % (uint64_t)vals);
        int64_t take = vals - skip < n ? vals - skip : n;
        REAL *dst = take == vals ? out : tmp;
        ic_philox_block(s, block * PB, w);
        if (kind == FN(KIND_UNIFORM))
            FN(uniform_planes)(w, dst, a, b, c);
        else
            FN(normal_planes)(w, dst, a, b);
        if (dst == tmp)
            memcpy(out, tmp + skip, (size_t)take * sizeof(REAL));
        out += take;
        g += (uint64_t)take;
        n -= take;
    }
}

/* Elements k .. k + len of the box into dst. */
static void FN(box_chunk)(int kind, REAL *dst, int64_t k, int64_t len, const ic_box *box,
                          const ic_stream *s, REAL a, REAL b, REAL c)
{
    while (len > 0) {
        int64_t run, g = ic_box_locate(box, k, &run);
        int64_t take = run < len ? run : len;
        FN(indexed_chunk)(kind, dst, take, (uint64_t)g, s, a, b, c);
        dst += take;
        k += take;
        len -= take;
    }
}

static void FN(indexed_fill)(int kind, REAL *out, const ic_box *box, const ic_stream *s,
                             REAL a, REAL b, REAL c, int nthreads)
{
    IC_FOR_CHUNKS(ic_box_size(box), IC_CHUNK, i, start, len,
                  FN(box_chunk)(kind, out + start, start, len, box, s, a, b, c));
}

void FN(ic_uniform)(REAL *out, const ic_box *box, const ic_stream *s,
                    double low, double high, int nthreads)
{
    REAL lo = (REAL)low, hi = (REAL)high;
    FN(indexed_fill)(FN(KIND_UNIFORM), out, box, s, lo, hi - lo, NEXTAFTER(hi, lo), nthreads);
}

void FN(ic_normal)(REAL *out, const ic_box *box, const ic_stream *s,
                   double mean, double std, int nthreads)
{
    FN(indexed_fill)(FN(KIND_NORMAL), out, box, s, (REAL)mean, (REAL)std, 0, nthreads);
}

/* Truncated normal by exact rejection. Chunk i of IC_TRUNC_CHUNK outputs owns
 * counters (i << 32) + d, so its values do not depend on the thread count. */
IC_SIMD static void FN(trunc_chunk)(REAL *out, int64_t n, uint64_t chunk, const ic_stream *s,
                                    const ic_truncnorm *p)
{
    uint32_t w[4][PB];
    REAL cand[VALS];
    unsigned char ok[VALS];
    const REAL alpha = (REAL)p->alpha, beta = (REAL)p->beta, width = (REAL)(p->beta - p->alpha);
    const REAL lam = (REAL)p->lam, inv_lam = (REAL)(1.0 / p->lam);
    const REAL mean = (REAL)p->mean, std = (REAL)p->std;
    const REAL base = (REAL)p->base, scale = (REAL)p->scale;
    const REAL lo = (REAL)p->lo, hi = (REAL)p->hi;
    uint64_t draw = 0;
    int64_t filled = 0;
    while (filled < n) {
        int m;
        ic_philox_block(s, (chunk << 32) + draw, w);
        draw += PB;
        if (p->regime == IC_TN_NORMAL) {
            m = VALS;
            FN(normal_planes)(w, cand, 0, 1);
            for (int i = 0; i < m; i++) {
                REAL z = cand[i], x = mean + std * z;
                ok[i] = (z >= alpha) & (z <= beta);
                cand[i] = x < lo ? lo : (x > hi ? hi : x);
            }
        } else {
            /* One candidate per pair of units: the first proposes, the second
             * gives an Exp(1) variate e, accepted when e >= -log(acceptance). */
            m = VALS / 2;
            IC_UNROLL
            for (int q = 0; q < NUNIT / 2; q++)
                for (int j = 0; j < PB; j++) {
                    UNIT ua = FN(unit)(w, 2 * q, j), ub = FN(unit)(w, 2 * q + 1, j);
                    REAL e = -FN(log)(FN(u01_open)(ub));
                    REAL d, t;
                    if (p->regime == IC_TN_EXP_TAIL) {
                        d = -FN(log)(FN(u01_open)(ua)) * inv_lam;
                        REAL z = alpha + d - lam;
                        t = (REAL)0.5 * z * z;
                    } else {
                        d = width * FN(u01)(ua);
                        REAL z = alpha + d;
                        /* d (alpha + d/2) is z^2/2 - alpha^2/2 without cancellation */
                        t = p->regime == IC_TN_UNIFORM0 ? (REAL)0.5 * z * z : d * (alpha + (REAL)0.5 * d);
                    }
                    REAL x = base + scale * d;
                    ok[q * PB + j] = (e >= t) & (d <= width);
                    cand[q * PB + j] = x < lo ? lo : (x > hi ? hi : x);
                }
        }
        /* Values were clamped to the bounds rounded inward, since rounding
         * in mean + std * z can step just outside [a, b]. */
        if (n - filled >= m + 16) {
            /* whole vectors may be stored past the count: still inside this chunk */
            filled += FN(ic_compact)(cand, ok, m, out + filled);
        } else {
            for (int i = 0; i < m && filled < n; i++) {
                out[filled] = cand[i];
                filled += ok[i];
            }
        }
    }
}

/* Elements k .. k + len of the box into dst. A piece that starts inside a
 * chunk draws the chunk's values before it too: rejection makes a value's
 * place depend on every draw before it in its chunk. */
static void FN(trunc_box_chunk)(REAL *dst, int64_t k, int64_t len, const ic_box *box,
                                const ic_stream *s, const ic_truncnorm *p)
{
    REAL prefix[IC_TRUNC_CHUNK];
    while (len > 0) {
        int64_t run, g = ic_box_locate(box, k, &run);
        int64_t w0 = g % IC_TRUNC_CHUNK, w1 = w0 + (run < len ? run : len);
        if (w1 > IC_TRUNC_CHUNK)
            w1 = IC_TRUNC_CHUNK;
        if (w0 == 0) {
            FN(trunc_chunk)(dst, w1, (uint64_t)(g / IC_TRUNC_CHUNK), s, p);
        } else {
            FN(trunc_chunk)(prefix, w1, (uint64_t)(g / IC_TRUNC_CHUNK), s, p);
            memcpy(dst, prefix + w0, (size_t)(w1 - w0) * sizeof(REAL));
        }
        dst += w1 - w0;
        k += w1 - w0;
        len -= w1 - w0;
    }
}

void FN(ic_truncnorm)(REAL *out, const ic_box *box, const ic_stream *s, const ic_truncnorm *p,
                      int nthreads)
{
    int64_t n = ic_box_size(box), lead = ic_box_lead(box, IC_TRUNC_CHUNK);
    IC_FOR_CHUNKS(n + lead, IC_TRUNC_CHUNK, i, start, len, {
        int64_t first = start > lead ? start - lead : 0;
        FN(trunc_box_chunk)(out + first, first, start + len - lead - first, box, s, p);
    });
}

void FN(ic_constant)(REAL *out, int64_t n, double value, int nthreads)
{
    const REAL v = (REAL)value;
    int64_t i;
    IC_PARALLEL_FOR(nthreads > 1 && n > IC_CHUNK)
    for (i = 0; i < n; i++)
        out[i] = v;
}

#undef VALS
#undef UVALS
