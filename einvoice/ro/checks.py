"""Checks of an invoice against the CIUS-RO rules and the EN 16931 rules that matter for correctness.

Each rule reports under the id the official validator uses (ANAF's CIUS-RO 1.0.9 Schematron, which embeds
EN 16931), with a short translatable text and the business term it is about, and every problem is reported at once.
Where the official rule has a quirk (a context that can never match, an assertion on a single node), the check
follows what the official validator really does, so that a document passes here exactly when it passes there.
"""

from __future__ import annotations

from .. import en16931
from ..en16931 import attr, decimals, finding, length, party_address
from ..i18n import _
from ..model import Invoice
from ..rules import RuleSet
from ..ubl import facts_for
from .codes import CIUS_RO_ID, COUNTY_CODES, SECTOR_CODES

CIUS_RO = RuleSet()
rule = CIUS_RO.rule


def check(invoice: Invoice, facts=None):
    """Every CIUS-RO and EN 16931 finding for ``invoice``; ``facts`` come with a document that was read
    (``ubl.read``), else they are those of the document ``ubl.write`` would make."""
    facts = facts or facts_for(invoice)
    return en16931.RULES.run(invoice, facts) + CIUS_RO.run(invoice, facts)


# -- CIUS-RO: identification, occurrences and lengths ------------------------------------------------------------


@rule("BR-RO-001")
def specification_identifier(invoice, facts):
    if invoice.customization_id != CIUS_RO_ID:
        yield finding(
            "BR-RO-001",
            _("The specification identifier must be %(expected)s.", expected=CIUS_RO_ID),
            "BT-24",
        )


@rule("BR-RO-A020")
def note_count(invoice, facts):
    if len(invoice.notes) > 20:
        yield finding("BR-RO-A020", _("An invoice may have at most 20 notes."), "BG-1")


@rule("BR-RO-010")
def number_has_digit(invoice, facts):
    if not any(character.isdigit() for character in invoice.number or ""):
        yield finding("BR-RO-010", _("The invoice number must contain at least one digit."), "BT-1")


