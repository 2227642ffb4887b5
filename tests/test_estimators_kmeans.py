"""SoftDTWKMeans as a scikit-learn estimator: the common checks, fitted state, refits."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from agser.clustering import SoftDTWKMeans
from agser.errors import ParameterError

# scikit-learn's checks pass 2-D (n_samples, n_features) arrays, which
# SoftDTWKMeans reads as n univariate series of n_features frames (tslearn's
# convention). Every check runs; these fail by design, for the reason given.
SERIES_NOT_FEATURES = (
    "a 2-D X is n univariate series of T frames; n_features_in_ is the frame dimension d "
    "(1 here, as tslearn's TimeSeriesKMeans sets it), not T"
)
ANY_LENGTH = (
    "predict/transform take series of any length: X with one column less is a shorter series, "
    "not an input of the wrong shape"
)
EXPECTED_FAILED = {
    "check_n_features_in": SERIES_NOT_FEATURES,
    "check_n_features_in_after_fitting": SERIES_NOT_FEATURES,
    "check_transformer_general": ANY_LENGTH,
}


def _small(**kw):
    return SoftDTWKMeans(n_clusters=3, max_iter=5, max_iter_barycenter=10, random_state=0, **kw)


@parametrize_with_checks(
    [_small(), _small(backend="torch", dtype="float64")],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _data(seed=0, n=12):
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.normal(size=(int(rng.integers(2, 7)), 2)), axis=0) + 5 * (i % 3) for i in range(n)]


def test_init_only_stores_and_clone_round_trips():
    km = SoftDTWKMeans(n_clusters=-4, gamma="not a number", backend="nonsense")
    # no validation in __init__: the bad values are kept as given until fit
    assert km.get_params()["n_clusters"] == -4 and km.backend == "nonsense"
    params = _small(gamma=0.3).get_params()
    assert clone(_small(gamma=0.3)).get_params() == params
    assert _small().set_params(gamma=2.0).gamma == 2.0
    with pytest.raises(ValueError, match="Invalid parameter"):
        _small().set_params(no_such_parameter=1)
    assert SoftDTWKMeans().backend == "auto"


@pytest.mark.parametrize("method", ["predict", "transform"])
def test_unfitted_model_raises_not_fitted(method):
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(_small(), method)(_data())
    # also agser's own error type, so existing `except ParameterError` code still catches it
    with pytest.raises(ParameterError):
        getattr(_small(), method)(_data())


def test_unfitted_save_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        _small().save(tmp_path / "model.npz")
    assert not (tmp_path / "model.npz").exists()


def test_refit_discards_every_earlier_fitted_attribute():
    pytest.importorskip("tslearn")
    X = _data()
    km = _small(backend="tslearn").fit(X)
    assert hasattr(km, "tslearn_model_") and hasattr(km, "tslearn_inertia_")
    km.set_params(backend="torch").fit(X)
    assert not hasattr(km, "tslearn_model_") and not hasattr(km, "tslearn_inertia_")
    assert {"cluster_centers_", "labels_", "inertia_", "n_iter_", "n_features_in_"} <= set(vars(km))
    # a fit that stops at a wrong parameter leaves no stale model behind either
    km.set_params(n_clusters=0)
    with pytest.raises(ParameterError, match="n_clusters"):
        km.fit(X)
    assert not hasattr(km, "cluster_centers_")
    with pytest.raises(NotFittedError):
        km.predict(X)


def test_fit_transform_and_fit_predict_agree_with_the_fitted_model():
    X = _data(1)
    km = _small()
    D = km.fit_transform(X)
    np.testing.assert_allclose(D, km.transform(X))
    assert D.shape == (len(X), 3)
    assert np.array_equal(_small().fit_predict(X), km.labels_)


def test_backends_resolve_and_refuse_impossible_choices():
    X = _data(2)
    with pytest.raises(ParameterError, match="backend='numba' runs on the CPU only"):
        _small(backend="numba", device="cuda").fit(X)
    with pytest.raises(ParameterError, match="backend"):
        _small(backend="sklearn").fit(X)
    with pytest.raises(ParameterError, match="device"):
        _small(device="no-such-device").fit(X)


def test_numba_and_torch_backends_agree_in_float64():
    X = _data(3, n=18)
    kw = dict(n_clusters=3, gamma=0.5, max_iter=4, random_state=1, dtype="float64")
    a = SoftDTWKMeans(backend="numba", **kw).fit(X)
    b = SoftDTWKMeans(backend="torch", **kw).fit(X)
    assert np.array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-6, atol=1e-8)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-9)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-10, atol=1e-10)
