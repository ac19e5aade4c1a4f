"""test_mysql.py - the same flow with db-type = mysql on a private MariaDB."""

import time

from flowlib import Env, Peers


def setup_module(m):
    return Peers(m, with_mariadb=True)


def test_mysql_flow(t):
    env = Env(t, t.mod)
    pm = env.pushmail(mysql=True)
    assert 'db-type = "mysql"' in open(pm.conf).read()
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    start = env.mark()
    env.deliver(user, subject="Stored in MariaDB", body="mysql body")
    _, n = env.prompt(phone, "Stored in MariaDB", start=start)
    assert n == 1, n
    s2 = env.mark()
    env.mo(phone, "GET 1")
    env.expect(phone, "mysql body", start=s2)
    s2 = env.mark()
    env.mo(phone, "LIST")
    env.expect(phone, "Stored in MariaDB", start=s2)
    # the state really lives in MariaDB, and the password is encrypted
    db = env.peers.mariadb
    d = pm.mariadb.dsn()
    cp = db.sql("SHOW TABLES", database=d["database"])
    assert cp.stdout.strip(), "no tables in %s" % d["database"]
    dump = ""
    for table in cp.stdout.split():
        dump += db.sql("SELECT * FROM `%s`" % table,
                       database=d["database"]).stdout
    assert phone in dump, "binding not in MariaDB"
    assert pw not in dump, "mailbox password stored in clear"
    # a restart keeps everything: no new prompt, the index goes on
    pm.stop()
    pm.start()
    time.sleep(3)
    start = env.mark()
    env.deliver(user, subject="Second in MariaDB")
    _, n = env.prompt(phone, "Second in MariaDB", start=start)
    assert n == 2, n
    assert not [m for m in env.to(phone, start) if "Stored in" in m.text]


def test_mysql_database_down_then_up(t):
    """MariaDB restarts under a running pushmailbox: it keeps serving."""
    env = Env(t, t.mod)
    pm = env.pushmail(mysql=True, coalesce_window=0)
    user, pw = env.user()
    phone = env.msisdn()
    env.bind(pm, phone, user, pw)
    db = env.peers.mariadb
    db.restart()
    time.sleep(2)
    start = env.mark()
    env.deliver(user, subject="After DB restart", body="db back")
    _, n = env.prompt(phone, "After DB restart", start=start, timeout=40)
    s2 = env.mark()
    env.mo(phone, "GET %d" % n)
    env.expect(phone, "db back", start=s2, timeout=30)