def _document_lengths(invoice):
    """(rule id, text, limit, business term) of every length-limited field at document level."""
    seller, buyer = invoice.seller, invoice.buyer
    representative, delivery = invoice.tax_representative, invoice.delivery
    seller_address, buyer_address = party_address(seller), party_address(buyer)
    representative_address, delivery_address = party_address(representative), attr(delivery, "address")
    seller_contact, buyer_contact = attr(seller, "contact"), attr(buyer, "contact")
    return [
        ("BR-RO-L0201", attr(seller_address, "postal_code"), 20, "BT-38"),
        ("BR-RO-L0202", attr(buyer_address, "postal_code"), 20, "BT-53"),
        ("BR-RO-L0203", attr(representative_address, "postal_code"), 20, "BT-67"),
        ("BR-RO-L0204", attr(delivery_address, "postal_code"), 20, "BT-78"),
        ("BR-RO-L155", invoice.number, 200, "BT-1"),
        ("BR-RO-L0302", invoice.contract_ref, 200, "BT-12"),
        ("BR-RO-L0303", invoice.order_ref, 200, "BT-13"),
        ("BR-RO-L0304", invoice.sales_order_ref, 200, "BT-14"),
        ("BR-RO-L0305", invoice.receiving_advice_ref, 200, "BT-15"),
        ("BR-RO-L0306", invoice.despatch_advice_ref, 200, "BT-16"),
        ("BR-RO-L0307", invoice.tender_ref, 200, "BT-17"),
        ("BR-RO-L0501", attr(seller_address, "city"), 50, "BT-37"),
        ("BR-RO-L0502", attr(buyer_address, "city"), 50, "BT-52"),
        ("BR-RO-L0503", attr(representative_address, "city"), 50, "BT-66"),
        ("BR-RO-L0504", attr(delivery_address, "city"), 50, "BT-77"),
        ("BR-RO-L1001", invoice.buyer_accounting_ref, 100, "BT-19"),
        ("BR-RO-L1002", attr(seller_address, "additional_street"), 100, "BT-36"),
        ("BR-RO-L1003", attr(seller_address, "line3"), 100, "BT-162"),
        ("BR-RO-L1004", attr(seller_contact, "name"), 100, "BT-41"),
        ("BR-RO-L1005", attr(seller_contact, "phone"), 100, "BT-42"),
        ("BR-RO-L1006", attr(seller_contact, "email"), 100, "BT-43"),
        ("BR-RO-L1007", attr(buyer_address, "additional_street"), 100, "BT-51"),
        ("BR-RO-L1008", attr(buyer_address, "line3"), 100, "BT-163"),
        ("BR-RO-L1009", attr(buyer_contact, "name"), 100, "BT-56"),
        ("BR-RO-L1010", attr(buyer_contact, "phone"), 100, "BT-57"),
        ("BR-RO-L1011", attr(buyer_contact, "email"), 100, "BT-58"),
        ("BR-RO-L1012", attr(representative_address, "additional_street"), 100, "BT-65"),
        ("BR-RO-L1013", attr(representative_address, "line3"), 100, "BT-164"),
        ("BR-RO-L1014", attr(delivery_address, "additional_street"), 100, "BT-76"),
        ("BR-RO-L1015", attr(delivery_address, "line3"), 100, "BT-165"),
        ("BR-RO-L151", attr(seller_address, "street"), 150, "BT-35"),
        ("BR-RO-L152", attr(buyer_address, "street"), 150, "BT-50"),
        ("BR-RO-L153", attr(representative_address, "street"), 150, "BT-64"),
        ("BR-RO-L154", attr(delivery_address, "street"), 150, "BT-75"),
        ("BR-RO-L201", attr(seller, "name"), 200, "BT-27"),
        ("BR-RO-L202", attr(seller, "trading_name"), 200, "BT-28"),
        ("BR-RO-L203", attr(buyer, "name"), 200, "BT-44"),
        ("BR-RO-L204", attr(buyer, "trading_name"), 200, "BT-45"),
        ("BR-RO-L205", attr(invoice.payee, "name"), 200, "BT-59"),
        ("BR-RO-L206", attr(representative, "name"), 200, "BT-62"),
        ("BR-RO-L207", attr(delivery, "party_name"), 200, "BT-70"),
        ("BR-RO-L301", invoice.payment_terms, 300, "BT-20"),
        ("BR-RO-L1000", attr(seller, "legal_form"), 1000, "BT-33"),
    ]


def _repeated_lengths(invoice, facts):
    """Length limits of repeated groups: payment means, lines, item attributes, references, notes, VAT."""
    for means in invoice.payment_means:
        yield "BR-RO-L208", means.account_name, 200, "BT-85"
        yield "BR-RO-L209", means.card_holder, 200, "BT-88"
        yield "BR-RO-L1016", means.text, 100, "BT-82"
        yield "BR-RO-L140", means.payment_id, 140, "BT-83"
    for line in invoice.lines:
        where = f"BG-25 {line.id or ''}".strip()
        yield "BR-RO-L1024", line.item_name, 100, f"BT-153, {where}"
        yield "BR-RO-L1021", line.accounting_ref, 100, f"BT-133, {where}"
        yield "BR-RO-L212", line.description, 200, f"BT-154, {where}"
        yield "BR-RO-L303", line.note, 300, f"BT-127, {where}"
        for name, value in line.attributes:
            yield "BR-RO-L0505", name, 50, f"BT-160, {where}"
            yield "BR-RO-L1025", value, 100, f"BT-161, {where}"
        for item in line.allowances_charges:
            if item.charge is not None:
                yield ("BR-RO-L1023" if item.charge else "BR-RO-L1022"), item.reason, 100, f"BT-144, {where}"
    if facts.root_name == "Invoice":  # the official context names CreditNote with the Invoice namespace
        for item in invoice.allowances_charges:
            if item.charge is not None:
                yield ("BR-RO-L1018" if item.charge else "BR-RO-L1017"), item.reason_code, 100, "BT-98"
    references = [invoice.invoiced_object.value] if invoice.invoiced_object else []
    references += [attachment.id for attachment in invoice.attachments]
    if invoice.is_credit_note and invoice.project_ref:
        references.append(invoice.project_ref)
    for reference in references:
        yield "BR-RO-L0308", reference, 200, "BT-122"
    for attachment in invoice.attachments:
        yield "BR-RO-L1020", attachment.description, 100, "BT-123"
        yield "BR-RO-L210", attachment.uri, 200, "BT-124"
        yield "BR-RO-L211", attachment.filename, 200, "BT-125"
    for preceding in invoice.preceding_invoices:
        yield "BR-RO-L156", preceding.number, 200, "BT-25"
    # the official rule applies to every cbc:Note element: document notes, payment terms and line notes
    texts = [note.text for note in invoice.notes] + [invoice.payment_terms] + [line.note for line in invoice.lines]
    for text in texts:
        yield "BR-RO-L302", text, 300, "BT-22"


