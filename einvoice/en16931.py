"""Checks of EN 16931, the European semantic model, as the official Schematron applies them: ANAF's (UBL binding) for
UBL, CEN's CII binding for CII where the two state a rule differently (see the CII section of the VAT categories).

Rules report under their official ids. The VAT category rules (BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O, BR-IG,
BR-IP) share one table: the families differ only in the rate they allow, how the taxable amount adds up, whether an
exemption reason is required or forbidden, and which VAT identifiers the parties need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from .i18n import _
from .model import VatBreakdown
from .rules import Finding, RuleSet

RULES = RuleSet()
rule = RULES.rule
ZERO = Decimal("0")

# BR-CO-09 looks the first two characters of a VAT identifier up in this text (a substring test)
VAT_PREFIXES = (
    " 1A AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW "
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH EL ER ES ET FI FJ "
    "FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
    "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR "
    "PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ "
    "TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW "
)
# CEN's CII binding has its own list (AN, no SS) and looks for " XX " in it: an empty identifier fails there
CII_VAT_PREFIXES = (
    " 1A AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BL BJ BM BN BO BQ BR BS BT BV BW "
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH EL ER ES ET FI FJ "
    "FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
    "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR "
    "PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR ST SV SX SY SZ TC TD TF TG TH TJ TK "
    "TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW "
)


# -- helpers -----------------------------------------------------------------------------------------------------


def length(text):
    return len(" ".join(text.split())) if text else 0


def decimals(value):
    if value is None:
        return 0
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def xround_integer(value):
    """XPath ``round(x)``: half rounds towards positive infinity."""
    return (value + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)


def xround(value):
    """XPath ``round(x * 100) div 100``."""
    return xround_integer(value * 100) / 100


def untyped_plus(value, number):
    """XPath ``xs:decimal(cbc:TaxableAmount + number)`` as CIUS-RO's BR-S-08, BR-IG-08 and BR-IP-08 write it: the
    untyped amount is added as an xs:double and the double's exact binary value cast back to xs:decimal (what Saxon
    does: 184.01 - 1 is 183.00999999999999090505...). At the edge of the tolerance, a sum of exactly taxable - 1
    passes the official rule; in decimal arithmetic it would not."""
    return Decimal(float(value) + number)


def finding(rule_id, message, location=""):
    return Finding(rule_id, message, location)


def party_address(party):
    return party.address if party else None


def attr(obj, name):
    return getattr(obj, name, None) if obj is not None else None


# -- mandatory parts -----------------------------------------------------------------------------------


@rule("BR-01", "BR-02", "BR-03", "BR-04", "BR-05", "BR-06", "BR-07", "BR-08", "BR-10", "BR-16")
def mandatory_document_parts(invoice, facts):
    required = [
        ("BR-01", invoice.customization_id, _("The specification identifier is required."), "BT-24"),
        ("BR-02", invoice.number, _("The invoice number is required."), "BT-1"),
        ("BR-03", invoice.issue_date, _("The issue date is required."), "BT-2"),
        ("BR-04", invoice.type_code, _("The invoice type code is required."), "BT-3"),
        ("BR-05", invoice.currency, _("The invoice currency is required."), "BT-5"),
        ("BR-06", attr(invoice.seller, "name"), _("The seller's name is required."), "BT-27"),
        ("BR-07", attr(invoice.buyer, "name"), _("The buyer's name is required."), "BT-44"),
    ]
    for rule_id, value, message, where in required:
        if not value and not (rule_id == "BR-03" and "IssueDate" in facts.malformed) and not _blank(rule_id, facts):
            yield finding(rule_id, message, where)
    if party_address(invoice.seller) is None:
        yield finding("BR-08", _("The seller's postal address is required."), "BG-5")
    if party_address(invoice.buyer) is None:
        yield finding("BR-10", _("The buyer's postal address is required."), "BG-8")
    if not invoice.lines:
        yield finding("BR-16", _("An invoice needs at least one line."), "BG-25")


# the element each rule reads with the official ``(element) != ''``, which a text of blanks satisfies
BLANK_ALLOWED = {
    "BR-01": ("CustomizationID",),
    "BR-02": ("ID",),
    "BR-03": ("IssueDate",),
    "BR-04": ("InvoiceTypeCode", "CreditNoteTypeCode"),
    "BR-05": ("DocumentCurrencyCode",),
    "BR-06": ("RegistrationName",),
    "BR-07": ("RegistrationName",),
    "BR-09": ("IdentificationCode",),
    "BR-11": ("IdentificationCode",),
    "BR-21": ("ID",),
    "BR-25": ("Name",),
}


def _blank(rule_id, facts):
    """Whether the official rule may hold for a value that reads as empty: an element of that name holds blanks
    (CIUS-RO 1.0.9, e.g. BR-21 ``(cbc:ID) != ''``). Any such element is taken as the one the rule reads: never
    stricter than the official rule, at worst as lenient as it is for another element of the same name."""
    return facts.syntax == "UBL" and any(name in facts.blank for name in BLANK_ALLOWED.get(rule_id, ()))


@rule("BR-09", "BR-11")
def country_codes(invoice, facts):
    for rule_id, address, where in (
        ("BR-09", party_address(invoice.seller), "BT-40"),
        ("BR-11", party_address(invoice.buyer), "BT-55"),
    ):
        if address is not None and not address.country_code and not _blank(rule_id, facts):
            yield finding(rule_id, _("The country code of the address is required."), where)


@rule("BR-21", "BR-22", "BR-23", "BR-24", "BR-25", "BR-26")
def mandatory_line_parts(invoice, facts):
    quantity_present = facts.line_quantity_present or [line.quantity is not None for line in invoice.lines]
    for line, has_quantity in zip(invoice.lines, quantity_present, strict=True):
        where = f"BG-25 {line.id or ''}".strip()
        required = [
            ("BR-21", line.id, _("Each line needs an identifier."), "BT-126"),
            ("BR-22", has_quantity, _("Each line needs a quantity."), "BT-129"),
            ("BR-23", line.unit_code, _("Each line needs a unit of measure code."), "BT-130"),
            ("BR-24", line.net_amount is not None, _("Each line needs a net amount."), "BT-131"),
            ("BR-25", line.item_name, _("Each line needs an item name."), "BT-153"),
            ("BR-26", line.price is not None, _("Each line needs an item net price."), "BT-146"),
        ]
        for rule_id, present, message, term in required:
            if not present and not _blank(rule_id, facts):
                yield finding(rule_id, message, f"{term}, {where}")


@rule("BR-45", "BR-46", "BR-47", "BR-48")
def mandatory_breakdown_parts(invoice, facts):
    for subtotal in judged_breakdowns(invoice, facts):
        if subtotal.taxable_amount is None:
            yield finding("BR-45", _("Each VAT breakdown needs its taxable amount."), "BT-116")
        if subtotal.tax_amount is None:
            yield finding("BR-46", _("Each VAT breakdown needs its VAT amount."), "BT-117")
    for use in facts.category_uses:
        if use.place != "breakdown" or (facts.syntax == "CII" and use.vat and use.category in CII_SHADOWED_BREAKDOWNS):
            continue
        if not (use.vat and use.category is not None):
            yield finding("BR-47", _("Each VAT breakdown needs its VAT category."), "BT-118")
        if not (use.vat and (use.rate_present or use.category == "O")):
            yield finding(
                "BR-48", _("Each VAT breakdown needs its VAT rate, except outside the scope of VAT."), "BT-119"
            )


@rule("BR-CO-26")
def seller_identified(invoice, facts):
    seller = invoice.seller
    # the official test is exists(...CompanyID) or exists(...PartyIdentification/cbc:ID): an element without a value
    # counts (taken as the seller's, whichever party's it is: never stricter than the rule)
    present_empty = facts.syntax == "UBL" and bool({"CompanyID", "ID"} & facts.empty)
    if seller is not None and not (seller.vat_id or seller.identifiers or seller.legal_id or present_empty):
        yield finding(
            "BR-CO-26",
            _("The seller needs a VAT identifier, an identifier or a legal registration identifier."),
            "BT-31",
        )


@rule("BR-CO-09")
def vat_identifier_prefix(invoice, facts):
    vat_ids = facts.vat_ids
    if vat_ids is None:
        parties = (invoice.seller, invoice.buyer, invoice.tax_representative)
        vat_ids = [attr(party, "vat_id") for party in parties if attr(party, "vat_id") is not None]
    for vat_id in vat_ids:
        known = f" {vat_id[:2]} " in CII_VAT_PREFIXES if facts.syntax == "CII" else vat_id[:2] in VAT_PREFIXES
        if not known:  # a substring test, as the official rule
            yield finding(
                "BR-CO-09",
                _("A VAT identifier starts with its country code, e.g. RO12345678 (not %(value)r).", value=vat_id),
                "BT-31",
            )


# -- arithmetic ----------------------------------------------------------------------------------------


def _sum(values):
    return sum((value for value in values if value is not None), ZERO)


@rule("BR-CO-10", "BR-CO-11", "BR-CO-12", "BR-CO-13", "BR-CO-16")
def document_totals(invoice, facts):
    totals = invoice.totals
    if totals is None or not facts.has_monetary_total:
        return
    allowances = [item.amount for item in invoice.allowances_charges if item.charge is False]
    charges = [item.amount for item in invoice.allowances_charges if item.charge is True]
    line_sum = xround(_sum(line.net_amount for line in invoice.lines))
    if totals.line_total != line_sum:
        yield finding("BR-CO-10", _("The sum of line net amounts must be %(expected)s.", expected=line_sum), "BT-106")
    for rule_id, total, items, where in (
        ("BR-CO-11", totals.allowance_total, allowances, "BT-107"),
        ("BR-CO-12", totals.charge_total, charges, "BT-108"),
    ):
        expected = xround(_sum(items))
        if (total is None and items) or (total is not None and total != expected):
            yield finding(rule_id, _("The total must be %(expected)s.", expected=expected), where)
    # the official comparisons fail when an amount they need is missing
    expected = None
    if totals.line_total is not None:
        expected = xround(totals.line_total - (totals.allowance_total or ZERO) + (totals.charge_total or ZERO))
    if expected is None or totals.tax_exclusive != expected:
        yield finding("BR-CO-13", _("The total without VAT must be %(expected)s.", expected=expected), "BT-109")
    expected = None
    if totals.tax_inclusive is not None:
        expected = totals.tax_inclusive - (totals.prepaid or ZERO) + (totals.rounding or ZERO)
        if facts.syntax != "CII":  # the CII binding compares the amounts as they are, unrounded
            expected = xround(expected)
    if expected is None or totals.payable != expected:
        yield finding("BR-CO-16", _("The amount due must be %(expected)s.", expected=expected), "BT-115")


@rule("BR-CO-15")
def total_with_vat(invoice, facts):
    # CII: "every $Currency in ram:InvoiceCurrencyCode", present even when empty
    if invoice.currency is None or (not invoice.currency and facts.syntax != "CII"):
        return
    document_tax = [fact.amount for fact in facts.tax_totals if fact.currency == invoice.currency]
    totals = invoice.totals if facts.has_monetary_total else None
    tax_exclusive = attr(totals, "tax_exclusive")
    tax_inclusive = attr(totals, "tax_inclusive")
    ok = (
        len(document_tax) == 1
        and document_tax[0] is not None
        and tax_exclusive is not None
        and tax_inclusive == xround(tax_exclusive + document_tax[0])
    )
    # The CII binding (CEN EN16931-CII-validation 1.3.16, BR-CO-15) also accepts a document whose total with VAT
    # equals its total without VAT, whatever its VAT totals: "... or (xs:decimal(GrandTotalAmount[1]) =
    # xs:decimal(TaxBasisTotalAmount[1]))". EN 16931 lets BT-110 be absent then (e.g. only category O).
    if facts.syntax == "CII" and tax_exclusive is not None and tax_inclusive == tax_exclusive:
        ok = True
    if not ok:
        yield finding(
            "BR-CO-15",
            _(
                "The total with VAT must equal the total without VAT plus the VAT total, "
                "given once in the invoice currency."
            ),
            "BT-112",
        )


@rule("BR-CO-14")
def vat_total(invoice, facts):
    for fact in facts.tax_totals:
        # CII: every VAT total in the invoice currency is the sum of the breakdowns, zero when there are none
        in_currency = facts.syntax == "CII" and fact.currency == invoice.currency
        if not (fact.subtotal_amounts or in_currency):
            continue
        expected = xround(_sum(fact.subtotal_amounts))
        wrong = fact.amount != expected
        if facts.syntax == "CII":  # "round(sum(ram:CalculatedAmount) * 10 * 10) div 100": untyped, added as xs:double
            added = sum((float(amount) for amount in fact.subtotal_amounts if amount is not None), 0.0)
            expected_double = _xround_double(added * 10 * 10) / 100
            wrong = fact.amount is None or not _untyped_equals_double(fact.amount, expected_double)
        if wrong:
            yield finding(
                "BR-CO-14",
                _("The VAT total must be the sum of the VAT breakdown: %(expected)s.", expected=expected),
                "BT-110",
            )


def _xround_double(value):
    """XPath ``round()`` of an xs:double: half rounds up, and a negative value rounds to a negative zero."""
    return math.copysign(math.floor(value + 0.5), value)


def _untyped_equals_double(amount, value):
    """``untyped = double`` as the official validator (Saxon) evaluates it: a zero equals a zero of its own sign only
    ("0.0" = -0e0 is false there, "-0.0" = -0e0 is true), any other number compares by value."""
    number = float(amount)
    return number == value and math.copysign(1, number) == math.copysign(1, value)


@rule("BR-CO-18")
def has_vat_breakdown(invoice, facts):
    if facts.syntax == "CII":  # CEN's CII rule is asked by each invoice line: a document without lines passes
        if invoice.lines and not any(use.place == "breakdown" for use in facts.category_uses):
            yield finding("BR-CO-18", _("The invoice needs at least one VAT breakdown."), "BG-23")
        return
    # the official test is exists(cac:TaxTotal/cac:TaxSubtotal): in any TaxTotal, whatever its currency
    if not invoice.vat_breakdown and not any(fact.subtotal_amounts for fact in facts.tax_totals):
        yield finding("BR-CO-18", _("The invoice needs at least one VAT breakdown."), "BG-23")


@rule("BR-CO-25")
def due_date_or_terms(invoice, facts):
    payable = attr(invoice.totals, "payable") if facts.has_monetary_total else None
    amount_due = facts.root_name == "Invoice" and payable is not None and payable > 0
    # the official test is exists(//cbc:DueDate) or exists(//cac:PaymentTerms/cbc:Note): an empty note counts
    terms = bool(invoice.payment_terms) or bool(facts.payment_terms_present)
    if amount_due and invoice.due_date is None and not terms:
        # CEN removed BR-CO-25 in 1.3.16, the CII rules received documents are judged by: a warning there
        yield Finding(
            "BR-CO-25",
            _("An amount is due: give the payment due date or the payment terms."),
            "BT-9",
            fatal=facts.syntax != "CII",
        )


# In CEN's CII rules (1.3.16, pattern EN16931-CII-Model) the rules on a VAT breakdown of category L, M or O come first
# with the breakdown itself as context, and Schematron runs only the first rule of a pattern matching a node: the
# generic breakdown rules (BR-45, BR-46, BR-CO-17) never see those breakdowns.
CII_SHADOWED_BREAKDOWNS = ("L", "M", "O")


def judged_breakdowns(invoice, facts):
    """The VAT breakdowns the generic breakdown rules judge. CII: as CEN's rules read them, the rate only where the
    tax type is VAT, and without the breakdowns of type VAT that the L, M and O rules shadow."""
    if facts.syntax != "CII":
        return invoice.vat_breakdown
    return [
        VatBreakdown(use.category, use.rate if use.vat else None, use.amount, use.tax_amount)
        for use in facts.category_uses
        if use.place == "breakdown" and not (use.vat and use.category in CII_SHADOWED_BREAKDOWNS)
    ]


@rule("BR-CO-17")
def vat_breakdown_amounts(invoice, facts):
    for vat in judged_breakdowns(invoice, facts):
        if vat.tax_amount is None:
            yield finding("BR-CO-17", _("Each VAT breakdown needs its VAT amount."), "BT-117")
            continue
        if vat.rate is None or xround_integer(vat.rate) == 0:
            if xround_integer(vat.tax_amount) != 0:
                yield finding(
                    "BR-CO-17", _("A VAT category without a rate, or with a zero rate, has no VAT."), "BT-117"
                )
            continue
        expected = xround(abs(vat.taxable_amount or ZERO) * vat.rate / 100)
        low, high = abs(vat.tax_amount) - 1, abs(vat.tax_amount) + 1
        # within 1 either way; the CII binding (CEN 1.3.16) includes the bounds (<=, >=), CIUS-RO's UBL does not
        within = low <= expected <= high if facts.syntax == "CII" else low < expected < high
        if not within:
            yield finding(
                "BR-CO-17",
                _("The VAT amount must be the taxable amount times the rate: %(expected)s.", expected=expected),
                "BT-117",
            )


# -- VAT categories ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VatFamily:
    category: str  # UNCL 5305 code
    prefix: str  # rule id prefix: BR-S, BR-IC...
    rate: str  # positive, zero, non-negative or absent
    per_rate: bool  # taxable amounts add up per rate within 1 (else exactly, over the whole category)
    exemption_required: bool  # else an exemption reason is forbidden
    seller_vat_only: bool  # the seller needs a VAT id proper (else any tax registration)
    buyer: str | None  # what the buyer needs: "vat", "vat_or_legal", or None
    raw_charge_id: bool = False  # the official -04 rule matches the category id unnormalised (BR-IG-04)


FAMILIES = (
    VatFamily("S", "BR-S", "positive", True, False, False, None),
    VatFamily("Z", "BR-Z", "zero", False, False, False, None),
    VatFamily("E", "BR-E", "zero", False, True, False, None),
    VatFamily("AE", "BR-AE", "zero", False, True, False, "vat_or_legal"),
    VatFamily("K", "BR-IC", "zero", False, True, True, "vat"),
    VatFamily("G", "BR-G", "zero", False, True, True, None),
    VatFamily("O", "BR-O", "absent", False, True, False, None),
    VatFamily("L", "BR-IG", "non-negative", True, False, False, None, raw_charge_id=True),
    VatFamily("M", "BR-IP", "non-negative", True, False, False, None),
)
RATE_RULES = {
    "positive": (lambda use: use.rate is not None and use.rate > 0, _("The VAT rate must be above zero.")),
    "zero": (lambda use: use.rate is not None and use.rate == 0, _("The VAT rate must be 0.")),
    "non-negative": (lambda use: use.rate is not None and use.rate >= 0, _("The VAT rate cannot be negative.")),
    "absent": (lambda use: not use.rate_present, _("This VAT category takes no rate.")),
}


def _parties(invoice):
    """What the VAT rules ask of the parties: (seller any tax id, seller VAT id, representative VAT id,
    buyer VAT id, buyer legal id), by presence."""
    seller, buyer, representative = invoice.seller, invoice.buyer, invoice.tax_representative
    return (
        attr(seller, "vat_id") is not None or attr(seller, "tax_registration_id") is not None,
        attr(seller, "vat_id") is not None,
        attr(representative, "vat_id") is not None,
        attr(buyer, "vat_id") is not None,
        attr(buyer, "legal_id") is not None,
    )


def _parties_ok(family, invoice):
    seller_any, seller_vat, representative_vat, buyer_vat, buyer_legal = _parties(invoice)
    if family.rate == "absent":  # outside the scope of VAT: nobody shows a VAT id
        return not (seller_vat or representative_vat or buyer_vat)
    seller_ok = (seller_vat if family.seller_vat_only else seller_any) or representative_vat
    if family.buyer == "vat":
        return seller_ok and buyer_vat
    if family.buyer == "vat_or_legal":
        return seller_ok and (buyer_vat or buyer_legal)
    return seller_ok


def _rule_ids(family, numbers):
    return [f"{family.prefix}-{n:02d}" for n in numbers]


@rule(*(rule_id for family in FAMILIES for rule_id in _rule_ids(family, range(1, 11))))
def vat_categories(invoice, facts):
    if facts.syntax == "CII":
        yield from _cii_vat_categories(facts)
        return
    totals = _CategoryTotals(facts)
    for family in FAMILIES:
        yield from _vat_family(family, invoice, facts, totals)


def _vat_family(family, invoice, facts, totals):
    code, prefix = family.category, family.prefix
    uses = [use for use in facts.category_uses if use.category == code]
    with_vat = [use for use in uses if use.vat]
    lines = [use for use in with_vat if use.place == "line"]
    breakdowns = [use for use in with_vat if use.place == "breakdown"]

    # -01: the category appears in the VAT breakdown exactly when it is used
    if family.per_rate:
        scheme_free = family.category == "S"  # BR-S-01 does not look at the tax scheme
        used = [
            u for u in (uses if scheme_free else with_vat) if u.place in ("line", "allowance", "charge", "unmarked")
        ]
        in_breakdown = [u for u in (uses if scheme_free else with_vat) if u.place == "breakdown"]
        ok = bool(used) == bool(in_breakdown)
    else:
        used = [use for use in with_vat if use.place != "breakdown"] or breakdowns
        ok = (bool(used) and len(breakdowns) == 1) or not used
    if not ok:
        yield finding(
            f"{prefix}-01", _("VAT category %(code)s needs exactly its own VAT breakdown.", code=code), "BG-23"
        )

    # -02 to -04: the parties' VAT identifiers, for lines, allowances and charges of the category
    parties_ok = _parties_ok(family, invoice)
    line_trigger = bool(lines) if family.category != "S" else bool(lines) or any(u.place == "line" for u in uses)
    for number, present in (
        (2, line_trigger),
        (3, any(use.place == "allowance" for use in with_vat)),
        (4, any(use.place == "charge" and (not family.raw_charge_id or use.raw_category == code) for use in with_vat)),
    ):
        if present and not (parties_ok and (family.category != "S" or number != 2 or lines)):
            yield finding(
                f"{prefix}-{number:02d}",
                _("VAT category %(code)s needs the VAT identifiers the rules ask of the seller and buyer.", code=code),
                "BT-31",
            )

    # -05 to -07: the rate on lines, allowances and charges
    check_rate, message = RATE_RULES[family.rate]
    for number, place in ((5, "line"), (6, "allowance"), (7, "charge")):
        if any(not check_rate(use) for use in with_vat if use.place == place):
            yield finding(f"{prefix}-{number:02d}", message, "BT-152")

    # -08 to -10: each breakdown of the category
    for use in breakdowns:
        yield from _breakdown_findings(family, use, _taxable_adds_up(family, use, totals), _tax_amount_ok(family, use))


def _breakdown_findings(family, breakdown, adds_up, tax_amount_ok):
    """The -08 to -10 findings on one VAT breakdown of ``family``; whether its taxable amount adds up and its VAT
    amount is right are each binding's own verdicts."""
    code, prefix = family.category, family.prefix
    if not adds_up:
        yield finding(
            f"{prefix}-08", _("The taxable amount of VAT category %(code)s does not add up.", code=code), "BT-116"
        )
    if not tax_amount_ok:
        yield finding(f"{prefix}-09", _("The VAT amount of category %(code)s is wrong.", code=code), "BT-117")
    if breakdown.exemption != family.exemption_required:
        message = (
            _("VAT category %(code)s needs an exemption reason.", code=code)
            if family.exemption_required
            else _("VAT category %(code)s cannot have an exemption reason.", code=code)
        )
        yield finding(f"{prefix}-10", message, "BT-120")


