"""Golden byte counts: every shipped appointment SMS that carries the person's page, with the
full link (``/a/{token}``) before the short links and with ``/s/{code}`` after; for the
reminder, also its one-part form (``sms_short.txt``) with the short link, for each centre.

Rendered by the real Renderer from the shipped templates with their own sample data (every
kind of appointment), the link being what the service really puts there for a public URL of
``https://notifier.example.kr``. A change to a template or to the links changes these numbers
on purpose: update the table and say why in the commit.
"""

from __future__ import annotations

import copy
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from itsdangerous import URLSafeSerializer

import notifier
from notifier.appointments.notices import KIND_LABELS, PAGE_SALT
from notifier.appointments.short_links import CODE_BYTES
from notifier.bootstrap import TEMPLATES_DIR
from notifier.domain.sms import SMS_MAX_BYTES, apply_replacements, cp949_bytes, measure_sms
from notifier.templates.files import load_directory
from notifier.templates.rendering import Renderer, prepare_context

PUBLIC_URL = "https://notifier.example.kr"
APPOINTMENT_ID = "0b5f2f8e-8d1c-4d55-9d0e-6a4f2e1c3b7a"  # a uuid4, as the service makes them
FULL = f"{PUBLIC_URL}/a/{URLSafeSerializer('x' * 32, salt=PAGE_SALT).dumps(APPOINTMENT_ID)}"
SHORT = f"{PUBLIC_URL}/s/{secrets.token_urlsafe(CODE_BYTES)}"
WITH_LINK = ("appointment_confirmation", "appointment_change")  # sms.txt only
CENTERS = [
    c["name"] for c in yaml.safe_load((Path(notifier.__file__).parent / "data/centers.yaml").read_text())
]

# (template, locale, kind) -> (cp949 bytes with /a/{token}, with /s/{code})
GOLDEN: dict[tuple[str, str, str], tuple[int, int]] = {
    ("appointment_confirmation", "en", "in_depth_counseling"): (481, 413),
    ("appointment_confirmation", "en", "psychological_support"): (483, 415),
    ("appointment_confirmation", "en", "competency_assessment"): (485, 417),
    ("appointment_confirmation", "en", "interview_resume_consulting"): (488, 420),
    ("appointment_confirmation", "en", "employer_consulting"): (504, 436),
    ("appointment_confirmation", "en", "other"): (425, 357),
    ("appointment_confirmation", "ko", "in_depth_counseling"): (386, 318),
    ("appointment_confirmation", "ko", "psychological_support"): (399, 331),
    ("appointment_confirmation", "ko", "competency_assessment"): (396, 328),
    ("appointment_confirmation", "ko", "interview_resume_consulting"): (409, 341),
    ("appointment_confirmation", "ko", "employer_consulting"): (421, 353),
    ("appointment_confirmation", "ko", "other"): (350, 282),
    ("appointment_change", "en", "in_depth_counseling"): (425, 357),
    ("appointment_change", "en", "psychological_support"): (423, 355),
    ("appointment_change", "en", "competency_assessment"): (426, 358),
    ("appointment_change", "en", "interview_resume_consulting"): (433, 365),
    ("appointment_change", "en", "employer_consulting"): (433, 365),
    ("appointment_change", "en", "other"): (413, 345),
    ("appointment_change", "ko", "in_depth_counseling"): (359, 291),
    ("appointment_change", "ko", "psychological_support"): (360, 292),
    ("appointment_change", "ko", "competency_assessment"): (359, 291),
    ("appointment_change", "ko", "interview_resume_consulting"): (366, 298),
    ("appointment_change", "ko", "employer_consulting"): (373, 305),
    ("appointment_change", "ko", "other"): (351, 283),
}
# How many of them fit one SMS (90 bytes) before and after. None does: the confirmation and the
# change notice are 280 to 440 bytes with the short link, so each still goes as one LMS (they
# must carry the place and, for a change, what changed); the short link saves 68 bytes of each.
FITS = (0, 0)

