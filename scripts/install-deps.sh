#!/usr/bin/env bash
# Install the Debian 12 packages Vessel needs to build, test and benchmark.
# Idempotent: installs only what is missing.
set -euo pipefail

PKGS=(
	# build
	gcc meson ninja-build pkg-config libfdt-dev libslirp-dev libglib2.0-dev zlib1g-dev
	clang-format
	libmicrohttpd-dev libjansson-dev libzstd-dev liblz4-dev libseccomp-dev
	# the WebAssembly process VM: spec-test tools, C-to-wasm toolchain, Node as a peer
	wabt clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 nodejs
	# libFuzzer (fuzz/run.sh)
	libclang-rt-14-dev
	# firmware and peers used as test oracles and benchmarks
	opensbi u-boot-qemu qemu-system-misc qemu-utils
	# the default guest: cross compiler, kernel and busybox sources, image tools
	gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu linux-source-6.1
	bc bison flex libssl-dev libelf-dev cpio xz-utils dpkg-dev e2fsprogs
	# tests
	python3 busybox
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# busybox for the guest is built from Debian's source package: needs deb-src.
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" |
		$SUDO tee /etc/apt/sources.list.d/vessel-deb-src.list >/dev/null
	NEED_UPDATE=1
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] || [ -n "${NEED_UPDATE:-}" ]; then
	$SUDO apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
