#!/usr/bin/env python3
"""The default Linux guest drives the virtio devices: virtio-blk (read, write,
read-only disk), virtio-rng, virtio-net over user networking (DHCP, a download
from a host HTTP server, a host port forwarded to the guest's httpd)."""
import argparse
import hashlib
import http.server
import os
import socket
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "boot"))
from guest import Guest, guest_dir  # noqa: E402

PATTERN = b"VESSEL-VIRTIO-DISK0"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(directory):
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=directory, **k)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vm", required=True)
    a = ap.parse_args()
    d = guest_dir()
    tmp = tempfile.mkdtemp(prefix="vessel-virtio-boot-")
    disk, rodisk = os.path.join(tmp, "disk.raw"), os.path.join(tmp, "ro.raw")
    with open(disk, "wb") as f:
        f.write(PATTERN)
        f.truncate(32 << 20)
    with open(rodisk, "wb") as f:
        f.truncate(4 << 20)
    blob = os.urandom(2 << 20)
    with open(os.path.join(tmp, "b"), "wb") as f:
        f.write(blob)
    httpd = serve(tmp)
    fwd = free_port()
    g = Guest(a.vm, ["--cpus", "2", "--memory", "256", "--kernel", f"{d}/Image", "--initrd",
                     f"{d}/initramfs.cpio.gz", "--rng", "--disk", disk, "--disk",
                     rodisk + ",readonly", "--net", f"user,hostfwd=tcp:127.0.0.1:{fwd}-:80"],
              log_name="virtio")
    try:
        g.boot(180)
        assert "vessel-guest: eth0 10.0.2.15/24" in g.out, "no DHCP lease"
        # Commands stay short: the shell wraps long lines, which breaks the markers.
        # virtio-blk
        st, out = g.run("cat /sys/block/vd[ab]/size /sys/block/vdb/ro")
        assert out.split()[-3:] == ["65536", "8192", "1"], out
        st, out = g.run("head -c 19 /dev/vda; echo")
        assert out.splitlines()[-1] == PATTERN.decode(), out
        st, out = g.run("echo guest-wrote-this >/tmp/w")
        st, out = g.run("dd if=/tmp/w of=/dev/vda seek=8")
        assert st == 0, out
        st, out = g.run("sync")
        with open(disk, "rb") as f:
            f.seek(8 * 512)
            assert f.read(16) == b"guest-wrote-this"
        st, out = g.run("dd if=/tmp/w of=/dev/vdb; sync")
        st, out = g.run("head -c 16 /dev/vdb | od -An -c")
        with open(rodisk, "rb") as f:
            assert f.read(16) == bytes(16), "a read-only disk was written"
        # virtio-rng
        st, out = g.run("cat /sys/class/misc/hw_random/rng_current")
        assert out.splitlines()[-1] == "virtio_rng.0", out
        st, out = g.run("dd if=/dev/hwrng bs=32 count=4 2>/dev/null|wc -c")
        assert out.split()[-1] == "128", out
        # virtio-net: features Linux took (MAC 5, MRG_RXBUF 15, STATUS 16, VERSION_1 32)
        st, out = g.run("cat /sys/bus/virtio/devices/virtio3/features")
        bits = out.split()[-1]
        assert all(bits[i] == "1" for i in (5, 15, 16, 32)), out
        # a download through slirp's NAT to the host
        port = httpd.server_address[1]
        st, out = g.run(f"U=http://10.0.2.2:{port}/b")
        st, out = g.run("wget -qO- $U | sha256sum", 120)
        assert hashlib.sha256(blob).hexdigest() in out, out
        # and a host port forwarded to the guest
        st, out = g.run("httpd -p 80 -h /www")
        assert st == 0, out
        page = urllib.request.urlopen(f"http://127.0.0.1:{fwd}/", timeout=30).read()
        assert b"vessel-guest httpd ok" in page, page
        rc = g.poweroff()
        assert rc == 0, f"exit status {rc}"
    finally:
        g.kill()
        httpd.shutdown()
        for name in ("disk.raw", "ro.raw", "b"):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    print("\nPASS: virtio devices under Linux")


if __name__ == "__main__":
    sys.exit(main())
