"""Small helpers shared by several parts of skexplain (for developers, not a public API).

Every helper that two modules of different subpackages need lives here, in a private module,
and is imported through ``skexplain.utils``: array and tensor tests, the validation of baselines,
image shapes and positive integers, random subsets, torch devices and pickled modules, optional
dependencies (``import_optional``). This package sits at the bottom of the import graph: it imports
nothing else from skexplain, except :mod:`skexplain.utils.discovery`, which walks the whole package
(as ``sklearn.utils.discovery`` does) inside its functions and is imported by nobody in it.
"""

from ._arrays import is_module as is_module
from ._arrays import is_tensor as is_tensor
from ._arrays import matching_rows as matching_rows
from ._arrays import squared_distances as squared_distances
from ._arrays import subset_masks as subset_masks
from ._background import check_background as check_background
from ._background import fresh_random_state as fresh_random_state
from ._background import sample_background as sample_background
from ._dask import is_dask_collection as is_dask_collection
from ._dask import map_row_blocks as map_row_blocks
from ._frames import ColumnCodec as ColumnCodec
from ._frames import is_frame as is_frame
from ._models import check_differentiable as check_differentiable
from ._models import piecewise_constant_part as piecewise_constant_part
from ._models import votes_as_probabilities as votes_as_probabilities
from ._optional import import_optional as import_optional
from ._torch import pack_module as pack_module
from ._torch import resolve_device as resolve_device
from ._torch import unpack_module as unpack_module
from ._validation import check_baseline as check_baseline
from ._validation import check_image_shape as check_image_shape
from ._validation import check_positive_integer as check_positive_integer
from ._validation import check_target as check_target
