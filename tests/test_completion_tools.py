"""The restoration tools on synthetic data: the completion benchmark
(tools/analysis/completion_benchmark.py), the Fig. 5-style visualiser
(tools/visualize_completion.py) and the plug-and-play configs
(configs/finetec/plugplay/) through tools/test.py.

One tiny stage-1 run and one tiny clean-trained ST-GCN++ are shared by the
module (trained at the same time, through tools/train.py)."""
import csv
import json
import math
import os
import os.path as osp
import pickle
import re

import numpy as np
import pytest
from mmengine.config import Config

from e2e_utils import (REPO, TEST_CONFIGS, TOOLS, data_options, load_tool,
                       last_checkpoint, run, scalars)
from finetec_mmaction import apis

STAGE1 = osp.join(TEST_CONFIGS, 'completion_tiny_gymsynth.py')
CLASSIFIER = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_clean_gymsynth.py')
PLUGPLAY_TINY = osp.join(TEST_CONFIGS, 'plugplay_tiny_gymsynth.py')
PLUGPLAY_DIR = osp.join(REPO, 'configs', 'finetec', 'plugplay')
STRATEGIES = ['random', 'in-between', 'burst']
RATIOS = ['0.25', '0.5', '0.75']


benchmark_tool = load_tool('analysis', 'completion_benchmark.py')
visualize_tool = load_tool('visualize_completion.py')


@pytest.fixture(scope='module')
def trained(stage1_dir, synthetic_file, tmp_path_factory):
    """The shared tiny stage-1 work dir and a tiny clean-trained ST-GCN++
    checkpoint (through tools/train.py)."""
    root = tmp_path_factory.mktemp('completion_tools')
    classifier_dir = str(root / 'classifier')
    run([osp.join(TOOLS, 'train.py'), CLASSIFIER, '--work-dir',
         classifier_dir, '--seed', '0', '--cfg-options'] +
        data_options(synthetic_file), cwd=str(root))
    return dict(stage1=stage1_dir, classifier=last_checkpoint(classifier_dir),
                root=str(root))


def _finite(x):
    return x is not None and math.isfinite(x)


