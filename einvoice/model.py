"""The neutral invoice: one model for both countries, on the EN 16931 semantic model.

Field comments name the business terms (BT-n) and groups (BG-n) of EN 16931. Amounts are :class:`~decimal.Decimal`
in the document currency. Instances are immutable.

Two ways to get an :class:`Invoice`:

- :meth:`Invoice.build` computes the VAT breakdown and every total from the lines, allowances and charges, so an
  invoice built that way is arithmetically right by construction (BR-CO-10..17); this is how outgoing invoices are made;
- direct construction keeps whatever a document declares (readers use it), so the checks can report a received
  document's inconsistencies under their official rule ids. Writers refuse an invoice whose arithmetic is wrong.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
# Rounding to cents needs as many digits as the amount has before the point, plus two. The default context (28)
# refuses that for a product of two amounts a document may hold (each up to 28 digits, see einvoice.numeric):
# rounding happens in this one, which holds any such product.
WIDE = Context(prec=200)

# UNTDID 1001 document types used here
INVOICE = "380"
CREDIT_NOTE = "381"
CORRECTED_INVOICE = "384"
SELF_BILLED_INVOICE = "389"
ACCOUNTING_INVOICE = "751"
CREDIT_NOTE_TYPES = frozenset({"381", "261", "262", "296", "308", "396", "420", "458", "532"})

# UNCL 5305 VAT categories of EN 16931
STANDARD, ZERO_RATED, EXEMPT, REVERSE_CHARGE = "S", "Z", "E", "AE"
INTRA_COMMUNITY, EXPORT, OUTSIDE_SCOPE = "K", "G", "O"
CANARY_ISLANDS, CEUTA_MELILLA = "L", "M"
VAT_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B"})
# categories whose rate is always 0 and which need an exemption reason (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10)
EXEMPTION_REQUIRED = frozenset({"E", "AE", "K", "G", "O"})


def money(value):
    """``value`` rounded to cents, half away from zero (commercial rounding)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=WIDE)


@dataclass(frozen=True)
class Identifier:
    value: str
    scheme: str | None = None  # e.g. 0160 GTIN, 0088 GLN, 9947 Romanian VAT endpoint


@dataclass(frozen=True)
class Address:
    """BG-5 / BG-8 / BG-12 / BG-15."""

    country_code: str | None = None  # BT-40 ISO 3166-1 alpha-2
    street: str | None = None  # BT-35 address line 1
    additional_street: str | None = None  # BT-36 address line 2
    line3: str | None = None  # BT-162 address line 3
    city: str | None = None  # BT-37 (Bucharest: SECTOR1..SECTOR6)
    postal_code: str | None = None  # BT-38
    subdivision: str | None = None  # BT-39 country subdivision (Romania: ISO 3166-2:RO, e.g. RO-CJ, RO-B)


@dataclass(frozen=True)
class Contact:
    """BG-6 / BG-9."""

    name: str | None = None  # BT-41
    phone: str | None = None  # BT-42
    email: str | None = None  # BT-43


@dataclass(frozen=True)
class Party:
    """Seller (BG-4), buyer (BG-7), payee (BG-10) or tax representative (BG-11)."""

    name: str | None = None  # BT-27 / BT-44 / BT-59 / BT-62 legal (registration) name
    address: Address | None = None
    vat_id: str | None = None  # BT-31 / BT-48 / BT-63, with its country prefix (RO12345678)
    tax_registration_id: str | None = (
        None  # BT-32: seller's tax id that is not a VAT id (Romanian CUI of a non-VAT payer)
    )
    legal_id: Identifier | None = None  # BT-30 / BT-47 / BT-61 (Romania: trade register number, CUI, CNP)
    trading_name: str | None = None  # BT-28 / BT-45 / BT-59
    legal_form: str | None = None  # BT-33 seller's additional legal information
    identifiers: tuple[Identifier, ...] = ()  # BT-29 / BT-46 / BT-60
    endpoint: Identifier | None = None  # BT-34 / BT-49 electronic address
    contact: Contact | None = None


@dataclass(frozen=True)
class Delivery:
    """BG-13."""

    party_name: str | None = None  # BT-70
    location_id: Identifier | None = None  # BT-71
    date: date | None = None  # BT-72 actual delivery date
    address: Address | None = None  # BG-15


