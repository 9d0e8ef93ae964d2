/*
 * test_round.c: directed rounding cases for every deterministic mode, and
 * every code of every narrow named format decoded against an independent
 * decoder written here from the bit-layout definition.
 *
 * Each row of `cases` gives an input, a format, saturation and NaN policy,
 * and the six expected codes in the order RNE RNA RTZ RUP RDN RTO, worked
 * out by hand from the definitions (IEEE 754-2019 4.3 and 7.4, the OFP8 and
 * MX encodings, fp8lab/convert.h for RTO and for fp8lab's conventions).
 * The working is in the comment above each group.  Code layouts:
 *
 *   e4m3fn / e4m3  s.EEEE.MMM  bias 7    1.0 = 0x38, 1.125 = 0x39, 1.25 = 0x3A
 *   e4m3fnuz       s.EEEE.MMM  bias 8    1.0 = 0x40
 *   e4m3b11fnuz    s.EEEE.MMM  bias 11   1.0 = 0x58
 *   e5m2           s.EEEEE.MM  bias 15   1.0 = 0x3C, 1.25 = 0x3D, 1.5 = 0x3E
 *   e3m4           s.EEE.MMMM  bias 3    1.0 = 0x30
 *   e2m1           s.EE.M      bias 1    0,.5,1,1.5,2,3,4,6 = 0x0..0x7
 *   e8m0           EEEEEEEE    bias 127  2^(code-127), 0xFF NaN
 *   f16            s.E5.M10    bias 15   1.0 = 0x3C00
 *   bf16           s.E8.M7     bias 127  1.0 = 0x3F80
 *
 * Round to odd (RTO): truncate, then set the last fraction bit if anything
 * was discarded; a result beyond max finite is +-max (convert.h step 5).
 *
 * Beyond the directed rows: every narrow format (named and a few user
 * forms) against a brute-force nearest-value search over its listed values,
 * and f64 -> f32 against the host FPU's conversion in four directions.
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fp8lab/convert.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum { CAN = FP8LAB_NAN_CANONICAL, SGN = FP8LAB_NAN_SIGNED };
enum { NOSAT = 0, SAT = 1 };

static const fp8lab_round modes[6] = {FP8LAB_RNE, FP8LAB_RNA, FP8LAB_RTZ,
                                      FP8LAB_RUP, FP8LAB_RDN, FP8LAB_RTO};

typedef struct {
  int line;
  const char *fmt;
  double x;
  int sat, nan;
  uint32_t want[6]; /* RNE RNA RTZ RUP RDN RTO */
} rcase;

#define R(fmt, x, sat, nan, a, b, c, d, e, f) \
  {__LINE__, fmt, x, sat, nan, {a, b, c, d, e, f}}
#define ALL(fmt, x, sat, nan, a) R(fmt, x, sat, nan, a, a, a, a, a, a)

#define NEG_NAN (-(double)NAN)

