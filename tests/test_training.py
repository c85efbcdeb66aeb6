"""ID-ExpO (Yoshikawa & Iwata 2024): soft metrics, gradients through explainers, the classifier."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from _examples import load_example
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skexplain.metrics import deletion_auc, insertion_auc, make_explanation_scorer, sensitivity_n
from skexplain.models import as_model
from skexplain.training import IDExpOClassifier, valscore
from skexplain.training._explainers import draw_masks, explain_batch, mask_kernel
from skexplain.training._soft_metrics import idexpo_regularizers, n_curve_steps, soft_curves

# Two cores shared with other jobs: one thread per test process is much faster for tiny nets.
torch.set_num_threads(1)

TINY = dict(
    hidden_layer_sizes=(16,),
    n_masks=8,
    pretrain_epochs=30,
    pretrain_learning_rate=0.01,
    finetune_epochs=2,
    batch_size=64,
    random_state=0,
)


def _network(d, k, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(d, 12), torch.nn.Tanh(), torch.nn.Linear(12, k))
    return net.to(dtype)


# -- (a) soft insertion/deletion converge to the hard metrics ---------------------------------
@pytest.mark.parametrize("fraction", [0.3, 0.5, 1.0])
def test_soft_curves_converge_to_hard_metrics(fraction):
    rng = np.random.RandomState(0)
    n, d, k = 6, 9, 3
    net = _network(d, k)
    X = rng.normal(size=(n, d))
    phi = rng.normal(size=(n, d))  # distinct values: the top-s sets are unambiguous
    baseline = rng.normal(size=d) * 0.1
    model = as_model(net, output="probability")
    target = model.resolve_target(X)
    kw = dict(fraction=fraction, step=1, baseline=baseline, target=target)
    hard_ins = insertion_auc(model, X, phi, **kw)
    hard_del = deletion_auc(model, X, phi, **kw)

    S = n_curve_steps(fraction, d)
    errors = []
    for temperature in [1.0, 10.0, 100.0, 1e4]:
        log_ins, log_del = soft_curves(
            net,
            torch.as_tensor(X),
            torch.as_tensor(phi),
            torch.as_tensor(target),
            torch.as_tensor(baseline),
            S,
            temperature=temperature,
        )
        soft_ins = log_ins.exp().mean(1).detach().numpy()
        soft_del = log_del.exp().mean(1).detach().numpy()
        errors.append(max(np.abs(soft_ins - hard_ins).max(), np.abs(soft_del - hard_del).max()))
    assert errors[0] > 1e-3  # the paper's temperature is soft
    assert all(a >= b for a, b in zip(errors[:-1], errors[1:], strict=True)), errors
    assert errors[-1] < 1e-8, errors


def test_regularizers_are_the_papers_equations():
    rng = np.random.RandomState(1)
    X, phi = torch.as_tensor(rng.normal(size=(4, 5))), torch.as_tensor(rng.normal(size=(4, 5)))
    y, b = torch.tensor([0, 1, 1, 0]), torch.zeros(5, dtype=torch.float64)
    net = _network(5, 2)
    log_p_x = torch.log_softmax(net(X), 1).gather(1, y[:, None])[:, 0]
    omega_ins, omega_del = idexpo_regularizers(net, X, phi, y, b, 3, log_p_x=log_p_x)
    log_ins, log_del = soft_curves(net, X, phi, y, b, 3)
    torch.testing.assert_close(omega_ins, -log_ins.mean(1))  # eq. 9
    torch.testing.assert_close(omega_del, -(log_p_x[:, None] - log_del).mean(1))  # eq. 10


def test_temperature_is_per_sample_inverse_mean_gap():
    from skexplain.training._soft_metrics import soft_masks

    phi = torch.tensor([[3.0, 2.0, 1.0, 0.0], [30.0, 20.0, 10.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    r = soft_masks(phi, 2)
    # T = 3 / 3 = 1 and 3 / 30: the same masks once values are scaled; ties give 1/2
    torch.testing.assert_close(r[0], r[1])
    torch.testing.assert_close(r[0, 0], torch.sigmoid(torch.tensor([0.5, -0.5, -1.5, -2.5])))
    assert torch.all(r[2] == 0.5)


# -- (b) gradients reach the parameters through the explainer ---------------------------------
@pytest.mark.parametrize("explainer", ["soft_lime", "soft_kernel_shap", "gradient"])
def test_gradients_reach_parameters_through_the_explainer(explainer):
    rng = np.random.RandomState(0)
    X = torch.as_tensor(rng.normal(size=(5, 6)))
    y = torch.tensor([0, 1, 2, 1, 0])
    b = torch.zeros(6, dtype=torch.float64)
    net = _network(6, 3)
    masks = draw_masks(40, 6, torch.Generator().manual_seed(0), dtype=torch.float64)

    def phi_of():
        return explain_batch(net, X, y, explainer=explainer, masks=masks, baseline=b)

    # the L2 term depends on the parameters only through the explanation
    net.zero_grad()
    (phi_of() ** 2).sum().backward()
    first = net[0].weight.grad
    assert first is not None and torch.count_nonzero(first) > 0

    # Omega_ins: its gradient differs once phi is detached, so part of it flows through phi
    def omega_grad(detach):
        net.zero_grad()
        phi = phi_of()
        phi = phi.detach() if detach else phi
        log_p_x = torch.log_softmax(net(X), 1).gather(1, y[:, None])[:, 0]
        omega_ins, omega_del = idexpo_regularizers(net, X, phi, y, b, 3, log_p_x=log_p_x)
        (omega_ins + omega_del).sum().backward()
        return net[0].weight.grad.clone()

    through_phi = omega_grad(False) - omega_grad(True)
    assert torch.linalg.norm(through_phi) > 1e-8


def test_lime_closed_form_is_weighted_ridge():
    rng = np.random.RandomState(0)
    net = _network(4, 2)
    X = torch.as_tensor(rng.normal(size=(2, 4)))
    y = torch.tensor([1, 0])
    b = torch.zeros(4, dtype=torch.float64)
    Z = draw_masks(30, 4, torch.Generator().manual_seed(3), dtype=torch.float64)
    for kind in ["soft_lime", "soft_kernel_shap"]:
        phi = explain_batch(net, X, y, explainer=kind, masks=Z, baseline=b, alpha=0.01)
        K = mask_kernel(Z, kind).numpy()
        for i in range(2):
            inputs = Z * X[i] + (1 - Z) * b
            f = torch.softmax(net(inputs), 1)[:, y[i]].detach().numpy()
            Zn = Z.numpy()
            expected = np.linalg.solve(Zn.T @ (K[:, None] * Zn) + 0.01 * np.eye(4), Zn.T @ (K * f))
            np.testing.assert_allclose(phi[i].detach().numpy(), expected, rtol=1e-8)
    assert torch.all(Z[0] == 1)


def test_shapley_kernel_weights():
    Z = torch.tensor([[1.0, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    w = mask_kernel(Z, "soft_kernel_shap")
    # (d - 1) / (C(d, s) s (d - s)): s = 1 -> 3/12, s = 2 -> 3/24, ratio 2
    assert w[1] / w[2] == pytest.approx(2.0)
    assert w[0] == w[3] and w[0] > 100 * w[1]


# -- (c) the paper's claim, in direction, on a small fast configuration -----------------------
def _breast_cancer(seed, loader=load_breast_cancer):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _compare(
    seeds,
    explainer="lime",
    lam=0.1,
    finetune_epochs=5,
    n_masks=50,
    loader=load_breast_cancer,
    hidden_layer_sizes=(64, 64),
    pretrain_epochs=20,
):
    """Test accuracy, insertion, one-minus-deletion and sensitivity-n (n = 20% of the features)
    after fine-tuning with lambda = 0 and lambda = lam, from the same pretrained network; means
    over seeds."""
    results = {0.0: [], lam: []}
    for seed in seeds:
        X_train, X_test, y_train, y_test = _breast_cancer(seed, loader)
        common = dict(
            # the tests' short names, as the classifier's current (not deprecated) ones
            explainer={"lime": "soft_lime", "kernelshap": "soft_kernel_shap"}.get(
                explainer, explainer
            ),
            hidden_layer_sizes=hidden_layer_sizes,
            n_masks=n_masks,
            batch_size=64,
            random_state=seed,
        )
        pretrained = IDExpOClassifier(pretrain_epochs=pretrain_epochs, finetune_epochs=0, **common)
        pretrained.fit(X_train, y_train)
        for value in results:
            clf = IDExpOClassifier(
                pretrained.module_,
                pretrain_epochs=0,
                finetune_epochs=finetune_epochs,
                lambda_insertion=value,
                lambda_deletion=value,
                lambda_l2=0.0,  # the paper's mechanism at the paper's tabular learning rate,
                learning_rate=0.01,  # not the classifier's defaults (tested further down)
                **common,
            ).fit(X_train, y_train)
            phi = clf.explain(X_test)
            n = max(1, round(0.2 * X_test.shape[1]))
            results[value].append(
                (
                    clf.score(X_test, y_test),
                    insertion_auc(clf, X_test, phi, fraction=0.5, output="probability").mean(),
                    1 - deletion_auc(clf, X_test, phi, fraction=0.5, output="probability").mean(),
                    np.nanmean(sensitivity_n(clf, X_test, phi, n_features=n, random_state=0)),
                )
            )
    return {k: np.mean(v, axis=0) for k, v in results.items()}


def test_idexpo_lime_improves_insertion_and_deletion_on_breast_cancer():
    means = _compare(seeds=[0, 1])
    (acc0, ins0, odel0, _), (acc1, ins1, odel1, _) = means[0.0], means[0.1]
    numbers = f"CE-only {means[0.0].round(4)}, ID-ExpO {means[0.1].round(4)} (acc, ins, 1-del)"
    assert ins1 > ins0, numbers
    assert odel1 > odel0, numbers
    assert acc1 >= acc0 - 0.02, numbers


@pytest.mark.parametrize("explainer", ["lime", "kernelshap"])
def test_idexpo_improves_insertion_deletion_and_sensitivity_n_on_digits(explainer):
    """digits' 64 pixels as tabular features, one seed, a small MLP, three epochs."""
    means = _compare(
        seeds=[0],
        explainer=explainer,
        loader=load_digits,
        n_masks=40,
        finetune_epochs=3,
    )
    (_, ins0, odel0, sens0), (_, ins1, odel1, sens1) = means[0.0], means[0.1]
    numbers = f"CE-only {means[0.0].round(4)}, ID-ExpO {means[0.1].round(4)} (acc, ins, 1-del, sn)"
    assert ins1 > ins0 and odel1 > odel0 and sens1 > sens0, numbers


