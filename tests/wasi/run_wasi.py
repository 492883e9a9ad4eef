#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run WASI test programs under 'vessel wasm run' and compare with their native build.

usage: run_wasi.py VESSEL CASE [WASM [NATIVE]]

Cases that have a native build must print the same stdout and exit with the same
status under vessel as natively.  The others (escape, trap, badinput, rawabi) check
vessel's behaviour directly.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

VESSEL = None
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)
    return cond


def vessel(args, cwd=None, env_extra=None, timeout=60, stdin=None):
    env = dict(os.environ)
    if env_extra:
        env.update(env_extra)
    return subprocess.run([VESSEL, "wasm", "run"] + args, cwd=cwd, env=env, input=stdin,
                          capture_output=True, timeout=timeout)


def native(argv, cwd=None, env=None, timeout=60, stdin=None):
    # A clean environment, so that the native program sees just what --env gives vessel.
    return subprocess.run(argv, cwd=cwd, env=dict(env or {}), capture_output=True,
                          input=stdin, timeout=timeout)


def same(name, w, n):
    """The wasm run w and native run n agree on stdout and status."""
    ok = check(w.returncode == n.returncode,
               f"{name}: status {w.returncode} under vessel, {n.returncode} natively"
               f" (vessel stderr: {w.stderr.decode(errors='replace').strip()})")
    if w.stdout != n.stdout:
        check(False, f"{name}: stdout differs")
        print("--- vessel ---\n" + w.stdout.decode(errors="replace"))
        print("--- native ---\n" + n.stdout.decode(errors="replace"))
        ok = False
    return ok


def path_modes():
    """Each path test runs with openat2 and with the fallback walker."""
    return [("openat2", {}), ("fallback", {"VESSEL_WASI_NO_OPENAT2": "1"})]


def case_hello(wasm, nat):
    args = ["a", "b c", "", "--dir", "ünïcödé ✓"]
    envs = {"GREETING": "hi there", "EMPTY": "", "X": "1=2"}
    eflags = []
    for k, v in envs.items():
        eflags += ["--env", f"{k}={v}"]
    w = vessel(eflags + [wasm] + args)
    n = native([nat] + args, env=envs)
    same("hello", w, n)
    check(b"GREETING=hi there" in w.stdout, "hello: variable passed with --env")
    # Without --env the program sees no variables at all.
    w = vessel([wasm])
    check(b"environ has 0 variables" in w.stdout, "hello: empty environment by default")


def case_dir_program(name, wasm, nat, extra_args=()):
    for mode, env in path_modes():
        with tempfile.TemporaryDirectory() as t:
            os.mkdir(os.path.join(t, "w1"))
            os.mkdir(os.path.join(t, "w2"))
            w = vessel(["--dir", "w1", wasm, "w1"] + list(extra_args), cwd=t, env_extra=env)
            n = native([nat, "w2"] + list(extra_args), cwd=t)
            # Both print the directory name they were given; give them the same text.
            n = subprocess.CompletedProcess(n.args, n.returncode,
                                            n.stdout.replace(b"w2", b"w1"), n.stderr)
            same(f"{name} ({mode})", w, n)
            check(sorted(os.listdir(os.path.join(t, "w1"))) ==
                  sorted(os.listdir(os.path.join(t, "w2"))),
                  f"{name} ({mode}): the directories differ afterwards")


def case_clocks(wasm, nat):
    same("clocks", vessel([wasm]), native([nat]))


def case_stdin(wasm, nat):
    data = b"".join(b"line %d: %s\n" % (i, bytes(range(32, 32 + i % 90))) for i in range(3000))
    w = vessel([wasm], stdin=data)
    same("stdin", w, native([nat], stdin=data))
    check(len(w.stdout) > len(data), "stdin: all of it came back")
    same("stdin (empty)", vessel([wasm], stdin=b""), native([nat], stdin=b""))


def case_exitcode(wasm, nat):
    for how, code in [("return", "0"), ("return", "7"), ("exit", "42"), ("exit", "255"),
                      ("_Exit", "3"), ("exit", "256")]:
        same(f"exit {how} {code}", vessel([wasm, how, code]), native([nat, how, code]))


def prepare_escape(t):
    box = os.path.join(t, "box")
    os.makedirs(os.path.join(box, "deep"))
    with open(os.path.join(t, "secret.txt"), "w") as f:
        f.write("secret\n")
    with open(os.path.join(box, "inside.txt"), "w") as f:
        f.write("inside\n")
    os.symlink("..", os.path.join(box, "up"))
    os.symlink("/etc", os.path.join(box, "abs"))
    os.symlink("../..", os.path.join(box, "deep", "upup"))
    return box


