"""The Odoo part of ``make demo``: a Romanian and a Polish company in a real Odoo 19 database, each connected to
its platform's simulator.

It creates the database ``einv_demo`` (dropped first when it exists) with ``l10n_ro_efactura`` and ``l10n_pl_ksef``.
The Romanian company (Bucharest, Romanian chart) shows from ``account.move``: an invoice sent and accepted with
ANAF's signed archive kept; an invoice whose problems are all shown before anything is uploaded; an upload whose
answer is lost, resolved by asking ANAF (one upload, never two); then supplier invoices fetched from SPV and imported
as draft vendor bills. The Polish company (Warsaw, Polish chart) sends an invoice to KSeF and gets its KSeF number
and UPO, then imports its purchase invoices from KSeF. Without an importable Odoo 19 it prints SKIPPED.

Then both connections are switched to the *sandbox* (the simulators served by the Odoo server itself), with an
invoice of each company posted and waiting, and the database is served on http://localhost:8193 (admin / admin)
until Ctrl-C, so every step can be clicked: Connect to ANAF, Send to ANAF, Create test certificate, Verify
connection, Create KSeF token, Send to KSeF. When standard input is not a terminal (a script, CI) it is not served:
the command that serves it is printed instead.

Usage, from the repository root: ``.venv/bin/python -m tests.odoo_demo`` (``--serve`` only serves the kept
database).
"""

import subprocess
import sys
import time

from bench import odoo_db
from bench.timing import Skipped

DATABASE = "einv_demo"
MODULES = ["l10n_ro_efactura", "l10n_pl_ksef"]
HTTP_PORT = "8193"
ADDRESS = f"http://localhost:{HTTP_PORT}"


def step(text):
    print(f"  {text}", flush=True)


def demo_ro(env):
    from odoo.exceptions import UserError

    from bench.bench_inbox_odoo import cui
    from bench.bench_ro_odoo import SELLER_CIF, romanian_invoice
    from einvoice import ubl
    from einvoice.ro.oauth import Tokens
    from einvoice.sim import ManualClock
    from einvoice.sim.anaf import AnafSimulator

    accepted = romanian_invoice(env, lines=5)
    env = accepted.env
    company = accepted.company_id
    step(f"company {company.name} (CUI {SELLER_CIF}) on the Romanian chart, invoice {accepted.name} posted")

    clock = ManualClock(time.time())  # the simulated world's time: the demo moves it instead of waiting
    anaf = AnafSimulator(cifs=(SELLER_CIF,), processing_seconds=0, clock=clock).start()
    connection_class = type(env["l10n_ro_efactura.connection"])
    real_clock = connection_class._clock
    connection_class._clock = staticmethod(clock)
    try:
        connection = env["l10n_ro_efactura.connection"].create(
            {"name": "ANAF (simulator)", "base_url": anaf.url, "company_ids": [company.id]}
        )
        issued = anaf.issue_tokens()
        connection._store_tokens(Tokens(issued["access_token"], issued["refresh_token"], None, None), "demo")
        step(f"connected to the ANAF simulator at {anaf.url}; tokens stored encrypted")

        accepted.action_einvoice_send()
        document = accepted.einvoice_document_id
        step(f"Send to ANAF: {accepted.name} is {document.state}, upload index {document.platform_reference}")
        accepted.action_einvoice_check()
        step(
            f"Refresh status: {document.state}; ANAF's signed archive kept "
            f"({len(document.response_attachment_id.raw)} bytes, download id {document.platform_number})"
        )

        nowhere = accepted.partner_id.copy({"state_id": False, "street": False})
        incomplete = accepted.copy({"partner_id": nowhere.id, "invoice_date": accepted.invoice_date})
        incomplete.action_post()
        try:
            incomplete.action_einvoice_send()
        except UserError as problems:
            listed = [line.strip() for line in str(problems).splitlines() if line.strip().startswith("•")]
            step(f"Send to ANAF on {incomplete.name}: refused before upload, {len(listed)} problems shown at once:")
            for line in listed:
                step(f"    {line}")

        lost = accepted.copy({"invoice_date": accepted.invoice_date})
        lost.action_post()
        anaf.inject("lost", path="/upload")
        lost.action_einvoice_send()
        step(f"Send to ANAF on {lost.name}: the answer is lost, state {lost.einvoice_state}")
        clock.advance(180)  # ANAF lists a message a little after it decided; we ask once it is listed
        env["account.einvoice.document"]._cron_resolve()
        uploads = [
            upload for upload in anaf.uploads.values() if upload.xml == lost.einvoice_document_id.attachment_id.raw
        ]
        step(f"the scheduler asked ANAF: {lost.einvoice_state}, uploads of that invoice at ANAF: {len(uploads)}")

        vendor_cif = cui(2_345_678)
        vendor = env["res.partner"].create(
            {"name": "Gama Materiale SRL", "is_company": True, "vat": f"RO{vendor_cif}", "city": "Brașov",
             "country_id": env.ref("base.ro").id}
        )  # fmt: skip
        for number, amount in (("GAMA-501", "1200.00"), ("GAMA-502", "80.50")):
            xml = ubl.write(supplier_invoice(number, amount, f"RO{SELLER_CIF}", vendor, 21))
            anaf.add_received(SELLER_CIF, xml, seller_cif=vendor_cif)
        clock.advance(120)
        inbox = env["account.einvoice.inbox"]
        inbox._cron_l10n_ro_efactura_sync()
        show_inbox(inbox.search([("platform", "=", "ro_efactura")], order="id"))
    finally:
        connection_class._clock = real_clock
        anaf.stop()


