"""The page's message catalogs: each holds every key the page uses, no other, in its own script."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from reglab.presets import LESSONS
from reglab.spec import RunSpec

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
LANGUAGES = ("en", "zh-TW", "zh-CN")
CHINESE = ("zh-TW", "zh-CN")

# t("key"), tOr("key", …) and msg("key") in the modules; data-i18n*="key" in index.html.
STATIC_CALL = re.compile(r"""\b(?:t|tOr|msg)\(\s*"([^"]+)\"""")
TEMPLATE_CALL = re.compile(r"\b(?:t|tOr|msg)\(\s*`([^`]+)`")
STATIC_ATTR = re.compile(r'\bdata-i18n(?:-title|-placeholder|-label)?="([^"]+)"')

# Keys built at run time, each family enumerable from the backend: its English is the API's own
# (the schema's descriptions, a lesson's text), so only the Chinese catalogs hold those; labels
# and section titles are the page's own words, in every catalog.
TEMPLATE_FAMILIES = {
    "lesson.${lesson.name}.title": "lesson.title",
    "lesson.${l.name}.title": "lesson.title",
    "lesson.${lesson.name}.description": "lesson.description",
    "lesson.${l.name}.description": "lesson.description",
    "lesson.${lesson}.claim.${i}": "lesson.claim",
    "lesson.${chosen.name}.claim.${i}": "lesson.claim",
    "section.${key}.title": "section.title",
    "section.${key}.help": "section.help",
    "field.${path}.label": "field.label",
    "field.${path}.help": "field.help",
}
EVERY_CATALOG = {"section.title", "field.label"}


def catalog(lang: str) -> dict[str, str]:
    data = json.loads((FRONTEND / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    assert all(isinstance(v, str) for v in data.values()), f"{lang}.json holds only strings"
    return data


def sources() -> dict[Path, str]:
    files = [*sorted(FRONTEND.rglob("*.js")), FRONTEND / "index.html"]
    return {p: p.read_text(encoding="utf-8") for p in files if "plotly" not in p.parts}


def static_keys() -> set[str]:
    keys: set[str] = set()
    for text in sources().values():
        keys |= set(STATIC_CALL.findall(text)) | set(STATIC_ATTR.findall(text))
    return keys


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return schema["$defs"][node["$ref"].split("/")[-1]]  # type: ignore[no-any-return]
    if len(node.get("allOf", [])) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def family_keys() -> dict[str, set[str]]:
    """Every key of each run-time family, from the lessons and the RunSpec schema the API serves."""
    out: dict[str, set[str]] = {family: set() for family in set(TEMPLATE_FAMILIES.values())}
    for name, lesson in LESSONS.items():
        out["lesson.title"].add(f"lesson.{name}.title")
        out["lesson.description"].add(f"lesson.{name}.description")
        out["lesson.claim"] |= {f"lesson.{name}.claim.{i}" for i in range(len(lesson.spec.claims))}
    schema = RunSpec.model_json_schema()
    for key, node in schema["properties"].items():
        section = _resolve(schema, node)
        out["section.title"].add(f"section.{key}.title")
        out["section.help"].add(f"section.{key}.help")
        for field, prop in section["properties"].items():
            if _resolve(schema, prop).get("x-challenge"):
                continue  # a challenge's test splits: set by its teacher, not shown in the form
            out["field.label"].add(f"field.{key}.{field}.label")
            out["field.help"].add(f"field.{key}.{field}.help")
    return out


def test_every_key_built_at_run_time_belongs_to_a_family_the_test_can_enumerate() -> None:
    found = {key for text in sources().values() for key in TEMPLATE_CALL.findall(text)}
    unknown = found - set(TEMPLATE_FAMILIES)
    assert not unknown, f"keys built at run time that no family enumerates: {sorted(unknown)}"
    assert found == set(TEMPLATE_FAMILIES), (
        f"families no code uses: {set(TEMPLATE_FAMILIES) - found}"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_page_uses_is_in_the_catalog(lang: str) -> None:
    words = catalog(lang)
    families = family_keys()
    needed = static_keys()
    for family, keys in families.items():
        if lang in CHINESE or family in EVERY_CATALOG:
            needed |= keys
    missing = sorted(needed - set(words))
    assert not missing, f"{lang}.json lacks {len(missing)} keys the page uses: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_catalog_holds_a_key_nobody_uses(lang: str) -> None:
    families = family_keys()
    allowed = set(static_keys())
    for family, keys in families.items():
        if lang in CHINESE or family in EVERY_CATALOG:
            allowed |= keys
    unused = sorted(set(catalog(lang)) - allowed)
    assert not unused, f"{lang}.json holds keys no page uses: {unused}"


def test_the_key_scan_finds_the_keys_of_each_kind_of_use() -> None:
    # Guards the scan itself: a regex that matched nothing would make the two tests above vacuous.
    keys = static_keys()
    assert {
        "nav.lessons",
        "name.placeholder",
        "form.launch",
        "status.queued",
        "plotly.zoom",
    } <= keys
    assert len(keys) > 200


@pytest.mark.parametrize("lang", CHINESE)
def test_each_translation_fills_the_same_placeholders_as_the_english(lang: str) -> None:
    english = catalog("en")
    names = re.compile(r"(?<!%)\{(\w+)\}")
    for key, text in catalog(lang).items():
        source = english.get(key)
        if source is None:
            continue  # the API's English: no placeholders in it
        assert set(names.findall(text)) == set(names.findall(source)), f"{lang} {key}: {text!r}"


# Characters one script writes and the other does not (the vocabulary differs too: 資料/数据,
# 網路/网络, but a stray character of the other script is the commonest slip when converting).
SIMPLIFIED_ONLY = "这们数据网络验证练过损设选择单为时变权习级组类将从关应离线图"
TRADITIONAL_ONLY = "這們數據網絡驗證練過損設選擇單為時變權習級組類將從關應離線圖"


@pytest.mark.parametrize(
    ("lang", "foreign"), [("zh-TW", SIMPLIFIED_ONLY), ("zh-CN", TRADITIONAL_ONLY)]
)
def test_each_chinese_catalog_is_written_in_its_own_script(lang: str, foreign: str) -> None:
    slips = {key: text for key, text in catalog(lang).items() if any(ch in foreign for ch in text)}
    assert not slips, f"{lang}.json has characters of the other script: {slips}"


def test_the_two_chinese_catalogs_use_each_regions_own_words() -> None:
    # Not one script converted character by character: where Taiwan and the mainland say it
    # differently, each says it its own way.
    tw, cn = catalog("zh-TW"), catalog("zh-CN")
    assert "資料" in tw["section.data.title"] and "数据" in cn["section.data.title"]
    assert "網路" in tw["exp.snap.title"] and "网络" in cn["exp.snap.title"]
    assert (
        "正規化" in tw["section.regularization.title"]
        and "正则化" in cn["section.regularization.title"]
    )
    assert "最佳化器" in tw["section.optimizer.title"] and "优化器" in cn["section.optimizer.title"]
    assert "伺服器" in tw["lessons.none"] and "服务器" in cn["lessons.none"]
