"""ID-ExpO: fine-tuning a torch classifier so that its explanations score well on insertion and
deletion (Yoshikawa & Iwata 2024), as a scikit-learn classifier."""

import copy
import numbers
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._compat import HasMethods, Interval, StrOptions, validate_parameter_constraints
from .._engine import TRAINING_BATCH_SIZE, map_row_chunks, row_chunks
from ..metrics import deletion_auc, insertion_auc
from ..models import as_model
from ..utils import check_baseline, check_image_shape, pack_module, resolve_device, unpack_module
from ._cnn import CNN, FlatInput
from ._explainers import (
    DEPRECATED_NAMES,
    EXPLAINERS,
    MASK_EXPLAINERS,
    canonical_name,
    draw_masks,
    explain_batch,
    feature_maps,
    find_gradcam_layer,
)
from ._mlp import MLP
from ._soft_metrics import idexpo_regularizers, n_curve_steps

__all__ = ["IDExpOClassifier", "valscore"]


def _check_hidden_layer_sizes(sizes):
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
    ):
        raise ValueError(
            f"hidden_layer_sizes must be a sequence of positive integers, got {sizes!r}"
        )
    return tuple(int(s) for s in sizes)


class IDExpOClassifier(ClassifierMixin, BaseEstimator):
    """Classifier fine-tuned so that its explanations are faithful by insertion and deletion.

    ``fit`` pre-trains a torch network with cross-entropy, then fine-tunes it with

    ``CE + lambda_insertion Omega_ins + lambda_deletion Omega_del + lambda_l2 mean(phi^2)``

    (Yoshikawa & Iwata 2024, eq. 11), where ``phi`` is the explanation of each training row's
    label by a differentiable explainer, and ``Omega_ins`` / ``Omega_del`` are the insertion and
    deletion metrics made differentiable with soft masks ``sigmoid(T (phi_j - t_s))`` (eqs. 7-10,
    on log-probabilities, the per-sample temperature of Section 4.1). After each fine-tuning
    epoch the network is scored on a validation split by
    ``valscore = eta Acc + Ins + (1 - Del)`` (eq. 15; hard metrics of the predicted class, those
    of :mod:`skexplain.metrics`, step ``curve_step_``) and the best epoch is kept. With all three
    lambdas at 0 the fine-tuning is cross-entropy only, the paper's baseline.

    Parameters
    ----------
    module : torch.nn.Module or None, default=None
        The network, mapping ``(n, n_features)`` float inputs (``(n, C, H, W)`` images with
        ``image_shape``) to ``(n, n_classes)`` logits; it is copied, never changed. None builds
        an MLP with ReLU hidden layers of ``hidden_layer_sizes`` units (the paper's tabular
        predictor), or with ``image_shape`` a small CNN (two 3x3 convolutions, 16 and 32
        channels, 2x2 max pooling between them, then ``hidden_layer_sizes``).
    explainer : {"soft_lime", "soft_kernel_shap", "gradient", "gradcam"}, default="soft_lime"
        The differentiable explainer: LIME's or the Shapley kernel's weighted least squares in
        closed form over ``n_masks`` binary masks (eq. 12; not the algorithms of the ``lime`` and
        ``shap`` packages that :class:`~skexplain.LimeExplainer` and
        :class:`~skexplain.KernelShapExplainer` wrap), the input gradient of the class
        probability, or Grad-CAM (eqs. 13-14, trained through second-order gradients; needs
        ``image_shape`` and a module with a ``torch.nn.Conv2d``). ``"lime"`` and
        ``"kernelshap"`` are deprecated aliases of the first two (a FutureWarning).
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` or ``(height, width)``: each row of ``X`` is one image
        flattened in C order (as ``load_digits().data`` is; ``X`` stays two-dimensional, as
        scikit-learn expects), and the module receives ``(n, C, H, W)`` tensors. On images the
        masks of LIME / KernelSHAP and of insertion/deletion act on pixels, all channels of a
        pixel together. None: tabular rows.
    gradcam_layer : str or None, default=None
        The submodule whose output Grad-CAM weighs (a name of ``module.named_modules()``, such
        as ``"features.3"``); None takes the last ``torch.nn.Conv2d``. The curves of Grad-CAM
        insert and delete whole cells of its map: ``s`` grows by the pixels of one cell, times
        the channels (the paper's increment, Section 4.1).
    lambda_insertion : float, default=0.01
        Weight of ``Omega_ins`` (lambda_1). The paper selects lambda_1 = lambda_2 in
        {0.1, 0.01, 0.001} by valscore; the authors' released configuration uses 0.01. Larger
        weights buy faithfulness with accuracy (see ``examples/plot_idexpo.py``).
    lambda_deletion : float, default=0.01
        Weight of ``Omega_del`` (lambda_2).
    lambda_l2 : float, default=1e-4
        Weight of the attributions' mean square ``||phi||^2 / n_features`` (lambda_3), which
        keeps attributions from diverging. The mean, not the paper's sum (eq. 11), is the
        authors' released code's scale (``||phi||^2 / numel``), and 1e-4 its configuration's
        value: the weight does not depend on the number of features.
    fraction : float in (0, 1], default=0.5
        The curves run over ``s = 1 .. S`` with ``S = max(1, round(fraction * n_features))``
        (the paper uses 30% or 50%), in training and in valscore.
    n_masks : int, default=200
        M, the binary masks of LIME / KernelSHAP (drawn afresh for every mini-batch).
    alpha : float, default=0.01
        The ridge ``eps`` of eq. 12.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden layers of the default MLP; ignored when ``module`` is given.
    pretrain_epochs : int, default=100
        Epochs of cross-entropy training (Adam) before fine-tuning; 0 fine-tunes ``module`` as
        given (for a network trained beforehand).
    finetune_epochs : int, default=200
        Maximum fine-tuning epochs (SGD with Nesterov momentum 0.9 and weight decay 5e-4, the
        paper's optimizer; 200 epochs in its tabular experiments).
    batch_size : int, default=128
        Rows per minibatch, in pre-training and fine-tuning.
    learning_rate : float or "auto", default="auto"
        Learning rate of fine-tuning. "auto" is 0.001 on tabular rows (the paper picks 0.01 or
        0.001 there) and 1e-4 on images (the paper picks 1e-4 or 1e-5; its released
        configuration uses 1e-4).
    pretrain_learning_rate : float, default=0.001
        Learning rate of Adam in pre-training.
    validation_fraction : float in [0, 1), default=0.125
        Share of the rows held out for valscore: 0.125 of 80% is the paper's 70/10/20 split when
        the caller keeps 20% for testing. 0 disables model selection and early stopping (the
        last epoch is kept).
    eta : float, default=2.0
        Weight of the accuracy in valscore.
    early_stopping : bool, default=True
        Stop fine-tuning when valscore has not improved for ``patience`` epochs.
    patience : int, default=20
        Epochs without a better valscore before fine-tuning stops.
    baseline : float or array-like of shape (n_features,), default=0.0
        Values of removed features, in the explainer's masks and in the curves (0 is the mean of
        standardized features).
    device : str or torch.device, default="auto"
        "auto" trains on CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds the default network's initialization, the split, the batches and the masks.
    verbose : int, default=0
        A progress bar over epochs when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    module_ : torch.nn.Module
        The fine-tuned network (the best epoch by valscore), in eval mode.
    device_ : torch.device
    curve_step_ : int
        Features added per step of the insertion/deletion curves, in training and in valscore:
        1 on tabular data, the channels on images, the channels times the pixels of one cell
        with Grad-CAM.
    n_iter_ : int
        Fine-tuning epochs run (completed).
    diverged_epoch_ : int or None
        The fine-tuning epoch in which the loss or a parameter stopped being finite, or None.
        When an earlier epoch was scored on the validation split, fine-tuning stops there with a
        :class:`~sklearn.exceptions.ConvergenceWarning` and keeps the best scored epoch (as
        early stopping would); before any scored epoch, and in pre-training, ``fit`` raises a
        ValueError instead.
    best_epoch_ : int
        The selected fine-tuning epoch (1-based; 0 when no fine-tuning epoch was run).
    best_valscore_ : float or None
        Its valscore (None without a validation split).
    history_ : list of dict
        Per epoch: ``phase`` ("pretrain" or "finetune"), ``epoch``, ``loss`` (mean training
        loss) and, in fine-tuning with a validation split, ``accuracy``, ``insertion``,
        ``deletion`` and ``valscore``.

    Notes
    -----
    Training runs in the module's floating dtype (float32 for the default MLP); predictions and
    explanations are returned as float64. The soft masks' thresholds and temperature are
    constants in the backward pass, as in the authors' released code; the temperature is the
    paper's per-sample one, not the batch-pooled scale of that code. The regularizers explain
    each training row's *label* (eq. 11); valscore and :meth:`explain` explain the *predicted*
    class. The LIME kernel is that of the ``lime`` package's image explainer (cosine distance to
    the unmasked row, width 0.25), which the paper reuses for tabular data; the least squares has
    no intercept, as in eq. 12. Grad-CAM differentiates the class probability (the paper's
    ``f_y``), takes the hooked layer's output as it is (before any activation that follows it)
    and computes a batch's maps with one backward pass: a module whose rows interact in training
    mode (batch normalization) mixes the rows' gradients there.

    References
    ----------
    Yoshikawa, Y. and Iwata, T. (2024). Explanation-based training with differentiable
    insertion/deletion metric-aware regularizers. AISTATS.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.training import IDExpOClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(80, 4))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> clf = IDExpOClassifier(hidden_layer_sizes=(16,), n_masks=20, pretrain_epochs=30,
    ...                        pretrain_learning_rate=0.01, finetune_epochs=2,
    ...                        random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape, clf.explain(X[:3]).shape
    ((3, 2), (3, 4))
    >>> clf.score(X, y) > 0.8
    True

    Images (sklearn's 8x8 digits, flattened) with the default CNN and Grad-CAM:

    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(n_class=2, return_X_y=True)
    >>> cnn = IDExpOClassifier(explainer="gradcam", image_shape=(8, 8), hidden_layer_sizes=(16,),
    ...                        pretrain_epochs=3, finetune_epochs=1, random_state=0)
    >>> cnn.fit(X[:100] / 16, y[:100]).explain(X[:2] / 16).shape, cnn.curve_step_
    ((2, 64), 4)
    """

    _parameter_constraints = {
        "module": [None, HasMethods(["forward", "parameters"])],
        "explainer": [
            StrOptions(set(EXPLAINERS) | set(DEPRECATED_NAMES), deprecated=set(DEPRECATED_NAMES))
        ],
        "image_shape": "no_validation",  # checked in fit against n_features
        "gradcam_layer": [None, str],
        "lambda_insertion": [Interval(Real, 0, None, closed="left")],
        "lambda_deletion": [Interval(Real, 0, None, closed="left")],
        "lambda_l2": [Interval(Real, 0, None, closed="left")],
        "fraction": [Interval(Real, 0, 1, closed="right")],
        "n_masks": [Interval(Integral, 2, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "hidden_layer_sizes": "no_validation",  # checked in fit, with a clear message
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "finetune_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "pretrain_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "eta": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "baseline": "no_validation",  # checked in fit against n_features
        "device": "no_validation",  # checked in fit by torch
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        module=None,
        *,
        explainer="soft_lime",
        image_shape=None,
        gradcam_layer=None,
        lambda_insertion=0.01,
        lambda_deletion=0.01,
        lambda_l2=1e-4,
        fraction=0.5,
        n_masks=200,
        alpha=0.01,
        hidden_layer_sizes=(256, 256),
        pretrain_epochs=100,
        finetune_epochs=200,
        batch_size=128,
        learning_rate="auto",
        pretrain_learning_rate=0.001,
        validation_fraction=0.125,
        eta=2.0,
        early_stopping=True,
        patience=20,
        baseline=0.0,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.module = module
        self.explainer = explainer
        self.image_shape = image_shape
        self.gradcam_layer = gradcam_layer
        self.lambda_insertion = lambda_insertion
        self.lambda_deletion = lambda_deletion
        self.lambda_l2 = lambda_l2
        self.fraction = fraction
        self.n_masks = n_masks
        self.alpha = alpha
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.pretrain_learning_rate = pretrain_learning_rate
        self.validation_fraction = validation_fraction
        self.eta = eta
        self.early_stopping = early_stopping
        self.patience = patience
        self.baseline = baseline
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- fit ------------------------------------------------------------------------------------
    def fit(self, X, y):
        """Pre-train, fine-tune with the ID-ExpO regularizers and keep the best epoch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows (flattened images when ``image_shape`` is set); a validation split
            of ``validation_fraction`` is taken from them.
        y : array-like of shape (n_samples,)
            Class labels, at least two classes.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), type(self).__name__
        )
        if self.explainer in DEPRECATED_NAMES:
            warnings.warn(
                f"explainer={self.explainer!r} is deprecated: use "
                f"{DEPRECATED_NAMES[self.explainer]!r} (the closed-form weighted least squares "
                "of Yoshikawa & Iwata's eq. 12, not the algorithm of the lime or shap package)",
                FutureWarning,
                stacklevel=2,
            )
        self._explainer = canonical_name(self.explainer)
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least two classes; y has one class: "
                f"{self.classes_[0]!r}"
            )
        n, d = X.shape
        n_classes = self.classes_.size
        self._image_shape = None
        if self.image_shape is not None:
            self._image_shape = check_image_shape(self.image_shape, d)
        elif self._explainer == "gradcam":
            raise ValueError(
                "explainer='gradcam' needs image_shape=(channels, height, width): Grad-CAM maps "
                "the cells of a convolution's feature maps back to the pixels of each image"
            )
        baseline = check_baseline(self.baseline, d)
        self.device_ = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)

        module = self._build_module(d, n_classes, seed)
        self._dtype = next(
            (p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32
        )
        X_train, X_val, y_train, y_val = self._split(X, y_encoded, rng)
        self._check_output_width(module, X_train[:1], n_classes)
        self.curve_step_ = self._curve_step(module, X_train[:1])

        tensor = self._tensor
        Xt, yt = tensor(X_train), torch.as_tensor(y_train, device=self.device_)
        b = tensor(baseline)
        self.history_ = []
        total = self.pretrain_epochs + self.finetune_epochs
        progress = _progress(total, self.verbose, type(self).__name__)
        try:
            self._pretrain(module, Xt, yt, generator, progress)
            self._finetune(module, Xt, yt, X_val, y_val, b, baseline, generator, seed, progress)
        finally:
            if progress is not None:
                progress.close()
        module.eval()
        self.module_ = module
        return self

    def _build_module(self, d, n_classes, seed):
        if self.module is None:
            sizes = _check_hidden_layer_sizes(self.hidden_layer_sizes)
            with torch.random.fork_rng(devices=[]):  # seed the init without touching global state
                torch.manual_seed(seed)
                if self._image_shape is None:
                    module = MLP(d, n_classes, sizes)
                else:
                    module = CNN(self._image_shape, n_classes, sizes)
        else:
            module = copy.deepcopy(self.module)
        if self._explainer == "gradcam":
            find_gradcam_layer(module, self.gradcam_layer)  # raises without a convolution
        return module.to(self.device_)

    def _forward(self, module):
        """The network as a function of flat rows (images are reshaped on the way in)."""
        if getattr(self, "_image_shape", None) is None:
            return module
        return FlatInput(module, self._image_shape)

    def _curve_step(self, module, X_row):
        if self._image_shape is None:
            return 1
        channels, height, width = self._image_shape
        if self._explainer != "gradcam":
            return channels
        layer = find_gradcam_layer(module, self.gradcam_layer)
        module.eval()
        with torch.no_grad():
            _, A = feature_maps(self._forward(module), layer, self._tensor(X_row))
        cell_height, cell_width = A.shape[2], A.shape[3]
        if height % cell_height or width % cell_width:
            return channels  # cells of unequal sizes: pixel by pixel
        return channels * (height // cell_height) * (width // cell_width)

    def _check_output_width(self, module, X_row, n_classes):
        module.eval()
        with torch.no_grad():
            try:
                out = self._forward(module)(self._tensor(X_row))
            except RuntimeError as exc:
                shape = "(n, n_features)" if self._image_shape is None else "(n, C, H, W)"
                raise ValueError(
                    f"module failed on inputs of shape {shape} = "
                    f"{(1, *(self._image_shape or X_row.shape[1:]))}: {exc}"
                ) from exc
        if not torch.is_tensor(out) or out.ndim != 2 or out.shape[1] != n_classes:
            shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
            raise ValueError(
                f"module must return logits of shape (n_samples, n_classes) = (n, {n_classes}) "
                f"for the {n_classes} classes of y, got {shape} for one row"
            )

    def _split(self, X, y, rng):
        n = X.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n))
        if self.validation_fraction == 0 or n_val < 1 or n - n_val < 1:
            return X, None, y, None
        counts = np.bincount(y)
        stratify = y if counts.min() >= 2 and n_val >= counts.size else None
        return train_test_split(X, y, test_size=n_val, stratify=stratify, random_state=rng)

    def _tensor(self, array):
        return torch.as_tensor(np.asarray(array), dtype=self._dtype, device=self.device_)

    def _batches(self, n, generator):
        order = torch.randperm(n, generator=generator).to(self.device_)
        return [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]

    def _pretrain(self, module, X, y, generator, progress):
        if self.pretrain_epochs == 0:
            return
        optimizer = torch.optim.Adam(module.parameters(), lr=self.pretrain_learning_rate)
        for epoch in range(1, self.pretrain_epochs + 1):
            module.train()
            losses = []
            forward = self._forward(module)
            for rows in self._batches(X.shape[0], generator):
                loss = torch.nn.functional.cross_entropy(forward(X[rows]), y[rows])
                _check_finite(loss, "pre-training", epoch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            _check_finite(loss.detach(), "pre-training", epoch, module)
            self.history_.append({"phase": "pretrain", "epoch": epoch, "loss": np.mean(losses)})
            if progress is not None:
                progress.update(1)
                progress.set_postfix(phase="pretrain", loss=f"{np.mean(losses):.4f}")

    def _learning_rate(self):
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        return 1e-3 if self._image_shape is None else 1e-4

    def _regularized(self):
        return self.lambda_insertion > 0 or self.lambda_deletion > 0 or self.lambda_l2 > 0

    def _n_mask_columns(self, d):
        return d if self._image_shape is None else d // self._image_shape[0]

    def _explain(self, module, X, target, masks, b, create_graph):
        layer = None
        if self._explainer == "gradcam":
            layer = find_gradcam_layer(module, self.gradcam_layer)
        return explain_batch(
            self._forward(module),
            X,
            target,
            explainer=self._explainer,
            masks=masks,
            baseline=b,
            alpha=self.alpha,
            create_graph=create_graph,
            layer=layer,
            image_shape=self._image_shape,
        )

    def _loss(self, module, X, y, b, n_steps, generator):
        """Eq. 11 on one mini-batch (batch means instead of sums)."""
        forward = self._forward(module)
        logits = forward(X)
        loss = torch.nn.functional.cross_entropy(logits, y)
        if not self._regularized():
            return loss
        masks = None
        if self._explainer in MASK_EXPLAINERS:
            columns = self._n_mask_columns(X.shape[1])
            masks = draw_masks(self.n_masks, columns, generator, dtype=X.dtype)
            masks = masks.to(self.device_)
        phi = self._explain(module, X, y, masks, b, create_graph=True)
        log_p_x = torch.log_softmax(logits, dim=1).gather(1, y[:, None])[:, 0]
        omega_ins, omega_del = idexpo_regularizers(
            forward, X, phi, y, b, n_steps, log_p_x=log_p_x, step=self.curve_step_
        )
        return (
            loss
            + self.lambda_insertion * omega_ins.mean()
            + self.lambda_deletion * omega_del.mean()
            + self.lambda_l2 * (phi**2).mean()  # the released code's ||phi||^2 / numel
        )

    def _finetune(self, module, X, y, X_val, y_val, b, baseline, generator, seed, progress):
        optimizer = torch.optim.SGD(
            module.parameters(),
            lr=self._learning_rate(),
            momentum=0.9,
            nesterov=True,
            weight_decay=5e-4,
        )
        n_steps = n_curve_steps(self.fraction, X.shape[1])
        best_state, best_score, best_epoch, stale = None, -np.inf, 0, 0
        self.n_iter_, self.diverged_epoch_ = 0, None
        for epoch in range(1, self.finetune_epochs + 1):
            module.train()
            losses = []
            diverged = False
            for rows in self._batches(X.shape[0], generator):
                loss = self._loss(module, X[rows], y[rows], b, n_steps, generator)
                if not _finite(loss):
                    diverged = True
                    break
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            if diverged or not _finite(loss.detach(), module):
                if best_state is None:
                    raise ValueError(_divergence_message(loss, "fine-tuning", epoch))
                # the epochs scored so far stand: keep the best of them, as early stopping does
                self.diverged_epoch_ = epoch
                warnings.warn(
                    _divergence_message(loss, "fine-tuning", epoch)
                    + f"; fine-tuning stopped there and keeps epoch {best_epoch}, the best by "
                    "valscore before it",
                    ConvergenceWarning,
                    stacklevel=3,
                )
                break
            self.n_iter_ = epoch
            record = {"phase": "finetune", "epoch": epoch, "loss": float(np.mean(losses))}
            if X_val is not None:
                module.eval()
                record.update(self._valscore(module, X_val, y_val, baseline, seed))
                if record["valscore"] > best_score:
                    best_score, best_epoch, stale = record["valscore"], epoch, 0
                    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                else:
                    stale += 1
            self.history_.append(record)
            if progress is not None:
                progress.update(1)
                progress.set_postfix(
                    {k: f"{v:.4f}" for k, v in record.items() if k in ("loss", "valscore")}
                )
            if X_val is not None and self.early_stopping and stale >= self.patience:
                break
        if best_state is not None:
            module.load_state_dict(best_state)
            self.best_epoch_, self.best_valscore_ = best_epoch, float(best_score)
        else:
            self.best_epoch_, self.best_valscore_ = self.n_iter_, None

    def _valscore(self, module, X_val, y_val, baseline, seed):
        """Eq. 15 on the validation rows, with the hard metrics of skexplain.metrics."""
        target = self._predict_index(module, X_val)
        # the same masks every epoch (common random numbers), so epochs compare fairly
        phi = self._attributions(module, X_val, target, seed)
        if not np.all(np.isfinite(phi)):
            raise ValueError(
                "the explanations of the validation rows are no longer finite (the training "
                "diverged): lower learning_rate (or the lambdas), or standardize the features"
            )
        return _scores(self._forward(module), X_val, y_val, target, phi, baseline, self)

    # -- prediction -----------------------------------------------------------------------------
    def _logits(self, module, X):
        module.eval()
        parts = []
        with torch.no_grad():
            for rows in row_chunks(X.shape[0], budget=TRAINING_BATCH_SIZE):
                parts.append(self._forward(module)(self._tensor(X[rows])))
        return torch.cat(parts) if parts else torch.zeros((0, self.classes_.size))

    def _predict_index(self, module, X):
        return self._logits(module, X).argmax(dim=1).cpu().numpy()

    def predict_proba(self, X):
        """Class probabilities, the softmax of the network's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the features seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities of ``classes_``, each row summing to one.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        logits = self._logits(self.module_, X).to("cpu", torch.float64)
        proba = torch.softmax(logits, dim=1).numpy()
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the features seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities of ``classes_`` (``-inf`` where a probability underflows).
        """
        with np.errstate(divide="ignore"):  # consistent with predict_proba where it underflows
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the features seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            The most probable class of each row, from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    # -- explanation ----------------------------------------------------------------------------
    def _attributions(self, module, X, target, seed):
        module.eval()
        n, d = X.shape
        masks = None
        per_row = 64  # network evaluations per row of the gradient explainers, roughly
        if self._explainer in MASK_EXPLAINERS:
            masks = draw_masks(
                self.n_masks,
                self._n_mask_columns(d),
                torch.Generator().manual_seed(seed),
                dtype=self._dtype,
            ).to(self.device_)
            per_row = self.n_masks
        b = self._tensor(check_baseline(self.baseline, d))

        def compute(rows):
            t = torch.as_tensor(target[rows], device=self.device_)
            with torch.no_grad() if masks is not None else torch.enable_grad():
                phi = self._explain(module, self._tensor(X[rows]), t, masks, b, False)
            return phi.detach().to("cpu", torch.float64).numpy()

        return map_row_chunks(
            n, compute, per_row=per_row, budget=TRAINING_BATCH_SIZE, empty_shape=(0, d)
        )

    def explain(self, X):
        """The explainer's attributions for the class predicted at each row.

        LIME / KernelSHAP draw one bank of ``n_masks`` masks per call from ``random_state``
        (shared by every row, so an integer seed gives the same answer each call).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the features seen in ``fit``.

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_features)
            One attribution per feature (per pixel for images) for each row's predicted class.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        target = self._predict_index(self.module_, X)
        return self._attributions(self.module_, X, target, seed)

    # -- scikit-learn plumbing ------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    # The fitted network pickles as CPU bytes: a classifier fitted on a GPU loads anywhere.
    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        if "module_" in state:
            state["module_"], state["device_"], state["_dtype"] = pack_module(
                state["module_"], state["device_"], state["_dtype"]
            )
        return state

    def __setstate__(self, state):
        if isinstance(state.get("module_"), bytes):
            state = dict(state)
            module, state["device_"], state["_dtype"] = unpack_module(
                state["module_"], state["device_"], state["_dtype"]
            )
            state["module_"] = module.eval()
        super().__setstate__(state)


def _finite(loss, module=None):
    """Whether the loss (and, after an epoch, every parameter of ``module``) is finite."""
    finite = bool(torch.isfinite(loss))
    if module is not None:
        finite = finite and all(bool(torch.isfinite(p).all()) for p in module.parameters())
    return finite


def _divergence_message(loss, phase, epoch):
    return (
        f"the training loss became {float(loss.detach())} in {phase} epoch {epoch} (or the "
        "parameters diverged): lower learning_rate (or the lambdas), or standardize the "
        "features"
    )


def _check_finite(loss, phase, epoch, module=None):
    """Raise when the loss (or, after an epoch, a parameter) is no longer finite."""
    if not _finite(loss, module):
        raise ValueError(_divergence_message(loss, phase, epoch))


def _scores(module, X, y, target, phi, baseline, estimator):
    model = as_model(module, output="probability", device=estimator.device_)
    kwargs = {
        "fraction": estimator.fraction,
        "step": estimator.curve_step_,
        "baseline": baseline,
        "target": target,
    }
    accuracy = float(np.mean(target == y))
    ins = float(np.mean(insertion_auc(model, X, phi, **kwargs)))
    dele = float(np.mean(deletion_auc(model, X, phi, **kwargs)))
    return {
        "accuracy": accuracy,
        "insertion": ins,
        "deletion": dele,
        "valscore": estimator.eta * accuracy + ins + 1.0 - dele,
    }


def valscore(estimator, X, y):
    """The paper's model-selection score ``eta Acc + Ins + (1 - Del)`` (eq. 15) as a scorer.

    A scorer ``(estimator, X, y) -> float`` for a fitted :class:`IDExpOClassifier`, for
    ``GridSearchCV(scoring=valscore)``: accuracy on ``(X, y)``, and insertion and deletion (hard
    metrics of :mod:`skexplain.metrics`, step ``curve_step_``, the estimator's ``fraction`` and
    ``baseline``) of its :meth:`~IDExpOClassifier.explain` attributions for the predicted class.

    Parameters
    ----------
    estimator : fitted IDExpOClassifier
        The classifier scored.
    X : array-like of shape (n_samples, n_features)
        Held-out rows.
    y : array-like of shape (n_samples,)
        Their class labels.

    Returns
    -------
    float
        ``eta`` times the accuracy plus the mean insertion AUC plus one minus the mean deletion
        AUC; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.training import IDExpOClassifier, valscore
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = IDExpOClassifier(hidden_layer_sizes=(8,), n_masks=16, pretrain_epochs=5,
    ...                        finetune_epochs=1, random_state=0).fit(X, y)
    >>> 0 <= valscore(clf, X, y) <= 2 + 1 + 1
    True
    """
    check_is_fitted(estimator)
    X = validate_data(estimator, X, dtype=np.float64, reset=False)
    y = np.asarray(y)
    target = estimator._predict_index(estimator.module_, X)
    phi = estimator.explain(X)
    baseline = check_baseline(estimator.baseline, X.shape[1])
    classes = estimator.classes_
    index = np.clip(np.searchsorted(classes, y), 0, classes.size - 1)
    labels = np.where(classes[index] == y, index, -1)  # a label unseen in fit counts as wrong
    forward = estimator._forward(estimator.module_)
    return _scores(forward, X, labels, target, phi, baseline, estimator)["valscore"]


def _progress(total, verbose, name):
    if not verbose or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="epoch")
