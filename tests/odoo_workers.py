"""Many Odoo workers, one set of platform limits: several real Odoo processes on one database send a queue of
invoices to a platform's simulator while one of them is killed in the middle of the uploads.

Run by the Odoo tier on a database where the country add-on is installed (``--platform ro`` or ``pl``). This
process prepares the company, its connection and the queue (committed), serves the simulator, starts the worker
processes and kills one of them with SIGKILL once a third of the invoices are at the platform. The simulator and
the add-on are given a lower per-minute limit than the platform's (a system parameter, as for a platform that
changes its limits), so that the limit binds within a minute: the calls of every worker must share it.

When the survivors have emptied the queue, time is moved on in the database (the killed worker's upload is past
the 15 minutes after which it counts as interrupted, every check is due) and one worker finishes the queue with
the limits lifted, as the scheduler would over the next runs. Then it checks, from the simulator's own records:
every invoice accepted, each received by the platform exactly once, no answer 429, no worker error; and it prints
the busiest minute and how close the uploads came to the platform's limit.

Usage (the Odoo tier does it): ``python tests/odoo_workers.py -c ODOO.conf -d DATABASE --platform ro|pl``
Exit status 0 when every check holds.
"""

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORKERS = 3
DOCUMENTS = "account.einvoice.document"
UNFINISHED = ("to_send", "sending", "processing", "unknown")
PROBLEM_LINE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) |^Traceback ")
# per platform: invoices queued, and the uploads a minute both the simulator and the add-on allow
SCENARIOS = {"ro": (200, 120), "pl": (150, 100)}
RO_PARAM = "l10n_ro_efactura.calls_per_minute"
PL_PARAM = "l10n_pl_ksef.rate_limits"


# -- the worker processes ---------------------------------------------------------------------------------------
def work(database, phase):
    """What each worker does: scheduled runs, one after another, until the queue is empty. ``send`` runs the
    sending job only; ``finish`` moves time on first at each run (the interrupted upload is past its 15 minutes,
    every check is due) and runs every job of the queue."""
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    registry = Registry(database)
    wanted = ("to_send",) if phase == "send" else UNFINISHED
    for _run in range(2000):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            documents = env[DOCUMENTS]
            if phase == "send":
                documents._cron_send(limit=5)
            else:
                cr.execute(
                    "UPDATE account_einvoice_document SET sent_at = sent_at - interval '1 hour' WHERE state = 'sending'"
                )
                cr.execute("UPDATE account_einvoice_document SET next_check_at = NULL WHERE state IN %s", [UNFINISHED])
                documents._cron_resolve()
                documents._cron_send()
                documents._cron_check()
            left = documents.search_count([("state", "in", wanted)])
        if not left:
            return 0
        time.sleep(0.05)  # the other workers hold what is left: look again
    print(f"{phase}: the queue was not emptied", file=sys.stderr)
    return 1