LINE_KINDS = ("InvoiceLine", "CreditNoteLine")
ANY_RATE = object()  # a key of _CategoryTotals.sums: every rate of the category, none included


class _CategoryTotals:
    """What the -08 rules add up, for every category, rate and kind of line, in one pass over the document.

    The official rules sum the lines, allowances and charges of a breakdown's category anew for each breakdown;
    summed once and looked up, a document with thousands of breakdowns costs no more than its size.
    """

    def __init__(self, facts):
        uses = facts.category_uses
        self.tags = {use.line_tag for use in uses if use.place == "line"} | set(facts.line_tags)
        # (category, rate or ANY_RATE, line kind): lines of that kind plus charges minus allowances, any tax scheme
        self.sums = {}
        # (category, rate, line kind) for which a line of that kind, an allowance or a charge exists
        self.used = set()
        for use in uses:
            if use.rate is not None and use.place == "line":
                self.used.add((use.category, use.rate, use.line_tag))
            elif use.rate is not None and use.place in ("allowance", "charge", "unmarked"):
                self.used.update((use.category, use.rate, tag) for tag in LINE_KINDS)
            if use.amount is None or use.place not in ("line", "allowance", "charge"):
                continue
            rates = (ANY_RATE,) if use.rate is None else (ANY_RATE, use.rate)
            for tag in LINE_KINDS:
                if use.place == "line" and use.line_tag != tag:
                    continue
                for rate in rates:
                    key = (use.category, rate, tag)
                    total = self.sums.get(key, ZERO)
                    self.sums[key] = total - use.amount if use.place == "allowance" else total + use.amount

    def sum(self, code, rate, tag):
        return self.sums.get((code, rate, tag), ZERO)


