"""proc.py - start processes with logs in a file, stop them by PID.

Every Proc is registered; stop_all() (also run at exit and on SIGTERM/SIGINT
of the harness) stops what is still running, newest first.  Stopping sends
SIGTERM to the PID we started, then SIGKILL after a timeout.  Nothing is
ever stopped by name.
"""

import atexit
import os
import signal
import subprocess
import threading
import time

_lock = threading.Lock()
_live = []


class ProcError(Exception):
    pass


def wait_until(pred, timeout, interval=0.1, what="condition"):
    """Poll pred() until it returns a true value; return that value.
    Raise TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s"
                               % (timeout, what))
        time.sleep(interval)


class Proc:
    def __init__(self, name, argv, log_path, env=None, cwd=None,
                 stdin=subprocess.DEVNULL, stdout_pipe=False):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.stdin = stdin
        self.stdout_pipe = stdout_pipe
        self.popen = None
        self._log = None

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def start(self):
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(("==> %s: %s\n" % (time.strftime("%H:%M:%S"),
                                           " ".join(self.argv))).encode())
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.popen = subprocess.Popen(
            self.argv, stdin=self.stdin,
            stdout=subprocess.PIPE if self.stdout_pipe else self._log,
            stderr=self._log, env=env, cwd=self.cwd,
            start_new_session=True)
        with _lock:
            _live.append(self)
        return self

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def returncode(self):
        return self.popen.poll() if self.popen else None

    def wait(self, timeout=None):
        return self.popen.wait(timeout=timeout)

    def signal(self, sig):
        if self.running():
            os.kill(self.popen.pid, sig)

    def stop(self, timeout=5.0):
        """SIGTERM, wait up to `timeout` s, then SIGKILL.  Returns the exit
        status and whether SIGKILL was needed: (rc, killed)."""
        killed = False
        if self.popen is None:
            return None, False
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed = True
                self.kill9()
        rc = self.popen.poll()
        self._forget()
        return rc, killed

    def kill9(self):
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            # Its children (e.g. Dovecot's imap/auth processes) are in the
            # session we created for it (process group = its PID): they
            # would outlive a SIGKILLed parent.
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._forget()

    def _forget(self):
        with _lock:
            if self in _live:
                _live.remove(self)
        if self._log and (self.popen is None or self.popen.poll() is not None):
            try:
                self._log.close()
            except OSError:
                pass

    def log_tail(self, n=20):
        return tail(self.log_path, n)


def tail(path, n=20):
    try:
        with open(path, "rb") as f:
            data = f.read()[-20000:]
    except OSError:
        return ""
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-n:])


def stop_all():
    with _lock:
        procs = list(reversed(_live))
    for p in procs:
        try:
            p.stop(timeout=3)
        except Exception:
            pass


def run(argv, log_path=None, input=None, timeout=60, env=None, check=False):
    """Run a short command to completion; returns CompletedProcess (text).
    Its output is appended to log_path when given."""
    e = dict(os.environ)
    if env:
        e.update(env)
    cp = subprocess.run([str(a) for a in argv], input=input,
                        capture_output=True, timeout=timeout, env=e,
                        text=isinstance(input, str) or input is None)
    if log_path:
        with open(log_path, "a", errors="replace") as f:
            f.write("==> %s (rc %d)\n" % (" ".join(map(str, argv)),
                                           cp.returncode))
            for s in (cp.stdout, cp.stderr):
                if s:
                    f.write(s if isinstance(s, str)
                            else s.decode("utf-8", "replace"))
    if check and cp.returncode != 0:
        raise ProcError("%s exited %d: %s" % (argv[0], cp.returncode,
                                              (cp.stderr or "")[-500:]))
    return cp


atexit.register(stop_all)


def install_signal_handlers():
    """Make SIGTERM/SIGINT of the harness stop every peer it started."""
    def handler(sig, frame):
        stop_all()
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
