#!/usr/bin/env python3
"""Live migration between two VMM processes on this host (suite 'e2e').

The counting guest migrates while it runs: the source's console output up to
the switch followed by the destination's is one run of consecutive values,
the source process ends, the network is up at the destination.  (No disk:
the destination cannot open an image the source holds; shared storage and
--copy-storage are not done yet.)  Then a
destination killed in the middle of the transfer, and a 'destination' that
speaks garbage: the source reports an error and keeps running, untouched.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import struct
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snaptest import (NODISK_COUNTER, READY, Api, Console, assert_consecutive, configure,  # noqa: E402
                      counters, guest_dir, kill, ok, start_vmm, wait_counter)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def source(vessel, tmp, d, disk):
    sock = os.path.join(tmp, "src.sock")
    proc = start_vmm(vessel, sock, "src")
    api = Api(sock, timeout=120)
    configure(api, d, disk)
    ok(api.action("start"), "start")
    con = Console(sock)
    con.wait_for(READY, 120)
    time.sleep(0.5)
    con.send(NODISK_COUNTER + "\n")
    wait_counter(con, 0, 20)
    return proc, api, con


def destination(vessel, tmp, d, disk, name, port):
    sock = os.path.join(tmp, f"{name}.sock")
    proc = start_vmm(vessel, sock, name)
    api = Api(sock, timeout=120)
    configure(api, d, disk)
    result = {}

    def incoming():
        try:
            result["res"] = api.put("/migrate/incoming", {"listen": f"tcp:127.0.0.1:{port}"})
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


def migrate_live(args, tmp, d, disk, procs, src, api, con):
    # 4. The real thing, while the counter runs.
    port = free_port()
    dproc, dapi, dsock, t, result = destination(args.vessel, tmp, d, disk, "dst", port)
    procs.append(dproc)
    dcon = Console(dsock)
    st, stats, _ = api.put("/migrate", {"to": f"tcp:127.0.0.1:{port}"})
    assert st == 200, (st, stats)
    t.join(30)
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
    print("migrate: ok (live)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    # Without --live: the failure cases only (1-3).  With it: only the real migration (4),
    # which is left out of ./test while its known bug is open (docs/snapshot.md).
    ap.add_argument("--live", action="store_true")
    args = ap.parse_args()
    d = guest_dir()
    tmp = tempfile.mkdtemp(prefix="vessel-mig-")
    procs = []
    try:
        disk = None
        src, api, con = source(args.vessel, tmp, d, disk)
        procs.append(src)

        if args.live:
            migrate_live(args, tmp, d, disk, procs, src, api, con)
            return
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
        dproc, dapi, _, _, _ = destination(args.vessel, tmp, d, disk, "cut", port)
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
            gproc, gapi, _, gt, gres = destination(args.vessel, tmp, d, disk, "g", port)
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

    finally:
        for p in procs:
            kill(p)
        shutil.rmtree(tmp, ignore_errors=True)
    print("migrate: ok (failure cases)")


if __name__ == "__main__":
    main()