_WINE = {}


def _wine(explainer):
    """wine (13 features, 142 training rows): one seed, MLP 32x32, 30 epochs (cached)."""
    if explainer not in _WINE:
        _WINE[explainer] = _compare(
            seeds=[0],
            explainer=explainer,
            loader=load_wine,
            hidden_layer_sizes=(32, 32),
            finetune_epochs=30,
        )
    return _WINE[explainer]


@pytest.mark.parametrize("explainer", ["lime", "kernelshap"])
def test_idexpo_improves_insertion_on_wine(explainer):
    means = _wine(explainer)
    numbers = f"CE-only {means[0.0].round(4)}, ID-ExpO {means[0.1].round(4)} (acc, ins, 1-del, sn)"
    assert means[0.1][1] > means[0.0][1], numbers
    assert means[0.1][0] >= means[0.0][0] - 0.02, numbers


@pytest.mark.parametrize(
    "explainer",
    [
        pytest.param(
            "lime",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured (seed 0, 30 epochs): 1-del 0.3507 -> 0.3486, sensitivity-n "
                "0.6489 -> 0.5780; insertion 0.838 -> 0.880",
            ),
        ),
        pytest.param(
            "kernelshap",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured (seed 0, 30 epochs): 1-del 0.2502 -> 0.2415, sensitivity-n "
                "0.4083 -> 0.3765; insertion 0.774 -> 0.795",
            ),
        ),
    ],
)
def test_idexpo_improves_deletion_and_sensitivity_n_on_wine(explainer):
    means = _wine(explainer)
    numbers = f"CE-only {means[0.0].round(4)}, ID-ExpO {means[0.1].round(4)} (acc, ins, 1-del, sn)"
    assert means[0.1][2] > means[0.0][2] and means[0.1][3] > means[0.0][3], numbers


