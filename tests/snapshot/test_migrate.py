#!/usr/bin/env python3
"""Live migration between two VMM processes on this host.

Without --live (suite 'e2e'), migrations that fail: a 'destination' that
speaks garbage and a destination killed in the middle of the transfer (the
source reports an error and keeps running, untouched); a destination killed
while the disks are being copied (--copy-storage: the source runs on, its
image is consistent and holds what the guest wrote) and a source killed
then (the destination refuses and stays unstarted, its partly written image
a consistent qcow2); a destination that
fails after the source handed its disk over (shared storage: the source
takes it back and runs on) and one that holds the image by then (the source
stops rather than run a second copy); destinations fed garbage, a truncated stream and hostile disk messages (offsets past the
disk, bad lengths, unknown disks, disks of another size, disk data without
its header, a mode mismatch): refused, nothing written, the VM unstarted.

With --live (in e2e, and alone as suite 'migrate-live'), real migrations of
the counting guest while it runs, each with "verify" (the destination checks
every guest page against the source's before it runs the guest): the
source's console output up to the switch followed by the destination's is
one run of consecutive values, the source process ends, the network is up at
the destination:
  nodisk   no disk;
  shared   its disk on shared storage (both name the same qcow2 image): the
           counter writes the disk throughout, and the disk holds the last
           value at the destination, read from the image on the host too;
  copy     --copy-storage to images of the destination's own, while the
           guest writes: the data disk compares equal to the source's
           (qemu-img compare), qemu-img check finds both images clean, what
           the guest wrote during the migration is on the destination's disk.
"""
import argparse
import fcntl
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snaptest import (COUNTER, NODISK_COUNTER, READY, Api, Console, free_port,  # noqa: E402
                      assert_consecutive, configure, counters, guest_dir, kill, ok,
                      start_vmm, wait_counter)

MIB = 1 << 20



def make_disk(vessel, path, size="32M"):
    subprocess.run([vessel, "disk", "create", path, size], check=True, stdout=subprocess.DEVNULL)
    return path


def configure_disks(api, d, disks, vcpus=2):
    configure(api, d, disks[0] if disks else None, vcpus=vcpus)
    for i, p in enumerate(disks[1:], 1):
        ok(api.put(f"/drives/disk{i}", {"path": p}), f"drive {i}")


def source(vessel, tmp, d, disks, counter=None, name="src"):
    sock = os.path.join(tmp, f"{name}.sock")
    proc = start_vmm(vessel, sock, name)
    api = Api(sock, timeout=120)
    configure_disks(api, d, disks)
    ok(api.action("start"), "start")
    con = Console(sock)
    con.wait_for(READY, 120)
    time.sleep(0.5)
    con.send((counter or (COUNTER if disks else NODISK_COUNTER)) + "\n")
    wait_counter(con, 0, 20)
    return proc, api, con


def destination(vessel, tmp, d, disks, name, port, copy=False):
    sock = os.path.join(tmp, f"{name}.sock")
    proc = start_vmm(vessel, sock, name)
    api = Api(sock, timeout=120)
    configure_disks(api, d, disks)
    result = {}
    body = {"listen": f"tcp:127.0.0.1:{port}"}
    if copy:
        body["copy_storage"] = True

    def incoming():
        try:
            result["res"] = api.put("/migrate/incoming", body)
        except OSError as e:  # a destination killed on purpose
            result["res"] = (0, str(e), None)

    t = threading.Thread(target=incoming, daemon=True)
    t.start()
    time.sleep(0.3)
    return proc, api, sock, t, result


def still_running(api, con, what):
    st, info, _ = api.get("/vm")
    assert info["state"] == "running", f"{what}: source is {info}"
    n = len(con.out)
    v = wait_counter(con, n, 10)
    assert_consecutive(counters(con.out.decode(errors="replace")), f"{what}: source console")
    return v


def qemu_img(*args):
    return subprocess.run(["qemu-img", *args], capture_output=True, text=True)


def image_bytes(path, off, n, tmp):
    """Bytes of a disk image as the guest sees them (qemu-img converts it to raw)."""
    raw = os.path.join(tmp, "view.raw")
    r = qemu_img("convert", "-O", "raw", path, raw)
    assert r.returncode == 0, r.stderr
    with open(raw, "rb") as f:
        f.seek(off)
        data = f.read(n)
    os.unlink(raw)
    return data


