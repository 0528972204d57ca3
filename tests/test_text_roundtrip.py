"""Property: whatever Unicode form text arrives in, it is stored once, as NFC, and read back exactly."""

import itertools
import unicodedata

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expert_match.experts.schemas import ExpertUpdate
from expert_match.matching.text import nfc

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵĐÂƠƯ "
texts = st.text(alphabet=VIETNAMESE + "\n,.0123456789", min_size=1, max_size=80).filter(lambda t: t.strip())
forms = st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"])
serial = itertools.count(1)


@given(text=texts, form=forms)
def test_input_structs_store_nfc(text, form):
    raw = msgspec.json.encode({"bio": unicodedata.normalize(form, text)})
    decoded = msgspec.json.decode(raw, type=ExpertUpdate)
    assert decoded.bio == nfc(text).strip()
    assert unicodedata.is_normalized("NFC", decoded.bio)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, form=forms)
def test_api_round_trips_vietnamese_exactly(client, text, form):
    created = client.post("/api/v1/experts", json={
        "email": f"roundtrip{next(serial)}@x.vn", "display_name": "Thử",
        "headline": "Chuyên gia", "bio": unicodedata.normalize(form, text)})
    assert created.status_code == 201, created.text
    expert_id = created.json()["expert"]["id"]
    assert client.get(f"/api/v1/experts/{expert_id}").json()["bio"] == nfc(text).strip()
