#!/usr/bin/env python3
"""run.py - the pushmail integration suite runner.

    python3 tests/integration/run.py [--out DIR] [--list] [FILTER ...]

Discovers tests/integration/test_*.py and runs every function named test_*
in file order.  A module may define setup_module(m) (its return value is
t.mod in each test; m.add_cleanup(fn) registers teardown) for peers its
tests share.  Each test gets `t`: t.name, t.out (tests/out/<module>.<test>/),
t.mod, t.add_cleanup(fn), t.log_files (peer logs to excerpt on failure).

Prints `ok - name`, `FAIL - name: reason` (plus a short excerpt) or
`skip - name: reason`, and finally `N passed, N failed` (`, N skipped`
when something could not run).  Exit status 0 only if nothing failed and
something passed.  A FILTER selects tests whose "module.test" name contains
it.  PMTEST_TIMEOUT (seconds, default 240) bounds each test.
"""

import importlib.util
import inspect
import os
import re
import shutil
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, HERE)

from pmtest import Skip, proc  # noqa: E402
from pmtest.pushmail import NotBuilt  # noqa: E402


class TestTimeout(Exception):
    pass


class Ctx:
    def __init__(self, name, out):
        self.name = name
        self.out = out
        shutil.rmtree(out, ignore_errors=True)     # no state from last run
        os.makedirs(out, exist_ok=True)
        self.mod = None
        self._cleanups = []
        self.log_files = []

    def add_cleanup(self, fn):
        self._cleanups.append(fn)
        return fn

    def add_log(self, path):
        if path not in self.log_files:
            self.log_files.append(path)

    def cleanup(self):
        errors = []
        while self._cleanups:
            fn = self._cleanups.pop()
            try:
                fn()
            except Exception as e:
                errors.append("%s: %s" % (getattr(fn, "__name__", fn), e))
        return errors


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tests_of(mod):
    fns = [(f.__code__.co_firstlineno, n, f)
           for n, f in inspect.getmembers(mod, inspect.isfunction)
           if n.startswith("test_") and f.__module__ == mod.__name__]
    return [(n, f) for _, n, f in sorted(fns)]


def short(e):
    s = "%s: %s" % (type(e).__name__, e) if not isinstance(
        e, AssertionError) else (str(e) or "assertion failed")
    lines = s.strip().splitlines() or [type(e).__name__]
    return lines[0][:300], lines[1:]


_NOTEWORTHY = re.compile(r"\b(ERROR|PANIC|WARNING|Error|Fatal|Panic|"
                         r"FAIL|Warning)\b")


def excerpt(e, t):
    """A short failure excerpt: where it failed, the rest of the message,
    and the last error/warning lines of each peer's log."""
    out = []
    tb = traceback.extract_tb(e.__traceback__)
    for fr in tb[-3:]:
        if "integration" in fr.filename or "pmtest" in fr.filename:
            out.append("  at %s:%d: %s" % (os.path.basename(fr.filename),
                                             fr.lineno, (fr.line or "")[:120]))
    _, rest = short(e)
    out += ["  | " + l[:200] for l in rest[:12]]
    for path in t.log_files:
        lines = [l for l in proc.tail(path, 400).splitlines()
                 if _NOTEWORTHY.search(l)
                 and "Killed with signal 15" not in l][-4:]
        if lines:
            out.append("  -- %s" % os.path.relpath(path, TOP))
            out += ["  | " + l[:200] for l in lines]
    out.append("  (logs: %s)" % os.path.relpath(t.out, TOP))
    return out


def alarm(sig, frame):
    raise TestTimeout("test took longer than its time limit")


def main(argv):
    out_root = os.path.join(TOP, "tests", "out", "integration")
    filters = []
    list_only = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--out":
            out_root = argv[i + 1]
            i += 1
        elif a == "--list":
            list_only = True
        else:
            filters.append(a)
        i += 1
    proc.install_signal_handlers()
    signal.signal(signal.SIGALRM, alarm)
    limit = int(os.environ.get("PMTEST_TIMEOUT", "240"))

    files = sorted(f for f in os.listdir(HERE)
                   if f.startswith("test_") and f.endswith(".py"))
    # test_peers proves the harness: run it first.
    files.sort(key=lambda f: (f != "test_peers.py", f))
    passed = failed = skipped = 0
    for fname in files:
        modname = fname[:-3]
        try:
            mod = load(os.path.join(HERE, fname))
        except Exception as e:
            print("FAIL - %s: cannot import: %s" % (modname, short(e)[0]))
            failed += 1
            continue
        selected = [(n, f) for n, f in tests_of(mod)
                    if not filters or any(x in "%s.%s" % (modname, n)
                                          for x in filters)]
        if not selected:
            continue
        if list_only:
            for n, _ in selected:
                print("%s.%s" % (modname, n))
            continue
        mctx = Ctx(modname, os.path.join(out_root, modname))
        mobj = None
        setup_error = None
        if hasattr(mod, "setup_module"):
            signal.alarm(limit)
            try:
                mobj = mod.setup_module(mctx)
            except Skip as e:
                setup_error = ("skip", str(e))
            except NotBuilt as e:
                setup_error = ("fail", str(e))
            except BaseException as e:
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                setup_error = ("fail", "module setup: " + short(e)[0])
                for line in excerpt(e, mctx):
                    print(line)
            finally:
                signal.alarm(0)
        for n, fn in selected:
            name = "%s.%s" % (modname, n)
            if setup_error:
                kind, why = setup_error
                if kind == "skip":
                    print("skip - %s: %s" % (name, why))
                    skipped += 1
                else:
                    print("FAIL - %s: %s" % (name, why))
                    failed += 1
                continue
            t = Ctx(name, os.path.join(out_root, name))
            t.mod = mobj
            t0 = time.monotonic()
            signal.alarm(getattr(fn, "timeout", limit))
            result, err = "ok", None
            try:
                fn(t)
            except Skip as e:
                result, err = "skip", e
            except NotBuilt as e:
                result, err = "fail", e
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:
                result, err = "fail", e
            finally:
                signal.alarm(0)
            signal.alarm(60)
            try:
                cerr = t.cleanup()
            except TestTimeout:
                cerr = ["cleanup timed out"]
            finally:
                signal.alarm(0)
            if result == "ok" and cerr:
                result = "fail"
                err = AssertionError("cleanup: " + "; ".join(cerr))
            took = time.monotonic() - t0
            if result == "ok":
                print("ok - %s (%.1fs)" % (name, took))
                passed += 1
            elif result == "skip":
                print("skip - %s: %s" % (name, err))
                skipped += 1
            else:
                print("FAIL - %s: %s (%.1fs)" % (name, short(err)[0], took))
                if not isinstance(err, NotBuilt):
                    for line in excerpt(err, t):
                        print(line)
                failed += 1
            sys.stdout.flush()
        if mobj is not None or hasattr(mod, "setup_module"):
            errs = mctx.cleanup()
            for e in errs:
                print("  warning: module cleanup of %s: %s" % (modname, e))
        sys.stdout.flush()
    if list_only:
        return 0
    summary = "%d passed, %d failed" % (passed, failed)
    if skipped:
        summary += ", %d skipped" % skipped
    print(summary)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
