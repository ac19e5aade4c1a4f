"""mm7peer.py - an MM7 MMSC and an Mbuni mmsbox for tests, in-process.

MM7 (3GPP TS 23.140, SOAP 1.1 over HTTP): the peer is the MMSC, pushmail
the VASP.

    peer = MM7Peer(t.out, personality="mbuni", user="pushmail",
                   password="s3cret").start()
    t.add_log(peer.log_path); t.add_cleanup(peer.stop)
    peer.url                          # http://127.0.0.1:PORT/mm7 (mmsc-url)
    peer.script(Reply.status(4005), Reply.http(503), Reply.timeout())
    sub = peer.wait_submissions(1, timeout=15)[0]
    sub.to, sub.subject, sub.delivery_report, sub.mm, sub.mm_content_type
    r = peer.send_delivery_report(pm_url, "pushmail", "s3cret",
                                  sub.message_id, sub.to[0])
    r.http_status, r.status_code, r.body  # also unpacks: st, code, body = r
    peer.stop()

Personalities (what differs is what pushmail must tolerate):
  "mbuni"   REL-5-MM7-1-0 / 5.3.0; SOAP-ENV prefix, default namespace,
            one element per line; values NOT XML-escaped in what it sends;
            faults (RSErrorRsp, faultcode SOAP-ENV:Server) with HTTP 200;
            DeliveryReportReq with Recipient and Sender SWAPPED (Recipient =
            the VASP's short code, Sender = the handset) and in Mbuni's
            element order (MM7Version, Recipient, Sender, MessageID, Date,
            MMStatus); DeliverReq in Mbuni's order; booleans read only as
            true/false (a "1" is ignored, as Mbuni does); the MM part is the
            first part whose Content-ID is a PREFIX of the Content href.
            MessageIDs look like Mbuni's (qf...@relay).
  "strict"  REL-6-MM7-1-4 / 6.8.0; env:/mm7: prefixes, schema order,
            proper escaping, faults with HTTP 500 (env:Client for 2xxx);
            validates SubmitReq (schema order, mandatory elements,
            xsd:boolean, exact Content-ID) and refuses with 4004.
Both answer 401 without the right HTTP Basic credentials, and 409 (plain
text, Mbuni's words) above max_throughput SubmitReqs per second; a SOAP
part that is not well-formed XML gets 2007, an operation other than
SubmitReq 4003.

Scripting: every SubmitReq that passes auth, throughput and parsing takes
the next Reply from the queue (default Reply.ok()).  Non-fatal oddities of
what pushmail sent are listed in Submission.problems.

The same peer is the MMSC calling pushmail's endpoint:
send_delivery_report(), send_deliver(), send_raw() (hostile bodies:
hostile_xxe(), hostile_billion_laughs()).

mmsbox (Mbuni's VAS gateway, class MmsboxPeer): its sendmms HTTP interface
(GET/POST any path, username/password, to, from, subject, dlr-url, ...; a
POSTed body that is not a form is the MM itself, typed by Content-Type).
Facts from Mbuni's source (mmsbox.c, 1.5): success is HTTP **200**
"Accepted: <transid>" (transid like "Mbuni-msg.1234.x5.67.89"); a failed
conversion is HTTP 400 "Error in message conversion: ..."; bad credentials
HTTP 401 "Authentication failed"; a missing parameter is HTTP **200** with
"Missing recipient!" / "Missing content" / "Missing Sender address" (check
the body, not only the status).  Its DLR (send_dlr) is an HTTP GET of the
dlr-url exactly as given, with headers X-Mbuni-Report-Type
(delivery-report|read-report), X-Mbuni-MM-Status (Forwarded first, then
Retrieved/Rejected/Expired/...), X-Mbuni-MMSC-ID, X-Mbuni-From,
X-Mbuni-TransactionID (= the "Accepted:" id: what a service correlates on)
and X-Mbuni-Message-ID (the MMSC's MessageID, which the service never saw).
Its mms-service post-url (post_mo) is a multipart/form-data POST, one
form field per MM part matching http-post-parameters, with X-Mbuni-From,
-To, -Subject, -Message-ID, -TransactionID, -MMSC-ID headers.

Threads: each peer serves in its own thread (ThreadingHTTPServer, one
thread per connection, HTTP/1.1 keep-alive); stop() wakes delayed
answers, shuts the open connections, closes the port and joins every
thread.  All accessors are thread-safe.  Only Python 3 stdlib.
"""

import base64
import collections
import email.header
import email.utils
import http.client
import http.server
import itertools
import os
import random
import re
import socket
import threading
import time
import traceback
import urllib.parse
import xml.etree.ElementTree as ET

from . import ports
from .mms import (Headers, MmsError, check_mm, parse_mm, parse_params,
                  split_head, split_multipart, strip_cid)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS_BASE = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/"
NS_REL5 = NS_BASE + "REL-5-MM7-1-0"
NS_REL5_2 = NS_BASE + "REL-5-MM7-1-2"
NS_REL6 = NS_BASE + "REL-6-MM7-1-4"

PERSONALITIES = {
    "mbuni": {"namespace": NS_REL5, "version": "5.3.0", "fault_http": 200},
    "strict": {"namespace": NS_REL6, "version": "6.8.0", "fault_http": 500},
}

# 23.140 status texts (the table every MMSC uses)
STATUS_TEXT = {
    1000: "Success", 1100: "Partial success", 2000: "Client error",
    2001: "Operation restricted", 2002: "Address Error",
    2003: "Address Not Found", 2004: "Multimedia content refused",
    2005: "Message ID Not found", 2006: "LinkedID not found",
    2007: "Message format corrupt", 3000: "Server Error",
    3001: "Not Possible", 3002: "Message rejected",
    3003: "Multiple addresses not supported", 3005: "Command Rejected",
    4000: "General service error", 4001: "Improper identification",
    4002: "Unsupported version", 4003: "Unsupported operation",
    4004: "Validation error", 4005: "Service error",
    4006: "Service unavailable", 4007: "Service denied",
}

THROTTLE_TEXT = b"Throttling limit exceeded. Try again later"
MAX_BODY = 20 * 1024 * 1024
USER_AGENT = "Mbuni/1.5.0"

# SubmitReq children in REL-5/REL-6 schema order (REL-6 adds some)
SUBMIT_ORDER = [
    "MM7Version", "SenderIdentification", "Recipients", "PreferredChannels",
    "ServiceCode", "LinkedID", "MessageClass", "TimeStamp", "ReplyCharging",
    "EarliestDeliveryTime", "ExpiryDate", "DeliveryReport", "ReadReply",
    "Priority", "Subject", "ChargedParty", "ChargedPartyID",
    "ThirdPartyPayer", "DistributionIndicator", "DeliveryCondition",
    "ApplicID", "ReplyApplicID", "AuxApplicInfo", "ContentClass",
    "DRMContent", "Content"]
SENDER_ID_ORDER = ["VASPID", "VASID", "SenderAddress"]
RCPT_ORDER = ["To", "Cc", "Bcc"]
ADDRESS_TAGS = ("Number", "ShortCode", "RFC2822Address")

_ids = itertools.count(1)


# --- small helpers -----------------------------------------------------------

def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _nsof(tag):
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and \
        tag.startswith("{") else ""


def _text(el):
    return "".join(el.itertext()) if el is not None else None


def _esc(s, style):
    """XML-escape for "strict"; Mbuni writes values as they are."""
    s = "" if s is None else str(s)
    if style == "mbuni":
        return s
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def _iso(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(time.time() if t is None else t))


def _addr(addr):
    """(element name, value) for an address: RFC2822Address when it has an
    '@', else ShortCode up to 6 characters (Mbuni's rule), else Number;
    a /TYPE=PLMN suffix is dropped."""
    a = str(addr).strip()
    if "@" in a:
        return "RFC2822Address", a
    a = re.sub(r"(?i)/TYPE=PLMN$", "", a)
    return ("ShortCode" if len(a) <= 6 else "Number"), a