def test_benchmark_completion_fills_and_classifier(trained, synthetic_file,
                                                   tmp_path, capsys):
    out_dir = str(tmp_path / 'bench')
    benchmark_tool.main([
        STAGE1, trained['stage1'], '--ann-file', synthetic_file, '--ratios',
        *RATIOS, '--strategies', *STRATEGIES, '--classifier-config',
        CLASSIFIER, '--classifier-checkpoint', trained['classifier'],
        '--out-dir', out_dir, '--batch-size', '8', '--num-workers', '0',
        '--device', 'cpu'
    ])
    printed = capsys.readouterr().out
    with capsys.disabled():  # show the table in `pytest -s`
        print('\n' + printed[printed.index('samples of'):])
    for word in ('MPJPE', 'N-MPJPE', 'MPJVE', 'zero-fill', 'duplication',
                 'interpolation', 'completion / interp', 'Classifier top-1',
                 'random@0.25', 'in-between@0.75', 'burst@0.5'):
        assert word in printed
    assert sorted(f for f in os.listdir(out_dir)) == [
        'completion_benchmark.csv', 'completion_benchmark.json'
    ]  # no temporary files left behind

    results = json.load(open(osp.join(out_dir, 'completion_benchmark.json')))
    names = [f'{s}@{r}' for s in STRATEGIES for r in ('0.25', '0.5', '0.75')]
    assert [s['name'] for s in results['settings']] == names
    assert results['meta']['num_samples'] == 8
    assert results['meta']['methods'] == [
        'zero', 'nearest', 'linear', 'akima', 'completion'
    ]
    for setting in results['settings']:
        ratio = float(setting['ratio'])
        assert abs(setting['missing_fraction'] - ratio) < 0.1
        res = results['restoration'][setting['name']]
        for method in ('zero', 'nearest', 'linear', 'akima', 'completion'):
            assert all(_finite(res[method][k])
                       for k in ('mpjpe', 'n_mpjpe', 'mpjve'))
        assert res['linear']['mpjpe'] < res['zero']['mpjpe']
        assert res['nearest']['mpjpe'] < res['zero']['mpjpe']
        assert res['completion']['mpjpe'] < res['zero']['mpjpe']
        # 30 iterations from a zero-initialised correction: near
        # interpolation
        assert 0.5 < results['completion_over_linear'][
            setting['name']]['mpjpe'] < 1.5
        cls = results['classification'][setting['name']]
        assert set(cls) == {
            'zero', 'nearest', 'linear', 'akima', 'completion'
        }
        assert all(0 <= cls[m]['top1'] <= 1 for m in cls)
    assert 0 <= results['classification']['clean']['top1'] <= 1

    # the same numbers as CompletionMetric in the stage-1 validation (same
    # split, masks, clips and checkpoint)
    logged = [s for s in scalars(trained['stage1'])
              if 'completion/random@0.5/mpjpe' in s][-1]
    res = results['restoration']['random@0.5']
    for method, prefix in (('completion', 'completion/'),
                           ('linear', 'completion/linear/'),
                           ('nearest', 'completion/nearest/'),
                           ('zero', 'completion/zero/')):
        for key in ('mpjpe', 'n_mpjpe', 'mpjve'):
            assert res[method][key] == pytest.approx(
                logged[f'{prefix}random@0.5/{key}'], abs=1e-4)

    with open(osp.join(out_dir, 'completion_benchmark.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 + 9 * 5  # clean classifier row + settings x methods
    assert rows[0]['strategy'] == 'clean' and rows[0]['top1']
    assert {(r['strategy'], float(r['ratio']), r['method'])
            for r in rows[1:]} == {
                (s, float(r), m) for s in STRATEGIES for r in RATIOS
                for m in ('zero', 'nearest', 'linear', 'akima', 'completion')
            }


def test_benchmark_baselines_only(synthetic_file, tmp_path, capsys):
    out_dir = str(tmp_path / 'bench')
    benchmark_tool.main([
        STAGE1, '--ann-file', synthetic_file, '--ratios', 'severe', '0.5',
        '--strategies', 'in-between', '--max-samples', '4', '--out-dir',
        out_dir, '--num-workers', '0', '--no-progress'
    ])
    printed = capsys.readouterr().out
    assert 'interpolation' in printed
    assert not re.search(r'^completion', printed, re.M)
    results = json.load(open(osp.join(out_dir, 'completion_benchmark.json')))
    assert results['meta']['methods'] == [
        'zero', 'nearest', 'linear', 'akima'
    ]
    assert results['meta']['num_samples'] == 4
    assert 'completion_over_linear' not in results
    assert 'classification' not in results
    for name in ('in-between@0.75', 'in-between@0.5'):
        res = results['restoration'][name]
        assert res['linear']['mpjpe'] < res['zero']['mpjpe']
    with open(osp.join(out_dir, 'completion_benchmark.csv')) as f:
        assert len(list(csv.DictReader(f))) == 2 * 4


def test_benchmark_untrained_completion_is_its_base_fill(synthetic_file,
                                                         tmp_path):
    """--untrained scores the config's module without a checkpoint, its
    bank built from the config: without self-validation Akima exactly, and
    with retrieval something else (whose detail comes from the bank)."""
    rows = {}
    for name, extra in (('akima', ['model.completion.self_validation=None']),
                        ('retrieval', [
                            'model.completion.retrieval.num_neighbours=2'])):
        out_dir = str(tmp_path / name)
        results = benchmark_tool.main([
            STAGE1, '--untrained', '--ann-file', synthetic_file, '--ratios',
            '0.75', '--strategies', 'in-between', '--max-samples', '4',
            '--out-dir', out_dir, '--num-workers', '0', '--no-progress',
            '--cfg-options', f'model.completion.bank.ann_file={synthetic_file}'
        ] + extra)
        rows[name] = results['restoration']['in-between@0.75']
        assert results['meta']['checkpoint'] == 'untrained'
    untrained = rows['akima']
    assert untrained['completion']['mpjpe'] == pytest.approx(
        untrained['akima']['mpjpe'], rel=1e-5)
    assert rows['retrieval']['completion']['mpjpe'] != pytest.approx(
        untrained['akima']['mpjpe'], rel=1e-3)
    with pytest.raises(SystemExit):
        benchmark_tool.main([STAGE1, 'some.pth', '--untrained'])


def _bank_ids(cfg):
    """frame_dirs of the sequences the (rebuilt) bank config holds."""
    from finetec_mmaction.datasets.safe_pickle import safe_load_pickle
    from finetec_mmaction.datasets.validation import select_split
    bank = cfg.model.completion.bank
    annos, _ = select_split(safe_load_pickle(bank.ann_file), bank.split,
                            bank.ann_file)
    classes = bank.get('classes')
    return {a['frame_dir'] for a in annos
            if classes is None or a['label'] in classes}


def test_benchmark_stand_in_banks_and_validation_holdout(synthetic_file,
                                                         stage1_dir,
                                                         tmp_path):
    """--bank-mode class-disjoint tests only classes the bank lacks,
    --bank-mode small shrinks the bank, --holdout (per class or by group)
    tests clips of the training split that the bank does not hold; the
    tool reports a bootstrap interval around completion / min(interp,
    Akima)."""
    from finetec_mmaction.evaluation.restoration import (apply_bank_mode,
                                                         apply_holdout)
    from finetec_mmaction.models.completion import SkeletonBank

    def config():
        cfg = Config.fromfile(STAGE1)
        cfg.merge_from_dict({'model.completion.bank.ann_file':
                             synthetic_file})
        return cfg

    train = _bank_ids(config())
    assert len(train) == 16
    # class-disjoint: a bank of classes 0-1, tested classes 2-3
    cfg = config()
    classes, meta = apply_bank_mode(cfg, 'class-disjoint')
    assert classes == [2, 3] and meta['bank_classes'] == [0, 1]
    assert SkeletonBank.build(cfg.model.completion.bank, 48, 17,
                              3).sequences.shape[0] == 8
    # small: a seeded subset of the training split
    cfg = config()
    apply_bank_mode(cfg, 'small', size=5)
    assert SkeletonBank.build(cfg.model.completion.bank, 48, 17,
                              3).sequences.shape[0] == 5
    # holdout, per class and by group: bank + tested clips = training split
    for group, held_count in ((None, 4), (r'_(\d{4})$', 8)):
        cfg = config()
        spec = apis.eval_spec_from_config(cfg, ann_file=synthetic_file)
        apply_holdout(cfg, spec, 0.25 if group is None else 0.5, 0, group)
        bank = _bank_ids(cfg)
        dataset = apis.build_eval_dataset(spec, 0.5, 'burst')
        held = {dataset.get_data_info(i)['frame_dir']
                for i in range(len(dataset))}
        assert len(held) == held_count and not bank & held
        assert bank | held == train
        if group is not None:  # whole groups on one side
            assert len({d[-4:] for d in held}) == 2
            assert not {d[-4:] for d in held} & {d[-4:] for d in bank}
    with pytest.raises(ValueError, match='does not match'):
        cfg = config()
        spec = apis.eval_spec_from_config(cfg, ann_file=synthetic_file)
        apply_holdout(cfg, spec, 0.5, 0, r'subject\d+')
        apis.build_eval_dataset(spec, 0.5, 'burst')
    # through the tool: validation on the class-disjoint stand-in
    out_dir = str(tmp_path / 'validation')
    results = benchmark_tool.main([
        STAGE1, '--untrained', '--holdout', '0.5', '--bank-mode',
        'class-disjoint', '--ratios', '0.75', '--strategies', 'in-between',
        '--out-dir', out_dir, '--num-workers', '0', '--no-progress',
        '--cfg-options', f'model.completion.bank.ann_file={synthetic_file}',
        'model.completion.retrieval.num_neighbours=2'
    ])
    meta = results['meta']
    assert meta['num_samples'] == 4 and meta['classes'] == [2, 3]
    assert 'holdout' in meta['holdout'] and meta['bank_classes'] == [0, 1]
    ci = results['best_fill_interval']['in-between@0.75']
    assert ci['low'] <= ci['ratio'] <= ci['high']
    assert ci['ratio'] == pytest.approx(
        results['completion_over_best_fill']['in-between@0.75'])
    assert meta['bank_sequences'] == 4  # classes 0-1 of the rest
    # a checkpoint's bank (the whole training split) gives way to the carve
    results = benchmark_tool.main([
        STAGE1, stage1_dir, '--holdout', '0.5', '--ratios', '0.5',
        '--strategies', 'burst', '--out-dir', str(tmp_path / 'ckpt'),
        '--num-workers', '0', '--no-progress', '--cfg-options',
        f'model.completion.bank.ann_file={synthetic_file}'
    ])
    assert results['meta']['bank_sequences'] == 8
    assert results['meta']['num_samples'] == 8
    with pytest.raises(SystemExit):
        benchmark_tool.main([STAGE1, '--untrained', '--holdout', '0.2',
                             '--split', 'test'])


def test_eval_clips_are_the_zero_filled_clean_clips(synthetic_file):
    spec = apis.eval_spec_from_config(
        Config.fromfile(STAGE1), ann_file=synthetic_file)
    assert (spec.clip_len, spec.num_person, spec.split) == (48, 1, 'test')
    dataset = apis.build_eval_dataset(spec, 0.5, 'burst', max_samples=3)
    assert len(dataset) == 3
    batch = next(apis.iter_batches(dataset, batch_size=3))
    assert batch['inputs'].shape == (3, 1, 48, 17, 3)
    # zero-fill as scored == the pipeline's corrupted input, bit for bit
    np.testing.assert_array_equal(
        apis.restore_batch('zero', batch), batch['inputs'].numpy())
    missing = ~batch['valid']
    assert missing.any() and not missing.all()
    assert np.all(batch['inputs'].numpy()[missing[:, None]] == 0)
    # the masks are deterministic: rebuilding gives the same clips
    again = next(apis.iter_batches(
        apis.build_eval_dataset(spec, 0.5, 'burst', max_samples=3), 3))
    np.testing.assert_array_equal(again['valid'], batch['valid'])


def test_classifier_with_another_clip_len_is_refused(synthetic_file):
    spec = apis.eval_spec_from_config(
        Config.fromfile(STAGE1), ann_file=synthetic_file)
    cls_cfg = Config.fromfile(CLASSIFIER)
    apis.check_classifier_config(cls_cfg, spec)  # matching: fine
    for transform in cls_cfg.test_dataloader.dataset.pipeline:
        if transform['type'] == 'UniformSampleFrames':
            transform['clip_len'] = 32
    with pytest.raises(ValueError, match='clip_len mismatch'):
        apis.check_classifier_config(cls_cfg, spec)


def test_select_frames_prefers_missing_frames():
    valid = np.ones(40, dtype=bool)
    valid[10:30] = False
    frames = apis.select_frames(valid, 8)
    assert len(frames) == 8 and np.all(np.diff(frames) > 0)
    assert (~valid[frames]).sum() == 6  # 3/4 missing, evenly spread
    assert apis.select_frames(np.ones(5, bool), 8).tolist() == [0, 1, 2, 3, 4]


def test_visualizer_writes_a_three_row_png(trained, synthetic_file, tmp_path,
                                           capsys):
    import matplotlib.image as mpimg
    out = str(tmp_path / 'vis' / 'fig5.png')
    visualize_tool.main([
        STAGE1, trained['stage1'], '--ann-file', synthetic_file, '--sample',
        'synthgym_test_c001_0000', '--ratio', '0.75', '--strategy',
        'in-between', '--frames', '6', '--out', out
    ])
    assert 'restored by completion' in capsys.readouterr().out
    image = mpimg.imread(out)
    height, width = image.shape[:2]
    assert height >= 3 * (width / 6) * 0.9  # three rows of square panels
    assert image.std() > 0.01  # something was drawn
    assert os.listdir(osp.dirname(out)) == ['fig5.png']

    out = str(tmp_path / 'interp.png')
    visualize_tool.main([
        STAGE1, '--ann-file', synthetic_file, '--sample', '2', '--out', out
    ])
    assert 'linear interpolation (no checkpoint)' in capsys.readouterr().out
    assert mpimg.imread(out).shape[0] > 0


def test_plug_and_play_config_with_the_test_tool(trained, synthetic_file,
                                                 tmp_path):
    """tools/test.py: the stage-1 module in front of the clean-trained
    ST-GCN++ checkpoint, no retraining."""
    dump = str(tmp_path / 'preds.pkl')
    out = run([osp.join(TOOLS, 'test.py'), PLUGPLAY_TINY,
               trained['classifier'], '--work-dir', str(tmp_path / 'test'),
               '--dump', dump, '--cfg-options',
               f'model.completion_checkpoint={trained["stage1"]}'] +
              data_options(synthetic_file), cwd=str(tmp_path))
    assert 'Loaded the frozen completion module' in out
    missing = re.search(r'missing keys in source state_dict: (.*)', out)
    assert missing, 'the classifier checkpoint has no completion.* keys'
    assert all(k.strip().startswith('completion.')
               for k in missing.group(1).split(','))
    assert 'unexpected key' not in out
    assert 0 <= float(re.search(r'acc/top1: ([0-9.]+)', out).group(1)) <= 1

    # test.py scored exactly "completion in front of the classifier" on the
    # severe random clips: the same scores as the benchmark's pieces give
    with open(dump, 'rb') as f:
        dumped = np.stack([np.asarray(d['pred_score']) for d in
                           pickle.load(f)])
    cfg = Config.fromfile(STAGE1)
    spec = apis.eval_spec_from_config(cfg, ann_file=synthetic_file)
    completion = apis.load_completion(cfg, trained['stage1'])
    classifier = apis.load_classifier(
        Config.fromfile(CLASSIFIER), trained['classifier'], spec)
    batch = next(apis.iter_batches(
        apis.build_eval_dataset(spec, 0.75, 'random'), batch_size=64))
    scores = {
        method: apis.classify(classifier,
                            apis.restore_batch(method, batch, completion))
        for method in ('zero', 'completion')
    }
    np.testing.assert_allclose(dumped, scores['completion'], atol=1e-5)
    assert not np.allclose(dumped, scores['zero'], atol=1e-5)


@pytest.mark.parametrize(
    'name', sorted(n for n in os.listdir(PLUGPLAY_DIR) if n.endswith('.py')))
def test_plugplay_configs_wrap_the_stock_classifier(name):
    from mmaction.registry import MODELS
    cfg = Config.fromfile(osp.join(PLUGPLAY_DIR, name))
    assert cfg.model.type == 'RecognizerFineTec'
    assert cfg.model.completion.clip_len == cfg.clip_len
    if 'retrieval' in name:  # training-free: no stage 1, a bank to retrieve
        assert cfg.model.completion_checkpoint is None
        assert cfg.model.completion.retrieval.num_neighbours > 0
        assert cfg.model.completion.bank.split == 'train'
    else:
        assert cfg.model.completion_checkpoint.startswith(
            'work_dirs/completion_')
    corrupt = cfg.test_dataloader.dataset.pipeline[1]
    assert corrupt.type == 'TemporalCorruption' and corrupt.test_mode
    if 'pennaction' not in name:
        return
    # the stock classifier's checkpoint keys are exactly the non-completion
    # keys of the plug-and-play model
    stock = Config.fromfile(osp.join(
        REPO, 'configs', 'baselines', 'stgcnpp',
        'stgcnpp_8xb16-joint-u100-80e_pennaction-clean-keypoint-2d.py'))
    assert stock.model.type == 'RecognizerGCN'
    cfg.model.completion_checkpoint = None
    cfg.model.completion.bank = None  # no data needed for the keys
    plug = MODELS.build(cfg.model).state_dict()
    ref = MODELS.build(stock.model).state_dict()
    assert {k: v.shape for k, v in plug.items()
            if not k.startswith('completion.')} == {
                k: v.shape for k, v in ref.items()}


replace_bank_tool = load_tool('misc', 'replace_checkpoint_bank.py')


def test_replace_checkpoint_bank(stage1_dir, tmp_path):
    """A stage-1 checkpoint gets another bank (of another size); everything
    else is kept, the original is untouched, and the result loads into a
    completion module built from the config."""
    import torch
    from finetec_mmaction.models.completion.bank import SkeletonBank
    from finetec_mmaction.models.completion.checkpoint import \
        load_completion_weights
    from mmaction.registry import MODELS

    source = last_checkpoint(stage1_dir)
    original = torch.load(source, map_location='cpu',
                          weights_only=False)['state_dict']
    old = original['completion.bank.sequences']
    new = torch.randn((len(old) + 3, ) + tuple(old.shape[1:]),
                      generator=torch.Generator().manual_seed(0))
    bank_file = str(tmp_path / 'bank.npz')
    SkeletonBank(new).save(bank_file)
    out = str(tmp_path / 'swapped' / 'epoch.pth')
    replace_bank_tool.main([stage1_dir, bank_file, out])  # a work dir works

    swapped = torch.load(out, map_location='cpu',
                         weights_only=False)['state_dict']
    assert torch.equal(swapped['completion.bank.sequences'], new)
    assert swapped.keys() == original.keys()
    for key in original:
        if key != 'completion.bank.sequences':
            assert torch.equal(swapped[key], original[key]), key
    again = torch.load(source, map_location='cpu', weights_only=False)
    assert torch.equal(again['state_dict']['completion.bank.sequences'], old)

    cfg = Config.fromfile(STAGE1)
    cfg.model.completion.bank = None
    completion = MODELS.build(cfg.model).completion
    load_completion_weights(completion, out, 'tiny')
    assert torch.equal(completion.bank.sequences, new)

    # a bank of another clip length, the checkpoint itself as output, and a
    # checkpoint without a completion module are refused with the reason
    wrong = str(tmp_path / 'wrong.npz')
    SkeletonBank(torch.randn((4, old.shape[1] + 1) + tuple(old.shape[2:]))
                 ).save(wrong)
    with pytest.raises(ValueError, match='clip length and layout'):
        replace_bank_tool.main([source, wrong, str(tmp_path / 'w.pth')])
    with pytest.raises(ValueError, match='another file'):
        replace_bank_tool.main([source, bank_file, source])
    plain = str(tmp_path / 'plain.pth')
    torch.save(dict(state_dict=dict(weight=torch.zeros(2))), plain)
    with pytest.raises(KeyError, match='completion module'):
        replace_bank_tool.main([plain, bank_file, str(tmp_path / 'p.pth')])
