"""CIUS-RO of a 200-line posted Odoo invoice: ours against Odoo's own l10n_ro_edi, in one database (target: 5x).

Both writers work on the same ``account.move`` of the same database:

* ours: ``move._einvoice_invoice()`` then ``einvoice.ro.ciusro.render`` -- the XML ``l10n_ro_efactura`` uploads
  (``account.einvoice.document._ro_efactura_upload``); the renderer's own CIUS-RO checks are part of it;
* Odoo's: ``env["account.edi.xml.ubl_ro"]._export_invoice(move)`` -- the builder ``l10n_ro_edi`` names for the
  ``ciusro`` format (``res.partner._get_edi_builder``), constraints included.

Usage, from the repository root::

    .venv/bin/python -m bench.bench_ro_odoo [--lines 200] [--repeat 10] [--keep-db] [--reuse-db]

The script drops and creates the database ``einv_bench_ro`` with ``l10n_ro_efactura`` and ``l10n_ro_edi`` installed
(``--reuse-db`` keeps an existing one with both installed), then creates a Romanian company on the ``ro`` chart, a
customer with a VAT number and the posted invoice. Everything it creates inside the database is rolled back; the
database is dropped at the end unless ``--keep-db`` is given. Each figure is the median of ``--repeat`` runs after
one warm-up: "warm" keeps Odoo's record cache between runs, "cold" empties it before each run (the database reads
are then part of the figure). Figures are printed, never asserted. Without an importable Odoo it prints SKIPPED.
"""

import argparse

from bench import odoo_db

DATABASE = "einv_bench_ro"
MODULES = ["l10n_ro_efactura", "l10n_ro_edi"]
HTTP_PORT = "8190"
SELLER_CIF = "18547290"
TARGET = 5
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def romanian_company(env):
    """A company in Bucharest on the Romanian chart; the environment returned works in it."""
    env, company = odoo_db.company_on_chart(env, "Alfa Distribuție SRL", "ro")
    company.partner_id.write(
        {
            "vat": f"RO{SELLER_CIF}",
            "company_registry": "J40/12345/2015",
            "street": "Strada Lungă 10",
            "city": "Sector 3",  # written SECTOR3 by both writers
            "zip": "030167",
            "state_id": env.ref("base.RO_B").id,
        }
    )
    return env, company


def romanian_invoice(env, lines):
    """A company in Bucharest on the Romanian chart, a customer in Cluj and a posted invoice of ``lines`` lines."""

    env, company = romanian_company(env)
    romania = env.ref("base.ro")
    customer = env["res.partner"].create(
        {
            "name": "Beta Construcții SA",
            "is_company": True,
            "vat": "RO14399840",
            "street": "Bulevardul Eroilor 5",
            "city": "Cluj-Napoca",
            "zip": "400129",
            "state_id": env.ref("base.RO_CJ").id,
            "country_id": romania.id,
        }
    )
    tax = env.ref(f"account.{company.id}_tvac_21")
    return odoo_db.posted_invoice(env, customer, tax, lines, "Articol")


def summary(xml):
    """Size, lines and amount due of a UBL invoice: both writers must have written the same invoice."""
    from lxml import etree

    root = etree.fromstring(xml)
    lines = root.findall(f"{{{CAC}}}InvoiceLine")
    payable = root.findtext(f"{{{CAC}}}LegalMonetaryTotal/{{{CBC}}}PayableAmount")
    return f"{len(xml) / 1024:4.0f} KiB of XML, {len(lines)} lines, {payable} payable"


def measure(env, lines, repeat):
    from einvoice.ro import ciusro

    move = romanian_invoice(env, lines)
    env = move.env
    builder = env["account.edi.xml.ubl_ro"]
    if move.partner_id._get_edi_builder("ciusro") != builder:
        raise SystemExit("l10n_ro_edi no longer writes CIUS-RO with account.edi.xml.ubl_ro")

    def ours():
        invoice, _findings = move._einvoice_invoice()
        return ciusro.render(invoice)

    def odoos():
        return builder._export_invoice(move)

    invoice, findings = move._einvoice_invoice()
    our_xml = ciusro.render(invoice)
    odoo_xml, odoo_errors = odoos()
    print(f"  posted invoice {move.name}: {len(move.invoice_line_ids)} lines, {move.amount_total:.2f} RON")
    print(f"  ours:   {summary(our_xml)}, {len(findings)} mapping findings")
    print(f"  Odoo's: {summary(odoo_xml)}, {len(odoo_errors)} constraint errors")
    for error in sorted(odoo_errors):
        print(f"    Odoo: {error}")

    odoo_db.compare(
        env,
        ours,
        odoos,
        repeat,
        ours_label="_einvoice_invoice + ciusro.render",
        odoos_label="account.edi.xml.ubl_ro._export_invoice",
        target=TARGET,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--lines", type=int, default=200, help="invoice lines (default 200)")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs of each writer (default 10)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the database {DATABASE} at the end")
    parser.add_argument("--reuse-db", action="store_true", help=f"use {DATABASE} as it is when it exists")
    args = parser.parse_args(argv)
    odoo_db.require_odoo_19()
    odoo_db.run_in_database(
        DATABASE,
        MODULES,
        HTTP_PORT,
        lambda env: measure(env, args.lines, args.repeat),
        reuse=args.reuse_db,
        keep=args.keep_db,
    )


def run():
    main([])


if __name__ == "__main__":
    main()
