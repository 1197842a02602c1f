"""A small writer of TNEF (winmail.dat) for the tests: the attributes Outlook writes for a
message with a body and attached files, nothing more."""

from __future__ import annotations

import base64
import struct

SIGNATURE = 0x223E9F78
MESSAGE, ATTACHMENT = 1, 2


def _attribute(level: int, attr_id: int, data: bytes) -> bytes:
    # The id's low word names the attribute, its high word gives the type.
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attr_id, len(data)) + data + struct.pack("<H", checksum)


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _binary_property(prop_type: int, prop_id: int, value: bytes) -> bytes:
    return struct.pack("<HHII", prop_type, prop_id, 1, len(value)) + _padded(value)


def _mapi(*properties: bytes) -> bytes:
    return struct.pack("<I", len(properties)) + b"".join(properties)


def winmail(
    *,
    body: str = "",
    html: str = "",
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    mime_types: dict[str, str] | None = None,
    content_ids: dict[str, str] | None = None,
) -> bytes:
    out = struct.pack("<IH", SIGNATURE, 0x1234)
    out += _attribute(MESSAGE, 0x00089006, struct.pack("<I", 0x00010000))  # TNEF version
    out += _attribute(MESSAGE, 0x00069007, struct.pack("<II", 1252, 0))  # OEM code page
    if body:
        out += _attribute(MESSAGE, 0x0002800C, body.encode("cp1252"))
    if html:
        props = _mapi(_binary_property(0x0102, 0x1013, html.encode("utf-8")))
        out += _attribute(MESSAGE, 0x00069003, props)
    for name, data in files:
        out += _attribute(ATTACHMENT, 0x00069002, b"\x01\x00\xff\xff\xff\xff" + b"\x00" * 8)
        out += _attribute(ATTACHMENT, 0x00018010, name.encode("cp1252", "replace") + b"\x00")
        out += _attribute(ATTACHMENT, 0x0006800F, data)
        props = [_binary_property(0x001F, 0x3707, (name + "\x00").encode("utf-16-le"))]
        if mime := (mime_types or {}).get(name):
            props.append(_binary_property(0x001E, 0x370E, mime.encode() + b"\x00"))
        if cid := (content_ids or {}).get(name):
            props.append(_binary_property(0x001E, 0x3712, cid.encode() + b"\x00"))
        out += _attribute(ATTACHMENT, 0x00069005, _mapi(*props))
    return out


def with_winmail(
    data: bytes,
    *,
    text: str = "",
    sender: str = "Carl <carl@acme.test>",
    subject: str = "Sent from Outlook with rich text",
    message_id: str = "<winmail@acme.test>",
) -> bytes:
    """A message as Outlook sends it in rich-text mode: an optional text part, winmail.dat."""
    encoded = base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")
    parts = []
    if text:
        parts.append('Content-Type: text/plain; charset="us-ascii"\r\n\r\n' + text + "\r\n")
    parts.append(
        'Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
        'Content-Disposition: attachment; filename="winmail.dat"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + encoded
    )
    head = (
        f"From: {sender}\r\nTo: Customer Care <customercare@livevox.com>\r\n"
        f"Subject: {subject}\r\nDate: Thu, 26 Nov 2026 09:15:02 -0500\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="winmail-part"\r\n\r\n'
    )
    body = "".join(f"--winmail-part\r\n{p}\r\n" for p in parts) + "--winmail-part--\r\n"
    return (head + body).encode("ascii")
