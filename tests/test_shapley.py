"""ShapleyExplainer: exact values, efficiency, convergence, common random numbers; shap as peer."""

import numpy as np
import pytest
from _oracles import brute_force_shapley
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV

from skexplain import ShapleyExplainer
from skexplain.metrics import make_explanation_scorer


def _interacting(X):
    """d = 8, with pairwise and higher-order interactions and non-linearities."""
    return (
        X[:, 0] * X[:, 1] * X[:, 2]
        + np.sin(X[:, 3] * X[:, 4])
        + np.exp(0.3 * X[:, 5]) * X[:, 6]
        + 0.5 * X[:, 7] ** 2
        + np.tanh(X[:, :8].sum(axis=1))
    )


def _wide(X):
    """d = 10: enough coalitions (1,022) for the sampled methods to be inexact."""
    return (
        np.tanh(X @ np.linspace(-1, 1, X.shape[1])) * 3
        + X[:, 0] * X[:, 1] * X[:, 2]
        + np.sin(X[:, 3] * X[:, 4] * X[:, 5]) * X[:, 6]
        + np.maximum(X[:, 7], X[:, 8]) * X[:, 9]
    )


@pytest.fixture(scope="module")
def data8():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 8))


def test_exact_equals_brute_force_on_a_model_with_interactions(data8):
    background = data8[:6]
    explainer = ShapleyExplainer(_interacting, background=background, method="exact").fit(data8)
    phi = explainer.transform(data8[10:13])
    expected = np.array([brute_force_shapley(_interacting, x, background) for x in data8[10:13]])
    np.testing.assert_allclose(phi, expected, rtol=0, atol=1e-10)
    assert explainer.expected_value_[0] == pytest.approx(_interacting(background).mean(), abs=1e-12)
    assert explainer.n_coalitions_ == 2**8 - 2


def test_equal_composites_are_evaluated_once_on_discrete_columns():
    """Where a row and a background row agree on a column, coalitions that differ only there
    give the same composite row: each distinct composite is evaluated once, and the values are
    still the exact ones (and the sampled methods' the same as without the savings)."""
    rng = np.random.default_rng(4)
    X = np.column_stack(
        [rng.integers(0, 2, 40), rng.integers(0, 3, 40), rng.normal(size=40)]
        + [rng.integers(0, 2, 40) for _ in range(4)]
    ).astype(np.float64)
    seen = []

    def counted(Z):
        seen.append(len(Z))
        return _interacting(np.column_stack([Z, Z[:, :1]]))  # 8 inputs from 7 columns

    background, rows = X[:6], X[20:24]
    explainer = ShapleyExplainer(counted, background=background, method="exact").fit(X)
    seen.clear()
    phi = explainer.transform(rows)
    evaluated = sum(seen)
    expected = np.array([brute_force_shapley(counted, x, background) for x in rows])
    np.testing.assert_allclose(phi, expected, rtol=0, atol=1e-10)
    all_composites = len(rows) * len(background) * (2**7 - 2)
    distinct = sum(
        2 ** int((x != b).sum()) - (2 if (x != b).all() else 0) for x in rows for b in background
    )
    assert evaluated == distinct + 2 * len(rows)  # and f(x), and the outputs checked at x
    assert distinct < all_composites / 3


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_equal_composites_are_evaluated_once_on_a_wide_table(method):
    """70 columns, each background row a copy of the explained row but for 3 columns: at most
    2**3 distinct composites per pair (before, tables past 62 columns sent every composite),
    and the same values as a model that sees every composite."""
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(3, 70))
    background = np.repeat(rows[:1], 5, axis=0)
    for b in background:
        b[rng.choice(70, 3, replace=False)] += 1.0
    seen = []

    def wide(Z):
        return np.tanh(Z @ np.linspace(-1, 1, 70)) + Z[:, 0] * Z[:, 69]

    def counted(Z):
        seen.append(len(Z))
        return wide(Z)

    params = dict(background=background, method=method, n_samples=300, random_state=0)
    explainer = ShapleyExplainer(counted, **params).fit(rows)
    seen.clear()
    phi = explainer.transform(rows[:1])
    assert sum(seen) <= len(background) * 2**3 + 2  # and f(x), and the outputs checked at x
    everything = ShapleyExplainer(wide, batch_size=10**6, **params).fit(rows).transform(rows[:1])
    np.testing.assert_allclose(phi, everything, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        {"method": "exact"},
        {"method": "auto"},
        {"method": "kernel", "n_samples": 40},
        {"method": "kernel", "n_samples": 40, "sampling": "kernel"},
        {"method": "permutation", "n_samples": 40},
    ],
)
def test_efficiency_for_every_method_and_per_row_targets(params):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    y = np.digitize(X[:, 0] + X[:, 1] * X[:, 2], [-0.5, 0.5])
    model = LogisticRegression().fit(X, y)
    explainer = ShapleyExplainer(
        model, n_background=20, output="probability", random_state=0, **params
    ).fit(X)
    phi = explainer.transform(X[:25])
    proba = model.predict_proba(X[:25])
    predicted = proba.argmax(axis=1)
    assert len(set(predicted)) == 3  # the rows are explained for different classes
    total = proba[np.arange(25), predicted] - explainer.expected_value_[predicted]
    np.testing.assert_allclose(phi.sum(axis=1), total, rtol=0, atol=1e-8)


