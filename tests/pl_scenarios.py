"""Generated Polish invoices: one scenario per feature of FA(3) that the model carries, and their combinations.

Each scenario is a function returning an outgoing invoice built with ``Invoice.build``; the tests write each one as
FA(3), hold it against the official schema and our checks, and read it back.
"""

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal as D

from einvoice.model import (
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
)
from einvoice.pl.model import (
    EXEMPTION_ACT,
    EXEMPTION_DIRECTIVE,
    EXEMPTION_OTHER,
    KOR,
    KOR_ROZ,
    KOR_ZAL,
    MARGIN,
    NP_ART_100,
    ROLE_ADDITIONAL_BUYER,
    ROLE_FACTOR,
    ROLE_GV_RECIPIENT,
    ROLE_JST_RECIPIENT,
    ROLE_PAYER,
    ROLE_RECIPIENT,
    ROZ,
    UPR,
    ZAL,
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
)

GENERATED = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
SELLER = Party(
    name="Alfa Dystrybucja sp. z o.o.",
    vat_id="PL5260250274",
    address=Address("PL", "ul. Marszałkowska 10 lok. 4", city="Warszawa", postal_code="00-590"),
    contact=Contact(phone="+48 22 600 1234", email="faktury@alfa.pl"),
)
BUYER = Party(
    name="Beta Budownictwo S.A.",
    vat_id="PL7740001454",
    address=Address("PL", "ul. Długa 5", city="Kraków", postal_code="31-147"),
)
EU_BUYER = Party(
    name="Gamma GmbH", vat_id="DE811115368", address=Address("DE", "Hauptstraße 1", city="Berlin", postal_code="10115")
)
EXPORT_BUYER = Party(
    name="Delta Inc.", vat_id="US123456789", address=Address("US", "1 Main St", city="Boston", postal_code="02110")
)
CONSUMER = Party(name="Jan Kowalski", address=Address("PL", "ul. Polna 1", city="Łódź", postal_code="90-001"))
IBAN = PaymentMeans("30", account_id="PL61109010140000071219812874", bank_id="WBKPPLPP", account_name="rachunek PLN")
KSEF_NUMBER = "5260250274-20261015-0A1B2C3D4E5F-7A"
JST_UNIT = Party(
    name="Szkoła Podstawowa nr 1",
    vat_id="PL1132853869",
    address=Address("PL", "ul. Szkolna 2", city="Radom", postal_code="26-600"),
)


def line(number, quantity="2", price="100.00", category="S", rate="23", unit="szt.", **fields):
    quantity, price = D(quantity), D(price)
    net = fields.pop("net", None)
    net = (quantity * price).quantize(D("0.01")) if net is None else D(net)
    rate = None if rate is None else D(rate)
    fields.setdefault("item_name", f"Towar {number}")
    return Line(str(number), quantity, unit, net, price, vat_category=category, vat_rate=rate, **fields)


def pl_line(number, extension, **fields):
    return line(number, extensions={"pl": extension}, **fields)


def build(lines=None, pl=None, **fields):
    fields.setdefault("number", "FV/2026/11/0001")
    fields.setdefault("issue_date", date(2026, 11, 20))
    fields.setdefault("type_code", "380")
    fields.setdefault("currency", "PLN")
    fields.setdefault("seller", SELLER)
    fields.setdefault("buyer", BUYER)
    fields.setdefault("due_date", date(2026, 12, 4))
    fields.setdefault("payment_means", (IBAN,))
    extension = replace(pl or PlInvoice(), generated_at=GENERATED)
    return Invoice.build(lines=lines or [line(1)], extensions={"pl": extension}, **fields)


SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


# -- rates and markers -------------------------------------------------------------------------------------------


def _rate_scenario(name, rate):
    def make():
        return build([line(1, rate=rate), line(2, quantity="3", price="33.33", rate=rate)])

    make.__name__ = name
    scenario(make)


for _rate in ("23", "22", "8", "7", "5", "4", "3"):
    _rate_scenario(f"standard_rate_{_rate}", _rate)


