"""``einvoice demo``: the main job against the embedded simulators, with progress shown.

Romania: the certificate holder authorises the application (OAuth), invoices are built, checked, written as CIUS-RO,
uploaded, polled and their signed archives downloaded; a rejected invoice shows ANAF's reasons; an upload whose
answer is lost is resolved by asking ANAF, never by sending again; a supplier invoice arrives in the SPV inbox and is
read back.

Poland: a KSeF token login, FA(3) invoices sent in an online session with their KSeF numbers and UPO, a duplicate
answered with the original's number, a lost send answer resolved by its hash, and a supplier's invoice fetched by the
incremental (high-water-mark) sync.
"""

import secrets
import textwrap
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import requests

from .cli_support import timestamp
from .http import OutcomeUnknownError
from .model import Address, Identifier, Invoice, Line, Party, PaymentMeans, PrecedingInvoice
from .pl import fa3
from .pl.ksef import Authenticator, HighWaterMarkSync, Incoming, KsefClient, KsefTokenLogin, OnlineSession
from .pl.model import PlInvoice
from .ro import ciusro
from .ro.anaf import AnafClient, Endpoints, State, UploadResolver
from .ro.oauth import AnafOAuth, StateSigner
from .sim import ManualClock
from .sim.anaf import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, AnafSimulator
from .sim.ksef import KsefSimulator

SELLER_CIF = "18547290"
CALLBACK = "https://erp.example.ro/einvoice/anaf/callback"
SELLER = Party(
    name="Alfa Distributie SRL",
    vat_id=f"RO{SELLER_CIF}",
    legal_id=Identifier("J40/12345/2015"),
    address=Address("RO", "Strada Lunga 10", city="SECTOR3", postal_code="030167", subdivision="RO-B"),
)
BUYER = Party(
    name="Beta Constructii SA",
    vat_id="RO14399840",
    address=Address("RO", "Bulevardul Eroilor 5", city="Cluj-Napoca", postal_code="400129", subdivision="RO-CJ"),
)


def step(title):
    print(f"\n== {title}", flush=True)


def run():
    # the simulator and its client share a clock the demo moves: ANAF's processing delays pass without waiting
    clock = ManualClock(time.time())
    with AnafSimulator(cifs=(SELLER_CIF,), processing_seconds=30, clock=clock) as anaf:
        client = AnafClient(_authorise(anaf), endpoints=Endpoints.at(anaf.url), clock=clock)
        _send_invoices(client, clock)
        _rejected_invoice(client, clock)
        _lost_answer(anaf, client, clock)
        _inbox(anaf, client)
    _poland()
    print("\nDemo finished.")
    return 0


