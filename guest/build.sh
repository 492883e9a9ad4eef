#!/usr/bin/env bash
# Build Vessel's default guest from Debian packages: a riscv64 Linux Image
# (linux-source-6.1), a static busybox (Debian source package), an
# initramfs.cpio.gz and a 64 MiB rootfs.ext4. Results are cached outside the
# checkout, keyed by a hash of every input, so a second run does nothing.
#
#   guest/build.sh            build if needed; progress on stderr
#   guest/build.sh --print    same, then print the cache dir on stdout (only that)
#   guest/build.sh --rebuild  throw the cached result away and build again
#
# Environment: VESSEL_CACHE (default ~/.cache/vessel), VESSEL_JOBS (default 2).
set -euo pipefail

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${VESSEL_CACHE:-$HOME/.cache/vessel}
JOBS=${VESSEL_JOBS:-2}
KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
CROSS=riscv64-linux-gnu-
OUTPUTS=(Image initramfs.cpio.gz rootfs.ext4 stamp)
ROOTFS_SIZE=64M
# Applets the guest's users (tests, benchmarks, docs) rely on.
BUSYBOX_APPLETS=(ASH CTTYHACK SETSID INIT HOSTNAME MOUNTPOINT UDHCPC HTTPD WGET
	SHA256SUM GZIP DD OD MOUNT UMOUNT POWEROFF REBOOT HALT NC IP IFCONFIG ROUTE)
# Settings from a caller's environment (a parent make, a kernel developer's
# shell) would redirect or alter the kernel and busybox builds.
unset MAKEFLAGS MFLAGS MAKELEVEL KBUILD_OUTPUT KCONFIG_CONFIG KCONFIG_ALLCONFIG ARCH CROSS_COMPILE
# mkfs.ext4 and debugfs live in /sbin, which a normal user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

log() { printf 'guest: %s\n' "$*" >&2; }
die() {
	printf 'vessel: guest build: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit "$1"
}

print_only=0
rebuild=0
for arg in "$@"; do
	case "$arg" in
	--print) print_only=1 ;;
	--rebuild) rebuild=1 ;;
	-h | --help) usage 0 ;;
	*)
		printf 'vessel: guest build: unknown argument: %s\n' "$arg" >&2
		usage 2
		;;
	esac
done

pkg_version() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null ||
		die "package $1 is not installed (run scripts/install-deps.sh)"
}

# The .dsc that `apt-get source busybox` would fetch, with its size and hash:
# it names the exact Debian source version (upstream + patches).
busybox_dsc_line() {
	local line
	line=$(apt-get source --print-uris busybox 2>/dev/null | grep -E "^'[^']*\.dsc' " | head -n1) || true
	[ -n "$line" ] || die "apt-get source cannot find busybox (needs a deb-src entry and apt-get update; see scripts/install-deps.sh)"
	printf '%s\n' "${line#* }"
}

