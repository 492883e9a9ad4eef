;; Instruction sequences the translator turns into one internal instruction: their results
;; must be exactly those of the instructions one by one, traps included.

;; ---- multiply-add whose addend is loaded between the multiply and the add ----
(module
  (memory 1)
  (data (i32.const 0) "\00\00\00\00\00\00\f0\3f")  ;; f64 1.0 at 0
  (data (i32.const 8) "\00\00\00\00\00\00\f0\bf")  ;; f64 -1.0 at 8
  (data (i32.const 16) "\00\00\00\00\00\00\f8\7f") ;; f64 NaN at 16
  (data (i32.const 24) "\00\00\80\3f")             ;; f32 1.0 at 24
  (data (i32.const 28) "\00\00\80\bf")             ;; f32 -1.0 at 28
  (data (i32.const 32) "\00\00\c0\7f")             ;; f32 NaN at 32
  ;; x * y + mem[a], the product on the left
  (func (export "f64-left") (param $x f64) (param $y f64) (param $a i32) (result f64)
    (f64.add (f64.mul (local.get $x) (local.get $y)) (f64.load (local.get $a))))
  ;; the addend on the left (the add's operands the other way round)
  (func (export "f64-right") (param $x f64) (param $y f64) (param $a i32) (result f64)
    (local $p f64)
    (local.set $p (f64.mul (local.get $x) (local.get $y)))
    (f64.add (f64.load offset=8 (local.get $a)) (local.get $p)))
  (func (export "f64-off") (param $x f64) (param $y f64) (param $a i32) (result f64)
    (f64.add (f64.mul (local.get $x) (local.get $y)) (f64.load offset=8 (local.get $a))))
  ;; the axpy loop: c[i] += s * b[i] over n doubles at 4096 (c) and 8192 (b)
  (func (export "axpy") (param $s f64) (param $n i32) (result f64)
    (local $i i32) (local $sum f64)
    (loop $fill
      (f64.store offset=4096 (i32.shl (local.get $i) (i32.const 3))
        (f64.convert_i32_s (local.get $i)))
      (f64.store offset=8192 (i32.shl (local.get $i) (i32.const 3))
        (f64.convert_i32_s (i32.sub (i32.const 100) (local.get $i))))
      (br_if $fill (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $l
      (f64.store offset=4096 (i32.shl (local.get $i) (i32.const 3))
        (f64.add
          (f64.mul (local.get $s)
            (f64.load offset=8192 (i32.shl (local.get $i) (i32.const 3))))
          (f64.load offset=4096 (i32.shl (local.get $i) (i32.const 3)))))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $s
      (local.set $sum (f64.add (local.get $sum)
        (f64.load offset=4096 (i32.shl (local.get $i) (i32.const 3)))))
      (br_if $s (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (local.get $n))))
    (local.get $sum))
  (func (export "f32-left") (param $x f32) (param $y f32) (param $a i32) (result f32)
    (f32.add (f32.mul (local.get $x) (local.get $y)) (f32.load (local.get $a))))
  (func (export "f32-right") (param $x f32) (param $y f32) (param $a i32) (result f32)
    (local $p f32)
    (local.set $p (f32.mul (local.get $x) (local.get $y)))
    (f32.add (f32.load (local.get $a)) (local.get $p)))
)

(assert_return (invoke "f64-left" (f64.const 2) (f64.const 3) (i32.const 0)) (f64.const 7))
(assert_return (invoke "f64-left" (f64.const 2) (f64.const 3) (i32.const 8)) (f64.const 5))
(assert_return (invoke "f64-off" (f64.const 2) (f64.const 3) (i32.const 0)) (f64.const 5))
(assert_return (invoke "f64-right" (f64.const 2) (f64.const 3) (i32.const 0)) (f64.const 5))
;; the product is rounded first: (1 + 2^-30)(1 - 2^-30) = 1 - 2^-60 is 1.0, and 1.0 - 1.0 is
;; 0 (a fused multiply-add would give -2^-60)
(assert_return (invoke "f64-left" (f64.const 0x1.00000004p+0) (f64.const 0x1.fffffff8p-1)
  (i32.const 8)) (f64.const 0))
;; NaN from memory, NaN from the product, infinity times zero
(assert_return (invoke "f64-left" (f64.const 2) (f64.const 3) (i32.const 16))
  (f64.const nan:arithmetic))
(assert_return (invoke "f64-left" (f64.const nan) (f64.const 3) (i32.const 0))
  (f64.const nan:arithmetic))
(assert_return (invoke "f64-left" (f64.const inf) (f64.const 0) (i32.const 0))
  (f64.const nan:arithmetic))
(assert_return (invoke "f64-left" (f64.const -0) (f64.const 1) (i32.const 65528)) (f64.const 0))
;; exact bounds: the last 8 bytes are readable, one further traps
(assert_trap (invoke "f64-left" (f64.const 1) (f64.const 1) (i32.const 65529))
  "out of bounds memory access")
(assert_trap (invoke "f64-off" (f64.const 1) (f64.const 1) (i32.const 65521))
  "out of bounds memory access")
(assert_return (invoke "f64-off" (f64.const 1) (f64.const 1) (i32.const 65520)) (f64.const 1))
;; address plus offset does not wrap around 32 bits
(assert_trap (invoke "f64-off" (f64.const 1) (f64.const 1) (i32.const -8))
  "out of bounds memory access")
(assert_trap (invoke "f64-left" (f64.const 1) (f64.const 1) (i32.const -1))
  "out of bounds memory access")
;; sum over i < 10 of i + 2 (100 - i) = 45 + 2 * 955
(assert_return (invoke "axpy" (f64.const 2) (i32.const 10)) (f64.const 1955))
(assert_return (invoke "f32-left" (f32.const 2) (f32.const 3) (i32.const 24)) (f32.const 7))
(assert_return (invoke "f32-right" (f32.const 2) (f32.const 3) (i32.const 28)) (f32.const 5))
(assert_return (invoke "f32-left" (f32.const 2) (f32.const 3) (i32.const 32))
  (f32.const nan:arithmetic))
(assert_return (invoke "f32-left" (f32.const 0x1.0008p+0) (f32.const 0x1.fffp-1) (i32.const 28))
  (f32.const 0))
(assert_return (invoke "f32-left" (f32.const 1) (f32.const 1) (i32.const 65532)) (f32.const 1))
(assert_trap (invoke "f32-left" (f32.const 1) (f32.const 1) (i32.const 65533))
  "out of bounds memory access")

;; ---- an access through a local just advanced by a constant (pointer bump) ----
(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (data (i32.const 65532) "\aa\bb\cc\dd")
  ;; load through p + k; returns the value plus 1000 times the new p
  (func (export "load-pre") (param $p i32) (param $k i32) (result i32)
    (local $v i32)
    (local.set $v (i32.load (local.tee $p (i32.add (local.get $p) (i32.const 4)))))
    (i32.add (local.get $v) (i32.mul (local.get $p) (i32.const 1000))))
  (func (export "load-pre-off") (param $p i32) (result i32)
    (i32.load offset=4 (local.tee $p (i32.add (local.get $p) (i32.const -4)))))
  ;; local.set then an access through the local
  (func (export "load-set") (param $p i32) (result i32)
    (local.set $p (i32.add (local.get $p) (i32.const 8)))
    (i32.load8_u (local.get $p)))
  ;; the loaded value goes to the address local itself
  (func (export "load-self") (param $p i32) (result i32)
    (local.set $p (i32.load (local.tee $p (i32.add (local.get $p) (i32.const 4)))))
    (local.get $p))
  (func (export "load64-pre") (param $p i32) (result i64)
    (i64.load32_s (local.tee $p (i32.add (local.get $p) (i32.const 65532)))))
  ;; a pointer walk: sum the words while they are below 4
  (func (export "walk") (result i32)
    (local $p i32) (local $v i32) (local $sum i32)
    (local.set $p (i32.const -4))
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (local.get $v)))
      (br_if $l (i32.lt_u
        (local.tee $v (i32.load (local.tee $p (i32.add (local.get $p) (i32.const 4)))))
        (i32.const 4))))
    (i32.add (local.get $sum) (i32.mul (local.get $p) (i32.const 100))))
  ;; a branch to the block's end lands between the add and the load: no fusion across it
  (func (export "pre-label") (param $p i32) (param $skip i32) (result i32)
    (block
      (br_if 0 (local.get $skip))
      (local.set $p (i32.add (local.get $p) (i32.const 4))))
    (i32.load (local.get $p)))
  ;; store through the bumped local; the value may be the local itself
  (func (export "store-pre") (param $p i32) (param $v i32) (result i32)
    (i32.store (local.tee $p (i32.add (local.get $p) (i32.const 4))) (local.get $v))
    (i32.load (local.get $p)))
  (func (export "store-self") (param $p i32) (result i32)
    (i32.store (local.tee $p (i32.add (local.get $p) (i32.const 4))) (local.get $p))
    (i32.load (local.get $p)))
  (func (export "store8-pre") (param $p i32) (param $v i32) (result i32)
    (i32.store8 offset=1 (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $v))
    (i32.load16_u (local.get $p)))
  (func (export "store-const") (param $p i32) (result i32)
    (i32.store (local.tee $p (i32.add (local.get $p) (i32.const 4))) (i32.const 77))
    (i32.load (local.get $p)))
)