@dataclass(frozen=True)
class PaymentMeans:
    """BG-16: one way the buyer may pay."""

    code: str  # BT-81 UNCL 4461: 30 credit transfer, 58 SEPA credit transfer, 42 bank account, 10 cash, 1 not defined
    text: str | None = None  # BT-82
    payment_id: str | None = None  # BT-83 remittance information
    account_id: str | None = None  # BT-84 IBAN or account number
    account_name: str | None = None  # BT-85
    bank_id: str | None = None  # BT-86 BIC
    card_pan: str | None = None  # BT-87 last digits only
    card_holder: str | None = None  # BT-88
    mandate_id: str | None = None  # BT-89
    creditor_id: str | None = None  # BT-90
    debited_account: str | None = None  # BT-91


@dataclass(frozen=True)
class AllowanceCharge:
    """A document (BG-20 / BG-21) or line (BG-27 / BG-28) allowance or charge, as a positive amount."""

    charge: bool | None  # False: allowance (discount), True: charge; None only where a received document omits it
    amount: Decimal | None  # BT-92 / BT-99 / BT-136 / BT-141
    base_amount: Decimal | None = None  # BT-93 / BT-100 / BT-137 / BT-142
    percent: Decimal | None = None  # BT-94 / BT-101 / BT-138 / BT-143
    reason: str | None = None  # BT-97 / BT-104 / BT-139 / BT-144
    reason_code: str | None = None  # BT-98 / BT-105 / BT-140 / BT-145 (UNCL 5189 allowances, UNCL 7161 charges)
    vat_category: str | None = None  # BT-95 / BT-102, document level only
    vat_rate: Decimal | None = None  # BT-96 / BT-103, document level only

    @property
    def signed_amount(self):
        amount = self.amount or ZERO
        return amount if self.charge else -amount


@dataclass(frozen=True)
class Classification:
    code: str  # BT-158 item classification identifier
    list_id: str | None = None  # e.g. STI (CPV in ANAF's usage) or CPV, TSP (combined nomenclature NC8)
    list_version: str | None = None


@dataclass(frozen=True)
class Line:
    """BG-25: one invoice line. Fields are optional only so that incomplete received documents can be read."""

    id: str | None = None  # BT-126
    quantity: Decimal | None = None  # BT-129 (negative on a credit written as an invoice)
    unit_code: str | None = None  # BT-130 UN/ECE Recommendation 20 (H87 piece, C62 one, KGM, HUR...)
    net_amount: Decimal | None = None  # BT-131 = quantity x price / base quantity - line allowances + charges
    price: Decimal | None = None  # BT-146 item net price, never negative
    item_name: str | None = None  # BT-153
    vat_category: str | None = None  # BT-151
    vat_rate: Decimal | None = None  # BT-152 (absent only for category O)
    base_quantity: Decimal | None = None  # BT-149
    base_unit_code: str | None = None  # BT-150
    gross_price: Decimal | None = None  # BT-148
    price_discount: Decimal | None = None  # BT-147
    description: str | None = None  # BT-154
    seller_item_id: str | None = None  # BT-155
    buyer_item_id: str | None = None  # BT-156
    standard_id: Identifier | None = None  # BT-157 (GTIN: scheme 0160)
    classifications: tuple[Classification, ...] = ()  # BT-158 (CPV, NC8)
    origin_country: str | None = None  # BT-159
    attributes: tuple[tuple[str, str], ...] = ()  # BT-160 / BT-161
    allowances_charges: tuple[AllowanceCharge, ...] = ()  # BG-27 / BG-28
    note: str | None = None  # BT-127
    object_id: Identifier | None = None  # BT-128
    order_line_ref: str | None = None  # BT-132
    accounting_ref: str | None = None  # BT-133
    period_start: date | None = None  # BT-134
    period_end: date | None = None  # BT-135
    extensions: dict = field(default_factory=dict, compare=True)  # typed country extras, keyed by country code


@dataclass(frozen=True)
class VatBreakdown:
    """BG-23: the VAT of one category and rate."""

    category: str | None  # BT-118
    rate: Decimal | None  # BT-119
    taxable_amount: Decimal | None  # BT-116
    tax_amount: Decimal | None  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_code: str | None = None  # BT-121 (VATEX-EU-AE, VATEX-EU-IC, VATEX-EU-G, VATEX-EU-O, VATEX-EU-79-C...)


