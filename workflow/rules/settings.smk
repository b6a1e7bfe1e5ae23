# Settings checks that run before the schema validation: a config that still uses a key
# that has moved (workflow/schemas/renamed_keys.yaml) stops with both names.
from pathlib import Path

import yaml

RENAMED_KEYS = yaml.safe_load(
    (Path(workflow.basedir) / "workflow/schemas/renamed_keys.yaml").read_text()
)


def renamed_keys_in(cfg):
    """(old, new) for every moved key that ``cfg`` still sets (as a value, not a section)."""
    found = []
    for old, new in RENAMED_KEYS.items():
        node = cfg
        for part in old.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if not isinstance(node, dict):
            found.append((old, new))
    return found


def check_renamed_keys(cfg):
    found = renamed_keys_in(cfg)
    if found:
        lines = "\n".join(f"  {old} -> {new}" for old, new in found)
        raise ValueError(
            "config: these keys have moved (config/README.md, Renamed keys); "
            f"use the new key instead of the old one:\n{lines}"
        )
