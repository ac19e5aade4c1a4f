"""test_peers.py - the harness itself works, without pushmailbox.

Dovecot (IMAP, STARTTLS, IMAPS, POP3, POP3S, no-IDLE variant, delivery),
bearerbox + fakesmsc (MT via Kannel's smsbox sendsms, MO injection routed
by smsbox-route), MariaDB (server, database, user).
"""

import imaplib
import poplib
import socket
import ssl

from pmtest import dovecot, kannel, mail, mariadb, proc


def _tls(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    return ctx


def test_dovecot_imap_pop3(t):
    d = dovecot.Dovecot(t.out, users={"ann@example.com": "pw-ann",
                                      "bob": "pw-bob"})
    t.add_cleanup(d.cleanup)
    t.add_log(d.log_path)
    d.start()
    d.deliver("ann@example.com", mail.message(subject="Hello IMAP",
                                              body="first body"))
    d.deliver("ann@example.com", mail.message(subject="Second"))

    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    assert "STARTTLS" in m.capabilities
    m.login("ann@example.com", "pw-ann")
    assert "IDLE" in m.capabilities, m.capabilities
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK" and data == [b"2"], data
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Hello IMAP" in data[0][1], data
    m.logout()

    # STARTTLS on the plain port, verified against the generated CA
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    m.starttls(ssl_context=_tls(d.ca_file))
    m.login("ann@example.com", "pw-ann")
    assert m.select("INBOX", readonly=True)[1] == [b"2"]
    m.logout()

    # IMAPS, verified (IP SAN) and by name (DNS SAN)
    for host in ("127.0.0.1", "localhost"):
        m = imaplib.IMAP4_SSL(host, d.imaps_port, ssl_context=_tls(d.ca_file))
        m.login("ann@example.com", "pw-ann")
        assert m.select("INBOX", readonly=True)[1] == [b"2"]
        m.logout()

    # a client that does not trust our CA must fail
    try:
        imaplib.IMAP4_SSL("127.0.0.1", d.imaps_port,
                          ssl_context=ssl.create_default_context())
        raise AssertionError("IMAPS verified without our CA")
    except ssl.SSLError:
        pass

    # wrong password is refused
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    try:
        m.login("ann@example.com", "wrong")
        raise AssertionError("login with a wrong password succeeded")
    except imaplib.IMAP4.error:
        pass
    m.shutdown()

    # POP3 and POP3S see the same mail
    p = poplib.POP3("127.0.0.1", d.pop3_port)
    p.user("ann@example.com")
    p.pass_("pw-ann")
    assert p.stat()[0] == 2
    assert len(p.uidl()[1]) == 2
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", d.pop3s_port, context=_tls(d.ca_file))
    p.user("ann@example.com")
    p.pass_("pw-ann")
    body = b"\n".join(p.retr(1)[1])
    assert b"first body" in body, body[:300]
    p.quit()

    # a user added later can log in (passwd-file is re-read)
    d.add_user("carol", "pw-carol")
    d.deliver("carol", mail.message(subject="for carol"))
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    m.login("carol", "pw-carol")
    assert m.select("INBOX", readonly=True)[1] == [b"1"]
    m.logout()

    # restart keeps the mail and the ports
    d.restart()
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    m.login("bob", "pw-bob")
    assert m.select("INBOX", readonly=True)[1] == [b"0"]
    m.logout()


def test_dovecot_without_idle(t):
    d = dovecot.Dovecot(t.out, users={"dan": "pw-dan"}, idle=False)
    t.add_cleanup(d.cleanup)
    t.add_log(d.log_path)
    d.start()
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    m.login("dan", "pw-dan")
    caps = m.capabilities
    if "IDLE" in caps:
        # imaplib keeps pre-login capabilities; ask again
        caps = m.capability()[1][0].decode().upper().split()
    assert "IDLE" not in caps, caps
    assert "NOTIFY" not in caps, caps
    d.deliver("dan", mail.message())
    assert m.select("INBOX", readonly=True)[1] == [b"1"]
    m.logout()


def test_kannel_mt_and_mo(t):
    bb = kannel.Bearerbox(
        t.out, smsbox_id="kannel-sb", shortcodes=["1234"],
        smsbox_conf='smsbox-id = "kannel-sb"\nglobal-sender = "1234"\n',
        extra_conf="""
group = sendsms-user
username = "tester"
password = "tpw"
max-messages = 10
concatenation = true

group = sms-service
keyword = default
text = "echo %k %s"
max-messages = 1
""")
    t.add_cleanup(bb.stop)
    t.add_log(bb.log_path)
    bb.start()
    assert bb.smsc_online("sink")
    sb = bb.start_smsbox()
    t.add_cleanup(sb.stop)
    t.add_log(sb.log_path)

    mark = bb.sink.mark()
    code, body = bb.sendsms("tester", "tpw", "+15550001", "Hello world")
    assert code == 202, (code, body)
    m = bb.sink.wait_to("+15550001", "Hello world", start=mark, timeout=10)
    assert m.sender == "1234" and m.kind == "text", m

    # UCS-2 is decoded
    code, body = bb.sendsms("tester", "tpw", "+15550001",
                            "\u041f\u0440\u0438\u0432\u0435\u0442",
                            coding="2", charset="utf-8")
    assert code == 202, (code, body)
    m = bb.sink.wait_to("+15550001", "\u041f\u0440\u0438\u0432\u0435\u0442",
                        start=mark, timeout=10)
    assert m.kind == "ucs-2", m

    # a text with newlines arrives as one message
    code, body = bb.sendsms("tester", "tpw", "+15550001",
                            "line one\nline two\n\nline four")
    assert code == 202, (code, body)
    m = bb.sink.wait_to("+15550001", "line one", start=mark, timeout=10)
    proc.wait_until(lambda: "line four" in m.text, 5, what="all lines")
    assert m.text == "line one\nline two\n\nline four", repr(m.text)

    # binary with UDH (a WAP push header)
    code, body = bb.sendsms("tester", "tpw", "+15550001", b"\x01\x02bin",
                            udh=b"\x06\x05\x04\x0b\x84\x23\xf0")
    assert code == 202, (code, body)
    m = bb.sink.wait_for(lambda s: s.kind == "udh", start=mark, timeout=10)
    assert m.udh == b"\x06\x05\x04\x0b\x84\x23\xf0", m.udh
    assert m.data == b"\x01\x02bin", m.data

    # concatenated parts are joined (7-bit and UCS-2)
    long_text = "Long: \u00e9 " + " ".join("word%d" % i for i in range(60))
    code, body = bb.sendsms("tester", "tpw", "+15550005",
                            long_text.encode("utf-8"), charset="utf-8")
    assert code == 202, (code, body)
    m = bb.sink.wait_to("+15550005", "word59", start=mark, timeout=10)
    assert m.parts > 1 and m.text == long_text, m
    long_ucs = "\u041f\u0440\u0438 + " * 40
    code, body = bb.sendsms("tester", "tpw", "+15550006",
                            long_ucs.encode("utf-8"), coding="2",
                            charset="utf-8")
    assert code == 202, (code, body)
    m = bb.sink.wait_to("+15550006", "\u041f", start=mark, timeout=10)
    assert m.parts > 1 and m.kind == "ucs-2" and m.text == long_ucs, m

    # MO at the injector, routed by smsbox-route to the box with our id,
    # answered by smsbox's sms-service at the sink.
    mark = bb.sink.mark()
    bb.send_mo("+15550002", "1234", "hi there")
    m = bb.sink.wait_to("+15550002", "echo hi there", start=mark,
                        timeout=10)
    assert m.sender == "1234", m
    bb.send_mo("+15550003", "1234", "second one")
    bb.sink.wait_to("+15550003", "echo second one", start=mark, timeout=10)
    assert bb.mo_received() == 2

    # a bearerbox restart: the sink comes back, MT flows again
    sb.stop()
    bb.restart()
    sb = bb.start_smsbox()
    t.add_cleanup(sb.stop)
    mark = bb.sink.mark()
    code, body = bb.sendsms("tester", "tpw", "+15550004", "after restart")
    assert code == 202, (code, body)
    bb.sink.wait_to("+15550004", "after restart", start=mark, timeout=10)


def test_mariadb(t):
    db = mariadb.MariaDB(t.out)
    t.add_cleanup(db.cleanup)
    t.add_log(db.log_path)
    db.start()
    db.create_database("pushmail", "pmuser", "pm-db-pw")
    cp = proc.run(["mariadb", "--no-defaults", "-h", "127.0.0.1",
                   "-P", str(db.port), "-upmuser", "-ppm-db-pw",
                   "--batch", "--skip-column-names", "pushmail", "-e",
                   "CREATE TABLE t (a INT); INSERT INTO t VALUES (41),(1);"
                   " SELECT SUM(a) FROM t;"], timeout=30)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "42", cp.stdout
    # the server greets on its TCP port with a protocol-10 handshake
    with socket.create_connection(("127.0.0.1", db.port), timeout=5) as s:
        hello = s.recv(256)
    assert len(hello) > 5 and hello[4] == 10, hello[:16]
    assert db.dsn()["database"] == "pushmail"