@pytest.mark.parametrize("sampling", ["leverage", "kernel"])
def test_kernel_with_a_budget_covering_all_coalitions_is_exact(data8, sampling):
    background = data8[:5]
    exact = ShapleyExplainer(_interacting, background=background, method="exact").fit(data8)
    kernel = ShapleyExplainer(
        _interacting,
        background=background,
        method="kernel",
        n_samples=2**8 - 2,
        sampling=sampling,
        random_state=0,
    ).fit(data8)
    assert kernel.n_coalitions_ == 2**8 - 2
    np.testing.assert_allclose(kernel.transform(data8), exact.transform(data8), atol=1e-10)


def _errors(method, budgets, seeds, X, background, exact, **params):
    errors = np.zeros((len(budgets), len(seeds)))
    for i, n in enumerate(budgets):
        for k, seed in enumerate(seeds):
            phi = (
                ShapleyExplainer(
                    _wide,
                    background=background,
                    method=method,
                    n_samples=n,
                    random_state=seed,
                    **params,
                )
                .fit(X)
                .transform(X)
            )
            errors[i, k] = np.sqrt(((phi - exact) ** 2).sum(axis=1).mean())
    return errors.mean(axis=1)


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(8, 10))
    background = rng.normal(size=(8, 10))
    exact = ShapleyExplainer(_wide, background=background, method="exact").fit(X).transform(X)
    return X, background, exact


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_error_falls_like_one_over_root_n(wide, method):
    X, background, exact = wide
    budgets = np.array([36, 72, 144, 288])
    error = _errors(method, budgets, range(8), X, background, exact)
    slope = np.polyfit(np.log(budgets), np.log(error), 1)[0]
    # n^(-1/2), or faster where the budget starts to enumerate whole sizes
    assert slope < -0.4, (slope, error)
    assert error[-1] < error[0]


def test_kernel_error_is_no_larger_than_shaps_at_equal_evaluations(wide):
    shap = pytest.importorskip("shap")
    X, background, exact = wide
    budgets = [60, 200]
    ours = _errors("kernel", budgets, range(6), X, background, exact)
    theirs = np.zeros(len(budgets))
    state = np.random.get_state()  # noqa: NPY002 (shap draws from the global state)
    try:
        explainer = shap.KernelExplainer(_wide, background)
        for i, n in enumerate(budgets):
            runs = []
            for seed in range(6):
                np.random.seed(seed)  # noqa: NPY002
                phi = explainer.shap_values(X, nsamples=n, l1_reg=False, silent=True)
                runs.append(np.sqrt(((phi - exact) ** 2).sum(axis=1).mean()))
            theirs[i] = np.mean(runs)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    assert np.all(ours <= theirs), (ours, theirs)


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_relabelling_the_design_per_background_row_lowers_the_error(method):
    """Each background row's game estimated from its own (relabelled) coalitions: their
    sampling errors average out over the background rows instead of repeating."""
    rng = np.random.default_rng(2)
    X, background = rng.normal(size=(8, 10)), rng.normal(size=(30, 10))
    exact = ShapleyExplainer(_wide, background=background, method="exact").fit(X).transform(X)
    errors = {"relabelled": [], "shared": []}
    for seed in range(6):
        explainer = ShapleyExplainer(
            _wide, background=background, method=method, n_samples=144, random_state=seed
        ).fit(X)
        assert explainer._design.relabel.shape == (30, 10)
        for kind in errors:
            if kind == "shared":
                explainer._design.relabel = None  # the same design at every background row
            phi = explainer.transform(X)
            errors[kind].append(np.sqrt(((phi - exact) ** 2).sum(axis=1).mean()))
    ratio = np.mean(errors["shared"]) / np.mean(errors["relabelled"])
    assert ratio > 1.3, errors