_LENGTH_RULE_IDS = {
    "BR-RO-L0201", "BR-RO-L0202", "BR-RO-L0203", "BR-RO-L0204", "BR-RO-L155", "BR-RO-L0302", "BR-RO-L0303",
    "BR-RO-L0304", "BR-RO-L0305", "BR-RO-L0306", "BR-RO-L0307", "BR-RO-L0501", "BR-RO-L0502", "BR-RO-L0503",
    "BR-RO-L0504", "BR-RO-L1001", "BR-RO-L1002", "BR-RO-L1003", "BR-RO-L1004", "BR-RO-L1005", "BR-RO-L1006",
    "BR-RO-L1007", "BR-RO-L1008", "BR-RO-L1009", "BR-RO-L1010", "BR-RO-L1011", "BR-RO-L1012", "BR-RO-L1013",
    "BR-RO-L1014", "BR-RO-L1015", "BR-RO-L151", "BR-RO-L152", "BR-RO-L153", "BR-RO-L154", "BR-RO-L201",
    "BR-RO-L202", "BR-RO-L203", "BR-RO-L204", "BR-RO-L205", "BR-RO-L206", "BR-RO-L207", "BR-RO-L301",
    "BR-RO-L1000", "BR-RO-L208", "BR-RO-L209", "BR-RO-L1016", "BR-RO-L140", "BR-RO-L1024", "BR-RO-L1021",
    "BR-RO-L212", "BR-RO-L303", "BR-RO-L0505", "BR-RO-L1025", "BR-RO-L1022", "BR-RO-L1023", "BR-RO-L1017",
    "BR-RO-L1018", "BR-RO-L0308", "BR-RO-L1020", "BR-RO-L210", "BR-RO-L211", "BR-RO-L156", "BR-RO-L302",
}  # fmt: skip


@rule(*_LENGTH_RULE_IDS)
def lengths(invoice, facts):
    for rule_id, text, limit, where in [*_document_lengths(invoice), *_repeated_lengths(invoice, facts)]:
        size = length(text)
        if size > limit:
            yield finding(
                rule_id,
                _("At most %(limit)s characters are allowed here, not %(size)s.", limit=limit, size=size),
                where,
            )


# -- CIUS-RO: document type, currency, parties -------------------------------------------------------------------

INVOICE_TYPES = {"380", "384", "389", "751"}


@rule("BR-RO-020_1", "BR-RO-020_2")
def document_type(invoice, facts):
    code = invoice.type_code
    if code is None:
        return
    if facts.root_name == "Invoice" and code not in INVOICE_TYPES:
        yield finding("BR-RO-020_1", _("The invoice type code must be 380, 384, 389 or 751."), "BT-3")
    if facts.root_name == "CreditNote" and code != "381":
        yield finding("BR-RO-020_2", _("The credit note type code must be 381."), "BT-3")


@rule("BR-RO-030")
def tax_currency(invoice, facts):
    if invoice.currency != "RON" and invoice.tax_currency != "RON":
        yield finding(
            "BR-RO-030",
            _("An invoice in a currency other than RON must give RON as its VAT accounting currency."),
            "BT-6",
        )


@rule("BR-RO-040")
def tax_point_code(invoice, facts):
    if invoice.tax_point_code is not None and invoice.tax_point_code not in {"3", "35", "432"}:
        yield finding("BR-RO-040", _("The VAT point date code must be 3, 35 or 432."), "BT-8")


_TAXED = {"S", "Z", "E", "AE", "K", "G", "L", "M"}


