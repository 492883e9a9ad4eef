#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vessel run's console: pipes pass bytes untouched; a terminal gets raw
mode, the Ctrl-A escape key, and its settings back at exit."""
import os
import pty
import select
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vtest  # noqa: E402

a = vtest.parse_args()
V = a.vessel
M = ['--memory', '64M']

# Pipes: every byte reaches the guest, Ctrl-A included, and the echo comes back.
data = bytes(range(1, 0x71)) + b'\x01x\x01\x01' + bytes(range(0x80, 0x100)) * 20
st, out, err = vtest.run(V, ['run', '--firmware', a.fw_echo] + M, input_bytes=data + b'q')
vtest.check(st == 0 and out == data and err == '',
            'pipe: %d bytes echoed unchanged, no escape processing (got %d, %d bytes, %r)' %
            (len(data), st, len(out), err))


def read_until(fd, want, timeout=20):
    buf = b''
    end = time.time() + timeout
    while want not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def run_on_tty(keys, want_echo):
    """Run the echo firmware with stdin/stdout on a pty; type keys; return status."""
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([V, 'run', '--firmware', a.fw_echo] + M, stdin=slave, stdout=slave,
                         stderr=subprocess.PIPE)
    # Raw mode is on once the hint is printed.
    hint = p.stderr.readline()
    time.sleep(0.2)
    raw = termios.tcgetattr(slave)
    os.write(master, keys[0])
    seen = read_until(master, want_echo)
    os.write(master, keys[1])
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    after = termios.tcgetattr(slave)
    rest = p.stderr.read()
    os.close(master)
    os.close(slave)
    return p.returncode, hint, seen, before, raw, after, rest


# Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A x quits with status 5.
st, hint, seen, before, raw, after, rest = run_on_tty((b'ab\x01\x01cd', b'\x01x'), b'ab\x01cd')
vtest.check(hint.startswith(b'vessel: ') and b'Ctrl-A x' in hint, 'terminal: one hint line (%r)' % hint)
vtest.check(not (raw[3] & termios.ICANON) and not (raw[3] & termios.ECHO) and
            not (raw[3] & termios.ISIG), 'terminal: raw mode while running')
vtest.check(b'ab\x01cd' in seen and b'\x01\x01' not in seen,
            'terminal: Ctrl-A Ctrl-A sends one Ctrl-A (saw %r)' % seen)
vtest.check(st == 5, 'terminal: Ctrl-A x quits with status 5 (got %s)' % st)
vtest.check(after == before, 'terminal: settings restored after Ctrl-A x')
vtest.check(rest == b'', 'terminal: nothing more on stderr (%r)' % rest)

# Ctrl-C goes to the guest (echoed), not to vessel; the guest's 'q' powers off.
st, hint, seen, before, raw, after, rest = run_on_tty((b'\x03z', b'q'), b'\x03z')
vtest.check(b'\x03z' in seen and st == 0, 'terminal: Ctrl-C reaches the guest (got %s %r)' % (st, seen))
vtest.check(after == before, 'terminal: settings restored after power-off')

# SIGTERM while on a terminal: status 5 and the terminal restored.
master, slave = pty.openpty()
before = termios.tcgetattr(slave)
p = subprocess.Popen([V, 'run', '--firmware', a.fw_echo] + M, stdin=slave, stdout=slave,
                     stderr=subprocess.PIPE)
p.stderr.readline()
time.sleep(0.3)
p.terminate()
try:
    p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
after = termios.tcgetattr(slave)
vtest.check(p.returncode == 5 and after == before,
            'terminal: SIGTERM gives status 5 and restores the terminal (got %s)' % p.returncode)
os.close(master)
os.close(slave)

vtest.finish()
