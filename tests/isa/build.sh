#!/bin/sh
# Dev helper: build one test ELF outside meson.  build.sh <out.elf> <test.c> [cflags...]
set -e
out=$1
src=$2
shift 2
dir=$(dirname "$0")
riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -O1 -g \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -no-pie -fno-stack-protector \
	-nostdlib -nostartfiles -static -Wl,--build-id=none -Wall -Wextra -T "$dir/link.ld" \
	-I"$dir" "$@" -o "$out" "$dir/crt.S" "$dir/lib.c" "$src"
