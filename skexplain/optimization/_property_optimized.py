"""PropertyOptimizedExplainer: explanations optimized for properties (Tadesse et al. 2024)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .._compat import Interval, StrOptions
from ..base import BaseExplainer
from ..kernels import (
    kernel_of_squared_distance,
    knn_kernel_graph,
    listed_squared_distances,
    nearest_neighbors,
    pairwise_kernel,
)
from ..utils import import_optional, matching_rows, resolve_device, squared_distances
from ._gp import InducingPointGP, precision_objective
from ._problem import PropertyProblem
from ._solvers import proximal_gradient, solve_quadratic

__all__ = ["PropertyOptimizedExplainer"]

# Fitted rows up to which the inductive setting reports its objective (an n x n Cholesky).
MAX_PRECISION_ROWS = 4000

# Entries of the (chunk of new rows, fitted rows) kernel block of transform (float64): 16 MiB, so
# that transform's memory stays bounded whatever the number of new rows.
TRANSFORM_CHUNK_ENTRIES = 1 << 21

# Above this many rows the robustness graph is sparsified to nearest neighbours by default.
_DENSE_LIMIT = 2000


class PropertyOptimizedExplainer(BaseExplainer):
    """Explanations that minimize a weighted sum of property losses (Tadesse et al. 2024).

    ``W* = argmin_W lambda_faithful L_faithful + lambda_robust L_robust + lambda_smooth L_smooth
    + lambda_complex L_complex`` over the explanations ``W`` (one row per explained input),
    with the losses of :mod:`skexplain.metrics` summed over rows:

    * faithfulness: gradient matching ``sum_n ||W_n - grad f(x_n)||^2``, or function matching
      ``sum_n (f(x_n) - W_n . x_n)^2``;
    * robustness: pairwise ``sum_{n,n'} S_nn' ||W_n - W_n'||^2`` with ``S`` a kernel over the rows
      (dense, or sparsified to ``n_neighbors`` nearest rows) or, with
      ``robustness_weights="precision"``, the negated precision ``S = -pinv(K)`` of the paper's
      corrected loss; or the maximum of ``||W_n - W_n'||^2`` over neighbouring pairs
      (``S_nn' > 0``);
    * smoothness: ``sum_n sum_{d,d'} S~_dd' (W_nd - W_nd')^2`` with ``S~ = feature_similarity``;
    * complexity: ``sum_n ||W_n||_1``.

    ``fit(X)`` solves the joint (transductive) problem on the rows of X; ``fit_transform(X)``
    returns that optimum. ``transform(X_new)`` explains other rows by the extension consistent
    with the same objective: each new row's optimum with the fitted explanations held fixed (for
    a row of X that is its fitted explanation again, since the joint optimum is optimal row by
    row). Quadratic problems are solved exactly: the stationarity condition is the Sylvester
    equation ``(lambda_f I + 2 lambda_r L) W + W (2 lambda_s L~) = lambda_f G`` (dense
    eigendecompositions up to 2,000 rows, else conjugate gradients on a sparse kNN graph,
    matrix-free); the L1 term by accelerated proximal gradient; the max-difference robustness by
    cvxpy.

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    lambda_faithful, lambda_robust, lambda_smooth, lambda_complex : float, default=1, 0, 0, 0
        Non-negative weights of the properties (independent, as in the paper's eq. 1; the
        released code's ``lambda`` and ``1 - lambda`` are not used). ``lambda_faithful`` must be
        positive: without it the optimum ignores the model.
    faithfulness : {"gradient", "function"}, default="gradient"
    robustness : {"pairwise", "max"}, default="pairwise"
    kernel : {"gaussian", "threshold"}, default="gaussian"
        Similarity of rows: ``exp(-||x - x'||^2 / (2 length_scale^2))`` or
        ``1{||x - x'||^2 <= length_scale}``.
    length_scale : float, default=1.0
        Length scale of ``kernel``, in feature units.
    robustness_weights : {"kernel", "precision"}, default="kernel"
        The pair weights ``S`` of pairwise robustness. ``"kernel"``: ``S = K``, the kernel
        itself, a graph Laplacian's weights (every pair of nearby rows pulls its explanations
        together; sparse kNN graphs scale to millions of rows). ``"precision"``: ``S =
        -pinv(K)`` (:func:`skexplain.kernels.precision_weights`), the weights of the paper after
        its erratum and of the authors' released code, for every method's loss and in the
        solver: the GP form of Prop. 1 (the robustness loss is the GP prior's quadratic form up
        to the rows' own terms). About half of these weights are negative; they are dense
        (``n_neighbors`` does not apply) and cubic in the number of rows. Score explanations
        with ``robustness_loss(..., weights=...)`` of the same kind.
    n_neighbors : int or None, default=None
        Keep only each row's nearest neighbours in the similarity graph; None keeps every pair
        up to 2,000 rows and 10 neighbours beyond.
    neighbors_algorithm : {"auto", "exact", "approximate"}, default="auto"
        How the similarity graph finds each row's nearest rows: exact brute force (``N^2``),
        an approximate HNSW graph (faiss, the ``[scale]`` extra; near-linear, for millions of
        rows), or exact below 100,000 rows and approximate from there. An approximate graph's
        recall on a sample of rows is kept in ``neighbor_recall_``.
    feature_similarity : array-like of shape (n_features, n_features) or None, default=None
        ``S~`` of the smoothness loss, symmetric (e.g. :func:`skexplain.kernels.
        grid_feature_similarity` for images). Required when ``lambda_smooth > 0``.
    setting : {"transductive", "inductive"}, default="transductive"
        ``"inductive"``: the Gaussian-process posterior mean of Prop. 1, fitted on inducing
        points (gradient matching and pairwise gaussian robustness only; the robustness weights
        are then the kernel's precision, see :mod:`skexplain.optimization._gp`). A row's
        explanation, fitted or new, combines its own gradient with the GP's predictive from the
        inducing points, weighted by their precisions (the authors' inductive explanation; the
        exact posterior mean given the inducing points and the row), or is the predictive alone
        with ``query_gradient=False``.
    n_inducing : int or None, default=None
        Inducing points of the inductive setting: a random subset of that many rows of X
        (``random_state``); None uses every row, which gives the transductive optimum of the
        precision-weighted problem exactly.
    inducing_points : array-like of shape (n_inducing, n_features) or None, default=None
        Inducing points given explicitly, apart from the explained rows (the authors' setting:
        training points, then explained test points); overrides ``n_inducing``.
    query_gradient : bool, default=True
        In the inductive setting, combine each explained row's own gradient with the GP
        predictive (a row equal to an inducing point is observed once, not twice). False keeps
        the posterior mean from the inducing points alone, which ignores the row's gradient.
    solver : {"auto", "dense", "cg", "proximal", "cvxpy"}, default="auto"
    tol : float, default=1e-8
        Relative tolerance of the iterative solvers.
    max_iter : int, default=2000
        Iteration limit of the iterative solvers (conjugate gradients, proximal method).
    target : "predicted", int, label or None, default=None
        Output to explain: None or "predicted" explains a single output, or each row's
        predicted class; an int is an output index; any other value is a class label of the
        model's ``classes_`` (``target="barolo"``). :meth:`explain` takes one target per row.
    output : str, default="auto"
        The model output explained, passed to :func:`skexplain.models.as_model`: "auto" (the
        package default: a classifier's log-odds ``"logit"``, which does not saturate, a
        regressor's prediction, a torch module's raw output), "logit", "probability",
        "log_probability", "decision_function" or "predict".
    random_state : int, RandomState instance or None, default=None
        Chooses the inducing points.
    device : str or torch.device, default="auto"
        Where the inductive setting's GP runs its linear algebra (torch, float64): ``"auto"``
        is the model's device for a torch model on an accelerator, else CUDA when present,
        else the CPU. The transductive solvers run on the CPU.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the attributions equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Attributes
    ----------
    explanations_ : ndarray of shape (n_samples, n_features)
        The joint optimum on the fitted rows.
    objective_ : float
        The achieved objective. In the inductive setting it is the GP's objective on the fitted
        rows, which needs the precision of their kernel: beyond 4,000 rows it is NaN (as is the
        robustness loss), and only the faithfulness loss is reported.
    losses_ : dict
        Each property's loss at the optimum (robustness and smoothness where their lambda is
        positive), as :mod:`skexplain.metrics` sums them over rows.
    solver_ : str
        The solver used.
    solver_status_ : dict
        ``converged``, ``n_iter`` and ``residual``; a solver that does not converge warns with
        a ``ConvergenceWarning``.
    n_iter_ : int
        Iterations of the solver (1 for the direct ones).
    neighbor_recall_ : float
        Share of the true nearest rows the similarity graph found, measured on 1,000 rows:
        1.0 for an exact graph (and when there is no kNN graph), below 1 for an approximate one.
    device_ : torch.device
        The device of the inductive setting's GP (set by the inductive setting only).
    model_ : ModelAdapter
    n_features_in_ : int

    References
    ----------
    Tadesse, Hüyük, Pan, Doshi-Velez (2024), Directly optimizing explanations for desired
    properties.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import PropertyOptimizedExplainer
    >>> from skexplain.functions import Polynomial, grid
    >>> X = grid(2, 5, low=-2.0, high=2.0)
    >>> faithful = PropertyOptimizedExplainer(model=Polynomial(3)).fit_transform(X)
    >>> np.allclose(faithful, 3 * X**2)  # faithfulness alone: the gradient
    True
    >>> from skexplain.metrics import robustness_loss
    >>> robust = PropertyOptimizedExplainer(model=Polynomial(3), lambda_robust=10.0)
    >>> W = robust.fit_transform(X)
    >>> bool(robustness_loss(X, W).sum() < 0.1 * robustness_loss(X, faithful).sum())
    True
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "lambda_faithful": [Interval(Real, 0, None, closed="neither")],
        "lambda_robust": [Interval(Real, 0, None, closed="left")],
        "lambda_smooth": [Interval(Real, 0, None, closed="left")],
        "lambda_complex": [Interval(Real, 0, None, closed="left")],
        "faithfulness": [StrOptions({"gradient", "function"})],
        "robustness": [StrOptions({"pairwise", "max"})],
        "kernel": [StrOptions({"gaussian", "threshold"})],
        "length_scale": [Interval(Real, 0, None, closed="neither")],
        "robustness_weights": [StrOptions({"kernel", "precision"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "neighbors_algorithm": [StrOptions({"auto", "exact", "approximate"})],
        "feature_similarity": ["array-like", None],
        "setting": [StrOptions({"transductive", "inductive"})],
        "n_inducing": [Interval(Integral, 1, None, closed="left"), None],
        "inducing_points": ["array-like", None],
        "query_gradient": ["boolean"],
        "random_state": ["random_state"],
        "device": "no_validation",  # checked when the GP is fitted, by torch.device
        "solver": [StrOptions({"auto", "dense", "cg", "proximal", "cvxpy"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        model=None,
        *,
        lambda_faithful=1.0,
        lambda_robust=0.0,
        lambda_smooth=0.0,
        lambda_complex=0.0,
        faithfulness="gradient",
        robustness="pairwise",
        kernel="gaussian",
        length_scale=1.0,
        robustness_weights="kernel",
        n_neighbors=None,
        neighbors_algorithm="auto",
        feature_similarity=None,
        setting="transductive",
        n_inducing=None,
        inducing_points=None,
        query_gradient=True,
        solver="auto",
        tol=1e-8,
        max_iter=2000,
        target=None,
        output="auto",
        random_state=None,
        device="auto",
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.lambda_faithful = lambda_faithful
        self.lambda_robust = lambda_robust
        self.lambda_smooth = lambda_smooth
        self.lambda_complex = lambda_complex
        self.faithfulness = faithfulness
        self.robustness = robustness
        self.kernel = kernel
        self.length_scale = length_scale
        self.robustness_weights = robustness_weights
        self.n_neighbors = n_neighbors
        self.neighbors_algorithm = neighbors_algorithm
        self.feature_similarity = feature_similarity
        self.setting = setting
        self.n_inducing = n_inducing
        self.inducing_points = inducing_points
        self.query_gradient = query_gradient
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- setup ------------------------------------------------------------------------------------
    def _lambdas(self):
        return {
            "faithful": float(self.lambda_faithful),
            "robust": float(self.lambda_robust),
            "smooth": float(self.lambda_smooth),
            "complex": float(self.lambda_complex),
        }

    def _feature_similarity(self, d):
        if self.lambda_smooth == 0:
            return None
        if self.feature_similarity is None:
            raise ValueError("lambda_smooth > 0 needs feature_similarity, a (d, d) matrix")
        S = np.asarray(self.feature_similarity, dtype=np.float64)
        if S.shape != (d, d):
            raise ValueError(
                f"feature_similarity must have shape ({d}, {d}) for {d} features, got {S.shape}"
            )
        if not np.allclose(S, S.T) or np.any(S < 0) or not np.all(np.isfinite(S)):
            raise ValueError("feature_similarity must be symmetric, finite and non-negative")
        S = S.copy()
        np.fill_diagonal(S, 0.0)
        return S

    def _neighbors(self, n):
        if self.n_neighbors is not None:
            return self.n_neighbors
        return None if n <= _DENSE_LIMIT else 10

    def _similarity(self, X):
        """The row graph (None without robustness) and, for a kNN graph, each row's radius."""
        self.neighbor_recall_ = 1.0
        if self.lambda_robust == 0:
            return None, None
        if self.robustness_weights == "precision":
            if self.robustness == "max" or self.n_neighbors is not None:
                raise ValueError(
                    "robustness_weights='precision' weighs every pair by the kernel's negated "
                    "precision: it needs robustness='pairwise' and n_neighbors=None (the "
                    "precision of a kernel is dense)"
                )
            # S = -pinv(K) as skexplain.kernels.precision_weights; the precision itself is kept
            # for the new rows of transform
            K = pairwise_kernel(X, kernel=self.kernel, length_scale=self.length_scale)
            precision = np.linalg.pinv(K)
            self._precision = 0.5 * (precision + precision.T)
            S = -self._precision.copy()
            np.fill_diagonal(S, 0.0)
            return S, None
        k = self._neighbors(X.shape[0])
        if k is None:
            S = pairwise_kernel(X, kernel=self.kernel, length_scale=self.length_scale)
            np.fill_diagonal(S, 0.0)
            return S, None
        indices, self.neighbor_recall_ = nearest_neighbors(
            X,
            k,
            algorithm=self.neighbors_algorithm,
            random_state=self.random_state,
            return_recall=True,
        )
        graph = knn_kernel_graph(
            X, kernel=self.kernel, length_scale=self.length_scale, neighbors=indices
        )
        # a row's radius: the squared distance to the farthest row it lists
        return graph, listed_squared_distances(X, indices).max(axis=1, initial=0.0)

    def _target_values(self, X, target):
        if self.faithfulness == "gradient":
            return self.model_.gradient(X, target)
        return self.model_.predict(X, target)

    def _choose_solver(self, S):
        if self.solver != "auto":
            return self.solver
        if self.robustness == "max" and self.lambda_robust > 0:
            return "cvxpy"
        if self.lambda_complex > 0:
            return "proximal"
        if S is None or (self.faithfulness == "gradient" and not sparse.issparse(S)):
            return "dense"  # rows apart are solved exactly one by one
        return "cg"

    # -- fit ------------------------------------------------------------------------------------
    def _fit_inductive(self, X):
        unsupported = {
            "faithfulness='function'": self.faithfulness != "gradient",
            "robustness='max'": self.robustness != "pairwise",
            "kernel='threshold'": self.kernel != "gaussian",
            "lambda_smooth > 0": self.lambda_smooth > 0,
            "lambda_complex > 0": self.lambda_complex > 0,
            "lambda_robust = 0": self.lambda_robust == 0,
        }
        bad = [name for name, flag in unsupported.items() if flag]
        if bad:
            raise ValueError(
                "setting='inductive' is the GP of gradient matching with gaussian pairwise "
                f"robustness (lambda_robust > 0); it does not support {', '.join(bad)}"
            )
        n = X.shape[0]
        device = resolve_device(self.device, getattr(self.model_, "module", None))
        G_fit = self.model_.gradient(X, self.model_.resolve_target(X, self.target))
        if self.inducing_points is not None:
            Z = np.asarray(self.inducing_points, dtype=np.float64)
            if Z.ndim != 2 or Z.shape[1] != X.shape[1] or Z.shape[0] < 1:
                raise ValueError(
                    f"inducing_points must have shape (n_inducing, {X.shape[1]}), got shape "
                    f"{Z.shape}"
                )
            if not np.all(np.isfinite(Z)):
                raise ValueError("inducing_points contain NaN or inf")
            G_inducing = self.model_.gradient(Z, self.model_.resolve_target(Z, self.target))
        else:
            rows = np.arange(n)
            if self.n_inducing is not None and self.n_inducing < n:
                rng = check_random_state(self.random_state)
                rows = np.sort(rng.permutation(n)[: self.n_inducing])
            Z, G_inducing = X[rows], G_fit[rows]
        self.gp_ = InducingPointGP(
            self.lambda_faithful, self.lambda_robust, self.length_scale, device=device
        ).fit(Z, G_inducing)
        self.device_ = device
        self.inducing_points_ = Z
        self.explanations_ = self._inductive_explanations(X, G_fit)
        self.X_fit_ = X
        self.solver_ = "gp"
        self.solver_status_ = {"converged": True, "n_iter": 1, "residual": 0.0}
        self.n_iter_ = 1
        if n <= MAX_PRECISION_ROWS:
            self.objective_, self.losses_ = precision_objective(
                self.explanations_,
                G_fit,
                X,
                self.lambda_faithful,
                self.lambda_robust,
                self.length_scale,
                device=device,
            )
        else:  # the precision of an n x n kernel: a cubic cost the inductive setting avoids
            faithful = float(((self.explanations_ - G_fit) ** 2).sum())
            self.objective_ = float("nan")
            self.losses_ = {"faithful": faithful, "robust": float("nan")}

    def _fit(self, X):
        if self.setting == "inductive":
            return self._fit_inductive(X)
        target = self.model_.resolve_target(X, self.target)
        S, radii = self._similarity(X)
        problem = PropertyProblem(
            X,
            self._target_values(X, target),
            self.faithfulness,
            S,
            self.robustness,
            self._feature_similarity(X.shape[1]),
            self._lambdas(),
        )
        if self.robustness_weights == "precision" and S is not None:
            _check_convex(problem, self.faithfulness)
        solver = self._choose_solver(S)
        W, status = self._solve(problem, solver)
        self.explanations_ = W
        self.solver_ = solver
        self.solver_status_ = status
        self.n_iter_ = max(1, int(status["n_iter"]))
        self.losses_ = problem.losses(W)
        self.objective_ = problem.objective(W)
        self.X_fit_ = X
        self._problem_S = S  # read by the optimality checks (tests, benchmarks)
        self._radii = radii
        self._fit_target = target
        if not status["converged"]:
            _warn_unconverged(solver, status, self.tol, "fit")

    def _solve(self, problem, solver):
        lam = problem.lambdas
        if solver == "cvxpy":
            return self._solve_cvxpy(problem)
        if self.robustness == "max" and lam["robust"] > 0:
            raise ValueError(f"solver={solver!r} needs pairwise robustness (max: solver='cvxpy')")
        if solver == "proximal":
            rowwise = problem.S is None  # rows apart: each row is its own problem
            start, _ = solve_quadratic(problem, "dense" if rowwise else "cg", tol=1e-6)
            return proximal_gradient(
                problem.smooth_gradient,
                problem.lipschitz(rowwise=rowwise),
                lam["complex"],
                start,
                objective=problem.row_objective if rowwise else problem.objective,
                tol=self.tol,
                max_iter=self.max_iter,
                rowwise=rowwise,
            )
        if lam["complex"] > 0:
            raise ValueError(f"solver={solver!r} solves the quadratic problems only")
        if solver == "dense" and self.faithfulness != "gradient" and problem.S is not None:
            raise ValueError(
                "solver='dense' solves gradient matching with pairwise robustness and "
                "smoothness only"
            )
        return solve_quadratic(problem, solver, tol=self.tol, max_iter=self.max_iter)

    def _solve_cvxpy(self, problem):
        cp = _cvxpy()

        lam = problem.lambdas
        X = problem.X
        n, d = X.shape
        W = cp.Variable((n, d))
        if self.faithfulness == "gradient":
            terms = [lam["faithful"] * cp.sum_squares(W - problem.G)]
        else:
            terms = [lam["faithful"] * cp.sum_squares(problem.f - cp.sum(cp.multiply(W, X), 1))]
        constraints = []
        if problem.L is not None and lam["robust"] > 0:
            if self.robustness == "pairwise":
                terms.append(2 * lam["robust"] * _quad_trace(W, problem.L))
            else:
                i, j = problem.edges
                t = cp.Variable(nonneg=True)
                terms.append(lam["robust"] * t)
                if len(i):
                    constraints.append(cp.sum(cp.square(W[i] - W[j]), axis=1) <= t)
        if problem.L_features is not None and lam["smooth"] > 0:
            terms.append(2 * lam["smooth"] * _quad_trace(W.T, problem.L_features))
        if lam["complex"] > 0:
            terms.append(lam["complex"] * cp.sum(cp.abs(W)))
        cvx = cp.Problem(cp.Minimize(cp.sum(terms)), constraints)
        cvx.solve()
        converged = cvx.status == cp.OPTIMAL
        if W.value is None:
            raise RuntimeError(f"cvxpy could not solve the problem: status {cvx.status!r}")
        return np.asarray(W.value), {"converged": converged, "n_iter": 1, "residual": 0.0}

    def fit_transform(self, X, y=None):
        """Solve the joint problem on X and return its optimum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to explain, all at once.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The explanations minimizing the objective jointly over ``X``.
        """
        return self.fit(X).explanations_.copy()

    # -- new rows -------------------------------------------------------------------------------
    def _inductive_explanations(self, X, G):
        """The GP's explanation of rows X with gradients G (see ``query_gradient``)."""
        if not self.query_gradient:
            return self.gp_.predict(X)
        out = self.gp_.predict_with_gradient(X, G)
        observed = matching_rows(X, self.inducing_points_) >= 0
        if observed.any():  # already observed as an inducing point: not twice
            out[observed] = self.gp_.predict(X[observed])
        return out

    def _explain(self, X, target):
        if self.setting == "inductive":
            G = self.model_.gradient(X, target) if self.query_gradient else None
            return self._inductive_explanations(X, G)
        out = np.empty(X.shape)
        fitted = self._fitted_rows(X, target)
        known = fitted >= 0
        # a fitted row's extension is its own fitted explanation (the joint optimum is optimal
        # row by row): returned as such, also where an iterative solver left a residual
        out[known] = self.explanations_[fitted[known]]
        new = np.flatnonzero(~known)
        if new.size == 0:
            return out
        X_new = X[new]
        values = self._target_values(X_new, None if target is None else target[new])
        S_features = self._feature_similarity(X.shape[1])
        # new rows do not interact: chunks of rows bound the (chunk, n_fit) kernel block and
        # give every row the same answer whatever the batch
        step = max(1, TRANSFORM_CHUNK_ENTRIES // max(1, self.X_fit_.shape[0]))
        for start in range(0, new.size, step):
            rows = slice(start, start + step)
            out[new[rows]] = self._explain_new(X_new[rows], values[rows], S_features)
        return out

    def _fitted_rows(self, X, target):
        """Index of the fitted row equal to each row of X (same target), or -1."""
        index = matching_rows(X, self.X_fit_)
        match = index >= 0
        index = np.maximum(index, 0)
        if (target is None) != (self._fit_target is None):
            match[:] = False
        elif target is not None:
            match &= np.asarray(target) == self._fit_target[index]
        return np.where(match, index, -1)

    def _anchor_similarity(self, X):
        """Similarities ``(n, n_fit)`` of new rows to the fitted rows they are linked to.

        Dense graphs link every pair. On a kNN graph, as fitting would with the new row among
        the rows: the fitted rows it lists (its ``n_neighbors`` nearest) and, the graph being
        symmetrized, the fitted rows that would list it (no farther than their farthest listed
        row).
        """
        squared = squared_distances(X, self.X_fit_)
        similarity = kernel_of_squared_distance(squared, self.kernel, self.length_scale)
        if self.robustness_weights == "precision":
            # the new row's entries of the precision of the kernel of [X_fit; x] (block
            # inverse): -K^+ k / s with s = 1 - k^T K^+ k; the weights are their negation
            solved = similarity @ self._precision
            schur = 1.0 - (similarity * solved).sum(axis=1)
            return solved / np.maximum(schur, 1e-12)[:, None]
        if self._radii is None:
            return similarity
        k = min(self._neighbors(self.X_fit_.shape[0]), self.X_fit_.shape[0])
        linked = squared <= self._radii[None, :] * (1.0 + 1e-9)  # ties: rounding of the two
        nearest = np.argpartition(squared, k - 1, axis=1)[:, :k]
        np.put_along_axis(linked, nearest, True, axis=1)
        return np.where(linked, similarity, 0.0)

    def _explain_new(self, X, values, S_features):
        """Each new row's optimum with the fitted explanations held fixed (rows apart)."""
        lam = self._lambdas()
        anchors = None
        if lam["robust"] > 0:
            anchors = (self._anchor_similarity(X), self.explanations_)
        problem = PropertyProblem(
            X, values, self.faithfulness, None, self.robustness, S_features, lam, anchors=anchors
        )
        if self.robustness == "max" and lam["robust"] > 0:
            return self._explain_max(problem)
        solver = "proximal" if lam["complex"] > 0 else "dense"
        W, status = self._solve(problem, solver)
        if not status["converged"]:
            _warn_unconverged(solver, status, self.tol, "transform")
        return W

    def _explain_max(self, problem):
        """New rows under max robustness: a small cvxpy problem per row (slow; small data)."""
        cp = _cvxpy()

        lam = problem.lambdas
        X = problem.X
        S_fixed, W_fixed = problem.anchors
        worst = self.losses_.get("robust", 0.0)
        out = np.empty_like(X)
        for row in range(X.shape[0]):
            w = cp.Variable(X.shape[1])
            if self.faithfulness == "gradient":
                terms = [lam["faithful"] * cp.sum_squares(w - problem.G[row])]
            else:
                terms = [lam["faithful"] * cp.square(problem.f[row] - X[row] @ w)]
            neighbours = np.flatnonzero(S_fixed[row] > 0)
            t = cp.Variable()
            constraints = [t >= worst]
            if neighbours.size:
                diffs = W_fixed[neighbours] - cp.reshape(w, (1, -1), order="C")
                constraints.append(cp.sum(cp.square(diffs), axis=1) <= t)
            terms.append(lam["robust"] * t)
            if problem.L_features is not None and lam["smooth"] > 0:
                terms.append(2 * lam["smooth"] * cp.quad_form(w, problem.L_features, True))
            if lam["complex"] > 0:
                terms.append(lam["complex"] * cp.norm1(w))
            cp.Problem(cp.Minimize(cp.sum(terms)), constraints).solve()
            out[row] = w.value
        return out


def _check_convex(problem, faithfulness):
    """Refuse precision weights that make the objective non-convex (a stationary point would be
    a saddle): the quadratic part must be positive semi-definite."""
    L = problem.L.toarray() if sparse.issparse(problem.L) else problem.L
    lowest = float(np.linalg.eigvalsh(0.5 * (L + L.T))[0])
    scale = float(np.abs(np.diag(L)).max(initial=0.0))
    lam = problem.lambdas
    floor = lam["faithful"] if faithfulness == "gradient" else 0.0
    if floor + 2.0 * lam["robust"] * lowest < -1e-9 * max(1.0, 2.0 * lam["robust"] * scale):
        raise ValueError(
            "robustness_weights='precision': the Laplacian of the negated precision has the "
            f"eigenvalue {lowest:.3g} < 0, so lambda_robust={lam['robust']:g} makes the "
            "objective non-convex; lower lambda_robust or use robustness_weights='kernel'"
        )


def _warn_unconverged(solver, status, tol, where):
    warnings.warn(
        f"PropertyOptimizedExplainer.{where}: solver {solver!r} stopped after "
        f"{status['n_iter']} iterations with residual {status['residual']:.3g} > tol {tol:g}; "
        "the explanations are not the optimum (raise max_iter or tol)",
        ConvergenceWarning,
        stacklevel=4,
    )


def _cvxpy():
    return import_optional("cvxpy", purpose="PropertyOptimizedExplainer(solver='cvxpy')")


def _quad_trace(W, L):
    """``tr(W^T L W)`` for cvxpy, with L positive semi-definite (dense or sparse)."""
    cp = _cvxpy()

    L = L.toarray() if sparse.issparse(L) else np.asarray(L)
    values, vectors = np.linalg.eigh(0.5 * (L + L.T))
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return cp.sum_squares(root.T @ W)
