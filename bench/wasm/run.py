#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark Vessel's WebAssembly engine against native code and Node (V8).

Builds each C kernel twice with clang-14 (-O2, natively and for wasm32-wasi), runs
it natively, under 'vessel wasm run' (machine code from Vessel's baseline JIT), under
'vessel wasm run --interp' (the interpreter only) and under Node's built-in WASI,
several rounds in alternating order, and prints the median kernel time of each and
the ratios vessel/native, vessel/node and interp/native.  The kernels time themselves
(kernel_ns), so module loading and compilation are not in those figures; start-up is
measured apart as the median wall time of 'vessel wasm run' (JIT and interpreter) on
a tiny module and on a C hello world, compilation included.

usage: bench/wasm/run.py [--vessel build/vessel] [--rounds 5] [--startup-runs 30]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KERNELS = ["sha256", "matmul", "sort", "interp"]
TARGET_RATIO = 8.0
TARGET_STARTUP_MS = 5.0


def build(out):
    os.makedirs(out, exist_ok=True)
    for k in KERNELS + ["hello"]:
        src = os.path.join(HERE, k + ".c")
        subprocess.run(["clang-14", "-O2", src, "-o", os.path.join(out, k)], check=True)
        subprocess.run(["clang-14", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", src,
                        "-o", os.path.join(out, k + ".wasm")], check=True)
    subprocess.run(["wat2wasm", os.path.join(HERE, "tiny.wat"), "-o",
                    os.path.join(out, "tiny.wasm")], check=True)


def run_kernel(argv):
    r = subprocess.run(argv, capture_output=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)}: status {r.returncode}: {r.stderr.decode(errors='replace')}")
    lines = r.stdout.decode().splitlines()
    result = next(l for l in lines if " result " in l)
    ns = int(next(l for l in lines if l.startswith("kernel_ns")).split()[1])
    return result, ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default=os.path.join(ROOT, "build", "vessel"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--startup-runs", type=int, default=30)
    ap.add_argument("--no-node", action="store_true")
    a = ap.parse_args()
    out = os.path.join(HERE, "out")
    build(out)
    # --no-liftoff: V8 compiles with TurboFan up front; with its baseline compiler a
    # long-running main() never tiers up (wasm has no on-stack replacement).
    node = ["node", "--no-warnings", "--no-liftoff", os.path.join(HERE, "node_wasi.mjs")]
    runners = {
        "native": lambda k: [os.path.join(out, k)],
        "vessel": lambda k: [a.vessel, "wasm", "run", os.path.join(out, k + ".wasm")],
        "interp": lambda k: [a.vessel, "wasm", "run", "--interp", os.path.join(out, k + ".wasm")],
    }
    if not a.no_node:
        runners["node"] = lambda k: node + [os.path.join(out, k + ".wasm")]

    times = {k: {r: [] for r in runners} for k in KERNELS}
    results = {k: set() for k in KERNELS}
    for rnd in range(a.rounds):
        order = list(runners) if rnd % 2 == 0 else list(reversed(list(runners)))
        for k in KERNELS:
            for r in order:
                res, ns = run_kernel(runners[r](k))
                times[k][r].append(ns)
                results[k].add(res)
    ok = True
    print(f"kernel times, median of {a.rounds} rounds (ms); clang-14 -O2 for both builds")
    hdr = f"{'kernel':8} {'native':>9} {'vessel':>9} {'interp':>9}"
    if "node" in runners:
        hdr += f" {'node':>9}"
    hdr += f" {'vessel/native':>14}"
    if "node" in runners:
        hdr += f" {'vessel/node':>12}"
    hdr += f" {'interp/native':>14}"
    print(hdr)
    for k in KERNELS:
        med = {r: statistics.median(times[k][r]) / 1e6 for r in runners}
        line = f"{k:8} {med['native']:9.1f} {med['vessel']:9.1f} {med['interp']:9.1f}"
        if "node" in runners:
            line += f" {med['node']:9.1f}"
        ratio = med["vessel"] / med["native"]
        line += f" {ratio:13.2f}x"
        if "node" in runners:
            line += f" {med['vessel'] / med['node']:11.2f}x"
        line += f" {med['interp'] / med['native']:13.2f}x"
        if ratio > TARGET_RATIO:
            line += f"  (over the {TARGET_RATIO:g}x target)"
        if len(results[k]) != 1:
            line += "  RESULTS DIFFER: " + " / ".join(sorted(results[k]))
            ok = False
        print(line)

    print(f"\nstart-up: median wall time of {a.startup_runs} runs of 'vessel wasm run' (ms)")
    for name, flags in [("tiny", []), ("hello", []), ("tiny", ["--interp"]),
                        ("hello", ["--interp"])]:
        argv = [a.vessel, "wasm", "run"] + flags + [os.path.join(out, name + ".wasm")]
        walls = []
        for _ in range(a.startup_runs):
            t0 = time.perf_counter()
            r = subprocess.run(argv, capture_output=True)
            walls.append((time.perf_counter() - t0) * 1e3)
            if r.returncode != 0:
                sys.exit(f"{name}: status {r.returncode}: {r.stderr.decode(errors='replace')}")
        size = os.path.getsize(os.path.join(out, name + ".wasm"))
        med = statistics.median(walls)
        flag = "" if med < TARGET_STARTUP_MS else f"  (over the {TARGET_STARTUP_MS:g} ms target)"
        label = name + ".wasm" + (" --interp" if flags else "")
        print(f"{label:21} {size:7d} bytes  {med:6.2f} ms{flag}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
