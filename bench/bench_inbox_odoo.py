"""Inbox import: 1 000 received invoices of 10 lines into draft bills, ours against Odoo's own, on 100 000 products.

The database holds a Romanian company with 20 000 partners (VAT numbers), 100 000 purchasable products (internal
references, barcodes) and 10 000 vendor item codes. 1 000 UBL invoices (CIUS-RO, as ANAF delivers them) from 100 of
those vendors are imported twice, on the same data and in the same batches of 200, each import rolled back before the
next one starts:

* ours: the invoices are stored in the inbox (``account.einvoice.inbox._store``, not timed), then the run does what
  the scheduler does, batch after batch (``_lock_new`` + ``_process``: read, match, create the bill, attach the
  files);
* Odoo's: the invoices are XML attachments (as uploaded, not timed), then each batch goes through the vendor bills
  journal's upload (``account.journal._create_document_from_attachment``): one bill per file, decoded by
  ``account_edi_ubl_cii`` (``account.edi.xml.ubl_ro`` of ``l10n_ro_edi``). That path commits before and after each
  file; here a savepoint stands for the commits, whose cost is left out of Odoo's figures.

Each line of an invoice is findable one way: 4 by the vendor's code, 2 by GTIN, 2 by our internal reference (the
buyer's item id), 2 by name. Each batch is timed up to the flush of what it wrote, with its SQL queries per invoice
-- ours must not grow with the data or the batch. The run reports both imports' time, ms and queries per invoice,
the ratio Odoo's/ours, and what each bill came out with: vendor, total as stated, lines with a product, lines with
the product the invoice line names.

Usage, from the repository root::

    PYTHONPATH=. .venv/bin/python -m bench.bench_inbox_odoo [--invoices 1000] [--keep-db] [--reuse-db]

Everything created in the database is rolled back; the database ``einv_bench_inbox`` is dropped at the end unless
``--keep-db`` is given. Figures are printed, never asserted. Without an importable Odoo it prints SKIPPED.
"""

import argparse
import random
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from bench import odoo_db
from bench.bench_ro_odoo import romanian_company

DATABASE = "einv_bench_inbox"
# Odoo's own import: account_edi_ubl_cii and l10n_ro_edi install themselves beside account and l10n_ro; named here,
# they are there whatever Odoo's defaults become
MODULES = ["l10n_ro_efactura", "account_edi_ubl_cii", "l10n_ro_edi"]
HTTP_PORT = "8191"
PARTNERS, PRODUCTS, VENDORS, CODES_PER_VENDOR, LINES, BATCH = 20_000, 100_000, 100, 100, 10, 200
TARGET_SECONDS = 60
TARGET_RATIO = 3
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


class Sent(NamedTuple):
    """A received invoice and what its bill should say."""

    number: str
    xml: bytes
    total: float  # tax included
    products: list  # the product each line names, in order


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


def invoices(vendors, codes, names, product_ids, count):
    """``count`` UBL invoices of 10 lines, each line findable one way, as ANAF delivers them (CIUS-RO).

    Each is ``(number, xml, stated total, [the product each line names])``: what both imports are checked against.
    """
    from einvoice import ubl
    from einvoice.matching import invoice_total
    from einvoice.model import Address, Identifier, Invoice, Line, Party
    from einvoice.ro.codes import CIUS_RO_ID

    randomness = random.Random(11)  # noqa: S311 - the same data every run, no secret
    documents = []
    for number in range(count):
        vendor_id, (vendor_name, vat) = vendors[number % len(vendors)]
        lines, named = [], []
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
            named.append(product_ids[index if n < 4 else other])
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
        xml = ubl.write(invoice, customization_id=CIUS_RO_ID)
        documents.append(Sent(invoice.number, xml, float(invoice_total(invoice)), named))
    return documents


@dataclass
class Run:
    """What one import did: its time and SQL queries batch by batch, and the bills it made."""

    label: str
    seconds: float = 0.0
    invoices: int = 0
    queries: int = 0
    queries_per_invoice: list = field(default_factory=list)  # of each batch
    bills: object = None  # account.move

    @property
    def ms_per_invoice(self):
        return self.seconds / self.invoices * 1000


def run_batches(env, label, step):
    """``step()`` batch after batch until it takes no invoice; each batch is timed and its queries counted, up to
    and including the flush of what it wrote."""
    run = Run(label)
    while True:
        queries_before = env.cr.sql_log_count
        started = time.perf_counter()
        taken = step()
        if not taken:
            break
        env.flush_all()
        elapsed = time.perf_counter() - started
        run.seconds += elapsed
        run.invoices += taken
        run.queries += env.cr.sql_log_count - queries_before
        run.queries_per_invoice.append((env.cr.sql_log_count - queries_before) / taken)
        print(f"    batch of {taken}: {elapsed:5.1f} s, {run.queries_per_invoice[-1]:.0f} SQL queries per invoice")
    return run


def timed_bill_creation():
    """Seconds spent in Odoo's own ``account.move.create`` of the batches (the importer hands it every bill), and
    how to stop counting."""
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

    def restore():
        BillImporter._create_bills = create_bills

    return spent, restore