_FIVE_SEEDS = {}


def _five_seeds(explainer):
    """The slow configuration: 5 seeds, M = 200, up to 30 fine-tuning epochs (cached)."""
    if explainer not in _FIVE_SEEDS:
        means = _compare(seeds=range(5), explainer=explainer, finetune_epochs=30, n_masks=200)
        print(f"{explainer}: CE-only {means[0.0].round(4)}, ID-ExpO {means[0.1].round(4)}")
        _FIVE_SEEDS[explainer] = means
    return _FIVE_SEEDS[explainer]


@pytest.mark.slow
@pytest.mark.parametrize("explainer", ["lime", "kernelshap"])
def test_idexpo_improves_insertion_and_deletion_five_seeds(explainer):
    means = _five_seeds(explainer)
    numbers = f"CE-only {means[0.0].round(4)}, ID-ExpO {means[0.1].round(4)} (acc, ins, 1-del, sn)"
    assert means[0.1][1] > means[0.0][1] and means[0.1][2] > means[0.0][2], numbers


@pytest.mark.slow
@pytest.mark.parametrize(
    "explainer",
    [
        pytest.param(
            "lime",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured: CE-only acc 0.9754, ID-ExpO (lambda 0.1, eta 2) acc 0.9263 "
                "(ins 0.947 -> 1.000, 1-del 0.230 -> 0.931); valscore with eta = 2 trades "
                "accuracy for faithfulness here",
            ),
        ),
        pytest.param(
            "kernelshap",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured: CE-only acc 0.9772, ID-ExpO (lambda 0.1, eta 2) acc 0.9316 "
                "(ins 0.941 -> 0.996, 1-del 0.152 -> 0.799)",
            ),
        ),
    ],
)
def test_idexpo_keeps_accuracy_five_seeds(explainer):
    means = _five_seeds(explainer)
    numbers = f"CE-only {means[0.0].round(4)}, ID-ExpO {means[0.1].round(4)} (acc, ins, 1-del)"
    assert means[0.1][0] >= means[0.0][0] - 0.02, numbers