@pytest.mark.parametrize("method", ["exact", "kernel", "permutation"])
def test_identical_across_batch_sizes_jobs_and_row_order(data8, method):
    params = dict(background=data8[:7], method=method, n_samples=60, random_state=3)
    reference = ShapleyExplainer(_interacting, **params).fit(data8).transform(data8)
    order = np.random.default_rng(0).permutation(len(data8))
    for other in (
        ShapleyExplainer(_interacting, batch_size=50, **params),
        ShapleyExplainer(_interacting, n_jobs=2, **params),
    ):
        np.testing.assert_allclose(other.fit(data8).transform(data8), reference, rtol=0, atol=1e-13)
    shuffled = ShapleyExplainer(_interacting, **params).fit(data8).transform(data8[order])
    np.testing.assert_allclose(shuffled, reference[order], rtol=0, atol=1e-13)
    alone = ShapleyExplainer(_interacting, **params).fit(data8).transform(data8[4:5])
    np.testing.assert_allclose(alone, reference[4:5], rtol=0, atol=1e-13)


def test_n_jobs_gives_every_worker_a_block_of_rows(data8, monkeypatch):
    # 30 rows x 60 coalitions x 7 background rows fit one block; with two workers they are
    # split in two (before, n_jobs=2 ran such a transform on one core).
    from skexplain import _engine

    blocks = []
    outer = _engine.map_row_chunks

    def recording(n_rows, compute, **kwargs):
        if _engine._PARALLEL.get()[0] != 1:  # the outermost loop, the one n_jobs spreads
            blocks.append(
                len(list(_engine.row_chunks(n_rows, kwargs["per_row"], kwargs["budget"])))
            )
        return outer(n_rows, compute, **kwargs)

    monkeypatch.setattr(_engine, "map_row_chunks", recording)
    params = dict(background=data8[:7], method="kernel", n_samples=60, random_state=3)
    serial = ShapleyExplainer(_interacting, **params).fit(data8).transform(data8)
    assert blocks == [1]
    blocks.clear()
    spread = ShapleyExplainer(_interacting, n_jobs=2, **params).fit(data8).transform(data8)
    assert blocks == [2]
    np.testing.assert_allclose(spread, serial, rtol=0, atol=1e-13)


def test_default_calls_are_larger_on_a_narrow_table(monkeypatch):
    # Where the cache's size is unknown, calls of 2**20 inputs: 8 columns get 2**20 // 8 =
    # 131,072 rows, capped at 32,768; 50 columns 20,971; 200 stay at 8,192. An explicit
    # batch_size, and an adapter's own, are kept.
    from skexplain import _engine
    from skexplain.models import as_model

    monkeypatch.setattr(_engine, "last_level_cache_bytes", lambda: None)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8))
    calls = []

    def f(Z):
        calls.append(len(Z))
        return _interacting(Z)

    params = dict(background=X[:50], method="exact", random_state=0)
    default = ShapleyExplainer(f, **params).fit(X)
    assert default.model_.batch_size == 32768
    values = default.transform(X)
    assert max(calls) > 8192  # 40 rows x 254 coalitions x 40 background rows
    calls.clear()
    small = ShapleyExplainer(f, batch_size=8192, **params).fit(X)
    np.testing.assert_allclose(small.transform(X), values, rtol=0, atol=1e-13)
    assert max(calls) <= 8192
    adapter = as_model(f, batch_size=1000)
    assert ShapleyExplainer(adapter, **params).fit(X).model_.batch_size == 1000

    def rows(d, cache):
        monkeypatch.setattr(_engine, "last_level_cache_bytes", lambda: cache)
        wide = rng.normal(size=(3, d))
        explainer = ShapleyExplainer(lambda Z: Z.sum(axis=1), background=wide, n_samples=16)
        return explainer.fit(wide).model_.batch_size

    assert [rows(d, None) for d in (50, 200)] == [20971, 8192]
    # With the cache known, one input per 128 bytes of it: on a 32 MiB L3 (the AMD EPYC where
    # 8,192-row calls beat 32,768 on 30 columns by 25%) 30 columns get 8,738 rows, 11 get 23,831
    # and 4 the cap; on a 300 MiB L3 (the Intel Xeon where 32,768 won by 10%) 30 get the cap.
    assert [rows(d, 32 << 20) for d in (30, 11, 4, 200)] == [8738, 23831, 32768, 8192]
    assert rows(30, 300 << 20) == 32768


