"""Helpers for the snapshot tests: a VMM with the default guest, a counter in it."""
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "boot"))
from vmmapi import Api, Console, start_vmm  # noqa: E402,F401
from guest import guest_dir  # noqa: E402,F401

READY = "vessel-guest: userspace up"


def ok(res, what):
    st, body, _ = res
    assert st in (200, 204), f"{what}: HTTP {st} {body}"
    return body


def configure(api, d, disk, memory=256, nic=True, vcpus=2):
    ok(api.put("/machine-config", {"vcpus": vcpus, "memory_mib": memory}), "machine-config")
    ok(api.put("/boot-source", {"kernel": f"{d}/Image", "initrd": f"{d}/initramfs.cpio.gz"}),
       "boot-source")
    if disk:
        ok(api.put("/drives/disk0", {"path": disk}), "drive")
    if nic:
        ok(api.put("/network-interfaces/net0", {"backend": "user"}), "nic")
        ok(api.put("/rng", {"enabled": True}), "rng")


# The counter: prints C=<n> every 50 ms and writes <n> to sector 0 of /dev/vda
# before printing, synchronously (O_DIRECT-like through dd conv=fsync).
NODISK_COUNTER = ("(i=0; while true; do i=$((i+1)); "
                  "echo C=$i; sleep 0.05; done) & echo $! > /tmp/counter.pid")
COUNTER = ("(i=0; while true; do i=$((i+1)); "
           "echo \"$i\" | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; "
           "echo C=$i; sleep 0.05; done) & echo $! > /tmp/counter.pid")


def counters(text):
    return [int(x) for x in re.findall(r"C=(\d+)\r?\n", text)]


def assert_consecutive(vals, what):
    assert vals, f"{what}: no counter output"
    for a, b in zip(vals, vals[1:]):
        assert b == a + 1, f"{what}: counter jumped {a} -> {b} in {vals[:5]}..{vals[-5:]}"


def wait_counter(con, start, n, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        vals = counters(con.out[start:].decode(errors="replace"))
        if len(vals) >= n:
            return vals
        con.read_some(0.2)
    raise AssertionError(f"counter did not reach {n} lines: {con.out[-300:]!r}")


def free_port():
    """A TCP port on 127.0.0.1 free at the moment of asking."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def kill(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