# -- (c') the defaults: the paper's and the released configuration's ------------------------
def test_l2_term_is_the_mean_square_of_the_attributions():
    """lambda_l2 weighs ||phi||^2 / n_features (the released code's ||phi||^2 / numel)."""
    X_train, _, y_train, _ = _breast_cancer(0)
    clf = IDExpOClassifier(**{**TINY, "explainer": "gradient"}).fit(X_train, y_train)
    X, y = clf._tensor(X_train[:16]), torch.as_tensor(y_train[:16])
    b = clf._tensor(np.zeros(X.shape[1]))
    generator = torch.Generator().manual_seed(0)
    with_l2 = clf.set_params(lambda_insertion=0.0, lambda_deletion=0.0, lambda_l2=2.0)
    loss = with_l2._loss(clf.module_, X, y, b, 3, generator)
    ce = torch.nn.functional.cross_entropy(clf.module_(X), y)
    phi = clf._explain(clf.module_, X, y, None, b, create_graph=False)
    torch.testing.assert_close(loss, ce + 2.0 * (phi**2).sum(dim=1).mean() / X.shape[1])


def test_learning_rate_auto_is_the_papers_tabular_and_image_rate():
    X_train, _, y_train, _ = _breast_cancer(0)
    tabular = IDExpOClassifier(**TINY).fit(X_train[:64], y_train[:64])
    assert tabular._learning_rate() == 1e-3
    X, y = load_digits(n_class=2, return_X_y=True)
    images = IDExpOClassifier(
        explainer="gradcam",
        image_shape=(8, 8),
        hidden_layer_sizes=(8,),
        pretrain_epochs=1,
        finetune_epochs=0,
        random_state=0,
    ).fit(X[:40] / 16, y[:40])
    assert images._learning_rate() == 1e-4
    assert IDExpOClassifier(learning_rate=0.05)._learning_rate() == 0.05


