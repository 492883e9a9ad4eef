#!/usr/bin/env python3
"""The VM API end to end, in raw HTTP over the unix socket of `vessel vmm`,
with the default guest (guest/build.sh):

- configure (machine-config, boot-source, a qcow2 overlay drive, a NIC, rng),
  start, reach the shell through GET /console/attach and run commands;
  GET /console and --log hold the boot output;
- pause: the guest clock stops (/proc/uptime moves < 1 s across a 3 s pause),
  a busy guest workload stops and the vCPU threads use no CPU
  (/proc/PID/task/*/stat), actions invalid while paused answer 409; resume:
  the workload runs again;
- metrics: instructions grow, block read bytes > 0, NIC packets both ways,
  host RSS and touched guest memory sane;
- reset: the guest boots again in the same process; a guest `reboot -f` too;
- shutdown: the power button makes the guest power off cleanly, exit status 0;
- a second VM: hard stop, state stopped/stopped, exit status 5.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "boot"))
sys.path.insert(0, HERE)
from guest import guest_dir  # noqa: E402
import apischema  # noqa: E402
from vmmapi import Api, Console, start_vmm  # noqa: E402

PROMPT = "vessel# "
READY = "vessel-guest: userspace up"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def ok(res, what):
    st, body, _ = res
    assert st == 204, f"{what}: {st} {body}"


def vcpu_ticks(pid):
    """utime+stime (clock ticks) of each vCPU thread of 'pid', by thread name."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except FileNotFoundError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        if name.startswith("vcpu"):
            out[name] = int(fields[11]) + int(fields[12])
    return out


def tagged(con, tag, cmd):
    """The value a command prints after 'tag=' (kernel messages may interleave)."""
    st, out = con.run(f"echo {tag}=$({cmd})")
    m = re.search(tag + r"=([0-9.]+)", out)
    assert st == 0 and m, f"{cmd!r}: {st} {out!r}"
    return m.group(1)


def uptime(con):
    return float(tagged(con, "up", "cut -d' ' -f1 /proc/uptime"))


def must(con, cmd):
    st, out = con.run(cmd)
    assert st == 0, f"{cmd!r} failed ({st}): {out}"
    return out


def wait_exit(proc, timeout):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"vmm did not exit within {timeout} s")


def configure(api, d, root=None, nic=False):
    ok(api.put("/machine-config", {"vcpus": 2, "memory_mib": 256}), "machine-config")
    if root:
        ok(api.put("/boot-source", {"kernel": f"{d}/Image",
                                    "append": "console=ttyS0 root=/dev/vda rw"}), "boot-source")
        ok(api.put("/drives/root", {"path": root}), "drive")
    else:
        ok(api.put("/boot-source", {"kernel": f"{d}/Image", "initrd": f"{d}/initramfs.cpio.gz"}),
           "boot-source")
    if nic:
        ok(api.put("/network-interfaces/net0", {"backend": "user"}), "nic")
        ok(api.put("/rng", {"enabled": True}), "rng")


