"""test_resilience.py - peers going away: pushmailbox killed, bearerbox and
Dovecot restarted, MO while pushmailbox is down.  Each test has private
peers (they restart them)."""

import time

from flowlib import Env
from pmtest import proc


def _setup(t, **settings):
    env = Env(t)
    settings.setdefault("coalesce_window", 0)
    pm = env.pushmail(**settings)
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    return env, pm, user, phone


def _count(env, phone, subject):
    return len([m for m in env.to(phone) if subject in m.text
                and m.text.startswith("Mail")])


def test_kill9_restart_no_loss_no_duplicate(t):
    env, pm, user, phone = _setup(t)
    env.deliver(user, subject="Before kill")
    env.prompt(phone, "Before kill")
    pm.kill9()
    env.deliver(user, subject="While dead")
    pm.start()
    env.prompt(phone, "While dead", timeout=30)
    env.deliver(user, subject="After restart")
    env.prompt(phone, "After restart")
    time.sleep(6)
    for s in ("Before kill", "While dead", "After restart"):
        assert _count(env, phone, s) == 1, \
            "%r prompted %d times: %r" % (s, _count(env, phone, s),
                                         env.to(phone))


def test_kill9_right_after_delivery(t):
    """kill -9 while a prompt may be half-way: exactly one prompt."""
    env, pm, user, phone = _setup(t)
    for i in range(3):
        subject = "Racing %d" % i
        env.deliver(user, subject=subject)
        time.sleep(0.2 * i)
        pm.kill9()
        pm.start()
        env.prompt(phone, subject, timeout=30)
    time.sleep(6)
    for i in range(3):
        c = _count(env, phone, "Racing %d" % i)
        assert c == 1, "Racing %d prompted %d times: %r" % (i, c,
                                                            env.to(phone))


def test_mo_while_pushmailbox_down(t):
    """bearerbox keeps the MO for our box id; nothing acked is lost."""
    env, pm, user, phone = _setup(t)
    env.deliver(user, subject="Queued GET", body="queued body")
    _, n = env.prompt(phone, "Queued GET")
    pm.stop()
    start = env.mark()
    env.mo(phone, "GET %d" % n)
    time.sleep(1)
    pm.start()
    env.expect(phone, "queued body", start=start, timeout=30)
    time.sleep(3)
    assert len([m for m in env.to(phone, start)
                if "queued body" in m.text]) == 1


def test_bearerbox_restart(t):
    env, pm, user, phone = _setup(t)
    env.deliver(user, subject="Before bb restart")
    env.prompt(phone, "Before bb restart")
    env.bb.restart()
    proc.wait_until(env.bb.box_connected, 60, interval=0.3,
                    what="pushmailbox to reconnect to bearerbox")
    env.deliver(user, subject="After bb restart")
    env.prompt(phone, "After bb restart", timeout=30)
    # mail arriving while bearerbox is down is prompted once it is back
    env.bb.stop()
    time.sleep(1)
    env.deliver(user, subject="During bb outage")
    time.sleep(3)
    env.bb.start()
    env.prompt(phone, "During bb outage", timeout=60)
    start = env.mark()
    env.mo(phone, "HELP")
    env.expect(phone, "Commands:", start=start, timeout=30)
    time.sleep(5)
    for s in ("Before bb restart", "After bb restart", "During bb outage"):
        assert _count(env, phone, s) == 1, (s, env.to(phone))
    assert pm.running()


def test_dovecot_restart(t):
    env, pm, user, phone = _setup(t)
    env.deliver(user, subject="Before Dovecot restart")
    env.prompt(phone, "Before Dovecot restart")
    before = env.logins(user)
    env.dovecot.restart(down_seconds=2)
    proc.wait_until(lambda: env.logins(user) > before, 90, interval=0.5,
                    what="pushmailbox to log in again")
    time.sleep(2)
    env.deliver(user, subject="After Dovecot restart")
    env.prompt(phone, "After Dovecot restart", timeout=30)
    time.sleep(3)
    assert _count(env, phone, "Before Dovecot restart") == 1
    assert pm.running()