_DEFAULTS = {}


def _defaults_against_ce_only(seeds=(0, 1, 2)):
    """``IDExpOClassifier()`` as a new user runs it on breast_cancer, against the same classifier
    with all lambdas 0 (cross-entropy-only fine-tuning); test accuracy, insertion and 1-deletion
    (S = 50%), means over seeds (cached)."""
    if not _DEFAULTS:
        for name, params in (("ID-ExpO", {}), ("CE-only", dict(lambda_insertion=0.0))):
            if name == "CE-only":
                params.update(lambda_deletion=0.0, lambda_l2=0.0)
            rows = []
            for seed in seeds:
                X_train, X_test, y_train, y_test = _breast_cancer(seed)
                clf = IDExpOClassifier(random_state=seed, **params).fit(X_train, y_train)
                phi = clf.explain(X_test)
                rows.append(
                    (
                        clf.score(X_test, y_test),
                        insertion_auc(clf, X_test, phi, fraction=0.5).mean(),
                        1 - deletion_auc(clf, X_test, phi, fraction=0.5).mean(),
                    )
                )
            _DEFAULTS[name] = np.mean(rows, axis=0)
    return _DEFAULTS


@pytest.mark.slow
def test_defaults_keep_accuracy_and_raise_insertion_and_one_minus_deletion():
    """Measured (seeds 0, 1, 2; about 4 CPU minutes per default fit): CE-only acc 0.9649, ins
    0.9512, 1-del 0.2176; IDExpOClassifier() acc 0.9708, ins 0.9555, 1-del 0.2784."""
    means = _defaults_against_ce_only()
    ce, idexpo = means["CE-only"], means["ID-ExpO"]
    numbers = f"CE-only {ce.round(4)}, ID-ExpO {idexpo.round(4)} (acc, ins, 1-del)"
    assert idexpo[0] >= ce[0] - 0.02, numbers
    assert idexpo[1] > ce[1] and idexpo[2] > ce[2], numbers


