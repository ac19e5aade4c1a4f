"""pushmail.py - run pushmailbox and pushmail-admin against test peers.

    pm = Pushmail(out_dir, bearerbox, ca_file=dovecot.ca_file).start()
    rc, out, err = pm.admin("bind", "+15550001", url, stdin="secret\n")
    pm.status()                     # text of /status, None when down
    pm.stop(); pm.kill9(); pm.start()

Binaries come from $PM_BUILD_DIR (default: <top>/build).  pushmail.conf
includes bearerbox's kannel.conf by absolute path, then our group and the
database connection group (sqlite3-connection, or mysql-connection when
given a MariaDB).
"""

import os
import re
import time

from . import TOP, ports, proc
from .kannel import http_get


def build_dir():
    return os.environ.get("PM_BUILD_DIR", os.path.join(TOP, "build"))


def binary(name):
    return os.path.join(build_dir(), name)


class NotBuilt(Exception):
    pass


class Pushmail:
    def __init__(self, out_dir, bearerbox, ca_file=None, mariadb=None,
                 name="pushmail", global_sender=None, log_level=0,
                 **settings):
        """settings: extra `group = pushmail` variables, with '_' for '-'
        (poll_interval=5, coalesce_window=5, page_segments=3, ...)."""
        for b in ("pushmailbox", "pushmail-admin"):
            if not os.access(binary(b), os.X_OK):
                raise NotBuilt("%s is not built (looked in %s)"
                               % (b, build_dir()))
        self.out = os.path.join(out_dir, name)
        os.makedirs(self.out, exist_ok=True)
        self.bb = bearerbox
        self.smsbox_id = bearerbox.smsbox_id
        self.global_sender = global_sender or bearerbox.shortcodes[0]
        self.admin_port = ports.free_port()
        self.admin_password = "pmadmin"
        self.conf = os.path.join(self.out, "pushmail.conf")
        self.log_path = os.path.join(self.out, "pushmailbox.log")
        self.key_file = os.path.join(self.out, "pushmail.key")
        self.db_file = os.path.join(self.out, "pushmail.db")
        self.mariadb = mariadb
        self.proc = None
        self.starts = 0
        if not os.path.exists(self.key_file):
            fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         0o600)
            os.write(fd, os.urandom(32))
            os.close(fd)
        s = {
            "smsbox-id": self.smsbox_id,
            "bearerbox-host": "127.0.0.1",
            "bearerbox-port": bearerbox.smsbox_port,
            "global-sender": self.global_sender,
            "db-type": "mysql" if mariadb else "sqlite3",
            "db-id": "pmdb",
            "secret-key-file": self.key_file,
            "poll-interval": 5,
            "log-file": self.log_path,
            "log-level": log_level,
            "admin-port": self.admin_port,
            "admin-password": self.admin_password,
            "country-code": "1",
            "coalesce-window": 5,
            "page-segments": 3,
            "reload-interval": 1,
            "connect-timeout": 10,
        }
        if ca_file:
            s["ca-file"] = ca_file
        for k, v in settings.items():
            if v is None:
                s.pop(k.replace("_", "-"), None)
            else:
                s[k.replace("_", "-")] = v
        self.settings = s
        self.groups = []
        self.write_conf()

    def add_group(self, group, **variables):
        """Add a group (e.g. "pushmail-mmsc") to pushmail.conf; variables
        with '_' for '-'.  Call before start(); rewrites the file."""
        self.groups.append((group, {k.replace("_", "-"): v
                                    for k, v in variables.items()}))
        self.write_conf()

    def write_conf(self):
        lines = ["# pmtest pushmail.conf (generated)",
                 'include = "%s"' % os.path.abspath(self.bb.conf), "",
                 "group = pushmail"]
        for k, v in self.settings.items():
            lines.append('%s = %s' % (k, _q(v)))
        lines.append("")
        if self.mariadb:
            d = self.mariadb.dsn()
            lines += ["group = mysql-connection", 'id = "pmdb"',
                      'host = "%s"' % d["host"], "port = %d" % d["port"],
                      'username = "%s"' % d["username"],
                      'password = "%s"' % d["password"],
                      'database = "%s"' % d["database"],
                      "max-connections = 4"]
        else:
            lines += ["group = sqlite3-connection", 'id = "pmdb"',
                      'database = "%s"' % self.db_file, "lock-timeout = 5",
                      "max-connections = 4"]
        for group, variables in getattr(self, "groups", []):
            lines += ["", "group = %s" % group]
            lines += ['%s = %s' % (k, _q(v)) for k, v in variables.items()]
        for line in lines[3:]:
            # Kannel's cfg reads any line mentioning "include" as one
            if "include" in line.lower():
                raise RuntimeError("pushmail.conf line %r contains the "
                                   "word include (Kannel trap); use other "
                                   "paths or values" % line)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    # --- pushmail-admin ------------------------------------------------
    def admin(self, *args, stdin=None, timeout=60):
        """Run pushmail-admin -c CONF ARGS; returns (rc, stdout, stderr)."""
        argv = [binary("pushmail-admin"), "-c", self.conf] + list(args)
        cp = proc.run(argv, input=stdin if stdin is not None else "",
                      timeout=timeout,
                      log_path=os.path.join(self.out, "pushmail-admin.log"))
        return cp.returncode, cp.stdout, cp.stderr

    def bind(self, msisdn, url, password, address=None):
        args = ["bind", msisdn, url]
        if address:
            args += ["--address", address]
        rc, out, err = self.admin(*args, stdin=password + "\n")
        if rc != 0:
            raise AssertionError("pushmail-admin bind %s %s exited %d: %s"
                                 % (msisdn, url, rc, (err or out)[-500:]))
        return out

    # --- pushmailbox ---------------------------------------------------
    def start(self, wait_bearerbox=True, timeout=20):
        self.starts += 1
        self.proc = proc.Proc(
            "pushmailbox", [binary("pushmailbox"), self.conf],
            os.path.join(self.out, "pushmailbox.out")).start()
        try:
            proc.wait_until(lambda: not self.proc.running() or
                            self.status() is not None, timeout,
                            what="pushmailbox admin /status")
            if not self.proc.running():
                raise RuntimeError("pushmailbox exited with %s"
                                   % self.proc.returncode())
            if wait_bearerbox:
                proc.wait_until(lambda: not self.proc.running() or
                                self.bb.box_connected(), timeout,
                                what="pushmailbox to connect to bearerbox")
                if not self.proc.running():
                    raise RuntimeError("pushmailbox exited with %s"
                                       % self.proc.returncode())
        except Exception as e:
            raise RuntimeError("%s\n%s\n%s" % (
                e, proc.tail(os.path.join(self.out, "pushmailbox.out"), 15),
                proc.tail(self.log_path, 15)))
        return self

    def running(self):
        return self.proc is not None and self.proc.running()

    def stop(self, timeout=3):
        """SIGTERM; returns (rc, seconds).  Raises AssertionError when
        pushmailbox needed SIGKILL (it must stop within `timeout` s)."""
        if not self.proc:
            return None, 0
        t0 = time.monotonic()
        rc, killed = self.proc.stop(timeout=timeout)
        took = time.monotonic() - t0
        self.proc = None
        if killed:
            raise AssertionError("pushmailbox did not stop within %.0fs of "
                                 "SIGTERM" % timeout)
        return rc, took

    def kill9(self):
        if self.proc:
            self.proc.kill9()
            self.proc = None

    def cleanup(self):
        if self.proc:
            self.proc.stop(timeout=5)
            self.proc = None

    def status(self, xml=False):
        code, body = http_get("http://127.0.0.1:%d/status%s?password=%s"
                              % (self.admin_port, ".xml" if xml else "",
                                 self.admin_password))
        return body if code == 200 else None

    def wait_status(self, pred, timeout=20, what="pushmailbox status"):
        """Poll /status until pred(text) is true; returns the text."""
        last = [""]

        def check():
            st = self.status()
            last[0] = st or ""
            return st if st and pred(st) else None
        try:
            return proc.wait_until(check, timeout, interval=0.25, what=what)
        except TimeoutError as e:
            raise AssertionError("%s; last status:\n%s" % (e, last[0][-1500:]))

    def mailbox_line(self, needle):
        """The status line that names `needle` (user or MSISDN), or None."""
        st = self.status() or ""
        for line in st.splitlines():
            if needle in line:
                return line
        return None

    def log_tail(self, n=20):
        return proc.tail(self.log_path, n)


def _q(v):
    v = str(v)
    if re.fullmatch(r"[0-9]+", v):
        return v
    return '"%s"' % v.replace('"', '\\"')
