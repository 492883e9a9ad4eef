#!/usr/bin/env python3
# Writes fp_cases.h for fp_grid.c: F/D arithmetic, fused multiply-add,
# square root and conversions over a grid of operands in all five rounding
# modes, with results and fflags from the exact-arithmetic reference model
# below (IEEE 754 as the RISC-V F/D chapters specify it: canonical NaN,
# tininess detected after rounding, saturating float-to-integer
# conversions).  Regenerate with:
#   python3 gen_fp.py > fp_cases.h && clang-format -i fp_cases.h
from fractions import Fraction as Q

NX, UF, OF, DZ, NV = 1, 2, 4, 8, 16
RNE, RTZ, RDN, RUP, RMM = range(5)
F32 = (8, 23)
F64 = (11, 52)


class Fmt:
    def __init__(self, eb, mb):
        self.eb, self.mb = eb, mb
        self.bias = (1 << (eb - 1)) - 1
        self.emin = 1 - self.bias
        self.emax = self.bias
        self.width = 1 + eb + mb

    def qnan(self):
        return ((1 << self.eb) - 1) << self.mb | 1 << (self.mb - 1)

    def inf(self, sign):
        return sign << (self.width - 1) | ((1 << self.eb) - 1) << self.mb

    def maxf(self, sign):
        return sign << (self.width - 1) | ((1 << self.eb) - 2) << self.mb | ((1 << self.mb) - 1)

    def zero(self, sign):
        return sign << (self.width - 1)

    def decode(self, bits):
        """('nan', is_signaling) | ('inf', sign) | ('num', sign, Fraction)"""
        sign = bits >> (self.width - 1)
        e = (bits >> self.mb) & ((1 << self.eb) - 1)
        f = bits & ((1 << self.mb) - 1)
        if e == (1 << self.eb) - 1:
            if f:
                return ('nan', not (f >> (self.mb - 1)) & 1)
            return ('inf', sign)
        if e == 0:
            v = Q(f) * Q(2) ** (self.emin - self.mb)
        else:
            v = Q((1 << self.mb) | f) * Q(2) ** (e - self.bias - self.mb)
        return ('num', sign, v)


S = Fmt(*F32)
D = Fmt(*F64)


def floor_log2(q):
    e = q.numerator.bit_length() - q.denominator.bit_length()
    while Q(2) ** e > q:
        e -= 1
    while Q(2) ** (e + 1) <= q:
        e += 1
    return e


def round_int(m, sign, rm):
    """Round the non-negative Fraction m to an integer; returns (n, inexact)."""
    n = m.numerator // m.denominator
    r = m - n
    if r == 0:
        return n, False
    up = {RNE: r > Q(1, 2) or (r == Q(1, 2) and n & 1),
          RTZ: False,
          RDN: bool(sign),
          RUP: not sign,
          RMM: r >= Q(1, 2)}[rm]
    return n + (1 if up else 0), True


def round_fmt(sign, q, fmt, rm):
    """Round sign * q (q > 0) into fmt: (bits, flags)."""
    e = floor_log2(q)
    # tininess after rounding: round as if the exponent were unbounded
    n_u, _ = round_int(q / Q(2) ** (e - fmt.mb), sign, rm)
    tiny = Q(n_u) * Q(2) ** (e - fmt.mb) < Q(2) ** fmt.emin
    eq = max(e, fmt.emin) - fmt.mb
    n, inexact = round_int(q / Q(2) ** eq, sign, rm)
    if n == 1 << (fmt.mb + 1):
        n >>= 1
        eq += 1
    flags = NX if inexact else 0
    if tiny and inexact:
        flags |= UF
    if n >= 1 << fmt.mb:
        exp = eq + fmt.mb
        if exp > fmt.emax:
            big = {RNE: True, RTZ: False, RDN: bool(sign), RUP: not sign, RMM: True}[rm]
            return (fmt.inf(sign) if big else fmt.maxf(sign)), OF | NX
        bits = sign << (fmt.width - 1) | (exp + fmt.bias) << fmt.mb | (n - (1 << fmt.mb))
    else:
        bits = sign << (fmt.width - 1) | n
    return bits, flags


def from_exact(sign, q, fmt, rm):
    if q == 0:
        return fmt.zero(sign), 0
    return round_fmt(sign, q, fmt, rm)


def signed(x):
    """Fraction with sign from ('num', sign, v)."""
    return -x[2] if x[1] else x[2]


def add(fmt, a, b, rm, neg_b=False):
    x, y = fmt.decode(a), fmt.decode(b)
    if x[0] == 'nan' or y[0] == 'nan':
        return fmt.qnan(), NV if (x[0] == 'nan' and x[1]) or (y[0] == 'nan' and y[1]) else 0
    if neg_b:
        y = (y[0], y[1] ^ 1) + y[2:]
    if x[0] == 'inf' or y[0] == 'inf':
        if x[0] == 'inf' and y[0] == 'inf' and x[1] != y[1]:
            return fmt.qnan(), NV
        return fmt.inf(x[1] if x[0] == 'inf' else y[1]), 0
    s = signed(x) + signed(y)
    if s == 0:
        if x[2] == 0 and y[2] == 0 and x[1] == y[1]:
            return fmt.zero(x[1]), 0
        return fmt.zero(1 if rm == RDN else 0), 0
    return round_fmt(int(s < 0), abs(s), fmt, rm)


