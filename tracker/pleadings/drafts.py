"""Template pleadings: check a DOCX's placeholders, and fill them from a case to start a draft.

A template may use only the placeholders in PLACEHOLDERS ({{ case_title }} ...), loops and
conditions over them, and a few harmless filters. Everything else (attribute access, calls,
assignments, includes, unknown names) is refused before anything is rendered, naming the
offending placeholder; rendering then runs in a jinja2 SandboxedEnvironment with autoescape,
so a party's name containing "<" or "&" cannot break the document's XML.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from docxtpl import DocxTemplate
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from tracker.access import can_see_parties
from tracker.cases.models import Case, PartyRole
from tracker.taxonomy.models import InstrumentKind

# The placeholders a template may use, with what each becomes (shown on the upload page).
PLACEHOLDERS: dict[str, Any] = {
    "case_title": _l("the case title, e.g. “A.B. v. State”"),
    "forum": _l(
        "the forum of the proceeding chosen when the draft is started (proposed: the latest "
        "proceeding before a forum the template is tagged with, else the latest proceeding)"
    ),
    "reference": _l("that proceeding's reference number, else the case's own reference"),
    "forums": _l("all the forums of the case's proceedings, in order"),
    "claimant_pseudonyms": _l(
        "the claimants' pseudonyms (full names only for the case team, when asked for)"
    ),
    "respondent_pseudonyms": _l("the respondents' pseudonyms (never their identities)"),
    "intervener_pseudonyms": _l("the interveners' pseudonyms (never their identities)"),
    "other_party_pseudonyms": _l("the other parties' pseudonyms (never their identities)"),
    "party_pseudonyms": _l(
        "every party's pseudonym with its role, e.g. “A.B. (claimant)” (never identities)"
    ),
    "rights": _l("the rights of the case, by name"),
    "provisions": _l(
        "the provisions invoked, with their full titles, e.g. “Article 5 — Right to liberty "
        "and security (European Convention on Human Rights)”"
    ),
    "dates": _l("the key dates: opened, filed and decided per forum"),
    "organisation": _l("the lead organisation"),
    "jurisdiction": _l("the state or system of the case"),
    "today": _l("today's date"),
}
# Lists print as "a; b; c" and can also be looped over: {% for r in rights %}{{ r }}{% endfor %}
LIST_PLACEHOLDERS = (
    "forums",
    "claimant_pseudonyms",
    "respondent_pseudonyms",
    "intervener_pseudonyms",
    "other_party_pseudonyms",
    "party_pseudonyms",
    "rights",
    "provisions",
    "dates",
)
SAFE_FILTERS = frozenset(
    {"upper", "lower", "title", "capitalize", "trim", "join", "default", "length", "first", "last"}
)
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.For,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Filter,
    nodes.Test,
)
_LOOP_ATTRS = frozenset({"index", "index0", "first", "last", "length"})


class TextList(list):
    """A list of strings that prints as "a; b; c" in a placeholder."""

    def __str__(self) -> str:
        return "; ".join(str(item) for item in self)


@dataclass
class TemplateProblem(ValueError):
    """A template the library refuses; ``messages`` say why and name the placeholders."""

    messages: list[str]
    names: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(self.messages)


def sandbox() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True)


# --- Checking ------------------------------------------------------------------------------
# Each part docxtpl renders as its own Jinja template (the body, every header, footer and
# footnotes part, and some document properties) is read paragraph by paragraph as the author
# typed it, and every tag in it is checked on its own, so that a problem is reported naming
# the tag ("{{ case title }}") rather than with the Jinja parser's words about a position in
# the document's XML. What passes is then parsed whole and its names and constructs checked.

_OPENERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_OPENER_RE = re.compile(r"\{[{%#]")
# docxtpl's {%p if … %}, {%tr for … %}, {%tc …%}, {{r name }}: the prefix touches the opener.
_DOCXTPL_PREFIX = re.compile(r"^(?:tr|tc|p|r) ")
_STATEMENT_RE = re.compile(r"^\s*([A-Za-z_]\w*)")
_ALLOWED_STATEMENTS = frozenset({"for", "if", "elif", "else", "endfor", "endif"})
# How a statement is completed so that the tag can be parsed on its own.
_ALONE = {
    "for": "{tag}{{% endfor %}}",
    "if": "{tag}{{% endif %}}",
    "elif": "{{% if 1 %}}{tag}{{% endif %}}",
    "else": "{{% if 1 %}}{tag}{{% endif %}}",
    "endfor": "{{% for _ in () %}}{tag}",
    "endif": "{{% if 1 %}}{tag}",
}
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
FOOTNOTES_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
MAX_MESSAGES = 12


@dataclass
class _Tag:
    text: str  # as typed, "{%p if forum %}"
    start: int
    end: int


@dataclass
class _Problems:
    messages: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        if (name, message) not in zip(self.names, self.messages, strict=True):
            self.names.append(name)
            self.messages.append(message)


def _paragraph_texts(element: Any) -> list[str]:
    """The text of every paragraph under an XML element (tables and text boxes included), in
    document order, as python-docx reads it."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, None).text for p in element.iter(qn("w:p"))]


