"""The template library: shipped templates on disk, versions in the database."""

from __future__ import annotations

from pathlib import Path

import yaml

from notifier.domain.templates import PARTS, TemplateSpec, TemplateVersion


def load_directory(root: Path) -> list[TemplateVersion]:
    """Read every ``<key>/template.yaml`` with its locale folders as version 1."""
    found = []
    for spec_file in sorted(root.glob("*/template.yaml")):
        folder = spec_file.parent
        if folder.name.startswith("_"):
            continue
        spec = TemplateSpec.from_dict(yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {})
        sources: dict[str, dict[str, str]] = {}
        for locale_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            parts = {
                part: (locale_dir / part).read_text(encoding="utf-8")
                for part in PARTS
                if (locale_dir / part).is_file()
            }
            if parts:
                sources[locale_dir.name] = parts
        found.append(TemplateVersion(key=folder.name, version=1, spec=spec, sources=sources))
    return found
