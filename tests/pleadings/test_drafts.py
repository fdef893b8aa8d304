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
from tracker.taxonomy.models import InstrumentKind


@pytest.fixture()
def setting(factory, db):
    """A Greek case before the Council of State (2023) and then the ECtHR (2024), with
    parties of every role (full names set for all), and an untagged template."""
    org = factory.organisation("Refugee Law Centre")
    member = factory.user("litigator", organisation=org)
    colleague = factory.user("litigator", organisation=org)  # sees the case, not on the team
    liberty = factory.right("liberty", "Liberty")
    factory.provision("ECHR", "5", rights=[liberty], title="Right to liberty and security")
    factory.instrument("ECHR").title = "European Convention on Human Rights"
    factory.provision("ECHR", "P4-4", title="Prohibition of collective expulsion of aliens")
    factory.instrument(
        "PRINCIPLES-14",
        kind=InstrumentKind.SOFT_LAW,
        title="Principles of protection for migrants, refugees and other displaced persons",
    )
    factory.provision("PRINCIPLES-14", "3", title="Non-refoulement")
    factory.instrument(
        "GCM",
        kind=InstrumentKind.SOFT_LAW,
        title="Global Compact for Safe, Orderly and Regular Migration",
    )
    factory.provision("GCM", "13", title="Detention as a last resort")
    greece = factory.jurisdiction("GR", "Greece")
    ecthr = factory.forum("ECTHR", name="European Court of Human Rights")
    council = factory.forum("GR-STE", greece, name="Council of State")
    case = factory.case(
        organisation=org,
        title="A.B. & C.D. v. Greece",
        reference="RLC-2024-7",
        team=[member],
        opened_on=date(2023, 3, 1),
        jurisdiction=greece,
    )
    case.rights = [liberty]
    case.provisions = [
        factory.provision("ECHR", "5"),
        factory.provision("ECHR", "P4-4"),
        factory.provision("PRINCIPLES-14", "3"),
        factory.provision("GCM", "13"),
    ]
    for role, pseudonym, full_name in (
        (PartyRole.CLAIMANT, "A.B.", "Amina <Bakr> & Co"),
        (PartyRole.CLAIMANT, "C.D.", "Chidi Dike"),
        (PartyRole.RESPONDENT, "The State", "Secret Respondent Official"),
        (PartyRole.INTERVENER, "NGO-1", "Secret Intervener"),
        (PartyRole.OTHER, "W.1", "Secret Witness"),
    ):
        case.parties.append(Party(role=role, pseudonym=pseudonym, full_name=full_name))
    db.session.commit()
    factory.proceeding(
        case, council, reference="STE 999/2023", filed_on=date(2023, 6, 1), position=0
    )
    factory.proceeding(case, ecthr, reference="12345/24", filed_on=date(2024, 1, 15), position=1)
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


def proceeding_before(case, forum_code):
    return next(p for p in case.proceedings if p.forum.code == forum_code)


def test_a_draft_is_filled_from_the_case(client, login, setting, db):
    member, _colleague, case, template = setting
    login(member)
    response = post_draft(client, template, case)
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "draft-a-b-c-d-v-greece.docx" in response.headers["Content-Disposition"]
    text = docx_text(response.data)
    assert "Application in A.B. & C.D. v. Greece" in text
    # The template is tagged with no forum: the latest proceeding.
    assert "Before: European Court of Human Rights (ref. 12345/24)" in text
    assert "All forums: Council of State; European Court of Human Rights" in text
    assert "Applicants: A.B.; C.D." in text
    assert "Respondents: The State" in text
    assert "Interveners: NGO-1" in text
    assert "Others: W.1" in text
    assert (
        "Parties: A.B. (claimant); C.D. (claimant); The State (respondent); "
        "NGO-1 (intervener); W.1 (other party)"
    ) in text
    assert "Amina" not in text and "Secret" not in text  # pseudonyms unless asked for
    assert "Rights: Liberty" in text
    assert (
        "Provisions: "
        "[Article 5 — Right to liberty and security (European Convention on Human Rights)]"
        "[Article 4 of Protocol No. 4 — Prohibition of collective expulsion of aliens "
        "(European Convention on Human Rights)]"
        "[Objective 13 — Detention as a last resort "
        "(Global Compact for Safe, Orderly and Regular Migration)]"
        "[Principle 3 — Non-refoulement "
        "(Principles of protection for migrants, refugees and other displaced persons)]"
    ) in text
    assert "Filed before European Court of Human Rights on January 15, 2024" in text
    assert "Filed before Council of State on June 1, 2023" in text
    assert "Opened on March 1, 2023" in text
    assert "Lodged by Refugee Law Centre on " in text
    assert "{{" not in text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pleading.draft"))
    assert entry.after == {
        "case_id": case.id,
        "proceeding_id": proceeding_before(case, "ECTHR").id,
        "full_names": False,
    }