def _parts(template: DocxTemplate) -> list[list[str]]:
    """Per part docxtpl renders as one template: its paragraphs' texts."""
    from docx.oxml import parse_xml

    document = template.docx
    parts = [_paragraph_texts(document.element.body)]
    for uri in (template.HEADER_URI, template.FOOTER_URI):
        for _key, part in template.get_headers_footers(uri):
            parts.append(_paragraph_texts(parse_xml(part.blob)))
    for part in document.part.package.iter_parts():
        if part.content_type == FOOTNOTES_TYPE and part.blob:
            parts.append(_paragraph_texts(parse_xml(part.blob)))
    properties = document.core_properties
    parts.extend([getattr(properties, name) or ""] for name in _PROPERTIES)
    return parts


def _sources(template: DocxTemplate) -> list[str]:
    """The Jinja source docxtpl renders, per part, one paragraph a line (for the full parse)."""
    sources = [template.patch_xml(template.get_xml())]
    for uri in (template.HEADER_URI, template.FOOTER_URI):
        for _key, part in template.get_headers_footers(uri):
            sources.append(template.patch_xml(template.get_part_xml(part)))
    for part in template.docx.part.package.iter_parts():
        if part.content_type == FOOTNOTES_TYPE and part.blob:
            sources.append(template.patch_xml(part.blob.decode("utf-8")))
    properties = template.docx.core_properties
    sources.extend(getattr(properties, name) or "" for name in _PROPERTIES)
    return [re.sub(r"<w:p([ >])", r"\n<w:p\1", source) for source in sources]


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _split_tags(text: str, problems: _Problems) -> list[_Tag]:
    """The tags of one paragraph; reports tags not closed in it, and stray braces."""
    tags: list[_Tag] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    while match := _OPENER_RE.search(text, pos):
        start = match.start()
        end = text.find(_OPENERS[match.group()], start + 2)
        following = _OPENER_RE.search(text, start + 2)
        if end == -1 or (following and following.start() < end):
            stop = following.start() if following else len(text)
            name = _quote(text[start:stop].strip())
            problems.add(
                name,
                _(
                    "“%(tag)s” is not closed: write a placeholder as {{ name }} and a tag "
                    "as {%% … %%}, each within one paragraph.",
                    tag=name,
                ),
            )
            spans.append((start, stop))
            pos = stop
        else:
            tags.append(_Tag(text[start : end + 2], start, end + 2))
            spans.append((start, end + 2))
            pos = end + 2
    _stray_braces(text, spans, tags, problems)
    return tags