def test_last_level_cache_size_reads_sysfs(tmp_path):
    from skexplain import _engine

    def cache(index, level, kind, size):
        entry = tmp_path / f"index{index}"
        entry.mkdir()
        for name, text in (("level", level), ("type", kind), ("size", size)):
            (entry / name).write_text(f"{text}\n")

    (tmp_path / "empty").mkdir()
    assert _engine.last_level_cache_bytes(str(tmp_path / "empty")) is None  # unknown
    cache(0, 1, "Data", "48K")
    cache(1, 1, "Instruction", "32K")
    cache(2, 2, "Unified", "2048K")
    cache(3, 3, "Unified", "300M")
    cache(4, 4, "Instruction", "1G")  # not a data cache
    (tmp_path / "index5").mkdir()  # unreadable entries are skipped
    assert _engine.last_level_cache_bytes(str(tmp_path)) == 300 << 20
    assert [_engine._bytes(t) for t in ("32768K", "1G", "512")] == [32 << 20, 1 << 30, 512]


@pytest.mark.parametrize("method", ["exact", "kernel", "permutation"])
def test_a_model_that_returns_a_view_of_its_inputs(data8, method):
    # The composites of consecutive model calls share one buffer: a model whose output is a
    # view of its input (here a column) must still give each call's own values.
    def column(X):
        return X[:, 2]

    def copied(X):
        return X[:, 2].copy()

    params = dict(background=data8[:7], method=method, n_samples=60, random_state=3, batch_size=50)
    viewed = ShapleyExplainer(column, **params).fit(data8).transform(data8)
    expected = ShapleyExplainer(copied, **params).fit(data8).transform(data8)
    np.testing.assert_array_equal(viewed, expected)
    # a single column's Shapley value is the whole difference to the background's mean
    np.testing.assert_allclose(viewed[:, 2], data8[:, 2] - data8[:7, 2].mean(), atol=1e-12)
    np.testing.assert_allclose(np.delete(viewed, 2, axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("random_state", [None, 0, np.random.RandomState(5)])
def test_numpys_global_random_state_is_untouched(data8, random_state):
    before = np.random.get_state()  # noqa: NPY002 (what the test is about)
    for method in ("kernel", "permutation"):
        explainer = ShapleyExplainer(
            _interacting, n_background=5, method=method, n_samples=30, random_state=random_state
        ).fit(data8)
        explainer.transform(data8[:3], return_std=True)
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


def test_same_random_state_same_values_different_state_different_values(data8):
    def run(seed):
        params = dict(method="kernel", n_samples=40, n_background=5, random_state=seed)
        return ShapleyExplainer(_interacting, **params).fit(data8).transform(data8[:4])

    np.testing.assert_array_equal(run(0), run(0))
    assert not np.allclose(run(0), run(1))


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_standard_errors_match_the_spread_over_seeds(wide, method):
    X, background, exact = wide
    params = dict(background=background, method=method, n_samples=100)
    runs, stds = [], []
    for seed in range(30):
        explainer = ShapleyExplainer(_wide, random_state=seed, **params).fit(X)
        phi, std = explainer.transform(X, return_std=True)
        runs.append(phi)
        stds.append(std)
    spread = np.sqrt(((np.array(runs) - exact) ** 2).mean(axis=0)).mean()
    reported = np.sqrt((np.array(stds) ** 2).mean(axis=0)).mean()
    assert 0.5 < reported / spread < 2.0, (reported, spread)


def test_exact_values_have_zero_standard_errors(data8):
    explainer = ShapleyExplainer(_interacting, n_background=4, method="exact").fit(data8)
    phi, std = explainer.transform(data8[:3], return_std=True)
    assert phi.shape == std.shape == (3, 8)
    np.testing.assert_array_equal(std, 0.0)


def test_auto_is_exact_when_cheap_and_kernel_otherwise():
    X = np.random.default_rng(0).normal(size=(20, 12))
    f = lambda Z: Z.sum(axis=1)  # noqa: E731
    assert ShapleyExplainer(f, n_background=2).fit(X[:, :11]).method_ == "exact"
    assert ShapleyExplainer(f, n_background=2).fit(X).method_ == "kernel"
    assert ShapleyExplainer(f, n_background=2, n_samples=4094).fit(X).method_ == "exact"


def test_one_feature_gets_the_whole_difference():
    X = np.arange(5.0)[:, None]
    explainer = ShapleyExplainer(lambda Z: Z[:, 0] ** 2, method="kernel").fit(X)
    np.testing.assert_allclose(explainer.transform(X)[:, 0], X[:, 0] ** 2 - 6.0)


def test_linear_model_closed_form():
    X = np.random.default_rng(3).normal(size=(40, 6))
    coef = np.arange(1.0, 7.0)
    for method in ("kernel", "permutation"):
        explainer = ShapleyExplainer(
            lambda Z: Z @ coef, method=method, n_samples=20, n_background=10, random_state=0
        ).fit(X)
        expected = coef * (X - explainer.background_.mean(axis=0))
        np.testing.assert_allclose(explainer.transform(X), expected, atol=1e-10)


def test_bad_parameters_raise_clear_errors(data8):
    with pytest.raises(ValueError, match="at most 20 features, got 21"):
        ShapleyExplainer(lambda Z: Z.sum(axis=1), method="exact").fit(np.zeros((3, 21)))
    with pytest.raises(ValueError, match="background must be a non-empty 2-D array with 8"):
        ShapleyExplainer(_interacting, background=np.zeros((3, 7))).fit(data8)
    with pytest.raises(ValueError, match="'method' parameter"):
        ShapleyExplainer(_interacting, method="sampling").fit(data8)
    with pytest.raises(ValueError, match="'n_samples' parameter"):
        ShapleyExplainer(_interacting, n_samples=1).fit(data8)


def test_grid_search_tunes_the_budget_with_an_explanation_scorer(wide):
    X, background, exact = wide
    rows = {tuple(x): e for x, e in zip(X, exact, strict=True)}

    def accuracy(explainer, X_rows):  # per-row negative squared error against exact values
        truth = np.array([rows[tuple(x)] for x in X_rows])
        return -((explainer.transform(X_rows) - truth) ** 2).sum(axis=1)

    search = GridSearchCV(
        ShapleyExplainer(_wide, background=background, random_state=0),
        {"method": ["kernel", "permutation"], "n_samples": [20, 400]},
        scoring=make_explanation_scorer(accuracy),
        cv=2,
    ).fit(X)
    assert search.best_params_["n_samples"] == 400
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_torch_module_matches_the_same_function_in_numpy():
    import torch  # the [torch] extra is in [test]: never skipped

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    module = module.double()

    def numpy_model(Z):
        with torch.no_grad():
            return module(torch.as_tensor(Z)).numpy()[:, 0]

    X = np.random.default_rng(0).normal(size=(15, 6))
    params = dict(method="kernel", n_samples=30, n_background=8, random_state=0)
    on_torch = ShapleyExplainer(module, **params).fit(X).transform(X)
    on_numpy = ShapleyExplainer(numpy_model, **params).fit(X).transform(X)
    np.testing.assert_allclose(on_torch, on_numpy, rtol=1e-10, atol=1e-12)


@pytest.mark.gpu
def test_cuda_path_equals_the_cpu_path():
    import torch

    from skexplain.models import as_model

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))
    module = module.double()
    X = np.random.default_rng(0).normal(size=(40, 6))
    params = dict(method="kernel", n_samples=40, n_background=16, random_state=0)
    cpu = ShapleyExplainer(as_model(module, device="cpu"), **params).fit(X).transform(X)
    gpu = ShapleyExplainer(as_model(module, device="cuda"), **params).fit(X).transform(X)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-8, atol=1e-10)