/* clang-format off */
static const rcase cases[] = {
  /* ---- e4m3fn -------------------------------------------------------- */
  /* exact values never move */
  ALL("e4m3fn", 1.0, NOSAT, CAN, 0x38),
  ALL("e4m3fn", -1.0, NOSAT, CAN, 0xB8),
  ALL("e4m3fn", 240.0, NOSAT, CAN, 0x77),        /* 1.875 * 2^7, E=14 M=7 */
  /* 1.0625 = (1 + 1.125)/2: tie, lower neighbour 0x38 even */
  R("e4m3fn", 1.0625, NOSAT, CAN,   0x38, 0x39, 0x38, 0x39, 0x38, 0x39),
  R("e4m3fn", -1.0625, NOSAT, CAN,  0xB8, 0xB9, 0xB8, 0xB8, 0xB9, 0xB9),
  /* 1.1875 = (1.125 + 1.25)/2: tie, lower neighbour 0x39 odd */
  R("e4m3fn", 1.1875, NOSAT, CAN,   0x3A, 0x3A, 0x39, 0x3A, 0x39, 0x39),
  R("e4m3fn", -1.1875, NOSAT, CAN,  0xBA, 0xBA, 0xB9, 0xB9, 0xBA, 0xB9),
  /* just above / below the even tie */
  R("e4m3fn", 1.0625 + 0x1p-20, NOSAT, CAN, 0x39, 0x39, 0x38, 0x39, 0x38, 0x39),
  R("e4m3fn", 1.0625 - 0x1p-20, NOSAT, CAN, 0x38, 0x38, 0x38, 0x39, 0x38, 0x39),
  /* just above / below the odd tie */
  R("e4m3fn", 1.1875 + 0x1p-40, NOSAT, CAN, 0x3A, 0x3A, 0x39, 0x3A, 0x39, 0x39),
  R("e4m3fn", 1.1875 - 0x1p-40, NOSAT, CAN, 0x39, 0x39, 0x39, 0x3A, 0x39, 0x39),
  /* largest finite 448 = 0x7E (S.1111.110); 0x7F is NaN.  The next value the
   * exponent would give is 480, the midpoint 464.  Without saturation an
   * overflow is NaN (no Inf), except for the modes that round toward zero. */
  ALL("e4m3fn", 448.0, NOSAT, CAN, 0x7E),
  ALL("e4m3fn", -448.0, NOSAT, CAN, 0xFE),
  R("e4m3fn", 449.0, NOSAT, CAN,    0x7E, 0x7E, 0x7E, 0x7F, 0x7E, 0x7E),
  R("e4m3fn", 464.0, NOSAT, CAN,    0x7E, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E),
  R("e4m3fn", 464.0 + 0x1p-10, NOSAT, CAN, 0x7F, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E),
  R("e4m3fn", -464.0, NOSAT, CAN,   0xFE, 0x7F, 0xFE, 0xFE, 0x7F, 0xFE),
  R("e4m3fn", -464.0, NOSAT, SGN,   0xFE, 0xFF, 0xFE, 0xFE, 0xFF, 0xFE),
  R("e4m3fn", 1e6, NOSAT, CAN,      0x7F, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E),
  R("e4m3fn", -1e6, NOSAT, CAN,     0x7F, 0x7F, 0xFE, 0xFE, 0x7F, 0xFE),
  R("e4m3fn", -1e6, NOSAT, SGN,     0xFF, 0xFF, 0xFE, 0xFE, 0xFF, 0xFE),
  R("e4m3fn", DBL_MAX, NOSAT, CAN,  0x7F, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E),
  ALL("e4m3fn", 449.0, SAT, CAN, 0x7E),
  ALL("e4m3fn", 464.0, SAT, CAN, 0x7E),
  ALL("e4m3fn", 464.0 + 0x1p-10, SAT, CAN, 0x7E),
  ALL("e4m3fn", 1e6, SAT, CAN, 0x7E),
  ALL("e4m3fn", -1e6, SAT, SGN, 0xFE),
  ALL("e4m3fn", DBL_MAX, SAT, CAN, 0x7E),
  /* Inf: no Inf in the format, so NaN in every mode, or +-max saturated */
  ALL("e4m3fn", INFINITY, NOSAT, CAN, 0x7F),
  ALL("e4m3fn", -INFINITY, NOSAT, CAN, 0x7F),
  ALL("e4m3fn", -INFINITY, NOSAT, SGN, 0xFF),
  ALL("e4m3fn", INFINITY, SAT, CAN, 0x7E),
  ALL("e4m3fn", -INFINITY, SAT, CAN, 0xFE),
  /* NaN: canonical 0x7F whatever the sign; signed keeps it; saturation
   * does not apply to NaN */
  ALL("e4m3fn", NAN, NOSAT, CAN, 0x7F),
  ALL("e4m3fn", NEG_NAN, NOSAT, CAN, 0x7F),
  ALL("e4m3fn", NAN, NOSAT, SGN, 0x7F),
  ALL("e4m3fn", NEG_NAN, NOSAT, SGN, 0xFF),
  ALL("e4m3fn", NAN, SAT, CAN, 0x7F),
  ALL("e4m3fn", NEG_NAN, SAT, SGN, 0xFF),
  /* zeros keep their sign */
  ALL("e4m3fn", 0.0, NOSAT, CAN, 0x00),
  ALL("e4m3fn", -0.0, NOSAT, CAN, 0x80),
  ALL("e4m3fn", -0.0, SAT, SGN, 0x80),
  /* subnormals: min subnormal 2^-9 = 0x01, max subnormal 7 * 2^-9 = 0x07,
   * min normal 2^-6 = 0x08 */
  ALL("e4m3fn", 0x1p-9, NOSAT, CAN, 0x01),
  ALL("e4m3fn", -0x1p-9, NOSAT, CAN, 0x81),
  ALL("e4m3fn", 7 * 0x1p-9, NOSAT, CAN, 0x07),
  ALL("e4m3fn", 0x1p-6, NOSAT, CAN, 0x08),
  /* half the min subnormal: tie between 0 (even) and 0x01 */
  R("e4m3fn", 0x1p-10, NOSAT, CAN,  0x00, 0x01, 0x00, 0x01, 0x00, 0x01),
  R("e4m3fn", -0x1p-10, NOSAT, CAN, 0x80, 0x81, 0x80, 0x80, 0x81, 0x81),
  R("e4m3fn", 0x1p-10 + 0x1p-30, NOSAT, CAN, 0x01, 0x01, 0x00, 0x01, 0x00, 0x01),
  R("e4m3fn", 0x1p-10 - 0x1p-30, NOSAT, CAN, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01),
  /* 1.5 * 2^-9: tie between 0x01 (odd) and 0x02 */
  R("e4m3fn", 3 * 0x1p-10, NOSAT, CAN, 0x02, 0x02, 0x01, 0x02, 0x01, 0x01),
  /* 7.5 * 2^-9: tie between max subnormal 0x07 (odd) and min normal 0x08 */
  R("e4m3fn", 15 * 0x1p-10, NOSAT, CAN, 0x08, 0x08, 0x07, 0x08, 0x07, 0x07),
  /* tiny values: only the directed modes and RTO leave zero; a negative
   * tiny value that rounds to zero gives -0 */
  R("e4m3fn", 0x1p-40, NOSAT, CAN,  0x00, 0x00, 0x00, 0x01, 0x00, 0x01),
  R("e4m3fn", -0x1p-40, NOSAT, CAN, 0x80, 0x80, 0x80, 0x80, 0x81, 0x81),
  R("e4m3fn", 0x1p-1074, NOSAT, CAN,  0x00, 0x00, 0x00, 0x01, 0x00, 0x01),
  R("e4m3fn", -0x1p-1074, NOSAT, CAN, 0x80, 0x80, 0x80, 0x80, 0x81, 0x81),
  R("e4m3fn", DBL_MIN, NOSAT, CAN,  0x00, 0x00, 0x00, 0x01, 0x00, 0x01),
  /* f64 double-rounding trap: -431.99999999999994 = -(432 - 2^-44) lies
   * just inside the tie 432 = (416 + 448)/2 (spacing 32 in [256, 512)).
   * Nearest is -416 = -(1.625 * 2^8): s=1 E=1111 M=101 = 0xFD.  Rounding
   * through f32 first would give -432, then the tie to even -448 = 0xFE. */
  R("e4m3fn", -431.99999999999994, NOSAT, CAN, 0xFD, 0xFD, 0xFD, 0xFD, 0xFE, 0xFD),
  R("e4m3fn", -432.0, NOSAT, CAN,   0xFE, 0xFE, 0xFD, 0xFD, 0xFE, 0xFD),
  R("e4m3fn", 431.99999999999994, NOSAT, CAN, 0x7D, 0x7D, 0x7D, 0x7E, 0x7D, 0x7D),
  /* 1.0625 + 2^-40 is just above the tie; in f32 it is the tie itself */
  R("e4m3fn", 1.0625 + 0x1p-40, NOSAT, CAN, 0x39, 0x39, 0x38, 0x39, 0x38, 0x39),
  /* 1 + 2^-40 rounds up under RUP; in f32 it is exactly 1 */
  R("e4m3fn", 1.0 + 0x1p-40, NOSAT, CAN, 0x38, 0x38, 0x38, 0x39, 0x38, 0x39),

  /* ---- e4m3 (IEEE-style: Inf 0x78, NaN 0x79..0x7F) -------------------- */
  /* max 240 = 0x77, next would-be 256 = Inf code, midpoint 248 */
  ALL("e4m3", 240.0, NOSAT, CAN, 0x77),
  R("e4m3", 248.0, NOSAT, CAN,      0x78, 0x78, 0x77, 0x78, 0x77, 0x77),
  R("e4m3", 247.0, NOSAT, CAN,      0x77, 0x77, 0x77, 0x78, 0x77, 0x77),
  R("e4m3", 256.0, NOSAT, CAN,      0x78, 0x78, 0x77, 0x78, 0x77, 0x77),
  R("e4m3", -248.0, NOSAT, CAN,     0xF8, 0xF8, 0xF7, 0xF7, 0xF8, 0xF7),
  R("e4m3", 448.0, NOSAT, CAN,      0x78, 0x78, 0x77, 0x78, 0x77, 0x77),
  ALL("e4m3", 248.0, SAT, CAN, 0x77),
  ALL("e4m3", -1e300, SAT, CAN, 0xF7),
  ALL("e4m3", INFINITY, NOSAT, CAN, 0x78),
  ALL("e4m3", -INFINITY, NOSAT, CAN, 0xF8),
  ALL("e4m3", INFINITY, SAT, CAN, 0x77),
  ALL("e4m3", NAN, NOSAT, CAN, 0x7F),
  ALL("e4m3", NEG_NAN, NOSAT, CAN, 0x7F),
  ALL("e4m3", NAN, NOSAT, SGN, 0x7C),
  ALL("e4m3", NEG_NAN, NOSAT, SGN, 0xFC),
  R("e4m3", 1.0625, NOSAT, CAN,     0x38, 0x39, 0x38, 0x39, 0x38, 0x39),
  R("e4m3", 0x1p-10, NOSAT, CAN,    0x00, 0x01, 0x00, 0x01, 0x00, 0x01),
  ALL("e4m3", -0.0, NOSAT, CAN, 0x80),

  /* ---- e5m2 ------------------------------------------------------------ */
  ALL("e5m2", 1.0, NOSAT, CAN, 0x3C),
  /* 1.125: tie between 0x3C (even) and 0x3D */
  R("e5m2", 1.125, NOSAT, CAN,      0x3C, 0x3D, 0x3C, 0x3D, 0x3C, 0x3D),
  /* 1.375: tie between 0x3D (odd) and 0x3E */
  R("e5m2", 1.375, NOSAT, CAN,      0x3E, 0x3E, 0x3D, 0x3E, 0x3D, 0x3D),
  R("e5m2", -1.375, NOSAT, CAN,     0xBE, 0xBE, 0xBD, 0xBD, 0xBE, 0xBD),
  /* max 57344 = 1.75 * 2^15 = 0x7B (M=11 odd); next would-be 65536 = Inf
   * code 0x7C; midpoint 61440 ties up to even = Inf */
  ALL("e5m2", 57344.0, NOSAT, CAN, 0x7B),
  R("e5m2", 61440.0, NOSAT, CAN,    0x7C, 0x7C, 0x7B, 0x7C, 0x7B, 0x7B),
  R("e5m2", 61439.0, NOSAT, CAN,    0x7B, 0x7B, 0x7B, 0x7C, 0x7B, 0x7B),
  R("e5m2", -61440.0, NOSAT, CAN,   0xFC, 0xFC, 0xFB, 0xFB, 0xFC, 0xFB),
  R("e5m2", 1e9, NOSAT, CAN,        0x7C, 0x7C, 0x7B, 0x7C, 0x7B, 0x7B),
  R("e5m2", -1e9, NOSAT, CAN,       0xFC, 0xFC, 0xFB, 0xFB, 0xFC, 0xFB),
  ALL("e5m2", 61440.0, SAT, CAN, 0x7B),
  ALL("e5m2", -1e9, SAT, CAN, 0xFB),
  ALL("e5m2", INFINITY, NOSAT, CAN, 0x7C),
  ALL("e5m2", -INFINITY, NOSAT, SGN, 0xFC),
  ALL("e5m2", INFINITY, SAT, CAN, 0x7B),
  ALL("e5m2", -INFINITY, SAT, CAN, 0xFB),
  ALL("e5m2", NAN, NOSAT, CAN, 0x7F),
  ALL("e5m2", NEG_NAN, NOSAT, CAN, 0x7F),
  ALL("e5m2", NAN, SAT, SGN, 0x7E),
  ALL("e5m2", NEG_NAN, NOSAT, SGN, 0xFE),
  ALL("e5m2", 0.0, NOSAT, CAN, 0x00),
  ALL("e5m2", -0.0, NOSAT, CAN, 0x80),
  /* min subnormal 2^-16 = 0x01, min normal 2^-14 = 0x04 */
  ALL("e5m2", 0x1p-16, NOSAT, CAN, 0x01),
  ALL("e5m2", 0x1p-14, NOSAT, CAN, 0x04),
  R("e5m2", 0x1p-17, NOSAT, CAN,    0x00, 0x01, 0x00, 0x01, 0x00, 0x01),
  R("e5m2", -0x1p-17, NOSAT, CAN,   0x80, 0x81, 0x80, 0x80, 0x81, 0x81),
  R("e5m2", 0x1p-17 + 0x1p-40, NOSAT, CAN, 0x01, 0x01, 0x00, 0x01, 0x00, 0x01),
  R("e5m2", 3 * 0x1p-17, NOSAT, CAN, 0x02, 0x02, 0x01, 0x02, 0x01, 0x01),
  /* 3.5 * 2^-16: tie between max subnormal 0x03 (odd) and min normal 0x04 */
  R("e5m2", 7 * 0x1p-17, NOSAT, CAN, 0x04, 0x04, 0x03, 0x04, 0x03, 0x03),
  R("e5m2", -0x1p-30, NOSAT, CAN,   0x80, 0x80, 0x80, 0x80, 0x81, 0x81),

  /* ---- e3m4 ------------------------------------------------------------ */
  ALL("e3m4", 1.0, NOSAT, CAN, 0x30),
  /* 1 + 1/32: tie between 0x30 (even) and 0x31; 1 + 3/32: 0x31 (odd) / 0x32 */
  R("e3m4", 1.03125, NOSAT, CAN,    0x30, 0x31, 0x30, 0x31, 0x30, 0x31),
  R("e3m4", 1.09375, NOSAT, CAN,    0x32, 0x32, 0x31, 0x32, 0x31, 0x31),
  /* max 15.5 = (1 + 15/16) 2^3 = 0x6F; Inf 0x70; midpoint 15.75 */
  ALL("e3m4", 15.5, NOSAT, CAN, 0x6F),
  R("e3m4", 15.75, NOSAT, CAN,      0x70, 0x70, 0x6F, 0x70, 0x6F, 0x6F),
  R("e3m4", -15.75, NOSAT, CAN,     0xF0, 0xF0, 0xEF, 0xEF, 0xF0, 0xEF),
  R("e3m4", 15.625, NOSAT, CAN,     0x6F, 0x6F, 0x6F, 0x70, 0x6F, 0x6F),
  ALL("e3m4", 15.75, SAT, CAN, 0x6F),
  ALL("e3m4", 1e5, SAT, CAN, 0x6F),
  ALL("e3m4", INFINITY, NOSAT, CAN, 0x70),
  ALL("e3m4", INFINITY, SAT, CAN, 0x6F),
  ALL("e3m4", NAN, NOSAT, CAN, 0x7F),
  ALL("e3m4", NAN, NOSAT, SGN, 0x78),
  ALL("e3m4", NEG_NAN, NOSAT, SGN, 0xF8),
  /* min subnormal 2^-6 = 0x01, min normal 2^-2 = 0x10 */
  ALL("e3m4", 0x1p-6, NOSAT, CAN, 0x01),
  ALL("e3m4", 0x1p-2, NOSAT, CAN, 0x10),
  R("e3m4", 0x1p-7, NOSAT, CAN,     0x00, 0x01, 0x00, 0x01, 0x00, 0x01),
  R("e3m4", -0x1p-7, NOSAT, CAN,    0x80, 0x81, 0x80, 0x80, 0x81, 0x81),
  /* 0.1 = 6.4 * 2^-6 (subnormal): kept 6, remainder 0.4 */
  R("e3m4", 0.1, NOSAT, CAN,        0x06, 0x06, 0x06, 0x07, 0x06, 0x07),
  R("e3m4", -0.1, NOSAT, CAN,       0x86, 0x86, 0x86, 0x86, 0x87, 0x87),
  ALL("e3m4", -0.0, NOSAT, CAN, 0x80),

  /* ---- e2m1 (MX FP4: no Inf, no NaN) ------------------------------------ */
  /* 5 = (4 + 6)/2: tie, 4 = 0x6 even */
  R("e2m1", 5.0, NOSAT, CAN,        0x6, 0x7, 0x6, 0x7, 0x6, 0x7),
  R("e2m1", -5.0, NOSAT, CAN,       0xE, 0xF, 0xE, 0xE, 0xF, 0xF),
  R("e2m1", 2.5, NOSAT, CAN,        0x4, 0x5, 0x4, 0x5, 0x4, 0x5),
  /* 3.5 = (3 + 4)/2: 3 = 0x5 odd */
  R("e2m1", 3.5, NOSAT, CAN,        0x6, 0x6, 0x5, 0x6, 0x5, 0x5),
  R("e2m1", 1.25, NOSAT, CAN,       0x2, 0x3, 0x2, 0x3, 0x2, 0x3),
  /* subnormal 0.5 = 0x1: 0.25 ties to 0, 0.75 ties to 1.0 */
  R("e2m1", 0.25, NOSAT, CAN,       0x0, 0x1, 0x0, 0x1, 0x0, 0x1),
  R("e2m1", -0.25, NOSAT, CAN,      0x8, 0x9, 0x8, 0x8, 0x9, 0x9),
  R("e2m1", 0.75, NOSAT, CAN,       0x2, 0x2, 0x1, 0x2, 0x1, 0x1),
  R("e2m1", -0.1, NOSAT, CAN,       0x8, 0x8, 0x8, 0x8, 0x9, 0x9),
  /* overflow: max 6 = 0x7 in every mode, saturating or not */
  ALL("e2m1", 6.0, NOSAT, CAN, 0x7),
  ALL("e2m1", 7.0, NOSAT, CAN, 0x7),
  ALL("e2m1", 7.5, NOSAT, CAN, 0x7),
  ALL("e2m1", 100.0, NOSAT, CAN, 0x7),
  ALL("e2m1", -100.0, NOSAT, CAN, 0xF),
  ALL("e2m1", 7.0, SAT, CAN, 0x7),
  ALL("e2m1", INFINITY, NOSAT, CAN, 0x7),
  ALL("e2m1", -INFINITY, NOSAT, SGN, 0xF),
  ALL("e2m1", INFINITY, SAT, CAN, 0x7),
  /* NaN has no code: +0 under both policies */
  ALL("e2m1", NAN, NOSAT, CAN, 0x0),
  ALL("e2m1", NEG_NAN, NOSAT, SGN, 0x0),
  ALL("e2m1", NEG_NAN, SAT, CAN, 0x0),
  ALL("e2m1", 0.0, NOSAT, CAN, 0x0),
  ALL("e2m1", -0.0, NOSAT, CAN, 0x8),

  /* ---- e8m0 (MX scale: 2^(code-127), no sign, no zero, NaN 0xFF) ------- */
  ALL("e8m0", 1.0, NOSAT, CAN, 0x7F),
  ALL("e8m0", 2.0, NOSAT, CAN, 0x80),
  ALL("e8m0", 0x1p127, NOSAT, CAN, 0xFE),
  ALL("e8m0", 0x1p-127, NOSAT, CAN, 0x00),
  /* Ties: with no fraction bits the last significand bit is the implicit
   * 1, so ties to "even" round up.  This is the convention of PyTorch
   * (c10/util/Float8_e8m0fnu-inl.h: "LSB is the implied mantissa bit") and
   * of ml_dtypes 0.6 (float8_e8m0fnu(1.5) = 2, (3.0) = 4). */
  R("e8m0", 1.5, NOSAT, CAN,        0x80, 0x80, 0x7F, 0x80, 0x7F, 0x7F),
  R("e8m0", 3.0, NOSAT, CAN,        0x81, 0x81, 0x80, 0x81, 0x80, 0x80),
  R("e8m0", 1.25, NOSAT, CAN,       0x7F, 0x7F, 0x7F, 0x80, 0x7F, 0x7F),
  R("e8m0", 1.75, NOSAT, CAN,       0x80, 0x80, 0x7F, 0x80, 0x7F, 0x7F),
  /* 1.5 * 2^-127: between 0x00 and 0x01 */
  R("e8m0", 0x1.8p-127, NOSAT, CAN, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00),
  /* no zero: everything below 2^-127 is 2^-127 in every mode */
  ALL("e8m0", 0x1p-128, NOSAT, CAN, 0x00),
  ALL("e8m0", 0x1p-200, NOSAT, CAN, 0x00),
  ALL("e8m0", 0x1p-1074, NOSAT, CAN, 0x00),
  /* overflow: 1.5 * 2^127 is the midpoint to the would-be 2^128 */
  R("e8m0", 0x1.8p127, NOSAT, CAN,  0xFF, 0xFF, 0xFE, 0xFF, 0xFE, 0xFE),
  R("e8m0", 0x1p128, NOSAT, CAN,    0xFF, 0xFF, 0xFE, 0xFF, 0xFE, 0xFE),
  R("e8m0", 0x1.4p127, NOSAT, CAN,  0xFE, 0xFE, 0xFE, 0xFF, 0xFE, 0xFE),
  ALL("e8m0", 0x1.8p127, SAT, CAN, 0xFE),
  ALL("e8m0", DBL_MAX, SAT, CAN, 0xFE),
  ALL("e8m0", INFINITY, NOSAT, CAN, 0xFF),
  ALL("e8m0", INFINITY, SAT, CAN, 0xFE),
  /* zero, negatives, -Inf and NaN have no code: NaN, saturated or not */
  ALL("e8m0", 0.0, NOSAT, CAN, 0xFF),
  ALL("e8m0", -0.0, SAT, CAN, 0xFF),
  ALL("e8m0", -1.0, NOSAT, CAN, 0xFF),
  ALL("e8m0", -1.0, SAT, SGN, 0xFF),
  ALL("e8m0", -0x1p-200, NOSAT, CAN, 0xFF),
  ALL("e8m0", -INFINITY, NOSAT, CAN, 0xFF),
  ALL("e8m0", -INFINITY, SAT, CAN, 0xFF),
  ALL("e8m0", NAN, NOSAT, CAN, 0xFF),
  ALL("e8m0", NEG_NAN, NOSAT, SGN, 0xFF),

  /* ---- fnuz: NaN 0x80, no -0, no Inf ------------------------------------ */
  ALL("e4m3fnuz", 1.0, NOSAT, CAN, 0x40),
  ALL("e4m3fnuz", 240.0, NOSAT, CAN, 0x7F),
  ALL("e4m3fnuz", -240.0, NOSAT, CAN, 0xFF),
  ALL("e4m3fnuz", -0.0, NOSAT, CAN, 0x00),
  ALL("e4m3fnuz", -0.0, NOSAT, SGN, 0x00),
  /* -tiny rounding to zero gives +0 (there is no -0) */
  R("e4m3fnuz", -0x1p-40, NOSAT, CAN, 0x00, 0x00, 0x00, 0x00, 0x81, 0x81),
  /* min subnormal 2^-10 = 0x01; half of it ties */
  R("e4m3fnuz", 0x1p-11, NOSAT, CAN,  0x00, 0x01, 0x00, 0x01, 0x00, 0x01),
  R("e4m3fnuz", -0x1p-11, NOSAT, CAN, 0x00, 0x81, 0x00, 0x00, 0x81, 0x81),
  /* max 240 = 0x7F; midpoint to the would-be 256 is 248 */
  R("e4m3fnuz", 248.0, NOSAT, CAN,  0x80, 0x80, 0x7F, 0x80, 0x7F, 0x7F),
  R("e4m3fnuz", -248.0, NOSAT, SGN, 0x80, 0x80, 0xFF, 0xFF, 0x80, 0xFF),
  ALL("e4m3fnuz", 248.0, SAT, CAN, 0x7F),
  ALL("e4m3fnuz", INFINITY, NOSAT, CAN, 0x80),
  ALL("e4m3fnuz", -INFINITY, NOSAT, SGN, 0x80),
  ALL("e4m3fnuz", INFINITY, SAT, CAN, 0x7F),
  ALL("e4m3fnuz", -INFINITY, SAT, CAN, 0xFF),
  ALL("e4m3fnuz", NAN, NOSAT, CAN, 0x80),
  ALL("e4m3fnuz", NEG_NAN, NOSAT, SGN, 0x80),
  ALL("e5m2fnuz", 1.0, NOSAT, CAN, 0x40),
  ALL("e5m2fnuz", 57344.0, NOSAT, CAN, 0x7F),
  ALL("e5m2fnuz", -0.0, NOSAT, CAN, 0x00),
  ALL("e5m2fnuz", NEG_NAN, SAT, SGN, 0x80),
  R("e5m2fnuz", -0x1p-18, NOSAT, CAN, 0x00, 0x81, 0x00, 0x00, 0x81, 0x81),
  ALL("e4m3b11fnuz", 1.0, NOSAT, CAN, 0x58),
  ALL("e4m3b11fnuz", 30.0, NOSAT, CAN, 0x7F),
  /* max 30 = 1.875 * 2^4 (M=7 odd); midpoint to 32 is 31 */
  R("e4m3b11fnuz", 31.0, NOSAT, CAN, 0x80, 0x80, 0x7F, 0x80, 0x7F, 0x7F),
  ALL("e4m3b11fnuz", 31.0, SAT, CAN, 0x7F),

  /* ---- f16 ------------------------------------------------------------- */
  ALL("f16", 1.0, NOSAT, CAN, 0x3C00),
  R("f16", 1.0 + 0x1p-11, NOSAT, CAN, 0x3C00, 0x3C01, 0x3C00, 0x3C01, 0x3C00, 0x3C01),
  R("f16", 1.0 + 3 * 0x1p-11, NOSAT, CAN, 0x3C02, 0x3C02, 0x3C01, 0x3C02, 0x3C01, 0x3C01),
  /* 0.1 = 1.6 * 2^-4: fraction 0.6 * 1024 = 614.4 -> 614 = 0x266 */
  R("f16", 0.1, NOSAT, CAN,         0x2E66, 0x2E66, 0x2E66, 0x2E67, 0x2E66, 0x2E67),
  R("f16", -0.1, NOSAT, CAN,        0xAE66, 0xAE66, 0xAE66, 0xAE66, 0xAE67, 0xAE67),
  /* 1/3 = 1.333.. * 2^-2: fraction 341.33 -> 341 = 0x155 (odd) */
  R("f16", 1.0 / 3.0, NOSAT, CAN,   0x3555, 0x3555, 0x3555, 0x3556, 0x3555, 0x3555),
  /* max 65504 = 0x7BFF, Inf 0x7C00, midpoint 65520 */
  ALL("f16", 65504.0, NOSAT, CAN, 0x7BFF),
  R("f16", 65520.0, NOSAT, CAN,     0x7C00, 0x7C00, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF),
  R("f16", 65519.0, NOSAT, CAN,     0x7BFF, 0x7BFF, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF),
  R("f16", -65520.0, NOSAT, CAN,    0xFC00, 0xFC00, 0xFBFF, 0xFBFF, 0xFC00, 0xFBFF),
  ALL("f16", 65520.0, SAT, CAN, 0x7BFF),
  ALL("f16", -1e10, SAT, CAN, 0xFBFF),
  ALL("f16", INFINITY, NOSAT, CAN, 0x7C00),
  ALL("f16", -INFINITY, NOSAT, CAN, 0xFC00),
  ALL("f16", INFINITY, SAT, CAN, 0x7BFF),
  ALL("f16", NAN, NOSAT, CAN, 0x7FFF),
  ALL("f16", NEG_NAN, NOSAT, CAN, 0x7FFF),
  ALL("f16", NAN, NOSAT, SGN, 0x7E00),
  ALL("f16", NEG_NAN, NOSAT, SGN, 0xFE00),
  ALL("f16", -0.0, NOSAT, CAN, 0x8000),
  ALL("f16", 0x1p-24, NOSAT, CAN, 0x0001),
  ALL("f16", 0x1p-14, NOSAT, CAN, 0x0400),
  R("f16", 0x1p-25, NOSAT, CAN,     0x0000, 0x0001, 0x0000, 0x0001, 0x0000, 0x0001),
  R("f16", -0x1p-25, NOSAT, CAN,    0x8000, 0x8001, 0x8000, 0x8000, 0x8001, 0x8001),
  /* f64 trap: just above the tie; in f32 it is the tie */
  R("f16", 1.0 + 0x1p-11 + 0x1p-40, NOSAT, CAN, 0x3C01, 0x3C01, 0x3C00, 0x3C01, 0x3C00, 0x3C01),

  /* ---- bf16 ------------------------------------------------------------ */
  ALL("bf16", 1.0, NOSAT, CAN, 0x3F80),
  R("bf16", 1.0 + 0x1p-8, NOSAT, CAN, 0x3F80, 0x3F81, 0x3F80, 0x3F81, 0x3F80, 0x3F81),
  R("bf16", 1.0 + 3 * 0x1p-8, NOSAT, CAN, 0x3F82, 0x3F82, 0x3F81, 0x3F82, 0x3F81, 0x3F81),
  /* 0.1 = 1.6 * 2^-4: fraction 0.6 * 128 = 76.8 -> 76 = 0x4C; E = 123 */
  R("bf16", 0.1, NOSAT, CAN,        0x3DCD, 0x3DCD, 0x3DCC, 0x3DCD, 0x3DCC, 0x3DCD),
  /* max (2 - 2^-7) 2^127 = 0x7F7F; midpoint (2 - 2^-8) 2^127 */
  ALL("bf16", 0x1.fep127, NOSAT, CAN, 0x7F7F),
  R("bf16", 0x1.ffp127, NOSAT, CAN, 0x7F80, 0x7F80, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F),
  R("bf16", 0x1.fe8p127, NOSAT, CAN, 0x7F7F, 0x7F7F, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F),
  /* FLT_MAX = (2 - 2^-23) 2^127: above the midpoint */
  R("bf16", FLT_MAX, NOSAT, CAN,    0x7F80, 0x7F80, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F),
  R("bf16", -FLT_MAX, NOSAT, CAN,   0xFF80, 0xFF80, 0xFF7F, 0xFF7F, 0xFF80, 0xFF7F),
  ALL("bf16", FLT_MAX, SAT, CAN, 0x7F7F),
  ALL("bf16", INFINITY, NOSAT, CAN, 0x7F80),
  ALL("bf16", NAN, NOSAT, CAN, 0x7FFF),
  ALL("bf16", NAN, NOSAT, SGN, 0x7FC0),
  ALL("bf16", NEG_NAN, NOSAT, SGN, 0xFFC0),
  ALL("bf16", -0.0, NOSAT, CAN, 0x8000),
  /* min subnormal 2^-133 */
  ALL("bf16", 0x1p-133, NOSAT, CAN, 0x0001),
  R("bf16", 0x1p-134, NOSAT, CAN,   0x0000, 0x0001, 0x0000, 0x0001, 0x0000, 0x0001),
  R("bf16", 1.0 + 0x1p-8 + 0x1p-30, NOSAT, CAN, 0x3F81, 0x3F81, 0x3F80, 0x3F81, 0x3F80, 0x3F81),
};
/* clang-format on */

