"""Polish extras of the neutral invoice: what an FA(3) invoice carries and EN 16931 does not.

:class:`PlInvoice` is stored as ``invoice.extensions["pl"]`` and :class:`PlLine` as ``line.extensions["pl"]``.
Only what cannot be derived from the neutral model lives here. The rest is computed from the invoice by the
functions at the end of this module: the P_12 rate code of each line, the rate groups P_13_x/P_14_x, and through
them the self-billing (type 389), reverse-charge, exemption and margin markers that the writer sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..model import Address, Party

# RodzajFaktury
VAT, KOR, ZAL, ROZ, UPR, KOR_ZAL, KOR_ROZ = "VAT", "KOR", "ZAL", "ROZ", "UPR", "KOR_ZAL", "KOR_ROZ"
INVOICE_KINDS = (VAT, KOR, ZAL, ROZ, UPR, KOR_ZAL, KOR_ROZ)
CORRECTION_KINDS = frozenset({KOR, KOR_ZAL, KOR_ROZ})
ADVANCE_KINDS = frozenset({ZAL, KOR_ZAL})  # the advance is described by the order (Zamowienie), not by FaWiersz
SETTLEMENT_KINDS = frozenset({ROZ, KOR_ROZ})  # settle earlier advance invoices (FakturaZaliczkowa)

# Podmiot3/Rola
ROLE_FACTOR, ROLE_RECIPIENT, ROLE_ORIGINAL_ENTITY, ROLE_ADDITIONAL_BUYER = 1, 2, 3, 4
ROLE_ISSUER, ROLE_PAYER, ROLE_JST_ISSUER, ROLE_JST_RECIPIENT = 5, 6, 7, 8
ROLE_GV_ISSUER, ROLE_GV_RECIPIENT, ROLE_EMPLOYEE = 9, 10, 11

# Zwolnienie: the legal basis of an exemption is a provision of the Polish VAT act (P_19A), of directive
# 2006/112/EC (P_19B) or another legal basis (P_19C)
EXEMPTION_ACT, EXEMPTION_DIRECTIVE, EXEMPTION_OTHER = "P_19A", "P_19B", "P_19C"

# P_12 codes that the (category, rate) of a line cannot tell apart, given as a line override; a margin-scheme line
# (art. 119, 120) has no P_12 at all and counts in P_13_11
NP_OUTSIDE_COUNTRY, NP_ART_100, MARGIN = "np I", "np II", "margin"
RATE_OVERRIDES = frozenset({NP_OUTSIDE_COUNTRY, NP_ART_100, MARGIN})
# PMarzy: travel agencies (art. 119), second-hand goods, works of art, collectors' items and antiques (art. 120)
MARGIN_SCHEMES = ("P_PMarzy_2", "P_PMarzy_3_1", "P_PMarzy_3_2", "P_PMarzy_3_3")


@dataclass(frozen=True)
class CorrectedInvoice:
    """DaneFaKorygowanej: one invoice this correction corrects."""

    number: str  # NrFaKorygowanej
    issue_date: date  # DataWystFaKorygowanej
    ksef_number: str | None = None  # NrKSeFFaKorygowanej; None: issued outside KSeF (NrKSeFN)


@dataclass(frozen=True)
class PartyBefore:
    """Podmiot1K / Podmiot2K: a party as the corrected invoice named it."""

    party: Party
    buyer_key: str | None = None  # IDNabywcy: links the buyer's data across corrections


@dataclass(frozen=True)
class Correction:
    """The correction block of KOR, KOR_ZAL and KOR_ROZ invoices."""

    invoices: tuple[CorrectedInvoice, ...] = ()
    reason: str | None = None  # PrzyczynaKorekty
    effect: int | None = None  # TypKorekty: 1 at the original date, 2 at the correction date, 3 other
    period: str | None = None  # OkresFaKorygowanej: a discount for a period (art. 106j ust. 3)
    corrected_number: str | None = None  # NrFaKorygowany: the right number when the number itself was wrong
    seller_before: PartyBefore | None = None  # Podmiot1K
    buyers_before: tuple[PartyBefore, ...] = ()  # Podmiot2K
    advance_before: Decimal | None = None  # P_15ZK: amount paid (advance) before the correction
    exchange_rate_before: Decimal | None = None  # KursWalutyZK


@dataclass(frozen=True)
class ThirdParty:
    """Podmiot3: another party of the invoice and its role."""

    party: Party
    role: int | None = None  # Rola 1..11; None with other_role
    other_role: str | None = None  # OpisRoli (RolaInna)
    internal_id: str | None = None  # IDWew: NIP-nnnnn of a unit (JST or VAT group member)
    share: Decimal | None = None  # Udzial: percentage of an additional buyer
    customer_number: str | None = None  # NrKlienta
    buyer_key: str | None = None  # IDNabywcy


@dataclass(frozen=True)
class AdvanceInvoice:
    """FakturaZaliczkowa: an advance invoice settled by this one."""

    ksef_number: str | None = None  # NrKSeFFaZaliczkowej
    number: str | None = None  # NrFaZaliczkowej, for an advance invoice issued outside KSeF


@dataclass(frozen=True)
class PartialAdvance:
    """ZaliczkaCzesciowa: one of several advance payments documented by the invoice."""

    received: date  # P_6Z
    amount: Decimal  # P_15Z
    exchange_rate: Decimal | None = None  # KursWalutyZW


@dataclass(frozen=True)
class PartialPayment:
    """ZaplataCzesciowa."""

    amount: Decimal
    paid: date
    means: int | None = None  # FormaPlatnosci 1..7


@dataclass(frozen=True)
class PaymentTerm:
    """TerminPlatnosci beyond the due date: a date, or a period from an event (TerminOpis)."""

    due: date | None = None
    count: int | None = None  # Ilosc
    unit: str | None = None  # Jednostka ("dni")
    event: str | None = None  # ZdarzeniePoczatkowe


@dataclass(frozen=True)
class SettlementItem:
    amount: Decimal  # Kwota
    reason: str  # Powod


@dataclass(frozen=True)
class Settlement:
    """Rozliczenie: charges and deductions after the total, and what is left to pay or to settle."""

    charges: tuple[SettlementItem, ...] = ()  # Obciazenia
    deductions: tuple[SettlementItem, ...] = ()  # Odliczenia
    due: Decimal | None = None  # DoZaplaty
    to_settle: Decimal | None = None  # DoRozliczenia


@dataclass(frozen=True)
class OrderLine:
    """ZamowienieWiersz: one line of the order an advance invoice is for."""

    number: int
    name: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    price: Decimal | None = None  # P_9AZ
    net_amount: Decimal | None = None  # P_11NettoZ
    tax_amount: Decimal | None = None  # P_11VatZ
    rate_code: str | None = None  # P_12Z
    uuid: str | None = None
    seller_item_id: str | None = None
    gtin: str | None = None
    pkwiu: str | None = None
    cn: str | None = None
    pkob: str | None = None
    gtu: str | None = None
    procedure: str | None = None
    before: bool = False  # StanPrzedZ


@dataclass(frozen=True)
class Order:
    """Zamowienie: the order or contract an advance invoice is for, in the invoice currency."""

    value: Decimal  # WartoscZamowienia, VAT included
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class Registry:
    """Stopka/Rejestry."""

    full_name: str | None = None
    krs: str | None = None
    regon: str | None = None
    bdo: str | None = None


@dataclass(frozen=True)
class AdditionalInfo:
    """DodatkowyOpis."""

    key: str
    value: str
    line: int | None = None  # NrWiersza


@dataclass(frozen=True)
class BankAccount:
    """A bank account as FA(3) describes it: details of a payment means account, or a factor's account."""

    number: str  # NrRB
    swift: str | None = None
    own_bank_account: int | None = None  # RachunekWlasnyBanku 1..3: the bank's own account used for collection
    bank_name: str | None = None  # NazwaBanku
    description: str | None = None  # OpisRachunku


