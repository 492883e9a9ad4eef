#!/usr/bin/env python3
"""Linux boots to the busybox shell, runs a command, and powers off cleanly."""
import argparse
import sys

from guest import Guest, guest_dir


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--cpus", type=int, default=1)
    a = ap.parse_args()
    d = guest_dir()
    g = Guest(a.vessel, ["--cpus", str(a.cpus), "--memory", "256M", "--kernel", f"{d}/Image",
                         "--initrd", f"{d}/initramfs.cpio.gz"])
    try:
        g.boot(120)
        st, out = g.run("echo hi-$((6*7))")
        assert st == 0 and out.splitlines()[-1] == "hi-42", out
        st, out = g.run("grep -c ^processor /proc/cpuinfo")
        assert st == 0 and out.splitlines()[-1] == str(a.cpus), out
        # Some real work: the checksum of a known 1 MiB stream.
        st, out = g.run("dd if=/dev/zero bs=1024 count=1024 2>/dev/null | sha256sum")
        assert "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58" in out, out
        if a.cpus > 1:
            # Work on every hart at once: two background jobs, both must finish.
            st, out = g.run("(dd if=/dev/zero bs=1024 count=2048 2>/dev/null | md5sum > /tmp/a &"
                            " dd if=/dev/zero bs=1024 count=2048 2>/dev/null | md5sum > /tmp/b;"
                            " wait); cat /tmp/a /tmp/b")
            assert out.count("b2d1236c286a3c0704224fe4105eca49") == 2, out
        rc = g.poweroff()
        assert rc == 0, f"exit status {rc}, expected 0 for power-off"
    finally:
        g.kill()
    print(f"\nPASS: Linux boot with {a.cpus} hart(s)")


if __name__ == "__main__":
    sys.exit(main())
