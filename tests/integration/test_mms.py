"""test_mms.py - GET n as MMS: mail -> MM -> MM7 SubmitReq (or mmsbox
sendmms) -> delivery report, against our MM7 peer (tests/lib/pmtest/
mm7peer.py, the MMSC side) with real bearerbox + fakesmsc and Dovecot.

One Dovecot and one bearerbox serve the module; every test starts its own
MM7 peer and pushmailbox.
"""

import email.message
import email.policy
import email.utils
import os
import re
import subprocess
import time

from flowlib import Env, Peers
from pmtest import mms, ports, proc
from pmtest.mm7peer import (MM7Peer, MmsboxPeer, Reply, NS_REL6,
                            hostile_billion_laughs, hostile_xxe, send_raw)

REF = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                   "..", "shared", "reference", "mm7"))
SHORTCODE_MMS = "5555"
IN_USER, IN_PASS = "mmsc-in", "in-s3cret"


def setup_module(m):
    return Peers(m)


# --- test material --------------------------------------------------------

def _jpeg(out, name, w, h, sigma=12, q=85):
    """A noisy JPEG (compresses badly, like a photo) made with vips."""
    path = os.path.join(out, name)
    if not os.path.exists(path):
        raw = path + ".v"
        u8 = path + ".u8.v"
        subprocess.run(["vips", "gaussnoise", raw, str(w), str(h),
                        "--mean", "128", "--sigma", str(sigma)], check=True)
        subprocess.run(["vips", "cast", raw, u8, "uchar"], check=True)
        subprocess.run(["vips", "copy", u8, "%s[Q=%d]" % (path, q)],
                       check=True)
        os.unlink(raw)
        os.unlink(u8)
    with open(path, "rb") as f:
        return f.read()


def rich_mail(out, subject="Holiday photos \u2013 Gr\u00fc\u00dfe",
              pdf_name="itinerary.pdf"):
    """text + HTML alternative, two JPEGs (one large), a PDF."""
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr(("Ann Lee", "ann@example.org"))
    msg["To"] = "user@example.com"
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid(domain="example.org")
    msg.set_content("Hello from the coast! Gr\u00fc\u00dfe aus K\u00f6ln, "
                    "caf\u00e9 at 5 \u20ac.\nTwo photos and the plan.\n")
    msg.add_alternative("<html><body><p>Hello from the <b>coast</b>! "
                        "Gr\u00fc\u00dfe aus K\u00f6ln, caf\u00e9 at 5 "
                        "&euro;.</p></body></html>", subtype="html")
    msg.add_attachment(_jpeg(out, "beach.jpg", 1600, 1200), maintype="image",
                       subtype="jpeg", filename="beach.jpg")
    msg.add_attachment(_jpeg(out, "small.jpg", 320, 240, sigma=20),
                       maintype="image", subtype="jpeg",
                       filename="small.jpg")
    msg.add_attachment(b"%PDF-1.4\n" + b"0" * 40000 + b"\n%%EOF\n",
                       maintype="application", subtype="pdf",
                       filename=pdf_name)
    return msg.as_bytes()


# --- set-up -----------------------------------------------------------------

def _mms_env(t, peer=None, personality="mbuni", mmsc=None, deliver="mms",
             **settings):
    env = Env(t, t.mod)
    if peer is None:
        peer = MM7Peer(t.out, personality=personality, user="pushmail",
                       password="vasp-pw").start()
        t.add_cleanup(peer.stop)
    t.add_log(peer.log_path)
    pm = env.pushmail(start=False, **settings)
    in_port = ports.free_port()
    # the MMSC password goes into pushmail.conf sealed (pushmail-admin
    # seal): the peer only accepts the SubmitReq if it opens again
    rc, out, err = pm.admin("seal", stdin="vasp-pw\n")
    sealed = out.strip()
    assert rc == 0 and sealed.startswith("enc:v1:"), (rc, out, err)
    assert "vasp-pw" not in out + err
    group = dict(id="mmsc1", type="mm7", mmsc_url=peer.url,
                 username="pushmail", password=sealed, vasp_id="pmvasp",
                 vas_id="pmvas", sender_address=SHORTCODE_MMS,
                 service_code="pushmail", incoming_port=in_port,
                 incoming_username=IN_USER, incoming_password=IN_PASS,
                 retry_interval=1, timeout=5)
    if personality == "strict":
        group.update(mm7_version="6.8.0", mm7_xmlns=NS_REL6)
    group.update(mmsc or {})
    pm.add_group("pushmail-mmsc", **group)
    pm.start()
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    if deliver:
        rc, out, err = pm.admin("set", phone, "--deliver", deliver)
        assert rc == 0, err
    env.in_url = "http://127.0.0.1:%d/mm7" % in_port
    env.in_port = in_port
    return env, pm, user, phone, peer


