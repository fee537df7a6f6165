"""CIUS-RO for a 200-line invoice: build + checks + XML + UBL schema, against the 20 ms target."""

from datetime import date
from decimal import Decimal

from lxml import etree

from einvoice.model import Address, Identifier, Invoice, Line, Party, PaymentMeans
from einvoice.ro import checks, ciusro
from einvoice.validation import validate_ubl

from .timing import best_of

SELLER = Party(
    name="Alfa Distributie SRL",
    vat_id="RO18547290",
    legal_id=Identifier("J40/12345/2015"),
    address=Address("RO", "Strada Lunga 10", city="SECTOR3", subdivision="RO-B"),
)
BUYER = Party(
    name="Beta Constructii SA",
    vat_id="RO14399840",
    address=Address("RO", "Bulevardul Eroilor 5", city="Cluj-Napoca", subdivision="RO-CJ"),
)


def invoice(lines=200):
    items = [
        Line(
            str(n),
            Decimal(n % 7 + 1),
            "H87",
            Decimal(n % 7 + 1) * Decimal("12.50"),
            Decimal("12.50"),
            f"Articol {n}",
            "S",
            Decimal("21"),
        )
        for n in range(1, lines + 1)
    ]
    return Invoice.build(
        lines=items,
        number="BENCH-1",
        issue_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        type_code="380",
        currency="RON",
        seller=SELLER,
        buyer=BUYER,
        payment_means=(PaymentMeans("30", account_id="RO49AAAA1B31007593840000"),),
    )


def whole_job():
    """What happens before an upload: the invoice is built, checked, written and held against the schema."""
    prepared = ciusro.prepare(invoice())
    findings = checks.check(prepared)
    xml = ciusro.render(prepared)
    return findings + validate_ubl(etree.fromstring(xml))


def run():
    validate_ubl(etree.fromstring(ciusro.render(invoice(1))))  # the schema is compiled once per process
    built = ciusro.prepare(invoice())
    xml = ciusro.render(built)
    root = etree.fromstring(xml)
    print(f"  200 lines, {len(xml) / 1024:.0f} KiB of XML")
    print(f"  build:   {best_of(invoice, number=5) * 1000:7.2f} ms")
    print(f"  checks:  {best_of(lambda: checks.check(built), number=5) * 1000:7.2f} ms")
    print(f"  render:  {best_of(lambda: ciusro.render(built), number=5) * 1000:7.2f} ms")
    print(f"  schema:  {best_of(lambda: validate_ubl(root), number=5) * 1000:7.2f} ms")
    total = best_of(whole_job, number=5)
    print(f"  findings on the benchmark invoice: {len(whole_job())}")
    print(
        f"  build + checks + XML + schema: {total * 1000:.2f} ms"
        f" (target 20 ms: {'met' if total <= 0.020 else 'missed'})"
    )