def supplier_invoice(number, amount, buyer_vat, vendor, rate, extensions=None):
    """An invoice a supplier files for us: two lines at ``rate`` %."""
    from datetime import date
    from decimal import Decimal

    from einvoice.model import Address, Invoice, Line, Party

    amount = Decimal(amount)
    return Invoice.build(
        number=number,
        issue_date=date(2026, 11, 18),
        type_code="380",
        currency=vendor.company_id.currency_id.name or vendor.env.company.currency_id.name,
        seller=Party(name=vendor.name, vat_id=vendor.vat, address=Address(vendor.country_id.code, city=vendor.city)),
        buyer=Party(name="Alfa", vat_id=buyer_vat),
        lines=[
            Line("1", Decimal(2), "H87", amount, amount / 2, "Ciment Portland 40 kg", "S", Decimal(rate)),
            Line("2", Decimal(1), "C62", Decimal("10.00"), Decimal("10.00"), "Transport", "S", Decimal(rate)),
        ],
        extensions=extensions or {},
    )


def show_inbox(messages):
    for message in messages.filtered(lambda message: message.kind == "invoice"):
        bill = message.move_id
        step(
            f"    {message.platform_id}: {message.invoice_number} from {bill.partner_id.name or '?'} -> draft bill "
            f"{bill.amount_total:.2f} {bill.currency_id.name}, {message.state}"
        )


def demo_pl(env):
    from bench.bench_pl_odoo import SELLER_NIP, polish_invoice
    from einvoice.pl import fa3
    from einvoice.pl.model import PlInvoice
    from einvoice.sim import ManualClock
    from einvoice.sim.ksef import KsefSimulator

    sent = polish_invoice(env, lines=5)
    env = sent.env
    step(f"company {sent.company_id.name} (NIP {SELLER_NIP}) on the Polish chart, invoice {sent.name} posted")
    clock = ManualClock(time.time())
    ksef = KsefSimulator(clock=clock.datetime).start()
    connection_class = type(env["l10n_pl_ksef.connection"])
    real = connection_class._ksef_now, connection_class._ksef_sleep
    connection_class._ksef_now, connection_class._ksef_sleep = staticmethod(clock.datetime), staticmethod(clock.advance)
    try:
        env["l10n_pl_ksef.connection"].create(
            {
                "name": "KSeF (simulator)",
                "base_url": ksef.url,
                "auth_method": "token",
                "ksef_token": ksef.issue_ksef_token(SELLER_NIP),
            }
        )
        step(f"connected to the KSeF simulator at {ksef.url} with a KSeF token, stored encrypted")
        sent.action_einvoice_send()
        clock.advance((ksef.processing_delay + ksef.storage_delay).total_seconds() + 1)
        sent.action_einvoice_check()
        document = sent.einvoice_document_id
        step(
            f"Send to KSeF: {sent.name} is {document.state}, KSeF number {document.platform_number}, "
            f"UPO kept ({len(document.response_attachment_id.raw or b'')} bytes)"
        )
        vendor = sent.partner_id
        for number, amount in (("BB/2026/77", "400.00"), ("BB/2026/78", "55.00")):
            invoice = supplier_invoice(number, amount, f"PL{SELLER_NIP}", vendor, 23, {"pl": PlInvoice()})
            ksef.seed_invoice(fa3.write(invoice))
            clock.advance(1)
        inbox = env["account.einvoice.inbox"]
        inbox._cron_l10n_pl_ksef_sync()
        step("purchase invoices fetched from KSeF:")
        show_inbox(inbox.search([("platform", "=", "pl_ksef")], order="id"))
    finally:
        connection_class._ksef_now, connection_class._ksef_sleep = real
        ksef.stop()


