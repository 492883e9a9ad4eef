#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Debian's OpenSBI (the default firmware) and u-boot boot on vessel."""
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vtest  # noqa: E402

UBOOT = '/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin'

a = vtest.parse_args()
V = a.vessel


class Guest:
    def __init__(self, args):
        self.p = subprocess.Popen([V, 'run'] + args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b''

    def expect(self, want, timeout=120):
        end = time.time() + timeout
        fd = self.p.stdout.fileno()
        while want not in self.out and time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                self.out += chunk
        return want in self.out

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def finish(self, timeout=30):
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.returncode


# OpenSBI alone: its banner and platform report, then SIGTERM ends the VM.
g = Guest(['--cpus', '2'])
ok = g.expect(b'Boot HART MEDELEG')
vtest.check(ok and b'OpenSBI v' in g.out, 'OpenSBI prints its banner')
vtest.check(b'Platform HART Count       : 2' in g.out, 'OpenSBI sees 2 harts')
vtest.check(b'Platform Console Device   : uart8250' in g.out, 'OpenSBI uses the ns16550a')
vtest.check(b'aclint-mtimer @ 10000000Hz' in g.out, 'OpenSBI finds the CLINT timer at 10 MHz')
vtest.check(b'Platform Shutdown Device  : sifive_test' in g.out, 'OpenSBI finds the test device')
vtest.check(b'Domain0 Next Address      : 0x0000000080200000' in g.out, 'next stage at 0x80200000')
g.p.terminate()
vtest.check(g.finish() == 5, 'SIGTERM: status 5')
if not ok:
    print(g.out.decode(errors='replace')[-2000:])

# u-boot in S-mode: stop autoboot, run a command, power off through SBI.
g = Guest(['--kernel', UBOOT, '--cpus', '2', '--memory', '256M'])
ok = g.expect(b'Hit any key to stop autoboot')
vtest.check(ok, 'u-boot starts')
g.send(b'\r')
ok = g.expect(b'=> ')
vtest.check(ok, 'u-boot reaches its prompt')
g.send(b'echo vessel-$((6*7))\r')
g.send(b'fdt addr $fdtcontroladdr; fdt print /soc/serial@10000000 compatible\r')
ok = g.expect(b'ns16550a')
vtest.check(ok, 'u-boot reads the device tree')
g.send(b'poweroff\r')
st = g.finish(timeout=60)
vtest.check(st == 0, 'u-boot poweroff: status 0 (got %s)' % st)
if not ok or st != 0:
    print(g.out.decode(errors='replace')[-2000:])

vtest.finish()
