#!/usr/bin/env python3
"""Snapshot and restore end to end with the default guest (suite 'e2e').

A guest runs a counter that writes each value to sector 0 of its disk and
then prints it.  The VM is snapshotted through the API and restored in a new
VMM process on a copy-on-write overlay of the snapshot's disk: the console
output of the source up to the snapshot followed by the restored VM's output
is one run of consecutive values (no gap, no repeat), the disk holds the
counter, the network interface keeps its DHCP address.  Then bad snapshots
(truncated, corrupt, wrong version, other machine config) are refused with a
clear error and the VM stays unstarted.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snaptest import (COUNTER, READY, Api, Console, assert_consecutive, configure,  # noqa: E402
                      counters, guest_dir, kill, ok, start_vmm, wait_counter)


def console_text(api):
    st, data, _ = api.raw("GET", "/console")
    assert st == 200
    return data.decode(errors="replace")


def boot_source(vessel, tmp, d, disk):
    sock = os.path.join(tmp, "src.sock")
    proc = start_vmm(vessel, sock, "src")
    api = Api(sock)
    configure(api, d, disk)
    ok(api.action("start"), "start")
    con = Console(sock)
    con.wait_for(READY, 120)
    time.sleep(0.5)
    con.send(COUNTER + "\n")
    wait_counter(con, 0, 20)
    return proc, api, con


def snapshot_source(api, path):
    # Paused first, so that everything the guest printed is in the console log.
    ok(api.action("pause"), "pause")
    time.sleep(0.3)
    before = console_text(api)
    t0 = time.monotonic()
    res = ok(api.put("/snapshot/create", {"path": path}), "snapshot/create")
    took = time.monotonic() - t0
    assert os.path.getsize(path) > 0 and res["bytes"] > 0, res
    # The source goes on untouched.
    ok(api.action("resume"), "resume")
    return before, took


def restore(vessel, tmp, d, snap, overlay):
    subprocess.run([vessel, "disk", "create", overlay, "--backing", snap + ".disk-disk0"],
                   check=True, stdout=subprocess.DEVNULL)
    sock = os.path.join(tmp, "dst.sock")
    proc = start_vmm(vessel, sock, "dst")
    api = Api(sock)
    configure(api, d, overlay)
    con = Console(sock)
    t0 = time.monotonic()
    ok(api.put("/snapshot/load", {"path": snap}), "snapshot/load")
    took = time.monotonic() - t0
    st, info, _ = api.get("/vm")
    assert info["state"] == "running", info
    return proc, api, con, took


def check_continuation(before, con):
    vals = wait_counter(con, 0, 20)
    # The line being printed at the pause may be split between the two consoles.
    joined = before + con.out.decode(errors="replace")
    seq = counters(joined)
    assert_consecutive(seq, "source then restored console")
    src = counters(before)
    assert vals[-1] > src[-1] + 10, "the restored counter does not run"
    return src[-1]


def check_guest_after(con):
    # Stop the counter, then its disk sector holds the last value printed (or the next).
    st, out = con.run("kill $(cat /tmp/counter.pid); sleep 0.3; echo disk=$(head -c 12 /dev/vda)")
    assert st == 0, out
    printed = counters(con.out.decode(errors="replace"))[-1]
    on_disk = int(out.split("disk=")[1].split()[0])
    assert on_disk in (printed, printed + 1), f"disk {on_disk}, printed {printed}"
    st, out = con.run("ip addr show eth0")
    assert st == 0 and "10.0.2.15" in out, f"network not up after restore: {out}"
    return on_disk


def corrupt_copies(snap, tmp):
    data = open(snap, "rb").read()
    out = {}
    p = os.path.join(tmp, "truncated")
    open(p, "wb").write(data[:len(data) // 2])
    out["truncated"] = (p, "truncated")
    p = os.path.join(tmp, "flipped")
    b = bytearray(data)
    b[100] ^= 0x40  # inside the first section's payload or header
    open(p, "wb").write(b)
    out["corrupt"] = (p, "corrupt")
    p = os.path.join(tmp, "version")
    b = bytearray(data[:32])
    b[8:12] = struct.pack("<I", 99)
    b[28:32] = b"\0\0\0\0"
    b[28:32] = struct.pack("<I", zlib.crc32(bytes(b)))
    open(p, "wb").write(bytes(b) + data[32:])
    out["version"] = (p, "version 99")
    p = os.path.join(tmp, "garbage")
    open(p, "wb").write(os.urandom(100000))
    out["garbage"] = (p, "not a Vessel snapshot")
    return out


def refused_load(vessel, tmp, d, snap, what, path, expect, **kw):
    """A fresh VMM configured from the snapshot's disk (with configure()'s kw) refuses to
    load 'path' with 400 naming 'expect', and stays configuring."""
    sock = os.path.join(tmp, f"bad-{what}.sock")
    proc = start_vmm(vessel, sock, "bad")
    api = Api(sock)
    configure(api, d, snap + ".disk-disk0", **kw)
    st, body, _ = api.put("/snapshot/load", {"path": path})
    assert st == 400 and expect in body["error"], f"{what}: {st} {body}"
    st, info, _ = api.get("/vm")
    assert info["state"] == "configuring", f"{what}: {info}"
    kill(proc)
    return body["error"]


def check_bad(vessel, tmp, d, snap):
    for what, (path, expect) in corrupt_copies(snap, tmp).items():
        error = refused_load(vessel, tmp, d, snap, what, path, expect)
        print(f"bad snapshot ({what}): {error}")
    # Another machine config: less memory, and no network interface.
    for what, kw, expect in (("memory", {"memory": 128}, "memory"),
                             ("devices", {"nic": False}, "other devices")):
        error = refused_load(vessel, tmp, d, snap, f"cfg-{what}", snap, expect, **kw)
        print(f"other machine ({what}): {error}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    args = ap.parse_args()
    d = guest_dir()
    tmp = tempfile.mkdtemp(prefix="vessel-snap-")
    procs = []
    try:
        disk = os.path.join(tmp, "disk.qcow2")
        subprocess.run([args.vessel, "disk", "create", disk, "16M"], check=True,
                       stdout=subprocess.DEVNULL)
        src, api, con = boot_source(args.vessel, tmp, d, disk)
        procs.append(src)
        snap = os.path.join(tmp, "snap")
        before, took = snapshot_source(api, snap)
        print(f"snapshot: {took * 1000:.0f} ms, {os.path.getsize(snap) >> 20} MiB apparent")
        # The source keeps counting after the snapshot.
        n = len(con.out)
        wait_counter(con, n, 5)
        kill(src)
        dst, api2, con2, took = restore(args.vessel, tmp, d, snap, os.path.join(tmp, "ov.qcow2"))
        procs.append(dst)
        print(f"restore: {took * 1000:.1f} ms to a running VM")
        last = check_continuation(before, con2)
        print(f"restored counter continues after {last}")
        # A snapshot of the restored VM (memory mapped from the first file, disk an
        # overlay on the first snapshot's disk) restores again: a chain of snapshots.
        snap2 = os.path.join(tmp, "snap2")
        before2, _ = snapshot_source(api2, snap2)
        kill(dst)
        os.rename(os.path.join(tmp, "dst.sock"), os.path.join(tmp, "dst-old.sock"))
        dst2, api3, con3, _ = restore(args.vessel, tmp, d, snap2, os.path.join(tmp, "ov2.qcow2"))
        procs.append(dst2)
        last = check_continuation(before2, con3)
        print(f"second generation continues after {last}")
        check_guest_after(con3)
        kill(dst2)
        check_bad(args.vessel, tmp, d, snap)
    finally:
        for p in procs:
            kill(p)
        shutil.rmtree(tmp, ignore_errors=True)
    print("snapshot-restore: ok")


if __name__ == "__main__":
    main()
