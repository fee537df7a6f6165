"""The ANAF simulator driven by a third-party client: ``anafpy`` from PyPI (Python 3.12 or later, on httpx2 and
pydantic; installed in the current-releases environment only).

Each step is its own test, in order, on one simulator: OAuth (the authorisation code, then a refresh after a 401),
upload, status, the message lists, download, the signature check, validation, PDF and a 429. anafpy speaks to ANAF's
own hosts (logincert.anaf.ro, api.anaf.ro, webservicesp.anaf.ro) and has no setting for another one; the test hands it
httpx2 clients whose transport carries each request to the simulator on 127.0.0.1 instead, paths and bodies untouched.
"""

import asyncio
import base64
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

anafpy = pytest.importorskip("anafpy", reason="the third-party ANAF client anafpy is not installed (Python >= 3.12)")

import httpx2  # noqa: E402
from anafpy.auth.oauth import DEFAULT_REDIRECT_URI, build_authorize_url, exchange_code  # noqa: E402
from anafpy.auth.provider import AnafAuth, TokenProvider  # noqa: E402
from anafpy.auth.store import MemoryTokenStore  # noqa: E402
from anafpy.efactura.client import EFacturaClient  # noqa: E402
from anafpy.efactura.models import Filter, MessageState  # noqa: E402
from anafpy.exceptions import AnafRateLimitError  # noqa: E402
from anafpy.public.client import PublicClient  # noqa: E402
from cryptography import x509  # noqa: E402
from lxml import etree  # noqa: E402

from einvoice.sim import ManualClock  # noqa: E402
from einvoice.sim.anaf import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, AnafSimulator  # noqa: E402

from .ro_samples import ok_invoice, old_invoice  # noqa: E402

CIF = "1111111111118"  # the seller of ubl_b2g_example0.xml
BUYER = "8000000000"
DSIG = "{http://www.w3.org/2000/09/xmldsig#}"


class ToTheSimulator(httpx2.AsyncBaseTransport):
    """Sends every request to the simulator's host and port, whatever ANAF host it was addressed to."""

    def __init__(self, origin):
        parts = urlsplit(origin)
        self.host, self.port = parts.hostname, parts.port
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request):
        request.url = request.url.copy_with(scheme="http", host=self.host, port=self.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self):
        await self.inner.aclose()


@pytest.fixture(scope="module")
def clock():
    # an hour behind the machine's: anafpy builds its list windows on the machine's clock, ANAF refuses an endTime
    # past its own and quotes that ("... momentul requestului = dd-MM-yyyy HH:mm:ss", anaf-protocol.md), and anafpy
    # rebuilds the window once on ANAF's clock, so the lists below also prove the simulator's wording is read
    return ManualClock(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1))


@pytest.fixture(scope="module")
def sim(clock):
    with AnafSimulator(clock=clock, processing_seconds=60, cifs=(CIF, BUYER)) as server:
        yield server


@pytest.fixture(scope="module")
def day():
    """What the steps hand on to the next: the token store, upload indexes, download ids. Every step skips when
    ANAF's example invoices are missing, rather than failing for lack of what an earlier step skipped."""
    ok_invoice()
    return {"store": MemoryTokenStore()}


def http(sim, base_url="", auth=None):
    return httpx2.AsyncClient(base_url=base_url, auth=auth, transport=ToTheSimulator(sim.url), timeout=10)


async def with_efactura(sim, day, work):
    """Runs ``work(client)`` with anafpy's e-Factura client (test environment) signed in from the token store."""
    async with http(sim) as token_http:
        provider = TokenProvider(
            client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, store=day["store"], http=token_http
        )
        base = "https://api.anaf.ro/test/FCTEL/rest/"
        async with http(sim, base, AnafAuth(provider)) as service, EFacturaClient(provider, http=service) as client:
            return await work(client)


async def with_public(sim, work):
    async with (
        http(sim, "https://webservicesp.anaf.ro") as service,
        PublicClient(http=service, min_request_interval=0) as client,
    ):
        return await work(client)