def _get(env, user, phone, raw=None, **mail_kw):
    """Deliver a mail, wait for its prompt, send GET n; returns n."""
    start = env.mark()
    if raw is not None:
        env.deliver(user, raw=raw)
        subject = mail_kw.get("subject_hint", "Mail")
    else:
        env.deliver(user, **mail_kw)
        subject = mail_kw.get("subject", "Mail")
    _, n = env.prompt(phone, subject[:20], start=start)
    env.mo(phone, "GET %d" % n)
    return n


def _show(pm, phone):
    rc, out, err = pm.admin("show", phone)
    assert rc == 0, err
    return out


def _mms_line(pm, phone, n):
    for line in _show(pm, phone).splitlines():
        if re.search(r"\bmail %d\b" % n, line):
            return line
    return None


def _wait_mms(pm, phone, n, pattern, timeout=20):
    def ok():
        line = _mms_line(pm, phone, n)
        return line if line and re.search(pattern, line) else None
    return proc.wait_until(ok, timeout, what="MM for mail %d: %s"
                           % (n, pattern))


# --- the flow ---------------------------------------------------------------

def test_get_as_mms_mbuni_with_delivery_report(t):
    env, pm, user, phone, peer = _mms_env(t)
    raw = rich_mail(t.out)
    n = _get(env, user, phone, raw=raw, subject_hint="Holiday photos")
    sub = peer.wait_submissions(1, timeout=30)[0]
    # the SOAP fields
    assert sub.kind == "SubmitReq", sub
    assert sub.namespace.endswith("REL-5-MM7-1-0"), sub.namespace
    assert sub.mm7_version == "5.3.0", sub.mm7_version
    assert sub.vaspid == "pmvasp" and sub.vasid == "pmvas", sub
    assert sub.sender_address == SHORTCODE_MMS, sub.sender_address
    assert sub.to == [phone], sub.recipients
    assert sub.service_code == "pushmail", sub.service_code
    assert sub.delivery_report is True, sub.delivery_report_raw
    assert sub.subject_text.startswith("Holiday photos"), sub.subject_text
    assert sub.auth_user == "pushmail", sub.auth_user
    assert re.fullmatch(r"[0-9a-f]{32}", sub.transaction_id), sub
    # the MM: SMIL references every part, UTF-8 text, size, images
    problems = sub.check_mm(max_size=307200, max_width=640, max_height=480)
    assert not problems, problems
    mm = sub.mm_parsed()
    texts = " ".join(p.text() for p in mm.media_parts()
                     if p.mime_type == "text/plain")
    assert "Gr\u00fc\u00dfe aus K\u00f6ln" in texts, texts[:500]
    assert "5 \u20ac" in texts, texts[:500]
    assert "Ann Lee" in texts and "Holiday photos" in texts, texts[:300]
    assert "itinerary.pdf" in texts, "the PDF is not named: %r" % texts
    types = [p.mime_type for p in mm.media_parts()]
    assert "application/pdf" not in types, types
    jpegs = [p for p in mm.media_parts() if p.mime_type == "image/jpeg"]
    assert len(jpegs) == 2, types
    for p in jpegs:
        w, h = mms.image_size(p.data)
        assert w <= 640 and h <= 480, (p.content_location, w, h)
        assert mms.jpeg_is_baseline(p.data), p.content_location
    assert len(sub.mm) <= 307200, len(sub.mm)
    for p in mm.parts:
        assert p.transfer_encoding.lower() != "quoted-printable", p
    # accepted; then the MMSC's delivery report is stored by MessageID
    line = _wait_mms(pm, phone, n, r"accepted +1000")
    assert sub.message_id in line, (sub.message_id, line)
    r = peer.send_delivery_report(env.in_url, IN_USER, IN_PASS,
                                  sub.message_id, phone, status="Retrieved")
    assert r.http_status == 200 and r.status_code == 1000, r
    _wait_mms(pm, phone, n, r"Retrieved", timeout=5)
    # no SMS answer to a GET that went out as MMS
    env.none(phone, 2, start=env.mark())


