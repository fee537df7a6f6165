class TupleTimeouts:
    """Odoo's guard of outgoing requests in tests compares the timeout with a number; ours is (connect, read)."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)