(assert_return (invoke "load-pre" (i32.const 0) (i32.const 0)) (i32.const 4002))
(assert_return (invoke "load-pre" (i32.const 8) (i32.const 0)) (i32.const 12004))
;; 32-bit wrap-around of the bumped address: -4 + 4 = 0
(assert_return (invoke "load-pre" (i32.const -4) (i32.const 0)) (i32.const 1))
(assert_return (invoke "load-pre-off" (i32.const 4)) (i32.const 2))
(assert_return (invoke "load-pre-off" (i32.const 8)) (i32.const 3))
;; the bumped address wraps to -4; plus the offset that is past 4 GiB (no wrap-around)
(assert_trap (invoke "load-pre-off" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "load-set" (i32.const 4)) (i32.const 4))
(assert_return (invoke "load-self" (i32.const 4)) (i32.const 3))
(assert_return (invoke "load64-pre" (i32.const 0)) (i64.const 0xffffffffddccbbaa))
(assert_trap (invoke "load64-pre" (i32.const 1)) "out of bounds memory access")
;; exact bounds: p + 4 = 65532 reads the last word, 65533 traps
(assert_return (invoke "load-pre" (i32.const 65528) (i32.const 0)) (i32.const 0xe1b4ac0a))
(assert_trap (invoke "load-pre" (i32.const 65529) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "load-pre" (i32.const -5) (i32.const 0)) "out of bounds memory access")
;; 1 + 2 + 3 (4 stops the walk at p = 12)
(assert_return (invoke "walk") (i32.const 1206))
(assert_return (invoke "pre-label" (i32.const 0) (i32.const 1)) (i32.const 1))
(assert_return (invoke "pre-label" (i32.const 0) (i32.const 0)) (i32.const 2))
(assert_return (invoke "store-pre" (i32.const 100) (i32.const 42)) (i32.const 42))
(assert_return (invoke "store-self" (i32.const 100)) (i32.const 104))
(assert_return (invoke "store8-pre" (i32.const 200) (i32.const 0x1ff)) (i32.const 0xff00))
(assert_return (invoke "store-const" (i32.const 300)) (i32.const 77))
(assert_return (invoke "store-pre" (i32.const 65528) (i32.const 9)) (i32.const 9))
(assert_trap (invoke "store-pre" (i32.const 65529) (i32.const 9)) "out of bounds memory access")
(assert_trap (invoke "store-pre" (i32.const -5) (i32.const 9)) "out of bounds memory access")
(assert_return (invoke "store-pre" (i32.const -4) (i32.const 5)) (i32.const 5))

