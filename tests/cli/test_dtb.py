#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vessel run --dtb-out: the generated device tree matches the configuration.

Each VM runs the 'check' firmware, which verifies that a1 points at a device
tree and a2 at fw_dynamic_info, then powers off; dtb_check (libfdt) then
checks the tree's nodes and properties."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vtest  # noqa: E402

a = vtest.parse_args()
V = a.vessel

configs = [
    # cpus, memory flag, bytes, append, initrd size
    (1, '16M', 16 << 20, None, None),
    (2, '256M', 256 << 20, 'console=ttyS0 root=/dev/vda rw', 12345),
    (8, '2G', 2 << 30, 'quiet', 3 << 20),
    (3, '5G', 5 << 30, 'x', 1),
]
with vtest.tmpdir() as d:
    kernel = os.path.join(d, 'kernel')
    with open(kernel, 'wb') as f:
        f.write(b'\x6f\x00\x00\x00' * 1024)  # j . (never run: the firmware powers off)
    for cpus, mem, nbytes, append, initrd_size in configs:
        dtb = os.path.join(d, 'out.dtb')
        args = ['run', '--firmware', a.fw_check, '--kernel', kernel, '--cpus', str(cpus),
                '--memory', mem, '--dtb-out', dtb]
        if append is not None:
            args += ['--append', append]
        if initrd_size is not None:
            initrd = os.path.join(d, 'initrd')
            with open(initrd, 'wb') as f:
                f.write(b'\xa5' * initrd_size)
            args += ['--initrd', initrd]
        st, out, err = vtest.run(V, args)
        vtest.check(st == 0 and out == b'guest ok\n',
                    '%d cpus %s: VM ran and powered off (got %d %r %r)' % (cpus, mem, st, out, err))
        cmd = [a.dtb_check, dtb, str(cpus), str(nbytes),
               append if append is not None else 'console=ttyS0']
        if initrd_size is not None:
            cmd.append(str(initrd_size))
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        print(p.stdout.decode(errors='replace'), end='')
        vtest.check(p.returncode == 0, '%d cpus %s: device tree as configured' % (cpus, mem))
        os.unlink(dtb)

# The same configuration on QEMU's virt board: the same nodes and values.
with vtest.tmpdir() as d:
    ours = os.path.join(d, 'vessel.dtb')
    qemu = os.path.join(d, 'qemu.dtb')
    st, out, err = vtest.run(V, ['run', '--firmware', a.fw_poweroff, '--cpus', '2',
                                 '--memory', '256M', '--append', 'console=ttyS0',
                                 '--dtb-out', ours])
    q = subprocess.run(['qemu-system-riscv64', '-M', 'virt,dumpdtb=' + qemu, '-smp', '2',
                        '-m', '256M', '-append', 'console=ttyS0', '-nographic',
                        '-kernel', a.fw_poweroff],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    vtest.check(st == 0 and os.path.exists(qemu), 'device trees of vessel and QEMU written')
    p = subprocess.run([a.dtb_check, '--compare', ours, qemu], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    print(p.stdout.decode(errors='replace'), end='')
    vtest.check(p.returncode == 0, 'device tree has the shape and values of QEMU\'s virt')

vtest.finish()
