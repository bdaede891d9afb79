"""Cover: the programme's square artwork, drawn in code (no third-party images)."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

COVER_SIZE = 1400  # Apple asks for 1400 to 3000 px, square, RGB


def cover_image(programme: str, size: int = COVER_SIZE) -> Image.Image:
    """Deep-blue gradient, sound-wave arcs and a bold 'NEWS BRIEFING' wordmark.

    Pillow's bundled font has no Chinese glyphs, so the programme name only seeds the colour.
    """
    hue_shift = sum(map(ord, programme)) % 40
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    for y in range(size):
        t = y / size
        draw.line([(0, y), (size, y)], fill=(int(12 + 30 * t), int(40 + 50 * t + hue_shift), int(110 + 90 * t)))
    centre = (size * 0.5, size * 0.42)
    for ring in range(1, 6):
        radius = size * 0.07 * ring
        box = [centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius]
        shade = 255 - ring * 28
        draw.arc(box, start=-50, end=50, fill=(shade, shade, 255), width=max(4, size // 90))
        draw.arc(box, start=130, end=230, fill=(shade, shade, 255), width=max(4, size // 90))
    dot = size * 0.045
    draw.ellipse([centre[0] - dot, centre[1] - dot, centre[0] + dot, centre[1] + dot], fill=(255, 196, 60))
    font = ImageFont.load_default(size=size // 11)
    small = ImageFont.load_default(size=size // 22)
    _centred_text(draw, "NEWS", size * 0.72, font, size)
    _centred_text(draw, "BRIEFING", size * 0.82, small, size)
    for x in range(0, size, max(1, size // 40)):
        height = abs(math.sin(x / size * 9)) * size * 0.03 + 4
        draw.line([(x, size * 0.95 - height), (x, size * 0.95)], fill=(255, 196, 60), width=max(2, size // 200))
    return image


def _centred_text(draw: ImageDraw.ImageDraw, text: str, y: float, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, size: int) -> None:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((size - (right - left)) / 2, y - (bottom - top) / 2), text, font=font, fill=(255, 255, 255))


def cover_bytes(programme: str, size: int = COVER_SIZE, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    cover_image(programme, size).save(buffer, format=format, **({"quality": 88} if format == "JPEG" else {}))
    return buffer.getvalue()
