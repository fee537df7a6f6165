"""Checks of an invoice as FA(3) shows it: what KSeF does not verify (it checks the structure, not the arithmetic)
and what the VAT act requires of each kind of invoice.

Rule ids are ours (PL-...), each reported with a short translatable text and the FA(3) element it is about; every
problem is reported at once. Each finding has a level (STRUCTURE, LAW, ADVICE, below): a received invoice is refused
only for what the schema or KSeF refuses; our own is stopped also for what the law certainly forbids; our arithmetic
only ever warns, except a total due that is not the sum of its rate groups on our own invoice.
"""

import re
from dataclasses import replace
from decimal import Decimal

from ..i18n import _
from ..model import WIDE
from ..rules import Finding, RuleSet
from .model import (
    ADVANCE_KINDS,
    BREAKDOWN_BUCKET,
    CORRECTION_KINDS,
    EXEMPT_GROUP,
    EXEMPTION_ACT,
    EXEMPTION_DIRECTIVE,
    EXEMPTION_OTHER,
    INVOICE_KINDS,
    KOR_ZAL,
    MARGIN,
    MARGIN_GROUP,
    MARGIN_SCHEMES,
    RATE_GROUPS,
    RATE_OVERRIDES,
    ROZ,
    SETTLEMENT_KINDS,
    TAXED_GROUPS,
    UPR,
    ZAL,
    address_lines,
    bare_nip,
    buyer_abroad,
    groups_from_breakdown,
    groups_from_lines,
    line_amount,
    nip_is_valid,
    pl_invoice,
    pl_line,
    rate_code,
    rate_groups,
)

RULES = RuleSet()
rule = RULES.rule
ZERO = Decimal(0)
CENT = Decimal("0.01")
PLN = "PLN"
KSEF_NUMBER = re.compile(
    r"([1-9]((\d[1-9])|([1-9]\d))\d{7}|M\d{9}|[A-Z]{3}\d{7})-(20[2-9][0-9]|2[1-9][0-9]{2}|[3-9][0-9]{3})"
    r"(0[1-9]|1[0-2])(0[1-9]|[1-2][0-9]|3[0-1])-([0-9A-F]{6})-?([0-9A-F]{6})-([0-9A-F]{2})"
)
SPLIT_PAYMENT_THRESHOLD = Decimal(15000)  # art. 106e ust. 1 pkt 18a, in PLN
SIMPLIFIED_LIMITS = {"PLN": Decimal(450), "EUR": Decimal(100)}  # art. 106e ust. 5 pkt 3
STANDARD_ROLES = range(1, 12)
ROLE_JST_RECIPIENT, ROLE_GV_RECIPIENT = 8, 10
NOTE_LIMIT = 3  # Stopka/Informacje
EMAIL = re.compile(r".+@.+")


# How certain a finding is that the invoice cannot stand as it is. KSeF checks the XML, the schema, uniqueness, the
# issue date and NIP check digits, not the arithmetic (rules/ksef-api/faktury/weryfikacja-faktury.md), and the
# invoice it accepts is the legal one: our checks must never refuse what the schema and KSeF accept.
STRUCTURE = "structure"  # the schema or KSeF refuses it: fatal for every document
LAW = "law"  # the VAT act (or the FA(3) rules of the Ministry) certainly forbids it: stops our own invoice only
ADVICE = "advice"  # our own arithmetic and plausibility checks: always a warning


def check(invoice, outgoing=False):
    """Every finding of our FA(3) checks for ``invoice``. ``outgoing``: the invoice is ours, about to be issued, and
    what the law certainly forbids is fatal too; a received invoice is refused only for what KSeF would refuse."""
    fatal = {STRUCTURE, LAW} if outgoing else {STRUCTURE}
    # while the rules run, a finding's ``fatal`` holds its level (see finding())
    return [replace(item, fatal=item.fatal in fatal) for item in RULES.run(invoice, None)]


def finding(rule_id, message, location, level=STRUCTURE):
    """A finding of ``level`` (STRUCTURE, LAW or ADVICE); :func:`check` decides from it whether it is fatal."""
    return Finding(rule_id, message, location, level)


