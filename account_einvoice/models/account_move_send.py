from odoo import api, models

EDI_PREFIX = "einvoice_"


class AccountMoveSend(models.AbstractModel):
    """Odoo's Send wizard offers "Send to <platform>" for the invoices a platform clears: one path with the button."""

    _inherit = "account.move.send"

    def _get_all_extra_edis(self) -> dict:
        extra_edis = super()._get_all_extra_edis()
        for platform, label in self.env["account.einvoice.document"]._platform_labels().items():
            extra_edis[f"{EDI_PREFIX}{platform}"] = {
                "label": self.env._("Send to %(platform)s", platform=label),
                "is_applicable": lambda move, platform=platform: move._einvoice_sendable(platform),
            }
        return extra_edis

    @api.model
    def _einvoice_selected(self, invoice_data):
        return any(edi.startswith(EDI_PREFIX) for edi in invoice_data.get("extra_edis") or ())

    def _call_web_service_after_invoice_pdf_render(self, invoices_data):  # pylint: disable=missing-return
        # EXTENDS 'account'
        super()._call_web_service_after_invoice_pdf_render(invoices_data)
        for invoice, invoice_data in invoices_data.items():
            if not self._einvoice_selected(invoice_data):
                continue
            problems = invoice._einvoice_refusal()
            if problems:
                invoice_data["error"] = {
                    "error_title": self.env._("The e-invoice was not sent:"),
                    "errors": problems,
                }
                continue
            invoice._einvoice_queue()._send()
