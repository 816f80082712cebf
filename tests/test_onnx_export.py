"""ONNX export of FineTec (with retrieval and seeded test-time variants) and
of a stock ST-GCN++, checked with onnxruntime; and the pieces restructured
for it, against the implementations they replaced."""
import copy
import json

import numpy as np
import pytest
import torch

from e2e_utils import load_tool
from finetec_mmaction.core.fill import akima_fill, neighbour_frames
from finetec_mmaction.core.perturbation import decompose_regions
from finetec_mmaction.core.random_draws import ReplayedDraws
from finetec_mmaction.core.regions import split_dynamic_static
from inference_utils import FINETEC, STGCNPP, tiny_checkpoint



# ------------------------------------ exportable pieces, same results
def test_neighbour_frames_equals_cumulative_max():
    gen = torch.Generator().manual_seed(0)
    for num_frames in (1, 2, 5, 48):
        valid = torch.rand(64, num_frames, generator=gen) > 0.6
        valid[0] = False
        valid[1] = True
        idx = torch.arange(num_frames).expand_as(valid)
        prev = torch.where(valid, idx, -1).cummax(1).values
        nxt = torch.where(valid, idx, num_frames).flip(1).cummin(
            1).values.flip(1)
        got = neighbour_frames(valid)
        assert torch.equal(got[0], prev) and torch.equal(got[1], nxt)


def test_akima_order_without_sort_is_unchanged():
    """akima_fill places observed frames first by a scatter; a stable sort
    gave the same order, and sequences with < 3 observed frames still get
    the linear fill (there is no shortcut on the values any more)."""
    from finetec_mmaction.core.fill import linear_fill
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(6, 30, 4, 3, generator=gen)
    valid = torch.rand(6, 30, generator=gen) > 0.5
    valid[0] = False
    valid[0, [3, 20]] = True  # two observed frames: linear
    out = akima_fill(x, valid)
    torch.testing.assert_close(out[0], linear_fill(x[:1], valid[:1])[0])
    order = torch.sort((~valid).to(torch.uint8), dim=1, stable=True).indices
    rank = valid.long().cumsum(1)
    frame = torch.arange(30).expand(6, -1)
    place = torch.where(valid, rank - 1, valid.sum(1)[:, None] + frame - rank)
    assert torch.equal(torch.zeros_like(place).scatter(1, place, frame),
                       order)


def test_replayed_draws_equal_a_generator_per_sample():
    """②'s seeded test-time variants: one batch with replayed draws equals
    each sample perturbed with its own generator (the former loop)."""
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(4, 2, 20, 17, 3, generator=gen) * 0.3
    x[:, :, ::5] = 0
    x[3, 1] = 0  # an absent second person
    batched = decompose_regions(x, perturb=True,
                                generator=ReplayedDraws(7, group=2))
    for i in range(4):
        alone = decompose_regions(
            x[i:i + 1], perturb=True,
            generator=torch.Generator().manual_seed(7))
        for key in ('dyna', 'stat'):
            assert torch.equal(batched[key][i], alone[key][0])
    draws = ReplayedDraws(7, group=2)
    first = draws.draw('rand', (4, 3))
    assert torch.equal(first[:2], first[2:])  # each sample the same
    second = draws.draw('randn', (4, 5))  # recorded on first use
    assert torch.equal(draws.rewind().draw('rand', (6, 3)), torch.cat(
        [first[:2]] * 3))  # replayed, tiled over 3 samples
    assert torch.equal(draws.draw('randn', (2, 5)), second[:2])
    with pytest.raises(RuntimeError, match='rewind'):
        draws.rewind().draw('randn', (4, 3))  # not what was recorded


def test_dynamic_regions_ties_go_to_the_earlier_region():
    motion = torch.tensor([[1., 3., 3., 0., 2.], [0.] * 5, [5., 4., 3., 2.,
                                                             1.]])
    dynamic, _ = split_dynamic_static(motion, 'coco', num_dynamic=2)
    regions = [[0, 1, 2, 3, 4], [5, 7, 9], [6, 8, 10], [11, 13, 15],
               [12, 14, 16]]

    def chosen(row):
        return [r for r, joints in enumerate(regions)
                if dynamic[row, joints[0]]]

    assert chosen(0) == [1, 2] and chosen(1) == [0, 1] and chosen(2) == [0,
                                                                         1]


