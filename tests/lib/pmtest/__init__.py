"""pmtest - the pushmail integration test harness (Python 3, stdlib only).

Every peer (Dovecot, bearerbox, fakesmsc, MariaDB, pushmailbox) is started
on loopback ports of its own, with its logs in the test's output folder,
and stopped by PID: only what the harness started is ever stopped.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


class Skip(Exception):
    """Raised by a test that cannot run here; never counted as passed."""
