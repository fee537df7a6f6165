def notification(message, *, kind="success", title=None, sticky=False, reload=False):
    """The client action that shows ``message`` to the person who clicked (``kind``: success, warning, danger,
    info); ``reload`` refreshes the view behind it, for a button whose effect shows on the record."""
    params = {"type": kind, "message": message, "sticky": sticky}
    if title:
        params["title"] = title
    if reload:
        params["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