def mul(fmt, a, b, rm):
    x, y = fmt.decode(a), fmt.decode(b)
    if x[0] == 'nan' or y[0] == 'nan':
        return fmt.qnan(), NV if (x[0] == 'nan' and x[1]) or (y[0] == 'nan' and y[1]) else 0
    sign = x[1] ^ y[1]
    if x[0] == 'inf' or y[0] == 'inf':
        if (x[0] == 'num' and x[2] == 0) or (y[0] == 'num' and y[2] == 0):
            return fmt.qnan(), NV
        return fmt.inf(sign), 0
    return from_exact(sign, x[2] * y[2], fmt, rm)


def div(fmt, a, b, rm):
    x, y = fmt.decode(a), fmt.decode(b)
    if x[0] == 'nan' or y[0] == 'nan':
        return fmt.qnan(), NV if (x[0] == 'nan' and x[1]) or (y[0] == 'nan' and y[1]) else 0
    sign = x[1] ^ y[1]
    if x[0] == 'inf':
        return (fmt.qnan(), NV) if y[0] == 'inf' else (fmt.inf(sign), 0)
    if y[0] == 'inf':
        return fmt.zero(sign), 0
    if y[2] == 0:
        return (fmt.qnan(), NV) if x[2] == 0 else (fmt.inf(sign), DZ)
    return from_exact(sign, x[2] / y[2], fmt, rm)


def isqrt_round(q, fmt, rm):
    """sqrt(q) for q > 0 (q exact), rounded into fmt (never tiny/overflow)."""
    e = floor_log2(q) // 2
    eq = e - fmt.mb - 2
    # m = sqrt(q) / 2^eq, as floor plus sticky
    scaled = q / Q(2) ** (2 * eq)
    num, den = scaled.numerator, scaled.denominator
    # floor(sqrt(num/den)) = floor(isqrt(num*den)/den)... use integer sqrt of num*den
    import math
    t = math.isqrt(num * den)
    n = t // den
    # n = floor(sqrt(scaled)) exactly: check and adjust
    while Q(n + 1) ** 2 <= scaled:
        n += 1
    while Q(n) ** 2 > scaled:
        n -= 1
    exact = Q(n) ** 2 == scaled
    # represent sqrt(scaled) as n + r, 0 <= r < 1; rounding needs r vs 1/2
    half = Q(2 * n + 1, 2) ** 2  # (n + 1/2)^2
    if exact:
        m = Q(n)
    elif scaled > half:
        m = Q(n) + Q(3, 4)  # anything above 1/2 rounds the same way
    elif scaled < half:
        m = Q(n) + Q(1, 4)
    else:
        m = Q(n) + Q(1, 2)
    return round_fmt(0, m * Q(2) ** eq, fmt, rm)


def sqrt(fmt, a, rm):
    x = fmt.decode(a)
    if x[0] == 'nan':
        return fmt.qnan(), NV if x[1] else 0
    if x[0] == 'inf':
        return (fmt.qnan(), NV) if x[1] else (fmt.inf(0), 0)
    if x[2] == 0:
        return fmt.zero(x[1]), 0
    if x[1]:
        return fmt.qnan(), NV
    return isqrt_round(x[2], fmt, rm)


def fma(fmt, a, b, c, rm, neg_p, neg_c):
    x, y, z = fmt.decode(a), fmt.decode(b), fmt.decode(c)
    if x[0] == 'nan' or y[0] == 'nan' or z[0] == 'nan':
        infzero = (x[0] == 'inf' and y[0] == 'num' and y[2] == 0) or \
                  (y[0] == 'inf' and x[0] == 'num' and x[2] == 0)
        snan = any(v[0] == 'nan' and v[1] for v in (x, y, z))
        return fmt.qnan(), NV if snan or infzero else 0
    psign = x[1] ^ y[1] ^ neg_p
    zsign = z[1] ^ neg_c
    if x[0] == 'inf' or y[0] == 'inf':
        if (x[0] == 'num' and x[2] == 0) or (y[0] == 'num' and y[2] == 0):
            return fmt.qnan(), NV
        if z[0] == 'inf' and zsign != psign:
            return fmt.qnan(), NV
        return fmt.inf(psign), 0
    if z[0] == 'inf':
        return fmt.inf(zsign), 0
    p = x[2] * y[2] * (-1 if psign else 1)
    cz = z[2] * (-1 if zsign else 1)
    s = p + cz
    if s == 0:
        if p == 0 and cz == 0 and psign == zsign:
            return fmt.zero(psign), 0
        return fmt.zero(1 if rm == RDN else 0), 0
    return round_fmt(int(s < 0), abs(s), fmt, rm)