@scenario
def all_standard_rates_together():
    return build([line(number, rate=rate) for number, rate in enumerate(("23", "8", "5", "4"), 1)])


@scenario
def zero_rate_domestic():
    return build([line(1, category="Z", rate="0"), line(2)])


@scenario
def zero_rate_intra_community_supply():
    return build([line(1, category="K", rate="0")], buyer=EU_BUYER, pl=PlInvoice(seller_eu_vat_prefix=True))


@scenario
def zero_rate_export():
    return build([line(1, category="G", rate="0")], buyer=EXPORT_BUYER)


@scenario
def zero_rates_domestic_intra_community_and_export_together():
    """P_13_6_1, P_13_6_2 and P_13_6_3 in one invoice, with a taxed line."""
    return build(
        [line(1, category="Z", rate="0"), line(2, category="K", rate="0"), line(3, category="G", rate="0"), line(4)],
        buyer=EU_BUYER,
    )


def _exempt(name, basis, text):
    def make():
        return build([line(1, category="E", rate="0"), line(2)], pl=PlInvoice(exemption_basis=(basis, text)))

    make.__name__ = name
    scenario(make)


_exempt("exempt_under_the_vat_act", EXEMPTION_ACT, "art. 43 ust. 1 pkt 37 ustawy o VAT")
_exempt("exempt_under_the_directive", EXEMPTION_DIRECTIVE, "art. 135 ust. 1 lit. a dyrektywy 2006/112/WE")
_exempt("exempt_on_another_basis", EXEMPTION_OTHER, "§ 3 ust. 1 pkt 1 rozporządzenia MF")


@scenario
def domestic_reverse_charge():
    return build([line(1, category="AE", rate="0")])


@scenario
def outside_the_country():
    return build([line(1, category="O", rate=None)], buyer=EXPORT_BUYER)


@scenario
def services_art_100():
    return build(
        [pl_line(1, PlLine(rate_code=NP_ART_100), category="O", rate=None), line(2, category="O", rate=None)],
        buyer=EU_BUYER,
    )


@scenario
def margin_second_hand_goods():
    return build(
        [pl_line(1, PlLine(rate_code=MARGIN, gtu="GTU_07"), quantity="1", price="15000", category="E", rate="0")],
        pl=PlInvoice(margin_scheme="P_PMarzy_3_1"),
    )


@scenario
def margin_travel_agency():
    return build(
        [pl_line(1, PlLine(rate_code=MARGIN), quantity="1", price="4200", category="E", rate="0")],
        pl=PlInvoice(margin_scheme="P_PMarzy_2"),
    )


def _margin_scenario(name, scheme):
    def make():
        margin = pl_line(1, PlLine(rate_code=MARGIN), quantity="1", price="8000", category="E", rate="0")
        return build([margin, line(2)], pl=PlInvoice(margin_scheme=scheme))

    make.__name__ = name
    scenario(make)


# with a line taxed as usual beside the margin line
_margin_scenario("margin_works_of_art", "P_PMarzy_3_2")
_margin_scenario("margin_collectors_items_and_antiques", "P_PMarzy_3_3")


@scenario
def split_payment_with_annex_15():
    return build(
        [pl_line(1, PlLine(annex_15=True, gtu="GTU_06"), quantity="10", price="2000")],
        pl=PlInvoice(split_payment=True),
    )


@scenario
def cash_accounting():
    return build(pl=PlInvoice(cash_accounting=True))


@scenario
def self_billing():
    return build(type_code="389")


@scenario
def simplified_triangular_procedure():
    return build([line(1, category="O", rate=None)], buyer=EU_BUYER, pl=PlInvoice(simplified_triangular=True))


@scenario
def intra_community_services_reverse_charge():
    return build([line(1, category="AE", rate="0", item_name="usługa doradcza")], buyer=EU_BUYER)


