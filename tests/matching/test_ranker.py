"""ExpertRanker: equivalent input forms, hard filters, boosts, explanations, determinism."""

import unicodedata
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from expert_match.matching.profiles import Document, ExpertProfile, Period, Problem, SkillEvidence
from expert_match.matching.ranker import ExpertRanker

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
SIGNATURE = SkillEvidence("Chữ ký số", ("digital signature", "CKS", "ký số từ xa"), 5)
NETWORK = SkillEvidence("Mạng máy tính", ("computer networking", "mạng LAN"), 4)
GIS = SkillEvidence("Hệ thống thông tin địa lý (GIS)", ("GIS", "bản đồ số", "geographic information systems"), 4)
DVC = SkillEvidence("Dịch vụ công trực tuyến", ("DVCTT", "online public services"), 4)


def expert(expert_id, text, *skills, **kwargs):
    return ExpertProfile(expert_id, (Document(text, "bio"),), skills=skills, **kwargs)


EXPERTS = [
    expert(1, "Hỗ trợ cài đặt chứng thư số, USB token, ký số từ xa cho lãnh đạo phường", SIGNATURE),
    expert(2, "Thiết kế mạng LAN, Wi-Fi, đi dây cáp quang cho trụ sở", NETWORK),
    expert(3, "Xây dựng bản đồ số chung cư, nhà trọ trên nền WebGIS", GIS),
    expert(4, "Cấu hình quy trình dịch vụ công trực tuyến toàn trình", DVC),
    ExpertProfile(5, (Document("Digital signature and PKI consultant; remote signing on phones", "bio"),),
                  skills=(SIGNATURE,), languages=frozenset({"en"})),
]


@pytest.fixture(scope="module")
def ranker():
    return ExpertRanker().fit(EXPERTS)


def ids(matches):
    return [m.expert_id for m in matches]


QUERY = "Máy tính của lãnh đạo phường không nhận USB token, không ký số được văn bản"


def test_accented_unaccented_nfd_and_new_tone_forms_rank_the_same(ranker):
    forms = [QUERY, unicodedata.normalize("NFD", QUERY), "May tinh cua lanh dao phuong khong nhan USB token, "
             "khong ky so duoc van ban", QUERY.replace("hòa", "hoà")]
    rankings = [ids(ranker.rank(Problem(text), k=3, now=NOW)) for text in forms]
    assert all(r[0] == 1 for r in rankings), rankings
    assert rankings[0] == rankings[1]


def test_abbreviation_and_english_reach_the_right_expert(ranker):
    assert ids(ranker.rank(Problem("Lỗi CKS khi trình ký"), k=1, now=NOW)) in ([1], [5])
    english = ids(ranker.rank(Problem("our digital signature token is not recognised"), k=2, now=NOW))
    assert set(english) == {1, 5}


def test_legacy_encoded_problem_is_understood(ranker):
    tcvn3 = "Lçi ch÷ ký sè trªn m¸y tÝnh l·nh ®¹o"  # "Lỗi chữ ký số trên máy tính lãnh đạo" in TCVN3
    assert ids(ranker.rank(Problem(tcvn3), k=1, now=NOW)) == [1]


def test_scores_of_different_forms_are_on_one_scale(ranker):
    accented = ranker.text_scores("bản đồ số chung cư")
    folded = ranker.text_scores("ban do so chung cu")
    assert 0 < folded.max() <= 1 and 0 < accented.max() <= 1
    assert int(np.argmax(accented)) == int(np.argmax(folded))


def test_inactive_and_full_experts_are_filtered_not_penalised():
    experts = [expert(1, "chữ ký số USB token", SIGNATURE, active=False),
               expert(2, "chữ ký số USB token", SIGNATURE, capacity=2),
               expert(3, "chữ ký số", SIGNATURE)]
    ranker = ExpertRanker().fit(experts)
    assert ids(ranker.rank(Problem("chữ ký số USB token"), k=5, now=NOW)) == [2, 3]
    assert ids(ranker.rank(Problem("chữ ký số USB token"), k=5, now=NOW, loads={2: 2})) == [3]


