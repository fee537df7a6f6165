import io
import zipfile

import pytest

from einvoice.xmlsafe import UnsafeInputError, parse_xml, read_zip

INVOICE = b'<?xml version="1.0" encoding="UTF-8"?><Invoice xmlns="urn:x"><ID>F-1</ID><Note>\xc8\x98</Note></Invoice>'


def make_zip(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


# -- XML ---------------------------------------------------------------------------------------------------------
def test_parses_a_plain_document():
    root = parse_xml(INVOICE)
    assert root.findtext("{urn:x}ID") == "F-1"
    assert root.findtext("{urn:x}Note") == "\u0218"


def test_accepts_a_byte_order_mark_and_utf16():
    assert parse_xml(b"\xef\xbb\xbf" + INVOICE).findtext("{urn:x}ID") == "F-1"
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><a>\u0218</a>'.encode("utf-16")
    assert parse_xml(utf16).text == "\u0218"


@pytest.mark.parametrize(
    "payload",
    [
        # external entity (XXE) reading a local file
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        # external entity over the network
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>',
        # parameter entity / external DTD
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>',
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
        b'<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
        b'<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
        b'<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
        b'<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
        b'<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><lolz>&lol9;</lolz>',
        # quadratic blow-up: one large entity referenced many times
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]><r>' + b"&a;" * 10_000 + b"</r>",
        # a harmless-looking internal DTD is refused too: e-invoices never carry one
        b'<?xml version="1.0"?><!DOCTYPE r [<!ELEMENT r ANY>]><r/>',
    ],
    ids=["xxe-file", "xxe-network", "external-dtd", "billion-laughs", "quadratic-blowup", "internal-dtd"],
)
def test_refuses_dtds_and_entities(payload):
    with pytest.raises(UnsafeInputError) as caught:
        parse_xml(payload)
    assert "DTD" in str(caught.value) or "entit" in str(caught.value)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaks into the message


def test_refuses_oversized_input_before_parsing():
    with pytest.raises(UnsafeInputError, match="more than the 100 allowed"):
        parse_xml(b"<a>" + b"x" * 200 + b"</a>", max_bytes=100)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"<a><b></a>", "not well-formed"),
        (b"not xml at all", "not well-formed"),
        # declared UTF-8, but Latin-1 bytes
        (b'<?xml version="1.0" encoding="UTF-8"?><a>Ia\xfei</a>', "not well-formed"),
        # an encoding that does not exist
        (b'<?xml version="1.0" encoding="X-NOPE-9"?><a/>', "not well-formed|cannot be decoded"),
        # UTF-16 declared, UTF-8 given
        (b'<?xml version="1.0" encoding="UTF-16"?><a/>', "not well-formed|cannot be decoded"),
    ],
)
def test_reports_malformed_input_clearly(payload, expected):
    with pytest.raises(UnsafeInputError, match=expected) as caught:
        parse_xml(payload)
    assert "<string>" not in str(caught.value)  # the parser's words, not its internals


def test_a_syntax_error_says_where():
    with pytest.raises(UnsafeInputError, match="line 1, column 11"):
        parse_xml(b"<a><b></a>")


def test_refuses_text_so_that_encodings_are_not_guessed():
    with pytest.raises(TypeError):
        parse_xml(INVOICE.decode())


def test_error_message_names_the_document_and_translates():
    from einvoice.i18n import _

    with pytest.raises(UnsafeInputError) as caught:
        parse_xml(b"<a>", what=_("supplier invoice"))
    assert str(caught.value).startswith("The supplier invoice is not well-formed XML")
    with pytest.raises(UnsafeInputError) as caught:
        parse_xml(b"<a>")
    assert caught.value.translated("ro").startswith("Documentul XML nu este un XML bine format")
    assert caught.value.translated("pl").startswith("Dokument XML: niepoprawny składniowo XML")


# -- ZIP ---------------------------------------------------------------------------------------------------------
def test_reads_an_anaf_style_archive():
    data = make_zip([("4242.xml", INVOICE), ("semnatura_4242.xml", b"<Signature/>")])
    assert read_zip(data) == {"4242.xml": INVOICE, "semnatura_4242.xml": b"<Signature/>"}


def test_skips_folders_and_normalises_names():
    data = make_zip([("dir/", b""), ("dir/./a.xml", b"<a/>")])
    assert read_zip(data) == {"dir/a.xml": b"<a/>"}


@pytest.mark.parametrize(
    "name", ["../evil.xml", "a/../../evil.xml", "/etc/passwd", "..\\..\\evil.xml", "C:\\evil.xml", ".."]
)
def test_refuses_member_names_that_leave_the_archive(name):
    data = make_zip([(name, b"x")])
    with pytest.raises(UnsafeInputError, match="unsafe name"):
        read_zip(data)


def test_refuses_a_zip_bomb_by_ratio_while_reading():
    data = make_zip([("bomb.xml", b"\0" * (20 * 1024 * 1024))])
    assert len(data) < 100_000
    with pytest.raises(UnsafeInputError, match="times its compressed size"):
        read_zip(data)


def test_refuses_a_member_whose_declared_size_lies():
    # the central directory claims 10 bytes, the data inflates to 2 MB: the cap is enforced on real bytes
    data = bytearray(make_zip([("lie.xml", b"A" * 2_000_000)]))
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    local = data.index(b"PK\x03\x04")
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")
    with pytest.raises(UnsafeInputError):
        read_zip(bytes(data), max_ratio=10_000, max_member_bytes=1_000_000)


def test_refuses_too_many_members_and_too_much_in_total():
    many = make_zip([(f"{i}.xml", b"<a/>") for i in range(11)])
    with pytest.raises(UnsafeInputError, match="holds 11 files"):
        read_zip(many, max_members=10)
    big = make_zip([("a.xml", b"a" * 600), ("b.xml", b"b" * 600)], compression=zipfile.ZIP_STORED)
    with pytest.raises(UnsafeInputError, match="unpacks to more than 1000 bytes"):
        read_zip(big, max_total_bytes=1000)


def test_refuses_duplicate_members():
    with pytest.warns(UserWarning):
        data = make_zip([("a.xml", b"1"), ("a.xml", b"2")])
    with pytest.raises(UnsafeInputError, match="twice"):
        read_zip(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04 broken", b"<html>not a zip</html>"],
    ids=["empty", "broken-header", "html"],
)
def test_reports_broken_archives_clearly(data):
    with pytest.raises(UnsafeInputError, match="not a readable ZIP"):
        read_zip(data)


def test_reports_a_truncated_archive_clearly():
    data = make_zip([("a.xml", INVOICE * 50)])
    with pytest.raises(UnsafeInputError, match=r"not a readable ZIP|cannot be read"):
        read_zip(data[: len(data) // 2])


def test_reports_corrupt_member_data_clearly():
    data = bytearray(make_zip([("a.xml", INVOICE * 50)], compression=zipfile.ZIP_STORED))
    position = data.index(b"F-1")
    data[position : position + 3] = b"F-2"  # the stored CRC no longer matches
    with pytest.raises(UnsafeInputError, match="cannot be read"):
        read_zip(bytes(data))