def test_a_background_frame_may_hold_categories_the_explained_rows_lack():
    # One island's penguins explained against the other islands': the codec learns the
    # background's categories at fit (it used to raise "categories not seen in fit").
    from _tabular import penguins
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = penguins()
    X = X.drop(columns="year")
    strings = ["island", "sex"]
    numbers = [c for c in X.columns if c not in strings]
    encode = make_column_transformer((StandardScaler(), numbers), (OneHotEncoder(), strings))
    model = make_pipeline(encode, LogisticRegression(max_iter=2000)).fit(X, y)
    biscoe, others = X[X.island == "Biscoe"], X[X.island != "Biscoe"].iloc[:12]
    options = dict(model=model, background=others, method="exact", random_state=0)
    rows = biscoe.iloc[:3]
    A = ShapleyExplainer(**options).fit(biscoe).transform(rows)
    reference = ShapleyExplainer(**options).fit(X).transform(rows)  # every category in fit
    np.testing.assert_allclose(A, reference, rtol=1e-12, atol=1e-12)
    assert np.abs(A[:, list(X.columns).index("island")]).min() > 0  # the island does matter


class _CountingScaler:
    """Counts the rows a Pipeline step transforms (mixed into a scikit-learn transformer)."""

    rows = 0

    def transform(self, X, *args, **kwargs):
        type(self).rows += len(X)
        return super().transform(X, *args, **kwargs)


