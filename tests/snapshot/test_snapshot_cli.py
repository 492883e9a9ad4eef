#!/usr/bin/env python3
"""vessel snapshot / restore / clone on managed VMs (suite 'e2e', default guest).

A managed VM runs the counter; `vessel snapshot` saves it while it runs;
`vessel restore --name` makes a new managed VM that continues the counter
(ls shows it running, logs has its output, stop and rm work); `vessel clone
--count 10` starts ten VMs from the same snapshot, each continuing the
counter on its own disk overlay, sharing the snapshot's memory pages, each
with its own MAC (the one `vessel inspect` shows, set in the guest) and its
own random state (the guest reports the reseed, and 16 bytes of
/dev/urandom differ: on their own, clones of a guest this young would also
drift apart within seconds, as Linux reseeds every uptime/2 seconds early on,
so the reseed line is what shows the mechanism ran); a
restore from a corrupt file fails with one clear line and leaves no VM.
"""
import argparse
import os
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snaptest import COUNTER, READY, assert_consecutive, counters, guest_dir  # noqa: E402


class Cli:
    def __init__(self, vessel, state):
        self.vessel = vessel
        self.env = dict(os.environ, VESSEL_STATE_DIR=state)

    def run(self, *args, check=True, input=None, timeout=120):
        p = subprocess.run([self.vessel] + list(args), env=self.env, input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"vessel {' '.join(args)}: {p.returncode} {p.stderr}")
        return p

    def logs(self, name):
        return self.run("logs", name).stdout

    def wait_log(self, name, text, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.logs(name)
            if text in out:
                return out
            time.sleep(0.3)
        raise AssertionError(f"{name}: no {text!r} in the console: {self.logs(name)[-300:]!r}")

    def send(self, name, line):
        """Type a line on NAME's console (the console command follows the output as long
        as there is some: send, then leave)."""
        con = subprocess.Popen([self.vessel, "console", name], env=self.env,
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        con.stdin.write((line + "\n").encode())
        con.stdin.flush()
        time.sleep(1.0)
        con.kill()
        con.wait()

    def wait_match(self, name, regex, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(regex, self.logs(name))
            if m:
                return m
            time.sleep(0.3)
        raise AssertionError(f"{name}: no {regex!r} in the console: {self.logs(name)[-300:]!r}")

    def wait_counter_past(self, name, value, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            vals = counters(self.logs(name))
            if vals and vals[-1] > value:
                return vals
            time.sleep(0.3)
        raise AssertionError(f"{name}: counter not past {value}: {self.logs(name)[-300:]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    args = ap.parse_args()
    d = guest_dir()
    tmp = tempfile.mkdtemp(prefix="vessel-snapcli-")
    cli = Cli(args.vessel, os.path.join(tmp, "state"))
    names = []
    try:
        disk = os.path.join(tmp, "disk.qcow2")
        cli.run("disk", "create", disk, "16M")
        cli.run("create", "src", "--cpus", "2", "--memory", "256M", "--kernel", f"{d}/Image",
                "--initrd", f"{d}/initramfs.cpio.gz", "--disk", disk, "--net", "user", "--rng")
        names.append("src")
        cli.run("start", "src")
        cli.wait_log("src", READY)
        time.sleep(0.5)
        cli.send("src", COUNTER)
        vals = cli.wait_counter_past("src", 20)
        snap = os.path.join(tmp, "snap")
        out = cli.run("snapshot", "src", snap).stdout
        print(out.strip())
        at = counters(cli.logs("src"))[-1]
        # The source keeps running after the snapshot.
        cli.wait_counter_past("src", at + 5)
        cli.run("stop", "src", "--force")

        t0 = time.monotonic()
        print(cli.run("restore", snap, "--name", "back").stdout.strip())
        names.append("back")
        print(f"restore through the CLI: {(time.monotonic() - t0) * 1000:.0f} ms")
        ls = cli.run("ls").stdout
        assert any(l.split()[:2] == ["back", "running"] for l in ls.splitlines()), ls
        vals = cli.wait_counter_past("back", 0)
        first = vals[0]
        # The restored VM's counter picks up from a value the source printed at the snapshot.
        assert vals[0] <= at + 1, f"restored counter starts at {vals[0]}, source was at {at}"
        v2 = cli.wait_counter_past("back", first + 20)
        assert_consecutive(v2, "restored VM")
        cli.run("stop", "back", "--force")
        cli.run("rm", "back")
        names.remove("back")
        assert "back" not in cli.run("ls").stdout

        t0 = time.monotonic()
        out = cli.run("clone", snap, "--name", "c", "--count", "10").stdout
        print(out.strip().splitlines()[-1])
        clones = range(1, 11)
        for i in clones:
            names.append(f"c-{i}")
        for i in clones:
            v = cli.wait_counter_past(f"c-{i}", first + 10)
            assert_consecutive(v, f"clone {i}")
        # Each clone has its own identity: the VMM sent it a new MAC and seed after the
        # restore, the guest's watcher applied them (ip link, CRNG reseed).
        src_mac = "52:54:00:12:34:56"  # the source's (the VMM's default for its NIC)
        ids = {}
        for i in clones:
            name = f"c-{i}"
            cli.wait_log(name, "vessel-guest: random reseeded")
            mac = json.loads(cli.run("inspect", name).stdout)["definition"]["nets"][0]["mac"]
            cli.send(name, 'echo "ID=$(cat /sys/class/net/eth0/address)='
                           '$(head -c 16 /dev/urandom | od -An -tx1 | tr -d \' \\n\')"')
            m = cli.wait_match(name, r"ID=([0-9a-f:]{17})=([0-9a-f]{32})\r?\n")
            assert m.group(1) == mac, f"{name}: guest MAC {m.group(1)}, inspect says {mac}"
            assert int(mac[:2], 16) & 3 == 2, f"{name}: {mac} not locally administered unicast"
            ids[name] = (m.group(1), m.group(2))
        macs = [v[0] for v in ids.values()]
        rands = [v[1] for v in ids.values()]
        assert len(set(macs)) == 10 and src_mac not in macs, macs
        assert len(set(rands)) == 10, rands
        print(f"clone identities: 10 distinct MACs ({macs[0]} ...), 10 distinct urandom reads")

        # Each clone has its own overlay disk on the snapshot's disk copy.
        for i in clones:
            ov = os.path.join(tmp, "state", f"c-{i}", "disk0.qcow2")
            info = cli.run("disk", "info", ov).stdout
            assert snap + ".disk-disk0" in info, info
        for i in clones:
            cli.run("rm", "--force", f"c-{i}")
            names.remove(f"c-{i}")

        bad = os.path.join(tmp, "bad")
        data = bytearray(open(snap, "rb").read(4096))
        data[40] ^= 1
        open(bad, "wb").write(bytes(data))
        p = cli.run("restore", bad, "--name", "nope", check=False)
        assert p.returncode != 0 and p.stderr.count("\n") == 1 and "snapshot" in p.stderr, p.stderr
        print("bad restore:", p.stderr.strip())
        assert "nope" not in cli.run("ls").stdout
    finally:
        for n in names:
            cli.run("rm", "--force", n, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print("snapshot-cli: ok")


if __name__ == "__main__":
    main()
