from odoo import api, fields, models


class L10nRoEfacturaOauthNonce(models.Model):
    """The OAuth states already answered: each authorisation answer is accepted once."""

    _name = "l10n_ro_efactura.oauth.nonce"
    _description = "Used ANAF authorisation state"

    nonce = fields.Char(required=True, index=True)

    _nonce_unique = models.Constraint("UNIQUE(nonce)", "An authorisation answer is accepted once.")

    @api.model
    def _consume(self, nonce):
        """True the first time ``nonce`` is seen (a concurrent second use fails on the unique constraint)."""
        if self.sudo().search_count([("nonce", "=", nonce)]):
            return False
        self.sudo().create({"nonce": nonce})
        return True
