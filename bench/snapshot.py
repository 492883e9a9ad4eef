#!/usr/bin/env python3
"""Snapshots, restore, clones and live migration (issue 5; not a timed test).

Vessel, with the default guest (kernel + initramfs, 2 vCPUs):
  snapshot   time of PUT /snapshot/create on a 256 MiB guest at its shell, and
             the file's size on disk (zero pages are holes)
  restore    PUT /snapshot/load on a fresh VMM until the VM runs, for 256 MiB
             and 1 GiB guests (lazy mapping: independent of memory size)
  clones     10 VMMs restored one after another from one snapshot: total
             time, and host memory they add (Private in smaps_rollup: the
             shared snapshot pages are not counted)
  migrate    total time and downtime of an idle and of a busy 512 MiB guest
             over loopback (busy: a shell loop dirtying 64 MiB of tmpfs)
  migrate with a disk: a 256 MiB qcow2 image holding 64 MiB of random data
             (written on the host, so incompressible), the guest idle: on
             shared storage (handed over) and with --copy-storage to an
             empty image of the same size; total time, downtime, disk MiB sent;
             and --copy-storage while the guest rewrites 32 MiB of its disk
             in a loop (dirty chunks sent round after round, throttling)
QEMU (qemu-system-riscv64 virt, TCG, same guest, a qcow2 disk for savevm):
  savevm / loadvm through the HMP monitor (loadvm in the same process),
  migration of the idle guest to a -incoming QEMU (its own figures).

Usage: bench/snapshot.py [--vessel build/vessel] [--no-qemu] [--only migrate-disk]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "snapshot"))
from snaptest import (NODISK_COUNTER, READY, Api, Console, configure, guest_dir, kill,  # noqa: E402
                      free_port, ok, start_vmm)

BUSY = "(while true; do dd if=/dev/urandom of=/tmp/busy bs=1M count=64 2>/dev/null; done) &"



def private_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            txt = f.read()
    except OSError:
        return 0
    return sum(int(m) for m in re.findall(r"Private_(?:Clean|Dirty):\s+(\d+)", txt))


def vessel_boot(vessel, tmp, d, name, memory, disk=None):
    sock = os.path.join(tmp, name + ".sock")
    proc = start_vmm(vessel, sock, name)
    api = Api(sock, timeout=300)
    configure(api, d, disk, memory=memory)
    ok(api.action("start"), "start")
    con = Console(sock)
    con.wait_for(READY, 180)
    time.sleep(1)
    return proc, api, con, sock


def bench_snapshot_restore(vessel, tmp, d, res):
    for mem in (256, 1024):
        proc, api, con, _ = vessel_boot(vessel, tmp, d, f"s{mem}", mem)
        snap = os.path.join(tmp, f"snap{mem}")
        t0 = time.monotonic()
        ok(api.put("/snapshot/create", {"path": snap}), "snapshot")
        took = time.monotonic() - t0
        kill(proc)
        size = os.stat(snap).st_blocks * 512
        res[f"snapshot {mem} MiB: time (ms)"] = took * 1000
        res[f"snapshot {mem} MiB: size on disk (MiB)"] = size / 2**20
        times = []
        for i in range(5):
            sock = os.path.join(tmp, f"r{mem}-{i}.sock")
            p = start_vmm(vessel, sock, "r")
            a = Api(sock)
            configure(a, d, None, memory=mem)
            t0 = time.monotonic()
            ok(a.put("/snapshot/load", {"path": snap}), "load")
            times.append(time.monotonic() - t0)
            st, info, _ = a.get("/vm")
            assert info["state"] == "running"
            kill(p)
        res[f"restore {mem} MiB: to running (ms, median of 5)"] = sorted(times)[2] * 1000
    return os.path.join(tmp, "snap256")


def bench_clones(vessel, tmp, d, snap, res, n=10):
    procs = []
    socks = []
    for i in range(n):
        sock = os.path.join(tmp, f"c{i}.sock")
        procs.append(start_vmm(vessel, sock, f"c{i}"))
        a = Api(sock)
        configure(a, d, None, memory=256)
        socks.append(a)
    t0 = time.monotonic()
    for a in socks:
        ok(a.put("/snapshot/load", {"path": snap}), "load")
    took = time.monotonic() - t0
    time.sleep(3)
    priv = sum(private_kib(p.pid) for p in procs)
    for p in procs:
        kill(p)
    res[f"clones: {n} restored (ms; VMMs already spawned)"] = took * 1000
    res[f"clones: host memory private to the {n} after 3 s (MiB)"] = priv / 1024


def bench_migrate(vessel, tmp, d, res):
    for busy in (False, True):
        what = "busy" if busy else "idle"
        src, api, con, _ = vessel_boot(vessel, tmp, d, f"m{what}", 512)
        if busy:
            con.send(BUSY + "\n")
            time.sleep(2)
        port = free_port()
        dsock = os.path.join(tmp, f"md{what}.sock")
        dst = start_vmm(vessel, dsock, "md")
        dapi = Api(dsock, timeout=300)
        configure(dapi, d, None, memory=512)
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", dapi.put("/migrate/incoming", {"listen": f"tcp:127.0.0.1:{port}"})))
        t.start()
        time.sleep(0.3)
        st, stats, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}"})
        t.join(60)
        assert st == 200, (st, stats)
        res[f"migrate 512 MiB {what}: total (ms)"] = stats["total_ms"]
        res[f"migrate 512 MiB {what}: downtime (ms)"] = stats["downtime_us"] / 1000
        res[f"migrate 512 MiB {what}: rounds / MiB sent / max throttle ms"] = (
            f"{stats['rounds']} / {stats['bytes'] / 2**20:.0f} / {stats['throttle_ms']}")
        kill(src)
        kill(dst)


def disk_with_data(tmp, name, size_mib=256, data_mib=64):
    """A qcow2 image of size_mib with data_mib of random data from 16 MiB on."""
    raw = os.path.join(tmp, name + ".raw")
    with open(raw, "wb") as f:
        f.truncate(size_mib << 20)
        f.seek(16 << 20)
        for _ in range(data_mib):
            f.write(os.urandom(1 << 20))
    img = os.path.join(tmp, name + ".qcow2")
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, img], check=True)
    os.unlink(raw)
    os.sync()  # as durable as a guest's flushed writes would be
    return img


BUSY_DISK = ("(while true; do dd if=/dev/urandom of=/dev/vda bs=1M count=32 seek=160 "
             "conv=fsync 2>/dev/null; done) &")


def bench_migrate_disk(vessel, tmp, d, res):
    for copy, busy in ((False, False), (True, False), (True, True)):
        what = ("--copy-storage" if copy else "shared storage") + (", disk busy" if busy else "")
        img = disk_with_data(tmp, "md-src")
        src, api, con, _ = vessel_boot(vessel, tmp, d, "mds", 512, disk=img)
        if busy:
            con.send(BUSY_DISK + "\n")
            time.sleep(3)
        if copy:
            dimg = os.path.join(tmp, "md-dst.qcow2")
            subprocess.run([vessel, "disk", "create", dimg, "256M"], check=True,
                           stdout=subprocess.DEVNULL)
        else:
            dimg = img
        port = free_port()
        dsock = os.path.join(tmp, "mdd.sock")
        dst = start_vmm(vessel, dsock, "mdd")
        dapi = Api(dsock, timeout=300)
        configure(dapi, d, dimg, memory=512)
        body = {"listen": f"tcp:127.0.0.1:{port}", "copy_storage": copy}
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", dapi.put("/migrate/incoming", body)))
        t.start()
        time.sleep(0.3)
        st, stats, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}", "copy_storage": copy})
        t.join(120)
        assert st == 200, (st, stats)
        assert out["r"][0] == 204, out
        key = f"migrate 512 MiB + 256 MiB qcow2 (64 MiB data), {what}"
        res[f"{key}: total (ms)"] = stats["total_ms"]
        res[f"{key}: downtime (ms)"] = stats["downtime_us"] / 1000
        res[f"{key}: rounds / MiB sent / disk MiB sent / max throttle ms"] = (
            f"{stats['rounds']} / {stats['bytes'] / 2**20:.0f} / "
            f"{stats['disk_bytes'] / 2**20:.0f} / {stats['throttle_ms']}")
        kill(src)
        kill(dst)
        if copy and not busy:  # a busy guest writes on at the destination
            r = subprocess.run(["qemu-img", "compare", img, dimg], capture_output=True,
                               text=True)
            res[f"{key}: qemu-img compare"] = r.stdout.strip() or r.stderr.strip()
        if copy:
            os.unlink(dimg)
        os.unlink(img)


class Qemu:
    def __init__(self, d, tmp, name, memory, disk, incoming=None):
        self.mon = os.path.join(tmp, name + ".mon")
        argv = ["qemu-system-riscv64", "-M", "virt", "-smp", "2", "-m", str(memory),
                "-nographic", "-kernel", f"{d}/Image", "-initrd", f"{d}/initramfs.cpio.gz",
                "-append", "console=ttyS0", "-drive", f"file={disk},if=virtio,format=qcow2",
                "-monitor", f"unix:{self.mon},server,nowait", "-serial",
                f"file:{os.path.join(tmp, name + '.con')}"]
        if incoming:
            argv += ["-incoming", incoming]
        self.con = os.path.join(tmp, name + ".con")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.mon) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(self.mon)
        self.read_prompt()

    def read_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            b = self.s.recv(65536)
            if not b:
                break
            buf += b
        return buf.decode(errors="replace")

    def hmp(self, cmd):
        self.s.sendall(cmd.encode() + b"\n")
        return self.read_prompt()

    def wait_console(self, text, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in open(self.con, errors="replace").read():
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"qemu: no {text!r}")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def bench_qemu(tmp, d, res):
    disk = os.path.join(tmp, "q.qcow2")
    subprocess.run(["qemu-img", "create", "-f", "qcow2", disk, "16M"], check=True,
                   stdout=subprocess.DEVNULL)
    q = Qemu(d, tmp, "q", 256, disk)
    q.wait_console(READY)
    time.sleep(1)
    t0 = time.monotonic()
    q.hmp("savevm s1")
    res["qemu savevm 256 MiB (ms)"] = (time.monotonic() - t0) * 1000
    res["qemu savevm 256 MiB: qcow2 size (MiB)"] = os.stat(disk).st_blocks * 512 / 2**20
    t0 = time.monotonic()
    q.hmp("loadvm s1")
    res["qemu loadvm 256 MiB, same process (ms)"] = (time.monotonic() - t0) * 1000
    q.stop()
    # Idle only: this script does not drive a workload in QEMU's guest.
    for busy in (False,):
        what = "idle"
        disk = os.path.join(tmp, f"qm{what}.qcow2")
        subprocess.run(["qemu-img", "create", "-f", "qcow2", disk, "16M"], check=True,
                       stdout=subprocess.DEVNULL)
        src = Qemu(d, tmp, f"qs{what}", 512, disk)
        src.wait_console(READY)
        port = free_port()
        dst = Qemu(d, tmp, f"qd{what}", 512, disk, incoming=f"tcp:127.0.0.1:{port}")
        src.hmp("migrate_set_capability events on")
        t0 = time.monotonic()
        src.hmp(f"migrate -d tcp:127.0.0.1:{port}")
        info = ""
        while time.monotonic() - t0 < 120:
            info = src.hmp("info migrate")
            if "Migration status: completed" in info or "failed" in info:
                break
            time.sleep(0.05)
        m_total = re.search(r"total time: (\d+) ms", info)
        m_down = re.search(r"downtime: (\d+) ms", info)
        res[f"qemu migrate 512 MiB {what}: total (ms)"] = int(m_total.group(1)) if m_total else info[-200:]
        res[f"qemu migrate 512 MiB {what}: downtime (ms)"] = int(m_down.group(1)) if m_down else "?"
        src.stop()
        dst.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default=os.path.join(TOP, "build", "vessel"))
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--only", choices=["migrate-disk"])
    args = ap.parse_args()
    d = guest_dir()
    tmp = tempfile.mkdtemp(prefix="vessel-bench-snap-")
    res = {}
    try:
        if args.only == "migrate-disk":
            bench_migrate_disk(args.vessel, tmp, d, res)
            return
        snap = bench_snapshot_restore(args.vessel, tmp, d, res)
        bench_clones(args.vessel, tmp, d, snap, res)
        bench_migrate(args.vessel, tmp, d, res)
        bench_migrate_disk(args.vessel, tmp, d, res)
        if not args.no_qemu and shutil.which("qemu-system-riscv64"):
            try:
                bench_qemu(tmp, d, res)
            except Exception as e:  # report what ran
                res["qemu"] = f"failed: {e}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for k, v in res.items():
            print(f"{k:60s} {v:.1f}" if isinstance(v, float) else f"{k:60s} {v}")


if __name__ == "__main__":
    main()
