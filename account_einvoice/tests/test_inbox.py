import base64
import threading
import time
from datetime import date
from decimal import Decimal
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import TransactionCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_einvoice.tools.bill_import import BillImporter

from einvoice import ubl
from einvoice.model import Address, AllowanceCharge, Identifier, Invoice, Line, Party

SELLER_VAT = "BE0202239951"
CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
    <ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>CII-77</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20261110</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:SellerAssignedID>PAPER-A4</ram:SellerAssignedID>
        <ram:Name>Printing paper</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>20.00</ram:ChargeAmount>
        </ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="H87">5</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
          <ram:RateApplicablePercent>15</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>100.00</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Paper Mill NV</ram:Name>
        <ram:PostalTradeAddress><ram:CountryID>BE</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">%(vat)s</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Buyer</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>%(currency)s</ram:InvoiceCurrencyCode>
      <ram:ApplicableTradeTax><ram:CalculatedAmount>15.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
        <ram:BasisAmount>100.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>
        <ram:RateApplicablePercent>15</ram:RateApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>100.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="%(currency)s">15.00</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>115.00</ram:GrandTotalAmount><ram:DuePayableAmount>115.00</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""


class InboxCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Paper Mill NV", "is_company": True, "vat": SELLER_VAT, "country_id": cls.env.ref("base.be").id}
        )
        cls.paper = cls.env["product.product"].create(
            {"name": "Printing paper A4", "default_code": "OUR-PAPER", "purchase_ok": True}
        )
        cls.toner = cls.env["product.product"].create(
            {"name": "Toner cartridge black", "barcode": "5901234123457", "purchase_ok": True}
        )
        cls.piece = cls.env.ref("uom.product_uom_unit")
        cls.piece.einvoice_unece_code = "H87"
        cls.env["product.supplierinfo"].create(
            {"partner_id": cls.vendor.id, "product_tmpl_id": cls.paper.product_tmpl_id.id, "product_code": "PAPER-A4"}
        )
        cls.tax_purchase_a.einvoice_vat_category = "S"
        cls.tax_purchase_b.active = False  # the test chart's copy of the same rate: one tax per rate here
        cls.inbox = cls.env["account.einvoice.inbox"]

    def invoice(self, number="PM-1001", lines=None, issue_date=date(2026, 11, 10), **fields):
        lines = lines or [
            Line("1", Decimal(5), "H87", Decimal("100.00"), Decimal("20.00"), "Printing paper", "S", Decimal(15),
                 seller_item_id="PAPER-A4"),
            Line("2", Decimal(2), "H87", Decimal("90.00"), Decimal("45.00"), "Toner", "S", Decimal(15),
                 standard_id=Identifier("05901234123457", "0160")),
        ]  # fmt: skip
        return Invoice.build(
            number=number,
            issue_date=issue_date,
            type_code="380",
            currency=self.company.currency_id.name,
            seller=Party(name="Paper Mill NV", vat_id=SELLER_VAT, address=Address("BE", city="Gent")),
            buyer=Party(name=self.company.name),
            lines=lines,
            **fields,
        )

    def receive(self, xml, name="invoice.xml"):
        return self.inbox._import_file(xml, name)