# -- the coordinator --------------------------------------------------------------------------------------------
class Coordinator:
    def __init__(self, config, database, platform, workdir):
        self.config = config
        self.database = database
        self.platform = platform
        self.workdir = Path(workdir)
        self.invoices, self.per_minute = SCENARIOS[platform]
        self.failures = []

    def check(self, condition, label, detail=""):
        print(f"    {label}: {'ok' if condition else 'FAILED ' + detail}", flush=True)
        if not condition:
            self.failures.append(label)

    def env(self, cr):
        from odoo import SUPERUSER_ID, api

        return api.Environment(cr, SUPERUSER_ID, {})

    def start_worker(self, phase, number):
        log = (self.workdir / f"worker-{self.platform}-{phase}-{number}.log").open("w")
        command = [sys.executable, __file__, "-c", self.config, "-d", self.database, "--work", phase]
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), Path(log.name)

    def run(self):
        from odoo.modules.registry import Registry

        registry = Registry(self.database)
        simulator = self.simulator = self.start_simulator()
        try:
            with registry.cursor() as cr:
                moves = self.prepare(self.env(cr), simulator.url)
                names = set(moves.mapped("name"))
                cr.commit()
            self.move_ids = moves.ids
            print(f"    {len(names)} invoices queued; {WORKERS} workers, {self.per_minute} calls a minute", flush=True)
            started = time.monotonic()
            workers = [self.start_worker("send", n) for n in range(WORKERS)]
            killed = self.kill_one_midway(simulator, workers[0][0])
            logs = [log for process, log in workers[1:] if process.wait() is not None]
            workers[0][0].wait()
            sending_phase = time.monotonic() - started
            with registry.cursor() as cr:
                left = Counter(self.env(cr)[DOCUMENTS].search([("move_id", "in", self.move_ids)]).mapped("state"))
            print(f"    sending took {sending_phase:.0f} s; worker 0 killed after {killed} uploads; left: {dict(left)}")
            self.report_rate(simulator)
            self.lift_limits(registry, simulator)
            finisher, log = self.start_worker("finish", 0)
            logs.append(log)
            self.check(finisher.wait() == 0, "the last worker empties the queue")
            with registry.cursor() as cr:
                self.verify(self.env(cr), simulator, names, logs)
        finally:
            simulator.stop()
        return 0 if not self.failures else 1

    def kill_one_midway(self, simulator, process):
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            uploaded = len(self.uploads(simulator))
            if uploaded >= self.invoices // 3:
                process.send_signal(signal.SIGKILL)
                return uploaded
            time.sleep(0.02)
        self.check(False, "a worker killed in the middle of the uploads", "the uploads ended first")
        return None

    def report_rate(self, simulator):
        """The busiest 60 seconds of the uploads, and their pace against what the limit allows at best."""
        times = sorted(received for _name, received in self.uploads(simulator))
        busiest = max(sum(1 for other in times if moment <= other < moment + 60) for moment in times)
        took = times[-1] - times[0]
        fastest = (math.ceil(len(times) / self.per_minute) - 1) * 60
        pace = len(times) / (took / 60) if took else float("inf")
        print(
            f"    uploads: {len(times)} in {took:.1f} s, busiest minute {busiest} (limit {self.per_minute}); "
            f"the limit lets them end after {fastest} s at the soonest ({fastest / took:.0%} of that pace)"
            if took
            else f"    uploads: {len(times)} at once",
            flush=True,
        )
        self.check(busiest <= self.per_minute, "no minute over the limit", f"{busiest} > {self.per_minute}")
        return pace

    def verify(self, env, simulator, names, logs):
        documents = env[DOCUMENTS].search([("move_id", "in", self.move_ids)])
        states = Counter(documents.mapped("state"))
        accepted = set(documents.filtered(lambda document: document.state == "accepted").move_id.mapped("name"))
        self.check(accepted == names, "every invoice accepted", f"states {dict(states)}")
        received = Counter(name for name, _received in self.uploads(simulator))
        twice = sorted(name for name, count in received.items() if count > 1)
        self.check(not twice, "each invoice received by the platform once", f"twice or more: {twice[:10]}")
        self.check(set(received) == names, "no invoice lost", f"missing: {sorted(names - set(received))[:10]}")
        throttled = Counter(simulator.throttled)
        self.check(not throttled, "no answer 429 from the platform", f"{dict(throttled)}")
        problems = [
            f"{log.name}: {line}" for log in logs for line in log.read_text(errors="replace").splitlines()
            if PROBLEM_LINE.match(line)
        ]  # fmt: skip
        self.check(not problems, "no error in the workers' logs", "\n      ".join(problems[:10]))

    # -- per platform ---------------------------------------------------------------------------------------------
    def start_simulator(self):
        if self.platform == "ro":
            from bench.bench_ro_odoo import SELLER_CIF
            from einvoice.sim.anaf import AnafSimulator

            return AnafSimulator(cifs=(SELLER_CIF,), processing_seconds=0, calls_per_minute=self.per_minute).start()
        from einvoice.pl.ksef import LIMITS
        from einvoice.sim.ksef import KsefSimulator

        limits = {**LIMITS, "online_send": (10, self.per_minute, 1000)}
        return KsefSimulator(limits=limits, processing_delay=0, storage_delay=0).start()

    def prepare(self, env, url):
        """The company, its connection to the simulator, the lower limit and the queue of invoices; the invoices."""
        if self.platform == "ro":
            from bench.bench_ro_odoo import romanian_invoice
            from einvoice.ro.oauth import Tokens

            first = romanian_invoice(env, lines=3)
            env = first.env
            connection = env["l10n_ro_efactura.connection"].create(
                {"name": "ANAF (simulator)", "base_url": url, "company_ids": [first.company_id.id]}
            )
            issued = self.simulator.issue_tokens()
            connection._store_tokens(Tokens(issued["access_token"], issued["refresh_token"], None, None), "workers")
            env["ir.config_parameter"].set_param(RO_PARAM, str(self.per_minute))
        else:
            from bench.bench_pl_odoo import SELLER_NIP, polish_invoice

            first = polish_invoice(env, lines=3)
            env = first.env
            env["l10n_pl_ksef.connection"].create(
                {
                    "name": "KSeF (simulator)",
                    "base_url": url,
                    "auth_method": "token",
                    "ksef_token": self.simulator.issue_ksef_token(SELLER_NIP),
                }
            )
            env["ir.config_parameter"].set_param(PL_PARAM, json.dumps({"online_send": [10, self.per_minute, 1000]}))
        moves = first
        for _copy in range(self.invoices - 1):
            moves |= first.copy({"invoice_date": first.invoice_date})
        (moves - first).action_post()
        moves.einvoice_document_ids.filtered(lambda document: document.state == "to_send").unlink()
        moves._einvoice_queue()
        return moves

    def uploads(self, simulator):
        """``(invoice number, when the platform received it)`` of every invoice the simulator took."""
        if self.platform == "ro":
            from lxml import etree

            found = []
            for upload in list(simulator.uploads.values()):
                number = etree.fromstring(upload.xml).findtext("{*}ID")
                found.append((number, upload.received_at))
            return found
        return [(invoice.number, invoice.received_at.timestamp()) for invoice in list(simulator.invoices.values())]

    def lift_limits(self, registry, simulator):
        """The rest of the queue (the killed worker's upload, the checks) goes without the lower limit."""
        with registry.cursor() as cr:
            parameters = self.env(cr)["ir.config_parameter"]
            if self.platform == "ro":
                parameters.set_param(RO_PARAM, "100000")
                simulator.limits["calls_per_minute"] = 100000
            else:
                from einvoice.pl.ksef import LIMITS

                parameters.set_param(PL_PARAM, json.dumps({family: [None, None, None] for family in LIMITS}))
                simulator.limits = {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", dest="config", required=True)
    parser.add_argument("-d", dest="database", required=True)
    parser.add_argument("--platform", choices=sorted(SCENARIOS))
    parser.add_argument("--work", choices=("send", "finish"))
    args = parser.parse_args()

    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level", "warn"])
    if args.work:
        return work(args.database, args.work)
    with tempfile.TemporaryDirectory(prefix="einvoice-workers-") as workdir:
        coordinator = Coordinator(args.config, args.database, args.platform, workdir)
        status = coordinator.run()
        if status:
            kept = Path(tempfile.mkdtemp(prefix="einvoice-workers-logs-"))
            for log in Path(workdir).glob("*.log"):
                os.replace(log, kept / log.name)
            print(f"    logs kept in {kept}")
        return status


if __name__ == "__main__":
    sys.exit(main())
