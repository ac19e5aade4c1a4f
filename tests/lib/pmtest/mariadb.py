"""mariadb.py - a private MariaDB server in a temporary datadir.

    db = MariaDB(out_dir).start()
    db.create_database("pushmail", "pm", "pmpass")
    db.host, db.port, db.socket, db.dsn()
    db.sql("SELECT 1")                 # via the mariadb client, as root

Runs mariadbd as root with --user=root on 127.0.0.1 and its own socket;
the datadir and socket live under /tmp (socket paths are short).
"""

import os
import shutil
import tempfile

from . import ports, proc

INSTALL_DB = "mariadb-install-db"
MARIADBD = "/usr/sbin/mariadbd"
CLIENT = "mariadb"


class MariaDB:
    def __init__(self, out_dir, name="mariadb"):
        self.out = os.path.join(out_dir, name)
        os.makedirs(self.out, exist_ok=True)
        self.run_dir = tempfile.mkdtemp(prefix="pmt-db-")
        self.datadir = os.path.join(self.run_dir, "data")
        self.socket = os.path.join(self.run_dir, "mysqld.sock")
        self.host = "127.0.0.1"
        self.port = ports.free_port()
        self.log_path = os.path.join(self.out, "mariadb.log")
        self.proc = None
        self.database = self.username = self.password = None

    def _user_args(self):
        return ["--user=root"] if os.geteuid() == 0 else []

    def start(self, timeout=60):
        if not os.path.isdir(os.path.join(self.datadir, "mysql")):
            cp = proc.run([INSTALL_DB, "--no-defaults",
                           "--datadir=" + self.datadir,
                           "--auth-root-authentication-method=normal",
                           "--skip-test-db"] + self._user_args(),
                          log_path=os.path.join(self.out, "install-db.log"),
                          timeout=180)
            if cp.returncode != 0:
                raise RuntimeError("mariadb-install-db failed: "
                                   + proc.tail(os.path.join(
                                       self.out, "install-db.log")))
        self.proc = proc.Proc("mariadbd", [
            MARIADBD, "--no-defaults", "--datadir=" + self.datadir,
            "--socket=" + self.socket, "--port=%d" % self.port,
            "--bind-address=127.0.0.1", "--skip-name-resolve",
            "--pid-file=" + os.path.join(self.run_dir, "mysqld.pid"),
            "--log-error=" + self.log_path,
            "--innodb-buffer-pool-size=16M", "--skip-log-bin",
            "--max-connections=200"] + self._user_args(),
            os.path.join(self.out, "mariadbd.out")).start()
        try:
            proc.wait_until(lambda: not self.proc.running() or (
                ports.is_listening(self.port) and
                self.sql("SELECT 1", check=False).returncode == 0),
                timeout, interval=0.2, what="MariaDB to answer")
        except TimeoutError as e:
            raise RuntimeError("%s\n%s" % (e, proc.tail(self.log_path)))
        if not self.proc.running():
            raise RuntimeError("mariadbd exited:\n" + proc.tail(self.log_path))
        return self

    def sql(self, statement, database=None, check=True):
        argv = [CLIENT, "--no-defaults", "--socket=" + self.socket,
                "-uroot", "--batch", "--skip-column-names"]
        if database:
            argv.append(database)
        return proc.run(argv + ["-e", statement], check=check, timeout=30)

    def create_database(self, database="pushmail", username="pushmail",
                        password="pmdbpass"):
        self.database, self.username, self.password = \
            database, username, password
        self.sql("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4"
                 % database)
        for host in ("127.0.0.1", "localhost"):
            self.sql("CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s'"
                     % (username, host, password))
            self.sql("GRANT ALL ON `%s`.* TO '%s'@'%s'"
                     % (database, username, host))
        return self

    def dsn(self):
        return dict(host=self.host, port=self.port, username=self.username,
                    password=self.password, database=self.database,
                    socket=self.socket)

    def stop(self):
        if self.proc:
            self.proc.stop(timeout=30)
            self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)
