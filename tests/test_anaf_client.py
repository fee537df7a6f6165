"""The e-Factura client over real HTTP against the ANAF simulator, with faults, limits and the real samples."""

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from einvoice.http import (
    AuthenticationError,
    InvalidRequestError,
    OutcomeUnknownError,
    PlatformUnavailableError,
    RateBudget,
    RateLimitedError,
    counted_period,
)
from einvoice.ro.anaf import (
    AnafClient,
    AnafRefusedError,
    DailyQuota,
    DownloadState,
    Endpoints,
    Limits,
    QuotaExceededError,
    State,
    UploadResolver,
    invoice_identity,
    parse_download,
    parse_error_report,
    parse_message_page,
    parse_status_answer,
    parse_upload_answer,
    strip_schema_location,
    upload_standard,
)
from einvoice.sim import ManualClock
from einvoice.sim.anaf import AnafSimulator
from einvoice.xmlsafe import UnsafeInputError

from .artefacts import ro_sample
from .conftest import ANAF_START as START
from .ro_samples import cii_invoice, credit_note, ok_invoice, old_invoice

CIF = "1111111111118"  # the seller of ubl_b2g_example0.xml
DSIG = "{http://www.w3.org/2000/09/xmldsig#}"


@pytest.fixture
def sim(clock):
    with AnafSimulator(clock=clock, processing_seconds=120, cifs=(CIF,)) as simulator:
        yield simulator


def make_client(sim, clock, **kwargs):
    token = sim.issue_tokens()["access_token"]
    kwargs.setdefault("sleep", lambda seconds: None)
    return AnafClient(token, endpoints=Endpoints.at(sim.url), clock=clock, timeout=(2, 1), **kwargs)


@pytest.fixture
def client(sim, clock):
    return make_client(sim, clock)


def verify_signature(signed, public_key):
    """Check a ``semnatura_*.xml`` by hand: exc-c14n digest of the document, RSA-SHA256 over SignedInfo."""
    root = etree.fromstring(signed)
    signature = root.find(f"{DSIG}Signature")
    signed_info = signature.find(f"{DSIG}SignedInfo")
    signed_info_bytes = etree.tostring(signed_info, method="c14n", exclusive=True)
    root.remove(signature)
    digest = hashlib.sha256(etree.tostring(root, method="c14n", exclusive=True)).digest()
    assert base64.b64encode(digest).decode() == signed_info.findtext(f"{DSIG}Reference/{DSIG}DigestValue")
    value = base64.b64decode(signature.findtext(f"{DSIG}SignatureValue"))
    public_key.verify(value, signed_info_bytes, padding.PKCS1v15(), hashes.SHA256())
    der = base64.b64decode(signature.findtext(f"{DSIG}KeyInfo/{DSIG}X509Data/{DSIG}X509Certificate"))
    return x509.load_der_x509_certificate(der, default_backend())


def upload_and_process(client, clock, xml=None, **kwargs):
    result = client.upload(ok_invoice() if xml is None else xml, CIF, **kwargs)
    assert result.accepted, result.errors
    clock.advance(121)
    return result, client.status(result.index)


# -- the happy path and ANAF's verdicts --------------------------------------------------------------------------
def test_upload_status_and_signed_download(client, sim, clock):
    result = client.upload(ok_invoice(), f"RO{CIF}")
    assert result.accepted and result.index and result.errors == ()
    assert client.status(result.index).state == State.PROCESSING
    clock.advance(121)
    status = client.status(result.index)
    assert (status.state, status.final) == (State.OK, True)

    download = client.download(status.download_id)
    assert download.state == DownloadState.OK
    assert download.document == ok_invoice()  # the invoice exactly as filed
    assert (download.document_name, download.signature_name) == (f"{result.index}.xml", f"semnatura_{result.index}.xml")
    assert download.error_report is None
    assert download.archive == sim.uploads[result.index].archive  # the ZIP byte for byte
    certificate = verify_signature(download.signature, sim.public_key)
    assert certificate.subject.rfc4514_string().endswith("CN=ANAF TEST,O=ANAF-TEST,C=RO")

    request = sim.uploads_recorded()[0]
    assert request.query == {"standard": ["UBL"], "cif": [CIF]}
    assert request.headers["Authorization"].startswith("Bearer ")