def _counting(transformer_class):
    return type(f"Counting{transformer_class.__name__}", (_CountingScaler, transformer_class), {})


@pytest.mark.parametrize("method", ["exact", "kernel"])
def test_a_pipelines_leading_scalers_transform_the_rows_not_every_composite(data8, method):
    # A composite of scaled rows is the scaled composite: the scalers run on the rows and
    # background rows, and the composites go to the rest of the Pipeline only.
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    y = (_interacting(data8) > np.median(_interacting(data8))).astype(int)
    X = data8 * [1.0, 10.0, 0.1, 1.0, 100.0, 1.0, 1.0, 5.0] + 3.0
    scaler = _counting(StandardScaler)
    model = make_pipeline(
        scaler(), "passthrough", MinMaxScaler(), MLPClassifier((8,), max_iter=50, random_state=0)
    )
    with pytest.warns(Warning):  # the MLP's max_iter
        model.fit(X, y)

    def f(Z):
        return model.predict_proba(Z)[:, 1]

    background, rows = X[:5], X[20:23]
    options = dict(background=background, method=method, n_samples=64, random_state=0)
    scaler.rows = 0
    explainer = ShapleyExplainer(model, output="probability", target=1, **options).fit(X)
    phi = explainer.transform(rows)
    composites = len(rows) * len(background) * explainer.n_coalitions_
    assert 0 < scaler.rows <= 4 * (len(X) + len(rows) + len(background))  # not per composite
    assert scaler.rows < composites / 10
    same = ShapleyExplainer(f, **options).fit(X).transform(rows)
    np.testing.assert_allclose(phi, same, rtol=0, atol=1e-12)
    if method == "exact":
        expected = [brute_force_shapley(f, x, background) for x in rows]
        np.testing.assert_allclose(phi, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(phi.sum(axis=1), f(rows) - f(background).mean(), atol=1e-10)


def test_a_pipeline_that_mixes_columns_first_is_queried_whole(data8):
    # Polynomial features mix columns: a composite's features are not the composite of the
    # rows' features, so every composite goes through the whole Pipeline.
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    X = data8[:, :4]
    expand = _counting(PolynomialFeatures)
    model = make_pipeline(StandardScaler(), expand(degree=2), Ridge()).fit(X, _interacting(data8))
    background, rows = X[:4], X[20:22]
    expand.rows = 0
    explainer = ShapleyExplainer(model, background=background, method="exact").fit(X)
    phi = explainer.transform(rows)
    assert expand.rows >= len(rows) * len(background) * explainer.n_coalitions_
    expected = [brute_force_shapley(model.predict, x, background) for x in rows]
    np.testing.assert_allclose(phi, expected, rtol=0, atol=1e-10)


def test_masking_metrics_take_the_same_path_through_a_pipeline():
    # The insertion curve of a scaled Pipeline equals that of the same function.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import RobustScaler

    from skexplain.metrics import insertion_auc

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 6)) * 20 + 7
    y = (X[:, 0] - X[:, 1] * X[:, 2] / 50 > 7).astype(int)
    model = make_pipeline(RobustScaler(), LogisticRegression()).fit(X, y)
    A = rng.normal(size=(10, 6))
    ours = insertion_auc(model, X[:10], A, target=1, output="probability", baseline=X[:3])
    same = insertion_auc(lambda Z: model.predict_proba(Z)[:, 1], X[:10], A, baseline=X[:3])
    np.testing.assert_allclose(ours, same, rtol=0, atol=1e-12)