@scenario
def gtu_and_procedure_markers():
    return build(
        [
            pl_line(1, PlLine(gtu="GTU_01", pkwiu="11.01.10.0")),
            pl_line(2, PlLine(gtu="GTU_12", procedure="TT_D", cn="2203 00 01")),
            pl_line(3, PlLine(procedure="B_SPV", pkob="1122")),
        ]
    )


@scenario
def line_details():
    return build(
        [
            pl_line(
                1,
                PlLine(uuid="a1b2c3", supply_date=date(2026, 11, 18), tax_amount=D("46.00")),
                seller_item_id="IDX-1",
                standard_id=Identifier("5901234123457", "0160"),
                price_discount=D("10.00"),
            ),
            pl_line(2, PlLine(excise_amount=D("12.50"), gross_price=D("123.00"), gross_amount=D("246.00"))),
        ]
    )


def gross_line(number, quantity, gross_price, rate="23", **fields):
    """A line priced with VAT, as Odoo holds a price-included tax: the unit price and the value with VAT (P_9B,
    P_11A), and the net value the VAT is taken out of, rounded per line (art. 106e ust. 7 and 8)."""
    quantity, gross_price = D(quantity), D(gross_price)
    gross = (quantity * gross_price).quantize(D("0.01"))
    net = (gross * 100 / (100 + D(rate))).quantize(D("0.01"))
    extension = PlLine(gross_price=gross_price, gross_amount=gross)
    return Line(
        str(number),
        quantity,
        "szt.",
        net,
        item_name=f"Towar {number}",
        vat_category="S",
        vat_rate=D(rate),
        extensions={"pl": extension},
        **fields,
    )


@scenario
def gross_priced_lines():
    """Odoo's price-included taxes: every line priced with VAT; its VAT is the gross value less the net."""
    lines = [gross_line(1, "3", "123.00"), gross_line(2, "1", "99.99", rate="8"), gross_line(3, "7", "0.99")]
    tax = {}
    for item in lines:
        key = ("S", item.vat_rate)
        tax[key] = tax.get(key, D(0)) + item.extensions["pl"].gross_amount - item.net_amount
    return build(lines, tax_amounts=tax)


@scenario
def gross_only_lines():
    """Lines that state only their value with VAT (P_11A, no P_11), as the Ministry's example 19: the rate group's
    VAT is taken out of its gross sum, and its net is what is left."""
    gross = {"23": D("1000.00"), "8": D("54.00")}
    lines = (
        replace(gross_line(1, "1", gross["23"]), net_amount=None),
        replace(gross_line(2, "2", "27.00", rate="8"), net_amount=None),
    )
    breakdown = []
    for rate, amount in gross.items():
        tax = (amount * D(rate) / (100 + D(rate))).quantize(D("0.01"))
        breakdown.append(VatBreakdown("S", D(rate), amount - tax, tax))
    total = sum(gross.values(), D(0))
    return replace(
        build(),
        lines=lines,
        vat_breakdown=tuple(breakdown),
        totals=Totals(
            tax_exclusive=sum((vat.taxable_amount for vat in breakdown), D(0)),
            tax_inclusive=total,
            payable=total,
            tax_total=sum((vat.tax_amount for vat in breakdown), D(0)),
        ),
    )


@scenario
def foreign_currency_with_exchange_rate():
    return build([line(1, price="250.00"), line(2, rate="8")], currency="EUR", pl=PlInvoice(exchange_rate=D("4.2537")))


@scenario
def foreign_currency_with_a_rate_per_line():
    """Lines supplied on different days, each at its day's exchange rate (KursWaluty), as the Ministry's example
    21; the VAT in PLN is then stated (P_14_1W), not derived."""
    lines = [
        pl_line(number, PlLine(exchange_rate=D(rate), supply_date=date(2026, 11, day)), price="1000.00")
        for number, (rate, day) in enumerate((("4.4080", 3), ("4.5005", 10), ("4.3250", 17)), 1)
    ]
    return build(
        lines, currency="EUR", pl=PlInvoice(vat_in_pln=(("1", D("6087.41")),))
    )  # 460 EUR x (4.4080 + 4.5005 + 4.3250)