def test_a_nok_upload_downloads_anaf_error_document(client, sim, clock):
    _result, status = upload_and_process(client, clock, old_invoice())
    assert status.state == State.NOK
    download = client.download(status.download_id)
    assert download.error_report.errors[0].startswith("E: validari globale SCHEMATRON eroare: [BR-RO-001]")
    assert download.error_report.index == _result.index
    verify_signature(download.signature, sim.public_key)


def test_upload_flags_b2c_and_standards(client, sim, clock):
    assert client.upload(ok_invoice(), CIF, b2c=True, extern=True, self_billed=True).accepted
    assert client.upload(cii_invoice(), CIF, standard="CII").accepted
    cn = client.upload(credit_note(), CIF, standard="CN")
    assert cn.accepted
    b2c, cii, _cn = sim.uploads_recorded()
    assert b2c.path.endswith("/uploadb2c")
    assert b2c.query == {"standard": ["UBL"], "cif": [CIF], "extern": ["DA"], "autofactura": ["DA"]}
    assert cii.query["standard"] == ["CII"]


def test_upload_refusals_come_back_as_values(client, sim):
    wrong_root = client.upload(credit_note(), CIF, standard="UBL")
    assert not wrong_root.accepted and wrong_root.index is None
    assert "cvc-elt.1.a" in wrong_root.errors[0]
    enforcement = client.upload(ok_invoice(), CIF, enforcement=True)
    assert enforcement.errors == (
        f"CIF introdus= {CIF} nu este inregistrat in Registrul RO e-Factura executari silite",
    )
    assert not client.upload(b"not xml", CIF).accepted


def test_upload_for_a_company_without_rights_is_an_authentication_problem(client):
    with pytest.raises(AuthenticationError, match="Nu aveti drept in SPV pentru CIF=12345"):
        client.upload(ok_invoice(), "12345")


def test_an_oversized_upload_is_refused_before_sending(client, sim):
    with pytest.raises(InvalidRequestError, match="at most"):
        client.upload(b"<Invoice/>" + b" " * (10 * 1024 * 1024), CIF)
    assert sim.uploads_recorded() == []


def test_status_questions_that_anaf_refuses(client, sim):
    assert client.status("999").state == State.NOT_FOUND
    assert client.status("abc").state == State.REFUSED
    index = client.upload(ok_invoice(), CIF).index
    sim.cifs.discard(CIF)  # the holder lost the SPV rights for the company
    refused = client.status(index)
    assert (refused.state, refused.errors) == (
        State.REFUSED,
        (f"Nu aveti dreptul de inteorgare pentru id_incarcare= {index}",),
    )


# -- lists -------------------------------------------------------------------------------------------------------
def test_message_list_with_sent_received_and_errors(client, sim, clock):
    upload_and_process(client, clock)
    upload_and_process(client, clock, old_invoice())
    received = sim.add_received(CIF, ok_invoice(), seller_cif="8486152")
    messages = client.messages(CIF, days=5)
    assert [m.kind for m in messages] == ["FACTURA TRIMISA", "ERORI FACTURA", "FACTURA PRIMITA"]
    sent, _errors, inbound = messages
    assert (sent.seller_cif, sent.buyer_cif) == (CIF, "8609468")
    assert inbound.id == received and inbound.seller_cif == "8486152" and inbound.buyer_cif == CIF
    assert sent.created_at.utcoffset() == timedelta(hours=2)  # Romanian winter time
    assert [m.id for m in client.messages(CIF, days=5, kind="P")] == [received]
    assert client.download(received).document == ok_invoice()


def test_an_empty_list_is_not_an_error(client):
    assert client.messages(CIF, days=1) == []
    assert list(client.iter_messages(CIF, since=datetime.fromtimestamp(START - 3600, timezone.utc))) == []


