"""FA(3) of a 200-line posted Odoo invoice: ours against Odoo's own l10n_pl_edi, in one database (target: 5x).

Both writers work on the same ``account.move`` of the same database:

* ours: ``move._l10n_pl_ksef_xml()`` -- ``move._einvoice_invoice()`` then ``einvoice.pl.fa3.write``, the XML
  ``l10n_pl_ksef`` sends (``account.einvoice.document._pl_ksef_upload``); the writer's own FA(3) checks are part
  of it;
* Odoo's: ``move._l10n_pl_edi_render_xml()`` -- the QWeb template ``l10n_pl_edi`` renders and sends
  (``account.move.send``), encoded to bytes as it does before sending.

Usage, from the repository root::

    .venv/bin/python -m bench.bench_pl_odoo [--lines 200] [--repeat 10] [--database NAME] [--keep-db] [--reuse-db]

The script drops and creates the database ``einv_bench_pl`` (or ``--database``) with ``l10n_pl_ksef`` and
``l10n_pl_edi`` installed (``--reuse-db`` keeps an existing one with both installed), then creates a Polish company
on the ``pl`` chart, a customer with a NIP and the posted invoice. Everything it creates inside the database is
rolled back; the database is dropped at the end unless ``--keep-db`` is given. Each figure is the median of
``--repeat`` runs after one warm-up: "warm" keeps Odoo's record cache between runs, "cold" empties it before each
run (the database reads are then part of the figure). Figures are printed, never asserted. Without an importable
Odoo it prints SKIPPED.
"""

import argparse

from bench import odoo_db

DATABASE = "einv_bench_pl"
MODULES = ["l10n_pl_ksef", "l10n_pl_edi"]
HTTP_PORT = "8192"
SELLER_NIP = "5260250274"
TARGET = 5
FA3 = "{http://crd.gov.pl/wzor/2025/06/25/13775/}"


def polish_invoice(env, lines):
    """A company in Warsaw on the Polish chart, a customer in Kraków and a posted invoice of ``lines`` lines."""
    env, company = odoo_db.company_on_chart(env, "Alfa Dystrybucja sp. z o.o.", "pl")
    poland = env.ref("base.pl")
    company.partner_id.write(
        {"vat": f"PL{SELLER_NIP}", "street": "ul. Marszałkowska 10", "city": "Warszawa", "zip": "00-590"}
    )
    customer = env["res.partner"].create(
        {
            "name": "Beta Budownictwo S.A.",
            "is_company": True,
            "vat": "PL7740001454",
            "street": "ul. Długa 5",
            "city": "Kraków",
            "zip": "31-147",
            "country_id": poland.id,
        }
    )
    tax = env.ref(f"account.{company.id}_vs_kraj_23")
    return odoo_db.posted_invoice(env, customer, tax, lines, "Artykuł")


def summary(xml):
    """Size, lines and amount due of an FA(3) invoice: both writers must have written the same invoice."""
    from lxml import etree

    root = etree.fromstring(xml)
    lines = root.findall(f"{FA3}Fa/{FA3}FaWiersz")
    return f"{len(xml) / 1024:4.0f} KiB of XML, {len(lines)} lines, {root.findtext(f'{FA3}Fa/{FA3}P_15')} due"


def measure(env, lines, repeat):
    move = polish_invoice(env, lines)
    env = move.env

    def ours():
        return move._l10n_pl_ksef_xml()

    def odoos():
        return move._l10n_pl_edi_render_xml().encode()

    print(f"  posted invoice {move.name}: {len(move.invoice_line_ids)} lines, {move.amount_total:.2f} PLN")
    print(f"  ours:   {summary(ours())}")
    print(f"  Odoo's: {summary(odoos())}")

    odoo_db.compare(
        env,
        ours,
        odoos,
        repeat,
        ours_label="_einvoice_invoice + fa3.write",
        odoos_label="_l10n_pl_edi_render_xml, QWeb",
        target=TARGET,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--lines", type=int, default=200, help="invoice lines (default 200)")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs of each writer (default 10)")
    parser.add_argument("--database", default=DATABASE, help=f"the database to work in (default {DATABASE})")
    parser.add_argument("--keep-db", action="store_true", help="keep the database at the end")
    parser.add_argument("--reuse-db", action="store_true", help="use the database as it is when it exists")
    args = parser.parse_args(argv)
    odoo_db.require_odoo_19()
    odoo_db.run_in_database(
        args.database,
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