def decimals(value):
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


# -- parties -----------------------------------------------------------------------------------------------------


def _identified_parties(invoice):
    """(party, FA(3) location, level) of every party that FA(3) identifies by NIP when it has one. KSeF checks the
    NIP of Podmiot1, Podmiot2 and Podmiot3 (weryfikacja-faktury.md, "Walidacja numeru NIP"), not the parties as a
    corrected invoice named them."""
    pl = pl_invoice(invoice)
    yield invoice.buyer, "Podmiot2/NIP", STRUCTURE
    for index, third in enumerate(pl.third_parties, 1):
        yield third.party, f"Podmiot3[{index}]/NIP", STRUCTURE
    if pl.correction:
        if pl.correction.seller_before:
            yield pl.correction.seller_before.party, "Podmiot1K/NIP", ADVICE
        for index, before in enumerate(pl.correction.buyers_before, 1):
            yield before.party, f"Podmiot2K[{index}]/NIP", ADVICE


@rule("PL-NIP")
def nip_checksums(invoice, facts):
    seller = invoice.seller
    seller_nip = bare_nip(seller.vat_id) or bare_nip(seller.tax_registration_id) if seller else None
    if seller_nip and not nip_is_valid(seller_nip):
        yield finding("PL-NIP", _("The NIP %(nip)s is not valid (check digit).", nip=seller_nip), "Podmiot1/NIP")
    for party, location, level in _identified_parties(invoice):
        nip = bare_nip(party.vat_id) if party else None
        if nip and not nip_is_valid(nip):
            yield finding("PL-NIP", _("The NIP %(nip)s is not valid (check digit).", nip=nip), location, level)
    # KSeF also checks the NIP an internal id (IDWew, NIP-nnnnn) starts with ("Walidacja numeru NIP w
    # identyfikatorze wewnętrznym")
    for index, third in enumerate(pl_invoice(invoice).third_parties, 1):
        nip = (third.internal_id or "")[:10]
        if third.internal_id and not bare_nip(third.party.vat_id) and not nip_is_valid(nip):
            yield finding(
                "PL-NIP", _("The NIP %(nip)s is not valid (check digit).", nip=nip), f"Podmiot3[{index}]/IDWew"
            )


@rule("PL-REQ-01", "PL-REQ-02", "PL-REQ-03", "PL-REQ-04")
def required_parts(invoice, facts):
    seller, buyer = invoice.seller, invoice.buyer
    if not seller or not (bare_nip(seller.vat_id) or bare_nip(seller.tax_registration_id)):
        yield finding("PL-REQ-01", _("The seller needs a Polish NIP."), "Podmiot1/NIP")
    if not seller or not seller.name:
        yield finding("PL-REQ-02", _("The seller needs a name."), "Podmiot1/Nazwa")
    if not seller or not seller.address or not seller.address.country_code or not _has_address_line(seller.address):
        yield finding("PL-REQ-02", _("The seller needs an address with its country code."), "Podmiot1/Adres")
    if buyer is None:
        yield finding("PL-REQ-03", _("The invoice needs a buyer."), "Podmiot2")
    elif buyer.address and (not buyer.address.country_code or not _has_address_line(buyer.address)):
        yield finding("PL-REQ-03", _("The buyer's address needs its country code and a line."), "Podmiot2/Adres")
    for location, value in (("P_2", invoice.number), ("P_1", invoice.issue_date), ("KodWaluty", invoice.currency)):
        if not value:
            yield finding("PL-REQ-04", _("%(element)s is required.", element=location), location)
    if invoice.totals is None or invoice.totals.tax_inclusive is None:
        yield finding("PL-REQ-04", _("%(element)s is required.", element="P_15"), "P_15")


