"""test_flow.py - pushmailbox end to end on SQLite: bind, prompt, commands.

One Dovecot and one bearerbox serve the whole module (each test uses its
own users and numbers); every test starts its own pushmailbox.
"""

import os
import re
import time

from flowlib import Env, Peers, prompt_number
from pmtest import mail, proc


def setup_module(m):
    return Peers(m)


def _bound(t, **settings):
    env = Env(t, t.mod)
    pm = env.pushmail(**settings)
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    return env, pm, user, phone


def test_bind_prompt_get(t):
    env, pm, user, phone = _bound(t)
    start = env.mark()
    t0 = time.monotonic()
    env.deliver(user, subject="Lunch tomorrow?", from_name="Ann Lee",
                body="Shall we meet at noon by the fountain?")
    p = env.expect(phone, ["GET 1", "Lunch tomorrow?"], start=start)
    took = time.monotonic() - t0
    assert "Ann Lee" in p.text, p
    assert p.text.startswith("Mail 1"), p
    assert p.parts == 1, "a prompt is one SMS: %r" % p
    assert took < 10, "prompt took %.1fs" % took
    # bearerbox acked the prompt and fakesmsc's delivery report is stored
    def dlr_stored():
        rc, out, err = pm.admin("show", phone)
        return rc == 0 and re.search(r"prompt +accepted +dlr delivered", out)
    proc.wait_until(dlr_stored, 10, what="the prompt's DLR in the store")
    start = env.mark()
    env.mo(phone, "GET 1")
    r = env.expect(phone, "fountain", start=start)
    assert r.text.startswith("Mail 1"), r
    assert "Subj: Lunch tomorrow?" in r.text, r
    assert "Date:" in r.text, r
    assert "[MORE]" not in r.text, r
    time.sleep(1)
    assert len(env.to(phone)) == 2, env.to(phone)
    # case and spaces do not matter
    start = env.mark()
    env.mo(phone, "  get   1 ")
    env.expect(phone, "fountain", start=start)


