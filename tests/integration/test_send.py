"""test_send.py - phones send mail (issue 4): SMS SEND and REPLY, MMS as
MM7 DeliverReq (the example form and Mbuni's quirky forms) and as an
mmsbox mms-service POST, submitted through a real Postfix (private
instance, STARTTLS + SMTP AUTH through Dovecot) that delivers into the
test Dovecot; every mail is read back over IMAP and checked: From, To,
Subject, threading headers, body text, attachments, the Sent copy.
Refusals: a bad address, an unbound sender (SMS and MM7), the sending
budget, an SMTP 5xx; reliability: SMTP down then back (with a
pushmailbox restart in between), a retried DeliverReq.

One Dovecot (with LMTP and an auth listener), one Postfix and one
bearerbox serve the module; every test starts its own pushmailbox.
"""

import base64
import os
import re
import socket
import threading
import time

from flowlib import Env, SHORTCODE
from pmtest import kannel, ports, proc, smtp
from pmtest.mm7peer import MM7Peer, NS_REL6, post_mo, send_raw

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE_DELIVER = os.path.join(HERE, "..", "data", "mm7",
                               "03-DeliverReq.http")
SHORTCODE_MMS = "5555"
IN_USER, IN_PASS = "mmsc-in", "in-s3cret"

# the 64x48 JPEG of the MM7 reference examples
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD//gAWcHVzaG1haWwgdGVzdCB2ZWN0b3L/2wBDAAgICAgI"
    "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAj/"
    "wAALCAAwAEABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAFBABAAAA"
    "AAAAAAAAAAAAAAAAAP/aAAgBAQAAPwD5/dA6B0DoHQOgdA+P3QOgdA6B0DoHw+9AdA6B0DoH"
    "QPh90D0B0DoHQOgfD7oHQPQHQOgdA+H3QOgdA9AdA6B8PugdA6B0D//Z")


class SendPeers:
    """Dovecot (LMTP + auth listener), Postfix, bearerbox for a module."""

    def __init__(self, ctx):
        self.dovecot = smtp.MailDovecot(ctx.out)
        ctx.add_cleanup(self.dovecot.cleanup)
        self.dovecot.start()
        self.postfix = smtp.Postfix(ctx.out, self.dovecot,
                                    domains=["example.com", "example.org"])
        ctx.add_cleanup(self.postfix.cleanup)
        self.postfix.start()
        self.bb = kannel.Bearerbox(ctx.out, smsbox_id="pushmail",
                                   shortcodes=[SHORTCODE])
        ctx.add_cleanup(self.bb.stop)
        self.bb.start()
        self.mariadb = None


def setup_module(m):
    return SendPeers(m)


# --- set-up -----------------------------------------------------------------