# -- (d) scikit-learn compatibility -----------------------------------------------------------
@parametrize_with_checks(
    [
        IDExpOClassifier(**TINY),
        IDExpOClassifier(**{**TINY, "explainer": "gradient"}),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _fitted():
    X, y = make_blobs(n_samples=90, centers=3, n_features=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    return IDExpOClassifier(**TINY).fit(X, y), X, y


def test_pickle_round_trip_and_as_model():
    clf, X, y = _fitted()
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.explain(X), clf.explain(X))
    assert isinstance(pickle.dumps(clf), bytes)
    assert not isinstance(clf.module_, bytes)  # pickling leaves the fitted network in place
    adapter = as_model(clf, output="probability")  # the package default is the log-odds
    np.testing.assert_allclose(adapter.predict_all(X), clf.predict_proba(X))
    assert clf.explain(X).shape == X.shape
    # repeatable with an integer random_state
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(X), clf.predict_proba(X))


def test_fit_records_history_and_selects_by_valscore():
    clf, X, y = _fitted()
    tuned = [h for h in clf.history_ if h["phase"] == "finetune"]
    assert len(tuned) == clf.n_iter_ == 2
    best = max(tuned, key=lambda h: h["valscore"])
    assert clf.best_epoch_ == best["epoch"] and clf.best_valscore_ == best["valscore"]
    assert best["valscore"] == pytest.approx(
        2.0 * best["accuracy"] + best["insertion"] + 1 - best["deletion"]
    )
    assert {h["phase"] for h in clf.history_} == {"pretrain", "finetune"}


def test_early_stopping_and_verbose(capsys):
    X, y = make_blobs(n_samples=60, centers=2, n_features=3, random_state=0)
    # the settings this was measured with (the defaults before they followed the paper)
    old_defaults = dict(
        learning_rate=0.01, lambda_insertion=1.0, lambda_deletion=1.0, lambda_l2=0.0
    )
    clf = IDExpOClassifier(
        **{**TINY, **old_defaults, "finetune_epochs": 30, "patience": 1, "verbose": 1}
    )
    clf.fit(X, y)
    assert clf.n_iter_ < 30
    assert "IDExpOClassifier" in capsys.readouterr().err  # the tqdm bar


def test_grid_search_tunes_lambda_with_an_explanation_scorer():
    X, y = make_blobs(n_samples=80, centers=2, n_features=4, random_state=1)
    X = StandardScaler().fit_transform(X)

    # the classifier is its own model: insertion of its explanations of its predicted classes
    def explained_insertion(estimator, X):
        return insertion_auc(
            estimator, X, estimator.explain(X), fraction=estimator.fraction, output="probability"
        )

    search = GridSearchCV(
        IDExpOClassifier(**TINY),
        {"lambda_insertion": [0.0, 0.1]},
        scoring={
            "insertion": make_explanation_scorer(explained_insertion),
            "valscore": valscore,
            "accuracy": "accuracy",
        },
        refit="insertion",
        cv=2,
    ).fit(X, y)
    assert search.best_params_["lambda_insertion"] in (0.0, 0.1)
    scores = search.cv_results_["mean_test_insertion"]
    assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))
    assert np.all(np.isfinite(search.cv_results_["mean_test_valscore"]))


# -- (e) bad input ----------------------------------------------------------------------------
def test_one_class_is_refused():
    X = np.random.RandomState(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="at least two classes; y has one class"):
        IDExpOClassifier(**TINY).fit(X, np.ones(10))


def test_unknown_explainer_is_refused():
    X, y = make_blobs(n_samples=20, centers=2, random_state=0)
    with pytest.raises(ValueError, match="'explainer' parameter .* among") as info:
        IDExpOClassifier(**{**TINY, "explainer": "gradcam++"}).fit(X, y)
    names = ("'soft_lime'", "'soft_kernel_shap'", "'gradient'", "'lime' (deprecated)")
    assert all(name in str(info.value) for name in names)


def test_former_names_are_deprecated_aliases_of_the_soft_explainers():
    X, y = make_blobs(n_samples=30, n_features=4, centers=2, random_state=0)
    for old, new in [("lime", "soft_lime"), ("kernelshap", "soft_kernel_shap")]:
        with pytest.warns(FutureWarning, match=f"explainer='{old}' is deprecated: use '{new}'"):
            former = IDExpOClassifier(**{**TINY, "explainer": old}).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the new name warns nothing
            current = IDExpOClassifier(**{**TINY, "explainer": new}).fit(X, y)
        np.testing.assert_array_equal(former.explain(X), current.explain(X))
        assert former.get_params()["explainer"] == old  # the parameter is stored untouched


