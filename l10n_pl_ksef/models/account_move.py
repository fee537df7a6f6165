import base64
import logging
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.image import image_data_uri

from odoo.addons.account_einvoice.models.account_einvoice_document import AT_THE_PLATFORM
from odoo.addons.account_einvoice.models.account_move import PAYMENT_NOT_DEFINED, decimal

from einvoice.errors import EInvoiceError
from einvoice.model import CORRECTED_INVOICE, Party, money, negated_invoice
from einvoice.pl import fa3
from einvoice.pl.checks import SPLIT_PAYMENT_THRESHOLD
from einvoice.pl.model import (
    EXEMPTION_ACT,
    EXEMPTION_DIRECTIVE,
    GROUP_OF_CODE,
    KOR,
    KOR_ROZ,
    KOR_ZAL,
    MARGIN,
    ROLE_RECIPIENT,
    ROZ,
    TAXED_GROUPS,
    UPR,
    ZAL,
    AdditionalInfo,
    AdvanceInvoice,
    BankAccount,
    CorrectedInvoice,
    Correction,
    Order,
    OrderLine,
    PlInvoice,
    PlLine,
    ThirdParty,
    bare_nip,
    buyer_abroad,
    category_code,
    nip_is_valid,
    rate_groups,
)
from einvoice.pl.offline import OFFLINE24, send_deadline
from einvoice.pl.qr import CERTIFICATE_LABEL, certificate_link, invoice_link, invoice_link_label
from einvoice.pl.visual import render_pdf

from .account_einvoice_document import REFERENCE_SEPARATOR

_logger = logging.getLogger(__name__)

