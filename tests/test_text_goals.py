"""Free-text columns: TF-IDF reading, text components, vectors, explanations and the
generated intake answers, each against a plain-loop reference."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from peermatch.affinity import FeatureAffinity
from peermatch.candidates import CandidateTable
from peermatch.errors import ConfigError
from peermatch.features import ColumnSpec, TextColumn, encode
from peermatch.scoring import Weights, affinity, affinity_components
from peermatch.text import TFIDF_OPTIONS, offers_meeting_wants, shared_terms

WORDS = ("export mexico distributors hiring engineers cfo funding round pricing margin "
         "succession family board culture remote the and of to growth sales goal work "
         "2025").split()


def make_table(n, extra=None, seed=0):
    ids = np.array([f"m{k}" for k in range(n)], dtype=object)
    rng = np.random.default_rng(seed)
    return CandidateTable(
        frame=pd.DataFrame({"id": ids, **(extra or {})}), source="t.csv",
        columns={"id": "id"}, lines=np.arange(2, n + 2), ids=ids,
        industry=rng.choice(["a", "b", "c"], n).astype(object),
        employees=np.round(10 ** rng.uniform(0, 3, n)), revenue=np.full(n, np.nan),
        goals=[list(rng.choice(["growth", "hiring", "pricing"], rng.integers(0, 3)))
               for _ in range(n)],
        expertise=[list(rng.choice(["growth", "hiring", "pricing"], rng.integers(0, 3)))
                   for _ in range(n)])


def answers(n, seed, empty=0.15):
    rng = np.random.default_rng(seed)
    return ["" if rng.random() < empty
            else " ".join(rng.choice(WORDS, int(rng.integers(2, 12)))).capitalize()
            for _ in range(n)]


def text_table(n=37, seed=0):
    return make_table(n, {"want": answers(n, seed), "offer": answers(n, seed + 1),
                          "other": answers(n, seed + 2)}, seed)


WEIGHTS = Weights(columns=(TextColumn("want", "wants", 1.5), TextColumn("offer", "offers", 0.7),
                           TextColumn("other", "own", 0.4)))


# --------------------------------------------------------------------------- references


def ref_tfidf(columns):
    """TF-IDF by hand: sublinear tf, smooth idf, unit rows; sklearn's analyzer tokenises."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyze = TfidfVectorizer(**TFIDF_OPTIONS).build_analyzer()
    docs = [[Counter(analyze(d)) for d in col] for col in columns]
    ndocs = sum(1 for col in columns for d in col if d.strip())  # every non-blank answer
    df = Counter(t for col in docs for c in col for t in c)
    out = []
    for col in docs:
        rows = []
        for c in col:
            row = {t: (1 + math.log(k)) * (math.log((1 + ndocs) / (1 + df[t])) + 1)
                   for t, k in c.items()}
            norm = math.sqrt(sum(v * v for v in row.values()))
            rows.append({t: v / norm for t, v in row.items()})
        out.append(rows)
    return out


def cos(a, b):
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def unit_sum(rows):
    s = Counter()
    for r in rows:
        s.update(r)
    norm = math.sqrt(sum(v * v for v in s.values()))
    return {t: v / norm for t, v in s.items()} if norm else {}


def ref_text_components(t, w):
    """``"text:<name>"`` components by pair loops over dict vectors."""
    specs = [c for c in w.columns if c.kind == "text"]
    rows = dict(zip([s.name for s in specs],
                    ref_tfidf([list(t.frame[s.name].fillna("")) for s in specs]), strict=True))
    n = t.n
    wants = [unit_sum([rows[s.name][i] for s in specs if s.side == "wants"]) for i in range(n)]
    out = {}
    for s in specs:
        S = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                if s.side == "offers":
                    e_ij, e_ji = cos(rows[s.name][i], wants[j]), cos(rows[s.name][j], wants[i])
                    S[i, j] = (e_ij + e_ji + e_ij * e_ji) / 3
                else:
                    S[i, j] = cos(rows[s.name][i], rows[s.name][j])
        out["text:" + s.name] = S
    return out, rows


# --------------------------------------------------------------------------- reading