@tagged("post_install", "-at_install")
class TestInboxImport(InboxCommon):
    def test_a_ubl_invoice_becomes_a_matched_draft_bill(self):
        message = self.receive(ubl.write(self.invoice()), "PM-1001.xml")
        bill = message.move_id
        self.assertEqual(message.state, "imported", message.match_report)
        self.assertEqual((bill.move_type, bill.state, bill.partner_id), ("in_invoice", "draft", self.vendor))
        self.assertEqual((bill.ref, bill.invoice_date), ("PM-1001", date(2026, 11, 10)))
        self.assertEqual(bill.journal_id.type, "purchase")
        paper, toner = bill.invoice_line_ids
        self.assertEqual((paper.product_id, toner.product_id), (self.paper, self.toner))
        self.assertEqual((paper.quantity, paper.price_unit, paper.product_uom_id), (5, 20, self.piece))
        self.assertEqual(paper.tax_ids, self.tax_purchase_a)
        self.assertEqual(paper.einvoice_supplier_code, "PAPER-A4")
        self.assertEqual(bill.amount_total, 218.5)
        self.assertEqual(message.amount_difference, 0)
        self.assertIn("PM-1001.xml", bill.attachment_ids.mapped("name"))
        self.assertIn("Vendor Paper Mill NV found by VAT number", message.match_report)
        self.assertIn("found by GTIN 05901234123457", message.match_report)
        self.assertIn("PAPER-A4", message.match_report)
        self.assertEqual(bill.einvoice_inbox_ids, message)

    def test_a_cii_invoice_is_imported_the_same_way(self):
        xml = CII % {"vat": SELLER_VAT, "currency": self.company.currency_id.name}
        message = self.receive(xml.encode(), "cii.xml")
        bill = message.move_id
        self.assertEqual((bill.partner_id, bill.ref, bill.amount_total), (self.vendor, "CII-77", 115.0))
        self.assertEqual(bill.invoice_line_ids.quantity, 5)

    def test_the_same_file_twice_is_one_message_and_one_bill(self):
        xml = ubl.write(self.invoice())
        first, second = self.receive(xml), self.receive(xml)
        self.assertEqual(first, second)
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "PM-1001")]), 1)

    def test_a_bill_entered_by_hand_is_linked_by_number_and_date(self):
        typed = self.init_invoice("in_invoice", partner=self.vendor, amounts=[300], invoice_date="2026-11-10")
        typed.ref = "PM 1001"  # typed with a space
        message = self.receive(ubl.write(self.invoice()))
        self.assertEqual(message.move_id, typed)
        self.assertIn("same number and date", message.match_report)
        self.assertIn("invoice.xml", typed.attachment_ids.mapped("name"))
        self.assertEqual(self.env["account.move"].search_count([("partner_id", "=", self.vendor.id)]), 1)

    def test_a_bill_entered_by_hand_is_linked_by_date_and_total(self):
        typed = self.init_invoice("in_invoice", partner=self.vendor, amounts=[190], invoice_date="2026-11-10",
                                  taxes=self.tax_purchase_a)  # fmt: skip
        typed.ref = "our own numbering"
        self.assertEqual(typed.amount_total, 218.5)
        message = self.receive(ubl.write(self.invoice()))
        self.assertEqual(message.move_id, typed)
        self.assertIn("same date and total", message.match_report)

    def test_an_unknown_vendor_is_left_for_review_or_created(self):
        self.vendor.vat = False
        message = self.receive(ubl.write(self.invoice(number="PM-2")))
        self.assertEqual(message.state, "to_review")
        self.assertFalse(message.move_id.partner_id)
        self.company.einvoice_create_vendors = True
        message = self.receive(ubl.write(self.invoice(number="PM-3")))
        created = message.move_id.partner_id
        self.assertEqual((created.name, created.vat, created.country_id.code), ("Paper Mill NV", SELLER_VAT, "BE"))
        self.assertNotEqual(created, self.vendor)

    def test_totals_that_do_not_add_up_in_odoo_are_flagged(self):
        self.tax_purchase_a.amount = 16  # our tax of that rate changed: the invoice's 15 % matches nothing
        message = self.receive(ubl.write(self.invoice()))
        self.assertEqual(message.state, "to_review")
        self.assertEqual(message.amount_total, 218.5)
        self.assertEqual(message.amount_difference, -28.5)  # the bill has no tax on its lines

    def test_a_credit_note_becomes_a_vendor_refund(self):
        credit = self.invoice(number="PM-CN-1")
        credit = Invoice.build(
            **{name: getattr(credit, name) for name in ("number", "issue_date", "currency", "seller", "buyer")},
            type_code="381",
            lines=credit.lines,
        )
        bill = self.receive(ubl.write(credit)).move_id
        self.assertEqual((bill.move_type, bill.amount_total), ("in_refund", 218.5))

    def test_the_bill_is_the_one_odoo_makes_of_the_same_lines(self):
        """The lines reach account.move.create with the tax tags and amounts Odoo's tax engine gives them: the bill
        is the one Odoo makes when it works them out itself, and Odoo writes none of its lines again."""
        lines = [
            *self.invoice().lines,
            Line("3", Decimal(3), "H87", Decimal("27.00"), Decimal("10.00"), "Paper clips", "S", Decimal(15)),
            Line("4", Decimal("0.333"), "H87", Decimal("4.11"), Decimal("12.345"), "Glue", "S", Decimal(15)),
        ]  # a discount (10 %), then a quantity and a price with more digits than Odoo keeps
        extras = [
            AllowanceCharge(False, Decimal("5.00"), reason="Loyalty", vat_category="S", vat_rate=Decimal(15)),
            AllowanceCharge(True, Decimal("7.50"), reason="Transport", vat_category="S", vat_rate=Decimal(15)),
        ]
        line_model = self.registry["account.move.line"]
        write = line_model.write
        written = []

        def counted_write(records, values):
            written.append(set(values))
            return write(records, values)

        def bill(number, type_code):
            invoice = self.invoice(number=number, lines=lines, allowances_charges=extras)
            return self.receive(ubl.write(invoice.replace(type_code=type_code)), f"{number}.xml").move_id

        def made(bill):
            return [
                bill.move_type, bill.amount_untaxed, bill.amount_tax, bill.amount_total, bill.invoice_date_due,
                sorted(
                    (line.display_type, line.account_id.id, (line.name or "").replace(bill.ref, "<number>"),
                     line.product_id.id, line.quantity,
                     line.price_unit, line.discount, line.balance, line.amount_currency, line.tax_ids.ids,
                     sorted(line.tax_tag_ids.ids), line.tax_repartition_line_id.id, line.tax_base_amount,
                     line.date_maturity)
                    for line in bill.line_ids
                ),
            ]  # fmt: skip

        for type_code in ("380", "381"):
            with patch.object(line_model, "write", counted_write):
                ours = bill(f"PM-{type_code}-A", type_code)
            with patch.object(BillImporter, "_add_tax_results", lambda *args: None):
                odoos = bill(f"PM-{type_code}-B", type_code)
            self.assertEqual(made(ours), made(odoos))
            self.assertEqual(len(ours.invoice_line_ids), 6)
            self.assertFalse([fields for fields in written if fields & {"balance", "amount_currency", "tax_tag_ids"}])

    def test_a_file_that_cannot_be_read_stays_and_is_retried(self):
        message = self.receive(b"<Invoice>cut off in the midd", "broken.xml")
        self.assertEqual(message.state, "failed")
        self.assertIn("broken.xml", message.error_message)
        self.assertFalse(message.move_id)
        self.assertEqual(message.raw_attachment_id.raw, b"<Invoice>cut off in the midd")
        message.action_retry()
        self.assertEqual(message.state, "failed")
        message.raw_attachment_id.raw = ubl.write(self.invoice())  # fetched again, whole this time
        message.action_retry()
        self.assertEqual(message.state, "imported")
        self.assertTrue(message.move_id)

    def test_the_import_wizard(self):
        wizard = self.env["account.einvoice.import.wizard"].create(
            {"file": base64.b64encode(ubl.write(self.invoice())), "filename": "PM-1001.xml"}
        )
        action = wizard.action_import()
        self.assertEqual(action["res_model"], "account.move")
        self.assertEqual(self.env["account.move"].browse(action["res_id"]).ref, "PM-1001")

    def test_posting_remembers_the_vendors_codes(self):
        unknown_code = Line("1", Decimal(1), "H87", Decimal("45.00"), Decimal("45.00"), "Black toner TN-2", "S",
                            Decimal(15), seller_item_id="TN-2")  # fmt: skip
        bill = self.receive(ubl.write(self.invoice(number="PM-5", lines=[unknown_code]))).move_id
        self.assertFalse(bill.invoice_line_ids.product_id)
        bill.invoice_line_ids.product_id = self.toner  # the accountant says which product it is
        bill.invoice_line_ids.price_unit = 45
        bill.action_post()
        info = self.env["product.supplierinfo"].search(
            [("partner_id", "=", self.vendor.id), ("product_code", "=", "TN-2")]
        )
        self.assertEqual(info.product_tmpl_id, self.toner.product_tmpl_id)
        again = self.receive(ubl.write(self.invoice(number="PM-6", lines=[unknown_code]))).move_id
        self.assertEqual(again.invoice_line_ids.product_id, self.toner)

    def test_the_accountants_get_one_digest(self):
        self.company.einvoice_accountant_ids = self.env.user
        good = self.receive(ubl.write(self.invoice()))
        bad = self.receive(b"garbage", "bad.xml")
        mails = self.env["mail.mail"].search([("subject", "like", "E-invoices received")])
        self.inbox._cron_notify()
        digest = self.env["mail.mail"].search([("subject", "like", "E-invoices received")]) - mails
        self.assertEqual(len(digest), 1)
        self.assertIn("1 bill(s) to check, 1 message(s) failed", digest.subject)
        self.assertEqual(digest.recipient_ids, self.env.user.partner_id)
        self.assertIn("PM-1001", digest.body_html)
        self.assertTrue((good | bad).activity_ids.filtered(lambda activity: activity.user_id == self.env.user))
        self.assertTrue(all((good | bad).mapped("notified")))
        self.inbox._cron_notify()
        self.assertEqual(self.env["mail.mail"].search([("subject", "like", "E-invoices received")]) - mails, digest)

    def test_each_accountant_reads_the_digest_in_their_language(self):
        """The digest is written by a scheduled job, which has no user's language: each accountant gets it in theirs."""
        for code in ("ro_RO", "pl_PL"):
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"]._load_module_terms(["account_einvoice"], ["ro_RO", "pl_PL"])  # the states' names
        romanian, polish = (
            self.env["res.users"].create(
                {
                    "name": f"Accountant {lang}",
                    "login": f"accountant_{lang}",
                    "lang": lang,
                    "company_id": self.company.id,
                    "company_ids": [Command.set(self.company.ids)],
                }
            )
            for lang in ("ro_RO", "pl_PL")
        )
        self.company.einvoice_accountant_ids = romanian | polish
        self.receive(b"garbage", "bad.xml")
        self.inbox.with_context(lang="en_US")._cron_notify()
        digests = self.env["mail.mail"].search(
            [("recipient_ids", "in", (romanian | polish).partner_id.ids), ("model", "=", False)]
        )
        subjects = {digest.recipient_ids: digest.subject for digest in digests}
        self.assertEqual(len(digests), 2)
        self.assertEqual(
            subjects[romanian.partner_id],
            "Facturi electronice primite: facturi furnizor de verificat: 0, mesaje eșuate: 1",
        )
        self.assertEqual(
            subjects[polish.partner_id], "Otrzymane e-faktury: faktury zakupu do sprawdzenia: 0, nieudane wiadomości: 1"
        )
        self.assertIn("Eșuat", digests.filtered(lambda digest: digest.recipient_ids == romanian.partner_id).body_html)

    def test_other_companies_do_not_see_the_message(self):
        message = self.receive(ubl.write(self.invoice()))
        other = self.setup_other_company()["company"]
        user = self.env["res.users"].create(
            {
                "name": "Other accountant",
                "login": "other_accountant",
                "company_id": other.id,
                "company_ids": [Command.set(other.ids)],
                "group_ids": [Command.set(self.env.ref("account.group_account_invoice").ids)],
            }
        )
        self.assertFalse(self.inbox.with_user(user).search([("id", "=", message.id)]))

    def test_one_invoice_received_twice_in_one_batch_makes_one_bill(self):
        xml = ubl.write(self.invoice())
        company = self.company.id
        messages = self.inbox.concat(
            *(
                self.inbox._store(
                    {"platform": "upload", "platform_id": name, "company_id": company}, xml, f"{name}.xml"
                )
                for name in ("first-copy", "second-copy")
            )
        )
        messages._process()
        self.assertEqual(len(messages.move_id), 1)
        self.assertEqual(set(messages.mapped("state")), {"imported"})
        self.assertIn("same number and date", messages[1].match_report)


