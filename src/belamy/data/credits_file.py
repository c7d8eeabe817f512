"""The human-readable CREDITS file of a collection (also what model cards link to).

Sources are shown readably (`names.display`); a web link keeps the URL as sent, so it still works.
"""

from __future__ import annotations

from pathlib import Path

from belamy.core import atomic
from belamy.data import names
from belamy.data.collection import Collection


def credits_markdown(coll: Collection) -> str:
    """Markdown: a licence summary, then one line per image grouped by author."""
    lines = [f"# Credits: {_md(names.readable(coll.path.name))}", "",
             f"{len(coll)} images. Licences: "
             + ", ".join(f"{name} ({n})" for name, n in coll.license_counts().most_common()) + ".", ""]
    by_author: dict[str, list[dict]] = {}
    for row in coll.manifest:
        by_author.setdefault(row.get("author") or "Unknown author", []).append(row)
    for author in sorted(by_author, key=lambda a: (a == "Unknown author", a.casefold())):
        lines += [f"## {_md(author)}", ""]
        for row in by_author[author]:
            title = row.get("title") or names.display_name(row["source"])
            parts = [f"*{_md(title)}*"]
            if row.get("date"):
                parts.append(_md(row["date"]))
            parts.append(row.get("license") or "licence unknown")
            parts.append(_link(row.get("source_url") or row["source"]))
            lines.append(f"- {', '.join(parts)} (id {row['id']})")
        lines.append("")
    return "\n".join(lines)


def write_credits_file(coll: Collection, out: str | Path | None = None) -> Path:
    target = Path(out) if out else coll.path / "CREDITS.md"
    atomic.write_text(target, credits_markdown(coll))
    return target


def _link(source: str) -> str:
    """A web address as a link (shown in Unicode, pointing at the ASCII form), anything else as code."""
    shown = names.display(source)
    if not source.startswith(("http://", "https://")):
        return f"`` {shown} ``" if "`" in shown else f"`{shown}`"
    ascii_url = names.url_ascii(source)
    return f"<{ascii_url}>" if shown == ascii_url else f"[{_md(shown)}]({ascii_url})"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