class Sender:
    """A bound phone that may send mail, and what it needs."""

    def __init__(self, t, mm7=False, smtp_url=None, start=True, **settings):
        self.t = t
        self.env = env = Env(t, t.mod)
        self.pf = t.mod.postfix
        self.dc = t.mod.dovecot
        t.add_log(self.pf.log_path)
        settings.setdefault("send_retry_time", 600)
        self.pm = env.pushmail(start=False, **settings)
        self.in_url = None
        if mm7:
            self.in_port = ports.free_port()
            self.pm.add_group(
                "pushmail-mmsc", id="mmsc1", type="mm7",
                mmsc_url="http://127.0.0.1:%d/mm7" % ports.free_port(),
                username="pushmail", password="vasp-pw",
                sender_address=SHORTCODE_MMS, incoming_port=self.in_port,
                incoming_username=IN_USER, incoming_password=IN_PASS)
            self.in_url = "http://127.0.0.1:%d/mm7" % self.in_port
        if start:
            self.pm.start()
        self.user, self.pw = env.user(domain="example.com")
        self.phone = env.msisdn()
        env.bind(self.pm, self.phone, self.user, self.pw, address=self.user,
                 wait=start)
        rc, out, err = self.pm.admin("set", self.phone, "--smtp",
                                     smtp_url or self.pf.url())
        assert rc == 0, "pushmail-admin set --smtp: %s%s" % (out, err)

    def recipient(self, domain="example.org"):
        return self.env.user(domain=domain)

    def mo(self, text):
        """Send an MO (UCS-2 when it is not ASCII, as phones do)."""
        start = self.env.mark()
        self.env.mo(self.phone, text,
                    kind="text" if text.isascii() else "ucs2")
        return start

    def expect(self, contains, start, timeout=40):
        return self.env.expect(self.phone, contains, timeout=timeout,
                               start=start)

    def mail_to(self, user, pw, count=1, folder="INBOX", timeout=40,
                pred=None):
        return smtp.wait_messages(self.dc, user, pw, count, folder=folder,
                                  timeout=timeout, pred=pred)

    def sent_copies(self, count=1, timeout=30):
        return self.mail_to(self.user, self.pw, count, folder="Sent",
                            timeout=timeout)

    def bind_number(self, phone):
        """Bind another number to this sender's mailbox and SMTP."""
        self.phone = phone
        self.env.bind(self.pm, phone, self.user, self.pw, address=self.user,
                      wait=False)
        rc, out, err = self.pm.admin("set", phone, "--smtp", self.pf.url())
        assert rc == 0, err

    def index_mail(self, **kw):
        """Deliver a mail to this phone's mailbox; returns its number n
        (from the prompt)."""
        start = self.env.mark()
        self.env.deliver(self.user, **kw)
        _, n = self.env.prompt(self.phone, kw["subject"][:20], start=start)
        return n


def _addrs(value):
    return sorted(a.strip().lower() for a in str(value or "").split(","))


def _check_common(msg, sender):
    """Headers every mail from a phone carries."""
    assert str(msg["From"]).lower() == sender.user.lower(), msg["From"]
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>",
                        str(msg["Message-ID"]).strip()), msg["Message-ID"]
    assert msg["Date"] is not None and msg["Date"].datetime is not None
    assert msg["MIME-Version"] == "1.0"


def _mm7_peer(t, personality):
    peer = MM7Peer(t.out, personality=personality, user="pushmail",
                   password="vasp-pw").start()
    t.add_cleanup(peer.stop)
    t.add_log(peer.log_path)
    return peer


def example_mm(text, boundary="mms-parts-7d1f2a"):
    """An MM in the form of ../shared/reference/mm7/03-DeliverReq.http:
    multipart/related{SMIL, 8bit UTF-8 text, base64 JPEG}, Content-IDs in
    angle brackets.  Returns (content type, bytes)."""
    b64 = base64.encodebytes(JPEG).decode().replace("\n", "\r\n")
    body = ("--{b}\r\n"
            "Content-Type: application/smil; charset=utf-8\r\n"
            "Content-ID: <smil.smil>\r\n"
            "Content-Location: smil.smil\r\n\r\n"
            "<smil><head><layout><root-layout width=\"176\" height=\"208\"/>"
            "</layout></head><body><par dur=\"8000ms\">"
            "<img src=\"cid:image1.jpg\" region=\"Image\"/>"
            "<text src=\"cid:text1.txt\" region=\"Text\"/></par></body>"
            "</smil>\r\n\r\n"
            "--{b}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-ID: <text1.txt>\r\n"
            "Content-Location: text1.txt\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            "{text}\r\n\r\n"
            "--{b}\r\n"
            "Content-Type: image/jpeg; name=\"image1.jpg\"\r\n"
            "Content-ID: <image1.jpg>\r\n"
            "Content-Location: image1.jpg\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            "{img}"
            "--{b}--\r\n").format(b=boundary, text=text.replace("\n", "\r\n"),
                                  img=b64)
    ctype = ('multipart/related; type="application/smil"; '
             'start="<smil.smil>"; boundary="%s"' % boundary)
    return ctype, body.encode("utf-8")


