#!/usr/bin/env python3
"""User-mode NAT end to end through `vessel run --net user,hostfwd=...`:
the guest gets 10.0.2.15 by DHCP, downloads a file from an HTTP server on the
host (reached as 10.0.2.2), and the host reaches the guest's busybox httpd
through a forwarded port."""
import argparse
import hashlib
import http.server
import os
import socket
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "boot"))
from guest import Guest, guest_dir  # noqa: E402

PAYLOAD = bytes((i * 7 + 3) % 251 for i in range(300000))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAYLOAD if self.path == "/payload" else b"not found"
        self.send_response(200 if self.path == "/payload" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    a = ap.parse_args()
    d = guest_dir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host_port = server.server_address[1]
    fwd_port = free_port()
    g = Guest(a.vessel, ["--memory", "256M", "--kernel", f"{d}/Image", "--initrd",
                         f"{d}/initramfs.cpio.gz", "--net",
                         f"user,hostfwd=tcp:127.0.0.1:{fwd_port}-:8080"])
    try:
        g.boot(120)
        assert "vessel-guest: eth0 10.0.2.15/24" in g.out, "no DHCP lease"
        st, out = g.run(f"wget -q -O /tmp/p http://10.0.2.2:{host_port}/payload && sha256sum /tmp/p")
        assert st == 0 and hashlib.sha256(PAYLOAD).hexdigest() in out, out
        st, out = g.run("mkdir -p /tmp/www && echo hello-from-guest-$((6*7)) > /tmp/www/index.html"
                        " && httpd -p 8080 -h /tmp/www")
        assert st == 0, out
        body = b""
        for _ in range(50):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{fwd_port}/", timeout=5).read()
                break
            except OSError:
                time.sleep(0.2)
        assert b"hello-from-guest-42" in body, body
        assert g.poweroff() == 0
    finally:
        g.kill()
        server.shutdown()
    print("\nPASS: net")


if __name__ == "__main__":
    sys.exit(main())
