"""The BMA organisation tree: loading bma-org.yaml and finding a unit by what a user types."""

import time
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from core.rules.organisation import MAX_ID_LENGTH, Match, Organisation, OrganisationError, Unit

DISTRICT_SECTION_SUFFIXES = [
    "administration",
    "registration",
    "finance",
    "revenue",
    "cleansing-parks",
    "public-works",
    "city-law-enforcement",
    "community-welfare",
    "education",
    "environment-sanitation",
]

SMALL_FILE = """\
version: 1
units:
  - id: dept-a
    kind: department
    name_th: สำนักเอ
    children:
      - id: dept-a-division
        kind: division
        name_th: กองบี
  - id: district-1
    kind: district_office
    name_th: สำนักงานเขตหนึ่ง
    children_from: district_office_sections
district_office_sections:
  - {suffix: registration, kind: section, name_th: ฝ่ายทะเบียน}
"""


@pytest.fixture(scope="module")
def organisation() -> Organisation:
    return Organisation.load()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def ids(matches: list[Match]) -> list[str]:
    return [match.unit.id for match in matches]


def ids_of(units: list[Unit]) -> list[str]:
    return [unit.id for unit in units]


def walk(organisation: Organisation, unit_id: str) -> list[Unit]:
    below = [u for child in organisation.children(unit_id) for u in walk(organisation, child.id)]
    return [organisation.unit(unit_id), *below]


# ------------------------------------------------------------------ loading


def test_organisation_file_is_package_data() -> None:
    assert (resources.files("core.rules") / "bma-org.yaml").is_file()


def test_packaged_file_loads(organisation: Organisation) -> None:
    assert organisation.unit("dept-strategy-evaluation").name_th == "สำนักยุทธศาสตร์และประเมินผล"


def test_top_level_has_3_offices_16_departments_a_university_and_50_districts(
    organisation: Organisation,
) -> None:
    kinds = Counter(unit.kind for unit in organisation.children(None))
    assert kinds == {"office": 3, "department": 16, "university": 1, "district_office": 50}


def test_top_level_keeps_file_order_offices_then_departments_then_districts(
    organisation: Organisation,
) -> None:
    top = organisation.children(None)
    assert [unit.kind for unit in top[:4]] == ["office"] * 3 + ["department"]
    assert [unit.id for unit in top[-50:]] == [f"district-{code}" for code in range(1001, 1051)]


def test_top_level_units_have_depth_1_and_no_parent(organisation: Organisation) -> None:
    assert {(unit.depth, unit.parent_id) for unit in organisation.children(None)} == {(1, None)}


def test_every_district_has_the_10_standard_sections(organisation: Organisation) -> None:
    districts = [u for u in organisation.children(None) if u.kind == "district_office"]
    for district in districts:
        sections = organisation.children(district.id)
        expected = {f"{district.id}-{suffix}" for suffix in DISTRICT_SECTION_SUFFIXES}
        assert {section.id for section in sections} == expected
        assert {(s.kind, s.parent_id, s.depth) for s in sections} == {("section", district.id, 2)}


def test_district_section_takes_name_from_the_template(organisation: Organisation) -> None:
    section = organisation.unit("district-1004-registration")
    assert (section.name_th, section.name_en) == ("ฝ่ายทะเบียน", "Civil Registration Section")


def test_children_below_top_level_are_in_thai_dictionary_order(
    organisation: Organisation,
) -> None:
    # Plain sorted() would put ฝ่ายเทศกิจ and ฝ่ายโยธา after ฝ่ายสิ่งแวดล้อม.
    names = [unit.name_th for unit in organisation.children("district-1004")]
    assert names == [
        "ฝ่ายการคลัง",
        "ฝ่ายการศึกษา",
        "ฝ่ายทะเบียน",
        "ฝ่ายเทศกิจ",
        "ฝ่ายปกครอง",
        "ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม",
        "ฝ่ายโยธา",
        "ฝ่ายรักษาความสะอาดและสวนสาธารณะ",
        "ฝ่ายรายได้",
        "ฝ่ายสิ่งแวดล้อมและสุขาภิบาล",
    ]