@tagged("post_install", "-at_install")
class TestTwoWorkers(TransactionCase):
    """Two workers on the inbox at once, each with its own database connection, as two cron processes have."""

    def worker(self):
        cr = self.registry.cursor()
        self.addCleanup(cr.close)
        return api.Environment(cr, SUPERUSER_ID, {})["account.einvoice.inbox"]

    def message_values(self, platform_id):
        return {"platform": "upload", "platform_id": platform_id, "company_id": self.env.ref("base.main_company").id}

    def backend(self, worker):
        worker.env.cr.execute("SELECT pg_backend_pid()")
        return worker.env.cr.fetchone()[0]

    def waits_for_a_lock(self, backend, thread):
        """Whether the database session ``backend``, used by ``thread``, comes to wait on a lock before the thread
        ends."""
        with self.registry.cursor() as observer:
            while thread.is_alive():
                observer.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", [backend])
                if observer.fetchone()[0]:
                    return True
                observer.commit()  # pg_stat_activity is read afresh in each transaction
                time.sleep(0.01)
        return False

    def forget(self, platform_id):
        inbox = self.worker()
        inbox.search([("platform", "=", "upload"), ("platform_id", "=", platform_id)]).unlink()
        inbox.env.cr.commit()

    def test_a_message_fetched_by_two_workers_at_once_is_stored_once(self):
        self.addCleanup(self.forget, "two-workers-store")
        first, second = self.worker(), self.worker()
        first._store(self.message_values("two-workers-store"))  # not committed yet
        found, backend = [], self.backend(second)
        # the second worker inserts the same message: PostgreSQL holds it until the first one commits
        racing = threading.Thread(target=lambda: found.append(second._store(self.message_values("two-workers-store"))))
        racing.start()
        self.assertTrue(self.waits_for_a_lock(backend, racing), "the second insert waits for the first worker")
        first.env.cr.commit()
        racing.join()
        self.assertFalse(found[0], "the message is the first worker's: the second one leaves it")
        second.env.cr.commit()
        self.assertEqual(first.search_count([("platform_id", "=", "two-workers-store")]), 1)

    def test_a_message_taken_by_one_worker_is_skipped_by_the_other(self):
        self.addCleanup(self.forget, "two-workers-lock")
        setup = self.worker()
        message = setup._store(self.message_values("two-workers-lock"))
        setup.env.cr.commit()
        first, second = self.worker(), self.worker()
        self.assertIn(message.id, first._lock_new(1000).ids)
        self.assertNotIn(message.id, second._lock_new(1000).ids)
        first.env.cr.rollback()
        self.assertIn(message.id, second._lock_new(1000).ids)  # released: the other worker may take it now
