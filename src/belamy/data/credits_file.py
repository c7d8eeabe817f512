"""The human-readable CREDITS file of a collection (also what model cards link to)."""

from __future__ import annotations

from pathlib import Path

from belamy.core import atomic
from belamy.data.collection import Collection


def credits_markdown(coll: Collection) -> str:
    """Markdown: a licence summary, then one line per image grouped by author."""
    lines = [f"# Credits: {coll.path.name}", "",
             f"{len(coll)} images. Licences: "
             + ", ".join(f"{name} ({n})" for name, n in coll.license_counts().most_common()) + ".", ""]
    by_author: dict[str, list[dict]] = {}
    for row in coll.manifest:
        by_author.setdefault(row.get("author") or "Unknown author", []).append(row)
    for author in sorted(by_author, key=lambda a: (a == "Unknown author", a.casefold())):
        lines += [f"## {_md(author)}", ""]
        for row in by_author[author]:
            title = row.get("title") or Path(row["source"]).name
            parts = [f"*{_md(title)}*"]
            if row.get("date"):
                parts.append(_md(row["date"]))
            parts.append(row.get("license") or "licence unknown")
            link = row.get("source_url") or row["source"]
            parts.append(f"<{link}>" if link.startswith(("http://", "https://")) else f"`{link}`")
            lines.append(f"- {', '.join(parts)} (id {row['id']})")
        lines.append("")
    return "\n".join(lines)


def write_credits_file(coll: Collection, out: str | Path | None = None) -> Path:
    target = Path(out) if out else coll.path / "CREDITS.md"
    atomic.write_text(target, credits_markdown(coll))
    return target


def _md(text: str) -> str:
    return text.replace("*", "\\*").replace("_", "\\_")
