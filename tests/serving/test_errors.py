import json

from serving.errors import error_response


def test_errors_have_a_summary_and_one_entry_naming_the_field():
    message = "claim has 120 tokens, over the limit of 96 tokens"
    response = error_response(400, message, ["claim"], "too_long", limit=96)
    assert response.status_code == 400
    assert json.loads(response.body) == {
        "error": message,
        "detail": [{"loc": ["claim"], "msg": message, "type": "too_long", "limit": 96}],
    }