def test_leave_for_the_whole_window_filters_partial_leave_lowers():
    away = (Period(NOW - timedelta(days=1), NOW + timedelta(days=30)),)
    half = (Period(NOW - timedelta(days=1), NOW + timedelta(days=2, hours=12)),)
    experts = [expert(1, "chữ ký số", SIGNATURE, leave=away), expert(2, "chữ ký số", SIGNATURE, leave=half),
               expert(3, "chữ ký số", SIGNATURE)]
    ranker = ExpertRanker(window=timedelta(days=5)).fit(experts)
    matches = ranker.rank(Problem("chữ ký số"), k=5, now=NOW)
    assert ids(matches) == [3, 2]
    assert matches[1].parts.availability == pytest.approx(0.5 + 0.5 * 0.5)
    later = ranker.rank(Problem("chữ ký số", window_start=NOW + timedelta(days=40)), k=5, now=NOW)
    assert ids(later) == [1, 2, 3]  # ties broken by id


def test_conflicts_of_interest_are_filtered():
    experts = [expert(1, "chữ ký số", SIGNATURE, affiliation_org_id=10),
               expert(2, "chữ ký số", SIGNATURE, conflict_org_ids=frozenset({10})),
               expert(3, "chữ ký số", SIGNATURE, affiliation_org_id=11)]
    ranker = ExpertRanker().fit(experts)
    assert ids(ranker.rank(Problem("chữ ký số", org_id=10), k=5, now=NOW)) == [3]
    assert ids(ranker.rank(Problem("chữ ký số", org_id=11), k=5, now=NOW)) == [1, 2]


def test_required_language_filters(ranker):
    assert ids(ranker.rank(Problem("digital signature", language="en"), k=5, now=NOW)) == [5]


def test_district_boost_only_for_on_site_work():
    experts = [expert(1, "mạng LAN trụ sở", NETWORK, districts=frozenset({"492"}), onsite_possible=True),
               expert(2, "mạng LAN trụ sở", NETWORK, districts=frozenset({"493"}), onsite_possible=True)]
    ranker = ExpertRanker(district_boost=0.1).fit(experts)
    remote = ranker.rank(Problem("mạng LAN chập chờn", district="493"), k=2, now=NOW)
    assert ids(remote) == [1, 2] and remote[0].score == remote[1].score
    onsite = ranker.rank(Problem("mạng LAN chập chờn", district="493", onsite=True), k=2, now=NOW)
    assert ids(onsite) == [2, 1]
    assert onsite[0].parts.district == pytest.approx(0.1)
    assert onsite[0].score == pytest.approx(onsite[0].parts.text * onsite[0].parts.availability * 1.1)


def test_feedback_boost_is_small_and_signed():
    experts = [expert(1, "chữ ký số", SIGNATURE, feedback=5.0), expert(2, "chữ ký số", SIGNATURE, feedback=1.0),
               expert(3, "chữ ký số", SIGNATURE)]
    matches = ExpertRanker(feedback_boost=0.1).fit(experts).rank(Problem("chữ ký số"), k=3, now=NOW)
    assert ids(matches) == [1, 3, 2]
    assert [m.parts.feedback for m in matches] == pytest.approx([0.1, 0.0, -0.1])


def test_explanation_names_matched_terms_and_skills(ranker):
    best = ranker.rank(Problem("khong ky so duoc, may khong nhan usb token"), k=1, now=NOW)[0]
    terms = [t.term for t in best.matched_terms]
    assert "usb token" in terms and "ký số" in terms
    assert best.matched_skills == ("Chữ ký số",)
    assert all(t.weight > 0 for t in best.matched_terms)
    assert best.parts.total == best.score


def test_unrelated_text_matches_nobody(ranker):
    assert ranker.rank(Problem("zzz qqq"), k=5, now=NOW) == []


def test_estimator_contract():
    ranker = ExpertRanker(ngram_max=1, aggregation="max")
    assert not [name for name in vars(ranker) if name.endswith("_")]
    assert ranker.fit(EXPERTS) is ranker
    assert ranker.expert_ids_.tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError):
        ExpertRanker(aggregation="median").fit(EXPERTS)