def _taxable_adds_up(family, breakdown, totals):
    if family.per_rate:
        if breakdown.rate is None:
            return True  # "every $rate in ()" holds
        taxable = breakdown.amount
        if taxable is None:
            return False
        low, high = untyped_plus(taxable, -1), untyped_plus(taxable, 1)
        return any(
            (family.category, breakdown.rate, tag) in totals.used
            and low < totals.sum(family.category, breakdown.rate, tag) < high
            for tag in LINE_KINDS
        )
    if breakdown.amount is None:
        return False
    return any(
        tag in totals.tags and breakdown.amount == totals.sum(family.category, ANY_RATE, tag) for tag in LINE_KINDS
    )


def _tax_amount_ok(family, breakdown):
    if breakdown.tax_amount is None:
        return False
    if not family.per_rate:
        return breakdown.tax_amount == 0
    if breakdown.rate is None or breakdown.amount is None:
        return False
    expected = xround(abs(breakdown.amount) * breakdown.rate / 100)
    return abs(breakdown.tax_amount) - 1 < expected < abs(breakdown.tax_amount) + 1


# -- VAT categories as CEN's CII rules state them ------------------------------------------------------------------
# CEN's CII binding (1.3.16, EN16931-CII-model.sch) states the VAT category rules in its own terms, not always as the
# UBL binding does, and a CII document is judged here as it states them: a category code is compared as written;
# BR-x-01 counts the category's nodes (BR-S-01 passes on any two of them); the -02 to -07 rules look at lines,
# allowances and charges (of the document or of a line) whose tax type is VAT; the breakdown rules of S and Z look at
# every breakdown of the category, the others only at those of type VAT; BR-S-08 and BR-O-08 want the exact sum of
# the rounded sums, the other -08 rules allow 1 either way; BR-S-09 rounds taxable amount x rate to a whole number
# and divides it by 100. Categories L and M report as BR-AF and BR-AG there: not checked here.
CII_PARTIES = {
    # family -> registrations of which the seller side needs one, and of which the buyer needs one (or None)
    "S": ({"seller VA", "seller FC", "representative VA"}, None),
    "Z": ({"seller VA", "seller FC", "representative VA"}, None),
    "E": ({"seller VA", "seller FC", "representative VA"}, None),
    "AE": ({"seller VA", "seller FC", "representative VA"}, {"buyer VA", "buyer legal"}),
    "K": ({"seller VA", "representative VA"}, {"buyer VA"}),
    "G": ({"seller VA", "representative VA"}, None),
}
CII_OUTSIDE_SCOPE_FORBIDDEN = {"seller VA", "representative VA", "buyer VA"}  # BR-O-02 to BR-O-04
CII_ANY_TYPE_BREAKDOWNS = ("S", "Z")  # their breakdown rules match the category code whatever the tax type
TAXED_AMOUNTS = ("allowance", "charge", "unmarked")  # every ram:CategoryTradeTax


