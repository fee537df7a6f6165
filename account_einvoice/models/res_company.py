from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain


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
    einvoice_purchase_journal_id = fields.Many2one(
        "account.journal",
        string="Journal of received e-invoices",
        domain="[('type', '=', 'purchase'), ('is_self_billing', '=', False), ('company_id', 'parent_of', id)]",
        help="Where supplier invoices received through the national platform become draft bills. Empty: the first "
        "purchase journal.",
    )
    einvoice_create_vendors = fields.Boolean(
        string="Create unknown vendors",
        help="A supplier invoice from a seller no vendor matches creates the vendor from the invoice; otherwise the "
        "bill is left without a vendor, for review.",
    )
    einvoice_accountant_ids = fields.Many2many(
        "res.users",
        "res_company_einvoice_accountant_rel",
        string="Told about received e-invoices",
        help="These users get a digest (mail and activity) when bills arrive from the platform or messages fail.",
    )

    @api.constrains("einvoice_purchase_journal_id")
    def _check_einvoice_purchase_journal(self):
        for company in self:
            journal = company.einvoice_purchase_journal_id
            if journal and (journal.type != "purchase" or journal.is_self_billing):
                raise ValidationError(
                    self.env._(
                        "Received e-invoices become vendor bills: %(journal)s is not a purchase journal.",
                        journal=journal.display_name,
                    )
                )

    def _einvoice_purchase_journal(self):
        self.ensure_one()
        return self.einvoice_purchase_journal_id or self.env["account.journal"].search(
            Domain.AND(
                [
                    self.env["account.journal"]._check_company_domain(self),
                    [("type", "=", "purchase"), ("is_self_billing", "=", False)],
                ]
            ),
            limit=1,
        )

    def _einvoice_in_lang(self, records):
        """``records`` in this company's language, for what a scheduled job writes about them: jobs run without a
        user, so a report, a message or a reminder is written in the company's language (its partner's), not in the
        server's."""
        self.ensure_one()
        return records.with_context(lang=self.partner_id.lang or "en_US")
