# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reading XML the banks send (camt.05x) and the product writes (pain):
entities, DTDs and network access off, and a document that declares a
DOCTYPE or an entity refused before any parser sees it.

lxml is the parser; what is written here is only the refusal. lxml's own
switches are not enough on their own: OCA's camt parser builds its own
``XMLParser`` (entities on), and no bank file has any reason to carry a
DTD, so a file that does is refused whole instead of being parsed
"safely" and imported.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

#: A DOCTYPE or ENTITY declaration, in any case, with blanks after "<!".
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)\b", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class XmlRefused(ValueError):
    """Why an XML document is not read: ``code`` is ``doctype``, ``entity``
    or ``syntax``; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, code: str, line: int = 0, detail: str = ""):
        super().__init__(f"{code} at line {line}: {detail}".strip())
        self.code = code
        self.line = line
        self.detail = detail


def _as_text(data: bytes) -> str:
    """The document as text for the scan, whatever its encoding: UTF-16 and
    UTF-32 (with or without BOM) included, so that no encoding hides a
    declaration from the check."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    head = data[:4]
    if head[:2] == b"<\x00" and head[2:] != b"\x00\x00":
        return data.decode("utf-16-le", errors="replace")
    if head[:2] == b"\x00<":
        return data.decode("utf-16-be", errors="replace")
    if head == b"<\x00\x00\x00":
        return data.decode("utf-32-le", errors="replace")
    if head == b"\x00\x00\x00<":
        return data.decode("utf-32-be", errors="replace")
    # Single-byte or UTF-8: the ASCII of "<!DOCTYPE" reads the same in all.
    return data.decode("latin-1")


def ascii_head(data: bytes, size: int = 3000) -> bytes:
    """The first ``size`` characters as ASCII bytes, whatever the encoding
    (to look for a namespace such as ``camt.053`` in a UTF-16 file too)."""
    return _as_text(data[: size * 4])[:size].encode("ascii", "ignore")


def looks_like_xml(data: bytes) -> bool:
    return _as_text(data[:400]).lstrip("\ufeff \r\n\t").startswith("<")


def check(data: bytes) -> None:
    """Raise :class:`XmlRefused` when ``data`` declares a DOCTYPE or an entity."""
    text = _as_text(data)
    found = _DECLARATION.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise XmlRefused(found.group(1).lower(), line, found.group(0))


def parser(**options) -> etree.XMLParser:
    """lxml's parser with entities, DTDs and network access off."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, **options,
    )


def parse(data: bytes):
    """The root element of ``data``, read safely; :class:`XmlRefused` when it
    declares a DOCTYPE or entity or is no well-formed XML."""
    check(data)
    try:
        return etree.fromstring(data, parser=parser())
    except etree.XMLSyntaxError as error:
        raise XmlRefused("syntax", error.lineno or 0, error.msg) from error
