"""XML the product reads: no DOCTYPE, no entity, in whatever encoding."""

import pytest

from l10n_nl_bankkoppeling.tools import safe_xml

CAMT = b'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><a>x</a></Document>'
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE d [\n<!ENTITY secret SYSTEM "file:///etc/hostname">\n]>\n'
       b'<Document><a>&secret;</a></Document>')


def test_a_plain_document_is_read():
    assert safe_xml.parse(CAMT).tag.endswith("Document")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_doctype_is_refused_in_every_encoding(encoding):
    data = XXE.decode().replace('version="1.0"', f'version="1.0" encoding="{encoding.replace("-sig", "")}"').encode(encoding)
    with pytest.raises(safe_xml.XmlRefused) as caught:
        safe_xml.parse(data)
    assert caught.value.code == "doctype"
    assert caught.value.line == 2


@pytest.mark.parametrize("declaration", [b"<!doctype d>", b"<! DOCTYPE d>", b"<!ENTITY x 'y'>"])
def test_spelling_does_not_hide_a_declaration(declaration):
    with pytest.raises(safe_xml.XmlRefused):
        safe_xml.check(b"<?xml version='1.0'?>" + declaration + b"<a/>")


def test_the_entity_is_never_resolved_even_when_parsed_with_our_parser():
    # Past the refusal (which parse() applies first), lxml itself keeps
    # entities unresolved and loads nothing: defence in depth.
    from lxml import etree

    root = etree.fromstring(XXE, parser=safe_xml.parser())
    assert "localhost" not in etree.tostring(root).decode()
    assert root.find("a").text is None


def test_broken_xml_names_its_line():
    with pytest.raises(safe_xml.XmlRefused) as caught:
        safe_xml.parse(b"<Document>\n<a>\n</Document>")
    assert caught.value.code == "syntax"
    assert caught.value.line == 3


def test_looks_like_xml():
    assert safe_xml.looks_like_xml(CAMT)
    assert safe_xml.looks_like_xml(CAMT.decode().encode("utf-16"))
    assert not safe_xml.looks_like_xml(b":20:STARTUMS\r\n:25:NL91ABNA0417164300")