def check_pause(api, con, pid):
    # A busy workload in the guest: a counter the pause must stop.
    must(con, "(i=0; while :; do i=$((i+1)); echo $i > /tmp/c; mv /tmp/c /tmp/count; done) "
         ">/dev/null 2>&1 & "
         "echo $! > /tmp/loop.pid")
    time.sleep(1.0)
    u1 = uptime(con)
    c1 = int(tagged(con, "count", "cat /tmp/count"))
    ok(api.action("pause"), "pause")
    assert api.get("/vm")[1]["state"] == "paused"
    # Invalid while paused: nothing changes.
    for bad in ("pause", "start", "shutdown"):
        st, body, _ = api.action(bad)
        assert st == 409 and "error" in body, f"{bad} while paused: {st} {body}"
    st, body, _ = api.put("/machine-config", {"vcpus": 1})
    assert st == 409, (st, body)
    assert api.get("/vm")[1]["state"] == "paused"
    before = vcpu_ticks(pid)
    assert len(before) == 2, before
    out_before = len(con.out)
    time.sleep(3.0)
    after = vcpu_ticks(pid)
    used = sum(after[k] - before[k] for k in before)
    # ~no CPU: at most 2 clock ticks over 3 s for both vCPU threads together.
    assert used <= 2, f"vCPU threads used {used} ticks while paused"
    con.read_some(0.1)
    assert len(con.out) == out_before, "the guest printed while paused"
    ok(api.action("resume"), "resume")
    assert api.get("/vm")[1]["state"] == "running"
    u2 = uptime(con)
    c2 = int(tagged(con, "count", "cat /tmp/count"))
    # The guest clock stood still for the 3 s pause (the commands take a little).
    assert u2 - u1 < 1.0, f"guest uptime moved {u2 - u1:.2f} s across a 3 s pause"
    assert c2 > c1, f"the workload did not run again ({c1} -> {c2})"
    t1 = vcpu_ticks(pid)
    time.sleep(1.0)
    t2 = vcpu_ticks(pid)
    busy = sum(t2[k] - t1[k] for k in t1)
    # Running again (the bound is low: the host may be busy with other work).
    assert busy >= CLK_TCK // 10, f"vCPUs used only {busy} ticks in 1 s with a busy guest"
    must(con, "kill $(cat /tmp/loop.pid)")
    print(f"pause: uptime moved {u2 - u1:.3f} s over a 3 s pause; vCPU ticks paused {used}, "
          f"running {busy}/s", flush=True)


def check_schemas(api, when):
    """Every GET answer matches docs/api/openapi.yaml."""
    problems = apischema.check_gets(api)
    if problems is None:
        print(f"schema check ({when}): openapi-schema-validator not installed, not checked")
        return
    assert not problems, problems
    print(f"schema check ({when}): every GET answer matches openapi.yaml", flush=True)


def check_console_clients(api, con, sock):
    """A second client sees the same output; a client that does not read or goes away
    affects nobody; the ring keeps the last 1 MiB."""
    other = Console(sock)
    idle = Console(sock)  # never reads
    st, out = con.run("head -c 1200000 /dev/zero | tr '\\0' x; echo; echo two-clients", 120)
    assert st == 0 and "two-clients" in out
    other.wait_for("two-clients", 30)
    idle.close()
    other.send("echo typed-by-the-other-client\n")
    con.wait_for("typed-by-the-other-client", 30)
    other.close()
    st, data, r = api.raw("GET", "/console")
    start, end = int(r.getheader("X-Console-Offset")), int(r.getheader("X-Console-End"))
    assert len(data) == 1 << 20 and end - start == len(data) and start > 0, (len(data), start, end)
    assert b"typed-by-the-other-client" in data
    assert must(con, "echo still-here").endswith("still-here")


def check_metrics(api):
    st, m1, _ = api.get("/metrics")
    assert st == 200, m1
    time.sleep(0.5)
    m2 = api.get("/metrics")[1]
    assert [v["id"] for v in m1["vcpus"]] == [0, 1]
    for a, b in zip(m1["vcpus"], m2["vcpus"]):
        assert b["instructions"] >= a["instructions"] > 0, (a, b)
        assert b["cpu_time_ns"] >= a["cpu_time_ns"] > 0, (a, b)
    assert sum(v["instructions"] for v in m2["vcpus"]) > sum(v["instructions"] for v in m1["vcpus"])
    blk = m2["block"][0]
    assert blk["id"] == "root" and blk["read_bytes"] > 0 and blk["read_ops"] > 0, blk
    net = m2["net"][0]
    assert net["id"] == "net0" and net["tx_packets"] > 0 and net["rx_packets"] > 0, net
    assert 1 << 20 < m2["host_rss_bytes"] < 1 << 30, m2
    assert 1 << 20 < m2["guest_mem_touched_bytes"] <= 256 << 20, m2
    print(f"metrics: {m2}", flush=True)