def _parts(invoice):
    """(FA(3) element, value) of what each optional part of the invoice needs once it is there."""
    pl = pl_invoice(invoice)
    for payment in pl.partial_payments:
        yield "KwotaZaplatyCzesciowej", payment.amount
        yield "DataZaplatyCzesciowej", payment.paid
    for advance in pl.partial_advances:
        yield "P_6Z", advance.received
        yield "P_15Z", advance.amount
    if pl.settlement:
        for item in pl.settlement.charges + pl.settlement.deductions:
            yield "Kwota", item.amount
            yield "Powod", item.reason
    if pl.order:
        yield "WartoscZamowienia", pl.order.value
        for line in pl.order.lines:
            yield "NrWierszaZam", line.number
    for info in pl.additional_info:
        yield "Klucz", info.key
        yield "Wartosc", info.value
    for account in pl.bank_details + pl.factor_accounts:
        yield "NrRB", account.number
    for transport in pl.transports:
        yield "RodzajTransportu", transport.kind if transport.kind is not None else transport.other_kind
        yield "OpisLadunku", transport.cargo if transport.cargo is not None else transport.other_cargo
    for term in pl.payment_terms:
        if term.count is not None or term.unit or term.event:
            yield "TerminOpis/Ilosc", term.count
            yield "TerminOpis/Jednostka", term.unit
            yield "TerminOpis/ZdarzeniePoczatkowe", term.event


@rule("PL-REQ-05")
def complete_parts(invoice, facts):
    for location, value in _parts(invoice):
        if value is None or value == "":
            yield finding("PL-REQ-05", _("%(element)s is required.", element=location), location)


def _has_address_line(address):
    return any((address.street, address.additional_street, address.line3, address.postal_code, address.city))


@rule("PL-ROLE")
def third_party_roles(invoice, facts):
    for index, third in enumerate(pl_invoice(invoice).third_parties, 1):
        if third.role is None and not third.other_role:
            yield finding("PL-ROLE", _("A third party needs its role."), f"Podmiot3[{index}]/Rola")
        elif third.role is not None and third.role not in STANDARD_ROLES:
            yield finding(
                "PL-ROLE", _("The role %(role)s is not an FA(3) role.", role=third.role), f"Podmiot3[{index}]/Rola"
            )


@rule("PL-JST", "PL-GV")
def jst_and_vat_group(invoice, facts):
    pl = pl_invoice(invoice)
    roles = {third.role for third in pl.third_parties}
    if pl.jst and ROLE_JST_RECIPIENT not in roles:
        yield finding(
            "PL-JST",
            _("An invoice for a JST unit needs that unit as a third party with role 8."),
            "Podmiot2/JST",
            LAW,
        )
    if pl.gv and ROLE_GV_RECIPIENT not in roles:
        yield finding(
            "PL-GV",
            _("An invoice for a VAT group member needs that member as a third party with role 10."),
            "Podmiot2/GV",
            LAW,
        )


def _parties_with_places(invoice):
    """(party, FA(3) element) of every party the invoice names."""
    pl = pl_invoice(invoice)
    yield invoice.seller, "Podmiot1"
    yield invoice.buyer, "Podmiot2"
    for index, third in enumerate(pl.third_parties, 1):
        yield third.party, f"Podmiot3[{index}]"
    for index, transport in enumerate(pl.transports, 1):
        yield transport.carrier, f"Transport[{index}]/Przewoznik"


