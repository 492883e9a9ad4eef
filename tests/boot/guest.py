"""Drive a Vessel VM running the default guest through its serial console.

Used by the boot and end-to-end tests: start `vessel run`, wait for the
busybox shell, run commands and read their output, power off.
"""
import os
import subprocess
import sys
import threading
import time

PROMPT = "vessel# "
READY = "vessel-guest: userspace up"


def guest_dir():
    """The cached default guest (guest/build.sh builds it if missing)."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([os.path.join(top, "guest", "build.sh"), "--print"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


class Guest:
    def __init__(self, vessel, args, log_name="guest", argv=None, echo=True):
        """Start `vessel run ARGS`, or any command line given as 'argv' (a peer VMM)."""
        self.out = ""
        self.lock = threading.Condition()
        self.log_name = log_name
        self.echo = echo
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv or [vessel, "run"] + args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.marker = 0
        self.seq = 0

    def _read(self):
        while True:
            b = self.proc.stdout.read1(4096)
            if not b:
                break
            s = b.decode(errors="replace")
            if self.echo:
                sys.stdout.write(s)
                sys.stdout.flush()
            with self.lock:
                self.out += s
                self.lock.notify_all()
        with self.lock:
            self.lock.notify_all()

    def wait_for(self, text, timeout=60.0, start=None):
        """Wait until 'text' appears after position 'start'; return the end position."""
        start = self.marker if start is None else start
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                i = self.out.find(text, start)
                if i >= 0:
                    return i + len(text)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(f"{self.log_name}: timed out waiting for {text!r}")
                self.lock.wait(min(left, 0.5))

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def boot(self, timeout=60.0):
        self.marker = self.wait_for(READY, timeout)
        self.marker = self.wait_for(PROMPT, timeout)

    def run(self, cmd, timeout=60.0):
        """Run a shell command in the guest; return (exit status, output)."""
        self.seq += 1
        n = self.seq
        # The markers are computed by the shell, so the echoed command line
        # (which the console may wrap) never matches them.
        self.send(f"echo B$((7000+{n}))B; {cmd}; echo E$((7000+{n}))E$?E")
        begin = self.wait_for(f"B{7000 + n}B", timeout)
        tail = f"E{7000 + n}E"
        end = self.wait_for(tail, timeout, start=begin)
        stop = self.wait_for("E", timeout, start=end)
        status = int(self.out[end:stop - 1])
        output = self.out[begin:end - len(tail)]
        self.marker = stop
        return status, output.replace("\r", "").strip("\n")

    def poweroff(self, timeout=60.0):
        self.send("poweroff -f")
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"{self.log_name}: did not power off")
        self.reader.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