@dataclass(frozen=True)
class Transport:
    """WarunkiTransakcji/Transport: how the goods travel."""

    kind: int | None = None  # RodzajTransportu 1..8
    other_kind: str | None = None  # OpisInnegoTransportu (TransportInny)
    carrier: Party | None = None  # Przewoznik
    order_number: str | None = None  # NrZleceniaTransportu
    cargo: int | None = None  # OpisLadunku 1..20
    other_cargo: str | None = None  # OpisInnegoLadunku (LadunekInny)
    packaging: str | None = None  # JednostkaOpakowania
    start: datetime | None = None  # DataGodzRozpTransportu
    end: datetime | None = None  # DataGodzZakTransportu
    ship_from: Address | None = None  # WysylkaZ
    ship_via: tuple[Address, ...] = ()  # WysylkaPrzez
    ship_to: Address | None = None  # WysylkaDo


@dataclass(frozen=True)
class PlInvoice:
    kind: str = VAT  # RodzajFaktury
    correction: Correction | None = None
    third_parties: tuple[ThirdParty, ...] = ()  # Podmiot3
    jst: bool = False  # the invoice concerns a subordinate unit of a local government (JST)
    gv: bool = False  # the invoice concerns a member of a VAT group (GV)
    cash_accounting: bool = False  # P_16 "metoda kasowa"
    split_payment: bool = False  # P_18A "mechanizm podzielonej płatności"
    simplified_triangular: bool = False  # P_23
    margin_scheme: str | None = None  # one of MARGIN_SCHEMES when lines are sold under the margin scheme
    exemption_basis: tuple[str, str] | None = None  # (P_19A|P_19B|P_19C, legal text) for exempt (E) supplies
    place_of_issue: str | None = None  # P_1M
    wz_numbers: tuple[str, ...] = ()  # WZ: goods-issue notes
    exchange_rate: Decimal | None = None  # PLN per unit of a foreign currency, for the VAT in PLN
    vat_in_pln: tuple[tuple[str, Decimal], ...] = ()  # declared P_14_xW by group ("1".."4") when not derivable
    advance_invoices: tuple[AdvanceInvoice, ...] = ()  # FakturaZaliczkowa
    partial_advances: tuple[PartialAdvance, ...] = ()  # ZaliczkaCzesciowa
    order: Order | None = None  # Zamowienie (advance invoices)
    settlement: Settlement | None = None  # Rozliczenie
    paid_on: date | None = None  # Zaplacono + DataZaplaty
    partial_payments: tuple[PartialPayment, ...] = ()  # ZaplataCzesciowa
    paid_in_full_by_parts: bool = False  # ZnacznikZaplatyCzesciowej 2 (else 1: partly paid)
    payment_terms: tuple[PaymentTerm, ...] = ()  # TerminPlatnosci after the due date
    bank_details: tuple[BankAccount, ...] = ()  # bank name and own-account marker of payment_means accounts
    factor_accounts: tuple[BankAccount, ...] = ()  # RachunekBankowyFaktora
    seller_eu_vat_prefix: bool = False  # PrefiksPodatnika PL: the seller is identified for EU VAT
    seller_status: int | None = None  # StatusInfoPodatnika 1..4 (liquidation, restructuring, bankruptcy, succession)
    buyer_customer_number: str | None = None  # Podmiot2/NrKlienta
    buyer_key: str | None = None  # Podmiot2/IDNabywcy
    # Adres/GLN by party, "Podmiot1", "Podmiot2" or "Podmiot3[n]" (n from 1): the neutral address has no GLN
    address_gln: tuple[tuple[str, str], ...] = ()
    receipt_invoice: bool = False  # FP: invoice for a receipt (art. 109 ust. 3d)
    related_parties: bool = False  # TP: related parties (art. 32 ust. 2)
    additional_info: tuple[AdditionalInfo, ...] = ()  # DodatkowyOpis
    order_date: date | None = None  # WarunkiTransakcji/Zamowienia/DataZamowienia (number: invoice.order_ref)
    contract_date: date | None = None  # WarunkiTransakcji/Umowy/DataUmowy (number: invoice.contract_ref)
    delivery_terms: str | None = None  # WarunkiDostawy (Incoterms)
    batch_numbers: tuple[str, ...] = ()  # NrPartiiTowaru
    transports: tuple[Transport, ...] = ()
    registries: tuple[Registry, ...] = ()  # Stopka/Rejestry
    generated_at: datetime | None = None  # DataWytworzeniaFa; None: when written
    # Zalacznik: the invoice's attachment (data blocks of key-value pairs, texts and tables) as its XML bytes in the
    # FA(3) namespace, carried as it is: the neutral model has no place for it
    attachment: bytes | None = None
    system_info: str | None = None  # SystemInfo: the program that made the invoice