def _cii_vat_categories(facts):
    for family in FAMILIES:
        if family.category not in ("L", "M"):
            yield from _cii_vat_family(family, facts)


def _cii_parties_ok(family, registrations):
    if family.category == "O":
        return not registrations & CII_OUTSIDE_SCOPE_FORBIDDEN
    seller, buyer = CII_PARTIES[family.category]
    return bool(registrations & seller) and (buyer is None or bool(registrations & buyer))


def _cii_vat_family(family, facts):
    code, prefix = family.category, family.prefix
    uses = [use for use in facts.category_uses if use.category == code]
    lines = [use for use in uses if use.place == "line"]
    taxed = [use for use in uses if use.place in TAXED_AMOUNTS]
    breakdowns = [use for use in uses if use.place == "breakdown"]

    if code == "S":
        ok = (len(lines) + len(breakdowns) >= 2 or not lines) and (len(taxed) + len(breakdowns) >= 2 or not taxed)
    elif code == "O":
        ok = not breakdowns or (len(breakdowns) == 1 and bool(lines or taxed))
    else:
        ok = not (breakdowns or lines or taxed) or (len(breakdowns) == 1 and bool(lines or taxed))
    if not ok:
        yield finding(
            f"{prefix}-01", _("VAT category %(code)s needs exactly its own VAT breakdown.", code=code), "BG-23"
        )

    parties_ok = _cii_parties_ok(family, facts.tax_registrations)
    check_rate, rate_message = RATE_RULES[family.rate]
    for number, place in ((2, "line"), (3, "allowance"), (4, "charge")):
        contexts = [use for use in uses if use.vat and use.place == place]
        if contexts and not parties_ok:
            yield finding(
                f"{prefix}-{number:02d}",
                _("VAT category %(code)s needs the VAT identifiers the rules ask of the seller and buyer.", code=code),
                "BT-31",
            )
        if any(not check_rate(use) for use in contexts):
            yield finding(f"{prefix}-{number + 3:02d}", rate_message, "BT-152")

    for use in breakdowns:
        if not (use.vat or code in CII_ANY_TYPE_BREAKDOWNS):
            continue
        adds_up = _cii_taxable_adds_up(family, use, facts.category_uses)
        yield from _breakdown_findings(family, use, adds_up, _cii_tax_amount_ok(family, use))


