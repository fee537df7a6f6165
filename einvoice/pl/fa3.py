"""FA(3): the structured invoice of KSeF (schema 1-0E), written from and read into the neutral invoice.

:func:`write` makes the bytes to send: UTF-8 without BOM, elements in schema order, no character KSeF refuses,
every marker (P_16..P_23, PMarzy, P_12 codes, rate groups) derived from the invoice. It refuses our own invoice
when the schema or KSeF would, or the law certainly would (KSeF checks the structure but not the arithmetic and the
document it accepts is the legal invoice); written again from a received one, only what KSeF would refuse stops it.
:func:`read` turns a received FA(3) into the neutral model for the purchase import.

How the neutral model maps onto FA(3):

- a Polish VAT id (with or without PL) is the bare NIP; another EU VAT id is KodUE + NrVatUE, any other prefixed id
  KodKraju + NrID, a legal id alone NrID, and no id BrakID; read back, a NIP becomes ``PL`` + NIP;
- AdresL1 is the street lines, AdresL2 the postal code and city (split again on reading when the postal code
  contains a digit);
- the rate groups P_13_x/P_14_x come from the VAT breakdown, split by the lines where the breakdown cannot tell;
  P_15 is the total with VAT; a correction shows signed differences, and its "before" rows (StanPrzed) are held
  negated in the model so that its arithmetic is EN 16931's;
- an advance invoice (ZAL, KOR_ZAL) describes its order (Zamowienie), not lines: its lines only make the breakdown;
- the notes are the footer texts (Stopka/Informacje).
"""

import contextlib
import functools
import re
from copy import deepcopy as copy_element
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

from lxml import etree

from ..errors import EInvoiceError
from ..i18n import _
from ..model import (
    Address,
    Contact,
    Delivery,
    Identifier,
    Invoice,
    Line,
    Note,
    Party,
    PaymentMeans,
    Totals,
    VatBreakdown,
    money,
)
from ..numeric import DECIMAL, INTEGER, NumberError, NumberType, read_number
from ..rules import Finding
from ..ubl import ReadResult
from ..xmlsafe import parse_xml
from . import checks
from .model import (
    ADVANCE_KINDS,
    ART_100_GROUP,
    CATEGORY_OF_CODE,
    CORRECTION_KINDS,
    EXEMPT_GROUP,
    EXEMPTION_ACT,
    EXEMPTION_DIRECTIVE,
    EXEMPTION_OTHER,
    MARGIN,
    MARGIN_GROUP,
    MARGIN_SCHEMES,
    NO_PL_LINE,
    RATE_GROUPS,
    REVERSE_CHARGE_GROUP,
    TAXED_GROUPS,
    AdditionalInfo,
    AdvanceInvoice,
    BankAccount,
    CorrectedInvoice,
    Correction,
    Order,
    OrderLine,
    PartialAdvance,
    PartialPayment,
    PartyBefore,
    PaymentTerm,
    PlInvoice,
    PlLine,
    Registry,
    Settlement,
    SettlementItem,
    ThirdParty,
    Transport,
    address_lines,
    bare_nip,
    buyer_abroad,
    category_code,
    pl_invoice,
    pl_line,
    rate_code,
    rate_groups,
    standard_rate,
)

NS = "http://crd.gov.pl/wzor/2025/06/25/13775/"
ETD = "http://crd.gov.pl/xml/schematy/dziedzinowe/mf/2022/01/05/eD/DefinicjeTypy/"
SYSTEM_CODE, SCHEMA_VERSION, FORM_VARIANT = "FA (3)", "1-0E", "3"
PLN = "PLN"
SELF_BILLED = "389"
# TKodyKrajowUE: the VAT prefixes of the EU member states (Greece: EL) and Northern Ireland (XI)
EU_VAT_PREFIXES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "EL", "HR", "HU", "IE", "IT", "LV", "LT", "LU"}
    | {"MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "XI"}
)
# characters KSeF refuses besides those XML 1.0 forbids: C1 controls and Unicode non-characters
REFUSED_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff\U0005fffe\U0005ffff"
    "\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff\U0009fffe\U0009ffff\U000afffe\U000affff"
    "\U000bfffe\U000bffff\U000cfffe\U000cffff\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff"
    "\U0010fffe\U0010ffff]"
)
# FormaPlatnosci <-> UNCL 4461 payment means
MEANS_OF_FORM = {1: "10", 2: "48", 3: "ZZZ", 4: "20", 5: "ZZZ", 6: "30", 7: "68"}
FORM_OF_MEANS = {"10": 1, "48": 2, "54": 2, "55": 2, "20": 4, "30": 6, "31": 6, "42": 6, "58": 6, "68": 7}
# parts of FA(3) the neutral model does not carry: reading reports them instead of dropping them silently
NOT_CARRIED = (
    "PodmiotUpowazniony",
    "AdresKoresp",
    "NrEORI",
    "NowySrodekTransportu",
    "P_12_XII",
    "P_13_5",
    "ZwrotAkcyzy",
    "Skonto",
    "LinkDoPlatnosci",
    "IPKSeF",
    "KursUmowny",
    "PodmiotPosredniczacy",
)


class Fa3Error(EInvoiceError):
    """The invoice cannot be written as FA(3); ``findings`` says why."""

    def __init__(self, message, findings=()):
        super().__init__(message)
        self.findings = list(findings)


def write(invoice, outgoing=True):
    """The FA(3) bytes of ``invoice``; :class:`Fa3Error` when our checks find a fatal problem. ``outgoing``: the
    invoice is ours to issue, and what the law certainly forbids stops it too; False to write again what was
    received (a conversion), which only what KSeF would refuse stops."""
    wrong = [finding for finding in checks.check(invoice, outgoing) if finding.fatal]
    if wrong:
        raise Fa3Error(_("The invoice has errors; it was not written as FA(3)."), wrong)
    writer = _Writer(invoice)
    root = writer.document()
    if writer.refused:
        raise Fa3Error(_("The invoice contains characters KSeF refuses; it was not written."), writer.refused)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def amount_text(value):
    return format(value, "f")


