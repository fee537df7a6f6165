from odoo import fields, models

STATES = [
    ("to_send", "To send"),
    ("sending", "Sending"),
    ("processing", "Processing"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("unknown", "Outcome unknown"),
    ("error", "Error"),
]


class AccountEinvoiceDocument(models.Model):
    """One attempt to clear an invoice through a national platform; every attempt is kept."""

    _name = "account.einvoice.document"
    _description = "E-invoice document"
    _order = "create_date desc, id desc"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, ondelete="restrict", index=True)
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    platform = fields.Selection(selection=[], required=True, help="The national platform this attempt goes through.")
    state = fields.Selection(STATES, required=True, default="to_send", index=True)
    error_message = fields.Text(string="Errors", readonly=True)
