"""flowlib.py - helpers shared by the pushmail flow tests.

    env = Env(t, shared=t.mod)        # or Env(t) for private peers
    pm = env.pushmail()               # fresh pushmailbox, stopped at the end
    user, pw = env.user()             # a new Dovecot user
    msisdn = env.msisdn()             # a new phone number
    env.bind(pm, msisdn, user, pw)    # pushmail-admin bind + wait watching
    env.deliver(user, subject=..., body=...)
    sms = env.expect(msisdn, "GET 1") # the next MT to msisdn with that text
    env.mo(msisdn, "GET 1")
    env.none(msisdn, seconds=4)       # nothing more for a while
"""

import itertools
import os
import re
import time

from pmtest import dovecot, kannel, mail, mariadb, proc
from pmtest.pushmail import Pushmail

SHORTCODE = "1234"
_users = itertools.count(1)
_phones = itertools.count(1)


class Peers:
    """Dovecot + bearerbox (+ MariaDB) shared by the tests of a module."""

    def __init__(self, ctx, idle=True, with_mariadb=False):
        self.dovecot = dovecot.Dovecot(ctx.out, idle=idle)
        ctx.add_cleanup(self.dovecot.cleanup)
        self.dovecot.start()
        self.bb = kannel.Bearerbox(ctx.out, smsbox_id="pushmail",
                                   shortcodes=[SHORTCODE])
        ctx.add_cleanup(self.bb.stop)
        self.bb.start()
        self.mariadb = None
        if with_mariadb:
            self.mariadb = mariadb.MariaDB(ctx.out)
            ctx.add_cleanup(self.mariadb.cleanup)
            self.mariadb.start()
        self.dbs = itertools.count(1)


