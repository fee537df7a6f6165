from datetime import date
from decimal import Decimal

from odoo.tests import tagged

from einvoice.model import Address, Invoice, Line, Party
from einvoice.pl import fa3
from einvoice.pl.model import ROLE_PAYER, PlInvoice, ThirdParty

from .common import SELLER_NIP, ConnectedToKsef, pdf_text

GAMMA_NIP = "1132853869"
DELTA_NIP = "5252248481"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestKsefInbox(ConnectedToKsef):
    """Purchase invoices in KSeF -> inbox -> draft vendor bills, against the KSeF simulator over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partners = cls.env["res.partner"]
        # one vendor written with the PL prefix, the other without it, as Polish users do both
        cls.gamma = partners.create({"name": "Gamma Materiały sp. z o.o.", "is_company": True, "vat": f"PL{GAMMA_NIP}"})
        cls.delta = partners.create({"name": "Delta Transport S.A.", "is_company": True, "vat": DELTA_NIP})
        cls.inbox = cls.env["account.einvoice.inbox"]

    def supplier_invoice(
        self, number, nip=GAMMA_NIP, name="Gamma Materiały sp. z o.o.", amount="100.00", buyer=SELLER_NIP, third=()
    ):
        """The FA(3) a supplier sends to our company through KSeF (or to ``buyer``, naming ``third`` parties)."""
        amount = Decimal(amount)
        invoice = Invoice.build(
            number=number,
            issue_date=date(2026, 11, 12),
            type_code="380",
            currency="PLN",
            seller=Party(name=name, vat_id=f"PL{nip}", address=Address("PL", "ul. Szkolna 2", city="Radom")),
            buyer=Party(name="Alfa", vat_id=f"PL{buyer}", address=Address("PL", "ul. Marszałkowska 10")),
            lines=[Line("1", Decimal(4), "H87", amount, amount / 4, "Cement 40 kg", "S", Decimal(23))],
            extensions={"pl": PlInvoice(third_parties=tuple(third))},
        )
        return fa3.write(invoice)

    def seed(self, xml, **kwargs):
        """The supplier's invoice in KSeF, numbered and stored a moment ago."""
        invoice = self.ksef.seed_invoice(xml, **kwargs)
        self.clock.advance(1)
        return invoice

    def sync(self):
        self.inbox._cron_l10n_pl_ksef_sync()

    def messages(self):
        return self.inbox.search([("platform", "=", "pl_ksef")], order="id")

    def exports(self, subject="Subject2"):
        requests = self.ksef.requests_to(r"/invoices/exports$", "POST")
        return [request for request in requests if request.json()["filters"]["subjectType"] == subject]

    def test_received_invoices_become_bills_of_vendors_found_by_nip_once(self):
        gamma = self.seed(self.supplier_invoice("GM/7781"))
        delta = self.seed(self.supplier_invoice("DT/15", DELTA_NIP, "Delta Transport S.A.", "250.00"))
        self.sync()
        messages = self.messages()
        self.assertEqual(messages.mapped("platform_id"), [gamma.ksef_number, delta.ksef_number])
        self.assertEqual(messages[0].raw_attachment_id.raw, gamma.xml)  # kept as KSeF stored it
        self.assertTrue(all(message.move_id for message in messages), messages.mapped("error_message"))
        gamma_bill, delta_bill = messages.move_id
        self.assertEqual((gamma_bill.partner_id, gamma_bill.ref, gamma_bill.state), (self.gamma, "GM/7781", "draft"))
        self.assertEqual(delta_bill.partner_id, self.delta)  # its NIP was entered without PL
        self.assertEqual((gamma_bill.amount_total, delta_bill.amount_total), (123.0, 307.5))
        self.assertIn(f"{gamma.ksef_number}.xml", gamma_bill.attachment_ids.mapped("name"))
        export = self.exports()[0].json()["filters"]
        self.assertEqual((export["subjectType"], export["dateRange"]["dateType"]), ("Subject2", "PermanentStorage"))
        self.assertFalse(self.ksef.requests_to(r"/invoices/ksef/"))  # the export carried the invoices

        mark = self.connection.incoming_from
        self.clock.advance(900)  # the next run
        self.sync()
        self.assertEqual(self.messages(), messages)
        vendors = messages.move_id.partner_id
        self.assertEqual(self.env["account.move"].search_count([("partner_id", "in", vendors.ids)]), 2)
        self.assertEqual(self.exports()[-1].json()["filters"]["dateRange"]["from"][:19], mark.isoformat()[:19])

    def test_a_received_invoice_reads_as_a_pdf_on_its_bill_beside_the_xml_kept_as_received(self):
        received = self.seed(self.supplier_invoice("GM/PDF/9", amount="1234.50"))
        self.sync()
        bill = self.messages().move_id
        names = bill.attachment_ids.mapped("name")
        self.assertIn(f"{received.ksef_number}.xml", names)  # the invoice itself stays, as KSeF stored it
        main = bill.message_main_attachment_id
        self.assertEqual((main.name, main.mimetype), (f"{received.ksef_number}.pdf", "application/pdf"))
        text = pdf_text(self, main.raw)
        for fact in ("GM/PDF/9", GAMMA_NIP, SELLER_NIP, received.ksef_number, "Gamma Materiały sp. z o.o."):
            self.assertIn(fact, text)
        # net, VAT at 23% and the total, as a Polish reader writes them
        for amount in ("1 234,50", "283,94", "1 518,44"):
            self.assertIn(amount, text)
        self.assertEqual(bill.amount_total, 1518.44)

    def test_an_invoice_naming_the_company_as_a_third_party_is_imported_with_its_role_to_review(self):
        payer = ThirdParty(Party(name="Alfa", vat_id=f"PL{SELLER_NIP}"), role=ROLE_PAYER)
        paid_for = self.seed(self.supplier_invoice("GM/P3", buyer=DELTA_NIP, third=[payer]))
        bought = self.seed(self.supplier_invoice("GM/8"))
        self.sync()
        third, own = self.messages().sorted(lambda message: message.platform_id != paid_for.ksef_number)
        self.assertEqual(third.platform_id, paid_for.ksef_number)
        self.assertEqual((third.l10n_pl_ksef_subject, third.l10n_pl_ksef_third_role), ("Subject3", "6"))
        self.assertEqual((own.platform_id, own.l10n_pl_ksef_subject), (bought.ksef_number, "Subject2"))
        self.assertEqual(third.state, "to_review", "a third party's invoice is for an accountant to judge")
        self.assertTrue(third.move_id)
        self.assertEqual(len(self.exports("Subject3")), 1)
        self.assertTrue(self.connection.incoming_third_from > self.connection.create_date)

        self.clock.advance(900)
        self.sync()
        self.assertEqual(len(self.messages()), 2, "each invoice once")

    def test_an_invoice_stored_late_comes_with_the_next_sync(self):
        """Numbered now, written to permanent storage later: above KSeF's high-water mark, it is not lost."""
        early = self.seed(self.supplier_invoice("GM/1"))
        late = self.ksef.seed_invoice(self.supplier_invoice("GM/2"), received_at=self.clock.datetime())
        self.sync()
        self.assertEqual(self.messages().mapped("platform_id"), [early.ksef_number])
        self.processed()
        self.sync()
        self.assertEqual(self.messages().mapped("platform_id"), [early.ksef_number, late.ksef_number])

    def test_a_bill_typed_by_hand_is_linked(self):
        typed = self.init_invoice("in_invoice", partner=self.gamma, amounts=[100.0], taxes=self.pl_tax("vz_kraj_23"))
        typed.write({"ref": "GM/7781", "invoice_date": date(2026, 11, 12)})
        self.seed(self.supplier_invoice("GM/7781"))
        self.sync()
        message = self.messages()
        self.assertEqual(message.move_id, typed)
        self.assertEqual(self.env["account.move"].search_count([("partner_id", "=", self.gamma.id)]), 1)

    def test_an_invoice_without_its_content_is_downloaded_by_its_ksef_number(self):
        received = self.seed(self.supplier_invoice("GM/7781"))
        self.sync()
        message = self.messages()
        message.move_id.unlink()
        message.raw_attachment_id.unlink()
        message.write({"state": "new", "move_id": False})
        message.action_retry()
        self.assertEqual(len(self.ksef.requests_to(rf"/invoices/ksef/{received.ksef_number}$")), 1)
        self.assertEqual(message.raw_attachment_id.raw, received.xml)
        self.assertTrue(message.move_id)

    def test_the_accountants_get_a_digest(self):
        self.env.company.einvoice_accountant_ids = self.env.user
        self.seed(self.supplier_invoice("GM/7781"))
        self.sync()
        digest = self.env["mail.mail"].search([("subject", "like", "E-invoices received: 1 bill(s)")])
        self.assertEqual(len(digest), 1)
        self.assertIn("GM/7781", digest.body_html)
        self.assertTrue(self.messages().notified)

    def test_an_administrator_imports_at_once(self):
        self.seed(self.supplier_invoice("GM/7781"))
        action = self.connection.action_import_purchase_invoices()
        self.assertIn("1 purchase invoice(s)", action["params"]["message"])
        self.assertTrue(self.messages().move_id)
        action = self.connection.action_import_purchase_invoices()  # nothing new since
        self.assertIn("0 purchase invoice(s)", action["params"]["message"])

    def test_the_connection_says_only_what_changed(self):
        """A sync that receives nothing writes nothing in the connection's chatter, though its mark moves on; one
        that receives invoices says how many; a failing sync says so once, and again once it works."""

        def said():
            self.env.cr.precommit.run()  # the chatter's tracking lines are written when the transaction commits
            return self.env["mail.message"].search(
                [("model", "=", self.connection._name), ("res_id", "=", self.connection.id)]
            )

        # as the scheduler runs it: with the tracking the tests turn off
        self.inbox = self.inbox.with_context(tracking_disable=False, mail_notrack=False)
        before = said()
        mark = self.connection.incoming_from
        self.sync()
        self.clock.advance(900)
        self.sync()
        self.assertNotEqual(self.connection.incoming_from, mark)
        self.assertEqual(said(), before)

        self.seed(self.supplier_invoice("GM/7781"))
        self.sync()
        received = said() - before
        self.assertEqual(received.mapped("preview"), ["1 purchase invoice(s) received from KSeF."])

        self.ksef.inject("status", status=400, path=r"/invoices/exports$", times=2)
        self.clock.advance(900)
        self.sync()
        self.clock.advance(900)
        self.sync()  # failing the same way: nothing more said
        failed = said() - before - received
        self.assertEqual(len(failed), 1)
        self.assertIn("could not be fetched from KSeF", failed.preview)
        self.assertTrue(self.connection.sync_error)

        self.clock.advance(900)
        self.sync()
        again = said() - before - received - failed
        self.assertEqual(again.mapped("preview"), ["Purchase invoices are fetched from KSeF again."])
        self.assertFalse(self.connection.sync_error)
