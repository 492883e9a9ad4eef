"""A raw HTTP client for the VMM's API socket (docs/api/openapi.yaml).

http.client over a unix socket, plus the console attach upgrade. Used by the
tests in this directory and by bench/api_latency.py.
"""
import http.client
import json
import os
import select
import socket
import subprocess
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client connection whose transport is a unix stream socket."""

    def __init__(self, path, timeout=30.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Api:
    """One keep-alive connection to a VMM; call() returns (status, parsed body, headers)."""

    def __init__(self, path, timeout=30.0):
        self.path = path
        self.timeout = timeout
        self.conn = UnixHTTPConnection(path, timeout)

    def raw(self, method, url, body=None, headers=None):
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = body.encode()
        try:
            self.conn.request(method, url, body=body, headers=hdrs)
            r = self.conn.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            # The server may close a connection (an early 400): retry once on a new one.
            self.conn.close()
            self.conn = UnixHTTPConnection(self.path, self.timeout)
            self.conn.request(method, url, body=body, headers=hdrs)
            r = self.conn.getresponse()
            data = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = UnixHTTPConnection(self.path, self.timeout)
        return r.status, data, r

    def call(self, method, url, obj=None, body=None):
        if obj is not None:
            body = json.dumps(obj)
        status, data, r = self.raw(method, url, body,
                                   {"Content-Type": "application/json"} if body is not None else None)
        parsed = None
        if data and (r.getheader("Content-Type") or "").startswith("application/json"):
            parsed = json.loads(data)
        return status, parsed, r

    def get(self, url):
        return self.call("GET", url)

    def put(self, url, obj=None, body=None):
        return self.call("PUT", url, obj, body)

    def action(self, name):
        return self.put("/actions", {"action": name})

    def close(self):
        self.conn.close()


def wait_socket(path, proc, timeout=10.0):
    """Wait for the VMM to serve on 'path'."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"vmm exited early with status {proc.returncode}")
        if os.path.exists(path):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                s.close()
                return
            except OSError:
                pass
        time.sleep(0.02)
    raise AssertionError(f"vmm did not listen on {path}")


def start_vmm(vessel, sock, name="vm", log=None, extra=None):
    if os.path.exists(sock):
        os.unlink(sock)
    argv = [vessel, "vmm", "--api-sock", sock, "--name", name]
    if log:
        argv += ["--log", log]
    argv += extra or []
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    wait_socket(sock, proc)
    return proc


class Console:
    """GET /console/attach: a raw byte stream to and from the guest's serial port."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.sock.sendall(b"GET /console/attach HTTP/1.1\r\nHost: localhost\r\n"
                          b"Connection: Upgrade\r\nUpgrade: vessel-console\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            b = self.sock.recv(1)
            if not b:
                raise AssertionError("console attach: connection closed")
            head += b
        status = head.split(b"\r\n")[0]
        if b" 101 " not in status + b" ":
            raise AssertionError(f"console attach: {status!r}")
        self.out = b""
        self.seq = 0

    def read_some(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        b = self.sock.recv(65536)
        if not b:
            raise AssertionError("console closed")
        self.out += b
        return True

    def wait_for(self, text, timeout=60.0, start=0):
        if isinstance(text, str):
            text = text.encode()
        deadline = time.monotonic() + timeout
        while True:
            i = self.out.find(text, start)
            if i >= 0:
                return i + len(text)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"console: timed out waiting for {text!r}; "
                                     f"last output {self.out[-300:]!r}")
            self.read_some(min(left, 0.5))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def run(self, cmd, timeout=60.0):
        """Run a shell command; return (status, output). Markers are computed by the shell."""
        self.seq += 1
        n = self.seq
        start = len(self.out)
        self.send(f"echo ==S$((1000+{n}))==; {cmd}; echo ==E$((1000+{n}))=$?==\n")
        b = self.wait_for(f"==S{1000 + n}==", timeout, start)
        e = self.wait_for(f"==E{1000 + n}=", timeout, b)
        end = self.wait_for("==", timeout, e)
        status = int(self.out[e:end - 2])
        body = self.out[b:e - len(f"==E{1000 + n}=")].decode(errors="replace")
        return status, body.strip("\r\n").replace("\r\n", "\n")

    def close(self):
        self.sock.close()
