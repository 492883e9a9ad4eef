#!/usr/bin/env python3
"""Bad --disk/--net/--rng input: one 'vessel: ' line, the right exit status,
and no VM started (nothing half-done)."""
import argparse
import os
import subprocess
import sys
import tempfile


def run(vessel, args):
    p = subprocess.run([vessel, "run", "--memory", "64M"] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, text=True)
    return p.returncode, p.stdout, p.stderr


def expect_error(vessel, args, status, words):
    rc, out, err = run(vessel, args)
    lines = err.strip().splitlines()
    assert rc == status, f"{args}: status {rc}, expected {status}; stderr: {err}"
    assert len(lines) == 1 and lines[0].startswith("vessel: "), f"{args}: stderr {err!r}"
    for w in words:
        assert w in lines[0], f"{args}: {w!r} not in {lines[0]!r}"
    assert out == "", f"{args}: the VM started: {out[:200]!r}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    a = ap.parse_args()
    v = a.vessel
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.qcow2")
        with open(bad, "wb") as f:
            f.write(b"QFI\xfb" + b"\xff" * 200)  # qcow2 magic, nonsense header
        raw = os.path.join(tmp, "ok.raw")
        with open(raw, "wb") as f:
            f.truncate(1 << 20)
        expect_error(v, ["--disk", os.path.join(tmp, "missing.img")], 1, ["missing.img"])
        expect_error(v, ["--disk", bad], 1, ["bad.qcow2"])
        expect_error(v, ["--disk", raw + ",format=vmdk"], 2, ["format"])
        expect_error(v, ["--disk", raw + ",bogus=1"], 2, ["bogus"])
        expect_error(v, ["--disk", ",readonly"], 2, ["path"])
        expect_error(v, ["--disk"], 2, ["needs an argument"])
        expect_error(v, ["--net", "tap"], 2, ["--net"])
        expect_error(v, ["--net", "user,hostfwd=tcp::x-:22"], 2, ["hostfwd"])
        expect_error(v, ["--net", "user,hostfwd=tcp:127.0.0.1:70000-:22"], 2, ["hostfwd"])
        expect_error(v, ["--rng"] * 9, 1, ["slot"])
        # A bad flag after good devices: the earlier devices are released, nothing runs.
        expect_error(v, ["--disk", raw, "--rng", "--net", "user", "--disk", bad], 1, ["bad.qcow2"])
    print("PASS: device flags")


if __name__ == "__main__":
    sys.exit(main())
