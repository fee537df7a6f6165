"""What the benchmarks that run inside Odoo share: a database of their own, made and dropped by Odoo's own tools."""

import statistics
import subprocess
import sys
import time
from pathlib import Path

from .timing import Skipped

ROOT = Path(__file__).resolve().parents[1]


def addons_path():
    import odoo

    paths = [str(ROOT)]
    for package_dir in odoo.__path__:
        candidate = Path(package_dir).parent / "addons"
        if (candidate / "account" / "__manifest__.py").is_file():
            paths.append(str(candidate))
    return ",".join(paths)


def odoo_options(database, http_port):
    # the XSLT processor of the official rules needs more address space than Odoo's default hard limit allows
    return [
        "-d",
        database,
        "--addons-path",
        addons_path(),
        "--limit-memory-hard",
        "0",
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        http_port,
        "--max-cron-threads",
        "0",
        "--log-level",
        "warn",
    ]


def database_exists(database):
    from contextlib import closing

    import odoo.sql_db

    with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        return bool(cr.fetchone())


def drop_database(database):
    import odoo.service.db

    odoo.service.db.exp_drop(database)


def install(database, modules, http_port):
    """A fresh database with ``modules``, by Odoo's own command line (its output is shown only on failure)."""
    command = [
        sys.executable,
        "-m",
        "odoo",
        *odoo_options(database, http_port),
        "-i",
        ",".join(modules),
        "--stop-after-init",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
    if done.returncode:
        print("\n".join((done.stdout + done.stderr).splitlines()[-40:]))
        raise SystemExit(f"installing {', '.join(modules)} into {database} failed")
    print(f"  database {database}: {', '.join(modules)} installed in {time.perf_counter() - started:.0f} s")


def median_ms(function, repeat, before=None):
    """The median of ``repeat`` timed calls after one warm-up, in ms; ``before`` runs untimed ahead of each call."""
    function()
    times = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def require_odoo_19():
    """Go on only where an Odoo 19 is importable; otherwise the benchmark is skipped, saying why."""
    try:
        import odoo.release
    except ImportError:
        raise Skipped("Odoo is not importable by this Python") from None
    if odoo.release.version_info[0] != 19:
        raise Skipped(f"Odoo {odoo.release.version} is not Odoo 19")


def run_in_database(database, modules, http_port, work, *, reuse=False, keep=False):
    """``work(env)`` in a fresh ``database`` with ``modules`` (or the existing one when ``reuse``); whatever it
    creates is rolled back, and the database is dropped at the end unless ``keep``."""
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(odoo_options(database, http_port))
    if not (reuse and database_exists(database)):
        if database_exists(database):
            drop_database(database)
        install(database, modules, http_port)
    vacuum(database)
    try:
        registry = Registry(database)
        with registry.cursor() as cr:
            try:
                work(api.Environment(cr, SUPERUSER_ID, {}))
            finally:
                cr.rollback()
    finally:
        if not keep:
            drop_database(database)
            print(f"  database {database} dropped")


def vacuum(database):
    """Fresh statistics and no dead rows left by earlier runs (they are rolled back): the planner sees the
    database as it is."""
    from contextlib import closing

    import odoo.sql_db

    with closing(odoo.sql_db.db_connect(database).cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE")


def posted_invoice(env, customer, tax, lines, item="Article"):
    """A posted customer invoice of ``lines`` lines over 20 products, all taxed with ``tax``."""
    from odoo import Command

    products = env["product.product"].create(
        [
            {
                "name": f"{item} {n}",
                "default_code": f"ART-{n:03d}",
                "uom_id": env.ref("uom.product_uom_unit").id,
                "list_price": 12.5,
                "taxes_id": [Command.set(tax.ids)],
            }
            for n in range(1, 21)
        ]
    )
    move = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": customer.id,
            "invoice_date": "2026-11-20",
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": products[n % len(products)].id,
                        "name": f"{item} {n}",
                        "quantity": n % 7 + 1,
                        "price_unit": 12.5 + n % 5,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                )
                for n in range(1, lines + 1)
            ],
        }
    )
    move.action_post()
    return move


def company_on_chart(env, name, country_code):
    """A company of ``country_code`` on that country's chart; the environment returned works in it."""
    country = env.ref(f"base.{country_code}")
    # the chart is loaded just below: no automatic install of the country's other modules on creation
    company = (
        env["res.company"]
        .with_context(chart_template_load=True)
        .create({"name": name, "country_id": country.id, "currency_id": country.currency_id.id})
    )
    env["account.chart.template"].try_loading(country_code, company=company, install_demo=False)
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    return env, company.with_env(env)


def compare(env, ours, odoos, repeat, *, ours_label, odoos_label, target):
    """Median times of our writer and Odoo's on the same invoice, warm and cold cache, and their ratio."""
    for label, before in (("warm cache", None), ("cold cache", env.invalidate_all)):
        our_ms = median_ms(ours, repeat, before)
        odoo_ms = median_ms(odoos, repeat, before)
        print(f"  {label}, median of {repeat}:")
        print(f"    ours   ({ours_label}): {our_ms:8.2f} ms")
        print(f"    Odoo's ({odoos_label}): {odoo_ms:8.2f} ms")
        ratio = odoo_ms / our_ms
        print(f"    ratio Odoo's/ours: {ratio:.1f}x (target {target}x: {'met' if ratio >= target else 'missed'})")