def leave_a_sandbox(env):
    """Both connections on the sandbox, not yet signed in, with an invoice of each company waiting to be sent."""
    admin = env.ref("base.user_admin")
    admin.write({"company_ids": [(6, 0, env["res.company"].search([]).ids)]})  # the administrator sees both companies
    env["ir.config_parameter"].set_param("web.base.url", ADDRESS)
    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")  # ANAF's callback is this very address
    for connection in env["l10n_ro_efactura.connection"].search([]):
        connection.write({"environment": "sandbox", "base_url": False, "name": "ANAF (sandbox)"})
        connection.sudo().write(
            {"access_token_encrypted": False, "refresh_token_encrypted": False, "authorised_by": False}
        )
    for connection in env["l10n_pl_ksef.connection"].search([]):
        connection.write(
            {"environment": "sandbox", "base_url": False, "name": "KSeF (sandbox)", "auth_method": "certificate"}
        )
    accepted = env["account.move"].search([("einvoice_state", "=", "accepted")], order="id")
    waiting = []
    for company, moves in accepted.grouped("company_id").items():
        move = moves[0].with_company(company).with_context(allowed_company_ids=company.ids)
        copy = move.copy({"invoice_date": move.invoice_date})
        copy.action_post()
        waiting.append(copy.name)
    step(f"sandbox: both connections on the simulated platforms; {', '.join(waiting)} posted, waiting to be sent")


def serve():
    command = [sys.executable, "-m", "odoo", "server", *odoo_db.odoo_options(DATABASE, HTTP_PORT)]
    command += ["--workers", "0", "--db-filter", f"^{DATABASE}$", "--log-level", "warn"]
    if not sys.stdin.isatty():
        print(f"  to click through it: {sys.executable} -m tests.odoo_demo --serve  (then {ADDRESS}, admin / admin)")
        return 0
    print(f"  serving {ADDRESS}/odoo  (login admin, password admin); Ctrl-C stops", flush=True)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def main():
    if "--serve" in sys.argv[1:]:
        return serve()
    print("Odoo: a Romanian company with ANAF and a Polish company with KSeF, on their simulators", flush=True)
    try:
        odoo_db.require_odoo_19()
    except Skipped as reason:
        print(f"  SKIPPED: {reason}")
        return 0

    import psycopg2

    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(odoo_db.odoo_options(DATABASE, HTTP_PORT))
    try:
        exists = odoo_db.database_exists(DATABASE)
    except psycopg2.OperationalError as error:
        print(f"  SKIPPED: PostgreSQL is not reachable ({error.__class__.__name__}); start it and run again")
        return 0
    if exists:
        odoo_db.drop_database(DATABASE)
    odoo_db.install(DATABASE, MODULES, HTTP_PORT)
    with Registry(DATABASE).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        print("Romania: RO e-Factura through the ANAF simulator", flush=True)
        demo_ro(env)
        print("Poland: KSeF through the KSeF simulator", flush=True)
        demo_pl(env)
        leave_a_sandbox(env)
        cr.commit()
    print(f"  kept: database {DATABASE}")
    return serve()


if __name__ == "__main__":
    sys.exit(main())
