#!/usr/bin/env python3
"""Density and start-up of managed VMs (issue 4's benchmark), through the CLI.

Defines and starts N VMs (default 50) of 128 MiB with the default guest in a
temporary state directory, then reports:

  shells     time from the first 'vessel start' until every VM's console log
             shows the shell prompt (polled with 'vessel logs'), and the
             median time per VM from its own start
  rss        total host RSS of the VMM processes (VmRSS of /proc/PID/status)
             and, per VM, RSS beyond the guest memory it touched
             (metrics host_rss_bytes - guest_mem_touched_bytes): median, max
  idle cpu   host CPU of all VMM processes while the guests idle for 20 s
             (utime+stime ticks of /proc/PID/stat): total, per-VM median, max
  api        latency of GET /vm on one VM's socket, 1000 sequential requests
             while all VMs run: p50, p99

then stops them all (graceful, in parallel) and removes them.

Usage: bench/density.py [--vessel build/vessel] [--count 50] [--memory 128M] [--idle 20]
Targets: each idle VM < 1 % of a core and < 24 MiB RSS beyond touched guest memory;
API p99 < 1 ms.
"""
import argparse
import concurrent.futures
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "boot"))
from guest import PROMPT, guest_dir  # noqa: E402

MiB = 1 << 20


def cli(vessel, env, *args, check=True):
    p = subprocess.run([vessel] + list(args), env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, errors="replace", timeout=300)
    if check and p.returncode:
        raise SystemExit(f"vessel {' '.join(args)}: status {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def vmrss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def get_vm(sock_path):
    """One raw HTTP/1.1 GET /vm on the unix socket; returns the seconds it took."""
    t0 = time.perf_counter()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(b"GET /vm HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    dt = time.perf_counter() - t0
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    return dt


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default=os.path.join(TOP, "build", "vessel"))
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--memory", default="128M")
    ap.add_argument("--idle", type=float, default=20.0)
    a = ap.parse_args()
    d = guest_dir()
    hz = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory(prefix="vessel-density-") as tmp:
        env = dict(os.environ, VESSEL_STATE_DIR=os.path.join(tmp, "state"))
        names = [f"d{i:02d}" for i in range(a.count)]
        for n in names:
            cli(a.vessel, env, "create", n, "--memory", a.memory, "--kernel", f"{d}/Image",
                "--initrd", f"{d}/initramfs.cpio.gz")
        pids, started, ready = {}, {}, {}
        try:
            t0 = time.monotonic()
            for n in names:
                started[n] = time.monotonic()
                out = cli(a.vessel, env, "start", n)
                pids[n] = int(out.rsplit("pid ", 1)[1].rstrip(")\n"))
            t_started = time.monotonic() - t0
            while len(ready) < len(names):
                for n in names:
                    if n not in ready and PROMPT in cli(a.vessel, env, "logs", n):
                        ready[n] = time.monotonic()
                if time.monotonic() - t0 > 900:
                    raise SystemExit(f"only {len(ready)} of {len(names)} shells after 900 s")
                time.sleep(0.5)
            t_all = max(ready.values()) - t0
            per_vm = [ready[n] - started[n] for n in names]
            print(f"{a.count} VMs of {a.memory}: all started (API up, configured) after "
                  f"{t_started:.1f} s; all shells after {t_all:.1f} s "
                  f"(per VM from its start: median {statistics.median(per_vm):.1f} s, "
                  f"max {max(per_vm):.1f} s)")

            # Let the boots settle, then measure idle.
            time.sleep(2)
            c0 = {n: ticks(pids[n]) for n in names}
            time.sleep(a.idle)
            c1 = {n: ticks(pids[n]) for n in names}
            cpu = {n: (c1[n] - c0[n]) / hz / a.idle * 100 for n in names}
            total_cpu = sum(cpu.values())
            print(f"idle CPU over {a.idle:.0f} s: total {total_cpu:.1f} % of a core; per VM "
                  f"median {statistics.median(cpu.values()):.2f} %, max {max(cpu.values()):.2f} % "
                  f"(target < 1 %)")

            rss = {n: vmrss(pids[n]) for n in names}
            beyond, touched = {}, {}
            for n in names:
                m = json.loads(cli(a.vessel, env, "inspect", n))["metrics"]
                beyond[n] = (m["host_rss_bytes"] - m["guest_mem_touched_bytes"]) / MiB
                touched[n] = m["guest_mem_touched_bytes"] / MiB
            print(f"host RSS: total {sum(rss.values()) / MiB:.0f} MiB for {a.count} VMs "
                  f"(median {statistics.median(rss.values()) / MiB:.1f} MiB per VM); guest memory "
                  f"touched: median {statistics.median(touched.values()):.1f} MiB; RSS beyond it: "
                  f"median {statistics.median(beyond.values()):.1f} MiB, max "
                  f"{max(beyond.values()):.1f} MiB (target < 24 MiB)")

            sock = os.path.join(env["VESSEL_STATE_DIR"], names[0], "api.sock")
            for _ in range(20):
                get_vm(sock)
            lat = [get_vm(sock) for _ in range(1000)]
            print(f"API GET /vm, 1000 requests with {a.count} VMs running: p50 "
                  f"{pct(lat, 50) * 1e3:.3f} ms, p99 {pct(lat, 99) * 1e3:.3f} ms (target p99 < 1 ms)")
        finally:
            t1 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                outs = list(ex.map(lambda n: cli(a.vessel, env, "stop", n, "--timeout", "30",
                                                 check=False), names))
            how = [o.rsplit("(", 1)[-1].rstrip(")\n") for o in outs if "stopped" in o]
            print(f"stopped {len(how)} VMs in {time.monotonic() - t1:.1f} s "
                  f"({how.count('poweroff')} by guest power-off)")
            for n in names:
                cli(a.vessel, env, "rm", "--force", n, check=False)


if __name__ == "__main__":
    sys.exit(main())
