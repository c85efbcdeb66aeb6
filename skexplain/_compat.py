"""The one place that imports scikit-learn's private helpers.

``sklearn.utils._param_validation`` and ``_BaseComposition`` (exported here as
``BaseComposition``: the named-members plumbing of ``StackingClassifier`` and ``Pipeline``) are
private but stable in practice (imbalanced-learn relies on them too); pyproject.toml pins the
scikit-learn range they were checked against, so a change there breaks here, in one file.
"""

from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.metaestimators import _BaseComposition as BaseComposition

__all__ = [
    "BaseComposition",
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "validate_parameter_constraints",
    "validate_params",
]