def _texts(invoice):
    """(FA(3) element, text, longest allowed) of the free texts FA(3) limits."""
    pl = pl_invoice(invoice)
    for party, place in _parties_with_places(invoice):
        if party is None:
            continue
        yield f"{place}/Nazwa", party.name, 512
        if party.address:
            first, second = address_lines(party.address)
            yield f"{place}/AdresL1", first, 512
            yield f"{place}/AdresL2", second, 512
        if party.contact:
            yield f"{place}/Telefon", party.contact.phone, 16
            yield f"{place}/Email", party.contact.email, 255
    yield "P_2", invoice.number, 256
    yield "P_1M", pl.place_of_issue, 256
    yield "NrZamowienia", invoice.order_ref, 256
    yield "NrUmowy", invoice.contract_ref, 256
    yield "NrKlienta", pl.buyer_customer_number, 256
    yield "IDNabywcy", pl.buyer_key, 32
    for number in pl.wz_numbers:
        yield "WZ", number, 256
    if pl.correction:
        yield "PrzyczynaKorekty", pl.correction.reason, 256
        yield "OkresFaKorygowanej", pl.correction.period, 256
        for corrected in pl.correction.invoices:
            yield "NrFaKorygowanej", corrected.number, 256
    if pl.exemption_basis:
        yield pl.exemption_basis[0], pl.exemption_basis[1], 256
    for info in pl.additional_info:
        yield "DodatkowyOpis/Klucz", info.key, 256
        yield "DodatkowyOpis/Wartosc", info.value, 256
    for note in invoice.notes:
        yield "StopkaFaktury", note.text, 3500
    for line in invoice.lines:
        where, extension = f"FaWiersz {line.id or ''}".strip(), pl_line(line)
        yield f"{where}/P_7", line.item_name, 512
        yield f"{where}/P_8A", line.unit_code, 256
        yield f"{where}/Indeks", line.seller_item_id, 50
        yield f"{where}/GTIN", line.standard_id.value if line.standard_id else None, 20
        yield f"{where}/UU_ID", extension.uuid, 50
        for tag, code in (("PKWiU", extension.pkwiu), ("CN", extension.cn), ("PKOB", extension.pkob)):
            yield f"{where}/{tag}", code, 50
    for means in invoice.payment_means:
        yield "OpisRachunku", means.account_name, 256


@rule("PL-LEN", "PL-EMAIL", "PL-NRB")
def text_limits(invoice, facts):
    for location, text, limit in _texts(invoice):
        if text and len(" ".join(text.split())) > limit:
            yield finding(
                "PL-LEN", _("%(element)s is longer than %(limit)s characters.", element=location, limit=limit), location
            )
        if text and location.endswith("/Email") and not EMAIL.fullmatch(text):
            yield finding("PL-EMAIL", _("%(email)s is not an e-mail address.", email=text), location)
    for means in invoice.payment_means:
        number = (means.account_id or "").replace(" ", "")
        if number and not 10 <= len(number) <= 34:
            yield finding(
                "PL-NRB", _("The bank account number %(number)s must have 10 to 34 characters.", number=number), "NrRB"
            )


# -- amounts -----------------------------------------------------------------------------------------------------


def _money_values(invoice):
    """(value, FA(3) location, decimals allowed) of every number FA(3) shows."""
    pl = pl_invoice(invoice)
    totals = invoice.totals
    if totals and totals.tax_inclusive is not None:
        yield totals.tax_inclusive, "P_15", 2
    for vat in invoice.vat_breakdown:
        yield vat.taxable_amount, "P_13", 2
        yield vat.tax_amount, "P_14", 2
    for line in invoice.lines:
        where = f"FaWiersz {line.id or ''}".strip()
        extension = pl_line(line)
        for value, tag, places in (
            (line.net_amount, "P_11", 2),
            (extension.gross_amount, "P_11A", 2),
            (extension.tax_amount, "P_11Vat", 2),
            (line.price, "P_9A", 8),
            (extension.gross_price, "P_9B", 8),
            (line.price_discount, "P_10", 8),
            (line.quantity, "P_8B", 6),
            (extension.exchange_rate, "KursWaluty", 6),
        ):
            yield value, f"{where}/{tag}", places
    for advance in pl.partial_advances:
        yield advance.amount, "P_15Z", 2
    if pl.exchange_rate is not None:
        yield pl.exchange_rate, "KursWalutyZ", 6
    if pl.order:
        yield pl.order.value, "WartoscZamowienia", 2
        for line in pl.order.lines:
            yield line.net_amount, "P_11NettoZ", 2
            yield line.tax_amount, "P_11VatZ", 2
            yield line.price, "P_9AZ", 8
            yield line.quantity, "P_8BZ", 6


@rule("PL-DEC")
def decimal_places(invoice, facts):
    for value, location, places in _money_values(invoice):
        if value is not None and decimals(value) > places:
            yield finding(
                "PL-DEC",
                _("%(value)s has more than %(places)s decimals.", value=format(value, "f"), places=places),
                location,
            )