def mbuni_mm():
    """Mbuni's forms: nested multipart (mixed{related{...}}), a
    quoted-printable text part left encoded (with its CTE header), a
    second text part QP without a CTE header, Content-IDs without angle
    brackets, an AMR clip named only by Content-Location, LF line ends."""
    amr = b"#!AMR\n" + bytes(range(64))
    body = ("--outer-mb\n"
            "Content-Type: multipart/related; boundary=\"inner-mb\"; "
            "type=\"application/smil\"\n\n"
            "--inner-mb\n"
            "Content-Type: application/smil\n"
            "Content-ID: smil-1\n\n"
            "<smil><body><par><text src=\"cid:t1\"/></par></body></smil>\n"
            "--inner-mb\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-ID: t1\n"
            "Content-Transfer-Encoding: quoted-printable\n\n"
            "Gr=C3=BC=C3=9Fe aus M=C3=BCnchen! The weather is fine and the b=\n"
            "eer is cold.\n"
            "--inner-mb\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-ID: t2\n\n"
            "Caf=C3=A9 at 5 =E2=82=AC\n"
            "--inner-mb--\n"
            "--outer-mb\n"
            "Content-Type: audio/amr\n"
            "Content-ID: voice-1\n"
            "Content-Location: voice.amr\n"
            "Content-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(amr).decode() +
            "--outer-mb--\n")
    return "multipart/mixed; boundary=outer-mb", body.encode("ascii"), amr


# --- SMS ------------------------------------------------------------------

def test_sms_send(t):
    s = Sender(t)
    bob, bob_pw = s.recipient()
    carl, carl_pw = s.recipient(domain="example.com")
    words = ("Lunch at noon by the fountain tomorrow? Gr\u00fc\u00dfe "
             "and caf\u00e9 \u20ac5. ")
    text = (words * 12).strip()          # several SMS long: sent whole
    start = s.mo("SEND %s, %s %s" % (bob, carl, text))
    conf = s.expect("Sent to", start)
    assert bob in conf.text and carl in conf.text, conf
    got = {}
    for who, pw in ((bob, bob_pw), (carl, carl_pw)):
        msg = s.mail_to(who, pw)[0]
        _check_common(msg, s)
        assert _addrs(msg["To"]) == sorted([bob, carl]), msg["To"]
        assert msg["Subject"] == "Lunch at noon by the fountain...", \
            msg["Subject"]
        assert msg.get_content_type() == "text/plain"
        assert msg.get_content_charset() == "utf-8"
        assert smtp.body_text(msg).strip() == text
        assert msg["In-Reply-To"] is None
        got[who] = msg
    assert got[bob]["Message-ID"] == got[carl]["Message-ID"]
    # the Sent folder holds a copy of the same mail
    copy = s.sent_copies()[0]
    assert copy["Message-ID"] == got[bob]["Message-ID"]
    assert smtp.body_text(copy).strip() == text
    # one confirmation, nothing else
    time.sleep(2)
    assert len(s.env.to(s.phone, start)) == 1, s.env.to(s.phone, start)


def test_sms_reply_threads(t):
    s = Sender(t)
    alice, alice_pw = s.recipient()
    n = s.index_mail(subject="Q2 figures \u2013 draft", from_name="Alice",
                     from_addr="alice@elsewhere.example.net",
                     to=s.user,
                     extra_headers=["Reply-To: Alice <%s>" % alice,
                                    "References: <thread-1@example.org>"],
                     body="Please have a look.")
    start = s.mo("REPLY %d Looks good, thanks! \u00c5sa agrees." % n)
    conf = s.expect("Sent to", start)
    assert alice in conf.text, conf
    msg = s.mail_to(alice, alice_pw)[0]
    _check_common(msg, s)
    assert _addrs(msg["To"]) == [alice], msg["To"]
    assert msg["Subject"] == "Re: Q2 figures \u2013 draft", msg["Subject"]
    orig = smtp.imap_messages(s.dc, s.user, s.pw)[0]
    oid = str(orig["Message-ID"]).strip()
    assert str(msg["In-Reply-To"]).strip() == oid, msg["In-Reply-To"]
    refs = str(msg["References"]).split()
    assert refs == ["<thread-1@example.org>", oid], refs
    assert smtp.body_text(msg).strip() == \
        "Looks good, thanks! \u00c5sa agrees."
    copy = s.sent_copies()[0]
    assert copy["Message-ID"] == msg["Message-ID"]