def test_a_leaf_unit_has_no_children(organisation: Organisation) -> None:
    assert organisation.children("sed-cscd-database") == []


def test_district_with_its_own_children_does_not_get_the_standard_sections(
    tmp_path: Path,
) -> None:
    own_children = "\n    children: [{id: district-1-only, kind: section, name_th: ฝ่ายเดียว}]"
    text = SMALL_FILE.replace(
        "district_office_sections\n", f"district_office_sections{own_children}\n"
    )
    organisation = Organisation.load(write(tmp_path, text))
    assert ids_of(organisation.children("district-1")) == ["district-1-only"]


def test_path_runs_from_top_level_down_to_the_unit(organisation: Organisation) -> None:
    assert ids_of(organisation.path("sed-cscd-database")) == [
        "dept-strategy-evaluation",
        "sed-computer-system-control",
        "sed-cscd-database",
    ]


def test_path_of_a_top_level_unit_is_the_unit_alone(organisation: Organisation) -> None:
    assert ids_of(organisation.path("district-1004")) == ["district-1004"]


def test_unknown_id_raises_key_error_from_unit_and_none_from_get(
    organisation: Organisation,
) -> None:
    with pytest.raises(KeyError):
        organisation.unit("no-such-unit")
    assert organisation.get("no-such-unit") is None


def test_every_id_fits_in_button_data(organisation: Organisation) -> None:
    units = [u for top in organisation.children(None) for u in walk(organisation, top.id)]
    assert len(units) > 500
    assert all(len(unit.id) <= MAX_ID_LENGTH and unit.id.isascii() for unit in units)


def test_abbreviations_and_district_names_are_kept_as_aliases(
    organisation: Organisation,
) -> None:
    assert "สยป." in organisation.unit("dept-strategy-evaluation").aliases
    assert {"บางรัก", "Bang Rak"} <= set(organisation.unit("district-1004").aliases)


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        pytest.param("id: dept-a-division", "id: dept-a", ["'dept-a'", "duplicate"], id="dup-id"),
        pytest.param(
            "name_th: กองบี", "name_en: B", ["'dept-a-division'", "name_th"], id="no-name"
        ),
        pytest.param(
            "children_from: district_office_sections",
            "children_from: school_sections",
            ["'district-1'", "school_sections"],
            id="unknown-children-from",
        ),
        pytest.param("id: dept-a-division", "id: " + "x" * 57, ["x" * 57, "56"], id="long-id"),
        pytest.param(
            "id: district-1\n",
            "id: district-" + "1" * 40 + "\n",
            ["district-" + "1" * 40 + "-registration"],
            id="long-generated-id",
        ),
        pytest.param("id: dept-a-division", "id: Dept A", ["'Dept A'"], id="not-a-slug"),
    ],
)
def test_broken_file_raises_organisation_error_naming_the_unit(
    tmp_path: Path, old: str, new: str, names: list[str]
) -> None:
    assert old in SMALL_FILE
    with pytest.raises(OrganisationError) as error:
        Organisation.load(write(tmp_path, SMALL_FILE.replace(old, new)))
    assert all(name in str(error.value) for name in names)


def test_broken_unit_error_says_the_line(tmp_path: Path) -> None:
    with pytest.raises(OrganisationError, match="line 7"):
        Organisation.load(write(tmp_path, SMALL_FILE.replace("name_th: กองบี", "")))


def test_malformed_yaml_raises_organisation_error(tmp_path: Path) -> None:
    with pytest.raises(OrganisationError, match="not valid YAML"):
        Organisation.load(write(tmp_path, "units: [{id: a, kind: office\n"))


def test_file_without_units_raises_organisation_error(tmp_path: Path) -> None:
    with pytest.raises(OrganisationError, match="units"):
        Organisation.load(write(tmp_path, "version: 1\n"))


def test_missing_file_raises_organisation_error(tmp_path: Path) -> None:
    with pytest.raises(OrganisationError, match="cannot read"):
        Organisation.load(tmp_path / "missing.yaml")


