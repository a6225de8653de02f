"""Lesson 05's data: the pointing game's tolerance (Zhang et al., ECCV 2016) as lightnets.cam
holds it, read by the notebook instead of typed."""
import pytest

from lightnets import cam


def test_pointing_tolerance_is_zhangs_15_px_on_500_px_images():
    assert (cam.POINTING_TOLERANCE_PX, cam.POINTING_IMAGE_SIDE_PX) == (15, 500)
    assert cam.pointing_tolerance(500) == 15
    assert cam.pointing_tolerance(128) == 4  # 3 % of the side, as lesson 05 says
    assert cam.pointing_tolerance(224) == 7


@pytest.mark.parametrize("resolution", [0, -3, 1.5])
def test_pointing_tolerance_rejects_a_bad_resolution(resolution):
    with pytest.raises((ValueError, TypeError), match="resolution"):
        cam.pointing_tolerance(resolution)
