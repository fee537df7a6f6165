"""Inbox import: 1 000 received invoices of 10 lines into draft bills, against 20 000 partners and 100 000 products.

The database holds a Romanian company with 20 000 partners (VAT numbers), 100 000 purchasable products (internal
references, barcodes) and 10 000 vendor item codes. 1 000 UBL invoices from 100 of those vendors arrive in the inbox
(``account.einvoice.inbox._store``); each line is found another way: 4 by the vendor's code, 2 by GTIN, 2 by our
internal reference, 2 by name. The run then does what the scheduler does, batch after batch of 200
(``_lock_new`` + ``_process``: read, match, create the bill, attach the files), and reports the time and the SQL
queries per invoice of each batch -- the latter must not grow with the data or the batch.

Usage, from the repository root::

    PYTHONPATH=. .venv/bin/python -m bench.bench_inbox_odoo [--invoices 1000] [--keep-db] [--reuse-db]

Everything created in the database is rolled back; the database ``einv_bench_inbox`` is dropped at the end unless
``--keep-db`` is given. Figures are printed, never asserted. Without an importable Odoo it prints SKIPPED.
"""

import argparse
import random
import time
from datetime import date
from decimal import Decimal

from bench import odoo_db
from bench.bench_ro_odoo import romanian_company

DATABASE = "einv_bench_inbox"
MODULES = ["l10n_ro_efactura"]
HTTP_PORT = "8191"
PARTNERS, PRODUCTS, VENDORS, CODES_PER_VENDOR, LINES, BATCH = 20_000, 100_000, 100, 100, 10, 200
TARGET_SECONDS = 60
WORDS = (
    "surub",
    "piulita",
    "saiba",
    "diblu",
    "cablu",
    "priza",
    "bec",
    "lampa",
    "vopsea",
    "grund",
    "ciment",
    "var",
    "nisip",
    "caramida",
    "bolt",
    "tigla",
    "teava",
    "cot",
    "robinet",
    "garnitura",
    "banda",
    "adeziv",
    "silicon",
    "spuma",
    "burete",
    "perie",
    "pensula",
    "trafalet",
    "gips",
    "placa",
    "profil",
    "cui",
    "capsa",
    "lant",
    "sarma",
    "plasa",
    "folie",
    "hartie",
    "carton",
    "cutie",
    "palet",
    "lada",
    "sac",
    "galeata",
    "rola",
    "manusa",
    "casca",
    "ochelari",
    "masca",
    "vesta",
    "bocanci",
)
SIZES = ("M6", "M8", "M10", "10 mm", "20 mm", "1 kg", "5 kg", "25 kg", "1 l", "5 l", "alb", "negru", "gri", "rosu")


def cui(number):
    """A Romanian CUI with its check digit (the weights 753217532 over the number right-aligned on nine digits)."""
    digits = str(number)
    padded = digits.rjust(9, "0")
    total = sum(int(d) * int(w) for d, w in zip(padded, "753217532", strict=True))
    return digits + str(total * 10 % 11 % 10)


def gtin(number):
    body = f"594{number:09d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def populate(env, company):
    """Partners, products and vendor codes, written by SQL: what is measured is the import, not the set-up."""
    from psycopg2.extras import execute_values

    cr = env.cr
    rows = [(f"Furnizor {n} SRL", f"RO{cui(10_000_000 + n * 37)}") for n in range(PARTNERS)]
    partner_ids = [
        row[0]
        for row in execute_values(
            cr._obj,
            "INSERT INTO res_partner (name, complete_name, vat, is_company, active, autopost_bills, type) "
            "VALUES %s RETURNING id",
            [(name, name, vat, True, True, "ask", "contact") for name, vat in rows],
            fetch=True,
            page_size=5000,
        )
    ]
    cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [partner_ids])
    unit = env.ref("uom.product_uom_unit")
    randomness = random.Random(7)  # noqa: S311 - the same data every run, no secret
    names = [
        f"{randomness.choice(WORDS).capitalize()} {randomness.choice(WORDS)} {randomness.choice(SIZES)} {n}"
        for n in range(PRODUCTS)
    ]
    template_ids = [
        row[0]
        for row in execute_values(
            cr._obj,
            "INSERT INTO product_template (name, type, uom_id, service_tracking, purchase_ok, sale_ok, active) "
            "VALUES %s RETURNING id",
            [(f'{{"en_US": "{name}"}}', "consu", unit.id, "no", True, True, True) for name in names],
            fetch=True,
            page_size=5000,
        )
    ]
    product_ids = [
        row[0]
        for row in execute_values(
            cr._obj,
            "INSERT INTO product_product (product_tmpl_id, active, default_code, barcode) VALUES %s RETURNING id",
            [(template, True, f"REF-{n:06d}", gtin(n)) for n, template in enumerate(template_ids)],
            fetch=True,
            page_size=5000,
        )
    ]
    vendors = partner_ids[:VENDORS]
    codes = {}  # vendor -> [(code, product index)]
    supplier_rows = []
    for v, vendor in enumerate(vendors):
        for c in range(CODES_PER_VENDOR):
            index = (v * CODES_PER_VENDOR + c) * 7 % PRODUCTS
            code = f"V{v}-{c:04d}"
            codes.setdefault(vendor, []).append((code, index))
            supplier_rows.append((vendor, template_ids[index], code, unit.id, company.currency_id.id, 1, 0, company.id))
    execute_values(
        cr._obj,
        "INSERT INTO product_supplierinfo (partner_id, product_tmpl_id, product_code, product_uom_id, currency_id, "
        "delay, min_qty, company_id) VALUES %s",
        supplier_rows,
        page_size=5000,
    )
    cr.execute("ANALYZE")  # the planner knows the tables' sizes, as in any database in use
    env.invalidate_all()
    return [(vendor, rows[partner_ids.index(vendor)]) for vendor in vendors], codes, names, product_ids


