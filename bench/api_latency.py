#!/usr/bin/env python3
"""Latency of the VM API (issue 4: state queries under a 1,000-request load,
target p99 < 1 ms).

Starts `vessel vmm` with the default guest (kernel + initramfs, 128 MiB),
waits for its shell, then times from the client side (request written to
response read, raw HTTP over the unix socket):

  get-vm      1,000 GET /vm on one keep-alive connection
  mix         1,000 requests alternating GET /vm and GET /metrics
  new-conn    1,000 GET /vm, each on a new connection
  parallel    4 clients x 250 GET /vm at once (per-request latency)

and prints p50 / p99 / max of each in milliseconds.

Usage: bench/api_latency.py [--vessel build/vessel] [--requests 1000]
"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "boot"))
sys.path.insert(0, os.path.join(TOP, "tests", "api"))
from guest import guest_dir  # noqa: E402
from vmmapi import Api, Console, start_vmm  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def report(name, xs):
    ms = [x * 1000 for x in xs]
    print(f"{name:10s} n={len(ms):5d}  p50 {pct(ms, 50):.3f} ms  p99 {pct(ms, 99):.3f} ms  "
          f"max {max(ms):.3f} ms", flush=True)
    return pct(ms, 99)


def timed(api, url):
    t0 = time.perf_counter()
    st, body, _ = api.get(url)
    dt = time.perf_counter() - t0
    if st != 200:
        raise SystemExit(f"GET {url}: {st} {body}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default=os.path.join(TOP, "build", "vessel"))
    ap.add_argument("--requests", type=int, default=1000)
    a = ap.parse_args()
    d = guest_dir()
    n = a.requests
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "bench.sock")
        proc = start_vmm(a.vessel, sock, "bench")
        try:
            api = Api(sock)
            api.put("/machine-config", {"vcpus": 1, "memory_mib": 128})
            api.put("/boot-source", {"kernel": f"{d}/Image", "initrd": f"{d}/initramfs.cpio.gz"})
            con = Console(sock)
            api.action("start")
            con.wait_for("vessel# ", 120)
            time.sleep(1.0)  # let the boot settle
            for _ in range(50):  # warm-up
                timed(api, "/vm")
            worst = report("get-vm", [timed(api, "/vm") for _ in range(n)])
            worst = max(worst, report("mix", [timed(api, "/vm" if i % 2 == 0 else "/metrics")
                                              for i in range(n)]))
            lat = []
            for _ in range(n):
                t0 = time.perf_counter()
                c = Api(sock)
                c.get("/vm")
                c.close()
                lat.append(time.perf_counter() - t0)
            report("new-conn", lat)
            lat, lock = [], threading.Lock()

            def client():
                c = Api(sock)
                mine = [timed(c, "/vm") for _ in range(n // 4)]
                c.close()
                with lock:
                    lat.extend(mine)
            ts = [threading.Thread(target=client) for _ in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            report("parallel", lat)
            print(f"state queries p99 {worst:.3f} ms (target < 1 ms): "
                  f"{'met' if worst < 1.0 else 'NOT met'}")
            api.action("stop")
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
