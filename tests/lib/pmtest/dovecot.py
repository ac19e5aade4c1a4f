"""dovecot.py - a private Dovecot (IMAP, IMAPS, POP3, POP3S) on loopback.

    d = Dovecot(out_dir, users={"ann": "pw1"}, idle=True).start()
    d.deliver("ann", raw_bytes)       # via dovecot-lda
    d.imap_port, d.imaps_port, d.pop3_port, d.pop3s_port
    d.ca_file                          # for pushmail's ca-file
    d.restart(); d.stop()

Dovecot's sockets and mail live in a short folder under /tmp (UNIX socket
paths are limited to 108 bytes, and the unprivileged mail user must be able
to reach the folder); configuration and logs live in out_dir.  When run as
root, Dovecot's internal and login users are the Debian `dovecot` and
`dovenull` users and the mail is owned by `dovecot`.
"""

import os
import pwd
import shutil
import tempfile

from . import ports, proc

LDA = "/usr/lib/dovecot/dovecot-lda"
DOVECOT = "/usr/sbin/dovecot"

# Dovecot 2.3's post-login capabilities minus IDLE (and NOTIFY, which would
# let a client watch without IDLE).
NO_IDLE_CAPS = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT "
                "SORT=DISPLAY THREAD=REFERENCES THREAD=REFS "
                "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE "
                "UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED "
                "I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
                "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY "
                "PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ "
                "SPECIAL-USE")