def _cii_rounded_sum(uses, code, place, rate):
    """``round(sum(...) * 10 * 10) div 100`` over the lines, or the document's allowances or charges, of ``code`` (and
    of ``rate`` unless it is ANY_RATE), as the -08 rules add them up."""
    amounts = [
        use.amount
        for use in uses
        if use.category == code
        and use.place == place
        and use.amount is not None
        and (place == "line" or use.document_level)
        and (rate is ANY_RATE or use.rate == rate)
    ]
    return xround(sum(amounts, ZERO))


def _cii_taxable_adds_up(family, breakdown, uses):
    code = family.category
    rate = breakdown.rate if code == "S" else ANY_RATE
    if code == "S" and rate is None:
        return True  # "every $rate in ()" holds
    expected = (
        _cii_rounded_sum(uses, code, "line", rate)
        + _cii_rounded_sum(uses, code, "charge", rate)
        - _cii_rounded_sum(uses, code, "allowance", rate)
    )
    taxable = breakdown.amount
    if taxable is None:
        return False
    if code in ("S", "O"):
        return taxable == expected
    # the untyped amount minus 1 is an xs:double
    return float(taxable) - 1 < float(expected) < float(taxable) + 1


def _cii_tax_amount_ok(family, breakdown):
    tax = breakdown.tax_amount
    if tax is None:
        return False
    if family.category != "S":
        return tax == 0
    if breakdown.amount is None or breakdown.rate is None:
        return False
    # the untyped rate makes the product an xs:double; XPath round() is floor(x + 0.5)
    expected = _xround_double(float(abs(breakdown.amount)) * float(breakdown.rate)) / 100
    return float(abs(tax) - 1) < expected < float(abs(tax) + 1)


