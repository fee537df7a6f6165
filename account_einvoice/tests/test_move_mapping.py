from decimal import Decimal

from lxml import etree

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from einvoice import en16931, ubl
from einvoice.validation import validate_ubl


@tagged("post_install", "-at_install")
class TestMoveMapping(AccountTestInvoicingCommon):
    """An invoice of Odoo as a neutral e-invoice: Odoo's own amounts, nothing defaulted silently."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_data["company"].partner_id.write(
            {"street": "Strada Lunga 10", "city": "Cluj-Napoca", "zip": "400129", "vat": "BE0477472701"}
        )
        cls.partner_a.write(
            {"street": "Hauptstrasse 1", "city": "Berlin", "zip": "10115", "country_id": cls.env.ref("base.de").id}
        )

    def invoice(self, amounts=(1000.0,), taxes=None, post=True, **values):
        """An invoice of one line per amount (init_invoice adds a line per product and per amount)."""
        move = self.init_invoice("out_invoice", amounts=list(amounts), taxes=taxes or self.tax_sale_a, **values)
        if post:
            move.action_post()
        return move

    def assert_adds_up(self, invoice):
        facts = ubl.facts_for(invoice)
        self.assertEqual(en16931.arithmetic_findings(invoice, facts), [])

    def test_amounts_are_odoos_own(self):
        move = self.invoice([1000.0, 333.33], post=False)
        move.invoice_line_ids[0].quantity = 3
        move.action_post()
        invoice, findings = move._einvoice_invoice()
        self.assertEqual(findings, [])
        self.assertEqual(invoice.type_code, "380")
        self.assertEqual(invoice.totals.tax_exclusive, Decimal(str(move.amount_untaxed)))
        self.assertEqual(invoice.totals.tax_total, Decimal(f"{move.amount_tax:.2f}"))
        self.assertEqual(invoice.totals.payable, Decimal(f"{move.amount_total:.2f}"))
        self.assertEqual(len(invoice.lines), 2)
        self.assertEqual(invoice.lines[0].quantity, Decimal("3"))
        self.assertEqual(invoice.lines[0].vat_category, "S")
        self.assertEqual(invoice.seller.vat_id, "BE0477472701")
        self.assert_adds_up(invoice)

    def test_the_ubl_is_valid_for_the_schema(self):
        invoice, _findings = self.invoice()._einvoice_invoice()
        root = etree.fromstring(ubl.write(invoice, customization_id="urn:cen.eu:en16931:2017"))
        self.assertEqual(validate_ubl(root), [])

    def test_a_discount_is_an_allowance_of_the_line(self):
        move = self.invoice(post=False)
        move.invoice_line_ids.write({"quantity": 2, "discount": 10})
        move.action_post()
        invoice, findings = move._einvoice_invoice()
        line = invoice.lines[0]
        self.assertEqual(findings, [])
        self.assertEqual(line.price, Decimal("1000"))
        self.assertEqual(line.unit_code, "C62")  # a line without a unit counts in "one"
        self.assertEqual(line.net_amount, Decimal("1800.00"))
        (discount,) = line.allowances_charges
        self.assertEqual(
            (discount.charge, discount.amount, discount.base_amount), (False, Decimal("200.00"), Decimal("2000.00"))
        )
        self.assert_adds_up(invoice)

    def test_credit_note_refers_to_its_invoice(self):
        original = self.invoice()
        reversal = self.env["account.move.reversal"].with_context(active_model="account.move", active_ids=original.ids)
        credit_note = self.env["account.move"].browse(
            reversal.create({"journal_id": original.journal_id.id, "reason": "return"}).refund_moves()["res_id"]
        )
        credit_note.action_post()
        invoice, findings = credit_note._einvoice_invoice()
        self.assertEqual(findings, [])
        self.assertEqual(invoice.type_code, "381")
        self.assertEqual(invoice.preceding_invoices[0].number, original.name)
        self.assertEqual(invoice.totals.payable, Decimal(f"{credit_note.amount_total:.2f}"))
        self.assert_adds_up(invoice)

    def test_foreign_currency_carries_the_vat_in_company_currency(self):
        currency = self.setup_other_currency("EUR", rounding=0.01, rates=[("2026-01-01", 0.2)])
        move = self.invoice(currency=currency)
        invoice, _findings = move._einvoice_invoice()
        self.assertEqual(invoice.currency, "EUR")
        self.assertEqual(invoice.tax_currency, move.company_id.currency_id.name)
        self.assertEqual(invoice.totals.tax_total_accounting, Decimal(f"{abs(move.amount_tax_signed):.2f}"))

    def test_a_line_with_two_taxes_is_reported(self):
        move = self.invoice(post=False)
        move.invoice_line_ids.tax_ids = [Command.set((self.tax_sale_a + self.tax_sale_b).ids)]
        _invoice, findings = move._einvoice_invoice()
        self.assertEqual([finding.rule for finding in findings], ["ODOO-TAX"])

    def test_a_zero_tax_needs_its_category_chosen(self):
        zero = self.tax_sale_a.copy({"name": "Zero", "amount": 0.0})
        self.assertFalse(zero.einvoice_vat_category)
        move = self.invoice(taxes=zero, post=False)
        _invoice, findings = move._einvoice_invoice()
        self.assertEqual([finding.rule for finding in findings], ["ODOO-VAT-CATEGORY"])
        zero.einvoice_vat_category = "E"
        zero.einvoice_exemption_code = "VATEX-EU-132"
        invoice, findings = move._einvoice_invoice()
        self.assertEqual(findings, [])
        self.assertEqual(invoice.vat_breakdown[0].exemption_code, "VATEX-EU-132")

    def test_a_unit_without_code_is_reported(self):
        self.assertEqual(self.env.ref("uom.product_uom_unit").einvoice_unece_code, "C62")
        box = self.env["uom.uom"].create(
            {"name": "Box of 7", "relative_factor": 7, "relative_uom_id": self.uom_unit.id}
        )
        move = self.init_invoice("out_invoice", products=self.product_a)
        # set after the product, which brings the customer's fiscal position (an export tax) along
        move.invoice_line_ids.write({"product_uom_id": box.id, "tax_ids": [Command.set(self.tax_sale_a.ids)]})
        _invoice, findings = move._einvoice_invoice()
        self.assertEqual([finding.rule for finding in findings], ["ODOO-UOM"])
