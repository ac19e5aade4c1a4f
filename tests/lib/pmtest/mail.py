"""mail.py - build test messages (RFC 5322 bytes)."""

import email.utils
import itertools
import time

_seq = itertools.count(1)


def message(subject="Lunch tomorrow?", body="Shall we meet at noon?",
            from_name="Ann Lee", from_addr="ann.lee@example.org",
            to="user@example.com", extra_headers=None, content_type=None):
    n = next(_seq)
    hdr = [
        "From: %s" % email.utils.formataddr((from_name, from_addr)),
        "To: %s" % to,
        "Subject: %s" % subject,
        "Date: %s" % email.utils.formatdate(time.time(), localtime=True),
        "Message-ID: <pmtest-%d-%d@example.org>" % (n, int(time.time() * 1e6)),
        "MIME-Version: 1.0",
        "Content-Type: %s" % (content_type or "text/plain; charset=utf-8"),
        "Content-Transfer-Encoding: 8bit",
    ]
    for h in extra_headers or []:
        hdr.append(h)
    return ("\r\n".join(hdr) + "\r\n\r\n"
            + body.replace("\r\n", "\n").replace("\n", "\r\n")
            + "\r\n").encode("utf-8")