def test_the_draft_is_for_the_proceeding_chosen(client, login, setting):
    member, _colleague, case, template = setting
    login(member)
    council = proceeding_before(case, "GR-STE")
    response = post_draft(client, template, case, proceeding_id=council.id)
    assert response.status_code == 200
    assert "Before: Council of State (ref. STE 999/2023)" in docx_text(response.data)


def test_the_proposed_proceeding_is_before_the_templates_forum(client, login, setting):
    member, _colleague, case, _template = setting
    domestic = add_pleading(
        member,
        title="Council of State template",
        kind="template",
        forums=["GR-STE"],
        content=make_docx(*TEMPLATE_PARAGRAPHS),
        filename="domestic.docx",
    )
    login(member)
    response = post_draft(client, domestic, case)
    assert "Before: Council of State (ref. STE 999/2023)" in docx_text(response.data)
    page = client.get(f"/pleadings/{domestic.id}/draft?case_id={case.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    council = proceeding_before(case, "GR-STE")
    assert f'<option selected value="{council.id}">Council of State (STE 999/2023' in body


def test_a_proceeding_of_another_case_is_refused(client, login, setting, factory):
    member, _colleague, case, template = setting
    other = factory.case(organisation=case.lead_organisation, team=[member])
    elsewhere = factory.proceeding(other, reference="OTHER-1")
    login(member)
    response = post_draft(client, template, case, proceeding_id=elsewhere.id)
    assert response.status_code == 400
    assert "Choose one of this case&#39;s proceedings." in response.get_data(as_text=True)
    garbage = post_draft(client, template, case, proceeding_id="x")
    assert garbage.status_code == 400


def test_the_draft_page_offers_the_forums_and_full_names_to_the_team_only(client, login, setting):
    member, colleague, case, template = setting
    login(member)
    page = client.get(f"/pleadings/{template.id}/draft?case_id={case.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Council of State (STE 999/2023, filed on Jun 1, 2023)" in body
    ecthr = proceeding_before(case, "ECTHR")
    assert f'<option selected value="{ecthr.id}">European Court of Human Rights' in body
    assert "full names" in body
    client.post("/logout")
    login(colleague)
    body = client.get(f"/pleadings/{template.id}/draft?case_id={case.id}").get_data(as_text=True)
    assert "European Court of Human Rights (12345/24" in body
    assert "full names" not in body and "Parties appear by their pseudonyms." in body


@pytest.mark.parametrize(
    ("query", "status"), [("", 400), ("?case_id=abc", 400), ("?case_id=999999", 404)]
)
def test_the_draft_page_needs_a_visible_case(client, login, setting, query, status):
    member, _colleague, _case, template = setting
    login(member)
    assert client.get(f"/pleadings/{template.id}/draft{query}").status_code == status


def test_the_suggestions_offer_the_forum_of_the_draft(client, login, setting):
    member, _colleague, case, _template = setting
    tagged = add_pleading(
        member,
        title="Liberty template for the Council of State",
        kind="template",
        rights=["liberty"],
        forums=["GR-STE"],
        content=make_docx(*TEMPLATE_PARAGRAPHS),
        filename="liberty.docx",
    )
    login(member)
    body = client.get(f"/pleadings/suggest?case={case.id}").get_data(as_text=True)
    assert f'<label for="pl-draft-forum-{tagged.id}">Forum of the draft</label>' in body
    council = proceeding_before(case, "GR-STE")
    assert f'<option value="{council.id}" selected>Council of State (STE 999/2023' in body


def test_the_placeholder_help_says_where_forum_and_reference_come_from(client, login, setting):
    member, _colleague, _case, _template = setting
    login(member)
    body = client.get("/pleadings/new").get_data(as_text=True)
    assert "the forum of the proceeding chosen when the draft is started" in body
    assert "latest proceeding&#39;s reference" not in body
    for name in ("respondent_pseudonyms", "party_pseudonyms", "forums"):
        assert "{{ " + name + " }}" in body


def test_the_case_team_may_ask_for_the_claimants_full_names(client, login, setting):
    member, _colleague, case, template = setting
    login(member)
    response = post_draft(client, template, case, full_names="y")
    assert response.status_code == 200
    text = docx_text(response.data)
    # Escaped for XML by the sandbox's autoescape, read back intact.
    assert "Applicants: Amina <Bakr> & Co; Chidi Dike" in text
    assert "Respondents: The State" in text
    assert "Secret" not in text  # the other parties' identities, never


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
        "case_title", "forum", "reference", "claimant_pseudonyms", "respondent_pseudonyms",
        "intervener_pseudonyms", "other_party_pseudonyms", "party_pseudonyms", "forums",
        "rights", "provisions", "dates", "organisation", "today",
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
