;; The module used by wasm_embed.c: it imports one host function and exports
;; functions and its memory.
(module
  (import "host" "print" (func $print (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from inside the module")

  ;; Hand the greeting to the host: it reads it out of linear memory.
  (func (export "greet") (result i32)
    (call $print (i32.const 0) (i32.const 28))
    (i32.const 28))

  ;; fib(n), iteratively, as an i64.
  (func (export "fib") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))

  ;; Sum of the bytes [ptr, ptr+len), which the host wrote.
  (func (export "sum") (param $ptr i32) (param $len i32) (result i32)
    (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next)))
    (local.get $s))

  ;; Divides: traps when b is 0.
  (func (export "div") (param $a i32) (param $b i32) (result i32)
    (i32.div_u (local.get $a) (local.get $b))))