def _stray_braces(
    text: str, spans: list[tuple[int, int]], tags: list[_Tag], problems: _Problems
) -> None:
    """Braces outside the tags: "{{ case_title }}}", "{case_title}", a lone "}"."""
    masked = list(text)
    for start, end in spans:
        masked[start:end] = "\0" * (end - start)
    rest = "".join(masked)
    found: list[tuple[int, int]] = []
    for match in re.finditer(r"\{[^{}\0]{0,80}\}", rest):  # a placeholder with single braces
        found.append(match.span())
        rest = rest[: match.start()] + "\0" * (match.end() - match.start()) + rest[match.end() :]
    for match in re.finditer(r"[{}]+", rest):
        start, end = match.span()
        for tag in tags:  # a brace too many on a tag: name the tag with it
            if tag.end == start or tag.start == end:
                start, end = min(start, tag.start), max(end, tag.end)
        if (start, end) == match.span():  # a lone brace: name it with the words around it
            start -= len(re.search(r"(?:\S+\s+){0,3}\S*$", text[:start]).group())
            end += len(re.match(r"\S*(?:\s+\S+){0,3}", text[end:]).group())
        found.append((start, end))
    for start, end in sorted(found):
        name = _quote(text[start:end].strip())
        problems.add(
            name,
            _(
                "“%(tag)s” has a stray brace: write each placeholder with two braces on each "
                "side, as in {{ case_title }}, and no other braces.",
                tag=name,
            ),
        )


def _check_tag(env: SandboxedEnvironment, tag: _Tag, problems: _Problems) -> str | None:
    """Parse one tag on its own; returns the statement's name ("for", "endif") if any."""
    opener, inner = tag.text[:2], tag.text[2:-2]
    if opener == "{#":
        return None
    inner = _DOCXTPL_PREFIX.sub("", inner)
    bare = inner.strip("-+").strip()
    if opener == "{{":
        if not bare:
            problems.add(
                tag.text,
                _(
                    "“%(tag)s” is empty: put a placeholder's name between the braces, as in "
                    "{{ case_title }}.",
                    tag=tag.text,
                ),
            )
            return None
        try:
            env.parse("{{" + inner + "}}")
        except TemplateSyntaxError:
            problems.add(
                tag.text,
                _(
                    "“%(tag)s” cannot be read as a placeholder: write a placeholder's name, "
                    "with no spaces in it, between double braces, as in {{ case_title }}.",
                    tag=tag.text,
                ),
            )
        return None
    word_match = _STATEMENT_RE.match(bare)
    word = word_match.group(1) if word_match else ""
    if word not in _ALLOWED_STATEMENTS:
        problems.add(
            tag.text,
            _(
                "“%(tag)s” is not allowed: templates may use only {%% for … %%} … "
                "{%% endfor %%} and {%% if … %%} … {%% elif … %%} … {%% else %%} … "
                "{%% endif %%}.",
                tag=tag.text,
            ),
        )
        return None
    try:
        env.parse(_ALONE[word].format(tag="{%" + inner + "%}"))
    except TemplateSyntaxError:
        problems.add(
            tag.text,
            _(
                "“%(tag)s” cannot be read: write conditions as {%% if forum %%} and loops as "
                "{%% for r in rights %%}, with the placeholders' names.",
                tag=tag.text,
            ),
        )
    return word  # even when unreadable, it still opens or closes a block


def _check_structure(tags: list[tuple[str, _Tag]], problems: _Problems) -> None:
    """Every {% for %} and {% if %} of a part closed in order, else and elif inside them."""
    stack: list[tuple[str, _Tag]] = []
    for word, tag in tags:
        if word in ("for", "if"):
            stack.append((word, tag))
        elif word in ("elif", "else"):
            if not stack or (word == "elif" and stack[-1][0] != "if"):
                problems.add(
                    tag.text,
                    _(
                        "“%(tag)s” is outside any {%% if … %%} … {%% endif %%}.",
                        tag=tag.text,
                    ),
                )
        else:
            block = word[3:]
            if not any(opened == block for opened, _tag in stack):
                problems.add(
                    tag.text,
                    _(
                        "“%(tag)s” closes nothing: there is no {%% %(block)s … %%} open before it.",
                        tag=tag.text,
                        block=block,
                    ),
                )
                continue
            while stack:
                opened, opening = stack.pop()
                if opened == block:
                    break
                problems.add(
                    opening.text,
                    _(
                        "“%(tag)s” must be closed with {%% end%(block)s %%} before “%(closer)s”.",
                        tag=opening.text,
                        block=opened,
                        closer=tag.text,
                    ),
                )
    for opened, opening in stack:
        problems.add(
            opening.text,
            _(
                "“%(tag)s” is never closed: add {%% end%(block)s %%} after it.",
                tag=opening.text,
                block=opened,
            ),
        )


