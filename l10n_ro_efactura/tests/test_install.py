from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestRoEfacturaInstall(AccountTestInvoicingCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("ro")
    def setUpClass(cls):
        super().setUpClass()

    def test_invoice_of_a_romanian_company_gets_an_anaf_document(self):
        self.assertEqual(self.env.company.country_id.code, "RO")
        invoice = self.init_invoice("out_invoice", products=self.product_a, post=True)
        document = self.env["account.einvoice.document"].create({"move_id": invoice.id, "platform": "ro_efactura"})
        self.assertEqual(document.state, "to_send")
        self.assertEqual(document.company_id, self.env.company)
        platforms = dict(document._fields["platform"].selection)
        self.assertEqual(platforms["ro_efactura"], "RO e-Factura (ANAF)")
