"""The model adapters: gradients against finite differences, one model in three forms, chunking,
bad model output, cloning and pickling.

Expected values come from outside the adapter under test: central differences written here,
the module's own forward pass, sklearn's ``predict_proba`` and an analytic numpy forward.
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skexplain import CLIME, Gradient, IntegratedGradients, SmoothGrad, VarGrad
from skexplain.functions import SumOfSines
from skexplain.models import (
    DEFAULT_BATCH_SIZE,
    CallableModel,
    ModelAdapter,
    SklearnModel,
    TorchModel,
    as_model,
)


def _mlp(sizes, seed=0, dtype=torch.float64):
    """A tanh MLP with the given layer sizes, randomly initialised."""
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers).to(dtype)


def _forward(module, X, transform=None):
    """The module's own outputs on numpy X, float64 numpy, optionally through softmax & co."""
    with torch.no_grad():
        out = module(torch.as_tensor(X))
        if transform is not None:
            out = transform(out)
    return out.numpy()


def _central_differences(f, X, h=1e-5):
    """d f / d X by central differences, for f: (n, d) -> (n,), written here independently."""
    n, d = X.shape
    grad = np.empty((n, d))
    for j in range(d):
        step = np.zeros(d)
        step[j] = h
        grad[:, j] = (f(X + step) - f(X - step)) / (2 * h)
    return grad


X5 = np.random.default_rng(0).normal(size=(12, 5))


# -- 1. torch gradients against finite differences ------------------------------------------


def test_torch_gradient_matches_central_differences_on_a_smooth_mlp():
    module = _mlp([5, 16, 16, 1])
    model = as_model(module)
    assert isinstance(model, TorchModel) and model.dtype == torch.float64
    expected = _central_differences(lambda Z: _forward(module, Z)[:, 0], X5)
    np.testing.assert_allclose(model.gradient(X5), expected, rtol=0, atol=1e-7)
    np.testing.assert_allclose(model.predict(X5), _forward(module, X5)[:, 0], rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    ("output", "transform"),
    [
        ("probability", lambda out: torch.softmax(out, dim=1)),
        ("log_probability", lambda out: torch.log_softmax(out, dim=1)),
        ("raw", None),
    ],
)
def test_torch_classifier_gradient_of_selected_class_matches_differences(output, transform):
    module = _mlp([5, 16, 4], seed=1)
    model = as_model(module, output=output)
    probs = _forward(module, X5, transform)
    assert probs.shape == (12, 4)
    np.testing.assert_allclose(model.predict_all(X5), probs, rtol=0, atol=1e-14)
    if output == "probability":
        np.testing.assert_allclose(model.predict_all(X5).sum(axis=1), 1.0)
    # one class for all rows, then one class per row
    for target in [2, np.array([0, 1, 2, 3] * 3)]:
        rows = np.arange(12)
        t = np.broadcast_to(target, (12,))

        def f(Z, t=t, rows=rows):
            return _forward(module, Z, transform)[rows, t]

        np.testing.assert_allclose(model.predict(X5, target), f(X5), rtol=0, atol=1e-14)
        np.testing.assert_allclose(
            model.gradient(X5, target), _central_differences(f, X5), rtol=0, atol=1e-7
        )


def test_torch_single_logit_probability_is_the_sigmoid():
    module = _mlp([5, 8, 1], seed=2)
    model = as_model(module, output="probability")
    assert model.resolve_target(X5) is None  # one output: nothing to pick

    def f(Z):
        return _forward(module, Z, torch.sigmoid)[:, 0]

    np.testing.assert_allclose(model.predict(X5), f(X5), atol=1e-14)
    np.testing.assert_allclose(model.gradient(X5), _central_differences(f, X5), atol=1e-7)


def test_resolve_target_none_picks_the_argmax_class_of_each_row():
    module = _mlp([5, 16, 4], seed=3)
    X = np.random.default_rng(4).normal(scale=3.0, size=(60, 5))
    predicted = np.argmax(_forward(module, X), axis=1)
    assert len(np.unique(predicted)) > 1  # the check means something
    for output in ["raw", "probability", "log_probability"]:
        model = as_model(module, output=output)
        np.testing.assert_array_equal(model.resolve_target(X), predicted)
        np.testing.assert_array_equal(model.resolve_target(X, 1), np.ones(60, dtype=int))
    # An explainer with target=None explains each row's predicted class.
    model = as_model(module, output="probability")
    W = Gradient(model=model).fit(X).transform(X)
    np.testing.assert_allclose(W, model.gradient(X, predicted), rtol=0, atol=1e-15)
    assert not np.allclose(W, model.gradient(X, (predicted + 1) % 4))