def test_get_as_mms_strict_rel6_and_limits(t):
    env, pm, user, phone, peer = _mms_env(
        t, personality="strict", mmsc=dict(content_class="image-rich"))
    n = _get(env, user, phone, raw=rich_mail(t.out, subject="Rel six"),
             subject_hint="Rel six")
    sub = peer.wait_submissions(1, timeout=30)[0]
    assert sub.namespace == NS_REL6, sub.namespace
    assert sub.mm7_version == "6.8.0", sub.mm7_version
    assert not sub.problems, sub.problems
    assert len(sub.mm) <= 100 * 1024, len(sub.mm)
    problems = sub.check_mm(max_size=100 * 1024, max_width=640,
                            max_height=480)
    assert not problems, problems
    _wait_mms(pm, phone, n, r"accepted +1000")
    # strict report: proper Sender/Recipient, status Expired
    r = peer.send_delivery_report(env.in_url, IN_USER, IN_PASS,
                                  sub.message_id, phone, status="Expired")
    assert r.status_code == 1000, r
    _wait_mms(pm, phone, n, r"Expired", timeout=5)


def test_small_content_class_drops_and_names_images(t):
    env, pm, user, phone, peer = _mms_env(
        t, mmsc=dict(max_message_size=30000, max_width=160, max_height=120))
    _get(env, user, phone, raw=rich_mail(t.out, subject="Tiny one"),
         subject_hint="Tiny one")
    sub = peer.wait_submissions(1, timeout=30)[0]
    assert len(sub.mm) <= 30000, len(sub.mm)
    problems = sub.check_mm(max_size=30000, max_width=160, max_height=120)
    assert not problems, problems


def test_permanent_error_tells_phone_once(t):
    env, pm, user, phone, peer = _mms_env(t)
    peer.script(Reply.status(2001, "Operation restricted"))
    start = env.mark()
    n = _get(env, user, phone, subject="Refused one", body="nothing much")
    sms = env.expect(phone, ["could not be sent as MMS"], start=start,
                     timeout=30)
    assert str(n) in sms.text, sms
    _wait_mms(pm, phone, n, r"failed +2001")
    time.sleep(3)
    assert len(peer.submissions()) == 1, "a 2xxx must not be retried"
    told = [m for m in env.to(phone, start) if "MMS" in m.text]
    assert len(told) == 1, told


def test_temporary_errors_are_retried(t):
    env, pm, user, phone, peer = _mms_env(t, personality="strict")
    # 4xxx, a SOAP fault on HTTP 500, a plain HTTP 500, then accepted
    peer.script(Reply.status(4006, "Service unavailable"),
                Reply.status(3001, "Not possible"),
                Reply.http(500, b"oops"))
    n = _get(env, user, phone, subject="Retry me", body="again and again")
    subs = peer.wait_submissions(4, timeout=60)
    assert len({s.transaction_id for s in subs}) == 1, \
        "a retry carries the same TransactionID"
    line = _wait_mms(pm, phone, n, r"accepted +1000", timeout=10)
    assert subs[-1].message_id in line, line


def test_timeout_and_409_slow_down_then_deliver(t):
    env, pm, user, phone, peer = _mms_env(t, mmsc=dict(timeout=2))
    peer.script(Reply.timeout(30), Reply.throttled(), Reply.unavailable())
    n = _get(env, user, phone, subject="Slow peer", body="take your time")
    subs = peer.wait_submissions(4, timeout=60)
    assert subs[-1].accepted, subs[-1]
    _wait_mms(pm, phone, n, r"accepted +1000", timeout=10)
    # after a 409 the MMSC is left alone for at least a second
    assert subs[2].time - subs[1].time >= 0.9, [s.time for s in subs]


def test_endpoint_auth_and_hostile_xml(t):
    env, pm, user, phone, peer = _mms_env(t)
    rsp = os.path.join(REF, "05-DeliveryReportReq.http")
    body = b"<?xml version='1.0'?><x/>"
    if os.path.exists(rsp):
        with open(rsp, "rb") as f:
            body = f.read().split(b"\r\n\r\n", 1)[-1]
    # no credentials, wrong credentials -> 401; nothing stored
    r = send_raw(env.in_url, body, "text/xml")
    assert r[0] == 401, r
    r = send_raw(env.in_url, body, "text/xml", auth=(IN_USER, "wrong"))
    assert r[0] == 401, r
    # hostile XML: refused, no expansion, the endpoint keeps working
    for hostile in (hostile_xxe(), hostile_billion_laughs()):
        t0 = time.monotonic()
        r = send_raw(env.in_url, hostile, "text/xml",
                     auth=(IN_USER, IN_PASS))
        assert r[0] in (200, 400, 500) and r[1] is not None and \
            r[1] >= 2000, r
        assert b"root:" not in (r[2] or b""), "external entity expanded"
        assert time.monotonic() - t0 < 5, "entity expansion took long"
    r = send_raw(env.in_url, b"<not xml", "text/xml", auth=(IN_USER, IN_PASS))
    assert r[1] is not None and r[1] >= 2000, r
    # still serving: a report for an unknown MessageID is answered 1000
    r = peer.send_delivery_report(env.in_url, IN_USER, IN_PASS,
                                  "no-such-id", phone, status="Retrieved")
    assert r.status_code == 1000, r
    assert pm.running(), "pushmailbox died on hostile input"


