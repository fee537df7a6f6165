from odoo import Command
from odoo.tests import tagged

from .common import RoEfacturaCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestCiusRo(RoEfacturaCommon):
    """A Romanian invoice of Odoo written as CIUS-RO: what ANAF accepts, checked by its own rules."""

    def invoice(self, taxes, amounts=(1000.0, 250.5)):
        move = self.init_invoice("out_invoice", partner=self.customer, amounts=list(amounts), taxes=taxes, post=True)
        invoice, findings = move._einvoice_invoice()
        self.assertEqual(findings, [])
        return move, invoice

    def test_standard_rate_invoice(self):
        move, invoice = self.invoice(self.ro_tax("tvac_21"))
        self.assertEqual(invoice.seller.address.subdivision, "RO-B")
        self.assertEqual(invoice.seller.address.city, "SECTOR3")  # written as ANAF wants it
        self.assertEqual(invoice.buyer.address.subdivision, "RO-CJ")
        self.assertEqual(str(invoice.totals.payable), f"{move.amount_total:.2f}")
        self.assert_anaf_accepts(invoice)

    def test_reverse_charge(self):
        tax = self.ro_tax("tvati")
        self.assertEqual((tax.einvoice_vat_category, tax.einvoice_exemption_code), ("AE", "VATEX-EU-AE"))
        _move, invoice = self.invoice(tax)
        self.assertEqual(invoice.vat_breakdown[0].category, "AE")
        self.assertEqual(invoice.vat_breakdown[0].exemption_code, "VATEX-EU-AE")
        self.assert_anaf_accepts(invoice)

    def test_every_sales_tax_of_the_chart_has_its_category(self):
        prefix = f"account.{self.env.company.id}_"
        chart_taxes = (
            self.env["account.tax"]
            .search([("company_id", "=", self.env.company.id), ("type_tax_use", "=", "sale")])
            .filtered(lambda tax: (tax.get_external_id()[tax.id] or "").startswith(prefix))
        )
        self.assertGreater(len(chart_taxes.filtered(lambda tax: tax.amount == 0)), 5)
        missing = chart_taxes.filtered(lambda tax: not tax.einvoice_vat_category)
        self.assertFalse(missing, missing.mapped("name"))

    def test_reduced_rates_and_a_discount(self):
        move = self.init_invoice(
            "out_invoice", partner=self.customer, amounts=[99.99, 10.0], taxes=self.ro_tax("tvac_11"), post=False
        )
        move.invoice_line_ids[0].write({"discount": 5, "quantity": 3})
        move.invoice_line_ids[1].tax_ids = [Command.set(self.ro_tax("tvac_21").ids)]
        move.action_post()
        invoice, findings = move._einvoice_invoice()
        self.assertEqual(findings, [])
        self.assertEqual({vat.rate for vat in invoice.vat_breakdown}, {11, 21})
        self.assert_anaf_accepts(invoice)
