#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vessel run: --help, --version, and every kind of bad input.

Bad input must end with exit status 1 (bad file, VMM failure) or 2 (usage)
and exactly one line on stderr, starting "vessel: ".
"""
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vtest  # noqa: E402

a = vtest.parse_args()
V = a.vessel


def bad(args, status, needle, what, cmd=('run',)):
    st, out, err = vtest.run(V, list(cmd) + args)
    lines = err.splitlines()
    ok = (st == status and len(lines) == 1 and lines[0].startswith('vessel: ') and
          needle in lines[0])
    vtest.check(ok, '%s: status %d, one line with %r (got %d, %r)' % (what, status, needle, st, err))


# Help and version.
st, out, err = vtest.run(V, ['run', '--help'])
vtest.check(st == 0 and b'usage: vessel run' in out and b'--memory' in out and err == '',
            'run --help prints usage on stdout, status 0')
st, out, err = vtest.run(V, ['--version'])
vtest.check(st == 0 and out.startswith(b'vessel ') and err == '', '--version')
st, out, err = vtest.run(V, ['--help'])
vtest.check(st == 0 and b'run' in out, '--help')

with vtest.tmpdir() as d:
    empty = os.path.join(d, 'empty')
    open(empty, 'wb').close()
    big = os.path.join(d, 'big')
    with open(big, 'wb') as f:
        f.truncate(40 << 20)  # sparse: 40 MiB of zeros
    small = os.path.join(d, 'small')
    with open(small, 'wb') as f:
        f.write(b'\x73\x00\x50\x10' * 16)  # wfi

    # A Linux RISC-V Image header (64 bytes) asking for 1 GiB of memory.
    image = os.path.join(d, 'Image')
    with open(image, 'wb') as f:
        f.write(struct.pack('<IIQQQIIQ8s4sI', 0x0000006f, 0, 0x200000, 1 << 30, 0, 2, 0, 0,
                            b'RISCV\0\0\0', b'RSC\x05', 0) + b'\0' * 4096)

    fw = ['--firmware', a.fw_poweroff]
    # Files.
    bad(fw + ['--kernel', '/nonexistent/kernel'], 1, 'kernel /nonexistent/kernel: No such file',
        'missing kernel')
    bad(fw + ['--kernel', empty], 1, 'empty', 'empty kernel')
    bad(fw + ['--kernel', '/bin/true'], 1, 'ELF for x86-64, not RISC-V', 'x86-64 ELF as kernel')
    bad(['--firmware', '/bin/true'], 1, 'firmware /bin/true: ELF for x86-64, not RISC-V',
        'x86-64 ELF as firmware')
    bad(['--firmware', a.fw_low], 1, 'outside guest RAM', 'RISC-V ELF with a segment below RAM')
    bad(fw + ['--kernel', a.fw_low], 1, 'outside guest RAM', 'kernel ELF outside RAM')
    bad(fw + ['--kernel', a.fw_poweroff], 1, 'overlaps the firmware', 'kernel ELF over firmware')
    bad(['--firmware', '/nonexistent/fw'], 1, 'firmware /nonexistent/fw', 'missing firmware')
    bad(['--firmware', empty], 1, 'empty', 'empty firmware')
    bad(['--firmware', d], 1, 'not a regular file', 'directory as firmware')
    bad(fw + ['--initrd', '/nonexistent/initrd'], 1, 'initrd /nonexistent/initrd',
        'missing initrd')
    bad(fw + ['--initrd', empty], 1, 'empty', 'empty initrd')
    bad(fw + ['--memory', '32M', '--kernel', big], 1, 'kernel', 'kernel bigger than RAM')
    bad(fw + ['--memory', '32M', '--kernel', small, '--initrd', big], 1, 'initrd',
        'initrd that does not fit')
    bad(['--memory', '16M', '--firmware', big], 1, 'firmware', 'firmware bigger than RAM')
    bad(fw + ['--memory', '512M', '--kernel', image], 1, 'kernel %s: needs 1073741824 bytes' % image,
        'Image header asking for more than RAM')
    bad(fw + ['--dtb-out', '/nonexistent/dir/x.dtb'], 1, '--dtb-out /nonexistent/dir/x.dtb',
        'unwritable --dtb-out')
    # Flags.
    for m in ['0', '1k', '9999G', 'abc', '', '15M', '65G', '-1G', '12Q', '99999999999999999999G']:
        bad(fw + ['--memory', m], 2, '--memory', '--memory %r' % m)
    for c in ['0', '9', 'x', '', '-1', '2x']:
        bad(fw + ['--cpus', c], 2, '--cpus', '--cpus %r' % c)
    bad(fw + ['--bogus'], 2, "unknown option '--bogus'", 'unknown flag')
    bad(fw + ['-z'], 2, "unknown option", 'unknown short flag')
    bad(fw + ['--kernel'], 2, 'needs an argument', 'missing argument')
    bad(fw + ['stray'], 2, "unexpected argument 'stray'", 'stray argument')
    st, out, err = vtest.run(V, [])
    vtest.check(st == 2, 'no command: status 2')
    bad(['frobnicate'], 2, "unknown command 'frobnicate'", 'unknown command', cmd=())

# The same Image fits in 2G.
with vtest.tmpdir() as d:
    image = os.path.join(d, 'Image')
    with open(image, 'wb') as f:
        f.write(struct.pack('<IIQQQIIQ8s4sI', 0x0000006f, 0, 0x200000, 1 << 30, 0, 2, 0, 0,
                            b'RISCV\0\0\0', b'RSC\x05', 0) + b'\0' * 4096)
    st, out, err = vtest.run(V, ['run', '--firmware', a.fw_poweroff, '--memory', '2G',
                                 '--kernel', image])
    vtest.check(st == 0 and err == '', 'Image needing 1 GiB loads with 2G (got %d %r)' % (st, err))

# Good sizes are accepted (the firmware powers off at once).
for m in ['16M', '16384K', '1G', '64', '256MiB']:
    st, out, err = vtest.run(V, ['run', '--firmware', a.fw_poweroff, '--memory', m])
    vtest.check(st == 0 and err == '', '--memory %s accepted (got %d %r)' % (m, st, err))

vtest.finish()