def _cii_outside_scope_alone(facts):
    uses = facts.category_uses
    if not any(use.place == "breakdown" and use.category == "O" and use.vat for use in uses):
        return
    other = {use.place for use in uses if use.category is not None and use.category != "O"}
    message = _("An invoice outside the scope of VAT (O) cannot use another VAT category.")
    if other & {"line", "breakdown"}:  # BR-O-11 and BR-O-12 both read every ram:ApplicableTradeTax
        yield finding("BR-O-11", message, "BG-23")
        yield finding("BR-O-12", message, "BG-23")
    if other & set(TAXED_AMOUNTS):  # BR-O-13 and BR-O-14 both read every ram:CategoryTradeTax
        yield finding("BR-O-13", message, "BG-23")
        yield finding("BR-O-14", message, "BG-23")


@rule("BR-O-11", "BR-O-12", "BR-O-13", "BR-O-14")
def outside_scope_alone(invoice, facts):
    """A document with VAT category O has no other VAT category anywhere."""
    if facts.syntax == "CII":
        yield from _cii_outside_scope_alone(facts)
        return
    uses = [use for use in facts.category_uses if use.vat]
    if not any(use.place == "breakdown" and use.category == "O" for use in uses):
        return
    for rule_id, place in (
        ("BR-O-11", "breakdown"),
        ("BR-O-12", "line"),
        ("BR-O-13", "allowance"),
        ("BR-O-14", "charge"),
    ):
        if any(use.place == place and use.category != "O" for use in uses):
            yield finding(
                rule_id, _("An invoice outside the scope of VAT (O) cannot use another VAT category."), "BG-23"
            )


