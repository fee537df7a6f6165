from decimal import Decimal

from lxml import etree

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.account_einvoice.tests.common import invoice_sales_order

from .common import ConnectedToAnaf

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


@tagged("post_install_l10n", "post_install", "-at_install")
class TestAdvanceInvoices(ConnectedToAnaf):
    """An advance (down-payment) invoice and the final invoice deducting it, as CIUS-RO, accepted by ANAF.

    CIUS-RO knows no advance invoice type (BR-RO-020 allows 380, 384, 389, 751): the advance invoice is a 380 invoice.
    The final invoice deducts the advance as a line of negative quantity at a positive price (BR-27), at the advance's
    VAT rate, and names the advance invoice (BG-3) when Odoo knows it (invoices made from a sales order)."""

    def write_and_send(self, move):
        """The XML of ``move`` (checked by our rules and ANAF's), sent to ANAF and accepted there."""
        invoice, findings = move._einvoice_invoice()
        self.assertEqual(findings, [])
        xml = self.assert_anaf_accepts(invoice)
        move.action_einvoice_send()
        self.clock.advance(61)
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted", move.einvoice_document_id.error_message)
        self.assertEqual(move.einvoice_document_id.attachment_id.raw, xml)
        return etree.fromstring(xml)

    def assert_deducted(self, root, final, advance_net):
        """The final invoice's XML: a 380 invoice whose advance line has quantity -1 at a positive price, the VAT
        breakdown on what is left, and the amount due Odoo's."""
        self.assertEqual(root.findtext("cbc:InvoiceTypeCode", namespaces=NS), "380")
        deduction = [
            line
            for line in root.findall("cac:InvoiceLine", NS)
            if line.findtext("cbc:LineExtensionAmount", namespaces=NS) == f"-{advance_net:.2f}"
        ]
        self.assertEqual(len(deduction), 1)
        self.assertEqual(Decimal(deduction[0].findtext("cbc:InvoicedQuantity", namespaces=NS)), -1)
        self.assertEqual(Decimal(deduction[0].findtext("cac:Price/cbc:PriceAmount", namespaces=NS)), advance_net)
        taxable = root.findtext("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount", namespaces=NS)
        self.assertEqual(taxable, f"{final.amount_untaxed:.2f}")
        payable = root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS)
        self.assertEqual(payable, f"{final.amount_total:.2f}")
        self.assertIsNone(root.find("cac:LegalMonetaryTotal/cbc:PrepaidAmount", NS))

    def test_advance_and_final_invoice_typed_by_hand(self):
        """Without sales orders (only Accounting installed) the clerk types the advance line and its deduction."""
        tax = self.ro_tax("tvac_21")
        advance = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [
                    Command.create({"name": "Avans 30% conform contract 12", "price_unit": 300.0, "tax_ids": tax.ids})
                ],
            }
        )
        advance.action_post()
        self.assertEqual(self.write_and_send(advance).findtext("cbc:InvoiceTypeCode", namespaces=NS), "380")
        final = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [
                    Command.create({"name": "Lucrari conform contract 12", "price_unit": 1000.0, "tax_ids": tax.ids}),
                    Command.create(
                        {
                            "name": f"Stornare avans {advance.name}",
                            "quantity": -1.0,
                            "price_unit": 300.0,
                            "tax_ids": tax.ids,
                        }
                    ),
                ],
            }
        )
        final.action_post()
        self.assertEqual(final.amount_total, 847.0)
        self.assert_deducted(self.write_and_send(final), final, 300)

    def test_down_payment_from_a_sales_order(self):
        """A 30 % down payment invoiced from a sales order, then the final invoice deducting it (Odoo's own flow)."""
        if "sale.order" not in self.env:
            self.skipTest("the Sales app is not installed")
        self.env.user.sudo().group_ids += self.env.ref("sales_team.group_sale_salesman")
        tax = self.ro_tax("tvac_21")
        product = self.env["product.product"].create(
            {"name": "Montaj", "type": "service", "invoice_policy": "order", "list_price": 1000.0, "taxes_id": tax.ids}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1, "tax_ids": tax.ids})],
            }
        )
        order.action_confirm()

        advance = invoice_sales_order(order, "percentage", amount=30)
        self.assertTrue(advance._is_downpayment())
        root = self.write_and_send(advance)
        self.assertEqual(root.findtext("cbc:InvoiceTypeCode", namespaces=NS), "380")
        self.assertIsNone(root.find("cac:BillingReference", NS))

        final = invoice_sales_order(order, "delivered")
        self.assertEqual(final.amount_untaxed, 700.0)
        root = self.write_and_send(final)
        self.assert_deducted(root, final, 300)
        reference = root.find("cac:BillingReference/cac:InvoiceDocumentReference", NS)
        self.assertEqual(reference.findtext("cbc:ID", namespaces=NS), advance.name)
        self.assertEqual(reference.findtext("cbc:IssueDate", namespaces=NS), str(advance.invoice_date))
