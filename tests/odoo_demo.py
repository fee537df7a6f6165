"""The Odoo part of ``make demo``: a Romanian company in a real Odoo 19 database, connected to the ANAF simulator.

It creates the database ``einv_demo_ro`` (dropped first when it exists) with ``l10n_ro_efactura``, a company in
Bucharest on the Romanian chart and a customer in Cluj, connects the company to the simulator, then shows from
``account.move``: an invoice sent and accepted with ANAF's signed archive kept; an invoice whose problems are all
shown before anything is uploaded; an upload whose answer is lost, resolved by asking ANAF (one upload, never two).
The database is kept for a look in the browser (``odoo -d einv_demo_ro``). Without an importable Odoo 19 it prints
SKIPPED.

Usage, from the repository root: ``.venv/bin/python -m tests.odoo_demo``
"""

import sys
import time

DATABASE = "einv_demo_ro"


def step(text):
    print(f"  {text}", flush=True)


def demo(env):
    from odoo.exceptions import UserError

    from bench.bench_ro_odoo import SELLER_CIF, romanian_invoice
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
    finally:
        connection_class._clock = real_clock
        anaf.stop()


def main():
    print("Odoo: a Romanian company sends invoices to the ANAF simulator", flush=True)
    try:
        import odoo.release
    except ImportError:
        print("  SKIPPED: Odoo 19 is not importable here")
        return 0
    if odoo.release.version_info[0] != 19:
        print(f"  SKIPPED: Odoo {odoo.release.version} is not Odoo 19")
        return 0

    import psycopg2

    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    from bench.bench_ro_odoo import database_exists, drop_database, install, odoo_options

    config.parse_config(odoo_options(DATABASE))
    try:
        exists = database_exists(DATABASE)
    except psycopg2.OperationalError as error:
        print(f"  SKIPPED: PostgreSQL is not reachable ({error.__class__.__name__}); start it and run again")
        return 0
    if exists:
        drop_database(DATABASE)
    install(DATABASE)
    with Registry(DATABASE).cursor() as cr:
        demo(api.Environment(cr, SUPERUSER_ID, {}))
        cr.commit()
    print(f"  kept: database {DATABASE} (odoo -d {DATABASE}, user admin / admin)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
