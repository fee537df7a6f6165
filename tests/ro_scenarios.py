"""Generated Romanian invoices: one scenario per feature of the model, and their combinations.

Each scenario is a function returning an outgoing invoice built with ``Invoice.build``; the tests render each one as
CIUS-RO and hold the result against the UBL schema, ANAF's official rules and our own checks.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from einvoice.model import (
    Address,
    AllowanceCharge,
    Attachment,
    Classification,
    Contact,
    Delivery,
    Identifier,
    Invoice,
    Line,
    Note,
    Party,
    PaymentMeans,
    PrecedingInvoice,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SELLER = Party(
    name="Alfa Distributie SRL",
    vat_id="RO18547290",
    legal_id=Identifier("J40/12345/2015"),
    address=Address("RO", "Strada Lunga 10", city="SECTOR3", postal_code="030167", subdivision="RO-B"),
    contact=Contact("Ana Pop", "+40 21 300 1234", "facturi@alfa.ro"),
)
BUYER = Party(
    name="Beta Constructii SA",
    vat_id="RO14399840",
    legal_id=Identifier("J12/3456/2010"),
    address=Address("RO", "Bulevardul Eroilor 5", city="Cluj-Napoca", postal_code="400129", subdivision="RO-CJ"),
)
IBAN = PaymentMeans(
    "30", account_id="RO49AAAA1B31007593840000", account_name="Alfa Distributie SRL", bank_id="BTRLRO22"
)


def line(number, quantity="2", price="100.00", category="S", rate="21", unit="H87", **fields):
    quantity, price = D(quantity), D(price)
    net = (quantity * price).quantize(D("0.01"))
    net -= sum((item.amount for item in fields.get("allowances_charges", ()) if not item.charge), D(0))
    net += sum((item.amount for item in fields.get("allowances_charges", ()) if item.charge), D(0))
    rate = None if rate is None else D(rate)
    fields.setdefault("item_name", f"Articol {number}")
    return Line(str(number), quantity, unit, net, price, vat_category=category, vat_rate=rate, **fields)


def build(lines=None, **fields):
    fields.setdefault("number", "ALF-2026-0001")
    fields.setdefault("issue_date", date(2026, 11, 20))
    fields.setdefault("type_code", "380")
    fields.setdefault("currency", "RON")
    fields.setdefault("seller", SELLER)
    fields.setdefault("buyer", BUYER)
    fields.setdefault("due_date", date(2026, 12, 20))
    fields.setdefault("payment_means", (IBAN,))
    return Invoice.build(lines=lines or [line(1)], **fields)


def exempt(category, reason, code):
    return {category: (reason, code)}


SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


@scenario
def simple_invoice():
    return build()


@scenario
def several_lines_and_rates():
    return build([line(1, rate="21"), line(2, "3", "19.99", rate="11"), line(3, "1", "5000.00", rate="9")])


@scenario
def reduced_rate_only():
    return build([line(1, "10", "4.50", rate="11", unit="KGM")])


@scenario
def zero_rated():
    return build([line(1, category="Z", rate="0")])


@scenario
def exempt_with_reason():
    return build(
        [line(1, category="E", rate="0")],
        exemptions=exempt("E", "Scutit conform art. 292 alin. (2) lit. a) Cod fiscal", None),
    )


@scenario
def exempt_with_code():
    return build([line(1, category="E", rate="0")], exemptions=exempt("E", None, "VATEX-EU-132"))


@scenario
def reverse_charge():
    return build([line(1, category="AE", rate="0")], exemptions=exempt("AE", "Taxare inversa", "VATEX-EU-AE"))


@scenario
def intra_community_supply():
    buyer = Party(
        name="Gamma GmbH",
        vat_id="DE123456789",
        address=Address("DE", "Hauptstrasse 1", city="Berlin", postal_code="10115"),
    )
    delivery = Delivery(
        date=date(2026, 11, 18),
        address=Address("DE", "Lagerweg 3", city="Berlin", postal_code="10117", subdivision="DE-BE"),
    )
    return build(
        [line(1, category="K", rate="0")],
        buyer=buyer,
        delivery=delivery,
        exemptions=exempt("K", "Livrare intracomunitara scutita", "VATEX-EU-IC"),
    )


@scenario
def export_outside_the_eu():
    buyer = Party(
        name="Delta Inc.", legal_id=Identifier("98-7654321"), address=Address("US", "1 Main St", city="Boston")
    )
    return build(
        [line(1, category="G", rate="0")],
        buyer=buyer,
        currency="USD",
        tax_currency="RON",
        tax_total_accounting=D("0"),
        exemptions=exempt("G", "Export", "VATEX-EU-G"),
    )


@scenario
def outside_the_scope_of_vat():
    seller = replace(SELLER, vat_id=None, tax_registration_id=None)
    buyer = replace(BUYER, vat_id=None)
    return build(
        [line(1, category="O", rate=None)],
        seller=seller,
        buyer=buyer,
        exemptions=exempt("O", "Operatiune in afara sferei TVA", "VATEX-EU-O"),
    )


@scenario
def mixed_categories():
    return build(
        [line(1), line(2, category="Z", rate="0"), line(3, category="E", rate="0")],
        exemptions=exempt("E", "Scutit", None),
    )


@scenario
def seller_not_registered_for_vat():
    seller = replace(SELLER, vat_id=None, tax_registration_id="18547290")
    return build([line(1, category="E", rate="0")], seller=seller, exemptions=exempt("E", "Neplatitor de TVA", None))


@scenario
def buyer_without_vat_prefix_registered_by_cui():
    buyer = replace(BUYER, vat_id=None, legal_id=Identifier("14399840"))
    return build(buyer=buyer)


@scenario
def individual_buyer_with_cnp():
    buyer = Party(name="Ion Popescu", legal_id=Identifier("1800101221144"), address=BUYER.address)
    return build(buyer=buyer)


@scenario
def individual_buyer_without_cnp():
    buyer = Party(name="Maria Ionescu", legal_id=Identifier("0000000000000"), address=BUYER.address)
    return build(buyer=buyer)


@scenario
def bucharest_sectors():
    address = Address("RO", "Calea Victoriei 1", city="SECTOR1", subdivision="RO-B")
    return build(buyer=replace(BUYER, address=address))


@scenario
def every_county():
    from einvoice.ro.codes import COUNTY_CODES

    lines = []
    for number, county in enumerate(sorted(COUNTY_CODES - {"RO-B"}), start=1):
        lines.append(line(number, "1", "10.00", item_name=f"Livrare {county}"))
    return build(lines)


@scenario
def credit_note():
    return build(
        type_code="381",
        preceding_invoices=(PrecedingInvoice("ALF-2026-0001", date(2026, 11, 20)),),
        number="ALF-CN-2026-0001",
    )


@scenario
def credit_note_as_negative_invoice():
    return credit_note()  # written with credit_note_as_invoice=True


@scenario
def corrected_invoice():
    return build(type_code="384", preceding_invoices=(PrecedingInvoice("ALF-2026-0001", date(2026, 11, 20)),))


@scenario
def self_billing():
    return build(type_code="389", notes=(Note("Autofactura emisa de beneficiar in numele furnizorului"),))


@scenario
def accounting_information_invoice():
    return build(type_code="751")


@scenario
def foreign_currency_with_ron_vat():
    invoice = build([line(1, "5", "120.00")], currency="EUR", tax_currency="RON")
    return Invoice.build(
        lines=invoice.lines,
        tax_total_accounting=invoice.totals.tax_total * D("4.9771"),
        **_header(invoice),
    )


@scenario
def line_allowance_and_charge():
    items = (
        AllowanceCharge(
            False, D("20.00"), base_amount=D("200.00"), percent=D("10"), reason="Discount", reason_code="95"
        ),
        AllowanceCharge(True, D("5.00"), reason="Ambalare", reason_code="ABL"),
    )
    return build([line(1, allowances_charges=items), line(2)])


@scenario
def document_allowance():
    allowance = AllowanceCharge(
        False, D("15.00"), reason="Discount comercial", reason_code="95", vat_category="S", vat_rate=D("21")
    )
    return build(allowances_charges=[allowance])


@scenario
def document_charge():
    charge = AllowanceCharge(True, D("30.00"), reason="Transport", reason_code="FC", vat_category="S", vat_rate=D("21"))
    return build(allowances_charges=[charge])


@scenario
def prepaid_amount():
    return build(prepaid=D("100.00"))


@scenario
def rounding_amount():
    return build([line(1, "3", "33.33")], rounding=D("0.01"))


@scenario
def fully_prepaid_without_due_date():
    invoice = build(due_date=None, payment_means=())
    return Invoice.build(lines=invoice.lines, prepaid=invoice.totals.tax_inclusive, **_header(invoice))


@scenario
def payment_terms_instead_of_due_date():
    return build(due_date=None, payment_terms="Plata in 30 de zile de la receptie")


@scenario
def several_bank_accounts():
    second = PaymentMeans("30", account_id="RO09BCYP0000001234567890", account_name="Alfa Distributie SRL")
    return build(
        payment_means=(
            replace(IBAN, text="Transfer bancar", payment_id="ALF-2026-0001"),
            replace(second, payment_id="ALF-2026-0001"),
        )
    )


@scenario
def card_payment():
    return build(payment_means=(PaymentMeans("48", text="Card bancar", card_pan="1234", card_holder="Ion Popescu"),))


@scenario
def cash_payment():
    return build(payment_means=(PaymentMeans("10", text="Numerar"),))


@scenario
def direct_debit():
    return build(payment_means=(PaymentMeans("49", mandate_id="MANDAT-7", debited_account="RO66BACX0000001234567890"),))


@scenario
def units_of_measure():
    units = ["H87", "C62", "KGM", "LTR", "MTR", "MTK", "HUR", "DAY", "MON", "KWH", "SET", "TNE"]
    return build([line(number, "1.5", "10.00", unit=unit) for number, unit in enumerate(units, start=1)])


@scenario
def item_identification_and_classification():
    item = line(
        1,
        seller_item_id="ALF-SKU-42",
        buyer_item_id="BETA-77",
        standard_id=Identifier("5941234567890", "0160"),
        classifications=(Classification("03222000-3", "STI"), Classification("08055010", "TSP")),
        origin_country="RO",
        attributes=(("Culoare", "rosu"), ("Marime", "XL")),
        description="Portocale de calitate I",
    )
    return build([item])


@scenario
def base_quantity_and_gross_price():
    item = replace(
        line(1, "10", "2.50"),
        base_quantity=D("1"),
        base_unit_code="H87",
        gross_price=D("3.00"),
        price_discount=D("0.50"),
    )
    return build([item])


@scenario
def notes_and_references():
    return build(
        notes=(Note("Va multumim!"), Note("Marfa ramane proprietatea furnizorului pana la plata integrala", "AAI")),
        buyer_reference="BETA-REF-9",
        order_ref="PO-2026-554",
        sales_order_ref="SO-1881",
        contract_ref="CTR-12/2026",
        despatch_advice_ref="AVZ-0098",
        receiving_advice_ref="NIR-4411",
        tender_ref="LOT-3",
        project_ref="PRJ-EXT-1",
        buyer_accounting_ref="6022",
    )


@scenario
def invoicing_period_and_tax_point():
    return build(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), tax_point_code="35")


@scenario
def tax_point_date():
    return build(tax_point_date=date(2026, 11, 19))


@scenario
def delivery_details():
    delivery = Delivery(
        party_name="Santier Beta Floresti",
        location_id=Identifier("5940000000017", "0088"),
        date=date(2026, 11, 19),
        address=Address("RO", "Strada Avram Iancu 2", city="Floresti", postal_code="407280", subdivision="RO-CJ"),
    )
    return build(delivery=delivery)


@scenario
def payee_different_from_seller():
    payee = Party(
        name="Factoring Capital IFN SA", legal_id=Identifier("J40/999/2012"), identifiers=(Identifier("FACT-1"),)
    )
    return build(payee=payee)


@scenario
def seller_tax_representative():
    seller = Party(
        name="Epsilon Ltd",
        vat_id="GB123456789",
        legal_id=Identifier("01234567"),
        address=Address("GB", "1 High St", city="London"),
    )
    representative = Party(
        name="Reprezentant Fiscal SRL",
        vat_id="RO30000000",
        address=Address("RO", "Strada Mica 3", city="Iasi", subdivision="RO-IS"),
    )
    return build(seller=seller, tax_representative=representative)


@scenario
def embedded_pdf():
    attachment = Attachment(
        "ALF-2026-0001.pdf",
        "Factura in format PDF",
        content=PDF,
        mime_code="application/pdf",
        filename="ALF-2026-0001.pdf",
    )
    return build(attachments=(attachment,))


@scenario
def external_attachment():
    return build(attachments=(Attachment("TIMESHEET-11", "Pontaj", uri="https://alfa.ro/docs/pontaj-11.pdf"),))


@scenario
def invoiced_object():
    return build(invoiced_object=Identifier("CONTOR-123", "AAA"))


@scenario
def line_details():
    item = line(
        1,
        note="Livrat partial",
        order_line_ref="3",
        accounting_ref="6028",
        object_id=Identifier("CONTOR-7", "AAA"),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 15),
    )
    return build([item])


@scenario
def long_item_name_and_note():
    name = "Set complet de scule profesionale " * 4
    return build([line(1, item_name=name.strip())], notes=(Note("Observatie importanta. " * 20),))


@scenario
def endpoint_and_party_identifiers():
    seller = replace(
        SELLER,
        endpoint=Identifier("RO18547290", "9947"),
        identifiers=(Identifier("ALFA-GLN", "0088"),),
        trading_name="Alfa",
    )
    return build(seller=seller, buyer=replace(BUYER, endpoint=Identifier("RO14399840", "9947"), trading_name="Beta"))


@scenario
def negative_quantity_line():
    return build([line(1, "5"), line(2, "-1", "100.00", item_name="Retur ambalaj")])


# Advance invoices. CIUS-RO has no advance invoice type: BR-RO-020 allows only 380, 384, 389 and 751 (UNTDID 386
# "prepayment invoice" is refused), so an advance invoice is an ordinary 380 invoice for the advance received. The
# final invoice deducts it as a line of negative quantity at a positive price (BR-27: prices are never negative),
# at the VAT rate of the advance, so the VAT breakdown states the VAT still due; it names the advance invoice (BG-3)
# as Romanian practice requires the number and date of the advance invoice. PrepaidAmount (BT-113) is not used:
# it lowers the amount due but not the VAT, and the advance's VAT was already declared on the advance invoice.
ADVANCE = PrecedingInvoice("ALF-2026-0010", date(2026, 11, 2))


@scenario
def advance_invoice():
    return build(
        [line(1, "1", "300.00", item_name="Avans 30% conform comenzii 12")],
        number=ADVANCE.number,
        issue_date=ADVANCE.issue_date,
    )


@scenario
def final_invoice_deducting_an_advance():
    deduction = line(2, "-1", "300.00", item_name=f"Stornare avans {ADVANCE.number} din 02.11.2026")
    return build([line(1, "10", "100.00"), deduction], preceding_invoices=(ADVANCE,))


@scenario
def final_invoice_deducting_an_advance_at_a_former_rate():
    """The advance was invoiced at 19 % before the rate changed: it is deducted at 19 %, the delivery bears 21 %."""
    deduction = line(2, "-1", "300.00", rate="19", item_name=f"Stornare avans {ADVANCE.number}")
    return build([line(1, "10", "100.00"), deduction], preceding_invoices=(ADVANCE,))


@scenario
def final_invoice_fully_paid_by_advances():
    second = PrecedingInvoice("ALF-2026-0011", date(2026, 11, 9))
    deductions = [
        line(2, "-1", "300.00", item_name=f"Stornare avans {ADVANCE.number}"),
        line(3, "-1", "700.00", item_name=f"Stornare avans {second.number}"),
    ]
    return build([line(1, "10", "100.00"), *deductions], preceding_invoices=(ADVANCE, second), due_date=None)


@scenario
def foreign_currency_credit_note_with_everything():
    base = foreign_currency_with_ron_vat()
    return replace(
        base,
        type_code="381",
        number="ALF-CN-EUR-1",
        preceding_invoices=(PrecedingInvoice("ALF-2026-0001"),),
    )


@scenario
def two_hundred_lines():
    return build([line(number, "1", f"{number}.25", rate="21" if number % 3 else "11") for number in range(1, 201)])


def _header(invoice):
    """The fields of ``invoice`` that ``Invoice.build`` does not compute."""
    computed = {"lines", "allowances_charges", "vat_breakdown", "totals", "extensions"}
    return {name: getattr(invoice, name) for name in invoice.__dataclass_fields__ if name not in computed}


CREDIT_NOTE_AS_INVOICE = {"credit_note_as_negative_invoice"}


# -- stress documents: each breaks one kind of rule everywhere at once --------------------------------------------


def too_long(limit):
    return "A" * (limit + 1)


def every_text_too_long():
    """Every length-limited text one character over ANAF's limit (written as is, without fitting)."""
    address = Address(
        "RO", too_long(150), too_long(100), too_long(100), too_long(50), too_long(20), subdivision="RO-CJ"
    )
    contact = Contact(too_long(100), too_long(100), too_long(100))
    seller = replace(
        SELLER,
        name=too_long(200),
        trading_name=too_long(200),
        legal_form=too_long(1000),
        address=address,
        contact=contact,
    )
    buyer = replace(BUYER, name=too_long(200), trading_name=too_long(200), address=address, contact=contact)
    representative = Party(name=too_long(200), vat_id="RO30000000", address=address)
    allowances = (
        AllowanceCharge(False, D("1.00"), reason="x", reason_code=too_long(100), vat_category="S", vat_rate=D("21")),
        AllowanceCharge(True, D("1.00"), reason="x", reason_code=too_long(100), vat_category="S", vat_rate=D("21")),
    )
    line_items = (
        AllowanceCharge(False, D("1.00"), reason=too_long(100)),
        AllowanceCharge(True, D("1.00"), reason=too_long(100)),
    )
    item = line(
        1,
        item_name=too_long(100),
        description=too_long(200),
        note=too_long(300),
        accounting_ref=too_long(100),
        attributes=((too_long(50), too_long(100)),),
        allowances_charges=line_items,
    )
    means = PaymentMeans(
        "30",
        text=too_long(100),
        payment_id=too_long(140),
        account_id="RO49AAAA1B31007593840000",
        account_name=too_long(200),
    )
    card = PaymentMeans("30", card_pan="1234", card_holder=too_long(200), account_id="RO49AAAA1B31007593840000")
    attachment = Attachment(too_long(200), too_long(100), uri=too_long(200), content=PDF, filename=too_long(200))
    return build(
        [item],
        number="1" + too_long(200),
        seller=seller,
        buyer=buyer,
        tax_representative=representative,
        payee=Party(name=too_long(200)),
        delivery=Delivery(party_name=too_long(200), address=address),
        payment_means=(means, card),
        payment_terms=too_long(300),
        contract_ref=too_long(200),
        order_ref=too_long(200),
        sales_order_ref=too_long(200),
        receiving_advice_ref=too_long(200),
        despatch_advice_ref=too_long(200),
        tender_ref=too_long(200),
        buyer_accounting_ref=too_long(100),
        notes=tuple(Note(too_long(300)) for _ in range(21)),
        preceding_invoices=(PrecedingInvoice(too_long(200)),),
        attachments=(attachment,),
        allowances_charges=allowances,
    )


