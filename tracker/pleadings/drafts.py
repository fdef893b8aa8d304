"""Template pleadings: check a DOCX's placeholders, and fill them from a case to start a draft.

A template may use only the placeholders in PLACEHOLDERS ({{ case_title }} ...), loops and
conditions over them, and a few harmless filters. Everything else (attribute access, calls,
assignments, includes, unknown names) is refused before anything is rendered, naming the
offending placeholder; rendering then runs in a jinja2 SandboxedEnvironment with autoescape,
so a party's name containing "<" or "&" cannot break the document's XML.
"""

from __future__ import annotations

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

# The placeholders a template may use, with what each becomes (shown on the upload page).
PLACEHOLDERS: dict[str, Any] = {
    "case_title": _l("the case title, e.g. “A.B. v. State”"),
    "forum": _l("the forum of the latest proceeding (or all forums, separated by “;”)"),
    "reference": _l("the latest proceeding's reference number, else the case's own reference"),
    "claimant_pseudonyms": _l(
        "the claimants' pseudonyms (full names only for the case team, when asked for)"
    ),
    "rights": _l("the rights of the case, by name"),
    "provisions": _l("the provisions invoked, with their full titles"),
    "dates": _l("the key dates: opened, filed and decided per forum"),
    "organisation": _l("the lead organisation"),
    "jurisdiction": _l("the state or system of the case"),
    "today": _l("today's date"),
}
# Lists print as "a; b; c" and can also be looped over: {% for r in rights %}{{ r }}{% endfor %}
LIST_PLACEHOLDERS = frozenset({"claimant_pseudonyms", "rights", "provisions", "dates"})
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

_OPENERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_OPENER_RE = re.compile(r"\{[{%#]")
_BLOCK_RE = re.compile(r"\{%[-+]?\s*[pr]?\s*(\w+)[^%]*%\}")
_BLOCKS = ("for", "if")


def _texts(template: DocxTemplate) -> list[str]:
    """The text of every paragraph (body, tables, headers, footers), as the author typed it."""
    document = template.docx
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        for part in (section.header, section.footer):
            texts.extend(p.text for p in part.paragraphs)
    return texts


def _malformed(texts: list[str]) -> list[str]:
    """Tags opened and not closed in the same paragraph: "{{ case_title }" and the like."""
    found: list[str] = []
    for text in texts:
        pos = 0
        while match := _OPENER_RE.search(text, pos):
            start = match.start()
            closer = _OPENERS[match.group()]
            end = text.find(closer, start + 2)
            following = _OPENER_RE.search(text, start + 2)
            if end == -1 or (following and following.start() < end):
                stop = following.start() if following else len(text)
                found.append(text[start:stop].strip()[:80])
                pos = stop
            else:
                pos = end + 2
    return found


def _unclosed_blocks(texts: list[str]) -> list[str]:
    joined = "\n".join(texts)
    problems = []
    for block in _BLOCKS:
        opened = [m for m in _BLOCK_RE.finditer(joined) if m.group(1) == block]
        closed = [m for m in _BLOCK_RE.finditer(joined) if m.group(1) == f"end{block}"]
        if len(opened) > len(closed):
            problems.append(opened[len(closed)].group().strip())
    return problems


def _source(template: DocxTemplate) -> str:
    """The Jinja source docxtpl renders (body, headers and footers), one paragraph a line."""
    xml = template.patch_xml(template.get_xml())
    for uri in (template.HEADER_URI, template.FOOTER_URI):
        for _key, xml_part in template.get_headers_footers(uri):
            xml += template.patch_xml(template.get_part_xml(xml_part))
    # docxtpl renders these document properties as templates too.
    props = template.docx.core_properties
    for name in ("author", "comments", "identifier", "language", "subject", "title"):
        xml += "\n" + (getattr(props, name) or "")
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


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
        texts = _texts(template)
        jinja_source = _source(template)
    except Exception as exc:  # python-docx raises many types for odd files
        raise TemplateProblem([_("The template could not be opened as a Word document.")]) from exc
    env = sandbox()
    try:
        tree = env.parse(jinja_source)
    except TemplateSyntaxError as exc:
        names = _malformed(texts) or _unclosed_blocks(texts)
        if names:
            messages = [
                _(
                    "The template has malformed placeholders: %(names)s. Write each one as "
                    "{{ name }}, and close every {%% for %%} with {%% endfor %%} and every "
                    "{%% if %%} with {%% endif %%}.",
                    names=", ".join(f"“{n}”" for n in names),
                )
            ]
        else:
            messages = [_("The template's placeholders could not be read: %(error)s", error=exc)]
        raise TemplateProblem(messages, names) from exc
    from jinja2 import meta

    used = meta.find_undeclared_variables(tree)
    unknown = sorted(used - set(PLACEHOLDERS))
    constructs, filters = _disallowed(tree)
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


def _provision_label(provision: Any) -> str:
    instrument = provision.instrument
    return f"{instrument.title}, {provision.number}: {provision.title}"


def draft_context(*, user: Any, case: Case, full_names: bool = False) -> dict[str, Any]:
    """The placeholder values for a case. Party full names only for the case team."""
    show_names = full_names and can_see_parties(user, case)
    proceedings = list(case.proceedings)
    latest = proceedings[-1] if proceedings else None
    claimants = TextList(
        (party.full_name if show_names and party.full_name else party.pseudonym)
        for party in case.parties
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
    return {
        "case_title": case.title,
        "forum": latest.forum.name if latest else "",
        "reference": (latest.reference if latest and latest.reference else case.reference) or "",
        "claimant_pseudonyms": claimants,
        "rights": TextList(r.name for r in sorted(case.rights, key=lambda r: r.name)),
        "provisions": TextList(_provision_label(p) for p in sorted(case.provisions, key=_code)),
        "dates": dates,
        "organisation": case.lead_organisation.name,
        "jurisdiction": case.jurisdiction.name,
        "today": format_date(date.today(), "long"),
    }


def _code(provision: Any) -> str:
    return provision.code


def render_draft(source: str | Path | IO[bytes], context: dict[str, Any]) -> bytes:
    """Fill a checked template; returns the DOCX bytes. Raises TemplateProblem."""
    check_template(source)
    if hasattr(source, "seek"):
        source.seek(0)
    template = DocxTemplate(source)
    try:
        template.render(context, jinja_env=sandbox(), autoescape=True)
    except TemplateSyntaxError as exc:  # checked above; kept for safety
        raise TemplateProblem([str(exc)]) from exc
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()