def test_tfidf_rows_match_plain_loop():
    t = text_table()
    f = encode(t, specs=WEIGHTS.columns)
    _, rows = ref_text_components(t, WEIGHTS)
    terms = f.texts["want"].terms
    assert terms == sorted(terms) and len(set(terms)) == len(terms)
    for name in ("want", "offer", "other"):
        M = f.texts[name].tfidf.toarray()
        for i in range(t.n):
            ref = rows[name][i]
            got = {terms[k]: M[i, k] for k in np.flatnonzero(M[i])}
            # terms of a single answer are dropped; every other weight is the reference's
            assert got == pytest.approx({k: v for k, v in ref.items() if k in got})
            assert set(ref) - set(got) <= {k for k in ref if k not in terms}


@pytest.fixture(params=["sparse", "split"])
def term_split(request, monkeypatch):
    """Run a test with every term sparse, and with the frequent terms dense (BLAS)."""
    import peermatch.components as components

    if request.param == "split":
        monkeypatch.setattr(components, "_DENSE_DF_MIN", 1)
        monkeypatch.setattr(components, "_DENSE_DF_SHARE", 0.1)
    return request.param


def test_components_match_plain_loop_and_tags_add_up(term_split):
    t = text_table()
    f = encode(t, specs=WEIGHTS.columns)
    S = affinity_components(f, WEIGHTS)
    ref, _ = ref_text_components(t, WEIGHTS)
    for name, R in ref.items():
        np.testing.assert_allclose(S[name], R, atol=1e-12)
        assert S[name].min() >= 0 and S[name].max() <= 1 + 1e-12
    # tags and text together: the affinity is the weighted sum of all components
    A = affinity(f, WEIGHTS)
    weights = dict(WEIGHTS.to_dict(), **{"text:" + c.name: c.weight for c in WEIGHTS.columns})
    np.testing.assert_allclose(A, sum(weights[k] * v for k, v in S.items()), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_and_block_paths_agree(dtype, term_split):
    t = text_table(n=53, seed=3)
    f = encode(t, specs=WEIGHTS.columns)
    if term_split == "split":
        S = affinity_components(f, WEIGHTS)
        ref_S, _ = ref_text_components(t, WEIGHTS)
        for name, R in ref_S.items():
            np.testing.assert_allclose(S[name], R, atol=1e-12)
        assert FeatureAffinity(f, WEIGHTS)._prep.texts._wants.F.shape[1] > 0
    A = affinity(f, WEIGHTS, dtype=dtype)
    ref = affinity(f, WEIGHTS) if dtype == np.float32 else A
    FA = FeatureAffinity(f, WEIGHTS, dtype=dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(FA.to_dense(), ref, atol=tol)
    rng = np.random.default_rng(0)
    for _ in range(5):
        rows = rng.integers(0, t.n, 9)
        cols = rng.integers(0, t.n, 12)
        np.testing.assert_allclose(FA.block(rows, cols), ref[np.ix_(rows, cols)], atol=tol)
    np.testing.assert_allclose(FA.row(7), ref[7], atol=tol)
    np.testing.assert_allclose(FA.subset([4, 2, 9]).block([0, 1, 2]),
                               ref[np.ix_([4, 2, 9], [4, 2, 9])], atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_block_kernel_matches_plain_loop(dtype):
    import scipy.sparse as sp

    from peermatch.textkernel import add_dense_block, sparse_block

    def plain(L, rows, R, cols):
        out = np.zeros((len(rows), len(cols)))
        for p, r in enumerate(rows):
            a = dict(zip(L.indices[L.indptr[r]:L.indptr[r + 1]],
                         L.data[L.indptr[r]:L.indptr[r + 1]], strict=True))
            for q, c in enumerate(cols):
                for k in range(R.indptr[c], R.indptr[c + 1]):
                    out[p, q] += a.get(R.indices[k], 0.0) * R.data[k]
        return out

    rng = np.random.default_rng(5)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for trial in range(40):
        V = int(rng.integers(1, 400))
        L = sp.random_array((int(rng.integers(1, 30)), V), density=float(rng.uniform(0, 0.1)),
                            rng=rng, format="csr", dtype=dtype)
        R = L if trial % 2 else sp.random_array((int(rng.integers(1, 30)), V), density=0.05,
                                                rng=rng, format="csr", dtype=dtype)
        rows = rng.integers(0, L.shape[0], int(rng.integers(0, 25)))  # repeats too
        # the same array on both sides of one matrix: the symmetric half-work path; more
        # columns than rows: the kernel groups the rows instead
        cols = rows if trial % 4 == 1 else rng.integers(0, R.shape[0], int(rng.integers(0, 25)))
        out = np.full((rows.size, cols.size), 7.0, dtype=dtype)  # overwritten
        sparse_block(L, rows, R, cols, out)
        np.testing.assert_allclose(out, plain(L, rows, R, cols), atol=tol)
        # the dense kernel of the frequent terms adds the same product of dense rows
        before = out.copy()
        add_dense_block(L.toarray(), rows, R.toarray(), cols, out)
        np.testing.assert_allclose(out, 2 * before, atol=2 * tol)


def test_symmetric_blocks_match_the_dense_matrix():
    t = text_table(n=41, seed=4)
    f = encode(t, specs=WEIGHTS.columns)
    ref = affinity(f, WEIGHTS)
    FA = FeatureAffinity(f, WEIGHTS)
    rng = np.random.default_rng(1)
    for _ in range(5):
        rows = rng.integers(0, t.n, 15)  # repeats: their self-pairs are 0 like the diagonal
        want = ref[np.ix_(rows, rows)]
        want[rows[:, None] == rows[None, :]] = 0
        np.testing.assert_allclose(FA.block(rows), want, atol=1e-12)


@pytest.mark.parametrize("workers", [1, 3])
def test_text_bands_mirrored_across_many_row_bands(workers, term_split, monkeypatch):
    import peermatch.components as components

    monkeypatch.setattr(components, "_BLOCK_BYTES", 1)  # bands of 8 rows: 7 of them
    t = text_table(n=53, seed=6)
    f = encode(t, specs=WEIGHTS.columns)
    ref, _ = ref_text_components(t, WEIGHTS)
    base = affinity(f, Weights(columns=()))  # the tag components
    want = base + sum(c.weight * ref["text:" + c.name] for c in WEIGHTS.columns)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        A = affinity(f, WEIGHTS, dtype=dtype, workers=workers)
        np.testing.assert_allclose(A, want, atol=tol)
        np.testing.assert_allclose(A, A.T, atol=tol)
        assert not np.diag(A).any()
    only = Weights(goals=0.0, inspiration=0.0, caliber=0.0, diversity=0.0,
                   columns=WEIGHTS.columns)
    np.testing.assert_allclose(affinity(f, only, workers=workers), want - base, atol=1e-12)


def test_feature_affinity_with_text_pickles():
    import pickle

    t = text_table(n=30, seed=2)
    FA = FeatureAffinity(encode(t, specs=WEIGHTS.columns), WEIGHTS)
    FA.to_dense()  # builds the lazily transposed factors, which travel too
    back = pickle.loads(pickle.dumps(FA))
    np.testing.assert_array_equal(back.to_dense(), FA.to_dense())


def test_feature_path_memory_is_linear():
    from peermatch.datasets import synth_intake

    sizes = []
    for n in (1200, 2400):
        t = make_table(n, {"want": synth_intake(n, seed=1)["text"],
                           "offer": synth_intake(n, seed=2, side="offers")["text"]})
        w = Weights(columns=(TextColumn("want", "wants"), TextColumn("offer", "offers")))
        FA = FeatureAffinity(encode(t, specs=w.columns), w)
        FA.block(np.arange(10), np.arange(n))
        sizes.append(FA.nbytes)
    assert sizes[1] < 2.3 * sizes[0], sizes


def test_empty_answers_are_neutral_and_numbers_are_text():
    n = 6
    t = make_table(n, {"want": ["", None, "grow exports", "grow exports to Mexico", " ", ""],
                       "code": [12, 12, 7, np.nan, 7, 12]})
    w = Weights(columns=(TextColumn("want", "wants"), TextColumn("code")))
    f = encode(t, specs=w.columns)
    S = affinity_components(f, w)
    assert f.texts["want"].answered.tolist() == [False, False, True, True, False, False]
    assert S["text:want"][[0, 1, 4, 5]].max() == 0 and S["text:want"][2, 3] > 0
    assert S["text:code"][0, 1] == pytest.approx(1) and S["text:code"][0, 2] == 0
    # only empty answers: no vocabulary, every component 0, no error
    t2 = make_table(3, {"want": ["", "the", ""]})
    w2 = Weights(columns=(TextColumn("want", "wants"),))
    assert not affinity_components(encode(t2, specs=w2.columns), w2)["text:want"].any()


def test_spec_validation_and_toml_round_trip(tmp_path):
    with pytest.raises(ConfigError, match="'side' parameter of ColumnSpec"):
        TextColumn("x", side="needs")
    with pytest.raises(ConfigError, match="applies to text columns only"):
        ColumnSpec("x", side="wants")
    with pytest.raises(ConfigError, match="'similar' for a text column"):
        ColumnSpec("x", kind="text", mode="dissimilar")
    assert ColumnSpec("x", kind="text").side == "own"
    w = Weights(columns=(TextColumn("g", "wants", 2.0), TextColumn("o", "offers", vectors="o.npy"),
                         TextColumn("e", vectors=["e0", "e1"]), ColumnSpec("tenure")))
    assert Weights.from_dict(w.to_dict()) == w
    p = tmp_path / "w.toml"
    p.write_text(w.to_toml())
    back = Weights.from_toml(p)
    assert back.columns[1].vectors == str(tmp_path / "o.npy")
    assert back.columns[2].vectors == ("e0", "e1") and back.columns[0] == w.columns[0]
    t = make_table(3, {"g": ["a", "b", "c"]})
    with pytest.raises(ConfigError, match=r"Text column\(s\) \['nope'\]"):
        encode(t, specs=[TextColumn("nope")])
    with pytest.raises(ConfigError, match="no text column is side='wants'"):
        affinity(encode(t, specs=[TextColumn("g", "offers")]),
                 Weights(columns=(TextColumn("g", "offers"),)))


# --------------------------------------------------------------------------- vectors


def test_vectors_file_replaces_tfidf(tmp_path):
    n = 8
    rng = np.random.default_rng(5)
    V = rng.normal(size=(n, 4))
    U = rng.normal(size=(n, 4))
    np.save(tmp_path / "want.npy", V)
    np.save(tmp_path / "offer.npy", U)
    t = make_table(n, {"want": answers(n, 9)})
    w = Weights(columns=(TextColumn("want", "wants", vectors=tmp_path / "want.npy"),
                         TextColumn("offer", "offers", vectors=str(tmp_path / "offer.npy"))))
    f = encode(t, specs=w.columns)
    S = affinity_components(f, w)
    Vn = V / np.linalg.norm(V, axis=1, keepdims=True)
    Un = U / np.linalg.norm(U, axis=1, keepdims=True)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            assert S["text:want"][i, j] == pytest.approx(max(0.0, Vn[i] @ Vn[j]))
            e_ij, e_ji = max(0.0, Un[i] @ Vn[j]), max(0.0, Un[j] @ Vn[i])
            assert S["text:offer"][i, j] == pytest.approx((e_ij + e_ji + e_ij * e_ji) / 3)
    FA = FeatureAffinity(f, w)
    np.testing.assert_allclose(FA.to_dense(), affinity(f, w), atol=1e-12)
    assert f.texts["offer"].tfidf.shape == (n, len(f.texts["want"].terms))  # words: explain


def test_vectors_from_columns():
    t = make_table(3, {"e0": ["1", "0", "2.5"], "e1": ["0", "3", "0"]})
    w = Weights(columns=(TextColumn("about", vectors=("e0", "e1")),))
    S = affinity_components(encode(t, specs=w.columns), w)["text:about"]
    assert S[0, 1] == pytest.approx(0) and S[0, 2] == pytest.approx(1)
    bad = make_table(3, {"e0": ["1", "", "x"], "e1": ["0", "3", "0"]})
    with pytest.raises(ConfigError, match=r"line 3, column 'e0': ''; line 4, column 'e0': 'x'"):
        encode(bad, specs=w.columns)


@pytest.mark.parametrize("matrix, message", [
    (np.ones((4, 3)), r"has 4 rows but the candidates table has n=5"),
    (np.where(np.arange(15).reshape(5, 3) == 4, np.nan, 1.0), r"rows 1 \(ids 'm1'\) hold NaN"),
    (np.vstack([np.ones((3, 2)), np.zeros((2, 2))]), r"2 all-zero row\(s\): rows 3, 4"),
    (np.ones(5), r"expected a 2-D array"),
])
def test_bad_vectors_name_the_file(tmp_path, matrix, message):
    p = tmp_path / "emb.npy"
    np.save(p, matrix)
    t = make_table(5)
    with pytest.raises(ConfigError, match=message) as info:
        encode(t, specs=[TextColumn("goals_text", vectors=p)])
    assert str(p) in str(info.value) and "goals_text" in str(info.value)


def test_missing_or_garbled_vectors_file(tmp_path):
    t = make_table(2)
    with pytest.raises(ConfigError, match="missing.npy .*file not found"):
        encode(t, specs=[TextColumn("x", vectors=tmp_path / "missing.npy")])
    p = tmp_path / "junk.npy"
    p.write_text("not numpy")
    with pytest.raises(ConfigError, match="junk.npy .*not a .npy array file"):
        encode(t, specs=[TextColumn("x", vectors=p)])


def test_offers_and_wants_in_different_spaces_are_refused(tmp_path):
    np.save(tmp_path / "v.npy", np.ones((3, 2)))
    t = make_table(3, {"g": ["a b", "b c", "c d"], "o": ["a", "b", "c"]})
    w = Weights(columns=(TextColumn("g", "wants", vectors=tmp_path / "v.npy"),
                         TextColumn("o", "offers")))
    with pytest.raises(ConfigError, match="vectors of one space"):
        FeatureAffinity(encode(t, specs=w.columns), w)


# --------------------------------------------------------------------------- explanations


def ref_ranked(a, b, k, share=None, max_share=1.0):
    """Shared words by product, filler and numbers left out; a named word and another
    shared word forming a shared phrase become it."""
    from peermatch.text import QUOTE_FILLER

    ok = [t for t in set(a) & set(b) if share is None or share[t] <= max_share]
    listed = [t for t in ok if " " not in t]
    words = [t for _, t in sorted(((a[t] * b[t], t) for t in listed
                                   if t not in QUOTE_FILLER and not t.isdigit()),
                                  key=lambda x: (-x[0], x[1]))]
    out, used = [], set()
    for w in words:
        if w in used:
            continue
        phrase = w
        for p in sorted((t for t in ok if " " in t), key=lambda t: (-a[t] * b[t], t)):
            x, y = p.split()
            if (w in (x, y) and x in listed and y in listed and not used & {x, y}
                    and (share is None or share[p] >= 0.8 * min(share[x], share[y]))):
                phrase = p
                break
        out.append(phrase)
        used.update(phrase.split())
    return out[:k]


def test_shared_terms_and_offers_meeting_wants_match_plain_loop():
    t = text_table(n=25, seed=11)
    f = encode(t, specs=WEIGHTS.columns)
    _, rows = ref_text_components(t, WEIGHTS)
    kept = set(f.texts["want"].terms)
    keep = [{k: v for k, v in r.items() if k in kept} for r in rows["want"]]
    offer = [{k: v for k, v in r.items() if k in kept} for r in rows["offer"]]
    # share of the non-blank answers (of every text column) using each term
    docs = [set(r) for col in rows.values() for r, d in zip(col, t.frame["want"], strict=True)]
    blank = sum(1 for c in ("want", "offer", "other") for d in t.frame[c] if not d.strip())
    share = {term: sum(term in d for d in docs) / (len(docs) - blank) for term in kept}
    assert dict(zip(f.texts["want"].terms, f.texts["want"].term_share, strict=True)) == \
        pytest.approx(share)
    for i in range(t.n):
        for j in range(t.n):
            if i != j:
                assert shared_terms(f, i, j, k=4, max_share=1.0) == ref_ranked(
                    keep[i], keep[j], 4, share)
                assert shared_terms(f, i, j) == ref_ranked(keep[i], keep[j], 5, share, 0.2)
                assert offers_meeting_wants(f, i, j, max_share=1.0) == ref_ranked(
                    offer[i], keep[j], 5, share)
    assert shared_terms(encode(t), 0, 1) == []  # no text declared: nothing to name
    with pytest.raises(ConfigError, match="'side' parameter"):
        shared_terms(f, 0, 1, side="goals")


# --------------------------------------------------------------------------- example data


def test_generated_intake_keeps_other_columns_and_follows_topics():
    import peermatch as pm
    from peermatch.datasets import INTAKE_TOPICS, synth_intake

    plain = pm.synth_candidates(300, seed=4)
    with_text = pm.synth_candidates(300, seed=4, intake=True)
    assert plain.equals(with_text[plain.columns])
    assert list(with_text.columns[-2:]) == ["intake_goals", "intake_offers"]
    df = synth_intake(2000, seed=2)
    empty = df["text"] == ""
    assert (empty == (df["topics"] == "")).all() and 0.07 < empty.mean() < 0.13
    words = [len(t.split()) for t in df["text"][~empty]]
    assert 30 < np.mean(words) < 50
    said = [any(w.lower() in text.lower() for w in INTAKE_TOPICS[topic])
            for text, topics in zip(df["text"][~empty], df["topics"][~empty], strict=True)
            for topic in topics.split("; ")]
    assert np.mean(said) > 0.95  # a typo may hide the words of a one-sentence topic


def test_bundled_example_declares_its_intake_columns_only_on_request():
    import peermatch as pm
    from peermatch.datasets import example_path

    t = pm.read_candidates(pm.example_path())
    assert "intake_goals" in t.frame.columns and not encode(t).texts
    w = Weights.from_toml(example_path().with_name("weights_text.toml"))
    f = encode(t, specs=w.columns)
    assert sorted(f.texts) == ["intake_goals", "intake_offers"]
    assert 0.05 < 1 - f.texts["intake_goals"].answered.mean() < 0.15
    S = FeatureAffinity(f, w).block(np.arange(20), np.arange(500))
    assert np.isfinite(S).all()


# --------------------------------------------------------------------------- explanations in words


def ref_reasons(f, w, rows, i, j, S=None):
    """The text reasons of the tie i-j by hand: per column, the plain-loop ranking of the
    shared words (``ref_ranked``), offers against every wants column summed, both ways.
    ``S`` is ``affinity_components(f, w)``, computed here when not given (a loop over
    every pair passes it once)."""
    kept = set(f.texts[w.columns[0].name].terms)
    share = dict(zip(f.texts[w.columns[0].name].terms, f.texts[w.columns[0].name].term_share,
                     strict=True))
    a, b = str(f.names[i]), str(f.names[j])
    S = affinity_components(f, w) if S is None else S

    def row(name, k):
        return {t: v for t, v in rows[name][k].items() if t in kept}

    def wants(k):
        out = Counter()
        for s in w.columns:
            if s.side == "wants":
                out.update(row(s.name, k))
        return dict(out)

    out = []
    for s in w.columns:
        if S["text:" + s.name][i, j] * s.weight <= 0:
            continue
        if s.side != "offers":
            terms = ref_ranked(row(s.name, i), row(s.name, j), 5, share, 0.2)
            out.append(f"both write about: {', '.join(terms)}" if terms
                       else f"similar answers to {s.name}")
            continue
        said = []
        for x, y, who, whom in ((j, i, b, a), (i, j, a, b)):
            terms = ref_ranked(row(s.name, x), wants(y), 5, share, 0.2)
            if terms:
                said.append(f"{who}'s offers ({', '.join(terms)}) meet {whom}'s goals")
        out += said or [f"{b}'s and {a}'s offers ({s.name}) meet the other's goals"]
    return out


def test_explanations_quote_the_shared_words_like_a_plain_loop():
    from peermatch.explain import TieReasons, explain_member

    t = text_table(n=30, seed=5)
    w = Weights(columns=(TextColumn("want", "wants", 1.5), TextColumn("offer", "offers", 0.7),
                         TextColumn("other", "own", 0.4)))
    f = encode(t, specs=w.columns)
    _, rows = ref_text_components(t, w)
    ties = TieReasons(f, w)
    S = affinity_components(f, w)  # the dense reference components, once for every pair
    text_like = ("both write about", "similar answers to", "'s offers")
    quoted = 0
    for i in range(t.n):
        for j in range(t.n):
            if i == j:
                continue
            got = [r for r in ties.reasons(i, j) if r.startswith(text_like) or "offers (" in r]
            want = ref_reasons(f, w, rows, i, j, S)
            assert sorted(got) == sorted(want), (i, j)
            quoted += any(r.startswith("both write about: ") for r in got)
    assert quoted > 50
    A = affinity(f, w)
    ex = explain_member(0, A, np.arange(t.n) % 3, f, w)
    assert any("both write about" in r or "offers (" in r for p in ex.peers for r in p.reasons)
    # no text declared: no text reasons
    plain = encode(t)
    assert not any(r.startswith(text_like) for r in TieReasons(plain).reasons(0, 1))


def test_group_terms_and_text_similarity_match_plain_loops():
    from peermatch.quality import text_similarity
    from peermatch.text import group_terms, pair_cosines

    t = text_table(n=40, seed=7)
    f = encode(t, specs=WEIGHTS.columns)
    _, rows = ref_text_components(t, WEIGHTS)
    kept = set(f.texts["want"].terms)
    share = dict(zip(f.texts["want"].terms, f.texts["want"].term_share, strict=True))
    keep = [{k: v for k, v in r.items() if k in kept} for r in rows["want"]]
    members = [3, 8, 11, 20, 21, 35]
    got = group_terms(f, members, k=4, max_share=1.0)
    for m, terms in zip(members, got, strict=True):
        others = Counter()
        for o in members:
            if o != m:
                others.update(keep[o])
        assert terms == ref_ranked(keep[m], dict(others), 4, share), m
    # the mean cosine within groups and over all pairs, against the dense component
    lab = np.arange(t.n) % 5
    lab[:3] = -1
    S = affinity_components(f, WEIGHTS)
    sim = text_similarity(f, lab, WEIGHTS.columns, max_pairs=10**6)
    assert sorted(sim) == ["other", "want"]  # offers columns have no similarity of their own
    for name in sim:
        same = (lab[:, None] == lab[None, :]) & (lab[:, None] >= 0)
        np.fill_diagonal(same, False)
        iu = np.triu_indices(t.n, 1)
        assert sim[name]["within"] == pytest.approx(S["text:" + name][iu][same[iu]].mean())
        placed = np.flatnonzero(lab >= 0)
        overall = S["text:" + name][np.ix_(placed, placed)]
        assert sim[name]["all"] == pytest.approx(
            overall[~np.eye(placed.size, dtype=bool)].mean(), abs=0.01)
    cos = pair_cosines(f.texts["want"], [0, 1], [2, 3])
    assert cos == pytest.approx([S["text:want"][0, 2], S["text:want"][1, 3]])
    assert text_similarity(encode(t), lab, ()) == {}


# --------------------------------------------------------------------------- command line


def test_text_column_option_config_folder_and_report(tmp_path, capsys):
    from peermatch.cli import main as run
    from peermatch.cli._common import parse_text_columns

    def main(argv):
        return run([str(x) for x in argv])

    assert [(c.name, c.side, c.weight) for c in parse_text_columns(
        ["a=wants:2.5", "b=offers", "c"])] == [("a", "wants", 2.5), ("b", "offers", 1.0),
                                              ("c", "own", 1.0)]
    for bad in ("a=goals", "=wants", "a=wants:x", "a=wants:inf"):
        with pytest.raises(ConfigError, match="--text-column"):
            parse_text_columns([bad])
    import peermatch as pm

    df = pm.synth_candidates(40, seed=3, intake=True)
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "g.csv"
    opts = ["--text-column", "intake_goals=wants:8", "--text-column", "intake_offers=offers:8"]
    code = main(["match", src, "--out", out, "--min-size", "6", "--max-size", "8",
                 "--time-limit", "1", "--report", tmp_path / "r.html", *opts])
    printed = capsys.readouterr().out
    assert code == 0 and "intake_goals (text): answers alike" in printed
    assert "writes with the group about" in (tmp_path / "r.html").read_text(encoding="utf-8")
    said = 0
    for who in df["id"][df["intake_goals"] != ""][:5]:
        code = main(["explain", out, who, "--top", "11", *opts])
        text = capsys.readouterr().out
        said += "both write about: " in text or "offers (" in text
        assert code == 0
    assert said >= 3
    code = main(["explain", out, "M0001", "--top", "11"])  # without them: tags only
    assert code == 0 and "both write about" not in capsys.readouterr().out
    # the same through --config, vectors read from the TOML file's folder
    sub = tmp_path / "conf"
    sub.mkdir()
    rng = np.random.default_rng(0)
    np.save(sub / "goals.npy", rng.normal(size=(40, 3)))
    (sub / "job.toml").write_text(
        '[weights]\n[[weights.columns]]\nname = "intake_goals"\nkind = "text"\n'
        'side = "wants"\nweight = 4.0\nvectors = "goals.npy"\n', encoding="utf-8")
    code = main(["validate", src, "--min-size", "6", "--max-size", "8",
                 "--config", sub / "job.toml"])
    assert code == 0, capsys.readouterr().err
    assert "intake_goals (scored)" in capsys.readouterr().out
    code = main(["match", src, "--out", tmp_path / "g2.csv", "--min-size", "6", "--max-size",
                 "8", "--time-limit", "1", "--json", "--config", sub / "job.toml"])
    import json

    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and set(summary["text_similarity"]) == {"intake_goals"}
    (sub / "job.toml").write_text(
        '[weights]\n[[weights.columns]]\nname = "intake_goals"\nkind = "text"\n'
        'vectors = "missing.npy"\n', encoding="utf-8")
    code = main(["match", src, "--out", tmp_path / "g3.csv", "--config", sub / "job.toml"])
    err = capsys.readouterr().err
    assert code == 2 and str(sub / "missing.npy") in err, err


def test_explain_with_names_the_tie_in_words():
    import peermatch as pm
    from peermatch.explain import TieReasons, explain_together

    df = pm.synth_candidates(24, seed=2, intake=True)
    df["conflicts"] = ""
    df["group"] = ["1"] * 12 + ["2"] * 12
    w = Weights(columns=(TextColumn("intake_goals", "wants", 8.0),
                         TextColumn("intake_offers", "offers", 8.0)))
    rules = pm.Rules(competitors=())
    f = encode(pm.read_candidates(df), specs=w.columns)
    ties = TieReasons(f, w)
    pair = next((i, j) for i in range(12) for j in range(12, 24)
                if any(r.startswith("both write about: ") for r in ties.reasons(i, j)))
    ids = df["id"].tolist()
    ex = explain_together(df, ids[pair[0]], ids[pair[1]], weights=w, rules=rules)
    assert ex.reasons == ties.reasons(*pair)
    assert "Their tie: " in ex.to_text() and "both write about: " in ex.to_dict()["text"]
    assert ex.to_dict()["reasons"] == ex.reasons


def ref_spelled(term, answers):
    """``in_their_words`` for one term by a plain loop over space-separated words (a word
    may end a sentence with "."), stop words skipped as TF-IDF skips them."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as stop

    parts = term.split(" ")
    seen = []
    for text in answers:
        raw = text.split(" ")
        kept = [q for q, x in enumerate(raw) if x.rstrip(".").lower() not in stop]
        for a in range(len(kept) - len(parts) + 1):
            idx = kept[a:a + len(parts)]
            if [raw[q].rstrip(".").lower() for q in idx] != parts:
                continue
            first = idx[0] == 0 or raw[idx[0] - 1].endswith(".")
            word = raw[idx[0]].rstrip(".")
            if first and word[:1].isupper() and word[1:].islower():
                word = word.lower()
            rank = int(first)
            if len(idx) == 2:
                between = raw[idx[0] + 1:idx[1]]
                clean = len(between) <= 1 and not any(x.endswith(".") for x in
                                                      [raw[idx[0]], *between])
                end = raw[idx[1]].rstrip(".")
                word = " ".join([word, *between, end]) if clean else f"{word} {end}"
                rank += not clean
            seen.append((rank, word))
    if not seen:
        return term
    count = Counter(w for _, w in seen)
    return min(enumerate(seen), key=lambda e: (e[1][0], -count[e[1][1]], e[0]))[1][1]


def test_terms_are_quoted_as_the_members_spell_them():
    from peermatch.text import QUOTE_FILLER, in_their_words

    vocab = ("Mexico mexico ERP export Export distributors Sales sales the to in and goal "
             "plan Latin America latin").split()
    rng = np.random.default_rng(3)
    for _ in range(60):
        answers = [" ".join(str(x) + ("." if rng.random() < 0.2 else "")
                            for x in rng.choice(vocab, int(rng.integers(1, 14))))
                   for _ in range(int(rng.integers(1, 4)))]
        words = [w.rstrip(".").lower() for a in answers for w in a.split(" ")]
        terms = sorted(set(words) | {f"{x} {y}" for x, y in zip(words, words[1:], strict=False)})
        assert in_their_words(terms, answers) == [ref_spelled(t, answers) for t in terms]
    # explanations: distinctive words only, as written
    t = make_table(6, {"want": ["Our goal: export to Mexico via distributors. ERP too.",
                                "The plan is to sell the company; Mexico, distributors!",
                                "Hire engineers", "", "Plan to sell the company", "CFO"]})
    f = encode(t, specs=[TextColumn("want", "wants")])
    assert shared_terms(f, 0, 1, max_share=1) == ["Mexico via distributors"]
    assert shared_terms(f, 1, 4, max_share=1) == ["sell the company"]
    assert not {"goal", "plan"} - QUOTE_FILLER
