"""The sandbox: the platforms' simulators served by this Odoo server itself, so that every click path (connecting,
verifying, sending, receiving) can be tried without credentials and without the real platforms.

A simulator is started in the server process the first time a sandbox connection needs it and serves on the local
machine until the server stops; what it holds (tokens, invoices) lives as long as the process. It is meant for a
server run with threads (``odoo-bin --workers=0``, as ``make demo`` runs it): each worker of a multi-process server
would hold a sandbox of its own.
"""

import threading

_RUNNING = {}
_LOCK = threading.Lock()


def sandbox(name, factory):
    """The simulator ``name`` of this server process, made by ``factory()`` and started on first use."""
    with _LOCK:
        simulator = _RUNNING.get(name)
        if simulator is None:
            simulator = _RUNNING[name] = factory().start()
        return simulator
