#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Differential test of the WebAssembly engine against V8 (node).

Generates random, valid, trap-free modules from fixed seeds: nested blocks, ifs, loops
and br_table carrying values, deferred local reads across local writes, calls,
select, memory round trips with folded address arithmetic, and every numeric type.
Each module's exported "run" folds its results into one i64 (NaNs made canonical,
since their bits are not determined by the spec); the value must be the same under
node and under Vessel (diff_driver).  A mismatch prints the seed and keeps the module.

usage: difftest.py DRIVER FIRST_SEED COUNT [WORKDIR]
"""
import os
import random
import subprocess
import sys
import tempfile

TYPES = ['i32', 'i64', 'f32', 'f64']
BINOPS = {
    'i32': ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'],
    'i64': ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'],
    'f32': ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
    'f64': ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
}
CMPOPS = {
    'i32': ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'],
    'i64': ['eq', 'ne', 'lt_s', 'lt_u', 'ge_u', 'le_s'],
    'f32': ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
    'f64': ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
}
FUNOPS = ['abs', 'neg', 'ceil', 'floor', 'trunc', 'nearest', 'sqrt']

JS = r"""
import fs from 'fs';
const [,, file, types, ...sets] = process.argv;
const ts = types ? types.split(',').filter(x => x) : [];
const m = await WebAssembly.instantiate(fs.readFileSync(file));
for (const set of sets) {
  const a = set === '-' ? [] : set.split(',');
  const args = ts.map((t, i) => t === 'i64' ? BigInt(a[i]) : Number(a[i]));
  try {
    console.log(BigInt.asUintN(64, m.instance.exports.run(...args)).toString());
  } catch (e) { console.log('trap'); }
}
"""


class Gen:
    def __init__(self, rnd):
        self.r = rnd
        self.params = [rnd.choice(TYPES) for _ in range(rnd.randint(0, 4))]
        self.locals = [rnd.choice(TYPES) for _ in range(rnd.randint(0, 5))]
        self.all = self.params + self.locals
        self.counters = []

    def local(self, t):
        c = [i for i, x in enumerate(self.all) if x == t]
        return self.r.choice(c) if c else None

    def const(self, t):
        r = self.r
        if t == 'i32':
            v = r.choice([0, 1, -1, 7, 0x7fffffff, -0x80000000, r.randint(-1000, 1000),
                          r.getrandbits(32) - 2**31])
        elif t == 'i64':
            v = r.choice([0, 1, -1, 2**63 - 1, -2**63, r.randint(-1000, 1000),
                          r.getrandbits(64) - 2**63])
        else:
            v = r.choice(['0', '-0', '1.5', '-2.25', 'inf', '-inf', 'nan', '1e10', '0x1p-149',
                          str(r.randint(-100, 100))])
        return '(%s.const %s)' % (t, v)

    def leaf(self, t):
        x = self.local(t)
        if x is not None and self.r.random() < 0.6:
            return '(local.get %d)' % x
        return self.const(t)

    def binary(self, t, d):
        op = self.r.choice(BINOPS[t])
        if op == 'copysign':  # the sign of a NaN is not determined: fix the NaN first
            return '(%s.copysign %s (call $canon%s %s))' % (t, self.expr(t, d), t[1:],
                                                            self.expr(t, d))
        return '(%s.%s %s %s)' % (t, op, self.expr(t, d), self.expr(t, d))

    def division_or_unary(self, t, d):
        if t in ('i32', 'i64'):  # a positive divisor: no trap
            op = self.r.choice(['div_u', 'rem_u', 'div_s', 'rem_s'])
            return '(%s.%s %s (%s.or (%s.and %s (%s.const 0x7fff)) (%s.const 1)))' % (
                t, op, self.expr(t, d), t, t, self.expr(t, d), t, t)
        return '(%s.%s %s)' % (t, self.r.choice(FUNOPS), self.expr(t, d))

    def compare_or_convert(self, t, d):
        if t == 'i32':
            a = self.r.choice(TYPES)
            return '(%s.%s %s %s)' % (a, self.r.choice(CMPOPS[a]), self.expr(a, d),
                                      self.expr(a, d))
        conv = {
            'i64': ['(i64.extend_i32_s %s)' % self.expr('i32', d),
                    '(i64.extend_i32_u %s)' % self.expr('i32', d),
                    '(i64.trunc_sat_f64_s %s)' % self.expr('f64', d),
                    '(i64.extend8_s %s)' % self.expr('i64', d),
                    '(i64.reinterpret_f64 (call $canon64 %s))' % self.expr('f64', d)],
            'f32': ['(f32.convert_i32_s %s)' % self.expr('i32', d),
                    '(f32.demote_f64 %s)' % self.expr('f64', d),
                    '(f32.convert_i64_u %s)' % self.expr('i64', d)],
            'f64': ['(f64.convert_i64_s %s)' % self.expr('i64', d),
                    '(f64.promote_f32 %s)' % self.expr('f32', d),
                    '(f64.convert_i32_u %s)' % self.expr('i32', d)],
        }[t]
        return self.r.choice(conv)

    def block(self, t, d):
        body = self.stmts(d, 2)
        if self.r.random() < 0.5:
            body += ' (br_if 0 %s %s) (drop)' % (self.expr(t, d), self.expr('i32', d))
        return '(block (result %s) %s %s)' % (t, body, self.expr(t, d))

    def old_value(self, t, d):
        # the value read before a write to the same local must survive it
        x = self.local(t)
        if x is None:
            return self.const(t)
        op = 'add' if t in ('i32', 'i64') else 'sub'
        return '(%s.%s (local.get %d) (block (result %s) (local.set %d %s) (local.get %d)))' % (
            t, op, x, t, x, self.expr(t, d), x)

    def memory(self, d):
        r = self.r
        x = self.local('i32')
        base = '(local.get %d)' % x if x is not None else '(i32.const 16)'
        base = '(i32.and %s (i32.const 0x7ff8))' % base
        idx = '(i32.and %s (i32.const 0x1ff))' % self.expr('i32', d)
        sh = r.choice([0, 1, 2, 3, 34])
        addr = r.choice(['(i32.add %s (i32.shl %s (i32.const %d)))' % (base, idx, sh),
                         '(i32.add (i32.shl %s (i32.const %d)) (i32.const %d))' % (
                             idx, sh, r.choice([0, 8, 1000])),
                         '(i32.add %s (i32.const %d))' % (base, r.choice([4, 12, -4])),
                         '(i32.and %s (i32.const 0xff8))' % self.expr('i32', d)])
        return '(block (result i32) (i32.store offset=8 %s %s) (i32.load offset=8 %s))' % (
            addr, self.expr('i32', d), addr)

    def br_table(self, t, d):
        inner = '(br_table 0 1 0 %s %s)' % (self.expr(t, d), self.expr('i32', d))
        return '(block (result %s) (drop (block (result %s) %s)) %s)' % (t, t, inner,
                                                                         self.expr(t, d))

    def expr(self, t, d=0):
        r = self.r
        d += 1
        if d > 5 or r.random() < 0.2:
            return self.leaf(t)
        k = r.randint(0, 13)
        if k <= 3:
            return self.binary(t, d)
        if k == 4:
            return self.division_or_unary(t, d)
        if k == 5:
            return self.compare_or_convert(t, d)
        if k == 6:
            return '(select %s %s %s)' % (self.expr(t, d), self.expr(t, d), self.expr('i32', d))
        if k == 7:
            x = self.local(t)
            return '(local.tee %d %s)' % (x, self.expr(t, d)) if x is not None else self.const(t)
        if k == 8:
            return self.block(t, d)
        if k == 9:
            return '(if (result %s) %s (then %s %s) (else %s %s))' % (
                t, self.expr('i32', d), self.stmts(d, 1), self.expr(t, d), self.stmts(d, 1),
                self.expr(t, d))
        if k == 10:
            return self.old_value(t, d)
        if k == 11 and t == 'i32':
            return self.memory(d)
        if k == 12:
            return self.br_table(t, d)
        if k == 13:
            return '(call $pick_%s %s %s)' % (t, self.expr(t, d), self.expr('i32', d))
        return self.const(t)

    def loop(self, d):
        name = 'c%d' % len(self.counters)
        self.counters.append(name)
        return ('(local.set $%s (i32.const %d)) (loop $L%s %s (br_if $L%s (i32.gt_s '
                '(local.tee $%s (i32.sub (local.get $%s) (i32.const 1))) (i32.const 0))))') % (
            name, self.r.randint(1, 5), name, self.stmts(d + 1, 2), name, name, name)

    def stmts(self, d, n):
        out = []
        for _ in range(self.r.randint(0, n)):
            k = self.r.randint(0, 4)
            t = self.r.choice(TYPES)
            x = self.local(t)
            if k <= 1 and x is not None:
                out.append('(local.set %d %s)' % (x, self.expr(t, d)))
            elif k == 2:
                out.append('(drop %s)' % self.expr(t, d))
            elif k == 3 and d < 3:
                out.append(self.loop(d))
            elif k == 4 and d < 3:
                out.append('(if %s (then %s) (else %s))' % (self.expr('i32', d),
                                                            self.stmts(d + 1, 2),
                                                            self.stmts(d + 1, 2)))
        return ' '.join(out)


def fold(t, v):
    """One result as i64 bits, NaNs made canonical."""
    if t == 'i32':
        return '(i64.extend_i32_u %s)' % v
    if t == 'i64':
        return v
    if t == 'f32':
        return '(i64.extend_i32_u (i32.reinterpret_f32 (call $canon32 %s)))' % v
    return '(i64.reinterpret_f64 (call $canon64 %s))' % v


HELPERS = ''.join(
    '(func $pick_%s (param %s i32) (result %s) (select (local.get 0) %s (local.get 1)))\n' % (
        t, t, t, c) for t, c in [('i32', '(i32.const 3)'), ('i64', '(i64.const 5)'),
                                 ('f32', '(f32.const 2.5)'), ('f64', '(f64.const -1)')]) + ''.join(
    '(func $canon%s (param f%s) (result f%s) (select (f%s.const nan) (local.get 0) '
    '(f%s.ne (local.get 0) (local.get 0))))\n' % ((b,) * 5) for b in ('32', '64'))


def module(seed):
    r = random.Random(seed)
    g = Gen(r)
    results = [r.choice(TYPES) for _ in range(r.randint(1, 3))]
    body = g.stmts(0, 4) + ' ' + ' '.join(g.expr(t) for t in results)
    decl = ''
    if g.params:
        decl += '(param %s) ' % ' '.join(g.params)
    decl += '(result %s) ' % ' '.join(results)
    if g.locals:
        decl += '(local %s) ' % ' '.join(g.locals)
    decl += ' '.join('(local $%s i32)' % c for c in g.counters)
    func = '(func $f %s %s)' % (decl, body)
    acc = '(i64.const 0)'
    for i, t in enumerate(results):
        acc = '(i64.xor (i64.rotl %s (i64.const 7)) %s)' % (acc, fold(t, '(local.get $r%d)' % i))
    wrapper = '(func (export "run") %s(result i64) %s (call $f %s) %s %s)' % (
        '(param %s) ' % ' '.join(g.params) if g.params else '',
        ' '.join('(local $r%d %s)' % (i, t) for i, t in enumerate(results)),
        ' '.join('(local.get %d)' % i for i in range(len(g.params))),
        ' '.join('(local.set $r%d)' % i for i in reversed(range(len(results)))), acc)
    args = []
    ar = random.Random(seed * 7 + 1)
    for _ in range(3):
        a = []
        for t in g.params:
            if t == 'i32':
                a.append(str(ar.choice([0, 1, -1, ar.getrandbits(32) - 2**31])))
            elif t == 'i64':
                a.append(str(ar.choice([0, 1, -1, ar.getrandbits(64) - 2**63])))
            else:
                a.append(repr(ar.choice([0.0, -0.0, 1.5, -3.25, 1e300, ar.uniform(-1e6, 1e6)])))
        args.append(','.join(a) if a else '-')
    return '(module (memory 1)\n%s%s\n%s)\n' % (HELPERS, func, wrapper), g.params, args


def main():
    driver, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    work = sys.argv[4] if len(sys.argv) > 4 else tempfile.mkdtemp(prefix='wasm-diff-')
    os.makedirs(work, exist_ok=True)
    js = os.path.join(work, 'run.mjs')
    with open(js, 'w') as f:
        f.write(JS)
    bad = 0
    for seed in range(first, first + count):
        text, params, args = module(seed)
        wat, wasm = os.path.join(work, 'm%d.wat' % seed), os.path.join(work, 'm%d.wasm' % seed)
        with open(wat, 'w') as f:
            f.write(text)
        subprocess.run(['wat2wasm', wat, '-o', wasm], check=True)
        types = ','.join(params)
        ref = subprocess.run(['node', js, wasm, types] + args, capture_output=True, text=True)
        ours = subprocess.run([driver, wasm, types] + args, capture_output=True, text=True)
        if ref.returncode or ours.returncode or ref.stdout != ours.stdout:
            bad += 1
            print('seed %d: node %r, vessel %r %s (kept %s)' % (
                seed, ref.stdout + ref.stderr, ours.stdout, ours.stderr[-2000:], wat))
            continue
        os.unlink(wat)
        os.unlink(wasm)
    print('%d modules, %d mismatches' % (count, bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
