"""The ANAF simulator on the wire: ANAF's exact answers and texts, processing, listing, and running on its own."""

import io
import subprocess
import sys
import zipfile

import pytest
import requests
from lxml import etree

from einvoice.ro.anaf import Message, parse_error_report
from einvoice.sim.anaf import DEFAULT_CLIENT_ID, AnafSimulator, default_validator

from .conftest import ANAF_START as START
from .ro_samples import cii_invoice, ok_invoice, old_invoice

CIF = "1111111111118"
REST = "/test/FCTEL/rest"


@pytest.fixture
def sim(clock):
    with AnafSimulator(clock=clock, processing_seconds=60, cifs=(CIF,)) as simulator:
        yield simulator


class Api:
    """Raw HTTP to the simulator with a valid token, as any ANAF client would send it."""

    def __init__(self, sim):
        self.sim = sim
        self.headers = {"Authorization": f"Bearer {sim.issue_tokens()['access_token']}"}

    def get(self, path, **params):
        return requests.get(self.sim.url + path, params=params, headers=self.headers, timeout=5)

    def post(self, path, body, **params):
        return requests.post(self.sim.url + path, params=params, data=body, headers=self.headers, timeout=5)

    def upload(self, body=None, **params):
        answer = self.post(
            f"{REST}/upload", ok_invoice() if body is None else body, **{"standard": "UBL", "cif": CIF, **params}
        )
        return UploadAnswer(etree.fromstring(answer.content))


class UploadAnswer:
    """The upload answer read by hand (the client turns some refusals into errors)."""

    def __init__(self, root):
        assert root.tag == "{mfp:anaf:dgti:spv:respUploadFisier:v1}header"
        self.accepted = root.get("ExecutionStatus") == "0"
        self.index = root.get("index_incarcare")
        self.response_date = root.get("dateResponse")
        self.errors = tuple(error.get("errorMessage") for error in root)


@pytest.fixture
def api(sim):
    return Api(sim)


def eroare(response):
    assert response.status_code == 200
    return response.json()["eroare"]


@pytest.mark.malformed_requests
def test_every_efactura_call_needs_a_valid_token(sim):
    for method, path in [
        ("POST", "/upload"),
        ("GET", "/stareMesaj"),
        ("GET", "/listaMesajeFactura"),
        ("GET", "/descarcare"),
    ]:
        answer = requests.request(method, f"{sim.url}{REST}{path}", timeout=5)
        assert answer.status_code == 401
    assert len(sim.requests) == 4


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"standard": "XML"}, "Valorile acceptate pentru parametrul standard sunt UBL, CN, CII sau RASP"),
        ({"cif": "123a"}, "CIF introdus= 123a nu este un numar"),
        ({"cif": "1234"}, "Nu aveti drept in SPV pentru CIF=1234"),
        ({"autofactura": "NU"}, "Daca parametrul autofacturare trebuie completat, valoarea acceptata este DA"),
        ({"executare": "DA"}, f"CIF introdus= {CIF} nu este inregistrat in Registrul RO e-Factura executari silite"),
        ({"standard": "CN"}, "cvc-elt.1.a: Cannot find the declaration of element 'Invoice'"),
    ],
)
def test_upload_refusals_with_anaf_texts(api, params, text):
    result = api.upload(**params)
    assert not result.accepted and text in result.errors[0]
    assert len(result.response_date) == 12


@pytest.mark.malformed_requests
def test_upload_needs_standard_and_cif(api):
    answer = api.post(f"{REST}/upload", ok_invoice(), standard="UBL")
    assert answer.status_code == 400
    assert answer.json()["message"] == "Parametrii standard si cif sunt obligatorii"
    empty = api.post(f"{REST}/upload", b"", standard="UBL", cif=CIF)  # upload.json's 400 example
    assert empty.status_code == 400
    assert empty.json()["message"] == "Trebuie sa aveti atasat in request un fisier de tip xml"