def every_amount_with_three_decimals():
    """An invoice whose XML declares every amount with three decimals (as a careless generator would write it):
    the writer always writes two, so the amounts are widened in the XML itself."""
    import re

    from einvoice import ubl
    from einvoice.ro.codes import CIUS_RO_ID

    line_items = (
        AllowanceCharge(False, D("1.00"), D("10.00"), reason="x"),
        AllowanceCharge(True, D("1.00"), D("10.00"), reason="y"),
    )
    invoice = build(
        [line(1, allowances_charges=line_items)],
        allowances_charges=(
            AllowanceCharge(False, D("1.00"), D("10.00"), reason="x", vat_category="S", vat_rate=D("21")),
            AllowanceCharge(True, D("1.00"), D("10.00"), reason="y", vat_category="S", vat_rate=D("21")),
        ),
        prepaid=D("1.00"),
        rounding=D("0.00"),
    )
    xml = ubl.write(replace(invoice, customization_id=CIUS_RO_ID))
    return re.sub(rb'(currencyID="RON">-?[0-9]+[.][0-9]{2})<', rb"\g<1>0<", xml)


NO_SECTOR = Address("RO", "Strada X 1", city="Bucuresti", subdivision="RO-B")
NO_COUNTY = Address("RO", "Strada Y 2", city="Cluj-Napoca", subdivision="CJ")


def every_address_wrong(swap=False):
    """Bucharest without a sector and a county outside ISO 3166-2:RO, spread over every party and the delivery;
    ``swap`` exchanges them, so that together both variants break each address rule."""
    first, second = (NO_COUNTY, NO_SECTOR) if swap else (NO_SECTOR, NO_COUNTY)
    return build(
        seller=replace(SELLER, address=first),
        buyer=replace(BUYER, address=second),
        tax_representative=Party(name="Reprezentant", vat_id="RO30000000", address=first),
        delivery=Delivery(address=second),
    )