@dataclass(frozen=True)
class Totals:
    """BG-22 document totals (optional only so that incomplete received documents can be read)."""

    line_total: Decimal | None = None  # BT-106 sum of line net amounts
    tax_exclusive: Decimal | None = None  # BT-109
    tax_inclusive: Decimal | None = None  # BT-112
    payable: Decimal | None = None  # BT-115
    allowance_total: Decimal | None = None  # BT-107
    charge_total: Decimal | None = None  # BT-108
    tax_total: Decimal | None = None  # BT-110 in the document currency
    tax_total_accounting: Decimal | None = None  # BT-111 in the tax (accounting) currency, e.g. RON
    prepaid: Decimal | None = None  # BT-113
    rounding: Decimal | None = None  # BT-114


@dataclass(frozen=True)
class PrecedingInvoice:
    """BG-3."""

    number: str  # BT-25
    issue_date: date | None = None  # BT-26


@dataclass(frozen=True)
class Attachment:
    """BG-24: a supporting document, embedded or referenced."""

    id: str  # BT-122
    description: str | None = None  # BT-123
    uri: str | None = None  # BT-124
    content: bytes | None = None  # BT-125
    mime_code: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Note:
    """BG-1."""

    text: str  # BT-22
    subject_code: str | None = None  # BT-21


@dataclass(frozen=True)
class Invoice:
    number: str | None = None  # BT-1
    issue_date: date | None = None  # BT-2
    type_code: str | None = None  # BT-3
    currency: str | None = None  # BT-5
    seller: Party | None = None  # BG-4
    buyer: Party | None = None  # BG-7
    lines: tuple[Line, ...] = ()  # BG-25
    vat_breakdown: tuple[VatBreakdown, ...] = ()  # BG-23
    totals: Totals | None = None  # BG-22
    customization_id: str | None = None  # BT-24, set by the writer of each format
    profile_id: str | None = None  # BT-23
    tax_currency: str | None = None  # BT-6 (Romania: RON when the invoice is in another currency)
    tax_point_date: date | None = None  # BT-7
    tax_point_code: str | None = None  # BT-8 UNTDID 2005: 3 issue date, 35 delivery date, 432 paid-to date
    due_date: date | None = None  # BT-9
    buyer_reference: str | None = None  # BT-10
    project_ref: str | None = None  # BT-11
    contract_ref: str | None = None  # BT-12
    order_ref: str | None = None  # BT-13
    sales_order_ref: str | None = None  # BT-14
    receiving_advice_ref: str | None = None  # BT-15
    despatch_advice_ref: str | None = None  # BT-16
    tender_ref: str | None = None  # BT-17
    invoiced_object: Identifier | None = None  # BT-18
    buyer_accounting_ref: str | None = None  # BT-19
    payment_terms: str | None = None  # BT-20
    notes: tuple[Note, ...] = ()  # BG-1
    preceding_invoices: tuple[PrecedingInvoice, ...] = ()  # BG-3
    payee: Party | None = None  # BG-10
    tax_representative: Party | None = None  # BG-11
    delivery: Delivery | None = None  # BG-13
    period_start: date | None = None  # BT-73
    period_end: date | None = None  # BT-74
    payment_means: tuple[PaymentMeans, ...] = ()  # BG-16
    allowances_charges: tuple[AllowanceCharge, ...] = ()  # BG-20 / BG-21
    attachments: tuple[Attachment, ...] = ()  # BG-24
    extensions: dict = field(default_factory=dict)  # typed country extras, keyed by country code ("ro", "pl")

    @property
    def is_credit_note(self):
        return self.type_code in CREDIT_NOTE_TYPES

    @classmethod
    def build(
        cls,
        *,
        lines,
        allowances_charges=(),
        prepaid=None,
        rounding=None,
        tax_amounts=None,
        exemptions=None,
        tax_total_accounting=None,
        **fields,
    ):
        """An invoice whose VAT breakdown and totals are computed from its lines, allowances and charges.

        ``tax_amounts`` maps ``(category, rate)`` to the VAT amount when it comes from elsewhere (an ERP that rounds
        per line); otherwise it is taxable amount x rate, rounded to cents. ``exemptions`` maps a category to
        ``(reason, code)``. ``tax_total_accounting`` is the VAT total in the tax currency (BT-111).
        """
        lines = tuple(lines)
        allowances_charges = tuple(allowances_charges)
        breakdown = compute_vat_breakdown(lines, allowances_charges, tax_amounts or {}, exemptions or {})
        totals = compute_totals(lines, allowances_charges, breakdown, prepaid, rounding, tax_total_accounting)
        return cls(lines=lines, allowances_charges=allowances_charges, vat_breakdown=breakdown, totals=totals, **fields)

    def replace(self, **changes):
        return replace(self, **changes)