def test_a_list_beyond_the_cap_switches_to_pages(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), list_cap=2, page_size=2) as sim:
        ids = [sim.add_received(CIF, ok_invoice()) for _ in range(5)]
        clock.advance(120)
        client = make_client(sim, clock)
        assert [m.id for m in client.messages(CIF, days=3)] == ids
        pages = sim.requests_to("listaMesajePaginatieFactura")
        assert [r.arg("pagina") for r in pages] == ["1", "2", "3"]
        end = int(pages[0].arg("endTime")) / 1000
        assert end == clock() - 60  # kept a minute behind "now"


def test_pages_tolerate_a_platform_clock_behind_ours(clock):
    platform_clock = ManualClock(START - 600)  # ANAF's clock is ten minutes behind
    with AnafSimulator(clock=platform_clock, cifs=(CIF,)) as sim:
        ids = [sim.add_received(CIF, ok_invoice())]
        platform_clock.advance(300)
        client = make_client(sim, clock)
        assert [
            m.id for m in client.iter_messages(CIF, since=datetime.fromtimestamp(START - 3600, timezone.utc))
        ] == ids
        _first, second = sim.requests_to("listaMesajePaginatieFactura")
        assert int(second.arg("endTime")) / 1000 == platform_clock() - 60


def test_pages_tolerate_skew_when_anaf_does_not_say_its_clock(client, sim, clock):
    sim.add_received(CIF, ok_invoice())
    clock.advance(900)
    refusal = {"eroare": "endTime = 02-03-2026 12:14:00 nu poate in viitor fata de momentul requestului"}
    sim.inject("status", status=200, body=json.dumps(refusal).encode(), path="Paginatie")
    assert len(list(client.iter_messages(CIF, since=datetime.fromtimestamp(START - 60, timezone.utc)))) == 1
    first, second = sim.requests_to("listaMesajePaginatieFactura")
    assert int(first.arg("endTime")) - int(second.arg("endTime")) == 300_000


def test_the_window_never_starts_beyond_sixty_days(client, sim, clock):
    list(client.iter_messages(CIF, since=datetime.fromtimestamp(START - 90 * 86400, timezone.utc)))
    (request,) = sim.requests_to("listaMesajePaginatieFactura")
    assert int(request.arg("startTime")) / 1000 == START - 60 * 86400 + 300


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"cifs": ()}, AuthenticationError), ({"lists_per_cif": 0}, RateLimitedError)],
)
def test_list_refusals_are_typed_errors(clock, kwargs, error):
    with AnafSimulator(clock=clock, **{"cifs": (CIF,), **kwargs}) as sim, pytest.raises(error):
        make_client(sim, clock).messages(CIF, days=1)


# -- downloads ---------------------------------------------------------------------------------------------------
def test_download_answers_that_are_not_archives(client, sim, clock):
    assert client.download("3999999999").state == DownloadState.NOT_FOUND
    received = sim.add_received(CIF, ok_invoice())
    clock.advance(61 * 86400)
    expired = client.download(received)
    assert expired.state == DownloadState.EXPIRED and "60 de zile" in expired.message
    with pytest.raises(AnafRefusedError, match="nu este un numar intreg"):
        client.download("abc")


def test_a_truncated_archive_is_fetched_again(client, sim):
    received = sim.add_received(CIF, ok_invoice())
    sim.inject("truncate", path="descarcare")
    assert client.download(received).document == ok_invoice()
    assert len(sim.requests_to("descarcare")) == 2