def _uses_vat(invoice, facts):
    """The official test behind BR-RO-065 and BR-RO-120: invoice lines (not credit note lines), and document
    allowances and charges that say which they are."""
    if facts.taxed_category_texts is not None:
        return any(text in _TAXED for text in facts.taxed_category_texts)
    if any(item.vat_category in _TAXED and item.charge is not None for item in invoice.allowances_charges):
        return True
    return any(
        line.vat_category in _TAXED and tag == "InvoiceLine"
        for line, tag in zip(invoice.lines, facts.line_tags, strict=True)
    )


@rule("BR-RO-065", "BR-RO-120")
def tax_identifiers(invoice, facts):
    if not _uses_vat(invoice, facts):
        return
    seller, buyer = invoice.seller, invoice.buyer
    representative_vat = attr(invoice.tax_representative, "vat_id")
    if representative_vat is None and not (attr(seller, "vat_id") or attr(seller, "tax_registration_id")):
        yield finding(
            "BR-RO-065",
            _(
                "The seller's VAT identifier or tax registration identifier (CUI), "
                "or a tax representative, is required."
            ),
            "BT-31",
        )
    if attr(buyer, "legal_id") is None and not attr(buyer, "vat_id") and not attr(buyer, "tax_registration_id"):
        yield finding(
            "BR-RO-120",
            _(
                "The buyer's VAT identifier or legal registration identifier is required "
                "(for a person: the CNP, or 0000000000000)."
            ),
            "BT-48",
        )


def _address_rules(address, street_rule, city_rule, where):
    if not attr(address, "street"):
        yield finding(street_rule, _("The street (address line 1) is required."), where)
    if not attr(address, "city"):
        yield finding(city_rule, _("The city is required."), where)


def _county_rules(address, sector_rule, county_rule, where):
    """Romanian addresses: an ISO 3166-2:RO county; in Bucharest (RO-B) the city is SECTOR1..SECTOR6."""
    if attr(address, "country_code") != "RO":
        return
    subdivision = attr(address, "subdivision") or ""
    if subdivision == "RO-B" and (attr(address, "city") or "") not in SECTOR_CODES:
        yield finding(
            sector_rule, _("In Bucharest (RO-B) the city must be one of SECTOR1 to SECTOR6, written so."), where
        )
    if not subdivision:
        yield finding(county_rule, _("The county is required (in Bucharest: RO-B)."), where)
    elif subdivision not in COUNTY_CODES:
        yield finding(
            county_rule,
            _("The county must be an ISO 3166-2:RO code such as RO-CJ or RO-B (not %(value)r).", value=subdivision),
            where,
        )


@rule("BR-RO-081", "BR-RO-082", "BR-RO-091", "BR-RO-092", "BR-RO-100", "BR-RO-101", "BR-RO-110", "BR-RO-111")
def party_addresses(invoice, facts):
    seller_address, buyer_address = party_address(invoice.seller), party_address(invoice.buyer)
    yield from _address_rules(seller_address, "BR-RO-081", "BR-RO-091", "BG-5")
    yield from _address_rules(buyer_address, "BR-RO-082", "BR-RO-092", "BG-8")
    yield from _county_rules(seller_address, "BR-RO-100", "BR-RO-110", "BG-5")
    yield from _county_rules(buyer_address, "BR-RO-101", "BR-RO-111", "BG-8")


# The official contexts of these rules name CreditNote with the Invoice namespace, so they only ever apply to invoices.
@rule("BR-RO-140", "BR-RO-150", "BR-RO-160", "BR-RO-170")
def tax_representative_address(invoice, facts):
    address = party_address(invoice.tax_representative)
    if facts.root_name != "Invoice" or address is None:
        return
    yield from _address_rules(address, "BR-RO-140", "BR-RO-150", "BG-12")
    yield from _county_rules(address, "BR-RO-160", "BR-RO-170", "BG-12")


@rule("BR-RO-180", "BR-RO-201", "BR-RO-202", "BR-RO-211", "BR-RO-212")
def delivery_address(invoice, facts):
    address = attr(invoice.delivery, "address")
    if facts.root_name != "Invoice" or address is None:
        return
    yield from _address_rules(address, "BR-RO-180", "BR-RO-201", "BG-15")
    if not address.subdivision:
        yield finding("BR-RO-211", _("The county of the delivery address is required."), "BT-79")
    yield from _county_rules(address, "BR-RO-202", "BR-RO-212", "BG-15")