def datetime_text(moment):
    """A moment in UTC to the second; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _q(tag):
    return f"{{{NS}}}{tag}"


class _Writer:
    def __init__(self, invoice):
        self.invoice = invoice
        self.pl = pl_invoice(invoice)
        self.abroad = buyer_abroad(invoice)
        self.refused = []

    def sub(self, parent, tag, text=None):
        element = etree.SubElement(parent, _q(tag))
        if text is not None:
            text = str(text)
            if REFUSED_CHARACTERS.search(text):
                self.refused.append(
                    Finding(
                        "PL-CHARS",
                        _("The text contains a character KSeF refuses."),
                        f"{etree.QName(parent).localname}/{tag}",
                    )
                )
                text = REFUSED_CHARACTERS.sub("", text)
            element.text = text
        return element

    def opt(self, parent, tag, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, Decimal):
            value = amount_text(value)
        elif isinstance(value, date):
            value = value.isoformat()
        return self.sub(parent, tag, value)

    def flag(self, parent, tag, value):
        return self.sub(parent, tag, "1" if value else "2")

    def document(self):
        root = etree.Element(_q("Faktura"), nsmap={None: NS, "etd": ETD})
        self.header(root)
        self.seller(root)
        self.buyer(root)
        for index, third in enumerate(self.pl.third_parties, 1):
            self.third_party(root, third, f"Podmiot3[{index}]")
        self.invoice_part(root)
        self.footer(root)
        if self.pl.attachment:
            self.attachment(root, self.pl.attachment)
        return root

    def header(self, root):
        header = self.sub(root, "Naglowek")
        code = self.sub(header, "KodFormularza", "FA")
        code.set("kodSystemowy", SYSTEM_CODE)
        code.set("wersjaSchemy", SCHEMA_VERSION)
        self.sub(header, "WariantFormularza", FORM_VARIANT)
        self.sub(header, "DataWytworzeniaFa", datetime_text(self.pl.generated_at or datetime.now(timezone.utc)))
        self.opt(header, "SystemInfo", self.pl.system_info)

    # -- parties -------------------------------------------------------------------------------------------------

    def address(self, parent, address, tag="Adres", party_place=None):
        """``party_place``: "Podmiot1", "Podmiot2" or "Podmiot3[n]", whose address may have a GLN."""
        if address is None:
            return
        first, second = address_lines(address)
        element = self.sub(parent, tag)
        self.sub(element, "KodKraju", address.country_code)
        self.sub(element, "AdresL1", first)
        self.opt(element, "AdresL2", second)
        self.opt(element, "GLN", dict(self.pl.address_gln).get(party_place))

    def contact(self, parent, party):
        contact = party.contact
        if contact and (contact.email or contact.phone):
            element = self.sub(parent, "DaneKontaktowe")
            self.opt(element, "Email", contact.email)
            self.opt(element, "Telefon", contact.phone)

    def identification(self, parent, party, internal_id=None):
        """DaneIdentyfikacyjne of a buyer or third party: NIP, EU VAT number, other tax id, or none."""
        element = self.sub(parent, "DaneIdentyfikacyjne")
        nip = bare_nip(party.vat_id)
        vat_id = (party.vat_id or "").replace(" ", "").upper()
        if vat_id.startswith("GR"):  # VAT numbers of Greece carry EL, not its ISO code
            vat_id = "EL" + vat_id[2:]
        if nip:
            self.sub(element, "NIP", nip)
        elif internal_id:
            self.sub(element, "IDWew", internal_id)
        elif vat_id[:2] in EU_VAT_PREFIXES:
            self.sub(element, "KodUE", vat_id[:2])
            self.sub(element, "NrVatUE", vat_id[2:])
        elif vat_id[:2].isalpha() and vat_id[:2].isupper() and len(vat_id) > 2:
            self.sub(element, "KodKraju", vat_id[:2])
            self.sub(element, "NrID", vat_id[2:])
        elif party.legal_id:
            self.sub(element, "NrID", party.legal_id.value)
        else:
            self.sub(element, "BrakID", "1")
        self.opt(element, "Nazwa", party.name)
        return element

    def seller(self, root):
        seller = self.invoice.seller
        element = self.sub(root, "Podmiot1")
        if self.pl.seller_eu_vat_prefix:
            self.sub(element, "PrefiksPodatnika", "PL")
        identification = self.sub(element, "DaneIdentyfikacyjne")
        self.sub(identification, "NIP", bare_nip(seller.vat_id) or bare_nip(seller.tax_registration_id))
        self.sub(identification, "Nazwa", seller.name)
        self.address(element, seller.address, party_place="Podmiot1")
        self.contact(element, seller)
        self.opt(element, "StatusInfoPodatnika", self.pl.seller_status)

    def buyer(self, root):
        buyer = self.invoice.buyer
        element = self.sub(root, "Podmiot2")
        self.identification(element, buyer)
        self.address(element, buyer.address, party_place="Podmiot2")
        self.contact(element, buyer)
        self.opt(element, "NrKlienta", self.pl.buyer_customer_number)
        self.opt(element, "IDNabywcy", self.pl.buyer_key)
        self.flag(element, "JST", self.pl.jst)
        self.flag(element, "GV", self.pl.gv)

    def third_party(self, root, third, place):
        element = self.sub(root, "Podmiot3")
        self.opt(element, "IDNabywcy", third.buyer_key)
        self.identification(element, third.party, third.internal_id)
        self.address(element, third.party.address, party_place=place)
        self.contact(element, third.party)
        if third.role is not None:
            self.sub(element, "Rola", third.role)
        else:
            self.sub(element, "RolaInna", "1")
            self.sub(element, "OpisRoli", third.other_role)
        self.opt(element, "Udzial", third.share)
        self.opt(element, "NrKlienta", third.customer_number)

    # -- Fa ------------------------------------------------------------------------------------------------------

    def invoice_part(self, root):
        invoice, pl = self.invoice, self.pl
        fa = self.sub(root, "Fa")
        self.sub(fa, "KodWaluty", invoice.currency)
        self.sub(fa, "P_1", invoice.issue_date.isoformat())
        self.opt(fa, "P_1M", pl.place_of_issue)
        self.sub(fa, "P_2", invoice.number)
        for number in pl.wz_numbers:
            self.sub(fa, "WZ", number)
        delivery_date = invoice.delivery.date if invoice.delivery else None
        if delivery_date:
            self.sub(fa, "P_6", delivery_date.isoformat())
        elif invoice.period_start and invoice.period_end:
            period = self.sub(fa, "OkresFa")
            self.sub(period, "P_6_Od", invoice.period_start.isoformat())
            self.sub(period, "P_6_Do", invoice.period_end.isoformat())
        self.rate_group_amounts(fa)
        self.sub(fa, "P_15", amount_text(invoice.totals.tax_inclusive))
        if pl.kind in ADVANCE_KINDS and self.foreign_currency:
            self.opt(fa, "KursWalutyZ", pl.exchange_rate)
        self.annotations(fa)
        self.sub(fa, "RodzajFaktury", pl.kind)
        if pl.correction:
            self.correction(fa, pl.correction)
        for advance in pl.partial_advances:
            element = self.sub(fa, "ZaliczkaCzesciowa")
            self.sub(element, "P_6Z", advance.received.isoformat())
            self.sub(element, "P_15Z", amount_text(advance.amount))
            self.opt(element, "KursWalutyZW", advance.exchange_rate)
        if pl.receipt_invoice:
            self.sub(fa, "FP", "1")
        if pl.related_parties:
            self.sub(fa, "TP", "1")
        for info in pl.additional_info:
            element = self.sub(fa, "DodatkowyOpis")
            self.opt(element, "NrWiersza", info.line)
            self.sub(element, "Klucz", info.key)
            self.sub(element, "Wartosc", info.value)
        for advance in pl.advance_invoices:
            element = self.sub(fa, "FakturaZaliczkowa")
            if advance.ksef_number:
                self.sub(element, "NrKSeFFaZaliczkowej", advance.ksef_number)
            else:
                self.sub(element, "NrKSeFZN", "1")
                self.sub(element, "NrFaZaliczkowej", advance.number)
        if pl.kind not in ADVANCE_KINDS:
            for index, line in enumerate(invoice.lines, 1):
                self.line(fa, line, index)
        if pl.settlement:
            self.settlement(fa, pl.settlement)
        self.payment(fa)
        self.transaction_terms(fa)
        if pl.order:
            self.order(fa, pl.order)

    @property
    def foreign_currency(self):
        return self.invoice.currency != PLN

    def rate_group_amounts(self, fa):
        declared_pln = dict(self.pl.vat_in_pln)
        for group, (net, tax) in rate_groups(self.invoice).items():
            self.sub(fa, f"P_13_{group}", amount_text(money(net)))
            if group in TAXED_GROUPS:
                self.sub(fa, f"P_14_{group}", amount_text(money(tax)))
                if self.foreign_currency:
                    in_pln = declared_pln.get(group)
                    if in_pln is None and self.pl.exchange_rate is not None:
                        in_pln = money(tax * self.pl.exchange_rate)
                    self.opt(fa, f"P_14_{group}W", in_pln)

    def annotations(self, fa):
        invoice, pl = self.invoice, self.pl
        groups = rate_groups(invoice)
        element = self.sub(fa, "Adnotacje")
        self.flag(element, "P_16", pl.cash_accounting)
        self.flag(element, "P_17", invoice.type_code == SELF_BILLED)
        # the buyer settles the VAT: domestic reverse charge, and services taxed where an EU buyer is established
        self.flag(element, "P_18", REVERSE_CHARGE_GROUP in groups or ART_100_GROUP in groups)
        self.flag(element, "P_18A", pl.split_payment)
        exemption = self.sub(element, "Zwolnienie")
        if EXEMPT_GROUP in groups:
            basis, text = pl.exemption_basis
            self.sub(exemption, "P_19", "1")
            self.sub(exemption, basis, text)
        else:
            self.sub(exemption, "P_19N", "1")
        transport = self.sub(element, "NoweSrodkiTransportu")
        self.sub(transport, "P_22N", "1")
        self.flag(element, "P_23", pl.simplified_triangular)
        margin = self.sub(element, "PMarzy")
        if MARGIN_GROUP in groups:
            self.sub(margin, "P_PMarzy", "1")
            self.sub(margin, pl.margin_scheme, "1")
        else:
            self.sub(margin, "P_PMarzyN", "1")

    def correction(self, fa, correction):
        self.opt(fa, "PrzyczynaKorekty", correction.reason)
        self.opt(fa, "TypKorekty", correction.effect)
        for corrected in correction.invoices:
            element = self.sub(fa, "DaneFaKorygowanej")
            self.sub(element, "DataWystFaKorygowanej", corrected.issue_date.isoformat())
            self.sub(element, "NrFaKorygowanej", corrected.number)
            if corrected.ksef_number:
                self.sub(element, "NrKSeF", "1")
                self.sub(element, "NrKSeFFaKorygowanej", corrected.ksef_number)
            else:
                self.sub(element, "NrKSeFN", "1")
        self.opt(fa, "OkresFaKorygowanej", correction.period)
        self.opt(fa, "NrFaKorygowany", correction.corrected_number)
        if correction.seller_before:
            party = correction.seller_before.party
            element = self.sub(fa, "Podmiot1K")
            identification = self.sub(element, "DaneIdentyfikacyjne")
            self.sub(identification, "NIP", bare_nip(party.vat_id))
            self.sub(identification, "Nazwa", party.name)
            self.address(element, party.address)
        for before in correction.buyers_before:
            element = self.sub(fa, "Podmiot2K")
            self.identification(element, before.party)
            self.address(element, before.party.address)
            self.opt(element, "IDNabywcy", before.buyer_key)
        if correction.advance_before is not None:
            self.sub(fa, "P_15ZK", amount_text(correction.advance_before))
            self.opt(fa, "KursWalutyZK", correction.exchange_rate_before)

    def line(self, fa, line, index):
        extension = pl_line(line)
        sign = -1 if extension.before else 1
        element = self.sub(fa, "FaWiersz")
        number = line.id if line.id and line.id.isdigit() and int(line.id) > 0 else str(index)
        self.sub(element, "NrWierszaFa", number)
        self.opt(element, "UU_ID", extension.uuid)
        self.opt(element, "P_6A", extension.supply_date)
        self.opt(element, "P_7", line.item_name)
        self.opt(element, "Indeks", line.seller_item_id)
        self.opt(element, "GTIN", line.standard_id.value if line.standard_id else None)
        self.opt(element, "PKWiU", extension.pkwiu)
        self.opt(element, "CN", extension.cn)
        self.opt(element, "PKOB", extension.pkob)
        self.opt(element, "P_8A", line.unit_code)
        self.opt(element, "P_8B", None if line.quantity is None else sign * line.quantity)
        self.opt(element, "P_9A", line.price)
        self.opt(element, "P_9B", extension.gross_price)
        self.opt(element, "P_10", line.price_discount)
        self.opt(element, "P_11", None if line.net_amount is None else sign * line.net_amount)
        self.opt(element, "P_11A", extension.gross_amount)
        self.opt(element, "P_11Vat", extension.tax_amount)
        code = rate_code(line, self.abroad)
        if code != MARGIN:
            self.opt(element, "P_12", code)
        if extension.annex_15:
            self.sub(element, "P_12_Zal_15", "1")
        self.opt(element, "KwotaAkcyzy", extension.excise_amount)
        self.opt(element, "GTU", extension.gtu)
        self.opt(element, "Procedura", extension.procedure)
        if extension.exchange_rate is not None:
            self.sub(element, "KursWaluty", amount_text(extension.exchange_rate))
        elif self.foreign_currency and standard_rate(code) is not None:
            self.opt(element, "KursWaluty", self.pl.exchange_rate)
        if extension.before:
            self.sub(element, "StanPrzed", "1")

    def settlement(self, fa, settlement):
        element = self.sub(fa, "Rozliczenie")
        for tag, items in (("Obciazenia", settlement.charges), ("Odliczenia", settlement.deductions)):
            for item in items:
                entry = self.sub(element, tag)
                self.sub(entry, "Kwota", amount_text(item.amount))
                self.sub(entry, "Powod", item.reason)
            if items:
                total = sum((item.amount for item in items), Decimal(0))
                self.sub(element, "SumaObciazen" if tag == "Obciazenia" else "SumaOdliczen", amount_text(total))
        self.opt(element, "DoZaplaty", settlement.due)
        self.opt(element, "DoRozliczenia", settlement.to_settle)

    def payment(self, fa):
        invoice, pl = self.invoice, self.pl
        means = invoice.payment_means
        if not (
            pl.paid_on or pl.partial_payments or invoice.due_date or pl.payment_terms or means or pl.factor_accounts
        ):
            return
        element = self.sub(fa, "Platnosc")
        if pl.paid_on:
            self.sub(element, "Zaplacono", "1")
            self.sub(element, "DataZaplaty", pl.paid_on.isoformat())
        elif pl.partial_payments:
            self.sub(element, "ZnacznikZaplatyCzesciowej", "2" if pl.paid_in_full_by_parts else "1")
            for payment in pl.partial_payments:
                entry = self.sub(element, "ZaplataCzesciowa")
                self.sub(entry, "KwotaZaplatyCzesciowej", amount_text(payment.amount))
                self.sub(entry, "DataZaplatyCzesciowej", payment.paid.isoformat())
                self.opt(entry, "FormaPlatnosci", payment.means)
        if invoice.due_date:
            term = self.sub(element, "TerminPlatnosci")
            self.sub(term, "Termin", invoice.due_date.isoformat())
        for payment_term in pl.payment_terms:
            term = self.sub(element, "TerminPlatnosci")
            self.opt(term, "Termin", payment_term.due)
            if payment_term.count is not None:
                description = self.sub(term, "TerminOpis")
                self.sub(description, "Ilosc", payment_term.count)
                self.sub(description, "Jednostka", payment_term.unit)
                self.sub(description, "ZdarzeniePoczatkowe", payment_term.event)
        if means:
            form = FORM_OF_MEANS.get(means[0].code)
            if form:
                self.sub(element, "FormaPlatnosci", form)
            else:
                self.sub(element, "PlatnoscInna", "1")
                self.sub(element, "OpisPlatnosci", means[0].text or means[0].code)
        details = {account.number: account for account in pl.bank_details}
        for item in means:
            if item.account_id:
                number = item.account_id.replace(" ", "")
                detail = details.get(number) or BankAccount(number)
                self.bank_account(
                    element, "RachunekBankowy", replace(detail, swift=item.bank_id, description=item.account_name)
                )
        for account in pl.factor_accounts:
            self.bank_account(element, "RachunekBankowyFaktora", account)

    def bank_account(self, parent, tag, account):
        element = self.sub(parent, tag)
        self.sub(element, "NrRB", account.number)
        self.opt(element, "SWIFT", account.swift)
        self.opt(element, "RachunekWlasnyBanku", account.own_bank_account)
        self.opt(element, "NazwaBanku", account.bank_name)
        self.opt(element, "OpisRachunku", account.description)

    def transaction_terms(self, fa):
        invoice, pl = self.invoice, self.pl
        if not (invoice.contract_ref or invoice.order_ref or pl.batch_numbers or pl.delivery_terms or pl.transports):
            return
        element = self.sub(fa, "WarunkiTransakcji")
        if invoice.contract_ref or pl.contract_date:
            contract = self.sub(element, "Umowy")
            self.opt(contract, "DataUmowy", pl.contract_date)
            self.opt(contract, "NrUmowy", invoice.contract_ref)
        if invoice.order_ref or pl.order_date:
            order = self.sub(element, "Zamowienia")
            self.opt(order, "DataZamowienia", pl.order_date)
            self.opt(order, "NrZamowienia", invoice.order_ref)
        for number in pl.batch_numbers:
            self.sub(element, "NrPartiiTowaru", number)
        self.opt(element, "WarunkiDostawy", pl.delivery_terms)
        for transport in pl.transports:
            self.transport(element, transport)

    def transport(self, parent, transport):
        element = self.sub(parent, "Transport")
        if transport.kind is not None:
            self.sub(element, "RodzajTransportu", transport.kind)
        else:
            self.sub(element, "TransportInny", "1")
            self.sub(element, "OpisInnegoTransportu", transport.other_kind)
        if transport.carrier:
            carrier = self.sub(element, "Przewoznik")
            self.identification(carrier, transport.carrier)
            self.address(carrier, transport.carrier.address, "AdresPrzewoznika")
        self.opt(element, "NrZleceniaTransportu", transport.order_number)
        if transport.cargo is not None:
            self.sub(element, "OpisLadunku", transport.cargo)
        else:
            self.sub(element, "LadunekInny", "1")
            self.sub(element, "OpisInnegoLadunku", transport.other_cargo)
        self.opt(element, "JednostkaOpakowania", transport.packaging)
        for tag, moment in (("DataGodzRozpTransportu", transport.start), ("DataGodzZakTransportu", transport.end)):
            if moment is not None:
                self.sub(element, tag, datetime_text(moment))
        self.address(element, transport.ship_from, "WysylkaZ")
        for address in transport.ship_via:
            self.address(element, address, "WysylkaPrzez")
        self.address(element, transport.ship_to, "WysylkaDo")

    def order(self, fa, order):
        element = self.sub(fa, "Zamowienie")
        self.sub(element, "WartoscZamowienia", amount_text(order.value))
        for line in order.lines:
            row = self.sub(element, "ZamowienieWiersz")
            self.sub(row, "NrWierszaZam", line.number)
            for tag, value in (
                ("UU_IDZ", line.uuid),
                ("P_7Z", line.name),
                ("IndeksZ", line.seller_item_id),
                ("GTINZ", line.gtin),
                ("PKWiUZ", line.pkwiu),
                ("CNZ", line.cn),
                ("PKOBZ", line.pkob),
                ("P_8AZ", line.unit),
                ("P_8BZ", line.quantity),
                ("P_9AZ", line.price),
                ("P_11NettoZ", line.net_amount),
                ("P_11VatZ", line.tax_amount),
                ("P_12Z", line.rate_code),
                ("GTUZ", line.gtu),
                ("ProceduraZ", line.procedure),
            ):
                self.opt(row, tag, value)
            if line.before:
                self.sub(row, "StanPrzedZ", "1")

    def attachment(self, root, data):
        element = parse_xml(data, what=_("FA(3) invoice"))
        if element.tag != _q("Zalacznik"):
            raise Fa3Error(_("The invoice does not match the FA(3) schema or its rules."))
        for text in element.itertext():
            if REFUSED_CHARACTERS.search(text):
                self.refused.append(Finding("PL-CHARS", _("The text contains a character KSeF refuses."), "Zalacznik"))
                break
        root.append(element)

    def footer(self, root):
        notes, registries = self.invoice.notes, self.pl.registries
        if not (notes or registries):
            return
        element = self.sub(root, "Stopka")
        for note in notes:
            information = self.sub(element, "Informacje")
            self.sub(information, "StopkaFaktury", note.text)
        for registry in registries:
            entry = self.sub(element, "Rejestry")
            self.opt(entry, "PelnaNazwa", registry.full_name)
            self.opt(entry, "KRS", registry.krs)
            self.opt(entry, "REGON", registry.regon)
            self.opt(entry, "BDO", registry.bdo)


# -- reading -----------------------------------------------------------------------------------------------------


class Fa3ReadError(EInvoiceError):
    """The document is not an FA(3) invoice."""


def read(data):
    """Read FA(3) ``data`` (bytes) into a :class:`~einvoice.ubl.ReadResult`."""
    return _Reader(invoice_root(data)).result()


def invoice_root(data):
    """The root element of the FA(3) invoice ``data`` (bytes); :class:`Fa3ReadError` for another document."""
    root = parse_xml(data, what=_("FA(3) invoice"))
    require_invoice(root)
    return root


def require_invoice(root):
    if etree.QName(root).namespace != NS or etree.QName(root).localname != "Faktura":
        raise Fa3ReadError(_("This is not an FA(3) invoice (root element %(root)s).", root=etree.QName(root).text))


def read_element(root):
    require_invoice(root)
    return _Reader(root).result()


def check_document(data):
    """Every finding for the FA(3) document ``data``: what reading found, then our checks."""
    result = read(data)
    return result.findings + checks.check(result.invoice)


# The number types of the FA(3) schema (schemat_FA(3)_v1-0E.xsd and etd:TNaturalny), by the elements the reader
# takes. Their patterns write \d, but they restrict xsd:decimal, whose digits are ASCII only.
TKWOTOWY = NumberType(
    "TKwotowy",
    pattern=re.compile(r"-?([1-9][0-9]{0,15}|0)(\.[0-9]{1,2})?"),
    integer_digits=16,
    fraction_digits=2,
    total_digits=18,
)
TKWOTOWY2 = NumberType(
    "TKwotowy2",
    pattern=re.compile(r"-?([1-9][0-9]{0,13}|0)(\.[0-9]{1,8})?"),
    integer_digits=14,
    fraction_digits=8,
    total_digits=22,
)
TILOSCI = NumberType(
    "TIlosci",
    pattern=re.compile(r"-?([1-9][0-9]{0,15}|0)(\.[0-9]{1,6})?"),
    integer_digits=16,
    fraction_digits=6,
    total_digits=22,
)
TPROCENTOWY = NumberType("TProcentowy", fraction_digits=6, total_digits=9, minimum=Decimal(0), maximum=Decimal(100))
TNATURALNY = NumberType("TNaturalny", integer=True, total_digits=14, minimum=1)
NUMBER_TYPES = {
    **dict.fromkeys(
        (
            "DoRozliczenia", "DoZaplaty", "Kwota", "KwotaAkcyzy", "KwotaAkcyzyZ", "KwotaZaplatyCzesciowej", "P_11",
            "P_11A", "P_11NettoZ", "P_11Vat", "P_11VatZ", "P_15", "P_15Z", "P_15ZK", "SumaObciazen", "SumaOdliczen",
            "WartoscZamowienia",
            *(f"P_13_{group}" for group in ("1", "2", "3", "4", "5", "6_1", "6_2", "6_3", "7", "8", "9", "10", "11")),
            *(f"P_14_{group}" for group in ("1", "2", "3", "4", "5", "1W", "2W", "3W", "4W")),
        ),
        TKWOTOWY,
    ),
    **dict.fromkeys(("P_9A", "P_9AZ", "P_9B", "P_10"), TKWOTOWY2),
    **dict.fromkeys(
        ("P_8B", "P_8BZ", "KursUmowny", "KursWaluty", "KursWalutyZ", "KursWalutyZK", "KursWalutyZW"), TILOSCI
    ),
    **dict.fromkeys(("Udzial", "P_12_XII", "P_12Z_XII"), TPROCENTOWY),
    **dict.fromkeys(("NrWiersza", "NrWierszaFa", "NrWierszaZam", "P_NrWierszaNST"), TNATURALNY),
}  # fmt: skip


def parse_date(text):
    return date.fromisoformat(text)


def parse_datetime(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


DATE, MOMENT = _("date"), _("date and time")


@functools.cache
def qualified(path):
    """An ElementPath in the FA(3) namespace: ``Fa/P_1`` -> ``{ns}Fa/{ns}P_1``."""
    return "/".join(_q(part) for part in path.split("/"))


class _Reader:
    def __init__(self, root):
        self.root = root
        self.findings = []

    def find(self, node, path):
        return None if node is None else node.find(qualified(path))

    def findall(self, node, path):
        return [] if node is None else node.findall(qualified(path))

    def text(self, node, path):
        element = self.find(node, path)
        if element is None or not element.text:
            return None
        # runs of white space are one blank; a text of blanks only is what the schema allows (TZnakowy needs one
        # character) and is kept as it is, so that the invoice can be written again
        return " ".join(element.text.split()) or element.text

    def value(self, node, path, parse, kind):
        return self.convert(self.text(node, path), path, parse, kind)

    def convert(self, text, path, parse, kind):
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError:
            self.findings.append(
                Finding(
                    "PL-READ-02", _("%(what)s is not a valid %(kind)s: %(text)s", what=path, kind=kind, text=text), path
                )
            )
            return None

    def number(self, text, path, default=DECIMAL):
        """``text``, as the element ``path`` has it, read as the schema type of that element (``default`` for an
        element not in NUMBER_TYPES); None, with a finding, when it is not one. None for no element at all."""
        if text is None:
            return None
        try:
            return read_number(text, path, NUMBER_TYPES.get(path.rsplit("/", 1)[-1], default))
        except NumberError as error:
            self.findings.append(Finding("PL-READ-02", error.message, path))
            return None

    def decimal(self, node, path):
        element = self.find(node, path)
        return None if element is None else self.number(element.text or "", path)

    def date(self, node, path):
        return self.value(node, path, parse_date, DATE)

    def integer(self, node, path):
        element = self.find(node, path)
        return None if element is None else self.number(element.text or "", path, INTEGER)

    def result(self):
        for name in NOT_CARRIED:
            if next(self.root.iter(_q(name)), None) is not None:
                self.findings.append(
                    Finding(
                        "PL-READ-01",
                        _("%(element)s is not taken over into the invoice; see the original document.", element=name),
                        name,
                        fatal=False,
                    )
                )
        return ReadResult(self.invoice(), self.findings)

    # -- parties -------------------------------------------------------------------------------------------------

    def address(self, node):
        if node is None:
            return None
        first, second = self.text(node, "AdresL1"), self.text(node, "AdresL2")
        postal_code = city = None
        if second:
            match = re.fullmatch(r"(\S*\d\S*)\s+(.+)", second)
            postal_code, city = match.groups() if match else (None, second)
        return Address(self.text(node, "KodKraju"), first, city=city, postal_code=postal_code)

    def contact(self, node):
        contact = self.find(node, "DaneKontaktowe")
        if contact is None:
            return None
        return Contact(phone=self.text(contact, "Telefon"), email=self.text(contact, "Email"))

    def party(self, node, identification_path="DaneIdentyfikacyjne", address_path="Adres"):
        identification = self.find(node, identification_path)
        vat_id = legal_id = None
        nip = self.text(identification, "NIP")
        if nip:
            vat_id = "PL" + nip
        elif self.text(identification, "KodUE"):
            vat_id = self.text(identification, "KodUE") + (self.text(identification, "NrVatUE") or "")
        elif self.text(identification, "NrID"):
            country = self.text(identification, "KodKraju")
            if country:
                vat_id = country + self.text(identification, "NrID")
            else:
                legal_id = Identifier(self.text(identification, "NrID"))
        return Party(
            name=self.text(identification, "Nazwa"),
            address=self.address(self.find(node, address_path)),
            vat_id=vat_id,
            legal_id=legal_id,
            contact=self.contact(node),
        )

    def third_party(self, node):
        return ThirdParty(
            party=self.party(node),
            role=self.integer(node, "Rola"),
            other_role=self.text(node, "OpisRoli"),
            internal_id=self.text(node, "DaneIdentyfikacyjne/IDWew"),
            share=self.decimal(node, "Udzial"),
            customer_number=self.text(node, "NrKlienta"),
            buyer_key=self.text(node, "IDNabywcy"),
        )

    # -- invoice -------------------------------------------------------------------------------------------------

    def invoice(self):
        root = self.root
        fa = self.find(root, "Fa")
        seller_node, buyer_node = self.find(root, "Podmiot1"), self.find(root, "Podmiot2")
        kind = self.text(fa, "RodzajFaktury")
        annotations = self.find(fa, "Adnotacje")
        margin_scheme = next(
            (name for name in MARGIN_SCHEMES if self.find(annotations, f"PMarzy/{name}") is not None), None
        )
        buyer = self.party(buyer_node)
        abroad = buyer_abroad(Invoice(buyer=buyer))
        exchange_rate = self.exchange_rate(fa, kind)
        lines = tuple(self.line(node, margin_scheme, abroad, exchange_rate) for node in self.findall(fa, "FaWiersz"))
        groups = self.groups(fa, lines)
        currency = self.text(fa, "KodWaluty")
        pl = PlInvoice(
            kind=kind,
            correction=self.correction(fa) if self.find(fa, "DaneFaKorygowanej") is not None else None,
            third_parties=tuple(self.third_party(node) for node in self.findall(root, "Podmiot3")),
            jst=self.text(buyer_node, "JST") == "1",
            gv=self.text(buyer_node, "GV") == "1",
            cash_accounting=self.text(annotations, "P_16") == "1",
            split_payment=self.text(annotations, "P_18A") == "1",
            simplified_triangular=self.text(annotations, "P_23") == "1",
            margin_scheme=margin_scheme,
            exemption_basis=next(
                (
                    (tag, self.text(annotations, f"Zwolnienie/{tag}"))
                    for tag in (EXEMPTION_ACT, EXEMPTION_DIRECTIVE, EXEMPTION_OTHER)
                    if self.text(annotations, f"Zwolnienie/{tag}")
                ),
                None,
            ),
            place_of_issue=self.text(fa, "P_1M"),
            wz_numbers=tuple(" ".join(node.text.split()) for node in self.findall(fa, "WZ") if node.text),
            exchange_rate=exchange_rate,
            vat_in_pln=self.vat_in_pln(fa, groups, exchange_rate, currency),
            advance_invoices=tuple(
                AdvanceInvoice(self.text(node, "NrKSeFFaZaliczkowej"), self.text(node, "NrFaZaliczkowej"))
                for node in self.findall(fa, "FakturaZaliczkowa")
            ),
            partial_advances=tuple(
                PartialAdvance(self.date(node, "P_6Z"), self.decimal(node, "P_15Z"), self.decimal(node, "KursWalutyZW"))
                for node in self.findall(fa, "ZaliczkaCzesciowa")
            ),
            order=self.order(self.find(fa, "Zamowienie")),
            settlement=self.settlement(self.find(fa, "Rozliczenie")),
            paid_on=self.date(fa, "Platnosc/DataZaplaty") if self.text(fa, "Platnosc/Zaplacono") == "1" else None,
            partial_payments=tuple(
                PartialPayment(
                    self.decimal(node, "KwotaZaplatyCzesciowej"),
                    self.date(node, "DataZaplatyCzesciowej"),
                    self.integer(node, "FormaPlatnosci"),
                )
                for node in self.findall(fa, "Platnosc/ZaplataCzesciowa")
            ),
            paid_in_full_by_parts=self.text(fa, "Platnosc/ZnacznikZaplatyCzesciowej") == "2",
            payment_terms=self.payment_terms(fa)[1],
            bank_details=tuple(
                replace(account, swift=None, description=None)
                for account in self.bank_accounts(fa, "Platnosc/RachunekBankowy")
                if account.bank_name or account.own_bank_account
            ),
            factor_accounts=self.bank_accounts(fa, "Platnosc/RachunekBankowyFaktora"),
            seller_eu_vat_prefix=self.text(seller_node, "PrefiksPodatnika") == "PL",
            seller_status=self.integer(seller_node, "StatusInfoPodatnika"),
            buyer_customer_number=self.text(buyer_node, "NrKlienta"),
            buyer_key=self.text(buyer_node, "IDNabywcy"),
            address_gln=tuple(
                (place, self.text(node, "Adres/GLN"))
                for place, node in (
                    ("Podmiot1", seller_node),
                    ("Podmiot2", buyer_node),
                    *((f"Podmiot3[{index}]", node) for index, node in enumerate(self.findall(root, "Podmiot3"), 1)),
                )
                if self.text(node, "Adres/GLN")
            ),
            receipt_invoice=self.text(fa, "FP") == "1",
            related_parties=self.text(fa, "TP") == "1",
            additional_info=tuple(
                AdditionalInfo(self.text(node, "Klucz"), self.text(node, "Wartosc"), self.integer(node, "NrWiersza"))
                for node in self.findall(fa, "DodatkowyOpis")
            ),
            order_date=self.date(fa, "WarunkiTransakcji/Zamowienia/DataZamowienia"),
            contract_date=self.date(fa, "WarunkiTransakcji/Umowy/DataUmowy"),
            delivery_terms=self.text(fa, "WarunkiTransakcji/WarunkiDostawy"),
            batch_numbers=tuple(
                " ".join(node.text.split())
                for node in self.findall(fa, "WarunkiTransakcji/NrPartiiTowaru")
                if node.text
            ),
            transports=tuple(self.transport(node) for node in self.findall(fa, "WarunkiTransakcji/Transport")),
            registries=tuple(
                Registry(
                    self.text(node, "PelnaNazwa"),
                    self.text(node, "KRS"),
                    self.text(node, "REGON"),
                    self.text(node, "BDO"),
                )
                for node in self.findall(root, "Stopka/Rejestry")
            ),
            generated_at=self.value(root, "Naglowek/DataWytworzeniaFa", parse_datetime, MOMENT),
            system_info=self.text(root, "Naglowek/SystemInfo"),
            attachment=self.attachment(self.find(root, "Zalacznik")),
        )
        self_billed = self.text(annotations, "P_17") == "1"
        type_code = (
            "389" if self_billed else "384" if kind in CORRECTION_KINDS else "386" if kind in ADVANCE_KINDS else "380"
        )
        delivery_date = self.date(fa, "P_6")
        total = self.decimal(fa, "P_15")
        line_amounts = [line.net_amount for line in lines if line.net_amount is not None]
        nets = [net for net, _tax in groups.values()]
        taxes = [tax for _net, tax in groups.values() if tax is not None]
        return Invoice(
            number=self.text(fa, "P_2"),
            issue_date=self.date(fa, "P_1"),
            type_code=type_code,
            currency=currency,
            seller=self.party(seller_node),
            buyer=buyer,
            lines=lines,
            vat_breakdown=tuple(self.breakdown(group, net, tax, lines) for group, (net, tax) in groups.items()),
            totals=Totals(
                line_total=money(sum(line_amounts, Decimal(0))) if line_amounts else None,
                tax_exclusive=sum(nets, Decimal(0)),
                tax_inclusive=total,
                payable=total,
                tax_total=sum(taxes, Decimal(0)),
            ),
            due_date=self.payment_terms(fa)[0],
            order_ref=self.text(fa, "WarunkiTransakcji/Zamowienia/NrZamowienia"),
            contract_ref=self.text(fa, "WarunkiTransakcji/Umowy/NrUmowy"),
            notes=tuple(
                Note(node.text.strip() or node.text)
                for node in self.findall(root, "Stopka/Informacje/StopkaFaktury")
                if node.text
            ),
            delivery=Delivery(date=delivery_date) if delivery_date else None,
            period_start=self.date(fa, "OkresFa/P_6_Od"),
            period_end=self.date(fa, "OkresFa/P_6_Do"),
            payment_means=self.payment_means(fa),
            extensions={"pl": pl},
        )

    def groups(self, fa, lines):
        groups = {}
        for group, _codes in RATE_GROUPS:
            net = self.decimal(fa, f"P_13_{group}")
            if net is not None:
                groups[group] = (
                    net,
                    self.decimal(fa, f"P_14_{group}") or Decimal(0) if group in TAXED_GROUPS else None,
                )
        return groups

    @staticmethod
    def breakdown(group, net, tax, lines):
        codes = dict(RATE_GROUPS)[group]
        if group in TAXED_GROUPS:
            used = [code for code in codes if any(rate_code(line) == code for line in lines)]
            return VatBreakdown("S", standard_rate(used[0] if used else codes[0]), net, tax)
        category = "E" if codes[0] == MARGIN else CATEGORY_OF_CODE[codes[0]]
        return VatBreakdown(category, None if category == "O" else Decimal(0), net, Decimal(0))

    def exchange_rate(self, fa, kind):
        if kind in ADVANCE_KINDS:
            return self.decimal(fa, "KursWalutyZ")
        rates = set()
        for node in self.findall(fa, "FaWiersz/KursWaluty"):
            with contextlib.suppress(NumberError):  # reported with its line
                rates.add(read_number(node.text or "", "FaWiersz/KursWaluty", TILOSCI))
        return rates.pop() if len(rates) == 1 else None

    def vat_in_pln(self, fa, groups, exchange_rate, currency):
        """P_14_xW as declared, where the exchange rate does not yield it (or is not known)."""
        if currency == PLN:
            return ()
        declared = []
        for group in TAXED_GROUPS:
            value = self.decimal(fa, f"P_14_{group}W")
            if value is None:
                continue
            derived = None if exchange_rate is None or group not in groups else money(groups[group][1] * exchange_rate)
            if value != derived:
                declared.append((group, value))
        return tuple(declared)

    def line(self, node, margin_scheme, abroad, exchange_rate):
        """One FaWiersz; ``exchange_rate``: the invoice's, which the line's KursWaluty need not repeat."""
        # one pass over the row's children: a row has many optional fields and invoices have thousands of rows
        written = {etree.QName(child).localname: child.text or "" for child in node if isinstance(child.tag, str)}
        fields = {name: " ".join(text.split()) for name, text in written.items() if text.strip()}
        get = fields.get

        def number(tag):
            return self.number(written.get(tag), f"FaWiersz/{tag}")

        code = get("P_12")
        before = get("StanPrzed") == "1"
        sign = -1 if before else 1
        if code is None and margin_scheme:
            code = MARGIN
        rate = standard_rate(code)
        if rate is not None:
            category = "S"
        elif code == MARGIN:
            category = "E"
        else:
            category = CATEGORY_OF_CODE.get(code)
        zero_rate = None if category in (None, "S", "O") else Decimal(0)
        # the line keeps its code only where category and rate do not give it back
        derived = category_code(category, rate if rate is not None else zero_rate, abroad)
        override = code if code is not None and code != derived else None
        quantity, net, line_rate = number("P_8B"), number("P_11"), number("KursWaluty")
        extension = PlLine(
            rate_code=override,
            gtu=get("GTU"),
            procedure=get("Procedura"),
            pkwiu=get("PKWiU"),
            cn=get("CN"),
            pkob=get("PKOB"),
            uuid=get("UU_ID"),
            supply_date=self.convert(get("P_6A"), "FaWiersz/P_6A", parse_date, DATE),
            gross_price=number("P_9B"),
            gross_amount=number("P_11A"),
            tax_amount=number("P_11Vat"),
            annex_15=get("P_12_Zal_15") == "1",
            excise_amount=number("KwotaAkcyzy"),
            exchange_rate=line_rate if line_rate != exchange_rate else None,
            before=before,
        )
        return Line(
            id=get("NrWierszaFa"),
            quantity=None if quantity is None else sign * quantity,
            unit_code=get("P_8A"),
            net_amount=None if net is None else sign * net,
            price=number("P_9A"),
            item_name=get("P_7"),
            vat_category=category,
            vat_rate=rate if rate is not None else zero_rate,
            price_discount=number("P_10"),
            seller_item_id=get("Indeks"),
            standard_id=Identifier(get("GTIN"), "0160") if get("GTIN") else None,
            extensions={"pl": extension} if extension != NO_PL_LINE else {},
        )

    def correction(self, fa):
        seller_before = self.find(fa, "Podmiot1K")
        return Correction(
            invoices=tuple(
                CorrectedInvoice(
                    self.text(node, "NrFaKorygowanej"),
                    self.date(node, "DataWystFaKorygowanej"),
                    self.text(node, "NrKSeFFaKorygowanej"),
                )
                for node in self.findall(fa, "DaneFaKorygowanej")
            ),
            reason=self.text(fa, "PrzyczynaKorekty"),
            effect=self.integer(fa, "TypKorekty"),
            period=self.text(fa, "OkresFaKorygowanej"),
            corrected_number=self.text(fa, "NrFaKorygowany"),
            seller_before=PartyBefore(self.party(seller_before)) if seller_before is not None else None,
            buyers_before=tuple(
                PartyBefore(self.party(node), self.text(node, "IDNabywcy")) for node in self.findall(fa, "Podmiot2K")
            ),
            advance_before=self.decimal(fa, "P_15ZK"),
            exchange_rate_before=self.decimal(fa, "KursWalutyZK"),
        )

    @staticmethod
    def attachment(node):
        """Zalacznik as its own document, without the namespaces it does not use."""
        if node is None:
            return None
        copy = copy_element(node)
        etree.cleanup_namespaces(copy)
        return etree.tostring(copy, encoding="UTF-8", with_tail=False)

    def order(self, node):
        if node is None:
            return None
        lines = tuple(
            OrderLine(
                number=self.integer(row, "NrWierszaZam"),
                name=self.text(row, "P_7Z"),
                quantity=self.decimal(row, "P_8BZ"),
                unit=self.text(row, "P_8AZ"),
                price=self.decimal(row, "P_9AZ"),
                net_amount=self.decimal(row, "P_11NettoZ"),
                tax_amount=self.decimal(row, "P_11VatZ"),
                rate_code=self.text(row, "P_12Z"),
                uuid=self.text(row, "UU_IDZ"),
                seller_item_id=self.text(row, "IndeksZ"),
                gtin=self.text(row, "GTINZ"),
                pkwiu=self.text(row, "PKWiUZ"),
                cn=self.text(row, "CNZ"),
                pkob=self.text(row, "PKOBZ"),
                gtu=self.text(row, "GTUZ"),
                procedure=self.text(row, "ProceduraZ"),
                before=self.text(row, "StanPrzedZ") == "1",
            )
            for row in self.findall(node, "ZamowienieWiersz")
        )
        return Order(self.decimal(node, "WartoscZamowienia"), lines)

    def settlement(self, node):
        if node is None:
            return None

        def items(tag):
            return tuple(
                SettlementItem(self.decimal(entry, "Kwota"), self.text(entry, "Powod"))
                for entry in self.findall(node, tag)
            )

        return Settlement(
            charges=items("Obciazenia"),
            deductions=items("Odliczenia"),
            due=self.decimal(node, "DoZaplaty"),
            to_settle=self.decimal(node, "DoRozliczenia"),
        )

    def bank_accounts(self, fa, path):
        return tuple(
            BankAccount(
                self.text(node, "NrRB"),
                self.text(node, "SWIFT"),
                self.integer(node, "RachunekWlasnyBanku"),
                self.text(node, "NazwaBanku"),
                self.text(node, "OpisRachunku"),
            )
            for node in self.findall(fa, path)
        )

    def transport(self, node):
        carrier = self.find(node, "Przewoznik")
        return Transport(
            kind=self.integer(node, "RodzajTransportu"),
            other_kind=self.text(node, "OpisInnegoTransportu"),
            carrier=self.party(carrier, address_path="AdresPrzewoznika") if carrier is not None else None,
            order_number=self.text(node, "NrZleceniaTransportu"),
            cargo=self.integer(node, "OpisLadunku"),
            other_cargo=self.text(node, "OpisInnegoLadunku"),
            packaging=self.text(node, "JednostkaOpakowania"),
            start=self.value(node, "DataGodzRozpTransportu", parse_datetime, MOMENT),
            end=self.value(node, "DataGodzZakTransportu", parse_datetime, MOMENT),
            ship_from=self.address(self.find(node, "WysylkaZ")),
            ship_via=tuple(self.address(address) for address in self.findall(node, "WysylkaPrzez")),
            ship_to=self.address(self.find(node, "WysylkaDo")),
        )

    def payment_terms(self, fa):
        """(due date, further terms): the first term that is a plain date is the invoice's due date."""
        terms = [
            PaymentTerm(
                due=self.date(node, "Termin"),
                count=self.integer(node, "TerminOpis/Ilosc"),
                unit=self.text(node, "TerminOpis/Jednostka"),
                event=self.text(node, "TerminOpis/ZdarzeniePoczatkowe"),
            )
            for node in self.findall(fa, "Platnosc/TerminPlatnosci")
        ]
        if terms and terms[0].due and terms[0].count is None:
            return terms[0].due, tuple(terms[1:])
        return None, tuple(terms)

    def payment_means(self, fa):
        payment = self.find(fa, "Platnosc")
        if payment is None:
            return ()
        form = self.integer(payment, "FormaPlatnosci")
        code = MEANS_OF_FORM.get(form) if form else None
        text = self.text(payment, "OpisPlatnosci")
        if text and not code:
            code = "ZZZ"
        accounts = [
            PaymentMeans(
                code or "30",
                account_id=self.text(node, "NrRB"),
                bank_id=self.text(node, "SWIFT"),
                account_name=self.text(node, "OpisRachunku"),
            )
            for node in self.findall(payment, "RachunekBankowy")
        ]
        if accounts:
            return tuple(accounts)
        return (PaymentMeans(code, text=text),) if code else ()