def test_sms_refusals(t):
    s = Sender(t, send_budget=2)
    bob, bob_pw = s.recipient()
    # a bad address is named, nothing is sent
    start = s.mo("SEND %s,carl@nowhere hello" % bob)
    r = s.expect("carl@nowhere", start, timeout=20)
    assert "not" in r.text.lower(), r
    # REPLY to a mail that does not exist
    start = s.mo("REPLY 77 hello")
    s.expect("no mail 77", start, timeout=20)
    # nothing to send
    start = s.mo("SEND %s" % bob)
    s.expect("Nothing to send", start, timeout=20)
    # a paused number (STOP) may not send
    start = s.mo("STOP")
    s.expect("off", start, timeout=20)
    start = s.mo("SEND %s while paused" % bob)
    s.expect("paused", start, timeout=20)
    start = s.mo("START")
    s.expect("on", start, timeout=20)
    # the budget: two mails an hour
    for i in (1, 2):
        start = s.mo("SEND %s budget mail %d" % (bob, i))
        s.expect("Sent to", start)
    start = s.mo("SEND %s budget mail 3" % bob)
    r = s.expect("last hour", start, timeout=20)
    assert "2 mails" in r.text, r
    time.sleep(3)
    msgs = smtp.imap_messages(s.dc, bob, bob_pw)
    assert sorted(m["Subject"] for m in msgs) == \
        ["budget mail 1", "budget mail 2"], [m["Subject"] for m in msgs]


def test_sms_unbound_sender(t):
    s = Sender(t)
    bob, bob_pw = s.recipient()
    stranger = s.env.msisdn()
    start = s.env.mark()
    s.env.mo(stranger, "SEND %s spam spam spam" % bob)
    r = s.env.expect(stranger, "not subscribed", start=start)
    assert r
    time.sleep(4)
    assert smtp.imap_messages(s.dc, bob, bob_pw) == []


def test_smtp_5xx_fails_once(t):
    s = Sender(t)
    gone, _ = s.recipient()
    s.pf.refuse(gone, "550 5.1.1 gone away")
    start = s.mo("SEND %s are you there?" % gone)
    r = s.expect("not sent", start)
    assert "550" in r.text and "gone away" in r.text, r
    time.sleep(20)      # past the first retry time: no second SMS
    sms = s.env.to(s.phone, start)
    assert len(sms) == 1, sms
    assert not any("Sent to" in m.text for m in sms), sms
    assert smtp.imap_messages(s.dc, s.user, s.pw, folder="Sent") == []


def test_smtp_down_then_back_across_restart(t):
    s = Sender(t)
    bob, bob_pw = s.recipient()
    pf = s.pf
    pf.stop()
    try:
        start = s.mo("SEND %s queued while the server is down" % bob)
        # the first attempt fails (connection refused) and is retried
        proc.wait_until(lambda: "temporary failure" in s.pm.log_tail(200),
                        30, what="a temporary SMTP failure in the log")
        assert not any("Sent to" in m.text
                       for m in s.env.to(s.phone, start))
        # pushmailbox restarts with the mail still queued
        s.pm.stop(timeout=10)
        s.pm.start()
    finally:
        pf.start()
    conf = s.expect("Sent to", start, timeout=90)
    assert bob in conf.text
    msg = s.mail_to(bob, bob_pw)[0]
    assert msg["Subject"] == "queued while the server is down"
    time.sleep(5)
    assert len(smtp.imap_messages(s.dc, bob, bob_pw)) == 1, "sent twice"
    assert len([m for m in s.env.to(s.phone, start)
                if "Sent to" in m.text]) == 1
    assert len(s.sent_copies()) == 1