def vat_key(category, rate):
    """Lines and allowances are grouped by VAT category and rate; rates compare by value (19 == 19.00)."""
    return category, None if rate is None else Decimal(rate).normalize()


def compute_vat_breakdown(lines, allowances_charges, tax_amounts, exemptions):
    taxable = defaultdict(Decimal)
    rates = {}
    for line in lines:
        key = vat_key(line.vat_category, line.vat_rate)
        taxable[key] += line.net_amount
        rates.setdefault(key, line.vat_rate)
    for item in allowances_charges:
        key = vat_key(item.vat_category, item.vat_rate)
        taxable[key] += item.signed_amount
        rates.setdefault(key, item.vat_rate)
    given = {vat_key(*key): value for key, value in tax_amounts.items()}
    breakdown = []
    for key, amount in taxable.items():
        category, _rate = key
        rate = rates[key]
        if key in given:
            tax = money(given[key])
        elif category in EXEMPTION_REQUIRED or category == ZERO_RATED or rate is None:
            tax = ZERO.quantize(CENT)
        else:
            tax = money(amount * Decimal(rate) / 100)
        reason, code = exemptions.get(category, (None, None))
        breakdown.append(VatBreakdown(category, rate, money(amount), tax, reason, code))
    return tuple(breakdown)


def compute_totals(lines, allowances_charges, breakdown, prepaid, rounding, tax_total_accounting):
    line_total = money(sum((line.net_amount for line in lines), ZERO))
    allowances = [item.amount for item in allowances_charges if not item.charge]
    charges = [item.amount for item in allowances_charges if item.charge]
    allowance_total = money(sum(allowances, ZERO)) if allowances else None
    charge_total = money(sum(charges, ZERO)) if charges else None
    tax_exclusive = line_total - (allowance_total or ZERO) + (charge_total or ZERO)
    tax_total = money(sum((item.tax_amount for item in breakdown), ZERO))
    tax_inclusive = tax_exclusive + tax_total
    payable = tax_inclusive - (prepaid or ZERO) + (rounding or ZERO)
    return Totals(
        line_total=line_total,
        tax_exclusive=money(tax_exclusive),
        tax_inclusive=money(tax_inclusive),
        payable=money(payable),
        allowance_total=allowance_total,
        charge_total=charge_total,
        tax_total=tax_total,
        tax_total_accounting=None if tax_total_accounting is None else money(tax_total_accounting),
        prepaid=None if prepaid is None else money(prepaid),
        rounding=None if rounding is None else money(rounding),
    )


def negated_invoice(invoice):
    """The invoice with negative quantities and amounts, prices staying positive (BR-27), its type code unchanged:
    a credit note sent as a negative invoice (CIUS-RO) or a KSeF correction is made from it."""
    lines = tuple(
        replace(
            line,
            quantity=_negated(line.quantity),
            net_amount=_negated(line.net_amount),
            allowances_charges=tuple(_negated_allowance(item) for item in line.allowances_charges),
        )
        for line in invoice.lines
    )
    breakdown = tuple(
        replace(vat, taxable_amount=_negated(vat.taxable_amount), tax_amount=_negated(vat.tax_amount))
        for vat in invoice.vat_breakdown
    )
    totals = invoice.totals
    if totals is not None:
        amounts = {item.name: getattr(totals, item.name) for item in dataclass_fields(totals)}
        totals = replace(totals, **{name: -amount for name, amount in amounts.items() if amount is not None})
    return replace(
        invoice,
        lines=lines,
        vat_breakdown=breakdown,
        totals=totals,
        allowances_charges=tuple(_negated_allowance(item) for item in invoice.allowances_charges),
    )


def _negated(amount):
    """A received document may lack any amount: what is missing stays missing, for the checks to report."""
    return None if amount is None else -amount


def _negated_allowance(item):
    return replace(item, amount=_negated(item.amount), base_amount=_negated(item.base_amount))