def test_upload_size_and_buyer_message_limits(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), max_upload_bytes=1024 * 1024, rasp_per_cif=1) as sim:
        api = Api(sim)
        assert api.upload(ok_invoice() + b" " * 1024 * 1024).errors == ("Marime fisier transmis mai mare de 1 MB.",)
        message = b'<header xmlns="mfp:anaf:dgti:spv:reqMesaj:v1" index_incarcare="1" message="ok"/>'
        assert api.upload(message, standard="RASP").accepted
        assert api.upload(message, standard="RASP").errors == (
            f"S-au incarcat deja 1 de mesaje de tip RASP pentru cui={CIF} in cursul zilei",
        )


@pytest.mark.malformed_requests
def test_status_texts(api):
    assert api.get(f"{REST}/stareMesaj").json()["message"] == "Parametrul id_incarcare este obligatoriu"
    answer = etree.fromstring(api.get(f"{REST}/stareMesaj", id_incarcare="aaa").content)
    assert answer.tag == "{mfp:anaf:dgti:efactura:stareMesajFactura:v1}header"
    assert answer[0].get("errorMessage") == "Id_incarcare introdus= aaa nu este un numar intreg"


def test_processing_then_ok_and_nok_with_their_messages(api, sim, clock):
    ok, nok = api.upload().index, api.upload(old_invoice()).index
    assert b'stare="in prelucrare"' in api.get(f"{REST}/stareMesaj", id_incarcare=ok).content
    assert eroare(api.get(f"{REST}/listaMesajeFactura", zile=1, cif=CIF)) == "Nu exista mesaje in ultimele 1 zile"
    clock.now += 60
    assert b'stare="ok"' in api.get(f"{REST}/stareMesaj", id_incarcare=ok).content
    assert b'stare="nok"' in api.get(f"{REST}/stareMesaj", id_incarcare=nok).content
    listed = api.get(f"{REST}/listaMesajeFactura", zile=1, cif=CIF).json()
    sent, errors = listed["mesaje"]
    assert sent["detalii"] == f"Factura cu id_incarcare={ok} emisa de cif_emitent={CIF} pentru cif_beneficiar=8609468"
    assert (sent["tip"], sent["id_solicitare"], sent["data_creare"]) == ("FACTURA TRIMISA", ok, "202603021201")
    assert errors["detalii"] == f"Erori de validare identificate la factura primita cu id_incarcare={nok}"
    assert listed["titlu"] == "Lista Mesaje disponibile din ultimele 1 zile"

    archive = zipfile.ZipFile(io.BytesIO(api.get(f"{REST}/descarcare", id=errors["id"]).content))
    assert archive.namelist() == [f"{nok}.xml", f"semnatura_{nok}.xml"]
    report = parse_error_report(archive.read(f"{nok}.xml"))
    assert (report.index, report.seller_cif) == (nok, "1234567890")
    assert "[BR-RO-001]" in report.errors[0]


def test_signature_check_of_a_download(api, sim, clock):
    """POST /api/validate/signature (swagger/validaresemnatura.json): the invoice and the semnatura_*.xml of its
    download as multipart/form-data; ANAF's verdict in ``msg``, 400 when a file is missing or not XML."""
    index = api.upload().index
    clock.now += 60
    download = etree.fromstring(api.get(f"{REST}/stareMesaj", id_incarcare=index).content).get("id_descarcare")
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"{REST}/descarcare", id=download).content))
    invoice, signature = archive.read(f"{index}.xml"), archive.read(f"semnatura_{index}.xml")

    def check(**files):
        return requests.post(f"{sim.url}/api/validate/signature", files=files, timeout=5)

    assert check(file=invoice, signature=signature).json()["msg"].startswith("Fișierele încărcate au fost validate")
    forged = invoice.replace(b"2021-11-12", b"2021-11-13", 1)
    assert forged != invoice
    assert check(file=forged, signature=signature).json()["msg"].startswith("Fișierele încărcate NU au putut fi")
    assert check(file=invoice, signature=invoice).json()["msg"].startswith("Fișierele încărcate NU au putut fi")
    refused = check(file=invoice)
    assert refused.status_code == 400 and refused.json()["msg"].startswith("Eroare tehnică: request incorect.")
    assert check(file=b"not xml", signature=signature).status_code == 400