check_tools() {
	local t
	for t in "${CROSS}gcc" "${CROSS}readelf" make bison flex bc tar xz gzip cpio \
		mkfs.ext4 debugfs apt-get dpkg-source flock; do
		command -v "$t" >/dev/null || die "$t not found (run scripts/install-deps.sh)"
	done
	[ -r "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing (install linux-source-6.1)"
}

# Every file under guest/ except the README (docs do not change the guest),
# plus the versions of the Debian packages the guest is made from.
compute_key() {
	{
		(cd "$GUEST_DIR" && find . -type f ! -name README.md -print0 | LC_ALL=C sort -z |
			xargs -0 sha256sum)
		echo "linux-source-6.1 $(pkg_version linux-source-6.1)"
		echo "gcc-riscv64-linux-gnu $(pkg_version gcc-riscv64-linux-gnu)"
		echo "libc6-dev-riscv64-cross $(pkg_version libc6-dev-riscv64-cross)"
		echo "e2fsprogs $(pkg_version e2fsprogs)"
		echo "busybox-source $BUSYBOX_DSC"
	} | tee "$KEY_INPUTS" | sha256sum | cut -c1-64
}

have_outputs() {
	local f
	for f in "${OUTPUTS[@]}"; do
		[ -s "$1/$f" ] || return 1
	done
}

# Runs one build step in the background so that `set -e` stays in force inside
# it (it would be ignored in an `if`/`||` context), logging to a file; on
# failure shows the log's tail and stops.
step() {
	local name=$1 logfile=$2 t0=$SECONDS
	shift 2
	log "$name (log: ${logfile##*/})"
	"$@" >>"$logfile" 2>&1 &
	if ! wait $!; then
		echo "----- last lines of ${logfile##*/} -----" >&2
		tail -n 40 "$logfile" >&2
		echo "-----" >&2
		FAILED_LOG=$logfile
		die "$name failed (full log: $DEST.failed/${logfile##*/})"
	fi
	log "$name: done in $((SECONDS - t0)) s"
	TIMES+=("$name: $((SECONDS - t0)) s")
}

# Every CONFIG_ line of a fragment must appear in the final .config, and every
# "# CONFIG_X is not set" must stay unset: Kconfig silently drops options whose
# dependencies are missing, which would otherwise go unnoticed until boot.
check_fragment() {
	local frag=$1 config=$2 line sym bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			if ! grep -qxF -- "$line" "$config"; then
				sym=${line%%=*}
				echo "config check: wanted '$line', got '$(grep -E "^$sym=|^# $sym is not set" "$config" || echo absent)'"
				bad=1
			fi
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			if grep -qE "^$sym=" "$config"; then
				echo "config check: wanted $sym unset, got '$(grep -E "^$sym=" "$config")'"
				bad=1
			fi
			;;
		esac
	done <"$frag"
	return "$bad"
}

kernel_build() {
	local kmake=(make ARCH=riscv "CROSS_COMPILE=$CROSS")
	tar -xJf "$KERNEL_TARBALL" -C "$WORK"
	cd "$WORK/linux-source-6.1"
	"${kmake[@]}" tinyconfig
	scripts/kconfig/merge_config.sh -m .config "$GUEST_DIR/linux.config"
	"${kmake[@]}" olddefconfig
	check_fragment "$GUEST_DIR/linux.config" .config
	local ncpus
	ncpus=$(sed -n 's/^CONFIG_NR_CPUS=//p' .config)
	[ "${ncpus:-0}" -ge 8 ] || {
		echo "config check: NR_CPUS=${ncpus:-absent}, need >= 8"
		return 1
	}
	"${kmake[@]}" -j"$JOBS" Image
	cp arch/riscv/boot/Image "$OUT/Image"
	cp .config "$OUT/linux.config"
}

busybox_build() {
	local dsc_name src sym line
	dsc_name=$(sed -n "s/^\([^ ]*\.dsc\) .*/\1/p" <<<"$BUSYBOX_DSC")
	# Keep the downloaded source package in the cache: later builds (and
	# machines without network) unpack it again with Debian's patches.
	src=$CACHE_ROOT/sources/busybox
	mkdir -p "$src"
	if [ ! -f "$src/$dsc_name" ]; then
		(cd "$src" && apt-get source --download-only busybox)
	fi
	[ -f "$src/$dsc_name" ] || {
		echo "apt-get source did not produce $dsc_name"
		return 1
	}
	# dpkg-source -x unpacks and applies debian/patches, as the package build does.
	dpkg-source -x "$src/$dsc_name" "$WORK/busybox"
	cd "$WORK/busybox"
	make defconfig
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) sym=${line%%=*} ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			;;
		*) continue ;;
		esac
		sed -i -e "/^$sym=/d" -e "/^# $sym is not set/d" .config
		printf '%s\n' "$line" >>.config
	done <"$GUEST_DIR/busybox.config"
	# Accept defaults for anything new; `|| true` hides yes' SIGPIPE from pipefail.
	{ yes '' || true; } | make oldconfig >/dev/null
	check_fragment "$GUEST_DIR/busybox.config" .config
	for sym in "${BUSYBOX_APPLETS[@]}"; do
		grep -qx "CONFIG_$sym=y" .config || {
			echo "config check: applet CONFIG_$sym is not enabled"
			return 1
		}
	done
	make -j"$JOBS" "CROSS_COMPILE=$CROSS"
	# A dynamic busybox would not run: the guest has no shared libraries.
	if "${CROSS}readelf" -l busybox | grep -q 'INTERP'; then
		echo "busybox is not static"
		return 1
	fi
	make "CROSS_COMPILE=$CROSS" CONFIG_PREFIX="$WORK/tree" install
	cp .config "$OUT/busybox.config"
}

# The tree both images share: busybox and its links, the guest/overlay files,
# and the mount points rcS uses.
tree_assemble() {
	local t=$WORK/tree
	rm -f "$t/linuxrc"
	mkdir -p "$t"/{dev,proc,sys,tmp,root,run,mnt,etc,www,var/log,usr/share/udhcpc}
	chmod 1777 "$t/tmp"
	chmod 700 "$t/root"
	cp -R "$GUEST_DIR/overlay/." "$t/"
	ln -sf /etc/udhcpc/default.script "$t/usr/share/udhcpc/default.script"
	# The CRNG reseed helper of the identity watcher (/etc/init.d/powerbtn).
	"${CROSS}gcc" -static -s -O2 -Wall -Wextra -Werror -o "$t/sbin/vessel-reseed" \
		"$GUEST_DIR/vessel-reseed.c"
	chmod 755 "$t/etc/init.d/rcS" "$t/etc/udhcpc/default.script"
}

