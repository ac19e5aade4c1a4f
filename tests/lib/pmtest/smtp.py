"""smtp.py - a private Postfix on loopback that delivers into the test
Dovecot, and an IMAP reader to check what arrived.

    dc = MailDovecot(out_dir).start()       # Dovecot + LMTP + auth listener
    pf = Postfix(out_dir, dc, domains=["example.com"]).start()
    pf.port, pf.smtps_port                   # submission: STARTTLS / TLS
    pf.url("ann@example.com")                # smtp://ann%40example.com@...
    pf.refuse("nobody@example.com", "550 5.1.1 No such user here")
    pf.stop(); pf.start()                    # "SMTP down, then back"
    msgs = imap_messages(dc, "bob@example.com", "pw", folder="INBOX")

Postfix runs from its Debian package as a private instance: its own
config_directory, queue_directory and data_directory in a temp folder,
inet_interfaces = 127.0.0.1, its own ports in master.cf (no chroot),
SMTP AUTH through Dovecot's auth service (smtpd_sasl_type = dovecot over
an inet listener), TLS with the Dovecot test certificate (AUTH only after
STARTTLS), delivery to the virtual domains over LMTP into the same
Dovecot, everything else refused at RCPT time.  Its master runs in the
foreground (`master -d`) under our Proc, so it is stopped by its PID.
Postfix needs root (its master changes to the postfix user); when not
root, Postfix() raises pmtest.Skip.

MailDovecot is a Dovecot (pmtest.dovecot) whose configuration adds the
LMTP protocol on a port and an inet listener of the auth service; it
changes nothing else.
"""

import email
import email.policy
import imaplib
import os
import pwd
import re
import shutil
import ssl
import tempfile
import time

from . import Skip, dovecot, ports, proc

POSTFIX = "/usr/sbin/postfix"
MASTER = "/usr/lib/postfix/sbin/master"
LMTP = "/usr/lib/dovecot/lmtp"

MASTER_CF = """# pmtest Postfix: private instance, no chroot
{port} inet n - n - - smtpd
{sport} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """# pmtest Postfix main.cf (generated)
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.pmtest.example
mydomain = pmtest.example
myorigin = $myhostname
mydestination =
relay_domains =
mynetworks = 192.0.2.1/32
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtputf8_enable = no
maillog_file = {log}
maillog_file_prefixes = /
smtpd_banner = $myhostname ESMTP pmtest
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth_port}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:{access},
    permit_sasl_authenticated, reject
smtpd_client_restrictions =
virtual_mailbox_domains = {domains}
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}
local_transport = error:5.1.1 no local delivery in tests
default_transport = error:5.7.1 no outside delivery in tests
lmtp_host_lookup = native
disable_dns_lookups = yes
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
"""


class MailDovecot(dovecot.Dovecot):
    """The test Dovecot plus an LMTP listener (Postfix delivers to it)
    and an auth listener (Postfix's SMTP AUTH asks it)."""

    def __init__(self, out_dir, **kw):
        self.lmtp_port, self.auth_port = ports.free_ports(2)
        super().__init__(out_dir, **kw)

    def _write(self):
        super()._write()
        with open(self.conf) as f:
            text = f.read()
        text = text.replace("protocols = imap pop3\n",
                            "protocols = imap pop3 lmtp\n")
        text = re.sub(r"service lmtp \{\s*inet_listener lmtp \{\s*"
                      r"port = 0\s*\}\s*\}",
                      "service lmtp {\n  inet_listener lmtp {\n"
                      "    address = 127.0.0.1\n    port = %d\n  }\n}"
                      % self.lmtp_port, text)
        text += ("service auth {\n  inet_listener auth-smtp {\n"
                 "    address = 127.0.0.1\n    port = %d\n  }\n}\n"
                 % self.auth_port)
        if "lmtp" not in text.split("protocols = ", 1)[1].split("\n", 1)[0] \
                or ("port = %d" % self.lmtp_port) not in text:
            raise RuntimeError("cannot add LMTP to the Dovecot config")
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self, timeout=20):
        if not os.access(LMTP, os.X_OK):
            raise Skip("Dovecot's LMTP server is not installed (Debian "
                       "package dovecot-lmtpd)")
        super().start(timeout)
        proc.wait_until(lambda: ports.is_bound(self.lmtp_port) and
                        ports.is_bound(self.auth_port), timeout,
                        what="Dovecot LMTP and auth listeners")
        return self


