class TupleTimeouts:
    """Odoo's guard of outgoing requests in tests compares the timeout with a number; ours is (connect, read)."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)


def invoice_screens(env):
    """Everything a person sees of customer invoices and of the settings: the invoice form, list and search view and
    the settings form as the browser receives them (``get_views``), and the invoice list's Action menu, as text."""
    move_views = env["account.move"].get_views(
        [
            (env.ref("account.view_move_form").id, "form"),
            (env.ref("account.view_out_invoice_tree").id, "list"),
            (env.ref("account.view_account_invoice_filter").id, "search"),
        ],
        {"toolbar": True},
    )
    settings = env["res.config.settings"].get_views([(False, "form")])
    archs = [view["arch"] for view in (*move_views["views"].values(), *settings["views"].values())]
    actions = [action["name"] for action in move_views["views"]["list"]["toolbar"].get("action", [])]
    return "\n".join([*archs, *actions])