def basic_auth(user, password):
    """The value of an Authorization header for HTTP Basic."""
    raw = ("%s:%s" % (user, password)).encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _auth_user(headers):
    """(user, password) from an Authorization: Basic header, or None."""
    v = headers.get("Authorization")
    if not v or not v.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(v[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    if ":" not in raw:
        return None
    u, p = raw.split(":", 1)
    return u, p


# --- HTTP client -------------------------------------------------------------

MM7Result = collections.namedtuple("MM7Result",
                                   "http_status status_code body")
MM7Result.__doc__ = """What pushmail answered: HTTP status (None when the
connection failed or timed out), the MM7 StatusCode found anywhere in the
answer (int, None when there is none) and the raw body (bytes; the error
text when the connection failed)."""


def http_request(url, method="GET", headers=(), body=None, timeout=10,
                 auth=None):
    """One HTTP request with http.client; (status, Headers, body bytes).
    Credentials in the URL (http://user:pw@host/) or auth=(user, pw) become
    a Basic Authorization header (unless headers has one).  Header values
    may be bytes (sent raw) or str (non-Latin-1 str are sent as UTF-8).
    On a connection error or timeout: (None, Headers(), error text)."""
    u = urllib.parse.urlsplit(url)
    if u.username is not None and auth is None:
        auth = (urllib.parse.unquote(u.username),
                urllib.parse.unquote(u.password or ""))
    port = u.port or (443 if u.scheme == "https" else 80)
    cls = http.client.HTTPSConnection if u.scheme == "https" else \
        http.client.HTTPConnection
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    conn = cls(u.hostname, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        names = set()
        for k, v in headers:
            names.add(k.lower())
            if isinstance(v, str):
                try:
                    v.encode("latin-1")
                except UnicodeEncodeError:
                    v = v.encode("utf-8")
            conn.putheader(k, v)
        if auth is not None and "authorization" not in names:
            conn.putheader("Authorization", basic_auth(*auth))
        if body is not None and "content-length" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, Headers(resp.getheaders()), data
    except (OSError, http.client.HTTPException) as e:
        return None, Headers(), ("%s: %s" % (type(e).__name__, e)).encode()
    finally:
        conn.close()


def parse_status(body):
    """(StatusCode int or None, StatusText or None) found anywhere in an MM7
    answer (SubmitRsp, DeliverRsp, a Fault's detail, ...), by local name.
    A body that is not well-formed is searched with a regex."""
    if not body:
        return None, None
    try:
        root = ET.fromstring(body)
        code = text = None
        for e in root.iter():
            n = _local(e.tag)
            if n == "StatusCode" and code is None:
                code = (e.text or "").strip()
            elif n == "StatusText" and text is None:
                text = e.text or ""
    except ET.ParseError:
        s = body.decode("utf-8", "replace") if isinstance(body, bytes) \
            else body
        m = re.search(r"<(?:\w+:)?StatusCode\b[^>]*>\s*([^<\s]*)", s)
        code = m.group(1) if m else None
        m = re.search(r"<(?:\w+:)?StatusText\b[^>]*>([^<]*)", s)
        text = m.group(1) if m else None
    try:
        return (int(code) if code else None), text
    except ValueError:
        return None, text


def _result(st, body):
    code, _ = parse_status(body) if st is not None else (None, None)
    return MM7Result(st, code, body)


def send_raw(url, body, content_type="text/xml", auth=None, headers=(),
             method="POST", timeout=10):
    """POST (or `method`) any body, e.g. malformed or hostile XML;
    auth=(user, password) or None.  Returns MM7Result."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    h = [("Content-Type", content_type), ("SOAPAction", '""'),
         ("User-Agent", USER_AGENT)] + list(headers)
    st, _, data = http_request(url, method, h, body, timeout, auth)
    return _result(st, data)


# --- SOAP documents ----------------------------------------------------------

def _mbuni_doc(mtype, ns, tid, items, fault=None):
    """A SOAP document laid out as Mbuni writes it (headers_to_soapxml):
    one element per line, SOAP-ENV prefix, default namespace.  items is
    the already-rendered content of the message element."""
    out = ["<?xml version='1.0' encoding='UTF-8'?>\n",
           '<SOAP-ENV:Envelope xmlns:SOAP-ENV="%s">\n' % SOAP_ENV,
           "<SOAP-ENV:Header>\n",
           '<TransactionID xmlns="%s" SOAP-ENV:mustUnderstand="1">%s'
           "</TransactionID>\n" % (ns, tid if tid is not None else "none"),
           "</SOAP-ENV:Header>\n<SOAP-ENV:Body>\n"]
    if fault:
        out.append("<SOAP-ENV:Fault>\n<faultcode>%s</faultcode>\n"
                   "<faultstring>%s</faultstring>\n<detail>\n" % fault)
    out.append('<%s xmlns="%s">\n' % (mtype, ns))
    out.append(items)
    out.append("</%s>\n" % mtype)
    if fault:
        out.append("</detail>\n</SOAP-ENV:Fault>\n")
    out.append("</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n")
    return "".join(out).encode("utf-8")


def _strict_doc(mtype, ns, tid, items, fault=None):
    """A SOAP document laid out like the reference examples (env:/mm7:
    prefixes, indented).  items: rendered lines without indentation."""
    ind = "    " if fault else "  "
    body = "".join(ind + line + "\n" for line in items)
    msg = "%s<%s xmlns=\"%s\">\n%s%s</%s>\n" % (
        ind[:-1], mtype, ns, body, ind[:-1], mtype)
    if fault:
        msg = ("  <env:Fault>\n   <faultcode>%s</faultcode>\n"
               "   <faultstring>%s</faultstring>\n   <detail>\n%s"
               "   </detail>\n  </env:Fault>\n" % (fault[0], fault[1], msg))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<env:Envelope xmlns:env="%s">\n <env:Header>\n'
            '  <mm7:TransactionID xmlns:mm7="%s" env:mustUnderstand="1">%s'
            "</mm7:TransactionID>\n </env:Header>\n <env:Body>\n%s"
            " </env:Body>\n</env:Envelope>\n"
            % (SOAP_ENV, ns, _esc(tid, "strict"), msg)).encode("utf-8")


def build_status_rsp(style, ns, version, tid, code, text=None, details=None,
                     message_id=None, fault=None, rsp="SubmitRsp",
                     error_rsp="RSErrorRsp"):
    """An answer carrying a Status: `rsp` (SubmitRsp, DeliverRsp, ...) or,
    with fault, a SOAP Fault with `error_rsp` in its detail."""
    text = text if text is not None else STATUS_TEXT.get(code, "Error")
    mtype = error_rsp if fault else rsp
    e = lambda s: _esc(s, style)    # noqa: E731
    if style == "mbuni":
        items = "<MM7Version>%s</MM7Version>\n<Status>\n" % version
        items += "<StatusCode>%s</StatusCode>\n" % code
        items += "<StatusText>%s</StatusText>\n" % e(text)
        if details is not None:
            items += "<Details>%s</Details>\n" % e(details)
        items += "</Status>\n"
        if message_id is not None:
            items += "<MessageID>%s</MessageID>\n" % e(message_id)
        f = ("SOAP-ENV:Server", "Server error") if fault else None
        return _mbuni_doc(mtype, ns, e(tid), items, f)
    items = ["<MM7Version>%s</MM7Version>" % e(version), "<Status>",
             " <StatusCode>%s</StatusCode>" % code,
             " <StatusText>%s</StatusText>" % e(text)]
    if details is not None:
        items.append(" <Details>%s</Details>" % e(details))
    items.append("</Status>")
    if message_id is not None:
        items.append("<MessageID>%s</MessageID>" % e(message_id))
    f = None
    if fault:
        f = ("env:Client" if code // 1000 == 2 else "env:Server", e(text))
    return _strict_doc(mtype, ns, tid, items, f)


def build_delivery_report_req(style, ns, version, tid, message_id,
                              recipient, sender, status="Retrieved",
                              status_text=None, date=None, relay_id=None):
    """DeliveryReportReq text.  recipient = the handset the MM went to,
    sender = the VASP address (short code).  "mbuni" swaps them, writes
    Mbuni's order and escapes nothing; "strict" follows the schema."""
    date = date or _iso()
    if style == "mbuni":
        rt, rv = _addr(sender)          # the swap
        st, sv = _addr(recipient)
        items = ("<MM7Version>%s</MM7Version>\n"
                 "<Recipient>\n<%s>%s</%s>\n</Recipient>\n"
                 "<Sender><%s>%s</%s>\n</Sender>\n"
                 "<MessageID>%s</MessageID>\n<Date>%s</Date>\n"
                 "<MMStatus>%s</MMStatus>\n"
                 % (version, rt, rv, rt, st, sv, st, message_id, date,
                    status))
        if status_text is not None:
            items += "<StatusText>%s</StatusText>\n" % status_text
        return _mbuni_doc("DeliveryReportReq", ns, tid, items)
    e = lambda s: _esc(s, style)    # noqa: E731
    rt, rv = _addr(recipient)
    st, sv = _addr(sender)
    items = ["<MM7Version>%s</MM7Version>" % e(version)]
    if relay_id:
        items.append("<MMSRelayServerID>%s</MMSRelayServerID>" % e(relay_id))
    items += ["<MessageID>%s</MessageID>" % e(message_id),
              "<Recipient><%s>%s</%s></Recipient>" % (rt, e(rv), rt),
              "<Sender><%s>%s</%s></Sender>" % (st, e(sv), st),
              "<Date>%s</Date>" % e(date),
              "<MMStatus>%s</MMStatus>" % e(status)]
    if status_text is not None:
        items.append("<StatusText>%s</StatusText>" % e(status_text))
    return _strict_doc("DeliveryReportReq", ns, tid, items)


def build_deliver_req(style, ns, version, tid, sender, recipients, subject,
                      content_href, linked_id=None, relay_id=None,
                      priority="Normal", date=None):
    """DeliverReq text (the MM travels in another MIME part, named by
    content_href "cid:...")."""
    date = date or _iso()
    if style == "mbuni":
        rc = "".join("<%s>%s</%s>\n" % (t, v, t)
                     for t, v in map(_addr, recipients))
        items = "<MM7Version>%s</MM7Version>\n" % version
        items += "<Recipients>\n<To>\n%s</To>\n</Recipients>\n" % rc
        if relay_id:
            items += "<MMSRelayServerID>%s</MMSRelayServerID>\n" % relay_id
        if linked_id:
            items += "<LinkedID>%s</LinkedID>\n" % linked_id
        st, sv = _addr(sender)
        items += "<Sender><%s>%s</%s>\n</Sender>\n" % (st, sv, st)
        items += "<TimeStamp>%s</TimeStamp>\n" % date
        if priority:
            items += "<Priority>%s</Priority>\n" % priority
        if subject is not None:
            items += "<Subject>%s</Subject>\n" % subject
        items += '<Content href="%s"/>\n' % content_href
        return _mbuni_doc("DeliverReq", ns, tid, items)
    e = lambda s: _esc(s, style)    # noqa: E731
    items = ["<MM7Version>%s</MM7Version>" % e(version)]
    if relay_id:
        items.append("<MMSRelayServerID>%s</MMSRelayServerID>" % e(relay_id))
    if linked_id:
        items.append("<LinkedID>%s</LinkedID>" % e(linked_id))
    st, sv = _addr(sender)
    items.append("<Sender><%s>%s</%s></Sender>" % (st, e(sv), st))
    items.append("<Recipients>")
    for t, v in map(_addr, recipients):
        items.append(" <To><%s>%s</%s></To>" % (t, e(v), t))
    items.append("</Recipients>")
    items.append("<TimeStamp>%s</TimeStamp>" % e(date))
    if priority:
        items.append("<Priority>%s</Priority>" % e(priority))
    if subject is not None:
        items.append("<Subject>%s</Subject>" % e(subject))
    items.append('<Content href="%s" allowAdaptations="true"/>'
                 % e(content_href))
    return _strict_doc("DeliverReq", ns, tid, items)


def multipart_related(soap, soap_cid, mm_content_type, mm_bytes, mm_cid,
                      boundary, soap_type="text/xml"):
    """(Content-Type value, body) of an MM7 multipart/related request: the
    SOAP part first (the start), then the MM."""
    if isinstance(mm_content_type, str):
        mm_content_type = mm_content_type.encode("utf-8")
    b = boundary.encode("ascii")
    body = (b"--" + b + b"\r\nContent-Type: " + soap_type.encode() +
            b"\r\nContent-ID: <" + soap_cid.encode() + b">\r\n\r\n" + soap +
            b"\r\n--" + b + b"\r\nContent-Type: " + mm_content_type +
            b"\r\nContent-ID: <" + mm_cid.encode() + b">\r\n\r\n" +
            mm_bytes + b"\r\n--" + b + b"--\r\n")
    ctype = ('multipart/related; type="text/xml"; start="<%s>"; '
             'boundary="%s"' % (soap_cid, boundary))
    return ctype, body


def hostile_xxe(namespace=NS_REL5, target="file:///etc/passwd"):
    """A DeliveryReportReq whose MessageID is an external entity."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE e [<!ENTITY xxe SYSTEM "%s">]>\n'
            '<env:Envelope xmlns:env="%s"><env:Header>'
            '<TransactionID xmlns="%s">x1</TransactionID></env:Header>'
            '<env:Body><DeliveryReportReq xmlns="%s">'
            "<MM7Version>5.3.0</MM7Version><MessageID>&xxe;</MessageID>"
            "<Recipient><Number>+256771234567</Number></Recipient>"
            "<Sender><ShortCode>5555</ShortCode></Sender>"
            "<Date>2024-05-14T10:16:02Z</Date><MMStatus>Retrieved</MMStatus>"
            "</DeliveryReportReq></env:Body></env:Envelope>\n"
            % (target, SOAP_ENV, namespace, namespace)).encode()


def hostile_billion_laughs(namespace=NS_REL5, levels=10):
    """A DeliveryReportReq whose MessageID expands to 10**levels 'lol's."""
    ents = ['<!ENTITY l0 "lol">']
    for i in range(1, levels):
        ents.append('<!ENTITY l%d "%s">' % (i, ("&l%d;" % (i - 1)) * 10))
    return ('<?xml version="1.0"?>\n<!DOCTYPE e [%s]>\n'
            '<env:Envelope xmlns:env="%s"><env:Body>'
            '<DeliveryReportReq xmlns="%s"><MM7Version>5.3.0</MM7Version>'
            "<MessageID>&l%d;</MessageID><MMStatus>Retrieved</MMStatus>"
            "</DeliveryReportReq></env:Body></env:Envelope>\n"
            % ("".join(ents), SOAP_ENV, namespace, levels - 1)).encode()


# --- scripted answers --------------------------------------------------------

class Reply:
    """One scripted answer.  Build with the class methods:

      Reply.ok(message_id=None)           SubmitRsp 1000 (mmsbox: Accepted)
      Reply.status(code, text=None, details=None, fault=None,
                   http_status=None, message_id=None, style=None,
                   namespace=None)
            code >= 2000 is a SOAP Fault (RSErrorRsp) by default, with the
            personality's HTTP status (mbuni 200, strict 500);
            fault=False gives a SubmitRsp carrying the error code.
      Reply.wrong_namespace(namespace=..., code=1000)
      Reply.http(status, body=b"", content_type="text/plain")   e.g. 503
      Reply.throttled()                   HTTP 409 with Mbuni's text
      Reply.unavailable()                 HTTP 503
      Reply.raw(body, content_type=..., http_status=200)   any bytes
      Reply.delay(seconds, then=None)     answer `then` (ok) after seconds
      Reply.timeout(seconds=600)          never answer; close after seconds
                                          (or at stop())
      Reply.close()                       close the connection, no answer
      Reply.mmsbox_error(text)            mmsbox: 400 "Error in message
                                          conversion: text"
    """

    def __init__(self, kind, **kw):
        self.kind = kind
        self.code = None
        self.text = None
        self.details = None
        self.fault = None
        self.http_status = None
        self.message_id = None
        self.style = None
        self.namespace = None
        self.body = b""
        self.content_type = None
        self.headers = ()
        self.seconds = 0
        self.then = None
        self.__dict__.update(kw)

    def __repr__(self):
        keys = ("code", "http_status", "message_id", "seconds", "namespace")
        extra = ", ".join("%s=%r" % (k, getattr(self, k)) for k in keys
                          if getattr(self, k) not in (None, 0))
        return "Reply(%s%s)" % (self.kind, ", " + extra if extra else "")

    @classmethod
    def ok(cls, message_id=None, text=None, style=None):
        return cls("status", code=1000, text=text, message_id=message_id,
                   fault=False, style=style)

    @classmethod
    def status(cls, code, text=None, details=None, fault=None,
               http_status=None, message_id=None, style=None,
               namespace=None):
        return cls("status", code=int(code), text=text, details=details,
                   fault=fault, http_status=http_status,
                   message_id=message_id, style=style, namespace=namespace)

    @classmethod
    def wrong_namespace(cls, namespace="http://example.com/not-mm7",
                        code=1000, message_id=None):
        return cls.status(code, namespace=namespace, message_id=message_id)

    @classmethod
    def http(cls, status, body=b"", content_type="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        return cls("http", http_status=int(status), body=body,
                   content_type=content_type, headers=tuple(headers))

    @classmethod
    def throttled(cls):
        return cls.http(409, THROTTLE_TEXT)

    @classmethod
    def unavailable(cls):
        return cls.http(503, b"Service temporarily unavailable")

    @classmethod
    def raw(cls, body, content_type='text/xml; charset="utf-8"',
            http_status=200, headers=()):
        return cls.http(http_status, body, content_type, headers)

    @classmethod
    def delay(cls, seconds, then=None):
        return cls("delay", seconds=float(seconds), then=then or cls.ok())

    @classmethod
    def timeout(cls, seconds=600):
        return cls("timeout", seconds=float(seconds))

    @classmethod
    def close(cls):
        return cls("close")

    @classmethod
    def mmsbox_error(cls, text="cannot convert", http_status=400):
        return cls.http(http_status,
                        "Error in message conversion: %s" % text)


# --- server infrastructure ---------------------------------------------------

class Request:
    """One HTTP request a peer received: method, path, headers (a
    http.client.HTTPMessage: .get(), .get_all()), body (bytes), client
    (ip, port), time; status is the HTTP status answered (None: none)."""

    def __init__(self, method, path, headers, body, client):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.client = client
        self.time = time.time()
        self.status = None

    def __repr__(self):
        return "Request(%s %s, %d bytes -> %s)" % (
            self.method, self.path, len(self.body), self.status)


class _BodyError(Exception):
    def __init__(self, status, msg):
        Exception.__init__(self, msg)
        self.status = status


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = False      # so server_close() joins them
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128    # listen backlog (socketserver's is 5)
    peer = None

    def handle_error(self, request, client_address):
        self.peer._log("error serving %s:\n%s"
                       % (client_address, traceback.format_exc()))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def setup(self):
        super().setup()
        if not self.server.peer._conn_add(self.connection):
            # accepted while stop() runs: hang up at once
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.peer._conn_del(self.connection)

    def _any(self):
        self.server.peer._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def version_string(self):
        return self.server.peer.server_header

    def log_message(self, fmt, *args):
        self.server.peer._log("%s %s" % (self.client_address[0],
                                         fmt % args))


class _PeerBase:
    """HTTP server plumbing shared by MM7Peer and MmsboxPeer."""

    server_header = "pmtest-peer"
    default_path = "/"

    def __init__(self, out_dir, name, port):
        self.name = name
        self._fixed_port = port
        self.port = port or ports.free_port()
        self.log_path = os.path.join(out_dir, name + ".log") \
            if out_dir else None
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
        self._cond = threading.Condition()
        self._log_lock = threading.Lock()
        self._requests = []
        self._script = collections.deque()
        self._stopping = threading.Event()
        self._conns = set()
        self._server = None
        self._thread = None

    # life cycle
    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def url(self):
        """Where pushmail sends its requests."""
        return self.base_url + self.default_path

    def start(self):
        """Listen on 127.0.0.1:port and serve in a thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        for attempt in range(5):
            try:
                srv = _Server(("127.0.0.1", self.port), _Handler,
                              bind_and_activate=True)
                break
            except OSError:
                if self._fixed_port or attempt == 4:
                    raise
                self.port = ports.free_port()
        srv.peer = self
        self._server = srv
        self._thread = threading.Thread(
            target=srv.serve_forever, kwargs={"poll_interval": 0.05},
            name="%s-%d" % (self.name, self.port), daemon=True)
        self._thread.start()
        self._log("listening on %s" % self.base_url)
        return self

    def stop(self):
        """Stop serving: wake delayed answers, shut every open connection,
        close the port, join the server and connection threads."""
        srv, self._server = self._server, None
        if srv is None:
            return
        with self._cond:
            self._stopping.set()
        srv.shutdown()
        with self._cond:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        srv.server_close()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._log("stopped")

    def restart(self):
        """stop() then start() on the same port; records are kept."""
        self.stop()
        return self.start()

    def running(self):
        return self._server is not None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _conn_add(self, c):
        """Track an open connection; False when stop() has begun."""
        with self._cond:
            if self._stopping.is_set():
                return False
            self._conns.add(c)
            return True

    def _conn_del(self, c):
        with self._cond:
            self._conns.discard(c)

    def _log(self, text):
        if not self.log_path:
            return
        line = "%s %s\n" % (time.strftime("%H:%M:%S"), text)
        with self._log_lock:
            with open(self.log_path, "a", errors="replace") as f:
                f.write(line)

    # scripting
    def script(self, *replies):
        """Queue answers for the next requests, in order."""
        with self._cond:
            self._script.extend(replies)
        return self

    def clear_script(self):
        with self._cond:
            self._script.clear()

    def pending_script(self):
        """Answers not used yet."""
        with self._cond:
            return list(self._script)

    def _next_reply(self):
        with self._cond:
            return self._script.popleft() if self._script else None

    # records
    def requests(self):
        """Every HTTP request received so far (Request objects)."""
        with self._cond:
            return list(self._requests)

    def _record(self, lst, item):
        with self._cond:
            lst.append(item)
            self._cond.notify_all()

    def _wait(self, lst, n, timeout, what, pred=None):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [x for x in lst if pred is None or pred(x)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("%s: %d of %d %s within %.1fs"
                                       % (self.name, len(got), n, what,
                                          timeout))
                self._cond.wait(left)

    def wait_requests(self, n, timeout=15):
        return self._wait(self._requests, n, timeout, "requests")

    # serving
    def _serve(self, h):
        try:
            body = self._read_body(h)
        except _BodyError as e:
            h.close_connection = True
            req = Request(h.command, h.path, h.headers, b"",
                          h.client_address)
            self._record(self._requests, req)
            self._send(h, req, e.status, str(e).encode(), "text/plain",
                       close=True)
            return
        req = Request(h.command, h.path, h.headers, body, h.client_address)
        self._record(self._requests, req)
        self.handle(h, req)

    def _read_body(self, h):
        te = (h.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = h.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise _BodyError(400, "bad chunk size")
                if size == 0:
                    while h.rfile.readline(1024).strip():
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise _BodyError(413, "body too large")
                data = h.rfile.read(size)
                if len(data) < size:
                    raise _BodyError(400, "truncated chunk")
                chunks.append(data)
                h.rfile.readline(8)
            return b"".join(chunks)
        cl = h.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl)
        except ValueError:
            raise _BodyError(400, "bad Content-Length")
        if n < 0 or n > MAX_BODY:
            raise _BodyError(413, "body too large")
        data = h.rfile.read(n)
        if len(data) < n:
            raise _BodyError(400, "truncated body")
        return data

    def _send(self, h, req, status, body=b"", content_type=None,
              headers=(), close=False):
        if self._stopping.is_set():
            h.close_connection = True
            return
        try:
            h.send_response(status)
            if content_type:
                h.send_header("Content-Type", content_type)
            for k, v in headers:
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            if close:
                h.send_header("Connection", "close")
                h.close_connection = True
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(body)
            h.wfile.flush()
            req.status = status
        except OSError as e:
            self._log("answer %d not delivered: %s" % (status, e))
            h.close_connection = True

    @staticmethod
    def _plan(reply, render):
        """(seconds to wait, (status, ctype, body, headers) or None to
        close without an answer) for a scripted reply."""
        if reply.kind == "timeout":
            return reply.seconds, None
        if reply.kind == "close":
            return 0, None
        if reply.kind == "delay":
            w, resp = _PeerBase._plan(reply.then, render)
            return reply.seconds + w, resp
        if reply.kind == "http":
            return 0, (reply.http_status, reply.content_type, reply.body,
                       reply.headers)
        return 0, render(reply)

    def _execute(self, h, req, plan):
        wait, resp = plan
        if wait > 0:
            self._stopping.wait(wait)
        if resp is None or self._stopping.is_set():
            self._log("%s %s: no answer, closing" % (req.method, req.path))
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, ctype, body, headers = resp
        self._send(h, req, status, body, ctype, headers)

    def handle(self, h, req):
        raise NotImplementedError


# --- MM7: what pushmail submitted --------------------------------------------

Address = collections.namedtuple("Address", "field type value display_only")
Address.__doc__ = """A recipient or sender: field (To/Cc/Bcc/Sender...),
type (Number/ShortCode/RFC2822Address, None when the value was bare text),
value, display_only (bool)."""


class Submission:
    """One SubmitReq (or whatever pushmail POSTed) as the MMSC saw it.

    http: time, path, http_headers (.get/.get_all), auth_user, body,
      content_type (the HTTP Content-Type), parts [(Headers, bytes)] of the
      multipart, soap (bytes of the SOAP part)
    SOAP: kind ("SubmitReq"; None if unparsable), namespace (of the message
      element), transaction_id, transaction_id_namespace, mm7_version,
      vaspid, vasid, sender_address, sender_address_type, recipients
      [Address], to [values of To], cc, bcc, service_code, linked_id,
      message_class, priority, expiry_date, time_stamp, delivery_report
      (True/False/None as this personality reads it), delivery_report_raw,
      read_reply, read_reply_raw, subject (str as parsed, entities decoded),
      content_href, allow_adaptations_raw, elements (ordered local names of
      the message element's children), fields {local name: text} of every
      leaf (first occurrence)
    MM: mm (bytes: the MM body), mm_content_type (its Content-Type value),
      mm_headers (Headers of the MM part), mm_content_id
    outcome: problems [str] (what a picky MMSC would note), fatal (the
      reason it was refused, or None), reply (the Reply used), http_status
      (answered; None for a timeout/close), status_code (MM7 code
      answered), message_id (answered with 1xxx, else None)
    """

    def __init__(self):
        self.time = time.time()
        self.path = None
        self.http_headers = None
        self.auth_user = None
        self.body = b""
        self.content_type = None
        self.parts = []
        self.soap = None
        self.kind = None
        self.namespace = None
        self.transaction_id = None
        self.transaction_id_namespace = None
        self.mm7_version = None
        self.vaspid = None
        self.vasid = None
        self.sender_address = None
        self.sender_address_type = None
        self.recipients = []
        self.service_code = None
        self.linked_id = None
        self.message_class = None
        self.priority = None
        self.expiry_date = None
        self.time_stamp = None
        self.delivery_report = None
        self.delivery_report_raw = None
        self.read_reply = None
        self.read_reply_raw = None
        self.subject = None
        self.content_href = None
        self.allow_adaptations_raw = None
        self.elements = []
        self.fields = {}
        self.mm = None
        self.mm_content_type = None
        self.mm_headers = None
        self.mm_content_id = None
        self.problems = []
        self.fatal = None
        self.fatal_code = None
        self.reply = None
        self.http_status = None
        self.status_code = None
        self.message_id = None

    @property
    def to(self):
        return [a.value for a in self.recipients if a.field == "To"]

    @property
    def cc(self):
        return [a.value for a in self.recipients if a.field == "Cc"]

    @property
    def bcc(self):
        return [a.value for a in self.recipients if a.field == "Bcc"]

    @property
    def accepted(self):
        """True when answered with an MM7 1xxx status."""
        return self.status_code is not None and self.status_code // 1000 == 1

    @property
    def subject_text(self):
        """The subject with RFC 2047 encoded-words decoded (an MMSC shows
        them as they are: Mbuni passes them through)."""
        if self.subject is None:
            return None
        out = []
        for part, cs in email.header.decode_header(self.subject):
            out.append(part.decode(cs or "utf-8", "replace")
                       if isinstance(part, bytes) else part)
        return "".join(out)

    def mm_parsed(self):
        """mms.parse_mm() of the MM (MmsError when it cannot be split)."""
        return parse_mm(self.mm, self.mm_content_type)

    def check_mm(self, **limits):
        """mms.check_mm() of the MM: [] when fine; limits: max_size,
        max_width, max_height."""
        if self.mm is None:
            return ["no MM"]
        return check_mm(self.mm, self.mm_content_type or "", **limits)

    def __repr__(self):
        return ("Submission(%s tid=%r to=%r subject=%r mm=%s -> %s/%s%s)"
                % (self.kind, self.transaction_id, self.to, self.subject,
                   "%d bytes" % len(self.mm) if self.mm is not None
                   else None, self.http_status, self.status_code,
                   " FATAL %s" % self.fatal if self.fatal else ""))


def _bool(raw, personality, problems, name):
    """How the personality reads a boolean: Mbuni only knows true/false
    (any case); strict takes xsd:boolean (true/false/1/0) and notes
    anything else."""
    if raw is None:
        return None
    v = raw.strip()
    if personality == "mbuni":
        if v.lower() in ("true", "false"):
            return v.lower() == "true"
        problems.append("%s %r is not true/false: Mbuni ignores it"
                        % (name, raw))
        return None
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    problems.append("%s %r is not an xsd:boolean" % (name, raw))
    return None


def _check_order(children, order, where, problems):
    last, last_name = -1, None
    for n in children:
        if n not in order:
            problems.append("unknown element %s in %s" % (n, where))
            continue
        i = order.index(n)
        if i < last:
            problems.append("%s comes after %s in %s (schema order)"
                            % (n, last_name, where))
        else:
            last, last_name = i, n


def parse_mm7_request(body, content_type, personality="strict"):
    """Parse an MM7 request body as an MMSC does; returns a Submission
    with problems noted and .fatal set (with .fatal_code, an MM7 status)
    when it must be refused.  Used by MM7Peer; handy on its own."""
    s = Submission()
    s.body = body
    s.content_type = content_type
    strict = personality != "mbuni"
    main, params = parse_params(content_type or "")
    soap = body
    if main.startswith("multipart/"):
        if main != "multipart/related":
            s.problems.append("Content-Type is %s, not multipart/related"
                              % main)
        if (params.get("type") or "").lower() != "text/xml":
            s.problems.append('multipart/related has type=%r, not '
                              '"text/xml"' % params.get("type"))
        start = strip_cid(params.get("start"))
        if not start:
            s.problems.append("multipart/related has no start parameter")
        try:
            blobs = split_multipart(body, params.get("boundary"))
        except MmsError as e:
            s.fatal, s.fatal_code = "MIME: %s" % e, 2007
            return s
        s.parts = [split_head(b) for b in blobs]
        if not s.parts:
            s.fatal, s.fatal_code = "MIME: no parts", 2007
            return s
        soap_i = None
        if start:
            for i, (h, b) in enumerate(s.parts):
                if strip_cid(h.get("Content-ID")) == start:
                    soap_i = i
                    break
            if soap_i is None:
                s.problems.append("start <%s> names no part" % start)
        if soap_i is None:
            soap_i = 0
        elif soap_i != 0:
            s.problems.append("the SOAP part is not the first part")
        sh, soap = s.parts[soap_i]
        st, _ = parse_params(sh.get("Content-Type") or "")
        if st != "text/xml":
            s.problems.append("SOAP part is %r, not text/xml" % st)
    elif main not in ("text/xml", "application/xml"):
        s.problems.append("Content-Type %r is neither multipart/related "
                          "nor text/xml" % content_type)
    s.soap = soap
    try:
        root = ET.fromstring(soap.strip())
    except ET.ParseError as e:
        s.fatal, s.fatal_code = "XML: %s" % e, 2007
        return s
    if _local(root.tag) != "Envelope" or _nsof(root.tag) != SOAP_ENV:
        s.problems.append("root element is %s, not a SOAP 1.1 Envelope"
                          % root.tag)
    header = body_el = None
    for c in root:
        if _local(c.tag) == "Header":
            header = c
        elif _local(c.tag) == "Body":
            body_el = c
    if header is not None:
        for c in header.iter():
            if _local(c.tag) == "TransactionID":
                s.transaction_id = (c.text or "").strip()
                s.transaction_id_namespace = _nsof(c.tag)
                break
    if s.transaction_id is None:
        s.problems.append("no TransactionID in the SOAP Header")
    msg = None
    if body_el is not None:
        for c in body_el:
            msg = c
            break
    if msg is None:
        s.fatal, s.fatal_code = "no message element in the SOAP Body", 2007
        return s
    s.kind = _local(msg.tag)
    s.namespace = _nsof(msg.tag)
    if not s.namespace.startswith(NS_BASE):
        s.problems.append("namespace %r is not a 23.140 schema"
                          % s.namespace)
    if s.transaction_id_namespace is not None and \
            s.transaction_id_namespace != s.namespace:
        s.problems.append("TransactionID namespace %r differs from %r"
                          % (s.transaction_id_namespace, s.namespace))
    s.elements = [_local(c.tag) for c in msg]
    for e in msg.iter():
        if len(e) == 0 and e is not msg:
            s.fields.setdefault(_local(e.tag), e.text or "")

    def child(parent, name):
        for c in parent:
            if _local(c.tag) == name:
                return c
        return None

    def address(el, field):
        subs = [c for c in el if _local(c.tag) in ADDRESS_TAGS]
        if not subs:
            return [Address(field, None, (_text(el) or "").strip(), False)]
        return [Address(field, _local(c.tag), (c.text or "").strip(),
                        (c.get("displayOnly") or "").lower() == "true")
                for c in subs]

    def val(name):
        c = child(msg, name)
        return None if c is None else (c.text or "")

    s.mm7_version = val("MM7Version")
    sid = child(msg, "SenderIdentification")
    if sid is not None:
        s.vaspid = (_text(child(sid, "VASPID")) or None)
        s.vasid = (_text(child(sid, "VASID")) or None)
        sa = child(sid, "SenderAddress")
        if sa is not None:
            a = address(sa, "SenderAddress")[0]
            s.sender_address, s.sender_address_type = a.value, a.type
        if strict:
            _check_order([_local(c.tag) for c in sid], SENDER_ID_ORDER,
                         "SenderIdentification", s.problems)
    rc = child(msg, "Recipients")
    if rc is not None:
        for c in rc:
            f = _local(c.tag)
            if f in RCPT_ORDER:
                s.recipients.extend(address(c, f))
        if strict:
            _check_order([_local(c.tag) for c in rc], RCPT_ORDER,
                         "Recipients", s.problems)
    s.service_code = val("ServiceCode")
    s.linked_id = val("LinkedID")
    s.message_class = val("MessageClass")
    s.priority = val("Priority")
    s.expiry_date = val("ExpiryDate")
    s.time_stamp = val("TimeStamp")
    s.subject = val("Subject")
    s.delivery_report_raw = val("DeliveryReport")
    s.delivery_report = _bool(s.delivery_report_raw, personality,
                              s.problems, "DeliveryReport")
    s.read_reply_raw = val("ReadReply")
    s.read_reply = _bool(s.read_reply_raw, personality, s.problems,
                         "ReadReply")
    content = child(msg, "Content")
    if content is not None:
        s.content_href = content.get("href")
        s.allow_adaptations_raw = content.get("allowAdaptations")
        _bool(s.allow_adaptations_raw, personality, s.problems,
              "allowAdaptations")

    if s.kind == "DeliverReq":
        _find_mm(s, personality)
    if s.kind != "SubmitReq":
        return s
    if strict:
        _check_order(s.elements, SUBMIT_ORDER, "SubmitReq", s.problems)
        missing = [n for n in ("MM7Version", "SenderIdentification",
                               "Recipients") if n not in s.elements]
        if missing:
            s.problems.append("SubmitReq lacks %s" % ", ".join(missing))
        if not s.recipients:
            s.problems.append("SubmitReq has no recipient")
    _find_mm(s, personality)
    if strict:
        bad = [p for p in s.problems
               if "schema order" in p or "lacks" in p or "no recipient" in p
               or "xsd:boolean" in p or "unknown element" in p
               or "no part matches" in p]
        if bad and s.fatal is None:
            s.fatal, s.fatal_code = "; ".join(bad), 4004
    elif s.fatal is None and s.content_href and s.mm is None:
        s.fatal, s.fatal_code = "Content href matches no part", 4004
    return s


def _find_mm(s, personality):
    """Locate the MM part the Content href names, as the personality does:
    Mbuni takes the first part whose Content-ID (without <>) is a prefix of
    the href (after "cid:"), or whose raw Content-ID equals the href; strict
    wants an exact (URL-decoded) match.  Without a Content element Mbuni
    takes the first part that is not text/xml."""
    parts = s.parts[1:] if s.parts else []
    chosen = None
    if s.content_href is not None:
        href = s.content_href
        loc = href[4:] if href.lower().startswith("cid:") else href
        if not href.lower().startswith("cid:"):
            s.problems.append("Content href %r is not a cid: URL" % href)
        for h, b in s.parts:
            raw = h.get("Content-ID") or ""
            cid = strip_cid(raw) if raw else None
            if cid is None:
                continue
            if personality == "mbuni":
                if loc.startswith(cid) or raw == href:
                    chosen = (h, b)
                    if cid != loc:
                        s.problems.append(
                            "Content href %r matched part <%s> by prefix "
                            "only" % (href, cid))
                    break
            elif cid == urllib.parse.unquote(loc):
                chosen = (h, b)
                break
        if chosen is None:
            s.problems.append("no part matches Content href %r" % href)
    elif parts:
        if personality == "mbuni":
            for h, b in s.parts:
                t, _ = parse_params(h.get("Content-Type") or "")
                if t != "text/xml":
                    chosen = (h, b)
                    break
        s.problems.append("%s has no Content element" % s.kind)
    else:
        s.problems.append("%s carries no MM" % s.kind)
    if chosen is None:
        return
    h, b = chosen
    s.mm_headers = h
    s.mm_content_type = h.get("Content-Type")
    s.mm_content_id = strip_cid(h.get("Content-ID"))
    cte = (h.get("Content-Transfer-Encoding") or "").lower()
    if cte == "base64":
        try:
            b = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", b))
        except ValueError:
            s.problems.append("MM part has bad base64")
    elif cte == "quoted-printable":
        s.problems.append("MM part is quoted-printable")
    s.mm = b
    if s.mm_content_type is None:
        s.problems.append("MM part has no Content-Type")


# --- MM7 peer ----------------------------------------------------------------

class MM7Peer(_PeerBase):
    """An MMSC for pushmail to submit to, and to send reports/MOs from.

    MM7Peer(out_dir=None, personality="mbuni", user="pushmail",
            password="s3cret", namespace=None, version=None,
            relay_id="mmsc.test", vasp_short_code="5555",
            max_throughput=0, throughput_window=1.0,
            require_namespace=False, port=None, name="mm7peer")

    user=None accepts any request without credentials.  namespace/version
    default to the personality's.  max_throughput: SubmitReqs per
    throughput_window seconds (sliding) before HTTP 409 (0 = no limit).
    require_namespace: refuse (4002) a SubmitReq in another namespace.
    The log (every request and answer) goes to out_dir/name.log.
    """

    default_path = "/mm7"

    def __init__(self, out_dir=None, personality="mbuni", user="pushmail",
                 password="s3cret", namespace=None, version=None,
                 relay_id="mmsc.test", vasp_short_code="5555",
                 max_throughput=0, throughput_window=1.0,
                 require_namespace=False, port=None, name="mm7peer"):
        if personality not in PERSONALITIES:
            raise ValueError("personality must be one of %s"
                             % sorted(PERSONALITIES))
        super().__init__(out_dir, name, port)
        p = PERSONALITIES[personality]
        self.personality = personality
        self.user = user
        self.password = password
        self.namespace = namespace or p["namespace"]
        self.version = version or p["version"]
        self.fault_http = p["fault_http"]
        self.relay_id = relay_id
        self.vasp_short_code = vasp_short_code
        self.max_throughput = max_throughput
        self.throughput_window = throughput_window
        self.require_namespace = require_namespace
        self.server_header = "Kannel/1.4.5" if personality == "mbuni" \
            else "MMSC-strict/1.0"
        self._subs = []
        self._recent = collections.deque()
        self.throttled_count = 0
        self.unauthorized_count = 0

    # --- records -----------------------------------------------------------
    def submissions(self, accepted=False):
        """Every SubmitReq (parsed) so far, oldest first; accepted=True:
        only those answered with a 1xxx status."""
        with self._cond:
            return [s for s in self._subs if not accepted or s.accepted]

    def wait_submissions(self, n, timeout=15, accepted=False):
        """Wait until at least n submissions (accepted ones if asked) are
        recorded; return them all.  TimeoutError otherwise."""
        return self._wait(self._subs, n, timeout, "submissions",
                          (lambda s: s.accepted) if accepted else None)

    def find(self, message_id):
        """The submission answered with this MessageID, or None."""
        with self._cond:
            for s in self._subs:
                if s.message_id == message_id:
                    return s
        return None

    def set_max_throughput(self, n, window=None):
        with self._cond:
            self.max_throughput = n
            if window is not None:
                self.throughput_window = window
            self._recent.clear()

    def new_message_id(self):
        """A fresh MessageID in this personality's form."""
        n = next(_ids)
        if self.personality == "mbuni":
            return "qf%s%04d.%d.x%d.%d@%s" % (
                "pm", n, int(time.time()) % 10000, os.getpid() % 100,
                random.randrange(100), self.relay_id)
        return "%012d" % (41502070000 + n)

    # --- server side ---------------------------------------------------------
    def _throttled(self):
        if not self.max_throughput or self.max_throughput <= 0:
            return False
        now = time.monotonic()
        with self._cond:
            while self._recent and \
                    self._recent[0] <= now - self.throughput_window:
                self._recent.popleft()
            if len(self._recent) >= self.max_throughput * \
                    self.throughput_window:
                return True
            self._recent.append(now)
            return False

    def handle(self, h, req):
        if self.user is not None:
            cred = _auth_user(h.headers)
            if cred != (self.user, self.password):
                with self._cond:
                    self.unauthorized_count += 1
                self._log("401 for %s (credentials %s)" % (
                    req.path, "missing" if cred is None else "wrong"))
                realm = "Mbuni" if self.personality == "mbuni" else "MMSC"
                self._send(h, req, 401, b"", "text/plain",
                           [("WWW-Authenticate", 'Basic realm="%s"' % realm)])
                return
        if self._throttled():
            with self._cond:
                self.throttled_count += 1
            self._log("409: over %s per %.1fs" % (self.max_throughput,
                                                  self.throughput_window))
            self._send(h, req, 409, THROTTLE_TEXT)
            return
        if req.method != "POST" and self.personality == "strict":
            self._send(h, req, 405, b"POST only", "text/plain",
                       [("Allow", "POST")])
            return
        s = parse_mm7_request(req.body, h.headers.get("Content-Type"),
                              self.personality)
        s.path = req.path
        s.http_headers = h.headers
        cred = _auth_user(h.headers)
        s.auth_user = cred[0] if cred else None
        if h.headers.get("SOAPAction") is None:
            s.problems.append("no SOAPAction header")
        if s.fatal is None and s.kind is not None and \
                s.kind != "SubmitReq":
            s.fatal, s.fatal_code = "unsupported operation %s" % s.kind, 4003
        if s.fatal is None and self.require_namespace and \
                s.namespace != self.namespace:
            s.fatal, s.fatal_code = ("namespace %s, want %s"
                                     % (s.namespace, self.namespace)), 4002
        if s.fatal is not None:
            reply = Reply.status(s.fatal_code, details=s.fatal[:200])
        else:
            reply = self._next_reply() or Reply.ok()
        plan = self._plan(reply, lambda r: self._render(r, s))
        s.reply = reply
        s.http_status = plan[1][0] if plan[1] else None
        self._log("%s tid=%s to=%s -> %s %s%s%s" % (
            s.kind, s.transaction_id, s.to, reply, s.http_status,
            " FATAL: %s" % s.fatal if s.fatal else "",
            " problems: %s" % s.problems if s.problems else ""))
        self._record(self._subs, s)
        self._execute(h, req, plan)

    def _render(self, reply, s):
        """(status, ctype, body, headers) for a status reply to s; sets
        s.status_code and s.message_id."""
        style = reply.style or self.personality
        ns = reply.namespace or self.namespace
        code = reply.code
        ok = code // 1000 == 1
        fault = reply.fault if reply.fault is not None else not ok
        mid = reply.message_id
        if ok and mid is None:
            mid = self.new_message_id()
        tid = s.transaction_id if s.transaction_id is not None else \
            ("0000" if style == "mbuni" else "")
        body = build_status_rsp(style, ns, self.version, tid, code,
                                reply.text, reply.details,
                                mid if ok else None, fault)
        s.status_code = code
        s.message_id = mid if ok else None
        status = reply.http_status or (self.fault_http if fault else 200)
        ctype = "text/xml" if style == "mbuni" else 'text/xml; charset="utf-8"'
        return status, ctype, body, [("SOAPAction", '""')]

    # --- client side (the MMSC calling pushmail) -----------------------------
    def _style(self, style):
        return style or self.personality

    def _post(self, url, user, password, ctype, body, timeout, headers):
        h = [("Content-Type", ctype), ("SOAPAction", '""'),
             ("User-Agent", USER_AGENT)] + list(headers or ())
        auth = (user, password) if user is not None else None
        st, _, data = http_request(url, "POST", h, body, timeout, auth)
        self._log("POST %s -> %s %s" % (url.split("@")[-1], st,
                                        data[:200]))
        return _result(st, data)

    def send_delivery_report(self, url, user, password, message_id,
                             recipient, status="Retrieved", sender=None,
                             status_text=None, date=None,
                             transaction_id=None, style=None,
                             namespace=None, version=None, timeout=10,
                             headers=None):
        """POST a DeliveryReportReq to pushmail (text/xml).  recipient is
        the handset the MM went to; sender defaults to the SenderAddress of
        the submission answered with message_id, else vasp_short_code.
        Mbuni style swaps them on the wire.  Returns MM7Result."""
        style = self._style(style)
        if sender is None:
            s = self.find(message_id)
            sender = s.sender_address if s and s.sender_address else \
                self.vasp_short_code
        tid = transaction_id or "mmsc-dlr-%d" % next(_ids)
        doc = build_delivery_report_req(
            style, namespace or self.namespace, version or self.version, tid,
            message_id, recipient, sender, status, status_text, date,
            self.relay_id)
        ctype = "text/xml" if style == "mbuni" else 'text/xml; charset="utf-8"'
        return self._post(url, user, password, ctype, doc, timeout, headers)

    def send_deliver(self, url, user, password, sender, recipients, subject,
                     mm_content_type, mm_bytes, linked_id=None,
                     transaction_id=None, priority="Normal", date=None,
                     style=None, namespace=None, version=None, soap=None,
                     raw_body=None, raw_content_type=None, timeout=10,
                     headers=None):
        """POST a DeliverReq (an MO MM) to pushmail as multipart/related:
        the SOAP part, then the MM (mm_content_type + mm_bytes, the MM's
        body, sent as given).  recipients: str or list.  Mbuni style does
        not escape the subject.  soap= replaces the SOAP text (bytes/str),
        raw_body= (+ raw_content_type) the whole HTTP body.  Returns
        MM7Result."""
        style = self._style(style)
        if isinstance(recipients, str):
            recipients = [recipients]
        if isinstance(mm_bytes, str):
            mm_bytes = mm_bytes.encode("utf-8")
        n = next(_ids)
        if style == "mbuni":
            tag = "%d.%d.%s%s.msg" % (time.time(), random.randrange(1 << 30),
                                      random.choice("ABCDEFGHIJ"),
                                      random.choice("abcdefghij"))
            soap_cid, mm_cid = "s" + tag, "c" + tag
            boundary = "mbuni_bd_%d_%d" % (n, random.randrange(1 << 30))
            soap_type = "text/xml"
        else:
            soap_cid = "soap-start-%d@%s" % (n, self.relay_id)
            mm_cid = "mo-content-%d@%s" % (n, self.relay_id)
            boundary = "mmsc-mo-outer-%d-%d" % (n, random.randrange(1 << 30))
            soap_type = 'text/xml; charset="utf-8"'
        tid = transaction_id or "mmsc-mo-%d" % n
        if soap is None:
            soap = build_deliver_req(
                style, namespace or self.namespace, version or self.version,
                tid, sender, recipients, subject, "cid:" + mm_cid, linked_id,
                self.relay_id, priority, date)
        elif isinstance(soap, str):
            soap = soap.encode("utf-8")
        if raw_body is not None:
            body = raw_body.encode("utf-8") if isinstance(raw_body, str) \
                else raw_body
            ctype = raw_content_type or "text/xml"
        else:
            ctype, body = multipart_related(soap, soap_cid, mm_content_type,
                                            mm_bytes, mm_cid, boundary,
                                            soap_type)
        return self._post(url, user, password, ctype, body, timeout, headers)

    def send_raw(self, url, body, content_type="text/xml", auth=None,
                 headers=(), method="POST", timeout=10):
        """See the module function send_raw(); logged here."""
        r = send_raw(url, body, content_type, auth, headers, method, timeout)
        self._log("raw %s %s -> %s" % (method, url, r.http_status))
        return r


# --- mmsbox ------------------------------------------------------------------

class MmsboxSubmission:
    """One sendmms request as mmsbox saw it.

    time, method, path, http_headers, params [(name, str)] (query first,
    then form), username, to [str] (split on blanks), from_, subject,
    dlr_url, rr_url, mmsc, vasid, servicecode, mclass, priority,
    content_source ("text"/"smil"/"content"/"body"/None), content (bytes),
    content_type, transaction_id (the id answered "Accepted: <id>", else
    None), error (the text Mbuni would answer instead, or None), problems,
    reply, http_status, answer (body sent)."""

    def __init__(self):
        self.time = time.time()
        self.method = self.path = self.http_headers = None
        self.params = []
        self.username = None
        self.to = []
        self.from_ = self.subject = self.dlr_url = self.rr_url = None
        self.mmsc = self.vasid = self.servicecode = None
        self.mclass = self.priority = None
        self.content_source = None
        self.content = None
        self.content_type = None
        self.transaction_id = None
        self.error = None
        self.problems = []
        self.reply = None
        self.http_status = None
        self.answer = None

    @property
    def accepted(self):
        return self.transaction_id is not None

    def param(self, name):
        for k, v in self.params:
            if k == name:
                return v
        return None

    def __repr__(self):
        return "MmsboxSubmission(to=%r from=%r subject=%r %s -> %s %r)" % (
            self.to, self.from_, self.subject, self.content_type,
            self.http_status, self.answer)


def _form_fields(body, boundary):
    """[(name, bytes, content type or None, filename or None)] of a
    multipart/form-data body."""
    out = []
    for blob in split_multipart(body, boundary):
        h, b = split_head(blob)
        _, p = parse_params("x; " + (h.get("Content-Disposition") or "")
                            .split(";", 1)[-1])
        out.append((p.get("name"), b, h.get("Content-Type"),
                    p.get("filename")))
    return out


class MmsboxPeer(_PeerBase):
    """Mbuni mmsbox's sendmms interface (pushmail's mmsc type "mmsbox").

    MmsboxPeer(out_dir=None, user="pushmail", password="s3cret",
               faked_sender=None, mmsc_id="mmsc", port=None,
               name="mmsbox")

    url: http://127.0.0.1:PORT/cgi-bin/sendmms (any path is served).
    Scriptable with Reply: ok() (Accepted; message_id= forces the id),
    http(), mmsbox_error(), timeout(), delay(), close(), raw().
    """

    default_path = "/cgi-bin/sendmms"
    server_header = "Kannel/1.4.5"

    def __init__(self, out_dir=None, user="pushmail", password="s3cret",
                 faked_sender=None, mmsc_id="mmsc", port=None,
                 name="mmsbox"):
        super().__init__(out_dir, name, port)
        self.user = user
        self.password = password
        self.faked_sender = faked_sender
        self.mmsc_id = mmsc_id
        self._subs = []

    def submissions(self, accepted=False):
        with self._cond:
            return [s for s in self._subs if not accepted or s.accepted]

    def wait_submissions(self, n, timeout=15, accepted=False):
        return self._wait(self._subs, n, timeout, "submissions",
                          (lambda s: s.accepted) if accepted else None)

    def find(self, transaction_id):
        with self._cond:
            for s in self._subs:
                if s.transaction_id == transaction_id:
                    return s
        return None

    @staticmethod
    def new_transaction_id():
        """An id like mms_maketransid(): Mbuni-msg.<t>.x<n>.<pid>.<rand>."""
        return "Mbuni-msg.%d.x%d.%d.%d" % (
            int(time.time()) % 10000, next(_ids) % 1000, os.getpid() % 100,
            random.randrange(100))

    def handle(self, h, req):
        s = MmsboxSubmission()
        s.method, s.path, s.http_headers = req.method, req.path, h.headers
        u = urllib.parse.urlsplit(req.path)
        params = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        form = {}
        main, cp = parse_params(h.headers.get("Content-Type") or "")
        raw_body = False
        if req.body:
            if main == "application/x-www-form-urlencoded":
                params += urllib.parse.parse_qsl(
                    req.body.decode("utf-8", "replace"),
                    keep_blank_values=True)
            elif main == "multipart/form-data":
                try:
                    for name, b, ct, fn in _form_fields(req.body,
                                                        cp.get("boundary")):
                        if name:
                            params.append((name,
                                           b.decode("utf-8", "replace")))
                            form.setdefault(name, (b, ct))
                except MmsError as e:
                    s.problems.append("form-data: %s" % e)
            else:
                raw_body = True
        s.params = params

        def var(name, strip=False):
            for k, v in params:
                if k == name:
                    return v.strip() if strip else v
            return None

        s.username = var("username", True)
        if self.user is not None and (s.username != self.user or
                                      var("password", True) !=
                                      self.password):
            self._log("401 sendmms user %r" % s.username)
            self._send(h, req, 401, b"Authentication failed")
            return
        s.to = (var("to") or "").split()
        s.from_ = var("from")
        s.subject = var("subject")
        s.dlr_url = var("dlr-url")
        s.rr_url = var("rr-url")
        s.mmsc = var("mmsc")
        s.vasid = var("vasid")
        s.servicecode = var("servicecode")
        s.mclass = var("mclass")
        s.priority = var("priority")
        err = None
        if var("text") is not None:
            s.content_source = "text"
            s.content = form.get("text", (var("text").encode("utf-8"),))[0]
            cs = var("charset")
            s.content_type = "text/plain" + ("; charset=%s" % cs if cs
                                             else "")
        elif var("smil") is not None:
            s.content_source = "smil"
            s.content = form.get("smil", (var("smil").encode("utf-8"),))[0]
            s.content_type = "application/smil"
        elif var("content-url") is not None:
            s.content_source = "content-url"
            err = "failed to fetch content from url [%s]!" % \
                var("content-url")
            s.problems.append("content-url is not fetched by this peer")
        elif var("content") is not None:
            s.content_source = "content"
            b, ct = form.get("content", (var("content").encode("utf-8"),
                                         None))
            s.content = b
            s.content_type = var("content_type") or ct or \
                "application/octet-stream"
        elif raw_body:
            s.content_source = "body"
            s.content = req.body
            s.content_type = h.headers.get("Content-Type")
        else:
            err = "Missing content"
        if var("to") is None:
            err = "Missing recipient!"
        if s.from_ is None and not self.faked_sender:
            err = "Missing Sender address"
        if err is None and not (s.content_type and s.content is not None):
            err = "Failed to send message"
        if err is None and (s.content_type or "").lower().startswith(
                "multipart/"):
            try:
                parse_mm(s.content, s.content_type)
            except MmsError as e:
                s.error = "Error in message conversion: %s" % e
                s.reply = Reply.mmsbox_error(str(e))
        if err is not None:
            s.error = err
            s.reply = Reply.http(200, err)
        if s.reply is None:
            s.reply = self._next_reply() or Reply.ok()

        def render(r):
            if r.kind == "status" and r.code // 1000 == 1:
                s.transaction_id = r.message_id or self.new_transaction_id()
                return 200, None, ("Accepted: %s" % s.transaction_id
                                   ).encode(), ()
            return 400, None, b"Error in message conversion: refused", ()
        plan = self._plan(s.reply, render)
        s.http_status = plan[1][0] if plan[1] else None
        s.answer = plan[1][2] if plan[1] else None
        self._log("sendmms to=%s from=%s subject=%r %s -> %s %r" % (
            s.to, s.from_, s.subject, s.content_type, s.http_status,
            s.answer))
        self._record(self._subs, s)
        self._execute(h, req, plan)

    # --- client side: what mmsbox sends to pushmail --------------------------
    def send_dlr(self, dlr_url, transaction_id, status="Retrieved",
                 message_id=None, from_=None, report_type="delivery-report",
                 extra_headers=(), timeout=10):
        """GET the dlr-url (exactly as given) with Mbuni's report headers.
        Returns (http_status, body)."""
        return send_dlr(dlr_url, transaction_id, status, message_id, from_,
                        report_type, self.mmsc_id, extra_headers, timeout,
                        log=self._log)

    def send_dlr_for(self, sub, status="Retrieved", message_id=None,
                     **kw):
        """send_dlr() for a recorded MmsboxSubmission: its dlr-url, its
        transaction id, X-Mbuni-From = its first recipient."""
        if not sub.dlr_url:
            raise ValueError("submission has no dlr-url")
        kw.setdefault("from_", sub.to[0] if sub.to else None)
        return self.send_dlr(sub.dlr_url, sub.transaction_id, status,
                             message_id or "%s@%s" % (sub.transaction_id,
                                                      self.mmsc_id), **kw)

    def post_mo(self, url, from_, to, subject, mm_content_type, mm_bytes,
                **kw):
        """See the module function post_mo(); mmsc_id is this peer's."""
        kw.setdefault("mmsc_id", self.mmsc_id)
        kw.setdefault("log", self._log)
        return post_mo(url, from_, to, subject, mm_content_type, mm_bytes,
                       **kw)


def send_dlr(dlr_url, transaction_id, status="Retrieved", message_id=None,
             from_=None, report_type="delivery-report", mmsc_id="mmsc",
             extra_headers=(), timeout=10, log=None):
    """mmsbox's DLR: GET dlr_url with X-Mbuni-Report-Type, -MM-Status,
    -MMSC-ID, -From (if given), -TransactionID (if given), -Message-ID (if
    given), plus extra_headers.  Returns (http_status, body)."""
    h = [("User-Agent", USER_AGENT), ("X-Mbuni-Report-Type", report_type),
         ("X-Mbuni-MM-Status", status), ("X-Mbuni-MMSC-ID", mmsc_id)]
    if from_:
        h.append(("X-Mbuni-From", from_))
    if transaction_id:
        h.append(("X-Mbuni-TransactionID", transaction_id))
    if message_id:
        h.append(("X-Mbuni-Message-ID", message_id))
    h += list(extra_headers)
    st, _, body = http_request(dlr_url, "GET", h, None, timeout)
    if log:
        log("DLR GET %s %s -> %s" % (dlr_url.split("@")[-1], status, st))
    return st, body


DEFAULT_MO_PARAMS = "smil=%s&text=%t&image=%i&audio=%a&video=%v&other=%o"
_MO_KINDS = {"%i": "image/", "%a": "audio/", "%v": "video/", "%t": "text/",
             "%s": "application/smil"}


def _mo_matches(kind, mime_type):
    if kind == "%z":
        return True
    if kind == "%o":
        return not any(mime_type.startswith(p) for p in
                       ("text/", "video/", "image/", "application/smil"))
    return mime_type.startswith(_MO_KINDS[kind])


def post_mo(url, from_, to, subject, mm_content_type, mm_bytes,
            params=DEFAULT_MO_PARAMS, message_id=None, transaction_id=None,
            mmsc_id="mmsc", linked_id=None, keyword=None, timeout=10,
            extra_headers=(), log=None):
    """mmsbox's mms-service post-url: POST multipart/form-data to url.
    params is http-post-parameters: name=%i (images), %t text, %s SMIL,
    %a audio, %v video, %o other, %z all parts, %k keyword, or a literal
    value; one form field per matching MM part (decoded data, its
    Content-Type without name=, filename from Content-Location or name=).
    Headers: X-Mbuni-Message-ID, -MMSC-ID, -LinkedID, -From, -Subject
    (raw UTF-8), -TransactionID, one -To per recipient, -Received-Date.
    to: str or list.  Returns (http_status, body)."""
    if isinstance(to, str):
        to = [to]
    if isinstance(mm_bytes, str):
        mm_bytes = mm_bytes.encode("utf-8")
    mm = parse_mm(mm_bytes, mm_content_type)
    leaves = mm.leaves()
    n = next(_ids)
    message_id = message_id or "mmsbox-mo-%d@%s" % (n, mmsc_id)
    transaction_id = transaction_id or MmsboxPeer.new_transaction_id()
    fields = []
    for item in params.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        if value == "%b":
            raise ValueError("%b (binary MMS) is not supported here")
        if value == "%k":
            fields.append((name, (keyword or "").encode("utf-8"),
                           "text/plain", None))
        elif value in _MO_KINDS or value in ("%z", "%o"):
            for i, p in enumerate(leaves):
                if not _mo_matches(value, p.mime_type):
                    continue
                ct = p.content_type
                fn = None
                main = ct.split(";", 1)[0].strip()
                extra = {k: v for k, v in p.params.items() if k != "name"}
                if p.content_location or "name" in p.params or extra:
                    fn = p.content_location or p.params.get("name") or \
                        "part-1-%d" % i
                    ct = main + "".join(
                        "; %s=%s" % (k, v if re.fullmatch(r"[\w.+-]+", v)
                                     else '"%s"' % v)
                        for k, v in extra.items())
                fields.append((name, p.data, ct, fn))
        else:
            fields.append((name, value.replace("%%", "%").encode("utf-8"),
                           None, None))
    boundary = "mbuni-form-%d-%d" % (n, random.randrange(1 << 30))
    chunks = []
    for name, data, ct, fn in fields:
        cd = 'form-data; name="%s"' % name
        if fn:
            cd += '; filename="%s"' % fn
        head = "--%s\r\nContent-Disposition: %s\r\n" % (boundary, cd)
        if ct:
            head += "Content-Type: %s\r\n" % ct
        chunks.append(head.encode("utf-8") + b"\r\n" + data + b"\r\n")
    body = b"".join(chunks) + ("--%s--\r\n" % boundary).encode()
    h = [("User-Agent", USER_AGENT),
         ("Content-Type", "multipart/form-data; boundary=%s" % boundary),
         ("X-Mbuni-Message-ID", message_id), ("X-Mbuni-MMSC-ID", mmsc_id)]
    if linked_id:
        h.append(("X-Mbuni-LinkedID", linked_id))
    h.append(("X-Mbuni-From", from_))
    if subject is not None:
        h.append(("X-Mbuni-Subject", subject.encode("utf-8")
                  if isinstance(subject, str) else subject))
    h.append(("X-Mbuni-TransactionID", transaction_id))
    for r in to:
        h.append(("X-Mbuni-To", r))
    h.append(("X-Mbuni-Received-Date",
              email.utils.formatdate(usegmt=True)))
    h += list(extra_headers)
    st, _, data = http_request(url, "POST", h, body, timeout)
    if log:
        log("MO POST %s from=%s to=%s -> %s" % (url.split("@")[-1], from_,
                                                 to, st))
    return st, data