def test_updates_replace_add_and_remove_without_touching_the_old_ranker(ranker):
    old_ids = ranker.expert_ids_.tolist()
    changed = ExpertProfile(2, (Document("Chuyên gia bản đồ số GIS, WebGIS, PostGIS", "bio"),), skills=(GIS,))
    added = ExpertProfile(9, (Document("Hỗ trợ chữ ký số và USB token cho các phường", "bio"),), skills=(SIGNATURE,))
    newer = ranker.updated([changed, added], removed=[4])
    assert ranker.expert_ids_.tolist() == old_ids
    assert sorted(newer.expert_ids_.tolist()) == [1, 2, 3, 5, 9]
    gis = ids(newer.rank(Problem("xây dựng bản đồ số GIS"), k=2, now=NOW))
    assert gis[0] in (2, 3) and set(gis) == {2, 3}
    assert 9 in ids(newer.rank(Problem("chữ ký số USB token"), k=3, now=NOW))
    assert 4 not in ids(newer.rank(Problem("dịch vụ công trực tuyến"), k=5, now=NOW))
    assert 4 in ids(ranker.rank(Problem("dịch vụ công trực tuyến"), k=5, now=NOW))


def test_an_edit_is_vectorised_with_the_fitted_vocabulary_and_scores_at_once(ranker):
    edited = ExpertProfile(2, (Document("Thiết kế mạng LAN, Wi-Fi cho trụ sở phường", "bio"),), skills=(NETWORK,))
    newer = ranker.updated([edited])
    query = "mạng LAN trụ sở phường chập chờn"
    position = newer.expert_ids_.tolist().index(2)
    reference = newer.space_.extended(["Thiết kế mạng LAN, Wi-Fi cho trụ sở phường"])[1]
    assert newer.documents_[newer.doc_starts_[position]].toarray() == pytest.approx(reference.toarray())
    assert newer.text_scores(query)[position] > ranker.text_scores(query)[ranker.expert_ids_.tolist().index(2)]


def test_unknown_words_in_updates_are_findable_and_raise_the_drift_share(ranker):
    newer = ranker.updated([ExpertProfile(7, (Document("Blockchain hợp đồng thông minh Ethereum Solidity"),))])
    assert newer.unknown_share_ > 0.3
    assert ranker.unknown_share_ == 0.0
    assert ids(newer.rank(Problem("Solidity smart contract"), k=3, now=NOW)) == [7]
    assert "ethereum" not in " ".join(ranker.space_.vocabulary)  # the old snapshot is untouched


def test_an_index_started_empty_gets_positive_weights_for_new_experts():
    empty = ExpertRanker().fit([])
    grown = empty.updated([expert(1, "chữ ký số USB token", SIGNATURE), expert(2, "mạng LAN Wi-Fi", NETWORK)])
    assert (grown.space_.idf > 0).all()
    matches = grown.rank(Problem("lỗi USB token chữ ký số"), k=2, now=NOW)
    assert ids(matches)[0] == 1 and matches[0].parts.text > 0


def test_max_df_drops_terms_found_in_most_documents():
    experts = [expert(i, f"phường hỗ trợ chủ đề {word}") for i, word in enumerate(["camera", "mạng", "chữ ký"], 1)]
    full = ExpertRanker().fit(experts)
    pruned = ExpertRanker(max_df=0.5).fit(experts)
    assert "f|phuong" in full.space_.vocabulary and "f|phuong" not in pruned.space_.vocabulary
    assert "f|camera" in pruned.space_.vocabulary
    assert ids(pruned.rank(Problem("camera ở phường"), k=3, now=NOW)) == [1]


def test_a_problem_is_weighted_like_a_document(ranker):
    # Same text, two code paths: the fit-time document weighting and the per-request query path.
    text = EXPERTS[1].documents[0].text  # every term of it is in the fitted vocabulary
    _, document, unknown, _ = ranker.space_.extended([text])
    assert unknown == 0
    query = ranker.space_.query(text, blocks=("f",))
    assert query.toarray() == pytest.approx(document.toarray())
    expanded = ranker.space_.query(text, blocks=("f",), extra="chữ ký số", extra_weight=0.5)
    assert expanded.nnz > query.nnz
    assert np.linalg.norm(expanded.toarray()) == pytest.approx(1.0)

