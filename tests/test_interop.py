"""shap interop and saved attributions: exact round trips, and loading never unpickles."""

import json
import pickle

import matplotlib
import numpy as np
import pandas as pd
import pytest
import shap
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skexplain import (
    IntegratedGradients,
    SmoothGrad,
    from_shap_explanation,
    load_attributions,
    save_attributions,
    to_shap_explanation,
)
from skexplain.display import AttributionDisplay
from skexplain.functions import SumOfSines


@pytest.fixture
def explained():
    X = np.random.default_rng(0).uniform(-1, 1, size=(15, 5))
    explainer = IntegratedGradients(model=SumOfSines(), baseline=0.25, n_steps=16).fit(X)
    display = AttributionDisplay(
        explainer.transform(X),
        X,
        feature_names=list("abcde"),
        base_values=np.full(15, SumOfSines()(np.full((1, 5), 0.25))[0]),
        name="ig",
    )
    return explainer, X, display


def _bits(a):
    return np.asarray(a, dtype=np.float64).view(np.uint64)


def test_shap_plots_render_our_explanation(explained, monkeypatch):
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()
    plt.switch_backend("Agg")  # shap draws through pyplot; this test owns the backend
    try:
        _, X, display = explained
        explanation = to_shap_explanation(display)
        shap.plots.beeswarm(explanation, show=False)
        plt.close("all")
        shap.plots.waterfall(explanation[3], show=False)
        plt.close("all")
        shap.plots.bar(explanation, show=False)
        plt.close("all")
    finally:
        plt.switch_backend(backend)


def test_shap_round_trip_is_exact(explained):
    _, X, display = explained
    explanation = to_shap_explanation(
        display.attributions,
        X,
        base_values=display.base_values,
        feature_names=display.feature_names,
    )
    assert np.array_equal(_bits(explanation.values), _bits(display.attributions))
    back = from_shap_explanation(explanation)
    assert np.array_equal(_bits(back.attributions), _bits(display.attributions))
    assert np.array_equal(_bits(back.base_values), _bits(display.base_values))
    assert np.array_equal(_bits(back.data), _bits(X))
    assert back.feature_names == list("abcde")


def test_reads_explanations_of_one_row_or_one_scalar_base_value():
    one = shap.Explanation(values=np.array([1.0, -2.0]), base_values=0.5, data=np.array([3.0, 4.0]))
    back = from_shap_explanation(one)
    assert back.attributions.tolist() == [[1.0, -2.0]] and back.base_values.tolist() == [0.5]
    shared = shap.Explanation(values=np.ones((3, 2)), base_values=np.float64(2.0))
    assert from_shap_explanation(shared).base_values.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="select an output first"):
        from_shap_explanation(shap.Explanation(values=np.ones((3, 2, 2))))


def test_frames_give_their_column_names():
    frame = pd.DataFrame(np.ones((2, 2)), columns=["height", "width"])
    assert to_shap_explanation(np.zeros((2, 2)), frame).feature_names == ["height", "width"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"attributions": np.ones(3)}, "must be 2-D"),
        ({"attributions": np.ones((2, 3)), "X": np.ones((3, 3))}, "attributions' shape"),
        ({"attributions": np.ones((2, 3)), "base_values": [1.0, 2.0, 3.0]}, "one value per row"),
        ({"attributions": np.ones((2, 3)), "feature_names": ["a"]}, "must have 3 names"),
    ],
)
def test_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        to_shap_explanation(**kwargs)


def test_saved_attributions_reload_identical_with_metadata(tmp_path):
    X = np.random.default_rng(2).uniform(-1, 1, size=(9, 4))
    explainer = SmoothGrad(model=SumOfSines(), noise_scale=0.2, n_samples=7, random_state=11)
    W = explainer.fit(X).transform(X)
    outputs = SumOfSines()(X)
    path = save_attributions(
        tmp_path / "sg.npz",
        W,
        X,
        explainer=explainer,
        feature_names=["p", "q", "r", "s"],
        outputs=outputs,
    )
    saved = load_attributions(path)
    assert np.array_equal(_bits(saved.attributions), _bits(W))  # 0 ulp
    assert np.array_equal(_bits(saved.data), _bits(X))
    assert np.array_equal(_bits(saved.outputs), _bits(outputs))
    assert saved.base_values is None
    assert saved.feature_names == ["p", "q", "r", "s"]
    assert saved.name == "SmoothGrad" and saved.explainer.endswith("SmoothGrad")
    assert saved.random_state == 11 and saved.values_are == "slopes"
    assert saved.params["noise_scale"] == 0.2 and saved.params["n_samples"] == 7
    assert saved.params["model"] == {"repr": repr(explainer.model)}  # not JSON: its repr
    assert set(saved.versions) == {"skexplain", "numpy", "scikit-learn", "python"}
    # the loaded bundle feeds the display and shap directly
    assert to_shap_explanation(saved).feature_names == ["p", "q", "r", "s"]


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 4))))
def test_any_float_round_trips_bit_for_bit(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("rt") / "a.npz"
    save_attributions(path, values, base_values=values[:, 0])
    saved = load_attributions(path)
    assert np.array_equal(
        _bits(saved.attributions), _bits(values)
    )  # NaNs and signed zeros included
    assert np.array_equal(_bits(saved.base_values), _bits(values[:, 0]))


def test_loading_never_unpickles(tmp_path, monkeypatch):
    path = save_attributions(tmp_path / "a.npz", np.eye(3), feature_names=list("xyz"))

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    assert load_attributions(path).feature_names == list("xyz")

    # A file carrying a pickled object (which would run code when unpickled) is refused.
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.npz"
    monkeypatch.undo()
    meta = json.dumps({"format": "skexplain-attributions", "feature_names": None})
    np.savez(
        evil,
        values=np.eye(2),
        metadata=np.frombuffer(meta.encode(), np.uint8),
        data=np.array([Payload()], dtype=object),
        allow_pickle=True,
    )
    monkeypatch.setattr(pickle, "load", refuse)
    with pytest.raises(ValueError, match="holds pickled objects"):
        load_attributions(evil)


def test_non_numeric_rows_are_kept_as_text(tmp_path):
    frame = pd.DataFrame({"colour": ["red", "blue"], "size": [1.5, 2.0]})
    path = save_attributions(tmp_path / "t.npz", np.ones((2, 2)), frame)
    saved = load_attributions(path)
    assert saved.data.tolist() == [["red", "1.5"], ["blue", "2.0"]]
    assert saved.metadata["data"] == "str" and saved.feature_names == ["colour", "size"]


def test_other_files_are_refused(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, values=np.eye(2))
    with pytest.raises(ValueError, match="not a skexplain attributions file"):
        load_attributions(path)
