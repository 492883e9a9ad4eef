;; Linking between instances: imported functions, memories, tables and globals
;; are shared, calls switch to the callee's instance, import types are
;; checked, and a failing instantiation keeps the writes made before the trap.
(module $A
  (memory (export "mem") 1 4)
  (table (export "tab") 4 funcref)
  (global (export "g") (mut i32) (i32.const 10))
  (global (export "k") i64 (i64.const 5))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "get-g") (result i32) (global.get 0))
  (func (export "call-tab") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
)
(register "A" $A)

(module $B
  (import "A" "mem" (memory 1))
  (import "A" "tab" (table 4 funcref))
  (import "A" "g" (global $g (mut i32)))
  (import "A" "add" (func $add (param i32 i32) (result i32)))
  (import "A" "load" (func $a-load (param i32) (result i32)))
  (func $seven (result i32) (i32.const 7))
  (elem (i32.const 1) $seven)
  (func (export "write") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "read-through-a") (param i32) (result i32) (call $a-load (local.get 0)))
  (func (export "bump") (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (func (export "add3") (param i32) (result i32) (call $add (call $add (local.get 0) (i32.const 1)) (i32.const 2)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
)

(invoke $B "write" (i32.const 8) (i32.const 0x12345678))
(assert_return (invoke $A "load" (i32.const 8)) (i32.const 0x12345678))
(invoke $A "store" (i32.const 12) (i32.const 99))
(assert_return (invoke $B "read-through-a" (i32.const 12)) (i32.const 99))
(invoke $B "bump")
(assert_return (invoke $A "get-g") (i32.const 11))
(assert_return (get $A "g") (i32.const 11))
(assert_return (invoke $B "add3" (i32.const 1)) (i32.const 4))
;; a function of B in A's table runs in B's instance
(assert_return (invoke $A "call-tab" (i32.const 1)) (i32.const 7))
;; growth through one instance is seen by the other
(assert_return (invoke $B "grow") (i32.const 1))
(assert_return (invoke $A "load" (i32.const 65536)) (i32.const 0))

(assert_unlinkable (module (import "A" "nothing" (func))) "unknown import")
(assert_unlinkable (module (import "Z" "add" (func))) "unknown import")
(assert_unlinkable (module (import "A" "add" (func (param i32) (result i32)))) "incompatible import type")
(assert_unlinkable (module (import "A" "add" (global i32))) "incompatible import type")
(assert_unlinkable (module (import "A" "g" (global i32))) "incompatible import type")
(assert_unlinkable (module (import "A" "k" (global (mut i64)))) "incompatible import type")
(assert_unlinkable (module (import "A" "k" (global i32))) "incompatible import type")
(assert_unlinkable (module (import "A" "mem" (memory 3))) "incompatible import type")
(assert_unlinkable (module (import "A" "mem" (memory 1 2))) "incompatible import type")
(module (import "A" "mem" (memory 1 4)))
(assert_unlinkable (module (import "A" "tab" (table 5 funcref))) "incompatible import type")
(assert_unlinkable (module (import "A" "tab" (table 1 externref))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "memory" (memory 1 1))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "table" (table 10 15 funcref))) "incompatible import type")
(module (import "spectest" "table" (table 10 20 funcref)))

;; elements are written, then the data segment traps: the elements stay
(assert_trap
  (module
    (import "A" "tab" (table 4 funcref))
    (import "A" "mem" (memory 1))
    (func $nine (result i32) (i32.const 9))
    (elem (i32.const 2) $nine)
    (data (i32.const 0) "\01\00\00\00")
    (data (i32.const 0x30000) "x"))
  "out of bounds memory access")
(assert_return (invoke $A "call-tab" (i32.const 2)) (i32.const 9))
(assert_return (invoke $A "load" (i32.const 0)) (i32.const 1))

;; a start function that traps
(assert_trap (module (func $s (unreachable)) (start $s)) "unreachable")
(module (global $x (mut i32) (i32.const 0)) (func $s (global.set $x (i32.const 3))) (start $s)
  (func (export "x") (result i32) (global.get $x)))
(assert_return (invoke "x") (i32.const 3))