;; ---- runs of moves between locals (one instruction per up to four moves, kept in order) ----
(module
  ;; rotate eight locals by one, n times, as the rounds of a hash do
  (func (export "rotate8") (param $n i32) (result i64)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32) (local $t i32)
    (local.set $a (i32.const 1)) (local.set $b (i32.const 2)) (local.set $c (i32.const 3))
    (local.set $d (i32.const 4)) (local.set $e (i32.const 5)) (local.set $f (i32.const 6))
    (local.set $g (i32.const 7)) (local.set $h (i32.const 8))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (local.get $h))
        (local.set $h (local.get $g))
        (local.set $g (local.get $f))
        (local.set $f (local.get $e))
        (local.set $e (local.get $d))
        (local.set $d (local.get $c))
        (local.set $c (local.get $b))
        (local.set $b (local.get $a))
        (local.set $a (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    ;; the locals as eight hex digits a..h
    (i64.or (i64.or (i64.or
      (i64.shl (i64.extend_i32_u (local.get $a)) (i64.const 28))
      (i64.shl (i64.extend_i32_u (local.get $b)) (i64.const 24)))
      (i64.or (i64.shl (i64.extend_i32_u (local.get $c)) (i64.const 20))
        (i64.shl (i64.extend_i32_u (local.get $d)) (i64.const 16))))
      (i64.or (i64.or
        (i64.shl (i64.extend_i32_u (local.get $e)) (i64.const 12))
        (i64.shl (i64.extend_i32_u (local.get $f)) (i64.const 8)))
        (i64.or (i64.shl (i64.extend_i32_u (local.get $g)) (i64.const 4))
          (i64.extend_i32_u (local.get $h))))))
  ;; a branch target between moves: the moves after it run on both paths
  (func (export "moves-label") (param $x i32) (result i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local.set $a (i32.const 10))
    (block
      (local.set $b (local.get $x))
      (local.set $c (local.get $a))
      (br_if 0 (local.get $x))
      (local.set $d (local.get $c))
      (local.set $b (local.get $d)))
    (local.set $d (local.get $b))
    (local.set $a (local.get $d))
    (local.set $c (local.get $a))
    (i32.add (i32.mul (local.get $c) (i32.const 100)) (local.get $d)))
)