@dataclass(frozen=True)
class PlLine:
    rate_code: str | None = None  # P_12 where (category, rate) cannot tell: "np I" or "np II"
    gtu: str | None = None  # GTU_01..GTU_13
    procedure: str | None = None  # Procedura
    pkwiu: str | None = None
    cn: str | None = None
    pkob: str | None = None
    uuid: str | None = None  # UU_ID
    supply_date: date | None = None  # P_6A, when lines have different dates
    gross_price: Decimal | None = None  # P_9B: unit price with VAT (art. 106e ust. 7 and 8)
    gross_amount: Decimal | None = None  # P_11A: value with VAT
    tax_amount: Decimal | None = None  # P_11Vat (art. 106e ust. 10)
    annex_15: bool = False  # P_12_Zal_15: goods or services of annex 15 (split payment)
    excise_amount: Decimal | None = None  # KwotaAkcyzy
    exchange_rate: Decimal | None = None  # KursWaluty of this line, when the lines' rates differ (else the invoice's)
    # StanPrzed: the row states the corrected invoice's line as it was; it is subtracted, so the model holds its
    # quantity and net amount negated (EN 16931 arithmetic holds) and the document shows them as they were
    before: bool = False


# -- what is derived from the neutral model ----------------------------------------------------------------------

NO_PL_INVOICE, NO_PL_LINE = PlInvoice(), PlLine()