SYSTEM_INFO = "Odoo"  # SystemInfo: the program that made the invoice
PAYMENT_REFERENCE_KEY = "Tytuł płatności"  # DodatkowyOpis/Klucz of the payment reference, in the document's language
PREPAYMENT_INVOICE = "386"  # UNTDID 1001: what FA(3) reads an advance invoice (ZAL) as
OFFLINE_MODES = [
    ("offline24", "Offline24 (by choice)"),
    ("offline", "Offline (KSeF unavailable)"),
    ("emergency", "Emergency (KSeF failure)"),
]
# l10n_pl_edi's states of an invoice that went to KSeF -> ours
ODOO_EDI_STATES = {"sent": "processing", "accepted": "accepted"}


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_offline = fields.Boolean(
        string="Issued offline (KSeF)",
        copy=False,
        readonly=True,
        help="Handed to the buyer before KSeF numbered it (by choice, or because KSeF was down): the XML is fixed "
        "when it is issued, its QR code is printed with OFFLINE, and it must reach KSeF by its offline deadline.",
    )
    l10n_pl_ksef_offline_mode = fields.Selection(
        OFFLINE_MODES,
        string="Offline mode (KSeF)",
        copy=False,
        readonly=True,
        help="Offline24: issued offline by choice, due the next working day. Offline: KSeF was announced "
        "unavailable, due the next working day after it is back. Emergency: KSeF announced a failure, due 7 working "
        "days after it ends. A failure announced meanwhile moves the deadline; a total failure lifts it.",
    )
    l10n_pl_ksef_outage_id = fields.Many2one(
        "l10n_pl_ksef.outage",
        string="KSeF outage",
        copy=False,
        readonly=True,
        help="The outage KSeF announced when the invoice was issued offline: its deadline counts from its end.",
    )
    l10n_pl_ksef_offline_deadline = fields.Date(
        string="Offline deadline (KSeF)",
        compute="_compute_l10n_pl_ksef_offline_deadline",
        store=True,
        help="An invoice issued offline must reach KSeF by this day (empty while the outage it counts from lasts).",
    )
    l10n_pl_ksef_send_lifted = fields.Boolean(
        string="Need not reach KSeF",
        compute="_compute_l10n_pl_ksef_offline_deadline",
        store=True,
        help="KSeF announced a total failure while the invoice waited: the law no longer asks to send it.",
    )
    l10n_pl_ksef_outage_warning = fields.Char(
        string="KSeF outage warning", compute="_compute_l10n_pl_ksef_outage_warning"
    )
    l10n_pl_ksef_split_payment = fields.Boolean(
        string="Split payment (MPP)",
        compute="_compute_l10n_pl_ksef_split_payment",
        store=True,
        readonly=False,
        help="The buyer pays the VAT into the seller's VAT account (mechanizm podzielonej płatności, P_18A). The law "
        "requires it for an invoice over 15 000 PLN with VAT selling goods or services of annex 15 to the VAT act: "
        "it is ticked then, and may be ticked by hand.",
    )
    l10n_pl_ksef_simplified = fields.Boolean(
        string="Simplified invoice (UPR)",
        copy=False,
        help="An invoice of up to 450 PLN (100 EUR) with VAT may name the buyer by its NIP alone (art. 106e ust. 5 "
        "pkt 3): KSeF receives it as a simplified invoice (UPR), without the buyer's name and address.",
    )
    l10n_pl_ksef_number = fields.Char(
        string="KSeF number",
        compute="_compute_l10n_pl_ksef_number",
        store=True,
        help="The number KSeF gave the invoice: from then on it exists in law.",
    )

    @api.depends("invoice_line_ids.product_id", "amount_total_signed", "move_type", "country_code")
    def _compute_l10n_pl_ksef_split_payment(self):
        """Art. 106e ust. 1 pkt 18a: split payment over 15 000 PLN with VAT (the company's currency) for goods or
        services of annex 15."""
        for move in self:
            annex_15 = move.invoice_line_ids.product_id.filtered("l10n_pl_ksef_annex_15")
            move.l10n_pl_ksef_split_payment = (
                bool(annex_15)
                and move.country_code == "PL"
                and move.is_sale_document()
                and abs(decimal(move.amount_total_signed)) > SPLIT_PAYMENT_THRESHOLD
            )

    @api.depends("einvoice_document_ids.state", "einvoice_document_ids.platform_number")
    def _compute_l10n_pl_ksef_number(self):
        for move in self:
            move.l10n_pl_ksef_number = move._l10n_pl_ksef_number()

    @api.depends(
        "l10n_pl_ksef_offline",
        "l10n_pl_ksef_offline_mode",
        "invoice_date",
        "l10n_pl_ksef_outage_id.start",
        "l10n_pl_ksef_outage_id.end",
    )
    def _compute_l10n_pl_ksef_offline_deadline(self):
        """The day an invoice issued offline must reach KSeF by, as tryby-offline.md counts it for its mode, with the
        failures and total failures KSeF announced since (they are not dependencies: the availability check
        recomputes the waiting invoices when Latarnia announces something new). An online invoice exists only once
        KSeF numbers it, so it has no deadline."""
        for move in self:
            deadline = move._l10n_pl_ksef_send_deadline()
            move.l10n_pl_ksef_offline_deadline = deadline.day or False if deadline else False
            move.l10n_pl_ksef_send_lifted = bool(deadline) and not deadline.required

    def _l10n_pl_ksef_send_deadline(self):
        """The library's :class:`~einvoice.pl.offline.Deadline` of this invoice, or None when it is not offline."""
        if not self.l10n_pl_ksef_offline or not self.invoice_date:
            return None
        connection = self.company_id._l10n_pl_ksef_connection()
        announced = [outage._as_outage() for outage in connection.outage_ids]
        cause = self.l10n_pl_ksef_outage_id
        mode = self.l10n_pl_ksef_offline_mode or OFFLINE24
        return send_deadline(mode, self.invoice_date, announced, cause=cause._as_outage() if cause else None)

    def _l10n_pl_ksef_recompute_deadlines(self):
        """KSeF announced something new: the deadlines of these invoices waiting offline are counted again."""
        for name in ("l10n_pl_ksef_offline_deadline", "l10n_pl_ksef_send_lifted"):
            self.env.add_to_compute(self._fields[name], self)
        self.flush_recordset(["l10n_pl_ksef_offline_deadline", "l10n_pl_ksef_send_lifted"])

    @api.depends("l10n_pl_ksef_send_lifted", "einvoice_state", "l10n_pl_ksef_offline", "company_id")
    def _compute_l10n_pl_ksef_outage_warning(self):
        """A banner on the invoices KSeF's outages concern: one that need not be sent any more, and while KSeF is
        down those still waiting for it."""
        for move in self:
            warning = False
            waiting = move.state == "posted" and move.einvoice_state not in ("accepted", "processing")
            connection = waiting and move.country_code == "PL" and move.company_id._l10n_pl_ksef_connection()
            if move.l10n_pl_ksef_send_lifted and waiting:
                warning = self.env._(
                    "KSeF announced a total failure while this invoice waited to be sent: the law no longer asks to "
                    "send it to KSeF."
                )
            elif connection and connection.ksef_status != "available" and move._einvoice_is_outgoing():
                warning = connection._ksef_availability_text()
            move.l10n_pl_ksef_outage_warning = warning

    def _einvoice_platform(self):
        if self.company_id.country_code == "PL" and self.company_id._l10n_pl_ksef_connection():
            return "pl_ksef"
        return super()._einvoice_platform()

    def _einvoice_platform_problems(self, platform, invoice):
        """Everything our FA(3) checks would refuse, at once, before anything goes to KSeF (which checks the
        structure only: a wrong sum would become a legal invoice)."""
        if platform != "pl_ksef":
            return super()._einvoice_platform_problems(platform, invoice)
        original = self.reversed_entry_id
        if original.einvoice_state in AT_THE_PLATFORM and not original._l10n_pl_ksef_number():
            # the correction must name the KSeF number of the invoice it corrects, which KSeF has not given yet
            return [
                self.env._(
                    "%(invoice)s has no KSeF number yet: send its correction once KSeF has numbered it.",
                    invoice=original.display_name,
                )
            ]
        waiting = (
            (original or self)
            ._l10n_pl_ksef_advance_invoices()
            .filtered(lambda advance: advance.einvoice_state in AT_THE_PLATFORM and not advance._l10n_pl_ksef_number())
        )
        if waiting:
            # the final invoice must name the KSeF numbers of the advance invoices it settles
            return [
                self.env._(
                    "%(invoices)s has no KSeF number yet: send the invoice settling it once KSeF has numbered it.",
                    invoices=", ".join(waiting.mapped("display_name")),
                )
            ]
        schemes = self._l10n_pl_ksef_margin_schemes()
        if len(schemes) > 1:
            return [self.env._("An FA(3) invoice follows one margin scheme: invoice the sales of each scheme apart.")]
        try:
            self._l10n_pl_ksef_xml(invoice)
        except fa3.Fa3Error as refusal:
            return [self._einvoice_finding_text(finding) for finding in refusal.findings] or [
                refusal.translated(self.env.lang)
            ]
        return []

    def _einvoice_refusal(self):
        self._l10n_pl_ksef_carry_over()
        return super()._einvoice_refusal()

    # -- offline: by choice (offline24), or while KSeF is down ---------------------------------------------------------
    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        offline = posted.filtered(
            lambda move: (
                move._einvoice_is_outgoing()
                and move._einvoice_platform() == "pl_ksef"
                and move._l10n_pl_ksef_offline_now()[0]
            )
        )
        for move in offline:
            problems = move._einvoice_refusal()
            if problems:
                move._einvoice_ask_for_attention("\n".join(problems))
            else:
                move._l10n_pl_ksef_issue_offline(*move._l10n_pl_ksef_offline_now())
        return posted

    def _l10n_pl_ksef_offline_now(self):
        """``(mode, outage)`` an invoice issued now takes: the outage's while KSeF is announced unavailable or
        failing, offline24 when the company issues offline by choice, else ``(None, None)``."""
        connection = self.company_id._l10n_pl_ksef_connection()
        mode = connection and connection._ksef_outage_mode()
        if mode:
            return mode, connection.outage_id
        return (OFFLINE24, None) if connection.offline24 else (None, None)

    def action_l10n_pl_ksef_issue_offline(self):
        """Issue the invoices now without waiting for KSeF (down, or simply later): they are sent by their
        offline deadline."""
        refused = {move: problems for move in self if (problems := move._einvoice_refusal())}
        if refused:
            raise UserError(self._einvoice_listed(refused))
        for move in self:
            mode, outage = move._l10n_pl_ksef_offline_now()
            move._l10n_pl_ksef_issue_offline(mode or OFFLINE24, outage)
        return True

    def _l10n_pl_ksef_issue_offline(self, mode=OFFLINE24, outage=None):
        """Fix the invoice's FA(3) now and queue it: the QR code handed to the buyer is made of these bytes, so
        they are the ones sent, with KSeF's offline flag."""
        self.ensure_one()
        xml = self._l10n_pl_ksef_xml()
        document = self._einvoice_queue()
        document.attachment_id = document._attach(f"{self.name.replace('/', '_')}_fa3.xml", xml, "application/xml")
        document._pl_ksef_note_correction()
        self._l10n_pl_ksef_mark_offline(mode, outage)

    def _l10n_pl_ksef_mark_offline(self, mode, outage=None):
        """The invoice is issued offline in ``mode`` (during ``outage``); its chatter says by when it is due."""
        self.write(
            {
                "l10n_pl_ksef_offline": True,
                "l10n_pl_ksef_offline_mode": mode,
                "l10n_pl_ksef_outage_id": outage.id if outage else False,
            }
        )
        label = dict(self._fields["l10n_pl_ksef_offline_mode"]._description_selection(self.env))[mode]
        deadline = self._einvoice_deadline("pl_ksef")
        if deadline:
            body = self.env._(
                "Issued offline (%(mode)s): it must reach KSeF by %(deadline)s, and is sent as soon as KSeF takes it.",
                mode=label,
                deadline=fields.Date.to_string(deadline),
            )
        else:
            body = self.env._(
                "Issued offline (%(mode)s): it is sent as soon as KSeF is back, and its deadline counts from the end "
                "of the outage.",
                mode=label,
            )
        self.message_post(body=body)

    def _einvoice_deadline(self, platform):
        if platform != "pl_ksef" or not self.l10n_pl_ksef_offline_deadline:
            return super()._einvoice_deadline(platform)
        return self.l10n_pl_ksef_offline_deadline

    # -- FA(3) -------------------------------------------------------------------------------------------------------
    def _l10n_pl_ksef_xml(self, invoice=None):
        """The FA(3) bytes of this invoice (``invoice``: its neutral mapping, when already built), as sent; raises
        :class:`fa3.Fa3Error` with every finding."""
        invoice = invoice or self._einvoice_invoice()[0]
        return fa3.write(self._l10n_pl_ksef_invoice(invoice))

    def _l10n_pl_ksef_invoice(self, invoice):
        """The neutral invoice as FA(3) tells it. A credit note is a correction (KOR) showing its differences with
        their signs, names the invoice it corrects with its KSeF number when KSeF numbered it, and gives the reason
        of the correction (PrzyczynaKorekty) when the credit note has one. A down payment and the final invoice are
        advance and settlement invoices (ZAL, ROZ, and their corrections KOR_ZAL, KOR_ROZ); an invoice marked
        simplified is UPR. What the neutral model has no place for (split payment, margin scheme, the bank's name,
        a recipient, a payment reference) is carried in the Polish extension."""
        extension = PlInvoice(
            system_info=SYSTEM_INFO,
            split_payment=self.l10n_pl_ksef_split_payment,
            bank_details=self._l10n_pl_ksef_bank_details(),
            third_parties=self._l10n_pl_ksef_recipient(),
            additional_info=self._l10n_pl_ksef_payment_reference(),
            margin_scheme=next(iter(self._l10n_pl_ksef_margin_schemes()), None),
        )
        if invoice.is_credit_note:
            original = self.reversed_entry_id
            corrected = (
                (CorrectedInvoice(original.name, original.invoice_date, original._l10n_pl_ksef_number() or None),)
                if original
                else ()
            )
            invoice = replace(negated_invoice(invoice), type_code=CORRECTED_INVOICE)
            correction = Correction(invoices=corrected, reason=self.einvoice_correction_reason or None)
            extension = replace(extension, kind=KOR, correction=correction)
        if self.l10n_pl_ksef_simplified and self.move_type == "out_invoice":
            extension = replace(extension, kind=UPR)
            invoice = replace(invoice, buyer=Party(vat_id=invoice.buyer.vat_id))
        extension = self._l10n_pl_ksef_advances(extension, invoice)
        if extension.kind == ZAL:
            invoice = replace(invoice, type_code=PREPAYMENT_INVOICE)
        extension = replace(extension, exemption_basis=self._l10n_pl_ksef_exemption_basis(invoice))
        if self.currency_id != self.company_id.currency_id:
            in_pln = self._l10n_pl_ksef_vat_in_pln(negate=invoice.is_credit_note)
            if extension.exchange_rate is not None:  # an advance's KursWalutyZ yields the VAT in PLN it agrees with
                taxes = {group: tax for group, (_net, tax) in rate_groups(invoice).items()}
                in_pln = tuple(
                    (group, amount)
                    for group, amount in in_pln
                    if amount != money(taxes.get(group, 0) * extension.exchange_rate)
                )
            extension = replace(extension, vat_in_pln=in_pln)
        # "payment means not defined" is what EN 16931 says without a bank account; FA(3) just says nothing
        means = tuple(item for item in invoice.payment_means if item.code != PAYMENT_NOT_DEFINED)
        lines = self._l10n_pl_ksef_lines(invoice.lines, negate=invoice.is_credit_note)
        return replace(invoice, lines=lines, payment_means=means, extensions={**invoice.extensions, "pl": extension})

    # -- down payments: the advance invoice (ZAL) and the final invoice settling it (ROZ) ---------------------------
    def _l10n_pl_ksef_advances(self, extension, invoice):
        """A down-payment invoice of a sales order is an advance invoice (ZAL) describing the order it is for; the
        final invoice deducting down payments settles them (ROZ) and names their invoices, by KSeF number when KSeF
        numbered them. A credit note of either corrects it as KOR_ZAL or KOR_ROZ. Odoo knows down payments only from
        sales orders (the Sales app): without it every invoice is a VAT invoice."""
        corrects = extension.kind == KOR
        source = self.reversed_entry_id if corrects else self
        if source and source._is_downpayment():
            extension = replace(extension, kind=KOR_ZAL if corrects else ZAL, order=source._l10n_pl_ksef_order(invoice))
            if corrects:  # P_15ZK: what the advance invoice asked for before this correction
                correction = replace(extension.correction, advance_before=decimal(source.amount_total))
                extension = replace(extension, correction=correction)
            if self.currency_id != self.company_id.currency_id:  # KursWalutyZ: PLN per unit, as Odoo booked it
                extension = replace(extension, exchange_rate=decimal(1 / self.invoice_currency_rate, 6).normalize())
            return extension
        advances = source._l10n_pl_ksef_advance_invoices()
        if not advances:
            return extension
        settled = tuple(
            AdvanceInvoice(ksef_number=number)
            if (number := advance._l10n_pl_ksef_number())
            else AdvanceInvoice(number=advance.name)
            for advance in advances
        )
        return replace(extension, kind=KOR_ROZ if corrects else ROZ, advance_invoices=settled)

    def _l10n_pl_ksef_advance_invoices(self):
        """The down-payment invoices this final invoice settles (none for anything else)."""
        return self._einvoice_advance_invoices() if self else self.browse()

    def _l10n_pl_ksef_order(self, invoice):
        """Zamowienie: the sales order this down-payment invoice is for, its lines net and with their VAT (art. 106f
        ust. 1 pkt 4), in the invoice's currency."""
        orders = self.invoice_line_ids.sale_line_ids.order_id
        sold = orders.order_line.filtered(lambda line: not line.display_type and not line.is_downpayment)
        abroad = buyer_abroad(invoice)
        lines = []
        for number, line in enumerate(sold, start=1):
            tax = line.tax_ids[:1]
            lines.append(
                OrderLine(
                    number,
                    name=(line.name or line.product_id.display_name).splitlines()[0][:512],
                    quantity=decimal(line.product_uom_qty, 6).normalize(),
                    unit=line.product_uom_id.einvoice_unece_code or None,
                    price=decimal(line.price_reduce_taxexcl, 8).normalize(),
                    net_amount=decimal(line.price_subtotal),
                    tax_amount=decimal(line.price_tax),
                    rate_code=category_code(tax.einvoice_vat_category, decimal(tax.amount, 4).normalize(), abroad)
                    if tax
                    else None,
                    seller_item_id=line.product_id.default_code or None,
                )
            )
        value = sum((line.net_amount + line.tax_amount for line in lines), Decimal(0))
        return Order(value, tuple(lines))

    def _l10n_pl_ksef_lines(self, lines, negate):
        """The lines with what FA(3) tells of them beyond the neutral model: the product's GTU code (l10n_pl's) and
        its annex 15 marker (split payment), and for a line whose price includes VAT in Odoo (a price-included tax)
        the figures the printed invoice shows: P_9B the unit price with VAT and P_11A the value with VAT (art. 106e
        ust. 7 and 8), beside the net figures FA(3) sums up."""
        product_lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        by_position = {str(position): line for position, line in enumerate(product_lines, start=1)}
        sign = -1 if negate else 1
        told = []
        for line in lines:
            source = by_position.get(line.id)
            values = {}
            if source and source.tax_ids.filtered("price_include"):
                values.update(
                    gross_price=decimal(source.price_unit, 8).normalize(),
                    gross_amount=sign * decimal(source.price_total),
                )
            if source and source.product_id.l10n_pl_vat_gtu:
                values["gtu"] = source.product_id.l10n_pl_vat_gtu
            if source and source.product_id.l10n_pl_ksef_annex_15:
                values["annex_15"] = True
            if source and source.tax_ids.l10n_pl_ksef_margin_scheme:  # its value includes the VAT, no P_12
                values["rate_code"] = MARGIN
            if values:
                extension = replace(line.extensions.get("pl") or PlLine(), **values)
                line = replace(line, extensions={**line.extensions, "pl": extension})
            told.append(line)
        return tuple(told)

    def _l10n_pl_ksef_bank_details(self):
        """NazwaBanku of the account the invoice is paid to (its number and SWIFT are the payment means')."""
        bank = self.partner_bank_id
        if not bank.bank_id.name:
            return ()
        return (
            BankAccount((bank.sanitized_acc_number or bank.acc_number).replace(" ", ""), bank_name=bank.bank_id.name),
        )

    def _l10n_pl_ksef_margin_schemes(self):
        """The margin schemes (PMarzy) of the invoice's taxes, sorted."""
        return sorted(set(filter(None, self.invoice_line_ids.tax_ids.mapped("l10n_pl_ksef_margin_scheme"))))

    def _l10n_pl_ksef_payment_reference(self):
        """FA(3) has no place for the payment reference: one that is not the invoice number (P_2, what a transfer
        names by default) is told as an additional description."""
        reference = self.payment_reference
        if not reference or reference == self.name:
            return ()
        return (AdditionalInfo(PAYMENT_REFERENCE_KEY, reference),)

    def _l10n_pl_ksef_recipient(self):
        """Podmiot3: the recipient (Odbiorca, role 2) when the goods go to another legal entity than the buyer."""
        shipping = self.partner_shipping_id
        if not shipping or shipping.commercial_partner_id == self.commercial_partner_id:
            return ()
        party = self._einvoice_party(shipping.commercial_partner_id)
        return (ThirdParty(replace(party, address=self._einvoice_address(shipping)), ROLE_RECIPIENT),)

    def _l10n_pl_ksef_exemption_basis(self, invoice):
        """P_19A/B/C: the legal basis of an exempt supply, the exemption reason of its tax. A basis citing
        directive 2006/112/EC is the directive's (P_19B); any other is taken as the Polish VAT act's (P_19A)."""
        reason = next((vat.exemption_reason for vat in invoice.vat_breakdown if vat.category == "E"), None)
        if not reason:
            return None
        return (EXEMPTION_DIRECTIVE if "2006/112" in reason else EXEMPTION_ACT), reason

    def _l10n_pl_ksef_vat_in_pln(self, negate):
        """P_14_xW: the VAT of each taxed rate group in PLN as Odoo booked it, for an invoice in another currency;
        ``negate`` for a credit note, which FA(3) shows with negative differences."""
        sign = -1 if self.move_type in ("out_invoice", "in_refund") else 1
        sign = -sign if negate else sign
        amounts = defaultdict(Decimal)
        for line in self.line_ids.filtered("tax_line_id"):
            tax = line.tax_line_id
            code = category_code(tax.einvoice_vat_category, decimal(tax.amount, 4).normalize(), abroad=False)
            group = GROUP_OF_CODE.get(code)
            if group in TAXED_GROUPS:
                amounts[group] += decimal(sign * line.balance)
        return tuple(sorted(amounts.items()))

    # -- QR codes on the printed invoice -------------------------------------------------------------------------
    def _l10n_pl_ksef_qr_codes(self):
        """What KSeF asks to print on every visualisation of an invoice it holds or will hold: KOD I, the link to
        the invoice in KSeF made of the XML's hash, labelled with the KSeF number (OFFLINE until KSeF gives it).
        ``[{"link", "label", "image"}]``; empty for an invoice not issued through KSeF yet."""
        self.ensure_one()
        document = self._l10n_pl_ksef_issued_document()
        connection = self.company_id._l10n_pl_ksef_connection()
        if not document or not connection or not self.invoice_date:
            return []
        nip, xml = self._l10n_pl_ksef_seller_nip(), document.attachment_id.raw
        links = [
            (
                invoice_link(connection._ksef_environment(), nip, self.invoice_date, xml),
                invoice_link_label(document.platform_number if document.state == "accepted" else None),
            )
        ]
        if self.l10n_pl_ksef_offline:
            links += self._l10n_pl_ksef_certificate_link(connection, nip, xml)
        return [{"link": link, "label": label, "image": self._l10n_pl_ksef_qr_image(link)} for link, label in links]

    def _l10n_pl_ksef_seller_nip(self):
        seller = self.commercial_partner_id if self._einvoice_self_billed() else self.company_id.partner_id
        return bare_nip(seller.vat)

    def action_l10n_pl_ksef_pdf(self):
        """The visualisation of the FA(3) the invoice is in KSeF (or was issued offline with): every part of the
        XML, its KSeF number and QR codes, as a PDF attached to the invoice and downloaded."""
        self.ensure_one()
        document = self._l10n_pl_ksef_issued_document()
        if not document:
            raise UserError(self.env._("The invoice has no FA(3) in KSeF yet: send it, or issue it offline, first."))
        connection = self.company_id._l10n_pl_ksef_connection()
        xml = document.attachment_id.raw
        kod_ii = []
        if self.l10n_pl_ksef_offline and connection:
            kod_ii = self._l10n_pl_ksef_certificate_link(connection, self._l10n_pl_ksef_seller_nip(), xml)
        pdf = render_pdf(
            xml,
            ksef_number=document.platform_number if document.state == "accepted" else None,
            environment=connection.environment if connection else "prod",
            certificate_link=kod_ii[0][0] if kod_ii else None,
        )
        name = f"{self.name.replace('/', '_')}_ksef.pdf"
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", self.id), ("name", "=", name)], limit=1
        )
        if attachment:
            attachment.raw = pdf  # the KSeF number came since: the same document, drawn again
        else:
            attachment = document._attach(name, pdf, "application/pdf")
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    def _l10n_pl_ksef_certificate_link(self, connection, nip, xml):
        """KOD II of an invoice issued offline, signed with the company's Offline certificate: who issued it. An
        invoice is still printed, with KOD I only, when no usable Offline certificate is stored."""
        try:
            credentials = connection._ksef_offline_credentials()
            if not credentials:
                return []
            link = certificate_link(connection._ksef_environment(), credentials, nip, xml, context_value=connection.nip)
        except EInvoiceError as error:
            _logger.warning("KOD II of %s not printed: %s", self.display_name, error)
            return []
        return [(link, CERTIFICATE_LABEL)]

    def _l10n_pl_ksef_issued_document(self):
        """The attempt whose XML is the invoice: the one KSeF accepted, else the one fixed when issued offline."""
        documents = self.einvoice_document_ids.filtered(
            lambda document: document.platform == "pl_ksef" and document.attachment_id
        )
        accepted = documents.filtered(lambda document: document.state == "accepted")
        if accepted or not self.l10n_pl_ksef_offline:
            return accepted[:1]
        return documents.filtered(lambda document: document.state != "rejected").sorted("id")[-1:]

    def _l10n_pl_ksef_qr_image(self, link):
        """The QR code as an inline image: the PDF renderer needs no request to the server to draw it."""
        qr = self.env["ir.actions.report"].barcode("QR", link, width=180, height=180, barLevel="M")
        return image_data_uri(base64.b64encode(qr))

    def _l10n_pl_ksef_number(self):
        """The KSeF number this invoice received, through us or through Odoo's own KSeF module."""
        self.ensure_one()
        accepted = self.einvoice_document_ids.filtered(
            lambda document: document.platform == "pl_ksef" and document.state == "accepted"
        )
        number = accepted[:1].platform_number
        if not number and "l10n_pl_edi_number" in self._fields:
            number = self.l10n_pl_edi_number
        return number or False

    def _einvoice_party(self, partner):
        """A Polish NIP written without its PL prefix is still a VAT id: FA(3) identifies a Polish party by it."""
        party = super()._einvoice_party(partner)
        nip = bare_nip(party.tax_registration_id)
        domestic = self.company_id.country_code == "PL" and partner.country_id.code in (False, "PL")
        if not party.vat_id and nip and domestic and nip_is_valid(nip):
            party = replace(party, vat_id=f"PL{nip}", tax_registration_id=None)
        return party

    # -- Odoo's own KSeF module ---------------------------------------------------------------------------------------
    def _l10n_pl_ksef_carry_over(self):
        """Invoices Odoo's own l10n_pl_edi already sent become attempts of ours, with their KSeF references and
        number: they are followed up, never sent again."""
        if "l10n_pl_edi_status" not in self._fields:
            return
        sent = self.filtered(lambda m: m.l10n_pl_edi_status in ODOO_EDI_STATES and not m.einvoice_document_ids)
        self.env["account.einvoice.document"].create(
            [
                {
                    "move_id": move.id,
                    "platform": "pl_ksef",
                    "state": ODOO_EDI_STATES[move.l10n_pl_edi_status],
                    "platform_reference": REFERENCE_SEPARATOR.join(
                        (move.l10n_pl_edi_session_id or "", move.l10n_pl_edi_ref or "")
                    ),
                    "platform_number": move.l10n_pl_edi_number,
                    "attachment_id": move.l10n_pl_edi_attachment_id.id,
                    "response_attachment_id": move.l10n_pl_edi_upo_id.id,
                }
                for move in sent
            ]
        )
        for move in sent:
            move.message_post(
                body=self.env._(
                    "E-invoice (KSeF): carried over from Odoo's KSeF module, KSeF number %(number)s.",
                    number=move.l10n_pl_edi_number or "-",
                )
            )
