;; Bulk memory: memory.fill, memory.copy (overlapping both ways), memory.init
;; from passive segments, data.drop, and their bounds rules (a length of zero is
;; fine up to the end, one byte past it traps, a trap writes nothing).
(module
  (memory 1)
  (data $p "\01\02\03\04\05")
  (data $a (i32.const 0) "\aa")
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init-active") (param i32 i32 i32) (memory.init $a (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $p))
  (func (export "drop-active") (data.drop $a))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
)

(assert_return (invoke "load8" (i32.const 0)) (i32.const 0xaa))
(invoke "fill" (i32.const 16) (i32.const 0x1ff) (i32.const 4))
(assert_return (invoke "load64" (i32.const 16)) (i64.const 0xffffffff))
(invoke "fill" (i32.const 65536) (i32.const 1) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 65537) (i32.const 1) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 65530) (i32.const 7) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65530)) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 1) (i32.const 7) (i32.const -1)) "out of bounds memory access")

(invoke "init" (i32.const 32) (i32.const 0) (i32.const 5))
(assert_return (invoke "load64" (i32.const 32)) (i64.const 0x0504030201))
(invoke "init" (i32.const 40) (i32.const 3) (i32.const 2))
(assert_return (invoke "load64" (i32.const 40)) (i64.const 0x0504))
(invoke "init" (i32.const 65536) (i32.const 5) (i32.const 0))
(assert_trap (invoke "init" (i32.const 0) (i32.const 4) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 0) (i32.const 6) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 65535) (i32.const 0) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")

;; copy forward and backward over overlapping ranges
(invoke "copy" (i32.const 33) (i32.const 32) (i32.const 4))
(assert_return (invoke "load64" (i32.const 32)) (i64.const 0x0403020101))
(invoke "copy" (i32.const 32) (i32.const 34) (i32.const 4))
(assert_return (invoke "load64" (i32.const 32)) (i64.const 0x0400040302))
(invoke "copy" (i32.const 65536) (i32.const 0) (i32.const 0))
(invoke "copy" (i32.const 0) (i32.const 65536) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65537) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 65535) (i32.const 32) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 32) (i32.const 65535) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "load64" (i32.const 32)) (i64.const 0x0400040302))

;; after data.drop the segment is empty: only zero-length inits at offset 0 succeed
(invoke "drop")
(invoke "drop")
(invoke "init" (i32.const 0) (i32.const 0) (i32.const 0))
(assert_trap (invoke "init" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 0) (i32.const 1) (i32.const 0)) "out of bounds memory access")
;; active segments are dropped by instantiation
(invoke "init-active" (i32.const 0) (i32.const 0) (i32.const 0))
(assert_trap (invoke "init-active" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(invoke "drop-active")
