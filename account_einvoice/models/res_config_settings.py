from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    einvoice_send_mode = fields.Selection(related="company_id.einvoice_send_mode", readonly=False)
    einvoice_hold_days = fields.Integer(related="company_id.einvoice_hold_days", readonly=False)
    einvoice_purchase_journal_id = fields.Many2one(
        related="company_id.einvoice_purchase_journal_id",
        readonly=False,
        domain="[('type', '=', 'purchase'), ('is_self_billing', '=', False), ('company_id', 'parent_of', company_id)]",
    )
    einvoice_create_vendors = fields.Boolean(related="company_id.einvoice_create_vendors", readonly=False)
    einvoice_accountant_ids = fields.Many2many(related="company_id.einvoice_accountant_ids", readonly=False)
