"""Text for images (panel labels, contact sheet captions) drawn with Pillow's own font."""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def _font(px: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=px)
    except TypeError:  # Pillow without FreeType: fixed bitmap font
        return ImageFont.load_default()


def label_strip(text: str, width: int, height: int, bg=(24, 25, 28), fg=(230, 230, 230)):
    """(height, width, 3) uint8 strip with ``text`` centred, shrunk to fit."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    px = max(8, int(height * 0.72))
    while True:
        font = _font(px)
        box = draw.textbbox((0, 0), text, font=font)
        if box[2] - box[0] <= width - 6 or px <= 8:
            break
        px -= 1
    x = (width - (box[2] - box[0])) // 2 - box[0]
    y = (height - (box[3] - box[1])) // 2 - box[1]
    draw.text((x, y), text, font=font, fill=fg)
    return np.asarray(img)