def lifecycle(vessel, d, tmp):
    root = os.path.join(tmp, "root.qcow2")
    subprocess.run([vessel, "disk", "create", root, "--backing", f"{d}/rootfs.ext4"], check=True)
    sock = os.path.join(tmp, "vm1.sock")
    log = os.path.join(tmp, "vm1.log")
    proc = start_vmm(vessel, sock, "vm1", log=log)
    try:
        api = Api(sock)
        st, info, _ = api.get("/vm")
        assert st == 200 and info == {"name": "vm1", "state": "configuring", "exit": None,
                                      "pid": proc.pid, "uptime_ms": 0}, info
        configure(api, d, root=root, nic=True)
        check_schemas(api, "configuring")
        st, drives, _ = api.get("/drives")
        assert drives == [{"id": "root", "path": root, "format": "auto", "read_only": False}]
        con = Console(sock)
        ok(api.action("start"), "start")
        st, body, _ = api.action("start")
        assert st == 409, (st, body)
        con.wait_for(PROMPT, 120, con.wait_for(READY, 120))
        # (Kernel messages may interleave with command output on the console.)
        out = must(con, "echo hello from $(hostname)")
        assert "hello from vessel" in out, out
        out = must(con, "echo cpus=$(grep -c ^processor /proc/cpuinfo)")
        assert "cpus=2" in out, out
        assert "vessel-guest: eth0 10.0.2.15" in con.out.decode(errors="replace")

        # The console log so far, from the API and from --log.
        st, data, r = api.raw("GET", "/console")
        assert st == 200 and int(r.getheader("X-Console-Offset")) == 0 and READY.encode() in data
        st, tail, r = api.raw("GET", f"/console?offset={len(data) - 10}")
        assert int(r.getheader("X-Console-Offset")) == len(data) - 10 and tail.startswith(data[-10:])
        st, _, _ = api.raw("GET", "/console?offset=abc")
        assert st == 400
        with open(log, "rb") as f:
            assert READY.encode() in f.read()

        check_console_clients(api, con, sock)
        check_schemas(api, "running")
        check_metrics(api)
        check_pause(api, con, proc.pid)

        # Reset: the machine restarts in place and the guest boots again.
        mark = len(con.out)
        ok(api.action("reset"), "reset")
        assert api.get("/vm")[1]["state"] == "running"
        con.wait_for(PROMPT, 120, con.wait_for(READY, 120, mark))
        assert uptime(con) < 60
        # A guest reboot restarts it too, in the same process.
        mark = len(con.out)
        con.send("reboot -f\n")
        con.wait_for(PROMPT, 120, con.wait_for(READY, 120, mark))
        assert proc.poll() is None and api.get("/vm")[1]["state"] == "running"
        must(con, "echo persisted > /root/flag && sync")

        # Graceful shutdown through the power button: a clean power-off.
        mark = len(con.out)
        t0 = time.monotonic()
        ok(api.action("shutdown"), "shutdown")
        assert time.monotonic() - t0 < 1.0, "shutdown must answer at once"
        con.wait_for("power button pressed", 60, mark)
        status = wait_exit(proc, 60)
        assert status == 0, f"vmm exit status {status} after a graceful shutdown"
        print(f"shutdown: powered off in {time.monotonic() - t0:.1f} s", flush=True)
        con.close()
        api.close()
        assert not os.path.exists(sock), "the socket is left behind"
        # The file system was unmounted cleanly: the flag is there and fsck is happy.
        r = subprocess.run(["qemu-img", "check", root], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def hard_stop(vessel, d, tmp):
    sock = os.path.join(tmp, "vm2.sock")
    proc = start_vmm(vessel, sock, "vm2")
    try:
        api = Api(sock)
        configure(api, d)
        con = Console(sock)
        ok(api.action("start"), "start")
        con.wait_for(PROMPT, 120, con.wait_for(READY, 120))
        ok(api.action("stop"), "stop")
        st, info, _ = api.get("/vm")  # answered while the VMM lingers
        assert st == 200 and info["state"] == "stopped" and info["exit"] == "stopped", info
        assert info["uptime_ms"] > 0
        st, body, _ = api.action("stop")
        assert st == 409, (st, body)
        status = wait_exit(proc, 30)
        assert status == 5, f"vmm exit status {status} after a hard stop"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    a = ap.parse_args()
    d = guest_dir()
    with tempfile.TemporaryDirectory() as tmp:
        lifecycle(a.vessel, d, tmp)
        hard_stop(a.vessel, d, tmp)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