class Env:
    def __init__(self, t, shared=None, idle=True, with_mariadb=False):
        self.t = t
        self.peers = shared or Peers(t, idle=idle, with_mariadb=with_mariadb)
        self.dovecot = self.peers.dovecot
        self.bb = self.peers.bb
        self.mark0 = self.sink.mark()
        t.add_log(self.dovecot.log_path)
        t.add_log(self.bb.log_path)

    @property
    def sink(self):
        """The current sink (a bearerbox restart makes a new one that keeps
        the messages, so marks stay valid)."""
        return self.bb.sink

    # --- resources ---------------------------------------------------------
    def user(self, domain=None):
        n = next(_users)
        user = "pmu%04d" % n + ("@" + domain if domain else "")
        pw = "pw-%04d-secret" % n
        self.dovecot.add_user(user, pw)
        return user, pw

    def msisdn(self):
        return "+1555%07d" % next(_phones)

    def pushmail(self, start=True, mysql=False, **settings):
        db = None
        if mysql:
            n = next(self.peers.dbs)
            db = self.peers.mariadb
            db.create_database("pushmail%d" % n, "pm%d" % n, "pm-db-%d" % n)
        settings.setdefault("ca_file", self.dovecot.ca_file)
        pm = Pushmail(self.t.out, self.bb, mariadb=db, **settings)
        self.t.add_cleanup(pm.cleanup)
        self.t.add_log(pm.log_path)
        if start:
            pm.start()
        return pm

    # --- binding -------------------------------------------------------------
    def bind(self, pm, msisdn, user, pw, scheme="imap", tls="none",
             wait=True, address=None):
        url = self.dovecot.url(user, scheme, tls)
        pm.bind(msisdn, url, pw, address=address)
        if wait:
            self.wait_watching(pm, user, msisdn, pop3=scheme.startswith("pop"))
        return url

    def logins(self, user, proto=None):
        """How many times Dovecot logged `user` in (imap/pop3/any)."""
        try:
            with open(self.dovecot.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return 0
        pat = r"(imap|pop3)-login: Info: Login: user=<%s>" % re.escape(user)
        return sum(1 for m in re.finditer(pat, text)
                   if proto is None or m.group(1) == proto)

    def pop3_sessions_done(self, user):
        try:
            with open(self.dovecot.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return 0
        return len(re.findall(r"pop3\(%s\)<[^>]*><[^>]*>: Info: "
                              r"Disconnected" % re.escape(user), text))

    def mailbox_state(self, pm, msisdn):
        """(state, attributes) of msisdn's mailbox in /status.xml, or
        (None, {}) when it is not listed."""
        import xml.etree.ElementTree as ET
        x = pm.status(xml=True)
        if not x:
            return None, {}
        try:
            root = ET.fromstring(x)
        except ET.ParseError:
            return None, {}
        for mb in root.iter("mailbox"):
            if mb.get("msisdn") == msisdn:
                a = dict(mb.attrib)
                if mb.text and mb.text.strip():
                    a["text"] = mb.text.strip()
                for child in mb:
                    a[child.tag] = (child.text or "").strip()
                return mb.get("state"), a
        return None, {}

    def watching_in_status(self, pm, user, msisdn):
        state, _ = self.mailbox_state(pm, msisdn)
        return state in ("idle", "polling")

    def wait_watching(self, pm, user, msisdn, pop3=False, timeout=30,
                      logins_before=0, pop3_before=0):
        """Wait until pushmailbox watches the mailbox: it logged in to
        Dovecot (for POP3: finished one session, i.e. one UIDL poll), and
        its status shows the mailbox idle/polling (or 2 s passed since the
        login when the status page does not say)."""
        proto = "pop3" if pop3 else "imap"
        seen = [None]

        def ready():
            if pop3:
                ok = self.pop3_sessions_done(user) > pop3_before
            else:
                ok = self.logins(user, proto) > logins_before
            if not ok:
                return False
            if seen[0] is None:
                seen[0] = time.monotonic()
            if self.watching_in_status(pm, user, msisdn):
                return True
            return time.monotonic() - seen[0] > 2.0
        try:
            proc.wait_until(ready, timeout, interval=0.2,
                            what="pushmailbox to watch %s" % user)
        except TimeoutError as e:
            raise AssertionError("%s; status:\n%s" % (
                e, (pm.status() or "(no status)")[-1200:]))
        time.sleep(0.3)

    # --- mail and SMS ------------------------------------------------------
    def deliver(self, user, raw=None, **kw):
        self.dovecot.deliver(user, raw if raw is not None
                             else mail.message(**kw))

    def mo(self, msisdn, text, **kw):
        self.bb.send_mo(msisdn, SHORTCODE, text, **kw)

    def mark(self):
        return self.sink.mark()

    def expect(self, msisdn, contains=None, timeout=20, start=None):
        """The first MT to msisdn (after `start`, default: since this Env
        began) whose text contains every given substring
        (case-insensitive); it must come from the shortcode."""
        m = self.sink.wait_to(msisdn, contains, timeout=timeout,
                              start=self.mark0 if start is None else start)
        assert m.sender == SHORTCODE, "MT from %r, not the shortcode: %r" \
            % (m.sender, m)
        return m

    def expect_next(self, msisdn, start, timeout=20):
        """The first MT to msisdn after mark `start`, whatever it says."""
        return self.expect(msisdn, None, timeout=timeout, start=start)

    def none(self, msisdn, seconds, start=None):
        """Assert that no MT reaches msisdn for `seconds`."""
        got = self.sink.quiet(msisdn, seconds, start=start)
        assert not got, "unexpected SMS to %s: %r" % (msisdn, got)

    def to(self, msisdn, start=None):
        return self.sink.since(self.mark0 if start is None else start, msisdn)

    def prompt(self, msisdn, subject, start=None, timeout=20):
        """Wait for a prompt naming `subject`; return (sms, n)."""
        m = self.expect(msisdn, [subject, "GET"], timeout=timeout,
                        start=start)
        n = prompt_number(m)
        assert n is not None, "no 'GET n' in prompt %r" % m.text
        return m, n


def prompt_number(sms):
    m = re.search(r"\bGET (\d+)\b", sms.text, re.I)
    return int(m.group(1)) if m else None
