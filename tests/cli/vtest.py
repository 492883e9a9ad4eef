# SPDX-License-Identifier: MIT
"""Helpers shared by the cli test scripts: argument parsing and running vessel."""
import argparse
import os
import subprocess
import sys
import tempfile

FAILURES = []


def parse_args(extra=()):
    p = argparse.ArgumentParser()
    p.add_argument('--vessel', required=True)
    p.add_argument('--dtb-check')
    for name in ('poweroff', 'reboot', 'fail', 'check', 'echo', 'irq', 'timer', 'smp', 'low'):
        p.add_argument('--fw-' + name)
    for e in extra:
        p.add_argument(e)
    return p.parse_args()


def run(vessel, args, stdin=subprocess.DEVNULL, timeout=60, input_bytes=None):
    """Run 'vessel run ARGS'; returns (status, stdout bytes, stderr text)."""
    env = dict(os.environ)
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1')
    p = subprocess.run([vessel] + list(args), stdin=None if input_bytes is not None else stdin,
                       input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr.decode(errors='replace')


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        FAILURES.append(what)


def finish():
    if FAILURES:
        print('%d check(s) failed' % len(FAILURES))
        sys.exit(1)
    print('all checks passed')
    sys.exit(0)


def tmpdir():
    return tempfile.TemporaryDirectory(prefix='vessel-cli-')