# ---------------------------------------------------------------- export
@pytest.fixture(scope='module')
def exported(synthetic_file, tmp_path_factory):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    from finetec_mmaction.apis.inference import (config_test_pipeline,
                                                 init_recognizer)
    from finetec_mmaction.deployment import export_onnx, input_shape
    root = tmp_path_factory.mktemp('onnx')
    ckpt = tiny_checkpoint(FINETEC, str(root / 'finetec.pth'),
                           synthetic_file)
    model = init_recognizer(FINETEC, ckpt, 'cpu')
    shape = input_shape(model, config_test_pipeline(model.cfg))
    assert shape == (1, 1, 1, 48, 17, 3)
    # no graph optimisation: half the export time (the tool's test below
    # covers the default)
    path = export_onnx(model, str(root / 'finetec.onnx'), shape,
                       optimize=False)
    return dict(root=root, model=model, onnx=path, checkpoint=ckpt,
                shape=shape)


def hard_inputs(shape):
    """Generated clips, among them the cases of the branches that were
    removed: < 3 observed frames, one observed frame, a full clip."""
    from finetec_mmaction.deployment import example_input
    clips = [example_input(shape, seed=s, missing=m)
             for s, m in ((1, 0.5), (2, 0.75), (3, 0.1))]
    few = example_input(shape, seed=4, missing=0.0)
    keep = torch.zeros(shape[3], dtype=torch.bool)
    keep[[5, 30]] = True
    clips.append(few * keep[:, None, None])
    one = few.clone()
    one[..., 1:, :, :] = 0
    clips += [one, example_input(shape, seed=5, missing=0.0)]
    return clips


def test_finetec_onnx_equals_pytorch(exported, synthetic_file):
    from finetec_mmaction.deployment import (compare_scores, dataset_inputs,
                                             onnx_session)
    session = onnx_session(exported['onnx'])
    check = compare_scores(exported['model'], session,
                           hard_inputs(exported['shape']))
    assert check['max_abs_diff'] < 1e-5 and check['top1_agree'] == 1
    cfg = copy.deepcopy(exported["model"].cfg)
    cfg.test_dataloader.dataset.ann_file = synthetic_file
    check = compare_scores(exported['model'], session,
                           dataset_inputs(cfg, 4))
    assert check['num_clips'] == 4 and check['max_abs_diff'] < 1e-5
    # the scores are those predict() gives
    from mmaction.structures import ActionDataSample
    x = hard_inputs(exported['shape'])[0]
    with torch.no_grad():
        pred = exported['model'].predict(x, [ActionDataSample()])
    np.testing.assert_allclose(
        session.run(None, {'inputs': x.numpy()})[0][0],
        pred[0].pred_score.numpy(), atol=1e-5)


def test_export_tool_on_stock_stgcnpp_and_benchmark(synthetic_file,
                                                     tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    ckpt = tiny_checkpoint(STGCNPP, str(tmp_path / 'stgcnpp.pth'),
                           synthetic_file)
    options = ['--cfg-options', 'model.cls_head.num_classes=4',
               f'test_dataloader.dataset.ann_file={synthetic_file}']
    load_tool('deployment', 'export_onnx.py').main(
        [STGCNPP, ckpt, '--out', str(tmp_path / 's.onnx'), '--verify', '3',
         '--out-json', str(tmp_path / 'c.json')] + options)
    log = capsys.readouterr().out
    assert 'exporting RecognizerGCN for inputs (1, 1, 1, 48, 17, 3)' in log
    check = json.loads((tmp_path / 'c.json').read_text())
    assert check['num_clips'] == 3 and check['max_abs_diff'] < 1e-5
    assert check['top1_agree'] == 1
    load_tool('deployment', 'benchmark_onnx.py').main(
        [STGCNPP, ckpt, str(tmp_path / 's.onnx'), '--num-clips', '3',
         '--out-json', str(tmp_path / 'b.json')] + options)
    log = capsys.readouterr().out
    assert 'onnxruntime' in log and 'ms/clip' in log
    bench = json.loads((tmp_path / 'b.json').read_text())
    assert bench['pytorch'] > 0 and bench['onnxruntime'] > 0