def test_module_output_width_must_match_the_classes():
    X, y = make_blobs(n_samples=30, centers=3, n_features=4, random_state=0)
    with pytest.raises(ValueError, match=r"logits of shape .*\(n, 3\).*got \(1, 2\)"):
        IDExpOClassifier(torch.nn.Linear(4, 2), **TINY).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must be a sequence of positive"),
        ({"fraction": 0.0}, "'fraction' parameter"),
        ({"baseline": [0.0, 1.0]}, r"baseline must be a scalar or have shape \(3,\)"),
        ({"device": "nonsense"}, "device must be 'auto' or a torch device"),
        ({"learning_rate": 1e12, "lambda_insertion": 1.0}, "lower learning_rate"),
    ],
)
def test_bad_parameters(params, match):
    X, y = make_blobs(n_samples=30, centers=2, n_features=3, random_state=0)
    with pytest.raises(ValueError, match=match):
        IDExpOClassifier(**{**TINY, **params}).fit(X, y)


class _DivergesAfterFirstScore(torch.nn.Module):
    """A linear net whose training outputs turn infinite once the validation split was scored."""

    def __init__(self, d, k, scored=False):
        super().__init__()
        self.linear = torch.nn.Linear(d, k)
        self.scored = scored

    def forward(self, x):
        if not self.training and x.shape[0] > 1:  # valscore (the width check sends one row)
            self.scored = True
        out = self.linear(x)
        return out * float("inf") if self.training and self.scored else out


def test_divergence_after_a_scored_epoch_keeps_the_best_epoch_and_warns():
    X, y = make_blobs(n_samples=80, centers=2, n_features=3, random_state=0)
    params = {**TINY, "pretrain_epochs": 0, "finetune_epochs": 5}
    with pytest.warns(ConvergenceWarning, match=r"fine-tuning epoch 2 .*keeps epoch 1"):
        clf = IDExpOClassifier(_DivergesAfterFirstScore(3, 2), **params).fit(X, y)
    assert (clf.diverged_epoch_, clf.n_iter_, clf.best_epoch_) == (2, 1, 1)
    assert [r["epoch"] for r in clf.history_] == [1]
    assert all(torch.isfinite(p).all() for p in clf.module_.parameters())
    assert np.all(np.isfinite(clf.predict_proba(X)))
    # nothing scored before the divergence (in the first epoch, or without a validation
    # split): no epoch to fall back on, fit raises
    with pytest.raises(ValueError, match=r"loss became (inf|nan) in fine-tuning epoch 1"):
        IDExpOClassifier(_DivergesAfterFirstScore(3, 2, scored=True), **params).fit(X, y)
    with pytest.raises(ValueError, match=r"loss became (inf|nan) in fine-tuning epoch 1"):
        IDExpOClassifier(
            _DivergesAfterFirstScore(3, 2, scored=True), **{**params, "validation_fraction": 0.0}
        ).fit(X, y)
    clf = IDExpOClassifier(**TINY).fit(X, y)
    assert clf.diverged_epoch_ is None


def test_module_is_not_modified():
    X, y = make_blobs(n_samples=30, centers=2, n_features=3, random_state=0)
    net = torch.nn.Linear(3, 2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    clf = IDExpOClassifier(net, **TINY).fit(X, y)
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k])
    assert clf.module_ is not net


# -- (f) the full reproduction: examples/plot_idexpo.py --full (slow) -------------------------
def _example():
    return load_example("plot_idexpo")


_FULL = {}


def _full(dataset, explainer):
    """Per-seed test rows of CE-only and ID-ExpO, the example's --full configuration, eta 3."""
    if (dataset, explainer) not in _FULL:
        example = _example()
        rows, chosen = example.run(dataset, explainer, eta=3.0, **example.FULL)
        _FULL[dataset, explainer] = rows
    return _FULL[dataset, explainer]


