"""ID-ExpO on images: Grad-CAM through second-order gradients, image_shape, the default CNN."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from skexplain.metrics import (
    deletion_auc,
    insertion_auc,
    make_explanation_scorer,
    sensitivity_n,
)
from skexplain.models import as_model
from skexplain.training import IDExpOClassifier, valscore
from skexplain.training._cnn import CNN, FlatInput
from skexplain.training._explainers import draw_masks, explain_batch, find_gradcam_layer
from skexplain.training._soft_metrics import idexpo_regularizers, soft_curves

torch.set_num_threads(1)

TINY_CNN = dict(
    explainer="gradcam",
    image_shape=(8, 8),
    hidden_layer_sizes=(16,),
    pretrain_epochs=3,
    pretrain_learning_rate=0.01,
    finetune_epochs=1,
    batch_size=64,
    random_state=0,
)


def _digits(n_class=10, n=None, seed=0):
    X, y = load_digits(n_class=n_class, return_X_y=True)
    if n is not None:
        X, y = X[:n], y[:n]
    return train_test_split(X / 16.0, y, test_size=0.2, stratify=y, random_state=seed)


class _GapNet(torch.nn.Module):
    """conv -> tanh -> global average pooling -> linear: Grad-CAM has a closed form."""

    def __init__(self, channels=2, maps=3, classes=3):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, maps, 3, stride=2, padding=1)
        self.linear = torch.nn.Linear(maps, classes)

    def forward(self, images):
        A = torch.tanh(self.conv(images))
        return self.linear(A.mean(dim=(2, 3)))


def _gapnet(seed=0):
    torch.manual_seed(seed)
    return _GapNet().double()


# -- Grad-CAM: closed form, cells, second-order gradients ------------------------------------
def test_gradcam_closed_form_on_global_average_pooling():
    """For logits z = W mean_ij(A) + c and p = softmax(z): dp_y/dA_kij = (1/H'W') sum_l
    p_y (delta_yl - p_l) W_lk, so w_k = that / H'W' and phi = ReLU(sum_k w_k A_k), upsampled."""
    net = _gapnet()
    shape = (2, 8, 8)  # C, H, W; the conv's maps are 4x4
    rng = np.random.RandomState(0)
    X = torch.as_tensor(rng.normal(size=(4, 128)))
    y = torch.tensor([0, 1, 2, 1])
    layer = net.conv
    phi = explain_batch(
        FlatInput(net, shape), X, y, explainer="gradcam", layer=layer, image_shape=shape
    )
    with torch.no_grad():
        images = X.reshape(4, *shape)
        pre = net.conv(images)  # the hooked output: before tanh
        A = torch.tanh(pre)
        p = torch.softmax(net.linear(A.mean(dim=(2, 3))), dim=1)
        W = net.linear.weight
        for i in range(4):
            dp_dz = p[i, y[i]] * (torch.eye(3, dtype=p.dtype)[y[i]] - p[i])  # (classes,)
            dp_dA = (dp_dz @ W)[:, None, None] * (1 - A[i] ** 2) / 16.0  # chain through tanh
            w = dp_dA.mean(dim=(1, 2))  # eq. 14
            cam = torch.relu((w[:, None, None] * pre[i]).sum(0))  # eq. 13, 4x4
            expected = cam.repeat_interleave(2, 0).repeat_interleave(2, 1)  # expand to 8x8
            expected = expected.expand(2, 8, 8).reshape(-1)  # both channels
            torch.testing.assert_close(phi[i], expected)


def test_gradcam_is_nonnegative_and_constant_on_cells():
    X_train, X_test, y_train, y_test = _digits(n_class=3, n=150)
    clf = IDExpOClassifier(**TINY_CNN).fit(X_train, y_train)
    phi = clf.explain(X_test)
    assert phi.shape == X_test.shape and np.all(phi >= 0)
    cells = phi.reshape(-1, 4, 2, 4, 2)  # 4x4 cells of 2x2 pixels
    np.testing.assert_array_equal(cells, np.broadcast_to(cells[:, :, :1, :, :1], cells.shape))
    assert clf.curve_step_ == 4  # s grows by one cell


def test_gradients_reach_the_conv_weights_through_gradcam():
    net = _gapnet()
    shape = (2, 8, 8)
    forward = FlatInput(net, shape)
    rng = np.random.RandomState(1)
    X = torch.as_tensor(rng.normal(size=(3, 128)))
    y = torch.tensor([2, 0, 1])

    def phi_of(create_graph=True):
        return explain_batch(
            forward,
            X,
            y,
            explainer="gradcam",
            layer=net.conv,
            image_shape=shape,
            create_graph=create_graph,
        )

    # ||phi||^2 depends on the parameters only through Grad-CAM, itself a gradient
    net.zero_grad()
    (phi_of() ** 2).sum().backward()
    assert torch.count_nonzero(net.conv.weight.grad) > 0
    assert torch.count_nonzero(net.linear.weight.grad) > 0
    # without create_graph the explanation is a constant
    assert not phi_of(create_graph=False).requires_grad

    # the regularizers: part of their gradient flows through phi
    def omega_grad(detach):
        net.zero_grad()
        phi = phi_of()
        phi = phi.detach() if detach else phi
        log_p_x = torch.log_softmax(forward(X), 1).gather(1, y[:, None])[:, 0]
        b = torch.zeros(128, dtype=torch.float64)
        omega_ins, omega_del = idexpo_regularizers(
            forward, X, phi, y, b, 64, log_p_x=log_p_x, step=8
        )
        (omega_ins + omega_del).sum().backward()
        return net.conv.weight.grad.clone()

    assert torch.linalg.norm(omega_grad(False) - omega_grad(True)) > 1e-8


def test_gradcam_second_order_gradient_matches_finite_differences():
    """gradcheck of conv weights -> ||Grad-CAM||^2: the double backward is the true derivative."""
    net = _gapnet(seed=3)
    shape = (2, 8, 8)
    rng = np.random.RandomState(2)
    X = torch.as_tensor(rng.normal(size=(2, 128)))
    y = torch.tensor([1, 2])
    weight = net.conv.weight.detach().clone()

    def loss(w):
        def forward(rows):
            images = rows.reshape(rows.shape[0], *shape)
            A = torch.nn.functional.conv2d(images, w, net.conv.bias, stride=2, padding=1)
            return net.linear(torch.tanh(A).mean(dim=(2, 3)))

        # the hooked layer: an identity applied to the conv's output inside forward
        hook = torch.nn.Identity()

        def hooked(rows):
            images = rows.reshape(rows.shape[0], *shape)
            A = hook(torch.nn.functional.conv2d(images, w, net.conv.bias, stride=2, padding=1))
            return net.linear(torch.tanh(A).mean(dim=(2, 3)))

        phi = explain_batch(hooked, X, y, explainer="gradcam", layer=hook, image_shape=shape)
        return (phi**2).sum()

    w = weight.requires_grad_(True)
    assert loss(w) > 0  # the ReLU is active somewhere
    assert torch.autograd.gradcheck(loss, (w,), eps=1e-6, atol=1e-5)


def test_soft_curves_with_cells_converge_to_hard_metrics_with_step():
    """phi constant on 2x2 cells, s by whole cells: the soft curves become the hard ones."""
    net = _gapnet()
    shape = (2, 8, 8)
    forward = FlatInput(net, shape)
    rng = np.random.RandomState(4)
    X = rng.normal(size=(5, 128))
    cells = rng.normal(size=(5, 4, 4))
    phi = np.tile(cells.repeat(2, 1).repeat(2, 2).reshape(5, 64), 2)  # both channels
    model = as_model(forward, output="probability")
    target = model.resolve_target(X)
    step, S = 8, 64  # a cell is 2x2 pixels x 2 channels; S = 50% of 128
    kw = dict(fraction=0.5, step=step, target=target)
    hard = insertion_auc(model, X, phi, **kw), deletion_auc(model, X, phi, **kw)
    args = (torch.as_tensor(X), torch.as_tensor(phi), torch.as_tensor(target), torch.zeros(128))
    log_ins, log_del = soft_curves(forward, *args[:3], args[3].double(), S, temperature=1e5, step=8)
    np.testing.assert_allclose(log_ins.exp().mean(1).detach().numpy(), hard[0], atol=1e-8)
    np.testing.assert_allclose(log_del.exp().mean(1).detach().numpy(), hard[1], atol=1e-8)
    assert log_ins.shape == (5, 8)  # s = 8, 16, ..., 64


def test_lime_on_images_masks_pixels_across_channels():
    net = _gapnet()
    shape = (2, 8, 8)
    rng = np.random.RandomState(5)
    X = torch.as_tensor(rng.normal(size=(2, 128)))
    y = torch.tensor([0, 2])
    Z = draw_masks(40, 64, torch.Generator().manual_seed(0), dtype=torch.float64)
    b = torch.zeros(128, dtype=torch.float64)
    phi = explain_batch(FlatInput(net, shape), X, y, explainer="soft_lime", masks=Z, baseline=b)
    torch.testing.assert_close(phi[:, :64], phi[:, 64:])  # one value per pixel
    # a pixel's two channels masked together: the same regression as on the (M, 64) masks
    # of a network that reads each pixel twice
    with torch.no_grad():
        inputs = Z.repeat(1, 2)[None] * X[:, None]
        f = torch.softmax(net(inputs.reshape(-1, *shape)), 1).reshape(2, 40, 3)
    K = torch.sqrt(torch.exp(-((1 - torch.sqrt(Z.sum(1) / 64)) ** 2) / 0.25**2))
    A = Z.T @ (K[:, None] * Z) + 0.01 * torch.eye(64, dtype=torch.float64)
    for i in range(2):
        expected = torch.linalg.solve(A, Z.T @ (K * f[i, :, y[i]]))
        torch.testing.assert_close(phi[i, :64].detach(), expected)


# -- the classifier on images ----------------------------------------------------------------
def test_default_cnn_and_curve_steps():
    X_train, _, y_train, _ = _digits(n_class=2, n=100)
    clf = IDExpOClassifier(**TINY_CNN).fit(X_train, y_train)
    assert isinstance(clf.module_, CNN) and clf.module_.features[0].in_channels == 1
    assert find_gradcam_layer(clf.module_) is clf.module_.features[3]
    lime = IDExpOClassifier(**{**TINY_CNN, "explainer": "soft_lime", "n_masks": 8})
    assert lime.fit(X_train, y_train).curve_step_ == 1
    assert lime.explain(X_train[:2]).shape == (2, 64)
    assert (
        IDExpOClassifier(**{**TINY_CNN, "image_shape": None, "explainer": "soft_lime"})
        .fit(X_train, y_train)
        .curve_step_
        == 1
    )
    # a named layer: the first convolution's maps are 8x8, one pixel per cell
    first = IDExpOClassifier(**{**TINY_CNN, "gradcam_layer": "features.0"}).fit(X_train, y_train)
    assert first.curve_step_ == 1


def test_image_classifier_pickles_clones_and_tunes_lambdas():
    X_train, X_test, y_train, _ = _digits(n_class=3, n=150)
    clf = IDExpOClassifier(**TINY_CNN).fit(X_train, y_train)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(loaded.explain(X_test), clf.explain(X_test))
    np.testing.assert_array_equal(
        clone(clf).fit(X_train, y_train).predict_proba(X_test), clf.predict_proba(X_test)
    )

    def explained_deletion(estimator, X):
        phi = estimator.explain(X)
        return deletion_auc(
            estimator, X, phi, fraction=0.5, step=estimator.curve_step_, output="probability"
        )

    search = GridSearchCV(
        IDExpOClassifier(**TINY_CNN),
        {"lambda_insertion": [0.0, 0.1], "lambda_deletion": [0.1]},
        scoring={
            "deletion": make_explanation_scorer(explained_deletion, greater_is_better=False),
            "valscore": valscore,
        },
        refit="valscore",
        cv=2,
    ).fit(X_train, y_train)
    assert np.all(np.isfinite(search.cv_results_["mean_test_valscore"]))
    assert np.all(search.cv_results_["mean_test_deletion"] <= 0)  # lower is better: negated
    assert search.best_estimator_.image_shape == (8, 8)


# -- the claim, in direction, small and fast -------------------------------------------------
def test_idexpo_gradcam_improves_insertion_deletion_and_sensitivity_n_on_digit_images():
    X_train, X_test, y_train, y_test = _digits(n=800, seed=0)
    # the learning rate and L2 weight this was measured with (before the paper's defaults)
    common = {
        **TINY_CNN,
        "hidden_layer_sizes": (32,),
        "eta": 3.0,
        "learning_rate": 0.01,
        "lambda_l2": 0.0,
    }
    pretrained = IDExpOClassifier(**{**common, "pretrain_epochs": 15, "finetune_epochs": 0})
    pretrained.fit(X_train, y_train)
    scores = {}
    for lam in (0.0, 0.1):
        clf = IDExpOClassifier(
            pretrained.module_,
            **{**common, "pretrain_epochs": 0, "finetune_epochs": 2},
            lambda_insertion=lam,
            lambda_deletion=lam,
        ).fit(X_train, y_train)
        phi = clf.explain(X_test)
        curve = dict(fraction=0.5, step=clf.curve_step_)
        scores[lam] = (
            clf.score(X_test, y_test),
            insertion_auc(clf, X_test, phi, output="probability", **curve).mean(),
            1 - deletion_auc(clf, X_test, phi, output="probability", **curve).mean(),
            np.nanmean(sensitivity_n(clf, X_test, phi, n_features=13, random_state=0)),
        )
    (_, ins0, odel0, sens0), (_, ins1, odel1, sens1) = scores[0.0], scores[0.1]
    numbers = f"CE-only {np.round(scores[0.0], 4)}, ID-ExpO {np.round(scores[0.1], 4)}"
    assert ins1 > ins0 and odel1 > odel0 and sens1 > sens0, numbers


# -- bad input -------------------------------------------------------------------------------
def test_gradcam_needs_a_convolution():
    X_train, _, y_train, _ = _digits(n_class=2, n=60)
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
    with pytest.raises(ValueError, match=r"needs a convolutional module: Sequential has no"):
        IDExpOClassifier(mlp, **TINY_CNN).fit(X_train, y_train)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"image_shape": (8, 9)}, r"image_shape \(8, 9\) does not match 64 features: it holds 72"),
        ({"image_shape": (2, 8, 8)}, r"does not match 64 features: it holds 128 values per image"),
        ({"image_shape": 64}, r"image_shape must be \(height, width\) or \(channels, height"),
        ({"image_shape": (8, 8, 1, 1)}, r"image_shape must be"),
        ({"image_shape": (0, 64)}, r"image_shape must be"),
        ({"image_shape": None}, r"explainer='gradcam' needs image_shape"),
        ({"gradcam_layer": "head.9"}, r"gradcam_layer 'head.9' is not a submodule of CNN"),
        ({"gradcam_layer": 3}, r"'gradcam_layer' parameter"),
    ],
)
def test_bad_image_parameters(params, match):
    X_train, _, y_train, _ = _digits(n_class=2, n=60)
    with pytest.raises(ValueError, match=match):
        IDExpOClassifier(**{**TINY_CNN, **params}).fit(X_train, y_train)


def test_gradcam_layer_must_return_feature_maps():
    X_train, _, y_train, _ = _digits(n_class=2, n=60)
    with pytest.raises(ValueError, match=r"feature maps of shape \(n, channels, height, width\)"):
        IDExpOClassifier(**{**TINY_CNN, "gradcam_layer": "head.1"}).fit(X_train, y_train)


def test_module_that_cannot_take_the_images_is_refused():
    X_train, _, y_train, _ = _digits(n_class=2, n=60)
    rgb = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    with pytest.raises(ValueError, match=r"module failed on inputs of shape \(n, C, H, W\) = "):
        IDExpOClassifier(rgb, **TINY_CNN).fit(X_train, y_train)
