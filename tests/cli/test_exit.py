#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vessel run: exit statuses for each way a VM ends, and the boot protocol.

The firmware images (guest_fw.S) end the VM through the sifive,test device.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vtest  # noqa: E402

a = vtest.parse_args()
V = a.vessel
M = ['--memory', '64M']

st, out, err = vtest.run(V, ['run', '--firmware', a.fw_poweroff] + M)
vtest.check(st == 0 and err == '', 'guest power-off: status 0, quiet (got %d %r)' % (st, err))
st, out, err = vtest.run(V, ['run', '--firmware', a.fw_reboot] + M)
vtest.check(st == 3 and err == '', 'guest reboot request: status 3 (got %d %r)' % (st, err))
st, out, err = vtest.run(V, ['run', '--firmware', a.fw_fail] + M)
vtest.check(st == 4 and err == 'vessel: guest reported failure code 7\n',
            'guest failure: status 4 and the code (got %d %r)' % (st, err))

# The boot protocol: a0 = hartid, a1 = device tree, a2 = fw_dynamic_info.
for extra in ([], ['--memory', '16M'], ['--memory', '4G'], ['--cpus', '2']):
    st, out, err = vtest.run(V, ['run', '--firmware', a.fw_check] + M + extra)
    vtest.check(st == 0 and out == b'guest ok\n',
                'boot protocol %s (got %d %r %r)' % (extra, st, out, err))

# Every hart starts in the firmware with its own hartid.
st, out, err = vtest.run(V, ['run', '--firmware', a.fw_smp, '--cpus', '4'] + M)
vtest.check(st == 0 and out == b'guest ok\n', 'four harts start (got %d %r %r)' % (st, out, err))

# CLINT timer interrupt and PLIC-routed UART interrupt.
st, out, err = vtest.run(V, ['run', '--firmware', a.fw_timer] + M)
vtest.check(st == 0 and out == b'guest ok\n', 'CLINT timer interrupt (got %d %r %r)' % (st, out, err))
st, out, err = vtest.run(V, ['run', '--firmware', a.fw_irq] + M, input_bytes=b'interrupt\nq')
vtest.check(st == 0 and out == b'interrupt\n',
            'UART receive interrupt through the PLIC (got %d %r %r)' % (st, out, err))

# A flat binary firmware loads at 0x80000000 too.
with vtest.tmpdir() as d:
    flat = os.path.join(d, 'fw.bin')
    with open(a.fw_check, 'rb') as f:
        elf = f.read()
    # The single PT_LOAD segment of the check image: copy its bytes out.
    import struct
    phoff, = struct.unpack_from('<Q', elf, 0x20)
    phnum, = struct.unpack_from('<H', elf, 0x38)
    for i in range(phnum):
        p_type, _, p_off, _, _, p_filesz = struct.unpack_from('<IIQQQQ', elf, phoff + 56 * i)
        if p_type == 1:
            with open(flat, 'wb') as f:
                f.write(elf[p_off:p_off + p_filesz])
    st, out, err = vtest.run(V, ['run', '--firmware', flat] + M)
    vtest.check(st == 0 and out == b'guest ok\n', 'flat firmware (got %d %r %r)' % (st, out, err))

# SIGINT and SIGTERM end a running VM cleanly with status 5; so does the end of
# stdin not: the guest keeps running without input.
for sig in (signal.SIGTERM, signal.SIGINT):
    p = subprocess.Popen([V, 'run', '--firmware', a.fw_echo] + M, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    alive = p.poll() is None
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    vtest.check(alive and p.returncode == 5 and err == b'',
                '%s: still running at stdin EOF, then status 5 (got %s %r)' %
                (sig.name, p.returncode, err))

vtest.finish()
