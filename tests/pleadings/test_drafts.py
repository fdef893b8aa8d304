"""Template pleadings: placeholders checked at upload, drafts filled from a case."""

from __future__ import annotations

import io
from datetime import date

import docx
import pytest
from sqlalchemy import select

from tests.pleadings.conftest import TEMPLATE_PARAGRAPHS, add_pleading, docx_text, make_docx
from tracker.audit.models import AuditEntry
from tracker.cases.models import Party, PartyRole
from tracker.pleadings.drafts import TemplateProblem, check_template


@pytest.fixture()
def setting(factory, db):
    org = factory.organisation("Refugee Law Centre")
    member = factory.user("litigator", organisation=org)
    colleague = factory.user("litigator", organisation=org)  # sees the case, not on the team
    liberty = factory.right("liberty", "Liberty")
    factory.provision("ECHR", "5", rights=[liberty], title="Right to liberty and security")
    factory.instrument("ECHR").title = "European Convention on Human Rights"
    ecthr = factory.forum("ECTHR", name="European Court of Human Rights")
    case = factory.case(
        organisation=org,
        title="A.B. & C.D. v. Greece",
        reference="RLC-2024-7",
        team=[member],
        opened_on=date(2023, 3, 1),
    )
    case.rights = [liberty]
    case.provisions = [factory.provision("ECHR", "5")]
    case.parties.append(
        Party(role=PartyRole.CLAIMANT, pseudonym="A.B.", full_name="Amina <Bakr> & Co")
    )
    db.session.commit()
    factory.proceeding(case, ecthr, reference="12345/24", filed_on=date(2024, 1, 15))
    template = add_pleading(
        member,
        title="ECtHR application template",
        kind="template",
        content=make_docx(*TEMPLATE_PARAGRAPHS),
        filename="template.docx",
    )
    return member, colleague, case, template


def post_draft(client, template, case, **extra):
    return client.post(f"/pleadings/{template.id}/draft", data={"case_id": case.id, **extra})


def test_a_draft_is_filled_from_the_case(client, login, setting, db):
    member, _colleague, case, template = setting
    login(member)
    response = post_draft(client, template, case)
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "draft-a-b-c-d-v-greece.docx" in response.headers["Content-Disposition"]
    text = docx_text(response.data)
    assert "Application in A.B. & C.D. v. Greece" in text
    assert "Before: European Court of Human Rights (ref. 12345/24)" in text
    assert "Applicants: A.B." in text
    assert "Amina" not in text  # pseudonyms unless the team asks for names
    assert "Rights: Liberty" in text
    assert "[European Convention on Human Rights, 5: Right to liberty and security]" in text
    assert "Filed before European Court of Human Rights on January 15, 2024" in text
    assert "Opened on March 1, 2023" in text
    assert "Lodged by Refugee Law Centre on " in text
    assert "{{" not in text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pleading.draft"))
    assert entry.after == {"case_id": case.id, "full_names": False}


def test_the_case_team_may_ask_for_full_names(client, login, setting):
    member, _colleague, case, template = setting
    login(member)
    response = post_draft(client, template, case, full_names="y")
    assert response.status_code == 200
    # Escaped for XML by the sandbox's autoescape, read back intact.
    assert "Applicants: Amina <Bakr> & Co" in docx_text(response.data)


def test_outside_the_team_full_names_are_refused(client, login, setting):
    _member, colleague, case, template = setting
    login(colleague)
    response = post_draft(client, template, case, full_names="y")
    assert response.status_code == 403
    assert "Only the case team" in response.get_data(as_text=True)
    assert "Amina" not in response.get_data(as_text=True)
    ok = post_draft(client, template, case)
    assert ok.status_code == 200 and "Amina" not in docx_text(ok.data)


def test_draft_for_an_invisible_case_or_pleading_is_404(client, login, setting, factory):
    _member, _colleague, case, template = setting
    login(factory.user("litigator"))  # another organisation; the case is network-level
    hidden = factory.case(confidentiality="restricted", title="Hidden")
    assert post_draft(client, template, hidden).status_code == 404
    private = add_pleading(
        setting[0],
        title="Private template",
        kind="template",
        confidentiality="restricted",
        content=make_docx("{{ case_title }}"),
        filename="p.docx",
    )
    assert post_draft(client, private, case).status_code == 404