def _queried_whole(monkeypatch):
    """Make every adapter query its Pipeline whole (the reference for the encoded path)."""
    from skexplain.models import ModelAdapter, SklearnModel

    monkeypatch.setattr(SklearnModel, "masking_inputs", ModelAdapter.masking_inputs)


@pytest.mark.parametrize("dataset", ["penguins", "wage"])
@pytest.mark.parametrize("method", ["exact", "kernel", "permutation"])
def test_a_pipelines_encoder_transforms_the_rows_not_every_composite(dataset, method, monkeypatch):
    # ColumnTransformer (scaled numbers, one-hot strings) + model on a real frame: the
    # composites are made in the encoded columns, each raw column carrying its one-hot block,
    # and the values equal those of the Pipeline queried whole on every composite.
    from _tabular import fitted

    model, X = fitted(dataset, "logistic" if method == "exact" else "mlp")
    encode = model[0]
    rows_seen = []
    original = type(encode).transform

    def counting(self, Z, *args, **kwargs):
        rows_seen.append(len(Z))
        return original(self, Z, *args, **kwargs)

    options = dict(background=X.iloc[:8], method=method, n_samples=200, random_state=0)
    rows = X.iloc[20:24]
    if method == "exact" and X.shape[1] > 10:
        options["method"] = "kernel"
    monkeypatch.setattr(type(encode), "transform", counting)
    explainer = ShapleyExplainer(model, **options).fit(X)
    phi = explainer.transform(rows)
    encoded = sum(rows_seen)
    adapter = explainer.model_
    _, _, _, owners = adapter.masking_inputs(explainer.background_[:2], explainer.background_)
    assert owners is not None and owners.size > X.shape[1]  # one-hot blocks

    _queried_whole(monkeypatch)
    rows_seen.clear()
    reference = ShapleyExplainer(model, **options).fit(X).transform(rows)
    # the reference encodes every distinct composite (most repeat on these tables)
    assert 5 * encoded < sum(rows_seen), (encoded, sum(rows_seen))
    np.testing.assert_allclose(phi, reference, rtol=0, atol=1e-12)


def test_an_encoder_that_drops_a_category_is_queried_whole():
    # With drop="first" a column's one-hot block no longer holds every category: not recognized.
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skexplain.models import as_model

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 3, 40), rng.normal(size=40)]).astype(float)
    for drop, recognized in ((None, True), ("first", False)):
        encode = make_column_transformer((OneHotEncoder(drop=drop), [0]), remainder="passthrough")
        model = as_model(make_pipeline(encode, LogisticRegression()).fit(X, X[:, 1] > 0))
        rest, Xt, _, owners = model.masking_inputs(X[:5], X[5:9])
        assert (rest is not model) == recognized
        if recognized:
            np.testing.assert_array_equal(owners, [0, 0, 0, 1])
            assert Xt.shape == (5, 4)


def test_a_pipeline_whose_outputs_differ_on_the_check_is_queried_whole():
    # The check compares the outputs too: a last step that is not a function of its input
    # values (here: noise drawn on every call) keeps the Pipeline whole.
    from sklearn.base import BaseEstimator, RegressorMixin
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skexplain.models import as_model

    class Noisy(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.n_features_in_ = X.shape[1]
            return self

        def predict(self, X):
            return X.sum(axis=1) + np.random.default_rng().normal(size=len(X))

    X = np.random.default_rng(0).normal(size=(20, 3))
    model = as_model(make_pipeline(StandardScaler(), Noisy()).fit(X, X[:, 0]))
    rest, Xt, Bt, owners = model.masking_inputs(X[:4], X[4:8])
    assert rest is model and Xt is not None and owners is None
    np.testing.assert_array_equal(Xt, X[:4])
    tidy = as_model(make_pipeline(StandardScaler(), Ridge()).fit(X, X[:, 0]))
    assert tidy.masking_inputs(X[:4], X[4:8])[0] is not tidy
