from notifier.domain.erasure import ERASED, Person, scrub

PERSON = Person(
    owner="crm", external_id="r-1", phone="+821034567788", email="soger@example.com", name="소거될사람"
)


def test_a_phone_is_found_in_any_spelling() -> None:
    for text in ("+821034567788", "010-3456-7788", "01034567788", "010 3456 7788", "tel: 010.3456.7788"):
        assert PERSON.is_named_in(text), text
    assert not PERSON.is_named_in("010-3456-7789")


def test_an_email_is_found_in_any_case_and_a_name_inside_a_sentence() -> None:
    assert PERSON.is_named_in("To: SOGER@Example.com")
    assert PERSON.is_named_in("소거될사람님, 채용박람회 안내")
    assert not PERSON.is_named_in("다른사람님")


def test_a_one_letter_name_is_not_searched_for() -> None:
    short = Person(owner="crm", external_id="r-2", phone=None, email=None, name="김")
    assert not short.is_named_in("김상담 상담사")


def test_scrub_erases_every_string_that_names_the_person_and_keeps_the_rest() -> None:
    payload = {
        "phone": "+821034567788",
        "scope": "all",
        "nested": [{"name": "소거될사람"}, 3, None, "kept"],
        "at": "2026-12-01T10:00:00+09:00",
    }
    assert scrub(payload, PERSON) == {
        "phone": ERASED,
        "scope": "all",
        "nested": [{"name": ERASED}, 3, None, "kept"],
        "at": "2026-12-01T10:00:00+09:00",
    }
