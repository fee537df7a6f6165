"""The price of reading untrusted XML safely, against a plain lxml parse of the same bytes."""

from lxml import etree

from einvoice.xmlsafe import parse_xml

from .timing import best_of

LINE = (
    "<cac:InvoiceLine><cbc:ID>{n}</cbc:ID><cbc:InvoicedQuantity unitCode='H87'>2</cbc:InvoicedQuantity>"
    "<cbc:LineExtensionAmount currencyID='RON'>200.00</cbc:LineExtensionAmount><cac:Item><cbc:Name>Item {n}</cbc:Name>"
    "</cac:Item><cac:Price><cbc:PriceAmount currencyID='RON'>100.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>"
)


def sample(lines=200):
    body = "".join(LINE.format(n=n) for n in range(1, lines + 1))
    return (
        "<?xml version='1.0' encoding='UTF-8'?><Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'"
        " xmlns:cac='urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2'"
        " xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2'>" + body + "</Invoice>"
    ).encode()


def run():
    data = sample()
    safe = best_of(lambda: parse_xml(data), number=50)
    plain = best_of(lambda: etree.fromstring(data), number=50)
    print(f"  200-line invoice, {len(data) / 1024:.0f} KiB")
    print(f"  safe parse:  {safe * 1000:.3f} ms")
    print(f"  plain lxml:  {plain * 1000:.3f} ms")
    print(f"  ratio safe/plain: {safe / plain:.2f}x")
