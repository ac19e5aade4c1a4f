"""test_transports.py - every way to reach a mailbox: IMAP with STARTTLS,
IMAPS, plain IMAP, POP3, POP3S, a Dovecot without IDLE (polling), and TLS
verification failing against an untrusted CA.
"""

import time

from flowlib import Env, Peers


def setup_module(m):
    return Peers(m)


def _roundtrip(env, pm, user, phone, subject, timeout=20):
    start = env.mark()
    env.deliver(user, subject=subject, body="body of " + subject)
    _, n = env.prompt(phone, subject, start=start, timeout=timeout)
    s2 = env.mark()
    env.mo(phone, "GET %d" % n)
    env.expect(phone, "body of " + subject, start=s2, timeout=timeout)


def _case(t, scheme, tls, timeout=20, **settings):
    env = Env(t, t.mod)
    pm = env.pushmail(**settings)
    user, pw = env.user()
    phone = env.msisdn()
    url = env.bind(pm, phone, user, pw, scheme=scheme, tls=tls)
    _roundtrip(env, pm, user, phone, "Via %s" % url.split(":")[0],
               timeout=timeout)
    return env, pm, user, phone


def test_imap_starttls(t):
    env, pm, user, phone = _case(t, "imap", None)
    with open(env.dovecot.log_path, errors="replace") as f:
        text = f.read()
    assert ("user=<%s>" % user) in text
    logins = [l for l in text.splitlines()
              if "imap-login: Info: Login: user=<%s>" % user in l]
    assert logins and all(", TLS," in l for l in logins), logins


def test_imaps(t):
    env, pm, user, phone = _case(t, "imaps", None)
    with open(env.dovecot.log_path, errors="replace") as f:
        logins = [l for l in f.read().splitlines()
                  if "imap-login: Info: Login: user=<%s>" % user in l]
    assert logins and all(", TLS," in l for l in logins), logins


def test_imap_plain(t):
    _case(t, "imap", "none")


def test_pop3(t):
    _case(t, "pop3", "none", timeout=25, poll_interval=5)


def test_pop3s(t):
    env, pm, user, phone = _case(t, "pop3s", None, timeout=25,
                                 poll_interval=5)
    # POP3 polling leaves the mail on the server
    import poplib
    p = poplib.POP3("127.0.0.1", env.dovecot.pop3_port)
    p.user(user)
    p.pass_(env.dovecot.users[user])
    assert p.stat()[0] == 1, p.stat()
    p.quit()


def test_untrusted_certificate_refused(t):
    """pushmail's ca-file is not the CA that signed Dovecot's certificate:
    the login must not happen and the mailbox shows failing."""
    env = Env(t, t.mod)
    import os
    from pmtest import dovecot as dv
    other = os.path.join(t.out, "other-ca")
    os.makedirs(other)
    ca, _, _ = dv.make_ca_and_cert(other)
    pm = env.pushmail(ca_file=ca)
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw, scheme="imaps", tls=None, wait=False)
    from pmtest import proc
    proc.wait_until(lambda: env.mailbox_state(pm, phone)[0] == "failing",
                    30, interval=0.3, what="mailbox failing on TLS")
    assert env.logins(user) == 0, "logged in over an unverified TLS link"


def test_no_idle_polling(t):
    """A Dovecot that does not advertise IDLE: pushmail polls."""
    env = Env(t, idle=False)            # private peers: a no-IDLE Dovecot
    pm = env.pushmail(poll_interval=5)
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if env.mailbox_state(pm, phone)[0] == "polling":
            break
        time.sleep(0.3)
    else:
        raise AssertionError("mailbox not in state polling: %r"
                             % (env.mailbox_state(pm, phone),))
    start = env.mark()
    t0 = time.monotonic()
    env.deliver(user, subject="Polled mail", body="body polled")
    _, n = env.prompt(phone, "Polled mail", start=start, timeout=20)
    took = time.monotonic() - t0
    assert took < 5 + 6, "prompt took %.1fs with poll-interval 5" % took
    s2 = env.mark()
    env.mo(phone, "GET %d" % n)
    env.expect(phone, "body polled", start=s2)
    # never IDLE on a server that does not offer it
    with open(env.dovecot.log_path, errors="replace") as f:
        text = f.read()
    assert "IDLE running" not in text, "pushmail used IDLE anyway"
