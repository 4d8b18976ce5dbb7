"""Survey results for the school's files: a spreadsheet (openpyxl) and charts sized for a phone (matplotlib).

Texts come translated by the caller's locale (gettext) and the question texts from the survey definitions.
matplotlib and openpyxl are imported where a file is made, not at start-up (tens of megabytes of memory the
bot would otherwise hold from the start; see benchmarks/size.py).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from io import BytesIO

from aiogram.utils.i18n import gettext as _

from bot.documents import write_sheet
from bot.labels import form_label, param_label, role_label
from dialogs.render import pick
from dialogs.results import Change, Summary, mean_changes
from dialogs.schema import Questionnaire, QuestionType, Registry

PHONE_WIDTH_IN, DPI = 6.4, 150  # 960 px wide: sharp on a phone, readable without zooming


def _question_text(q: Questionnaire | None, question_id: str, locale: str) -> str:
    question = q.question(question_id) if q else None
    return pick(question.text, locale) if question else question_id


def results_xlsx(
    programme: str, registry: Registry, summaries: Sequence[tuple[str, Summary]], changes: Sequence[Change],
    locale: str,
) -> bytes:
    """Sheets: summary (response rates), items (mean and the 1–10 distribution), forms, comments, and the
    before/after change per person with the programme's mean per parameter."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    write_sheet(workbook, _("Summary"), [_("Survey"), _("Invited"), _("Answered"), _("Response rate, %")],
                [[title, s.invited, s.answered, round(100 * s.response_rate, 1)] for title, s in summaries])
    scores = [str(n) for n in range(1, 11)]
    rows: list[list[object]] = []
    form_rows: list[list[object]] = []
    comment_rows: list[list[object]] = []
    for title, summary in summaries:
        for item in summary.items:
            text = _question_text(registry.get(item.questionnaire_id), item.question_id, locale)
            if item.kind is QuestionType.SCALE:
                rows.append([title, text, item.count, item.mean, *item.distribution().values()])
            else:
                rows.append([title, text, item.count, _("yes: {share}%").format(share=item.yes_percent)])
            form_rows += [[title, text, form_label(form), value] for form, value in item.form_means().items()]
        comment_rows += [[title, _question_text(registry.get(qid), question, locale), text]
                         for qid, question, text in summary.comments]
    write_sheet(workbook, _("Items"), [_("Survey"), _("Question"), _("Answers"), _("Mean"), *scores], rows)
    write_sheet(workbook, _("By form"), [_("Survey"), _("Question"), _("Form of mentoring"), _("Mean")],
                form_rows)
    write_sheet(workbook, _("Comments"), [_("Survey"), _("Question"), _("Comment")], comment_rows)
    params = sorted({p for c in changes for p in (*c.before, *c.after)})
    person_rows = [
        [c.name, role_label(c.role),
         *[v for p in params for v in (c.before.get(p), c.after.get(p), c.delta(p))]]
        for c in changes
    ]
    averages = mean_changes(changes)
    total = [v for p in params for v in ("", "", averages.get(p))]
    person_rows.append([_("Programme, mean change"), "", *total])
    headers = [_("Name"), _("Role")]
    for param in params:
        label = param_label(param)
        headers += [f"{label}: " + _("before"), f"{label}: " + _("after"), f"{label}: " + _("change")]
    write_sheet(workbook, _("Before and after"), headers, person_rows)
    workbook.properties.title = programme
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def chart_png(questionnaire: Questionnaire, summary: Summary, locale: str) -> bytes | None:
    """A horizontal bar chart of the mean score of each 1–10 item of one survey version (None when it has
    no answered scale item); labels wrapped and large enough to read on a phone."""
    items = [
        i for i in summary.items
        if i.kind is QuestionType.SCALE and i.questionnaire_id == questionnaire.id and i.mean is not None
    ]
    if not items:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    labels = ["\n".join(textwrap.wrap(_question_text(questionnaire, i.question_id, locale), 30))
              for i in items]
    height = 1.6 + 0.95 * len(items)
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH_IN, height), dpi=DPI)
    try:
        bars = ax.barh(range(len(items)), [i.mean for i in items], color="#2b7bb9")
        ax.set_yticks(range(len(items)), labels=labels, fontsize=11)
        ax.invert_yaxis()
        ax.set_xlim(0, 10)
        ax.set_xticks(range(0, 11, 2))
        ax.tick_params(axis="x", labelsize=11)
        for bar, item in zip(bars, items, strict=True):
            ax.text(bar.get_width() - 0.2, bar.get_y() + bar.get_height() / 2, f"{round(item.mean, 1):g}",
                    va="center", ha="right", color="white", fontsize=12, fontweight="bold")
        title = "\n".join(textwrap.wrap(pick(questionnaire.title, locale), 30))
        answers = _("answers: {count}, mean of 1–10").format(count=max(i.count for i in items))
        ax.set_title(title + "\n" + answers, fontsize=13)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        out = BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)



def _sheet_name(name: str, taken: set[str]) -> str:
    """A sheet title: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip()[:28] or "-"
    title, n = cleaned, 1
    while title.lower() in taken:
        n += 1
        title = f"{cleaned} {n}"
    taken.add(title.lower())
    return title


def _summary_rows(registry: Registry, title: str, summary: Summary, locale: str) -> list[list[object]]:
    rate = round(100 * summary.response_rate, 1)
    rows: list[list[object]] = [[title, _("Response rate, %"), summary.answered, rate]]
    for item in summary.items:
        text = _question_text(registry.get(item.questionnaire_id), item.question_id, locale)
        value = item.mean if item.kind is QuestionType.SCALE else _("yes: {share}%").format(
            share=item.yes_percent)
        rows.append([title, text, item.count, value])
    return rows


def department_xlsx(
    department: str, registry: Registry, overall: Sequence[tuple[str, Summary]], changes: Sequence[Change],
    schools: Sequence[tuple[str, Sequence[tuple[str, Sequence[tuple[str, Summary]]]]]], locale: str,
) -> bytes:
    """«All schools»: the overall sheets as for one programme (every school's answers together), then one
    sheet per school with each programme's response rates and item means."""
    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(results_xlsx(department, registry, overall, changes, locale)))
    taken = {name.lower() for name in workbook.sheetnames}
    headers = [_("Programme"), _("Survey"), _("Question"), _("Answers"), _("Mean")]
    for school, programmes in schools:
        rows = [[programme, *row] for programme, summaries in programmes for title, summary in summaries
                for row in _summary_rows(registry, title, summary, locale)]
        write_sheet(workbook, _sheet_name(school, taken), headers, rows)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
