import contextlib
from dataclasses import replace
from datetime import datetime, timezone

from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.account_einvoice.tests.common import invoice_sales_order

from einvoice.pl import fa3
from einvoice.pl.model import ADVANCE_KINDS, buyer_abroad, pl_invoice, rate_code, rate_groups
from einvoice.validation import ValidationUnavailableError, validate_fa3

from .common import ConnectedToKsef

FA = {"fa": fa3.NS}
GENERATED = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestInvoiceKinds(ConnectedToKsef):
    """Every kind of FA(3) invoice written from an Odoo invoice: valid for the official schema (when configured,
    EINVOICE_FA3_XSD_DIR), passing our checks, read back into the invoice that was written, and taken by KSeF."""

    def written(self, move):
        """The FA(3) of ``move``, held against the schema and our checks, and the invoice it reads back into
        compared with the one written: kind and every Polish field, amounts per rate group, totals, parties,
        lines."""
        invoice, findings = move._einvoice_invoice()
        self.assertEqual(findings, [])
        written = move._l10n_pl_ksef_invoice(invoice)
        written = replace(written, extensions={"pl": replace(pl_invoice(written), generated_at=GENERATED)})
        xml = fa3.write(written)
        # the official schema is optional here: our own checks run either way
        with contextlib.suppress(ValidationUnavailableError):
            self.assertEqual([str(finding) for finding in validate_fa3(etree.fromstring(xml))], [])
        self.assertEqual([str(finding) for finding in fa3.check_document(xml)], [])
        read = fa3.read(xml).invoice
        self.assertEqual(pl_invoice(read), pl_invoice(written))
        self.assertEqual(rate_groups(read), rate_groups(written))
        for total in ("tax_exclusive", "tax_total", "tax_inclusive"):
            self.assertEqual(getattr(read.totals, total), getattr(written.totals, total), total)
        for party in ("seller", "buyer"):
            ours, theirs = getattr(written, party), getattr(read, party)
            self.assertEqual((theirs.name, theirs.vat_id, theirs.address), (ours.name, ours.vat_id, ours.address))
        self.assertEqual(
            (read.number, read.issue_date, read.due_date, read.currency, read.type_code),
            (written.number, written.issue_date, written.due_date, written.currency, written.type_code),
        )
        # FA(3) has no payment reference: the invoice number stands for it, another one is an additional description
        self.assertEqual(read.payment_means, tuple(replace(means, payment_id=None) for means in written.payment_means))
        self.assertEqual(self.lines(read), self.lines(written))
        return written, etree.fromstring(xml).find("fa:Fa", FA)

    @staticmethod
    def lines(invoice):
        """The lines as FA(3) carries them (an advance invoice shows its order instead)."""
        if pl_invoice(invoice).kind in ADVANCE_KINDS:
            return ()
        abroad = buyer_abroad(invoice)
        return [
            (
                line.id,
                line.item_name,
                line.quantity,
                line.unit_code,
                line.price,
                line.net_amount,
                rate_code(line, abroad),
            )
            for line in invoice.lines
        ]

    def accepted(self, move):
        """``move`` sent to KSeF, numbered and accepted."""
        move.action_einvoice_send()
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted", move.einvoice_document_id.error_message)
        return move

    def credit_note(self, move, reason):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"reason": reason, "journal_id": move.journal_id.id})
        )
        credit_note = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        credit_note.action_post()
        return credit_note

    # -- down payments: advance (ZAL), settlement (ROZ) and their corrections ----------------------------------------
    def sales_order(self, **values):
        if "sale.order" not in self.env:
            self.skipTest("the Sales app is not installed")
        self.env.user.sudo().group_ids += self.env.ref("sales_team.group_sale_salesman")
        tax = self.pl_tax()
        house, assembly = self.env["product.product"].create(
            [
                {"name": "Dom drewniany", "default_code": "DOM-1", "invoice_policy": "order", "taxes_id": tax.ids},
                {"name": "Montaż", "type": "service", "invoice_policy": "order", "taxes_id": tax.ids},
            ]
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create({"product_id": house.id, "product_uom_qty": 1, "price_unit": 8000.0}),
                    Command.create({"product_id": assembly.id, "product_uom_qty": 2, "price_unit": 1000.0}),
                ],
                **values,
            }
        )
        order.action_confirm()
        return order

    def test_a_down_payment_is_an_advance_invoice_describing_its_order(self):
        order = self.sales_order()
        advance = invoice_sales_order(order, "percentage", amount=20)
        invoice, fa = self.written(advance)
        pl = pl_invoice(invoice)
        self.assertEqual((pl.kind, invoice.type_code), ("ZAL", "386"))
        self.assertEqual(fa.findtext("fa:RodzajFaktury", namespaces=FA), "ZAL")
        self.assertEqual(pl.order.value, 12300)  # the order with its VAT; the invoice asks for a fifth of it
        self.assertEqual(invoice.totals.tax_inclusive, 2460)
        self.assertEqual(
            [(line.name, line.quantity, line.price, line.net_amount, line.tax_amount, line.rate_code)
             for line in pl.order.lines],
            [("[DOM-1] Dom drewniany", 1, 8000, 8000, 1840, "23"), ("Montaż", 2, 1000, 2000, 460, "23")],
        )  # fmt: skip
        self.assertEqual(pl.order.lines[0].seller_item_id, "DOM-1")
        self.assertIsNone(fa.find("fa:FaWiersz", FA))  # an advance invoice describes the order instead
        self.accepted(advance)

    def test_a_down_payment_in_euro_gives_the_exchange_rate_of_the_advance(self):
        euro = self.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])  # 4 PLN per euro
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": euro.id})
        advance = invoice_sales_order(self.sales_order(pricelist_id=pricelist.id), "percentage", amount=20)
        invoice, fa = self.written(advance)
        pl = pl_invoice(invoice)
        self.assertEqual((pl.kind, invoice.currency, pl.exchange_rate), ("ZAL", "EUR", 4))
        self.assertEqual(fa.findtext("fa:KursWalutyZ", namespaces=FA), "4")
        self.assertEqual(fa.findtext("fa:P_14_1W", namespaces=FA), "1840.00")  # 460 EUR of VAT in PLN
        self.accepted(advance)

    def test_the_final_invoice_settles_the_advance_naming_its_ksef_number(self):
        order = self.sales_order()
        advance = invoice_sales_order(order, "percentage", amount=20)
        advance.action_einvoice_send()
        final = invoice_sales_order(order, "delivered")
        with self.assertRaisesRegex(UserError, "no KSeF number yet"):
            final.action_einvoice_send()  # it must name the advance invoice's KSeF number, not known yet
        self.processed()
        advance.action_einvoice_check()
        invoice, _fa = self.written(final)
        pl = pl_invoice(invoice)
        self.assertEqual(pl.kind, "ROZ")
        self.assertEqual([item.ksef_number for item in pl.advance_invoices], [advance.l10n_pl_ksef_number])
        self.assertEqual(rate_groups(invoice), {"1": (8000, 1840)})  # what is left once the advance is deducted
        self.assertEqual(invoice.totals.tax_inclusive, final.amount_total)
        self.assertEqual(invoice.lines[-1].quantity, -1)  # the advance, deducted as Odoo shows it
        self.accepted(final)

        correction = self.credit_note(final, "rabat")
        invoice, _fa = self.written(correction)
        pl = pl_invoice(invoice)
        self.assertEqual(pl.kind, "KOR_ROZ")
        self.assertEqual([item.ksef_number for item in pl.advance_invoices], [advance.l10n_pl_ksef_number])
        self.assertEqual(pl.correction.invoices[0].ksef_number, final.l10n_pl_ksef_number)
        self.assertEqual(invoice.totals.tax_inclusive, -final.amount_total)
        self.accepted(correction)

    def test_an_advance_invoice_issued_outside_ksef_is_named_by_its_number(self):
        order = self.sales_order()
        advance = invoice_sales_order(order, "fixed", fixed_amount=1230.0)
        final = invoice_sales_order(order, "delivered")
        invoice, fa = self.written(final)
        self.assertEqual([(item.number, item.ksef_number) for item in pl_invoice(invoice).advance_invoices],
                         [(advance.name, None)])  # fmt: skip
        self.assertEqual(fa.findtext("fa:FakturaZaliczkowa/fa:NrKSeFZN", namespaces=FA), "1")

    def test_a_credit_note_of_a_down_payment_corrects_the_advance_invoice(self):
        order = self.sales_order()
        advance = self.accepted(invoice_sales_order(order, "percentage", amount=20))
        correction = self.credit_note(advance, "zwrot zaliczki")
        invoice, _fa = self.written(correction)
        pl = pl_invoice(invoice)
        self.assertEqual(pl.kind, "KOR_ZAL")
        self.assertEqual(pl.correction.advance_before, 2460)  # P_15ZK: what the advance invoice asked for
        self.assertEqual(pl.correction.invoices[0].ksef_number, advance.l10n_pl_ksef_number)
        self.assertEqual(pl.order.value, 12300)
        self.assertEqual(invoice.totals.tax_inclusive, -2460)
        self.accepted(correction)

    # -- rates: 0 % at home and for export, the buyer settling the VAT ---------------------------------------------
    def sold(self, tax, partner=None, **values):
        return self.init_invoice(
            "out_invoice", partner=partner or self.customer, amounts=[1000.0], taxes=tax, post=True, **values
        )

    def test_a_domestic_zero_rated_supply_is_0_kr(self):
        invoice, fa = self.written(self.sold(self.pl_tax("vs_kraj_0")))
        self.assertEqual(rate_groups(invoice), {"6_1": (1000, None)})
        self.assertEqual(fa.findtext("fa:FaWiersz/fa:P_12", namespaces=FA), "0 KR")
        self.assertEqual(fa.findtext("fa:P_13_6_1", namespaces=FA), "1000.00")

    def test_an_export_of_goods_is_0_ex(self):
        buyer = self.env["res.partner"].create(
            {
                "name": "Fjord AS",
                "is_company": True,
                "street": "Karl Johans gate 1",
                "city": "Oslo",
                "zip": "0154",
                "country_id": self.env.ref("base.no").id,
            }
        )
        move = self.sold(self.pl_tax("vs_eksp_tow"), buyer)
        invoice, fa = self.written(move)
        self.assertEqual(rate_groups(invoice), {"6_3": (1000, None)})
        self.assertEqual(fa.findtext("fa:FaWiersz/fa:P_12", namespaces=FA), "0 EX")
        buyer = fa.getparent().find("fa:Podmiot2", FA)
        self.assertEqual(buyer.findtext("fa:DaneIdentyfikacyjne/fa:BrakID", namespaces=FA), "1")  # no tax id
        self.accepted(move)

    def test_a_domestic_reverse_charge_lets_the_buyer_settle_the_vat(self):
        move = self.sold(self.pl_tax("vs_stal"))
        invoice, fa = self.written(move)
        self.assertEqual(rate_groups(invoice), {"10": (1000, None)})
        self.assertEqual(fa.findtext("fa:FaWiersz/fa:P_12", namespaces=FA), "oo")
        self.assertEqual(fa.findtext("fa:Adnotacje/fa:P_18", namespaces=FA), "1")
        self.accepted(move)

    def test_second_hand_goods_sold_under_the_margin_scheme_show_their_price_with_vat(self):
        margin = self.pl_tax("vs_kraj_zw").copy(
            {
                "name": "Marża - towary używane",
                "einvoice_vat_category": "E",
                "l10n_pl_ksef_margin_scheme": "P_PMarzy_3_1",
            }
        )
        move = self.init_invoice("out_invoice", partner=self.customer, amounts=[8000.0], taxes=margin)
        move.write(
            {
                "invoice_line_ids": [
                    Command.create({"name": "Towar 2", "price_unit": 200.0, "tax_ids": self.pl_tax().ids})
                ]
            }
        )
        move.action_post()
        invoice, fa = self.written(move)
        self.assertEqual(rate_groups(invoice), {"1": (200, 46), "11": (8000, None)})
        self.assertEqual(pl_invoice(invoice).margin_scheme, "P_PMarzy_3_1")
        self.assertEqual(fa.findtext("fa:Adnotacje/fa:PMarzy/fa:P_PMarzy_3_1", namespaces=FA), "1")
        self.assertIsNone(fa.find("fa:FaWiersz", FA).find("fa:P_12", FA))  # a margin line has no rate
        self.accepted(move)

        travel = margin.copy(
            {"name": "Marża - biuro podróży", "einvoice_vat_category": "E", "l10n_pl_ksef_margin_scheme": "P_PMarzy_2"}
        )
        both = self.init_invoice("out_invoice", partner=self.customer, amounts=[100.0, 200.0], taxes=margin)
        both.invoice_line_ids[1].tax_ids = travel
        both.action_post()
        with self.assertRaisesRegex(UserError, "one margin scheme"):
            both.action_einvoice_send()

    # -- simplified invoice -------------------------------------------------------------------------------------------
    def test_a_simplified_invoice_names_the_buyer_by_its_nip_alone(self):
        move = self.init_invoice("out_invoice", partner=self.customer, amounts=[300.0], taxes=self.pl_tax())
        move.l10n_pl_ksef_simplified = True
        move.action_post()
        invoice, fa = self.written(move)
        self.assertEqual(pl_invoice(invoice).kind, "UPR")
        buyer = fa.getparent().find("fa:Podmiot2", FA)
        self.assertEqual(buyer.findtext("fa:DaneIdentyfikacyjne/fa:NIP", namespaces=FA), "7740001454")
        self.assertIsNone(buyer.find("fa:DaneIdentyfikacyjne/fa:Nazwa", FA))
        self.assertIsNone(buyer.find("fa:Adres", FA))
        self.accepted(move)

    def test_a_simplified_invoice_over_450_pln_is_refused_before_sending(self):
        move = self.init_invoice("out_invoice", partner=self.customer, amounts=[1000.0], taxes=self.pl_tax())
        move.l10n_pl_ksef_simplified = True
        move.action_post()
        with self.assertRaisesRegex(UserError, "A simplified invoice may not exceed 450"):
            move.action_einvoice_send()
        self.assertFalse(self.sent_invoices())

    # -- split payment ------------------------------------------------------------------------------------------------
    def test_goods_of_annex_15_over_15000_pln_are_paid_by_split_payment(self):
        phones = self.env["product.product"].create(
            {"name": "Smartfon", "l10n_pl_ksef_annex_15": True, "l10n_pl_vat_gtu": "GTU_06", "lst_price": 2000.0}
        )
        small = self.init_invoice("out_invoice", partner=self.customer, products=phones, taxes=self.pl_tax(), post=True)
        self.assertFalse(small.l10n_pl_ksef_split_payment)  # 2 460 PLN: the buyer may pay as he likes
        move = self.init_invoice("out_invoice", partner=self.customer, products=phones, taxes=self.pl_tax())
        move.invoice_line_ids.quantity = 10
        self.assertTrue(move.l10n_pl_ksef_split_payment)  # 24 600 PLN of annex 15 goods: the law requires it
        move.action_post()
        invoice, fa = self.written(move)
        self.assertTrue(pl_invoice(invoice).split_payment)
        self.assertEqual(fa.findtext("fa:Adnotacje/fa:P_18A", namespaces=FA), "1")
        row = fa.find("fa:FaWiersz", FA)
        self.assertEqual(row.findtext("fa:P_12_Zal_15", namespaces=FA), "1")
        self.assertEqual(row.findtext("fa:GTU", namespaces=FA), "GTU_06")
        self.accepted(move)
        printed = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", (small | move).ids)[0]
        self.assertEqual(printed.decode().count("mechanizm podzielonej płatności"), 1)  # the words the law asks for

    def test_a_payment_reference_other_than_the_number_is_an_additional_description(self):
        move = self.init_invoice("out_invoice", partner=self.customer, amounts=[100.0], taxes=self.pl_tax())
        move.payment_reference = "RF18 5390 0754 7034"
        move.action_post()
        _invoice, fa = self.written(move)
        description = fa.find("fa:DodatkowyOpis", FA)
        self.assertEqual(
            [description.findtext(f"fa:{tag}", namespaces=FA) for tag in ("Klucz", "Wartosc")],
            ["Tytuł płatności", "RF18 5390 0754 7034"],
        )

    # -- payment, recipient ----------------------------------------------------------------------------------------
    def test_the_bank_account_payment_term_and_another_recipient_are_on_the_invoice(self):
        bank = self.env["res.bank"].create({"name": "PKO Bank Polski S.A.", "bic": "BPKOPLPW"})
        account = self.env["res.partner.bank"].create(
            {"acc_number": "PL61 1090 1014 0000 0712 1981 2874", "partner_id": self.env.company.partner_id.id,
             "bank_id": bank.id, "allow_out_payment": True}
        )  # fmt: skip
        site = self.env["res.partner"].create(
            {
                "name": "Gamma Inwestycje sp. z o.o.",
                "is_company": True,
                "vat": "PL5213017228",
                "street": "ul. Budowlana 7",
                "city": "Poznań",
                "zip": "60-001",
                "country_id": self.env.ref("base.pl").id,
            }
        )
        move = self.init_invoice("out_invoice", partner=self.customer, amounts=[1000.0], taxes=self.pl_tax())
        move.write(
            {
                "partner_bank_id": account.id,
                "invoice_payment_term_id": self.env.ref("account.account_payment_term_30days").id,
                "partner_shipping_id": site.id,
            }
        )
        move.action_post()
        invoice, fa = self.written(move)
        payment = fa.find("fa:Platnosc", FA)
        self.assertEqual(payment.findtext("fa:TerminPlatnosci/fa:Termin", namespaces=FA), str(move.invoice_date_due))
        self.assertEqual(payment.findtext("fa:FormaPlatnosci", namespaces=FA), "6")  # przelew
        self.assertEqual(
            [
                payment.findtext(f"fa:RachunekBankowy/fa:{tag}", namespaces=FA)
                for tag in ("NrRB", "SWIFT", "NazwaBanku")
            ],
            ["PL61109010140000071219812874", "BPKOPLPW", "PKO Bank Polski S.A."],
        )
        recipient = fa.getparent().find("fa:Podmiot3", FA)
        self.assertEqual(recipient.findtext("fa:DaneIdentyfikacyjne/fa:NIP", namespaces=FA), "5213017228")
        self.assertEqual(recipient.findtext("fa:Rola", namespaces=FA), "2")  # Odbiorca
        self.assertEqual(pl_invoice(invoice).third_parties[0].party.name, "Gamma Inwestycje sp. z o.o.")
        self.accepted(move)