def expanded_as_text(ranker: ExpertRanker, text: str) -> tuple[np.ndarray, np.ndarray]:
    """The problem's terms with the glossary's names and the speller's corrections analysed as
    lines of one extra text: what ``query_terms`` gives from its per-entry counts."""
    from expert_match.matching.analysis import ACCENTED, FOLDED, query_blocks, without_english_function_words

    extra = [ranker.glossary_.expand(text), *ranker._speller().corrections(ranker.space_.analyzer.tokens(text)[1])]
    blocks = query_blocks(text)
    if not ranker.accented_block:
        if blocks == (ACCENTED,):
            text = without_english_function_words(text)
        blocks = (FOLDED,)
    return ranker.space_.query_terms(text, blocks=blocks, extra="\n".join(extra), extra_weight=ranker.expansion_weight,
                                     dtype=np.float32)


@pytest.mark.parametrize("accented_block", [False, True])
def test_counted_glossary_entries_weigh_like_the_expanded_text(accented_block):
    experts = [*EXPERTS, ExpertProfile(9, (Document("ký số từ xa, chữ ký số công cộng, USB token"),),
                                       skills=(SkillEvidence("Chữ ký số", ("digital signature", "CKS")),))]
    ranker = ExpertRanker(accented_block=accented_block).fit(experts)
    # Updated: "remote signing" and "hsm" are new terms, so the entry's columns change.
    newer = ranker.updated([ExpertProfile(10, (Document("remote signing HSM"),),
                                          skills=(SkillEvidence("Ký số từ xa", ("remote signing", "HSM")),))])
    problems = ["Chữ ký số CKS bị lỗi, USB token không nhận", "chu ky so bi loi khi nop ho so",
                "our digital signature fails on remote signing", "ký số từ xa qua HSM", "mạng LAN chậm"]
    expanded = 0
    for model in (ranker, newer, ranker):  # the first ranker again: its cache is its own
        for text in problems:
            columns, weights = model.query_terms(text)
            expected_columns, expected_weights = expanded_as_text(model, text)
            assert columns.tolist() == expected_columns.tolist(), text
            assert weights == pytest.approx(expected_weights, rel=1e-6), text
            expanded += bool(model.glossary_.found(text))
    assert expanded >= 9  # the glossary did name skills in most of them
    assert "f|hsm" in newer.space_.vocabulary and "f|hsm" not in ranker.space_.vocabulary


def test_best_document_per_expert_with_any_number_of_documents():
    from expert_match.matching.profiles import TICKET, Document, ExpertProfile

    texts = ["chữ ký số USB token", "mạng LAN wifi", "bản đồ số GIS", "dịch vụ công trực tuyến ký số",
             "an toàn thông tin", "USB token lỗi driver"]
    experts = [ExpertProfile(i + 1, tuple(Document(t, TICKET) for t in texts[: (i % 4) + 1][::-1]))
               for i in range(7)]
    ranker = ExpertRanker(aggregation="max", expand_skills=False, correct_typos=False).fit(experts)
    query = ranker.query_vector("USB token ký số")
    per_document = ranker.documents_ @ query.toarray().ravel()
    expected = [per_document[ranker.doc_owner_ == i].max() for i in range(len(experts))]
    assert np.allclose(ranker.vector_scores(query), expected)
    assert len({len(p.evidence()) for p in experts}) == 4


def naive_explanation(ranker, index, text):
    """Every shared term's contribution, merged by folded key, strongest eight: what
    ``explain_terms`` must show however it gets there (accented spellings aside)."""
    from expert_match.matching.explain import MAX_TERMS
    from expert_match.matching.text import fold

    query = ranker.query_vector(text)
    centroid = ranker.centroid_on(index, query.indices)
    merged = {}
    for column, weight in zip(query.indices.tolist(), query.data.tolist()):
        if column in centroid:
            key = fold(ranker.space_.term_text(column))
            merged[key] = merged.get(key, 0.0) + centroid[column] * weight
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]
    return [(key, round(weight, 4)) for key, weight in ranked]


