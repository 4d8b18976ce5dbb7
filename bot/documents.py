"""Documents for the school's files: the order draft on approving pairs (DOCX) and the lists (XLSX).

Texts are translated by the caller's locale (gettext); the libraries do the formats: python-docx, openpyxl.
Both are imported where a document is made, not at start-up: most processes never make one, and together
they would take tens of megabytes of the bot's memory from the start (see benchmarks/size.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from openpyxl import Workbook


@dataclass(frozen=True)
class PairRow:
    """One approved pair or group as the documents show it."""

    mentor: str
    mentees: tuple[str, ...]
    form: str  # translated label
    start: date
    end: date
    approved: date


@dataclass(frozen=True)
class PersonRow:
    """One participant in the participants list."""

    name: str
    role: str  # translated label
    form: str  # translated label
    minor: bool
    state: str  # translated label
    partners: tuple[str, ...]


def order_docx(organisation: str, programme: str, pairs: list[PairRow], locale: str) -> bytes:
    """The draft order «On approving mentoring pairs/groups» with its table."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    heading = ((organisation, True), (_("ORDER"), True), (_("No. ____ of «__» ________ 20__"), False))
    for text, bold in heading:
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(text).bold = bold
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(_("On approving mentoring pairs/groups")).bold = True
    doc.add_paragraph(_(
        "In accordance with the regulations on mentoring of {organisation} and to carry out the mentoring "
        "programme «{programme}»,"
    ).format(organisation=organisation, programme=programme))
    doc.add_paragraph(_("I ORDER:"))
    doc.add_paragraph(_("1. To approve the mentoring pairs/groups listed in the table below."))
    headers = [_("No."), _("Mentor"), _("Mentees"), _("Form of mentoring"), _("Period")]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(header).bold = True
    for number, pair in enumerate(pairs, 1):
        period = "{start} — {end}".format(
            start=format_date(pair.start, format="short", locale=locale),
            end=format_date(pair.end, format="short", locale=locale),
        )
        values = [str(number), pair.mentor, "\n".join(pair.mentees), pair.form, period]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    doc.add_paragraph()
    doc.add_paragraph(_("2. The mentors are to draw up personalised development programmes with their "
                        "mentees at the planning meeting."))
    doc.add_paragraph(_("3. The curator of the mentoring programme is to monitor the work of the "
                        "pairs/groups."))
    doc.add_paragraph(_("4. I reserve control over the execution of this order."))
    doc.add_paragraph()
    doc.add_paragraph(_("Head of the organisation ____________ / ____________"))
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def write_sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list[object]]) -> None:
    """A sheet with a bold header row, widths fitted to the text, wrapped cells and a frozen header."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title[:31])
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, header in enumerate(headers, 1):
        values = [str(header)] + [str(r[column - 1]) for r in rows if column <= len(r)]
        longest = max(len(line) for v in values for line in v.split("\n"))
        sheet.column_dimensions[get_column_letter(column)].width = min(60, max(8, longest + 2))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def lists_xlsx(programme: str, people: list[PersonRow], pairs: list[PairRow]) -> bytes:
    """Two sheets: the participants (with their state and partners) and the approved pairs/groups."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    yes, no = _("yes"), _("no")
    write_sheet(
        workbook, _("Participants"),
        [_("Name"), _("Role"), _("Form of mentoring"), _("Minor"), _("State"), _("Pair")],
        [[p.name, p.role, p.form, yes if p.minor else no, p.state, "\n".join(p.partners)] for p in people],
    )
    write_sheet(
        workbook, _("Pairs and groups"),
        [_("No."), _("Mentor"), _("Mentees"), _("Number of mentees"), _("Form of mentoring"), _("Approved"),
         _("Start"), _("End")],
        [[n, p.mentor, "\n".join(p.mentees), len(p.mentees), p.form, p.approved, p.start, p.end]
         for n, p in enumerate(pairs, 1)],
    )
    workbook.properties.title = programme
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Letter:
    """One thank-you letter: whom it thanks and for what (texts already translated)."""

    award: str  # e.g. "Mentor of the year"
    names: tuple[str, ...]  # the mentor, or the pair's mentor and mentees


def thank_you_docx(organisation: str, programme: str, letters: list[Letter], on: date, locale: str) -> bytes:
    """Thank-you letters, one page each: the organisation, the award, the name(s), the programme, the date
    and a line for the head's signature."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(14)
    for number, letter in enumerate(letters):
        if number:
            doc.add_page_break()
        _letter_page(doc, organisation, programme, letter, format_date(on, format="long", locale=locale))
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def _centred(doc: DocxDocument, text: str, *, bold: bool = False, size: int | None = None) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)


def _letter_page(doc: DocxDocument, organisation: str, programme: str, letter: Letter, on: str) -> None:
    _centred(doc, organisation, bold=True)
    _centred(doc, _("LETTER OF THANKS"), bold=True, size=24)
    _centred(doc, letter.award, bold=True, size=18)
    for name in letter.names:
        _centred(doc, name, bold=True, size=16)
    doc.add_paragraph(_(
        "{organisation} sincerely thanks you for your work in the mentoring programme «{programme}»: for "
        "the time, the care and the experience you shared, and for the results achieved together."
    ).format(organisation=organisation, programme=programme))
    doc.add_paragraph()
    doc.add_paragraph(_("Date: {date}").format(date=on))
    doc.add_paragraph(_("Head of the organisation ____________ / ____________"))
