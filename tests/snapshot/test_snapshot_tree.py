#!/usr/bin/env python3
"""The named snapshots of a managed VM (suite 'e2e', default guest).

A VM runs the counter (which writes its value to sector 0 of its disk) and
has a marker in sector 8 of the disk.  `vessel snapshot src --tag s1`, the
counter and the marker move on, s2; `vessel revert src s1`: the counter
continues from s1's value and the disk (read past the guest's cache) holds
s1's marker; s3 is taken as a child of s1; `vessel snapshots` shows s1 with
s2 and s3 below it; `vessel revert src s2` brings s2's counter and marker.
Bad input (unknown VM or tag, duplicate tag, bad characters, removing a
snapshot with children or the one the disks depend on, a revert while a
migration holds the VM) gives one clear line and changes nothing;
`snapshot-rm --recursive` and `vessel rm` remove the files.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snaptest import COUNTER, READY, assert_consecutive, counters, guest_dir  # noqa: E402
from test_snapshot_cli import Cli  # noqa: E402

# Sector 8 of /dev/vda read from the disk itself: the guest's page cache is part of
# its memory, which a revert brings back too, so it would prove nothing.
READ_MARK = ('sync; echo 3 > /proc/sys/vm/drop_caches; '
             'echo "MARK=$(dd if=/dev/vda bs=512 skip=8 count=1 2>/dev/null | head -c 6)."')


def write_mark(cli, name, mark):
    # The quotes keep the typed line (echoed on the console) from matching the output.
    cli.send(name, f"echo {mark} | dd of=/dev/vda bs=512 seek=8 count=1 conv=sync,fsync "
                   f"2>/dev/null; echo WROTE\"\"-{mark}")
    cli.wait_log(name, f"WROTE-{mark}")


def read_mark(cli, name, since):
    cli.send(name, READ_MARK)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.findall(r"MARK=([A-Za-z0-9-]*)\.\r?\n", cli.logs(name)[since:])
        if found:
            return found[-1]
        time.sleep(0.3)
    raise AssertionError(f"{name}: no MARK= line: {cli.logs(name)[-300:]!r}")


def bad(cli, *args, want):
    p = cli.run(*args, check=False)
    assert p.returncode != 0, f"vessel {' '.join(args)} succeeded: {p.stdout}"
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("vessel: ") and want in p.stderr, \
        f"vessel {' '.join(args)}: {p.stderr!r}"
    print("  refused:", p.stderr.strip())


def tree(cli, name):
    return json.loads(cli.run("snapshots", name, "--json").stdout)


def snap_files(state, name):
    d = os.path.join(state, name, "snapshots")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def take(cli, name, tag):
    """Snapshot TAG; returns the last counter value printed before it."""
    out = cli.run("snapshot", name, "--tag", tag).stdout
    print(out.strip())
    return counters(cli.logs(name))[-1]


def revert_check(cli, name, tag, at, mark):
    """Revert to TAG: the counter continues from about 'at', the disk holds 'mark'."""
    print(cli.run("revert", name, tag).stdout.strip())
    # The console log starts again with the new process.
    vals = cli.wait_counter_past(name, 0)
    assert at - 30 <= vals[0] <= at + 1, f"after revert to {tag}: counter {vals[0]}, saved ~{at}"
    v = cli.wait_counter_past(name, vals[0] + 10)
    assert_consecutive(v, f"after revert to {tag}")
    got = read_mark(cli, name, 0)
    assert got == mark, f"after revert to {tag}: disk marker {got!r}, want {mark!r}"
    return vals[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    args = ap.parse_args()
    d = guest_dir()
    tmp = tempfile.mkdtemp(prefix="vessel-snaptree-")
    state = os.path.join(tmp, "state")
    cli = Cli(args.vessel, state)
    try:
        disk = os.path.join(tmp, "disk.qcow2")
        cli.run("disk", "create", disk, "16M")
        cli.run("create", "src", "--cpus", "1", "--memory", "256M", "--kernel", f"{d}/Image",
                "--initrd", f"{d}/initramfs.cpio.gz", "--disk", disk, "--net", "user", "--rng")
        cli.run("create", "idle", "--memory", "64M", "--kernel", f"{d}/Image")
        cli.run("start", "src")
        cli.wait_log("src", READY)
        time.sleep(0.5)
        write_mark(cli, "src", "MARK-A")
        cli.send("src", COUNTER)
        cli.wait_counter_past("src", 20)
        at1 = take(cli, "src", "s1")
        at = counters(cli.logs("src"))[-1]
        cli.wait_counter_past("src", at + 30)
        write_mark(cli, "src", "MARK-B")
        at2 = take(cli, "src", "s2")
        assert at2 > at1 + 20, (at1, at2)
        t = tree(cli, "src")
        assert [(e["tag"], e["parent"]) for e in t["snapshots"]] == [("s1", None), ("s2", "s1")]
        assert t["current"] == "s2" and t["disks_from"] is None, t

        revert_check(cli, "src", "s1", at1, "MARK-A")
        # The disk is an overlay of s1's copy now; the user's image is left alone.
        info = cli.run("disk", "info", os.path.join(state, "src", "disk0.qcow2")).stdout
        assert "snapshots/s1.disk-disk0" in info, info
        at = counters(cli.logs("src"))[-1]
        cli.wait_counter_past("src", at + 10)
        write_mark(cli, "src", "MARK-C")
        at3 = take(cli, "src", "s3")
        t = tree(cli, "src")
        assert [(e["tag"], e["parent"]) for e in t["snapshots"]] == \
            [("s1", None), ("s2", "s1"), ("s3", "s1")], t
        assert t["current"] == "s3" and t["disks_from"] == "s1", t
        assert all(e["bytes"] > 0 for e in t["snapshots"]), t
        text = cli.run("snapshots", "src").stdout
        print(text.rstrip())
        rows = [l.split()[0] for l in text.splitlines()[1:]]
        assert rows == ["s1", "s2", "s3"], text
        assert re.search(r"^  s2 ", text, re.M) and re.search(r"^  s3 \* ", text, re.M), text

        revert_check(cli, "src", "s2", at2, "MARK-B")
        # Twice to the same snapshot works: new overlays on the same copies.
        revert_check(cli, "src", "s1", at1, "MARK-A")
        revert_check(cli, "src", "s3", at3, "MARK-C")
        assert tree(cli, "src")["current"] == "s3"

        print("bad input:")
        before = (tree(cli, "src"), snap_files(state, "src"))
        bad(cli, "snapshot", "nope", "--tag", "x", want="no such VM")
        bad(cli, "revert", "nope", "s1", want="no such VM")
        bad(cli, "revert", "src", "s9", want="no snapshot s9")
        bad(cli, "snapshot-rm", "src", "s9", want="no snapshot s9")
        bad(cli, "snapshot", "src", "--tag", "s1", want="snapshot s1 exists")
        bad(cli, "snapshot", "src", "--tag", "a/b", want="invalid snapshot tag")
        bad(cli, "snapshot", "src", "--tag", "x.disk-y", want="invalid snapshot tag")
        bad(cli, "revert", "src", "..", want="invalid snapshot tag")
        bad(cli, "snapshot", "idle", "--tag", "x", want="not running")
        bad(cli, "create", "m", "--net", "user,mac=53:54:00:12:34:56", want="bad mac")
        bad(cli, "create", "m", "--net", "user,mac=52:54:00:12:34", want="bad mac")
        bad(cli, "snapshot-rm", "src", "s1", want="2 snapshot(s) below it")
        # s3 is where the disks come from now.
        bad(cli, "snapshot-rm", "src", "s3", want="overlays of snapshot s3")
        p = cli.run("snapshots", "src", "--bogus", check=False)
        assert p.returncode == 2, p
        # A migration holds the VM: a peer that accepts and says nothing keeps it busy.
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        port = lsock.getsockname()[1]
        mig = subprocess.Popen([cli.vessel, "migrate", "src", "--to", f"tcp:127.0.0.1:{port}"],
                               env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        conn, _ = lsock.accept()
        time.sleep(0.5)
        bad(cli, "revert", "src", "s1", want="busy")
        bad(cli, "snapshot-rm", "src", "s2", want="busy")
        conn.close()
        lsock.close()
        mig.wait(60)
        assert mig.returncode != 0
        assert (tree(cli, "src"), snap_files(state, "src")) == before, "bad input changed things"
        at = counters(cli.logs("src"))[-1]
        cli.wait_counter_past("src", at + 5)  # still running

        # s2 has no children: it goes alone, with its disk copy.
        print(cli.run("snapshot-rm", "src", "s2").stdout.strip())
        assert "s2" not in snap_files(state, "src") and "s2.disk-disk0" not in snap_files(
            state, "src")
        # Back at s1: s3 (the disks' base until now) may go, recursively below s1 it may not.
        revert_check(cli, "src", "s1", at1, "MARK-A")
        bad(cli, "snapshot-rm", "src", "s1", "--recursive", want="overlays of snapshot s1")
        print(cli.run("snapshot-rm", "src", "s3").stdout.strip())
        t = tree(cli, "src")
        assert [e["tag"] for e in t["snapshots"]] == ["s1"] and t["current"] == "s1", t
        assert snap_files(state, "src") == ["s1", "s1.disk-disk0"], snap_files(state, "src")
        cli.run("snapshot", "src", "--tag", "s4")
        cli.run("snapshot", "src", "--tag", "s5")
        t = tree(cli, "src")
        assert [(e["tag"], e["parent"]) for e in t["snapshots"]] == \
            [("s1", None), ("s4", "s1"), ("s5", "s4")], t
        print(cli.run("snapshot-rm", "src", "s4", "--recursive").stdout.strip())
        assert snap_files(state, "src") == ["s1", "s1.disk-disk0"], snap_files(state, "src")
        assert tree(cli, "src")["current"] == "s1"

        # vessel rm takes the snapshots with the VM.
        cli.run("rm", "--force", "src")
        assert not os.path.exists(os.path.join(state, "src"))
    finally:
        for n in ("src", "idle"):
            cli.run("rm", "--force", n, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print("snapshot-tree: ok")


if __name__ == "__main__":
    main()
