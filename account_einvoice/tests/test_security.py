from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestEinvoiceSecurity(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_data["company"]
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        platform = cls.env["account.einvoice.document"]._fields["platform"].get_values(cls.env)[0]
        cls.invoice_a = cls.init_invoice("out_invoice", products=cls.product_a, post=True)
        cls.invoice_b = cls.init_invoice("out_invoice", products=cls.product_a, post=True, company=cls.company_b)
        documents = cls.env["account.einvoice.document"]
        cls.document_a = documents.create({"move_id": cls.invoice_a.id, "platform": platform})
        cls.document_b = documents.create({"move_id": cls.invoice_b.id, "platform": platform})

        def user(login, groups, companies):
            return new_test_user(
                cls.env, login=login, groups=groups, company_id=companies[0].id, company_ids=[c.id for c in companies]
            )

        both = [cls.company_a, cls.company_b]
        cls.biller_a = user("biller_a", "account.group_account_invoice", [cls.company_a])
        cls.biller_both = user("biller_both", "account.group_account_invoice", both)
        cls.accounting_admin = user("accounting_admin", "account.group_account_manager", both)
        cls.employee = user("employee", "base.group_user", both)

    def test_groups_are_wired_into_accounting(self):
        user_group = self.env.ref("account_einvoice.group_einvoice_user")
        admin_group = self.env.ref("account_einvoice.group_einvoice_admin")
        self.assertIn(user_group, self.biller_a.all_group_ids)
        self.assertNotIn(admin_group, self.biller_a.all_group_ids)
        self.assertIn(admin_group, self.accounting_admin.all_group_ids)
        self.assertNotIn(user_group, self.employee.all_group_ids)

    def test_documents_follow_the_company_of_their_invoice(self):
        self.assertEqual(self.document_a.company_id, self.company_a)
        self.assertEqual(self.document_b.company_id, self.company_b)

    def test_user_sees_only_the_documents_of_allowed_companies(self):
        documents = self.env["account.einvoice.document"]
        visible = documents.with_user(self.biller_a).search([])
        self.assertIn(self.document_a, visible)
        self.assertNotIn(self.document_b, visible)
        with self.assertRaises(AccessError):
            self.document_b.with_user(self.biller_a).read(["state"])

        visible = (
            documents.with_user(self.biller_both)
            .with_context(allowed_company_ids=[self.company_a.id, self.company_b.id])
            .search([])
        )
        self.assertIn(self.document_a, visible)
        self.assertIn(self.document_b, visible)

    def test_only_active_companies_are_visible(self):
        documents = self.env["account.einvoice.document"].with_user(self.biller_both)
        visible = documents.with_context(allowed_company_ids=[self.company_b.id]).search([])
        self.assertEqual(visible & (self.document_a | self.document_b), self.document_b)

    def test_users_without_invoicing_rights_see_nothing(self):
        with self.assertRaises(AccessError):
            self.env["account.einvoice.document"].with_user(self.employee).search([])

    def test_history_is_kept(self):
        with self.assertRaises(AccessError):
            self.document_a.with_user(self.accounting_admin).unlink()