def stop_vmm(api, proc):
    """A clean stop: the VMM closes its images (metadata written) and ends."""
    api.action("stop")
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        kill(proc)


def kill_once_written(image, blocks, proc):
    """Kill proc (in a thread) once image holds more than 'blocks' 512-byte blocks."""
    def cut():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and os.stat(image).st_blocks <= blocks:
            time.sleep(0.002)
        proc.kill()

    threading.Thread(target=cut, daemon=True).start()


def guest_md5(con, dev, skip, count):
    """md5 of 'count' 64 KiB blocks of 'dev' from block 'skip', read past the page cache."""
    st, out = con.run(f"sync; echo 3 > /proc/sys/vm/drop_caches; "
                      f"dd if={dev} bs=65536 skip={skip} count={count} 2>/dev/null | md5sum")
    assert st == 0, out
    return md5_of(out)


def md5_of(out):
    """The first md5 in a command's output (the counter's lines may be mixed in)."""
    m = re.search(r"\b([0-9a-f]{32})\b", out)
    assert m, out
    return m.group(1)


def switch_over(api, dapi, dcon, con, src, t, result, body):
    """Migrate and check the counter runs on at the destination without a gap.

    With "verify" the destination compares a digest of every guest page with
    the source's before it runs the guest: a page lost on the way fails the
    migration here rather than as a guest that breaks later."""
    body = dict(body, verify=True)
    st, stats, _ = api.put("/migrate", body)
    assert st == 200, (st, stats)
    assert stats["verified_pages"] > 0, stats
    t.join(60)
    assert result["res"][0] == 204, result
    print(f"migration: {stats}")
    # The source ends; its last output and the destination's continue each other.
    src.wait(10)
    try:
        while con.read_some(0.2):
            pass
    except AssertionError:
        pass  # the console closed with the source
    before = con.out.decode(errors="replace")
    vals = wait_counter(dcon, 0, 30)
    seq = counters(before + dcon.out.decode(errors="replace"))
    assert_consecutive(seq, "source then destination")
    assert vals[-1] > counters(before)[-1] + 10
    st, info, _ = dapi.get("/vm")
    assert info["state"] == "running", info
    st, out = dcon.run("ip addr show eth0")
    assert st == 0 and "10.0.2.15" in out, out
    print(f"migrated: counter continues after {counters(before)[-1]}")
    return stats


def stop_counter(dcon):
    """Stop the counter; sector 0 of /dev/vda holds the last value printed (or the next)."""
    st, out = dcon.run("kill $(cat /tmp/counter.pid); sleep 0.3; sync; "
                       "echo 3 > /proc/sys/vm/drop_caches; echo disk=$(head -c 12 /dev/vda)")
    assert st == 0, out
    printed = counters(dcon.out.decode(errors="replace"))[-1]
    on_disk = int(out.split("disk=")[1].split()[0])
    assert on_disk in (printed, printed + 1), f"disk {on_disk}, printed {printed}"
    return on_disk


def migrate_nodisk(args, tmp, d, procs):
    src, api, con = source(args.vessel, tmp, d, [], name="src-nodisk")
    procs.append(src)
    port = free_port()
    dproc, dapi, dsock, t, result = destination(args.vessel, tmp, d, [], "dst-nodisk", port)
    procs.append(dproc)
    dcon = Console(dsock)
    switch_over(api, dapi, dcon, con, src, t, result, {"to": f"tcp:127.0.0.1:{port}"})
    kill(dproc)
    print("migrate: ok (live, no disk)")


def migrate_shared(args, tmp, d, procs):
    disk = make_disk(args.vessel, os.path.join(tmp, "shared.qcow2"), "16M")
    src, api, con = source(args.vessel, tmp, d, [disk], name="src-shared")
    procs.append(src)
    port = free_port()
    # The same image: the source holds it open for writing (its lock), the destination
    # takes it over when the source hands it over.
    dproc, dapi, dsock, t, result = destination(args.vessel, tmp, d, [disk], "dst-shared", port)
    procs.append(dproc)
    dcon = Console(dsock)
    switch_over(api, dapi, dcon, con, src, t, result, {"to": f"tcp:127.0.0.1:{port}"})
    last = stop_counter(dcon)
    stop_vmm(dapi, dproc)
    r = qemu_img("check", disk)
    assert r.returncode == 0 and "No errors" in r.stdout, r.stdout + r.stderr
    host = image_bytes(disk, 0, 12, tmp).split(b"\n")[0]
    assert int(host) == last, (host, last)
    print(f"shared storage: the image holds {last}, qemu-img check clean")
    print("migrate: ok (live, shared storage)")