def import_ours(env, company, documents):
    """Our inbox: every invoice stored as received (not timed), then what the scheduler does, batch by batch."""
    inbox = env["account.einvoice.inbox"]
    started = time.perf_counter()
    for number, sent in enumerate(documents):
        inbox._store(
            {"platform": "upload", "platform_id": f"bench-{number}", "company_id": company.id},
            sent.xml,
            f"F{number}.xml",
        )
    print(f"  {len(documents)} invoices stored in the inbox: {time.perf_counter() - started:.1f} s")

    def step():
        batch = inbox._lock_new(BATCH)
        batch._process()
        return len(batch)

    creating, restore = timed_bill_creation()
    try:
        run = run_batches(env, "ours", step)
    finally:
        restore()
    messages = inbox.search([("platform", "=", "upload"), ("platform_id", "=like", "bench-%")])
    states = {
        state: len(messages.filtered(lambda m, state=state: m.state == state))
        for state in set(messages.mapped("state"))
    }
    print(f"  states: {states}")
    print(f"    of which Odoo making the bills (account.move.create, in batches): {creating[0]:.1f} s; "
          f"reading, matching, attaching and reporting: {run.seconds - creating[0]:.1f} s "
          f"({(run.seconds - creating[0]) / run.invoices * 1000:.0f} ms each)")  # fmt: skip
    run.bills = messages.move_id
    return run


@contextmanager
def savepoint_for_commits():
    """Odoo's import commits before and after decoding each file (``rollbackable_transaction``), which a benchmark
    that rolls everything back cannot let it do: a savepoint stands for the pair, isolating each file's failure the
    same way. The commits' own cost (two per invoice) is therefore left out of Odoo's figures."""
    from odoo.addons.account.models import account_document_import_mixin as mixin

    commits = mixin.rollbackable_transaction
    mixin.rollbackable_transaction = lambda cr: cr.savepoint()
    try:
        yield
    finally:
        mixin.rollbackable_transaction = commits


def import_odoos(env, company, documents):
    """Odoo's own: each invoice an XML attachment (as uploaded, not timed), then the vendor bills journal's
    "Upload" (``account.journal._create_document_from_attachment``): one bill per file, decoded by
    ``account_edi_ubl_cii`` (its CIUS-RO flavour from ``l10n_ro_edi``), batch by batch."""
    attachments = env["ir.attachment"].create(
        [
            {"name": f"F{number}.xml", "raw": sent.xml, "mimetype": "application/xml"}
            for number, sent in enumerate(documents)
        ]
    )
    journal = company._einvoice_purchase_journal().with_context(default_move_type="in_invoice")
    batches = [attachments[start : start + BATCH] for start in range(0, len(attachments), BATCH)]
    bills = env["account.move"]

    def step():
        nonlocal bills
        if not batches:
            return 0
        batch = batches.pop(0)
        bills |= journal._create_document_from_attachment(batch.ids)
        return len(batch)

    with savepoint_for_commits():
        run = run_batches(env, "Odoo's", step)
    run.bills = bills
    return run


def check(run, documents):
    """How the bills of ``run`` compare with the invoices: vendor, lines, products, totals."""
    by_number = {sent.number: sent for sent in documents}
    bills = run.bills.filtered(lambda bill: bill.ref in by_number)
    lines = with_product = right_product = right_total = with_vendor = 0
    for bill in bills:
        sent = by_number[bill.ref]
        products = bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        products = products.sorted(lambda line: (line.sequence, line.id))
        lines += len(products)
        with_product += len(products.filtered("product_id"))
        right_product += sum(
            line.product_id.id == wanted for line, wanted in zip(products, sent.products, strict=False)
        )
        right_total += bill.currency_id.compare_amounts(bill.amount_total, sent.total) == 0
        with_vendor += bool(bill.partner_id)
    print(f"  {run.label:6}: {len(bills)} bills of {len(documents)} invoices, {with_vendor} with their vendor, "
          f"{right_total} totalling what the invoice states; {lines} lines, {with_product} with a product, "
          f"{right_product} with the product the line names")  # fmt: skip


def measure(env, count):
    env, company = romanian_company(env)
    started = time.perf_counter()
    vendors, codes, names, product_ids = populate(env, company)
    print(f"  data: {PARTNERS} partners, {PRODUCTS} products, {VENDORS * CODES_PER_VENDOR} vendor codes "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
    documents = invoices(vendors, codes, names, product_ids, count)
    runs = []
    for label, importer in (("ours", import_ours), ("Odoo's", import_odoos)):
        print(f"  {label} import:")
        with closing(env.cr.savepoint()):  # rolled back: the other import starts from the same database
            runs.append(importer(env, company, documents))
            check(runs[-1], documents)
    ours, odoos = runs
    print(f"  {count} invoices of {LINES} lines, in batches of {BATCH}:")
    for run in runs:
        spread = f"{min(run.queries_per_invoice):.0f} to {max(run.queries_per_invoice):.0f} over the batches"
        print(f"    {run.label:6}: {run.seconds:6.1f} s, {run.ms_per_invoice:5.0f} ms per invoice, "
              f"{run.queries / run.invoices:4.0f} SQL queries per invoice ({spread})")  # fmt: skip
    ratio = odoos.seconds / ours.seconds
    print(f"  ratio Odoo's/ours: {ratio:.1f}x (target {TARGET_RATIO}x: {verdict(ratio >= TARGET_RATIO)}); "
          f"ours, target {TARGET_SECONDS} s for 1 000: {verdict(ours.ms_per_invoice <= TARGET_SECONDS)}")  # fmt: skip


def verdict(met):
    return "met" if met else "missed"


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
