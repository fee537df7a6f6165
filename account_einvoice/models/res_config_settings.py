from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    einvoice_send_mode = fields.Selection(related="company_id.einvoice_send_mode", readonly=False)
    einvoice_hold_days = fields.Integer(related="company_id.einvoice_hold_days", readonly=False)