def test_float32_module_gives_float32_accurate_answers_in_float64():
    module64 = _mlp([5, 16, 3], seed=5)
    module32 = _mlp([5, 16, 3], seed=5, dtype=torch.float32)
    m64 = as_model(module64, output="probability")
    m32 = as_model(module32, output="probability")
    assert m32.dtype == torch.float32
    g32 = m32.gradient(X5, 1)
    assert g32.dtype == np.float64
    np.testing.assert_allclose(g32, m64.gradient(X5, 1), rtol=1e-4, atol=1e-6)
    # the caller's module is not converted or moved
    assert next(module32.parameters()).dtype == torch.float32


@pytest.mark.parametrize(
    "view",
    [lambda X: X[::-1], lambda X: X[:, ::-1], lambda X: X[::2], lambda X: np.asfortranarray(X)],
    ids=["reversed_rows", "reversed_columns", "strided", "fortran"],
)
def test_torch_adapter_accepts_any_numpy_memory_layout(view):
    # torch.as_tensor refuses negative strides: the adapter must copy such views, not fail.
    module = _mlp([5, 8, 2], seed=4)
    model = as_model(module, output="probability")
    Xv = view(X5)
    expected = _forward(module, np.ascontiguousarray(Xv), lambda out: torch.softmax(out, dim=1))
    np.testing.assert_allclose(model.predict_all(Xv), expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(model.predict(Xv, 1), expected[:, 1], rtol=0, atol=1e-14)
    assert model.gradient(Xv, 1).shape == Xv.shape
    W = Gradient(model=model).fit(Xv).transform(Xv)
    assert W.shape == Xv.shape


# -- 2. one model, three forms ------------------------------------------------------------------


def _activation(name):
    if name == "tanh":
        return np.tanh, lambda h: 1 - h**2, torch.nn.Tanh()
    return (lambda z: 1 / (1 + np.exp(-z))), (lambda h: h * (1 - h)), torch.nn.Sigmoid()


class NumpyMLP:
    """The forward pass of a one-hidden-layer sklearn MLPClassifier, with its exact Jacobian."""

    def __init__(self, clf):
        self.W1, self.W2 = clf.coefs_
        self.b1, self.b2 = clf.intercepts_
        self.act, self.dact, _ = _activation(clf.activation)

    def _hidden(self, X):
        return self.act(X @ self.W1 + self.b1)

    def __call__(self, X):
        z = self._hidden(X) @ self.W2 + self.b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def gradient(self, X):  # (n, k, d)
        h = self._hidden(X)
        p = self(X)
        dz = np.einsum("hk,nh,dh->nkd", self.W2, self.dact(h), self.W1)
        return p[:, :, None] * (dz - np.einsum("nk,nkd->nd", p, dz)[:, None, :])


@pytest.fixture(scope="module", params=["tanh", "logistic"])
def iris_mlp(request):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(
            hidden_layer_sizes=(8,), activation=request.param, max_iter=500, random_state=0
        ).fit(X, y)
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 8), _activation(request.param)[2], torch.nn.Linear(8, 3)
    ).double()
    with torch.no_grad():
        module[0].weight.copy_(torch.as_tensor(clf.coefs_[0].T))
        module[0].bias.copy_(torch.as_tensor(clf.intercepts_[0]))
        module[2].weight.copy_(torch.as_tensor(clf.coefs_[1].T))
        module[2].bias.copy_(torch.as_tensor(clf.intercepts_[1]))
    numpy_mlp = NumpyMLP(clf)
    forms = {
        "sklearn": as_model(clf, output="probability"),  # the package default is the log-odds
        "torch": as_model(module, output="probability"),
        "callable_exact": as_model(numpy_mlp),
        "callable_fd": as_model(lambda Z: numpy_mlp(Z)),
    }
    assert isinstance(forms["sklearn"], SklearnModel)
    assert isinstance(forms["callable_exact"], CallableModel)
    assert forms["callable_exact"].gradient_function is not None
    assert forms["callable_fd"].gradient_function is None
    return clf, forms, X[::5]


