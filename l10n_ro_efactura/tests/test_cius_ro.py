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

    def foreign_customer(self, name, country, vat, registry):
        return self.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "vat": vat,
                "company_registry": registry,
                "street": "Hauptstrasse 1",
                "city": "Berlin" if country == "de" else "Chisinau",
                "zip": "10115" if country == "de" else "2001",
                "country_id": self.env.ref(f"base.{country}").id,
                # CIUS-RO asks the region of every address, also abroad (BR-RO-110, BR-RO-211)
                "state_id": self.env.ref("base.state_de_be").id if country == "de" else False,
            }
        )

    def test_the_zero_and_exempt_kinds_a_romanian_company_issues(self):
        """Each 0 % tax of the chart on an invoice to the customer it is for, accepted by ANAF's rules."""
        german = self.foreign_customer("Kunde GmbH", "de", "DE123456788", "HRB 12345")
        moldovan = self.foreign_customer("Client SRL", "md", False, "1003600012345")  # its IDNO
        for xmlid, customer, category in (
            ("tvati_intrab", german, "K"),  # intra-EU supply of goods
            ("tvati_intras", german, "K"),  # intra-EU services
            ("tvati_extra", moldovan, "G"),  # export of goods
            ("tvatiscded", self.customer, "E"),  # exempt with the right to deduct
            ("tvatine", german, "O"),  # outside the scope of Romanian VAT
        ):
            with self.subTest(tax=xmlid):
                move = self.init_invoice(
                    "out_invoice", partner=customer, amounts=[500.0], taxes=self.ro_tax(xmlid), post=True
                )
                invoice, findings = move._einvoice_invoice()
                self.assertEqual(findings, [])
                self.assertEqual(invoice.vat_breakdown[0].category, category)
                self.assert_anaf_accepts(invoice)

    def test_an_invoice_in_euro_states_its_vat_in_lei(self):
        euro = self.env.ref("base.EUR")
        euro.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": euro.id, "rate": 1 / 4.9765, "name": "2026-01-01", "company_id": self.env.company.id}
        )
        move = self.init_invoice(
            "out_invoice", partner=self.customer, amounts=[1000.0], taxes=self.ro_tax("tvac_21"), currency=euro
        )
        move.action_post()
        invoice, findings = move._einvoice_invoice()
        self.assertEqual(findings, [])
        self.assertEqual(invoice.currency, "EUR")
        self.assertEqual(invoice.tax_currency, "RON")  # BT-6: CIUS-RO wants the VAT in lei too (BR-RO-030)
        self.assertEqual(str(invoice.totals.tax_total_accounting), f"{abs(move.amount_tax_signed):.2f}")
        self.assert_anaf_accepts(invoice)
