from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestKsefInstall(AccountTestInvoicingCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("pl")
    def setUpClass(cls):
        super().setUpClass()

    def test_invoice_of_a_polish_company_gets_a_ksef_document(self):
        self.assertEqual(self.env.company.country_id.code, "PL")
        invoice = self.init_invoice("out_invoice", products=self.product_a, post=True)
        document = self.env["account.einvoice.document"].create({"move_id": invoice.id, "platform": "pl_ksef"})
        self.assertEqual(document.state, "to_send")
        platforms = dict(document._fields["platform"].selection)
        self.assertEqual(platforms["pl_ksef"], "KSeF (Poland)")