(assert_return (invoke "rotate8" (i32.const 0)) (i64.const 0x12345678))
(assert_return (invoke "rotate8" (i32.const 1)) (i64.const 0x81234567))
(assert_return (invoke "rotate8" (i32.const 3)) (i64.const 0x67812345))
(assert_return (invoke "rotate8" (i32.const 8)) (i64.const 0x12345678))
(assert_return (invoke "moves-label" (i32.const 0)) (i32.const 1010))
(assert_return (invoke "moves-label" (i32.const 7)) (i32.const 707))

;; ---- br_table on an index just loaded from memory (an interpreter's dispatch) ----
(module
  (memory 1)
  ;; a byte program at 0: ops 0 inc, 1 double, 2 dec, 3 halt, anything else is "add 100"
  (data (i32.const 0) "\00\00\01\02\09\01\03")
  (data (i32.const 16) "\02\00\00\00\00\00\00\00\01\00\00\00\05\00\00\00")
  (data (i32.const 65532) "\01\00\00\00")
  ;; byte code; pc advances through a local
  (func (export "run8") (param $pc i32) (result i32)
    (local $acc i32)
    (loop $next
      (block $halt
        (block $other
          (block $dec
            (block $dbl
              (block $inc
                (br_table $inc $dbl $dec $halt $other (i32.load8_u (local.get $pc))))
              (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
              (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
              (br $next))
            (local.set $acc (i32.shl (local.get $acc) (i32.const 1)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
            (br $next))
          (local.set $acc (i32.sub (local.get $acc) (i32.const 1)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
          (br $next))
        (local.set $acc (i32.add (local.get $acc) (i32.const 100)))
        (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  ;; word index at base + 4 * i + 16; the values reach the label as results
  (func (export "pick32") (param $i i32) (result i32)
    (block $b2 (result i32)
      (block $b1 (result i32)
        (block $b0 (result i32)
          (i32.const 7)
          (br_table $b0 $b1 $b2
            (i32.load offset=16 (i32.shl (local.get $i) (i32.const 2)))))
        (return (i32.add (i32.const 1000))))
      (return (i32.add (i32.const 2000))))
    (i32.add (i32.const 3000)))
  (func (export "at32") (param $a i32) (result i32)
    (block $b1
      (block $b0
        (br_table $b0 $b1 (i32.load (i32.add (local.get $a) (i32.const 4)))))
      (return (i32.const 10)))
    (i32.const 11))
  (func (export "at8") (param $a i32) (result i32)
    (block $b1
      (block $b0
        (br_table $b0 $b1 (i32.load8_u offset=2 (local.get $a))))
      (return (i32.const 20)))
    (i32.const 21))
)

;; inc inc dbl dec, then 9 adds 100, dbl, halt: ((1 + 1) * 2 - 1 + 100) * 2
(assert_return (invoke "run8" (i32.const 0)) (i32.const 206))
(assert_return (invoke "run8" (i32.const 5)) (i32.const 0))
(assert_return (invoke "pick32" (i32.const 0)) (i32.const 3007))
(assert_return (invoke "pick32" (i32.const 1)) (i32.const 1007))
(assert_return (invoke "pick32" (i32.const 2)) (i32.const 2007))
;; index 5 is past the targets: the default
(assert_return (invoke "pick32" (i32.const 3)) (i32.const 3007))
;; exact bounds: the word at 65532 is 1; one byte further traps
(assert_return (invoke "at32" (i32.const 65528)) (i32.const 11))
(assert_trap (invoke "at32" (i32.const 65529)) "out of bounds memory access")
;; the address wraps around 32 bits before the load: -4 + 4 = 0 (byte 0 0 0 1 1 ... = 0x01000000)
(assert_return (invoke "at32" (i32.const -4)) (i32.const 11))
(assert_trap (invoke "at32" (i32.const -5)) "out of bounds memory access")
(assert_return (invoke "at8" (i32.const 0)) (i32.const 21))
;; address plus offset does not wrap around
(assert_trap (invoke "at8" (i32.const -2)) "out of bounds memory access")
(assert_return (invoke "at8" (i32.const 65530)) (i32.const 21))
(assert_return (invoke "at8" (i32.const 65533)) (i32.const 20))
(assert_trap (invoke "at8" (i32.const 65534)) "out of bounds memory access")
(assert_trap (invoke "at8" (i32.const -1)) "out of bounds memory access")

;; ---- two i32 adds of a constant in a row ----
(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (data (i32.const 65532) "\05\00\00\00")
  ;; two counters stepped together; the sums wrap around 32 bits
  (func (export "two-counters") (param $a i32) (param $b i32) (result i64)
    (local.set $a (i32.add (local.get $a) (i32.const 3)))
    (local.set $b (i32.add (local.get $b) (i32.const -1)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $a)) (i64.const 32))
      (i64.extend_i32_u (local.get $b))))
  ;; the second add reads the first's result (on the stack, then in a local)
  (func (export "chain") (param $a i32) (result i32)
    (i32.add (i32.add (local.get $a) (i32.const 5)) (i32.const 7)))
  (func (export "chain-local") (param $a i32) (result i32)
    (local.set $a (i32.add (local.get $a) (i32.const 5)))
    (local.set $a (i32.add (local.get $a) (i32.const 7)))
    (local.get $a))
  ;; a counter step, then an address "p + 8" folded into the load
  (func (export "step-load") (param $i i32) (param $p i32) (result i32)
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (i32.add (i32.load (i32.add (local.get $p) (i32.const 8)))
      (i32.mul (local.get $i) (i32.const 100))))
  ;; a counter step, then a pointer bump and a load through it
  (func (export "step-bump") (param $i i32) (param $p i32) (result i32)
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (i32.add (i32.load (local.tee $p (i32.add (local.get $p) (i32.const 4))))
      (i32.add (i32.mul (local.get $i) (i32.const 100))
        (i32.mul (local.get $p) (i32.const 10000)))))
  ;; a store of a sum to a computed address
  (func (export "store-sum") (param $p i32) (param $v i32) (result i32)
    (i32.store (i32.add (local.get $p) (i32.const 4)) (i32.add (local.get $v) (i32.const 1)))
    (i32.load offset=4 (local.get $p)))
)

(assert_return (invoke "two-counters" (i32.const 1) (i32.const 0)) (i64.const 0x00000004ffffffff))
(assert_return (invoke "two-counters" (i32.const -1) (i32.const 1)) (i64.const 0x0000000200000000))
(assert_return (invoke "chain" (i32.const 1)) (i32.const 13))
(assert_return (invoke "chain" (i32.const -12)) (i32.const 0))
(assert_return (invoke "chain-local" (i32.const -13)) (i32.const -1))
(assert_return (invoke "step-load" (i32.const 1) (i32.const 4)) (i32.const 204))
(assert_return (invoke "step-load" (i32.const 0) (i32.const 65524)) (i32.const 105))
(assert_trap (invoke "step-load" (i32.const 0) (i32.const 65525)) "out of bounds memory access")
;; p + 8 wraps around 32 bits
(assert_return (invoke "step-load" (i32.const 0) (i32.const -8)) (i32.const 101))
(assert_return (invoke "step-bump" (i32.const 4) (i32.const 4)) (i32.const 80503))
(assert_return (invoke "step-bump" (i32.const 0) (i32.const -4)) (i32.const 101))
(assert_trap (invoke "step-bump" (i32.const 0) (i32.const 65529)) "out of bounds memory access")
(assert_return (invoke "store-sum" (i32.const 100) (i32.const 41)) (i32.const 42))
(assert_trap (invoke "store-sum" (i32.const 65529) (i32.const 0)) "out of bounds memory access")

;; ---- an add of a constant, then br ----
(module
  ;; count down with br_if out and a plain br back after the step
  (func (export "loop-br") (param $n i32) (result i64)
    (local $steps i64) (local $i i32)
    (block $out
      (loop $l
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $steps (i64.add (local.get $steps) (i64.const 0x100000001)))
        (br $l)))
    (local.get $steps))
  ;; i32 step then a forward br out of a block
  (func (export "fwd-br") (param $x i32) (result i32)
    (block $b
      (local.set $x (i32.add (local.get $x) (i32.const -2)))
      (br $b)
      (local.set $x (i32.const 99)))
    (local.get $x))
  ;; the step's result is the value the branch carries (moves: no fusion, same result)
  (func (export "br-value") (param $x i64) (result i64)
    (block $b (result i64)
      (br $b (i64.add (local.get $x) (i64.const 1)))))
)

(assert_return (invoke "loop-br" (i32.const 0)) (i64.const 0))
(assert_return (invoke "loop-br" (i32.const 5)) (i64.const 0x500000005))
(assert_return (invoke "fwd-br" (i32.const 1)) (i32.const -1))
(assert_return (invoke "br-value" (i64.const -1)) (i64.const 0))
(assert_return (invoke "br-value" (i64.const 0x7fffffffffffffff)) (i64.const 0x8000000000000000))

;; ---- two rotations xored (a SHA-2 sigma) ----
(module
  (func (export "sigma") (param $x i32) (result i32)
    (i32.xor (i32.xor (i32.rotl (local.get $x) (i32.const 30))
                      (i32.rotl (local.get $x) (i32.const 19)))
             (i32.rotl (local.get $x) (i32.const 10))))
  (func (export "two") (param $x i32) (param $y i32) (result i32)
    (i32.xor (i32.rotl (local.get $x) (i32.const 7)) (i32.rotl (local.get $y) (i32.const 25))))
  ;; counts of 0, 32 and more are taken modulo 32
  (func (export "two-wide") (param $x i32) (param $y i32) (result i32)
    (i32.xor (i32.rotl (local.get $x) (i32.const 0)) (i32.rotl (local.get $y) (i32.const 33))))
  ;; the second rotation rotates the first's result: not fused, same result
  (func (export "nested") (param $x i32) (result i32)
    (local $t i32)
    (i32.xor (i32.rotl (local.get $x) (i32.const 4))
             (i32.rotl (i32.rotl (local.get $x) (i32.const 4)) (i32.const 8))))
)

(assert_return (invoke "sigma" (i32.const 1)) (i32.const 0x40080400))
(assert_return (invoke "sigma" (i32.const 0)) (i32.const 0))
(assert_return (invoke "sigma" (i32.const -1)) (i32.const -1))
(assert_return (invoke "two" (i32.const 0x80000001) (i32.const 1)) (i32.const 0x020000c0))
(assert_return (invoke "two-wide" (i32.const 0x12345678) (i32.const 0x80000000))
  (i32.const 0x12345679))
(assert_return (invoke "nested" (i32.const 0x10)) (i32.const 0x10100))

;; ---- an access at the sum of two values ----
(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (func (export "load-sum") (param $a i32) (param $b i32) (result i32)
    (i32.load offset=4 (i32.add (local.get $a) (local.get $b))))
  (func (export "store-sum") (param $a i32) (param $b i32) (result i32)
    (i32.store (i32.add (local.get $a) (local.get $b)) (local.get $b))
    (i32.load (i32.add (local.get $b) (local.get $a))))
  (func (export "store-sum-const") (param $a i32) (param $b i32) (result i32)
    (i32.store8 (i32.add (local.get $a) (local.get $b)) (i32.const 0x1ff))
    (i32.load8_u (i32.add (local.get $a) (local.get $b))))
)

(assert_return (invoke "load-sum" (i32.const 4) (i32.const 4)) (i32.const 4))
;; the sum wraps around 32 bits; the offset is added after, without wrap-around
(assert_return (invoke "load-sum" (i32.const -4) (i32.const 4)) (i32.const 2))
(assert_trap (invoke "load-sum" (i32.const -8) (i32.const 4)) "out of bounds memory access")
(assert_trap (invoke "load-sum" (i32.const -8) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "load-sum" (i32.const 65000) (i32.const 528)) (i32.const 0))
(assert_trap (invoke "load-sum" (i32.const 65000) (i32.const 529)) "out of bounds memory access")
(assert_return (invoke "store-sum" (i32.const 100) (i32.const 60)) (i32.const 60))
(assert_return (invoke "store-sum" (i32.const -4) (i32.const 65536)) (i32.const 65536))
(assert_trap (invoke "store-sum" (i32.const 65532) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "store-sum-const" (i32.const 200) (i32.const 7)) (i32.const 0xff))
(assert_trap (invoke "store-sum-const" (i32.const 65535) (i32.const 1)) "out of bounds memory access")