# The reminder, for every centre of centers.yaml (the longest name included), every locale and
# kind: (sms.txt with /a/{token}, sms.txt with /s/{code}, what is sent: sms_short.txt with
# /s/{code} when that fits 90 bytes, else sms.txt). The sample's time is 12/3(수) 14:00.
REMINDERS: dict[tuple[str, str, str], tuple[int, int, int]] = {
    ("구미고용복지+센터", "en", "in_depth_counseling"): (398, 330, 87),
    ("구미고용복지+센터", "en", "psychological_support"): (396, 328, 87),
    ("구미고용복지+센터", "en", "competency_assessment"): (399, 331, 87),
    ("구미고용복지+센터", "en", "interview_resume_consulting"): (449, 381, 89),
    ("구미고용복지+센터", "en", "employer_consulting"): (406, 338, 86),
    ("구미고용복지+센터", "en", "other"): (386, 318, 88),
    ("구미고용복지+센터", "ko", "in_depth_counseling"): (328, 260, 85),
    ("구미고용복지+센터", "ko", "psychological_support"): (329, 261, 85),
    ("구미고용복지+센터", "ko", "competency_assessment"): (328, 260, 85),
    ("구미고용복지+센터", "ko", "interview_resume_consulting"): (370, 302, 87),
    ("구미고용복지+센터", "ko", "employer_consulting"): (342, 274, 87),
    ("구미고용복지+센터", "ko", "other"): (320, 252, 81),
    ("서산고용복지+센터", "en", "in_depth_counseling"): (398, 330, 87),
    ("서산고용복지+센터", "en", "psychological_support"): (396, 328, 87),
    ("서산고용복지+센터", "en", "competency_assessment"): (399, 331, 87),
    ("서산고용복지+센터", "en", "interview_resume_consulting"): (449, 381, 89),
    ("서산고용복지+센터", "en", "employer_consulting"): (406, 338, 86),
    ("서산고용복지+센터", "en", "other"): (386, 318, 88),
    ("서산고용복지+센터", "ko", "in_depth_counseling"): (328, 260, 85),
    ("서산고용복지+센터", "ko", "psychological_support"): (329, 261, 85),
    ("서산고용복지+센터", "ko", "competency_assessment"): (328, 260, 85),
    ("서산고용복지+센터", "ko", "interview_resume_consulting"): (370, 302, 87),
    ("서산고용복지+센터", "ko", "employer_consulting"): (342, 274, 87),
    ("서산고용복지+센터", "ko", "other"): (320, 252, 81),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "en", "in_depth_counseling"): (425, 357, 357),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "en", "psychological_support"): (423, 355, 355),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "en", "competency_assessment"): (426, 358, 358),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "en", "interview_resume_consulting"): (476, 408, 408),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "en", "employer_consulting"): (433, 365, 365),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "en", "other"): (413, 345, 345),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "ko", "in_depth_counseling"): (355, 287, 287),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "ko", "psychological_support"): (356, 288, 288),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "ko", "competency_assessment"): (355, 287, 287),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "ko", "interview_resume_consulting"): (397, 329, 329),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "ko", "employer_consulting"): (369, 301, 301),
    ("고용노동부 고용서비스정책관 고용서비스혁신TF", "ko", "other"): (347, 279, 279),
}
# Reminders that fit one SMS: before (sms.txt, full or short link) and after (what is sent).
# 24 of 36 after: every reminder of a centre with a name of usual length (구미, 서산: 17 bytes)
# fits with room for a two-digit day; the 44-byte name of the ministry's TF leaves too little,
# so its reminders go as the full LMS (sms.txt) as before.
REMINDERS_FIT = (0, 24)


def cases() -> list[tuple[str, str, str]]:
    shipped = {v.key: v for v in load_directory(TEMPLATES_DIR)}
    return [
        (key, locale, kind)
        for key in WITH_LINK
        for locale in sorted(shipped[key].sources)
        for kind in KIND_LABELS
    ]


def reminder_cases() -> list[tuple[str, str, str]]:
    return [(center, locale, kind) for center in CENTERS for locale in ("en", "ko") for kind in KIND_LABELS]


def sample(key: str, locale: str, kind: str, link: str, center: str | None = None) -> dict[str, Any]:
    version = next(v for v in load_directory(TEMPLATES_DIR) if v.key == key)
    data = copy.deepcopy(dict(version.spec.sample_for(locale)))
    lang = "en" if locale == "en" else "ko"
    data["appointment"] = {
        **data["appointment"],
        "kind": kind,
        "kind_label": KIND_LABELS[kind][lang],
        "link": link,
    }
    if center is not None:
        data["center"] = {**data["center"], "name": center}
    return data


def sms_bytes(key: str, locale: str, kind: str, link: str) -> int:
    version = next(v for v in load_directory(TEMPLATES_DIR) if v.key == key)
    rendered = Renderer(TEMPLATES_DIR / "_layout").render(
        version, "sms", locale, sample(key, locale, kind, link)
    )
    assert link in rendered.body
    return measure_sms(rendered.body).cp949_bytes


def reminder_bytes(center: str, locale: str, kind: str) -> tuple[int, int, int]:
    """sms.txt with the full link, sms.txt with the short link, and the body really sent."""
    key = "appointment_reminder"
    version = next(v for v in load_directory(TEMPLATES_DIR) if v.key == key)
    renderer = Renderer(TEMPLATES_DIR / "_layout")
    sizes = []
    for link in (FULL, SHORT):
        context = prepare_context(version.spec, sample(key, locale, kind, link, center))
        body = apply_replacements(renderer.render_part(version, locale, "sms.txt", context).strip())
        assert link in body and center in body
        sizes.append(cp949_bytes(body))
    sent = renderer.render(version, "sms", locale, sample(key, locale, kind, SHORT, center)).body
    assert SHORT in sent and center in sent
    return sizes[0], sizes[1], cp949_bytes(sent)


@pytest.mark.parametrize(("key", "locale", "kind"), cases())
def test_the_short_link_saves_its_bytes_in_every_shipped_appointment_sms(
    key: str, locale: str, kind: str
) -> None:
    before, after = sms_bytes(key, locale, kind, FULL), sms_bytes(key, locale, kind, SHORT)
    assert (before, after) == GOLDEN[key, locale, kind]
    assert before - after == len(FULL) - len(SHORT) == 68


def test_more_shipped_appointment_sms_fit_one_sms_with_the_short_link() -> None:
    fits_before = sum(before <= SMS_MAX_BYTES for before, _ in GOLDEN.values())
    fits_after = sum(after <= SMS_MAX_BYTES for _, after in GOLDEN.values())
    assert (fits_before, fits_after) == FITS


@pytest.mark.parametrize(("center", "locale", "kind"), reminder_cases())
def test_the_reminder_goes_as_one_sms_where_its_short_form_fits(center: str, locale: str, kind: str) -> None:
    assert reminder_bytes(center, locale, kind) == REMINDERS[center, locale, kind]


def test_more_reminders_fit_one_sms_with_the_short_form() -> None:
    assert sorted(REMINDERS) == sorted(reminder_cases())
    fits_before = sum(max(full, short) <= SMS_MAX_BYTES for full, short, _ in REMINDERS.values())
    fits_after = sum(sent <= SMS_MAX_BYTES for _, _, sent in REMINDERS.values())
    assert (fits_before, fits_after) == REMINDERS_FIT
    assert fits_after > fits_before
