"""Real small files built in memory for upload tests (no fixtures on disk)."""

from __future__ import annotations

import io
import zipfile


def pdf_bytes(text: str) -> bytes:
    """A minimal valid one-page PDF whose text pypdf extracts."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def encrypted_pdf_bytes(text: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(text))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt_bytes(text: str) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Heading"))
    for line in text.split("\n"):
        document.text.addElement(P(text=line))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)

# The start of a Windows executable (MZ header, PE signature offset) padded out.
EXE_BYTES = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
)


def _docx_skeleton(archive: zipfile.ZipFile, document_xml: bytes) -> None:
    archive.writestr(
        "[Content_Types].xml",
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"></Types>',
    )
    archive.writestr("word/document.xml", document_xml)


def zip_bomb_docx(unpacked_mb: int = 200) -> bytes:
    """A DOCX-shaped zip with one entry of `unpacked_mb` MB of zeros, streamed in."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _docx_skeleton(archive, b'<?xml version="1.0"?><w:document xmlns:w="urn:w"/>')
        chunk = b"\x00" * (1024 * 1024)
        with archive.open("word/media/zeros.bin", "w", force_zip64=True) as entry:
            for _ in range(unpacked_mb):
                entry.write(chunk)
    return out.getvalue()


def many_entries_docx(count: int = 1500) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _docx_skeleton(archive, b'<?xml version="1.0"?><w:document xmlns:w="urn:w"/>')
        for n in range(count):
            archive.writestr(f"word/parts/p{n}.txt", b"x")
    return out.getvalue()


XXE_DOCUMENT = (
    b'<?xml version="1.0"?>\n<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"
)


def xxe_docx() -> bytes:
    """A real python-docx document whose word/document.xml declares an external entity."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes("harmless")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = XXE_DOCUMENT
            archive.writestr(info.filename, data)
    return out.getvalue()


def traversal_docx(name: str = "../../evil.sh") -> bytes:
    source = zipfile.ZipFile(io.BytesIO(docx_bytes("harmless")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
        archive.writestr(name, b"#!/bin/sh\necho owned\n")
    return out.getvalue()


def _docx_with(replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """A real python-docx document with some parts replaced and others added."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes("harmless")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, data in (add or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def xxe_main_part_docx() -> bytes:
    """The reviewer's construction: the main part is word/main.dat (declared in the package's
    relationships and content types), with an external entity; a harmless word/document.xml
    stays only to look like a DOCX. Word processors and python-docx follow the relationship."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes("harmless")))
    rels = source.read("_rels/.rels").replace(b"word/document.xml", b"word/main.dat")
    types = source.read("[Content_Types].xml").replace(
        b'PartName="/word/document.xml"', b'PartName="/word/main.dat"'
    )
    return _docx_with(
        {"_rels/.rels": rels, "[Content_Types].xml": types}, {"word/main.dat": XXE_DOCUMENT}
    )


def xxe_utf16_part_docx() -> bytes:
    """A custom XML part, not named .xml, in UTF-16 (which hides the bytes "<!DOCTYPE")."""
    return _docx_with({}, {"customXml/item1.bin": XXE_DOCUMENT.decode().encode("utf-16")})


def xxe_declared_encoding_docx(encoding: str = "cp500") -> bytes:
    """A part whose XML declaration names an encoding in which DOCTYPE is not ASCII (EBCDIC)."""
    text = XXE_DOCUMENT.decode().replace(
        '<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>'
    )
    return _docx_with({}, {"customXml/item2.dat": text.encode(encoding)})