# P_12 of a standard-rated line is its rate; 4 % and 3 % are the lump-sum rates for taxi transport
STANDARD_RATE_CODES = ("23", "22", "8", "7", "5", "4", "3")
ZERO_RATE_CODES = {"Z": "0 KR", "K": "0 WDT", "G": "0 EX", "E": "zw", "AE": "oo", "O": NP_OUTSIDE_COUNTRY}
# read back: "np II" services are reverse-charged, the buyer settles their VAT
CATEGORY_OF_CODE = {code: category for category, code in ZERO_RATE_CODES.items()} | {NP_ART_100: "AE"}

# FA(3) rate groups in document order: the suffix of P_13_x/P_14_x and the P_12 codes they sum up
RATE_GROUPS = (
    ("1", ("23", "22")),
    ("2", ("8", "7")),
    ("3", ("5",)),
    ("4", ("4", "3")),
    ("6_1", ("0 KR",)),
    ("6_2", ("0 WDT",)),
    ("6_3", ("0 EX",)),
    ("7", ("zw",)),
    ("8", (NP_OUTSIDE_COUNTRY,)),
    ("9", (NP_ART_100,)),
    ("10", ("oo",)),
    ("11", (MARGIN,)),
)
TAXED_GROUPS = ("1", "2", "3", "4")  # the groups with a VAT amount P_14_x (and P_14_xW in a foreign currency)
EXEMPT_GROUP, ART_100_GROUP, REVERSE_CHARGE_GROUP, MARGIN_GROUP = "7", "9", "10", "11"
GROUP_OF_CODE = {code: group for group, codes in RATE_GROUPS for code in codes}
# the groups the neutral VAT breakdown cannot tell apart: exempt and margin are both E; np I, np II and "oo" are
# O or AE depending on where the buyer is and how the seller's system classifies them
BREAKDOWN_BUCKET = {"7": "E", "11": "E", "8": "NP", "9": "NP", "10": "NP"}

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
NIP_PATTERN = re.compile(r"[1-9]((\d[1-9])|([1-9]\d))\d{7}")


def pl_invoice(invoice):
    return invoice.extensions.get("pl") or NO_PL_INVOICE


def pl_line(line):
    return line.extensions.get("pl") or NO_PL_LINE


def bare_nip(vat_id):
    """The ten digits of a Polish VAT id written with or without its PL prefix, else None."""
    if not vat_id:
        return None
    compact = "".join(character for character in vat_id if character not in " -")
    if compact[:2].upper() == "PL":
        compact = compact[2:]
    return compact if len(compact) == 10 and compact.isdigit() else None


def nip_is_valid(nip):
    """The NIP as FA(3) allows it (TNrNIP) and its check digit: weights 6,5,7,2,3,4,5,6,7, modulo 11 (a remainder
    of 10 is never issued)."""
    if not nip or not NIP_PATTERN.fullmatch(nip):
        return False
    remainder = sum(int(digit) * weight for digit, weight in zip(nip[:9], NIP_WEIGHTS, strict=True)) % 11
    return remainder != 10 and remainder == int(nip[9])


def buyer_abroad(invoice):
    """The buyer is identified or established outside Poland (no NIP, a foreign VAT id or address)."""
    buyer = invoice.buyer
    if buyer is None or bare_nip(buyer.vat_id):
        return False
    foreign_vat_id = bool(buyer.vat_id) and buyer.vat_id[:2].isalpha() and buyer.vat_id[:2].upper() != "PL"
    foreign_address = buyer.address is not None and buyer.address.country_code not in (None, "PL")
    return foreign_vat_id or foreign_address


