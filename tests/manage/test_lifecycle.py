#!/usr/bin/env python3
"""Managed VMs end to end through the vessel CLI, with the default guest and a
private state directory:

create, start, logs (the shell prompt), console attach in pipe mode (a
command runs), pause (the guest clock stops, the VMM uses no CPU), resume,
actions invalid in the state, reset (the guest boots again), graceful stop
(the guest powers off), start again, two VMs side by side where kill -9 of
one leaves the other running and 'ls' shows the killed one stopped, start
after the process is gone, rm (refused while running without --force), a
start failing half-way, memory overcommit (two guests larger together than
the host's RAM), and --cpu-max/--memory-limit: applied through cgroup v2 when the host offers it,
else one clear error.
"""
import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mtest import PROMPT, READY, Cli, alive, cgroup2_offers, guest_dir, proc_ticks  # noqa: E402


def console_run(cli, name, command, marker, timeout=60, argv=None, first=None):
    """Attach with stdin a pipe, (wait for 'first',) type 'command', wait for
    'marker' in the output, detach."""
    argv = argv or ["console", name]
    p = subprocess.Popen([cli.vessel] + argv, env=cli.env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = bytearray()
    cond = threading.Condition()

    def reader():
        while True:
            b = p.stdout.read1(4096)
            with cond:
                if not b:
                    cond.notify_all()
                    return
                out.extend(b)
                cond.notify_all()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout

    def wait(text):
        with cond:
            while text.encode() not in out:
                left = deadline - time.monotonic()
                assert left > 0 and p.poll() is None, \
                    f"console {name}: no {text!r} in {bytes(out[-500:])!r}"
                cond.wait(min(left, 0.5))

    if first:
        wait(first)
    p.stdin.write((command + "\n").encode())
    p.stdin.flush()
    wait(marker)
    p.stdin.close()  # end of input: the client detaches after a second of quiet
    rc = p.wait(10)
    t.join(5)
    assert rc == 0, f"console {name}: status {rc}: {p.stderr.read()!r}"
    return out.decode(errors="replace")


def guest_uptime(cli, name, tag):
    """The guest's /proc/uptime in seconds, read through the console."""
    out = console_run(cli, name, f"echo {tag}=$(cut -d' ' -f1 /proc/uptime)=", f"{tag}=")
    # The echoed command line holds "{tag}=$(", the answer "{tag}=<number>=".
    for part in out.split(f"{tag}=")[1:]:
        v = part.split("=")[0]
        try:
            return float(v)
        except ValueError:
            continue
    raise AssertionError(f"no uptime in {out!r}")


def inspect(cli, name):
    return json.loads(cli.ok("inspect", name))


def test_pause(cli, name, pid):
    up0 = guest_uptime(cli, name, "UPA")
    h0 = time.monotonic()
    cli.ok("pause", name)
    assert cli.ls()[name][0] == "paused"
    m0 = inspect(cli, name)["metrics"]
    t0 = proc_ticks(pid)
    time.sleep(3)
    t1 = proc_ticks(pid)
    m1 = inspect(cli, name)["metrics"]
    # No guest instructions, (almost) no host CPU while paused.
    assert [v["instructions"] for v in m0["vcpus"]] == [v["instructions"] for v in m1["vcpus"]], \
        (m0["vcpus"], m1["vcpus"])
    hz = os.sysconf("SC_CLK_TCK")
    assert t1 - t0 <= 0.05 * 3 * hz, f"paused VMM used {t1 - t0} ticks in 3 s"
    cli.fails(["pause", name], [f"pause {name}"])  # already paused
    cli.ok("resume", name)
    cli.fails(["resume", name], [f"resume {name}"])  # already running
    up1 = guest_uptime(cli, name, "UPB")
    host = time.monotonic() - h0
    guest = up1 - up0
    # The guest clock stood still for the 3 s pause.
    assert guest < host - 2.0, f"guest clock ran while paused: guest {guest:.2f} s, host {host:.2f} s"
    print(f"pause: guest clock advanced {guest:.2f} s over {host:.2f} s of host time; "
          f"{t1 - t0} ticks while paused")


def check_limits(cli, d):
    base = ["--memory", "64M", "--kernel", f"{d}/Image", "--initrd", f"{d}/initramfs.cpio.gz"]
    names = {"cpu": ("cg-cpu", ["--cpu-max", "50"], "--cpu-max"),
             "memory": ("cg-mem", ["--memory-limit", "256M"], "--memory-limit")}
    for ctl, (name, flags, flag) in names.items():
        root = cgroup2_offers([ctl])
        if root is None:
            line = cli.fails(["create", name] + base + flags, [f"create {name}", flag, "cgroup"])
            assert name not in cli.ls(), "a VM was defined despite the error"
            print(f"{flag}: host lacks it, as said: {line}")
            continue
        cli.ok("create", name, *base, *flags)
        cli.ok("start", name)
        pid = cli.ls()[name][1]
        cg = os.path.join(root, "vessel.slice", f"vm-{name}")
        with open(os.path.join(cg, "cgroup.procs")) as f:
            assert str(pid) in f.read().split()
        if ctl == "cpu":
            with open(os.path.join(cg, "cpu.max")) as f:
                assert f.read().split() == ["50000", "100000"]
        else:
            with open(os.path.join(cg, "memory.max")) as f:
                assert int(f.read()) == 256 << 20
        assert inspect(cli, name)["cgroup"] == cg
        cli.ok("rm", "--force", name)
        assert not os.path.exists(cg), "the cgroup outlived its VM"
        print(f"{flag}: applied in {cg}")


def check_overcommit(cli, d):
    """Two VMs whose guest memory together exceeds the host's RAM both boot:
    guest RAM is reserved lazily."""
    with open("/proc/meminfo") as f:
        total_mib = int(f.readline().split()[1]) // 1024
    each = min(65536, total_mib // 2 + 1024)
    for n in ("big1", "big2"):
        cli.ok("create", n, "--memory", f"{each}M", "--kernel", f"{d}/Image",
               "--initrd", f"{d}/initramfs.cpio.gz")
        cli.ok("start", n)
    for n in ("big1", "big2"):
        cli.wait_log(n, PROMPT)
        m = inspect(cli, n)["metrics"]
        assert m["guest_mem_touched_bytes"] < (each << 20) // 4, m
    print(f"overcommit: 2 x {each} MiB guests on a {total_mib} MiB host, touched "
          f"{inspect(cli, 'big1')['metrics']['guest_mem_touched_bytes'] >> 20} MiB each")
    for n in ("big1", "big2"):
        cli.ok("rm", "--force", n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    a = ap.parse_args()
    d = guest_dir()
    with tempfile.TemporaryDirectory(prefix="vessel-manage-") as tmp:
        cli = Cli(a.vessel, os.path.join(tmp, "state"))
        boot = ["--memory", "128M", "--kernel", f"{d}/Image", "--initrd", f"{d}/initramfs.cpio.gz"]
        try:
            run(cli, d, boot)
        finally:
            # Leave nothing running behind.
            for name, (state, pid, *_ ) in cli.ls().items():
                if pid:
                    os.kill(pid, signal.SIGKILL)
    print("PASS: managed VM lifecycle")


def run(cli, d, boot):
    cli.ok("create", "vm1", *boot)
    assert cli.ls()["vm1"] == ("stopped", None, "1", "128M")
    cli.fails(["start", "nosuch"], ["start nosuch", "no such VM"])
    cli.ok("start", "vm1")
    state, pid1, _, _ = cli.ls()["vm1"]
    assert state == "running" and pid1 and alive(pid1)
    cli.fails(["start", "vm1"], ["start vm1", "already running"])
    cli.fails(["rm", "vm1"], ["rm vm1", "running"])
    log = cli.wait_log("vm1", PROMPT)
    assert READY in log
    out = console_run(cli, "vm1", "echo hi-$((6*7))", "hi-42")
    assert "hi-42" in out
    info = inspect(cli, "vm1")
    assert info["live"]["state"] == "running" and info["pid"] == pid1
    assert info["definition"]["memory_mib"] == 128
    assert info["metrics"]["host_rss_bytes"] > 0 and len(info["metrics"]["vcpus"]) == 1

    test_pause(cli, "vm1", pid1)

    # reset: the machine reboots in place, same process.
    cli.ok("reset", "vm1")
    cli.wait_log("vm1", READY, count=2)
    deadline = time.monotonic() + 60
    while True:  # the shell of the second boot
        log = cli.logs("vm1")
        if PROMPT in log[log.index(READY) + 1:][log[log.index(READY) + 1:].index(READY):]:
            break
        assert time.monotonic() < deadline, "no shell after the reset"
        time.sleep(0.2)
    assert cli.ls()["vm1"][1] == pid1

    # Graceful stop: the guest sees the power button and powers off; a
    # 'logs --follow' reader sees it to the end and ends with the VM.
    follow = subprocess.Popen([cli.vessel, "logs", "vm1", "--follow"], env=cli.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    out = cli.ok("stop", "vm1", "--timeout", "60")
    assert "poweroff" in out, out
    assert not alive(pid1)
    fout, ferr = follow.communicate(timeout=10)
    assert follow.returncode == 0 and ferr == b"", ferr
    assert b"power button pressed" in fout and b"reboot: Power down" in fout, fout[-500:]
    assert fout.count(READY.encode()) == 2  # the whole log, both boots
    assert cli.ls()["vm1"][0] == "stopped"
    assert "reboot: Power down" in cli.logs("vm1") or PROMPT in cli.logs("vm1")
    cli.fails(["stop", "vm1"], ["stop vm1", "not running"])
    cli.fails(["pause", "vm1"], ["pause vm1", "not running"])
    cli.fails(["console", "vm1"], ["console vm1", "not running"])

    # Start again (attached to the console from the start, input a pipe),
    # and a second VM beside it.
    out = console_run(cli, "vm1", "echo again-$((40+2))", "again-42",
                      argv=["start", "vm1", "--attach"], first=PROMPT)
    assert READY in out
    cli.ok("create", "vm2", *boot, "--cpus", "2", "--cpuset", "1")
    # Racing starts of one VM: exactly one starts it, the others find it running.
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        res = list(ex.map(lambda i: cli.run("start", "vm2"), range(4)))
    assert sum(1 for st, _, _ in res if st == 0) == 1, res
    assert all("already running" in err for st, _, err in res if st != 0), res
    cli.wait_log("vm1", PROMPT)
    cli.wait_log("vm2", PROMPT)
    rows = cli.ls()
    pid1, pid2 = rows["vm1"][1], rows["vm2"][1]
    assert rows["vm2"][2] == "2" and pid1 != pid2
    # --cpuset 1: both vCPU threads run on host CPU 1 only.
    pinned = {}
    for tid in os.listdir(f"/proc/{pid2}/task"):
        with open(f"/proc/{pid2}/task/{tid}/comm") as f:
            comm = f.read().strip()
        if comm.startswith("vcpu"):
            with open(f"/proc/{pid2}/task/{tid}/status") as f:
                pinned[comm] = [ln.split()[1] for ln in f if ln.startswith("Cpus_allowed_list")][0]
    assert pinned == {"vcpu0": "1", "vcpu1": "1"}, pinned

    # kill -9 of one leaves the other running.
    os.kill(pid1, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(pid1) and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = cli.ls()
    assert rows["vm1"][0] == "stopped" and rows["vm1"][1] is None, rows
    assert rows["vm2"][0] == "running" and rows["vm2"][1] == pid2, rows
    out = console_run(cli, "vm2", "echo alive-$((20+3))", "alive-23")

    # A defined VM starts again after its process is gone.
    cli.ok("start", "vm1")
    cli.wait_log("vm1", PROMPT)
    assert cli.ls()["vm1"][0] == "running"

    # rm: refused while running, --force stops it first.
    cli.fails(["rm", "vm2"], ["rm vm2", "running"])
    cli.ok("rm", "--force", "vm2")
    assert not alive(pid2)
    cli.fails(["inspect", "vm2"], ["inspect vm2", "no such VM"])
    # The guest powers itself off; a start right away (while the old VMM may
    # still be answering with state "stopped") starts a new one.
    pid1 = cli.ls()["vm1"][1]
    console_run(cli, "vm1", "poweroff -f", "Power down")
    cli.ok("start", "vm1")
    state, pid_new, _, _ = cli.ls()["vm1"]
    assert state == "running" and pid_new != pid1 and not alive(pid1)
    out = cli.ok("stop", "--force", "vm1")
    assert "stopped" in out
    cli.ok("rm", "vm1")
    assert cli.ls() == {}
    assert [e for e in os.listdir(cli.state_dir) if e != ".lock"] == []

    # A start that fails half-way (the disk went away after create): one clear
    # line, the VMM is gone, the VM stays defined and stopped, and can be removed.
    disk = os.path.join(os.path.dirname(cli.state_dir), "gone.raw")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    cli.ok("create", "vm3", *boot, "--disk", disk)
    os.unlink(disk)
    cli.fails(["start", "vm3"], ["start vm3", "gone.raw"])
    assert cli.ls()["vm3"][:2] == ("stopped", None)
    assert not os.path.exists(os.path.join(cli.state_dir, "vm3", "pid"))
    vmms = subprocess.run(["pgrep", "-f", "vmm --api-sock api.sock --name vm3"],
                          stdout=subprocess.PIPE, text=True).stdout.split()
    assert vmms == [], f"a VMM was left behind: {vmms}"
    cli.ok("rm", "vm3")

    check_overcommit(cli, d)
    check_limits(cli, d)


if __name__ == "__main__":
    sys.exit(main())