@pytest.mark.parametrize("accented_block", [False, True])
def test_explanations_show_the_strongest_shared_terms(accented_block):
    from expert_match.evaluation.synthetic import build
    from expert_match.matching.text import fold

    data = build(300, 15, seed=3)
    ranker = ExpertRanker(accented_block=accented_block).fit(data.experts)
    position = {int(e): i for i, e in enumerate(ranker.expert_ids_)}
    for text in data.tickets:
        for match in ranker.rank(Problem(text), k=5, now=NOW):
            shown = [(fold(t.term), t.weight) for t in match.matched_terms]
            assert shown == naive_explanation(ranker, position[match.expert_id], text)


def test_folded_block_terms_are_folded_already(ranker):
    # ``explain_terms`` relies on it to skip folding them again.
    from expert_match.evaluation.synthetic import build
    from expert_match.matching.analysis import FOLDED
    from expert_match.matching.text import fold

    for fitted in (ranker, ExpertRanker(accented_block=True).fit(build(200, 1, seed=4).experts)):
        folded_terms = [key[2:] for key in fitted.space_.vocabulary if key.startswith(FOLDED + "|")]
        assert folded_terms
        assert [t for t in folded_terms if fold(t) != t] == []


def test_explanation_ties_are_shown_in_text_order():
    # Twelve words used once by one expert only: equal contributions, so the eight shown are
    # the first eight in text order, whatever order the vocabulary gave their columns.
    words = ["quasar", "bravo", "kilo", "zulu", "delta", "lima", "echo", "hotel", "xray", "golf", "mike", "juliet"]
    experts = [expert(1, " ".join(words)), expert(2, "mạng LAN cáp quang"), expert(3, "chữ ký số USB token")]
    best = ExpertRanker().fit(experts).rank(Problem(" ".join(reversed(words))), k=1, now=NOW)[0]
    assert [t.term for t in best.matched_terms] == sorted(words)[:8]


def test_a_fit_hands_freed_memory_back_where_glibc_allows(monkeypatch):
    import platform

    import expert_match.matching.ranker as module

    assert module.release_freed_memory() is (platform.libc_ver()[0] == "glibc")
    calls = []

    class Glibc:
        def malloc_trim(self, pad):
            calls.append(pad)
            return 1

    monkeypatch.setattr(module.ctypes, "CDLL", lambda name: Glibc())
    ExpertRanker().fit(EXPERTS)
    assert calls == [0]

    def no_glibc(name):
        raise OSError(f"{name}: not found")

    monkeypatch.setattr(module.ctypes, "CDLL", no_glibc)
    assert module.release_freed_memory() is False
    assert ids(ExpertRanker().fit(EXPERTS).rank(Problem("mạng LAN"), now=NOW))[0] == 2


def test_skill_keys_carried_over_an_update_equal_fresh_ones(ranker):
    """An update keeps the cached skill keys whose terms kept their meaning, and recomputes a
    name whose unseen term the update made known ("blockchain" here)."""
    import copy

    from expert_match.matching.explain import skill_keys

    chain = SkillEvidence("Blockchain", ("blockchain ledger", "sổ cái phân tán"), 3)
    before = skill_keys([chain], ranker.space_)[0]
    assert before[1][0]["blockchain"] == pytest.approx(float(np.log(1.0 + ranker.space_.n_docs) + 1.0))  # unseen
    newer = ranker.updated([expert(8, "blockchain cho hồ sơ đất đai", chain), expert(9, "Wi-Fi phường", NETWORK)])
    fresh_space = copy.copy(newer.space_)
    fresh_space.__dict__.pop("_skill_keys", None)
    assert newer.skill_keys_ == [skill_keys(p.skills, fresh_space) for p in newer.profiles_]
    assert skill_keys([chain], newer.space_)[0] != before  # recomputed, not carried over