@scenario
def foreign_currency_zero_rated_needs_no_rate():
    return build([line(1, category="K", rate="0")], currency="EUR", buyer=EU_BUYER)


# -- parties -----------------------------------------------------------------------------------------------------


@scenario
def consumer_without_tax_id():
    return build(buyer=CONSUMER, payment_means=(), due_date=None, pl=PlInvoice(paid_on=date(2026, 11, 20)))


@scenario
def third_parties_with_roles():
    factor = Party(
        name="Faktor S.A.",
        vat_id="PL5213017228",
        address=Address("PL", "ul. Bankowa 1", city="Łódź", postal_code="90-003"),
    )
    payer = Party(name="Płatnik sp. z o.o.", vat_id="PL1182000212")
    other = Party(name="Kontrahent", legal_id=Identifier("X-778"))
    return build(
        pl=PlInvoice(
            third_parties=(
                ThirdParty(factor, ROLE_FACTOR),
                ThirdParty(payer, ROLE_PAYER, customer_number="K-12"),
                ThirdParty(BUYER, ROLE_RECIPIENT),
                ThirdParty(CONSUMER, ROLE_ADDITIONAL_BUYER, share=D("50")),
                ThirdParty(other, other_role="agent rozliczeniowy"),
            ),
            # the neutral address has no GLN: the Polish extension holds it by party
            address_gln=(("Podmiot1", "5901234123457"), ("Podmiot2", "5909876543210"), ("Podmiot3[1]", "59012341")),
        )
    )


@scenario
def jst_unit():
    return build(pl=PlInvoice(jst=True, third_parties=(ThirdParty(JST_UNIT, ROLE_JST_RECIPIENT, internal_id=None),)))


@scenario
def vat_group_member():
    member = Party(
        name="Członek grupy VAT", address=Address("PL", "ul. Grupowa 3", city="Gdańsk", postal_code="80-001")
    )
    return build(
        pl=PlInvoice(gv=True, third_parties=(ThirdParty(member, ROLE_GV_RECIPIENT, internal_id="7740001454-00001"),))
    )


# -- kinds -------------------------------------------------------------------------------------------------------


def _correction(**fields):
    fields.setdefault("invoices", (CorrectedInvoice("FV/2026/10/0007", date(2026, 10, 15), KSEF_NUMBER),))
    fields.setdefault("reason", "obniżka ceny")
    fields.setdefault("effect", 2)
    return Correction(**fields)


@scenario
def correction_with_ksef_number():
    before = pl_line(1, PlLine(before=True), quantity="-1", price="1626.01", net="-1626.01")
    after = line(1, quantity="1", price="1463.41")
    return build([before, after], type_code="384", pl=PlInvoice(kind=KOR, correction=_correction()))


@scenario
def correction_of_invoice_issued_outside_ksef():
    corrected = CorrectedInvoice("FV/2025/12/0099", date(2025, 12, 30))
    return build(
        [line(1, quantity="-1", price="200.00")],
        type_code="384",
        pl=PlInvoice(kind=KOR, correction=_correction(invoices=(corrected,), effect=1)),
    )


@scenario
def correction_of_buyer_data_and_period_discount():
    old_buyer = PartyBefore(replace(BUYER, name="Beta Bud S.A."), buyer_key="0001")
    corrected = (
        CorrectedInvoice("FV/2026/07/0001", date(2026, 7, 10), KSEF_NUMBER),
        CorrectedInvoice("FV/2026/08/0001", date(2026, 8, 10)),
    )
    correction = _correction(invoices=corrected, period="III kwartał 2026", buyers_before=(old_buyer,), effect=3)
    return build(
        [line(1, quantity="1", price="-5000.00", item_name="rabat za III kwartał")],
        type_code="384",
        pl=PlInvoice(kind=KOR, correction=correction),
    )