def test_address_with_at_sign(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    user, pw = env.user(domain="example.com")
    phone = env.msisdn()
    url = env.bind(pm, phone, user, pw)
    assert "%40example.com@" in url, url
    start = env.mark()
    env.deliver(user, subject="At sign works", body="body at sign")
    _, n = env.prompt(phone, "At sign works", start=start)
    env.mo(phone, "GET %d" % n)
    env.expect(phone, "body at sign", start=start)


def test_list(t):
    env, pm, user, phone = _bound(t, coalesce_window=0)
    start = env.mark()
    env.deliver(user, subject="First one", from_name="Ann Lee")
    env.prompt(phone, "First one", start=start)
    env.deliver(user, subject="Second one", from_name="Bob Brown")
    env.prompt(phone, "Second one", start=start)
    start = env.mark()
    env.mo(phone, "LIST")
    r = env.expect(phone, ["Ann Lee", "Bob Brown"], start=start)
    assert re.search(r"(^|\n)1 Ann Lee", r.text), r
    assert re.search(r"(^|\n)2 Bob Brown", r.text), r
    assert "First one" in r.text and "Second one" in r.text, r


def test_more_pages(t):
    env, pm, user, phone = _bound(t, page_segments=2)
    words = " ".join("w%03d" % i for i in range(400))
    start = env.mark()
    env.deliver(user, subject="Long read", body=words)
    _, n = env.prompt(phone, "Long read", start=start)
    start = env.mark()
    env.mo(phone, "GET %d" % n)
    r = env.expect(phone, "w000", start=start)
    assert r.parts <= 2, "page longer than page-segments: %r" % r
    assert r.text.rstrip().endswith("[MORE]"), r
    assert "w399" not in r.text
    seen = r.text
    for page in range(2, 30):
        start = env.mark()
        env.mo(phone, "MORE")
        r = env.expect_next(phone, start)
        assert r.parts <= 2, "page %d too long: %r" % (page, r)
        assert r.text.strip() and r.text not in seen, \
            "page %d repeats: %r" % (page, r)
        seen += r.text
        if "[MORE]" not in r.text:
            break
    else:
        raise AssertionError("MORE never reached the end")
    assert page >= 2
    assert "w399" in seen, "last word never sent"
    # every word arrived, in order
    got = re.findall(r"w(\d{3})", seen)
    assert [int(x) for x in got] == sorted(int(x) for x in got), got[:50]
    assert len(set(got)) == 400, "missing words: %d of 400" % len(set(got))


def test_stop_start(t):
    env, pm, user, phone = _bound(t, coalesce_window=0)
    start = env.mark()
    env.mo(phone, "STOP")
    time.sleep(2)           # a confirmation may come back; that is fine
    start = env.mark()
    env.deliver(user, subject="While stopped")
    env.none(phone, 8, start=start)
    env.mo(phone, "START")
    time.sleep(2)
    start = env.mark()
    env.deliver(user, subject="After start")
    env.prompt(phone, "After start", start=start)
    assert not [m for m in env.to(phone) if "While stopped" in m.text
                and "GET" in m.text and "reply" in m.text.lower()
                and m.text.startswith("Mail")], env.to(phone)


def test_help(t):
    env, pm, user, phone = _bound(t)
    for text in ("HELP", "help", "  Help  "):
        start = env.mark()
        env.mo(phone, text)
        r = env.expect_next(phone, start)
        assert r.text.startswith("Commands:"), (text, r)
        assert "GET" in r.text and "LIST" in r.text, r
        assert r.parts == 1, r


def test_unknown_text_gets_help(t):
    env, pm, user, phone = _bound(t)
    start = env.mark()
    env.mo(phone, "what is this")
    r = env.expect_next(phone, start)
    # a short help: it names the commands
    assert "GET" in r.text and "HELP" in r.text, r
    assert r.parts == 1, r
    time.sleep(2)
    assert len(env.to(phone, start)) == 1, env.to(phone, start)


def test_unbound_number_once_a_day(t):
    env, pm, user, phone = _bound(t)
    stranger = env.msisdn()
    start = env.mark()
    env.mo(stranger, "GET 1")
    r = env.expect_next(stranger, start)
    assert "not subscribed" in r.text.lower(), r
    env.mo(stranger, "HELP")
    env.mo(stranger, "LIST")
    env.none(stranger, 4, start=env.mark())
    assert len(env.to(stranger, start)) == 1
    # the bound phone is unaffected
    s2 = env.mark()
    env.mo(phone, "HELP")
    env.expect(phone, "Commands:", start=s2)


def test_first_sync_sends_no_prompt(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    user, pw = env.user()
    phone = env.msisdn()
    for i in range(3):
        env.deliver(user, subject="Old mail %d" % i)
    start = env.mark()
    env.bind(pm, phone, user, pw)
    env.none(phone, 7, start=start)
    env.deliver(user, subject="Fresh mail", body="fresh body text")
    _, n = env.prompt(phone, "Fresh mail", start=start)
    s2 = env.mark()
    env.mo(phone, "GET %d" % n)
    env.expect(phone, "fresh body text", start=s2)


def test_burst_is_coalesced(t):
    env, pm, user, phone = _bound(t, coalesce_window=5)
    start = env.mark()
    t0 = time.monotonic()
    names = ["Ann Lee", "Cid Moe", "Dee Fox", "Eve Kay", "Bob Last"]
    for i, name in enumerate(names):
        env.deliver(user, subject="Burst %d" % i, from_name=name)
    first = env.expect_next(phone, start, timeout=15)
    assert time.monotonic() - t0 < 5, "first prompt late"
    assert "GET" in first.text and first.text.startswith("Mail"), first
    summary = env.expect(phone, "more mail", start=start, timeout=20)
    assert "LIST" in summary.text, summary
    assert "Bob Last" in summary.text, summary
    time.sleep(7)
    got = env.to(phone, start)
    assert len(got) == 2, "want one prompt and one summary: %r" % got
    m = re.search(r"(\d+) more mail", summary.text)
    if m:
        assert int(m.group(1)) == 4, summary
    s2 = env.mark()
    env.mo(phone, "LIST")
    r = env.expect_next(phone, s2)
    assert "Bob Last" in r.text, r


def test_garbage_and_overlong_mo(t):
    env, pm, user, phone = _bound(t)
    cases = [
        ("data", b"\x00\xff\xfe\x01garbage\x80\x81"),
        ("text", "GET " + "9" * 40),
        ("text", "GET -1"),
        ("text", "X" * 1200),
        ("text", "GET 1 " + "y" * 900),
        ("ucs2", "\u041f\u0440\u0438\u0432\u0435\u0442 \u4f60\u597d"),
        ("text", "%s%n%x'; DROP TABLE bindings; --"),
    ]
    for kind, text in cases:
        start = env.mark()
        env.mo(phone, text, kind=kind)
        r = env.expect_next(phone, start)
        assert r.parts == 1, "reply to %r is long: %r" % (text[:30], r)
        time.sleep(1)
        assert len(env.to(phone, start)) == 1, \
            "more than one reply to %r: %r" % (text[:30],
                                               env.to(phone, start))
    assert pm.running(), "pushmailbox died"
    start = env.mark()
    env.deliver(user, subject="Still alive")
    env.prompt(phone, "Still alive", start=start)


def test_unicode_subject(t):
    env, pm, user, phone = _bound(t)
    start = env.mark()
    env.deliver(user, subject="\u041f\u0440\u0438\u0432\u0435\u0442 \u4e16\u754c",
                from_name="J\u00f6rg \u00c5str\u00f6m",
                body="Gr\u00fc\u00dfe aus \u00d6sterreich \u20ac")
    p = env.expect(phone, "\u041f\u0440\u0438\u0432\u0435\u0442", start=start)
    assert p.parts == 1, p
    n = prompt_number(p)
    assert n is not None, p
    s2 = env.mark()
    env.mo(phone, "GET %d" % n)
    r = env.expect(phone, "\u00d6sterreich", start=s2)
    assert "\u20ac" in r.text, r


def test_malformed_mail(t):
    env, pm, user, phone = _bound(t, coalesce_window=0)
    raw = (b"From: =?utf-8?B?broken\r\n"
           b"Subject: Broken =?x-unknown?Q?stuff?= mail\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"nope\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"\r\n"
           b"--nope\r\nContent-Type: text/plain; charset=klingon\r\n\r\n"
           b"visible \xff\xfe text here\r\n"
           b"--nope\r\nContent-Type: text/html\r\n\r\n<p><b>unclosed"
           b"\r\n")
    start = env.mark()
    env.deliver(user, raw=raw)
    p = env.expect(phone, "GET", start=start)
    n = prompt_number(p)
    s2 = env.mark()
    env.mo(phone, "GET %d" % n)
    r = env.expect_next(phone, s2)
    assert r.text.startswith("Mail %d" % n), r
    # a header-only mail with no body at all
    start = env.mark()
    env.deliver(user, raw=b"Subject: Empty body\r\n\r\n")
    p = env.expect(phone, "Empty body", start=start)
    s2 = env.mark()
    env.mo(phone, "GET %d" % prompt_number(p))
    r = env.expect_next(phone, s2)
    assert r.text.startswith("Mail"), r
    assert pm.running()


def test_five_megabyte_mail(t):
    env, pm, user, phone = _bound(t)
    import base64
    blob = base64.encodebytes(os.urandom(5 * 1024 * 1024 * 3 // 4))
    raw = (b"From: Big Sender <big@example.org>\r\n"
           b"To: x@example.com\r\nSubject: Huge attachment\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
           b"--BB\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
           b"See the attached file, small text first.\r\n"
           b"--BB\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: attachment; filename=big.bin\r\n\r\n"
           + blob.replace(b"\n", b"\r\n") + b"--BB--\r\n")
    assert len(raw) > 5_000_000
    start = env.mark()
    env.deliver(user, raw=raw)
    p = env.expect(phone, "Huge attachment", start=start, timeout=30)
    assert p.parts == 1
    s2 = env.mark()
    env.mo(phone, "GET %d" % prompt_number(p))
    r = env.expect(phone, "small text first", start=s2, timeout=30)
    assert r.parts <= 3, r
    assert not re.search(r"[A-Za-z0-9+/]{60}", r.text), \
        "attachment data in the SMS: %r" % r


def test_wrong_password(t):
    env = Env(t, t.mod)
    pm = env.pushmail()
    user, pw = env.user()
    phone = env.msisdn()
    start = env.mark()
    env.bind(pm, phone, user, "not-the-password", wait=False)
    st = proc.wait_until(
        lambda: env.mailbox_state(pm, phone)[0] == "failing"
        and env.mailbox_state(pm, phone), 30, interval=0.3,
        what="status to show the mailbox failing")
    state, attrs = st
    text = pm.status() or ""
    assert re.search(r"\b1 failing\b", text), text
    time.sleep(8)
    got = env.to(phone, start)
    assert len(got) <= 1, "more than one SMS for a failing login: %r" % got
    assert pm.running()
    # Dovecot was not hammered: a handful of logins at most
    with open(env.dovecot.log_path, errors="replace") as f:
        fails = len(re.findall(r"user=<%s>.*(auth failed|password)"
                               % re.escape(user), f.read()))
    assert fails <= 6, "%d failed logins in ~10 s" % fails


def test_admin_pause_resume_unbind(t):
    env, pm, user, phone = _bound(t, coalesce_window=0)
    rc, out, err = pm.admin("list")
    assert rc == 0 and phone in out, (rc, out, err)
    rc, out, err = pm.admin("show", phone)
    assert rc == 0 and phone in out, (rc, out, err)
    assert "pw-" not in out + err, "password shown by show"
    rc, out, err = pm.admin("pause", phone)
    assert rc == 0, (rc, out, err)
    time.sleep(2)
    start = env.mark()
    env.deliver(user, subject="While paused")
    env.none(phone, 7, start=start)
    rc, out, err = pm.admin("resume", phone)
    assert rc == 0, (rc, out, err)
    time.sleep(2)
    start = env.mark()
    env.deliver(user, subject="After resume")
    env.prompt(phone, "After resume", start=start)
    rc, out, err = pm.admin("unbind", phone)
    assert rc == 0, (rc, out, err)
    time.sleep(3)
    start = env.mark()
    env.deliver(user, subject="After unbind")
    env.mo(phone, "LIST")
    r = env.expect_next(phone, start)
    assert "not subscribed" in r.text.lower(), r
    time.sleep(4)
    assert not [m for m in env.to(phone, start) if "After unbind" in m.text]
    # bad input exits 2 and changes nothing
    for args in (("bind", "not-a-number", env.dovecot.url(user)),
                 ("bind", "+15551230000", "ftp://x@127.0.0.1/"),
                 ("unbind",), ("frobnicate",)):
        rc, out, err = pm.admin(*args, stdin="pw\n")
        assert rc == 2, (args, rc, out, err)
    rc, out, err = pm.admin("list")
    assert rc == 0 and "+15551230000" not in out, out
    # the password is never on the command line or in the log
    with open(pm.log_path, errors="replace") as f:
        assert "pw-" not in f.read(), "a mailbox password is in the log"


def test_sigterm_stops_quickly(t):
    env, pm, user, phone = _bound(t)
    rc, took = pm.stop(timeout=3)
    assert took < 3, took
    assert rc == 0, "exit status %s after SIGTERM" % rc