def test_small_valid_file_loads(tmp_path: Path) -> None:
    organisation = Organisation.load(write(tmp_path, SMALL_FILE))
    assert ids_of(organisation.children(None)) == ["dept-a", "district-1"]
    assert ids_of(organisation.children("district-1")) == ["district-1-registration"]


# ------------------------------------------------------------------ finding

QUERIES = [
    # (what a user types at the first question, the unit it must find first, why)
    ("บางรัก", "district-1004", "district-name"),
    ("เขตบางรัก", "district-1004", "khet-prefix"),
    ("สำนักงานเขตบางรัก", "district-1004", "full-name"),
    ("บางลัก", "district-1004", "lo-for-ro-typo"),
    ("จตุจัก", "district-1030", "missing-final-letter"),
    ("สาธร", "district-1028", "tho-thong-for-tho-thahan"),
    ("ยุทธศาสตร์", "dept-strategy-evaluation", "alias"),
    ("สยป", "dept-strategy-evaluation", "abbreviation"),
    ("สำนักการระบายน้ำ", "dept-drainage-sewerage", "department-full-name"),
    ("ระบายน้ำ", "dept-drainage-sewerage", "department-without-samnak"),
    ("กองควบคุมระบบคอมพิวเตอร์", "sed-computer-system-control", "unique-division"),
    ("ควบคุมระบบคอม", "sed-computer-system-control", "division-fragment"),
    ("Bang Rak", "district-1004", "english-district"),
    ("bangrak", "district-1004", "english-without-space"),
    ("การแพทย์", "dept-medical", "medical"),
    ("อนามัย", "dept-health", "health"),
    ("ดอนเมือง", "district-1036", "don-mueang"),
    ("ลาดพร้าว", "district-1038", "lat-phrao"),
    ("ป้อมปราบ", "district-1008", "district-fragment"),
    ("เขตบางรักค่ะ", "district-1004", "polite-particle"),
    ("สำนักงานเขต จตุจักร ครับ", "district-1030", "spaces-and-particle"),
    ("บาง\u200bรัก", "district-1004", "zero-width-space"),
    ("วัฒนา", "district-1039", "exact-beats-thawi-watthana"),
    ("ทวีวัฒนา", "district-1048", "thawi-watthana"),
    ("คลองสาน", "district-1018", "khlong-san-not-sam-wa"),
    ("ราษฏร์บูรณะ", "district-1024", "to-patak-for-do-chada"),
    ("ราษบูรณะ", "district-1024", "misspelt-rat-burana"),
    ("พญาไทย", "district-1014", "extra-yo-yak"),
    ("สัมพันธวงค์", "district-1013", "kho-for-so"),
    ("lat krabang", "district-1011", "english-lower-case"),
    ("Chatuchak", "district-1030", "english-chatuchak"),
    ("don muang", "district-1036", "english-old-spelling"),
    ("สำนักปลัด กทม.", "dept-permanent-secretary", "alias-with-dots"),
    ("ปลัด", "dept-permanent-secretary", "short-alias"),
    ("สนน.", "dept-drainage-sewerage", "abbreviation-with-dot"),
    ("ก.ก.", "office-civil-service-commission", "kor-kor"),
    ("เลขานุการสภา", "office-council-secretary", "council-secretary"),
    ("ผังเมือง", "dept-city-planning", "old-department-name"),
    ("จราจร", "dept-traffic-transport", "traffic"),
    ("เทศกิจ", "dept-city-law-enforcement", "not-the-district-sections"),
    ("การคลัง", "dept-finance", "finance-not-district-finance"),
    ("งบประมาณ", "dept-budget", "budget"),
    ("ป้องกันและบรรเทาสาธารณภัย", "dept-fire-rescue", "fire-and-rescue"),
    ("วัฒนธรรม", "dept-culture-sports-tourism", "culture"),
    ("นวมินทราธิราช", "navamindradhiraj-university", "university"),
    ("ประชาสัมพันธ์", "ops-public-relations", "unique-bureau"),
    ("ฐานข้อมูล", "sed-cscd-database", "unique-section"),
    ("บริการระบบคอมพิวเตอร์", "sed-computer-system-service", "service-not-control"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [pytest.param(query, expected, id=why) for query, expected, why in QUERIES],
)
def test_find_puts_the_right_unit_first(
    organisation: Organisation, query: str, expected: str
) -> None:
    matches = organisation.find(query)
    assert matches
    assert matches[0].unit.id == expected


@pytest.mark.parametrize(
    "query",
    ["บางรัก", "สำนักงานเขตบางรัก", "ระบายน้ำ", "วัฒนา", "กองควบคุมระบบคอมพิวเตอร์"],
)
def test_find_returns_only_an_exact_match(organisation: Organisation, query: str) -> None:
    assert len(organisation.find(query)) == 1


def test_full_official_name_settles_names_equal_after_prefixes(
    organisation: Organisation,
) -> None:
    office = "สำนักงานเลขานุการผู้ว่าราชการกรุงเทพมหานคร"
    group = "กลุ่มงานเลขานุการผู้ว่าราชการกรุงเทพมหานคร"
    assert ids(organisation.find(office)) == ["office-governor-secretary"]
    assert ids(organisation.find(group)) == ["office-governor-secretary-secretariat"]


def test_ambiguous_query_offers_several_matches(organisation: Organisation) -> None:
    assert set(ids(organisation.find("บางกอก"))) == {"district-1016", "district-1020"}


def test_find_returns_at_most_limit_matches_best_first(organisation: Organisation) -> None:
    matches = organisation.find("Drainage", limit=2)
    assert len(matches) == 2
    assert matches[0].score >= matches[1].score


@pytest.mark.parametrize(
    "query",
    ["กขคงจ", "hello", "12345", "ก", "", "   ", "ค่ะ", "สวัสดี", "ทดสอบ", "อาหาร", "qwerty"],
)
def test_nonsense_finds_nothing(organisation: Organisation, query: str) -> None:
    assert organisation.find(query) == []


def test_top_level_search_never_offers_district_sections(organisation: Organisation) -> None:
    assert not any(unit_id.startswith("district-") for unit_id in ids(organisation.find("ทะเบียน")))
    assert organisation.find("ฝ่ายรายได้") == []


@pytest.mark.parametrize(
    ("under", "query", "expected"),
    [
        ("district-1004", "ทะเบียน", "district-1004-registration"),
        ("district-1004", "ฝ่ายทะเบียน", "district-1004-registration"),
        ("district-1030", "ทะเบีน", "district-1030-registration"),
        ("district-1030", "สวนสาธารณะ", "district-1030-cleansing-parks"),
        ("district-1030", "การศึกษา", "district-1030-education"),
        ("dept-strategy-evaluation", "ฐานข้อมูล", "sed-cscd-database"),
        ("dept-strategy-evaluation", "บริการระบบคอม", "sed-computer-system-service"),
        ("dept-permanent-secretary", "บริหารงานทั่วไป", "ops-administration-registration-general"),
    ],
)
def test_find_under_a_unit_searches_its_descendants(
    organisation: Organisation, under: str, query: str, expected: str
) -> None:
    assert ids(organisation.find(query, under=under))[:1] == [expected]


def test_find_under_a_unit_ignores_units_elsewhere(organisation: Organisation) -> None:
    assert organisation.find("บางรัก", under="dept-strategy-evaluation") == []


def test_find_under_an_unknown_unit_raises_key_error(organisation: Organisation) -> None:
    with pytest.raises(KeyError):
        organisation.find("ทะเบียน", under="no-such-unit")


def test_find_is_fast(organisation: Organisation) -> None:
    queries = [query for query, _, _ in QUERIES]
    start = time.perf_counter()
    for query in queries:
        organisation.find(query)
    assert (time.perf_counter() - start) / len(queries) < 0.01  # generous: about 1 ms here


def test_the_same_search_again_gives_the_same_units_and_a_caller_cannot_spoil_it() -> None:
    organisation = Organisation.load()
    first = organisation.find("บางรัก")
    first.clear()  # a caller's list is its own
    again = organisation.find("บางรัก")
    assert again == Organisation.load().find("บางรัก") != []
    assert organisation.find("บางรักค่ะ") == again  # another text: searched, same answer