def test_listing_lags_behind_processing(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), processing_seconds=60, listing_seconds=600) as sim:
        api = Api(sim)
        index = api.upload().index
        clock.now += 61
        assert b'stare="ok"' in api.get(f"{REST}/stareMesaj", id_incarcare=index).content
        assert "Nu exista mesaje" in eroare(api.get(f"{REST}/listaMesajeFactura", zile=1, cif=CIF))
        clock.now += 600
        assert api.get(f"{REST}/listaMesajeFactura", zile=1, cif=CIF).json()["mesaje"][0]["id_solicitare"] == index


def test_self_billing_is_worded_as_anaf_does(api, sim, clock):
    index = api.upload(autofactura="DA").index
    clock.now += 60
    entry = api.get(f"{REST}/listaMesajeFactura", zile=1, cif=CIF).json()["mesaje"][0]
    assert (
        entry["detalii"]
        == f"Factura cu id_incarcare={index} transmisa de cif={CIF}  ca autofactura in numele cif={CIF}"
    )
    assert Message.from_json(entry).seller_cif == CIF


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"zile": "aaa"}, "Numarul de zile introdus= aaa nu este un numar intreg"),
        ({"zile": "61"}, "Numarul de zile trebuie sa fie intre 1 si 60"),
        ({"filtru": "X"}, "Valorile acceptate pentru parametrul filtru sunt E, T, P sau R"),
        ({"cif": "aaa"}, "CIF introdus= aaa nu este un numar"),
    ],
)
def test_list_texts(api, params, text):
    assert eroare(api.get(f"{REST}/listaMesajeFactura", **{"zile": "1", "cif": CIF, **params})) == text


@pytest.mark.malformed_requests
def test_list_needs_days_and_cif(api):
    assert api.get(f"{REST}/listaMesajeFactura", cif=CIF).json()["message"] == "Parametrii zile si cif sunt obligatorii"


def test_paged_list_window_rules(api):
    now_ms = int(START * 1000)

    def page(start, end, pagina=1):
        return api.get(f"{REST}/listaMesajePaginatieFactura", startTime=start, endTime=end, cif=CIF, pagina=pagina)

    assert eroare(page("aaa", 1)) == "startTime = aaa nu este un numar sau nu are o valoare acceptata de sistem"
    assert eroare(page(1, 2, pagina="aa")) == "pagina = aa nu este un numar sau nu are o valoare acceptata de sistem"

    assert eroare(page(now_ms - 61 * 86400_000, now_ms - 1000)) == (
        "startTime = 31-12-2025 12:00:00 nu poate fi mai vechi de 60 de zile fata de momentul requestului"
    )
    assert eroare(page(now_ms - 1000, now_ms - 2000)) == (
        "endTime = 02-03-2026 11:59:58 nu poate fi <= startTime = 02-03-2026 11:59:59"
    )
    assert eroare(page(now_ms - 1000, now_ms + 1000)) == (
        "endTime = 02-03-2026 12:00:01 nu poate in viitor fata de momentul requestului = 02-03-2026 12:00:00"
    )
    assert eroare(page(now_ms - 60_000, now_ms - 1000)) == "Nu exista mesaje in intervalul selectat"


def test_paged_list_envelope_and_page_beyond_the_last(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), page_size=2) as sim:
        for _ in range(3):
            sim.add_received(CIF, ok_invoice())
        clock.now += 10
        api = Api(sim)
        window = {"startTime": int(START * 1000) - 1000, "endTime": int(clock.now * 1000), "cif": CIF}
        body = api.get(f"{REST}/listaMesajePaginatieFactura", pagina=2, **window).json()
        assert {key: body[key] for key in body if key.startswith(("numar", "index"))} == {
            "numar_inregistrari_in_pagina": 1,
            "numar_total_inregistrari_per_pagina": 2,
            "numar_total_inregistrari": 3,
            "numar_total_pagini": 2,
            "index_pagina_curenta": 2,
        }
        assert body["mesaje"][0]["tip"] == "FACTURA PRIMITA"
        beyond = eroare(api.get(f"{REST}/listaMesajePaginatieFactura", pagina=5, **window))
        assert beyond == "Pagina solicitata 5 este mai mare decat numarul toatal de pagini 2"


