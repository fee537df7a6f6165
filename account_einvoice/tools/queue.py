import psycopg2

from odoo.tools import SQL


def lock_next(model, domain, limit):
    """Up to ``limit`` records of ``model`` matching ``domain``, oldest first, locked for this transaction: workers
    running the same queue at once each take other rows (SKIP LOCKED), so no record is handled twice.

    A row another worker changed since this transaction began cannot be locked under Odoo's repeatable-read
    transactions (a serialization failure, as Odoo's own scheduler meets it in ``ir.cron``): the queue moved under
    this run, which then takes nothing and leaves the rows to the next one."""
    model.env.flush_all()
    query = model._search(domain, order="id", limit=limit, bypass_access=True)
    locked = SQL("%s FOR UPDATE OF %s SKIP LOCKED", query.select(), SQL.identifier(model._table))
    try:
        with model.env.cr.savepoint(flush=False):
            model.env.cr.execute(locked, log_exceptions=False)
            ids = [row[0] for row in model.env.cr.fetchall()]
    except psycopg2.errors.SerializationFailure:
        return model.browse()
    return model.browse(ids)