@rule("PL-RATE")
def rate_codes(invoice, facts):
    abroad = buyer_abroad(invoice)
    for line in invoice.lines:
        extension = pl_line(line)
        where = f"FaWiersz {line.id or ''}/P_12".strip()
        if extension.rate_code and extension.rate_code not in RATE_OVERRIDES:
            yield finding("PL-RATE", _("%(code)s cannot override a VAT rate.", code=extension.rate_code), where, LAW)
        elif line_amount(line) is not None and rate_code(line, abroad) is None:
            yield finding(
                "PL-RATE",
                _(
                    "The VAT category %(category)s at rate %(rate)s has no FA(3) rate code.",
                    category=line.vat_category,
                    rate=line.vat_rate,
                ),
                where,
                LAW,
            )
    if invoice.allowances_charges:
        yield finding(
            "PL-RATE",
            _("FA(3) has no document-level allowances or charges: give them as invoice lines."),
            "FaWiersz",
            LAW,
        )


CODES_OF_GROUP = dict(RATE_GROUPS)


def _line_rounding_allowance(invoice, group):
    """VAT may be computed per line (art. 106e ust. 10): each line's rounding can move the total by half a grosz."""
    abroad = buyer_abroad(invoice)
    lines = sum(1 for line in invoice.lines if rate_code(line, abroad) in CODES_OF_GROUP[group])
    return max(CENT, (Decimal("0.005") * lines).quantize(CENT))


def _bucket_location(bucket):
    members = [group for group, name in BREAKDOWN_BUCKET.items() if name == bucket] or [bucket]
    return "/".join(f"P_13_{group}" for group in members)


# -- arithmetic: KSeF does not check it, the law does not fix how each amount is rounded (art. 106e ust. 10, 11):
# a difference is a warning for a received invoice, and stops our own only where the law is certain


@rule("PL-P13")
def rate_group_amounts(invoice, facts):
    # an advance invoice has no lines; a settlement invoice's groups are its lines less the advances, whose
    # amounts are in other invoices
    if pl_invoice(invoice).kind in ADVANCE_KINDS | SETTLEMENT_KINDS:
        return
    from_lines = groups_from_lines(invoice)
    if from_lines is None:
        return
    declared = {}
    for group, (net, _tax) in groups_from_breakdown(invoice).items():
        bucket = BREAKDOWN_BUCKET.get(group, group)
        declared[bucket] = declared.get(bucket, ZERO) + net
    computed = {}
    for group, net in from_lines.items():
        bucket = BREAKDOWN_BUCKET.get(group, group)
        computed[bucket] = computed.get(bucket, ZERO) + net
    for bucket in sorted(set(declared) | set(computed)):
        expected = computed.get(bucket, ZERO).quantize(CENT, context=WIDE)
        if declared.get(bucket, ZERO) != expected:
            yield finding(
                "PL-P13",
                _("The net amount of the rate group must be the sum of its lines: %(expected)s.", expected=expected),
                _bucket_location(bucket),
                ADVICE,
            )


@rule("PL-P14")
def rate_group_vat(invoice, facts):
    for group, (net, tax) in rate_groups(invoice).items():
        if group not in TAXED_GROUPS:
            continue
        rates = {vat.rate for vat in invoice.vat_breakdown if vat.category == "S"}
        rates = [rate for rate in rates if rate is not None and _rate_code(rate) in CODES_OF_GROUP[group]]
        if len(rates) != 1:
            continue
        expected = net * Decimal(rates[0]) / 100
        if abs(tax - expected) > _line_rounding_allowance(invoice, group):
            yield finding(
                "PL-P14",
                _("The VAT of the rate group must be %(expected)s.", expected=expected.quantize(CENT, context=WIDE)),
                f"P_14_{group}",
                ADVICE,
            )