def test_a_damaged_archive_is_refused(client, sim):
    received = sim.add_received(CIF, ok_invoice())
    archive = client.download(received).archive
    sim.inject("status", status=200, body=archive[: len(archive) // 2], path="descarcare")
    with pytest.raises(UnsafeInputError):
        client.download(received)


# -- limits ------------------------------------------------------------------------------------------------------
def test_the_client_budget_stops_before_anaf_refuses(client, sim):
    received = sim.add_received(CIF, ok_invoice())
    for _ in range(10):
        client.download(received)
    with pytest.raises(QuotaExceededError) as caught:
        client.download(received)
    assert len(sim.requests_to("descarcare")) == 10
    assert 0 < caught.value.retry_after <= 86400


def test_anaf_own_limits_answer_as_rate_limits(sim, clock):
    generous = DailyQuota(Limits(downloads_per_message=50, status_per_message=50), clock=clock)
    client = make_client(sim, clock, quota=generous)
    received = sim.add_received(CIF, ok_invoice())
    for _ in range(10):
        client.download(received)
    with pytest.raises(RateLimitedError, match="S-au facut deja 10 descarcari"):
        client.download(received)


def test_the_twenty_status_queries_variant(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), status_per_message=20) as sim:
        client = make_client(sim, clock, quota=DailyQuota(Limits(status_per_message=100), clock=clock))
        index = client.upload(ok_invoice(), CIF).index
        for _ in range(20):
            client.status(index)
        with pytest.raises(RateLimitedError, match="S-au facut deja 20 descarcari"):
            client.status(index)
        default = make_client(sim, clock)
        for _ in range(20):
            with pytest.raises(RateLimitedError):
                default.status(index)  # ANAF's answer, counted by the client too
        with pytest.raises(QuotaExceededError):
            default.status(index)


def test_daily_budgets_reset_at_midnight_in_romania(clock):
    quota = DailyQuota(Limits(downloads_per_message=1), clock=clock)
    clock.now = datetime(2026, 3, 2, 21, 30, tzinfo=timezone.utc).timestamp()  # 23:30 in Bucharest
    quota.spend("downloads_per_message", "1")
    with pytest.raises(QuotaExceededError) as caught:
        quota.spend("downloads_per_message", "1")
    assert caught.value.retry_after == 30 * 60
    clock.advance(30 * 60)
    quota.spend("downloads_per_message", "1")


def test_the_per_minute_budget_paces_calls(sim, clock):
    client = make_client(sim, clock, rate=RateBudget(3, 60, clock=clock, sleep=clock.advance))
    for _ in range(7):
        client.status("999")
    assert clock() == pytest.approx(START + 2 * counted_period(60))


def test_the_simulator_enforces_the_per_minute_limit(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), calls_per_minute=2) as sim:
        client = make_client(sim, clock)
        client.status("1")
        client.status("1")
        with pytest.raises(RateLimitedError) as caught:
            client.status("1")
        assert caught.value.retry_after == 60


# -- validation and PDF ------------------------------------------------------------------------------------------
def test_validate_on_the_public_prod_service(client, sim):
    assert client.validate(ok_invoice()).valid
    nok = client.validate(old_invoice())
    assert not nok.valid and "BR-RO-001" in nok.messages[0] and nok.trace_id
    assert client.validate(credit_note()).messages  # sent as FCN, still the 1.0.0 id
    assert [r.path for r in sim.requests_to("validare")][-1] == "/prod/FCTEL/rest/validare/FCN"


def test_validate_does_not_exist_on_test(sim, clock):
    client = make_client(sim, clock)
    with pytest.raises(InvalidRequestError) as caught:
        client.http.post("/validare/FACT1", data=ok_invoice(), headers={"Content-Type": "text/plain"})
    assert caught.value.status == 404


def test_pdf_with_the_firewall_workarounds(client, sim):
    direct = client.public_http.post(
        "/transformare/FACT1",
        data=ok_invoice(),
        headers={"Content-Type": "text/plain"},
        idempotent=False,
        allow_html=True,
    )
    assert b"The requested URL was rejected" in direct.content  # the relative schemaLocation trips the firewall
    assert client.to_pdf(ok_invoice()).pdf.startswith(b"%PDF-")
    tricky = ok_invoice().replace(b"<cbc:Note>", b"<cbc:Note>Livrare;CP 0123 ", 1)
    assert client.to_pdf(tricky, validate=False).pdf.startswith(b"%PDF-")
    paths = [r.path for r in sim.requests_to("transformare")]
    assert paths[-3:] == ["/prod/FCTEL/rest/transformare/FACT1/DA"] * 2 + ["/prod/FCTEL/rest/transformare/FACT1"]
    refused = client.to_pdf(old_invoice())
    assert refused.pdf is None and "BR-RO-001" in refused.messages[0]


def test_strip_schema_location_keeps_everything_else():
    stripped = strip_schema_location(ok_invoice())
    assert b"schemaLocation" not in stripped
    assert invoice_identity(stripped) == invoice_identity(ok_invoice()) == ("TOSL108", "2021-11-12")