/* ---- an independent decoder, from the bit layout in fp8lab/format.h ---- */

typedef struct {
  double v;
  int nan, inf, neg;
} refval;

static double pow2(int e) { /* exact, by repeated doubling / halving */
  double p = 1.0;
  for (; e > 0; e--) p *= 2.0;
  for (; e < 0; e++) p *= 0.5;
  return p;
}

static refval ref_decode(const fp8lab_format *f, uint32_t code) {
  refval r = {0, 0, 0, 0};
  int w = (f->has_sign ? 1 : 0) + f->ebits + f->mbits;
  uint32_t s = f->has_sign ? (code >> (w - 1)) & 1 : 0;
  uint32_t E = (code >> f->mbits) & ((1u << f->ebits) - 1);
  uint32_t M = code & ((1u << f->mbits) - 1);
  uint32_t Eall = (1u << f->ebits) - 1, Mall = (1u << f->mbits) - 1;
  r.neg = (int)s;
  switch (f->special) {
  case FP8LAB_SPECIAL_IEEE:
    if (E == Eall) {
      if (M == 0) r.inf = 1;
      else r.nan = 1;
      r.v = r.inf ? (s ? -INFINITY : INFINITY) : NAN;
      return r;
    }
    break;
  case FP8LAB_SPECIAL_FN:
    if (E == Eall && M == Mall) {
      r.nan = 1;
      r.v = NAN;
      return r;
    }
    break;
  case FP8LAB_SPECIAL_FNUZ:
    if (s && E == 0 && M == 0) {
      r.nan = 1;
      r.neg = 0;
      r.v = NAN;
      return r;
    }
    break;
  case FP8LAB_SPECIAL_E8M0:
    if (E == Eall) {
      r.nan = 1;
      r.v = NAN;
      return r;
    }
    r.v = pow2((int)E - f->bias);
    return r;
  case FP8LAB_SPECIAL_NONE: break;
  }
  double mag = E == 0 ? (double)M * pow2(1 - f->bias - f->mbits)
                      : (double)((1u << f->mbits) + M) * pow2((int)E - f->bias - f->mbits);
  r.v = s ? -mag : mag;
  return r;
}

