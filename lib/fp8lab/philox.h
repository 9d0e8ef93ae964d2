/*
 * fp8lab/philox.h: the Philox4x32-10 counter-based random number generator.
 *
 * A pure function of (key, counter): 128 random bits for every 128-bit
 * counter, so element i of a stochastically rounded array gets the same
 * random bits whichever thread converts it, in whatever order or chunking.
 *
 * Source: Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
 * 1, 2, 3", SC'11 (Random123).  Ten rounds of
 *     (hi0, lo0) = M0 * x0,  (hi1, lo1) = M1 * x2       (32x32 -> 64 bits)
 *     x = (hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0)
 * with the key bumped by the Weyl constants (W0, W1) between rounds.
 * Checked against Random123's known-answer vectors in tests/test_philox.c.
 */
#ifndef FP8LAB_PHILOX_H
#define FP8LAB_PHILOX_H

#include <stdint.h>

#define FP8LAB_PHILOX_M0 0xD2511F53u
#define FP8LAB_PHILOX_M1 0xCD9E8D57u
#define FP8LAB_PHILOX_W0 0x9E3779B9u /* golden ratio             */
#define FP8LAB_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1              */

typedef struct fp8lab_philox4x32 {
  uint32_t v[4];
} fp8lab_philox4x32;

static inline fp8lab_philox4x32 fp8lab_philox4x32_10(fp8lab_philox4x32 x,
                                                     uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)FP8LAB_PHILOX_M0 * x.v[0];
    uint64_t p1 = (uint64_t)FP8LAB_PHILOX_M1 * x.v[2];
    fp8lab_philox4x32 y = {{(uint32_t)(p1 >> 32) ^ x.v[1] ^ k0, (uint32_t)p1,
                            (uint32_t)(p0 >> 32) ^ x.v[3] ^ k1, (uint32_t)p0}};
    x = y;
    k0 += FP8LAB_PHILOX_W0;
    k1 += FP8LAB_PHILOX_W1;
  }
  return x;
}

/* Two 64-bit words for counter (c_lo, c_hi) under 64-bit key `seed`. */
static inline void fp8lab_philox_u64x2(uint64_t seed, uint64_t c_lo,
                                       uint64_t c_hi, uint64_t out[2]) {
  fp8lab_philox4x32 x = {{(uint32_t)c_lo, (uint32_t)(c_lo >> 32),
                          (uint32_t)c_hi, (uint32_t)(c_hi >> 32)}};
  x = fp8lab_philox4x32_10(x, (uint32_t)seed, (uint32_t)(seed >> 32));
  out[0] = (uint64_t)x.v[1] << 32 | x.v[0];
  out[1] = (uint64_t)x.v[3] << 32 | x.v[2];
}

#endif
