"""agser: mouth articulatory-gesture anchoring for cross-corpus speech emotion recognition.

The package implements each stage of the paper (landmarks, eye alignment,
phone alignment, segmentation, soft-DTW clustering, overlap and association
analyses, AG-anchored SER) as pure functions or scikit-learn-style
estimators; the book in ``book/`` runs them with papermill.
"""

from agser.errors import AgserError, InputError, ParameterError

__version__ = "0.1.0"
__all__ = ["AgserError", "InputError", "ParameterError", "__version__"]