static uint64_t dbits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static uint32_t fbits(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

/* ---- directed cases ----------------------------------------------------- */

static const char *mode_name(int i) { return fp8lab_round_name(modes[i]); }

static void check_case(const rcase *k, const fp8lab_format *f, int policy) {
  float xf = (float)k->x;
  int f32_exact = isnan(k->x) || (double)xf == k->x;
  for (int m = 0; m < 6; m++) {
    fp8lab_cvt c = {.round = modes[m], .saturate = k->sat,
                    .nan = (fp8lab_nan_policy)policy};
    uint32_t want = k->want[m];
    uint32_t got = fp8lab_encode_f64(f, k->x, &c, 0);
    if (got != want)
      fail_msg("line %d: %s(%a = %.17g) %s %s %s: got 0x%X, want 0x%X",
               k->line, k->fmt, k->x, k->x, mode_name(m),
               k->sat ? "sat" : "nosat", policy == SGN ? "signed" : "canonical",
               got, want);
    /* the array front ends (one element, output guarded) agree */
    uint8_t out[3 * 4];
    size_t sz = fp8lab_code_size(f);
    memset(out, 0xCD, sizeof out);
    fp8lab_encode_f64_array(f, &k->x, out + sz, 1, &c, 0);
    uint32_t arr = 0;
    memcpy(&arr, out + sz, sz); /* little-endian host */
    if (arr != want)
      fail_msg("line %d: encode_f64_array %s: got 0x%X, want 0x%X", k->line,
               mode_name(m), arr, want);
    for (size_t i = 0; i < sz; i++)
      if (out[i] != 0xCD || out[2 * sz + i] != 0xCD)
        fail_msg("line %d: encode_f64_array wrote outside its element", k->line);
    if (f32_exact) {
      memset(out, 0xCD, sizeof out);
      fp8lab_encode_f32_array(f, &xf, out + sz, 1, &c, 0);
      memcpy(&arr, out + sz, sz);
      if (arr != want)
        fail_msg("line %d: encode_f32_array %s: got 0x%X, want 0x%X",
                 k->line, mode_name(m), arr, want);
      fp8lab_encode_f32_array_ref(f, &xf, out + sz, 1, &c, 0);
      memcpy(&arr, out + sz, sz);
      if (arr != want)
        fail_msg("line %d: encode_f32_array_ref %s: got 0x%X, want 0x%X",
                 k->line, mode_name(m), arr, want);
    }
    if (modes[m] == FP8LAB_RNE && policy == CAN) {
      uint32_t s = k->sat ? fp8lab_encode_f64_rne_sat(f, k->x)
                          : fp8lab_encode_f64_rne(f, k->x);
      if (s != want)
        fail_msg("line %d: encode_f64_rne%s: got 0x%X, want 0x%X", k->line,
                 k->sat ? "_sat" : "", s, want);
      if (f32_exact) {
        s = k->sat ? fp8lab_encode_f32_rne_sat(f, xf) : fp8lab_encode_f32_rne(f, xf);
        if (s != want)
          fail_msg("line %d: encode_f32_rne%s: got 0x%X, want 0x%X", k->line,
                   k->sat ? "_sat" : "", s, want);
      }
    }
  }
}

static void test_directed(void **state) {
  (void)state;
  for (size_t i = 0; i < NELEM(cases); i++) {
    const rcase *k = &cases[i];
    const fp8lab_format *f = fp8lab_format_named(k->fmt);
    if (!f) fail_msg("line %d: no format %s", k->line, k->fmt);
    check_case(k, f, k->nan);
    /* A row whose results are all non-NaN is the same under the other NaN
     * policy (the independent decoder says which codes are NaN). */
    int any_nan = 0;
    for (int m = 0; m < 6; m++) any_nan |= ref_decode(f, k->want[m]).nan;
    if (!any_nan) check_case(k, f, k->nan == CAN ? SGN : CAN);
  }
}

/* Every expected code above is checked against the value it stands for, so
 * a mistyped hex code in the table shows up here as well as there. */
static void test_table_codes_are_sane(void **state) {
  (void)state;
  for (size_t i = 0; i < NELEM(cases); i++) {
    const rcase *k = &cases[i];
    const fp8lab_format *f = fp8lab_format_named(k->fmt);
    for (int m = 0; m < 6; m++) {
      refval r = ref_decode(f, k->want[m]);
      if (r.nan || isnan(k->x)) continue;
      double v = r.v, x = k->x;
      /* directed modes bound the input from the right side (within range;
       * E8M0 has no zero, so its underflow is not a bound) */
      if (fabs(x) > fp8lab_format_max(f) || f->special == FP8LAB_SPECIAL_E8M0)
        continue;
      if (modes[m] == FP8LAB_RUP && !(v >= x))
        fail_msg("line %d: RUP code 0x%X = %g < x = %g", k->line, k->want[m], v, x);
      if (modes[m] == FP8LAB_RDN && !(v <= x))
        fail_msg("line %d: RDN code 0x%X = %g > x = %g", k->line, k->want[m], v, x);
      if (modes[m] == FP8LAB_RTZ && !(fabs(v) <= fabs(x)))
        fail_msg("line %d: RTZ code 0x%X = %g beyond x = %g", k->line, k->want[m], v, x);
    }
  }
}

/* Double rounding, spelled out: the f64 path must not go through f32. */
static void test_double_rounding_traps(void **state) {
  (void)state;
  const fp8lab_format *e4 = fp8lab_e4m3fn;
  double x = -431.99999999999994;
  assert_true(x == -(432.0 - 0x1p-44)); /* the literal is 2^-44 below 432 */
  assert_int_equal(fp8lab_encode_f64_rne(e4, x), 0xFD);       /* -416 */
  assert_int_equal(fp8lab_encode_f32_rne(e4, (float)x), 0xFE); /* (float)x = -432 -> -448 */
  assert_true((float)x == -432.0f);
  double y = 1.0625 + 0x1p-40;
  assert_int_equal(fp8lab_encode_f64_rne(e4, y), 0x39);
  assert_int_equal(fp8lab_encode_f32_rne(e4, (float)y), 0x38);
  /* through the array front end too */
  double xs[2] = {x, y};
  uint8_t out[2];
  fp8lab_encode_f64_array(e4, xs, out, 2, NULL, 0);
  assert_int_equal(out[0], 0xFD);
  assert_int_equal(out[1], 0x39);
  /* recode from f32 codes sees the rounded f32 value: -432 -> -448 */
  fp8lab_cvt c = {0};
  assert_int_equal(fp8lab_recode(fp8lab_f32, fbits((float)x), e4, &c, 0), 0xFE);
}

/* Rounding-mode names, both ways. */
static void test_round_names(void **state) {
  (void)state;
  static const struct { const char *name; fp8lab_round r; } ok[] = {
      {"rne", FP8LAB_RNE}, {"rna", FP8LAB_RNA}, {"rtz", FP8LAB_RTZ},
      {"rup", FP8LAB_RUP}, {"rdn", FP8LAB_RDN}, {"rto", FP8LAB_RTO},
      {"sr", FP8LAB_SR},   {"ru", FP8LAB_RUP},  {"rd", FP8LAB_RDN},
  };
  for (size_t i = 0; i < NELEM(ok); i++) {
    fp8lab_round r = (fp8lab_round)-1;
    if (fp8lab_round_parse(ok[i].name, &r) != 0 || r != ok[i].r)
      fail_msg("round_parse('%s') = %d", ok[i].name, (int)r);
  }
  static const char *const bad[] = {"", "RNE", "rn e", "nearest", "rz", "rtn", "sr0"};
  for (size_t i = 0; i < NELEM(bad); i++) {
    fp8lab_round r = FP8LAB_RTO;
    if (fp8lab_round_parse(bad[i], &r) != -1)
      fail_msg("round_parse('%s') accepted", bad[i]);
    assert_int_equal(r, FP8LAB_RTO); /* untouched on failure */
  }
  assert_string_equal(fp8lab_round_name(FP8LAB_RNE), "rne");
  assert_string_equal(fp8lab_round_name(FP8LAB_RTO), "rto");
  assert_string_equal(fp8lab_round_name(FP8LAB_SR), "sr");
  assert_string_equal(fp8lab_round_name((fp8lab_round)99), "?");
}

/* Code -> code between formats: exact decode, then the rounding asked for. */
static void test_recode(void **state) {
  (void)state;
  fp8lab_cvt rne = {0}, sat = {.saturate = true}, sgn = {.nan = FP8LAB_NAN_SIGNED};
  const fp8lab_format *e4 = fp8lab_e4m3fn, *e5 = fp8lab_e5m2, *h = fp8lab_f16;
  assert_int_equal(fp8lab_recode(h, 0x3C00, e4, &rne, 0), 0x38);     /* 1.0 */
  assert_int_equal(fp8lab_recode(h, 0x7BFF, e4, &rne, 0), 0x7F);     /* 65504: NaN */
  assert_int_equal(fp8lab_recode(h, 0x7BFF, e4, &sat, 0), 0x7E);     /* -> 448 */
  assert_int_equal(fp8lab_recode(h, 0x7C00, e5, &rne, 0), 0x7C);     /* Inf */
  assert_int_equal(fp8lab_recode(h, 0xFE00, e4, &sgn, 0), 0xFF);     /* -NaN */
  assert_int_equal(fp8lab_recode(h, 0xFE00, e4, &rne, 0), 0x7F);
  assert_int_equal(fp8lab_recode(e5, 0xFE, e4, &sgn, 0), 0xFF);      /* e5m2 -qNaN */
  assert_int_equal(fp8lab_recode(e5, 0xFD, h, &sgn, 0), 0xFE00);     /* e5m2 -sNaN */
  assert_int_equal(fp8lab_recode(e4, 0x7E, h, &rne, 0), 0x5F00);     /* 448 = 1.75 * 2^8 */
  assert_int_equal(fp8lab_recode(e4, 0x80, h, &rne, 0), 0x8000);     /* -0 */
  assert_int_equal(fp8lab_recode(e4, 0x01, h, &rne, 0), 0x1800);     /* 2^-9 */
  /* fnuz NaN 0x80 is sign-less; fnuz +0 */
  const fp8lab_format *uz = fp8lab_format_named("e4m3fnuz");
  assert_int_equal(fp8lab_recode(uz, 0x80, e4, &sgn, 0), 0x7F);
  assert_int_equal(fp8lab_recode(e4, 0x80, uz, &sgn, 0), 0x00);
  /* e8m0 2^-127 is a subnormal f16 underflow: RNE 0, RUP min subnormal */
  const fp8lab_format *sc = fp8lab_format_named("e8m0");
  fp8lab_cvt up = {.round = FP8LAB_RUP};
  assert_int_equal(fp8lab_recode(sc, 0x00, h, &rne, 0), 0x0000);
  assert_int_equal(fp8lab_recode(sc, 0x00, h, &up, 0), 0x0001);
  assert_int_equal(fp8lab_recode(sc, 0x7F, h, &rne, 0), 0x3C00);
  /* array form, 2-byte in, 1-byte out */
  uint16_t in[4] = {0x3C00, 0x3C40, 0xBC40, 0x7C00}; /* 1, 1.0625, -1.0625, Inf */
  uint8_t out[4];
  fp8lab_recode_array(h, in, e4, out, 4, &sat, 0);
  assert_int_equal(out[0], 0x38);
  assert_int_equal(out[1], 0x38);
  assert_int_equal(out[2], 0xB8);
  assert_int_equal(out[3], 0x7E);
}

/* ---- narrow formats against a brute-force reference ----------------------
 * A slow reference that knows nothing of exponents and quanta: it lists
 * every finite non-negative value of the format (from ref_decode), finds
 * the neighbours lo <= |x| < hi by search, and picks one per the rounding
 * table of fp8lab/convert.h.  Above max, hi is the value the exponent range
 * would give next, max + 2^(emax - mbits), and choosing it is an overflow
 * (step 5).  "Even" is the last fraction bit; with no fraction bits it is
 * the implicit bit (1), except for zero (see the e8m0 rows above). */
typedef struct {
  double v[256];
  uint32_t code[256];
  int n;
} value_list;

static void list_values(const fp8lab_format *f, value_list *L) {
  L->n = 0;
  uint32_t sign = f->has_sign ? 1u << (fp8lab_format_bits(f) - 1) : 0;
  for (uint32_t k = 0; k < fp8lab_format_ncodes(f); k++) {
    refval r = ref_decode(f, k);
    if (r.nan || r.inf || (k & sign) || (r.v == 0 && signbit(r.v))) continue;
    int i = L->n++; /* insertion sort by value */
    while (i > 0 && L->v[i - 1] > r.v) {
      L->v[i] = L->v[i - 1];
      L->code[i] = L->code[i - 1];
      i--;
    }
    L->v[i] = r.v;
    L->code[i] = k;
  }
}

static uint32_t brute_round(const fp8lab_format *f, const value_list *L,
                            double x, fp8lab_round mode, bool sat) {
  bool neg = signbit(x);
  double a = fabs(x);
  uint32_t sign = neg ? 1u << (fp8lab_format_bits(f) - 1) : 0;
  int i = -1; /* largest value <= a */
  for (int j = 0; j < L->n; j++)
    if (L->v[j] <= a) i = j;
  double max = L->v[L->n - 1];
  int m = f->mbits;
  bool has_zero = fp8lab_format_has_zero(f);
  double lo = i >= 0 ? L->v[i] : 0.0;
  uint32_t lo_code = i >= 0 ? L->code[i] : 0;
  if (a == 0) /* zeros: E8M0 has none (NaN), fnuz no -0 */
    return !has_zero ? fp8lab_format_nan_code(f)
                     : (neg && fp8lab_format_has_negzero(f) ? sign : 0);
  if (i >= 0 && lo == a) return sign | lo_code; /* exact */
  bool over = i == L->n - 1;
  double hi = over ? max + pow2(fp8lab_format_emax(f) - m) : L->v[i + 1];
  uint32_t hi_code = over ? 0 : L->code[i + 1];
  /* the last significand bit of lo: its last fraction bit, or with no
   * fraction bits the implicit bit, 1 except for zero */
  bool lo_odd = m ? (lo_code & 1) : lo != 0;
  bool up;
  switch (mode) {
  case FP8LAB_RNE: up = a - lo > hi - a || (a - lo == hi - a && lo_odd); break;
  case FP8LAB_RNA: up = a - lo >= hi - a; break;
  case FP8LAB_RTZ: up = false; break;
  case FP8LAB_RUP: up = !neg; break;
  case FP8LAB_RDN: up = neg; break;
  case FP8LAB_RTO: up = !lo_odd; break;
  default: up = false; break;
  }
  if (!up) {
    if (i < 0) return 0; /* E8M0 below 2^-127: the smallest scale */
    if (lo == 0 && !fp8lab_format_has_negzero(f)) return 0;
    return sign | lo_code;
  }
  if (!over) return sign | hi_code;
  /* overflow */
  uint32_t maxc = sign | fp8lab_format_max_code(f);
  if (sat || f->special == FP8LAB_SPECIAL_NONE || mode == FP8LAB_RTZ ||
      mode == FP8LAB_RTO || (mode == FP8LAB_RUP && neg) || (mode == FP8LAB_RDN && !neg))
    return maxc;
  if (f->special == FP8LAB_SPECIAL_IEEE) return sign | fp8lab_format_inf_code(f);
  return fp8lab_format_nan_code(f); /* canonical */
}

static void test_narrow_against_brute_force(void **state) {
  (void)state;
  static const char *const fmts[] = {
      "e5m2", "e4m3fn", "e4m3", "e3m4", "e2m5", "e4m3fnuz", "e5m2fnuz",
      "e4m3b11fnuz", "e3m2", "e2m3", "e2m1", "e8m0",
      /* user forms: negative bias, tiny widths, m = 0 */
      "e4m3b-2", "e3m2fnuz", "e2m1fn", "e1m1fn", "e5m0fnuz", "e3m4b5",
      "e1m0fnone", "e2m2b0fnone", "e3m1",
  };
  for (size_t fi = 0; fi < NELEM(fmts); fi++) {
    fp8lab_format f;
    assert_int_equal(fp8lab_format_parse(fmts[fi], &f, NULL, 0), 0);
    value_list L;
    list_values(&f, &L);
    double max = L.v[L.n - 1];
    for (uint64_t t = 0; t < 20000; t++) {
      uint64_t s = fi << 32 | t; /* case (fi, t) seeded by its index */
      s = s * 0x9E3779B97F4A7C15ull;
      s ^= s >> 31;
      s *= 0xD6E8FEB86659FD93ull;
      s ^= s >> 32;
      /* between two listed values (or past max), at a fraction that is a
       * tie, just off a tie, or random */
      int j = (int)(s % (uint64_t)L.n);
      double lo = L.v[j];
      double hi = j + 1 < L.n ? L.v[j + 1] : max + pow2(fp8lab_format_emax(&f) - f.mbits);
      double frac;
      switch ((s >> 16) & 7) {
      case 0: frac = 0.5; break;
      case 1: frac = 0.5 + 0x1p-30; break;
      case 2: frac = 0.5 - 0x1p-30; break;
      case 3: frac = 0x1p-40; break;
      case 4: frac = 0; break;
      default: frac = (double)((s >> 20) & 0xFFFFF) / 0x1p20; break;
      }
      double x = lo + (hi - lo) * frac;
      if (((s >> 44) & 31) == 0) x = lo * 0x1p-20; /* far below */
      if (((s >> 44) & 31) == 1) x = max * 3;       /* far above */
      if (f.has_sign && (s >> 63)) x = -x;
      for (int m = 0; m < 6; m++)
        for (int sat = 0; sat < 2; sat++) {
          fp8lab_cvt c = {.round = modes[m], .saturate = sat};
          uint32_t want = brute_round(&f, &L, x, modes[m], sat);
          uint32_t got = fp8lab_encode_f64(&f, x, &c, 0);
          if (got != want)
            fail_msg("%s case %llu: x = %a %s sat=%d: 0x%X, brute force 0x%X",
                     fmts[fi], (unsigned long long)t, x, mode_name(m), sat, got, want);
        }
    }
  }
}

/* ---- f64 -> f32 against the FPU ------------------------------------------
 * The host's double -> float conversion is IEEE 754 correctly rounded in
 * the current rounding direction (fesetround), an oracle independent of
 * fp8lab for f32 under RNE, RTZ, RUP and RDN; RTO follows from RTZ (set the
 * last bit when the conversion was inexact).  Inputs are seeded by index
 * and span f32's subnormals, normals and overflow. */
static uint32_t fpu_f32(double x, int dir) {
  volatile double vx = x;
  fesetround(dir);
  volatile float r = (float)vx;
  fesetround(FE_TONEAREST);
  return fbits(r);
}

static void test_f32_against_fpu(void **state) {
  (void)state;
  static const int dirs[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_UPWARD, FE_DOWNWARD};
  static const fp8lab_round rm[4] = {FP8LAB_RNE, FP8LAB_RTZ, FP8LAB_RUP, FP8LAB_RDN};
  fp8lab_cvt c[5];
  for (int m = 0; m < 4; m++) c[m] = (fp8lab_cvt){.round = rm[m]};
  c[4] = (fp8lab_cvt){.round = FP8LAB_RTO};
  for (uint64_t i = 0; i < 400000; i++) {
    uint64_t s = i * 0x9E3779B97F4A7C15ull + 12345;
    s ^= s >> 29;
    s *= 0xBF58476D1CE4E5B9ull;
    s ^= s >> 32;
    /* exponent in [-160, 130], random 52-bit fraction, random sign; every
     * 16th input has its low 29 bits cleared or set to a tie pattern */
    int e = (int)(s % 291) - 160;
    uint64_t frac = (s >> 9) & ((1ull << 52) - 1);
    if ((i & 15) == 0) frac &= ~((1ull << 29) - 1);
    if ((i & 15) == 1) frac = (frac & ~((1ull << 29) - 1)) | (1ull << 28);
    double x = ldexp(1.0 + ldexp((double)frac, -52), e);
    if (s >> 63) x = -x;
    for (int m = 0; m < 4; m++) {
      uint32_t want = fpu_f32(x, dirs[m]);
      uint32_t got = fp8lab_encode_f64(fp8lab_f32, x, &c[m], 0);
      if (got != want)
        fail_msg("case %llu: f32(%a) %s: 0x%08X, FPU 0x%08X",
                 (unsigned long long)i, x, fp8lab_round_name(rm[m]), got, want);
    }
    uint32_t z = fpu_f32(x, FE_TOWARDZERO);
    int inexact = (double)fp8lab_f32_from_bits(z) != x;
    uint32_t want_odd = (z & 0x7FFFFFFF) == 0x7F800000 ? z : (inexact ? z | 1 : z);
    uint32_t got = fp8lab_encode_f64(fp8lab_f32, x, &c[4], 0);
    if (got != want_odd)
      fail_msg("case %llu: f32(%a) rto: 0x%08X, from the FPU 0x%08X",
               (unsigned long long)i, x, got, want_odd);
  }
}

/* ---- decode every code -------------------------------------------------- */

static void check_decode_format(const fp8lab_format *f) {
  uint32_t n = fp8lab_format_ncodes(f);
  size_t sz = fp8lab_code_size(f);
  uint8_t *codes = malloc(n * sz);
  float *arr32 = malloc(n * sizeof *arr32), *ref32 = malloc(n * sizeof *ref32);
  double *arr64 = malloc(n * sizeof *arr64);
  assert_non_null(codes);
  assert_non_null(arr32);
  assert_non_null(ref32);
  assert_non_null(arr64);
  for (uint32_t k = 0; k < n; k++) memcpy(codes + k * sz, &k, sz);
  for (int pol = 0; pol < 2; pol++) {
    fp8lab_decode_f32_array(f, codes, arr32, n, (fp8lab_nan_policy)pol);
    fp8lab_decode_f32_array_ref(f, codes, ref32, n, (fp8lab_nan_policy)pol);
    fp8lab_decode_f64_array(f, codes, arr64, n, (fp8lab_nan_policy)pol);
    for (uint32_t k = 0; k < n; k++) {
      refval r = ref_decode(f, k);
      /* classification */
      if (fp8lab_format_is_nan(f, k) != (bool)r.nan)
        fail_msg("%s code 0x%X: is_nan %d, want %d", f->name, k,
                 fp8lab_format_is_nan(f, k), r.nan);
      if (fp8lab_format_is_inf(f, k) != (bool)r.inf)
        fail_msg("%s code 0x%X: is_inf %d, want %d", f->name, k,
                 fp8lab_format_is_inf(f, k), r.inf);
      /* f64: bit-exact (so -0 is -0) or NaN */
      double d = fp8lab_decode_f64(f, k);
      if (r.nan ? !isnan(d) : dbits(d) != dbits(r.v))
        fail_msg("%s code 0x%X: decode_f64 %a, want %a", f->name, k, d, r.v);
      /* codes above the width are masked */
      if (fp8lab_format_bits(f) < 32) {
        double dm = fp8lab_decode_f64(f, k | (1u << fp8lab_format_bits(f)));
        if (r.nan ? !isnan(dm) : dbits(dm) != dbits(r.v))
          fail_msg("%s code 0x%X with a high bit: decode_f64 %a", f->name, k, dm);
      }
      /* f32 bits: every narrow value is an f32 exactly; NaN per policy */
      uint32_t want32 = r.nan ? (pol == SGN ? (r.neg ? 0xFFC00000u : 0x7FC00000u)
                                            : 0x7FFFFFFFu)
                              : fbits((float)r.v);
      if (!r.nan && (double)(float)r.v != r.v)
        fail_msg("%s code 0x%X: value %a not an f32", f->name, k, r.v);
      uint32_t got32 = fp8lab_decode_f32bits(f, k, (fp8lab_nan_policy)pol);
      if (got32 != want32)
        fail_msg("%s code 0x%X %s: decode_f32bits 0x%08X, want 0x%08X", f->name,
                 k, pol ? "signed" : "canonical", got32, want32);
      if (fbits(arr32[k]) != want32 || fbits(ref32[k]) != want32)
        fail_msg("%s code 0x%X: decode_f32_array 0x%08X / _ref 0x%08X, want 0x%08X",
                 f->name, k, fbits(arr32[k]), fbits(ref32[k]), want32);
      uint64_t want64 = r.nan ? (pol == SGN ? ((uint64_t)r.neg << 63) | 0x7FF8000000000000ull
                                            : 0x7FFFFFFFFFFFFFFFull)
                              : dbits(r.v);
      if (dbits(arr64[k]) != want64)
        fail_msg("%s code 0x%X: decode_f64_array 0x%016llX, want 0x%016llX",
                 f->name, k, (unsigned long long)dbits(arr64[k]),
                 (unsigned long long)want64);
      /* exact values never move: every mode, saturated or not, gives the
       * code back (Inf saturates to max; fnuz has no -0 to return) */
      if (!r.nan) {
        for (int m = 0; m < 6; m++)
          for (int s = 0; s < 2; s++) {
            fp8lab_cvt c = {.round = modes[m], .saturate = s,
                            .nan = (fp8lab_nan_policy)pol};
            uint32_t want = k;
            if (r.inf && s) want = (k & ~fp8lab_format_inf_code(f)) | fp8lab_format_max_code(f);
            uint32_t back = fp8lab_encode_f64(f, r.v, &c, 0);
            if (back != want)
              fail_msg("%s code 0x%X (%a) %s sat=%d: encodes to 0x%X", f->name,
                       k, r.v, mode_name(m), s, back);
          }
      }
    }
  }
  free(codes);
  free(arr32);
  free(ref32);
  free(arr64);
}

static void test_decode_every_code(void **state) {
  (void)state;
  int narrow = 0;
  for (size_t i = 0; i < fp8lab_nformats; i++) {
    const fp8lab_format *f = &fp8lab_formats[i];
    if (fp8lab_format_bits(f) > 16) continue;
    if (fp8lab_format_bits(f) <= 8) narrow++;
    check_decode_format(f);
  }
  /* e5m2 e4m3fn e4m3 e3m4 e2m5 e4m3fnuz e5m2fnuz e4m3b11fnuz e3m2 e2m3 e2m1
   * e8m0: the named formats of 8 bits or fewer */
  assert_int_equal(narrow, 12);
}

/* Codes narrower than their storage (e2m1 in a byte, a 12-bit format in two
 * bytes) may arrive with bits set above the format's width; decoding masks
 * them (fp8lab/convert.h), in the scalar decoder and in every array path,
 * table-driven (n >= number of codes) or not. */
static void test_decode_masks_high_bits(void **state) {
  (void)state;
  static const char *const fmts[] = {"e2m1", "e3m2", "e2m3", "e3m2fnuz", "e4m7",
                                     "e3m4b5fnuz"};
  for (size_t fi = 0; fi < NELEM(fmts); fi++) {
    fp8lab_format f;
    assert_int_equal(fp8lab_format_parse(fmts[fi], &f, NULL, 0), 0);
    int bits = fp8lab_format_bits(&f);
    size_t sz = fp8lab_code_size(&f);
    uint32_t storage = sz == 1 ? 0x100u : 0x10000u;
    if ((uint32_t)1 << bits == storage) continue; /* nothing above the width */
    /* every storage pattern, then the same patterns masked */
    size_t n = storage;
    uint8_t *raw = malloc(n * sz), *masked = malloc(n * sz);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    double *c = malloc(n * sizeof *c), *d = malloc(n * sizeof *d);
    assert_non_null(raw);
    assert_non_null(masked);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    for (uint32_t k = 0; k < n; k++) {
      uint32_t m = k & ((1u << bits) - 1);
      memcpy(raw + k * sz, &k, sz);
      memcpy(masked + k * sz, &m, sz);
    }
    for (int pol = 0; pol < 2; pol++) {
      fp8lab_decode_f32_array(&f, raw, a, n, (fp8lab_nan_policy)pol);
      fp8lab_decode_f32_array(&f, masked, b, n, (fp8lab_nan_policy)pol);
      for (uint32_t k = 0; k < n; k++)
        if (fbits(a[k]) != fbits(b[k]))
          fail_msg("%s: decode_f32_array(0x%X) = 0x%08X, masked code gives 0x%08X",
                   fmts[fi], k, fbits(a[k]), fbits(b[k]));
      fp8lab_decode_f32_array_ref(&f, raw, a, n, (fp8lab_nan_policy)pol);
      for (uint32_t k = 0; k < n; k++)
        if (fbits(a[k]) != fbits(b[k]))
          fail_msg("%s: decode_f32_array_ref(0x%X) = 0x%08X, masked code gives 0x%08X",
                   fmts[fi], k, fbits(a[k]), fbits(b[k]));
      fp8lab_decode_f64_array(&f, raw, c, n, (fp8lab_nan_policy)pol);
      fp8lab_decode_f64_array(&f, masked, d, n, (fp8lab_nan_policy)pol);
      for (uint32_t k = 0; k < n; k++)
        if (dbits(c[k]) != dbits(d[k]))
          fail_msg("%s: decode_f64_array(0x%X) = 0x%016llX, masked code gives 0x%016llX",
                   fmts[fi], k, (unsigned long long)dbits(c[k]),
                   (unsigned long long)dbits(d[k]));
    }
    free(raw);
    free(masked);
    free(a);
    free(b);
    free(c);
    free(d);
  }
}

/* A few decoded values by hand, in case the reference decoder and the
 * codec shared a misreading of the layout. */
static void test_decode_known_values(void **state) {
  (void)state;
  static const struct { const char *fmt; uint32_t code; double v; } k[] = {
      {"e4m3fn", 0x7E, 448.0},   {"e4m3fn", 0x01, 0x1p-9},
      {"e4m3fn", 0x08, 0x1p-6},  {"e4m3fn", 0xFD, -416.0},
      {"e4m3fn", 0x38, 1.0},     {"e4m3fn", 0x80, -0.0},
      {"e5m2", 0x7B, 57344.0},   {"e5m2", 0x01, 0x1p-16},
      {"e5m2", 0x04, 0x1p-14},   {"e5m2", 0xFC, -INFINITY},
      {"e4m3", 0x77, 240.0},     {"e4m3", 0x78, INFINITY},
      {"e3m4", 0x6F, 15.5},      {"e2m5", 0x5F, 3.9375},
      {"e4m3fnuz", 0x7F, 240.0}, {"e4m3fnuz", 0x01, 0x1p-10},
      {"e5m2fnuz", 0x7F, 57344.0}, {"e4m3b11fnuz", 0x7F, 30.0},
      {"e3m2", 0x1F, 28.0},      {"e3m2", 0x01, 0.0625},  {"e3m2", 0x03, 0.1875},
      {"e2m3", 0x1F, 7.5},       {"e2m3", 0x01, 0.125},   {"e2m3", 0x07, 0.875},
      {"e2m1", 0x7, 6.0},        {"e2m1", 0x1, 0.5},      {"e2m1", 0xF, -6.0},
      {"e8m0", 0x00, 0x1p-127},  {"e8m0", 0x7F, 1.0},     {"e8m0", 0xFE, 0x1p127},
      {"f16", 0x7BFF, 65504.0},  {"f16", 0x0001, 0x1p-24}, {"f16", 0x3555, 0x1.554p-2},
      {"bf16", 0x3DCD, 0x1.9ap-4}, {"bf16", 0x7F7F, 0x1.fep127},
  };
  for (size_t i = 0; i < NELEM(k); i++) {
    const fp8lab_format *f = fp8lab_format_named(k[i].fmt);
    double d = fp8lab_decode_f64(f, k[i].code);
    if (dbits(d) != dbits(k[i].v))
      fail_msg("%s 0x%X: %a, want %a", k[i].fmt, k[i].code, d, k[i].v);
    refval r = ref_decode(f, k[i].code);
    if (dbits(r.v) != dbits(k[i].v))
      fail_msg("reference decoder: %s 0x%X: %a, want %a", k[i].fmt, k[i].code,
               r.v, k[i].v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_directed),
      cmocka_unit_test(test_table_codes_are_sane),
      cmocka_unit_test(test_double_rounding_traps),
      cmocka_unit_test(test_narrow_against_brute_force),
      cmocka_unit_test(test_f32_against_fpu),
      cmocka_unit_test(test_round_names),
      cmocka_unit_test(test_recode),
      cmocka_unit_test(test_decode_known_values),
      cmocka_unit_test(test_decode_every_code),
      cmocka_unit_test(test_decode_masks_high_bits),
  };
  return cmocka_run_group_tests_name("round", tests, NULL, NULL);
}