def test_same_mlp_in_every_form_gives_the_same_predictions(iris_mlp):
    clf, forms, X = iris_mlp
    expected = clf.predict_proba(X)
    for name, model in forms.items():
        np.testing.assert_allclose(model.predict_all(X), expected, rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(model.resolve_target(X), clf.predict(X), err_msg=name)


@pytest.mark.parametrize(
    "explainer",
    [
        Gradient(),
        SmoothGrad(noise_scale=0.3, n_samples=20, random_state=0),
        SmoothGrad(noise="uniform", noise_scale=0.3, n_samples=20, random_state=1),
        CLIME(noise_scale=0.3, n_samples=100, random_state=0),
        IntegratedGradients(baseline=0.5, n_steps=8),
    ],
    ids=repr,
)
def test_same_mlp_in_every_form_gives_the_same_attributions(iris_mlp, explainer):
    _, forms, X = iris_mlp
    results = {
        name: clone(explainer).set_params(model=model).fit(X).transform(X)
        for name, model in forms.items()
    }
    reference = results.pop("torch")  # autograd
    assert np.abs(reference).max() > 1e-3  # nontrivial attributions
    for name, W in results.items():
        np.testing.assert_allclose(W, reference, rtol=0, atol=1e-6, err_msg=name)


# -- 3. chunking ----------------------------------------------------------------------------------


def _models_for_chunking(batch_size):
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(X, y)
    return {
        "torch": as_model(_mlp([4, 8, 3], seed=6), output="probability", batch_size=batch_size),
        "sklearn": as_model(clf, batch_size=batch_size),
        "callable_exact": as_model(SumOfSines(), batch_size=batch_size),
        "callable_fd": as_model(lambda Z: np.sin(Z).sum(axis=1), batch_size=batch_size),
    }


CHUNK_EXPLAINERS = [
    Gradient(),
    SmoothGrad(n_samples=9, noise_scale=0.2, random_state=0),
    VarGrad(n_samples=9, noise_scale=0.2, random_state=0),
    CLIME(n_samples=20, noise_scale=0.2, alpha=0.01, random_state=0),
    IntegratedGradients(n_steps=5, baseline=-0.5),
]


@pytest.mark.parametrize("name", ["torch", "sklearn", "callable_exact", "callable_fd"])
def test_results_do_not_depend_on_batch_size(name):
    X = np.random.default_rng(7).normal(size=(10, 4))  # 10 rows: not a multiple of 7
    results = {}
    for batch_size in [1, 7, None]:
        model = _models_for_chunking(batch_size)[name]
        assert model.batch_size == (DEFAULT_BATCH_SIZE if batch_size is None else batch_size)
        target = model.resolve_target(X)
        out = [model.predict_all(X), model.predict(X, target), model.gradient(X, target)]
        out += [clone(e).set_params(model=model).fit(X).transform(X) for e in CHUNK_EXPLAINERS]
        results[batch_size] = out
    for batch_size in [7, None]:
        for a, b in zip(results[1], results[batch_size], strict=True):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


class _RecordingModel:
    """sin-sum model that records how many rows each call receives."""

    def __init__(self):
        self.sizes = []

    def __call__(self, X):
        self.sizes.append(len(X))
        return np.sin(X).sum(axis=1)


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_each_model_call_sees_a_bounded_number_of_rows(batch_size):
    d, n_samples = 3, 5
    X = np.random.default_rng(8).normal(size=(23, d))
    recorder = _RecordingModel()
    model = as_model(recorder, batch_size=batch_size)
    model.predict(X)
    assert max(recorder.sizes) <= batch_size
    assert sum(recorder.sizes) == 23
    recorder.sizes.clear()
    CLIME(model=model, n_samples=n_samples, random_state=0).fit(X).transform(X)
    # a chunk holds whole rows: at most batch_size evaluations, or one row's n_samples copies
    assert max(recorder.sizes) <= max(batch_size, n_samples)
    assert sum(recorder.sizes) == 23 + 23 * n_samples  # resolve_target, then the copies
    recorder.sizes.clear()
    model.gradient(X)  # finite differences: 2 d evaluations per row
    assert max(recorder.sizes) <= max(batch_size, 2 * d)
    assert sum(recorder.sizes) == 23 * 2 * d


# -- 4. bad model output ------------------------------------------------------------------------


X3 = np.random.default_rng(9).normal(size=(6, 3))


def _nan_rows(X):
    out = np.sin(X).sum(axis=1)
    out[X[:, 0] > 0] = np.nan
    return out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda X: np.full(len(X), np.nan), "NaN"),
        (_nan_rows, "NaN"),
        (lambda X: np.full(len(X), np.inf), "inf"),
        (lambda X: np.zeros(len(X) + 1), r"must have shape .* got shape \(\d+,\)"),
        (lambda X: np.zeros((len(X), 2, 2)), r"must have shape .* got shape \(\d+, 2, 2\)"),
        (lambda X: np.float64(1.0), r"must have shape .* got shape \(\)"),
    ],
    ids=["all_nan", "some_nan", "inf", "n_plus_one", "n_2_2", "scalar"],
)
def test_bad_callable_output_raises_a_clear_value_error(function, message):
    assert np.any(X3[:, 0] > 0)
    model = as_model(function)
    with pytest.raises(ValueError, match=message):
        model.predict(X3)
    if "shape" in message:  # the error names the number of rows the model was given
        with pytest.raises(ValueError, match=r"for 6 input rows"):
            model.predict(X3)
    with pytest.raises(ValueError, match=message):
        model.gradient(X3)  # finite differences see it too
    for explainer in [Gradient(model=function), SmoothGrad(model=function, n_samples=4)]:
        with pytest.raises(ValueError, match=message):
            explainer.fit(X3).transform(X3)


