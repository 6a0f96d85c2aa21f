"""Checking uploads by their content, never by their name.

Photos are decoded and re-encoded as JPEG: what is stored holds pixels only, with no EXIF
(so no GPS position of a beneficiary's home) and nothing hidden after the image data.
PDFs must look like PDFs from their first to their last bytes.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # beyond this an "image" is more likely a decompression bomb
MAX_SIDE = 2560  # photos are scaled down to this; enough to read a receipt or a label
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass
class CleanUpload:
    name: str
    content: bytes
    content_type: str
    kind: str  # "photo" or "document"

    def as_file(self) -> ContentFile:
        return ContentFile(self.content, name=self.name)


def _read(upload, limit: int) -> bytes:
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("%(name)s is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {"name": upload.name, "size": round(upload.size / 1e6, 1), "limit": limit // 10**6}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _("%(name)s is too large; the limit is %(limit)s MB.")
            % {"name": upload.name, "limit": limit // 10**6}
        )
    if not data:
        raise ValidationError(_("%(name)s is empty.") % {"name": upload.name})
    return data


def _clean_pdf(name: str, data: bytes) -> CleanUpload:
    if b"%%EOF" not in data[-2048:]:
        raise ValidationError(
            _("%(name)s is not a complete PDF (it may be cut short).") % {"name": name}
        )
    return CleanUpload(f"{uuid.uuid4().hex}.pdf", data, "application/pdf", "document")


def _clean_image(name: str, data: bytes) -> CleanUpload:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in IMAGE_FORMATS:
                raise ValidationError(
                    _("%(name)s is a %(format)s image; use JPEG, PNG or WebP.")
                    % {"name": name, "format": probe.format}
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(_("%(name)s has too many pixels.") % {"name": name})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # keep it upright once EXIF is gone
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            # No exif= argument: Pillow writes no metadata at all.
            image.save(out, format="JPEG", quality=85, optimize=True)
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            _("%(name)s is damaged and cannot be read as an image.") % {"name": name}
        ) from exc
    return CleanUpload(f"{uuid.uuid4().hex}.jpg", out.getvalue(), "image/jpeg", "photo")


def clean_upload(upload, *, images: bool = True, pdf: bool = True) -> CleanUpload:
    """Validate one uploaded file by its bytes; raise ValidationError with a clear message."""
    data = _read(upload, settings.UPLOAD_MAX_BYTES)
    name = upload.name or "file"
    if pdf and data.startswith(b"%PDF-"):
        return _clean_pdf(name, data)
    if images:
        try:
            with Image.open(io.BytesIO(data)):
                pass
        except Image.DecompressionBombError:
            # Not an OSError: a few KB that would decode to gigabytes of pixels.
            raise ValidationError(_("%(name)s has too many pixels.") % {"name": name}) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            pass
        else:
            return _clean_image(name, data)
    allowed = (
        _("a photo (JPEG, PNG, WebP) or a PDF")
        if images and pdf
        else _("a PDF")
        if pdf
        else _("a photo (JPEG, PNG, WebP)")
    )
    raise ValidationError(
        _("%(name)s is not %(allowed)s, whatever its name says.")
        % {"name": name, "allowed": allowed}
    )


def clean_uploads(uploads, *, images: bool = True, pdf: bool = True) -> list[CleanUpload]:
    """Validate several uploads; one ValidationError naming every file refused (the form
    fields and the API serializers of proofs and receipt photos ask here)."""
    cleaned, errors = [], []
    for upload in uploads:
        try:
            cleaned.append(clean_upload(upload, images=images, pdf=pdf))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return cleaned


Image.MAX_IMAGE_PIXELS = MAX_PIXELS