def test_a_pleading_that_is_not_a_template_gives_no_draft(client, login, setting):
    member, _colleague, case, _template = setting
    plain = add_pleading(member, title="Plain brief")
    login(member)
    response = post_draft(client, plain, case)
    assert response.status_code == 400
    assert "not a template" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("paragraphs", "named"),
    [
        (("Hello {{ secret_field }} in {{ case_title }}",), "{{ secret_field }}"),
        (("{{ case_title.__class__ }}",), "case_title.__class__"),
        (("{{ case_title|attr('x') }}",), "attr"),
        (("{{ range(10) }}",), "a function call"),
    ],
)
def test_bad_templates_are_refused_naming_the_placeholder(paragraphs, named, app):
    with app.test_request_context(), pytest.raises(TemplateProblem) as info:
        check_template(io.BytesIO(make_docx(*paragraphs)))
    assert named in str(info.value)


# (the paragraphs, the tag named as typed, what the message says about it)
MALFORMED = [
    (("Dear {{ case_title }",), "{{ case_title }", "is not closed"),
    (("{{ case title }}",), "{{ case title }}", "cannot be read as a placeholder"),
    (("{{ }}",), "{{ }}", "is empty"),
    (("{{ case_title ) }}",), "{{ case_title ) }}", "cannot be read as a placeholder"),
    (("{{ case_title }}}",), "{{ case_title }}}", "has a stray brace"),
    (("Dear {case_title},",), "{case_title}", "has a stray brace"),
    (("Before: {{ forum }} } ref.",), "{{ forum }} } ref.", "has a stray brace"),
    (("{% endif %}",), "{% endif %}", "closes nothing: there is no {% if … %} open before it"),
    (("{% for r in rights %}{{ r }}",), "{% for r in rights %}", "never closed: add {% endfor %}"),
    (
        ("{% if forum %}", "{% for r in rights %}{{ r }}", "{% endif %}"),
        "{% for r in rights %}",
        "must be closed with {% endfor %} before “{% endif %}”",
    ),
    (("{% elif forum %}",), "{% elif forum %}", "is outside any {% if … %}"),
    (("{% for r in %}{% endfor %}",), "{% for r in %}", "cannot be read"),
    (("{% set x = 1 %}{{ x }}",), "{% set x = 1 %}", "is not allowed"),
    (("{% include 'x' %}",), "{% include 'x' %}", "is not allowed"),
]


@pytest.mark.parametrize(("paragraphs", "named", "says"), MALFORMED)
def test_malformed_templates_are_refused_naming_the_tag(app, paragraphs, named, says):
    with app.test_request_context(), pytest.raises(TemplateProblem) as info:
        check_template(io.BytesIO(make_docx(*paragraphs)))
    assert info.value.names == [named]
    message = " ".join(info.value.messages)
    assert f"“{named}” " in message and says in message
    for parser_words in ("expected token", "unexpected", "Encountered", "end of print"):
        assert parser_words not in message


def test_a_problem_in_the_header_is_named_too(app):
    document = docx.Document()
    document.add_paragraph("{{ case_title }}")
    document.sections[0].header.paragraphs[0].text = "Ref. {{ reference number }}"
    out = io.BytesIO()
    document.save(out)
    with app.test_request_context(), pytest.raises(TemplateProblem) as info:
        check_template(io.BytesIO(out.getvalue()))
    assert info.value.names == ["{{ reference number }}"]


@pytest.mark.parametrize(
    "paragraphs",
    [
        ("{%p if forum %}", "Before {{ forum }}", "{%p endif %}"),
        ("{%- if forum -%}{{ forum }}{%- endif -%}",),
        ("{% for r in rights %}", "{{ loop.index }}. {{ r }}", "{% else %}none{% endfor %}"),
        ("{% if forum %}a{% elif rights %}b{% else %}c{% endif %}",),
        ("{{ rights|join(', ') }} {# a note for the author #}",),
    ],
)
def test_well_formed_tags_are_accepted(app, paragraphs):
    with app.test_request_context():
        assert check_template(io.BytesIO(make_docx(*paragraphs)))


def test_a_good_template_lists_its_placeholders(app):
    with app.test_request_context():
        used = check_template(io.BytesIO(make_docx(*TEMPLATE_PARAGRAPHS)))
    assert used == {
        "case_title", "forum", "reference", "claimant_pseudonyms", "rights", "provisions",
        "dates", "organisation", "today",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("paragraph", "named"),
    [
        ("Dear {{ case_title }", "“{{ case_title }”"),
        ("{{ secret_field }}", "secret_field"),
        ("In {{ case title }}", "“{{ case title }}”"),
        ("In {{ case_title }}}", "“{{ case_title }}}”"),
    ],
)
def test_uploading_a_bad_template_is_400_naming_it(client, login, factory, paragraph, named):
    login(factory.user("litigator"))
    response = client.post(
        "/pleadings/new",
        data={
            "title": "Template",
            "kind": "template",
            "language": "en",
            "summary": "A template.",
            "confidentiality": "network",
            "file": (io.BytesIO(make_docx(paragraph)), "t.docx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert named in response.get_data(as_text=True)