@rule("PL-P15")
def total_due(invoice, facts):
    totals = invoice.totals
    if totals is None or totals.tax_inclusive is None:
        return
    groups = rate_groups(invoice)
    if not groups:
        return  # a simplified invoice (UPR) may state only its total (art. 106e ust. 5 pkt 3)
    expected = sum((net + (tax or ZERO) for net, tax in groups.values()), ZERO)
    difference = abs(totals.tax_inclusive - expected)
    if difference == 0:
        return
    # P_15 is the total due, the rate groups' nets and VAT summed (art. 106e ust. 1 pkt 15): beyond rounding, our
    # own invoice would state a wrong amount due; a received one may carry groups we do not hold (P_13_5)
    rounding_only = difference <= CENT * max(1, len(groups))
    yield finding(
        "PL-P15",
        _("The total due must be the sum of the net amounts and the VAT: %(expected)s.", expected=money_text(expected)),
        "P_15",
        ADVICE if rounding_only else LAW,
    )


def _rate_code(rate):
    return format(Decimal(rate).normalize(), "f")


def money_text(value):
    return format(value.quantize(CENT, context=WIDE), "f")


@rule("PL-FX-01", "PL-FX-02")
def foreign_currency(invoice, facts):
    pl = pl_invoice(invoice)
    if not invoice.currency or invoice.currency == PLN:
        return
    groups = rate_groups(invoice)
    taxed = [group for group in TAXED_GROUPS if group in groups]
    declared = dict(pl.vat_in_pln)
    if taxed and pl.exchange_rate is None and any(group not in declared for group in taxed):
        yield finding(
            "PL-FX-01",
            _("An invoice in a foreign currency needs the exchange rate to show its VAT in PLN."),
            "P_14_1W",
            LAW,
        )
    if pl.exchange_rate is not None:
        for group, amount in declared.items():
            if group in groups:
                expected = (groups[group][1] * pl.exchange_rate).quantize(CENT, context=WIDE)
                if amount != expected:
                    yield finding(
                        "PL-FX-02",
                        _("The VAT in PLN must be the VAT times the exchange rate: %(expected)s.", expected=expected),
                        f"P_14_{group}W",
                        ADVICE,
                    )


# -- markers -----------------------------------------------------------------------------------------------------


@rule("PL-P19")
def exemption(invoice, facts):
    pl = pl_invoice(invoice)
    exempt = EXEMPT_GROUP in rate_groups(invoice)
    if exempt and not pl.exemption_basis:
        yield finding("PL-P19", _("An exempt supply needs the legal basis of the exemption."), "P_19A", LAW)
    elif pl.exemption_basis and not exempt:
        yield finding("PL-P19", _("An exemption basis is given but no line is exempt."), "P_19", ADVICE)
    elif pl.exemption_basis and (
        pl.exemption_basis[0] not in (EXEMPTION_ACT, EXEMPTION_DIRECTIVE, EXEMPTION_OTHER) or not pl.exemption_basis[1]
    ):
        yield finding("PL-P19", _("The exemption basis must be P_19A, P_19B or P_19C with its text."), "P_19", LAW)


@rule("PL-MARGIN")
def margin_scheme(invoice, facts):
    pl = pl_invoice(invoice)
    margin_lines = MARGIN_GROUP in rate_groups(invoice) or any(
        pl_line(line).rate_code == MARGIN for line in invoice.lines
    )
    if pl.margin_scheme and pl.margin_scheme not in MARGIN_SCHEMES:
        yield finding(
            "PL-MARGIN", _("%(scheme)s is not a margin scheme of FA(3).", scheme=pl.margin_scheme), "PMarzy", LAW
        )
    if margin_lines and not pl.margin_scheme:
        yield finding("PL-MARGIN", _("Margin-scheme lines need the kind of margin scheme."), "PMarzy", LAW)
    elif pl.margin_scheme and not margin_lines:
        yield finding("PL-MARGIN", _("The margin scheme is marked but no line is sold under it."), "PMarzy", ADVICE)


@rule("PL-MPP")
def split_payment(invoice, facts):
    pl, totals = pl_invoice(invoice), invoice.totals
    total = totals.tax_inclusive if totals else None
    if pl.split_payment and invoice.currency == PLN and total is not None and abs(total) <= SPLIT_PAYMENT_THRESHOLD:
        yield finding("PL-MPP", _("Split payment is marked but the total does not exceed 15 000 PLN."), "P_18A", ADVICE)