initramfs_build() {
	local t=$WORK/initramfs-tree list=$WORK/initramfs.list
	cp -a "$WORK/tree" "$t"
	install -m 755 "$GUEST_DIR/init" "$t/init"
	# The kernel opens /dev/console before running /init, so the node must
	# be in the archive; gen_init_cpio writes it without needing root.
	printf 'nod /dev/console 600 0 0 c 5 1\n' >"$list"
	# gen_initramfs.sh runs usr/gen_init_cpio relative to the kernel tree.
	(cd "$WORK/linux-source-6.1" && usr/gen_initramfs.sh -o "$WORK/initramfs.cpio" \
		-u "$(id -u)" -g "$(id -g)" "$t" "$list")
	gzip -9 -n -c "$WORK/initramfs.cpio" >"$OUT/initramfs.cpio.gz"
}

rootfs_build() {
	local t=$WORK/tree img=$OUT/rootfs.ext4 cmds=$WORK/chown.debugfs
	mkfs.ext4 -q -F -L vessel-root -E root_owner=0:0 -d "$t" "$img" "$ROOTFS_SIZE"
	# mkfs -d copies the builder's uid/gid; the guest's files belong to root.
	if [ "$(id -u)" -ne 0 ] || [ "$(id -g)" -ne 0 ]; then
		(cd "$t" && find . -mindepth 1 \( ! -uid 0 -o ! -gid 0 \) -printf '%P\n') |
			while IFS= read -r p; do
				printf 'sif "/%s" uid 0\nsif "/%s" gid 0\n' "$p" "$p"
			done >"$cmds"
		[ ! -s "$cmds" ] || debugfs -w -f "$cmds" "$img"
	fi
	e2fsck -fn "$img"
}

write_stamp() {
	{
		echo "vessel guest build"
		echo "key: $KEY"
		echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
		printf '%s\n' "${TIMES[@]}"
		echo "inputs:"
		sed 's/^/  /' "$KEY_INPUTS"
	} >"$OUT/stamp"
}

cleanup() {
	local rc=$?
	if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
		if [ -n "${FAILED_LOG:-}" ] && [ -d "$WORK/out" ]; then
			rm -rf "$DEST.failed"
			mkdir -p "$DEST.failed"
			cp "$WORK/out/"*.log "$DEST.failed/" 2>/dev/null || true
		fi
		rm -rf "$WORK"
	fi
	[ -z "${KEY_INPUTS:-}" ] || rm -f "$KEY_INPUTS"
	exit "$rc"
}

main() {
	trap cleanup EXIT
	check_tools
	mkdir -p "$CACHE_ROOT"
	BUSYBOX_DSC=$(busybox_dsc_line)
	KEY_INPUTS=$(mktemp)
	KEY=$(compute_key)
	DEST=$CACHE_ROOT/guest-${KEY:0:16}

	# One builder per key; a second caller waits, then finds the result.
	exec 9>"$DEST.lock"
	flock 9
	[ "$rebuild" -eq 0 ] || rm -rf "$DEST"
	if have_outputs "$DEST"; then
		log "up to date: $DEST"
		[ "$print_only" -eq 0 ] || printf '%s\n' "$DEST"
		return 0
	fi

	log "building into $DEST (logs go there too)"
	# Under the lock nobody else builds this key: leftovers are from builds
	# that were killed.
	rm -rf "$DEST.failed" "$DEST".work.*
	WORK=$(mktemp -d "$DEST.work.XXXXXX")
	OUT=$WORK/out
	mkdir -p "$OUT"
	TIMES=()
	local t0=$SECONDS
	step "kernel" "$OUT/kernel.log" kernel_build
	step "busybox" "$OUT/busybox.log" busybox_build
	step "tree" "$OUT/images.log" tree_assemble
	step "initramfs" "$OUT/images.log" initramfs_build
	step "rootfs" "$OUT/images.log" rootfs_build
	TIMES+=("total: $((SECONDS - t0)) s")
	write_stamp

	# The finished directory appears in one rename: readers never see a
	# partial guest.
	rm -rf "$DEST"
	mv -T "$OUT" "$DEST"
	log "done in $((SECONDS - t0)) s: $DEST"
	[ "$print_only" -eq 0 ] || printf '%s\n' "$DEST"
}

main
