#!/usr/bin/env python3
"""mm7peer_selftest.py - check mm7peer.py and mms.py against the reference
MM7 messages (not part of the suite).

    python3 tests/lib/pmtest/mm7peer_selftest.py [REFERENCE_DIR]

REFERENCE_DIR defaults to ../shared/reference/mm7 beside the work tree.
Prints one line per check and "N passed, N failed"; exit 0 when all pass.
"""

import base64
import http.server
import os
import shutil
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from pmtest import mms, ports  # noqa: E402
from pmtest.mm7peer import (MM7Peer, MmsboxPeer, Reply, NS_REL5,  # noqa
                            NS_REL6, parse_mm7_request, parse_status,
                            hostile_xxe, hostile_billion_laughs)

REF = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "..", "shared", "reference", "mm7"))

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % what)
    else:
        failed += 1
        print("FAIL - %s" % what)
    return cond


def load_http(name):
    """(headers dict, body bytes) of a reference .http file."""
    with open(os.path.join(REF, name), "rb") as f:
        data = f.read()
    head, _, body = data.partition(b"\r\n\r\n")
    hdrs = {}
    for line in head.decode().split("\r\n")[1:]:
        k, v = line.split(":", 1)
        hdrs[k.strip()] = v.strip()
    return hdrs, body


def post(url, name, timeout=5, drop=("Host", "Content-Length")):
    """POST a reference request's body and headers with urllib; returns
    (status, body bytes); status None on a timeout/connection error."""
    hdrs, body = load_http(name)
    req = urllib.request.Request(url, data=body, method="POST")
    for k, v in hdrs.items():
        if k not in drop:
            req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError) as e:
        return None, str(e).encode()


class Vasp:
    """A stub of pushmail's endpoint: records requests, answers 1000."""

    def __init__(self):
        self.got = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                outer.got.append((self.command, self.path, self.headers,
                                  body))
                ans = (b'<?xml version="1.0"?><e:Envelope xmlns:e="%s">'
                       b"<e:Body><DeliveryReportRsp><Status><StatusCode>1000"
                       b"</StatusCode></Status></DeliveryReportRsp></e:Body>"
                       b"</e:Envelope>" % b"http://schemas.xmlsoap.org/"
                       b"soap/envelope/")
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(ans)))
                self.end_headers()
                self.wfile.write(ans)

            do_GET = do_POST = _any

            def log_message(self, *a):
                pass

        self.port = ports.free_port()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                   H)
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()
        self.url = "http://127.0.0.1:%d/mm7" % self.port

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.t.join()


