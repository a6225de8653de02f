import numpy as np
import pytest

from lightnets import manifold


def test_spiral_is_centred_and_grows_from_the_origin():
    points = manifold.spiral(400)
    radius = np.linalg.norm(points, axis=1)
    assert points.shape == (400, 2)
    assert radius[0] == pytest.approx(0.1) and radius[-1] == pytest.approx(1.0)
    assert np.all(np.diff(radius) > 0)


def test_random_embedding_is_fixed_by_its_seed():
    assert np.array_equal(manifold.random_embedding(5, seed=3), manifold.random_embedding(5, seed=3))
    assert not np.array_equal(manifold.random_embedding(5, seed=3), manifold.random_embedding(5, seed=4))
    assert manifold.random_embedding(7).shape == (7, 2)


def test_linear_roundtrip_is_the_identity_the_fig1_control():
    points = manifold.spiral()
    for n in (2, 3, 30):
        recovered = manifold.relu_roundtrip(points, manifold.random_embedding(n), nonlinear=False)
        assert np.allclose(recovered, points)
        assert manifold.shape_error(points, recovered) < 1e-12


def test_relu_roundtrip_keeps_a_point_whose_every_coordinate_is_positive():
    embedding = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    point = np.array([[0.3, 0.5]])
    assert np.allclose(manifold.relu_roundtrip(point, embedding), point)


def test_shape_error_forgives_affine_maps_but_not_folding():
    points = manifold.spiral()
    assert manifold.shape_error(points, 0.5 * points @ np.array([[1.0, 2.0], [0.0, 1.0]]) + 3) < 1e-12
    folded = np.abs(points)
    assert manifold.shape_error(points, folded) > 0.5


def test_lost_fraction_counts_points_whose_positive_rows_do_not_span_the_plane():
    embedding = np.eye(2)  # ReLU(T x) keeps x only in the positive quadrant
    points = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    assert manifold.lost_fraction(points, embedding) == 0.75


def test_mobilenet_v2_fig1_collapse_fades_as_n_grows():
    # Fig. 1: n = 2, 3 collapse; n = 15, 30 keep the spiral (here: under 10% shape error, no lost points).
    curve = manifold.collapse_curve([2, 3, 5, 15, 30], seeds=range(10))
    relu = curve["shape_error_relu"]
    assert relu[0] > 0.2 and relu[-1] < 0.1 and relu[-2] < 0.1
    assert all(a > b for a, b in zip(relu, relu[1:]))
    assert curve["lost_fraction_relu"][0] > 0.5 and curve["lost_fraction_relu"][-1] == 0.0
    assert max(curve["shape_error_linear"]) < 1e-12


@pytest.mark.parametrize("call", [lambda: manifold.random_embedding(0), lambda: manifold.spiral(1),
                                  lambda: manifold.random_embedding(3, seed=-1),
                                  lambda: manifold.collapse_curve([2], seeds=[])])
def test_manifold_rejects_bad_arguments(call):
    with pytest.raises(ValueError):
        call()