def migrate_copy(args, tmp, d, procs):
    a0 = make_disk(args.vessel, os.path.join(tmp, "a0.qcow2"))
    a1 = make_disk(args.vessel, os.path.join(tmp, "a1.qcow2"))
    b0 = make_disk(args.vessel, os.path.join(tmp, "b0.qcow2"))
    b1 = make_disk(args.vessel, os.path.join(tmp, "b1.qcow2"))
    src, api, con = source(args.vessel, tmp, d, [a0, a1], name="src-copy")
    procs.append(src)
    # The data disk: 4 MiB at 1 MiB, written before; 2 MiB for the counter's disk,
    # written while the migration runs.
    st, out = con.run("dd if=/dev/urandom of=/tmp/d1 bs=65536 count=64 2>/dev/null; "
                      "dd if=/dev/urandom of=/tmp/d2 bs=65536 count=32 2>/dev/null; "
                      "dd if=/tmp/d1 of=/dev/vdb bs=65536 seek=16 conv=fsync 2>/dev/null; "
                      "md5sum /tmp/d1 /tmp/d2")
    assert st == 0, out
    sums = [md5_of(ln) for ln in out.splitlines() if "/tmp/d" in ln]
    assert len(sums) == 2, out
    port = free_port()
    dproc, dapi, dsock, t, result = destination(args.vessel, tmp, d, [b0, b1], "dst-copy", port,
                                                copy=True)
    procs.append(dproc)
    dcon = Console(dsock)
    con.send("(dd if=/tmp/d2 of=/dev/vda bs=65536 seek=100 conv=fsync 2>/dev/null; "
             "echo W=done) &\n")
    stats = switch_over(api, dapi, dcon, con, src, t, result,
                        {"to": f"tcp:127.0.0.1:{port}", "copy_storage": True})
    assert stats["disk_chunks"] >= 2 * 512, stats  # every chunk of both disks once at least
    deadline = time.monotonic() + 60
    while b"W=done" not in con.out + dcon.out:
        assert time.monotonic() < deadline, "the writer did not finish"
        dcon.read_some(0.5)
    last = stop_counter(dcon)
    assert guest_md5(dcon, "/dev/vdb", 16, 64) == sums[0], "data disk differs at the destination"
    assert guest_md5(dcon, "/dev/vda", 100, 32) == sums[1], "what the guest wrote meanwhile"
    stop_vmm(dapi, dproc)
    for img in (a0, a1, b0, b1):
        r = qemu_img("check", img)
        assert r.returncode == 0 and "No errors" in r.stdout, img + r.stdout + r.stderr
    r = qemu_img("compare", a1, b1)
    assert r.returncode == 0, f"qemu-img compare: {r.stdout} {r.stderr}"
    host = image_bytes(b0, 0, 12, tmp).split(b"\n")[0]
    assert int(host) == last, (host, last)
    print(f"copy storage: {stats['disk_chunks']} chunks, {stats['disk_bytes'] >> 10} KiB; "
          f"images identical and clean, the counter's disk holds {last}")
    print("migrate: ok (live, --copy-storage)")


def listening(port):
    """Whether something listens on 127.0.0.1:port (without connecting: the destination
    takes the first connection as its source)."""
    want = f":{port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[1].endswith(want) and parts[3] == "0A":
                return True
    return False


