"""The shipped catalogue and demo hall load; the validator names file and entry of each fault."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from queue_server.catalogue import (
    DEFAULT_ROOT,
    Catalogue,
    CatalogueError,
    DemoHall,
    WindowSpec,
    load_catalogue,
    load_demo_hall,
)

# The 15 bundles and the ticket prefixes suggested in bundles.md.
EXPECTED = {
    "A": "新生儿出生",
    "B": "教育入学",
    "C": "社会保障卡居民服务",
    "D": "残疾人服务",
    "E": "退休",
    "F": "企业信息变更",
    "G": "开办运输企业",
    "H": "开办餐饮店",
    "J": "水电气网联合报装",
    "K": "信用修复",
    "L": "企业上市合法合规信息核查",
    "M": "企业破产信息核查",
    "N": "企业注销登记",
    "P": "不动产登记",
    "Q": "企业开办",
}
# The sources give a single matter only here: one 专用信用报告 replaces all the proofs.
SINGLE_MATTER = {"listing-compliance"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def hall(catalogue: Catalogue) -> DemoHall:
    return load_demo_hall(catalogue)


# --- the shipped catalogue -----------------------------------------------------------------


def test_catalogue_has_the_fifteen_bundles_by_name(catalogue: Catalogue) -> None:
    by_prefix = {b.prefix: b.name for b in catalogue.bundles}
    assert len(by_prefix) == len(catalogue.bundles) >= 15
    for prefix, topic in EXPECTED.items():
        assert by_prefix[prefix].startswith(topic), (prefix, by_prefix[prefix])


def test_prefixes_are_unique_letters_without_i_and_o(catalogue: Catalogue) -> None:
    prefixes = [b.prefix for b in catalogue.bundles]
    assert len(set(prefixes)) == len(prefixes)
    assert all(re.fullmatch(r"[A-HJ-NP-Z]", p) for p in prefixes)


def test_every_bundle_is_complete(catalogue: Catalogue) -> None:
    for bundle in catalogue.bundles:
        minimum = 1 if bundle.code in SINGLE_MATTER else 2
        assert len(bundle.matters) >= minimum, bundle.code
        assert bundle.material_count >= 1, bundle.code
        assert 8 <= len(bundle.form) <= 20, bundle.code
        assert bundle.conditions, bundle.code
        assert bundle.sources, bundle.code
        assert 8 <= bundle.service_minutes <= 30, bundle.code
        catalogue.department(bundle.lead_department)
        for matter in catalogue.matters_of(bundle):
            catalogue.department(matter.department)


def test_every_material_serves_matters_of_its_bundle(catalogue: Catalogue) -> None:
    for bundle in catalogue.bundles:
        for material in bundle.materials:
            assert material.matters, (bundle.code, material.code)
            assert set(material.matters) <= set(bundle.matters), (bundle.code, material.code)
            if material.exempt:
                assert material.exempt_note, (bundle.code, material.code)


def test_unverified_entries_say_why(catalogue: Catalogue) -> None:
    for bundle in catalogue.bundles:
        if not bundle.verified:
            assert bundle.note, bundle.code
    for matter in catalogue.matters:
        if not matter.verified:
            assert matter.note, matter.code


def test_identity_fills_part_of_every_form(catalogue: Catalogue) -> None:
    for bundle in catalogue.bundles:
        assert 0 < bundle.identity_fillable_share < 1, bundle.code
        if bundle.applicant == "enterprise":
            # Only the 经办人 is identified; the enterprise's own data is typed.
            assert set(bundle.identity_fields.values()) <= {"name", "id_number"}, bundle.code


def test_bundle_helpers(catalogue: Catalogue) -> None:
    newborn = catalogue.bundle("newborn")
    identified = tuple(f for f in newborn.form if f.identity is not None)
    assert newborn.model_copy(update={"form": identified}).identity_fillable_share == 1.0
    assert newborn.model_copy(update={"form": ()}).identity_fillable_share == 0.0
    assert newborn.material_count == len(newborn.materials)
    assert newborn.exempt_count == len([m for m in newborn.materials if m.exempt])
    assert 0 < newborn.exempt_count < newborn.material_count
    assert newborn.identity_fields["applicant_id_number"] == "id_number"


def test_shared_matter_serves_two_bundles(catalogue: Catalogue) -> None:
    users = [b.code for b in catalogue.bundles if "social-security-card-application" in b.matters]
    assert {"newborn", "social-security-card"} <= set(users)


def test_catalogue_is_frozen(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationError):
        catalogue.bundle("newborn").prefix = "Z"


# --- the demo hall -------------------------------------------------------------------------


def test_demo_hall_windows(hall: DemoHall, catalogue: Catalogue) -> None:
    numbers = [w.number for w in hall.windows]
    assert len(hall.windows) >= 24
    assert len(set(numbers)) == len(numbers)
    assert len({w.name for w in hall.windows}) == len(hall.windows)
    everything = {code: 1 for code in catalogue.bundle_codes}
    comprehensive = [w for w in hall.windows if w.kind == "综合受理"]
    assert len(comprehensive) >= 3
    assert all(w.ranks == everything for w in comprehensive)
    helpers = [w for w in hall.windows if w.kind == "帮办代办"]
    assert helpers
    assert all(set(w.ranks) == set(everything) for w in helpers)
    assert any(w.kind == "绿色通道" for w in hall.windows)
    assert any(w.kind == "办不成事反映" for w in hall.windows)


def test_every_bundle_has_a_primary_window_and_a_special_window(
    hall: DemoHall, catalogue: Catalogue
) -> None:
    for code in catalogue.bundle_codes:
        primary = [w for w in hall.windows if w.ranks.get(code) == 1]
        assert primary, code
        assert any(w.kind == "专窗" for w in primary), code


def test_demo_hall_header(hall: DemoHall) -> None:
    assert hall.hall.code == "demo"
    assert hall.hall.timezone == "Asia/Shanghai"
    assert hall.hall.opens < hall.hall.closes


def test_all_needs_the_catalogue() -> None:
    window = {"number": 1, "name": "综合受理1号", "kind": "综合受理", "bundles": "all"}
    with pytest.raises(ValidationError, match="bundle codes"):
        WindowSpec.model_validate(window)
    spec = WindowSpec.model_validate(window, context={"bundle_codes": ("a", "b")})
    assert spec.ranks == {"a": 1, "b": 1}


# --- the validator -------------------------------------------------------------------------

Edit = Callable[[str, str, str], Path]


@pytest.fixture
def broken(tmp_path: Path) -> tuple[Path, Edit]:
    """A copy of the shipped catalogue and a function replacing text in one of its files."""
    root = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_ROOT, root)

    def edit(name: str, old: str, new: str) -> Path:
        path = root / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    return root, edit


NEWBORN = "bundles/A-newborn.yaml"
CATALOGUE_FAULTS = [
    pytest.param(
        "bundles/B-education.yaml", "prefix: B", "prefix: A",
        r"B-education\.yaml: bundle education: "
        r"prefix 'A' is already used by bundle newborn \(A-newborn\.yaml\)",
        "bundle education",
        id="duplicate-prefix",
    ),
    pytest.param(
        NEWBORN, "  - maternity-allowance\n", "  - maternity-allowance\n  - xyz\n",
        r"A-newborn\.yaml: bundle newborn: matter 'xyz' is not in matters\.yaml",
        "bundle newborn",
        id="unknown-matter",
    ),
    pytest.param(
        NEWBORN, "matters: [birth-household-registration]", "matters: []",
        r"A-newborn\.yaml: bundle newborn, material household-register: "
        r"material without a matter",
        "bundle newborn, material household-register",
        id="material-without-matter",
    ),
    pytest.param(
        NEWBORN, "matters: [birth-household-registration]", "matters: [tax-deregistration]",
        r"A-newborn\.yaml: bundle newborn, material household-register: "
        r"matter 'tax-deregistration' is not one of the bundle's matters",
        "bundle newborn, material household-register",
        id="material-matter-outside-bundle",
    ),
    pytest.param(
        "matters.yaml", "department: health", "department: nowhere",
        r"matters\.yaml: matter birth-medical-certificate: "
        r"department 'nowhere' is not a known department",
        "matter birth-medical-certificate",
        id="unknown-department-of-matter",
    ),
    pytest.param(
        NEWBORN, "lead_department: health", "lead_department: nowhere",
        r"A-newborn\.yaml: bundle newborn: lead_department 'nowhere' is not a known department",
        "bundle newborn",
        id="unknown-lead-department",
    ),
    pytest.param(
        NEWBORN, "name: 新生儿出生一件事", "name: [新生儿出生一件事",
        r"A-newborn\.yaml: line \d+, column \d+: YAML syntax error",
        None,
        id="bad-yaml",
    ),
    pytest.param(
        NEWBORN, "code: newborn\n", "code: newborn\ncode: again\n",
        r"A-newborn\.yaml: line 2, column 1: YAML syntax error: duplicate key 'code'",
        "line 2, column 1",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        "departments.yaml", "code: hrss", "code: health",
        r"departments\.yaml: department health: duplicate department code",
        "department health",
        id="duplicate-department",
    ),
    pytest.param(
        "matters.yaml", "code: vaccination-certificate", "code: birth-medical-certificate",
        r"matters\.yaml: matter birth-medical-certificate: duplicate matter code",
        "matter birth-medical-certificate",
        id="duplicate-matter",
    ),
    pytest.param(
        NEWBORN, "code: household-register", "code: parent-id-cards",
        r"bundle newborn, material parent-id-cards: duplicate material code",
        "bundle newborn, material parent-id-cards",
        id="duplicate-material",
    ),
    pytest.param(
        NEWBORN, "{key: applicant_id_number,", "{key: applicant_name,",
        r"bundle newborn, form field applicant_name: duplicate form key",
        "bundle newborn, form field applicant_name",
        id="duplicate-form-key",
    ),
    pytest.param(
        NEWBORN, "identity: sex, options: [男, 女]", "identity: sex, options: null",
        r"bundle newborn, form field applicant_sex: select field without options",
        "bundle newborn, form field applicant_sex",
        id="select-without-options",
    ),
    pytest.param(
        NEWBORN, "prefix: A", "prefix: O",
        r"A-newborn\.yaml: bundle newborn: prefix: prefix 'O' must be one letter",
        "bundle newborn",
        id="prefix-o",
    ),
    pytest.param(
        NEWBORN, "    form: original\n", "    form: paper\n",
        r"bundle newborn, material parent-id-cards: form: Input should be 'original'",
        "bundle newborn, material parent-id-cards",
        id="pydantic-error-names-entry",
    ),
    pytest.param(
        NEWBORN, "exempt_note: 扫苏服码或刷身份证调取电子证照，免提交复印件。", "exempt_note: null",
        r"bundle newborn, material parent-id-cards: an exempt material needs an exempt_note",
        "bundle newborn, material parent-id-cards",
        id="exempt-without-note",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "pattern", "entry"), CATALOGUE_FAULTS)
def test_validator_rejects(
    broken: tuple[Path, Edit], name: str, old: str, new: str, pattern: str, entry: str | None
) -> None:
    root, edit = broken
    edit(name, old, new)
    with pytest.raises(CatalogueError, match=pattern) as caught:
        load_catalogue(root)
    if entry is not None:
        assert caught.value.entry == entry
    assert caught.value.file == root / name


def test_duplicate_bundle_code_names_both_files(broken: tuple[Path, Edit]) -> None:
    root, _ = broken
    text = (root / NEWBORN).read_text(encoding="utf-8").replace("prefix: A", "prefix: Z")
    (root / "bundles" / "Z-newborn-again.yaml").write_text(text, encoding="utf-8")
    pattern = r"Z-newborn-again\.yaml: bundle newborn: code 'newborn' is already used by"
    with pytest.raises(CatalogueError, match=pattern + r" bundle newborn \(A-newborn\.yaml\)"):
        load_catalogue(root)


HALL_FAULTS = [
    pytest.param(
        "{code: real-estate, rank: 1}", "{code: nowhere, rank: 1}",
        r"demo_hall\.yaml: window 7: bundle 'nowhere' is not in the catalogue",
        id="unknown-bundle",
    ),
    pytest.param(
        "{code: real-estate, rank: 1}", "{code: real-estate, rank: 0}",
        r"demo_hall\.yaml: window 7, bundle real-estate: rank: Input should be greater",
        id="rank-zero",
    ),
    pytest.param(
        "  - number: 8\n", "  - number: 7\n",
        r"demo_hall\.yaml: window 7: duplicate window number",
        id="duplicate-number",
    ),
    pytest.param(
        "name: 不动产登记2号", "name: 不动产登记1号",
        r"demo_hall\.yaml: window 不动产登记1号: duplicate window name",
        id="duplicate-name",
    ),
    pytest.param(
        'closes: "17:00"', "closes: 17:00",
        r'demo_hall\.yaml: hall: closes: write the time as a quoted "HH:MM"',
        id="unquoted-time",
    ),
]


@pytest.mark.parametrize(("old", "new", "pattern"), HALL_FAULTS)
def test_hall_validator_rejects(
    broken: tuple[Path, Edit], catalogue: Catalogue, old: str, new: str, pattern: str
) -> None:
    _, edit = broken
    path = edit("demo_hall.yaml", old, new)
    with pytest.raises(CatalogueError, match=pattern):
        load_demo_hall(catalogue, path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"departments\.yaml: file: not found"):
        load_catalogue(tmp_path)