@rule("PL-UPR")
def simplified_invoice(invoice, facts):
    totals = invoice.totals
    limit = SIMPLIFIED_LIMITS.get(invoice.currency)
    if pl_invoice(invoice).kind != UPR or totals is None or totals.tax_inclusive is None or limit is None:
        return
    if totals.tax_inclusive > limit:
        yield finding(
            "PL-UPR",
            _("A simplified invoice may not exceed %(limit)s %(currency)s.", limit=limit, currency=invoice.currency),
            "P_15",
            LAW,
        )


@rule("PL-P6")
def supply_dates(invoice, facts):
    if invoice.period_start and invoice.period_end and invoice.period_start > invoice.period_end:
        yield finding("PL-P6", _("The supply period must not end before it starts."), "OkresFa", ADVICE)
    if invoice.delivery and invoice.delivery.date and (invoice.period_start or invoice.period_end):
        yield finding("PL-P6", _("Give either the supply date or the supply period, not both."), "P_6", ADVICE)
    if bool(invoice.period_start) != bool(invoice.period_end) and not (invoice.delivery and invoice.delivery.date):
        yield finding("PL-P6", _("The supply period needs both its first and its last day."), "OkresFa", ADVICE)


@rule("PL-NOTES")
def footer_notes(invoice, facts):
    if len(invoice.notes) > NOTE_LIMIT:
        yield finding("PL-NOTES", _("FA(3) has room for at most 3 notes in the footer."), "Stopka/Informacje")


# -- kinds -------------------------------------------------------------------------------------------------------


@rule("PL-KIND")
def invoice_kind(invoice, facts):
    kind = pl_invoice(invoice).kind
    if kind not in INVOICE_KINDS:
        yield finding("PL-KIND", _("The invoice kind %(kind)s is unknown.", kind=kind), "RodzajFaktury")
    if invoice.is_credit_note:
        # FA(3) shows a correction's differences with their signs; a credit note's positive amounts would read
        # as an increase
        yield finding(
            "PL-KIND",
            _("A credit note is written as a correction (KOR) of type 384 with negative differences."),
            "RodzajFaktury",
            LAW,
        )


@rule("PL-KOR-01", "PL-KOR-02", "PL-KOR-03", "PL-KOR-04", "PL-KOR-05", "PL-KOR-06")
def correction(invoice, facts):
    pl = pl_invoice(invoice)
    correction = pl.correction
    if pl.kind in CORRECTION_KINDS and (correction is None or not correction.invoices):
        # art. 106j ust. 2 pkt 3; the schema lets DaneFaKorygowanej out
        yield finding("PL-KOR-01", _("A correction must name the invoice(s) it corrects."), "DaneFaKorygowanej", LAW)
    if pl.kind not in CORRECTION_KINDS and correction is not None:
        yield finding(
            "PL-KOR-02",
            _("Correction data is only for corrections (KOR, KOR_ZAL, KOR_ROZ)."),
            "DaneFaKorygowanej",
            ADVICE,
        )
    if correction is None:
        return
    for index, corrected in enumerate(correction.invoices, 1):
        where = f"DaneFaKorygowanej[{index}]"
        if corrected.ksef_number is not None and not KSEF_NUMBER.fullmatch(corrected.ksef_number):
            yield finding(
                "PL-KOR-03",
                _("%(number)s is not a KSeF number.", number=corrected.ksef_number),
                f"{where}/NrKSeFFaKorygowanej",
            )
        if not corrected.number or corrected.issue_date is None:
            yield finding(
                "PL-KOR-04",
                _("A corrected invoice needs its number and issue date."),
                f"{where}/NrFaKorygowanej",
            )
        elif invoice.issue_date and corrected.issue_date > invoice.issue_date:
            yield finding(
                "PL-KOR-04",
                _("The corrected invoice cannot be issued after its correction."),
                f"{where}/DataWystFaKorygowanej",
                ADVICE,
            )
    seller_before = correction.seller_before.party if correction.seller_before else None
    if seller_before and not (bare_nip(seller_before.vat_id) and seller_before.name and seller_before.address):
        yield finding(
            "PL-KOR-06",
            _("The seller's data before the correction needs its NIP, name and address."),
            "Podmiot1K",
        )
    if correction.effect is not None and correction.effect not in (1, 2, 3):
        yield finding("PL-KOR-05", _("The correction type must be 1, 2 or 3."), "TypKorekty")
    if pl.kind == KOR_ZAL and correction.advance_before is None:
        yield finding(
            "PL-KOR-05", _("A correction of an advance invoice needs the amount paid before it."), "P_15ZK", LAW
        )


