from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    l10n_ro_efactura_credit_note_as_invoice = fields.Boolean(
        related="company_id.l10n_ro_efactura_credit_note_as_invoice", readonly=False
    )
    l10n_ro_efactura_validate_first = fields.Boolean(
        related="company_id.l10n_ro_efactura_validate_first", readonly=False
    )
    l10n_ro_efactura_sync_days = fields.Integer(related="company_id.l10n_ro_efactura_sync_days", readonly=False)