@rule("BR-IC-11", "BR-IC-12")
def intra_community_delivery(invoice, facts):
    if not any(use.place == "breakdown" and use.category == "K" and use.vat for use in facts.category_uses):
        return
    delivery = invoice.delivery
    # CEN's CII binding looks for the delivery date or the invoicing period only, and for the country being there
    cii = facts.syntax == "CII"
    has_period = invoice.period_start or invoice.period_end or (invoice.tax_point_code and not cii)
    if not (attr(delivery, "date") or has_period):
        yield finding(
            "BR-IC-11", _("An intra-community supply needs the delivery date or the invoicing period."), "BT-72"
        )
    country = attr(attr(delivery, "address"), "country_code")
    if (country is None) if cii else len(country or "") <= 1:
        yield finding("BR-IC-12", _("An intra-community supply needs the country it is delivered to."), "BT-80")


# -- payment -----------------------------------------------------------------------------------------------------


@rule("UBL-SR-44", "UBL-SR-46", "UBL-SR-47")
def payment_means_syntax(invoice, facts):
    if facts.syntax != "UBL":  # rules of the UBL syntax
        return
    means = invoice.payment_means
    if len({item.payment_id for item in means if item.payment_id is not None}) > 1:
        yield finding("UBL-SR-44", _("All payment instructions must share one remittance reference."), "BT-83")
    if sum(1 for item in means if item.text is not None) > 1:
        yield finding("UBL-SR-46", _("Only one payment instruction may carry the payment means text."), "BT-82")
    if len({item.code for item in means}) > 1:
        yield finding(
            "UBL-SR-47",
            _(
                "All payment instructions must use the same payment means code "
                "(e.g. several IBANs, all credit transfer)."
            ),
            "BT-81",
        )