def test_restart_loses_and_duplicates_nothing(t):
    env, pm, user, phone, peer = _mms_env(t)
    peer.stop()                          # the MMSC is down
    start = env.mark()
    ns = []
    for i in range(3):
        ns.append(_get(env, user, phone, subject="Queued %d" % i,
                       body="body %d" % i))
    for n in ns:
        _wait_mms(pm, phone, n, r"queued", timeout=30)
    pm.stop()
    peer.restart()
    pm.start()
    subs = peer.wait_submissions(3, timeout=60)
    time.sleep(3)
    subs = peer.submissions()
    assert len(subs) == 3, ["%s %s" % (s.transaction_id, s.subject_text)
                            for s in subs]
    assert len({s.transaction_id for s in subs}) == 3
    for n in ns:
        _wait_mms(pm, phone, n, r"accepted +1000", timeout=20)


def test_max_throughput_is_respected(t):
    env, pm, user, phone, peer = _mms_env(
        t, mmsc=dict(max_throughput=4), coalesce_window=0)
    ns = []
    start = env.mark()
    for i in range(10):
        env.deliver(user, subject="Burst %02d" % i, body="b")
    for i in range(10):
        _, n = env.prompt(phone, "Burst %02d" % i, start=start, timeout=30)
        ns.append(n)
    # the MMSC is down while the GETs come: the MMs queue up, and when it
    # is back they are due together
    peer.stop()
    for n in ns:
        env.mo(phone, "GET %d" % n)
    for n in ns:
        _wait_mms(pm, phone, n, r"queued", timeout=30)
    peer.restart()
    subs = peer.wait_submissions(10, timeout=60)
    times = sorted(s.time for s in subs)
    for i, t0 in enumerate(times):
        in_window = [x for x in times[i:] if x - t0 < 1.0]
        assert len(in_window) <= 5, "more than 4/s: %r" % times


def test_no_mmsc_for_number_falls_back_to_text(t):
    env, pm, user, phone, peer = _mms_env(
        t, mmsc=dict(allowed_prefix="+4670"))
    start = env.mark()
    n = _get(env, user, phone, subject="Text instead",
             body="this comes as text")
    env.expect(phone, "this comes as text", start=start)
    assert peer.submissions() == [], peer.submissions()


def test_mmsbox_variant(t):
    env = Env(t, t.mod)
    box = MmsboxPeer(t.out, user="pushmail", password="box-pw").start()
    t.add_cleanup(box.stop)
    t.add_log(box.log_path)
    pm = env.pushmail(start=False)
    in_port = ports.free_port()
    pm.add_group("pushmail-mmsc", id="box1", type="mmsbox",
                 mmsc_url=box.url, username="pushmail", password="box-pw",
                 sender_address=SHORTCODE_MMS, incoming_port=in_port,
                 incoming_username=IN_USER, incoming_password=IN_PASS,
                 retry_interval=1)
    pm.start()
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    assert pm.admin("set", phone, "--deliver", "mms")[0] == 0
    n = _get(env, user, phone, raw=rich_mail(t.out, subject="Via mmsbox"),
             subject_hint="Via mmsbox")
    sub = box.wait_submissions(1, timeout=30)[0]
    assert sub.accepted, sub
    assert sub.to == phone or phone in str(sub.to), sub.to
    assert sub.dlr_url and "127.0.0.1:%d" % in_port in sub.dlr_url, \
        sub.dlr_url
    problems = mms.check_mm(sub.content, sub.content_type, max_size=307200)
    assert not problems, problems
    _wait_mms(pm, phone, n, r"accepted")
    # mmsbox's first DLR says Forwarded, the final one Retrieved; both
    # need our credentials (put in the dlr-url by the operator)
    url = sub.dlr_url.replace("http://", "http://%s:%s@" % (IN_USER, IN_PASS))
    st, body = box.send_dlr(url, sub.transaction_id, status="Forwarded")
    assert st == 200, (st, body)
    _wait_mms(pm, phone, n, r"Forwarded", timeout=5)
    st, body = box.send_dlr(url, sub.transaction_id, status="Retrieved")
    assert st == 200, (st, body)
    _wait_mms(pm, phone, n, r"Retrieved", timeout=5)
    # without credentials: refused
    st, body = box.send_dlr(sub.dlr_url, sub.transaction_id,
                            status="Rejected")
    assert st == 401, st