@scenario
def correction_of_seller_data_and_number():
    old_seller = PartyBefore(replace(SELLER, name="Alfa Dystrybucja sp.j.", contact=None))
    correction = _correction(seller_before=old_seller, corrected_number="FV/2026/10/0007A", effect=1)
    return build([line(1, quantity="-1", price="0.01")], type_code="384", pl=PlInvoice(kind=KOR, correction=correction))


ORDER = Order(
    D("12300.00"),
    (
        OrderLine(1, "dom drewniany", D("1"), "szt.", D("8000"), D("8000.00"), D("1840.00"), "23", uuid="z-1"),
        OrderLine(2, "montaż", D("1"), "usł.", D("2000"), D("2000.00"), D("460.00"), "23", gtu="GTU_10"),
    ),
)


def _advance_line():
    return line(1, quantity="1", price="2000.00", item_name="zaliczka")


@scenario
def advance_invoice():
    return build([_advance_line()], type_code="386", pl=PlInvoice(kind=ZAL, order=ORDER, paid_on=date(2026, 11, 19)))


@scenario
def advance_invoice_with_partial_payments():
    advances = (PartialAdvance(date(2026, 11, 10), D("1000.00")), PartialAdvance(date(2026, 11, 15), D("1460.00")))
    return build([_advance_line()], type_code="386", pl=PlInvoice(kind=ZAL, order=ORDER, partial_advances=advances))


@scenario
def advance_invoice_in_foreign_currency():
    return build(
        [_advance_line()], type_code="386", currency="EUR", pl=PlInvoice(kind=ZAL, order=ORDER, exchange_rate=D("4.25"))
    )


@scenario
def advance_invoice_correction():
    order = replace(
        ORDER,
        value=D("13530.00"),
        lines=(
            replace(ORDER.lines[0], before=True),
            replace(ORDER.lines[0], price=D("9000"), net_amount=D("9000.00"), tax_amount=D("2070.00")),
            ORDER.lines[1],
        ),
    )
    correction = _correction(advance_before=D("2460.00"))
    return build(
        [line(1, quantity="1", price="500.00", item_name="korekta zaliczki")],
        type_code="384",
        pl=PlInvoice(kind=KOR_ZAL, order=order, correction=correction),
    )


@scenario
def settlement_after_advances():
    advances = (AdvanceInvoice(ksef_number=KSEF_NUMBER), AdvanceInvoice(number="ZAL/2026/10/3"))
    lines = [line(1, quantity="1", price="10000.00"), line(2, quantity="-1", price="2000.00", item_name="zaliczka")]
    return build(lines, pl=PlInvoice(kind=ROZ, advance_invoices=advances))


@scenario
def settlement_correction():
    advances = (AdvanceInvoice(ksef_number=KSEF_NUMBER),)
    return build(
        [line(1, quantity="-1", price="300.00")],
        type_code="384",
        pl=PlInvoice(kind=KOR_ROZ, advance_invoices=advances, correction=_correction()),
    )


@scenario
def simplified_invoice():
    return build(
        [line(1, quantity="1", price="100.00")],
        buyer=Party(vat_id="PL7740001454"),
        pl=PlInvoice(kind=UPR),
    )


@scenario
def simplified_invoice_with_only_its_total():
    """A simplified invoice (art. 106e ust. 5 pkt 3) may name the goods and their rate and state only the total
    due, as the Ministry's example 16."""
    total = D("450.00")
    lines = (Line("1", item_name="wiertarka Wiertex mk5", vat_category="S", vat_rate=D("23")),)
    return replace(
        build(buyer=Party(vat_id="PL7740001454"), pl=PlInvoice(kind=UPR)),
        lines=lines,
        vat_breakdown=(),
        totals=Totals(tax_exclusive=D(0), tax_inclusive=total, payable=total, tax_total=D(0)),
    )