@pytest.mark.malformed_requests
def test_download_texts(api, sim):
    assert api.get(f"{REST}/descarcare").json()["message"] == "Parametrul id este obligatoriu"
    assert eroare(api.get(f"{REST}/descarcare", id="12a")) == "Id descarcare introdus= 12a nu este un numar intreg"
    assert eroare(api.get(f"{REST}/descarcare", id="21")) == "Pentru id=21 nu exista inregistrata nici o factura"
    other = sim.add_received("999", ok_invoice())
    assert eroare(api.get(f"{REST}/descarcare", id=other)) == "Nu aveti dreptul sa descarcati acesta factura"


PLAIN = {"Content-Type": "text/plain"}  # as the swagger pages of validare and transformare describe the body


def test_public_services_exist_on_prod_only(sim):
    def post(path):
        return requests.post(f"{sim.url}{path}", data=ok_invoice(), headers=PLAIN, timeout=5)

    assert post("/test/FCTEL/rest/validare/FACT1").status_code == 404
    answer = post("/prod/FCTEL/rest/validare/FACT1")
    assert answer.json()["stare"] == "ok"  # no token needed
    unknown = post("/prod/FCTEL/rest/validare/FACT2").json()  # answered, not 404 (validare.json)
    assert unknown["stare"] == "nok"
    assert unknown["Messages"][0]["message"] == "Valorile acceptate pentru parametrul standard sunt FACT1 si FCN"
    wrong = post("/prod/FCTEL/rest/validare/FCN").json()
    assert wrong["stare"] == "nok" and "FCN" in wrong["Messages"][0]["message"]


def test_a_pluggable_validator_decides(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), processing_seconds=0, validator=lambda xml: ["E: regula X"]) as sim:
        api = Api(sim)
        index = api.upload().index
        assert b'stare="nok"' in api.get(f"{REST}/stareMesaj", id_incarcare=index).content
        assert sim.uploads[index].errors == ["E: regula X"]


def test_default_validator_applies_the_cius_ro_checks():
    assert default_validator(ok_invoice()) == []
    old = default_validator(old_invoice())  # ANAF's 2022 example still carries CIUS-RO 1.0.0
    assert len(old) == 1 and old[0].startswith("E: validari globale SCHEMATRON eroare: [BR-RO-001]")
    assert any("[BR-RO-001]" in error for error in default_validator(cii_invoice()))
    assert "not a UBL Invoice" in default_validator(b"<Order/>")[0]
    assert default_validator(b"<Invoice")[0].startswith("E: validari globale eroare")


def test_runs_on_its_own():
    process = subprocess.Popen(
        [sys.executable, "-m", "einvoice.sim", "anaf", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = process.stdout.readline().split()[-1]
        page = requests.get(
            f"{url}/anaf-oauth2/v1/authorize",
            params={"response_type": "code", "client_id": DEFAULT_CLIENT_ID, "redirect_uri": "https://localhost/cb"},
            timeout=5,
        )
        assert page.status_code == 200 and "Autorizare" in page.text
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_authorize_refuses_unknown_clients_and_plain_http_callbacks(sim):
    base = f"{sim.url}/anaf-oauth2/v1/authorize"
    unknown = {"response_type": "code", "client_id": "other", "redirect_uri": "https://x/cb"}
    assert requests.get(base, params=unknown, timeout=5).status_code == 400
    plain = {**unknown, "client_id": DEFAULT_CLIENT_ID, "redirect_uri": "http://x/cb"}
    assert requests.get(base, params=plain, timeout=5).status_code == 400


def test_list_daily_limits(clock):
    with AnafSimulator(clock=clock, cifs=(CIF,), lists_per_cif=1, paged_lists_per_cif=1) as sim:
        api = Api(sim)
        window = {"startTime": int(START * 1000) - 60_000, "endTime": int(START * 1000) - 1000, "cif": CIF, "pagina": 1}
        for path, params, limit in (
            ("listaMesajeFactura", {"zile": 1, "cif": CIF}, 1),
            ("listaMesajePaginatieFactura", window, 1),
        ):
            assert "Nu exista mesaje" in eroare(api.get(f"{REST}/{path}", **params))
            assert eroare(api.get(f"{REST}/{path}", **params)) == (
                f"S-au facut deja {limit} interogari de lista mesaje de catre utilizator in cursul zilei"
            )