def test_smtp_down_too_long_gives_up(t):
    """send-retry-time (60 s here) after queueing, a mail that could not
    be submitted is given up with one SMS."""
    s = Sender(t, send_retry_time=60)
    bob, bob_pw = s.recipient()
    s.pf.stop()
    try:
        start = s.mo("SEND %s never to be" % bob)
        r = s.expect("not sent", start, timeout=120)
        assert "did not take it" in r.text, r
    finally:
        s.pf.start()
    time.sleep(20)
    sms = s.env.to(s.phone, start)
    assert len(sms) == 1, sms
    assert smtp.imap_messages(s.dc, bob, bob_pw) == []


def test_stop_during_silent_smtp_server(t):
    """pushmailbox stops at once (SIGTERM) while its SMTP server says
    nothing; the mail waits in the queue and goes out once after the
    restart."""
    s = Sender(t)
    bob, bob_pw = s.recipient()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    t.add_cleanup(lsock.close)
    held = []

    def accept():
        try:
            while True:
                c, _ = lsock.accept()
                held.append(c)          # never answers
        except OSError:
            pass
    threading.Thread(target=accept, daemon=True).start()
    silent = "smtp://127.0.0.1:%d" % lsock.getsockname()[1]
    rc, out, err = s.pm.admin("set", s.phone, "--smtp", silent)
    assert rc == 0, err
    start = s.mo("SEND %s held up" % bob)
    proc.wait_until(lambda: held, 20, what="pushmailbox to connect")
    time.sleep(1)
    s.pm.stop(timeout=3)            # raises if SIGKILL was needed
    for c in held:
        c.close()
    rc, out, err = s.pm.admin("set", s.phone, "--smtp", s.pf.url())
    assert rc == 0, err
    s.pm.start()
    conf = s.expect("Sent to", start, timeout=60)
    assert bob in conf.text
    msg = s.mail_to(bob, bob_pw)[0]
    assert msg["Subject"] == "held up"
    time.sleep(3)
    assert len(smtp.imap_messages(s.dc, bob, bob_pw)) == 1


def test_smtps_implicit_tls(t):
    pf = t.mod.postfix
    s = Sender(t, smtp_url=pf.url(smtps=True), save_sent="no",
               send_confirm="no")
    bob, bob_pw = s.recipient()
    start = s.mo("SEND %s over implicit TLS" % bob)
    msg = s.mail_to(bob, bob_pw)[0]
    assert msg["Subject"] == "over implicit TLS"
    time.sleep(3)
    assert s.env.to(s.phone, start) == []          # send-confirm = no
    assert smtp.imap_messages(s.dc, s.user, s.pw, folder="Sent") == []


# --- MMS ------------------------------------------------------------------

def test_mms_example_deliverreq_reply(t):
    """The example DeliverReq (REL-6, strict): to the short code, subject
    "REPLY n Re: ...", first text line "REPLY n"."""
    s = Sender(t, mm7=True)
    alice, alice_pw = s.recipient()
    n = s.index_mail(subject="Q2 figures", from_name="Alice",
                     from_addr=alice, to=s.user, body="The figures.")
    peer = _mm7_peer(t, "strict")
    ctype, mm = example_mm("REPLY %d\nThanks Alice, see picture. Bob" % n)
    start = s.env.mark()
    r = peer.send_deliver(s.in_url, IN_USER, IN_PASS, s.phone,
                          [SHORTCODE_MMS], "REPLY %d Re: Q2 figures" % n,
                          ctype, mm, linked_id="mo-1@mmsc.test",
                          namespace=NS_REL6, version="6.8.0")
    assert r.http_status == 200 and r.status_code == 1000, r
    msg = s.mail_to(alice, alice_pw)[0]
    _check_common(msg, s)
    assert _addrs(msg["To"]) == [alice]
    assert msg["Subject"] == "Re: Q2 figures", msg["Subject"]
    orig = smtp.imap_messages(s.dc, s.user, s.pw)[0]
    assert str(msg["In-Reply-To"]).strip() == \
        str(orig["Message-ID"]).strip()
    assert smtp.body_text(msg).strip() == "Thanks Alice, see picture. Bob"
    atts = smtp.attachments(msg)
    assert atts == [("image1.jpg", "image/jpeg", JPEG)], \
        [(a[0], a[1], len(a[2])) for a in atts]
    s.expect("Sent to %s" % alice, start)
    assert s.sent_copies()[0]["Message-ID"] == msg["Message-ID"]