def case_escape(wasm, _nat):
    for mode, env in path_modes():
        with tempfile.TemporaryDirectory() as t:
            prepare_escape(t)
            before = sorted(os.listdir(t))
            w = vessel(["--dir", "box", wasm, "box"], cwd=t, env_extra=env)
            out = w.stdout.decode(errors="replace")
            check(w.returncode == 0, f"escape ({mode}): status {w.returncode}: {out}"
                  f"{w.stderr.decode(errors='replace')}")
            check("ESCAPED" not in out, f"escape ({mode}): {out}")
            check("all attempts blocked" in out, f"escape ({mode}): did not finish")
            check("note:" not in out, f"escape ({mode}): {out}")
            check(out.count("blocked:") >= 25, f"escape ({mode}): too few attempts ran")
            check(sorted(os.listdir(t)) == before, f"escape ({mode}): files changed outside")
            secret = os.path.join(t, "secret.txt")
            check(os.path.exists(secret) and open(secret).read() == "secret\n",
                  f"escape ({mode}): secret.txt changed")
    # No --dir at all: nothing is reachable.
    with tempfile.TemporaryDirectory() as t:
        prepare_escape(t)
        w = vessel([wasm, "box"], cwd=t)
        check("ESCAPED" not in w.stdout.decode(errors="replace"), "escape without --dir")


def one_line_error(name, r, status, words):
    err = r.stderr.decode(errors="replace")
    check(r.returncode == status, f"{name}: status {r.returncode}, wanted {status}: {err}")
    lines = err.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("vessel: wasm: "),
          f"{name}: stderr is not one 'vessel: wasm:' line: {err!r}")
    for w in words:
        check(w in err, f"{name}: '{w}' missing from {err!r}")


def case_trap(wasm, _nat):
    for kind, words in [("unreachable", ["unreachable"]),
                        ("divzero", ["integer divide by zero"]),
                        ("oob", ["out of bounds memory access"]),
                        ("indirect", ["indirect call"])]:
        r = vessel([wasm, kind])
        one_line_error(f"trap {kind}", r, 134, words)
        check(f"about to trap: {kind}".encode() in r.stdout, f"trap {kind}: output before")
    r = vessel([wasm, "stack"])
    one_line_error("trap stack", r, 134, [])
    err = r.stderr.decode(errors="replace")
    check("call stack exhausted" in err or "out of bounds" in err, f"trap stack: {err}")
    r = vessel(["--fuel", "2000000", wasm, "spin"])
    one_line_error("fuel", r, 124, [])
    t0 = time.monotonic()
    r = vessel(["--timeout", "300", wasm, "spin"])
    one_line_error("timeout", r, 124, [])
    check(time.monotonic() - t0 < 10, "timeout: took too long")
    # A program asleep in poll_oneoff is stopped too.
    t0 = time.monotonic()
    r = vessel(["--timeout", "300", wasm, "sleep"])
    one_line_error("timeout while asleep", r, 124, [])
    check(time.monotonic() - t0 < 10, "timeout while asleep: took too long")


def wat(t, name, text):
    src = os.path.join(t, name + ".wat")
    out = os.path.join(t, name + ".wasm")
    with open(src, "w") as f:
        f.write(text)
    subprocess.run(["wat2wasm", src, "-o", out], check=True)
    return out


WAT_HEAD = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
"""


def case_rawabi(_wasm, _nat):
    """Hand-written modules: guest pointers outside memory, unknown imports, start."""
    with tempfile.TemporaryDirectory() as t:
        # iovec array outside memory -> EFAULT (21), returned as the exit code.
        m = wat(t, "badiov", WAT_HEAD + """
  (func (export "_start")
    (call $exit (call $fd_write (i32.const 1) (i32.const 0xfffffff8) (i32.const 1) (i32.const 0)))))""")
        check(vessel([m]).returncode == 21, "rawabi: iovec array outside memory gives EFAULT")
        # iovec whose buffer runs past the end of memory.
        m = wat(t, "badbuf", WAT_HEAD + """
  (data (i32.const 16) "\\00\\ff\\00\\00\\00\\10\\00\\00")
  (func (export "_start")
    (call $exit (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 0)))))""")
        r = vessel([m])
        check(r.returncode == 21 and r.stdout == b"", "rawabi: buffer past memory gives EFAULT")
        # nwritten pointer outside memory: EFAULT.
        m = wat(t, "badout", WAT_HEAD + """
  (data (i32.const 16) "\\20\\00\\00\\00\\02\\00\\00\\00")
  (data (i32.const 32) "ok")
  (func (export "_start")
    (call $exit (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 65535)))))""")
        check(vessel([m]).returncode == 21, "rawabi: result pointer outside memory")
        # A good write, then exit 0 by returning.
        m = wat(t, "good", WAT_HEAD + """
  (data (i32.const 16) "\\20\\00\\00\\00\\03\\00\\00\\00")
  (data (i32.const 32) "ok\\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))))""")
        r = vessel([m])
        check(r.returncode == 0 and r.stdout == b"ok\n", f"rawabi: plain fd_write {r}")
        # A WASI name we do not implement links and returns ENOSYS (52).
        m = wat(t, "enosys", """(module
  (import "wasi_snapshot_preview1" "sock_open_v9" (func $x (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start") (call $exit (call $x (i32.const 0)))))""")
        check(vessel([m]).returncode == 52, "rawabi: unknown WASI function returns ENOSYS")
        # A known name with the wrong type, and an import from another module: link errors.
        m = wat(t, "badtype", """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $x (param i32) (result i32)))
  (func (export "_start")))""")
        one_line_error("rawabi: wrong import type", vessel([m]), 1, ["fd_write"])
        m = wat(t, "envimport", """(module
  (import "env" "foo" (func $x))
  (func (export "_start")))""")
        one_line_error("rawabi: unknown module", vessel([m]), 1, ["unknown import", "env.foo"])
        # No _start.
        m = wat(t, "nostart", "(module (func (export \"main\")))")
        one_line_error("rawabi: no _start", vessel([m]), 1, ["_start"])
        # proc_exit from the start function.
        m = wat(t, "startexit", """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $s (call $exit (i32.const 9)))
  (start $s)
  (func (export "_start")))""")
        check(vessel([m]).returncode == 9, "rawabi: proc_exit in the start function")
        # fd_write to a read-only descriptor: the preopen (3) has no FD_WRITE right.
        m = wat(t, "rights", WAT_HEAD + """
  (data (i32.const 16) "\\20\\00\\00\\00\\03\\00\\00\\00")
  (func (export "_start")
    (call $exit (call $fd_write (i32.const 3) (i32.const 16) (i32.const 1) (i32.const 8)))))""")
        check(vessel(["--dir", t, m]).returncode in (8, 76), "rawabi: write to a directory fd")