def run(coroutine):
    return asyncio.run(coroutine)


# -- OAuth ---------------------------------------------------------------------------------------------------------
def test_oauth_authorization_code(sim, day):
    """The browser step as a person does it (the consent page, then Autorizare), then anafpy's code exchange."""

    async def login():
        async with http(sim) as browser:
            url = build_authorize_url(DEFAULT_CLIENT_ID, DEFAULT_REDIRECT_URI, state="peer-state")
            consent = await browser.get(url)
            assert consent.status_code == 200
            approve = re.search(r'id="approve" href="([^"]+)"', consent.text).group(1).replace("&amp;", "&")
            redirected = await browser.get(url.split("?")[0] + approve)
            assert redirected.status_code == 302
            callback = urlsplit(redirected.headers["Location"])
            assert f"{callback.scheme}://{callback.netloc}{callback.path}" == DEFAULT_REDIRECT_URI
            answer = parse_qs(callback.query)
            assert answer["state"] == ["peer-state"]
            return await exchange_code(
                browser,
                client_id=DEFAULT_CLIENT_ID,
                client_secret=DEFAULT_CLIENT_SECRET,
                code=answer["code"][0],
                redirect_uri=DEFAULT_REDIRECT_URI,
            )

    tokens = run(login())
    assert tokens.access_token.count(".") == 2  # the JWT anafpy asked for (token_content_type=jwt)
    assert tokens.access_token in sim._access and tokens.refresh_token in sim._refresh
    assert not tokens.access_expired() and not tokens.refresh_expired()
    day["store"].save(tokens)


def test_oauth_refresh_after_a_401(sim, day):
    """An access token ANAF no longer honours: anafpy refreshes once, headless, and repeats the call."""
    stale = day["store"].load()
    sim._access.pop(stale.access_token)

    async def status_of_nothing(client):
        async for message in client.list_messages(cif=CIF, days=1):
            return message
        return None

    assert run(with_efactura(sim, day, status_of_nothing)) is None
    fresh = day["store"].load()
    assert fresh.access_token != stale.access_token and fresh.refresh_token != stale.refresh_token
    assert stale.refresh_token not in sim._refresh  # rotated
    sent = [r.headers.get("Authorization") for r in sim.requests_to("listaMesajePaginatieFactura")]
    assert sent[0] == f"Bearer {stale.access_token}" and set(sent[1:]) == {f"Bearer {fresh.access_token}"}


# -- filing --------------------------------------------------------------------------------------------------------
def test_upload(sim, day):
    async def upload(client):
        good = await client.upload(ok_invoice(), cif=CIF)
        bad = await client.upload(old_invoice(), cif=CIF)
        refused = await client.upload(ok_invoice(), cif="123")
        return good, bad, refused

    good, bad, refused = run(with_efactura(sim, day, upload))
    assert good.accepted and bad.accepted
    assert sim.uploads[good.upload_id].xml == ok_invoice()
    assert sim.uploads[good.upload_id].standard == "UBL"
    assert not refused.accepted and refused.errors == ["Nu aveti drept in SPV pentru CIF=123"]
    day.update(good=good.upload_id, bad=bad.upload_id)


def test_status(sim, clock, day):
    async def statuses(client):
        return [await client.get_status(day[name]) for name in ("good", "bad")]

    assert [s.state for s in run(with_efactura(sim, day, statuses))] == [MessageState.PROCESSING] * 2
    clock.advance(sim.processing_seconds)
    good, bad = run(with_efactura(sim, day, statuses))
    assert (good.state, bad.state) == (MessageState.OK, MessageState.NOK)
    assert good.download_id == sim.uploads[day["good"]].download_id
    day.update(good_download=good.download_id, bad_download=bad.download_id)


