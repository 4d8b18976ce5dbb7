"""Printable QR codes of invite links, sent as photos."""

from __future__ import annotations

import io

import segno
from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

QR_FILENAME = "invite-qr.png"


def qr_png(url: str) -> bytes:
    """The QR code of a URL as a PNG (error correction M, large enough to print)."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=8, border=4)
    return buf.getvalue()


def qr_file(url: str, filename: str = QR_FILENAME) -> BufferedInputFile:
    """The QR code of a URL, ready to upload."""
    return BufferedInputFile(qr_png(url), filename=filename)


async def send_qr(
    bot: Bot,
    chat_id: int,
    url: str,
    caption: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send the QR code of a URL as a photo with a caption."""
    return await bot.send_photo(chat_id, qr_file(url), caption=caption, reply_markup=reply_markup)