@rule("BR-27")
def price_not_negative(invoice, facts):
    for line in invoice.lines:
        if line.price is not None and line.price < 0:
            yield finding(
                "BR-27",
                _("The item net price cannot be negative: give a negative quantity or an allowance instead."),
                f"BT-146, BG-25 {line.id or ''}".strip(),
            )


# -- decimals ----------------------------------------------------------------------------------------------------


def _amount_decimals(invoice, facts):
    """(rule ids, amount, business term) of every amount limited to two decimals."""
    # the CIUS-RO copies of the document allowance rules name CreditNote with the Invoice namespace
    ro = facts.root_name == "Invoice"
    for item in invoice.allowances_charges:
        if item.charge is True:
            yield ("BR-DEC-05", "BR-DEC-RO-05") if ro else ("BR-DEC-05",), item.amount, "BT-99"
            yield ("BR-DEC-06", "BR-DEC-RO-06") if ro else ("BR-DEC-06",), item.base_amount, "BT-100"
        elif item.charge is False:
            yield ("BR-DEC-01", "BR-DEC-RO-01") if ro else ("BR-DEC-01",), item.amount, "BT-92"
            yield ("BR-DEC-02", "BR-DEC-RO-02") if ro else ("BR-DEC-02",), item.base_amount, "BT-93"
    totals = invoice.totals if facts.has_monetary_total else None
    if totals is not None:
        yield ("BR-DEC-09", "BR-DEC-RO-09"), totals.line_total, "BT-106"
        yield ("BR-DEC-10", "BR-DEC-RO-10"), totals.allowance_total, "BT-107"
        yield ("BR-DEC-11", "BR-DEC-RO-11"), totals.charge_total, "BT-108"
        yield ("BR-DEC-12", "BR-DEC-RO-12"), totals.tax_exclusive, "BT-109"
        yield ("BR-DEC-14", "BR-DEC-RO-14"), totals.tax_inclusive, "BT-112"
        yield ("BR-DEC-16", "BR-DEC-RO-16"), totals.prepaid, "BT-113"
        yield ("BR-DEC-17", "BR-DEC-RO-17"), totals.rounding, "BT-114"
        yield ("BR-DEC-18", "BR-DEC-RO-18"), totals.payable, "BT-115"
    for vat in invoice.vat_breakdown:
        yield ("BR-DEC-19", "BR-DEC-RO-1009"), vat.taxable_amount, "BT-116"
        yield ("BR-DEC-20", "BR-DEC-RO-1010"), vat.tax_amount, "BT-117"
    for line in invoice.lines:
        where = f"BG-25 {line.id or ''}".strip()
        yield ("BR-DEC-23",), line.net_amount, f"BT-131, {where}"
        for item in line.allowances_charges:
            if item.charge is True:
                yield ("BR-DEC-27", "BR-DEC-RO-27"), item.amount, f"BT-141, {where}"
                yield ("BR-DEC-28", "BR-DEC-RO-28"), item.base_amount, f"BT-142, {where}"
            elif item.charge is False:
                yield ("BR-DEC-24", "BR-DEC-RO-24"), item.amount, f"BT-136, {where}"
                yield ("BR-DEC-25", "BR-DEC-RO-25"), item.base_amount, f"BT-137, {where}"


_DECIMAL_RULES = [f"BR-DEC-{n:02d}" for n in (1, 2, 5, 6, 9, 10, 11, 12, 14, 16, 17, 18, 19, 20, 23, 24, 25, 27, 28)]
_DECIMAL_RULES += [f"BR-DEC-RO-{n:02d}" for n in (1, 2, 5, 6, 9, 10, 11, 12, 14, 16, 17, 18, 24, 25, 27, 28)]
_DECIMAL_RULES += ["BR-DEC-RO-1009", "BR-DEC-RO-1010"]


@rule(*_DECIMAL_RULES)
def amount_decimals(invoice, facts):
    for rule_ids, amount, where in _amount_decimals(invoice, facts):
        if decimals(amount) > 2:
            for rule_id in rule_ids:
                yield finding(rule_id, _("An amount may have at most two decimals (%(amount)s).", amount=amount), where)


IMPLEMENTED = frozenset(CIUS_RO.implemented | en16931.RULES.implemented)  # every rule id a check can report
