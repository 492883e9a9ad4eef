#!/usr/bin/env python3
"""Disks end to end, through the real `vessel run` and `vessel disk`:

- a qcow2 overlay (made by `vessel disk create --backing`) over the default
  guest's ext4 root: files written by the guest survive a power-off and a new
  boot; the base image is left untouched; `qemu-img check` finds no errors;
- an image made by `qemu-img create -f qcow2` works as a data disk, and what
  the guest wrote there matches (qemu-img compare) what was expected; an
  overlay made by `qemu-img create -b` boots as the root disk;
- a read-only disk refuses writes; virtio-rng gives bytes.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "boot"))
from guest import Guest, guest_dir  # noqa: E402


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def boot(vessel, d, disks, extra=()):
    args = ["--memory", "256M", "--kernel", f"{d}/Image",
            "--append", "console=ttyS0 root=/dev/vda rw"]
    for disk in disks:
        args += ["--disk", disk]
    g = Guest(vessel, args + list(extra))
    g.boot(120)
    return g


def must(g, cmd):
    st, out = g.run(cmd)
    assert st == 0, f"{cmd!r} failed ({st}): {out}"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    a = ap.parse_args()
    d = guest_dir()
    base = f"{d}/rootfs.ext4"
    base_sum = sha256(base)
    with tempfile.TemporaryDirectory() as tmp:
        overlay = os.path.join(tmp, "root.qcow2")
        data = os.path.join(tmp, "data.qcow2")
        ro = os.path.join(tmp, "ro.raw")
        subprocess.run([a.vessel, "disk", "create", overlay, "--backing", base], check=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", data, "8M"], check=True)
        with open(ro, "wb") as f:
            f.write(b"read-only-disk!\n" * 4096)

        # First boot: write to the root fs and to the qemu-made data disk.
        g = boot(a.vessel, d, [overlay, f"{data},format=qcow2", f"{ro},format=raw,readonly"],
                 ["--rng"])
        try:
            must(g, "echo persisted-$((6*7)) > /root/note && mkdir -p /root/dir && "
                    "dd if=/dev/zero bs=1024 count=512 2>/dev/null | tr '\\0' 'v' > /root/dir/big && sync")
            # 1 MiB pattern at offset 1 MiB of the data disk, then flush.
            must(g, "dd if=/dev/zero bs=1024 count=1024 2>/dev/null | tr '\\0' 'Q' | "
                    "dd of=/dev/vdb bs=65536 seek=16 conv=fsync 2>/dev/null")
            st, out = g.run("echo x | dd of=/dev/vdc conv=fsync 2>&1")
            assert st != 0, f"write to a read-only disk succeeded: {out}"
            out = must(g, "head -c 16 /dev/vdc")
            assert "read-only-disk!" in out, out
            out = must(g, "dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | wc -w")
            assert out.split()[-1] == "32", out
            assert g.poweroff() == 0
        finally:
            g.kill()

        # The images are consistent for QEMU's tools, and the base is untouched.
        for img in (overlay, data):
            subprocess.run(["qemu-img", "check", "-q", img], check=True)
        expect = os.path.join(tmp, "expect.raw")
        with open(expect, "wb") as f:
            f.truncate(8 << 20)
            f.seek(1 << 20)
            f.write(b"Q" * (1 << 20))
        subprocess.run(["qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", expect, data],
                       check=True)
        assert sha256(base) == base_sum, "the base image changed under its overlay"
        info = subprocess.run([a.vessel, "disk", "info", overlay], check=True,
                              stdout=subprocess.PIPE, text=True).stdout
        assert "backing file" in info and base in info, info

        # Second boot: the files are still there.
        g = boot(a.vessel, d, [overlay])
        try:
            out = must(g, "cat /root/note; wc -c < /root/dir/big")
            assert "persisted-42" in out and "524288" in out, out
            assert g.poweroff() == 0
        finally:
            g.kill()
        # An overlay made by QEMU's tools boots as the root disk, and Vessel's writes
        # to it keep it consistent for qemu-img.
        qoverlay = os.path.join(tmp, "qemu-root.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
                        qoverlay], check=True)
        g = boot(a.vessel, d, [qoverlay])
        try:
            out = must(g, "echo from-qemu-overlay > /root/q && sync && cat /root/q")
            assert "from-qemu-overlay" in out, out
            assert g.poweroff() == 0
        finally:
            g.kill()
        subprocess.run(["qemu-img", "check", "-q", qoverlay], check=True)
        assert sha256(base) == base_sum, "the base image changed under QEMU's overlay"
    print("\nPASS: disks")


if __name__ == "__main__":
    sys.exit(main())