def test_mms_reference_deliverreq_verbatim(t):
    """tests/data/mm7/03-DeliverReq.http (= ../shared/reference/mm7/)
    byte for byte: +256771234567 sends "REPLY 3 Re: Q2 figures" to the
    short code with SMIL, text "REPLY 3 / Thanks Alice, ..." and a JPEG."""
    with open(EXAMPLE_DELIVER, "rb") as f:
        raw = f.read()
    head, body = raw.split(b"\r\n\r\n", 1)
    ctype = re.search(rb"(?mi)^Content-Type: (.*?)\r?$", head).group(1)
    s = Sender(t, mm7=True)
    s.bind_number("+256771234567")
    alice, alice_pw = s.recipient()
    n = 0
    for subj in ("First of three", "Second of three", "Q2 figures"):
        n = s.index_mail(subject=subj, from_name="Alice", from_addr=alice,
                         to=s.user, body="Mail %s" % subj)
    assert n == 3, n
    start = s.env.mark()
    r = send_raw(s.in_url, body, ctype.decode(), auth=(IN_USER, IN_PASS))
    assert r.http_status == 200 and r.status_code == 1000, r
    msg = s.mail_to(alice, alice_pw)[0]
    _check_common(msg, s)
    assert msg["Subject"] == "Re: Q2 figures", msg["Subject"]
    orig = [m for m in smtp.imap_messages(s.dc, s.user, s.pw)
            if m["Subject"] == "Q2 figures"][0]
    assert str(msg["In-Reply-To"]).strip() == \
        str(orig["Message-ID"]).strip()
    assert smtp.body_text(msg).strip() == "Thanks Alice, see picture. Bob"
    atts = smtp.attachments(msg)
    assert [(a[0], a[1]) for a in atts] == [("image1.jpg", "image/jpeg")]
    assert atts[0][2].startswith(b"\xff\xd8") and \
        atts[0][2].endswith(b"\xff\xd9")
    s.expect("Sent to %s" % alice, start)


def test_mms_example_to_address_in_subject(t):
    s = Sender(t, mm7=True)
    bob, bob_pw = s.recipient()
    peer = _mm7_peer(t, "strict")
    ctype, mm = example_mm("Holiday\nSun & sea, see the picture.")
    r = peer.send_deliver(s.in_url, IN_USER, IN_PASS, s.phone,
                          [SHORTCODE_MMS], "%s Greetings from Malm\u00f6"
                          % bob, ctype, mm, namespace=NS_REL6,
                          version="6.8.0")
    assert r.status_code == 1000, r
    msg = s.mail_to(bob, bob_pw)[0]
    assert msg["Subject"] == "Greetings from Malm\u00f6"
    raw_subject = msg.raw.split(b"\r\n\r\n")[0]
    assert b"=?" in raw_subject, "subject not RFC 2047 encoded"
    body = smtp.body_text(msg).strip()
    assert body == "Holiday\nSun & sea, see the picture.", repr(body)
    assert [a[0] for a in smtp.attachments(msg)] == ["image1.jpg"]


def test_mms_mbuni_quirks_to_email(t):
    """Mbuni (mms-to-email-handler = true): the recipient is a mail
    address, the subject is not XML-escaped, the MM is nested with
    quoted-printable text."""
    s = Sender(t, mm7=True)
    bob, bob_pw = s.recipient()
    peer = _mm7_peer(t, "mbuni")
    ctype, mm, amr = mbuni_mm()
    r = peer.send_deliver(s.in_url, IN_USER, IN_PASS, s.phone, [bob],
                          "Tom & Jerry <3 you", ctype, mm)
    assert r.http_status == 200 and r.status_code == 1000, r
    msg = s.mail_to(bob, bob_pw)[0]
    _check_common(msg, s)
    assert _addrs(msg["To"]) == [bob]
    assert msg["Subject"] == "Tom & Jerry <3 you", msg["Subject"]
    body = smtp.body_text(msg).strip()
    assert body == ("Gr\u00fc\u00dfe aus M\u00fcnchen! The weather is fine "
                    "and the beer is cold.\n\nCaf\u00e9 at 5 \u20ac"), \
        repr(body)
    atts = smtp.attachments(msg)
    assert atts == [("voice.amr", "audio/amr", amr)], \
        [(a[0], a[1]) for a in atts]