def _tag_problems(parts: list[list[str]]) -> _Problems:
    env = sandbox()
    problems = _Problems()
    for paragraphs in parts:
        statements: list[tuple[str, _Tag]] = []
        for text in paragraphs:
            for tag in _split_tags(text, problems):
                word = _check_tag(env, tag, problems)
                if word:
                    statements.append((word, tag))
        _check_structure(statements, problems)
    return problems


def _located(source: str, exc: TemplateSyntaxError) -> str:
    """The text of the paragraph Jinja stumbled on (one paragraph a line in the source)."""
    lines = source.splitlines()
    if not exc.lineno or exc.lineno > len(lines):
        return ""
    return _quote(html.unescape(re.sub(r"<[^>]+>", "", lines[exc.lineno - 1])).strip(), 120)


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return f"{node.node.name}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.node, nodes.Name):
        return f"{node.node.name}[…]"
    if isinstance(node, nodes.Call):
        return _("a function call")
    return type(node).__name__.lower()


def _disallowed(tree: nodes.Template) -> tuple[list[str], list[str]]:
    """(constructs that are not allowed, filters that are not allowed) in the parsed template."""
    constructs: list[str] = []
    filters: list[str] = []

    def walk(node: nodes.Node) -> None:
        if isinstance(node, nodes.Getattr) and (
            isinstance(node.node, nodes.Name)
            and node.node.name == "loop"
            and node.attr in _LOOP_ATTRS
        ):
            return
        if not isinstance(node, _ALLOWED_NODES):
            constructs.append(_describe(node))
            return
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            filters.append(node.name)
        if isinstance(node, nodes.For) and node.recursive:
            constructs.append("recursive loop")
        for child in node.iter_child_nodes():
            walk(child)

    walk(tree)
    return list(dict.fromkeys(constructs)), list(dict.fromkeys(filters))


def check_template(source: str | Path | IO[bytes]) -> set[str]:
    """The placeholders a DOCX template uses; raises TemplateProblem if any is not allowed.

    ``source`` is a path or a binary stream of a DOCX already checked by the documents area
    (type, archive and XML safety).
    """
    try:
        template = DocxTemplate(source)
        template.render_init()
        parts = _parts(template)
        sources = _sources(template)
    except Exception as exc:  # python-docx raises many types for odd files
        raise TemplateProblem([_("The template could not be opened as a Word document.")]) from exc
    problems = _tag_problems(parts)
    if problems.messages:
        messages = problems.messages[:MAX_MESSAGES]
        if len(problems.messages) > MAX_MESSAGES:
            messages.append(_("And %(n)s more problems.", n=len(problems.messages) - MAX_MESSAGES))
        raise TemplateProblem(messages, problems.names)
    env = sandbox()
    trees = []
    for jinja_source in sources:
        try:
            trees.append(env.parse(jinja_source))
        except TemplateSyntaxError as exc:  # what the tag-by-tag reading did not catch
            near = _located(jinja_source, exc)
            if near:
                message = _(
                    "The template could not be read near “%(text)s”: check the placeholders "
                    "and tags there.",
                    text=near,
                )
            else:
                message = _(
                    "The template's placeholders could not be read: write each one as "
                    "{{ name }}, and close every {% for %} and {% if %}."
                )
            raise TemplateProblem([message], [near] if near else []) from exc
    from jinja2 import meta

    used: set[str] = set()
    constructs: list[str] = []
    filters: list[str] = []
    for tree in trees:
        used |= meta.find_undeclared_variables(tree)
        more_constructs, more_filters = _disallowed(tree)
        constructs += [c for c in more_constructs if c not in constructs]
        filters += [f for f in more_filters if f not in filters]
    unknown = sorted(used - set(PLACEHOLDERS))
    messages = []
    if unknown:
        messages.append(
            _(
                "The template uses unknown placeholders: %(names)s. Allowed: %(allowed)s.",
                names=", ".join(f"{{{{ {n} }}}}" for n in unknown),
                allowed=", ".join(PLACEHOLDERS),
            )
        )
    if constructs:
        messages.append(
            _(
                "The template uses template logic that is not allowed: %(names)s.",
                names=", ".join(constructs),
            )
        )
    if filters:
        messages.append(
            _(
                "The template uses filters that are not allowed: %(names)s. Allowed: %(allowed)s.",
                names=", ".join(filters),
                allowed=", ".join(sorted(SAFE_FILTERS)),
            )
        )
    if messages:
        raise TemplateProblem(messages, unknown + constructs + filters)
    return used & set(PLACEHOLDERS)


