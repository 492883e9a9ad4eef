"""Helpers for the managed-VM tests: run the vessel CLI with a private state directory."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "boot"))
from guest import PROMPT, READY, guest_dir  # noqa: E402,F401


class Cli:
    def __init__(self, vessel, state_dir):
        self.vessel = vessel
        self.env = dict(os.environ, VESSEL_STATE_DIR=state_dir)
        self.state_dir = state_dir

    def run(self, *args, timeout=120, input=None):
        """Run 'vessel ARGS'; return (status, stdout, stderr)."""
        p = subprocess.run([self.vessel] + list(args), env=self.env, input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           text=True, errors="replace")
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        st, out, err = self.run(*args, **kw)
        assert st == 0, f"vessel {' '.join(args)}: status {st}, stderr {err!r}"
        return out

    def fails(self, args, words, status=1):
        """The command fails with one 'vessel: ' line holding every word."""
        st, out, err = self.run(*args)
        lines = err.strip().splitlines()
        assert st == status, f"vessel {' '.join(args)}: status {st}, expected {status}: {err!r}"
        assert len(lines) == 1 and lines[0].startswith("vessel: "), \
            f"vessel {' '.join(args)}: stderr {err!r}"
        for w in words:
            assert w in lines[0], f"vessel {' '.join(args)}: {w!r} not in {lines[0]!r}"
        return lines[0]

    def ls(self):
        """{name: (state, pid, vcpus, memory)} from 'vessel ls'."""
        out = self.ok("ls")
        rows = {}
        for line in out.splitlines()[2:]:
            f = line.split()
            rows[f[0]] = (f[1], None if f[2] == "-" else int(f[2]), f[3], f[4])
        return rows

    def logs(self, name):
        return self.ok("logs", name)

    def wait_log(self, name, text, timeout=120, count=1):
        deadline = time.monotonic() + timeout
        while True:
            out = self.logs(name)
            if out.count(text) >= count:
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{name}: {text!r} not in the console log after {timeout} s:"
                                     f"\n{out[-2000:]}")
            time.sleep(0.3)


def proc_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return s[s.rindex(")") + 2] != "Z"
    except FileNotFoundError:
        return False


def cgroup2_offers(controllers):
    """The cgroup2 root if it offers every controller and is writable, else None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.startswith("cgroup2 "):
                root = pre.split()[4]
                try:
                    with open(os.path.join(root, "cgroup.controllers")) as c:
                        have = c.read().split()
                except OSError:
                    return None
                if all(x in have for x in controllers) and os.access(root, os.W_OK):
                    return root
                return None
    return None