@rule("PL-ZAL-01", "PL-ZAL-02", "PL-ZAL-03", "PL-ZAL-04")
def advance_invoice(invoice, facts):
    pl = pl_invoice(invoice)
    if pl.kind in ADVANCE_KINDS:
        if pl.order is None or not pl.order.lines:
            # art. 106f ust. 1 pkt 4
            yield finding(
                "PL-ZAL-01", _("An advance invoice needs the order or contract it is for."), "Zamowienie", LAW
            )
        elif pl.order.value is not None:
            after = [line for line in pl.order.lines if not line.before]
            expected = sum(((line.net_amount or ZERO) + (line.tax_amount or ZERO) for line in after), ZERO)
            if expected != pl.order.value:
                yield finding(
                    "PL-ZAL-02",
                    _("The order value must be the sum of its lines with VAT: %(expected)s.", expected=expected),
                    "WartoscZamowienia",
                    ADVICE,
                )
        if invoice.currency not in (None, PLN) and pl.exchange_rate is None:
            yield finding(
                "PL-ZAL-03",
                _("An advance invoice in a foreign currency needs its exchange rate."),
                "KursWalutyZ",
                LAW,
            )
    totals = invoice.totals
    complete = all(advance.amount is not None for advance in pl.partial_advances)
    if pl.kind == ZAL and pl.partial_advances and complete and totals and totals.tax_inclusive is not None:
        received = sum((advance.amount for advance in pl.partial_advances), ZERO)
        if received != totals.tax_inclusive:
            yield finding(
                "PL-ZAL-04",
                _("The advance payments must add up to the total due: %(received)s.", received=received),
                "ZaliczkaCzesciowa",
                ADVICE,
            )


@rule("PL-ROZ-01")
def settlement_invoice(invoice, facts):
    pl = pl_invoice(invoice)
    if pl.kind == ROZ and not pl.advance_invoices:
        yield finding(
            "PL-ROZ-01",
            _("A settlement invoice must name the advance invoices it settles."),
            "FakturaZaliczkowa",
            LAW,
        )
    for index, advance in enumerate(pl.advance_invoices, 1):
        if advance.ksef_number is not None and not KSEF_NUMBER.fullmatch(advance.ksef_number):
            yield finding(
                "PL-ROZ-01",
                _("%(number)s is not a KSeF number.", number=advance.ksef_number),
                f"FakturaZaliczkowa[{index}]",
            )
        elif advance.ksef_number is None and not advance.number:
            yield finding(
                "PL-ROZ-01",
                _("An advance invoice issued outside KSeF needs its number."),
                f"FakturaZaliczkowa[{index}]",
            )


@rule("PL-ROZL")
def settlement(invoice, facts):
    pl, totals = pl_invoice(invoice), invoice.totals
    settlement = pl.settlement
    if settlement is None or totals is None or totals.tax_inclusive is None:
        return
    if any(item.amount is None for item in settlement.charges + settlement.deductions):
        return  # PL-REQ-05
    charges = sum((item.amount for item in settlement.charges), ZERO)
    deductions = sum((item.amount for item in settlement.deductions), ZERO)
    balance = totals.tax_inclusive + charges - deductions
    expected_due, expected_to_settle = (balance, None) if balance >= 0 else (None, -balance)
    if (settlement.due, settlement.to_settle) != (expected_due, expected_to_settle) and not (
        settlement.due is None and settlement.to_settle is None
    ):
        amount = expected_due if expected_due is not None else expected_to_settle
        yield finding(
            "PL-ROZL",
            _("After charges and deductions the amount left is %(amount)s.", amount=money_text(amount)),
            "Rozliczenie",
            ADVICE,
        )