# --- Filling -------------------------------------------------------------------------------


# How an instrument numbers its provisions: "Article 5", "Principle 3", "Objective 13".
_NUMBERING_WORDS = {
    "article": _l("Article"),
    "principle": _l("Principle"),
    "objective": _l("Objective"),
    "guideline": _l("Guideline"),
    "rule": _l("Rule"),
    "number": _l("No."),
}
# Soft-law frameworks whose word the title does not give away.
_NUMBERING_BY_INSTRUMENT = {"GCM": "objective", "IMBR": "article"}
_PROTOCOL_NUMBER = re.compile(r"^P(\d+)-(\w+)$")  # ECHR:P4-4, article 4 of Protocol No. 4

_PARTY_ROLES = {
    PartyRole.CLAIMANT: _l("claimant"),
    PartyRole.RESPONDENT: _l("respondent"),
    PartyRole.INTERVENER: _l("intervener"),
    PartyRole.OTHER: _l("other party"),
}


def _numbering_word(instrument: Any) -> str:
    key = _NUMBERING_BY_INSTRUMENT.get(instrument.code)
    if key is None and instrument.kind == InstrumentKind.SOFT_LAW:
        title = f"{instrument.title} {instrument.short_title}".lower()
        key = next((w for w in ("principle", "guideline", "rule", "objective") if w in title), None)
        key = key or "number"
    return str(_NUMBERING_WORDS[key or "article"])


def provision_label(provision: Any) -> str:
    """'Article 5 — Right to liberty and security (European Convention on Human Rights)'."""
    instrument = provision.instrument
    protocol = _PROTOCOL_NUMBER.match(provision.number)
    if protocol and instrument.kind != InstrumentKind.SOFT_LAW:
        return _(
            "Article %(article)s of Protocol No. %(protocol)s — %(title)s (%(instrument)s)",
            article=protocol.group(2),
            protocol=protocol.group(1),
            title=provision.title,
            instrument=instrument.title,
        )
    return _(
        "%(word)s %(number)s — %(title)s (%(instrument)s)",
        word=_numbering_word(instrument),
        number=provision.number,
        title=provision.title,
        instrument=instrument.title,
    )


def _provision_order(provision: Any) -> tuple:
    return (provision.instrument.code, provision.position or 0, provision.code)


def proceedings_in_order(case: Case) -> list[Any]:
    """The case's proceedings, earliest first (position, then filing date, then id)."""
    return sorted(
        case.proceedings, key=lambda p: (p.position or 0, p.filed_on or date.min, p.id or 0)
    )