def test_lists(sim, clock, day):
    received = sim.add_received(BUYER, ok_invoice(), seller_cif=CIF)
    clock.advance(120)  # anafpy leaves the last minute out of its windows (_END_CLOCK_SKEW_MS)
    asked_before = len(sim.requests_to("listaMesajePaginatieFactura"))

    async def lists(client):
        async def listed(cif, kind=None):
            return [m async for m in client.list_messages(cif=cif, days=1, filter=kind)]

        return await listed(CIF), await listed(CIF, Filter.ERRORS), await listed(BUYER, Filter.RECEIVED)

    everything, errors, inbox = run(with_efactura(sim, day, lists))
    assert {m.id for m in everything} == {day["good_download"], day["bad_download"]}
    assert [(m.id, m.request_id) for m in errors] == [(day["bad_download"], day["bad"])]
    sent = next(m for m in everything if m.id == day["good_download"])
    assert (sent.message_type, sent.sender_cif, sent.cif) == ("FACTURA TRIMISA", CIF, CIF)
    assert [(m.id, m.message_type, m.receiver_cif) for m in inbox] == [(received, "FACTURA PRIMITA", BUYER)]
    # each list was asked twice: once on the machine's clock, refused as in ANAF's future, then on ANAF's own
    asked = sim.requests_to("listaMesajePaginatieFactura")[asked_before:]
    ends = [int(request.arg("endTime")) / 1000 for request in asked]
    assert len(ends) == 6
    assert all(refused > clock() >= accepted for refused, accepted in zip(ends[::2], ends[1::2], strict=True))


def test_download(sim, day):
    async def download(client):
        return await client.download(day["good_download"]), await client.download(day["bad_download"])

    good, bad = run(with_efactura(sim, day, download))
    assert good.content_xml == ok_invoice()
    # the signature member anafpy picked out (semnatura_*.xml) is the simulator's XML-DSig, with its certificate
    embedded = etree.fromstring(good.signature_xml).findtext(f".//{DSIG}X509Certificate")
    assert x509.load_der_x509_certificate(base64.b64decode(embedded)) == sim.certificate
    errors = etree.fromstring(bad.content_xml)
    assert etree.QName(errors).localname == "header" and bad.signature_xml
    assert any("BR-RO-001" in e.get("errorMessage") for e in errors.iter("{*}Error"))
    day["archive"] = good


def test_signature_validation(sim, day):
    """ANAF's check that a downloaded signature signs the invoice (swagger/validaresemnatura.json), which anafpy sends
    to the root of api.anaf.ro as multipart/form-data."""
    archive = day["archive"]
    altered = archive.content_xml.replace(b"<cbc:IssueDate>2021-11-12<", b"<cbc:IssueDate>2021-11-13<", 1)
    assert altered != archive.content_xml

    async def validate(client):
        return [
            await client.validate_signature(archive.content_xml, archive.signature_xml),
            await client.validate_signature(altered, archive.signature_xml),
        ]

    genuine, forged = run(with_efactura(sim, day, validate))
    assert genuine.valid is True and forged.valid is False
    assert "au fost validate cu succes" in genuine.message
    assert sim.requests_to(r"^/api/validate/signature$", "POST")


# -- public services -----------------------------------------------------------------------------------------------
def test_validation(sim):
    async def validate(client):
        return await client.validate_invoice(ok_invoice()), await client.validate_invoice(old_invoice())

    good, bad = run(with_public(sim, validate))
    assert good.valid is True
    assert bad.valid is False and any("BR-RO-001" in str(m) for m in bad.messages)


def test_pdf(sim):
    async def render(client):
        return await client.render_invoice_pdf(ok_invoice()), await client.render_invoice_pdf(
            ok_invoice(), validate=False
        )

    checked, unchecked = run(with_public(sim, render))
    assert checked.startswith(b"%PDF-") and unchecked.startswith(b"%PDF-")
    assert sim.requests_to(r"/prod/FCTEL/rest/transformare/FACT1/DA$")


def test_429_with_retry_after(sim, clock, day):
    clock.advance(60)
    sim.limits["calls_per_minute"] = 2

    async def three_statuses(client):
        for _attempt in range(3):
            await client.get_status(day["good"])

    with pytest.raises(AnafRateLimitError) as limited:
        run(with_efactura(sim, day, three_statuses))
    assert limited.value.retry_after == 60