def migrate_cli(args, tmp, d, procs):
    """Two hosts' worth of managed VMs (two state directories), the CLI alone:
    vessel receive on one, vessel migrate on the other, --copy-storage."""
    host_a, host_b = os.path.join(tmp, "host-a"), os.path.join(tmp, "host-b")
    a = make_disk(args.vessel, os.path.join(tmp, "cli-a.qcow2"))
    b = make_disk(args.vessel, os.path.join(tmp, "cli-b.qcow2"))
    flags = ["--kernel", f"{d}/Image", "--initrd", f"{d}/initramfs.cpio.gz", "--memory", "256M",
             "--cpus", "2", "--net", "user", "--rng"]

    def cli(state, *argv, check=True, timeout=120):
        p = subprocess.run([args.vessel, *argv], env=dict(os.environ, VESSEL_STATE_DIR=state),
                           capture_output=True, text=True, timeout=timeout)
        assert not check or p.returncode == 0, f"vessel {argv}: {p.returncode} {p.stderr}"
        return p

    cli(host_a, "create", "vm", *flags, "--disk", a)
    cli(host_a, "start", "vm")
    sock = os.path.join(host_a, "vm", "api.sock")
    con = Console(sock)
    con.wait_for(READY, 120)
    time.sleep(0.5)
    con.send(COUNTER + "\n")
    wait_counter(con, 0, 20)
    port = free_port()
    recv = subprocess.Popen([args.vessel, "receive", "vm", "--listen", f"tcp:127.0.0.1:{port}",
                             "--copy-storage", *flags, "--disk", b],
                            env=dict(os.environ, VESSEL_STATE_DIR=host_b),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(recv)
    deadline = time.monotonic() + 30
    while not listening(port):
        assert recv.poll() is None, recv.communicate()
        assert time.monotonic() < deadline, "vessel receive does not listen"
        time.sleep(0.05)
    out = cli(host_a, "migrate", "vm", "--to", f"tcp:127.0.0.1:{port}", "--copy-storage",
              "--verify")
    print(out.stdout.strip())
    assert "every page checked" in out.stdout, out.stdout
    rout, rerr = recv.communicate(timeout=60)
    assert recv.returncode == 0, (rout, rerr)
    print(rout.strip())
    assert "running" in cli(host_b, "ls").stdout
    deadline = time.monotonic() + 20  # the source's VMM ends on its own, a moment later
    while "stopped" not in cli(host_a, "ls").stdout:
        assert time.monotonic() < deadline, cli(host_a, "ls").stdout
        time.sleep(0.1)
    try:
        while con.read_some(0.2):
            pass
    except AssertionError:
        pass
    # The destination's whole console from its start (vessel logs): attached only now,
    # the console stream would miss what the guest printed since it arrived.
    dcon = Console(os.path.join(host_b, "vm", "api.sock"))
    wait_counter(dcon, 0, 15)
    # Both consoles whole (vessel logs: the source's last run, the destination's run),
    # joined as text: the line printed at the switch may be split between the two.
    src_text = cli(host_a, "logs", "vm").stdout
    before = counters(src_text)
    seq = counters(src_text + cli(host_b, "logs", "vm").stdout)
    assert_consecutive(seq, "CLI migration: source then destination")
    assert seq[-1] > before[-1] + 10
    stop_counter(dcon)
    cli(host_b, "stop", "vm", "--force")
    r = qemu_img("check", b)
    assert r.returncode == 0 and "No errors" in r.stdout, r.stdout + r.stderr
    # A receive that gets nothing leaves nothing behind.
    port = free_port()
    bad = subprocess.Popen([args.vessel, "receive", "vm2", "--listen", f"tcp:127.0.0.1:{port}",
                            *flags], env=dict(os.environ, VESSEL_STATE_DIR=host_b),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not listening(port):
        time.sleep(0.05)
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"garbage" * 10)
    c.close()
    _, err = bad.communicate(timeout=60)
    assert bad.returncode != 0 and err.startswith("vessel: receive vm2:"), err
    assert "vm2" not in cli(host_b, "ls").stdout
    print("vessel receive of garbage:", err.strip())
    # --copy-storage to an image that is not there: how to make it.
    p = cli(host_b, "receive", "vm3", "--listen", "tcp:127.0.0.1:1", "--copy-storage", *flags,
            "--disk", os.path.join(tmp, "none.qcow2"), check=False)
    assert p.returncode == 1 and "vessel disk create" in p.stderr, p.stderr
    assert p.stderr.count("\n") == 1 and "vm3" not in cli(host_b, "ls").stdout
    for h in (host_a, host_b):
        cli(h, "rm", "vm", "--force", check=False)
    print("migrate: ok (live, CLI: vessel receive / vessel migrate --copy-storage)")


# ---- Failure cases ------------------------------------------------------------------------


def cut_during_disk_copy(args, tmp, d, procs):
    """The destination dies while the disks are copied: the source runs on, its image intact."""
    a = make_disk(args.vessel, os.path.join(tmp, "cut-a.qcow2"), "64M")
    b = make_disk(args.vessel, os.path.join(tmp, "cut-b.qcow2"), "64M")
    src, api, con = source(args.vessel, tmp, d, [a], name="src-cut")
    procs.append(src)
    st, out = con.run("dd if=/dev/urandom of=/tmp/d bs=65536 count=256 2>/dev/null; "
                      "dd if=/tmp/d of=/dev/vda bs=65536 seek=64 conv=fsync 2>/dev/null; "
                      "md5sum /tmp/d")
    assert st == 0, out
    want = md5_of(out)
    port = free_port()
    dproc, dapi, _, _, _ = destination(args.vessel, tmp, d, [b], "cut-dst", port, copy=True)
    procs.append(dproc)
    base = os.stat(b).st_blocks

    # Killed once the first disk data arrived, long before the 16 MiB are through.
    kill_once_written(b, base, dproc)
    st, body, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}", "copy_storage": True})
    assert st >= 400, (st, body)
    print("cut during the disk copy:", body["error"])
    got = os.stat(b).st_blocks * 512
    assert got < 16 * MIB, f"the copy was complete ({got} bytes) before the cut"
    still_running(api, con, "cut during disk copy")
    # The disk still works and holds what the guest wrote; the image is consistent.
    last = stop_counter(con)
    assert guest_md5(con, "/dev/vda", 64, 256) == want
    stop_vmm(api, src)
    r = qemu_img("check", a)
    assert r.returncode == 0 and "No errors" in r.stdout, r.stdout + r.stderr
    assert int(image_bytes(a, 0, 12, tmp).split(b"\n")[0]) == last
    kill(dproc)
    print("cut during disk copy: the source runs on, its image is clean")

    # The other way: the source dies while it copies.  The destination refuses, stays
    # unstarted, and its image (partly written) is a consistent qcow2.
    a2 = make_disk(args.vessel, os.path.join(tmp, "cut-a2.qcow2"), "64M")
    b2 = make_disk(args.vessel, os.path.join(tmp, "cut-b2.qcow2"), "64M")
    src2, api2, con2 = source(args.vessel, tmp, d, [a2], name="src-cut2")
    procs.append(src2)
    st, out = con2.run("dd if=/dev/urandom of=/dev/vda bs=65536 count=256 seek=64 "
                       "conv=fsync 2>/dev/null")
    assert st == 0, out
    port = free_port()
    dproc, dapi, _, dt, dres = destination(args.vessel, tmp, d, [b2], "cut-dst2", port,
                                           copy=True)
    procs.append(dproc)
    base = os.stat(b2).st_blocks

    kill_once_written(b2, base, src2)
    try:
        api2.put("/migrate", {"to": f"tcp:127.0.0.1:{port}", "copy_storage": True})
    except OSError:
        pass  # the source is gone
    dt.join(30)
    st, body, _ = dres["res"]
    assert st == 400 and body["error"], (st, body)
    st, info, _ = dapi.get("/vm")
    assert info["state"] == "configuring", info
    print("source cut during the disk copy, the destination:", body["error"])
    stop_vmm(dapi, dproc)
    r = qemu_img("check", b2)
    assert r.returncode == 0 and "No errors" in r.stdout, r.stdout + r.stderr


