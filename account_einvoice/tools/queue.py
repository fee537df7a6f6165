from odoo.tools import SQL


def lock_next(model, domain, limit):
    """Up to ``limit`` records of ``model`` matching ``domain``, oldest first, locked for this transaction: workers
    running the same queue at once each take other rows (SKIP LOCKED), so no record is handled twice."""
    model.env.flush_all()
    query = model._search(domain, order="id", limit=limit, bypass_access=True)
    locked = SQL("%s FOR UPDATE OF %s SKIP LOCKED", query.select(), SQL.identifier(model._table))
    return model.browse(row[0] for row in model.env.execute_query(locked))
