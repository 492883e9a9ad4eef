#!/usr/bin/env python3
"""Bad input to the managed-VM commands: one 'vessel: <what>: <why>' line, a
non-zero status (2 for a usage error, 1 otherwise), and nothing half-done:
no VM defined, no directory or temporary left in the state directory, and a
defined VM's vm.json unchanged."""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mtest import Cli  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vessel-manage-bad-") as tmp:
        state = os.path.join(tmp, "state")
        cli = Cli(a.vessel, state)
        raw = os.path.join(tmp, "disk.raw")
        with open(raw, "wb") as f:
            f.truncate(1 << 20)
        bad = os.path.join(tmp, "bad.qcow2")
        with open(bad, "wb") as f:
            f.write(b"QFI\xfb" + b"\xff" * 200)
        kernel = os.path.join(tmp, "Image")
        with open(kernel, "wb") as f:
            f.write(b"\0" * 4096)

        # Commands on a state directory that does not exist yet: nothing is created.
        cli.fails(["start", "vm1"], ["start vm1", "no such VM"])
        assert cli.ls() == {}
        assert not os.path.exists(state), "a read-only command made the state directory"

        cli.ok("create", "vm1", "--disk", raw, "--kernel", kernel, "--memory", "64M")
        with open(os.path.join(state, "vm1", "vm.json")) as f:
            before = f.read()
        d = json.loads(before)
        assert d["drives"][0]["path"] == os.path.realpath(raw) and d["memory_mib"] == 64

        cases = [
            # (args, status, words)
            (["create", "vm1"], 1, ["create vm1", "exists"]),
            (["create", "bad/name"], 1, ["create bad/name", "invalid name"]),
            (["create", "bad name"], 1, ["invalid name"]),
            (["create", "x" * 65], 1, ["invalid name"]),
            (["create", ".."], 1, ["invalid name"]),
            (["create"], 2, ["create", "which VM"]),
            (["create", "a", "b"], 2, ["unexpected argument 'b'"]),
            (["create", "vm2", "--disk", os.path.join(tmp, "missing.img")], 1,
             ["create vm2", "missing.img", "No such file"]),
            (["create", "vm2", "--disk", bad], 1, ["create vm2", "bad.qcow2"]),
            (["create", "vm2", "--disk", raw + ",format=vmdk"], 2, ["format"]),
            (["create", "vm2", "--disk", raw + ",bogus"], 2, ["bogus"]),
            (["create", "vm2", "--kernel", os.path.join(tmp, "nokernel")], 1, ["--kernel", "nokernel"]),
            (["create", "vm2", "--initrd", os.path.join(tmp, "noinitrd")], 1, ["--initrd"]),
            (["create", "vm2", "--firmware", os.path.join(tmp, "nofw")], 1, ["--firmware"]),
            (["create", "vm2", "--memory", "8M"], 2, ["--memory 8M", "16M to 64G"]),
            (["create", "vm2", "--memory", "lots"], 2, ["--memory lots"]),
            (["create", "vm2", "--cpus", "9"], 2, ["--cpus 9"]),
            (["create", "vm2", "--cpus", "0"], 2, ["--cpus 0"]),
            (["create", "vm2", "--net", "tap"], 2, ["--net tap", "backend"]),
            (["create", "vm2", "--net", "user,hostfwd=tcp::x-:22"], 2, ["hostfwd"]),
            (["create", "vm2", "--net", "user,hostfwd=tcp::70000-:22"], 2, ["hostfwd"]),
            (["create", "vm2", "--cpuset", "0-999"], 2, ["--cpuset 0-999"]),
            (["create", "vm2", "--cpuset", "1-0"], 2, ["--cpuset 1-0"]),
            (["create", "vm2", "--cpu-max", "0"], 2, ["--cpu-max 0"]),
            (["create", "vm2", "--cpu-max", "half"], 2, ["--cpu-max half"]),
            (["create", "vm2", "--memory-limit", "1K"], 2, ["--memory-limit 1K"]),
            (["create", "vm2", "--rng", "--rng"], 2, ["--rng"]),
            (["create", "vm2"] + ["--disk", raw] * 8, 1, ["slot"]),
            (["create", "vm2", "--bogus"], 2, ["unknown option", "--bogus"]),
            (["create", "vm2", "--cpus"], 2, ["needs an argument"]),
            (["start", "nosuch"], 1, ["start nosuch", "no such VM"]),
            (["start", "bad/name"], 1, ["invalid name"]),
            (["start"], 2, ["which VM"]),
            (["stop", "vm1"], 1, ["stop vm1", "not running"]),
            (["stop", "vm1", "--timeout", "x"], 2, ["--timeout x"]),
            (["stop", "nosuch"], 1, ["stop nosuch", "no such VM"]),
            (["pause", "vm1"], 1, ["pause vm1", "not running"]),
            (["resume", "vm1"], 1, ["resume vm1", "not running"]),
            (["reset", "vm1"], 1, ["reset vm1", "not running"]),
            (["pause", "nosuch"], 1, ["pause nosuch", "no such VM"]),
            (["console", "vm1"], 1, ["console vm1", "not running"]),
            (["console", "nosuch"], 1, ["console nosuch", "no such VM"]),
            (["logs", "nosuch"], 1, ["logs nosuch", "no such VM"]),
            (["inspect", "nosuch"], 1, ["inspect nosuch", "no such VM"]),
            (["rm", "nosuch"], 1, ["rm nosuch", "no such VM"]),
            (["rm", "vm1", "--bogus"], 2, ["unknown option"]),
            (["ls", "extra"], 2, ["ls", "extra"]),
        ]
        for args, status, words in cases:
            cli.fails(args, words, status)

        # Nothing half-done: only vm1, no temporaries, its definition unchanged.
        assert list(cli.ls()) == ["vm1"], cli.ls()
        assert sorted(os.listdir(state)) == [".lock", "vm1"], os.listdir(state)
        with open(os.path.join(state, "vm1", "vm.json")) as f:
            assert f.read() == before

        # A definition that cannot be read: a clear error naming the file.
        with open(os.path.join(state, "vm1", "vm.json"), "w") as f:
            f.write('{"version": 1, "name": "vm1", "bogus": true}')
        cli.fails(["start", "vm1"], ["start vm1", "vm.json"])
        cli.fails(["inspect", "vm1"], ["inspect vm1", "vm.json"])
        assert cli.ls()["vm1"][2:] == ("?", "?")
        cli.ok("rm", "vm1")
        assert sorted(os.listdir(state)) == [".lock"]

        # Racing creates of one name: exactly one wins, the others say it exists.
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            res = list(ex.map(lambda i: cli.run("create", "race", "--memory", "64M"), range(8)))
        assert sum(1 for st, _, _ in res if st == 0) == 1, res
        assert all("exists" in err for st, _, err in res if st != 0), res
        cli.ok("rm", "race")
        assert sorted(os.listdir(state)) == [".lock"]

        # Help goes to stdout with status 0.
        st, out, err = cli.run("create", "--help")
        assert st == 0 and "create NAME" in out and "Ctrl-]" in out and err == ""
    print("PASS: managed VM bad input")


if __name__ == "__main__":
    sys.exit(main())