def category_code(category, rate, abroad):
    """P_12 of a VAT category and rate. Reverse charge (AE) is "oo" at home; for a buyer abroad it is a service
    whose VAT the buyer settles in another member state (art. 100 ust. 1 pkt 4: "np II")."""
    if category == "S" and rate is not None:
        code = format(Decimal(rate).normalize(), "f")
        return code if code in STANDARD_RATE_CODES else None
    if category == "AE" and abroad:
        return NP_ART_100
    return ZERO_RATE_CODES.get(category)


def address_lines(address):
    """AdresL1 and AdresL2: the street lines, then postal code and city (the only line when there is no street)."""
    first = ", ".join(part for part in (address.street, address.additional_street, address.line3) if part)
    second = " ".join(part for part in (address.postal_code, address.city) if part)
    return (first, second or None) if first else (second, None)


def rate_code(line, abroad=False):
    """The P_12 of ``line`` (``abroad``: see :func:`buyer_abroad`), unless the line overrides it; None if none."""
    return pl_line(line).rate_code or category_code(line.vat_category, line.vat_rate, abroad)


def standard_rate(code):
    return Decimal(code) if code in STANDARD_RATE_CODES else None


def line_amount(line):
    """What a line adds to its rate group: its net value; a margin line's value includes the VAT. A line priced
    with VAT (P_9B, P_11A without P_11, art. 106e ust. 7 and 8) adds its value less the VAT in it, unrounded: the
    VAT is computed on the group's sum of such values."""
    if line.net_amount is not None:
        return line.net_amount
    extension = pl_line(line)
    if extension.gross_amount is None:
        return None
    gross = -extension.gross_amount if extension.before else extension.gross_amount
    if extension.rate_code == MARGIN or line.vat_category != "S":
        return gross
    if line.vat_rate is None:
        return None
    return gross * 100 / (100 + Decimal(line.vat_rate))


def groups_from_lines(invoice):
    """group -> sum of the line amounts, for the lines that state an amount and a rate code; None when no line does."""
    sums, abroad = {}, buyer_abroad(invoice)
    for line in invoice.lines:
        amount, code = line_amount(line), rate_code(line, abroad)
        if amount is None or code not in GROUP_OF_CODE:
            continue
        group = GROUP_OF_CODE[code]
        sums[group] = sums.get(group, Decimal(0)) + amount
    return sums or None


def breakdown_group(vat, extension, abroad):
    """The rate group of one VAT breakdown entry. Without lines, an E entry is margin when the invoice is under the
    margin scheme and names no exemption basis, and an O entry is np I (np II needs its lines)."""
    if vat.category == "E" and extension.margin_scheme and not extension.exemption_basis:
        return MARGIN_GROUP
    return GROUP_OF_CODE.get(category_code(vat.category, vat.rate, abroad))


def groups_from_breakdown(invoice):
    """group -> [taxable amount, VAT amount] from the VAT breakdown; entries of no FA(3) group are left out."""
    groups, extension, abroad = {}, pl_invoice(invoice), buyer_abroad(invoice)
    for vat in invoice.vat_breakdown:
        group = breakdown_group(vat, extension, abroad)
        if group is None:
            continue
        net, tax = groups.setdefault(group, [Decimal(0), Decimal(0)])
        groups[group] = [net + (vat.taxable_amount or 0), tax + (vat.tax_amount or 0)]
    return groups


def rate_groups(invoice):
    """group -> (net P_13_x, VAT P_14_x or None) as FA(3) shows them, in document order.

    The amounts are the breakdown's. Where it cannot tell groups apart (exempt or margin; np I, np II or "oo"), the
    lines split them, provided they add up to the same amount: a settlement invoice (ROZ) may list the whole
    supply while its groups show what is left after the advances.
    """
    from_breakdown = groups_from_breakdown(invoice)
    from_lines = groups_from_lines(invoice) or {}
    nets = {group: values[0] for group, values in from_breakdown.items()}
    for bucket in set(BREAKDOWN_BUCKET.values()):
        members = [group for group, name in BREAKDOWN_BUCKET.items() if name == bucket]
        split = {group: from_lines[group] for group in members if group in from_lines}
        declared = sum((nets[group] for group in members if group in nets), Decimal(0))
        if split and sum(split.values(), Decimal(0)) == declared:
            for group in members:
                nets.pop(group, None)
            nets.update(split)
    result = {}
    for group, _codes in RATE_GROUPS:
        if group in nets:
            tax = from_breakdown.get(group, [None, Decimal(0)])[1] if group in TAXED_GROUPS else None
            result[group] = (nets[group], tax)
    return result
