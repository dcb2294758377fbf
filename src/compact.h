#ifndef INITCORE_COMPACT_H
#define INITCORE_COMPACT_H

/* Copy the cand[i] with ok[i] != 0 (ok is 0 or 1) to dst in order and return
 * how many. m is a multiple of 16; dst must have room for m + 15 values,
 * beyond the returned count, as the SIMD path stores whole vectors. */
int ic_compact_f32(const float *cand, const unsigned char *ok, int m, float *dst);
int ic_compact_f64(const double *cand, const unsigned char *ok, int m, double *dst);

#endif
