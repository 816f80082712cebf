"""The content-addressed cache of module ①'s test-time restorations
(models/recognizers/restoration_cache.py) and its hook in
RecognizerFineTec.restore: same predictions with and without it, reuse only
where module and clip are the same, nothing cached in training."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch import nn

from e2e_utils import TEST_CONFIGS
from finetec_mmaction.evaluation.speed import build_model
from finetec_mmaction.core import frame_validity
from finetec_mmaction.models.recognizers import (RestorationCache,
                                                 active_restoration_cache,
                                                 module_fingerprint,
                                                 restoration_cache)

FINETEC = osp.join(TEST_CONFIGS, 'finetec_tiny_gymsynth.py')
CLIP_LEN = 48


def _model(seed=0, **completion):
    cfg = Config.fromfile(FINETEC)
    cfg.model.completion.update(
        dict(dict(retrieval=dict(num_neighbours=4)), **completion))
    return build_model(cfg, CLIP_LEN, bank_size=16, seed=seed).eval()


def _clips(seed=0, batch=3):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 1, 1, CLIP_LEN, 17, 3, generator=gen) * 0.3
    drop = torch.rand(batch, 1, 1, CLIP_LEN, 1, 1, generator=gen) < 0.6
    drop[..., 0, :, :] = False
    return x.masked_fill(drop, 0)  # (N, num_clips, M, T, V, C)


def _features(model, x):
    with torch.no_grad():
        return model.extract_feat(x)[0]


def _share_completion(src, dst):
    dst.completion.load_state_dict(src.completion.state_dict())


def test_cached_predictions_equal_uncached_and_are_reused():
    model = _model()
    x = _clips()
    plain = _features(model, x)
    with restoration_cache() as cache:
        assert active_restoration_cache() is cache
        first = _features(model, x)
        assert (cache.hits, cache.misses) == (0, 3)
        second = _features(model, x)
        assert (cache.hits, cache.misses) == (3, 3)
    assert active_restoration_cache() is None
    torch.testing.assert_close(first, plain)
    torch.testing.assert_close(second, plain)


def test_models_sharing_the_frozen_completion_share_entries():
    # other seed -> other backbone weights and other random ① weights; with
    # the ① state copied over, the restorations are the same function
    first, second = _model(seed=0), _model(seed=1)
    _share_completion(first, second)
    x = _clips()
    expected = _features(second, x)
    with restoration_cache() as cache:
        _features(first, x)
        got = _features(second, x)
    assert cache.hits == 3
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize('change', ['weights', 'bank', 'option'])
def test_another_completion_module_never_hits(change):
    first = _model()
    if change == 'option':  # same state, other retrieval settings
        second = _model(retrieval=dict(num_neighbours=3))
        _share_completion(first, second)
    else:
        second = _model()
        _share_completion(first, second)
        with torch.no_grad():
            if change == 'weights':  # written in place after first use
                second.completion.embed.weight.add_(0.1)
            else:
                second.completion.bank.set_sequences(
                    second.completion.bank.sequences * 1.1)
    x = _clips()
    cache = RestorationCache()
    with restoration_cache(cache):
        _features(first, x)
        _features(second, x)
    assert cache.hits == 0 and cache.misses == 6
    fp = module_fingerprint
    assert fp(first.completion) != fp(second.completion)


def test_query_in_bank_and_clip_content_are_part_of_the_key():
    model = _model()
    x = _clips()[:, 0]
    valid = frame_validity(x)
    cache = RestorationCache()
    with torch.no_grad():
        cache.restore(model.completion, x, valid, False)
        cache.restore(model.completion, x, valid, True)
        assert cache.hits == 0
        other = x.clone()
        other[0, 0, 5] += 0.01  # one joint of one clip moved
        cache.restore(model.completion, other, frame_validity(other), False)
    assert cache.hits == 2 and cache.misses == 7


def test_nothing_is_cached_in_training_mode():
    model = _model().train()
    with restoration_cache() as cache:
        _features(model, _clips())
    assert cache.hits == cache.misses == 0


def test_disk_entries_serve_a_new_process(tmp_path):
    model = _model()
    x = _clips()
    with restoration_cache(directory=str(tmp_path)) as cache:
        expected = _features(model, x)
    assert cache.misses == 3 and len(list(tmp_path.rglob('*.pt'))) == 3
    with restoration_cache(directory=str(tmp_path)) as fresh:
        got = _features(model, x)
    assert fresh.hits == 3 and fresh.misses == 0
    torch.testing.assert_close(got, expected)


def test_memory_is_bounded():
    model = _model()
    clip_bytes = CLIP_LEN * 17 * 3 * 4
    with restoration_cache(max_bytes=2 * clip_bytes) as cache:
        _features(model, _clips(batch=5))
    assert len(cache) == 2 and cache.state()['bytes'] == 2 * clip_bytes


class _BatchDependent(nn.Module):
    """Not a per-clip function: adds the batch mean."""

    def forward(self, x, valid, query_in_bank):
        return x + x.mean(0, keepdim=True)


def test_a_module_that_depends_on_the_batch_is_refused():
    module = _BatchDependent()
    x = torch.randn(4, 1, 8, 5, 3)
    valid = frame_validity(x)
    cache = RestorationCache()
    cache.restore(module, x[:2], valid[:2], False)
    with pytest.raises(RuntimeError, match='depends on more than the clip'):
        cache.restore(module, x[1:], valid[1:], False)
