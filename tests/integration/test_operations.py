"""test_operations.py - pushmailbox as an operator runs it: the admin
HTTP port, signals, configuration errors, key file checks, and secrets
that must never reach a log, an error text or the status page.

One Dovecot and one bearerbox serve the module; each test starts its own
pushmailbox.
"""

import os
import re
import signal
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET

from flowlib import Env, Peers
from pmtest import proc
from pmtest.kannel import http_get
from pmtest.pushmail import binary


def setup_module(m):
    return Peers(m)


def _get(pm, path, password=None):
    pw = pm.admin_password if password is None else password
    return http_get("http://127.0.0.1:%d%s?password=%s"
                    % (pm.admin_port, path, pw))


def test_status_text_and_xml(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    code, text = _get(pm, "/status")
    assert code == 200, (code, text)
    assert re.search(r"bearerbox: connected", text), text
    assert re.search(r"^bindings: 1$", text, re.M), text
    assert re.search(r"mailboxes: 1 idle, 0 polling, 0 connecting, "
                     r"0 failing", text), text
    assert "queues:" in text and "counters:" in text, text
    code, x = _get(pm, "/status.xml")
    assert code == 200, (code, x)
    root = ET.fromstring(x)             # well-formed
    assert root.tag == "pushmail"
    assert root.findtext("bearerbox/state") == "connected", x
    assert root.findtext("bindings") == "1", x
    mbs = list(root.iter("mailbox"))
    assert [m.get("msisdn") for m in mbs] == [phone], x
    assert mbs[0].get("state") == "idle", x
    # the counters move with the traffic
    start = env.mark()
    env.deliver(user, subject="Counted")
    env.expect(phone, "GET", start=start)
    env.mo(phone, "LIST")
    env.expect(phone, "Counted", start=start)

    def counted():
        r = ET.fromstring(_get(pm, "/status.xml")[1])
        c = r.find("counters")
        return (int(c.findtext("prompts")) >= 1
                and int(c.findtext("commands")) >= 1
                and int(c.findtext("mo")) >= 1
                and int(c.findtext("mt-accepted")) >= 2)
    proc.wait_until(counted, 10, what="status counters")


def test_admin_password_and_paths(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    code, body = _get(pm, "/status", password="wrong")
    assert code == 403, (code, body)
    assert "bindings" not in body, body
    code, body = http_get("http://127.0.0.1:%d/status" % pm.admin_port)
    assert code == 403, (code, body)
    code, body = _get(pm, "/nonsense")
    assert code == 404, (code, body)
    code, body = _get(pm, "/status")
    assert code == 200, body
    headers = urllib.request.urlopen(
        "http://127.0.0.1:%d/status?password=%s"
        % (pm.admin_port, pm.admin_password), timeout=5).headers
    assert headers.get("Cache-Control") == "no-store", dict(headers)


def test_admin_allow_ip_refuses_others(t):
    env = Env(t, t.mod)
    # loopback is not in the allow-list: the request is closed unanswered
    pm = env.pushmail(start=False, admin_allow_ip="192.0.2.1")
    pm.proc = proc.Proc("pushmailbox", [binary("pushmailbox"), pm.conf],
                        os.path.join(pm.out, "pushmailbox.out")).start()
    proc.wait_until(lambda: env.bb.box_connected(), 20,
                    what="pushmailbox connected to bearerbox")
    code, body = _get(pm, "/status")
    assert code != 200, (code, body)
    assert "bindings" not in (body or ""), body
    log = open(pm.log_path, errors="replace").read()
    assert re.search(r"admin request from 127\.0\.0\.1 refused", log), \
        log[-2000:]
    pm.stop()
    # allowed by the allow-list but named in the deny-list: refused too
    pm = env.pushmail(start=False, name="pm-deny",
                      admin_deny_ip="127.0.0.*")
    pm.proc = proc.Proc("pushmailbox", [binary("pushmailbox"), pm.conf],
                        os.path.join(pm.out, "pushmailbox.out")).start()
    proc.wait_until(lambda: os.path.exists(pm.log_path) and
                    "admin HTTP on" in
                    open(pm.log_path, errors="replace").read(), 20,
                    what="the admin port of the second pushmailbox")
    code, body = _get(pm, "/status")
    assert code != 200, (code, body)


def test_admin_listens_on_loopback_only(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    with open("/proc/net/tcp") as f:
        rows = f.read().splitlines()[1:]
    port_hex = "%04X" % pm.admin_port
    local = [r.split()[1] for r in rows
             if r.split()[1].endswith(":" + port_hex)
             and r.split()[3] == "0A"]
    assert local == ["0100007F:" + port_hex], local


def test_shutdown_endpoint(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    code, body = _get(pm, "/shutdown")
    assert code == 200, (code, body)
    p = pm.proc
    proc.wait_until(lambda: not p.running(), 5,
                    what="pushmailbox to stop after /shutdown")
    assert p.returncode() == 0, p.returncode()
    pm.proc = None


def test_sighup_reopens_log(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    rotated = pm.log_path + ".1"
    os.rename(pm.log_path, rotated)
    pm.proc.signal(signal.SIGHUP)
    proc.wait_until(lambda: os.path.exists(pm.log_path), 10,
                    what="a new log file after SIGHUP")
    proc.wait_until(lambda: "log files reopened" in
                    open(pm.log_path, errors="replace").read(), 10,
                    what="the reopen line in the new log")
    assert pm.running()
    # and the box still works
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    start = env.mark()
    env.deliver(user, subject="After HUP")
    env.expect(phone, "After HUP", start=start)


def _run_box(conf, timeout=10):
    return subprocess.run([binary("pushmailbox"), conf], capture_output=True,
                          timeout=timeout, text=True, errors="replace")


def test_bad_config_exits_2_naming_the_variable(t):
    env = Env(t, t.mod)
    pm = env.pushmail(start=False, poll_interval="soon")
    r = _run_box(pm.conf)
    assert r.returncode == 2, (r.returncode, r.stderr[-800:])
    assert "poll-interval" in r.stderr and "pushmail" in r.stderr, r.stderr
    assert pm.conf in r.stderr, r.stderr
    pm.settings.pop("smsbox-id")
    pm.settings["poll-interval"] = 5
    pm.write_conf()
    r = _run_box(pm.conf)
    assert r.returncode == 2 and "smsbox-id" in r.stderr, r.stderr[-800:]
    r = _run_box(os.path.join(t.out, "no-such.conf"))
    assert r.returncode == 2 and "no-such.conf" in r.stderr, r.stderr[-800:]
    assert "PANIC" not in r.stderr, r.stderr[-800:]


def test_key_file_checks(t):
    env = Env(t, t.mod)
    pm = env.pushmail(start=False)
    os.chmod(pm.key_file, 0o644)
    r = _run_box(pm.conf)
    assert r.returncode != 0, r.stderr[-500:]
    assert pm.key_file in r.stderr, r.stderr[-800:]
    rc, out, err = pm.admin("list")
    assert rc != 0 and pm.key_file in err, (rc, err)
    os.chmod(pm.key_file, 0o600)
    with open(pm.key_file, "ab") as f:
        f.write(b"x")                       # 33 bytes
    r = _run_box(pm.conf)
    assert r.returncode != 0 and pm.key_file in r.stderr, r.stderr[-800:]


def test_admin_bad_input_stores_nothing(t):
    env = Env(t, t.mod)
    pm = env.pushmail(start=False)
    bad = [
        ("bind", "+15559990001", "ftp://x@127.0.0.1/"),
        ("bind", "+15559990001", "imap://ann:pw@127.0.0.1/INBOX"),
        ("bind", "12ab", "imap://ann@127.0.0.1/INBOX"),
        ("bind", "+15559990001", "imap://ann@127.0.0.1:99999/INBOX"),
        ("bind", "+15559990001", "imap://ann@127.0.0.1/INBOX",
         "--deliver", "fax"),
    ]
    for args in bad:
        rc, out, err = pm.admin(*args, stdin="pw\n")
        assert rc == 2, (args, rc, out, err)
        assert err.strip(), (args, "no error text")
    rc, out, err = pm.admin("bind", "+15559990001",
                            "imap://ann@127.0.0.1/INBOX", stdin="")
    assert rc == 2 and "password" in err, (rc, err)
    rc, out, err = pm.admin("list")
    assert rc == 0 and out.strip() == "", (rc, out, err)
    rc, out, err = pm.admin("unbind", "+15559990001")
    assert rc == 1, (rc, out, err)


def test_secrets_never_logged(t):
    """Debug logs everywhere, a good and a wrong password, a GET: the
    passwords appear in no log, no status page and no error text."""
    env = Env(t, t.mod)
    pm = env.pushmail(log_level=0)
    user, pw = env.user()
    secret = "Zq-" + pw + "-9x"
    env.dovecot.add_user(user, secret)
    phone = env.msisdn()
    env.bind(pm, phone, user, secret)
    start = env.mark()
    env.deliver(user, subject="Secret test", body="body of the secret test")
    env.expect(phone, "GET", start=start)
    env.mo(phone, "GET 1")
    env.expect(phone, "body of the secret test", start=start)
    # a wrong password, verified and unverified
    user2, pw2 = env.user()
    wrong = "Wr0ng-" + pw2
    rc, out, err = pm.admin("bind", env.msisdn(),
                            env.dovecot.url(user2, "imap", "none"),
                            "--verify", stdin=wrong + "\n")
    assert rc == 1 and "login failed" in err, (rc, out, err)
    assert wrong not in out + err
    phone2 = env.msisdn()
    pm.bind(phone2, env.dovecot.url(user2, "imap", "none"), wrong)
    proc.wait_until(lambda: env.mailbox_state(pm, phone2)[0] == "failing",
                    40, what="the wrong password to show as failing")
    status = (pm.status() or "") + (pm.status(xml=True) or "")
    rc, show, _ = pm.admin("show", phone2)
    pm.stop()
    texts = [status, show]
    for root, _, files in os.walk(t.out):
        if os.sep + "dovecot" in root:
            continue                    # Dovecot's own users file
        for f in files:
            p = os.path.join(root, f)
            if p.endswith((".db", ".db-wal", ".db-shm", ".key")):
                continue                # encrypted store and the key
            with open(p, "rb") as fh:
                texts.append(fh.read().decode("utf-8", "replace"))
    for s in (secret, wrong):
        leaks = [x[:80] for x in texts if s in x]
        assert not leaks, "password %r found in %r" % (s, leaks)
    # the store holds it encrypted, not in clear
    for suffix in ("", "-wal"):
        if os.path.exists(pm.db_file + suffix):
            with open(pm.db_file + suffix, "rb") as fh:
                assert secret.encode() not in fh.read(), suffix


def test_unusable_mo_sender_is_dropped_not_retried(t):
    """An MO the store cannot take (a 70-character sender) is acked and
    dropped: no reconnect loop, no re-sent MTs, the next MO is answered."""
    env = Env(t, t.mod)
    pm = env.pushmail()
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    env.bb.send_mo("1" * 70, "1234", "LIST")
    start = env.mark()
    env.mo(phone, "HELP")
    env.expect(phone, "GET", start=start)
    time.sleep(2)
    x = ET.fromstring(_get(pm, "/status.xml")[1])
    assert x.findtext("bearerbox/connects") == "1", \
        "the link was dropped: %s" % ET.tostring(x)[:300]
    log = open(pm.log_path, errors="replace").read()
    assert "MO with an unusable sender number dropped" in log
    assert len(env.to(phone)) == 1, env.to(phone)
