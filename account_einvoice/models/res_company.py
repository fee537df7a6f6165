from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    einvoice_send_mode = fields.Selection(
        [("manual", "When somebody sends it"), ("posting", "When the invoice is posted")],
        string="Send e-invoices",
        default="manual",
        required=True,
        help="Posted customer invoices can join the sending queue by themselves.",
    )
    einvoice_hold_days = fields.Integer(
        string="Hold before sending (days)",
        default=0,
        help="Days a posted invoice waits in the queue before the scheduler sends it: time to correct it. Sending it "
        "by hand does not wait.",
    )
