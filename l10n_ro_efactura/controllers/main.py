from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.http import request

from einvoice.errors import EInvoiceError

CALLBACK = "/l10n_ro_efactura/oauth/callback"


class AnafOAuthController(http.Controller):
    @http.route(CALLBACK, type="http", auth="user", methods=["GET"])
    def callback(self, state=None, code=None, error=None, **_kwargs):
        """ANAF sends the certificate holder's browser back here: the ``state`` must be ours, fresh, unused and
        issued to this very user; then the code is exchanged at once (ANAF allows 60 seconds)."""
        connections = request.env["l10n_ro_efactura.connection"]
        try:
            connection = connections._oauth_verify_state(state)
            if error:
                raise EInvoiceError(request.env._("ANAF did not authorise the application (%(error)s).", error=error))
            connection._oauth_exchange(code)
        except EInvoiceError as refusal:
            raise BadRequest(refusal.translated(request.env.lang)) from None
        return request.redirect(f"/odoo/action-l10n_ro_efactura.action_l10n_ro_efactura_connection/{connection.id}")