class Postfix:
    def __init__(self, out_dir, dc, domains=("example.com",),
                 name="postfix"):
        if os.geteuid() != 0:
            raise Skip("a private Postfix needs root")
        if not os.access(MASTER, os.X_OK):
            raise Skip("Postfix is not installed (Debian package postfix)")
        pwd.getpwnam("postfix")
        self.out = os.path.join(out_dir, name)
        os.makedirs(self.out, exist_ok=True)
        self.dc = dc
        self.domains = list(domains)
        self.port, self.smtps_port = ports.free_ports(2)
        # Postfix's sockets live under queue_directory: keep it short
        self.run_dir = tempfile.mkdtemp(prefix="pmt-pf-")
        os.chmod(self.run_dir, 0o755)
        self.conf_dir = os.path.join(self.run_dir, "conf")
        self.queue = os.path.join(self.run_dir, "queue")
        self.data = os.path.join(self.run_dir, "data")
        self.access = os.path.join(self.conf_dir, "access")
        self.log_path = os.path.join(self.out, "postfix.log")
        self.out_log = os.path.join(self.out, "postfix-master.log")
        self.refused = {}
        self.proc = None
        for d in (self.conf_dir, self.queue):
            os.makedirs(d, exist_ok=True)
        self._write()
        # create the queue folders with Postfix's owners and modes
        cp = proc.run([POSTFIX, "-c", self.conf_dir, "check"],
                      os.path.join(self.out, "postfix-check.log"),
                      timeout=60)
        if cp.returncode != 0:
            raise RuntimeError("postfix check failed:\n"
                               + proc.tail(os.path.join(
                                   self.out, "postfix-check.log")))

    def _write(self):
        with open(os.path.join(self.conf_dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port, sport=self.smtps_port))
        with open(os.path.join(self.conf_dir, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(
                queue=self.queue, data=self.data, log=self.log_path,
                auth_port=self.dc.auth_port, lmtp_port=self.dc.lmtp_port,
                cert=self.dc.cert, key=self.dc.key, access=self.access,
                domains=" ".join(self.domains)))
        self._write_access()

    def _write_access(self):
        with open(self.access, "w") as f:
            for addr, reply in self.refused.items():
                f.write("%s %s\n" % (addr, reply))

    def refuse(self, address, reply="550 5.1.1 No such user here"):
        """Make RCPT TO:<address> fail with `reply` (takes effect for new
        SMTP sessions: smtpd processes reread the map)."""
        self.refused[address] = reply
        self._write_access()
        if self.running():
            proc.run([POSTFIX, "-c", self.conf_dir, "reload"],
                     os.path.join(self.out, "postfix-reload.log"))
            time.sleep(1.5)

    # --- life cycle ---------------------------------------------------
    def start(self, timeout=30):
        self.proc = proc.Proc("postfix", [MASTER, "-c", self.conf_dir, "-d"],
                              self.out_log).start()
        try:
            proc.wait_until(lambda: (not self.proc.running()) or (
                ports.is_bound(self.port) and
                ports.is_bound(self.smtps_port)), timeout,
                what="Postfix listeners")
        except TimeoutError:
            raise RuntimeError("Postfix did not listen:\n"
                               + proc.tail(self.out_log)
                               + proc.tail(self.log_path))
        if not self.proc.running():
            raise RuntimeError("Postfix master exited:\n"
                               + proc.tail(self.out_log) + "\n"
                               + proc.tail(self.log_path))
        return self

    def running(self):
        return self.proc is not None and self.proc.running()

    def stop(self):
        if self.proc is not None:
            self.proc.stop(timeout=15)
            self.proc = None
            proc.wait_until(lambda: not ports.is_bound(self.port) and
                            not ports.is_bound(self.smtps_port), 15,
                            what="Postfix ports to close")

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- addresses ----------------------------------------------------
    def url(self, user=None, smtps=False, tls=None):
        """A pushmail SMTP URL for this Postfix (user: login, optional)."""
        from urllib.parse import quote
        u = "%s://" % ("smtps" if smtps else "smtp")
        if user:
            u += quote(user, safe="") + "@"
        u += "127.0.0.1:%d" % (self.smtps_port if smtps else self.port)
        if tls:
            u += "?tls=" + tls
        return u

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


# --- reading mail back over IMAP ---------------------------------------

def imap_messages(dc, user, password, folder="INBOX"):
    """Every message in `folder` of `user` as email.message.EmailMessage
    objects (oldest first), read over IMAPS from the test Dovecot; []
    when the folder does not exist."""
    ctx = ssl.create_default_context(cafile=dc.ca_file)
    m = imaplib.IMAP4_SSL("127.0.0.1", dc.imaps_port, ssl_context=ctx,
                          timeout=20)
    try:
        m.login(user, password)
        typ, _ = m.select('"%s"' % folder, readonly=True)
        if typ != "OK":
            return []
        typ, data = m.uid("SEARCH", None, "ALL")
        uids = data[0].split() if typ == "OK" and data[0] else []
        out = []
        for uid in uids:
            typ, d = m.uid("FETCH", uid, "(BODY.PEEK[])")
            for item in d:
                if isinstance(item, tuple):
                    msg = email.message_from_bytes(
                        item[1], policy=email.policy.default)
                    msg.raw = item[1]
                    out.append(msg)
        return out
    finally:
        try:
            m.logout()
        except Exception:
            pass


def wait_messages(dc, user, password, count=1, folder="INBOX", timeout=30,
                  pred=None):
    """Wait until `folder` holds at least `count` messages (matching
    pred(msg) when given); returns them."""
    got = [[]]

    def check():
        msgs = imap_messages(dc, user, password, folder)
        if pred is not None:
            msgs = [x for x in msgs if pred(x)]
        got[0] = msgs
        return len(msgs) >= count
    try:
        proc.wait_until(check, timeout, interval=0.5,
                        what="%d mail(s) in %s's %s" % (count, user, folder))
    except TimeoutError as e:
        raise AssertionError("%s; found %d" % (e, len(got[0])))
    return got[0]


def body_text(msg):
    """The text/plain body of an EmailMessage (decoded, LF line ends),
    or ""."""
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    return part.get_content().replace("\r\n", "\n")


def attachments(msg):
    """[(filename, content_type, bytes)] of an EmailMessage."""
    out = []
    for part in msg.iter_attachments():
        out.append((part.get_filename(), part.get_content_type(),
                    part.get_payload(decode=True)))
    return out