@pytest.mark.parametrize(
    ("gradient", "message"),
    [
        (lambda X: np.full(X.shape, np.nan), "NaN"),
        (lambda X: np.zeros((len(X), X.shape[1] + 1)), "gradient must have shape"),
        (lambda X: np.zeros(len(X)), "gradient must have shape"),
    ],
    ids=["nan", "wrong_width", "one_dimensional"],
)
def test_bad_callable_gradient_raises_a_clear_value_error(gradient, message):
    model = as_model(lambda X: np.sin(X).sum(axis=1), gradient=gradient)
    with pytest.raises(ValueError, match=message):
        model.gradient(X3)


class _Broken(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.scale = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))

    def forward(self, x):
        if self.kind == "nan":
            return x.sum(dim=1) * torch.nan
        if self.kind == "shape":
            return torch.zeros(x.shape[0] + 1, dtype=x.dtype) * self.scale
        if self.kind == "tuple":
            return (x.sum(dim=1),)
        return torch.sqrt(x.abs()).sum(dim=1) * self.scale  # infinite gradient at 0


@pytest.mark.parametrize(
    ("kind", "message"),
    [("nan", "NaN"), ("shape", "shape"), ("tuple", "tensor"), ("sqrt", "gradient")],
)
def test_bad_torch_output_raises_a_clear_value_error(kind, message):
    model = as_model(_Broken(kind))
    X = X3.copy()
    X[:, 1] = 0.0  # sqrt's gradient is infinite there
    with pytest.raises(ValueError, match=message):
        if kind == "sqrt":
            model.gradient(X)
        else:
            model.predict(X)


def test_unfitted_sklearn_estimator_raises_not_fitted_error():
    for estimator in [LinearRegression(), MLPClassifier()]:
        with pytest.raises(NotFittedError):
            as_model(estimator)
        with pytest.raises(NotFittedError):
            Gradient(model=estimator).fit(X3)


@pytest.mark.parametrize("obj", [42, "model", object(), np.zeros(3)], ids=repr)
def test_an_object_that_is_no_model_raises_type_error(obj):
    with pytest.raises(TypeError, match="model must be"):
        as_model(obj)
    with pytest.raises(TypeError, match="model must be"):
        SmoothGrad(model=obj).fit(X3)


def test_unknown_output_raises_value_error_naming_output():
    lr = LinearRegression().fit(X3, X3[:, 0])
    clf = LogisticRegression().fit(X3, X3[:, 0] > 0)
    cases = [
        (_mlp([3, 2]), "proba"),
        (lr, "logit"),
        (lr, "probability"),  # LinearRegression has no predict_proba
        (clf, "raw"),
        (SumOfSines(), "probability"),
    ]
    for obj, output in cases:
        with pytest.raises(ValueError, match="output"):
            as_model(obj, output=output)