def test_mms_unbound_sender_refused(t):
    s = Sender(t, mm7=True)
    bob, bob_pw = s.recipient()
    peer = _mm7_peer(t, "strict")
    ctype, mm = example_mm("spam")
    stranger = s.env.msisdn()
    start = s.env.mark()
    r = peer.send_deliver(s.in_url, IN_USER, IN_PASS, stranger, [bob],
                          "spam", ctype, mm, namespace=NS_REL6,
                          version="6.8.0")
    assert r.status_code is not None and 2000 <= r.status_code < 3000, r
    time.sleep(4)
    assert smtp.imap_messages(s.dc, bob, bob_pw) == []
    assert s.env.to(stranger, start) == []


def test_mms_retried_deliverreq_sent_once(t):
    s = Sender(t, mm7=True)
    bob, bob_pw = s.recipient()
    peer = _mm7_peer(t, "mbuni")
    ctype, mm = example_mm("once only")
    for _ in range(2):
        r = peer.send_deliver(s.in_url, IN_USER, IN_PASS, s.phone, [bob],
                              "retry test", ctype, mm, linked_id="mo-77",
                              transaction_id="tid-77")
        assert r.status_code == 1000, r
    s.mail_to(bob, bob_pw)
    time.sleep(5)
    assert len(smtp.imap_messages(s.dc, bob, bob_pw)) == 1


def test_mms_store_unwritable_503_then_once(t):
    """A DeliverReq that cannot be queued durably gets HTTP 503 (the MMSC
    retries); the retry after the store is back is answered 1000 and
    the mail is sent once."""
    s = Sender(t, mm7=True)
    bob, bob_pw = s.recipient()
    peer = _mm7_peer(t, "mbuni")
    ctype, mm = example_mm("stored before answered")

    def sql(q):
        cp = proc.run(["sqlite3", "-cmd", ".timeout 5000", s.pm.db_file, q],
                      timeout=30)
        assert cp.returncode == 0, cp.stderr
    sql("ALTER TABLE pm_outmail RENAME TO pm_outmail_away")
    try:
        r = peer.send_deliver(s.in_url, IN_USER, IN_PASS, s.phone, [bob],
                              "store test", ctype, mm, linked_id="mo-503",
                              transaction_id="tid-503")
        assert r.http_status == 503, r
    finally:
        sql("ALTER TABLE pm_outmail_away RENAME TO pm_outmail")
    r = peer.send_deliver(s.in_url, IN_USER, IN_PASS, s.phone, [bob],
                          "store test", ctype, mm, linked_id="mo-503",
                          transaction_id="tid-503")
    assert r.http_status == 200 and r.status_code == 1000, r
    s.mail_to(bob, bob_pw)
    time.sleep(4)
    assert len(smtp.imap_messages(s.dc, bob, bob_pw)) == 1


def test_mmsbox_post_url(t):
    """mmsbox's mms-service post-url (X-Mbuni-* headers, form-data)."""
    s = Sender(t, mm7=True)
    bob, bob_pw = s.recipient()
    ctype, mm = example_mm("From the gateway")
    url = "http://%s:%s@127.0.0.1:%d/mmsbox/mo" % (IN_USER, IN_PASS,
                                                   s.in_port)
    st, body = post_mo(url, s.phone, [SHORTCODE_MMS],
                       "%s via mmsbox" % bob, ctype, mm)
    assert st == 200, (st, body)
    msg = s.mail_to(bob, bob_pw)[0]
    assert msg["Subject"] == "via mmsbox"
    assert "From the gateway" in smtp.body_text(msg)
    assert [a[1] for a in smtp.attachments(msg)] == ["image/jpeg"]