# -- faults ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["hang", "reset", "waf"])
def test_reads_survive_passing_faults(client, sim, fault):
    sim.inject(fault, seconds=2, path="stareMesaj")
    assert client.status("999").state == State.NOT_FOUND
    assert len(sim.requests_to("stareMesaj")) == 2


def test_server_errors_and_maintenance_pages_on_reads(client, sim):
    page = b"<html><body>Sistemul este in mentenanta</body></html>"
    sim.inject("status", status=503, body=page, path="stareMesaj", times=4)
    with pytest.raises(PlatformUnavailableError) as caught:
        client.status("999")
    assert caught.value.status == 503
    sim.inject("status", status=200, body=page, headers={"Content-Type": "text/html"}, path="stareMesaj", times=4)
    with pytest.raises(PlatformUnavailableError, match="web page"):
        client.status("999")


@pytest.mark.parametrize(("status", "headers"), [(429, {"Retry-After": "600"}), (204, {})])
def test_rate_limit_answers(client, sim, status, headers):
    sim.inject("status", status=status, headers=headers, path="stareMesaj")
    with pytest.raises(RateLimitedError):
        client.status("999")


def test_an_expired_token_is_an_authentication_error(sim, clock):
    client = make_client(sim, clock)
    clock.advance(91 * 86400)
    with pytest.raises(AuthenticationError) as caught:
        client.status("1")
    assert caught.value.status == 401
    bad = AnafClient("not-a-token", endpoints=Endpoints.at(sim.url), clock=clock)
    with pytest.raises(AuthenticationError):
        bad.messages(CIF, days=1)


@pytest.mark.parametrize("fault", ["waf", "hang", "reset", "lost", "truncate"])
def test_uploads_are_never_repeated(client, sim, fault):
    sim.inject(fault, seconds=2, path="/upload")
    with pytest.raises(OutcomeUnknownError):
        client.upload(ok_invoice(), CIF)
    assert len(sim.uploads_recorded()) == 1


def test_a_token_anaf_echoes_bare_is_not_repeated_in_our_messages(sim, clock):
    token = "Opaque-t0ken-of-ANAF"  # shorter than the tokens masked by their look alone
    client = AnafClient(token, endpoints=Endpoints.at(sim.url), clock=clock, sleep=lambda s: None, timeout=(2, 1))
    sim.inject("status", status=401, body=f"Token {token} is not valid".encode(), path="stareMesaj")
    with pytest.raises(AuthenticationError) as caught:
        client.status("5000000000")
    assert "is not valid" in str(caught.value)
    assert token not in str(caught.value)
    assert token not in caught.value.detail


def test_an_upload_rate_limit_is_not_repeated(client, sim):
    sim.inject("status", status=429, headers={"Retry-After": "1"}, path="/upload")
    with pytest.raises(RateLimitedError):
        client.upload(ok_invoice(), CIF)
    assert len(sim.uploads_recorded()) == 1


# -- outcome unknown ---------------------------------------------------------------------------------------------
def test_a_lost_upload_answer_is_resolved_with_exactly_one_upload(client, sim, clock):
    sent_at = datetime.fromtimestamp(clock(), timezone.utc)
    sim.inject("lost", path="/upload")
    with pytest.raises(OutcomeUnknownError):
        client.upload(ok_invoice(), CIF)
    resolver = UploadResolver(client)
    assert resolver.resolve(CIF, sent_at=sent_at, xml=ok_invoice()).outcome == UploadResolver.TOO_EARLY
    clock.advance(180)
    found = resolver.resolve(CIF, sent_at=sent_at, xml=ok_invoice())
    (index,) = sim.uploads
    assert (found.outcome, found.index, found.state) == (UploadResolver.FOUND, index, State.OK)
    assert found.download.document == ok_invoice()
    assert len(sim.uploads_recorded()) == 1


def test_the_resolver_matches_by_number_and_date_and_skips_known_uploads(client, sim, clock):
    sent_at = datetime.fromtimestamp(clock(), timezone.utc)
    other = client.upload(cii_invoice(), CIF, standard="CII").index
    sim.inject("lost", path="/upload")
    with pytest.raises(OutcomeUnknownError):
        client.upload(ok_invoice(), CIF)
    clock.advance(180)
    found = UploadResolver(client).resolve(
        CIF, sent_at=sent_at, number="TOSL108", issue_date="2021-11-12", known_indexes=[other]
    )
    assert found.outcome == UploadResolver.FOUND and found.index != other
    assert len(sim.requests_to("descarcare")) == 1  # the known upload was not downloaded


