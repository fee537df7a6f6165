from markupsafe import Markup, escape

from odoo import http
from odoo.http import request

from einvoice.errors import EInvoiceError

CALLBACK = "/l10n_ro_efactura/oauth/callback"
CONNECTIONS = "/odoo/action-l10n_ro_efactura.action_l10n_ro_efactura_connection"


class AnafOAuthController(http.Controller):
    @http.route(CALLBACK, type="http", auth="user", methods=["GET"])
    def callback(self, state=None, code=None, error=None, **_kwargs):
        """ANAF sends the certificate holder's browser back here: the ``state`` must be ours, fresh, unused and
        issued to this very user; then the code is exchanged at once (ANAF allows 60 seconds). Whatever happens,
        the holder lands on the connection with the outcome told, or on a page that says what went wrong and leads
        back to the connections."""
        connections = request.env["l10n_ro_efactura.connection"]
        try:
            connection = connections._oauth_verify_state(state)
        except EInvoiceError as refusal:  # not an answer to a request of ours: nothing to change, only to say
            return self._refused(refusal.translated(request.env.lang))
        if not connection:
            return self._refused(request.env._("The ANAF connection this authorisation was for no longer exists."))
        try:
            if error:
                raise EInvoiceError(request.env._("ANAF did not authorise the application (%(error)s).", error=error))
            connection._oauth_exchange(code)
        except EInvoiceError as refusal:
            connection.message_post(body=refusal.translated(request.env.lang))
        return request.redirect(f"{CONNECTIONS}/{connection.id}")

    def _refused(self, reason):
        back = request.env._("Back to the ANAF connections")
        page = Markup(
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>ANAF</title></head>'
            '<body style="font-family: sans-serif; margin: 3em"><p>%s</p><p><a href="%s">%s</a></p></body></html>'
        ) % (escape(reason), CONNECTIONS, back)
        return request.make_response(str(page), headers=[("Content-Type", "text/html; charset=utf-8")], status=400)