def _authorise(anaf):
    step("ANAF: the certificate holder authorises the application (OAuth 2.0)")
    oauth = AnafOAuth(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        CALLBACK,
        oauth_url=Endpoints.at(anaf.url).oauth,
        api_root=Endpoints.at(anaf.url).api_root,
    )
    signer, used = StateSigner(secrets.token_bytes(32)), set()
    url = oauth.authorize_url(signer.issue({"company": 1, "user": 2}))
    # the holder's browser approves on ANAF's page; ANAF sends it back to our callback with a code
    answer = requests.get(url, params={"approve": "yes"}, allow_redirects=False, timeout=10)
    callback = {key: values[0] for key, values in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    signer.verify(callback["state"], consume=lambda nonce: nonce not in used and not used.add(nonce))
    tokens = oauth.exchange_code(callback["code"])
    print(f"  access token valid until {timestamp(tokens.access_expires_at)}")
    print(f"  refresh token valid until {timestamp(tokens.refresh_expires_at)}")
    return tokens.access_token


def _invoice(number, lines, **fields):
    return Invoice.build(
        number=number,
        issue_date=date.today(),
        due_date=date.today().replace(day=28),
        type_code=fields.pop("type_code", "380"),
        currency="RON",
        seller=SELLER,
        buyer=BUYER,
        payment_means=(PaymentMeans("30", account_id="RO49AAAA1B31007593840000"),),
        lines=lines,
        **fields,
    )


def _line(number, quantity, price, rate="21", name=None):
    quantity, price = Decimal(quantity), Decimal(price)
    return Line(str(number), quantity, "H87", quantity * price, price, name or f"Articol {number}", "S", Decimal(rate))


def _upload_and_follow(client, clock, invoice, label, *, strict=True):
    xml = ciusro.render(invoice, strict=strict)
    print(f"  {label} {invoice.number}: {invoice.totals.payable} RON, written as CIUS-RO ({len(xml)} bytes)")
    upload = client.upload(xml, SELLER_CIF, standard="CN" if invoice.is_credit_note else "UBL")
    print(f"    uploaded, index {upload.index}")
    status = client.status(upload.index)
    while status.state == State.PROCESSING:
        clock.advance(20)
        status = client.status(upload.index)
    print(f"    ANAF: {status.state}")
    return upload, status


def _send_invoices(client, clock):
    step("Send: build, check, write CIUS-RO, upload, poll, download the signed archive")
    invoice = _invoice("ALF-2026-0101", [_line(1, "3", "125.00"), _line(2, "10", "9.90", rate="11")])
    credit = _invoice(
        "ALF-CN-2026-0007",
        [_line(1, "1", "125.00")],
        type_code="381",
        preceding_invoices=(PrecedingInvoice("ALF-2026-0101", date.today()),),
    )
    for label, document in (("invoice", invoice), ("credit note", credit)):
        _upload, status = _upload_and_follow(client, clock, document, label)
        download = client.download(status.download_id)
        print(
            f"    signed archive kept byte for byte: {len(download.archive)} bytes, signature {download.signature_name}"
        )


def _rejected_invoice(client, clock):
    step("Rejected: our checks stop it before upload, and ANAF would say the same")
    broken = _invoice("ALF-2026-0102", [_line(1, "1", "50.00")])
    broken = replace(broken, buyer=replace(BUYER, address=replace(BUYER.address, subdivision="Cluj")))
    try:
        ciusro.render(broken)
    except ciusro.CiusRoError as refusal:
        print(f"  not sent: {refusal}")
        for finding in refusal.findings:
            print(f"    {finding}")
    print("  sent anyway, to compare with ANAF:")
    _upload, status = _upload_and_follow(client, clock, broken, "invoice", strict=False)
    for error in client.download(status.download_id).error_report.errors:
        print(f"    ANAF says: {shortened(error)}")


def shortened(text, width=110):
    """``text`` on one line of at most ``width`` characters, cut between words and ending with "…" when cut."""
    return textwrap.shorten(text, width, placeholder=" …")


def _lost_answer(anaf, client, clock):
    step("Lost answer: the upload reached ANAF but its answer did not reach us")
    invoice = _invoice("ALF-2026-0103", [_line(1, "2", "300.00")])
    xml = ciusro.render(invoice)
    sent_at = datetime.fromtimestamp(clock(), timezone.utc)
    anaf.inject("lost", path="/upload")
    try:
        client.upload(xml, SELLER_CIF)
    except OutcomeUnknownError as error:
        print(f"  {error}")
    resolver = UploadResolver(client)
    resolution = resolver.resolve(SELLER_CIF, sent_at=sent_at, xml=xml)
    while resolution.outcome == UploadResolver.TOO_EARLY:
        print("  asked ANAF: not listed yet; asking again in a minute (never uploading again)")
        clock.advance(60)
        resolution = resolver.resolve(SELLER_CIF, sent_at=sent_at, xml=xml)
    print(f"  asked ANAF: {resolution.outcome}, index {resolution.index}, state {resolution.state}")
    copies = sum(1 for upload in anaf.uploads.values() if upload.xml == xml)
    print(f"  uploads ANAF received for this invoice: {copies} (never sent twice)")


def _inbox(anaf, client):
    step("Inbox: a supplier invoice arrives in SPV and is read")
    supplier = Party(
        name="Gama Materiale SRL",
        vat_id="RO16547290",
        address=Address("RO", "Strada Fabricii 3", city="Brasov", subdivision="RO-BV"),
    )
    purchase = replace(
        _invoice("GM-7781", [_line(1, "40", "12.35", name="Ciment 40kg")]), seller=supplier, buyer=SELLER
    )
    anaf.add_received(SELLER_CIF, ciusro.render(purchase), seller_cif="16547290")
    for message in client.messages(SELLER_CIF, days=1):
        if message.kind != "FACTURA PRIMITA":
            continue
        received = client.download(message.id)
        invoice = ciusro.read(received.document).invoice
        print(f"  {message.kind}: {invoice.seller.name} {invoice.number}, {invoice.totals.payable} {invoice.currency}")
        lines = f"{len(invoice.lines)} line" + ("" if len(invoice.lines) == 1 else "s")
        print(f"    {lines}; ANAF's signature kept as {received.signature_name}")


# -- Poland ----------------------------------------------------------------------------------------------------------
PL_SELLER = Party(
    name="Alfa Dystrybucja sp. z o.o.",
    vat_id="PL5260250274",
    address=Address("PL", "ul. Marszałkowska 10", city="Warszawa", postal_code="00-590"),
)
PL_BUYER = Party(
    name="Beta Budownictwo S.A.",
    vat_id="PL7740001454",
    address=Address("PL", "ul. Długa 5", city="Kraków", postal_code="31-147"),
)


def _pl_invoice(number, lines, seller=PL_SELLER, buyer=PL_BUYER):
    return Invoice.build(
        number=number,
        issue_date=date.today(),
        due_date=date.today(),
        type_code="380",
        currency="PLN",
        seller=seller,
        buyer=buyer,
        payment_means=(PaymentMeans("30", account_id="PL61109010140000071219812874"),),
        lines=[
            Line(str(n), Decimal(q), "szt.", Decimal(q) * Decimal(p), Decimal(p), name, "S", Decimal(rate))
            for n, (q, p, rate, name) in enumerate(lines, start=1)
        ],
        extensions={"pl": PlInvoice()},
    )


def _poland():
    nip = PL_SELLER.vat_id[2:]
    clock = ManualClock(time.time())
    with KsefSimulator(clock=clock.datetime) as ksef:
        client = KsefClient(ksef.url, now=clock.datetime, sleep=clock.advance, clock=clock)
        step("KSeF: log in with a KSeF token (encrypted for the Ministry's current key)")
        auth = Authenticator(client, nip, KsefTokenLogin(ksef.issue_ksef_token(nip)))
        auth.access_token()
        print(f"  signed in for NIP {nip}; access token until {timestamp(auth.access.valid_until)},")
        print(f"  refresh token until {timestamp(auth.refresh_token.valid_until)}")

        step("Send: FA(3) invoices in an online session (AES-256, hashes checked), KSeF numbers and UPO")
        session = OnlineSession.open(client, auth)
        invoices = [
            _pl_invoice("FV/2026/11/0001", [("3", "125.00", "23", "Cement 25 kg"), ("10", "9.90", "8", "Książka")]),
            _pl_invoice("FV/2026/11/0002", [("1", "4999.00", "23", "Koparka, wynajem")]),
        ]
        sent = [session.send(fa3.write(invoice)) for invoice in invoices]
        clock.advance(5)
        for invoice, item in zip(invoices, sent, strict=True):
            status = session.sessions.invoice_status(session.reference_number, item.reference_number)
            upo = session.sessions.invoice_upo(session.reference_number, item.reference_number)
            print(f"  {invoice.number}: {invoice.totals.payable} PLN, {status.state}, KSeF number {status.ksef_number}")
            print(f"    UPO kept byte for byte: {len(upo)} bytes")

        step("Duplicate: the same invoice again is answered with the original's KSeF number")
        again = OnlineSession.open(client, auth)
        resent = again.send(fa3.write(invoices[0]))
        clock.advance(5)
        status = again.sessions.invoice_status(again.reference_number, resent.reference_number)
        print(f"  KSeF: {status.state} ({status.code}); original KSeF number {status.ksef_number}")

        step("Lost answer: the invoice reached KSeF, its answer did not reach us")
        lost = _pl_invoice("FV/2026/11/0003", [("2", "300.00", "23", "Usługa montażu")])
        xml = fa3.write(lost)
        ksef.inject("lost", path=r"/sessions/online/.*/invoices$")
        found = again.send(xml)
        copies = sum(1 for record in ksef.invoices.values() if record.xml == xml)
        print(f"  found in the session's invoice list by its hash: {found.recovered}; invoices KSeF holds: {copies}")

        step("Incoming: a supplier's invoice, fetched by the incremental sync from the high-water mark")
        supplier = Party(
            name="Gamma Materiały sp. z o.o.",
            vat_id="PL1132853869",
            address=Address("PL", "ul. Szkolna 2", city="Radom", postal_code="26-600"),
        )
        purchase = _pl_invoice("GM/7781", [("40", "12.35", "23", "Cement 40 kg")], seller=supplier, buyer=PL_SELLER)
        since = clock.datetime() - timedelta(days=1)
        ksef.seed_invoice(fa3.write(purchase))
        clock.advance(120)
        result = HighWaterMarkSync(Incoming(client, auth)).run(since)
        for ksef_number, document in result.invoices.items():
            received = fa3.read(document).invoice
            print(f"  {ksef_number}: {received.seller.name} {received.number}, {received.totals.payable} PLN")
        print(f"  next sync from {timestamp(result.next_from)}")