def make_ca_and_cert(folder, log_path=None):
    """Self-signed CA plus a server certificate for 127.0.0.1/localhost.
    Returns (ca_file, cert_file, key_file)."""
    ca_key = os.path.join(folder, "ca.key")
    ca = os.path.join(folder, "ca.crt")
    key = os.path.join(folder, "server.key")
    csr = os.path.join(folder, "server.csr")
    crt = os.path.join(folder, "server.crt")
    ext = os.path.join(folder, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    o = "openssl"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    proc.run([o, "req", "-x509"] + ec + ["-nodes",
              "-keyout", ca_key, "-out", ca, "-days", "30",
              "-subj", "/CN=pmtest CA"], log_path, check=True)
    proc.run([o, "req"] + ec + ["-nodes", "-keyout", key,
              "-out", csr, "-subj", "/CN=localhost"], log_path, check=True)
    proc.run([o, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
              "-CAcreateserial", "-out", crt, "-days", "30",
              "-extfile", ext], log_path, check=True)
    os.chmod(key, 0o600)
    return ca, crt, key


class Dovecot:
    def __init__(self, out_dir, users=None, idle=True, name="dovecot",
                 poll_check=1):
        self.out = os.path.join(out_dir, name)
        os.makedirs(self.out, exist_ok=True)
        self.users = dict(users or {})
        self.idle = idle
        self.poll_check = poll_check
        self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port = \
            ports.free_ports(4)
        self.run_dir = tempfile.mkdtemp(prefix="pmt-dc-")
        os.chmod(self.run_dir, 0o755)
        self.base_dir = os.path.join(self.run_dir, "run")
        self.mail_dir = os.path.join(self.run_dir, "mail")
        self.conf = os.path.join(self.out, "dovecot.conf")
        # Dovecot's auth process (user dovecot) reads the users file: it
        # lives beside the mail, not in out_dir (which may be under a
        # private folder such as /root).
        self.users_file = os.path.join(self.run_dir, "users")
        self.log_path = os.path.join(self.out, "dovecot.log")
        self.master_log = os.path.join(self.out, "dovecot-master.log")
        self.proc = None
        self.root = os.geteuid() == 0
        if self.root:
            pw = pwd.getpwnam("dovecot")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self.ca_file, self.cert, self.key = make_ca_and_cert(
            self.out, os.path.join(self.out, "openssl.log"))
        self._write()

    # --- configuration -------------------------------------------------
    def _write(self):
        os.makedirs(self.mail_dir, exist_ok=True)
        if self.root:
            os.chown(self.mail_dir, self.uid, self.gid)
        with open(self.users_file, "w") as f:
            for u, p in self.users.items():
                f.write("%s:{PLAIN}%s:%d:%d::%s/%s::\n"
                        % (u, p, self.uid, self.gid, self.mail_dir, u))
        os.chmod(self.users_file, 0o644)
        shutil.copy(self.users_file, os.path.join(self.out, "users"))
        caps = ""
        if not self.idle:
            caps = "imap_capability = %s\n" % NO_IDLE_CAPS
        internal = ""
        if self.root:
            internal = ("default_internal_user = dovecot\n"
                        "default_login_user = dovenull\n")
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            internal = ("default_internal_user = %s\n"
                        "default_login_user = %s\n" % (me, me))
        text = """# pmtest Dovecot: loopback only, private folders
base_dir = {base}
state_dir = {run}/state
instance_name = pmt-{imap}
listen = 127.0.0.1
protocols = imap pop3
log_path = {log}
info_log_path = {log}
{internal}first_valid_uid = 1
first_valid_gid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = {poll} secs
pop3_uidl_format = %08Xu%08Xv
{caps}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
# no stats: its login-process handshakes stall shutdown by 5 s
stats_writer_socket_path =
service submission-login {{
  chroot =
}}
service lmtp {{
  inet_listener lmtp {{
    port = 0
  }}
}}
""".format(base=self.base_dir, run=self.run_dir, log=self.log_path,
           internal=internal, cert=self.cert, key=self.key,
           poll=self.poll_check, caps=caps, users=self.users_file,
           imap=self.imap_port, imaps=self.imaps_port, pop3=self.pop3_port,
           pop3s=self.pop3s_port)
        with open(self.conf, "w") as f:
            f.write(text)

    def add_user(self, user, password):
        """Add a user (Dovecot re-reads the passwd-file when it changes)."""
        self.users[user] = password
        self._write()
        if self.proc is not None and self.proc.running():
            # Dovecot's passwd-file looks at the file at most once a
            # second: wait until the user resolves.
            proc.wait_until(lambda: proc.run(
                ["doveadm", "-c", self.conf, "user", user],
                timeout=10).returncode == 0, 10, interval=0.2,
                what="Dovecot to know user %s" % user)

    # --- life cycle ----------------------------------------------------
    def start(self, timeout=20):
        self.proc = proc.Proc("dovecot", [DOVECOT, "-F", "-c", self.conf],
                              self.master_log).start()
        try:
            proc.wait_until(lambda: (not self.proc.running()) or all(
                ports.is_bound(p) for p in
                (self.imap_port, self.imaps_port, self.pop3_port,
                 self.pop3s_port)), timeout, what="Dovecot listeners")
        except TimeoutError:
            raise RuntimeError("Dovecot did not listen:\n"
                               + proc.tail(self.log_path)
                               + proc.tail(self.master_log))
        if not self.proc.running():
            raise RuntimeError("Dovecot exited:\n" + proc.tail(self.master_log)
                               + "\n" + proc.tail(self.log_path))
        return self

    def stop(self):
        if self.proc:
            self.proc.stop(timeout=10)
            self.proc = None
            proc.wait_until(lambda: not any(
                ports.is_bound(p) for p in
                (self.imap_port, self.imaps_port, self.pop3_port,
                 self.pop3s_port)), 10, what="Dovecot ports to close")

    def restart(self, down_seconds=0):
        import time
        self.stop()
        if down_seconds:
            time.sleep(down_seconds)
        return self.start()

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- mail ----------------------------------------------------------
    def deliver(self, user, raw, folder=None):
        """Deliver raw message bytes (or str) to user's INBOX (or folder)."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        argv = [LDA, "-c", self.conf, "-d", user]
        if folder:
            argv += ["-m", folder]
        cp = proc.run(argv, input=raw, timeout=60,
                      log_path=os.path.join(self.out, "lda.log"))
        if cp.returncode != 0:
            raise RuntimeError("dovecot-lda for %s exited %d: %s"
                               % (user, cp.returncode,
                                  cp.stderr[-500:].decode("utf-8", "replace")))

    def maildir(self, user):
        return os.path.join(self.mail_dir, user, "Maildir")

    def url(self, user, scheme="imap", tls=None, folder="INBOX"):
        """A pushmail mailbox URL for user on this Dovecot."""
        from urllib.parse import quote
        port = {"imap": self.imap_port, "imaps": self.imaps_port,
                "pop3": self.pop3_port, "pop3s": self.pop3s_port}[scheme]
        u = "%s://%s@127.0.0.1:%d" % (scheme, quote(user, safe=""), port)
        if scheme.startswith("imap"):
            u += "/" + folder
        else:
            u += "/"
        if tls:
            u += "?tls=" + tls
        return u