# Measured by `python examples/plot_idexpo.py --full` (5 seeds, eta 3, lambda in {0.1, 0.01} by
# valscore, 8 fine-tuning epochs, 100 on wine): CE-only -> ID-ExpO means over the seeds, with the
# two-sided paired t-test p of the failing column. With the paper's full grid {0.1, 0.01, 0.001}
# (``--lambdas``) breast_cancer/LIME and the digit images give the same numbers: valscore never
# picks 0.001.
_MEASURED_FAILURES = {
    ("breast_cancer", "lime", "accuracy"): "accuracy 0.9719 -> 0.9386 (-3.3 points, p 0.049); "
    "ins 0.958 -> 0.977, 1-del 0.231 -> 0.518, sensitivity-n 0.156 -> 0.362 hold",
    ("wine", "lime", "insertion"): "insertion 0.9647 -> 0.9632 (p 0.85; near its ceiling); "
    "1-del 0.401 -> 0.467 holds (p 0.16)",
    ("wine", "lime", "sensitivity-n"): "sensitivity-n 0.491 -> 0.472 (p 0.22)",
    ("wine", "kernelshap", "accuracy"): "accuracy 0.9944 -> 0.9611 (-3.3 points, p 0.18); "
    "1-del 0.278 -> 0.446 (p 0.017)",
    ("digits", "lime", "insertion"): "insertion 0.9555 -> 0.9523 (p 0.27); 1-del 0.740 -> "
    "0.834, sensitivity-n 0.450 -> 0.522 hold (p < 0.001)",
    ("digits-images", "gradcam", "accuracy"): "accuracy 0.9783 -> 0.9239 (-5.4 points, p 0.031; "
    "valscore picks lambda 0.1 for 3 of 5 seeds); ins 0.201 -> 0.468, 1-del 0.437 -> 0.777, "
    "sensitivity-n 0.009 -> 0.233 hold (p < 0.006)",
}
# Claims at the edge of their threshold, which hold on one CPU and fail on another: valscore's
# choice of lambda is a near tie that the last bits of float32 training flip (the CE-only rows
# agree to 1e-4 across the two machines). Not strict: either outcome is a measurement.
_MEASURED_UNSTABLE = {
    ("digits", "kernelshap", "accuracy"): "accuracy 0.9761 -> 0.9572 (-1.9 points, lambda 0.01 "
    "on all five seeds) on an Intel Xeon with a 300 MiB L3; 0.9761 -> 0.9389 (-3.7 points, "
    "lambda 0.1 on some seeds; ins 0.935, 1-del 0.774) on the CI machine of stop 22",
}
_CASES = [
    ("breast_cancer", "lime"),
    ("breast_cancer", "kernelshap"),
    ("wine", "lime"),
    ("wine", "kernelshap"),
    ("digits", "lime"),
    ("digits", "kernelshap"),
    ("digits-images", "gradcam"),
]
_CLAIMS = ("accuracy", "insertion", "1-deletion", "sensitivity-n")


def _claim_params():
    for dataset, explainer in _CASES:
        for claim in _CLAIMS:
            reason = _MEASURED_FAILURES.get((dataset, explainer, claim))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            unstable = _MEASURED_UNSTABLE.get((dataset, explainer, claim))
            if unstable:
                marks = [pytest.mark.xfail(strict=False, reason=unstable)]
            yield pytest.param(dataset, explainer, claim, marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("dataset, explainer, claim", list(_claim_params()))
def test_full_reproduction(dataset, explainer, claim):
    """ID-ExpO beats CE-only on insertion, 1-deletion and sensitivity-n (means over five seeds)
    at accuracy within 2 points."""
    rows = _full(dataset, explainer)
    ce, idexpo = rows["CE-only"].mean(axis=0), rows["ID-ExpO"].mean(axis=0)
    numbers = f"CE-only {ce.round(4)}, ID-ExpO {idexpo.round(4)} ({', '.join(_CLAIMS)})"
    j = _CLAIMS.index(claim)
    if claim == "accuracy":
        assert idexpo[j] >= ce[j] - 0.02, numbers
    else:
        assert idexpo[j] > ce[j], numbers