def submit_tests(personality, out):
    peer = MM7Peer(out, personality=personality, user="pushmail",
                   password="s3cret", name="mm7-" + personality).start()
    base_threads = threading.active_count()
    try:
        st, body = post(peer.url, "01-SubmitReq.http")
        code, text = parse_status(body)
        check(st == 200 and code == 1000,
              "%s: 01-SubmitReq answered 200/1000 (got %s/%s)"
              % (personality, st, code))
        root = ET.fromstring(body)
        mids = [e.text for e in root.iter() if e.tag.endswith("MessageID")]
        tids = [e.text for e in root.iter()
                if e.tag.endswith("TransactionID")]
        check(len(mids) == 1 and mids[0], "%s: SubmitRsp has a MessageID %r"
              % (personality, mids))
        check(tids == ["pm-0001"], "%s: TransactionID echoed" % personality)
        want_ns = NS_REL5 if personality == "mbuni" else NS_REL6
        check(want_ns.encode() in body, "%s: answer in %s" % (
            personality, want_ns.rsplit("/", 1)[1]))
        if personality == "mbuni":
            check(body.startswith(b"<?xml version='1.0'") and
                  b"SOAP-ENV:Envelope" in body, "mbuni: Mbuni's layout")
        s = peer.wait_submissions(1, timeout=2)[0]
        check(s.kind == "SubmitReq" and s.transaction_id == "pm-0001" and
              s.namespace == NS_REL6 and s.mm7_version == "6.8.0",
              "%s: kind/tid/namespace/version recorded" % personality)
        check((s.vaspid, s.vasid, s.sender_address, s.sender_address_type)
              == ("pushmail", "pushmail-svc", "5555", "ShortCode"),
              "%s: sender identification recorded" % personality)
        check(s.to == ["+256771234567"] and s.service_code == "PUSHMAIL"
              and s.delivery_report is True and s.read_reply is False,
              "%s: recipients, service code, booleans" % personality)
        check(s.subject == "Re: Q2 figures & plan",
              "%s: subject unescaped: %r" % (personality, s.subject))
        check(s.message_id == mids[0] and s.accepted and
              peer.find(mids[0]) is s, "%s: message id bookkeeping"
              % personality)
        check(s.auth_user == "pushmail" and s.problems == [],
              "%s: no problems noted (%r)" % (personality, s.problems))
        check(s.mm_content_type.startswith("multipart/related") and
              s.mm.startswith(b"--mms-parts-7d1f2a\r\n") and
              s.mm.endswith(b"--mms-parts-7d1f2a--\r\n"),
              "%s: MM bytes exact (%d bytes)" % (personality, len(s.mm)))
        probs = mms.check_mm(s.mm, s.mm_content_type, max_size=307200,
                             max_width=640, max_height=480)
        check(probs == [], "%s: check_mm clean: %r" % (personality, probs))
        mm = mms.parse_mm(s.mm, s.mm_content_type)
        img = [p for p in mm.parts if p.mime_type == "image/jpeg"][0]
        check(mms.image_size(img.data) == (64, 48), "image_size 64x48")
        txt = [p for p in mm.parts if p.mime_type == "text/plain"][0]
        check("Grüße" in txt.text() and
              mms.smil_refs(mm.smil) == {"image1.jpg", "text1.txt"},
              "%s: text part and SMIL refs" % personality)

        # every reference SubmitReq
        subjects = {"01b": "Re: Q2 figures & plan",
                    "01d": "Loop & back <test>",
                    "01g": "Grüße aus Köln", "01h": "Grüße aus Köln"}
        for key, want in sorted(subjects.items()):
            name = [f for f in os.listdir(REF) if f.startswith(key)][0]
            st, body = post(peer.url, name)
            s = peer.submissions()[-1]
            check(st == 200 and parse_status(body)[0] == 1000 and
                  s.subject_text == want and s.check_mm() == [],
                  "%s: %s accepted, subject %r" % (personality, name,
                                                   s.subject_text))

        # no credentials
        st, _ = post(peer.url, "01c-SubmitReq-noauth.http")
        check(st == 401 and len(peer.submissions()) == 5 and
              peer.unauthorized_count == 1,
              "%s: no auth -> 401, not recorded" % personality)

        # QP MM: accepted, but check_mm complains
        st, body = post(peer.url, "01f-SubmitReq-qp.http")
        s = peer.submissions()[-1]
        probs = mms.check_mm(s.mm, s.mm_content_type)
        check(st == 200 and any("quoted-printable" in p for p in probs),
              "%s: QP part found: %r" % (personality, probs))

        # scripted answers
        peer.script(Reply.status(4005), Reply.status(2001, fault=False),
                    Reply.http(503), Reply.wrong_namespace())
        st, body = post(peer.url, "01-SubmitReq.http")
        code, _ = parse_status(body)
        fh = 200 if personality == "mbuni" else 500
        check(st == fh and code == 4005 and b"Fault" in body and
              b"RSErrorRsp" in body, "%s: 4005 fault with HTTP %d (got %s)"
              % (personality, fh, st))
        check(peer.submissions()[-1].message_id is None and
              not peer.submissions()[-1].accepted,
              "%s: refused submission has no message id" % personality)
        st, body = post(peer.url, "01-SubmitReq.http")
        check(st == 200 and parse_status(body)[0] == 2001 and
              b"SubmitRsp" in body and b"Fault" not in body,
              "%s: 2001 in a SubmitRsp" % personality)
        st, body = post(peer.url, "01-SubmitReq.http")
        check(st == 503, "%s: scripted 503" % personality)
        st, body = post(peer.url, "01-SubmitReq.http")
        check(st == 200 and b"example.com/not-mm7" in body and
              parse_status(body)[0] == 1000, "%s: wrong namespace answer"
              % personality)
        check(peer.pending_script() == [], "%s: script used up"
              % personality)

        # delay and timeout
        peer.script(Reply.delay(0.4), Reply.timeout(30))
        t0 = time.monotonic()
        st, body = post(peer.url, "01-SubmitReq.http")
        check(st == 200 and time.monotonic() - t0 >= 0.4,
              "%s: delayed answer after 0.4s" % personality)
        t0 = time.monotonic()
        st, body = post(peer.url, "01-SubmitReq.http", timeout=0.5)
        check(st is None and time.monotonic() - t0 < 3,
              "%s: timeout reply times the client out (%r)"
              % (personality, body[:60]))

        # throughput
        peer.set_max_throughput(2)
        codes = [post(peer.url, "01-SubmitReq.http")[0] for _ in range(4)]
        check(codes[:2] == [200, 200] and codes[2:] == [409, 409],
              "%s: throughput 2/s -> %r" % (personality, codes))
        check(peer.throttled_count == 2, "%s: throttled counted"
              % personality)
        time.sleep(1.05)
        check(post(peer.url, "01-SubmitReq.http")[0] == 200,
              "%s: accepted again after the window" % personality)
        peer.set_max_throughput(0)

        # malformed XML (raw '&' as Mbuni would send it)
        hdrs, body = load_http("01-SubmitReq.http")
        bad = body.replace(b"&amp;", b"&")
        r = peer.send_raw(peer.url, bad, hdrs["Content-Type"],
                          auth=("pushmail", "s3cret"))
        check(r.status_code == 2007 and r.http_status == fh,
              "%s: unescaped & -> 2007 / HTTP %s" % (personality,
                                                     r.http_status))

        # Content-ID prefix matching
        pre = body.replace(b"cid:mms-content-pm-0001@pushmail.local",
                           b"cid:mms-content-pm-0001@pushmail.local.x")
        pre = pre.replace(b"Content-Length: 2781", b"")
        r = peer.send_raw(peer.url, pre, hdrs["Content-Type"],
                          auth=("pushmail", "s3cret"))
        s = peer.submissions()[-1]
        if personality == "mbuni":
            check(r.status_code == 1000 and s.mm is not None and
                  any("by prefix" in p for p in s.problems),
                  "mbuni: Content href matched by prefix, noted")
        else:
            check(r.status_code == 4004 and r.http_status == 500,
                  "strict: inexact Content-ID refused with 4004")

        # boolean "1"
        one = body.replace(b"<DeliveryReport>true", b"<DeliveryReport>1")
        r = peer.send_raw(peer.url, one, hdrs["Content-Type"],
                          auth=("pushmail", "s3cret"))
        s = peer.submissions()[-1]
        if personality == "mbuni":
            check(r.status_code == 1000 and s.delivery_report is None,
                  "mbuni: DeliveryReport 1 ignored")
        else:
            check(r.status_code == 1000 and s.delivery_report is True,
                  "strict: DeliveryReport 1 read as true")

        # strict schema order
        swapped = body.replace(
            b"   <ServiceCode>PUSHMAIL</ServiceCode>\n", b"").replace(
            b"   <Subject>", b"   <ServiceCode>PUSHMAIL</ServiceCode>\n"
            b"   <Subject>")
        r = peer.send_raw(peer.url, swapped, hdrs["Content-Type"],
                          auth=("pushmail", "s3cret"))
        if personality == "mbuni":
            check(r.status_code == 1000, "mbuni: any element order")
        else:
            check(r.status_code == 4004 and
                  any("schema order" in p for p in
                      peer.submissions()[-1].problems),
                  "strict: element order refused with 4004")

        # wait_submissions times out cleanly
        try:
            peer.wait_submissions(1000, timeout=0.2)
            check(False, "wait_submissions timeout")
        except TimeoutError:
            check(True, "%s: wait_submissions raises TimeoutError"
                  % personality)

        # client side: DeliveryReportReq / DeliverReq to a stub VASP
        vasp = Vasp()
        try:
            mid = peer.submissions(accepted=True)[0].message_id
            r = peer.send_delivery_report(vasp.url, "pushmail", "s3cret",
                                          mid, "+256771234567")
            check(r.http_status == 200 and r.status_code == 1000,
                  "%s: delivery report answered %r" % (
                      personality, r[:2]))
            _, _, h, sent = vasp.got[-1]
            auth = base64.b64decode(h["Authorization"][6:]).decode()
            check(auth == "pushmail:s3cret" and h["SOAPAction"] == '""',
                  "%s: DLR auth and SOAPAction" % personality)
            root = ET.fromstring(sent)
            rec = [e for e in root.iter() if e.tag.endswith("}Recipient")]
            snd = [e for e in root.iter() if e.tag.endswith("}Sender")]
            rv = "".join(rec[0].itertext()).strip()
            sv = "".join(snd[0].itertext()).strip()
            if personality == "mbuni":
                check((rv, sv) == ("5555", "+256771234567"),
                      "mbuni: DLR Recipient/Sender swapped")
            else:
                check((rv, sv) == ("+256771234567", "5555"),
                      "strict: DLR Recipient/Sender as in the schema")
            check(mid.encode() in sent and b"Retrieved" in sent,
                  "%s: DLR MessageID and status" % personality)

            _, mmb = load_http("03-DeliverReq.http")
            ms = mmb.index(b"--mms-parts-7d1f2a\r\n")
            me = mmb.index(b"--mms-parts-7d1f2a--\r\n") + 22
            mm_ct = ('multipart/related; type="application/smil"; '
                     'start="<smil.smil>"; boundary="mms-parts-7d1f2a"')
            r = peer.send_deliver(vasp.url, "pushmail", "s3cret",
                                  "+256771234567", "5555",
                                  "REPLY 3 Re: Q2 & figures", mm_ct,
                                  mmb[ms:me], linked_id="lk-1")
            _, _, h, sent = vasp.got[-1]
            got = parse_mm7_request(sent, h["Content-Type"], "strict")
            if personality == "mbuni":
                check(got.fatal and got.fatal_code == 2007,
                      "mbuni: DeliverReq subject '&' unescaped -> not XML")
                fixed = sent.replace(b"Q2 & figures", b"Q2 &amp; figures")
                got = parse_mm7_request(fixed, h["Content-Type"], "mbuni")
            check(got.kind == "DeliverReq" and got.mm == mmb[ms:me] and
                  got.mm_content_type == mm_ct and
                  got.subject == "REPLY 3 Re: Q2 & figures" and
                  got.linked_id == "lk-1",
                  "%s: DeliverReq carries the MM and fields (%r)"
                  % (personality, got.problems))
            check(mms.check_mm(got.mm, got.mm_content_type) == [],
                  "%s: delivered MM checks clean" % personality)
            r = peer.send_raw(vasp.url, hostile_xxe(), auth=("a", "b"))
            check(b"ENTITY xxe SYSTEM" in vasp.got[-1][3] and
                  r.status_code == 1000, "hostile XXE body sent")
            peer.send_raw(vasp.url, hostile_billion_laughs())
            check(b"ENTITY l9" in vasp.got[-1][3],
                  "hostile billion-laughs body sent")
        finally:
            vasp.stop()

        # restart keeps records, port
        port = peer.port
        peer.restart()
        check(peer.port == port and post(peer.url, "01-SubmitReq.http")[0]
              == 200, "%s: restart on the same port" % personality)
    finally:
        t0 = time.monotonic()
        peer.script(Reply.timeout(60))
        hold = socket.create_connection(("127.0.0.1", peer.port))
        _, body = load_http("01-SubmitReq.http")
        hold.sendall(b"POST /mm7 HTTP/1.1\r\nHost: x\r\nAuthorization: "
                     b"Basic cHVzaG1haWw6czNjcmV0\r\nContent-Type: "
                     b'multipart/related; boundary="mm7-outer-9b3c55"; '
                     b'type="text/xml"; start="<soap-start@pushmail>"\r\n'
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        idle = socket.create_connection(("127.0.0.1", peer.port))
        time.sleep(0.3)
        peer.stop()
        took = time.monotonic() - t0
        hold.close()
        idle.close()
        check(took < 3, "%s: stop() with a pending timeout and an idle "
              "connection took %.2fs" % (personality, took))
        check(not ports.is_listening(peer.port), "%s: port closed"
              % personality)
        time.sleep(0.1)
        check(threading.active_count() <= base_threads - 1,
              "%s: threads joined (%d -> %d)" % (
                  personality, base_threads, threading.active_count()))


def mmsbox_tests(out):
    box = MmsboxPeer(out, user="pushmail", password="s3cret").start()
    vasp = Vasp()
    try:
        hdrs, body = load_http("01-SubmitReq.http")
        ms = body.index(b"--mms-parts-7d1f2a\r\n")
        me = body.index(b"--mms-parts-7d1f2a--\r\n") + 22
        mm_ct = ('multipart/related; type="application/smil"; '
                 'start="<smil.smil>"; boundary="mms-parts-7d1f2a"')
        q = urllib.parse.urlencode({
            "username": "pushmail", "password": "s3cret",
            "to": "+256771234567", "from": "5555",
            "subject": "Re: Q2 figures & plan",
            "dlr-url": vasp.url.replace("/mm7", "/mmsbox/dlr?id=42")})
        req = urllib.request.Request(box.url + "?" + q, data=body[ms:me],
                                     headers={"Content-Type": mm_ct})
        with urllib.request.urlopen(req, timeout=5) as r:
            st, ans = r.status, r.read()
        check(st == 200 and ans.startswith(b"Accepted: Mbuni-msg."),
              "mmsbox: sendmms -> 200 %r" % ans)
        s = box.wait_submissions(1, timeout=2)[0]
        check(s.to == ["+256771234567"] and s.from_ == "5555" and
              s.subject == "Re: Q2 figures & plan" and
              s.content_source == "body" and s.content == body[ms:me] and
              s.content_type == mm_ct and
              ans.decode() == "Accepted: " + s.transaction_id,
              "mmsbox: submission recorded")

        st, ans = box_get(box, {"username": "pushmail",
                                "password": "s3cret", "from": "5555",
                                "text": "hi"})
        check(st == 200 and ans == b"Missing recipient!",
              "mmsbox: missing 'to' -> 200 'Missing recipient!'")
        st, ans = box_get(box, {"username": "pushmail", "password": "x",
                                "to": "+1", "from": "5555", "text": "hi"})
        check(st == 401 and ans == b"Authentication failed",
              "mmsbox: bad password -> 401")
        box.script(Reply.mmsbox_error("disk full"))
        st, ans = box_get(box, {"username": "pushmail",
                                "password": "s3cret", "to": "+1",
                                "from": "5555", "text": "hi"})
        check(st == 400 and ans.startswith(b"Error in message conversion"),
              "mmsbox: scripted conversion error -> 400")

        st, _ = box.send_dlr_for(s, "Forwarded")
        _, path, h, _ = vasp.got[-1]
        check(st == 200 and path == "/mmsbox/dlr?id=42" and
              h["X-Mbuni-Report-Type"] == "delivery-report" and
              h["X-Mbuni-MM-Status"] == "Forwarded" and
              h["X-Mbuni-TransactionID"] == s.transaction_id and
              h["X-Mbuni-From"] == "+256771234567",
              "mmsbox: DLR GET with Mbuni's headers")

        st, _ = box.post_mo(vasp.url.replace("/mm7", "/mmsbox/mo"),
                            "+256771234567", "5555", "Grüße & more",
                            mm_ct, body[ms:me])
        _, path, h, sent = vasp.got[-1]
        main, params = mms.parse_params(h["Content-Type"])
        fields = []
        for blob in mms.split_multipart(sent, params["boundary"]):
            ph, pb = mms.split_head(blob)
            fields.append((ph.get("Content-Disposition"),
                           ph.get("Content-Type"), pb))
        names = [f[0] for f in fields]
        check(st == 200 and main == "multipart/form-data" and
              h["X-Mbuni-From"] == "+256771234567" and
              h["X-Mbuni-To"] == "5555" and
              h["X-Mbuni-Subject"].encode("latin-1") ==
              "Grüße & more".encode() and
              names == ['form-data; name="smil"; filename="smil.smil"',
                        'form-data; name="text"; filename="text1.txt"',
                        'form-data; name="image"; filename="image1.jpg"'],
              "mmsbox: MO form fields %r" % names)
        check(mms.image_size(fields[2][2]) == (64, 48) and
              fields[2][1] == "image/jpeg" and
              fields[1][1] == "text/plain; charset=utf-8",
              "mmsbox: MO parts decoded, typed")
    finally:
        vasp.stop()
        box.stop()
    check(not ports.is_listening(box.port), "mmsbox: stopped")


def box_get(box, q):
    try:
        with urllib.request.urlopen(box.url + "?" + urllib.parse.urlencode(q),
                                    timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def mms_tests():
    _, body = load_http("01-SubmitReq.http")
    ms = body.index(b"--mms-parts-7d1f2a\r\n")
    me = body.index(b"--mms-parts-7d1f2a--\r\n") + 22
    mm = body[ms:me]
    ct = ('multipart/related; type="application/smil"; start="<smil.smil>"; '
          'boundary="mms-parts-7d1f2a"')
    with open(os.path.join(REF, "image1.jpg"), "rb") as f:
        check(mms.image_size(f.read()) == (64, 48), "image1.jpg is 64x48")
    check(mms.check_mm(mm, ct, max_width=32, max_height=32) ==
          ["part image1.jpg is 64x48, over 32x32"], "check_mm: too wide")
    bad = mm.replace(b"<text1.txt>", b"<image1.jpg.txt>")
    p = mms.check_mm(bad, ct)
    check(any("prefix" in x for x in p) and
          any("cid:text1.txt" in x for x in p) and
          any("not referenced" in x for x in p),
          "check_mm: prefix CID, dangling ref, unreferenced part")
    nolay = mm.replace(b'   <region id="Text"', b'   <region id="Txt"')
    p = mms.check_mm(nolay, ct)
    check(any("no region 'Text'" in x for x in p), "check_mm: region Text")
    lat = mm.replace("Grüße".encode(), "Grüße".encode("latin-1"))
    p = mms.check_mm(lat, ct)
    check(any("UTF-8" in x for x in p), "check_mm: non-UTF-8 text")
    check(mms.check_mm(b"garbage", ct) and
          mms.check_mm(mm, ct, max_size=100) ==
          ["MM is %d bytes, over 100" % len(mm)], "check_mm: size, garbage")


def main():
    out = os.path.normpath(os.path.join(HERE, "..", "..", "out",
                                        "mm7peer_selftest"))
    shutil.rmtree(out, ignore_errors=True)      # logs of this run only
    os.makedirs(out, exist_ok=True)
    mms_tests()
    for p in ("mbuni", "strict"):
        submit_tests(p, out)
    mmsbox_tests(out)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed else 1


if __name__ == "__main__":
    sys.exit(main())