def to_int(fmt, a, rm, bits, is_signed):
    x = fmt.decode(a)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if is_signed else (0, (1 << bits) - 1)
    if x[0] == 'nan':
        r, fl = hi, NV
    elif x[0] == 'inf':
        r, fl = (lo if x[1] else hi), NV
    else:
        n, inexact = round_int(x[2], x[1], rm)
        v = -n if x[1] else n
        if v < lo or v > hi:
            r, fl = (lo if v < lo else hi), NV
        else:
            r, fl = v, NX if inexact else 0
    # 32-bit results are sign-extended to 64 bits
    r &= (1 << bits) - 1
    if bits == 32 and r >> 31:
        r |= 0xffffffff00000000
    return r, fl


def from_int(fmt, v, rm, bits, is_signed):
    v &= (1 << bits) - 1
    if is_signed and v >> (bits - 1):
        v -= 1 << bits
    if v == 0:
        return 0, 0
    return round_fmt(int(v < 0), Q(abs(v)), fmt, rm)


def box(bits, fmt):
    return bits | 0xffffffff00000000 if fmt is S else bits


# ---- operand grids ----
def enc(fmt, sign, v):
    return from_exact(sign, Q(v), fmt, RNE)[0]


def grid(fmt):
    vals = [Q(1), Q(3), Q(1, 10), Q(-7, 10), Q(2) ** 100 * 3, Q(-5, 2), Q(123456789),
            Q(2) ** (fmt.emin) * 3 / 2, Q(1) + Q(2) ** -fmt.mb, -(Q(2) ** 60 + 1),
            Q(2) ** (fmt.emax) * Q(3, 2), Q(0)]
    out = []
    for v in vals:
        out.append(enc(fmt, int(v < 0), abs(v)))
    out.append(fmt.zero(1))
    # the smallest subnormal, and one more ulp of it
    out.append(1)
    out.append(fmt.inf(0))
    return out


print('/* Generated by gen_fp.py: do not edit. */')
cases = []


def emit(op, rm, a, b, c, res, fl):
    cases.append(f'{{{op}, {rm}, {fl}, {a:#x}UL, {b:#x}UL, {c:#x}UL, {res:#x}UL}},')


for fmt, suf in ((S, 'S'), (D, 'D')):
    g = grid(fmt)
    for rm in range(5):
        for a in g:
            for b in g:
                for op, f in (('FADD', lambda a, b: add(fmt, a, b, rm)),
                              ('FSUB', lambda a, b: add(fmt, a, b, rm, True)),
                              ('FMUL', lambda a, b: mul(fmt, a, b, rm)),
                              ('FDIV', lambda a, b: div(fmt, a, b, rm))):
                    r, fl = f(a, b)
                    emit(f'{op}_{suf}', rm, box(a, fmt), box(b, fmt), 0, box(r, fmt), fl)
            r, fl = sqrt(fmt, a, rm)
            emit(f'FSQRT_{suf}', rm, box(a, fmt), 0, 0, box(r, fmt), fl)
            for ib, isg, name in ((32, True, 'W'), (32, False, 'WU'), (64, True, 'L'),
                                  (64, False, 'LU')):
                r, fl = to_int(fmt, a, rm, ib, isg)
                emit(f'FCVT_{name}_{suf}', rm, box(a, fmt), 0, 0, r, fl)
        g5 = [g[0], g[2], g[3], g[7], g[9]]
        if rm in (RNE, RDN, RMM):
            for a in g5:
                for b in g5:
                    for c in g5:
                        for op, np_, nc in (('FMADD', 0, 0), ('FMSUB', 0, 1), ('FNMSUB', 1, 0),
                                            ('FNMADD', 1, 1)):
                            r, fl = fma(fmt, a, b, c, rm, np_, nc)
                            emit(f'{op}_{suf}', rm, box(a, fmt), box(b, fmt), box(c, fmt),
                                 box(r, fmt), fl)
ints = [0, 1, 0xffffffffffffffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x1000001,
        0x7fffffffffffffff, 0x8000000000000000, 0x20000000000001, 0x123456789abcdef]
for rm in range(5):
    for v in ints:
        for fmt, suf in ((S, 'S'), (D, 'D')):
            for ib, isg, name in ((32, True, 'W'), (32, False, 'WU'), (64, True, 'L'),
                                  (64, False, 'LU')):
                if fmt is D and ib == 32:
                    continue  # exact: fcvt.d.w/wu take no rounding mode
                r, fl = from_int(fmt, v, rm, ib, isg)
                emit(f'FCVT_{suf}_{name}', rm, v, 0, 0, box(r, fmt), fl)
    for a in grid(D) + [D.qnan(), 0x7ff0000000000001, 0x3810000000000000, 0x36a0000000000000]:
        x = D.decode(a)
        if x[0] == 'nan':
            r, fl = S.qnan(), NV if x[1] else 0
        elif x[0] == 'inf':
            r, fl = S.inf(x[1]), 0
        else:
            r, fl = from_exact(x[1], x[2], S, rm)
        emit('FCVT_S_D', rm, a, 0, 0, box(r, S), fl)

print(f'#define FP_NCASES {len(cases)}')
print('static const struct fcase fcases[FP_NCASES] = {')
for c in cases:
    print(c)
print('};')