def test_an_upload_that_never_arrived_is_not_found_after_the_grace(client, sim, clock):
    sent_at = datetime.fromtimestamp(clock(), timezone.utc)
    sim.inject("reset", path="/upload")
    with pytest.raises(OutcomeUnknownError):
        client.upload(ok_invoice(), CIF)
    assert sim.uploads == {}
    clock.advance(3601)
    assert UploadResolver(client).resolve(CIF, sent_at=sent_at, xml=ok_invoice()).outcome == UploadResolver.NOT_FOUND


def test_a_rejected_upload_does_not_count_as_a_filing(client, sim, clock):
    sent_at = datetime.fromtimestamp(clock(), timezone.utc)
    sim.inject("lost", path="/upload")
    with pytest.raises(OutcomeUnknownError):
        client.upload(old_invoice(), CIF)
    clock.advance(3601)
    assert UploadResolver(client).resolve(CIF, sent_at=sent_at, xml=old_invoice()).outcome == UploadResolver.NOT_FOUND


# -- the real ANAF answers ---------------------------------------------------------------------------------------
def response(name):
    return ro_sample(f"spv-responses/{name}")


def test_real_upload_answers():
    ok = parse_upload_answer(response("upload_success.xml"))
    assert (ok.accepted, ok.index, ok.errors, ok.response_date) == (True, "3828", (), "202108051140")
    refused = parse_upload_answer(response("upload_standard_invalid.xml"))
    assert (refused.accepted, refused.index) == (False, None)
    # the upload answer has its own namespace (Odoo 19 reads it in the status one and shows an empty error)
    assert refused.errors == ("Valorile acceptate pentru parametrul standard sunt UBL, CII sau RASP",)


@pytest.mark.parametrize(
    ("name", "state", "download_id"),
    [
        ("stare_mesaj_ok.xml", State.OK, "1234"),
        ("stare_mesaj_not_ok.xml", State.NOK, "123"),
        ("stare_mesaj_in_prelucrare.xml", State.PROCESSING, None),
        ("stare_mesaj_xml_erori.xml", State.XML_ERRORS, None),
        ("stare_mesaj_factura_inexistenta.xml", State.NOT_FOUND, None),
        ("stare_mesaj_drept_id_incarcare.xml", State.REFUSED, None),
        ("stare_mesaj_index_invalid.xml", State.REFUSED, None),
        ("stare_mesaj_not_ok_anaf_error.xml", State.NOK, None),
    ],
)
def test_real_status_answers(name, state, download_id):
    result = parse_status_answer(response(name))
    assert (result.state, result.download_id) == (state, download_id)
    if state in (State.NOT_FOUND, State.REFUSED):
        assert result.errors and result.errors[0].startswith(("Nu ", "Id_incarcare"))


def test_real_status_answers_about_limits_and_rights():
    with pytest.raises(RateLimitedError, match="20 descarcari"):
        parse_status_answer(response("stare_mesaj_limita_apeluri.xml"))
    with pytest.raises(AuthenticationError, match="Nu exista niciun CIF"):
        parse_status_answer(response("stare_mesaj_lipsa_drepturi.xml"))


def test_real_error_document():
    report = parse_error_report(response("stare_mesaj_not_ok_anaf_error.xml"))
    assert (report.index, report.seller_cif) == ("5011636148", "47024170")
    assert report.errors == (
        "E: validari globale\n eroare regula: R6.1: CIF-ul vanzatorului nu figureaza in baza de date:6443019833",
    )


def test_real_message_lists():
    page = parse_message_page(json.loads(response("listaMesajeFactura_ok_oca.json")))
    (message,) = page.messages
    assert (message.id, message.upload_index, message.kind) == ("3006372781", "5004552043", "FACTURA PRIMITA")
    assert (message.seller_cif, message.buyer_cif, message.cif) == ("8486152", "23685159", "23685159")
    assert message.created_at == datetime(2023, 12, 12, 9, 40, tzinfo=message.created_at.tzinfo)
    assert (page.serial, page.cui) == ("1234AA456", "8000000000")
    empty = parse_message_page(json.loads(response("spv_listaMesaje_eroare_anafpy.json")))
    assert empty.messages == ()


