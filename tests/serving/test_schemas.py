import pytest
from pydantic import TypeAdapter, ValidationError

from serving.schemas import EXAMPLE_PAIR, EXAMPLE_RESULT, PairList, StancePair, StanceResult
from serving.settings import SETTINGS


def errors_of(data) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as caught:
        StancePair.model_validate(data)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


def test_a_good_pair_with_or_without_id():
    assert StancePair.model_validate({"claim": "c", "text": "t"}).id is None
    assert StancePair.model_validate({"claim": "c", "text": "t", "id": 7}).id == 7


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({"text": "t"}, ("claim",), "Field required"),
        ({"claim": "c"}, ("text",), "Field required"),
        ({"claim": "", "text": "t"}, ("claim",), "at least 1 character"),
        ({"claim": " \n\t", "text": "t"}, ("claim",), "must not be empty or only whitespace"),
        ({"claim": "c", "text": "   "}, ("text",), "must not be empty or only whitespace"),
        ({"claim": 5, "text": "t"}, ("claim",), "valid string"),
        ({"claim": "c", "text": ["t"]}, ("text",), "valid string"),
        ({"claim": "c" * (SETTINGS.max_claim_chars + 1), "text": "t"}, ("claim",), f"{SETTINGS.max_claim_chars}"),
        ({"claim": "c", "text": "t" * (SETTINGS.max_text_chars + 1)}, ("text",), f"{SETTINGS.max_text_chars}"),
        ({"claim": "c", "text": "t", "txt": "x"}, ("txt",), "Extra inputs are not permitted"),
    ],
)
def test_each_bad_field_is_named_with_its_limit(data, loc, message):
    assert any(error_loc == loc and message in msg for error_loc, msg in errors_of(data))


def test_the_list_has_a_size_limit():
    adapter = TypeAdapter(PairList)
    assert len(adapter.validate_python([{"claim": "c", "text": "t"}])) == 1
    with pytest.raises(ValidationError, match=f"at most {SETTINGS.max_pairs} items"):
        adapter.validate_python([{"claim": "c", "text": "t"}] * (SETTINGS.max_pairs + 1))
    with pytest.raises(ValidationError, match="at least 1 item"):
        adapter.validate_python([])


def test_the_documented_examples_are_valid():
    StancePair.model_validate(EXAMPLE_PAIR)
    StanceResult.model_validate(EXAMPLE_RESULT)
