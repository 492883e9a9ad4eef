#!/usr/bin/env python3
"""Bad input to the VM API, in raw HTTP over the unix socket of `vessel vmm`
(no guest needed: the machine that gets started runs Debian's OpenSBI only).

Every bad request answers 4xx with {"error": "..."} and changes nothing:
malformed JSON, unknown fields, wrong types, out-of-range values, bodies over
64 KiB (with Content-Length and chunked), files that do not exist, actions
invalid in the current state (resume while configuring, start twice),
configuration after start, unknown paths and methods, too many devices.
Clients that connect and say nothing (or stop half-way through a request)
hold up neither other clients nor the VM; 20 clients at once are all served.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import apischema  # noqa: E402
from vmmapi import Api, start_vmm  # noqa: E402

OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def expect(res, status, what):
    st, body, r = res
    check(st == status, f"{what}: expected {status}, got {st} {body}")
    if status >= 400:
        check(isinstance(body, dict) and list(body) == ["error"] and body["error"],
              f"{what}: error body {body!r}")
        check(r.getheader("Content-Type") == "application/json", f"{what}: content type")
        problems = apischema.conforms(apischema.ERROR, body)
        check(not problems, f"{what}: error body against openapi.yaml: {problems}")
    return body


def snapshot(api):
    return {p: api.get(p)[1] for p in ("/vm", "/machine-config", "/boot-source", "/drives",
                                        "/network-interfaces", "/rng")}


def bad_bodies(api):
    before = snapshot(api)
    for body in ["{bad", "", "[]", "\"str\"", "{\"vcpus\":1,}", "{} x", "{\"vcpus\":1,\"vcpus\":2}",
                 "{\"vcpus\":1}\x00", "\xff\xfe", "{\"cpuset\":\"0\\u0000\"}", "null"]:
        expect(api.put("/machine-config", body=body), 400, f"machine-config body {body!r}")
    cases = [
        ("/machine-config", {"vcpus": 1, "foo": 1}, "unknown field"),
        ("/machine-config", {"vcpus": "2"}, "vcpus string"),
        ("/machine-config", {"vcpus": 2.0}, "vcpus real"),
        ("/machine-config", {"vcpus": True}, "vcpus bool"),
        ("/machine-config", {"vcpus": None}, "vcpus null"),
        ("/machine-config", {"vcpus": 0}, "vcpus 0"),
        ("/machine-config", {"vcpus": 9}, "vcpus 9"),
        ("/machine-config", {"vcpus": 2 ** 63 - 1}, "vcpus huge"),
        ("/machine-config", {"vcpus": -(2 ** 63)}, "vcpus negative"),
        ("/machine-config", {"memory_mib": 15}, "memory 15"),
        ("/machine-config", {"memory_mib": 65537}, "memory 65537"),
        ("/machine-config", {"memory_mib": 4294967297}, "memory wrapping"),
        ("/machine-config", {"memory_mib": 1e9}, "memory real"),
        ("/machine-config", {"cpuset": 5}, "cpuset int"),
        ("/machine-config", {"cpuset": "a-b"}, "cpuset syntax"),
        ("/machine-config", {"cpuset": "1-0"}, "cpuset reversed"),
        ("/machine-config", {"cpuset": "0,"}, "cpuset trailing comma"),
        ("/machine-config", {"cpuset": str(os.cpu_count() + 7)}, "cpuset not allowed"),
        ("/machine-config", {"cpuset": "99999"}, "cpuset beyond CPU_SETSIZE"),
        ("/boot-source", {"kernel": "/nonexistent/Image"}, "kernel missing"),
        ("/boot-source", {"initrd": "/"}, "initrd a directory"),
        ("/boot-source", {"firmware": None}, "firmware null"),
        ("/boot-source", {"append": 5}, "append int"),
        ("/boot-source", {"kernel": ["x"]}, "kernel array"),
        ("/boot-source", {"Kernel": "x"}, "field names are case-sensitive"),
        ("/drives/d0", {"path": "/nonexistent/disk.img"}, "disk missing"),
        ("/drives/d0", {}, "disk without path"),
        ("/drives/d0", {"path": 5}, "disk path int"),
        ("/drives/d0", {"path": ""}, "disk path empty"),
        ("/drives/d0", {"path": "/dev/null", "format": "vmdk"}, "disk format"),
        ("/drives/d0", {"path": "/dev/null", "read_only": "yes"}, "read_only string"),
        ("/drives/a%20b", {"path": "/dev/null"}, "drive id with a space"),
        ("/drives/" + "x" * 65, {"path": "/dev/null"}, "drive id too long"),
        ("/network-interfaces/n0", {"backend": "tap"}, "nic backend"),
        ("/network-interfaces/n0", {}, "nic without backend"),
        ("/network-interfaces/n0", {"backend": "user", "hostfwd": "tcp::1-:2"}, "hostfwd string"),
        ("/network-interfaces/n0", {"backend": "user", "hostfwd": [1]}, "hostfwd ints"),
        ("/network-interfaces/n0", {"backend": "user", "hostfwd": ["nonsense"]}, "hostfwd rule"),
        ("/network-interfaces/n0", {"backend": "user", "hostfwd": ["tcp::1-:2,restrict=on"]},
         "hostfwd smuggling an option"),
        ("/network-interfaces/n0", {"backend": "user", "mac": "52:54:00:12:34"}, "mac short"),
        ("/network-interfaces/n0", {"backend": "user", "mac": "53:54:00:12:34:56"}, "mac multicast"),
        ("/network-interfaces/n0", {"backend": "user", "mac": "52:54:00:12:34:5g"}, "mac hex"),
        ("/rng", {"enabled": "yes"}, "rng string"),
        ("/rng", {}, "rng empty"),
        ("/actions", {"action": 1}, "action int"),
        ("/actions", {"action": "fly"}, "action unknown"),
        ("/actions", {}, "action missing"),
        ("/actions", {"action": "start", "now": True}, "action extra field"),
    ]
    for path, obj, what in cases:
        expect(api.put(path, obj), 400, what)
    # Bodies over 64 KiB: with Content-Length (answered before reading it) and chunked.
    big = json.dumps({"append": "a" * (70 << 10)})
    expect(api.put("/boot-source", body=big), 400, "70 KiB body")
    st, data, r = chunked_put("/boot-source", big.encode(), api.path)
    check(st == 400 and b"65536" in data, f"70 KiB chunked body: {st} {data[:100]!r}")
    # A body announced far too big is refused before it is sent, and the connection closed.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(api.path)
    s.sendall(b"PUT /boot-source HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n{")
    resp = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        resp += b
    s.close()
    check(resp.startswith(b"HTTP/1.1 400 ") and b"65536" in resp, f"100 MB body: {resp[:80]!r}")
    # At the limit it is fine (a long command line).
    exact = json.dumps({"append": "console=ttyS0 " + "x" * 100})
    expect(api.put("/boot-source", body=exact), 204, "small body")
    expect(api.put("/boot-source", {}), 204, "boot-source back to defaults")
    after = snapshot(api)
    check(after == before, f"bad requests changed the VM: {before} -> {after}")


def chunked_put(path, body, sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
              "Content-Type: application/json\r\n\r\n".encode())
    for i in range(0, len(body), 8192):
        part = body[i:i + 8192]
        s.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += s.recv(4096)
    head, rest = resp.split(b"\r\n\r\n", 1)
    n = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0]
            .split(b":")[1])
    while len(rest) < n:
        rest += s.recv(4096)
    s.close()
    return int(head.split()[1]), rest, None


def paths_and_methods(api):
    expect(api.get("/nope"), 404, "unknown path")
    expect(api.get("/drives/"), 404, "drive without id")
    expect(api.get("/drives/a/b"), 404, "drive id with a slash")
    expect(api.get("/drives/d9"), 404, "no such drive")
    expect(api.get("/network-interfaces/n9"), 404, "no such nic")
    st, body, r = api.call("POST", "/vm")
    check(st == 405 and r.getheader("Allow") == "GET", f"POST /vm: {st} {r.getheader('Allow')}")
    st, body, r = api.call("GET", "/actions")
    check(st == 405 and r.getheader("Allow") == "PUT", f"GET /actions: {st}")
    st, body, r = api.call("DELETE", "/machine-config")
    check(st == 405 and r.getheader("Allow") == "GET, PUT", f"DELETE /machine-config: {st}")
    expect(api.get("/console/attach"), 400, "attach without upgrade headers")
    expect(api.get("/console?offset=-1"), 400, "negative console offset")


def actions_while_configuring(api):
    before = snapshot(api)
    for a in ("resume", "pause", "shutdown", "reset"):
        expect(api.action(a), 409, f"{a} while configuring")
    check(snapshot(api) == before, "invalid actions changed the VM")


def too_many_devices(api, tmp):
    disks = []
    for i in range(8):
        p = os.path.join(tmp, f"d{i}.raw")
        with open(p, "wb") as f:
            f.truncate(1 << 20)
        disks.append(p)
    for i in range(7):
        expect(api.put(f"/drives/d{i}", {"path": disks[i], "format": "raw"}), 204, f"drive {i}")
    expect(api.put("/drives/d7", {"path": disks[7]}), 400, "an 8th device")
    expect(api.put("/rng", {"enabled": True}), 400, "rng with no slot left")
    expect(api.put("/network-interfaces/n0", {"backend": "user"}), 400, "nic with no slot left")
    # Replacing a drive keeps its place and needs no new slot.
    expect(api.put("/drives/d3", {"path": disks[7], "read_only": True}), 204, "replace d3")
    drives = api.get("/drives")[1]
    check([d["id"] for d in drives] == [f"d{i}" for i in range(7)], f"drive order {drives}")
    check(drives[3] == {"id": "d3", "path": disks[7], "format": "auto", "read_only": True},
          f"replaced drive {drives[3]}")


def silent_clients(path):
    """Connections that say nothing, or stop half-way through their headers."""
    held = []
    for i in range(10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        if i % 2:
            s.sendall(b"GET /vm HTTP/1.1\r\nHost: x\r\n")  # and never the end
        held.append(s)
    return held


def served_quickly(path, what, limit=1.0):
    t0 = time.monotonic()
    api = Api(path, timeout=5)
    st, info, _ = api.get("/vm")
    api.close()
    dt = time.monotonic() - t0
    check(st == 200 and dt < limit, f"{what}: GET /vm {st} in {dt:.3f} s")
    return info


def concurrent_clients(path, n=20, each=25):
    errors = []

    def worker(k):
        try:
            api = Api(path, timeout=10)
            for i in range(each):
                st, info, _ = api.get("/vm")
                if st != 200 or info["name"] != "badin":
                    errors.append(f"client {k}: GET /vm {st}")
                st, body, _ = api.put("/machine-config", {"vcpus": "x"})
                if st != 400:
                    errors.append(f"client {k}: bad PUT {st}")
                st, m, _ = api.get("/metrics")
                if st != 200 or "vcpus" not in m:
                    errors.append(f"client {k}: metrics {st}")
            api.close()
        except Exception as e:  # noqa: BLE001 - any failure of a client is a test failure
            errors.append(f"client {k}: {e!r}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check(not errors, f"concurrent clients: {errors[:5]}")
    print(f"{n} concurrent clients x {each * 3} requests in {time.monotonic() - t0:.2f} s",
          flush=True)


def signals_and_flags(vessel, tmp):
    """SIGTERM stops the VMM (status 5, socket removed); bad flags fail clearly."""
    sock = os.path.join(tmp, "sig.sock")
    proc = start_vmm(vessel, sock, "sig")
    proc.send_signal(15)
    st = proc.wait(30)
    check(st == 5 and not os.path.exists(sock), f"SIGTERM: status {st}")
    for argv, status, text in [
            (["--api-sock", sock, "--log", "/nonexistent/dir/log"], 1, "--log"),
            (["--api-sock", "/nonexistent/dir/x.sock"], 1, "--api-sock"),
            (["--api-sock", "/tmp/" + "x" * 120], 1, "longer than"),
            (["--api-sock", sock, "--bogus"], 2, "unknown option"),
            (["--api-sock", sock, "extra"], 2, "unexpected argument"),
            (["--api-sock"], 2, "needs an argument")]:
        r = subprocess.run([vessel, "vmm"] + argv, capture_output=True, text=True, timeout=10)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == status and len(lines) == 1 and lines[0].startswith("vessel: ")
              and text in lines[0], f"vmm {argv}: {r.returncode} {r.stderr!r}")
    # A regular file where the socket should go is not replaced.
    path = os.path.join(tmp, "file.sock")
    with open(path, "w") as f:
        f.write("keep me")
    r = subprocess.run([vessel, "vmm", "--api-sock", path], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 1 and open(path).read() == "keep me", f"vmm on a file: {r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    a = ap.parse_args()
    problems = apischema.spec_problems()
    check(not problems, f"docs/api/openapi.yaml: {problems}")
    if problems is None:
        print("openapi-spec-validator not installed: openapi.yaml not validated")
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "vm.sock")
        r = subprocess.run([a.vessel, "vmm"], capture_output=True, text=True)
        check(r.returncode == 2 and "--api-sock" in r.stderr, f"vmm without --api-sock: {r}")
        proc = start_vmm(a.vessel, sock, "badin")
        try:
            # A second VMM on a live socket refuses to start.
            r = subprocess.run([a.vessel, "vmm", "--api-sock", sock], capture_output=True,
                               text=True, timeout=10)
            check(r.returncode == 1 and "another process" in r.stderr, f"second vmm: {r}")
            held = silent_clients(sock)
            api = Api(sock)
            served_quickly(sock, "with silent clients")
            bad_bodies(api)
            paths_and_methods(api)
            actions_while_configuring(api)
            too_many_devices(api, tmp)
            cpus = sorted(os.sched_getaffinity(0))
            pin = cpus[-1]
            expect(api.put("/machine-config", {"vcpus": 2, "memory_mib": 64, "cpuset": str(pin)}),
                   204, "config")
            expect(api.put("/boot-source", {"firmware": OPENSBI}), 204, "firmware")
            # A bad firmware image fails the start and leaves the VM configuring.
            junk = os.path.join(tmp, "junk.bin")
            with open(junk, "wb") as f:
                f.write(b"")
            expect(api.put("/boot-source", {"firmware": junk}), 204, "empty firmware file")
            expect(api.action("start"), 400, "start with an empty firmware")
            check(api.get("/vm")[1]["state"] == "configuring", "failed start changed the state")
            expect(api.put("/boot-source", {"firmware": OPENSBI}), 204, "firmware")
            expect(api.action("start"), 204, "start")
            expect(api.action("start"), 409, "start twice")
            expect(api.action("resume"), 409, "resume while running")
            expect(api.put("/machine-config", {"vcpus": 1}), 409, "machine-config after start")
            expect(api.put("/drives/late", {"path": "/dev/null"}), 409, "drive after start")
            expect(api.put("/rng", {"enabled": False}), 409, "rng after start")
            check(api.get("/machine-config")[1]["vcpus"] == 2, "config changed after start")
            check(api.get("/vm")[1]["state"] == "running", "state after bad actions")
            served_quickly(sock, "running, with silent clients")
            # cpuset: both vCPU threads run on the one host CPU listed (they
            # name themselves as they start: on a loaded host, give them time).
            vcpus = {}
            deadline = time.monotonic() + 10
            while len(vcpus) < 2 and time.monotonic() < deadline:
                vcpus = {}
                for tid in os.listdir(f"/proc/{proc.pid}/task"):
                    try:
                        with open(f"/proc/{proc.pid}/task/{tid}/comm") as f:
                            name = f.read().strip()
                        if name.startswith("vcpu"):
                            vcpus[name] = os.sched_getaffinity(int(tid))
                    except OSError:
                        pass  # a thread that just ended
                if len(vcpus) < 2:
                    time.sleep(0.05)
            check(vcpus == {"vcpu0": {pin}, "vcpu1": {pin}}, f"vCPU affinity {vcpus}")
            concurrent_clients(sock)
            problems = apischema.check_gets(api)
            check(problems is None or not problems, f"answers against openapi.yaml: {problems}")
            if problems is None:
                print("openapi-schema-validator not installed: answers not checked against the schema")
            m = api.get("/metrics")[1]
            check(len(m["vcpus"]) == 2 and all(v["instructions"] > 0 for v in m["vcpus"]),
                  f"metrics of the running machine: {m['vcpus']}")
            served_quickly(sock, "after the concurrent clients")
            expect(api.action("pause"), 204, "pause")
            expect(api.action("pause"), 409, "pause twice")
            expect(api.action("resume"), 204, "resume")
            expect(api.action("pause"), 204, "pause again")
            expect(api.action("reset"), 204, "reset while paused")
            check(api.get("/vm")[1]["state"] == "running", "reset from paused runs")
            expect(api.action("pause"), 204, "pause before stop")
            expect(api.action("stop"), 204, "stop while paused")
            check(api.get("/vm")[1] == {"name": "badin", "state": "stopped", "exit": "stopped",
                                       "pid": proc.pid,
                                       "uptime_ms": api.get("/vm")[1]["uptime_ms"]},
                  "state after stop")
            for act in ("start", "resume", "pause", "reset", "shutdown", "stop"):
                expect(api.action(act), 409, f"{act} when stopped")
            for s in held:
                s.close()
            st = proc.wait(30)
            check(st == 5, f"exit status after stop: {st}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        signals_and_flags(a.vessel, tmp)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