def case_badinput(wasm, _nat):
    with tempfile.TemporaryDirectory() as t:
        one_line_error("missing file", vessel([os.path.join(t, "nope.wasm")]), 1,
                       ["nope.wasm", "No such file"])
        garbage = os.path.join(t, "garbage.wasm")
        with open(garbage, "wb") as f:
            f.write(b"this is not a WebAssembly module at all\n")
        one_line_error("garbage module", vessel([garbage]), 1, ["garbage.wasm"])
        trunc = os.path.join(t, "trunc.wasm")
        with open(wasm, "rb") as f:
            data = f.read()
        with open(trunc, "wb") as f:
            f.write(data[:len(data) // 2])
        one_line_error("truncated module", vessel([trunc]), 1, ["trunc.wasm"])
        empty = os.path.join(t, "empty.wasm")
        open(empty, "wb").close()
        one_line_error("empty file", vessel([empty]), 1, [])
        one_line_error("unknown flag", vessel(["--frobnicate", wasm]), 2, ["--frobnicate"])
        one_line_error("missing dir", vessel(["--dir", os.path.join(t, "nodir"), wasm]), 1,
                       ["nodir"])
        one_line_error("dir is a file", vessel(["--dir", garbage, wasm]), 1, ["garbage.wasm"])
        one_line_error("no module", vessel([]), 2, [])
        one_line_error("--env without =", vessel(["--env", "FOO", wasm]), 2, ["FOO"])
        one_line_error("--fuel not a number", vessel(["--fuel", "lots", wasm]), 2, ["--fuel"])
        one_line_error("--timeout missing", vessel(["--timeout"]), 2, ["--timeout"])
        r = subprocess.run([VESSEL, "wasm", "frob"], capture_output=True)
        one_line_error("unknown subcommand", r, 2, ["frob"])
        r = subprocess.run([VESSEL, "wasm", "--help"], capture_output=True)
        check(r.returncode == 0 and b"--dir" in r.stdout, "wasm --help")
        r = subprocess.run([VESSEL, "wasm", "spectest", os.path.join(t, "none.json")],
                           capture_output=True)
        check(r.returncode != 0, "spectest of a missing file fails")
        # Arguments after the module belong to the program, flags included.
        r = vessel([wasm, "--dir", "x"])
        check(r.returncode == 0, f"program arguments that look like flags: {r.stderr}")


CASES = {
    "hello": case_hello,
    "fileio": lambda w, n: case_dir_program("fileio", w, n),
    "listdir": lambda w, n: case_dir_program("listdir", w, n),
    "fsops": lambda w, n: case_dir_program("fsops", w, n),
    "clocks": case_clocks,
    "stdin": case_stdin,
    "exitcode": case_exitcode,
    "escape": case_escape,
    "trap": case_trap,
    "rawabi": case_rawabi,
    "badinput": case_badinput,
}


def main():
    global VESSEL
    if len(sys.argv) < 3 or sys.argv[2] not in CASES:
        print(__doc__)
        return 2
    VESSEL = os.path.abspath(sys.argv[1])
    wasm = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
    nat = os.path.abspath(sys.argv[4]) if len(sys.argv) > 4 else None
    if sys.argv[2] == "rawabi" and not shutil.which("wat2wasm"):
        print("FAIL: wat2wasm (wabt) is not installed")
        return 1
    CASES[sys.argv[2]](wasm, nat)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