ATTACHMENT = (
    b'<Zalacznik xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"><BlokDanych>'
    b"<MetaDane><ZKlucz>Miejsce poboru energii</ZKlucz><ZWartosc>ul. Polna 1, 00-001 Warszawa</ZWartosc></MetaDane>"
    b"<MetaDane><ZKlucz>Grupa taryfowa</ZKlucz><ZWartosc>G11</ZWartosc></MetaDane>"
    b"</BlokDanych></Zalacznik>"
)


@scenario
def attachment_with_data_blocks():
    """Zalacznik, as the Ministry's examples 24 and 25: carried as it is in the Polish extension."""
    return build(pl=PlInvoice(attachment=ATTACHMENT))


# -- payment, terms, texts ---------------------------------------------------------------------------------------


@scenario
def paid_invoice():
    return build(pl=PlInvoice(paid_on=date(2026, 11, 20)), payment_means=(PaymentMeans("10"),), due_date=None)


@scenario
def partly_paid_with_terms():
    return build(
        pl=PlInvoice(
            partial_payments=(PartialPayment(D("100.00"), date(2026, 11, 20), 1),),
            payment_terms=(PaymentTerm(count=14, unit="dni", event="otrzymanie faktury"),),
        ),
        payment_means=(IBAN, PaymentMeans("30", account_id="PL27114020040000300201355387")),
    )


@scenario
def settlement_charges_and_deductions():
    settlement = Settlement(
        charges=(SettlementItem(D("20.00"), "opłata za opakowanie"),),
        deductions=(SettlementItem(D("46.00"), "nadpłata"),),
        due=D("220.00"),
    )
    return build(pl=PlInvoice(settlement=settlement))


@scenario
def texts_references_and_footer():
    return build(
        notes=(Note("Kapitał zakładowy 5 000 000 zł"), Note("Dziękujemy za zakupy")),
        order_ref="ZAM/55",
        contract_ref="UM/2026/3",
        delivery=Delivery(date=date(2026, 11, 18)),
        pl=PlInvoice(
            place_of_issue="Warszawa",
            wz_numbers=("WZ/2026/11/01", "WZ/2026/11/02"),
            order_date=date(2026, 11, 2),
            contract_date=date(2026, 1, 5),
            delivery_terms="CIP",
            batch_numbers=("PARTIA-7",),
            additional_info=(AdditionalInfo("godziny dostawy", "8-16"), AdditionalInfo("kolor", "biały", 1)),
            registries=(Registry(krs="0000099999", regon="012345678", bdo="000099999"),),
            buyer_customer_number="K-778",
            buyer_key="B-1",
            receipt_invoice=True,
            related_parties=True,
            seller_status=None,
        ),
    )


@scenario
def supply_period():
    return build(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31))


@scenario
def two_hundred_lines():
    rates = ("23", "8", "5")
    return build(
        [
            line(number, quantity=str(number % 7 + 1), price=f"{number}.99", rate=rates[number % 3])
            for number in range(1, 201)
        ]
    )


@scenario
def transport_factor_and_bank_details():
    carrier = Party(
        name="Trans sp. z o.o.",
        vat_id="PL5213017228",
        address=Address("PL", "ul. Bukowa 5", city="Poznań", postal_code="60-001"),
    )
    transport = Transport(
        kind=3,
        carrier=carrier,
        order_number="ZT/9",
        cargo=13,
        packaging="paleta",
        start=datetime(2026, 11, 18, 6, 0, tzinfo=timezone.utc),
        ship_from=SELLER.address,
        ship_via=(Address("PL", "ul. Tranzytowa 1", city="Łódź", postal_code="90-002"),),
        ship_to=BUYER.address,
    )
    other = Transport(other_kind="dron", other_cargo="koperta")
    return build(
        pl=PlInvoice(
            transports=(transport, other),
            bank_details=(BankAccount(IBAN.account_id, bank_name="Santander Bank Polska S.A.", own_bank_account=1),),
            factor_accounts=(
                BankAccount("PL27114020040000300201355387", bank_name="mBank S.A.", description="faktoring"),
            ),
            system_info="einvoice",
        )
    )
