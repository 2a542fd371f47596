"""Golden byte counts: every shipped appointment SMS that carries the person's page, with the
full link (``/a/{token}``) before the short links and with ``/s/{code}`` after.

Rendered by the real Renderer from the shipped templates with their own sample data (every
kind of appointment), the link being what the service really puts there for a public URL of
``https://notifier.example.kr``. A change to a template or to the links changes these numbers
on purpose: update the table and say why in the commit.
"""

from __future__ import annotations

import copy
import secrets

import pytest
from itsdangerous import URLSafeSerializer

from notifier.appointments.notices import KIND_LABELS, PAGE_SALT
from notifier.appointments.short_links import CODE_BYTES
from notifier.bootstrap import TEMPLATES_DIR
from notifier.domain.sms import SMS_MAX_BYTES, measure_sms
from notifier.templates.files import load_directory
from notifier.templates.rendering import Renderer

PUBLIC_URL = "https://notifier.example.kr"
APPOINTMENT_ID = "0b5f2f8e-8d1c-4d55-9d0e-6a4f2e1c3b7a"  # a uuid4, as the service makes them
FULL = f"{PUBLIC_URL}/a/{URLSafeSerializer('x' * 32, salt=PAGE_SALT).dumps(APPOINTMENT_ID)}"
SHORT = f"{PUBLIC_URL}/s/{secrets.token_urlsafe(CODE_BYTES)}"
WITH_LINK = ("appointment_confirmation", "appointment_reminder", "appointment_change")

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
    ("appointment_reminder", "en", "in_depth_counseling"): (398, 330),
    ("appointment_reminder", "en", "psychological_support"): (396, 328),
    ("appointment_reminder", "en", "competency_assessment"): (399, 331),
    ("appointment_reminder", "en", "interview_resume_consulting"): (449, 381),
    ("appointment_reminder", "en", "employer_consulting"): (406, 338),
    ("appointment_reminder", "en", "other"): (386, 318),
    ("appointment_reminder", "ko", "in_depth_counseling"): (328, 260),
    ("appointment_reminder", "ko", "psychological_support"): (329, 261),
    ("appointment_reminder", "ko", "competency_assessment"): (328, 260),
    ("appointment_reminder", "ko", "interview_resume_consulting"): (370, 302),
    ("appointment_reminder", "ko", "employer_consulting"): (342, 274),
    ("appointment_reminder", "ko", "other"): (320, 252),
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
# How many of them fit one SMS (90 bytes) before and after. None does: the shipped appointment
# texts are 250 to 440 bytes with the short link, so each still goes as one LMS; the short link
# saves 68 bytes of each, and an SMS of a centre's own template with the link in it has 68
# more bytes for its text.
FITS = (0, 0)


def cases() -> list[tuple[str, str, str]]:
    shipped = {v.key: v for v in load_directory(TEMPLATES_DIR)}
    return [
        (key, locale, kind)
        for key in WITH_LINK
        for locale in sorted(shipped[key].sources)
        for kind in KIND_LABELS
    ]


def sms_bytes(key: str, locale: str, kind: str, link: str) -> int:
    version = next(v for v in load_directory(TEMPLATES_DIR) if v.key == key)
    data = copy.deepcopy(dict(version.spec.sample_for(locale)))
    lang = "en" if locale == "en" else "ko"
    data["appointment"] = {
        **data["appointment"],
        "kind": kind,
        "kind_label": KIND_LABELS[kind][lang],
        "link": link,
    }
    rendered = Renderer(TEMPLATES_DIR / "_layout").render(version, "sms", locale, data)
    assert link in rendered.body
    return measure_sms(rendered.body).cp949_bytes


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
