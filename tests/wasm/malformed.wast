;; Malformed binaries: each is rejected by the decoder with a clear reason.
;; Header
(assert_malformed (module binary "") "unexpected end")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_malformed (module binary "\00asm\01") "unexpected end")
(assert_malformed (module binary "asm\00\01\00\00\00") "magic header not detected")
(assert_malformed (module binary "\00ASM\01\00\00\00") "magic header not detected")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module binary "\00asm\00\00\00\01") "unknown binary version")
;; Sections
(assert_malformed (module binary "\00asm\01\00\00\00" "\0d\00") "malformed section id")
(assert_malformed (module binary "\00asm\01\00\00\00" "\7f\00") "malformed section id")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\05\00") "length out of bounds")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\ff\ff\ff\ff\0f") "length out of bounds")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\02\00\00") "section size mismatch")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\01\00" "\01\01\00") "unexpected content after last section")
(assert_malformed (module binary "\00asm\01\00\00\00" "\03\01\00" "\01\01\00") "unexpected content after last section")
(assert_malformed (module binary "\00asm\01\00\00\00" "\0a\01\00" "\0c\01\00") "unexpected content after last section")
;; custom sections may appear anywhere, but their names are UTF-8
(module binary "\00asm\01\00\00\00" "\00\04\03abc" "\01\01\00" "\00\01\00")
(assert_malformed (module binary "\00asm\01\00\00\00" "\00\03\02\c0\80") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm\01\00\00\00" "\00\04\03\ed\a0\80") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm\01\00\00\00" "\00\05\04\f4\90\80\80") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm\01\00\00\00" "\00\02\01\80") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm\01\00\00\00" "\00\02\05a") "length out of bounds")
;; LEB128
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\07\80\80\80\80\80\00\00") "integer representation too long")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\06\80\80\80\80\70\00") "integer too large")
(assert_malformed (module binary "\00asm\01\00\00\00"
  "\01\04\01\60\00\00" "\03\02\01\00"
  "\0a\0b\01\09\00\41\80\80\80\80\70\1a\0b") "integer too large")
(assert_malformed (module binary "\00asm\01\00\00\00"
  "\01\04\01\60\00\00" "\03\02\01\00"
  "\0a\10\01\0e\00\42\80\80\80\80\80\80\80\80\80\7e\1a\0b") "integer too large")
;; Counts larger than what follows are refused before anything is allocated
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\05\ff\ff\ff\ff\0f") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00" "\03\05\ff\ff\ff\ff\0f") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00" "\05\05\ff\ff\ff\ff\0f") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00" "\07\05\ff\ff\ff\ff\0f") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\06\01\04\ff\ff\ff\0f") "unexpected end")
;; Types and imports
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\61\00\00") "integer representation too long")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\05\01\60\01\7a\00") "malformed value type")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\05\01\60\01\7b\00") "malformed value type")
(assert_malformed (module binary "\00asm\01\00\00\00" "\02\07\01\01a\01b\04\00") "malformed import kind")
(assert_malformed (module binary "\00asm\01\00\00\00" "\02\08\01\01a\01b\03\7f\02") "malformed mutability")
(assert_malformed (module binary "\00asm\01\00\00\00" "\02\07\01\01a\01\ff\00\00") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm\01\00\00\00" "\04\04\01\6e\00\01") "malformed reference type")
(assert_malformed (module binary "\00asm\01\00\00\00" "\05\03\01\02\00") "integer too large")
(assert_malformed (module binary "\00asm\01\00\00\00" "\07\05\01\01a\04\00") "malformed export kind")
;; Functions and code
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00") "function and code section have inconsistent lengths")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\0a\04\01\02\00\0b") "function and code section have inconsistent lengths")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\04\01\02\00\00") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\05\01\03\00\0b\0b") "section size mismatch")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\05\01\03\00\06\0b") "illegal opcode")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\05\01\03\00\ff\0b") "illegal opcode")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\06\01\04\00\fc\12\0b") "illegal opcode")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\09\01\07\00\41\00\fd\0f\1a\0b") "illegal opcode")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\06\01\04\01\01\7b\0b") "malformed value type")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\0c\01\0a\02\ff\ff\ff\ff\0f\7f\01\7f\0b") "too many locals")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
  "\0a\07\01\05\00\3f\01\1a\0b") "zero byte expected")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
  "\0a\09\01\07\00\41\00\40\01\1a\0b") "zero byte expected")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
  "\0a\0a\01\08\00\41\00\28\20\00\1a\0b") "malformed memop flags")
;; Data and elements
(assert_malformed (module binary "\00asm\01\00\00\00" "\05\03\01\00\01" "\0b\07\01\00\41\00\0b\05a") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00" "\05\03\01\00\01" "\0b\04\01\03\00\00") "malformed data segment kind")
(assert_malformed (module binary "\00asm\01\00\00\00" "\05\03\01\00\01" "\0c\01\02" "\0b\07\01\00\41\00\0b\01a") "data count and data section have inconsistent lengths")
(assert_malformed (module binary "\00asm\01\00\00\00" "\05\03\01\00\01" "\0c\01\01") "data count and data section have inconsistent lengths")
(assert_malformed (module binary "\00asm\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
  "\0a\0e\01\0c\00\41\00\41\00\41\00\fc\08\00\00\0b" "\0b\04\01\01\01a") "data count section required")
(assert_malformed (module binary "\00asm\01\00\00\00" "\04\04\01\70\00\01" "\09\04\01\08\00\00") "malformed elements segment kind")
(assert_malformed (module binary "\00asm\01\00\00\00" "\04\04\01\70\00\01" "\09\05\01\01\00\05\00") "unexpected end")
