"""Test files for photos and voice: real images made with Pillow, audio headers by format."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 64, height: int = 48, orientation: int = 6) -> bytes:
    """A JPEG whose EXIF holds GPS coordinates (成都) and an orientation tag."""
    image = Image.new("RGB", (width, height), (180, 40, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (30.0, 39.0, 36.0), 3: "E", 4: (104.0, 4.0, 12.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 120, 0, 128)).save(out, "PNG")
    return out.getvalue()


def noisy_jpeg(width: int, height: int) -> bytes:
    """A JPEG that does not compress well (for size limits)."""
    import os

    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


# The first bytes of each audio container people's phones and browsers record into.
AMR = b"#!AMR\n" + bytes(200)
OGG_OPUS = b"OggS\x00\x02" + bytes(22) + b"\x13OpusHead" + bytes(100)
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(100)
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + bytes(100)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(100)
WEBM = b"\x1a\x45\xdf\xa3" + bytes(100)
AAC = b"\xff\xf1\x50\x80" + bytes(100)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100)
PDF = b"%PDF-1.7\n" + bytes(100)