def test_several_outputs_without_a_target_raise_where_one_is_needed():
    X = X5[:, :4]
    clf = LogisticRegression().fit(X, np.arange(12) % 3)

    def function(Z):
        return np.stack([np.sin(Z).sum(axis=1), np.cos(Z).sum(axis=1)], axis=1)

    def jacobian(Z):
        return np.stack([np.cos(Z), -np.sin(Z)], axis=1)

    models = [
        as_model(_mlp([4, 3]), output="probability"),
        as_model(clf),
        as_model(function),
        as_model(function, gradient=jacobian),
    ]
    for model in models:
        with pytest.raises(ValueError, match="target"):
            model.predict(X)
        with pytest.raises(ValueError, match="target"):
            model.gradient(X)
        with pytest.raises(ValueError, match="target"):
            model.predict(X, target=5)  # out of range
        with pytest.raises(ValueError, match="target"):
            model.predict(X, target=np.zeros(3, dtype=int))  # one per row needed
        with pytest.raises(ValueError, match="target"):
            model.predict(X, target=-1)
    # the callable's Jacobian picks the asked output
    np.testing.assert_allclose(models[3].gradient(X, 1), -np.sin(X))
    np.testing.assert_allclose(models[2].gradient(X, 1), -np.sin(X), atol=1e-8)


@pytest.mark.parametrize(("batch_size", "error"), [(0, ValueError), (2.5, TypeError)])
def test_invalid_batch_size(batch_size, error):
    with pytest.raises(error, match="batch_size"):
        as_model(SumOfSines(), batch_size=batch_size)


def test_options_given_to_an_adapter_or_gradient_to_a_module_are_rejected():
    adapter = as_model(SumOfSines())
    assert as_model(adapter) is adapter
    with pytest.raises(ValueError, match="ModelAdapter"):
        as_model(adapter, batch_size=3)
    with pytest.raises(ValueError, match="gradient"):
        as_model(_mlp([3, 1]), gradient=lambda X: X)
    with pytest.raises(TypeError, match="gradient"):
        as_model(SumOfSines(), gradient="exact")


def test_sklearn_linear_models_use_their_exact_gradient():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(30, 4))
    lr = LinearRegression().fit(X, X @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(size=30))
    g = as_model(lr).gradient(X[:3])
    np.testing.assert_array_equal(g, np.broadcast_to(lr.coef_, (3, 4)))
    clf = LogisticRegression().fit(X, np.arange(30) % 3)
    model = as_model(clf, output="decision_function")
    np.testing.assert_array_equal(model.gradient(X[:3], 2), np.broadcast_to(clf.coef_[2], (3, 4)))


def test_gradient_of_a_classifiers_predicted_label_is_not_its_coefficients():
    # output="predict" explains the predicted label, a step function of x: its gradient is zero
    # away from the decision boundary, whatever the number of classes (the multiclass case
    # already gives zero by finite differences). The binary case must agree, or refuse the
    # output at construction with a ValueError naming it.
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 3))
    clf = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    try:
        model = as_model(clf, output="predict")
    except ValueError as exc:
        assert "output" in str(exc)
        return
    far = X[np.abs(clf.decision_function(X)) > 1.0][:5]
    expected = _central_differences(model.predict, far, h=1e-4)
    np.testing.assert_array_equal(expected, 0.0)
    np.testing.assert_allclose(model.gradient(far), expected, atol=1e-12)


# -- 5. clone and pickle -----------------------------------------------------------------------


def test_clone_keeps_the_same_fitted_sklearn_model():
    lr = LinearRegression().fit(X3, X3 @ np.array([1.0, 2.0, 3.0]))
    explainer = SmoothGrad(model=lr, n_samples=5, random_state=0).fit(X3)
    cloned = clone(explainer)
    assert cloned.model is lr
    assert not hasattr(cloned, "model_")  # clone is unfitted, its model is not
    np.testing.assert_array_equal(cloned.fit(X3).transform(X3), explainer.transform(X3))
    assert cloned.get_params()["random_state"] == 0


def test_clone_keeps_the_same_torch_module_and_adapter():
    module = _mlp([3, 4, 1])
    assert clone(Gradient(model=module)).model is module
    adapter = as_model(module)
    assert adapter.__sklearn_clone__() is adapter
    assert clone(adapter) is adapter
    assert clone(CLIME(model=adapter)).model is adapter
    assert isinstance(adapter, ModelAdapter)


