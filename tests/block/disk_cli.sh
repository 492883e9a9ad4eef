#!/usr/bin/env bash
# 'vessel disk create/info' through the built binary, with qemu-img as the oracle.
# usage: disk_cli.sh VESSEL QEMU_IMG
set -u
V=$(realpath "$1")
QI=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# expect STATUS CMD...: run, check the exit status, keep output in $T/out
expect() {
	local want=$1
	shift
	"$@" >"$T/out" 2>&1
	local got=$?
	if [ "$got" -eq "$want" ]; then ok; else
		fail "'$*' exited $got, want $want: $(cat "$T/out")"
	fi
}
has() { # has PATTERN: last output contains PATTERN
	if grep -q -- "$1" "$T/out"; then ok; else fail "output lacks '$1': $(cat "$T/out")"; fi
}

cd "$T" || exit 1

expect 0 "$V" disk create a.qcow2 10G
expect 0 "$QI" check a.qcow2
expect 0 "$V" disk info a.qcow2
has "format: qcow2"
has "virtual size: 10 GiB (10737418240 bytes)"
has "allocated: .* bytes)"
"$QI" info --output=json a.qcow2 | grep -q '"virtual-size": 10737418240' && ok || fail "qemu-img sees 10G"

expect 0 "$V" disk create r.img 1536K --format raw
expect 0 "$V" disk info r.img
has "format: raw"
has "virtual size: 1.5 MiB (1572864 bytes)"
[ "$(stat -c %s r.img)" -eq 1572864 ] && ok || fail "raw file size"

# Overlays: size defaults to the base's, chain is printed, qemu-img agrees.
mkdir sub
expect 0 "$V" disk create sub/ov.qcow2 --backing ../a.qcow2
expect 0 "$QI" check sub/ov.qcow2
"$QI" info sub/ov.qcow2 >"$T/out" 2>&1
has "backing file: ../a.qcow2"
has "backing file format: qcow2"
expect 0 "$V" disk create sub/top.qcow2 --backing=ov.qcow2 --format=qcow2
expect 0 "$V" disk info sub/top.qcow2
has "backing file: ov.qcow2"
has "sub/ov.qcow2 (qcow2"
has "sub/../a.qcow2 (qcow2"
has "virtual size: 10 GiB"
expect 0 "$V" disk create rb.qcow2 --backing r.img
expect 0 "$V" disk info rb.qcow2
has "r.img (raw"

# Help and usage errors (exit 2).
expect 0 "$V" disk --help
expect 0 "$V" disk create --help
has "usage: vessel disk create"
expect 0 "$V" disk info --help
has "usage: vessel disk info"
expect 2 "$V" disk
expect 2 "$V" disk frob
expect 2 "$V" disk create
expect 2 "$V" disk create x.qcow2
has "vessel: disk create: missing SIZE"
expect 2 "$V" disk create x.qcow2 10Q
has "vessel: disk create: invalid size"
expect 2 "$V" disk create x.qcow2 99999999999T
expect 2 "$V" disk create x.qcow2 1G --format vmdk
expect 2 "$V" disk create x.qcow2 1G --bogus
expect 2 "$V" disk create x.qcow2 1G --backing
expect 2 "$V" disk create x.img 1G --format raw --backing a.qcow2
expect 2 "$V" disk info
expect 2 "$V" disk info a b
[ ! -e x.qcow2 ] && [ ! -e x.img ] && ok || fail "usage errors left files behind"

# Failures (exit 1): one line, no file left behind.
expect 1 "$V" disk create y.qcow2 --backing missing.qcow2
has "^vessel: disk create: "
[ "$(wc -l <"$T/out")" -eq 1 ] && ok || fail "more than one error line"
expect 1 "$V" disk create nodir/y.qcow2 1G
has "^vessel: disk create: "
expect 1 "$V" disk create y.qcow2 100000T
has "too large"
[ -z "$(ls | grep -E '^y\.|vessel-tmp')" ] && ok || fail "failed create left files: $(ls)"
expect 1 "$V" disk create a.qcow2 --backing a.qcow2
has "backing file is the image itself"
"$QI" check a.qcow2 >/dev/null 2>&1 && ok || fail "failed create damaged the existing image"
expect 1 "$V" disk info missing.qcow2
has "^vessel: disk info: "
printf 'QFI\373xx' >bad.qcow2
expect 1 "$V" disk info bad.qcow2
has "^vessel: disk info: .*truncated"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
