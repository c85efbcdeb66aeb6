"""The one place that imports scikit-learn's private parameter validation.

``sklearn.utils._param_validation`` is private but stable in practice (imbalanced-learn relies on
it too); pyproject.toml pins the scikit-learn range it was checked against, so a change there
breaks here, in one file.
"""

from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "validate_parameter_constraints",
]