@pytest.mark.parametrize("output", ["raw", "probability"])
def test_pickled_fitted_explainer_with_torch_model_gives_the_same_attributions(output):
    module = _mlp([3, 8, 2], seed=12)
    for model in [module, as_model(module, output=output)]:
        explainer = SmoothGrad(model=model, n_samples=10, random_state=0, target=1).fit(X3)
        expected = explainer.transform(X3)
        loaded = pickle.loads(pickle.dumps(explainer))
        assert loaded.model_.dtype == torch.float64
        assert loaded.model_.output == explainer.model_.output
        np.testing.assert_array_equal(loaded.transform(X3), expected)
    # the pickled module is the caller's, unchanged, and still on its device
    assert next(module.parameters()).device.type == "cpu"


def test_pickled_fitted_explainer_with_sklearn_model_gives_the_same_attributions():
    clf = LogisticRegression().fit(X5, np.arange(12) % 3)
    explainer = CLIME(model=clf, n_samples=50, random_state=0).fit(X5)
    loaded = pickle.loads(pickle.dumps(explainer))
    np.testing.assert_array_equal(loaded.transform(X5), explainer.transform(X5))


def test_auto_output_of_vote_classifiers_is_the_probability():
    """Trees, forests, bagged trees and neighbours vote: their probability is exactly 0 or 1
    wherever the votes agree, where the log-odds are infinite (clamped at +-708 before, which
    made Shapley values of a forest run to hundreds). "auto" explains their probability;
    boosted trees and smooth classifiers keep the log-odds."""
    from sklearn.ensemble import (
        BaggingClassifier,
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    votes = {
        "tree": DecisionTreeClassifier(random_state=0),
        "forest": make_pipeline(StandardScaler(), RandomForestClassifier(10, random_state=0)),
        "bagging": BaggingClassifier(n_estimators=5, random_state=0),
        "neighbours": KNeighborsClassifier(),
    }
    for name, estimator in votes.items():
        estimator.fit(X, y)
        adapter = as_model(estimator)
        assert adapter.output == "probability", name
        P = estimator.predict_proba(X)
        assert (P.max(axis=1) == 1.0).any(), name  # saturated rows exist: the reason
        np.testing.assert_array_equal(adapter.predict(X, target=1), P[:, 1])
    margins = {
        "boosting": GradientBoostingClassifier(n_estimators=5, random_state=0),
        "histogram boosting": HistGradientBoostingClassifier(max_iter=5),
        "logistic": LogisticRegression(max_iter=1000),
        "bagged logistic": BaggingClassifier(LogisticRegression(max_iter=1000), n_estimators=3),
    }
    for name, estimator in margins.items():
        assert as_model(estimator.fit(X, y)).output == "logit", name


@pytest.mark.parametrize("keep_inputs", [True, False])
def test_query_perturbed_gives_the_model_its_inputs_uncopied_only_when_nobody_reads_them(
    keep_inputs,
):
    # A model that normalizes its input in place: with keep_inputs=True it works on a copy and
    # reduce sees the perturbed inputs as made; with False it gets them as they are (no copy)
    # and reduce gets None instead of the overwritten inputs. The values are the same.
    received = []

    def model(Z):
        received.append(Z)
        Z -= 1.0  # in place
        return Z.sum(axis=1)

    adapter = as_model(model)
    X = np.arange(6.0).reshape(3, 2)
    made = []

    def expand(Xc, rows):
        Z = np.repeat(Xc[:, None, :], 4, axis=1) * np.arange(1.0, 5.0)[None, :, None]
        made.append(Z)
        return Z

    seen = []

    def reduce(V, Z, Xc, rows):
        seen.append(Z if Z is None else Z.copy())
        return V

    values = adapter.query_perturbed(
        X, None, expand, reduce, n_per_row=4, kind="predict", keep_inputs=keep_inputs
    )
    expected = (X[:, None, :] * np.arange(1.0, 5.0)[None, :, None]).sum(axis=2) - 2.0
    np.testing.assert_allclose(values, expected)
    shares = np.shares_memory(received[0], made[0])
    if keep_inputs:
        assert not shares
        np.testing.assert_array_equal(seen[0], made[0])  # unchanged by the model
    else:
        assert shares
        assert seen[0] is None