def fake_destination(port, at_done):
    """Take a real source's stream like a destination (SYNC answered), then at DONE
    let at_done(conn) decide how it ends."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)

    def run():
        c, _ = ls.accept()
        ls.close()
        f = c.makefile("rb")
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            typ, length, _, _ = struct.unpack("<IIII", h)
            f.read(length)
            if typ == 5:
                c.sendall(b"S")
            elif typ == 4:
                at_done(c)
                c.close()
                return

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def failure_after_handover(args, tmp, d, procs):
    """Shared storage: the destination fails once the source has handed its disk over.
    The source takes its disk back and runs on; if it cannot (the destination holds the
    image: it may run the guest), the source stops rather than run a second copy."""
    img = make_disk(args.vessel, os.path.join(tmp, "ho.qcow2"), "16M")
    src, api, con = source(args.vessel, tmp, d, [img], name="src-ho")
    procs.append(src)
    port = free_port()
    t = fake_destination(port, lambda c: c.sendall(b"Eno room here"))
    st, body, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}"})
    t.join(10)
    assert st >= 400 and "no room here" in body["error"], (st, body)
    print("destination failing after the handover:", body["error"])
    still_running(api, con, "failure after the handover")
    last = stop_counter(con)  # the disk is written and read again
    con.send(COUNTER.replace("i=0", f"i={last}") + "\n")
    wait_counter(con, len(con.out), 5)

    held = {}

    def take_disk(c):
        # What a destination that ran the guest holds: the image's write lock.
        held["f"] = open(img, "rb+")
        fcntl.flock(held["f"], fcntl.LOCK_EX | fcntl.LOCK_NB)

    port = free_port()
    t = fake_destination(port, take_disk)
    st, body, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}"})
    t.join(10)
    assert st >= 400 and "cannot be taken back" in body["error"], (st, body)
    print("destination holding the disk:", body["error"])
    src.wait(20)  # the VM stops: the guest may run elsewhere
    held["f"].close()
    r = qemu_img("check", img)
    assert r.returncode == 0 and "No errors" in r.stdout, r.stdout + r.stderr
    print("failure after the handover: ok")


def msg(typ, payload):
    return struct.pack("<IIII", typ, len(payload), zlib.crc32(payload), 0) + payload


def hello(copy, mem=256 * MIB, harts=2, version=2):
    return msg(1, b"VESSELMG" + struct.pack("<IIQII", version, harts, mem, 1 if copy else 0, 0))


def disks(*sizes, chunk=65536):
    return msg(6, struct.pack("<II", len(sizes), chunk) + b"".join(struct.pack("<Q", s)
                                                                   for s in sizes))


def chunk(off, disk=0, length=65536, data=b"", clen=None, zero=0):
    clen = len(data) if clen is None else clen
    return struct.pack("<QIIII", off, disk, length, clen, zero) + data


def hostile_streams(args, tmp, d, procs):
    """Each stream to a fresh destination: refused with a clear error, nothing written."""
    size = 16 * MIB
    raw = b"\x5a" * 65536
    cases = [
        ("a chunk past the end of the disk", True,
         hello(True) + disks(size) + msg(7, chunk(size, data=raw)), "not on the disk"),
        ("a chunk far past the end", True,
         hello(True) + disks(size) + msg(7, chunk(1 << 62, data=raw)), "not on the disk"),
        ("a chunk longer than 64 KiB", True,
         hello(True) + disks(size) + msg(7, chunk(0, length=131072, data=raw + raw)),
         "not on the disk"),
        ("a short chunk inside the disk", True,
         hello(True) + disks(size) + msg(7, chunk(0, length=512, data=raw[:512])),
         "not on the disk"),
        ("an unaligned offset", True,
         hello(True) + disks(size) + msg(7, chunk(512, data=raw)), "bad disk entry"),
        ("data longer than the chunk", True,
         hello(True) + disks(size) + msg(7, chunk(0, data=raw, clen=65537)), "length"),
        ("data past the message", True,
         hello(True) + disks(size) + msg(7, chunk(0, data=raw[:100], clen=65536)), "length"),
        ("a disk that does not exist", True,
         hello(True) + disks(size) + msg(7, chunk(0, disk=1, data=raw)), "bad disk entry"),
        ("garbage as compressed data", True,
         hello(True) + disks(size) + msg(7, chunk(0, data=b"\x01" * 1000)), "compressed"),
        ("disk data before DISKS", True,
         hello(True) + msg(7, chunk(0, data=raw)), "before DISKS"),
        ("a disk of another size", True, hello(True) + disks(size * 2), "ours"),
        ("two disks for one", True, hello(True) + disks(size, size), "this VM has 1"),
        ("another chunk size", True, hello(True) + disks(size, chunk=4096), "bad DISKS"),
        ("disk data to a shared-storage destination", False,
         hello(True), "expects them on shared storage"),
        ("no disk data to a copy destination", True, hello(False), "expects the disks copied"),
        ("a version 1 stream", True, hello(True, version=1), "version 1"),
    ]
    for what, copy, data, expect in cases:
        img = make_disk(args.vessel, os.path.join(tmp, "h.qcow2"), "16M")
        before = open(img, "rb").read()
        port = free_port()
        gproc, gapi, _, gt, gres = destination(args.vessel, tmp, d, [img], "h", port, copy=copy)
        procs.append(gproc)
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(data)
        try:
            ans = c.recv(300)
        except OSError:
            ans = b""
        c.close()
        gt.join(30)
        st, body, _ = gres["res"]
        assert st == 400 and expect in body["error"], (what, st, body)
        assert ans[:1] == b"E", (what, ans)
        st, info, _ = gapi.get("/vm")
        assert info["state"] == "configuring", (what, info)
        stop_vmm(gapi, gproc)
        assert open(img, "rb").read() == before, f"{what}: the image was written"
        os.unlink(img)
        print(f"destination fed {what}: {body['error']}")


def failure_cases(args, tmp, d, procs):
    src, api, con = source(args.vessel, tmp, d, [])
    procs.append(src)
    # 0. Bad requests: 400 and one clear message, nothing starts.
    for body, expect in (({"to": "tcp:127.0.0.1:1", "copy_storage": "yes"}, "true or false"),
                         ({"to": "tcp:127.0.0.1:1", "copy_storage": True, "x": 1}, "unknown"),
                         ({"copy_storage": True}, "'to'"),
                         ({"to": "udp:1:2"}, "tcp:HOST:PORT")):
        st, ans, _ = api.put("/migrate", body)
        assert st == 400 and expect in ans["error"], (body, st, ans)
    still_running(api, con, "bad requests")
    # 1. A peer that speaks garbage: clear error, the source runs on.
    port = free_port()
    ls = socket.socket()
    ls.bind(("127.0.0.1", port))
    ls.listen(1)

    def garbage():
        c, _ = ls.accept()
        c.recv(100)
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")
        c.close()

    threading.Thread(target=garbage, daemon=True).start()
    st, body, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}"})
    assert st >= 400 and body and body["error"], (st, body)
    print("garbage peer:", body["error"])
    still_running(api, con, "garbage peer")
    ls.close()

    # 2. The destination killed during the transfer (a cut link).
    port = free_port()
    dproc, dapi, _, _, _ = destination(args.vessel, tmp, d, [], "cut", port)
    procs.append(dproc)
    threading.Timer(0.05, dproc.kill).start()
    st, body, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}"})
    assert st >= 400, (st, body)
    print("cut link:", body["error"])
    still_running(api, con, "cut link")
    kill(dproc)

    # 3. A destination fed garbage, and one fed a truncated stream: 400, still configuring.
    for what, data in (("garbage", os.urandom(5000)),
                       ("a truncated HELLO", struct.pack("<IIII", 1, 24, 0, 0) + b"VESS")):
        port = free_port()
        gproc, gapi, _, gt, gres = destination(args.vessel, tmp, d, [], "g", port)
        procs.append(gproc)
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(data)
        c.close()
        gt.join(30)
        st, body, _ = gres["res"]
        assert st == 400 and body["error"], (what, st, body)
        st, info, _ = gapi.get("/vm")
        assert info["state"] == "configuring", (what, info)
        print(f"destination fed {what}: {body['error']}")
        kill(gproc)
    kill(src)

    # 4. Disks: a cut while they are copied, failures after the handover, hostile disk
    # messages.
    cut_during_disk_copy(args, tmp, d, procs)
    failure_after_handover(args, tmp, d, procs)
    hostile_streams(args, tmp, d, procs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    # Without --live: the failure cases only.  With it: the real migrations.
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--only", help="live: nodisk, shared, copy or cli")
    args = ap.parse_args()
    d = guest_dir()
    tmp = tempfile.mkdtemp(prefix="vessel-mig-")
    procs = []
    try:
        if args.live:
            for name, fn in (("nodisk", migrate_nodisk), ("shared", migrate_shared),
                             ("copy", migrate_copy), ("cli", migrate_cli)):
                if not args.only or args.only == name:
                    fn(args, tmp, d, procs)
            return
        failure_cases(args, tmp, d, procs)
        print("migrate: ok (failure cases)")
    finally:
        for p in procs:
            kill(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
