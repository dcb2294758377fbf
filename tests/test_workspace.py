"""The buffers simulate keeps between calls: reuse must not change a result,
nor may a later call change an earlier result; the byte limit holds."""
import copy

import numpy as np
import pytest

import initcore
from initcore.common import workspace as _workspace


@pytest.fixture(autouse=True)
def empty_workspace():
    initcore.free_workspace()
    yield
    initcore.free_workspace()


def kept_bytes():
    return sum(a.nbytes for a in _workspace._kept)


def test_take_gives_back_the_kept_buffer_of_that_shape_and_dtype():
    a = _workspace.take((512, 256), np.float32)
    _workspace.give([a])
    assert _workspace.take((512, 256), np.float64) is not a
    assert _workspace.take((256, 512), np.float32) is not a
    assert _workspace.take((512, 256), np.float32) is a
    assert _workspace.take((512, 256), np.float32) is not a  # taken: not kept twice


def test_small_buffers_and_views_are_not_kept():
    small = np.empty(_workspace.SMALLEST // 8, np.float32)
    view = np.empty((1024, 1024), np.float32)[:, :512]
    _workspace.give([small, view])
    assert kept_bytes() == 0


def test_the_limit_keeps_the_newest(monkeypatch):
    monkeypatch.setattr(_workspace, "LIMIT", 3 * (1 << 20))
    arrays = [np.empty(1 << 18, np.float32) for _ in range(5)]  # 1 MiB each
    for a in arrays:
        _workspace.give([a])
    assert kept_bytes() == 3 * (1 << 20)
    assert [id(a) for a in _workspace._kept] == [id(a) for a in arrays[2:]]


def test_free_workspace_empties_it():
    _workspace.give([np.empty(1 << 20, np.float32)])
    assert kept_bytes() > 0
    initcore.free_workspace()
    assert kept_bytes() == 0


@pytest.mark.parametrize("checkpoint", [None, 3])
def test_reused_buffers_give_the_same_records_and_leave_earlier_results_alone(checkpoint):
    """Three simulations of one network: with an empty workspace, then
    reusing the buffers of the first (same seed: the same bits), then with
    another seed. The first result must not change under the later calls."""
    net = initcore.MLP([300] * 8, activation="tanh", init="xavier_normal", seed=0)
    fresh = initcore.simulate(net, batch=512, seed=1, checkpoint=checkpoint, progress=False)
    assert kept_bytes() > 0  # the buffers were kept ...
    before = copy.deepcopy(fresh.to_dict())
    reused = initcore.simulate(net, batch=512, seed=1, checkpoint=checkpoint, progress=False)
    assert reused.to_json() == fresh.to_json()
    other = initcore.simulate(net, batch=512, seed=2, checkpoint=checkpoint, progress=False)
    assert other.to_json() != fresh.to_json()
    assert fresh.to_dict() == before  # ... and nothing of a result lives in them