@rule("BR-49", "BR-50", "BR-61", "BR-66", "BR-67")
def payment_means(invoice, facts):
    accounts = facts.payment_accounts
    for number, means in enumerate(invoice.payment_means):
        if not means.code:
            yield finding("BR-49", _("Each payment instruction needs a payment means code."), "BT-81")
        if facts.syntax == "CII":
            # CEN EN16931-CII 1.3.16: BR-50 and BR-61 are asserted on ram:PayeePartyCreditorFinancialAccount of a
            # means whose TypeCode is '30' or '58' as written; no account, no finding. BR-61 asks for an IBANID or
            # ProprietaryID element, BR-50 for one that is not blank (normalize-space).
            code, account, identifier, filled = accounts[number]
            missing = code in ("30", "58") and account and not identifier
        else:
            missing = means.code in ("30", "58") and means.account_id is None
            # CIUS-RO 1.0.9: BR-50 (cbc:ID) != '' on cac:PayeeFinancialAccount of a means coded '30' or '58'
            code, account, identifier, filled = accounts[number] if accounts else (None, False, False, False)
        if code in ("30", "58") and account and not filled:
            yield finding("BR-50", _("A credit transfer needs the account to pay into (IBAN)."), "BT-84")
        if missing:
            yield finding("BR-61", _("A credit transfer needs the account to pay into (IBAN)."), "BT-84")
    if sum(1 for means in invoice.payment_means if means.card_pan is not None) > 1:
        yield finding("BR-66", _("At most one payment card may be given."), "BG-18")
    if sum(1 for means in invoice.payment_means if means.mandate_id is not None or means.debited_account) > 1:
        yield finding("BR-67", _("At most one direct debit mandate may be given."), "BG-19")


@rule("BR-29", "BR-30")
def periods(invoice, facts):
    if invoice.period_start and invoice.period_end and invoice.period_end < invoice.period_start:
        yield finding("BR-29", _("The invoicing period cannot end before it starts."), "BG-14")
    for line in invoice.lines:
        if line.period_start and line.period_end and line.period_end < line.period_start:
            yield finding(
                "BR-30", _("The line period cannot end before it starts."), f"BG-26, BG-25 {line.id or ''}".strip()
            )


ARITHMETIC = (document_totals, total_with_vat, vat_total, vat_breakdown_amounts)


def arithmetic_findings(invoice, facts):
    """Only the BR-CO rules that say whether the amounts add up: what a writer must never get wrong."""
    return [finding for check in ARITHMETIC for finding in check(invoice, facts)]
