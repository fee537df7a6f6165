from datetime import date
from decimal import Decimal

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.account_einvoice.models import account_einvoice_inbox as inbox_model

from einvoice import ubl
from einvoice.model import Address, Identifier, Invoice, Line, Party
from einvoice.ro.anaf import AnafClient, Endpoints

from .common import SELLER_CIF, ConnectedToAnaf

VENDOR_CIF = "14399840"
CII_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocument><ram:ID>CII-9</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20261112</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Ciment 40 kg</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>50.00</ram:ChargeAmount>
        </ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="H87">2</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
          <ram:RateApplicablePercent>21</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>100.00</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Beta Constructii SA</ram:Name>
        <ram:PostalTradeAddress><ram:CountryID>RO</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">RO14399840</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Alfa</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>RON</ram:InvoiceCurrencyCode>
      <ram:ApplicableTradeTax><ram:CalculatedAmount>21.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
        <ram:BasisAmount>100.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>
        <ram:RateApplicablePercent>21</ram:RateApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>100.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="RON">21.00</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>121.00</ram:GrandTotalAmount><ram:DuePayableAmount>121.00</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSpvInbox(ConnectedToAnaf):
    """SPV messages -> inbox -> vendor bills, against the ANAF simulator over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor = cls.customer  # Beta sells to us too
        cls.cement = cls.env["product.product"].create({"name": "Ciment Portland 40 kg", "purchase_ok": True})
        cls.env["product.supplierinfo"].create(
            {"partner_id": cls.vendor.id, "product_tmpl_id": cls.cement.product_tmpl_id.id, "product_code": "CIM-40"}
        )
        cls.inbox = cls.env["account.einvoice.inbox"]

    def setUp(self):
        super().setUp()
        self.anaf.messages.clear()  # the simulator outlives each test's rollback: each test starts an empty SPV
        self.anaf.uploads.clear()

    def supplier_invoice(self, number="BETA-100", amount="100.00"):
        amount = Decimal(amount)
        invoice = Invoice.build(
            number=number,
            issue_date=date(2026, 11, 12),
            type_code="380",
            currency="RON",
            seller=Party(name="Beta Constructii SA", vat_id=f"RO{VENDOR_CIF}", address=Address("RO", city="Cluj")),
            buyer=Party(name="Alfa", vat_id=f"RO{SELLER_CIF}", legal_id=Identifier(SELLER_CIF)),
            lines=[
                Line(
                    "1",
                    Decimal(2),
                    "H87",
                    amount,
                    amount / 2,
                    "Ciment 40 kg",
                    "S",
                    Decimal(21),
                    seller_item_id="CIM-40",
                )
            ],
        )
        return ubl.write(invoice)

    def sync(self):
        self.clock.advance(120)  # ANAF lists a message a moment after it arrived
        self.inbox._cron_l10n_ro_efactura_sync()

    def messages(self, **domain):
        return self.inbox.search([("platform", "=", "ro_efactura"), *[(k, "=", str(v)) for k, v in domain.items()]])

    def downloaded(self):
        return {request.arg("id") for request in self.anaf.requests_to(r".*/descarcare")}

    def test_a_window_of_more_than_one_page_is_stored_once_and_nothing_is_downloaded_twice(self):
        """501 messages: both pages of ANAF's paginated list stored at once; each run imports its batch (a few here,
        so that the test does not make hundreds of bills) and a sync run twice stores and downloads nothing again."""
        self.patch(inbox_model, "PROCESS_BATCH", 5)
        for number in range(501):
            self.anaf.add_received(SELLER_CIF, self.supplier_invoice(f"BETA-{number}"), seller_cif=VENDOR_CIF)
        self.sync()
        pages = self.anaf.requests_to(r".*/listaMesajePaginatieFactura")
        self.assertEqual(sorted(request.arg("pagina") for request in pages), ["1", "2"])
        received = self.messages(kind="invoice")
        self.assertEqual(len(received), 501)
        self.assertEqual(len(received.filtered(lambda message: message.state == "imported")), 5)
        first_downloads = self.downloaded()
        self.assertEqual(len(first_downloads), 5)

        self.anaf.requests.clear()
        self.sync()
        self.assertEqual(len(self.messages(kind="invoice")), 501)
        self.assertEqual(len(self.downloaded()), 5)
        self.assertFalse(self.downloaded() & first_downloads)
        self.assertEqual(len(received.filtered(lambda message: message.state == "imported")), 10)
        self.assertEqual(len(received.move_id), 10)

    def test_received_invoices_become_bills_a_batch_a_run(self):
        """More supplier invoices than a run takes (200; 10 here): the rest are imported by the next runs, every
        invoice once, each with its vendor, products and totals."""
        self.patch(inbox_model, "PROCESS_BATCH", 10)
        for number in range(25):
            self.anaf.add_received(SELLER_CIF, self.supplier_invoice(f"BETA-{number}"), seller_cif=VENDOR_CIF)
        self.sync()
        received = self.messages(kind="invoice")
        self.assertEqual(len(received.filtered(lambda message: message.state == "imported")), 10)
        runs = 1
        while received.filtered(lambda message: message.state == "new"):
            self.clock.advance(60)  # the next run, a minute later
            self.inbox._cron_process()
            runs += 1
        self.assertEqual(runs, 3)
        self.assertEqual(set(received.mapped("state")), {"imported"}, received[:1].match_report)
        bills = received.move_id
        self.assertEqual(len(bills), 25)
        self.assertEqual(set(bills.mapped("partner_id")), {self.vendor})
        self.assertEqual(bills[:1].invoice_line_ids.product_id, self.cement)
        self.assertEqual(bills[:1].amount_total, 121.0)
        self.assertEqual(len(self.downloaded()), 25)
        self.assertEqual(self.env["account.move"].search_count([("partner_id", "=", self.vendor.id)]), 25)

    def test_the_bill_keeps_anafs_archive_signature_and_a_pdf(self):
        download_id = self.anaf.add_received(SELLER_CIF, self.supplier_invoice(), seller_cif=VENDOR_CIF)
        self.sync()
        message = self.messages(platform_id=download_id)
        names = message.move_id.attachment_ids.mapped("name")
        self.assertIn(f"{download_id}.zip", names)
        self.assertEqual(len([name for name in names if name.startswith("semnatura_")]), 1)
        self.assertIn(f"{download_id}.pdf", names)  # ANAF's rendering: the invoice came without one
        self.assertTrue(message.move_id.message_main_attachment_id.name.endswith(".pdf"))
        archive = message.raw_attachment_id.raw
        self.assertEqual(archive, self.anaf.uploads[message.details.split("id_incarcare=")[1].split()[0]].archive)

    def test_a_cii_invoice_from_spv(self):
        self.anaf.add_received(SELLER_CIF, CII_TEMPLATE.encode(), seller_cif=VENDOR_CIF)
        self.sync()
        bill = self.messages(kind="invoice").move_id
        self.assertEqual((bill.ref, bill.partner_id, bill.amount_total), ("CII-9", self.vendor, 121.0))

    def test_a_message_that_cannot_be_read_stays_and_is_retried(self):
        download_id = self.anaf.add_received(SELLER_CIF, b"<Factura><Numar>7</Numar></Factura>", seller_cif=VENDOR_CIF)
        self.sync()
        message = self.messages(platform_id=download_id)
        self.assertEqual(message.state, "failed")
        self.assertIn("holds no e-invoice", message.error_message)
        self.assertTrue(message.raw_attachment_id.raw.startswith(b"PK"))  # kept as ANAF gave it
        self.sync()
        self.assertEqual(len(self.messages(platform_id=download_id)), 1)
        # the supplier's document as a later reading understands it: the retry downloads and imports it
        upload = next(iter(self.anaf.uploads.values()))
        upload.xml, upload.archive = self.supplier_invoice(), None
        message.raw_attachment_id.unlink()
        message.action_retry()
        self.assertEqual(message.state, "imported")
        self.assertTrue(message.move_id)

    def test_a_message_over_anafs_download_limit_waits_for_the_next_run(self):
        download_id = self.anaf.add_received(SELLER_CIF, self.supplier_invoice(), seller_cif=VENDOR_CIF)
        self.addCleanup(self.anaf.limits.__setitem__, "download", self.anaf.limits["download"])
        self.anaf.limits["download"] = 0
        self.sync()
        message = self.messages(platform_id=download_id)
        self.assertEqual((message.state, message.raw_attachment_id.id), ("new", False))  # listed, kept, not lost
        self.anaf.limits["download"] = 10  # the next day
        self.sync()
        self.assertEqual(message.state, "imported")
        self.assertTrue(message.move_id)

    def test_an_spv_message_from_listed_to_done(self):
        """Listed but not downloaded yet, the message is named by its platform, id and day; retried, it says it waits
        for ANAF; downloaded, it reads as its invoice; posting its bill makes it done. A sync says nothing on the
        connection."""
        download_id = self.anaf.add_received(SELLER_CIF, self.supplier_invoice(), seller_cif=VENDOR_CIF)
        self.addCleanup(self.anaf.limits.__setitem__, "download", self.anaf.limits["download"])
        self.anaf.limits["download"] = 0
        connection_chatter = [("model", "=", self.connection._name), ("res_id", "=", self.connection.id)]
        chatter = self.env["mail.message"].search(connection_chatter)
        self.inbox = self.inbox.with_context(tracking_disable=False, mail_notrack=False)  # as the scheduler runs it
        self.sync()
        self.env.cr.precommit.run()  # tracking lines are written when the transaction commits
        self.assertEqual(self.env["mail.message"].search(connection_chatter), chatter)
        message = self.messages(platform_id=download_id)
        self.assertEqual(message.name, f"RO e-Factura (ANAF) - {download_id} - {message.received_at.date()}")
        action = message.action_retry()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("waits for the platform", action["params"]["message"])

        self.anaf.limits["download"] = 10
        action = message.action_retry()
        self.assertEqual(message.name, "Beta Constructii SA - BETA-100 - 2026-11-12")
        self.assertEqual(message.state, "imported", message.match_report)
        self.assertIn(f"imported into {message.move_id.display_name}", action["params"]["message"])
        message.move_id.action_post()
        self.assertEqual(message.state, "done")

    def test_a_message_anaf_no_longer_keeps_fails_clearly(self):
        download_id = self.anaf.add_received(SELLER_CIF, self.supplier_invoice(), seller_cif=VENDOR_CIF)
        self.sync()
        message = self.messages(platform_id=download_id)
        message.raw_attachment_id.unlink()
        message.write({"state": "new"})
        self.clock.advance(61 * 86400)
        message.action_retry()
        self.assertEqual(message.state, "failed")
        self.assertIn(str(download_id), message.error_message)
        self.assertIn("60", message.error_message)

    def test_messages_about_our_invoices_settle_them(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = move.einvoice_document_id
        self.clock.advance(self.processing_seconds + 1)
        self.sync()
        self.assertEqual(document.state, "accepted")
        self.assertTrue(document.response_attachment_id)
        message = self.messages(kind="sent")
        self.assertEqual((message.state, message.document_id), ("done", document))
        self.assertFalse(self.anaf.requests_to(r".*/stareMesaj"))  # the list told it: no status question

    def test_a_lost_answer_is_resolved_by_the_messages(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = move.einvoice_document_id
        document.write({"state": "unknown"})  # as if the upload's answer never came back
        self.clock.advance(self.processing_seconds + 1)
        self.sync()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)

    def test_an_invoice_sent_from_elsewhere_is_recorded_and_never_sent_again(self):
        move = self.posted_invoice()
        elsewhere = AnafClient(self.anaf.issue_tokens()["access_token"], endpoints=Endpoints.at(self.anaf.url))
        elsewhere.upload(move._l10n_ro_efactura_xml(), SELLER_CIF)  # ANAF's portal, another program...
        self.clock.advance(self.processing_seconds + 1)
        self.sync()
        self.assertEqual(move.einvoice_state, "accepted")
        with self.assertRaisesRegex(UserError, "never sent twice"):
            move.action_einvoice_send()
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)

    def test_the_accountants_hear_of_new_bills(self):
        self.env.company.einvoice_accountant_ids = self.env.user
        self.anaf.add_received(SELLER_CIF, self.supplier_invoice(), seller_cif=VENDOR_CIF)
        self.sync()
        digest = self.env["mail.mail"].search([("subject", "like", "E-invoices received: 1 bill(s)")])
        self.assertEqual(len(digest), 1)
        self.assertIn("BETA-100", digest.body_html)