def default_proceeding(case: Case, pleading: Any) -> Any | None:
    """The proceeding a draft is proposed for: the latest before a forum the pleading is
    tagged with, else the latest."""
    proceedings = proceedings_in_order(case)
    forum_ids = {forum.id for forum in pleading.forums}
    matching = [p for p in proceedings if p.forum_id in forum_ids]
    return (matching or proceedings or [None])[-1]


def proceeding_label(proceeding: Any) -> str:
    """'European Court of Human Rights (12345/24, filed on Jan 15, 2024)' for the choice."""
    details = [proceeding.reference] if proceeding.reference else []
    if proceeding.filed_on:
        details.append(_("filed on %(date)s", date=format_date(proceeding.filed_on, "medium")))
    if not details:
        return proceeding.forum.name
    return f"{proceeding.forum.name} ({', '.join(details)})"


def draft_context(
    *, user: Any, case: Case, full_names: bool = False, proceeding: Any | None = None
) -> dict[str, Any]:
    """The placeholder values for a case, {{ forum }} and {{ reference }} from ``proceeding``
    (one of the case's; the latest if None). Full names only for claimants, and only for the
    case team when asked for; every other party by pseudonym."""
    show_names = full_names and can_see_parties(user, case)
    proceedings = proceedings_in_order(case)
    if proceeding is None and proceedings:
        proceeding = proceedings[-1]
    parties = sorted(case.parties, key=lambda party: party.id or 0)

    def pseudonyms(role: PartyRole) -> TextList:
        return TextList(party.pseudonym for party in parties if party.role == role)

    claimants = TextList(
        (party.full_name if show_names and party.full_name else party.pseudonym)
        for party in parties
        if party.role == PartyRole.CLAIMANT
    )
    dates = TextList()
    if case.opened_on:
        dates.append(_("Opened on %(date)s", date=format_date(case.opened_on, "long")))
    for proc in proceedings:
        if proc.filed_on:
            dates.append(
                _(
                    "Filed before %(forum)s on %(date)s",
                    forum=proc.forum.name,
                    date=format_date(proc.filed_on, "long"),
                )
            )
        if proc.decided_on:
            dates.append(
                _(
                    "Decided by %(forum)s on %(date)s",
                    forum=proc.forum.name,
                    date=format_date(proc.decided_on, "long"),
                )
            )
    reference = proceeding.reference if proceeding is not None else None
    return {
        "case_title": case.title,
        "forum": proceeding.forum.name if proceeding is not None else "",
        "reference": reference or case.reference or "",
        "forums": TextList(dict.fromkeys(proc.forum.name for proc in proceedings)),
        "claimant_pseudonyms": claimants,
        "respondent_pseudonyms": pseudonyms(PartyRole.RESPONDENT),
        "intervener_pseudonyms": pseudonyms(PartyRole.INTERVENER),
        "other_party_pseudonyms": pseudonyms(PartyRole.OTHER),
        "party_pseudonyms": TextList(
            _("%(name)s (%(role)s)", name=party.pseudonym, role=_PARTY_ROLES[party.role])
            for party in parties
        ),
        "rights": TextList(r.name for r in sorted(case.rights, key=lambda r: r.name)),
        "provisions": TextList(
            provision_label(p) for p in sorted(case.provisions, key=_provision_order)
        ),
        "dates": dates,
        "organisation": case.lead_organisation.name,
        "jurisdiction": case.jurisdiction.name,
        "today": format_date(date.today(), "long"),
    }


def render_draft(source: str | Path | IO[bytes], context: dict[str, Any]) -> bytes:
    """Fill a checked template; returns the DOCX bytes. Raises TemplateProblem."""
    check_template(source)
    if hasattr(source, "seek"):
        source.seek(0)
    template = DocxTemplate(source)
    try:
        template.render(context, jinja_env=sandbox(), autoescape=True)
    except TemplateSyntaxError as exc:  # checked above; kept for safety
        raise TemplateProblem(
            [_("The template could not be filled: check its placeholders and tags.")]
        ) from exc
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()