def invoices(vendors, codes, names, count):
    """``count`` UBL invoices of 10 lines, each line findable one way."""
    from einvoice import ubl
    from einvoice.model import Address, Identifier, Invoice, Line, Party

    randomness = random.Random(11)  # noqa: S311 - the same data every run, no secret
    documents = []
    for number in range(count):
        vendor_id, (vendor_name, vat) = vendors[number % len(vendors)]
        lines = []
        for n in range(LINES):
            code, index = randomness.choice(codes[vendor_id])
            other = randomness.randrange(len(names))
            quantity, price = Decimal(randomness.randint(1, 9)), Decimal(randomness.randint(100, 9999)) / 100
            item = {"item_name": names[index]}
            if n < 4:
                item["seller_item_id"] = code
            elif n < 6:
                item.update(item_name=f"Articol {other}", standard_id=Identifier(gtin(other), "0160"))
            elif n < 8:
                item.update(item_name=f"Articol {other}", buyer_item_id=f"REF-{other:06d}")
            else:
                item["item_name"] = names[other]
            lines.append(
                Line(
                    str(n + 1), quantity, "H87", quantity * price, price, vat_category="S", vat_rate=Decimal(21), **item
                )
            )
        invoice = Invoice.build(
            number=f"F{number:05d}",
            issue_date=date(2026, 11, 1 + number % 20),
            type_code="380",
            currency="RON",
            seller=Party(name=vendor_name, vat_id=vat, address=Address("RO", city="Cluj-Napoca")),
            buyer=Party(name="Alfa Distributie SRL", vat_id="RO18547290"),
            lines=lines,
        )
        documents.append(ubl.write(invoice))
    return documents


def timed_bill_creation():
    """Seconds spent in Odoo's own ``account.move.create`` of the batches (the importer hands it every bill)."""
    from odoo.addons.account_einvoice.tools.bill_import import BillImporter

    spent = [0.0]
    create_bills = BillImporter._create_bills

    def timed(importer, pendings):
        started = time.perf_counter()
        try:
            return create_bills(importer, pendings)
        finally:
            spent[0] += time.perf_counter() - started

    BillImporter._create_bills = timed
    return spent


def measure(env, count):
    env, company = romanian_company(env)
    started = time.perf_counter()
    vendors, codes, names, _product_ids = populate(env, company)
    print(f"  data: {PARTNERS} partners, {PRODUCTS} products, {VENDORS * CODES_PER_VENDOR} vendor codes "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
    documents = invoices(vendors, codes, names, count)
    inbox = env["account.einvoice.inbox"]
    started = time.perf_counter()
    for number, xml in enumerate(documents):
        inbox._store(
            {"platform": "upload", "platform_id": f"bench-{number}", "company_id": company.id}, xml, f"F{number}.xml"
        )
    stored = time.perf_counter() - started
    print(f"  {count} invoices stored in the inbox: {stored:.1f} s")
    creating = timed_bill_creation()
    total, queries_per_invoice = 0.0, []
    while True:
        queries_before = env.cr.sql_log_count
        started = time.perf_counter()
        batch = inbox._lock_new(BATCH)
        if not batch:
            break
        batch._process()
        env.flush_all()
        elapsed = time.perf_counter() - started
        total += elapsed
        queries_per_invoice.append((env.cr.sql_log_count - queries_before) / len(batch))
        print(f"    batch of {len(batch)}: {elapsed:5.1f} s, {queries_per_invoice[-1]:.0f} SQL queries per invoice")
    messages = inbox.search([("platform", "=", "upload"), ("platform_id", "=like", "bench-%")])
    states = {
        state: len(messages.filtered(lambda m, state=state: m.state == state))
        for state in set(messages.mapped("state"))
    }
    lines = messages.move_id.invoice_line_ids
    print(f"  states: {states}; {len(lines.filtered('product_id'))} of {len(lines)} lines with a product")
    verdict = "met" if total * 1000 / count <= TARGET_SECONDS else "missed"
    print(f"  import: {total:.1f} s for {count} invoices ({total / count * 1000:.0f} ms each; "
          f"target {TARGET_SECONDS} s for 1 000: {verdict})")  # fmt: skip
    print(f"    of which Odoo making the bills (account.move.create, in batches): {creating[0]:.1f} s; "
          f"reading, matching, attaching and reporting: {total - creating[0]:.1f} s "
          f"({(total - creating[0]) / count * 1000:.0f} ms each)")  # fmt: skip
    print(
        f"  SQL queries per invoice: {min(queries_per_invoice):.0f} to {max(queries_per_invoice):.0f} over the batches"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000, help="received invoices (default 1000)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the database {DATABASE} at the end")
    parser.add_argument("--reuse-db", action="store_true", help=f"use {DATABASE} as it is when it exists")
    args = parser.parse_args(argv)
    odoo_db.require_odoo_19()
    odoo_db.run_in_database(
        DATABASE, MODULES, HTTP_PORT, lambda env: measure(env, args.invoices), reuse=args.reuse_db, keep=args.keep_db
    )


def run():
    main([])


if __name__ == "__main__":
    main()
