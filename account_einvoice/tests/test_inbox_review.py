from decimal import Decimal

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from einvoice import ubl
from einvoice.model import Address, Line, Party

from .test_inbox import SELLER_VAT, InboxCommon


@tagged("post_install", "-at_install")
class TestInboxReview(InboxCommon):
    """What an accountant does with the inbox: review, retry, discard; and what the inbox shows."""

    def broken(self, name="broken.xml"):
        return self.receive(b"<Invoice>cut off in the midd", name)

    # -- review ----------------------------------------------------------------------------------------------------
    def test_posting_the_bill_makes_its_message_done(self):
        imported = self.receive(ubl.write(self.invoice()))
        self.assertEqual(imported.state, "imported", imported.match_report)
        imported.move_id.action_post()
        self.assertEqual(imported.state, "done")

        self.tax_purchase_a.amount = 16  # the invoice's 15 % matches no tax: the bill is to be reviewed
        reviewed = self.receive(ubl.write(self.invoice(number="PM-2")))
        self.assertEqual(reviewed.state, "to_review")
        reviewed.move_id.invoice_line_ids.tax_ids = self.tax_purchase_a  # the accountant corrects it
        reviewed.move_id.action_post()
        self.assertEqual(reviewed.state, "done")

    def test_a_cancelled_or_deleted_bill_sends_its_message_back_to_review(self):
        cancelled = self.receive(ubl.write(self.invoice()))
        cancelled.move_id.button_cancel()
        self.assertEqual(cancelled.state, "to_review")

        deleted = self.receive(ubl.write(self.invoice(number="PM-2")))
        deleted.move_id.unlink()
        self.assertEqual((deleted.state, deleted.move_id.id), ("to_review", False))
        action = deleted.action_retry()  # imported again: a new bill
        self.assertEqual(deleted.state, "imported")
        self.assertEqual(deleted.move_id.ref, "PM-2")
        self.assertIn(deleted.move_id.display_name, action["params"]["message"])

    def test_mark_as_reviewed_one_message_or_a_selection(self):
        first = self.receive(ubl.write(self.invoice()))
        self.tax_purchase_a.amount = 16
        second = self.receive(ubl.write(self.invoice(number="PM-2")))
        failed = self.broken()
        self.assertEqual((first.state, second.state), ("imported", "to_review"))
        action = (first | second | failed).action_mark_reviewed()  # the list's action on a selection
        self.assertEqual((first.state, second.state, failed.state), ("done", "done", "failed"))
        self.assertEqual(action["params"]["message"], "2 message(s) marked as reviewed.")
        self.assertEqual(first.move_id.state, "draft")  # reviewing posts nothing
        self.assertIn("Marked as reviewed", first.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "imported into a bill"):
            failed.action_mark_reviewed()
        first.move_id.action_post()
        self.assertEqual(first.state, "done")

    def test_what_the_en16931_rules_find_is_shown_on_the_message_and_the_bill(self):
        xml = ubl.write(self.invoice())  # no payment due date nor terms, though an amount is due
        message = self.receive(xml)
        self.assertEqual(message.state, "imported", "a received invoice is read whatever our checks say")
        self.assertIn("Check: [BR-CO-25]", message.match_report)
        self.assertIn("BR-CO-25", message.move_id.message_ids[0].body)

    # -- failed messages -------------------------------------------------------------------------------------------
    def test_retry_says_what_came_of_it(self):
        message = self.broken()
        action = message.action_retry()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("still fails", action["params"]["message"])
        self.assertIn("broken.xml", action["params"]["message"])  # the reason, as the error says it

        message.raw_attachment_id.raw = ubl.write(self.invoice())  # fetched again, whole this time
        action = message.action_retry()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(f"imported into {message.move_id.display_name}", action["params"]["message"])

        with self.assertRaisesRegex(UserError, "can be retried"):
            message.action_retry()  # imported: nothing to retry

    def test_a_message_is_named_by_its_supplier_number_and_date_else_by_where_it_came_from(self):
        failed = self.broken()
        sha = failed.platform_id
        self.assertEqual(len(sha), 64)
        self.assertEqual(failed.name, f"Imported by hand - {sha[:12]} - {failed.received_at.date()}")
        imported = self.receive(ubl.write(self.invoice()))
        self.assertEqual(imported.name, "Paper Mill NV - PM-1001 - 2026-11-10")
        self.assertEqual(imported.display_name, imported.name)

    def test_a_discarded_message_is_kept_and_left_alone(self):
        message = self.broken()
        raw = message.raw_attachment_id
        action = message.action_discard()
        self.assertEqual(action["params"]["message"], "1 message(s) discarded.")
        self.assertEqual(message.state, "discarded")
        self.assertTrue(message.exists())
        self.assertEqual(raw.raw, b"<Invoice>cut off in the midd")  # what was received is kept
        self.assertIn("Discarded by", message.message_ids[0].body)
        self.inbox._cron_process()
        self.assertEqual(message.state, "discarded")
        self.assertEqual(self.receive(b"<Invoice>cut off in the midd", "broken.xml"), message)  # no new message

        imported = self.receive(ubl.write(self.invoice()))
        with self.assertRaisesRegex(UserError, "can be discarded"):
            imported.action_discard()  # it has a bill
        self.assertEqual(imported.state, "imported")

        message.raw_attachment_id.raw = ubl.write(self.invoice(number="PM-9"))
        message.action_retry()  # imported after all
        self.assertEqual((message.state, message.move_id.ref), ("imported", "PM-9"))

    # -- the views -------------------------------------------------------------------------------------------------
    def test_messages_are_never_made_by_hand_and_amounts_are_not_summed_across_currencies(self):
        for view_type in ("list", "form"):
            arch = self.inbox.get_view(view_type=view_type)["arch"]
            self.assertIn('create="false"', arch, view_type)
        arch = self.inbox.get_view(view_type="list")["arch"]
        self.assertNotIn("sum=", arch)
        for name in ("action_mark_reviewed", "action_discard", "action_retry"):
            self.assertIn(f'name="{name}"', arch)
        described = self.inbox.fields_get(["amount_total", "amount_difference"], ["aggregator"])
        self.assertEqual(described, {"amount_total": {}, "amount_difference": {}})
        groups = self.inbox.formatted_read_group([], ["state"], ["__count"])
        self.assertTrue(all("amount_total:sum" not in group for group in groups))

    # -- matching --------------------------------------------------------------------------------------------------
    def test_an_ambiguous_tax_is_settled_by_the_product_or_left_for_review(self):
        """Two taxes of 15 % S (goods and services, say): the product's own purchase tax says which; without a product
        the company's default is only a guess, and the message is to be reviewed."""
        self.tax_purchase_b.write({"active": True, "einvoice_vat_category": "S", "amount": 15})
        self.company.account_purchase_tax_id = self.tax_purchase_b
        (self.paper | self.toner).supplier_taxes_id = self.tax_purchase_a
        message = self.receive(ubl.write(self.invoice()))
        self.assertEqual(message.state, "imported", message.match_report)
        self.assertEqual(message.move_id.invoice_line_ids.tax_ids, self.tax_purchase_a)
        self.assertIn("the product's purchase tax", message.match_report)

        unknown = Line("1", Decimal(1), "H87", Decimal("50.00"), Decimal("50.00"), "Stapler", "S", Decimal(15))
        message = self.receive(ubl.write(self.invoice(number="PM-2", lines=[unknown])))
        self.assertEqual(message.state, "to_review", message.match_report)
        self.assertEqual(message.move_id.invoice_line_ids.tax_ids, self.tax_purchase_b)  # the default, to check
        self.assertIn("the company's default: check it", message.match_report)
        self.assertEqual(message.amount_difference, 0)  # the totals agree: only the guess sends it to review

    def test_a_unit_odoo_does_not_know_is_left_for_review(self):
        lines = [Line("1", Decimal(5), "XZZ", Decimal("100.00"), Decimal("20.00"), "Printing paper", "S", Decimal(15),
                      seller_item_id="PAPER-A4")]  # fmt: skip
        message = self.receive(ubl.write(self.invoice(lines=lines)))
        self.assertEqual(message.state, "to_review", message.match_report)
        self.assertIn("No unit of measure has code XZZ", message.match_report)

    def test_a_vendor_made_from_the_invoice_has_its_vat_number_and_address(self):
        self.company.einvoice_create_vendors = True
        seller = Party(
            name="Tipografia Someș SRL",
            vat_id="RO18547290",
            address=Address("RO", "Str. Memorandumului 28", "Bloc A", "Etaj 2", "Cluj-Napoca", "400114", "RO-CJ"),
        )
        message = self.receive(ubl.write(self.invoice(number="TS-1").replace(seller=seller)))
        vendor = message.move_id.partner_id
        self.assertEqual(
            (vendor.name, vendor.vat, vendor.street, vendor.street2, vendor.city, vendor.zip),
            ("Tipografia Someș SRL", "RO18547290", "Str. Memorandumului 28", "Bloc A, Etaj 2", "Cluj-Napoca", "400114"),
        )
        self.assertEqual((vendor.country_id.code, vendor.state_id.code), ("RO", "CJ"))
        self.assertTrue(vendor.is_company)
        self.assertEqual(vendor.supplier_rank, 1)
        self.assertNotEqual(vendor.vat, SELLER_VAT)

    # -- settings --------------------------------------------------------------------------------------------------
    def test_received_bills_go_to_a_purchase_journal_only(self):
        journals = self.env["account.journal"]
        received = journals.create({"name": "E-invoices", "code": "EINV", "type": "purchase"})
        domain = self.env["res.config.settings"].fields_get(["einvoice_purchase_journal_id"], ["domain"])
        offered = journals.search(
            safe_eval(domain["einvoice_purchase_journal_id"]["domain"], {"company_id": self.company.id})
        )
        self.assertEqual(offered, journals.search([("company_id", "=", self.company.id), ("type", "=", "purchase")]))
        self.assertIn(received, offered)
        settings = Form(self.env["res.config.settings"])
        settings.einvoice_purchase_journal_id = received
        settings.save().execute()
        self.assertEqual(self.company.einvoice_purchase_journal_id, received)
        self.assertEqual(self.receive(ubl.write(self.invoice())).move_id.journal_id, received)
        with self.assertRaisesRegex(ValidationError, "not a purchase journal"):
            self.company.einvoice_purchase_journal_id = self.company_data["default_journal_sale"]