def test_message_parties_in_every_wording():
    def parties(entry):
        message = parse_message_page({"mesaje": [{"id": "1", **entry}]}).messages[0]
        return message.seller_cif, message.buyer_cif

    assert parties({"detalii": "Factura cu id_incarcare=1 transmisa de cif=222  ca autofactura in numele cif=111"}) == (
        "111",
        "222",
    )
    assert parties({"detalii": "x", "cif_emitent": "5", "cif_beneficiar": "6"}) == ("5", "6")
    assert parties({"detalii": "Erori de validare identificate la factura primita cu id_incarcare=9"}) == (None, None)


def test_real_ok_download():
    archive = ro_sample("spv-downloads/5004552043.zip")
    download = parse_download(archive, "3006372781")
    assert download.archive == archive and download.error_report is None
    assert (download.document_name, download.signature_name) == ("5004552043.xml", "semnatura_5004552043.xml")
    assert invoice_identity(download.document) == ("ETTS/2023 /000130", "2023-12-06")
    assert download.signature.count(b"<SignatureValue>") == 1


def test_real_error_download():
    download = parse_download(ro_sample("spv-downloads/3828.zip"), "3828")
    assert download.error_report.index == "3828"
    assert "R6.1" in download.error_report.errors[0]


def test_the_resolver_finds_an_upload_by_its_index(client, sim, clock):
    sent_at = datetime.fromtimestamp(clock(), timezone.utc)
    first = client.upload(ok_invoice(), CIF).index
    second = client.upload(ok_invoice(), CIF).index
    clock.advance(180)
    found = UploadResolver(client).resolve(CIF, sent_at=sent_at, index=second)
    assert (found.outcome, found.index) == (UploadResolver.FOUND, second) and first != second
    assert len(sim.requests_to("descarcare")) == 1
    with pytest.raises(ValueError):
        UploadResolver(client).resolve(CIF, sent_at=sent_at, number="TOSL108")


def test_latency_below_the_timeout_is_only_slow(client, sim):
    sim.inject("latency", seconds=0.2, path="stareMesaj")
    assert client.status("999").state == State.NOT_FOUND
    assert len(sim.requests_to("stareMesaj")) == 1


def test_the_resolver_waits_for_the_listing_lag(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), processing_seconds=120, listing_seconds=900) as sim:
        client = make_client(sim, clock)
        sent_at = datetime.fromtimestamp(clock(), timezone.utc)
        sim.inject("lost", path="/upload")
        with pytest.raises(OutcomeUnknownError):
            client.upload(ok_invoice(), CIF)
        clock.advance(600)  # processed, not listed yet
        assert (
            UploadResolver(client).resolve(CIF, sent_at=sent_at, xml=ok_invoice()).outcome == UploadResolver.TOO_EARLY
        )
        clock.advance(600)
        assert UploadResolver(client).resolve(CIF, sent_at=sent_at, xml=ok_invoice()).outcome == UploadResolver.FOUND
        assert len(sim.uploads_recorded()) == 1


def test_the_token_can_be_a_callable(sim, clock):
    issued = []

    def current_token():
        issued.append(sim.issue_tokens()["access_token"])
        return issued[-1]

    client = AnafClient(current_token, endpoints=Endpoints.at(sim.url), clock=clock)
    assert client.status("999").state == State.NOT_FOUND
    assert sim.requests_to("stareMesaj")[0].headers["Authorization"] == f"Bearer {issued[0]}"
    client.validate(ok_invoice())
    assert "Authorization" not in sim.requests_to("validare")[0].headers  # the public service gets no token


def test_the_upload_standard_follows_the_document():
    assert upload_standard(credit_note()) == "CN"
    assert upload_standard(ok_invoice()) == "UBL"
    with pytest.raises(UnsafeInputError):
        upload_standard(b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><Invoice>&e;</Invoice>")
